"""Lesson: the task text, hints revealed one at a time, the pitfalls table."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Button, Markdown, Static, TabbedContent, TabPane
from textual.widgets.markdown import MarkdownBlock, MarkdownFence

from lab.tui.screens.base import LabScreen

if TYPE_CHECKING:
    from rich.console import Group
    from textual.content import Content

    from lab.services.tasks import Pitfall


class CommandFence(MarkdownFence):
    """A code block whose lines stay whole: a command wrapped by the app (inside a word, or at a space
    before an option) is broken when copied from the terminal. A line wider than the pane scrolls
    sideways: Tab puts the cursor on the block, ← and → scroll it (the scrollbar shows there is more)."""

    can_focus = True
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left", "scroll_left", "Scroll left", show=False),
        Binding("right", "scroll_right", "Scroll right", show=False),
    ]

    @classmethod
    def highlight(cls, code: str, language: str, ansi: bool = False, dark: bool = False) -> Content:
        return _highlighted(code, language, ansi, dark)


@lru_cache(maxsize=64)
def _highlighted(code: str, language: str, ansi: bool, dark: bool) -> Content:
    """A fence's highlighted text, worked out once per text and theme. Textual highlights every block
    again on each style update (each return to the area restyles the screen), and a block that names
    no language has Pygments try every lexer on it: about 0.3 CPU-s a block, each time. The Content
    is immutable, so the blocks of the lesson and of a revealed hint may share it."""
    return MarkdownFence.highlight(code, language, ansi=ansi, dark=dark)


class LessonMarkdown(Markdown):
    """The lesson's and hints' Markdown, with code blocks that keep their lines whole."""

    # Textual declares BLOCKS an instance variable: a ClassVar here is refused by mypy.
    BLOCKS: dict[str, type[MarkdownBlock]] = {  # noqa: RUF012
        **Markdown.BLOCKS,
        "fence": CommandFence,
        "code_block": CommandFence,
    }


class LessonScreen(LabScreen):
    HELP = (
        "Read the task. `n` reveals the next hint; the Pitfalls tab lists what goes wrong "
        "and the check that finds it. ] and [ switch tabs; PageUp/PageDown scroll. A command wider "
        "than the screen scrolls sideways: Tab to it, then ← and →."
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "next_hint", "Next hint"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.revealed = 0

    def compose_area(self) -> ComposeResult:
        task = self.lab.session.task
        with TabbedContent(initial="lesson-pane"):
            with TabPane("Lesson", id="lesson-pane"), VerticalScroll(id="lesson-scroll"):
                # Built after the first frame (`_build_lesson`): Textual's Markdown widgets take about a
                # CPU-second for a lesson, and until then the key that opened it showed nothing.
                yield Static("loading the lesson…", id="lesson-loading", classes="muted", markup=False)
                yield LessonMarkdown(open_links=False, id="lesson")
            with TabPane("Hints", id="hints-pane"), VerticalScroll(id="hints-scroll"):
                yield Button("Reveal hint 1", id="reveal", variant="primary")
            with TabPane("Pitfalls", id="pitfalls-pane"), VerticalScroll(id="pitfalls-scroll"):
                # One block per pitfall: a four-column table cannot be read at 80 columns.
                yield Static(pitfalls_content(task.pitfalls), id="pitfalls")

    @on(Button.Pressed, "#reveal")
    def _reveal_pressed(self) -> None:
        self.action_next_hint()

    def on_mount(self) -> None:
        self._load_revealed()
        self.call_after_refresh(self._build_soon)

    def _build_soon(self) -> None:
        # A worker, so that `workers.wait_for_complete()` (tests, snapshots) waits for the lesson too.
        self.run_worker(self._build_lesson(), group="lesson", exit_on_error=False, description="the lesson")

    async def _build_lesson(self) -> None:
        await self.query_one("#lesson", LessonMarkdown).update(self.lab.session.task.lesson)
        await self.query_one("#lesson-loading", Static).remove()

    @work(
        thread=True, exclusive=True, group="hints", exit_on_error=False, description="reading revealed hints"
    )
    def _load_revealed(self) -> None:
        """Hints revealed in an earlier session stay revealed (lab.services.quiz keeps them)."""
        from lab.services.quiz import revealed_hints

        count = revealed_hints(self.lab.session.workspace, self.lab.session.task.id)
        self.app.call_from_thread(self._reveal_up_to, count)

    def _reveal_up_to(self, count: int) -> None:
        while self.revealed < min(count, len(self.lab.session.task.hints)):
            self._show_next(switch=False)

    @work(thread=True, group="hints", exit_on_error=False, description="remembering the hint")
    def _remember(self, count: int) -> None:
        from lab.services.quiz import reveal_hint

        reveal_hint(self.lab.session.workspace, self.lab.session.task.id, count)

    def action_next_hint(self) -> None:
        if self.revealed >= len(self.lab.session.task.hints):
            self.notify("That was the last hint.", severity="information")
            return
        self._show_next(switch=True)
        self._remember(self.revealed)

    def _show_next(self, *, switch: bool) -> None:
        hints = self.lab.session.task.hints
        hint = hints[self.revealed]
        self.revealed += 1
        scroll = self.query_one("#hints-scroll", VerticalScroll)
        button = self.query_one("#reveal", Button)
        scroll.mount(LessonMarkdown(f"### Hint {self.revealed} - {hint.title}\n\n{hint.body}"), before=button)
        if self.revealed < len(hints):
            button.label = f"Reveal hint {self.revealed + 1}"
        else:
            button.display = False
        if switch:
            self.query_one(TabbedContent).active = "hints-pane"
            self.query_one("#hints-scroll").focus()


def pitfalls_content(pitfalls: tuple[Pitfall, ...]) -> Group:
    """Each pitfall as its issue over a two-column grid, so a long cause wraps under itself (with a
    hanging indent) instead of back to the left margin."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    blocks: list[Text | Table] = []
    for pit in pitfalls:
        grid = Table.grid(padding=(0, 1))
        grid.add_column(width=8, no_wrap=True)
        grid.add_column(ratio=1)
        grid.add_row("  why:", Text(pit.cause))
        grid.add_row("  fix:", Text(pit.resolution))
        grid.add_row("  check:", Text(pit.check, style="italic"))
        blocks += [Text(pit.issue, style="bold"), grid, Text("")]
    return Group(*blocks)
