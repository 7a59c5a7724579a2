from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from lab.core.quiz import OpenPrompt, Question, Quiz, grade, quiz_from_data, quiz_key
from lab.core.tasktexts import parse_quiz
from lab.errors import LabError
from lab.services.tasks import list_tasks, load_task
from tests.support.labrun import run_lab


def test_task_09b_loads_with_five_hints_and_pitfall_checks() -> None:
    task = load_task("09b")
    assert "09b" in list_tasks()
    assert len(task.hints) == 5
    assert task.hints[0].title.startswith("Check the controllers")
    assert {p.check for p in task.pitfalls} >= {"cluster.controllers", "registry.tags", "marker.valid"}
    assert task.meta.progress_task == "09-fluxcd-image-automation"
    assert (task.starter / "apps/base/nginx/deployment.yaml").is_file()


def test_grade_counts_wrong_answers() -> None:
    quiz = Quiz((Question("a", ("x", "y"), 1), Question("b", ("x", "y"), 0)), pass_mark=2)
    assert grade("t", quiz, [1, 0]).passed
    result = grade("t", quiz, [1, 1])
    assert (result.score, result.passed, result.wrong) == (1, False, (1,))
    assert grade("t", quiz, []).score == 0


@pytest.mark.parametrize(
    ("question", "said"),
    [
        (
            {"prompt": "p", "choices": ["a", "b"], "answer": 3},
            "question 1 answer 3 is not one of its choices (0 to 1)",
        ),
        ({"promt": "p", "choices": ["a", "b"], "answer": 1}, "question 1 needs a prompt"),
        ({"prompt": "p", "choice": ["a", "b"], "answer": 1}, "question 1 needs choices"),
        ({"prompt": "p", "choices": ["a"], "answer": 0}, "question 1 needs choices: a list of at least two"),
        (
            {"prompt": "p", "choices": ["a", "b"]},
            "question 1 needs an answer: the right choice's number, from 0",
        ),
        ({"prompt": "p", "choices": ["a", "b"], "answer": "1"}, "question 1 needs an answer"),
        (
            {"prompt": "p", "choices": ["a", "b"], "answer": 1, "explain": 3},
            "question 1: explain must be text",
        ),
    ],
)
def test_quiz_data_names_what_a_question_lacks(question: dict[str, object], said: str) -> None:
    """An author's typo was a bare KeyError ("'prompt'") or silently coerced."""
    with pytest.raises(ValueError, match=re.escape(said)):
        quiz_from_data({"question": [question]})


def test_a_pass_mark_that_is_no_number_is_refused() -> None:
    with pytest.raises(ValueError, match="pass_mark must be a whole number"):
        quiz_from_data({"question": [{"prompt": "p", "choices": ["a", "b"], "answer": 0}], "pass_mark": "1"})


def test_open_questions_name_the_lab_exercise_that_works_them() -> None:
    opens = load_task("09b").quiz.open_prompts
    assert [o.task for o in opens] == ["09b-multi", "09b-staging", "09b-guard"]
    assert all(load_task(o.task).meta.prerequisites == ("09b",) for o in opens)
    plain = quiz_from_data({"open": [{"prompt": "Why?"}]}).open_prompts
    assert plain == (OpenPrompt("Why?", ""),)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('open = ["Why?"]', "open question 1 needs a prompt"),
        ('[[open]]\nprompt = "a"\n[[open]]\ntask = "x"', "open question 2 needs a prompt"),
        ('[[open]]\nprompt = "a"\ntask = 3', "open question 1: task must be a task id"),
        ('[open]\nprompt = "a"', "`open` must be an array of tables"),
    ],
)
def test_malformed_open_questions_are_named(text: str, says: str) -> None:
    with pytest.raises(LabError, match=re.escape(says)) as caught:
        parse_quiz(text, "tasks/x/quiz.toml")
    assert caught.value.file == "tasks/x/quiz.toml"


def _right_answers() -> str:
    return ",".join(str(q.answer + 1) for q in load_task("09b").quiz.questions)


@pytest.mark.slow
def test_quiz_cli_records_result(tmp_path: Path, lab_env: dict[str, str]) -> None:
    (tmp_path / ".git").mkdir()
    proc = run_lab("quiz", "--workspace", str(tmp_path), "--answers", _right_answers(), env=lab_env)
    assert proc.returncode == 0, proc.stderr
    record = json.loads((tmp_path / ".fluxlab/quiz.json").read_text())
    assert record["passed"] is True and record["task"] == "09b"


@pytest.mark.slow
def test_a_record_nested_too_deep_for_the_parser_is_not_a_crash(
    tmp_path: Path, lab_env: dict[str, str]
) -> None:
    from lab.services.check import run_checks

    (tmp_path / ".git").mkdir()
    (tmp_path / ".fluxlab").mkdir()
    (tmp_path / ".fluxlab/quiz.json").write_text("[" * 100_000)
    verdict = run_checks(tmp_path, offline=True, only=["quiz.passed"]).get("quiz.passed")
    assert verdict.status.value == "fail" and "nested too deeply" in verdict.message, verdict.message
    proc = run_lab("quiz", "--workspace", str(tmp_path), "--answers", _right_answers(), env=lab_env)
    assert proc.returncode == 0, proc.stderr
    assert json.loads((tmp_path / ".fluxlab/quiz.json").read_text())["passed"] is True


@pytest.mark.slow
def test_an_edited_record_is_named_not_graded(tmp_path: Path) -> None:
    from lab.services.check import run_checks

    (tmp_path / ".git").mkdir()
    (tmp_path / ".fluxlab").mkdir()
    record = {"task": "09b", "score": 7, "total": 7, "passed": "yes"}
    (tmp_path / ".fluxlab/quiz.json").write_text(json.dumps(record))
    verdict = run_checks(tmp_path, offline=True, only=["quiz.passed"]).get("quiz.passed")
    assert (
        verdict.message == ".fluxlab/quiz.json is not a quiz result: its 'passed' is 'yes', not true or false"
    )


def _quiz_verdict(workspace: Path, record: dict[str, object]) -> Any:
    from lab.services.check import run_checks

    (workspace / ".git").mkdir(exist_ok=True)
    (workspace / ".fluxlab").mkdir(exist_ok=True)
    (workspace / ".fluxlab/quiz.json").write_text(json.dumps(record))
    return run_checks(workspace, offline=True, only=["quiz.passed"]).get("quiz.passed")


@pytest.mark.slow
def test_a_record_whose_answers_do_not_earn_its_pass_fails(tmp_path: Path) -> None:
    """The grader has the key: a hand-written `passed: true` over wrong answers is re-scored, not believed."""
    quiz = load_task("09b").quiz
    n = len(quiz.questions)
    earned = grade("09b", quiz, [0] * n).score
    record = {"task": "09b", "score": 0, "total": n, "passed": True, "answers": [0] * n}
    verdict = _quiz_verdict(tmp_path, {**record, "quiz": quiz_key(quiz)})
    assert verdict.status.value == "fail", verdict.message
    assert verdict.message == (
        f".fluxlab/quiz.json disagrees with itself: it records score 0/{n}, passed, "
        f"but its answers score {earned}/{n} (pass mark {quiz.pass_mark})"
    )
    assert "take the quiz in the lab: `lab quiz`" in verdict.hint
    # Naming no quiz (written by hand, or before records named theirs), its answers are still graded.
    for forged in (record, {**record, "score": n}, {**record, "quiz": "0ld"}):
        verdict = _quiz_verdict(tmp_path, forged)
        assert verdict.status.value == "fail", verdict.message
        assert verdict.message == (
            ".fluxlab/quiz.json counts no more: it was taken against an earlier version of the quiz (or "
            f"names none), and its answers score {earned}/{n} on today's (pass mark {quiz.pass_mark})"
        )
    without = {k: v for k, v in record.items() if k != "answers"}
    verdict = _quiz_verdict(tmp_path, {**without, "score": n})
    assert verdict.status.value == "fail" and "is not a quiz result" in verdict.message, verdict.message


@pytest.mark.slow
@pytest.mark.parametrize(
    ("record", "counts"),
    [
        # Taken when 09b had six questions: its answers still pass today's quiz.
        ({"task": "09b", "score": 6, "total": 6, "passed": True, "answers": [1, 2, 0, 2, 1, 2]}, True),
        (
            {
                "task": "09b",
                "score": 6,
                "total": 6,
                "passed": True,
                "answers": [1, 2, 0, 2, 1, 2],
                "quiz": "0ld",
            },
            True,
        ),
        # Taken before 09b-guard's choices were reordered: right under the old key, 3/7 under today's.
        (
            {"task": "09b-guard", "score": 7, "total": 7, "passed": True, "answers": [1, 1, 1, 2, 2, 0, 1]},
            False,
        ),
    ],
)
def test_a_record_of_an_earlier_quiz_counts_when_its_answers_pass_todays(
    tmp_path: Path, record: dict[str, object], counts: bool
) -> None:
    """A quiz edited after the attempt (choices reordered, a question added): a record whose answers
    still pass counts; one whose answers no longer do is to be taken again, said without calling it
    edited ("disagrees with itself" was said of honest records)."""
    from lab.services.check import run_checks

    (tmp_path / ".git").mkdir()
    path = tmp_path / load_task(str(record["task"])).meta.quiz_record
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(record))
    verdict = run_checks(tmp_path, offline=True, only=["quiz.passed"], task=str(record["task"])).get(
        "quiz.passed"
    )
    if counts:
        assert verdict.status.value == "pass", verdict.message
        return
    assert verdict.status.value == "fail", verdict.message
    assert "counts no more: it was taken against an earlier version of the quiz" in verdict.message
    assert "disagrees with itself" not in verdict.message


@pytest.mark.slow
@pytest.mark.parametrize(
    ("edit", "says"),
    [
        ({"score": 99}, "it records score 99/7, passed"),
        ({"passed": False}, "it records score 7/7, not passed"),
        ({"total": 3}, "it records score 7/3, passed"),
        ({"answers": "all right"}, "its answers are not a list of choices"),
        ({"answers": [True] * 7}, "its answers are not a list of choices"),
        ({"answers": [1] * 20}, "its answers are not a list of choices"),
    ],
)
def test_a_record_edited_after_the_quiz_fails(tmp_path: Path, edit: dict[str, object], says: str) -> None:
    quiz = load_task("09b").quiz
    right = [q.answer for q in quiz.questions]
    record = {"task": "09b", "score": len(right), "total": len(right), "passed": True, "answers": right}
    verdict = _quiz_verdict(tmp_path, {**record, "quiz": quiz_key(quiz), **edit})
    assert verdict.status.value == "fail" and says in verdict.message, verdict.message
    assert "`lab quiz`" in verdict.hint


@pytest.mark.slow
def test_a_record_lab_quiz_wrote_is_graded_by_its_answers(tmp_path: Path, lab_env: dict[str, str]) -> None:
    from lab.services.check import run_checks

    (tmp_path / ".git").mkdir()
    proc = run_lab("quiz", "--workspace", str(tmp_path), "--answers", _right_answers(), env=lab_env)
    assert proc.returncode == 0, proc.stderr
    verdict = run_checks(tmp_path, offline=True, only=["quiz.passed"]).get("quiz.passed")
    n = len(load_task("09b").quiz.questions)
    assert verdict.status.value == "pass" and verdict.message == f"quiz passed (score {n}/{n})"
    written = json.loads((tmp_path / ".fluxlab/quiz.json").read_text())
    assert written["quiz"] == quiz_key(load_task("09b").quiz)  # its answers are graded strictly
    wrong = ",".join("4" for _ in range(n))
    (tmp_path / "w2" / ".git").mkdir(parents=True)
    run_lab("quiz", "--workspace", str(tmp_path / "w2"), "--answers", wrong, env=lab_env)
    verdict = run_checks(tmp_path / "w2", offline=True, only=["quiz.passed"]).get("quiz.passed")
    assert verdict.status.value == "fail" and verdict.message.startswith("quiz not passed yet"), (
        verdict.message
    )


@pytest.mark.slow
def test_quiz_cli_interactive_wrong_answers_fail(tmp_path: Path, lab_env: dict[str, str]) -> None:
    n = len(load_task("09b").quiz.questions)
    proc = run_lab("quiz", "--workspace", str(tmp_path), env=lab_env, stdin="9\n" + "4\n" * n)
    assert proc.returncode == 1
    assert "type a number" in proc.stdout
    assert "  - How would you handle multiple images in one deployment?\n" in proc.stdout
    assert (
        "    the lab's exercise on it: lab init ~/.local/share/fluxlab/tasks/09b-multi/gitops-lab --task 09b-multi\n"
        in proc.stdout
    )
    assert json.loads((tmp_path / ".fluxlab/quiz.json").read_text())["passed"] is False


@pytest.mark.slow
def test_quiz_cli_bad_answers_is_usage_error(tmp_path: Path, lab_env: dict[str, str]) -> None:
    proc = run_lab("quiz", "-w", str(tmp_path), "--answers", "1,x", env=lab_env)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    short = run_lab("quiz", "-w", str(tmp_path), "--answers", "1", env=lab_env)
    count = len(load_task("09b").quiz.questions)
    assert short.returncode == 2
    assert short.stderr.startswith(
        f"lab: --answers gives 1 answer for {count} questions - hint: give {count} "
    )
    big = run_lab(
        "quiz", "-w", str(tmp_path), "--answers", ",".join(["99"] + ["1"] * (count - 1)), env=lab_env
    )
    assert big.returncode == 2 and big.stderr.startswith("lab: --answers: question 1 has choices 1 to ")
    assert not (tmp_path / ".fluxlab/quiz.json").exists()  # nothing recorded


@pytest.mark.slow
def test_lesson_hint_and_pitfalls(lab_env: dict[str, str]) -> None:
    hint = run_lab("lesson", "--hint", "4", env=lab_env)
    assert hint.returncode == 0 and "$imagepolicy" in hint.stdout
    # A terminal shows the hint's commands as an indented block, not Markdown's ```bash fences.
    first = run_lab("lesson", "--hint", "1", env=lab_env)
    assert first.returncode == 0 and "```" not in first.stdout
    assert "\n\n    flux check\n" in first.stdout
    assert (
        "\n      --components-extra=image-reflector-controller,image-automation-controller\n" in first.stdout
    )
    bad = run_lab("lesson", "--hint", "9", env=lab_env)
    assert bad.returncode == 2 and "hints 1 to 5" in bad.stderr
    lesson = run_lab("lesson", env=lab_env)
    assert "v1beta2" in lesson.stdout


def test_checks_read_the_task_facts_from_task_toml() -> None:
    from lab.checks.loader import load_task_checks

    task, settings = load_task("09b"), load_task_checks("09b").settings
    assert settings["progress_row"] == task.meta.progress_row == "09"
    assert settings["progress_note"] == task.meta.progress_note
    assert settings["quiz_record"] == task.meta.quiz_record == ".fluxlab/quiz.json"


def test_the_argo_cd_image_updater_page_and_its_question() -> None:
    """Issue 12: the 09b lesson has the Argo CD Image Updater side-by-side page (strategies, write-back,
    the tag set on which the two pick differently) and the quiz asks about it; the Flux half of that
    answer is what the lab's own policy engine decides on the page's tags."""
    from lab.core.policy import PolicySpec, resolve
    from lab.core.scan import store_tags
    from lab.services.tasks import load_task

    task = load_task("09b")
    page = task.lesson.split("## Argo CD Image Updater side by side", 1)
    assert len(page) == 2, "the lesson has no Argo CD Image Updater page"
    body = page[1].split("\n## ", 1)[0]
    for needle in ("strategies", "write-back", "newest-build", "`git`", "1.3  1.4  1.5.0-rc.1"):
        assert needle in body, needle
    asked = [q for q in task.quiz.questions if "Argo CD Image Updater" in q.prompt]
    assert len(asked) == 1
    answer = asked[0].choices[asked[0].answer]
    assert "Flux picks nothing" in answer and "Argo picks 1.4" in answer
    one_x = PolicySpec("semver", "1.x", None, None)
    assert resolve(one_x, store_tags(["1.3", "1.4", "1.5.0-rc.1"])).tag is None
    assert resolve(one_x, store_tags(["1.3", "1.4", "1.5.0-rc.1", "1.4.2"])).tag == "1.4.2"
