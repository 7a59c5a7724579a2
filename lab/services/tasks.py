"""Course tasks as data: tasks/<id>/task.toml plus the files it names."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from lab.core.quiz import Quiz, QuizResult, quiz_from_data
from lab.errors import LabError
from lab.resources import data_dir


def tasks_root() -> Path:
    """Where task folders live: the repository's tasks/ next to the lab package."""
    return data_dir("tasks")


@dataclass(frozen=True)
class Hint:
    title: str
    body: str


@dataclass(frozen=True)
class Pitfall:
    issue: str
    cause: str
    resolution: str
    check: str


@dataclass(frozen=True)
class Task:
    id: str
    title: str
    folder: Path
    progress_row: str
    progress_task: str
    progress_note: str
    quiz_record: str
    next_task: str
    next_title: str
    lesson: str
    hints: tuple[Hint, ...]
    pitfalls: tuple[Pitfall, ...]
    quiz: Quiz

    @property
    def starter(self) -> Path:
        return self.folder / "starter"


def _toml(path: Path) -> dict[str, object]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError as err:
        raise LabError(f"{path}: missing task file", hint="reinstall fluxlab or restore tasks/") from err
    except tomllib.TOMLDecodeError as err:
        raise LabError(f"{path}: invalid TOML: {err}") from err


def _tables(data: dict[str, object], key: str) -> list[dict[str, object]]:
    raw = data.get(key, [])
    return [t for t in raw if isinstance(t, dict)] if isinstance(raw, list) else []


def list_tasks() -> list[str]:
    root = tasks_root()
    return sorted(p.name for p in root.iterdir() if (p / "task.toml").is_file()) if root.is_dir() else []


def load_task(task_id: str = "09b") -> Task:
    folder = tasks_root() / task_id
    meta = _toml(folder / "task.toml")
    hints = _tables(_toml(folder / str(meta.get("hints", "hints.toml"))), "hint")
    pitfalls = _tables(_toml(folder / str(meta.get("pitfalls", "pitfalls.toml"))), "pitfall")
    try:
        quiz = quiz_from_data(_toml(folder / str(meta.get("quiz", "quiz.toml"))))
    except (KeyError, ValueError, TypeError) as err:
        raise LabError(f"{folder / 'quiz.toml'}: {err}") from err
    lesson = (folder / str(meta.get("lesson", "lesson.md"))).read_text(encoding="utf-8")
    return Task(
        id=str(meta["id"]),
        title=str(meta["title"]),
        folder=folder,
        progress_row=str(meta["progress_row"]),
        progress_task=str(meta["progress_task"]),
        progress_note=str(meta["progress_note"]),
        quiz_record=str(meta.get("quiz_record", ".fluxlab/quiz.json")),
        next_task=str(meta.get("next_task", "")),
        next_title=str(meta.get("next_title", "")),
        lesson=lesson,
        hints=tuple(Hint(str(h["title"]), str(h["body"]).strip()) for h in hints),
        pitfalls=tuple(
            Pitfall(str(p["issue"]), str(p["cause"]), str(p["resolution"]), str(p["check"])) for p in pitfalls
        ),
        quiz=quiz,
    )


def record_quiz(workspace: Path, task: Task, result: QuizResult) -> Path:
    """Write the quiz result where `lab check` (quiz.passed) and headless graders read it; the best
    attempt is kept and every attempt listed (`lab.services.quiz.record_attempt`)."""
    from lab.services.quiz import record_attempt

    return record_attempt(workspace, task, result).path


def task_for_row(row: str) -> Task | None:
    """The course task whose PROGRESS.md row `row` names (`09`, `9` or `09-fluxcd-...`), if the lab has it."""
    from lab.core.progress import task_matches

    for task_id in list_tasks():
        task = load_task(task_id)
        if task_matches(task.progress_task, row):
            return task
    return None
