"""What `lab --plain` and `lab init` tell a learner to run comes from the task's own data: its steps,
its number of hints and of quiz questions - not the course task's, whichever task is open."""

from __future__ import annotations

from pathlib import Path

import pytest

from lab.services.tasks import load_task
from tests.support.labrun import run_lab

pytestmark = pytest.mark.slow


def _steps(stdout: str) -> list[str]:
    return [line.strip() for line in stdout.split("Next steps", 1)[1].splitlines()[1:] if line.strip()]


@pytest.mark.parametrize("task_id", ["09b", "09b-guard"])
def test_plain_overview_is_the_open_tasks(task_id: str, lab_env: dict[str, str]) -> None:
    task = load_task(task_id)
    proc = run_lab("--plain", "--task", task_id, env=lab_env, ok=True)
    assert proc.stdout.startswith(f"fluxlab - Task {task_id}: {task.title}\n")
    steps = _steps(proc.stdout)
    assert steps[0].startswith("cd ") and steps[0].endswith("gitops-lab")
    assert (
        steps[1]
        == f"lab lesson                         # read the task; --hint 1..{len(task.hints)} for its hints"
    )
    assert (
        steps[-1]
        == f"lab quiz                           # {len(task.quiz.questions)} questions, recorded for the quiz check"
    )
    marks_nginx = any("deployment.yaml --policy flux-system:nginx" in s for s in steps)
    assert marks_nginx == (task_id == "09b")  # the exercise has no nginx step of the course task


def test_init_prints_the_same_steps(tmp_path: Path, lab_env: dict[str, str]) -> None:
    proc = run_lab("init", tmp_path / "repo", "--task", "09b-multi", env=lab_env, ok=True)
    plain = run_lab("--plain", "-w", tmp_path / "repo", env=lab_env, ok=True)
    assert f"Next steps (task 09b-multi: {load_task('09b-multi').title}):" in proc.stdout
    assert _steps(proc.stdout) == _steps(plain.stdout)
