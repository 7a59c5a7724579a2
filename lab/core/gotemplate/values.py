"""Go values as the template engine sees them, and Go's `fmt` printing of them.

Python stands in for Go types: `str` is `string`, `int` is `int`, `Int64` is `int64`, `float` is `float64`,
`bool` is `bool`, a plain `list` is `[]interface {}`, a plain `dict` is `map[string]interface {}` and `None`
is the invalid/nil value. Typed Go containers and structs carry their Go type name because Go's error messages
quote it (`can't evaluate field Foo in type source.TemplateData`).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import field
from typing import Any

from lab.core.record import dataclass


class Int64(int):
    """Go `int64` (sprig's arithmetic returns it; Go refuses it where an `int` is expected)."""


@dataclass
class GoSlice:
    """A typed Go slice such as `[]update.Change` or `[]string`."""

    type_name: str
    items: list[Any] = field(default_factory=list)


@dataclass
class GoMap:
    """A typed Go map such as `map[string]string` or `update.ObjectChanges`."""

    type_name: str
    items: dict[Any, Any] = field(default_factory=dict)
    key_type: str = "string"
    elem_type: str = "interface {}"

    def zero_elem(self) -> Any:
        """What `index` returns for a missing key: the element type's zero value."""
        return zero_value(self.elem_type)


def zero_value(go_type: str) -> Any:
    if go_type == "string":
        return ""
    if go_type in ("int", "int8", "int16", "int32", "uint", "uint8", "uint16", "uint32", "uint64"):
        return 0
    if go_type == "int64":
        return Int64(0)
    if go_type in ("float64", "float32"):
        return 0.0
    if go_type == "bool":
        return False
    if go_type.startswith("[]"):
        return GoSlice(go_type)
    return None


@dataclass(frozen=True)
class GoMethod:
    """A method or function callable from a template, with Go parameter types for argument checking.

    Parameter type names: `string`, `int`, `int64`, `float64`, `bool`, `any` (interface{}), `value`
    (reflect.Value: anything, including no value), `map` (map[string]interface {}), `list` ([]interface {}).
    """

    name: str
    fn: Callable[..., Any]
    params: tuple[str, ...] = ()
    variadic: str | None = None
    returns_error: bool = False


class GoStruct:
    """Base for Go structs exposed to templates.

    Subclasses set `go_type` and implement `go_fields()` (ordered; `embedded` names promote their fields) and
    optionally `go_methods()` and `go_string()` (a `String()` method, which fmt prefers).
    """

    go_type = "struct"
    embedded: frozenset[str] = frozenset()
    unexported: frozenset[str] = frozenset()

    def go_fields(self) -> list[tuple[str, Any]]:
        return []

    def go_methods(self) -> dict[str, GoMethod]:
        return {}

    def go_string(self) -> str | None:
        return None

    def go_json(self) -> Any:
        """What `encoding/json` would marshal: struct fields by name unless a subclass says otherwise."""
        out: dict[str, Any] = {}
        for name, value in self.go_fields():
            if name in self.unexported:
                continue
            if name in self.embedded and isinstance(value, GoStruct):
                inner = value.go_json()
                if isinstance(inner, dict):
                    for k, v in inner.items():
                        out.setdefault(k, v)
                    continue
            out[name] = to_json_value(value)
        return out

    def lookup_field(self, name: str) -> tuple[bool, Any]:
        """Go's FieldByName: direct fields first, then promoted fields of embedded structs (breadth first)."""
        level: list[GoStruct] = [self]
        while level:
            nxt: list[GoStruct] = []
            for st in level:
                for fname, value in st.go_fields():
                    if fname == name:
                        return True, value
                for fname, value in st.go_fields():
                    if fname in st.embedded and isinstance(value, GoStruct):
                        nxt.append(value)
            level = nxt
        return False, None

    def is_unexported(self, name: str) -> bool:
        return name in self.unexported

    def lookup_method(self, name: str) -> GoMethod | None:
        methods = self.go_methods()
        if name in methods:
            return methods[name]
        for fname, value in self.go_fields():
            if fname in self.embedded and isinstance(value, GoStruct):
                found = value.lookup_method(name)
                if found is not None:
                    return found
        return None

    def sort_key(self) -> tuple[Any, ...]:
        return tuple(sort_key(v) for _, v in self.go_fields())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, GoStruct) or other.go_type != self.go_type:
            return NotImplemented
        return self.go_fields() == other.go_fields()

    def __hash__(self) -> int:
        return hash((self.go_type, self.sort_key()))


# --- type names ---------------------------------------------------------------------------------------------


# Go's type names and reflect kinds of the values a template sees, most specific type first (a Python bool is an
# int); GoSlice, GoMap and GoStruct name their own types.
_GO_TYPES: tuple[tuple[type, str, str], ...] = (
    (type(None), "<nil>", "invalid"),
    (bool, "bool", "bool"),
    (Int64, "int64", "int"),
    (int, "int", "int"),
    (float, "float64", "float"),
    (str, "string", "string"),
    (list, "[]interface {}", "slice"),
    (dict, "map[string]interface {}", "map"),
    (GoMethod, "func", "func"),
)


def type_name(v: Any) -> str:
    if isinstance(v, GoSlice | GoMap):
        return v.type_name
    if isinstance(v, GoStruct):
        return v.go_type
    return next((name for t, name, _ in _GO_TYPES if isinstance(v, t)), type(v).__name__)


def kind(v: Any) -> str:
    """reflect.Kind, reduced to what the engine distinguishes."""
    if isinstance(v, GoSlice):
        return "slice"
    if isinstance(v, GoMap):
        return "map"
    if isinstance(v, GoStruct):
        return "struct"
    return next((k for t, _, k in _GO_TYPES if isinstance(v, t)), "func")


def items_of(v: Any) -> list[Any]:
    if isinstance(v, GoSlice):
        return v.items
    if isinstance(v, list):
        return v
    raise TypeError(type_name(v))


def map_items(v: Any) -> dict[Any, Any]:
    if isinstance(v, GoMap):
        return v.items
    if isinstance(v, dict):
        return v
    raise TypeError(type_name(v))


def sorted_map_keys(m: dict[Any, Any]) -> list[Any]:
    """internal/fmtsort order: the order `range` and fmt use for maps."""
    return sorted(m.keys(), key=sort_key)


def sort_key(v: Any) -> Any:
    if v is None:
        return (0,)
    if isinstance(v, bool):
        return (1, v)
    if isinstance(v, int | float):
        return (2, v)
    if isinstance(v, str):
        return (3, v.encode("utf-8", "surrogatepass"))
    if isinstance(v, GoStruct):
        return (4, v.sort_key())
    return (5, repr(v))


def truth(v: Any) -> bool:
    """text/template isTrue: the zero value of its type is false; structs are always true."""
    if v is None:
        return False
    if isinstance(v, bool):
        return v
    if isinstance(v, int | float):
        return v != 0
    if isinstance(v, str):
        return len(v) > 0
    if isinstance(v, GoSlice | GoMap):
        return len(v.items) > 0
    if isinstance(v, list | dict):
        return len(v) > 0
    return True


def length(v: Any) -> int | None:
    if isinstance(v, str):
        return len(v.encode("utf-8", "surrogatepass"))
    if isinstance(v, GoSlice | GoMap):
        return len(v.items)
    if isinstance(v, list | dict):
        return len(v)
    return None


# --- fmt ----------------------------------------------------------------------------------------------------


def format_float(f: float, verb: str = "g", prec: int = -1) -> str:
    """strconv.FormatFloat for the verbs fmt uses by default (%v is 'g' with the shortest representation)."""
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "+Inf" if f > 0 else "-Inf"
    if verb in "fF":
        if prec < 0:
            return _shortest_fixed(f)
        return f"{f:.{prec}f}"
    if verb in "eE":
        if prec < 0:
            digits, exp = _shortest_digits(f)
            mant = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
            s = f"{'-' if f < 0 or (f == 0 and math.copysign(1, f) < 0) else ''}{mant}e{exp:+03d}"
        else:
            s = f"{f:.{prec}e}"
        return s.upper() if verb == "E" else s
    # 'g'
    if prec >= 0:
        s = f"{f:.{prec if prec else 1}g}"
        return s.upper() if verb == "G" else s
    if f == 0:
        return "-0" if math.copysign(1, f) < 0 else "0"
    digits, exp = _shortest_digits(f)
    sign = "-" if f < 0 else ""
    # strconv: with the shortest representation, %e is used when the exponent is < -4 or >= 6.
    if exp < -4 or exp >= 6:
        mant = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        s = f"{sign}{mant}e{exp:+03d}"
    elif exp >= 0:
        if len(digits) <= exp + 1:
            s = sign + digits + "0" * (exp + 1 - len(digits))
        else:
            s = sign + digits[: exp + 1] + "." + digits[exp + 1 :]
    else:
        s = sign + "0." + "0" * (-exp - 1) + digits
    return s.upper() if verb == "G" else s


def _shortest_fixed(f: float) -> str:
    """strconv.FormatFloat(f, 'f', -1, 64): shortest round-trip digits, never an exponent."""
    if f == 0:
        return "-0" if math.copysign(1, f) < 0 else "0"
    digits, exp = _shortest_digits(f)
    sign = "-" if f < 0 else ""
    if exp < 0:
        return sign + "0." + "0" * (-exp - 1) + digits
    if len(digits) <= exp + 1:
        return sign + digits + "0" * (exp + 1 - len(digits))
    return sign + digits[: exp + 1] + "." + digits[exp + 1 :]


def _json_float(f: float) -> str:
    """encoding/json's float text: fixed notation, exponent only below 1e-6 or from 1e21 (`1e-7`, `1e+21`)."""
    if math.isnan(f) or math.isinf(f):
        raise ValueError(f"json: unsupported value: {format_float(f)}")
    a = abs(f)
    if a != 0 and (a < 1e-6 or a >= 1e21):
        s = format_float(f, "e")
        return re.sub(r"e([+-])0(\d)$", r"e\1\2", s)
    return _shortest_fixed(f)


def _shortest_digits(f: float) -> tuple[str, int]:
    """Shortest round-trip decimal digits and the decimal exponent of the first digit."""
    r = repr(abs(f))
    if "e" in r:
        mant, e = r.split("e")
        exp = int(e)
    else:
        mant, exp = r, 0
    if "." in mant:
        ip, fp = mant.split(".")
    else:
        ip, fp = mant, ""
    if fp == "0":
        fp = ""
    digits = (ip + fp).lstrip("0")
    lead_zeros = len(ip + fp) - len((ip + fp).lstrip("0"))
    exp = exp + len(ip) - 1 - lead_zeros
    digits = digits.rstrip("0") or "0"
    return digits, exp


def print_collection(v: Any, each: Callable[[Any], str]) -> str | None:
    """fmt's `[a b]` for a slice and `map[k:v ...]` for a map (keys in fmt's order), each element printed
    by `each`; None for any other value."""
    if isinstance(v, GoSlice | list):
        return "[" + " ".join(each(x) for x in items_of(v)) + "]"
    if isinstance(v, GoMap | dict):
        m = map_items(v)
        return "map[" + " ".join(f"{each(k)}:{each(m[k])}" for k in sorted_map_keys(m)) + "]"
    return None


def sprint_value(v: Any, verb: str = "v", depth: int = 0) -> str:
    """fmt's %v (and %s/%d applied element-wise inside composites)."""
    if v is None:
        return "<nil>"
    if isinstance(v, GoStruct):
        s = v.go_string()
        if s is not None and verb in "vs":
            return s
        parts = [sprint_value(val, verb, depth + 1) for _, val in v.go_fields()]
        return "{" + " ".join(parts) + "}"
    listed = print_collection(v, lambda x: sprint_value(x, verb, depth + 1))
    if listed is not None:
        return listed
    if verb in "vs":
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, str):
            return v
        if isinstance(v, int):
            return str(int(v)) if verb == "v" else f"%!s({type_name(v)}={int(v)})"
        if isinstance(v, float):
            return format_float(v) if verb == "v" else f"%!s(float64={format_float(v)})"
    if verb == "d":
        if isinstance(v, int) and not isinstance(v, bool):
            return str(int(v))
        return bad_verb("d", v)
    if isinstance(v, GoMethod):
        return "0x1"
    return str(v)


def bad_verb(verb: str, v: Any) -> str:
    if v is None:
        return f"%!{verb}(<nil>)"
    return f"%!{verb}({type_name(v)}={sprint_value(v)})"


def fmt_sprint(args: Sequence[Any]) -> str:
    """fmt.Sprint: spaces between operands when neither side is a string."""
    out: list[str] = []
    prev_string = False
    for i, a in enumerate(args):
        is_string = isinstance(a, str)
        if i > 0 and not is_string and not prev_string:
            out.append(" ")
        out.append(sprint_value(a))
        prev_string = is_string
    return "".join(out)


def fmt_sprintln(args: Sequence[Any]) -> str:
    return " ".join(sprint_value(a) for a in args) + "\n"


def to_string(v: Any) -> str:
    """sprig's strval: strings as they are, Stringers via String(), everything else %v."""
    if isinstance(v, str):
        return v
    if isinstance(v, GoStruct):
        s = v.go_string()
        if s is not None:
            return s
    return sprint_value(v)


def to_json_value(v: Any) -> Any:
    if v is None or isinstance(v, bool | str):
        return v
    if isinstance(v, int):
        return int(v)
    if isinstance(v, float):
        return v
    if isinstance(v, GoStruct):
        return v.go_json()
    if isinstance(v, GoSlice | list):
        return [to_json_value(x) for x in items_of(v)]
    if isinstance(v, GoMap | dict):
        m = map_items(v)
        if not all(isinstance(k, str | int) for k in m):
            raise ValueError(f"json: unsupported type: {type_name(v)}")
        return {str(k): to_json_value(m[k]) for k in sorted(m, key=str)}
    raise ValueError(f"json: unsupported type: {type_name(v)}")


def go_json_dumps(v: Any, *, indent: bool = False, escape_html: bool = True) -> str:
    """encoding/json.Marshal (MarshalIndent with two spaces): sorted map keys, Go's number and string forms."""
    text = _json_encode(to_json_value(v), "\n" if indent else "", "  " if indent else "")
    if escape_html:
        # Only strings can hold these characters, so a textual replace escapes exactly what Go escapes.
        text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def _json_encode(v: Any, nl: str, ind: str, depth: int = 0) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return _json_float(v)
    if isinstance(v, str):
        return json.dumps(v.encode("utf-8", "surrogateescape").decode("utf-8", "replace"), ensure_ascii=False)
    inner = nl + ind * (depth + 1) if nl else ""
    close = nl + ind * depth if nl else ""
    colon = ": " if nl else ":"
    if isinstance(v, list):
        if not v:
            return "[]"
        return "[" + ",".join(inner + _json_encode(x, nl, ind, depth + 1) for x in v) + close + "]"
    if isinstance(v, dict):
        if not v:
            return "{}"
        parts = [
            inner + _json_encode(k, nl, ind) + colon + _json_encode(x, nl, ind, depth + 1)
            for k, x in v.items()
        ]
        return "{" + ",".join(parts) + close + "}"
    raise ValueError(f"json: unsupported type: {type_name(v)}")


def iter_range(v: Any) -> Iterator[tuple[Any, Any]]:
    """(index or key, element) pairs in the order Go's `range` visits them."""
    if isinstance(v, GoSlice | list):
        yield from enumerate(items_of(v))
    elif isinstance(v, GoMap | dict):
        m = map_items(v)
        for k in sorted_map_keys(m):
            yield k, m[k]
