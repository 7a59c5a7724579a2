"""LabApp: modes for each area of the task; every blocking call runs in a worker over lab.services."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from textual.app import App
from textual.binding import Binding, BindingType
from textual.screen import Screen

from lab.services.session import Session


def _lesson() -> Screen[None]:
    from lab.tui.screens.lesson import LessonScreen

    return LessonScreen()


def _quiz() -> Screen[None]:
    from lab.tui.screens.quiz import QuizScreen

    return QuizScreen()


def _home() -> Screen[None]:
    from lab.tui.screens.home import HomeScreen

    return HomeScreen()


class LabApp(App[None]):
    """The lab. `session` says which workspace and task; screens read it from `self.app.session`."""

    TITLE = "fluxlab"
    CSS_PATH = "lab.tcss"
    MODES: ClassVar[dict[str, str | Callable[[], Screen[None]]]] = {
        "home": _home,
        "lesson": _lesson,
        "quiz": _quiz,
    }
    DEFAULT_MODE = "home"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("1", "switch_mode('home')", "Home", id="mode-home"),
        Binding("2", "switch_mode('lesson')", "Lesson", id="mode-lesson"),
        Binding("6", "switch_mode('quiz')", "Quiz", id="mode-quiz"),
        Binding("ctrl+q", "quit", "Quit", priority=True),
    ]

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.sub_title = f"Task {session.task.id} · {session.mode} · {session.workspace}"
