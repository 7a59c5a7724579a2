"""Go `regexp` for `filterTags.pattern` and `exclusionList`: Go's parser, RE2's matcher.

Flux compiles these patterns with Go's `regexp.Compile`. This module parses a pattern the way Go's
`regexp/syntax` (Go 1.22, image-reflector-controller's go.mod) does and rejects what Go rejects with
Go's error text: syntax, `\\C`, the repeat-count product, and the limits Go added against hostile
patterns (tree height 1000 "expression nests too deeply", 3.3M compiled instructions or 32M class
runes "expression too large"). The parsed pattern is then written out as an explicit RE2 pattern
(unnamed groups, `\\x{..}` literals, flags per atom) and matched by `google-re2`, the C++ engine Go's
package was ported from: linear time, Go's leftmost-first submatches, Unicode scripts and case folding.

What RE2 does not give stays here: Go's error texts and limits, duplicate group names (Go allows them,
RE2 does not, so names live in `group_names`), Go's `$1`/`${name}` expansion. RE2 is given an 8 MiB
program budget: everything Go rejects for size fails well inside it, in milliseconds. A pattern Go
would still accept but RE2 cannot fit (a few hundred thousand instructions and more, far beyond any
tag filter) is reported as "expression too large" too, rather than spending seconds and hundreds of MB.
Known gaps: Go's and RE2's Unicode tables may be a version apart.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import field
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Protocol

from lab.core.record import dataclass

if TYPE_CHECKING:
    import re2

MAX_RUNE = 0x10FFFF
MAX_REPEAT = 1000

Ranges = list[tuple[int, int]]


class RegexSyntaxError(ValueError):
    """A pattern Go's `regexp.Compile` rejects; `str()` is Go's error text."""

    def __init__(self, code: str, expr: str) -> None:
        super().__init__(f"error parsing regexp: {code}: `{expr}`")
        self.code = code
        self.expr = expr


class Match(Protocol):
    """What a search returns (RE2's match object): spans and groups by index; -1/None if unmatched."""

    def start(self, group: int = 0) -> int: ...

    def span(self, group: int = 0) -> tuple[int, int]: ...

    def group(self, group: int = 0) -> str | None: ...


class _TextMatch:
    """A match on text that had lone surrogates: spans from RE2, groups cut from the original text."""

    def __init__(self, text: str, found: Match) -> None:
        self._text = text
        self._found = found

    def start(self, group: int = 0) -> int:
        return self._found.start(group)

    def span(self, group: int = 0) -> tuple[int, int]:
        return self._found.span(group)

    def group(self, group: int = 0) -> str | None:
        lo, hi = self._found.span(group)
        return None if lo < 0 else self._text[lo:hi]


@dataclass(frozen=True)
class GoRegexp:
    """A compiled Go pattern: `group_names[i]` is the name of capture group i ("" if unnamed).

    `source` is the RE2 pattern it runs as; `compiled` the RE2 object (captures for `search`),
    `tester` the same pattern without captures, for yes/no questions (about twice as fast).
    """

    pattern: str
    source: str
    group_names: tuple[str, ...]
    compiled: re2._Regexp
    tester: re2._Regexp
    lines: re2._Regexp | None = None  # per-line variant when nothing in the pattern can match "\n"

    def match_each(self, texts: Sequence[str]) -> list[bool]:
        """`matches` for many texts at once (an exclusionList over a whole scan).

        When no part of the pattern can match a newline, the texts are joined by newlines and RE2
        scans them in one pass with `^`/`$`/`\\A`/`\\z` made line anchors: a line holds a match
        exactly when its text does. Otherwise (or when a text has a newline) one search per text.
        """
        joined = "\n".join(texts)
        if self.lines is not None and texts and joined.count("\n") == len(texts) - 1:
            try:
                data = joined.encode("utf-8")
            except UnicodeEncodeError:
                data = b""
            if data:
                # The binding's RE2 object on the bytes directly: byte offsets are all that is
                # needed to count lines, so the wrapper's character-offset bookkeeping is skipped.
                match = self.lines._regexp.Match
                hit = [False] * len(texts)
                line = last = pos = 0
                end = len(data)
                while pos <= end:
                    start, stop = match(_UNANCHORED, data, pos, end)[0]
                    if start < 0:
                        break
                    line += data.count(b"\n", last, start)
                    last = start
                    hit[line] = True
                    # Nothing more to learn on this line: go on at the next one.
                    nxt = data.find(b"\n", max(stop, start))
                    if nxt < 0:
                        break
                    line += data.count(b"\n", last, nxt + 1)
                    last = pos = nxt + 1
                return hit
        return [self.matches(text) for text in texts]

    def search(self, text: str) -> Match | None:
        # A lone surrogate (from a JSON `\\ud800` escape) cannot be UTF-8. Go sees invalid bytes as
        # U+FFFD, one character each, so spans on the repaired text hold for the original.
        clean = text if text.isascii() or _encodable(text) else _repair(text)
        # The capture-free DFA finds the match (or its absence) fast; submatches are then computed
        # over that span only, anchored at both ends: the same leftmost-first path, far less work.
        whole = self.tester.search(clean)
        if whole is None:
            return None
        start, end = whole.span()
        found: Match | None = self.compiled.fullmatch(clean, start, end)
        if found is None:  # pragma: no cover - the span came from the same pattern
            found = self.compiled.search(clean)
        if found is None or clean is text:
            return found
        return _TextMatch(text, found)

    def matches(self, text: str) -> bool:
        """Whether the pattern matches anywhere in `text` (Go `MatchString`)."""
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError:
            data = _repair(text).encode("utf-8")
        # The binding's own RE2 object, skipping the wrapper's offset bookkeeping (a third of the
        # cost of an exclusionList over 100k tags); a match's span start is never -1.
        found: tuple[int, int] = self.tester._regexp.Match(_UNANCHORED, data, 0, len(data))[0]
        return found[0] >= 0

    def expand(self, template: str, match: Match) -> str:
        """Go `Regexp.ExpandString` for one match."""
        return expand(template, match, self.group_names)


_UNANCHORED: Any = None


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _repair(text: str) -> str:
    return "".join("\ufffd" if "\ud800" <= ch <= "\udfff" else ch for ch in text)


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
_CATEGORIES = {
    "C", "Cc", "Cf", "Co", "Cs", "L", "Ll", "Lm", "Lo", "Lt", "Lu", "M", "Mc", "Me", "Mn",
    "N", "Nd", "Nl", "No", "P", "Pc", "Pd", "Pe", "Pf", "Pi", "Po", "Ps",
    "S", "Sc", "Sk", "Sm", "So", "Z", "Zl", "Zp", "Zs",
}  # fmt: skip
# Go 1.22's `unicode.Scripts` (Unicode 15.0), the names `\\p{...}` accepts besides categories and Any.
_SCRIPTS = frozenset(
    """Adlam Ahom Anatolian_Hieroglyphs Arabic Armenian Avestan Balinese Bamum Bassa_Vah Batak Bengali
    Bhaiksuki Bopomofo Brahmi Braille Buginese Buhid Canadian_Aboriginal Carian Caucasian_Albanian
    Chakma Cham Cherokee Chorasmian Common Coptic Cuneiform Cypriot Cypro_Minoan Cyrillic Deseret
    Devanagari Dives_Akuru Dogra Duployan Egyptian_Hieroglyphs Elbasan Elymaic Ethiopic Georgian
    Glagolitic Gothic Grantha Greek Gujarati Gunjala_Gondi Gurmukhi Han Hangul Hanifi_Rohingya Hanunoo
    Hatran Hebrew Hiragana Imperial_Aramaic Inherited Inscriptional_Pahlavi Inscriptional_Parthian
    Javanese Kaithi Kannada Katakana Kawi Kayah_Li Kharoshthi Khitan_Small_Script Khmer Khojki Khudawadi
    Lao Latin Lepcha Limbu Linear_A Linear_B Lisu Lycian Lydian Mahajani Makasar Malayalam Mandaic
    Manichaean Marchen Masaram_Gondi Medefaidrin Meetei_Mayek Mende_Kikakui Meroitic_Cursive
    Meroitic_Hieroglyphs Miao Modi Mongolian Mro Multani Myanmar Nabataean Nag_Mundari Nandinagari
    New_Tai_Lue Newa Nko Nushu Nyiakeng_Puachue_Hmong Ogham Ol_Chiki Old_Hungarian Old_Italic
    Old_North_Arabian Old_Permic Old_Persian Old_Sogdian Old_South_Arabian Old_Turkic Old_Uyghur Oriya
    Osage Osmanya Pahawh_Hmong Palmyrene Pau_Cin_Hau Phags_Pa Phoenician Psalter_Pahlavi Rejang Runic
    Samaritan Saurashtra Sharada Shavian Siddham SignWriting Sinhala Sogdian Sora_Sompeng Soyombo
    Sundanese Syloti_Nagri Syriac Tagalog Tagbanwa Tai_Le Tai_Tham Tai_Viet Takri Tamil Tangsa Tangut
    Telugu Thaana Thai Tibetan Tifinagh Tirhuta Toto Ugaritic Vai Vithkuqi Wancho Warang_Citi Yezidi Yi
    Zanabazar_Square""".split()  # noqa: SIM905
)
# Ranges per category (maximal runs, Python's Unicode 14 tables; Go's 15.0 differ by a few), for
# Go's rune budget: each `\\pL` costs Go 2 runes per range, so ~26,000 of them are "too large".
# Scripts are counted as one range: Go's limit needs far more of them than RE2's budget allows.
_CATEGORY_RANGES = {
    "C": 26, "Cc": 2, "Cf": 21, "Co": 3, "Cs": 1, "L": 648, "Ll": 657, "Lm": 69, "Lo": 501, "Lt": 10,
    "Lu": 646, "M": 299, "Mc": 177, "Me": 5, "Mn": 336, "N": 134, "Nd": 62, "Nl": 12, "No": 71,
    "P": 189, "Pc": 6, "Pd": 19, "Pe": 76, "Pf": 10, "Pi": 11, "Po": 185, "Ps": 79, "S": 234, "Sc": 21,
    "Sk": 31, "Sm": 64, "So": 186, "Z": 8, "Zl": 1, "Zp": 1, "Zs": 7, "Any": 1,
}  # fmt: skip
# Go's limits (regexp/syntax parse.go): tree height, compiled size in instructions, runes in classes.
MAX_HEIGHT = 1000
MAX_SIZE = (128 << 20) // 40
MAX_RUNES = (128 << 20) // 4
# RE2's program budget: Go-sized hostile patterns fail inside it in milliseconds and a few MB.
RE2_MAX_MEM = 8 << 20


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


def _char(code: int) -> str:
    ch = chr(code)
    if ch.isascii() and ch.isalnum():
        return ch
    return f"\\x{{{code:x}}}"


def _class_source(ranges: Ranges, negated: bool = False, names: tuple[str, ...] = ()) -> str:
    ranges = _normalize(ranges)
    if not ranges and not names:
        # RE2 has no empty class literal; the full range (negated or not) says the same.
        return "[\\x{0}-\\x{10ffff}]" if negated else "[^\\x{0}-\\x{10ffff}]"
    parts = [_char(lo) if lo == hi else f"{_char(lo)}-{_char(hi)}" for lo, hi in ranges]
    return ("[^" if negated else "[") + "".join(parts) + "".join(names) + "]"


@dataclass
class _Flags:
    fold: bool = False
    multiline: bool = False
    dotnl: bool = False
    ungreedy: bool = False

    def copy(self) -> _Flags:
        return _Flags(self.fold, self.multiline, self.dotnl, self.ungreedy)


# The parsed pattern: ("lit", code, fold), ("cls", ranges, negated, fold, names, cost), ("any", dotnl),
# ("assert", kind), ("cap", index, node), ("alt", [node]), ("cat", [node]),
# ("rep", node, min, max, greedy) with max -1 for unbounded. `names` are `\\p{..}`/`\\P{..}` class
# pieces passed to RE2 as written; `cost` estimates RE2's work to compile the class.
Node = tuple[Any, ...]


@dataclass
class _Item:
    repeatable: bool = True
    weight: int = 1  # largest product of counted repeats on a path inside (Go's repeatIsValid)
    node: Node = ("cat", [])


@dataclass
class _Frame:
    start: int  # index of the group's "(" in the pattern, -1 for the top level
    saved: _Flags
    capture: int = -1
    alternatives: list[list[_Item]] = field(default_factory=lambda: [[]])

    @property
    def items(self) -> list[_Item]:
        return self.alternatives[-1]

    def weight(self) -> int:
        return max((it.weight for alt in self.alternatives for it in alt), default=1)

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
        self.runes = 0  # Go's p.numRunes: runes of every literal and class pushed
        self.nodes = 0  # atoms and groups made, for the lab's own bound (MAX_NODES)
        self.open_captures = 0

    def error(self, code: str, expr: str) -> RegexSyntaxError:
        return RegexSyntaxError(code, expr)

    def parse(self) -> Node:
        p = self.pattern
        stack = [_Frame(-1, self.flags.copy())]
        i = 0
        last_repeat_start = -1
        while i < len(p):
            c = p[i]
            repeat_start = -1
            frame = stack[-1]
            if c == "(":
                self._count_node()  # a group is a frame and a node: it counts twice
                self._count_node()
                if p.startswith("(?", i):
                    i = self._perl_group(stack, i)
                else:
                    self.names.append("")
                    self._open_capture()
                    stack.append(_Frame(i, self.flags.copy(), len(self.names) - 1))
                    i += 1
            elif c == "|":
                frame.alternatives.append([])
                i += 1
            elif c == ")":
                if len(stack) == 1:
                    raise self.error("unexpected )", p)
                stack.pop()
                if frame.capture >= 0:
                    self.open_captures -= 1
                self.flags = frame.saved
                stack[-1].items.append(_Item(True, frame.weight(), frame.node()))
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
                ranges, negated, names, i = self._class(i)
                frame.items.append(self._class_item(ranges, negated, names))
            elif c == ".":
                dotnl = self.flags.dotnl
                frame.items.append(_Item(node=("any", dotnl)))
                i += 1
            elif c == "^":
                multi = self.flags.multiline
                node = ("assert", "bol" if multi else "bot")
                frame.items.append(_Item(node=node))
                i += 1
            elif c == "$":
                multi = self.flags.multiline
                node = ("assert", "eol" if multi else "eot")
                frame.items.append(_Item(node=node))
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
        return self.root

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
            self._open_capture()
            stack.append(_Frame(i, self.flags.copy(), len(self.names) - 1))
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
                    stack.append(_Frame(i, self.flags.copy()))
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
        if not counted:
            lo, hi = {"*": (0, -1), "+": (1, -1), "?": (0, 1)}[op[0]]
        frame.items.append(_Item(True, weight, ("rep", sub.node, lo, hi, greedy)))
        return after

    # -- escapes and classes -------------------------------------------------------------------

    def _open_capture(self) -> None:
        # Every capture is a level of Go's tree: more open at once than Go's height allows is
        # refused now, before a hostile pattern makes the lab build a tree Go never would.
        self.open_captures += 1
        if self.open_captures >= MAX_HEIGHT:
            raise self.error("expression nests too deeply", self.pattern)

    def _count_runes(self, count: int) -> None:
        # Go panics with ErrLarge as soon as the pushed runes pass its budget (Expr: the whole pattern).
        self.runes += count
        if self.runes > MAX_RUNES:
            raise self.error("expression too large", self.pattern)
        self._count_node()

    def _count_node(self) -> None:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise self.error(LAB_TOO_LARGE, self.pattern)

    def _literal(self, code: int) -> _Item:
        self._count_runes(1)
        return _Item(node=("lit", code, self.flags.fold))

    def _class_item(self, ranges: Ranges, negated: bool = False, names: tuple[str, ...] = ()) -> _Item:
        # Go folds case before negating; RE2's `(?i:[^...])` does the same, whereas a precomputed
        # complement under `(?i:...)` would let the other case back in.
        ranges = _normalize(ranges)
        self._count_runes(2 * (len(ranges) + sum(_named_ranges(name) for name in names)))
        # RE2 needs ~2 µs per range to compile, ~4x that when it folds case (measured).
        named = sum(_named_cost(name) for name in names)
        cost = (len(ranges) + named + (4 if negated else 0)) * (4 if self.flags.fold else 1)
        return _Item(node=("cls", tuple(ranges), negated, self.flags.fold, names, cost))

    def _escape_atom(self, frame: _Frame, i: int) -> int:
        p = self.pattern
        if i + 1 < len(p):
            c = p[i + 1]
            kinds = {"A": "bot", "z": "eot", "b": "wb", "B": "nwb"}
            if c in kinds:
                frame.items.append(_Item(node=("assert", kinds[c])))
                return i + 2
            if c == "C":
                raise self.error("invalid escape sequence", p[i : i + 2])
            if c == "Q":
                end = p.find("\\E", i + 2)
                lit = p[i + 2 :] if end < 0 else p[i + 2 : end]
                for ch in lit:
                    frame.items.append(self._literal(ord(ch)))
                return len(p) if end < 0 else end + 2
        named = self._unicode_class(i)
        if named is not None:
            piece, j = named
            frame.items.append(self._class_item([], False, (piece,)))
            return j
        got = self._perl_class(i)
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

    def _unicode_class(self, i: int) -> tuple[str, int] | None:
        """`\\pN`, `\\p{Name}`, `\\P{^Name}`: (the class as RE2 spells it, index after)."""
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
        if name != "Any" and name not in _CATEGORIES and name not in _SCRIPTS:
            raise self.error("invalid character class range", seq)
        return f"\\{'P' if negated else 'p'}{{{name}}}", j

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

    def _class(self, i: int) -> tuple[Ranges, bool, tuple[str, ...], int]:
        """Go `parseClass` at `[`: (ranges, negated, `\\p` pieces, index after `]`)."""
        p = self.pattern
        whole = p[i:]
        j = i + 1
        negated = j < len(p) and p[j] == "^"
        if negated:
            j += 1
        ranges: Ranges = []
        names: list[str] = []
        first = True
        while j >= len(p) or p[j] != "]" or first:
            first = False
            self._count_node()
            if p.startswith("[:", j):
                posix = self._posix_class(j)
                if posix is not None:
                    extra, j = posix
                    ranges += extra
                    continue
            named = self._unicode_class(j)
            if named is not None:
                piece, j = named
                names.append(piece)
                continue
            got = self._perl_class(j)
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
        return ranges, negated, tuple(names), j + 1

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


def _named_ranges(piece: str) -> int:
    """Ranges Go's table has for a `\\p{Name}` piece (scripts: see _CATEGORY_RANGES)."""
    return _CATEGORY_RANGES.get(piece[3:-1], 1)


def _named_cost(piece: str) -> int:
    """RE2's compile work for a `\\p{Name}` piece: its ranges; scripts have up to ~170 (Common)."""
    return _CATEGORY_RANGES.get(piece[3:-1], 128)


_ASSERTS = {"bot": "\\A", "eot": "\\z", "bol": "(?m:^)", "eol": "(?m:$)", "wb": "\\b", "nwb": "\\B"}


def _line_safe(root: Node) -> bool:
    """Whether no part of the tree can match a newline (so matches never span joined lines)."""
    stack = [root]
    while stack:
        node = stack.pop()
        kind = node[0]
        if kind == "lit" and node[1] == 0x0A:
            return False
        if kind == "any" and node[1]:
            return False
        if kind == "cls":
            _, ranges, negated, _fold, names, _cost = node
            holds_newline = any(lo <= 0x0A <= hi for lo, hi in ranges)
            if names or holds_newline != negated:  # the class matches "\n"
                return False
        if kind in ("cap", "rep"):
            stack.append(node[2] if kind == "cap" else node[1])
        elif kind in ("cat", "alt"):
            stack.extend(node[1])
    return True


def _emit(root: Node, asserts: dict[str, str] | None = None) -> str:
    """The RE2 pattern for a parsed tree; iterative, since the tree may be 1000 levels deep."""
    asserts = asserts or _ASSERTS
    out: list[str] = []
    stack: list[Node | str] = [root]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            out.append(item)
            continue
        kind = item[0]
        if kind == "lit":
            char = _char(item[1])
            out.append(f"(?i:{char})" if item[2] else char)
        elif kind == "cls":
            _, ranges, negated, fold, names, _cost = item
            source = _class_source(list(ranges), negated, names)
            out.append(f"(?i:{source})" if fold else source)
        elif kind == "any":
            out.append("(?s:.)" if item[1] else "[^\\n]")
        elif kind == "assert":
            out.append(asserts[item[1]])
        elif kind == "cap":
            stack += [")", item[2], "("]
        elif kind == "cat":
            stack.extend(reversed(item[1]))
        elif kind == "alt":
            parts: list[Node | str] = ["(?:"]
            for k, alt in enumerate(item[1]):
                parts += ["|", alt] if k else [alt]
            parts.append(")")
            stack.extend(reversed(parts))
        else:  # rep
            _, body, lo, hi, greedy = item
            op = {(0, -1): "*", (1, -1): "+", (0, 1): "?"}.get((lo, hi)) if lo != hi else None
            if op is None:
                op = f"{{{lo}}}" if lo == hi else f"{{{lo},}}" if hi < 0 else f"{{{lo},{hi}}}"
            stack += [")" + op + ("" if greedy else "?"), body, "(?:"]
    return "".join(out)


def _measure(root: Node) -> tuple[int, int, int]:
    """(Go's tree height, Go's compiled size, an estimate of RE2's compile work) of a parsed tree.

    Height and size follow Go's `calcHeight`/`calcSize` on the tree Go would build (runs of literals
    are one node, one-element concatenations are their element). Computed bottom-up without recursion.
    """
    done: dict[int, tuple[int, int, int]] = {}
    stack: list[tuple[Node, bool]] = [(root, False)]
    leaf = {"lit": (1, 1, 1), "any": (1, 1, 1), "assert": (1, 1, 1)}
    while stack:
        node, ready = stack.pop()
        kind = node[0]
        if kind in leaf:
            done[id(node)] = leaf[kind]
            continue
        subs: list[Node] = []
        if kind in ("cap", "rep"):
            subs = [node[2] if kind == "cap" else node[1]]
        elif kind in ("cat", "alt"):
            subs = node[1]
        if subs and not ready:
            stack.append((node, True))
            stack.extend((sub, False) for sub in subs)
            continue
        got = [done[id(sub)] for sub in subs]
        height = 1 + max((h for h, _, _ in got), default=0)
        size = sum(z for _, z, _ in got)
        work = sum(w for _, _, w in got)
        if kind == "cls":
            height, size, work = 1, 1, node[5]
        elif kind == "cap":
            size, work = size + 2, work + 2
        elif kind == "cat":
            # A lone element or a run of literals is no node of its own in Go's tree.
            if len(subs) == 1 or (subs and all(sub[0] == "lit" and sub[2] == subs[0][2] for sub in subs)):
                height -= 1
            work = max(work, 1)
        elif kind == "alt":
            size += len(subs) - 1
        elif kind == "rep":
            _, _, lo, hi, _ = node
            if hi == -1:
                size = 2 + size if lo == 0 else 1 + lo * size
                work = work * max(lo, 1) + 2
            else:
                size = hi * size + (hi - lo)
                work = work * hi + 1
        done[id(node)] = (max(height, 1), max(size, 1), max(work, 1))
    return done[id(root)]


#: Literals and classes the lab parses in one pattern (Go has no such bound; Flux patterns are short).
MAX_NODES = 30_000
#: Capture groups the lab allows in one pattern (Go has no bound; Flux patterns use a few). RE2 copies
#: every slot per step of a capturing search, so the cost grows with groups x match length.
MAX_CAPTURES = 1000
LAB_TOO_LARGE = "expression too large for the lab's matcher (Go would compile it)"

#: RE2 compile work the lab allows (~1 µs a unit): about 150 `\\pL` or 250k literal steps. Go's own
#: limits are far higher, but RE2 needs ~2 ms and ~1 MB per `\\pL` it compiles.
MAX_WORK = 250_000


@lru_cache(maxsize=512)
def compile_go(pattern: str) -> GoRegexp:
    """Compile like Go's `regexp.Compile`; raises RegexSyntaxError with Go's message."""
    import re2

    global _UNANCHORED
    _UNANCHORED = re2._Anchor.UNANCHORED
    parser = _Parser(pattern)
    root = parser.parse()
    height, size, work = _measure(root)
    if height > MAX_HEIGHT:
        raise RegexSyntaxError("expression nests too deeply", pattern)
    if size > MAX_SIZE:
        raise RegexSyntaxError("expression too large", pattern)
    if work > MAX_WORK or len(parser.names) > MAX_CAPTURES + 1:
        raise RegexSyntaxError(LAB_TOO_LARGE, pattern)
    source = _emit(root)
    options = re2.Options()
    options.log_errors = False
    options.max_mem = RE2_MAX_MEM
    try:
        compiled = re2.compile(source, options)
        options.never_capture = True
        tester = re2.compile(source, options)
    except re2.error as err:
        if "too large" in str(err):
            raise RegexSyntaxError(LAB_TOO_LARGE, pattern) from None
        raise RegexSyntaxError(f"the lab's matcher refused it ({err})", pattern) from None
    lines = None
    if _line_safe(root):
        line_asserts = {**_ASSERTS, "bot": "(?m:^)", "eot": "(?m:$)"}
        lines = re2.compile(_emit(root, line_asserts), options)
    return GoRegexp(pattern, source, tuple(parser.names), compiled, tester, lines)


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
