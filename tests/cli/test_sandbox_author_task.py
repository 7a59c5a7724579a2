"""A sandbox made for a course author's task (a folder on LAB_TASKS_PATH), seen from a shell without it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.gitutil import practice
from tests.support.labrun import run_lab
from tests.support.taskfiles import author_task

pytestmark = pytest.mark.slow


def test_a_sandbox_for_an_author_task_blocks_only_what_needs_its_task(
    tmp_path: Path, lab_env: dict[str, str]
) -> None:
    folder, with_path = author_task(tmp_path, "10", lab_env, row="10-author")
    authors = folder.parent
    without = {k: v for k, v in lab_env.items() if k != "LAB_TASKS_PATH"}
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    made = run_lab("sandbox", "reset", "--task", "10", "--force", env=with_path, cwd=elsewhere, ok=True)
    workspace = Path(made.stdout.split("fresh practice repository at ", 1)[1].split()[0])

    # The app opens the sandbox's repository by default: its task is needed, and the one line says where
    # it came from and both ways out.
    plain = run_lab("--plain", env=without, cwd=elsewhere)
    assert plain.returncode == 1 and plain.stdout == ""
    lines = plain.stderr.strip().splitlines()
    assert len(lines) == 1, plain.stderr
    assert f"the sandbox was made for task '10' from LAB_TASKS_PATH={authors}" in lines[0]
    assert f"LAB_TASKS_PATH={authors} lab" in lines[0] and "lab sandbox reset --task ID" in lines[0]

    # --task names another task: the sandbox's is not needed.
    other = run_lab("--task", "09b", "--plain", env=without, cwd=elsewhere, ok=True)
    assert "Task 09b" in other.stdout

    # A repository of its own: marking a row done (and offering what comes next) never asks the sandbox.
    repo = practice(tmp_path / "mine")
    done = run_lab("progress", "--done", "09", env=without, cwd=repo, ok=True)
    assert "updated" in done.stdout and "task.json" not in done.stderr

    # Reset keeps the sandbox's task: unknown here, it says so before it moves anything aside.
    reset = run_lab("sandbox", "reset", "--force", env=without, cwd=elsewhere)
    assert reset.returncode == 1 and len(reset.stderr.strip().splitlines()) == 1, reset.stderr
    assert f"the sandbox was made for task '10' from LAB_TASKS_PATH={authors}" in reset.stderr
    assert not (workspace.parent / "previous").exists()
    # Naming a task wins over the sandbox's.
    run_lab("sandbox", "reset", "--task", "09b", "--force", env=without, cwd=elsewhere, ok=True)
    assert "Task 09b" in run_lab("--plain", env=without, cwd=elsewhere, ok=True).stdout
