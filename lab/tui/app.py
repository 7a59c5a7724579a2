"""LabApp: modes for each area of the task; every blocking call runs in a worker over lab.services."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen

from lab.services.session import Session

if TYPE_CHECKING:
    from lab.core.checks.model import Report


def _lesson() -> Screen[None]:
    from lab.tui.screens.lesson import LessonScreen

    return LessonScreen()


def _quiz() -> Screen[None]:
    from lab.tui.screens.quiz import QuizScreen

    return QuizScreen()


def _home() -> Screen[None]:
    from lab.tui.screens.home import HomeScreen

    return HomeScreen()


def _generate() -> Screen[None]:
    from lab.tui.screens.generate import GenerateScreen

    return GenerateScreen()


def _checks() -> Screen[None]:
    from lab.tui.screens.checks import ChecksScreen

    return ChecksScreen()


def _flux() -> Screen[None]:
    from lab.tui.screens.flux import FluxScreen

    return FluxScreen()


def _done() -> Screen[None]:
    from lab.tui.screens.done import DoneScreen

    return DoneScreen()


#: mode name, key, footer label, palette help. The order is the order of the task.
AREAS: tuple[tuple[str, str, str, str], ...] = (
    ("home", "1", "Home", "The course tasks and where the lab works"),
    ("lesson", "2", "Lesson", "The task's text, hints and pitfalls"),
    ("generate", "3", "Generate", "The three manifests and the marker"),
    ("checks", "4", "Checks", "Grade the repository, live"),
    ("flux", "5", "Flux", "Simulate Flux, push, the origin log"),
    ("quiz", "6", "Quiz", "The three CRDs in six questions"),
    ("done", "7", "Done", "Update PROGRESS.md, then Task 10"),
)


# Seven area keys do not fit an 80-column footer one by one; grouped they read "1234567 Areas".
_AREAS_GROUP = Binding.Group("Areas", compact=True)


class LabApp(App[None]):
    """The lab. `session` says which workspace and task; screens read it from `self.app.session`.

    `tags_file` stands in for the registry (like `--tags-file`); `workspace_label` replaces the
    workspace path on screen (tests use it so snapshots do not show temporary paths).
    """

    TITLE = "fluxlab"
    # Absolute, so subclasses defined elsewhere (tests, bench) find it too.
    CSS_PATH = Path(__file__).with_name("lab.tcss")
    MODES: ClassVar[dict[str, str | Callable[[], Screen[None]]]] = {
        "home": _home,
        "lesson": _lesson,
        "generate": _generate,
        "checks": _checks,
        "flux": _flux,
        "quiz": _quiz,
        "done": _done,
    }
    DEFAULT_MODE = "home"
    # Below 80 columns the screens get `-narrow` (lab.tcss gives the form less room there).
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (80, "-normal")]  # noqa: RUF012 - declared so on App
    BINDINGS: ClassVar[list[BindingType]] = [
        *(
            Binding(key, f"switch_mode('{mode}')", label, id=f"mode-{mode}", group=_AREAS_GROUP)
            for mode, key, label, _ in AREAS
        ),
        Binding("question_mark", "toggle_help", "Help", key_display="?", id="help"),
        Binding("ctrl+q", "quit", "Quit", priority=True),
    ]

    def __init__(
        self,
        session: Session,
        *,
        tags_file: Path | None = None,
        workspace_label: str | None = None,
        start_sandbox: bool = False,
    ) -> None:
        super().__init__()
        self.session = session
        # `lab` itself starts the default sandbox when no cluster is configured (issue 6); tests that
        # drive the app in-process leave it off so they spawn no background world.
        self.start_sandbox = start_sandbox
        self.tags_file = tags_file
        self.workspace_label = workspace_label or _home_relative(session.workspace)
        self.last_report: Report | None = None
        self.sub_title = f"Task {session.task.id} · {session.mode} · {self.workspace_label}"

    def on_mount(self) -> None:
        from lab.services.session import is_default_sandbox

        if is_default_sandbox(self.session) and self.session.kubeconfig is None:
            self._attach_sandbox()

    @work(thread=True, exclusive=True, group="sandbox", exit_on_error=False)
    def _attach_sandbox(self) -> None:
        """After the first paint: use the sandbox's cluster and registry, starting it if asked."""
        from lab.services.session import attach_sandbox

        try:
            attached = attach_sandbox(self.session, start=self.start_sandbox)
        except Exception as err:  # a LabError's one line, never a traceback
            self.notify(f"sandbox: {err}", severity="warning")
            return
        if attached is not self.session:
            self.call_from_thread(self.use_session, attached)

    def use_session(self, session: Session) -> None:
        """Switch to `session` (the sandbox cluster came up); screens read `self.app.session`."""
        self.session = session
        self.sub_title = f"Task {session.task.id} · {session.mode} · {self.workspace_label}"
        refresh = getattr(self.screen, "refresh_header", None)
        if callable(refresh):
            refresh()
        self.notify(
            "Using the sandbox: its cluster, registry and Flux controllers run in the background "
            "(`lab sandbox down` stops them)."
        )

    def action_toggle_help(self) -> None:
        from textual.widgets import HelpPanel

        if self.screen.query(HelpPanel):
            self.action_hide_help_panel()
        else:
            self.action_show_help_panel()

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for mode, key, label, help_text in AREAS:
            yield SystemCommand(f"Go to {label} ({key})", help_text, partial(self.switch_mode, mode))
        yield SystemCommand("Run checks", "Grade the repository now", self._palette_run_checks)
        yield SystemCommand(
            "Simulate Flux (dry run)", "Scan, pick a tag, show the diff", self._palette_simulate
        )
        yield SystemCommand("Push my work", "git add, commit and push the task files", self._palette_push)

    def _palette_run_checks(self) -> None:
        self._in_mode("checks", "action_run_checks")

    def _palette_simulate(self) -> None:
        self._in_mode("flux", "action_dry_run")

    def _palette_push(self) -> None:
        self._in_mode("flux", "action_push")

    def _in_mode(self, mode: str, action: str) -> None:
        def after() -> None:
            getattr(self.screen, action)()

        self.switch_mode(mode)
        self.call_after_refresh(after)

    def set_report(self, report: Report) -> None:
        """Checks publish their last report here; the Done screen reads it."""
        self.last_report = report


def _home_relative(path: Path) -> str:
    try:
        return "~/" + path.relative_to(Path.home()).as_posix()
    except ValueError:
        return str(path)
