"""lab.adapters.packages lists a package's modules as pkgutil.iter_modules does (without importing
inspect): the same names, in the same order."""

from __future__ import annotations

import pkgutil
from pathlib import Path

import lab.checks
import lab.commands
from lab.adapters.packages import package_modules


def _pkgutil(paths: list[str]) -> list[str]:
    return [m.name for m in pkgutil.iter_modules(paths)]


def test_the_lab_packages_list_as_pkgutil_lists_them() -> None:
    for package in (lab.commands, lab.checks):
        paths = list(package.__path__)
        assert package_modules(paths) == _pkgutil(paths)
        assert "check" in package_modules(list(lab.commands.__path__))


def test_odd_entries_list_as_pkgutil_lists_them(tmp_path: Path) -> None:
    first, second = tmp_path / "one", tmp_path / "two"
    for name in ("b.py", "a.pyc", "c.cpython-311-x86_64-linux-gnu.so", "d.abi3.so", "e.so", "__init__.py"):
        (first / name).parent.mkdir(exist_ok=True)
        (first / name).write_text("")
    for name in ("x.y.py", "notes.txt", "f.py", "g"):
        (first / name).write_text("")
    (first / "pkg").mkdir()
    (first / "pkg" / "__init__.pyc").write_text("")
    (first / "pkg.py").write_text("")  # a package and a module of the same name: the package's
    (first / "plain").mkdir()  # no __init__: not a package
    (first / "dot.ted").mkdir()
    (first / "dot.ted" / "__init__.py").write_text("")
    (first / "__pycache__").mkdir()
    (second).mkdir()
    for name in ("b.py", "h.py"):  # b: a name the first directory gave
        (second / name).write_text("")
    paths = [str(first), str(tmp_path / "missing"), str(second)]
    got = package_modules(paths)
    assert got == _pkgutil(paths)
    assert got == ["a", "b", "c", "d", "e", "f", "pkg", "h"]
