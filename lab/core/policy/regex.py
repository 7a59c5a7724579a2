"""Go `regexp` (RE2) patterns evaluated with Python's `re`: preliminary version."""

from __future__ import annotations

import re
from dataclasses import dataclass


class RegexSyntaxError(ValueError):
    """A pattern Go's `regexp.Compile` rejects; `str()` is Go's error text."""


@dataclass(frozen=True)
class GoRegexp:
    pattern: str
    compiled: re.Pattern[str]
    group_names: tuple[str, ...]

    def search(self, text: str) -> re.Match[str] | None:
        return self.compiled.search(text)


def compile_go(pattern: str) -> GoRegexp:
    try:
        compiled = re.compile(pattern, re.ASCII)
    except re.error as err:
        raise RegexSyntaxError(f"error parsing regexp: {err.msg}: `{pattern}`") from err
    names = [""] * (compiled.groups + 1)
    for name, index in compiled.groupindex.items():
        names[index] = name
    return GoRegexp(pattern, compiled, tuple(names))
