"""Smaller truths a learner meets on the way (issue 10 §6), through the real `lab` executable."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.support.labrun import run_lab
from tests.support.labsource import ON_ONE_WORKER, lab_modules
from tests.support.paths import ROOT

STARTER_DEPLOYMENT = ROOT / "tasks" / "09b" / "starter" / "apps" / "base" / "nginx" / "deployment.yaml"


@pytest.mark.slow
def test_lab_mark_needs_no_repository(tmp_path: Path, lab_env: dict[str, str]) -> None:
    folder = tmp_path / "loose"
    folder.mkdir()
    target = folder / "deployment.yaml"
    target.write_bytes(STARTER_DEPLOYMENT.read_bytes())
    proc = run_lab(
        "mark", "loose/deployment.yaml", "--policy", "flux-system:nginx", env=lab_env, cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    assert 'image: nginx:1.25.0 # {"$imagepolicy": "flux-system:nginx"}' in target.read_text()
    assert not (tmp_path / ".git").exists() and not (folder / ".git").exists()
    again = run_lab("mark", str(target), "--policy", "flux-system:nginx", env=lab_env, cwd=tmp_path)
    assert again.returncode == 0 and "already marked" in again.stdout


@pytest.mark.slow
def test_pitfalls_teach_that_nginx_and_library_nginx_are_one_image_and_fit_80_columns(
    tmp_path: Path, lab_env: dict[str, str]
) -> None:
    proc = run_lab("lesson", "--pitfalls", env={**lab_env, "COLUMNS": "80", "LINES": "24"}, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout
    assert "nginx and library/nginx are the same Docker Hub image" in " ".join(text.split())  # wrapped at 80
    assert "full path" not in text
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 80, lines
    assert len(lines) <= 22  # with the prompt, one 80x24 screen


@ON_ONE_WORKER
def test_no_reference_codes_in_learner_messages() -> None:
    """Codes like "(F11)" name sections of the lab's reference text a learner never sees."""
    code = re.compile(r"\(F\d+(?:/F\d+)?\)|, F\d+\)")
    found: list[str] = []
    for module in lab_modules():
        docstrings = {
            id(node.body[0].value)
            for node in module.nodes
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
            and node.body
            and isinstance(node.body[0], ast.Expr)
            and isinstance(node.body[0].value, ast.Constant)
        }
        for node in module.nodes:
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in docstrings
                and code.search(node.value)
            ):
                found.append(f"{module.path.relative_to(ROOT)}:{node.lineno}: {node.value[:80]}")
    for toml in (ROOT / "tasks").rglob("*.toml"):
        for number, line in enumerate(toml.read_text(encoding="utf-8").splitlines(), start=1):
            if code.search(line) and not line.lstrip().startswith("#"):
                found.append(f"{toml.relative_to(ROOT)}:{number}: {line.strip()[:80]}")
    assert not found, found


@pytest.mark.slow
def test_sandbox_reset_help_says_what_it_does(tmp_path: Path, lab_env: dict[str, str]) -> None:
    proc = run_lab("sandbox", "--help", env=lab_env, cwd=tmp_path)
    line = next(ln for ln in proc.stdout.splitlines() if ln.strip().startswith("reset"))
    assert "start afresh" not in line and "stop" in line


@pytest.mark.slow
def test_generate_explains_the_5m0s_interval(tmp_path: Path, lab_env: dict[str, str]) -> None:
    ws = tmp_path / "ws"
    assert run_lab("init", str(ws), env=lab_env, cwd=tmp_path).returncode == 0
    v1 = run_lab("generate", env=lab_env, cwd=ws)
    assert (
        "interval 5m is written 5m0s, as `flux create --export` writes it; Flux reads both the same"
        in v1.stdout
    )
    assert "interval: 5m0s" in (ws / "clusters/dev/image-automation/image-repository.yaml").read_text()
    seed = run_lab("generate", "--api", "v1beta2", "--force", env=lab_env, cwd=ws)
    assert "5m0s" not in seed.stdout
    assert "interval: 5m\n" in (ws / "clusters/dev/image-automation/image-repository.yaml").read_text()


@pytest.mark.slow
def test_the_lesson_prints_its_code_blocks_as_commands_not_markdown_fences(
    tmp_path: Path, lab_env: dict[str, str]
) -> None:
    """`lab lesson` prints the lesson as `--hint` prints a hint: the ``` fences gone, the code indented."""
    proc = run_lab("lesson", env=lab_env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "```" not in proc.stdout
    assert "\n    CI pushes nginx:1.25.4\n" in proc.stdout
