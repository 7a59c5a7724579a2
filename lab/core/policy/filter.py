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


def pattern_fix(code: str, expr: str) -> str:
    """What to change in a `filterTags.pattern` Go's regexp refuses with `code` at `expr` (its error's
    two parts): the concrete edit, where "a Go regular expression" says nothing of which."""
    fixes = {
        "missing closing )": "close the group with ')' (a literal parenthesis is written \\()",
        "unexpected )": "remove the extra ')' or open its group with '(' (a literal one is written \\))",
        "missing closing ]": "close the character class with ']' (a literal bracket is written \\[)",
        "invalid or unsupported Perl syntax": f"RE2 has no look-around or back-references (`{expr}`): match "
        "the tags to keep instead, e.g. ^main-[a-f0-9]+-(?P<ts>[0-9]+)$, and name groups (?P<name>...)",
        "invalid named capture": f"`{expr}`: name a group (?P<name>...), the name of letters, digits and _",
        "invalid repeat count": f"`{expr}`: a count is {{n}}, {{n,}} or {{n,m}} with n <= m <= 1000",
        "invalid nested repetition operator": f"`{expr}` repeats a repetition: keep one operator, or group "
        "the repeated part first, e.g. ([0-9]+)*",
        "missing argument to repetition operator": f"`{expr}` repeats nothing: escape it (\\{expr[:1]}) to "
        "match it literally",
        "invalid escape sequence": f"`{expr}` is no escape RE2 knows: drop the backslash, or write \\\\ "
        "for a literal one",
        "invalid character class range": f"`{expr}`: write a range low end first (e.g. [0-9a-f]), or put a "
        "literal '-' last in the class",
        "trailing backslash at end of expression": "remove the backslash at the end, or write \\\\ for a "
        "literal one",
    }
    return fixes.get(code, f"rewrite the pattern around `{expr}`: Go's regexp (RE2 syntax) refuses it")


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
