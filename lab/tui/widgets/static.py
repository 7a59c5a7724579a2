"""Text widgets repainted only when their text changes."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from textual.visual import VisualType
    from textual.widgets import Static


def show(widget: Static, content: VisualType) -> None:
    """`widget.update(content)` unless it shows `content` already. Static.update lays the whole screen
    out again even for the same text, and the state line, Checks and Done repaint on every workspace
    read (each second while files change): most of those reads change nothing they show."""
    if widget.content != content:
        widget.update(content)
