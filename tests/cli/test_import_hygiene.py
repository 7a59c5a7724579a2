"""The layering the design promises, checked in fresh interpreters.

`lab --help` must not pay for Textual or the kubernetes client, and lab.core must stay pure.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.paths import ROOT

HEAVY = ("textual", "kubernetes", "git", "httpx")


def _loaded_after(code: str) -> set[str]:
    probe = f"{code}\nimport sys\nprint(' '.join(sorted({{m.split('.')[0] for m in sys.modules}})))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


@pytest.mark.slow
def test_cli_parser_loads_no_heavy_module() -> None:
    loaded = _loaded_after("from lab.cli import build_parser; build_parser()")
    assert not loaded & set(HEAVY), loaded & set(HEAVY)


@pytest.mark.slow
def test_core_imports_no_io_framework() -> None:
    modules = sorted(p for p in (ROOT / "lab" / "core").rglob("*.py"))
    names = ", ".join(
        ".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__") for p in modules
    )
    loaded = _loaded_after(f"import importlib\nfor n in '{names}'.split(', '): importlib.import_module(n)")
    assert not loaded & set(HEAVY), loaded & set(HEAVY)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_core_does_not_import_outer_floors() -> None:
    outer = (
        "lab.adapters",
        "lab.services",
        "lab.sandbox",
        "lab.tui",
        "lab.commands",
        "lab.cli",
        "subprocess",
    )
    offenders = {
        str(p.relative_to(ROOT)): sorted(i for i in _imports(p) if i.startswith(outer))
        for p in (ROOT / "lab" / "core").rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_services_never_import_the_tui() -> None:
    offenders = [
        str(p.relative_to(ROOT))
        for p in (ROOT / "lab" / "services").rglob("*.py")
        if any(i.startswith(("lab.tui", "textual")) for i in _imports(p))
    ]
    assert offenders == []
