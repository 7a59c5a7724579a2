"""Version parsing, precedence and Masterminds v3.5 ranges."""

from __future__ import annotations

import pytest

from lab.core.semver import (
    ConstraintError,
    InvalidVersion,
    new_constraint,
    new_version,
    parse_unless_prerelease,
    parse_version,
    try_parse_version,
)


@pytest.mark.parametrize(
    ("tag", "parts"),
    [
        ("1.2.3", (1, 2, 3, "", "")),
        ("v1.2.3", (1, 2, 3, "", "")),
        ("2025.02.03", (2025, 2, 3, "", "")),
        ("1.2.3-rc.1+build.5", (1, 2, 3, "rc.1", "build.5")),
        ("1.2-rc.1.3", (1, 2, 0, "rc.1.3", "")),
        ("1.25.5-alpine3.18-slim", (1, 25, 5, "alpine3.18-slim", "")),
        ("18446744073709551615.0.0", (2**64 - 1, 0, 0, "", "")),
    ],
)
def test_parse_version_accepts(tag: str, parts: tuple[int, int, int, str, str]) -> None:
    v = parse_version(tag)
    assert (v.major, v.minor, v.patch, v.pre, v.metadata) == parts
    assert v.original == tag


@pytest.mark.parametrize(
    "tag",
    ["1.25", "1", "latest", "1.2.3.4", "V1.2.3", "1.2.3-rc.01", "1.2.3-", "1.2.3+", "vv1.2.3", "1.2.3\n",
     "18446744073709551616.0.0", " 1.2.3", "1.2.3-a..b", "mainline", "1.25-alpine"],
)  # fmt: skip
def test_parse_version_rejects(tag: str) -> None:
    assert try_parse_version(tag) is None
    with pytest.raises(InvalidVersion):
        parse_version(tag)


def test_new_version_coerces_partial_versions() -> None:
    # The constraint side uses NewVersion without Flux's three-part rule.
    assert str(new_version("1")) == "1.0.0"
    assert str(new_version("v1.2")) == "1.2.0"


def test_leading_zero_prerelease_message() -> None:
    with pytest.raises(InvalidVersion, match="version segment starts with 0"):
        new_version("1.2.3-01")


ORDERED = [
    "1.0.0-0", "1.0.0-1", "1.0.0-2", "1.0.0-10", "1.0.0-RC", "1.0.0-alpha", "1.0.0-alpha.1",
    "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1",
    "1.1.0", "1.10.0", "2.0.0",
]  # fmt: skip


def test_precedence_total_order() -> None:
    versions = [parse_version(t) for t in ORDERED]
    for i, a in enumerate(versions):
        for j, b in enumerate(versions):
            assert a.compare(b) == (i > j) - (i < j), (a.original, b.original)


def test_build_metadata_and_v_prefix_do_not_change_precedence() -> None:
    assert parse_version("1.2.3+build.5").compare(parse_version("1.2.3+build.10")) == 0
    assert parse_version("v1.2.3").compare(parse_version("1.2.3")) == 0


def test_prerelease_number_beyond_uint64_compares_as_text() -> None:
    big = parse_version("1.0.0-18446744073709551616")
    assert big.compare(parse_version("1.0.0-alpha")) == -1  # "1..." < "alpha" bytewise
    assert big.compare(parse_version("1.0.0-5")) == 1  # numeric < alphanumeric


def check(rng: str, tag: str) -> bool:
    return new_constraint(rng).check(parse_version(tag))


@pytest.mark.parametrize(
    ("rng", "yes", "no"),
    [
        ("1.2.3", ["1.2.3", "v1.2.3", "1.2.3+b"], ["1.2.4", "1.2.3-rc.1"]),
        ("=1.2", ["1.2.0", "1.2.9"], ["1.3.0", "1.1.9"]),
        ("1.x", ["1.0.0", "1.99.0"], ["2.0.0", "0.9.0"]),
        ("*", ["0.0.0", "9.9.9"], ["1.0.0-rc.1"]),
        ("!=1.2.x", ["1.1.0", "1.3.0"], ["1.2.5"]),
        (">1.1", ["1.2.0"], ["1.1.9"]),
        (">11", ["12.0.0"], ["11.9.9"]),
        ("<=1", ["1.9.9"], ["2.0.0"]),
        ("<1.2", ["1.1.9"], ["1.2.0"]),
        ("=>1.2.3", ["1.2.3"], ["1.2.2"]),
        ("=<1.2.3", ["1.2.3"], ["1.2.4"]),
        ("~1.2.3", ["1.2.3", "1.2.9"], ["1.3.0", "1.2.2"]),
        ("~>1.2", ["1.2.0", "1.2.9"], ["1.3.0"]),
        ("~1", ["1.0.0", "1.9.0"], ["2.0.0"]),
        ("^1.2.3", ["1.2.3", "1.9.0"], ["2.0.0", "1.2.2"]),
        ("^0.2.3", ["0.2.3", "0.2.9"], ["0.3.0"]),
        ("^0.0.3", ["0.0.3"], ["0.0.4"]),
        ("^0.0", ["0.0.9"], ["0.1.0"]),
        ("^0", ["0.9.9"], ["1.0.0"]),
        ("1.2 - 1.4.5", ["1.2.0", "1.4.5"], ["1.4.6", "1.1.9"]),
        ("1.2 - 1.4", ["1.4.9"], ["1.5.0"]),
        (">=1.0.0 <2.0.0", ["1.5.0"], ["2.0.0"]),
        (">=1.0.0,<2.0.0", ["1.5.0"], ["2.0.0"]),
        (">=1.0.0, <2.0.0", ["1.5.0"], ["2.0.0"]),
        ("1.25.x || 1.27.x", ["1.25.1", "1.27.0"], ["1.26.0"]),
        ("v1.2.x", ["1.2.5", "v1.2.5"], ["1.3.0"]),
        ("1.25.x-0", ["1.25.5-alpine", "1.25.5"], ["1.26.0-alpine"]),
    ],
)
def test_ranges(rng: str, yes: list[str], no: list[str]) -> None:
    for tag in yes:
        assert check(rng, tag), (rng, tag)
    for tag in no:
        assert not check(rng, tag), (rng, tag)


def test_prerelease_in_one_constraint_opens_the_whole_group() -> None:
    # Masterminds >= 3.4: the group's other constraints then accept prereleases too.
    assert check(">=1.25.0-0 <1.26.0", "1.26.0-alpine")
    # ...but not the other side of an OR.
    assert not check("1.25.x-0 || 1.27.x", "1.27.1-alpine")
    assert check("1.25.x-0 || 1.27.x", "1.25.1-alpine")


@pytest.mark.parametrize(
    ("rng", "message"),
    [
        ("latest", 'improper constraint: "latest"'),
        ("", 'improper constraint: ""'),
        ("1.0.0p", 'improper constraint: "1.0.0p"'),
        (">= bar", 'improper constraint: ">= bar"'),
        ("1.2.3.4", 'improper constraint: "1.2.3.4"'),
        ("1.x || nope", 'improper constraint: " nope"'),
        ("1x", "constraint parser error"),
        ("x1", "constraint parser error"),
        ("v1.2.3-beta.01", "constraint parser error"),
        ('1 "2"', 'improper constraint: "1 \\"2\\""'),
    ],
)
def test_invalid_ranges(rng: str, message: str) -> None:
    with pytest.raises(ConstraintError) as err:
        new_constraint(rng)
    assert str(err.value) == message


def test_go_quote() -> None:
    from lab.core.gostrconv import quote as go_quote

    assert go_quote('a"b\\c\n\x01é') == '"a\\"b\\\\c\\n\\x01é"'


def test_hostile_whitespace_does_not_hang() -> None:
    # Masterminds' validity regexp backtracks exponentially on this in a naive port.
    text = "1" + "    1" * 30 + " !"
    with pytest.raises(ConstraintError):
        new_constraint(text)


def test_constraints_string_round_trip() -> None:
    assert str(new_constraint(">=1.0 <2 || ~3")) == ">=1.0 <2 || ~3"


@pytest.mark.parametrize(
    "tag",
    [
        "1.2.3",
        "v1.2.3+build.7",
        "1.2.3-rc.1",
        "1.2.3-alpine.0",
        "1.2.3-rc.01",  # leading zero: not a version
        "1.2.3-01",
        "1.2",
        "1.2.x",
        "1.2.3-",
        "00001.2.3-rc.1",
        "1.2.3-" + "a" * 30,
        "18446744073709551616.0.0-rc.1",  # uint64 overflow behind a prerelease: not a version
        "18446744073709551615.0.0-rc.1",
        "1.2.3-18446744073709551616",
    ],
)
def test_parse_unless_prerelease_agrees_with_try_parse_version(tag: str) -> None:
    full = try_parse_version(tag)
    quick = parse_unless_prerelease(tag)
    if full is None:
        assert quick is None
    elif full.pre and len(tag) < 20:
        assert quick is True
    else:
        assert quick == full
