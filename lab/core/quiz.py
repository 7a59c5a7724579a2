"""Quiz grading: pure. The questions come from tasks/<id>/quiz.toml."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Question:
    prompt: str
    choices: tuple[str, ...]
    answer: int
    explain: str = ""


@dataclass(frozen=True)
class Quiz:
    questions: tuple[Question, ...]
    pass_mark: int
    open_prompts: tuple[str, ...] = ()


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
        choices = tuple(str(c) for c in raw["choices"])
        answer = int(raw["answer"])
        if not 0 <= answer < len(choices):
            raise ValueError(f"quiz: question {index} answer {answer} is not one of its choices")
        questions.append(Question(str(raw["prompt"]), choices, answer, str(raw.get("explain", ""))))
    raw_open = data.get("open", [])
    opens = tuple(str(o["prompt"]) for o in raw_open) if isinstance(raw_open, list) else ()
    pass_mark = data.get("pass_mark", len(questions))
    return Quiz(tuple(questions), int(pass_mark) if isinstance(pass_mark, int) else len(questions), opens)


def grade(task: str, quiz: Quiz, answers: Sequence[int | None]) -> QuizResult:
    given = tuple(answers) + (None,) * (len(quiz.questions) - len(answers))
    wrong = tuple(i for i, q in enumerate(quiz.questions) if given[i] != q.answer)
    score = len(quiz.questions) - len(wrong)
    return QuizResult(task, score, len(quiz.questions), score >= quiz.pass_mark, given, wrong)
