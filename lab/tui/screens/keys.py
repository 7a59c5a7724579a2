"""`?`: every key of the current screen (its own, the focused widget's, the app's), hidden ones too."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Label, Static


class KeysScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close"),
        Binding("q", "close", "Close", show=False),
        Binding("question_mark", "close", "Close", key_display="?", show=False),
    ]

    def __init__(self, title: str, help_text: str, rows: list[tuple[str, str]]) -> None:
        super().__init__()
        self.title_text = title
        self.help_text = help_text
        self.rows = rows

    @classmethod
    def for_screen(cls, screen: Screen[object]) -> KeysScreen:
        """The keys active on `screen` right now (focused widget first, then screen, then app)."""

        # The screen's own actions first, then the app's, then the focused widget's navigation keys.
        def rank(node: object) -> int:
            return 0 if node is screen else 1 if node is screen.app else 2

        rows: list[tuple[str, str]] = []
        seen: set[str] = set()
        ordered = sorted(screen.active_bindings.items(), key=lambda item: rank(item[1].node))
        for key, active in ordered:
            binding = active.binding
            if not binding.description or key in seen:
                continue
            seen.add(key)
            shown = screen.app.get_key_display(binding)
            rows.append((shown, binding.description + ("" if active.enabled else " (not now)")))
        rows.append(("ctrl+p", "Command palette: every action by name"))
        rows.append(("esc", "Leave a text field, so letter and digit keys work again"))
        # A screen may say more once it has read the task (`help_now`), else its class's HELP.
        help_text = str(getattr(screen, "help_now", "") or getattr(screen, "HELP", "") or "")
        return cls(f"Keys: {screen.__class__.__name__.removesuffix('Screen')}", help_text, rows)

    def compose(self) -> ComposeResult:
        with Vertical(id="keys-dialog"):
            yield Label(self.title_text, classes="title", markup=False)
            if self.help_text:
                yield Static(self.help_text, id="keys-help", classes="muted", markup=False)
            table: DataTable[Text] = DataTable(id="keys", cursor_type="row", zebra_stripes=True)
            yield table
            yield Label("esc or ? closes", classes="muted")

    def on_mount(self) -> None:
        table = self.query_one("#keys", DataTable)
        table.add_columns("Key", "Action")
        for key, description in self.rows:
            table.add_row(Text(key), Text(description))
        table.focus()

    def action_close(self) -> None:
        self.dismiss(None)
