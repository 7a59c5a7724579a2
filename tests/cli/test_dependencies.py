"""Every runtime dependency in pyproject.toml is imported by lab/ (an unused one must not be installed)."""

from __future__ import annotations

import ast
import re
import tomllib
from importlib.metadata import packages_distributions

from tests.support.labsource import ON_ONE_WORKER, lab_modules
from tests.support.paths import ROOT


def _type_checking_only(nodes: tuple[ast.AST, ...]) -> set[int]:
    """ids of the nodes under `if TYPE_CHECKING:`: imports there never run, so they use nothing."""
    skipped: set[int] = set()
    for node in nodes:
        test = getattr(node, "test", None)
        if isinstance(node, ast.If) and isinstance(test, (ast.Name, ast.Attribute)):
            name = test.id if isinstance(test, ast.Name) else test.attr
            if name == "TYPE_CHECKING":
                skipped.update(id(inner) for stmt in node.body for inner in ast.walk(stmt))
    return skipped


def _imported_top_level_modules() -> set[str]:
    found: set[str] = set()
    for module in lab_modules():
        skipped = _type_checking_only(module.nodes)
        for node in module.nodes:
            if id(node) in skipped:
                continue
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module.split(".")[0])
    return found


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@ON_ONE_WORKER
def test_every_runtime_dependency_is_imported_by_lab() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = {_normalise(re.split(r"[=<>!~;\[ ]", spec, maxsplit=1)[0]) for spec in project["dependencies"]}
    imported = _imported_top_level_modules()
    used: set[str] = set()
    for module, dists in packages_distributions().items():
        if module in imported:
            used.update(_normalise(d) for d in dists)
    unused = sorted(declared - used)
    assert not unused, f"declared in pyproject.toml but never imported by lab/: {unused}"


def test_readme_lists_every_runtime_dependency() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    section = (ROOT / "README.md").read_text().split("## Dependencies", 1)[1].split("\n## ", 1)[0]
    for spec in project["dependencies"]:
        name = re.split(r"[=<>!~;\[ ]", spec, maxsplit=1)[0]
        assert f"`{name}`" in section, name
