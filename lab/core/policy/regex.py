"""Go `regexp` (RE2 syntax, Perl flags) evaluated with Python's `re`.

Flux compiles `filterTags.pattern` and `exclusionList` entries with Go's `regexp.Compile`. This module
parses a pattern the way Go's `regexp/syntax` does, rejects what Go rejects with Go's error text, and
emits an equivalent Python pattern made only of explicit pieces (ASCII classes, `\\A`/`\\Z` anchors,
per-atom flags), so Python's own syntax and defaults never leak in: `$` does not match before a final
newline, `\\s` has no `\\v`, `{,3}` is a literal, `(?i)` may appear mid-pattern, group names may repeat.

Both engines report the match a backtracking search finds first (Go documents this for its
leftmost-first mode), so match positions and submatches agree. Patterns where backtracking could
explode (`^(a+)+$`) or where Python's `re` reports empty loop iterations differently (`(x*)*`) run on
a linear-time Pike VM with Go's thread priorities instead (`lab.core.policy.pikevm`). A differential
run against Go's regexp over 40,000 random patterns found no difference in either engine. Known gaps:
Unicode scripts (`\\p{Greek}`) are refused; case folding follows Python's rules; Python's Unicode
tables may be a version older than Go's.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache, lru_cache
from itertools import groupby
from operator import itemgetter
from typing import Any, Literal

from lab.core.policy.pikevm import Program, VMMatch, compile_program, needs_linear_time
from lab.core.policy.pikevm import search as vm_search

MAX_RUNE = 0x10FFFF
MAX_REPEAT = 1000

Ranges = list[tuple[int, int]]


class RegexSyntaxError(ValueError):
    """A pattern Go's `regexp.Compile` rejects; `str()` is Go's error text."""

    def __init__(self, code: str, expr: str) -> None:
        super().__init__(f"error parsing regexp: {code}: `{expr}`")
        self.code = code
        self.expr = expr


Match = re.Match[str] | VMMatch


@dataclass(frozen=True)
class GoRegexp:
    """A compiled Go pattern: `group_names[i]` is the name of capture group i ("" if unnamed).

    `program` is set when the pattern could make Python's backtracking explode; matching then runs
    on the linear-time Pike VM (same results as Go, slower per character).
    """

    pattern: str
    compiled: re.Pattern[str]
    group_names: tuple[str, ...]
    program: Program | None = None

    def search(self, text: str) -> Match | None:
        if self.program is not None:
            slots = vm_search(self.program, text)
            return None if slots is None else VMMatch(text, slots)
        return self.compiled.search(text)

    def expand(self, template: str, match: Match) -> str:
        """Go `Regexp.ExpandString` for one match."""
        return expand(template, match, self.group_names)


_ASCII_WORD: Ranges = [(0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A)]
_PERL: dict[str, Ranges] = {
    "d": [(0x30, 0x39)],
    "s": [(0x09, 0x0A), (0x0C, 0x0D), (0x20, 0x20)],
    "w": _ASCII_WORD,
}
_POSIX: dict[str, Ranges] = {
    "alnum": [(0x30, 0x39), (0x41, 0x5A), (0x61, 0x7A)],
    "alpha": [(0x41, 0x5A), (0x61, 0x7A)],
    "ascii": [(0x00, 0x7F)],
    "blank": [(0x09, 0x09), (0x20, 0x20)],
    "cntrl": [(0x00, 0x1F), (0x7F, 0x7F)],
    "digit": [(0x30, 0x39)],
    "graph": [(0x21, 0x7E)],
    "lower": [(0x61, 0x7A)],
    "print": [(0x20, 0x7E)],
    "punct": [(0x21, 0x2F), (0x3A, 0x40), (0x5B, 0x60), (0x7B, 0x7E)],
    "space": [(0x09, 0x0D), (0x20, 0x20)],
    "upper": [(0x41, 0x5A)],
    "word": _ASCII_WORD,
    "xdigit": [(0x30, 0x39), (0x41, 0x46), (0x61, 0x66)],
}
# Go's word boundaries are ASCII-only. Python's `\B` also never matches in an empty string, so
# both are spelled out with look-arounds.
_W = "[0-9A-Za-z_]"
_WORD_BOUNDARY = rf"(?:(?<={_W})(?!{_W})|(?<!{_W})(?={_W}))"
_NOT_WORD_BOUNDARY = rf"(?:(?<={_W})(?={_W})|(?<!{_W})(?!{_W}))"
_CATEGORIES = {
    "C", "Cc", "Cf", "Co", "Cs", "L", "Ll", "Lm", "Lo", "Lt", "Lu", "M", "Mc", "Me", "Mn",
    "N", "Nd", "Nl", "No", "P", "Pc", "Pd", "Pe", "Pf", "Pi", "Po", "Ps",
    "S", "Sc", "Sk", "Sm", "So", "Z", "Zl", "Zp", "Zs",
}  # fmt: skip


def _normalize(ranges: Ranges) -> Ranges:
    out: Ranges = []
    for lo, hi in sorted(ranges):
        if out and lo <= out[-1][1] + 1:
            if hi > out[-1][1]:
                out[-1] = (out[-1][0], hi)
        else:
            out.append((lo, hi))
    return out


def _negate(ranges: Ranges) -> Ranges:
    out: Ranges = []
    nxt = 0
    for lo, hi in _normalize(ranges):
        if lo > nxt:
            out.append((nxt, lo - 1))
        nxt = hi + 1
    if nxt <= MAX_RUNE:
        out.append((nxt, MAX_RUNE))
    return out


@cache
def _category_runs() -> tuple[tuple[int, int, str], ...]:
    """(first, last, general category) runs over all code points, computed once (~0.5 s)."""
    runs: list[tuple[int, int, str]] = []
    for cat, group in groupby(
        enumerate(map(unicodedata.category, map(chr, range(MAX_RUNE + 1)))), itemgetter(1)
    ):
        codes = [code for code, _ in group]
        runs.append((codes[0], codes[-1], cat))
    return tuple(runs)


@cache
def _category_ranges(name: str) -> tuple[tuple[int, int], ...]:
    if name == "Any":
        return ((0, MAX_RUNE),)
    # Go's `C` is Cc|Cf|Co|Cs: unassigned code points (Cn) are not in it.
    return tuple(
        (lo, hi)
        for lo, hi, cat in _category_runs()
        if (cat == name or (len(name) == 1 and cat[0] == name)) and cat != "Cn"
    )


def _char(code: int) -> str:
    ch = chr(code)
    if ch.isascii() and ch.isalnum():
        return ch
    return f"\\U{code:08x}"


def _class_source(ranges: Ranges, negated: bool = False) -> str:
    ranges = _normalize(ranges)
    if not ranges:
        return r"[\s\S]" if negated else "(?!)"
    parts = [_char(lo) if lo == hi else f"{_char(lo)}-{_char(hi)}" for lo, hi in ranges]
    return ("[^" if negated else "[") + "".join(parts) + "]"


@dataclass
class _Flags:
    fold: bool = False
    multiline: bool = False
    dotnl: bool = False
    ungreedy: bool = False

    def copy(self) -> _Flags:
        return _Flags(self.fold, self.multiline, self.dotnl, self.ungreedy)


# The parsed pattern, for the linear-time matcher: ("lit", code, fold), ("cls", ranges, negated, fold),
# ("any", dotnl), ("assert", kind), ("cap", index, node), ("alt", [node]), ("cat", [node]),
# ("rep", node, min, max, greedy) with max -1 for unbounded.
Node = tuple[Any, ...]


@dataclass
class _Item:
    source: str
    repeatable: bool = True
    weight: int = 1  # largest product of counted repeats on a path inside (Go's repeatIsValid)
    atom: bool = False  # one char, class or group: Python can quantify it as it stands
    node: Node = ("cat", [])


@dataclass
class _Frame:
    opener: str  # the Python text that opens this group
    start: int  # index of the group's "(" in the pattern, -1 for the top level
    saved: _Flags
    capture: int = -1
    alternatives: list[list[_Item]] = field(default_factory=lambda: [[]])

    @property
    def items(self) -> list[_Item]:
        return self.alternatives[-1]

    def weight(self) -> int:
        return max((it.weight for alt in self.alternatives for it in alt), default=1)

    def source(self) -> str:
        return "|".join("".join(it.source for it in alt) for alt in self.alternatives)

    def node(self) -> Node:
        alts = [("cat", [it.node for it in alt]) for alt in self.alternatives]
        body: Node = alts[0] if len(alts) == 1 else ("alt", alts)
        return ("cap", self.capture, body) if self.capture >= 0 else body


class _Parser:
    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self.flags = _Flags()
        self.names: list[str] = [""]
        self.root: Node = ("cat", [])

    def error(self, code: str, expr: str) -> RegexSyntaxError:
        return RegexSyntaxError(code, expr)

    def parse(self) -> str:
        p = self.pattern
        stack = [_Frame("", -1, self.flags.copy())]
        i = 0
        last_repeat_start = -1
        while i < len(p):
            c = p[i]
            repeat_start = -1
            frame = stack[-1]
            if c == "(":
                if p.startswith("(?", i):
                    i = self._perl_group(stack, i)
                else:
                    self.names.append("")
                    stack.append(_Frame("(", i, self.flags.copy(), len(self.names) - 1))
                    i += 1
            elif c == "|":
                frame.alternatives.append([])
                i += 1
            elif c == ")":
                if len(stack) == 1:
                    raise self.error("unexpected )", p)
                stack.pop()
                self.flags = frame.saved
                stack[-1].items.append(
                    _Item(f"{frame.opener}{frame.source()})", True, frame.weight(), True, frame.node())
                )
                i += 1
            elif c in "*+?{":
                end = self._repeat_end(i)
                if end is None:  # `{` that is not a repeat is a literal
                    frame.items.append(self._literal(ord("{")))
                    i += 1
                else:
                    repeat_start = i
                    i = self._apply_repeat(frame, i, end, last_repeat_start)
            elif c == "[":
                ranges, negated, i = self._class(i)
                frame.items.append(self._class_item(ranges, negated))
            elif c == ".":
                dotnl = self.flags.dotnl
                frame.items.append(_Item("(?s:.)" if dotnl else ".", atom=True, node=("any", dotnl)))
                i += 1
            elif c == "^":
                multi = self.flags.multiline
                node = ("assert", "bol" if multi else "bot")
                frame.items.append(_Item(r"(?:\A|(?<=\n))" if multi else r"\A", node=node))
                i += 1
            elif c == "$":
                multi = self.flags.multiline
                node = ("assert", "eol" if multi else "eot")
                frame.items.append(_Item(r"(?=\n|\Z)" if multi else r"\Z", node=node))
                i += 1
            elif c == "\\":
                i = self._escape_atom(frame, i)
            else:
                frame.items.append(self._literal(ord(c)))
                i += 1
            last_repeat_start = repeat_start
        if len(stack) > 1:
            raise self.error("missing closing )", p)
        self.root = stack[0].node()
        return stack[0].source()

    # -- groups --------------------------------------------------------------------------------

    def _perl_group(self, stack: list[_Frame], i: int) -> int:
        p = self.pattern
        t = p[i:]
        if (len(t) > 4 and t[2] == "P" and t[3] == "<") or (len(t) > 3 and t[2] == "<"):
            begin = 3 if t[2] == "<" else 4
            end = t.find(">")
            if end < 0:
                raise self.error("invalid named capture", t)
            name = t[begin:end]
            if not name or not all(ch == "_" or (ch.isascii() and ch.isalnum()) for ch in name):
                raise self.error("invalid named capture", t[: end + 1])
            self.names.append(name)
            stack.append(_Frame("(", i, self.flags.copy(), len(self.names) - 1))
            return i + end + 1
        flags = self.flags.copy()
        j = i + 2
        negate = False
        saw_flag = False
        while j < len(p):
            c = p[j]
            j += 1
            if c in "imsU":
                value = not negate
                if c == "i":
                    flags.fold = value
                elif c == "m":
                    flags.multiline = value
                elif c == "s":
                    flags.dotnl = value
                else:
                    flags.ungreedy = value
                saw_flag = True
            elif c == "-":
                if negate:
                    break
                negate = True
                saw_flag = False
            elif c in ":)":
                if negate and not saw_flag:
                    break
                if c == ":":
                    stack.append(_Frame("(?:", i, self.flags.copy()))
                self.flags = flags
                return j
            else:
                break
        raise self.error("invalid or unsupported Perl syntax", p[i:j])

    # -- repetition ----------------------------------------------------------------------------

    def _parse_int(self, j: int) -> tuple[int, int] | None:
        p = self.pattern
        if j >= len(p) or not "0" <= p[j] <= "9":
            return None
        if j + 1 < len(p) and p[j] == "0" and "0" <= p[j + 1] <= "9":
            return None
        k = j
        while k < len(p) and "0" <= p[k] <= "9":
            k += 1
        # Go gives up (-1) once the value reaches 1e8 before the next digit.
        return (int(p[j:k]) if k - j <= 9 else -1), k

    def _repeat_bounds(self, i: int) -> tuple[int, int, int] | None:
        """Go `parseRepeat` at `{`: (min, max, index after `}`); max -1 = unbounded."""
        p = self.pattern
        got = self._parse_int(i + 1)
        if got is None:
            return None
        lo, j = got
        if j >= len(p):
            return None
        hi = lo
        if p[j] == ",":
            j += 1
            if j >= len(p):
                return None
            if p[j] == "}":
                hi = -1
            else:
                got = self._parse_int(j)
                if got is None:
                    return None
                hi, j = got
                if hi < 0:  # too big: Go reports it through min
                    lo = -1
        if j >= len(p) or p[j] != "}":
            return None
        return lo, hi, j + 1

    def _repeat_end(self, i: int) -> int | None:
        if self.pattern[i] != "{":
            return i + 1
        bounds = self._repeat_bounds(i)
        return None if bounds is None else bounds[2]

    def _apply_repeat(self, frame: _Frame, i: int, end: int, last_repeat_start: int) -> int:
        """Go `parser.repeat` for the operator at p[i:end]; returns the index after it."""
        p = self.pattern
        op = p[i:end]
        lazy = end < len(p) and p[end] == "?"
        after = end + 1 if lazy else end
        counted = op.startswith("{")
        lo = hi = 0
        if counted:
            bounds = self._repeat_bounds(i)
            assert bounds is not None
            lo, hi, _ = bounds
            if lo < 0 or lo > MAX_REPEAT or hi > MAX_REPEAT or (hi >= 0 and lo > hi):
                raise self.error("invalid repeat count", op)
        if last_repeat_start >= 0:
            raise self.error("invalid nested repetition operator", p[last_repeat_start:after])
        if not frame.items or not frame.items[-1].repeatable:
            raise self.error("missing argument to repetition operator", p[i:after])
        sub = frame.items.pop()
        weight = sub.weight
        if counted:
            # Go's repeatIsValid: along any path, the product of counted repeats stays <= 1000;
            # `{0}` hides everything below it and `{n,}` counts as n.
            factor = hi if hi >= 0 else max(lo, 1)
            weight = factor * sub.weight if factor else 1
            if (lo >= 2 or hi >= 2) and weight > MAX_REPEAT:
                raise self.error("invalid repeat count", p[i:after])
        greedy = lazy == self.flags.ungreedy
        if not greedy:
            op += "?"
        body = sub.source if sub.atom else f"(?:{sub.source})"
        if not counted:
            lo, hi = {"*": (0, -1), "+": (1, -1), "?": (0, 1)}[op[0]]
        frame.items.append(_Item(f"{body}{op}", True, weight, node=("rep", sub.node, lo, hi, greedy)))
        return after

    # -- escapes and classes -------------------------------------------------------------------

    def _literal(self, code: int) -> _Item:
        text = re.escape(chr(code)) if code < 0x80 else _char(code)
        if self.flags.fold and chr(code).lower() != chr(code).upper():
            return _Item(f"(?i:{text})", atom=True, node=("lit", code, True))
        return _Item(text, atom=True, node=("lit", code, False))

    def _class_item(self, ranges: Ranges, negated: bool = False) -> _Item:
        # Go folds case before negating; Python's `(?i:[^...])` does the same, whereas a
        # precomputed complement under `(?i:...)` would let the other case back in.
        source = _class_source(ranges, negated)
        node = ("cls", tuple(_normalize(ranges)), negated, self.flags.fold)
        return _Item(f"(?i:{source})" if self.flags.fold else source, atom=True, node=node)

    def _escape_atom(self, frame: _Frame, i: int) -> int:
        p = self.pattern
        if i + 1 < len(p):
            c = p[i + 1]
            simple = {"A": r"\A", "z": r"\Z", "b": _WORD_BOUNDARY, "B": _NOT_WORD_BOUNDARY}
            if c in simple:
                kind = {"A": "bot", "z": "eot", "b": "wb", "B": "nwb"}[c]
                frame.items.append(_Item(simple[c], node=("assert", kind)))
                return i + 2
            if c == "C":
                raise self.error("invalid escape sequence", p[i : i + 2])
            if c == "Q":
                end = p.find("\\E", i + 2)
                lit = p[i + 2 :] if end < 0 else p[i + 2 : end]
                for ch in lit:
                    frame.items.append(self._literal(ord(ch)))
                return len(p) if end < 0 else end + 2
        got = self._unicode_class(i) or self._perl_class(i)
        if got is not None:
            ranges, negated, j = got
            frame.items.append(self._class_item(ranges, negated))
            return j
        code, j = self._escape(i)
        frame.items.append(self._literal(code))
        return j

    def _perl_class(self, i: int) -> tuple[Ranges, bool, int] | None:
        """`\\d \\s \\w` and negations: (ranges, negated, index after)."""
        p = self.pattern
        if i + 1 >= len(p) or p[i] != "\\" or p[i + 1].lower() not in _PERL:
            return None
        return list(_PERL[p[i + 1].lower()]), p[i + 1].isupper(), i + 2

    def _unicode_class(self, i: int) -> tuple[Ranges, bool, int] | None:
        p = self.pattern
        if i + 1 >= len(p) or p[i] != "\\" or p[i + 1] not in "pP":
            return None
        negated = p[i + 1] == "P"
        if i + 2 >= len(p):
            raise self.error("invalid character class range", p[i:])
        if p[i + 2] == "{":
            end = p.find("}", i + 2)
            if end < 0:
                raise self.error("invalid character class range", p[i:])
            seq, name, j = p[i : end + 1], p[i + 3 : end], end + 1
        else:
            seq, name, j = p[i : i + 3], p[i + 2], i + 3
        if name.startswith("^"):
            negated, name = not negated, name[1:]
        if name != "Any" and name not in _CATEGORIES:
            raise self.error("invalid character class range", seq)
        return list(_category_ranges(name)), negated, j

    def _escape(self, i: int) -> tuple[int, int]:
        """Go `parseEscape` at a backslash: (code point, index after)."""
        p = self.pattern
        j = i + 1
        if j >= len(p):
            raise self.error("trailing backslash at end of expression", "")
        c = p[j]
        j += 1
        if c.isascii() and not c.isalnum():
            return ord(c), j
        if c in "1234567" and (j >= len(p) or not "0" <= p[j] <= "7"):
            raise self.error("invalid escape sequence", p[i:j])
        if c in "01234567":
            value = int(c)
            for _ in range(2):
                if j < len(p) and "0" <= p[j] <= "7":
                    value = value * 8 + int(p[j])
                    j += 1
            return value, j
        if c == "x":
            return self._hex_escape(i, j)
        controls = {"a": 7, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11}
        if c in controls:
            return controls[c], j
        raise self.error("invalid escape sequence", p[i:j])

    def _hex_escape(self, i: int, j: int) -> tuple[int, int]:
        p = self.pattern
        hexdigits = "0123456789abcdefABCDEF"
        if j >= len(p):
            raise self.error("invalid escape sequence", p[i:j])
        if p[j] == "{":
            j += 1
            value = 0
            count = 0
            while True:
                if j >= len(p):
                    raise self.error("invalid escape sequence", p[i:j])
                ch = p[j]
                j += 1
                if ch == "}":
                    break
                if ch not in hexdigits:
                    raise self.error("invalid escape sequence", p[i:j])
                value = value * 16 + int(ch, 16)
                if value > MAX_RUNE:
                    raise self.error("invalid escape sequence", p[i:j])
                count += 1
            if count == 0:
                raise self.error("invalid escape sequence", p[i:j])
            return value, j
        first = p[j]
        j += 1
        second = p[j] if j < len(p) else ""
        j = min(j + 1, len(p)) if second else j
        if first not in hexdigits or not second or second not in hexdigits:
            raise self.error("invalid escape sequence", p[i:j])
        return int(first + second, 16), j

    def _class(self, i: int) -> tuple[Ranges, bool, int]:
        """Go `parseClass` at `[`: (ranges, negated, index after `]`)."""
        p = self.pattern
        whole = p[i:]
        j = i + 1
        negated = j < len(p) and p[j] == "^"
        if negated:
            j += 1
        ranges: Ranges = []
        first = True
        while j >= len(p) or p[j] != "]" or first:
            first = False
            if p.startswith("[:", j):
                named = self._posix_class(j)
                if named is not None:
                    extra, j = named
                    ranges += extra
                    continue
            got = self._unicode_class(j) or self._perl_class(j)
            if got is not None:
                extra, negated_group, j = got
                ranges += _negate(extra) if negated_group else extra
                continue
            start = j
            lo, j = self._class_char(j, whole)
            hi = lo
            if j + 1 < len(p) and p[j] == "-" and p[j + 1] != "]":
                hi, j = self._class_char(j + 1, whole)
                if hi < lo:
                    raise self.error("invalid character class range", p[start:j])
            ranges.append((lo, hi))
        return ranges, negated, j + 1

    def _class_char(self, j: int, whole: str) -> tuple[int, int]:
        p = self.pattern
        if j >= len(p):
            raise self.error("missing closing ]", whole)
        if p[j] == "\\":
            return self._escape(j)
        return ord(p[j]), j + 1

    def _posix_class(self, j: int) -> tuple[Ranges, int] | None:
        p = self.pattern
        end = p.find(":]", j + 2)
        if end < 0:
            return None
        name = p[j + 2 : end]
        negated = name.startswith("^")
        ranges = _POSIX.get(name[1:] if negated else name)
        if ranges is None:
            raise self.error("invalid character class range", p[j : end + 2])
        return (_negate(ranges) if negated else list(ranges)), end + 2


@lru_cache(maxsize=512)
def compile_go(pattern: str, engine: Literal["auto", "re", "vm"] = "auto") -> GoRegexp:
    """Compile like Go's `regexp.Compile`; raises RegexSyntaxError with Go's message.

    `engine` "auto" uses Python's `re` unless the pattern needs the linear-time VM.
    """
    parser = _Parser(pattern)
    source = parser.parse()
    names = tuple(parser.names)
    use_vm = engine == "vm" or (engine == "auto" and needs_linear_time(parser.root))
    try:
        program = compile_program(parser.root, len(names)) if use_vm else None
        compiled = re.compile(source)
    except (RecursionError, re.error) as err:
        # Only hostile nesting gets here; Go refuses nesting beyond depth 1000 the same way.
        raise RegexSyntaxError("expression nests too deeply", pattern) from err
    return GoRegexp(pattern, compiled, names, program)


def expand(template: str, match: Match, names: tuple[str, ...]) -> str:
    """Go `regexp.Expand`: `$1`, `$name`, `${name}`, `$$`; unknown or unmatched groups expand to ""."""
    out: list[str] = []
    rest = template
    while rest:
        before, dollar, after = rest.partition("$")
        out.append(before)
        if not dollar:
            break
        rest = after
        if rest.startswith("$"):
            out.append("$")
            rest = rest[1:]
            continue
        parsed = _template_name(rest)
        if parsed is None:
            out.append("$")
            continue
        name, rest = parsed
        index = _group_number(name)
        if index is None:
            index = next((k for k, n in enumerate(names) if n == name and match.start(k) >= 0), -1)
        if 0 <= index < len(names) and match.start(index) >= 0:
            out.append(match.group(index) or "")
    return "".join(out)


def _template_name(text: str) -> tuple[str, str] | None:
    brace = text.startswith("{")
    body = text[1:] if brace else text
    k = 0
    # Go takes the longest run of letters, digits and `_` (Unicode-aware), so `$1_x` names `1_x`.
    while k < len(body) and (body[k].isalpha() or unicodedata.category(body[k]) == "Nd" or body[k] == "_"):
        k += 1
    if k == 0:
        return None
    name = body[:k]
    if brace:
        if k >= len(body) or body[k] != "}":
            return None
        k += 1
    return name, body[k:]


def _group_number(name: str) -> int | None:
    if not name.isascii() or not name.isdigit():
        return None
    if len(name) > 1 and name[0] == "0":
        return None
    return int(name) if len(name) <= 9 else None
