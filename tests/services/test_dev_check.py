"""`lab dev check` over every task of the course, in CI: each task folder parses and renders, its
starter fails the checks it should and its solution passes every offline check (rustlings' `dev check`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lab.services.devcheck import check_task
from tests.support.paths import ROOT
from tests.support.taskfiles import copy_task, edited

pytestmark = pytest.mark.slow

TASKS = sorted(p.name for p in (ROOT / "tasks").iterdir() if (p / "task.toml").is_file())


@pytest.mark.parametrize("task_id", TASKS)
def test_every_task_passes_dev_check(task_id: str) -> None:
    report = check_task(task_id)
    failed = [f"{f.step}: {f.detail}" for f in report.findings if not f.ok]
    assert failed == []
    steps = {f.step for f in report.findings}
    assert {"starter fails its checks", "solution passes every offline check"} <= steps


def test_a_broken_solution_is_caught(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The proof can fail: a solution without the marker fails dev check, naming the check."""
    folder = copy_task(tmp_path, "t-broken")
    deployment = folder / "solution" / "apps" / "base" / "nginx" / "deployment.yaml"
    deployment.write_text(edited(deployment.read_text(), ' # {"$imagepolicy": "flux-system:nginx"}', ""))
    monkeypatch.setenv("LAB_TASKS_PATH", str(tmp_path))
    report = check_task("t-broken")
    assert not report.ok
    bad = next(f for f in report.findings if not f.ok)
    assert bad.step == "solution passes every offline check" and "marker.present" in bad.detail


def test_an_open_question_naming_a_missing_task_is_caught(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = copy_task(tmp_path, "t-open")
    quiz = folder / "quiz.toml"
    quiz.write_text(edited(quiz.read_text(), 'task = "09b-staging"', 'task = "09b-stagin"'))
    monkeypatch.setenv("LAB_TASKS_PATH", str(tmp_path))
    report = check_task("t-open")
    bad = next(f for f in report.findings if not f.ok)
    assert bad.step == "quiz answers are valid"
    assert "open question 2 names task 09b-stagin, which the lab does not have" in bad.detail
