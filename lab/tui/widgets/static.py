"""Text widgets repainted only when their text changes."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from textual.visual import VisualType
    from textual.widgets import Static


def show(widget: Static, content: VisualType, *, fixed_width: bool = False) -> None:
    """`widget.update(content)` unless it shows `content` already. Static.update lays the whole screen
    out again even for the same text, and the state line, Checks and Done repaint on every workspace
    read (each second while files change): most of those reads change nothing they show.

    `fixed_width`: the widget's width does not follow its text (a line as wide as its container), so a
    text of as many lines as the one shown moves no widget: only the widget is painted again."""
    if widget.content == content:
        return
    width = widget.content_region.width
    in_place = (
        fixed_width
        and width > 0
        and _height(widget, content, width) == _height(widget, widget.content, width)
    )
    widget.update(content, layout=not in_place)


def _height(widget: Static, content: VisualType, width: int) -> int:
    """The lines `content` takes in `widget` at `width`, as Textual lays it out (Widget.get_content_height)."""
    from textual.visual import visualize

    visual = visualize(widget, content, markup=widget._render_markup)
    return visual.get_height(widget.styles, width)  # type: ignore[arg-type] # as Textual passes them
