"""Versions as Flux reads image tags: fluxcd/pkg `version.ParseVersion` over Masterminds `NewVersion`.

Masterminds/semver v3.5 coerces by default (`CoerceNewVersion = true`): an optional `v`, missing minor or
patch, and leading zeros in the numeric segments are accepted; prerelease identifiers that are numbers
must not start with 0. Flux additionally ignores tags that do not split into three parts on dots.
"""

from __future__ import annotations

import re
from typing import Literal

UINT64_MAX = 2**64 - 1

# Masterminds `looseSemVerRegex`, anchored as Go's `^...$` (no trailing-newline leeway: fullmatch).
# The dots of minor and patch are left out of the groups; the language is unchanged.
_LOOSE = re.compile(
    r"v?([0-9]+)(?:\.([0-9]+))?(?:\.([0-9]+))?"
    r"(?:-([0-9A-Za-z\-]+(?:\.[0-9A-Za-z\-]+)*))?"
    r"(?:\+([0-9A-Za-z\-]+(?:\.[0-9A-Za-z\-]+)*))?"
)

# A numeric prerelease identifier with a leading zero (validatePrerelease).
_LEADING_ZERO = re.compile(r"(?:^|\.)0[0-9]+(?:\.|$)")

PreKey = tuple[tuple[int, int | str], ...]
Key = tuple[int, int, int, int, PreKey]


class InvalidVersion(ValueError):
    """Not a version; `str()` is Masterminds' error text."""


class Version:
    """A parsed version; `original` is the text it came from (Masterminds `Original()`).

    Treat as immutable. A plain slotted class because the semver policy builds one per tag and a
    frozen dataclass costs four times as much to construct. `key` orders by semver precedence.
    """

    __slots__ = ("_key", "major", "metadata", "minor", "original", "patch", "pre")

    def __init__(
        self, major: int, minor: int, patch: int, pre: str = "", metadata: str = "", original: str = ""
    ) -> None:
        self.major = major
        self.minor = minor
        self.patch = patch
        self.pre = pre
        self.metadata = metadata
        self.original = original or _render(major, minor, patch, pre, metadata)
        # The prerelease part of the key is built on first use: most prerelease tags are rejected
        # by the range before any comparison.
        self._key: Key | None = None if pre else (major, minor, patch, 1, ())

    @property
    def key(self) -> Key:
        """Sort key in semver precedence (build metadata ignored)."""
        key = self._key
        if key is None:
            key = self._key = (self.major, self.minor, self.patch, 0, _prerelease_key(self.pre))
        return key

    def __str__(self) -> str:
        return _render(self.major, self.minor, self.patch, self.pre, self.metadata)

    def __repr__(self) -> str:
        return f"Version({self.original!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return (self.key, self.metadata, self.original) == (other.key, other.metadata, other.original)

    def __hash__(self) -> int:
        return hash((self.key, self.metadata, self.original))

    def compare(self, other: Version) -> int:
        """Semver precedence: -1, 0 or 1; build metadata is ignored."""
        return (self.key > other.key) - (self.key < other.key)


def _render(major: int, minor: int, patch: int, pre: str, metadata: str) -> str:
    text = f"{major}.{minor}.{patch}"
    if pre:
        text += f"-{pre}"
    if metadata:
        text += f"+{metadata}"
    return text


def _prerelease_key(pre: str) -> PreKey:
    # comparePrePart: a part that ParseUint accepts is numeric and sorts below any alphanumeric part;
    # a number too big for uint64 is compared as text. Leading zeros were rejected when parsing.
    key: list[tuple[int, int | str]] = []
    for part in pre.split("."):
        # len <= 20 first: int() of a part over 4,300 digits raises (Python's conversion limit).
        if part.isdigit() and (len(part) < 20 or (len(part) == 20 and int(part) <= UINT64_MAX)):
            key.append((0, int(part)))
        else:
            key.append((1, part))
    return tuple(key)


def segment(digits: str) -> int:
    """A version number as Masterminds reads it (strconv.ParseUint); InvalidVersion when out of range."""
    # Leading zeros are coerced away; more than 20 significant digits cannot fit, and int() of over
    # 4,300 digits would raise Python's conversion-limit error instead of Go's range error.
    significant = digits.lstrip("0")
    value = int(significant or "0") if len(significant) <= 20 else UINT64_MAX + 1
    if value > UINT64_MAX:
        raise InvalidVersion(
            f'error parsing version segment: strconv.ParseUint: parsing "{digits}": value out of range'
        )
    return value


def _from_match(m: re.Match[str], text: str) -> Version:
    major, minor, patch, pre, metadata = m.groups("")
    if pre and _LEADING_ZERO.search(pre):
        raise InvalidVersion("version segment starts with 0")
    if len(text) < 20 or (len(major) < 20 and len(minor) < 20 and len(patch) < 20):  # no uint64 overflow
        return Version(int(major), int(minor or 0), int(patch or 0), pre, metadata, text)
    return Version(
        segment(major), segment(minor) if minor else 0, segment(patch) if patch else 0, pre, metadata, text
    )


def parse_unless_prerelease(tag: str) -> Version | Literal[True] | None:
    """`try_parse_version`, except that a valid prerelease answers True instead of a Version: for a
    range that admits no prerelease (the common case) only whether such a tag parses matters, and
    not building its Version halves the semver policy's time over a large scan."""
    if tag.count(".") < 2:
        return None
    m = _LOOSE.fullmatch(tag)
    if m is None:
        return None
    pre = m.group(4)
    if not pre or len(tag) >= 20:
        try:
            return _from_match(m, tag)  # rare long tags: the full checks, uint64 overflow included
        except InvalidVersion:
            return None
    return None if _LEADING_ZERO.search(pre) else True


def new_version(text: str) -> Version:
    """Masterminds `NewVersion` with coercion (v3.5 default)."""
    m = _LOOSE.fullmatch(text)
    if m is None:
        raise InvalidVersion("invalid semantic version")
    return _from_match(m, text)


def parse_version(tag: str) -> Version:
    """fluxcd/pkg `version.ParseVersion`: three dot-separated parts, then `new_version`."""
    if tag.count(".") < 2:
        raise InvalidVersion("invalid semantic version")
    return new_version(tag)


def try_parse_version(tag: str) -> Version | None:
    """`parse_version`, or None for a tag the semver policy ignores."""
    if tag.count(".") < 2:
        return None
    m = _LOOSE.fullmatch(tag)
    if m is None:
        return None
    try:
        return _from_match(m, tag)
    except InvalidVersion:
        return None
