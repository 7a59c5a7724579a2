"""Implicit scalar typing as Flux's YAML libraries do it.

Two resolvers matter: go.yaml.in/yaml/v3 (`resolve_v3`) decides whether an edited value's tag can be
left implicit when the file is written, and yaml.v2 (YAML 1.1 words such as `yes`/`on`) decides in
kyaml's `IsValueNonString` whether a new value must be double-quoted to stay a string.
"""

from __future__ import annotations

import re

LONG_PREFIX = "tag:yaml.org,2002:"
_SHORT = (
    "!!null",
    "!!bool",
    "!!str",
    "!!int",
    "!!float",
    "!!timestamp",
    "!!seq",
    "!!map",
    "!!binary",
    "!!merge",
)

_COMMON = {
    "": "!!null",
    "~": "!!null",
    "null": "!!null",
    "Null": "!!null",
    "NULL": "!!null",
    "true": "!!bool",
    "True": "!!bool",
    "TRUE": "!!bool",
    "false": "!!bool",
    "False": "!!bool",
    "FALSE": "!!bool",
    ".nan": "!!float",
    ".NaN": "!!float",
    ".NAN": "!!float",
    ".inf": "!!float",
    ".Inf": "!!float",
    ".INF": "!!float",
    "+.inf": "!!float",
    "+.Inf": "!!float",
    "+.INF": "!!float",
    "-.inf": "!!float",
    "-.Inf": "!!float",
    "-.INF": "!!float",
}
_YAML11_WORDS = {
    w: "!!bool"
    for w in [
        "y",
        "Y",
        "yes",
        "Yes",
        "YES",
        "on",
        "On",
        "ON",
        "n",
        "N",
        "no",
        "No",
        "NO",
        "off",
        "Off",
        "OFF",
    ]
}
_V2_MAP = {**_COMMON, **_YAML11_WORDS}

_YAML_STYLE_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
_GO_DEC_FLOAT = re.compile(
    r"^[-+]?(([0-9](_?[0-9])*)?\.?[0-9](_?[0-9])*|[0-9](_?[0-9])*\.)([eE][-+]?[0-9]+)?$"
)
_GO_SPECIAL_FLOAT = re.compile(r"^[-+]?(inf|infinity|nan)$", re.IGNORECASE)
_GO_HEX_FLOAT = re.compile(r"^[-+]?0[xX]([0-9a-fA-F]*\.?[0-9a-fA-F]*)[pP][-+]?[0-9]+$")
_TIMESTAMP = re.compile(
    r"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}"
    r"(([Tt]|\s+)[0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2}(\.[0-9]+)?(\s*(Z|[-+][0-9]{1,2}(:[0-9]{2})?))?)?$"
)
_INT64_MIN, _INT64_MAX, _UINT64_MAX = -(1 << 63), (1 << 63) - 1, (1 << 64) - 1


def short_tag(tag: str) -> str:
    if tag.startswith(LONG_PREFIX):
        return "!!" + tag[len(LONG_PREFIX) :]
    return tag


def long_tag(tag: str) -> str:
    if tag.startswith("!!"):
        return LONG_PREFIX + tag[2:]
    return tag


def _go_parse_float(s: str) -> bool:
    return bool(_GO_DEC_FLOAT.match(s) or _GO_SPECIAL_FLOAT.match(s) or _GO_HEX_FLOAT.match(s))


def _go_parse_int(s: str, base: int) -> bool:
    """strconv.ParseInt/ParseUint acceptance (range checked against uint64/int64)."""
    body = s
    neg = False
    if body[:1] in "+-" and body:
        neg = body[0] == "-"
        body = body[1:]
    if not body:
        return False
    if base == 0:
        low = body.lower()
        if low.startswith("0x"):
            base, body = 16, body[2:]
        elif low.startswith("0o"):
            base, body = 8, body[2:]
        elif low.startswith("0b"):
            base, body = 2, body[2:]
        elif body.startswith("0") and len(body) > 1:
            base, body = 8, body[1:]
        else:
            base = 10
    if not body:
        return False
    try:
        v = int(body, base)
    except ValueError:
        return False
    if "_" in body or body.strip() != body:
        return False
    v = -v if neg else v
    return _INT64_MIN <= v <= _UINT64_MAX


def _resolve(value: str, table: dict[str, str], *, timestamps: bool = True) -> str:
    hint = value[:1]
    if value and hint not in "+-0123456789yYnNtTfFoO~.":
        return "!!str"
    if value in table:
        return table[value]
    if hint == "" or hint in "yYnNtTfFoO~":
        return "!!str"
    if hint == ".":
        return "!!float" if _go_parse_float(value) else "!!str"
    if hint.isdigit() or hint in "+-":
        if timestamps and _TIMESTAMP.match(value):
            return "!!timestamp"
        plain = value.replace("_", "")
        if _go_parse_int(plain, 0):
            return "!!int"
        if _YAML_STYLE_FLOAT.match(plain) and _go_parse_float(plain):
            return "!!float"
        for prefix, base in (("0b", 2), ("-0b", 2), ("0o", 8), ("-0o", 8)):
            if plain.startswith(prefix):
                digits = plain[len(prefix) :]
                if digits and _go_parse_int(("-" if prefix[0] == "-" else "") + digits, base):
                    return "!!int"
                break
    return "!!str"


def resolve_v3(value: str) -> str:
    """The short tag yaml.v3 gives a plain scalar."""
    return _resolve(value, _COMMON)


_STRUCTURE = re.compile(r"(^[-?:](\s|$))|(:\s)|(\s#)|^[\[{&*!|>'\"%@`#]")


def is_yaml11_non_string(value: str) -> bool:
    """kyaml `IsValueNonString`: would yaml.v2 decode `value` as something other than a string?"""
    if value == "" or "\n" in value:
        return False
    if _STRUCTURE.search(value):
        return _structured_non_string(value)
    tag = _resolve(value, _V2_MAP)
    # yaml.v2 hands timestamps to interface{} as strings.
    return tag not in ("!!str", "!!timestamp")


def _structured_non_string(value: str) -> bool:
    """Values with YAML syntax in them: parse the way a YAML 1.1 reader would, loosely."""
    from io import StringIO

    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    yaml = YAML(typ="safe", pure=True)
    yaml.version = (1, 1)  # type: ignore[assignment]
    try:
        loaded = yaml.load(StringIO(value))
    except (YAMLError, ValueError, TypeError):
        return False
    except Exception:
        return False
    return not isinstance(loaded, str)


__all__ = ["is_yaml11_non_string", "long_tag", "resolve_v3", "short_tag"]
