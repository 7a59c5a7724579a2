"""A dialog that shows a diff and asks before anything is overwritten or written."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from lab.tui.diff import diff_content


class ConfirmDiff(ModalScreen[bool]):
    """Dismisses with True only when the learner confirms."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("y", "confirm", "Confirm"),
        # The focus sits on Cancel: without these the diff scrolled only after a Tab, and a learner
        # confirmed what they had half seen.
        Binding("pagedown", "scroll_diff(1)", "Scroll down", show=False),
        Binding("pageup", "scroll_diff(-1)", "Scroll up", show=False),
        Binding("down", "scroll_diff_line(1)", "Down", show=False),
        Binding("up", "scroll_diff_line(-1)", "Up", show=False),
    ]

    def __init__(
        self, title: str, diff: str, confirm_label: str = "Overwrite", shows: str = "the diff"
    ) -> None:
        super().__init__()
        self.title_text = title
        self.diff = diff
        self.confirm_label = confirm_label
        self.shows = shows  # what the scrolled body is, for its one line of help

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self.title_text, classes="title", markup=False)
            with VerticalScroll(id="dialog-diff"):
                yield Static(diff_content(self.diff))
            yield Label(f"↓ and PageDown scroll {self.shows}", classes="muted")
            with Horizontal(id="dialog-actions"):
                yield Button(f"{self.confirm_label} (y)", id="confirm", variant="warning", compact=True)
                yield Button("Cancel (esc)", id="cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#cancel", Button).focus()

    def action_scroll_diff(self, pages: int) -> None:
        diff = self.query_one("#dialog-diff", VerticalScroll)
        (diff.scroll_page_down if pages > 0 else diff.scroll_page_up)(animate=False)

    def action_scroll_diff_line(self, lines: int) -> None:
        diff = self.query_one("#dialog-diff", VerticalScroll)
        (diff.scroll_down if lines > 0 else diff.scroll_up)(animate=False)

    @on(Button.Pressed, "#confirm")
    def action_confirm(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(False)
