"""Read a tags file (or standard input): the one reader behind `lab policy`, `lab simulate`,
`lab check --tags-file` and a task's bundled registry snapshot. The format is `lab.core.scan.parse_tag_list`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from lab.adapters.files import not_regular, read_regular
from lab.core.checks.model import one_line
from lab.core.scan import MAX_TAG_LIST_BYTES, TagListLineError, parse_tag_list
from lab.errors import LabError, UsageError

__all__ = ["read_tags", "require_tags_file"]


def require_tags_file(path: Path) -> None:
    """UsageError unless `path` is a regular file of tags: for commands that read it later, once per
    check (a line that is no tag is named here, once, not as a failing check of every repository)."""
    why = not_regular(path)
    if why == "not found":
        raise UsageError(f"tags file {path} not found", hint="one tag per line, as `lab tags` writes")
    if why is not None:
        raise UsageError(
            f"cannot read tags file {path}: {why}", hint="pass a regular file with one tag per line"
        )
    read_tags(path)


def read_tags(source: str | Path, stdin: TextIO | None = None) -> list[str]:
    """Tags from a file, or from standard input when `source` is `-`; LabError when unreadable."""
    limit = f"{MAX_TAG_LIST_BYTES // (1024 * 1024)} MiB"
    if str(source) == "-":
        text = (stdin or sys.stdin).read(MAX_TAG_LIST_BYTES + 1)
        if len(text) > MAX_TAG_LIST_BYTES:
            raise LabError(f"tags on standard input exceed {limit}", hint="pass one tag per line")
        return _parse(text, "standard input")
    path = Path(source).expanduser()
    try:
        data = read_regular(path, MAX_TAG_LIST_BYTES)
    except FileNotFoundError:
        raise LabError(
            f"tags file {source} not found", hint="pass an existing file, or - for stdin"
        ) from None
    except IsADirectoryError:
        raise LabError(
            f"tags file {source} is a directory", hint="pass a file with one tag per line"
        ) from None
    except OSError as err:
        raise LabError(
            f"cannot read tags file {source}: {err.strerror}",
            hint="pass a regular file with one tag per line",
        ) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise LabError(f"tags file {source} is not UTF-8 text", hint="one tag per line, plain text") from None
    return _parse(text, str(source))


def _parse(text: str, name: str) -> list[str]:
    try:
        return parse_tag_list(text)
    except TagListLineError as err:
        raise UsageError(
            f'{name}:{err.lineno}: "{one_line(err.line, limit=80)}" is not an image tag',
            hint="one tag per line ([A-Za-z0-9_][A-Za-z0-9._-]{0,127}, as `lab tags` writes); # starts a comment",
        ) from None
