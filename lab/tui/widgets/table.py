"""Table cells changed only when their text changes."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.text import Text
    from textual.widgets import DataTable


def set_cell(table: DataTable[Text], row: str, column: str, text: Text) -> None:
    """`table.update_cell(row, column, text)` unless the cell holds that text (and style) already: any
    update throws away the rendering of every row, and Checks sets each row's cells at every check that
    finishes, mostly to what they were."""
    if table.get_cell(row, column) != text:
        table.update_cell(row, column, text)
