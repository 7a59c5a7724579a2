"""The quiz record keeps the best attempt and lists every one; revealed hints and unfinished answers
survive quitting (service-side state in .fluxlab/, kept out of `git add .`)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from lab.core.quiz import grade, merge_record
from lab.services import quiz as svc
from lab.services.tasks import load_task
from tests.support.gitutil import git, practice
from tests.support.labrun import run_lab

RECORD = ".fluxlab/quiz.json"


def _answers(right: int) -> str:
    """Choice numbers (1-based) with the first `right` answers correct and the rest wrong."""
    questions = load_task("09b").quiz.questions
    picks = [q.answer if i < right else (q.answer + 1) % len(q.choices) for i, q in enumerate(questions)]
    return ",".join(str(p + 1) for p in picks)


def _quiz(lab_env: dict[str, str], ws: Path, right: int) -> subprocess.CompletedProcess[str]:
    return run_lab("quiz", "--answers", _answers(right), env=lab_env, cwd=ws)


@pytest.mark.slow
def test_a_later_worse_attempt_never_erases_a_pass(tmp_path: Path, lab_env: dict[str, str]) -> None:
    ws = practice(tmp_path)
    first = _quiz(lab_env, ws, 2)
    assert first.returncode == 1
    n = len(load_task("09b").quiz.questions)
    best = _quiz(lab_env, ws, n)
    assert best.returncode == 0
    worse = _quiz(lab_env, ws, 3)
    assert f"this attempt: 3/{n}; your best, {n}/{n} (passed), stays recorded (3 attempts)" in worse.stdout
    assert worse.stdout.startswith("quiz: ")  # scripted answers: one line, no blank one before it
    assert worse.returncode == 0  # the record, which graders read, is passed
    data = json.loads((ws / RECORD).read_text())
    assert (data["score"], data["passed"]) == (n, True)
    assert [a["score"] for a in data["attempts"]] == [2, n, 3]
    check = run_lab("check", "--offline", "--only", "quiz.passed", "--format", "json", env=lab_env, cwd=ws)
    quiz = next(c for c in json.loads(check.stdout)["checks"] if c["id"] == "quiz.passed")
    assert quiz["status"] == "pass", quiz


@pytest.mark.slow
def test_input_ending_mid_quiz_records_nothing(tmp_path: Path, lab_env: dict[str, str]) -> None:
    ws = practice(tmp_path)
    done = run_lab("quiz", env=lab_env, cwd=ws, stdin="2\n")
    assert done.returncode == 2
    assert "input ended at question 2 of" in done.stderr and "nothing recorded" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (ws / RECORD).exists()


def test_a_better_attempt_replaces_the_best() -> None:
    task = load_task("09b")
    questions = task.quiz.questions
    low = grade("09b", task.quiz, [q.answer if i < 2 else None for i, q in enumerate(questions)])
    high = grade("09b", task.quiz, [q.answer for q in questions])
    record = merge_record(None, low, "t1")
    record = merge_record(record, high, "t2")
    assert (record["score"], record["passed"], record["best_at"]) == (len(questions), True, "t2")
    # A record written before attempts were kept counts as one attempt.
    old = {"task": "09b", "score": 6, "total": 6, "passed": True, "answers": [1, 2, 0, 2, 1, 2]}
    merged = merge_record(old, low, "t3")
    assert merged["score"] == 6 and len(merged["attempts"]) == 2  # type: ignore[arg-type]


@pytest.mark.slow
def test_revealed_hints_and_unfinished_answers_survive_and_stay_out_of_git(tmp_path: Path) -> None:
    ws = practice(tmp_path)
    assert svc.revealed_hints(ws, "09b") == 0
    assert svc.reveal_hint(ws, "09b", 2) == 2
    assert svc.reveal_hint(ws, "09b", 1) == 2  # never fewer than already seen
    svc.save_quiz_progress(ws, "09b", [1, None, 0])
    # A new process (quitting the app and starting again) reads the same state from disk.
    probe = (
        "from pathlib import Path; from lab.services import quiz as q; "
        f"print(q.revealed_hints(Path({str(ws)!r}), '09b'), q.quiz_progress(Path({str(ws)!r}), '09b'))"
    )
    out = subprocess.run(["python", "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "2 [1, None, 0]"
    assert git(ws, "status", "--porcelain") == ""  # session.json and its .gitignore are ignored
    task = load_task("09b")
    svc.record_attempt(ws, task, grade("09b", task.quiz, [q.answer for q in task.quiz.questions]))
    assert svc.quiz_progress(ws, "09b") == []  # finished: nothing left to resume
    assert (
        git(ws, "status", "--porcelain", "-uall") == "?? .fluxlab/quiz.json"
    )  # the record is for committing


@pytest.mark.slow
def test_broken_state_file_is_not_fatal(tmp_path: Path) -> None:
    ws = practice(tmp_path)
    (ws / ".fluxlab").mkdir(exist_ok=True)
    (ws / ".fluxlab" / "session.json").write_text("{not json")
    assert svc.revealed_hints(ws, "09b") == 0
    assert svc.reveal_hint(ws, "09b", 1) == 1
