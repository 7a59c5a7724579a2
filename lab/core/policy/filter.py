"""`spec.filterTags` (IRC `policy/filter.go`): keep matching tags, optionally extract a value."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from lab.core.record import dataclass

if TYPE_CHECKING:
    from lab.core.policy.regex import GoRegexp


class InvalidFilter(ValueError):
    """The pattern does not compile; `str()` is Flux's `invalid regular expression pattern ...`."""


def compile_filter(pattern: str) -> GoRegexp:
    # The regex engine loads only for a policy that has filterTags (most have none).
    from lab.core.policy.regex import RegexSyntaxError, compile_go

    try:
        return compile_go(pattern)
    except RegexSyntaxError as err:
        raise InvalidFilter(f"invalid regular expression pattern '{pattern}': {err}") from None


@dataclass(frozen=True)
class FilterResult:
    """Candidates in evaluation order; `original[value]` is the tag a candidate came from."""

    values: tuple[str, ...]
    original: dict[str, str]
    unmatched: int
    collapsed: int


def apply_filter(regexp: GoRegexp, extract: str, tags: Sequence[str]) -> FilterResult:
    """Flux keeps candidates in a map value -> tag: a later tag with the same value replaces the
    earlier one. Go's map order is random; stored order is used here so results are reproducible."""
    original: dict[str, str] = {}
    unmatched = collapsed = 0
    for tag in tags:
        if not extract:
            if not regexp.matches(tag):
                unmatched += 1
                continue
            value = tag
        else:
            match = regexp.search(tag)
            if match is None:
                unmatched += 1
                continue
            value = regexp.expand(extract, match)
        if value in original:
            collapsed += 1
        original[value] = tag
    return FilterResult(tuple(original), original, unmatched, collapsed)
