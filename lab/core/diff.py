"""The lab's one unified-diff builder: what `lab simulate`, `lab setters`, `lab progress` and the
Generate screen show before or after they change a file.

Lines are compared without their line ending and shown with "\\n", so a CRLF file does not print raw
carriage returns into a terminal, and a last line without a newline still ends the diff cleanly.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = ["file_diff", "unified_diff"]


def _lines(data: str | bytes) -> list[str]:
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    return [ln.rstrip("\r\n") + "\n" for ln in text.splitlines(keepends=True)]


def file_diff(path: str, old: str | bytes, new: str | bytes) -> str:
    """A git-style diff of one file (`a/<path>`, `b/<path>`); empty when nothing differs."""
    return "".join(difflib.unified_diff(_lines(old), _lines(new), fromfile=f"a/{path}", tofile=f"b/{path}"))


def unified_diff(files: Iterable[tuple[str, str | bytes, str | bytes]]) -> str:
    """The diffs of (path, old, new) triples, one after the other."""
    return "".join(file_diff(path, old, new) for path, old, new in files)
