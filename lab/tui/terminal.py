"""No character from a repository steers the learner's terminal, whichever widget shows it.

Textual writes the text of every widget to the terminal as it is: a file name, a YAML value, a commit
subject or a PROGRESS.md note holding `ESC ] 2 ;` retitles the terminal, one holding `ESC [ 2 J` clears
it, a bidi override reorders what follows. The screens show such text escaped where they know it comes
from a repository (`lab.core.text.escape_controls`: `\\x1b` stays readable), but a screen can miss one,
and the editor must show a file's text as it is. So the one place where Textual turns a laid-out line
into terminal output, `Strip.render`, drops every such character from the text of each segment. They
take no cell (Textual measured them as zero-width when it laid the line out), so dropping them moves
nothing; the styles around the text are Textual's own sequences and are kept.

This replaces Textual's `Strip.render` for the whole process (Textual offers no hook between a line's
segments and the terminal); `install` is idempotent, and the lab's app installs it when it is built.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.color import ColorSystem
from textual.strip import Strip

from lab.core.text import drop_controls

if TYPE_CHECKING:
    from rich.console import Console

TEXTUAL_RENDER = Strip.render
"""Textual's own, which `_safe_render` repeats (the tests compare the two on clean text)."""


def _safe_render(self: Strip, console: Console) -> str:
    # Textual's Strip.render (textual 8.2.8), with each segment's text cleaned before it is styled.
    if self._render_cache is None:
        color_system = console._color_system or ColorSystem.TRUECOLOR
        render = self.render_style
        parts = []
        for text, style, control in self._segments:
            shown = text if control else drop_controls(text)  # a Control segment is Rich's own sequence
            parts.append(shown if style is None else render(style, shown, color_system=color_system))
        self._render_cache = "".join(parts)
    return self._render_cache


def install() -> None:
    """Make every line the app draws safe for the terminal (see the module's text)."""
    if Strip.render is not _safe_render:
        Strip.render = _safe_render  # type: ignore[method-assign]
