"""Where the learner stands with each task of the lab (Home's list, `lab tasks`): read from the
repository the app opens the task in, and never creating one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lab.services import session as svc
from lab.services.progress import mark_task_done
from lab.services.tasks import load_task
from tests.support.labrun import run_lab
from tests.support.tui_helpers import practice_session

pytestmark = pytest.mark.slow


def test_not_started_then_started_then_done(tmp_path: Path) -> None:
    multi = load_task("09b-multi")
    assert svc.task_standing(multi.meta) == ""
    assert not svc.task_repository("09b-multi").exists()  # asking made nothing

    course = practice_session(tmp_path)
    opened = svc.open_task(course, "09b-multi")
    assert opened.workspace == svc.task_repository("09b-multi") == svc.task_workspace("09b-multi")
    assert svc.task_standing(multi.meta) == "started"

    mark_task_done(opened.workspace, multi.meta)
    assert svc.task_standing(multi.meta) == "done"
    # Its own row decides: the course task's repository has none for the exercise.
    assert svc.task_standing(multi.meta, course.workspace) == "started"

    (opened.workspace / "PROGRESS.md").unlink()
    assert svc.task_standing(multi.meta) == "started"


def test_the_course_task_is_the_default_sandboxs(tmp_path: Path) -> None:
    assert svc.task_repository("09b") == svc.default_sandbox_workspace()
    assert svc.task_repository("09b-guard") == svc.task_workspace("09b-guard")


def test_a_sandbox_recording_an_unknown_task_leaves_the_list_readable(tmp_path: Path) -> None:
    from lab.sandbox.practice import init_practice_repo

    sandbox = init_practice_repo(svc.default_sandbox_workspace()).path
    (sandbox / ".fluxlab" / "task.json").write_text('{"task": "gone"}\n')
    assert [svc.task_standing(load_task(t).meta) for t in ("09b", "09b-guard")] == ["", ""]


def test_lab_tasks_says_where_each_task_stands(tmp_path: Path, lab_env: dict[str, str]) -> None:
    repo = tmp_path / "mine"
    run_lab("init", repo, "--task", "09b-staging", env=lab_env, ok=True)
    run_lab("progress", "--done", env=lab_env, cwd=repo, ok=True)
    listed = json.loads(run_lab("tasks", "--json", env=lab_env, cwd=repo, ok=True).stdout)
    assert {t["id"]: t["standing"] for t in listed} == {
        "09b": "",
        "09b-multi": "",
        "09b-staging": "done",  # the repository around the working directory, for its own task
        "09b-guard": "",
    }
    text = run_lab("tasks", env=lab_env, cwd=repo, ok=True).stdout
    assert "  09b-staging  done     Automation in staging only (Think about 2)\n" in text
    # Elsewhere, the app's own repository for that task: none yet.
    elsewhere = json.loads(run_lab("tasks", "--json", env=lab_env, cwd=tmp_path, ok=True).stdout)
    assert all(t["standing"] == "" for t in elsewhere)


def test_a_huge_progress_file_is_refused_at_once(tmp_path: Path, lab_env: dict[str, str]) -> None:
    repo = tmp_path / "big"
    run_lab("init", repo, env=lab_env, ok=True)
    progress = repo / "PROGRESS.md"
    progress.write_text(progress.read_text() + "| x | y | z |\n" * 200_000)  # 2.8 MB
    shown = run_lab("progress", env=lab_env, cwd=repo)
    assert shown.returncode != 0
    assert shown.stderr.startswith(f"lab: {progress}: cannot read: larger than 1048576 bytes - hint: ")
    listed = json.loads(run_lab("tasks", "--json", env=lab_env, cwd=repo, ok=True).stdout)
    assert listed[0]["id"] == "09b" and listed[0]["standing"] == "started"


def test_the_next_task_skips_the_ones_already_done(tmp_path: Path) -> None:
    course = practice_session(tmp_path)
    meta = course.task.meta
    assert svc.next_task_in_lab(meta) == load_task("09b-multi").meta
    for done in ("09b-multi", "09b-staging"):
        opened = svc.open_task(course, done)
        mark_task_done(opened.workspace, opened.task.meta)
    assert svc.next_task_in_lab(meta) == load_task("09b-guard").meta
    guard = svc.open_task(course, "09b-guard")
    mark_task_done(guard.workspace, guard.task.meta)
    assert svc.next_task_in_lab(meta) is None  # every exercise done: the course goes on outside the lab
