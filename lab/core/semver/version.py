"""Versions as Flux reads image tags: fluxcd/pkg `version.ParseVersion` over Masterminds `NewVersion`.

Masterminds/semver v3.5 coerces by default (`CoerceNewVersion = true`): an optional `v`, missing minor or
patch, and leading zeros in the numeric segments are accepted; prerelease identifiers that are numbers
must not start with 0. Flux additionally ignores tags that do not split into three parts on dots.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

UINT64_MAX = 2**64 - 1

# Masterminds `looseSemVerRegex`, anchored as Go's `^...$` (no trailing-newline leeway: fullmatch).
_LOOSE = re.compile(
    r"v?([0-9]+)(\.[0-9]+)?(\.[0-9]+)?"
    r"(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?"
    r"(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?"
)

PreKey = tuple[tuple[int, int | str], ...]


class InvalidVersion(ValueError):
    """Not a version; `str()` is Masterminds' error text."""


def _prerelease_key(pre: str) -> PreKey:
    # comparePrePart: a part that ParseUint accepts is numeric and sorts below any alphanumeric part.
    key: list[tuple[int, int | str]] = []
    for part in pre.split("."):
        if part.isdigit() and part.isascii() and int(part) <= UINT64_MAX:
            key.append((0, int(part)))
        else:
            key.append((1, part))
    return tuple(key)


@dataclass(frozen=True, slots=True)
class Version:
    """A parsed version; `original` is the text it came from (Masterminds `Original()`)."""

    major: int
    minor: int
    patch: int
    pre: str = ""
    metadata: str = ""
    original: str = ""
    key: tuple[int, int, int, int, PreKey] = field(default=(0, 0, 0, 1, ()), compare=False, repr=False)

    def __str__(self) -> str:
        text = f"{self.major}.{self.minor}.{self.patch}"
        if self.pre:
            text += f"-{self.pre}"
        if self.metadata:
            text += f"+{self.metadata}"
        return text

    def compare(self, other: Version) -> int:
        """Semver precedence: -1, 0 or 1; build metadata is ignored."""
        return (self.key > other.key) - (self.key < other.key)


def make_version(major: int, minor: int, patch: int, pre: str, metadata: str, original: str) -> Version:
    key = (major, minor, patch, 0, _prerelease_key(pre)) if pre else (major, minor, patch, 1, ())
    return Version(major, minor, patch, pre, metadata, original, key)


def _validate_prerelease(pre: str) -> None:
    for part in pre.split("."):
        if len(part) > 1 and part[0] == "0" and part.isdigit():
            raise InvalidVersion("version segment starts with 0")


def _segment(text: str | None) -> int:
    if not text:
        return 0
    digits = text.lstrip(".")
    value = int(digits)
    if value > UINT64_MAX:
        raise InvalidVersion(
            f'error parsing version segment: strconv.ParseUint: parsing "{digits}": value out of range'
        )
    return value


def new_version(text: str) -> Version:
    """Masterminds `NewVersion` with coercion (v3.5 default)."""
    m = _LOOSE.fullmatch(text)
    if m is None:
        raise InvalidVersion("invalid semantic version")
    major = _segment(m.group(1))
    minor = _segment(m.group(2))
    patch = _segment(m.group(3))
    pre = m.group(5) or ""
    if pre:
        _validate_prerelease(pre)
    return make_version(major, minor, patch, pre, m.group(8) or "", text)


def parse_version(tag: str) -> Version:
    """fluxcd/pkg `version.ParseVersion`: three dot-separated parts, then `new_version`."""
    if tag.count(".") < 2:
        raise InvalidVersion("invalid semantic version")
    return new_version(tag)


def try_parse_version(tag: str) -> Version | None:
    """`parse_version`, or None for a tag the semver policy ignores."""
    try:
        return parse_version(tag)
    except InvalidVersion:
        return None
