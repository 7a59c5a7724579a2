"""lab/'s modules parsed once per process, for the tests that read the code itself (no task id in it,
no reference codes in learner texts, every dependency imported): parsing lab/ costs ~2 CPU-s, and
ast.walk's generic child iteration as much again for each pass over it."""

from __future__ import annotations

import ast
import functools
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.paths import ROOT

#: The tests that read lab/'s source run on one xdist worker, which parses it once for all of them.
ON_ONE_WORKER = pytest.mark.xdist_group("lab-source")


@dataclass(frozen=True)
class LabModule:
    path: Path
    tree: ast.Module
    nodes: tuple[ast.AST, ...]  # every node of the tree, each once (read only: the tests share them)


def _nodes(tree: ast.AST) -> tuple[ast.AST, ...]:
    found: list[ast.AST] = []
    stack = [tree]
    while stack:
        node = stack.pop()
        found.append(node)
        for name in node._fields:
            value = getattr(node, name, None)
            if isinstance(value, ast.AST):
                stack.append(value)
            elif isinstance(value, list):
                stack.extend(item for item in value if isinstance(item, ast.AST))
    return tuple(found)


@functools.cache
def lab_modules() -> tuple[LabModule, ...]:
    """Every module under lab/, sorted by path."""
    modules = []
    for path in sorted((ROOT / "lab").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        modules.append(LabModule(path, tree, _nodes(tree)))
    return tuple(modules)
