"""The layers hold and no task is written into the code: tasks are data (tasks/<id>/)."""

from __future__ import annotations

import ast
import itertools
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.labsource import ON_ONE_WORKER, lab_modules
from tests.support.paths import ROOT


def _task_ids() -> list[str]:
    return sorted((p.name for p in (ROOT / "tasks").iterdir() if (p / "task.toml").is_file()), key=len)


def _docstrings(nodes: tuple[ast.AST, ...]) -> set[int]:
    """ids of the string nodes that are docstrings (documentation may name an example task)."""
    found: set[int] = set()
    for node in nodes:
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    # Attribute docstrings: a bare string right after an assignment.
    for node in nodes:
        for field in ("body", "orelse"):
            stmts = getattr(node, field, None)
            if not isinstance(stmts, list):
                continue
            for prev, stmt in itertools.pairwise(stmts):
                is_doc = isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)
                if is_doc and isinstance(prev, ast.Assign | ast.AnnAssign):
                    found.add(id(stmt.value))
    return found


@ON_ONE_WORKER
def test_no_task_id_in_the_code() -> None:
    ids = _task_ids()
    assert "09b" in ids  # the course's task is there, so the scan below means something
    pattern = re.compile(r"(?<![\w.-])(" + "|".join(re.escape(i) for i in ids[::-1]) + r"|09)(?!\w)")
    offenders = []
    for module in lab_modules():
        docs = _docstrings(module.nodes)
        for node in module.nodes:
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
                found = pattern.search(node.value)
                if found:
                    offenders.append(
                        f"{module.path.relative_to(ROOT)}:{node.lineno}: {found.group()!r} in {node.value!r}"
                    )
    assert offenders == []


@pytest.mark.slow
def test_the_layers_contract_holds_function_level_imports_included() -> None:
    """`lint-imports` with the contract in pyproject.toml (cli > commands|tui > services > checks|sandbox
    > adapters > core); grimp reads imports inside functions too."""
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert exe is not None, "pip install -e '.[test]' installs import-linter"
    proc = subprocess.run([exe, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 kept, 0 broken" in proc.stdout


@pytest.mark.slow
def test_the_layers_contract_fails_on_an_upward_import_inside_a_function(tmp_path: Path) -> None:
    """The contract can fail: a copy of lab/ where a core module imports a service inside a function
    (the shape of the cycles issue 11 removed) breaks it, and the report names the import."""
    import os

    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert exe is not None, "pip install -e '.[test]' installs import-linter"
    shutil.copytree(ROOT / "lab", tmp_path / "lab", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    probe = tmp_path / "lab" / "core" / "text.py"
    probe.write_text(
        probe.read_text(encoding="utf-8")
        + "\n\ndef _upward() -> None:\n    from lab.services import sandbox  # noqa: F401\n",
        encoding="utf-8",
    )
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "NO_COLOR": "1"}
    proc = subprocess.run(
        [exe, "--no-cache"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode != 0, proc.stdout
    assert "lab.core.text -> lab.services.sandbox" in proc.stdout, proc.stdout
