"""The numerical policy (IRC `policy/numerical.go`) and Go's `strconv.ParseFloat(s, 64)`."""

from __future__ import annotations

import math
from collections.abc import Sequence

ASC = "ASC"
DESC = "DESC"


class PolicyFailure(Exception):
    """The policy ran and failed (Ready=False reason `Failure`); `str()` is Flux's message."""


def normalize_order(order: str) -> str:
    """The controller upper-cases `order`; empty means ASC. Raises ValueError with Flux's text."""
    # Go's strings.ToUpper maps rune by rune (simple case mapping): `ß` stays `ß`, not `SS`.
    upper = "".join(c.upper() if len(c.upper()) == 1 else c for c in order)
    if upper == "":
        return ASC
    if upper not in (ASC, DESC):
        raise ValueError(f"invalid order argument provided: '{upper}', must be one of: {ASC}, {DESC}")
    return upper


def _underscore_ok(s: str) -> bool:
    # strconv.underscoreOK: `_` only between digits, or between a base prefix and a digit.
    saw = "^"
    i = 0
    if s[:1] in ("+", "-"):
        s = s[1:]
    hexa = False
    if len(s) >= 2 and s[0] == "0" and s[1].lower() in "box":
        i, saw, hexa = 2, "0", s[1].lower() == "x"
    while i < len(s):
        c = s[i]
        if (c.isdigit() and c.isascii()) or (hexa and c.lower() in "abcdef"):
            saw = "0"
        elif c == "_":
            if saw != "0":
                return False
            saw = "_"
        else:
            if saw == "_":
                return False
            saw = "!"
        i += 1
    return saw != "_"


def _special(s: str) -> float | None:
    body = s[1:] if s[:1] in "+-" else s
    sign = -1.0 if s.startswith("-") else 1.0
    if body.lower() in ("inf", "infinity"):
        return math.copysign(math.inf, sign)
    if s.lower() == "nan":  # Go accepts no sign before NaN
        return math.nan
    return None


def _well_formed(s: str) -> bool:
    """strconv.readFloat consumed all of s."""
    i = 1 if s[:1] in "+-" else 0
    hexa = len(s) > i + 2 and s[i] == "0" and s[i + 1] in "xX"
    if hexa:
        i += 2
    digits = "0123456789abcdefABCDEF" if hexa else "0123456789"
    saw_dot = saw_digits = False
    while i < len(s):
        c = s[i]
        if c == "_":
            pass
        elif c == ".":
            if saw_dot:
                break
            saw_dot = True
        elif c in digits:
            saw_digits = True
        else:
            break
        i += 1
    if not saw_digits:
        return False
    if i < len(s) and s[i].lower() == ("p" if hexa else "e"):
        i += 1
        if i < len(s) and s[i] in "+-":
            i += 1
        if i >= len(s) or not "0" <= s[i] <= "9":
            return False
        while i < len(s) and ("0" <= s[i] <= "9" or s[i] == "_"):
            i += 1
    elif hexa:
        return False  # a hex mantissa needs a `p` exponent
    return i == len(s) and ("_" not in s or _underscore_ok(s))


def parse_go_float(s: str) -> float:
    """Go `strconv.ParseFloat(s, 64)`; raises ValueError where Go returns an error (syntax or range)."""
    if not s:
        raise ValueError("invalid syntax")
    special = _special(s)
    if special is not None:
        return special
    if not _well_formed(s):
        raise ValueError("invalid syntax")
    clean = s.replace("_", "")
    body = clean.lstrip("+-")
    if body[:2].lower() == "0x":
        try:
            value = float.fromhex(("-" if clean.startswith("-") else "") + body)
        except OverflowError:
            raise ValueError("value out of range") from None
    else:
        value = float(clean)
    if math.isinf(value):
        raise ValueError("value out of range")
    return value


def latest_numerical(order: str, versions: Sequence[str]) -> str:
    """IRC `Numerical.Latest`: one unparsable value fails the policy; on ties the later value wins."""
    if not versions:
        raise PolicyFailure("version list argument cannot be empty")
    latest = ""
    previous = 0.0
    for i, version in enumerate(versions):
        try:
            current = parse_go_float(version)
        except ValueError:
            raise PolicyFailure(f"failed to parse invalid numeric value '{version}'") from None
        if i > 0 and ((order == ASC and current < previous) or (order == DESC and current > previous)):
            continue
        latest, previous = version, current
    return latest
