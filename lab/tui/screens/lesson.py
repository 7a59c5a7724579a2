"""Lesson: the task text, hints revealed one at a time, the pitfalls table."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, DataTable, Footer, Header, Markdown, TabbedContent, TabPane

if TYPE_CHECKING:
    from lab.tui.app import LabApp


class LessonScreen(Screen[None]):
    HELP = (
        "Read the task. `n` reveals the next hint; the Pitfalls tab lists what goes wrong "
        "and the check that finds it."
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "next_hint", "Next hint"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.revealed = 0

    @property
    def lab(self) -> LabApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        task = self.lab.session.task
        yield Header()
        with TabbedContent(initial="lesson-pane"):
            with TabPane("Lesson", id="lesson-pane"), VerticalScroll(id="lesson-scroll"):
                yield Markdown(task.lesson, open_links=False, id="lesson")
            with TabPane("Hints", id="hints-pane"), VerticalScroll(id="hints-scroll"):
                yield Button("Reveal hint 1", id="reveal", variant="primary")
            with TabPane("Pitfalls", id="pitfalls-pane"):
                yield DataTable(id="pitfalls", cursor_type="row", zebra_stripes=True)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        table = self.query_one("#pitfalls", DataTable)
        table.add_columns("Issue", "Cause", "Resolution", "Check")
        for pit in self.lab.session.task.pitfalls:
            table.add_row(Text(pit.issue), Text(pit.cause), Text(pit.resolution), Text(pit.check))

    @on(Button.Pressed, "#reveal")
    def _reveal_pressed(self) -> None:
        self.action_next_hint()

    def action_next_hint(self) -> None:
        hints = self.lab.session.task.hints
        if self.revealed >= len(hints):
            self.notify("That was the last hint.", severity="information")
            return
        hint = hints[self.revealed]
        self.revealed += 1
        scroll = self.query_one("#hints-scroll", VerticalScroll)
        button = self.query_one("#reveal", Button)
        scroll.mount(Markdown(f"### Hint {self.revealed} - {hint.title}\n\n{hint.body}"), before=button)
        if self.revealed < len(hints):
            button.label = f"Reveal hint {self.revealed + 1}"
        else:
            button.display = False
        self.query_one(TabbedContent).active = "hints-pane"
