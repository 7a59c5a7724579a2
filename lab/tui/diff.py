"""Coloured unified diffs and YAML for Static widgets; colours are theme variables."""

from __future__ import annotations

from pygments.token import Token, _TokenType  # type: ignore[import-untyped]
from textual.content import Content
from textual.highlight import HighlightTheme, highlight

from lab.core.text import escape_controls


class DiffTheme(HighlightTheme):
    STYLES: dict[_TokenType, str] = {  # noqa: RUF012 - the base class declares it this way
        **HighlightTheme.STYLES,
        Token.Generic.Inserted: "$text-success on $success-muted",
        Token.Generic.Deleted: "$text-error on $error-muted",
        Token.Generic.Subheading: "$text-accent",
        Token.Generic.Heading: "bold",
    }


def diff_content(text: str) -> Content:
    if not text:
        return Content("(no changes)")
    return highlight(escape_controls(text), language="diff", theme=DiffTheme)


def yaml_content(text: str) -> Content:
    # Repository text: Textual strips only a few control codes, so escapes are shown, not obeyed.
    return highlight(escape_controls(text), language="yaml")
