"""Quiz grading: pure. The questions come from tasks/<id>/quiz.toml."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence

from lab.core.record import dataclass


@dataclass(frozen=True)
class Question:
    prompt: str
    choices: tuple[str, ...]
    answer: int
    explain: str = ""


@dataclass(frozen=True)
class OpenPrompt:
    """An ungraded question (`[[open]]`); `task` names the lab's exercise that works it, if any."""

    prompt: str
    task: str = ""


@dataclass(frozen=True)
class Quiz:
    questions: tuple[Question, ...]
    pass_mark: int
    open_prompts: tuple[OpenPrompt, ...] = ()


@dataclass(frozen=True)
class QuizResult:
    task: str
    score: int
    total: int
    passed: bool
    answers: tuple[int | None, ...]
    wrong: tuple[int, ...]

    def to_json(self) -> dict[str, object]:
        return {
            "task": self.task,
            "score": self.score,
            "total": self.total,
            "passed": self.passed,
            "answers": list(self.answers),
        }


def quiz_from_data(data: Mapping[str, object]) -> Quiz:
    """Build a Quiz from parsed quiz.toml, rejecting answers that point at no choice."""
    questions: list[Question] = []
    raw_questions = data.get("question", [])
    if not isinstance(raw_questions, list):
        raise ValueError("quiz: `question` must be an array of tables")
    for index, raw in enumerate(raw_questions, start=1):
        questions.append(_question(raw, index))
    raw_open = data.get("open", [])
    if not isinstance(raw_open, list):
        raise ValueError("quiz: `open` must be an array of tables")
    opens = tuple(_open_prompt(raw, index) for index, raw in enumerate(raw_open, start=1))
    pass_mark = data.get("pass_mark", len(questions))
    if not isinstance(pass_mark, int) or isinstance(pass_mark, bool):
        raise ValueError(f"quiz: pass_mark must be a whole number of questions, not {pass_mark!r}")
    return Quiz(tuple(questions), pass_mark, opens)


def _question(raw: object, index: int) -> Question:
    """One [[question]], each key checked: an author's typo is named, never a bare KeyError."""
    if not isinstance(raw, Mapping):
        raise ValueError(f"quiz: question {index} must be a table ([[question]])")
    prompt, choices, answer = raw.get("prompt"), raw.get("choices"), raw.get("answer")
    if not isinstance(prompt, str) or not prompt.strip():
        raise ValueError(f"quiz: question {index} needs a prompt (text)")
    if not isinstance(choices, list) or len(choices) < 2 or not all(isinstance(c, str) for c in choices):
        raise ValueError(f"quiz: question {index} needs choices: a list of at least two texts")
    if not isinstance(answer, int) or isinstance(answer, bool):
        raise ValueError(f"quiz: question {index} needs an answer: the right choice's number, from 0")
    if not 0 <= answer < len(choices):
        raise ValueError(
            f"quiz: question {index} answer {answer} is not one of its choices (0 to {len(choices) - 1})"
        )
    explain = raw.get("explain", "")
    if not isinstance(explain, str):
        raise ValueError(f"quiz: question {index}: explain must be text")
    return Question(prompt, tuple(choices), answer, explain)


def _open_prompt(raw: object, index: int) -> OpenPrompt:
    if not isinstance(raw, Mapping) or not isinstance(raw.get("prompt"), str):
        raise ValueError(f"quiz: open question {index} needs a prompt (text)")
    task = raw.get("task", "")
    if not isinstance(task, str):
        raise ValueError(f"quiz: open question {index}: task must be a task id (text)")
    return OpenPrompt(raw["prompt"], task)


def grade(task: str, quiz: Quiz, answers: Sequence[int | None]) -> QuizResult:
    given = tuple(answers) + (None,) * (len(quiz.questions) - len(answers))
    wrong = tuple(i for i, q in enumerate(quiz.questions) if given[i] != q.answer)
    score = len(quiz.questions) - len(wrong)
    return QuizResult(task, score, len(quiz.questions), score >= quiz.pass_mark, given, wrong)


def quiz_key(quiz: Quiz) -> str:
    """A fingerprint of what a record's answers are graded against: the questions, their choices in
    order, the key and the pass mark. A record names the quiz it was taken against with it, so that a
    quiz edited later (choices reordered, a question added) never turns an honest record into a false
    one."""
    canon = [[q.prompt, list(q.choices), q.answer] for q in quiz.questions]
    text = json.dumps([canon, quiz.pass_mark], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def rescore_record(task: str, quiz: Quiz, record: Mapping[str, object]) -> tuple[QuizResult | None, str]:
    """A quiz record's answers graded against the quiz, and why the record does not count ("" when it
    does), as the phrase after the record's name ("disagrees with itself: ...").

    The record is the learner's file: its `score`, `total` and `passed` are claims, its `answers` the
    evidence, always graded against the quiz as it is. A record that names this very quiz (`quiz`:
    `quiz_key`) must claim what its answers earn. One taken against an earlier version of the quiz
    (choices reordered, a question added), or from before records named theirs, counts when its
    answers pass today's quiz; else it is to be taken again, which says nothing of the learner's
    honesty. None when the answers are no list of choices (one per question at most)."""
    answers = record.get("answers")
    if (
        not isinstance(answers, list)
        or len(answers) > len(quiz.questions)
        or not all(a is None or (isinstance(a, int) and not isinstance(a, bool)) for a in answers)
    ):
        return None, (
            f"is not a quiz result: its answers are not a list of choices, one per question "
            f"({len(quiz.questions)})"
        )
    result = grade(task, quiz, answers)
    if record.get("quiz") != quiz_key(quiz):
        if result.passed or record.get("passed") is not True:
            return result, ""
        return result, (
            f"counts no more: it was taken against an earlier version of the quiz (or names none), and its answers "
            f"score {result.score}/{result.total} on today's (pass mark {quiz.pass_mark})"
        )
    claimed = (record.get("score"), record.get("total"), record.get("passed"))
    if claimed == (result.score, result.total, result.passed):
        return result, ""
    verdict = "passed" if record.get("passed") is True else "not passed"
    return result, (
        f"disagrees with itself: it records score {claimed[0]}/{claimed[1]}, {verdict}, but its answers score "
        f"{result.score}/{result.total} (pass mark {quiz.pass_mark})"
    )


MAX_ATTEMPTS_KEPT = 50


def merge_record(
    existing: Mapping[str, object] | None, result: QuizResult, at: str, key: str = ""
) -> dict[str, object]:
    """The quiz record after one more attempt: the best attempt stays on top (a later, worse attempt
    never erases a pass), every attempt is listed with its time and score (the last 50).

    Top-level `task/score/total/passed/answers` are the best attempt's, so readers of the older
    one-attempt format (quiz.passed, graders) keep working; `best_at` says when it was made, and
    `quiz` which quiz it was taken against (`quiz_key`)."""
    attempts: list[object] = []
    best: Mapping[str, object] | None = None
    if existing is not None and existing.get("task") == result.task:
        raw = existing.get("attempts")
        if isinstance(raw, list):
            attempts = [a for a in raw if isinstance(a, dict)]
        elif "score" in existing:  # a record from before attempts were kept: it was one attempt
            attempts = [
                {
                    "at": existing.get("best_at", ""),
                    "score": existing.get("score"),
                    "passed": existing.get("passed"),
                }
            ]
        best = existing
    attempts.append({"at": at, "score": result.score, "passed": result.passed})
    attempts = attempts[-MAX_ATTEMPTS_KEPT:]
    new_best = best is None or _rank(result.passed, result.score) > _rank(
        best.get("passed"), best.get("score")
    )
    if new_best or best is None:
        top: dict[str, object] = {**result.to_json(), "best_at": at}
        if key:
            top["quiz"] = key
    else:
        top = {k: best.get(k) for k in ("task", "score", "total", "passed", "answers", "best_at")}
        if "quiz" in best:
            top["quiz"] = best["quiz"]
    top["attempts"] = attempts
    return top


def _rank(passed: object, score: object) -> tuple[int, int]:
    return (1 if passed is True else 0, score if isinstance(score, int) else -1)
