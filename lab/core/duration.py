"""Go durations as Flux reads and prints them.

Three different things are easy to confuse, so each has its own function:
- `parse_duration`: Go `time.ParseDuration` (what controllers and the flux CLI accept),
- `matches_crd_pattern`: the CRD OpenAPI pattern the API server enforces *before* Go ever sees the value
  (`1d`, `-5m`, `5` and `1us` are rejected there even though some parse in Go),
- `format_duration`: Go `Duration.String()`, which `flux create --export` writes (`5m` -> `5m0s`).
"""

from __future__ import annotations

import re

from lab.core.gostrconv import quote

NANOSECOND = 1
MICROSECOND = 1000 * NANOSECOND
MILLISECOND = 1000 * MICROSECOND
SECOND = 1000 * MILLISECOND
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE

_UNITS: dict[str, int] = {
    "ns": NANOSECOND,
    "us": MICROSECOND,
    "µs": MICROSECOND,  # U+00B5 micro sign
    "μs": MICROSECOND,  # U+03BC Greek mu
    "ms": MILLISECOND,
    "s": SECOND,
    "m": MINUTE,
    "h": HOUR,
}

_MAX = (1 << 63) - 1

#: `spec.interval` of ImageRepository, ImagePolicy and ImageUpdateAutomation (metav1.Duration pattern).
INTERVAL_PATTERN = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$"
#: ImageRepository `spec.timeout`: hours are not allowed by the CRD.
TIMEOUT_PATTERN = r"^([0-9]+(\.[0-9]+)?(ms|s|m))+$"


class DurationError(ValueError):
    """A string Go's `time.ParseDuration` rejects; the message is Go's own."""


def parse_duration(text: str) -> int:
    """Nanoseconds for `text`, exactly as Go's `time.ParseDuration` accepts it.

    Raises DurationError with Go's message, e.g. `time: unknown unit "d" in duration "1d"`.
    """
    orig = text
    s = text
    neg = False
    if s and s[0] in "+-":
        neg = s[0] == "-"
        s = s[1:]
    if s == "0":
        return 0
    if not s:
        raise DurationError(f"time: invalid duration {quote(orig)}")
    total = 0
    while s:
        if not (s[0] == "." or (s[0].isascii() and s[0].isdigit())):
            raise DurationError(f"time: invalid duration {quote(orig)}")
        i = 0
        while i < len(s) and s[i].isascii() and s[i].isdigit():
            i += 1
        pre = i > 0
        # More than int64's 19 digits overflows as in Go's leadingInt (and Python's int() refuses 4301).
        significant = s[:i].lstrip("0")
        if len(significant) > 19:
            raise DurationError(f"time: invalid duration {quote(orig)}")
        whole = int(significant or "0")
        if whole > _MAX + 1:
            raise DurationError(f"time: invalid duration {quote(orig)}")
        s = s[i:]
        frac = 0
        scale = 1.0
        post = False
        if s and s[0] == ".":
            s = s[1:]
            j = 0
            overflow = False
            # Go's leadingFraction: digits beyond int64 precision are consumed but ignored.
            while j < len(s) and s[j].isascii() and s[j].isdigit():
                if not overflow:
                    if frac > _MAX // 10:
                        overflow = True
                    else:
                        nxt = frac * 10 + int(s[j])
                        if nxt > 1 << 63:
                            overflow = True
                        else:
                            frac = nxt
                            scale *= 10
                j += 1
            post = j > 0
            s = s[j:]
        if not pre and not post:
            raise DurationError(f"time: invalid duration {quote(orig)}")
        k = 0
        while k < len(s) and not (s[k] == "." or (s[k].isascii() and s[k].isdigit())):
            k += 1
        if k == 0:
            raise DurationError(f"time: missing unit in duration {quote(orig)}")
        unit_name, s = s[:k], s[k:]
        unit = _UNITS.get(unit_name)
        if unit is None:
            raise DurationError(f"time: unknown unit {quote(unit_name)} in duration {quote(orig)}")
        if whole > (1 << 63) // unit:
            raise DurationError(f"time: invalid duration {quote(orig)}")
        value = whole * unit
        if frac > 0:
            value += int(float(frac) * (float(unit) / scale))
            if value > 1 << 63:
                raise DurationError(f"time: invalid duration {quote(orig)}")
        total += value
        if total > 1 << 63:
            raise DurationError(f"time: invalid duration {quote(orig)}")
    if neg:
        return -total
    if total > _MAX:
        raise DurationError(f"time: invalid duration {quote(orig)}")
    return total


def _fmt_frac(v: int, prec: int) -> tuple[str, int]:
    digits = []
    printed = False
    for _ in range(prec):
        digit = v % 10
        printed = printed or digit != 0
        if printed:
            digits.append(str(digit))
        v //= 10
    text = "." + "".join(reversed(digits)) if printed else ""
    return text, v


def format_duration(ns: int) -> str:
    """Go's `time.Duration.String()`: `300000000000` -> `5m0s`, `1500000` -> `1.5ms`, `0` -> `0s`."""
    if ns == 0:
        return "0s"
    neg = ns < 0
    u = -ns if neg else ns
    if u < SECOND:
        if u < MICROSECOND:
            out = f"{u}ns"
        elif u < MILLISECOND:
            frac, whole = _fmt_frac(u, 3)
            out = f"{whole}{frac}µs"
        else:
            frac, whole = _fmt_frac(u, 6)
            out = f"{whole}{frac}ms"
    else:
        frac, secs = _fmt_frac(u, 9)
        out = f"{secs % 60}{frac}s"
        minutes = secs // 60
        if minutes > 0:
            out = f"{minutes % 60}m{out}"
            hours = minutes // 60
            if hours > 0:
                out = f"{hours}h{out}"
    return "-" + out if neg else out


def normalize(text: str) -> str:
    """`5m` -> `5m0s`, as `flux create --export` writes an interval. Raises DurationError."""
    return format_duration(parse_duration(text))


def matches_crd_pattern(text: str, *, allow_hours: bool = True) -> bool:
    """Whether the API server's CRD pattern accepts `text` (interval pattern, or timeout without hours)."""
    # Compiled on first use (re's cache): most commands check one of the two, or neither.
    return re.fullmatch(INTERVAL_PATTERN if allow_hours else TIMEOUT_PATTERN, text) is not None


def check_interval(text: str, *, allow_hours: bool = True) -> str | None:
    """None if the API server and Go both accept `text`, else a one-line reason for a learner."""
    pattern = INTERVAL_PATTERN if allow_hours else TIMEOUT_PATTERN
    if not matches_crd_pattern(text, allow_hours=allow_hours):
        units = "ms, s, m or h" if allow_hours else "ms, s or m (no h)"
        reason = f"'{text}' does not match the CRD pattern {pattern}: use numbers with units {units}"
        if re.fullmatch(r"[0-9]+(\.[0-9]+)?d", text):
            days = float(text[:-1])
            reason += f" (days are not a unit; {days * 24:g}h)"
        elif re.fullmatch(r"[0-9]+", text):
            reason += f" (a bare number has no unit; e.g. {text}m)"
        return reason
    try:
        parse_duration(text)
    except DurationError as err:  # overflow: the pattern allows digits Go cannot hold
        return str(err)
    return None
