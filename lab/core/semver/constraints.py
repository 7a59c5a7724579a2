"""Masterminds/semver v3.5 constraints (`NewConstraint`, `Check`), ported rule for rule.

The regular expressions are Masterminds' own; Python's backtracking engine picks the same matches as
Go's leftmost-first engine for them. A differential run against the real Masterminds source under Go
(12,000 random ranges, 25 tags each) found no difference; tests/core/test_semver_golden.py keeps a sample. `\\s` is spelled `[\\t\\n\\f\\r ]` because Go's `\\s` excludes `\\v`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import field

from lab.core.gostrconv import quote as go_quote
from lab.core.record import dataclass
from lab.core.semver.version import InvalidVersion, Version, new_version

# Go regexp `\s`, which Masterminds' patterns use: tab, newline, form feed, carriage return, space.
_WHITESPACE = "\t\n\f\r "
_S = f"[{_WHITESPACE}]"
_OPS = r"=||!=|>|<|>=|=>|<=|=<|~|~>|\^"
_CV = (
    r"v?([0-9|x|X|\*]+)(\.[0-9|x|X|\*]+)?(\.[0-9|x|X|\*]+)?"
    r"(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?"
    r"(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?"
)
# Compiled on first use (re's cache), by the ranges that have a hyphen between whitespace (`rewrite_range`).
_RANGE = rf"{_S}*({_CV}){_S}+-{_S}+({_CV}){_S}*"
# One comparison. Matched in full against a comparison stripped of whitespace, it is also Masterminds'
# constraintRegex `^\s*(op)\s*(cv)\s*$` with the same groups (neither an operator nor a version holds
# whitespace): one pattern compiled at start-up instead of two.
_FIND = re.compile(rf"({_OPS}){_S}*({_CV})")
# Same language as Masterminds' validConstraintRegex
#   ^(\s*(op)\s*(cv)\s*)((?:\s+|,\s*)(op)\s*(cv)\s*)*$
# rewritten with possessive whitespace so hostile input cannot make it backtrack exponentially.
_ITEM = rf"(?:{_OPS}){_S}*+(?:{_CV})"
_VALID = re.compile(rf"{_S}*+{_ITEM}(?:(?:{_S}++|{_S}*+,{_S}*+){_ITEM})*{_S}*+")


class ConstraintError(ValueError):
    """A range Masterminds rejects; `str()` is its error text."""


def _is_x(text: str) -> bool:
    return text in ("x", "X", "*")


@dataclass(frozen=True, slots=True)
class Constraint:
    """One comparison such as `>=1.2` (Masterminds `constraint`)."""

    op: str
    orig: str
    con: Version
    dirty: bool
    minor_dirty: bool
    patch_dirty: bool
    test: Callable[[Version, Constraint], bool] = field(compare=False, repr=False)

    def __str__(self) -> str:
        return self.op + self.orig

    def check(self, v: Version, include_pre: bool) -> bool:
        if v.pre and not include_pre:
            return False
        return _OPS_FUNCS[self.op](v, self)


def _not_equal(v: Version, c: Constraint) -> bool:
    if c.dirty:
        if c.con.major != v.major:
            return True
        if c.con.minor != v.minor and not c.minor_dirty:
            return True
        if c.minor_dirty:
            return False
        if c.con.patch != v.patch and not c.patch_dirty:
            return True
        if c.patch_dirty:
            if v.pre or c.con.pre:
                # comparePrerelease is 0 only for equal strings: numeric parts have no leading zeros.
                return v.pre != c.con.pre
            return False
    return v.key != c.con.key


def _greater_than(v: Version, c: Constraint) -> bool:
    if not c.dirty:
        return v.key > c.con.key
    if v.major > c.con.major:
        return True
    if v.major < c.con.major or c.minor_dirty:
        return False
    if c.patch_dirty:
        return v.minor > c.con.minor
    return v.key > c.con.key


def _less_than(v: Version, c: Constraint) -> bool:
    return v.key < c.con.key


def _greater_equal(v: Version, c: Constraint) -> bool:
    return v.key >= c.con.key


def _less_equal(v: Version, c: Constraint) -> bool:
    if not c.dirty:
        return v.key <= c.con.key
    if v.major > c.con.major:
        return False
    return not (v.major == c.con.major and v.minor > c.con.minor and not c.minor_dirty)


def _tilde(v: Version, c: Constraint) -> bool:
    if v.key < c.con.key:
        return False
    con = c.con
    if con.major == 0 and con.minor == 0 and con.patch == 0 and not c.minor_dirty and not c.patch_dirty:
        return True
    if v.major != con.major:
        return False
    return not (v.minor != con.minor and not c.minor_dirty)


def _tilde_or_equal(v: Version, c: Constraint) -> bool:
    if c.dirty:
        return _tilde(v, c)
    return v.key == c.con.key


def _caret(v: Version, c: Constraint) -> bool:
    if v.key < c.con.key:
        return False
    con = c.con
    if con.major > 0 or c.minor_dirty:
        return v.major == con.major
    if v.major > 0:
        return False
    if con.minor > 0 or c.patch_dirty:
        return v.minor == con.minor
    if v.minor > 0:
        return False
    return con.patch == v.patch


_OPS_FUNCS: dict[str, Callable[[Version, Constraint], bool]] = {
    "": _tilde_or_equal,
    "=": _tilde_or_equal,
    "!=": _not_equal,
    ">": _greater_than,
    "<": _less_than,
    ">=": _greater_equal,
    "=>": _greater_equal,
    "<=": _less_equal,
    "=<": _less_equal,
    "~": _tilde,
    "~>": _tilde,
    "^": _caret,
}


def parse_constraint(text: str) -> Constraint:
    """Masterminds `parseConstraint` for one comparison (already split out of a range)."""
    m = _FIND.fullmatch(text.strip(_WHITESPACE))
    if m is None:
        raise ConstraintError(f"improper constraint: {go_quote(text)}")
    op, orig = m.group(1), m.group(2)
    major, minor, patch, pre = m.group(3), m.group(4) or "", m.group(5) or "", m.group(6) or ""
    ver = orig
    dirty = minor_dirty = patch_dirty = False
    if _is_x(major):
        ver, dirty = f"0.0.0{pre}", True
    elif _is_x(minor[1:]) or not minor:
        ver, dirty, minor_dirty = f"{major}.0.0{pre}", True, True
    elif _is_x(patch[1:]) or not patch:
        ver, dirty, patch_dirty = f"{major}{minor}.0{pre}", True, True
    try:
        con = new_version(ver)
    except InvalidVersion as err:
        raise ConstraintError("constraint parser error") from err
    return Constraint(op, orig, con, dirty, minor_dirty, patch_dirty, _OPS_FUNCS[op])


def rewrite_range(text: str) -> str:
    """Masterminds `rewriteRange`: `A - B` becomes `>= A, <= B `."""
    if not any(
        text[i - 1] in _WHITESPACE and text[i + 1] in _WHITESPACE
        for i in range(1, len(text) - 1)
        if text[i] == "-"
    ):
        return text  # no hyphen range, and no need to compile the pattern (most ranges)
    out = text
    for m in re.finditer(_RANGE, text):
        out = out.replace(m.group(0), f">= {m.group(1)}, <= {m.group(11)} ", 1)
    return out


@dataclass(frozen=True, slots=True)
class Constraints:
    """A parsed range: OR of AND-groups. A group admits prereleases if any member names one."""

    text: str
    groups: tuple[tuple[Constraint, ...], ...]
    group_has_pre: tuple[bool, ...]

    def check(self, v: Version) -> bool:
        pre = v.pre
        for group, include_pre in zip(self.groups, self.group_has_pre, strict=True):
            if pre and not include_pre:
                continue
            for c in group:
                if not c.test(v, c):
                    break
            else:
                return True
        return False

    def __str__(self) -> str:
        return " || ".join(" ".join(str(c) for c in group) for group in self.groups)


def new_constraint(text: str) -> Constraints:
    """Masterminds `NewConstraint`; raises ConstraintError with its exact message."""
    rewritten = rewrite_range(text)
    groups: list[tuple[Constraint, ...]] = []
    has_pre: list[bool] = []
    for part in rewritten.split("||"):
        if not _VALID.fullmatch(part):
            raise ConstraintError(f"improper constraint: {go_quote(part)}")
        found: Sequence[str] = [m.group(0) for m in _FIND.finditer(part)] or [part]
        parsed = tuple(parse_constraint(s) for s in found)
        groups.append(parsed)
        has_pre.append(any(c.con.pre for c in parsed))
    return Constraints(text, tuple(groups), tuple(has_pre))
