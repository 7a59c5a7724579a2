"""A task with its texts read (lesson, hints, pitfalls, quiz) and the course file, as data.

The part of the task model that a check run does not need (it reads task.toml's `TaskMeta`, in
`lab.core.tasks`): import these names from here, where they cost start-up only to those who use them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lab.core.record import dataclass
from lab.core.tasks import CHECKS_FILE, TaskImage, TaskMeta, find_image, load_toml
from lab.errors import LabError

if TYPE_CHECKING:
    from lab.core.quiz import Quiz


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
    """A task with its texts read: what the CLI, the TUI and the checks work from."""

    meta: TaskMeta
    folder: Path
    lesson: str
    hints: tuple[Hint, ...]
    pitfalls: tuple[Pitfall, ...]
    quiz: Quiz

    @property
    def id(self) -> str:
        return self.meta.id

    @property
    def title(self) -> str:
        return self.meta.title

    @property
    def starter(self) -> Path:
        return self.folder / self.meta.starter

    @property
    def solution(self) -> Path:
        return self.folder / self.meta.solution

    @property
    def checks_file(self) -> Path:
        return self.folder / CHECKS_FILE

    def image_file(self, rel: str) -> Path:
        return self.folder / rel

    def image(self, name: str) -> TaskImage | None:
        """The declared image `name` names (`nginx`, `library/nginx`, `docker.io/library/nginx` alike)."""
        return find_image(self.meta.images, name)

    @property
    def image_label(self) -> str:
        """The first image as learners call it (`nginx` for library/nginx, `shop` for ghcr.io/acme/shop)."""
        image = next(iter(self.meta.images), None)
        return image.name.rsplit("/", 1)[-1] if image is not None else "image"

    @property
    def images_label(self) -> str:
        """Every image the task's registry serves, in a few words: `nginx`, `shop and 3 other images`."""
        others = len(self.meta.images) - 1
        if others <= 0:
            return self.image_label
        return f"{self.image_label} and {others} other image" + ("s" if others > 1 else "")

    @property
    def snapshot_date(self) -> str | None:
        """The date of the first image's bundled tags, for "a <date> snapshot" in messages."""
        return next((i.snapshot for i in self.meta.images if i.snapshot), None)


def _tables(data: Mapping[str, Any], key: str) -> list[dict[str, Any]]:
    raw = data.get(key, [])
    return [t for t in raw if isinstance(t, dict)] if isinstance(raw, list) else []


def parse_hints(text: str, where: str) -> tuple[Hint, ...]:
    try:
        return tuple(
            Hint(str(h["title"]), str(h["body"]).strip()) for h in _tables(load_toml(text, where), "hint")
        )
    except KeyError as err:
        raise LabError(f"a [[hint]] lacks {err.args[0]}", file=where) from None


def parse_pitfalls(text: str, where: str) -> tuple[Pitfall, ...]:
    try:
        return tuple(
            Pitfall(str(p["issue"]), str(p["cause"]), str(p["resolution"]), str(p["check"]))
            for p in _tables(load_toml(text, where), "pitfall")
        )
    except KeyError as err:
        raise LabError(f"a [[pitfall]] lacks {err.args[0]}", file=where) from None


def parse_quiz(text: str, where: str) -> Quiz:
    from lab.core.quiz import quiz_from_data  # only the quiz needs it: not every `lab check`

    try:
        return quiz_from_data(load_toml(text, where))
    except (KeyError, ValueError, TypeError) as err:
        raise LabError(f"{err}", file=where, hint="see quiz.toml of an existing task") from None


def task_steps(task: Task) -> tuple[str, ...]:
    """What to run for `task`, in order (`command  # comment`): its `next_steps` (or `lab check`), with
    the lesson first and the quiz last when the task has them and the steps do not already say so."""
    steps = list(task.meta.next_steps or ("lab check  # see what is done and what is missing",))
    if not any(step.partition("#")[0].strip() == "lab lesson" for step in steps):
        hints = f"; --hint 1..{len(task.hints)} for its hints" if task.hints else ""
        steps.insert(0, f"lab lesson  # read the task{hints}")
    if task.quiz.questions and not any(step.startswith("lab quiz") for step in steps):
        steps.append(f"lab quiz  # {len(task.quiz.questions)} questions, recorded for the quiz check")
    return tuple(steps)


def format_steps(steps: Sequence[str], indent: str = "  ") -> list[str]:
    """Steps as `lab init` prints them: the command, then its comment in a column."""
    lines = []
    for step in steps:
        command, _, comment = step.partition("#")
        command = command.strip()
        lines.append(f"{indent}{command.ljust(34)} # {comment.strip()}" if comment else f"{indent}{command}")
    return lines


@dataclass(frozen=True)
class Course:
    """`tasks/course.toml`: what the course starts with when no task is named."""

    current_task: str
    title: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    tasks: tuple[str, ...] = ()
    """`[course] tasks`: the course's order (`lab.core.tasks.course_order`); tasks it does not list follow."""


def parse_course(text: str, where: str) -> Course:
    data = load_toml(text, where)
    course = data.get("course", {})
    if not isinstance(course, dict) or not isinstance(course.get("current_task"), str):
        raise LabError(
            "course.toml lacks [course] current_task", file=where, hint='current_task = "<task id>"'
        )
    tasks = course.get("tasks", [])
    if not isinstance(tasks, list) or not all(isinstance(t, str) for t in tasks):
        raise LabError(
            "[course] tasks must be a list of task ids",
            file=where,
            field="tasks",
            hint='tasks = ["<task id>", ...]',
        )
    return Course(str(course["current_task"]), str(course.get("title", "")), dict(course), tuple(tasks))
