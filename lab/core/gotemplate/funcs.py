"""Go text/template builtins and sprig v3's hermetic function map (HermeticTxtFuncMap), as used by Flux.

Every name in sprig's hermetic map is *defined* (so templates parse as they would in Flux); the ones this
emulation does not implement (crypto, semver, dates) fail at execution with an explanation.
"""

from __future__ import annotations

import math
import posixpath
import re
import urllib.parse
from collections.abc import Callable, Sequence
from typing import Any

from lab.core import jsontext
from lab.core.gostrconv import quote as go_quote
from lab.core.gostrconv import quote_rune as go_quote_rune
from lab.core.gotemplate.exec import MAX_OUTPUT, GoFuncError
from lab.core.gotemplate.values import (
    GoMap,
    GoMethod,
    GoSlice,
    GoStruct,
    Int64,
    bad_verb,
    fmt_sprint,
    fmt_sprintln,
    format_float,
    go_json_dumps,
    items_of,
    kind,
    length,
    map_items,
    print_collection,
    sprint_value,
    to_string,
    truth,
    type_name,
)

# --- Go fmt.Sprintf -----------------------------------------------------------------------------------------


def _pad(s: str, width: int | None, minus: bool, zero: bool) -> str:
    if width is None or len(s) >= width:
        return s
    fill = width - len(s)
    if minus:
        return s + " " * fill
    if zero:
        sign = s[0] if s[:1] in ("+", "-") else ""
        body = s[len(sign) :]
        return sign + "0" * fill + body
    return " " * fill + s


def _fmt_int(v: int, verb: str, flags: str, prec: int | None) -> str:
    neg = v < 0
    a = -v if neg else v
    if verb in ("d", "v"):
        digits = str(a)
    elif verb == "x":
        digits = format(a, "x")
    elif verb == "X":
        digits = format(a, "X")
    elif verb == "o" or verb == "O":
        digits = format(a, "o")
    elif verb == "b":
        digits = format(a, "b")
    else:
        digits = str(a)
    if prec is not None:
        digits = digits.rjust(prec, "0") if prec > 0 or a != 0 else ""
    prefix = ""
    if "#" in flags:
        prefix = {"x": "0x", "X": "0X", "o": "0", "b": "0b"}.get(verb, "")
        if verb == "o" and digits.startswith("0"):
            prefix = ""
    if verb == "O":
        prefix = "0o"
    sign = "-" if neg else ("+" if "+" in flags else (" " if " " in flags else ""))
    return sign + prefix + digits


def _fmt_one(arg: Any, verb: str, flags: str, width: int | None, prec: int | None) -> str:
    minus = "-" in flags
    zero = "0" in flags and not minus
    if verb == "T":
        return _pad(type_name(arg) if arg is not None else "<nil>", width, minus, False)
    if arg is None:
        if verb == "v":
            return _pad("<nil>", width, minus, False)
        return bad_verb(verb, None)
    if isinstance(arg, GoStruct):
        s = arg.go_string()
        if s is not None and verb in "vsxXq":
            return _fmt_one(s, verb, flags, width, prec)
        parts = [_fmt_one(val, verb, flags, width, prec) for _, val in arg.go_fields()]
        return "{" + " ".join(parts) + "}"
    listed = print_collection(arg, lambda x: _fmt_one(x, verb, flags, width, prec))
    if listed is not None:
        return listed
    if isinstance(arg, bool):
        if verb in "tv":
            return _pad("true" if arg else "false", width, minus, False)
        return bad_verb(verb, arg)
    if isinstance(arg, int):
        if verb in "dvxXobO":
            s = _fmt_int(int(arg), verb, flags, prec)
            return _pad(s, width, minus, zero and prec is None)
        if verb == "c":
            return _pad(chr(int(arg)) if 0 <= arg <= 0x10FFFF else "\ufffd", width, minus, False)
        if verb == "q":
            return _pad(go_quote_rune(int(arg)), width, minus, False)
        if verb == "U":
            s = f"U+{int(arg):04X}"
            if "#" in flags and 0 <= arg <= 0x10FFFF:
                s += f" '{chr(int(arg))}'"
            return _pad(s, width, minus, False)
        if verb in "eEfFgG":
            return bad_verb(verb, arg)
        return bad_verb(verb, arg)
    if isinstance(arg, float):
        if verb in "vgGeEfF":
            v = "g" if verb == "v" else verb
            s = format_float(arg, v, -1 if prec is None and v in "gG" else (6 if prec is None else prec))
            if "+" in flags and not s.startswith("-"):
                s = "+" + s
            elif " " in flags and not s.startswith("-"):
                s = " " + s
            return _pad(s, width, minus, zero)
        return bad_verb(verb, arg)
    if isinstance(arg, str):
        if verb in "vs":
            s = arg if prec is None else arg[:prec]
            return _pad(s, width, minus, zero)
        if verb == "q":
            s = arg if prec is None else arg[:prec]
            if "#" in flags and "`" not in s and all(c == "\t" or c.isprintable() for c in s):
                q = "`" + s + "`"
            elif "+" in flags:
                q = go_quote(s).encode("ascii", "backslashreplace").decode("ascii")
            else:
                q = go_quote(s)
            return _pad(q, width, minus, zero)
        if verb in "xX":
            b = arg.encode("utf-8", "surrogateescape")
            if prec is not None:
                b = b[:prec]
            h = b.hex() if verb == "x" else b.hex().upper()
            pairs = [h[i : i + 2] for i in range(0, len(h), 2)]
            pre = ("0x" if verb == "x" else "0X") if "#" in flags else ""
            joined = pre + "".join(pairs) if pairs else ""
            s = " ".join(pre + x for x in pairs) if " " in flags else joined
            return _pad(s, width, minus, zero)
        return bad_verb(verb, arg)
    return bad_verb(verb, arg)


_FLAG_CHARS = "#0+- "


def _num_or_star(fmt: str, i: int, args: Sequence[Any], argi: int) -> tuple[int | None, bool, int, int]:
    """A width or precision at `i`: its digits (Go fmt's parsenum; None when there are none), or for `*` the
    next argument (intFromArg; `bad` when it is not an int). Returns (value, bad, i, argi) after it."""
    if i < len(fmt) and fmt[i] == "*":
        arg = args[argi] if argi < len(args) else None
        if isinstance(arg, int) and not isinstance(arg, bool):
            return int(arg), False, i + 1, argi + 1
        return None, True, i + 1, argi + 1
    start = i
    while i < len(fmt) and fmt[i].isdigit():
        i += 1
    return (int(fmt[start:i]) if i > start else None), False, i, argi


def go_sprintf(fmt: str, args: Sequence[Any]) -> str:
    """fmt.Sprintf for the verbs a commit message needs, with Go's %!verb(...) error forms."""
    out: list[str] = []
    argi = 0
    i = 0
    n = len(fmt)
    while i < n:
        c = fmt[i]
        if c != "%":
            j = fmt.find("%", i)
            j = n if j < 0 else j
            out.append(fmt[i:j])
            i = j
            continue
        i += 1
        flags = ""
        while i < n and fmt[i] in _FLAG_CHARS:
            flags += fmt[i]
            i += 1
        width, bad, i, argi = _num_or_star(fmt, i, args, argi)
        if bad:
            out.append("%!(BADWIDTH)")
        elif width is not None and width < 0:
            flags += "-"
            width = -width
        prec: int | None = None
        if i < n and fmt[i] == ".":
            prec, bad, i, argi = _num_or_star(fmt, i + 1, args, argi)
            if bad:
                out.append("%!(BADPREC)")
            elif prec is None:
                prec = 0
            elif prec < 0:
                prec = None
        if i >= n:
            out.append("%!(NOVERB)")
            break
        verb = fmt[i]
        i += 1
        if verb == "%":
            out.append("%")
            continue
        if argi >= len(args):
            out.append(f"%!{verb}(MISSING)")
            continue
        arg = args[argi]
        argi += 1
        out.append(_fmt_one(arg, verb, flags, width, prec))
    if argi < len(args):
        extra = ", ".join("<nil>" if a is None else f"{type_name(a)}={sprint_value(a)}" for a in args[argi:])
        out.append(f"%!(EXTRA {extra})")
    return "".join(out)


# --- Go builtins --------------------------------------------------------------------------------------------


def _basic_kind(v: Any) -> str:
    """text/template's basicKind: the reflect.Kind of a comparable scalar, "invalid" for anything else."""
    found = kind(v)
    return found if found in ("bool", "int", "float", "string") else "invalid"


def _eq(arg1: Any, *arg2: Any) -> bool:
    if not arg2:
        raise GoFuncError("missing argument for comparison")
    k1 = _basic_kind(arg1)
    for arg in arg2:
        k2 = _basic_kind(arg)
        if k1 != k2:
            if arg1 is not None and arg is not None:
                raise GoFuncError("incompatible types for comparison")
            truth_ = False
        elif k1 == "invalid":
            if arg1 is None or arg is None:
                truth_ = (arg1 is None) == (arg is None)
            elif isinstance(arg1, GoSlice | GoMap | list | dict) or isinstance(
                arg, GoSlice | GoMap | list | dict
            ):
                raise GoFuncError(f"non-comparable type {sprint_value(arg)}: {type_name(arg)}")
            else:
                truth_ = type_name(arg1) == type_name(arg) and arg1 == arg
        else:
            truth_ = arg1 == arg
        if truth_:
            return True
    return False


def _lt(a: Any, b: Any) -> bool:
    # Go's order: a kind that has no comparison at all, then two kinds that differ, then bool (which
    # has a kind, but no order): {{lt 1 false}} is "incompatible", {{lt false true}} "invalid type".
    k1, k2 = _basic_kind(a), _basic_kind(b)
    if k1 == "invalid" or k2 == "invalid":
        raise GoFuncError("invalid type for comparison")
    if k1 != k2:
        raise GoFuncError("incompatible types for comparison")
    if k1 == "bool":
        raise GoFuncError("invalid type for comparison")
    if k1 == "string":
        return bool(a.encode("utf-8", "surrogatepass") < b.encode("utf-8", "surrogatepass"))
    return bool(a < b)


def _le(a: Any, b: Any) -> bool:
    return _lt(a, b) or _eq(a, b)


def _index(item: Any, *indexes: Any) -> Any:
    if item is None:
        raise GoFuncError("index of untyped nil")
    for idx in indexes:
        if isinstance(item, GoSlice | list | str):
            if idx is None:
                raise GoFuncError("cannot index slice/array with nil")
            if not isinstance(idx, int) or isinstance(idx, bool):
                raise GoFuncError(f"cannot index slice/array with type {type_name(idx)}")
            seq: Any = item.encode("utf-8", "surrogatepass") if isinstance(item, str) else items_of(item)
            if idx < 0 or idx > len(seq):
                raise GoFuncError(f"index out of range: {idx}")
            if idx == len(seq):
                raise GoFuncError("reflect: slice index out of range")
            item = seq[idx]
        elif isinstance(item, GoMap | dict):
            key_type = item.key_type if isinstance(item, GoMap) else "string"
            if idx is None:
                raise GoFuncError(f"value is nil; should be of type {key_type}")
            if key_type == "string" and not isinstance(idx, str):
                raise GoFuncError(f"value has type {type_name(idx)}; should be {key_type}")
            if key_type != "string" and type_name(idx) != key_type:
                raise GoFuncError(f"value has type {type_name(idx)}; should be {key_type}")
            m = map_items(item)
            zero = item.zero_elem() if isinstance(item, GoMap) else None
            item = m.get(idx, zero)
        else:
            raise GoFuncError(f"can't index item of type {type_name(item)}")
    return item


def _len(item: Any) -> int:
    if item is None:
        raise GoFuncError("reflect: call of reflect.Value.Type on zero Value")
    n = length(item)
    if n is None:
        raise GoFuncError(f"len of type {type_name(item)}")
    return n


def _eval_args(args: Sequence[Any]) -> str:
    """evalArgs of html/js/urlquery: a lone string as is, else fmt.Sprint of printable values."""
    if len(args) == 1 and isinstance(args[0], str):
        return args[0]
    return fmt_sprint(["<no value>" if a is None else a for a in args])


# text/template's JSEscape: these characters by table, other control characters as \uXXXX.
_JS_ESCAPES = {
    "\\": "\\\\",
    "'": "\\'",
    '"': '\\"',
    "<": "\\u003C",
    ">": "\\u003E",
    "&": "\\u0026",
    "=": "\\u003D",
    "\t": "\\t",
    "\n": "\\n",
    "\r": "\\r",
}


def _js_escape(s: str) -> str:
    return "".join(_JS_ESCAPES.get(ch) or (f"\\u{ord(ch):04X}" if ord(ch) < 0x20 else ch) for ch in s)


def _html_escape(s: str) -> str:
    return (
        s.replace("\0", "\ufffd")
        .replace("&", "&amp;")
        .replace("'", "&#39;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&#34;")
    )


def _not_callable(name: str, fn: Any, *args: Any) -> Any:
    if fn is None:
        raise GoFuncError("call of nil")
    raise GoFuncError(f"non-function {name} of type {type_name(fn)}")


def _m(
    name: str, fn: Callable[..., Any], params: Sequence[str] = (), variadic: str | None = None
) -> GoMethod:
    return GoMethod(name, fn, tuple(params), variadic)


def _by_name(*methods: GoMethod) -> dict[str, GoMethod]:
    """A function map (Go's `template.FuncMap`): each function under its own name."""
    return {m.name: m for m in methods}


BUILTINS: dict[str, GoMethod] = _by_name(
    _m("and", lambda *a: a[-1], ["value"], "value"),
    _m("or", lambda *a: a[-1], ["value"], "value"),
    _m("not", lambda a: not truth(a), ["value"]),
    _m("len", _len, ["value"]),
    _m("index", _index, ["value"], "value"),
    _m("slice", lambda *a: a[0], ["value"], "value"),
    _m("print", lambda *a: fmt_sprint(a), [], "any"),
    _m("printf", lambda f, *a: go_sprintf(f, a), ["string"], "any"),
    _m("println", lambda *a: fmt_sprintln(a), [], "any"),
    _m("html", lambda *a: _html_escape(_eval_args(a)), [], "any"),
    _m("js", lambda *a: _js_escape(_eval_args(a)), [], "any"),
    _m("urlquery", lambda *a: urllib.parse.quote_plus(_eval_args(a)), [], "any"),
    _m("eq", _eq, ["value"], "value"),
    _m("ne", lambda a, b: not _eq(a, b), ["value", "value"]),
    _m("lt", _lt, ["value", "value"]),
    _m("le", _le, ["value", "value"]),
    _m("gt", lambda a, b: not _le(a, b), ["value", "value"]),
    _m("ge", lambda a, b: not _lt(a, b), ["value", "value"]),
    _m("call", lambda fn, *a: _not_callable("fn", fn, *a), ["value"], "value"),
)


# --- sprig --------------------------------------------------------------------------------------------------


def _to_int64(v: Any) -> int:
    """spf13/cast ToInt64 as sprig uses it: failures are 0."""
    if v is None:
        return 0
    if isinstance(v, bool):
        return 1 if v else 0
    if isinstance(v, int):
        return int(v)
    if isinstance(v, float):
        if math.isnan(v) or math.isinf(v):
            return 0
        return int(v)
    if isinstance(v, str):
        s = v.strip()
        if re.fullmatch(r"[+-]?\d+\.0*", s):
            s = s.split(".")[0]
        try:
            return int(s, 0) if not re.fullmatch(r"[+-]?0\d+", s) else int(s, 8)
        except ValueError:
            return 0
    return 0


def _to_float(v: Any) -> float:
    if v is None:
        return 0.0
    if isinstance(v, bool):
        return 1.0 if v else 0.0
    if isinstance(v, int | float):
        return float(v)
    if isinstance(v, str):
        try:
            return float(v)
        except ValueError:
            return 0.0
    return 0.0


def _strslice(v: Any) -> list[str]:
    if isinstance(v, GoSlice | list):
        return [to_string(x) for x in items_of(v) if x is not None]
    if v is None:
        return []
    return [to_string(v)]


def _empty(v: Any) -> bool:
    if v is None:
        return True
    if isinstance(v, GoStruct):
        return False
    return not truth(v)


def _list_arg(name: str, v: Any) -> list[Any]:
    if isinstance(v, GoSlice | list):
        return list(items_of(v))
    if v is None:
        raise GoFuncError("runtime error: invalid memory address or nil pointer dereference")
    raise GoFuncError(f"Cannot find {name} on type {kind(v)}")


def _first(v: Any) -> Any:
    items = _list_arg("first", v)
    return items[0] if items else None


def _last(v: Any) -> Any:
    items = _list_arg("last", v)
    return items[-1] if items else None


def _rest(v: Any) -> Any:
    items = _list_arg("rest", v)
    return items[1:] if items else None


def _initial(v: Any) -> Any:
    items = _list_arg("initial", v)
    return items[:-1] if items else None


def _uniq(v: Any) -> list[Any]:
    out: list[Any] = []
    for x in _list_arg("uniq", v):
        if not any(_deep_equal(x, y) for y in out):
            out.append(x)
    return out


def _deep_equal(a: Any, b: Any) -> bool:
    return type_name(a) == type_name(b) and a == b


def _sort_alpha(v: Any) -> GoSlice:
    if isinstance(v, GoSlice | list):
        return GoSlice("[]string", sorted(_strslice(v), key=lambda s: s.encode("utf-8", "surrogatepass")))
    return GoSlice("[]string", [to_string(v)])


def _dict(*v: Any) -> dict[str, Any]:
    d: dict[str, Any] = {}
    for i in range(0, len(v), 2):
        key = to_string(v[i])
        d[key] = v[i + 1] if i + 1 < len(v) else ""
    return d


def _split(sep: str, orig: str) -> GoMap:
    parts = _go_split(orig, sep)
    return GoMap("map[string]string", {f"_{i}": x for i, x in enumerate(parts)}, elem_type="string")


def _go_split(s: str, sep: str, n: int = -1) -> list[str]:
    if n == 0:
        return []
    if sep == "":
        chars = list(s)
        if n > 0 and len(chars) > n:
            chars = [*chars[: n - 1], "".join(chars[n - 1 :])]
        return chars
    return s.split(sep) if n < 0 else s.split(sep, n - 1)


def _title(s: str) -> str:
    def is_sep(r: str) -> bool:
        if r.isascii():
            return not (r.isalnum() or r == "_")
        if r.isalpha() or r.isdigit():
            return False
        return r.isspace()

    out = []
    prev = " "
    for r in s:
        out.append(r.upper() if is_sep(prev) else r)
        prev = r
    return "".join(out)


def _substr(start: int, end: int, s: str) -> str:
    b = s.encode("utf-8", "surrogateescape")
    try:
        if start < 0:
            if end < 0 or end > len(b):
                raise IndexError
            return b[:end].decode("utf-8", "surrogateescape")
        if end < 0 or end > len(b):
            if start > len(b):
                raise IndexError
            return b[start:].decode("utf-8", "surrogateescape")
        if start > end:
            raise IndexError
        return b[start:end].decode("utf-8", "surrogateescape")
    except IndexError:
        raise GoFuncError(f"runtime error: slice bounds out of range [{start}:{end}]") from None


def _trunc(c: int, s: str) -> str:
    b = s.encode("utf-8", "surrogateescape")
    if c < 0 and len(b) + c > 0:
        return b[len(b) + c :].decode("utf-8", "surrogateescape")
    if c >= 0 and len(b) > c:
        return b[:c].decode("utf-8", "surrogateescape")
    return s


def _repeat(n: int, s: str) -> str:
    if n < 0:
        raise GoFuncError("strings: negative Repeat count")
    if n * len(s) > MAX_OUTPUT:
        raise GoFuncError(f"fluxlab refuses to build a string over {MAX_OUTPUT} bytes")
    return s * n


def _quote(*v: Any) -> str:
    return " ".join(go_quote(to_string(x)) for x in v if x is not None)


def _squote(*v: Any) -> str:
    return " ".join(f"'{sprint_value(x)}'" for x in v if x is not None)


def _cat(*v: Any) -> str:
    return " ".join(sprint_value(x) for x in v if x is not None)


def _indent(n: int, s: str) -> str:
    pad = " " * n
    return pad + s.replace("\n", "\n" + pad)


def _to_json(v: Any) -> str:
    try:
        return go_json_dumps(v)
    except ValueError:
        return ""


def _must_to_json(v: Any) -> str:
    try:
        return go_json_dumps(v)
    except ValueError as exc:
        raise GoFuncError(str(exc)) from None


def _from_json(s: str) -> Any:
    try:
        return _json_to_go(jsontext.loads(s))
    except ValueError:
        return None


def _json_to_go(v: Any) -> Any:
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return v
    if isinstance(v, int | float):
        return float(v)
    if isinstance(v, list):
        return [_json_to_go(x) for x in v]
    if isinstance(v, dict):
        return {k: _json_to_go(x) for k, x in v.items()}
    return v


# base64, zlib and random are imported by the functions that use them: few templates call those, and
# every `lab check` that validates a messageTemplate loads this module.


def _b64enc(s: str) -> str:
    import base64

    return base64.b64encode(s.encode("utf-8", "surrogateescape")).decode()


def _b32enc(s: str) -> str:
    import base64

    return base64.b32encode(s.encode("utf-8", "surrogateescape")).decode()


def _shuffle(s: str) -> str:
    import random

    return "".join(random.sample(s, len(s)))


def _rand_int(lo: int, hi: int) -> int:
    import random

    return random.randrange(lo, hi)


def _b64dec(s: str) -> str:
    import base64

    try:
        return base64.b64decode(s, validate=True).decode("utf-8", "surrogateescape")
    except (ValueError, base64.binascii.Error) as exc:  # type: ignore[attr-defined]
        return f"illegal base64 data at input byte {0}" if str(exc) else ""


def _regex(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise GoFuncError(f"error parsing regexp: {exc}: `{pattern}`") from None


def _regex_find_all(pattern: str, s: str, n: int) -> GoSlice:
    found = [m.group(0) for m in _regex(pattern).finditer(s)]
    if n >= 0:
        found = found[:n]
    return GoSlice("[]string", found)


def _regex_split(pattern: str, s: str, n: int) -> GoSlice:
    parts = _regex(pattern).split(s, maxsplit=0 if n < 0 else max(n - 1, 0))
    return GoSlice("[]string", parts if n != 0 else [])


def _go_repl(template: str) -> str:
    """Go's Expand syntax ($1, ${name}) to Python's (\\g<1>, \\g<name>)."""
    out = []
    i = 0
    while i < len(template):
        c = template[i]
        if c == "\\":
            out.append("\\\\")
        elif c == "$" and i + 1 < len(template):
            if template[i + 1] == "$":
                out.append("$")
                i += 2
                continue
            m = re.match(r"\{(\w+)\}|(\w+)", template[i + 1 :])
            if m:
                name = m.group(1) or m.group(2)
                out.append(f"\\g<{name}>")
                i += 1 + m.end()
                continue
            out.append(c)
        else:
            out.append(c)
        i += 1
    return "".join(out)


def _regex_replace_all(pattern: str, s: str, repl: str) -> str:
    rx = _regex(pattern)
    try:
        return rx.sub(_go_repl(repl), s)
    except (re.error, IndexError):
        return rx.sub(lambda m: "", s)


def _without(v: Any, *omit: Any) -> list[Any]:
    return [x for x in _list_arg("without", v) if not any(_deep_equal(x, o) for o in omit)]


def _has(needle: Any, hay: Any) -> bool:
    if hay is None:
        return False
    return any(_deep_equal(needle, x) for x in _list_arg("has", hay))


def _sprig_slice(v: Any, *idx: Any) -> Any:
    if not isinstance(v, GoSlice | list):
        raise GoFuncError(f"list should be type of slice or array but {kind(v)}")
    items = items_of(v)
    if not items:
        return None
    start = _to_int64(idx[0]) if idx else 0
    end = _to_int64(idx[1]) if len(idx) > 1 else len(items)
    if not (0 <= start <= end <= len(items)):
        raise GoFuncError("reflect: slice index out of range")
    return GoSlice(v.type_name, items[start:end]) if isinstance(v, GoSlice) else items[start:end]


def _concat(*lists: Any) -> Any:
    res: list[Any] = []
    for x in lists:
        if not isinstance(x, GoSlice | list):
            raise GoFuncError(f"Cannot concat type {kind(x)} as list")
        res.extend(items_of(x))
    return res or None


def _push(v: Any, x: Any) -> list[Any]:
    return [*_list_arg("append", v), x]


def _prepend(v: Any, x: Any) -> list[Any]:
    return [x, *_list_arg("prepend", v)]


def _reverse(v: Any) -> list[Any]:
    return list(reversed(_list_arg("reverse", v)))


def _compact(v: Any) -> list[Any]:
    return [x for x in _list_arg("compact", v) if not _empty(x)]


def _until_step(start: int, stop: int, step: int) -> GoSlice:
    if stop < start:
        vals = list(range(start, stop, step)) if step < 0 else []
    else:
        vals = list(range(start, stop, step)) if step > 0 else []
    return GoSlice("[]int", vals)


def _seq(*p: int) -> str:
    if len(p) == 0:
        return ""
    if len(p) == 1:
        start, step, end = 1, 1, p[0]
        if end < start:
            step = -1
    elif len(p) == 2:
        start, end = p
        step = 1 if end >= start else -1
    elif len(p) == 3:
        start, step, end = p
        if (end < start and step >= 0) or (end > start and step <= 0) or step == 0:
            return ""
    else:
        return ""
    vals = list(range(start, end + (1 if step > 0 else -1), step))
    return " ".join(str(v) for v in vals)


def _round(a: Any, p: int, *r: float) -> float:
    round_on = r[0] if r else 0.5
    val = _to_float(a)
    pow_ = 10.0**p
    digit = pow_ * val
    frac = digit - math.trunc(digit)
    rounded = math.ceil(digit) if frac >= round_on else math.floor(digit)
    return rounded / pow_


def _dict_get(d: Any, k: str) -> Any:
    return d.get(k, "") if d is not None else ""


def _keys(*dicts: Any) -> GoSlice:
    out: list[str] = []
    for d in dicts:
        if d is not None:
            out.extend(d.keys())
    return GoSlice("[]string", out)


def _kind_of(v: Any) -> str:
    k = kind(v)
    return {"invalid": "invalid", "float": "float64", "func": "func"}.get(k, k)


def _type_of(v: Any) -> str:
    return "<nil>" if v is None else type_name(v)


def _fail(msg: str) -> str:
    raise GoFuncError(msg)


def _unavailable(name: str) -> Callable[..., Any]:
    def fn(*_: Any) -> Any:
        raise GoFuncError(f"fluxlab does not emulate sprig's {name}; Flux would run it")

    return fn


class SemverVersion(GoStruct):
    """Masterminds' *semver.Version as sprig's `semver` returns it (prints as the normalised version)."""

    go_type = "*semver.Version"

    def __init__(self, v: Any) -> None:
        self.v = v

    def go_fields(self) -> list[tuple[str, Any]]:
        return []

    def go_string(self) -> str:
        return str(self.v)

    def go_methods(self) -> dict[str, GoMethod]:
        v = self.v

        def cmp(other: Any) -> int:
            if not isinstance(other, SemverVersion):
                raise GoFuncError(f"wrong type for value; expected *semver.Version; got {type_name(other)}")
            return int(v.compare(other.v))

        return {
            "Major": GoMethod("Major", lambda: v.major),
            "Minor": GoMethod("Minor", lambda: v.minor),
            "Patch": GoMethod("Patch", lambda: v.patch),
            "Prerelease": GoMethod("Prerelease", lambda: v.pre),
            "Metadata": GoMethod("Metadata", lambda: v.metadata),
            "Original": GoMethod("Original", lambda: v.original),
            "String": GoMethod("String", lambda: str(v)),
            "Compare": GoMethod("Compare", cmp, ("any",)),
            "LessThan": GoMethod("LessThan", lambda o: cmp(o) < 0, ("any",)),
            "GreaterThan": GoMethod("GreaterThan", lambda o: cmp(o) > 0, ("any",)),
            "Equal": GoMethod("Equal", lambda o: cmp(o) == 0, ("any",)),
        }


def _semver(text: str) -> SemverVersion:
    from lab.core.semver import InvalidVersion, new_version

    try:
        return SemverVersion(new_version(text))
    except InvalidVersion as exc:
        raise GoFuncError(str(exc)) from None


def _semver_compare(constraint: str, version: str) -> bool:
    from lab.core.semver import ConstraintError, InvalidVersion, new_constraint, new_version

    try:
        c = new_constraint(constraint)
        return bool(c.check(new_version(version)))
    except (ConstraintError, InvalidVersion) as exc:
        raise GoFuncError(str(exc)) from None


def _dig(*ps: Any) -> Any:
    if len(ps) < 3:
        raise GoFuncError("dig needs at least three arguments")
    current, default = ps[-1], ps[-2]
    for k in ps[:-2]:
        if not isinstance(current, dict):
            raise GoFuncError(
                f"interface conversion: interface {{}} is {type_name(current)}, not map[string]interface {{}}"
            )
        if not isinstance(k, str):
            raise GoFuncError(f"interface conversion: interface {{}} is {type_name(k)}, not string")
        if k not in current:
            return default
        current = current[k]
    return current


def _adler32(s: str) -> str:
    import zlib

    return str(zlib.adler32(s.encode("utf-8", "surrogateescape")))


def _hash(algo: str) -> Callable[[str], str]:
    def fn(s: str) -> str:
        import hashlib  # OpenSSL's bindings are a costly import that few templates need

        return hashlib.new(algo, s.encode("utf-8", "surrogateescape")).hexdigest()

    return fn


def _b32dec(s: str) -> str:
    import base64

    try:
        return base64.b32decode(s).decode("utf-8", "surrogateescape")
    except ValueError as exc:
        return str(exc)


def _wrap(width: int, s: str) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(s, width=max(width, 1), break_long_words=False)) if s else s


def _swapcase(s: str) -> str:
    return s.swapcase()


def _snake(s: str) -> str:
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s)
    s = re.sub(r"[\s\-]+", "_", s)
    return s.lower()


def _kebab(s: str) -> str:
    return _snake(s).replace("_", "-")


def _camel(s: str) -> str:
    parts = re.split(r"[\s_\-]+", s)
    return "".join(p[:1].upper() + p[1:] for p in parts if p)


def _initials(s: str) -> str:
    return "".join(w[0] for w in s.split() if w)


def _must(fn: Callable[..., Any]) -> Callable[..., Any]:
    return fn


def _abbrev(width: int, s: str) -> str:
    if width < 4 or len(s) <= width:
        return s
    return s[: width - 3] + "..."


def _max(a: Any, *rest: Any) -> Int64:
    return Int64(max([_to_int64(a), *(_to_int64(b) for b in rest)]))


def _min(a: Any, *rest: Any) -> Int64:
    return Int64(min([_to_int64(a), *(_to_int64(b) for b in rest)]))


def _div(a: Any, b: Any) -> Int64:
    bb = _to_int64(b)
    if bb == 0:
        raise GoFuncError("runtime error: integer divide by zero")
    q = abs(_to_int64(a)) // abs(bb)
    return Int64(q if (_to_int64(a) >= 0) == (bb > 0) else -q)


def _mod(a: Any, b: Any) -> Int64:
    aa, bb = _to_int64(a), _to_int64(b)
    if bb == 0:
        raise GoFuncError("runtime error: integer divide by zero")
    return Int64(int(math.fmod(aa, bb)))


def _mul(a: Any, *v: Any) -> Int64:
    r = _to_int64(a)
    for b in v:
        r *= _to_int64(b)
    return Int64(r)


def _to_strings(v: Any) -> GoSlice:
    return GoSlice("[]string", _strslice(v))


def _pluck(key: str, *dicts: Any) -> list[Any]:
    return [d[key] for d in dicts if d is not None and key in d]


def _merge(dst: Any, *srcs: Any) -> Any:
    for s in srcs:
        for k, v in (s or {}).items():
            dst.setdefault(k, v)
    return dst


def _merge_overwrite(dst: Any, *srcs: Any) -> Any:
    for s in srcs:
        dst.update(s or {})
    return dst


# unicode.IsSpace, which Go's TrimSpace and goutils' DeleteWhiteSpace use (Python's strip() differs).
GO_SPACE = "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"


def _trim_cutset(cutset: str, s: str) -> str:
    return s.strip(cutset) if cutset else s


_S = "string"
_I = "int"
_A = "any"
_MAP = "map"

SPRIG: dict[str, GoMethod] = _by_name(
    _m("hello", lambda: "Hello!"),
    # dates: only the repeatable ones are in the hermetic map; none are emulated
    _m("ago", _unavailable("ago"), [_A]),
    _m("duration", _unavailable("duration"), [_A]),
    _m("durationRound", _unavailable("durationRound"), [_A]),
    _m("must_date_modify", _unavailable("must_date_modify"), [_S, _A]),
    _m("mustDateModify", _unavailable("mustDateModify"), [_S, _A]),
    _m("mustToDate", _unavailable("mustToDate"), [_S, _S]),
    _m("toDate", _unavailable("toDate"), [_S, _S]),
    _m("unixEpoch", _unavailable("unixEpoch"), [_A]),
    # strings
    _m("abbrev", _abbrev, [_I, _S]),
    _m("abbrevboth", _unavailable("abbrevboth"), [_I, _I, _S]),
    _m("trunc", _trunc, [_I, _S]),
    _m("trim", lambda s: s.strip(GO_SPACE), [_S]),
    _m("upper", lambda s: s.upper(), [_S]),
    _m("lower", lambda s: s.lower(), [_S]),
    _m("title", _title, [_S]),
    _m("untitle", lambda s: s[:1].lower() + s[1:], [_S]),
    _m("substr", _substr, [_I, _I, _S]),
    _m("repeat", _repeat, [_I, _S]),
    _m("trimall", _trim_cutset, [_S, _S]),
    _m("trimAll", _trim_cutset, [_S, _S]),
    _m("trimSuffix", lambda a, b: b[: -len(a)] if a and b.endswith(a) else b, [_S, _S]),
    _m("trimPrefix", lambda a, b: b[len(a) :] if b.startswith(a) else b, [_S, _S]),
    _m("nospace", lambda s: "".join(c for c in s if c not in GO_SPACE), [_S]),
    _m("initials", _initials, [_S]),
    _m("swapcase", _swapcase, [_S]),
    _m("shuffle", _shuffle, [_S]),
    _m("snakecase", _snake, [_S]),
    _m("camelcase", _camel, [_S]),
    _m("kebabcase", _kebab, [_S]),
    _m("wrap", _wrap, [_I, _S]),
    _m("wrapWith", lambda n, sep, s: _wrap(n, s).replace("\n", sep), [_I, _S, _S]),
    _m("contains", lambda a, b: a in b, [_S, _S]),
    _m("hasPrefix", lambda a, b: b.startswith(a), [_S, _S]),
    _m("hasSuffix", lambda a, b: b.endswith(a), [_S, _S]),
    _m("quote", _quote, [], _A),
    _m("squote", _squote, [], _A),
    _m("cat", _cat, [], _A),
    _m("indent", _indent, [_I, _S]),
    _m("nindent", lambda n, s: "\n" + _indent(n, s), [_I, _S]),
    _m("replace", lambda old, new, src: src.replace(old, new), [_S, _S, _S]),
    _m("plural", lambda one, many, n: one if n == 1 else many, [_S, _S, _I]),
    _m("sha1sum", _hash("sha1"), [_S]),
    _m("sha256sum", _hash("sha256"), [_S]),
    _m("sha512sum", _hash("sha512"), [_S]),
    _m("adler32sum", _adler32, [_S]),
    _m("toString", to_string, [_A]),
    _m("atoi", lambda s: int(s) if re.fullmatch(r"[+-]?\d+", s) else 0, [_S]),
    _m("int64", lambda v: Int64(_to_int64(v)), [_A]),
    _m("int", _to_int64, [_A]),
    _m("float64", _to_float, [_A]),
    _m("seq", _seq, [], _I),
    _m("toDecimal", _unavailable("toDecimal"), [_A]),
    _m("split", _split, [_S, _S]),
    _m("splitList", lambda sep, s: GoSlice("[]string", _go_split(s, sep)), [_S, _S]),
    _m(
        "splitn",
        lambda sep, n, s: GoMap(
            "map[string]string",
            {f"_{i}": x for i, x in enumerate(_go_split(s, sep, n))},
            elem_type="string",
        ),
        [_S, _I, _S],
    ),
    _m("toStrings", _to_strings, [_A]),
    _m("until", lambda n: _until_step(0, n, 1 if n >= 0 else -1), [_I]),
    _m("untilStep", _until_step, [_I, _I, _I]),
    _m("add1", lambda v: Int64(_to_int64(v) + 1), [_A]),
    _m("add", lambda *v: Int64(sum(_to_int64(x) for x in v)), [], _A),
    _m("sub", lambda a, b: Int64(_to_int64(a) - _to_int64(b)), [_A, _A]),
    _m("div", _div, [_A, _A]),
    _m("mod", _mod, [_A, _A]),
    _m("mul", _mul, [_A], _A),
    _m("randInt", _rand_int, [_I, _I]),
    _m("add1f", lambda v: _to_float(v) + 1, [_A]),
    _m("addf", lambda *v: float(sum(_to_float(x) for x in v)), [], _A),
    _m("subf", lambda a, *v: _to_float(a) - sum(_to_float(x) for x in v), [_A], _A),
    _m("divf", _unavailable("divf"), [_A], _A),
    _m("mulf", lambda a, *v: math.prod([_to_float(a), *(_to_float(x) for x in v)]), [_A], _A),
    _m("biggest", _max, [_A], _A),
    _m("max", _max, [_A], _A),
    _m("min", _min, [_A], _A),
    _m("maxf", lambda a, *v: max([_to_float(a), *(_to_float(x) for x in v)]), [_A], _A),
    _m("minf", lambda a, *v: min([_to_float(a), *(_to_float(x) for x in v)]), [_A], _A),
    _m("ceil", lambda a: float(math.ceil(_to_float(a))), [_A]),
    _m("floor", lambda a: float(math.floor(_to_float(a))), [_A]),
    _m("round", _round, [_A, _I], "float64"),
    _m("join", lambda sep, v: sep.join(_strslice(v)), [_S, _A]),
    _m("sortAlpha", _sort_alpha, [_A]),
    _m("default", lambda d, *given: d if (not given or _empty(given[0])) else given[0], [_A], _A),
    _m("empty", _empty, [_A]),
    _m("coalesce", lambda *v: next((x for x in v if not _empty(x)), None), [], _A),
    _m("all", lambda *v: all(not _empty(x) for x in v), [], _A),
    _m("any", lambda *v: any(not _empty(x) for x in v), [], _A),
    _m("compact", _compact, [_A]),
    _m("fromJson", _from_json, [_S]),
    _m("toJson", _to_json, [_A]),
    _m("toPrettyJson", lambda v: go_json_dumps(v, indent=True), [_A]),
    _m("toRawJson", lambda v: go_json_dumps(v, escape_html=False), [_A]),
    _m("mustToJson", _must_to_json, [_A]),
    _m("ternary", lambda a, b, c: a if c else b, [_A, _A, "bool"]),
    _m("deepCopy", lambda v: v, [_A]),
    _m("typeOf", _type_of, [_A]),
    _m("typeIs", lambda t, v: _type_of(v) == t, [_S, _A]),
    _m("typeIsLike", lambda t, v: _type_of(v) in (t, "*" + t), [_S, _A]),
    _m("kindOf", _kind_of, [_A]),
    _m("kindIs", lambda t, v: _kind_of(v) == t, [_S, _A]),
    _m("deepEqual", _deep_equal, [_A, _A]),
    _m("base", lambda s: posixpath.basename(s.rstrip("/")) or ("/" if s.startswith("/") else "."), [_S]),
    _m("dir", lambda s: posixpath.dirname(s) or ".", [_S]),
    _m("clean", lambda s: posixpath.normpath(s) if s else ".", [_S]),
    _m("ext", lambda s: posixpath.splitext(s)[1] if "." in posixpath.basename(s) else "", [_S]),
    _m("isAbs", lambda s: s.startswith("/"), [_S]),
    _m("osBase", lambda s: posixpath.basename(s.rstrip("/")) or ".", [_S]),
    _m("osClean", lambda s: posixpath.normpath(s) if s else ".", [_S]),
    _m("osDir", lambda s: posixpath.dirname(s) or ".", [_S]),
    _m("osExt", lambda s: posixpath.splitext(s)[1], [_S]),
    _m("osIsAbs", lambda s: s.startswith("/"), [_S]),
    _m("b64enc", _b64enc, [_S]),
    _m("b64dec", _b64dec, [_S]),
    _m("b32enc", _b32enc, [_S]),
    _m("b32dec", _b32dec, [_S]),
    _m("tuple", lambda *v: list(v), [], _A),
    _m("list", lambda *v: list(v), [], _A),
    _m("dict", _dict, [], _A),
    _m("get", _dict_get, [_MAP, _S]),
    _m(
        "set",
        lambda d, k, v: {**(d or {}), k: v} if d is None else (d.__setitem__(k, v) or d),
        [_MAP, _S, _A],
    ),
    _m("unset", lambda d, k: (d.pop(k, None), d)[1] if d is not None else d, [_MAP, _S]),
    _m("hasKey", lambda d, k: d is not None and k in d, [_MAP, _S]),
    _m("pluck", _pluck, [_S], _MAP),
    _m("keys", _keys, [], _MAP),
    _m("pick", lambda d, *ks: {k: d[k] for k in ks if d and k in d}, [_MAP], _S),
    _m("omit", lambda d, *ks: {k: v for k, v in (d or {}).items() if k not in ks}, [_MAP], _S),
    _m("merge", _merge, [_MAP], _MAP),
    _m("mergeOverwrite", _merge_overwrite, [_MAP], _MAP),
    _m("values", lambda d: list((d or {}).values()), [_MAP]),
    _m("append", _push, [_A, _A]),
    _m("push", _push, [_A, _A]),
    _m("prepend", _prepend, [_A, _A]),
    _m("first", _first, [_A]),
    _m("rest", _rest, [_A]),
    _m("last", _last, [_A]),
    _m("initial", _initial, [_A]),
    _m("reverse", _reverse, [_A]),
    _m("uniq", _uniq, [_A]),
    _m("without", _without, [_A], _A),
    _m("has", _has, [_A, _A]),
    _m("slice", _sprig_slice, [_A], _A),
    _m("concat", _concat, [], _A),
    _m("dig", _dig, [], _A),
    _m("chunk", _unavailable("chunk"), [_I, _A]),
    _m("mustChunk", _unavailable("mustChunk"), [_I, _A]),
    _m("semver", _semver, [_S]),
    _m("semverCompare", _semver_compare, [_S, _S]),
    _m("fail", _fail, [_S]),
    _m("regexMatch", lambda r, s: _regex(r).search(s) is not None, [_S, _S]),
    _m("regexFindAll", _regex_find_all, [_S, _S, _I]),
    _m("regexFind", lambda r, s: m.group(0) if (m := _regex(r).search(s)) else "", [_S, _S]),
    _m("regexReplaceAll", _regex_replace_all, [_S, _S, _S]),
    _m("regexReplaceAllLiteral", lambda r, s, repl: _regex(r).sub(lambda _m: repl, s), [_S, _S, _S]),
    _m("regexSplit", _regex_split, [_S, _S, _I]),
    _m("regexQuoteMeta", lambda s: re.sub(r"([\\.+*?()|\[\]{}^$])", r"\\\1", s), [_S]),
    _m("urlParse", _unavailable("urlParse"), [_S]),
    _m("urlJoin", _unavailable("urlJoin"), [_MAP]),
)

for _name in (
    "bcrypt",
    "htpasswd",
    "genPrivateKey",
    "derivePassword",
    "buildCustomCert",
    "genCA",
    "genCAWithKey",
    "genSelfSignedCert",
    "genSelfSignedCertWithKey",
    "genSignedCert",
    "genSignedCertWithKey",
    "encryptAES",
    "decryptAES",
):
    SPRIG[_name] = _m(_name, _unavailable(_name), [], _A)

# sprig's mustX returns as an error what X would panic with; a template fails the same way with either, so
# these share X's function (the other mustX differ from X, or are unavailable under their own name).
for _name in (
    "compact",
    "fromJson",
    "toPrettyJson",
    "toRawJson",
    "deepCopy",
    "merge",
    "mergeOverwrite",
    "append",
    "push",
    "prepend",
    "first",
    "rest",
    "last",
    "initial",
    "reverse",
    "uniq",
    "without",
    "has",
    "slice",
    "regexMatch",
    "regexFindAll",
    "regexFind",
    "regexReplaceAll",
    "regexReplaceAllLiteral",
    "regexSplit",
):
    _plain = SPRIG[_name]
    _must_name = "must" + _name[0].upper() + _name[1:]
    SPRIG[_must_name] = _m(_must_name, _plain.fn, _plain.params, _plain.variadic)

# Non-hermetic sprig functions are absent from Flux's map, so templates using them fail to parse
# (`function "now" not defined`), exactly as in the controller.
NON_HERMETIC = frozenset(
    {
        "date",
        "date_in_zone",
        "date_modify",
        "now",
        "htmlDate",
        "htmlDateInZone",
        "dateInZone",
        "dateModify",
        "randAlphaNum",
        "randAlpha",
        "randAscii",
        "randNumeric",
        "randBytes",
        "uuidv4",
        "env",
        "expandenv",
        "getHostByName",
    }
)


def find_function(name: str) -> tuple[GoMethod, bool] | None:
    """Go's findFunction: the template's own FuncMap (sprig) wins over the builtins."""
    if name in SPRIG:
        return SPRIG[name], False
    if name in BUILTINS:
        return BUILTINS[name], True
    return None


def has_function(name: str) -> bool:
    return name in SPRIG or name in BUILTINS


_ = (format_float,)
