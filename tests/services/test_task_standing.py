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
    # Done in its own repository is done for the course, whatever repository is open.
    assert svc.task_standing(multi.meta, course.workspace) == "done"
    assert svc.task_done_in(multi.meta, course.workspace) == opened.workspace

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
    # Elsewhere the same: the learner's course is one, whichever repository they stand in.
    elsewhere = json.loads(run_lab("tasks", "--json", env=lab_env, cwd=tmp_path, ok=True).stdout)
    assert {t["id"]: t["standing"] for t in elsewhere} == {t["id"]: t["standing"] for t in listed}


def _rows(repo: Path) -> dict[str, tuple[str, str]]:
    from lab.core.progress import parse_progress

    return {r.task: (r.status, r.note) for r in parse_progress((repo / "PROGRESS.md").read_text()).rows}


def test_every_repository_shows_the_whole_course(tmp_path: Path, lab_env: dict[str, str]) -> None:
    """The tester's round: each exercise in a repository of its own (`lab init DIR --task ID`, as the README
    says); each repository's PROGRESS.md, `lab tasks` and the next task agree on what is done."""
    multi, staging, guard = (tmp_path / name for name in ("gitops-multi", "gitops-staging", "gitops-guard"))
    run_lab("init", multi, "--task", "09b-multi", env=lab_env, ok=True)
    run_lab("progress", "--done", env=lab_env, cwd=multi, ok=True)
    run_lab("init", guard, "--task", "09b-guard", env=lab_env, ok=True)
    # Made after multi was done: its first commit already says so, and where.
    assert _rows(guard)["09b-multi"] == ("✅", f"done in {multi}")
    assert _rows(guard)["09b-staging"] == ("⬜", "")
    run_lab("init", staging, "--task", "09b-staging", env=lab_env, ok=True)
    run_lab("progress", "--done", env=lab_env, cwd=staging, ok=True)
    for where in (guard, tmp_path):
        listed = json.loads(run_lab("tasks", "--json", env=lab_env, cwd=where, ok=True).stdout)
        standing = {t["id"]: t["standing"] for t in listed}
        assert standing == {"09b": "", "09b-multi": "done", "09b-staging": "done", "09b-guard": "started"}

    marked = run_lab("progress", "--done", env=lab_env, cwd=guard, ok=True).stdout
    assert "next in this lab: Task 09b " in marked  # not 09b-staging, done in its own repository
    assert _rows(guard)["09b-staging"] == ("✅", f"done in {staging}")
    assert _rows(guard)["09b-guard"][0] == "✅"
    # The row a repository is graded on is never copied from another: a second repository for the guard
    # exercise starts with its own row open, and its progress check fails until it is marked there.
    again = tmp_path / "gitops-guard-again"
    run_lab("init", again, "--task", "09b-guard", env=lab_env, ok=True)
    assert _rows(again)["09b-guard"] == ("⬜", "")
    assert _rows(again)["09b-multi"][0] == _rows(again)["09b-staging"][0] == "✅"
    report = json.loads(run_lab("check", "--offline", "-f", "json", env=lab_env, cwd=again).stdout)
    progress = [c for c in report["checks"] if c["id"] == "progress.updated"]
    assert [c["status"] for c in progress] == ["fail"]


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


def test_lab_outside_a_repository_reopens_the_last_one_made(tmp_path: Path, lab_env: dict[str, str]) -> None:
    multi = tmp_path / "gitops-multi"
    run_lab("init", multi, "--task", "09b-multi", env=lab_env, ok=True)
    shown = run_lab("--plain", env=lab_env, cwd=tmp_path, ok=True).stdout.splitlines()
    assert shown[0] == f"Resumed Task 09b-multi in {multi}, where you left off; Home lists every task"
    assert shown[1].startswith("fluxlab - Task 09b-multi: ")
    # `--task` names another: that one, as before.
    other = run_lab("--plain", "--task", "09b", env=lab_env, cwd=tmp_path, ok=True).stdout
    assert other.startswith("fluxlab - Task 09b: ")


def test_a_repository_made_earlier_catches_up_with_sync(tmp_path: Path, lab_env: dict[str, str]) -> None:
    """~/gitops-guard made before 09b-staging was done elsewhere: `lab progress` says what its file lacks,
    `--sync` writes those rows and no other (its own row stays the learner's to mark)."""
    guard, staging = tmp_path / "gitops-guard", tmp_path / "gitops-staging"
    run_lab("init", guard, "--task", "09b-guard", env=lab_env, ok=True)
    run_lab("init", staging, "--task", "09b-staging", env=lab_env, ok=True)
    run_lab("progress", "--done", env=lab_env, cwd=staging, ok=True)
    before = (guard / "PROGRESS.md").read_text()
    shown = run_lab("progress", env=lab_env, cwd=guard, ok=True).stdout
    assert shown.endswith(
        f"09b-staging: done in {staging}, not in this file yet (lab progress --sync writes it)\n"
    )
    dry = run_lab("progress", "--sync", "--dry-run", env=lab_env, cwd=guard, ok=True).stdout
    assert f"+| 09b-staging | ✅ | done in {staging} |" in dry
    assert (guard / "PROGRESS.md").read_text() == before
    run_lab("progress", "--sync", env=lab_env, cwd=guard, ok=True)
    assert _rows(guard)["09b-staging"] == ("✅", f"done in {staging}")
    assert _rows(guard)["09b-guard"] == ("⬜", "")
    changed = [
        a
        for a, b in zip(before.splitlines(), (guard / "PROGRESS.md").read_text().splitlines(), strict=True)
        if a != b
    ]
    assert changed == ["| 09b-staging | ⬜ | |"]
    again = run_lab("progress", "--sync", env=lab_env, cwd=guard, ok=True).stdout
    assert again.endswith("already shows every task done elsewhere, nothing changed\n")
    assert "not in this file yet" not in run_lab("progress", env=lab_env, cwd=guard, ok=True).stdout


def test_every_practice_repository_the_lab_makes_carries_the_classroom_workflow(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`lab init` repositories carry the Classroom workflow; the sandbox's (the app outside any repository),
    a task's own (Home, Done -> n) and `lab sandbox reset --task`'s did not (tex finding 10). Each carries,
    committed, the very file `lab init` writes for its task."""
    import subprocess

    from lab.core.report.workflow import WORKFLOW_PATH
    from lab.services import sandbox
    from lab.services.classroom import practice_files

    monkeypatch.chdir(tmp_path)
    first = svc.open_session()
    exercise = svc.open_task(first, "09b-multi")
    reset = sandbox.reset(tmp_path / "sandbox", force=True, task="09b-staging").workspace
    for workspace, task in (
        (first.workspace, "09b"),
        (exercise.workspace, "09b-multi"),
        (reset, "09b-staging"),
    ):
        workflow = workspace / WORKFLOW_PATH
        assert workflow.is_file(), workspace
        assert workflow.read_text() == practice_files(task)[WORKFLOW_PATH]
        tracked = subprocess.run(
            ["git", "-C", str(workspace), "ls-files", "--error-unmatch", WORKFLOW_PATH], capture_output=True
        )
        assert tracked.returncode == 0, tracked.stderr


@pytest.mark.parametrize("recorded", [True, False], ids=["opened-in-the-app", "never-opened"])
def test_a_task_done_in_the_sandbox_stays_done_after_a_reset_to_another_task(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, recorded: bool
) -> None:
    """`lab sandbox reset --task 09b-staging` after 09b was done in the sandbox: Home and `lab tasks` showed
    09b not started, and opening it made a new empty repository; the done one was only under previous/
    (twalk finding 1). The record follows the repository to where the reset kept it."""
    from lab.services import sandbox
    from lab.services.progress_record import remember_repository

    monkeypatch.chdir(tmp_path)
    course = svc.open_session()
    meta = load_task("09b").meta
    if recorded:
        remember_repository(course.workspace, "09b")
    mark_task_done(course.workspace, meta)
    assert svc.task_standing(meta) == "done"
    kept = sandbox.reset(svc.default_sandbox_workspace().parent, force=True, task="09b-staging").kept
    assert kept is not None
    copy = (kept / course.workspace.name).resolve()
    assert svc.task_standing(meta) == "done" and svc.task_done_in(meta) == copy
    assert svc.task_repository("09b") == copy  # Home -> 09b -> Enter opens it, makes nothing new
    assert not svc.task_workspace("09b").exists()
    assert svc.task_repository("09b-staging") == svc.default_sandbox_workspace()
    # Afresh on the same task: the fresh sandbox is the one that opens, and 09b is still done.
    again = sandbox.reset(svc.default_sandbox_workspace().parent, force=True).kept
    assert again is not None
    assert svc.task_repository("09b-staging") == svc.default_sandbox_workspace()
    assert svc.task_standing(load_task("09b-staging").meta) == "started" and svc.task_done_in(meta) == copy
