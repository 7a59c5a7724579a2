"""Go time.ParseDuration / Duration.String() and the CRD pattern (cases from Go's own time tests)."""

from __future__ import annotations

import pytest

from lab.core.duration import (
    HOUR,
    MICROSECOND,
    MILLISECOND,
    MINUTE,
    SECOND,
    DurationError,
    check_interval,
    format_duration,
    matches_crd_pattern,
    normalize,
    parse_duration,
)

PARSE_OK = [
    ("0", 0),
    ("5s", 5 * SECOND),
    ("30s", 30 * SECOND),
    ("1478s", 1478 * SECOND),
    ("-5s", -5 * SECOND),
    ("+5s", 5 * SECOND),
    ("-0", 0),
    ("+0", 0),
    ("5.0s", 5 * SECOND),
    ("5.6s", 5 * SECOND + 600 * MILLISECOND),
    ("5.s", 5 * SECOND),
    (".5s", SECOND // 2),
    ("1.004s", SECOND + 4 * MILLISECOND),
    ("100.00100s", 100 * SECOND + MILLISECOND),
    ("10ns", 10),
    ("11us", 11 * MICROSECOND),
    ("12µs", 12 * MICROSECOND),
    ("12μs", 12 * MICROSECOND),
    ("13ms", 13 * MILLISECOND),
    ("15m", 15 * MINUTE),
    ("16h", 16 * HOUR),
    ("3h30m", 3 * HOUR + 30 * MINUTE),
    ("10.5s4m", 4 * MINUTE + 10 * SECOND + 500 * MILLISECOND),
    ("-2m3.4s", -(2 * MINUTE + 3 * SECOND + 400 * MILLISECOND)),
    ("1h2m3s4ms5us6ns", HOUR + 2 * MINUTE + 3 * SECOND + 4 * MILLISECOND + 5 * MICROSECOND + 6),
    ("39h9m14.425s", 39 * HOUR + 9 * MINUTE + 14 * SECOND + 425 * MILLISECOND),
    ("52763797000ns", 52763797000),
    ("0.3333333333333333333h", 20 * MINUTE),
    ("9007199254740993ns", (1 << 53) + 1),
    ("9223372036854775807ns", (1 << 63) - 1),
    ("9223372036854775.807us", (1 << 63) - 1),
    ("9223372036s854ms775us807ns", (1 << 63) - 1),
    ("-9223372036854775808ns", -(1 << 63)),
    ("-9223372036854775.808us", -(1 << 63)),
    ("0.100000000000000000000h", 6 * MINUTE),
    ("0.830103483285477580700h", 49 * MINUTE + 48 * SECOND + 372539827),
]


@pytest.mark.parametrize(("text", "ns"), PARSE_OK)
def test_parse_duration_matches_go(text: str, ns: int) -> None:
    assert parse_duration(text) == ns


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", 'time: invalid duration ""'),
        ("3", 'time: missing unit in duration "3"'),
        ("-", 'time: invalid duration "-"'),
        ("s", 'time: invalid duration "s"'),
        (".", 'time: invalid duration "."'),
        ("-.", 'time: invalid duration "-."'),
        (".s", 'time: invalid duration ".s"'),
        ("+.s", 'time: invalid duration "+.s"'),
        ("1d", 'time: unknown unit "d" in duration "1d"'),
        ("5 m", 'time: unknown unit " m" in duration "5 m"'),
        # strconv.Quote, as Go prints it: a tab and a control byte are escaped, not pasted raw.
        ("5\tm", 'time: unknown unit "\\tm" in duration "5\\tm"'),
        ("\x01", 'time: invalid duration "\\x01"'),
        ("9223372036854775808ns", 'time: invalid duration "9223372036854775808ns"'),
        ("9223372036854775.808us", 'time: invalid duration "9223372036854775.808us"'),
        ("9223372036854ms775us808ns", 'time: invalid duration "9223372036854ms775us808ns"'),
        ("-9223372036854775809ns", 'time: invalid duration "-9223372036854775809ns"'),
    ],
)
def test_parse_duration_errors_are_gos(text: str, message: str) -> None:
    with pytest.raises(DurationError) as info:
        parse_duration(text)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("ns", "text"),
    [
        (0, "0s"),
        (1, "1ns"),
        (1100, "1.1µs"),
        (2200 * MICROSECOND, "2.2ms"),
        (3300 * MILLISECOND, "3.3s"),
        (4 * MINUTE + 5 * SECOND, "4m5s"),
        (4 * MINUTE + 5001 * MILLISECOND, "4m5.001s"),
        (5 * HOUR + 6 * MINUTE + 7001 * MILLISECOND, "5h6m7.001s"),
        (8 * MINUTE + 1, "8m0.000000001s"),
        ((1 << 63) - 1, "2562047h47m16.854775807s"),
        (-(1 << 63), "-2562047h47m16.854775808s"),
        (5 * MINUTE, "5m0s"),
        (HOUR, "1h0m0s"),
    ],
)
def test_format_duration_matches_go(ns: int, text: str) -> None:
    assert format_duration(ns) == text


@pytest.mark.parametrize(
    ("typed", "flux"), [("5m", "5m0s"), ("10m", "10m0s"), ("1h", "1h0m0s"), ("90s", "1m30s")]
)
def test_normalize_is_what_flux_create_export_prints(typed: str, flux: str) -> None:
    assert normalize(typed) == flux


@pytest.mark.parametrize(
    ("text", "interval_ok", "timeout_ok"),
    [
        ("5m", True, True),
        ("1h30m", True, False),
        ("1.5h", True, False),
        ("500ms", True, True),
        ("1d", False, False),
        ("-5m", False, False),
        ("5", False, False),
        ("1us", False, False),
        ("0", False, False),
        ("5m0s", True, True),
    ],
)
def test_crd_pattern_is_stricter_than_go(text: str, interval_ok: bool, timeout_ok: bool) -> None:
    assert matches_crd_pattern(text) is interval_ok
    assert matches_crd_pattern(text, allow_hours=False) is timeout_ok


def test_check_interval_explains() -> None:
    assert check_interval("5m") is None
    days = check_interval("1d")
    assert days is not None and "24h" in days
    bare = check_interval("5")
    assert bare is not None and "5m" in bare
    timeout = check_interval("1h", allow_hours=False)
    assert timeout is not None and "no h" in timeout
    huge = check_interval("9999999999999999999h")
    assert huge is not None and huge.startswith("time: invalid duration")


@pytest.mark.parametrize("digits", ["1" * 4301, "9" * 20, "1" * 100_000], ids=["4301", "20", "100000"])
def test_a_number_of_any_length_overflows_as_in_go(digits: str) -> None:
    """Go's leadingInt stops at int64 nanoseconds: any longer number is "invalid duration", never an
    error of Python's int() (which refuses more than 4300 digits)."""
    with pytest.raises(DurationError) as err:
        parse_duration(f"{digits}m")
    assert str(err.value) == f'time: invalid duration "{digits}m"'


def test_leading_zeros_do_not_overflow() -> None:
    assert parse_duration("0" * 5000 + "1m") == 60 * 10**9
