"""A linear-time matcher (Pike VM) for Go regexps that Python's backtracking could take forever on.

Go's regexp never backtracks, so a learner's `filterTags.pattern` such as `^(a+)+$` is harmless in Flux
but can hang Python's `re` on a long tag. Patterns with nested or many variable repetitions are run
here instead: the same leftmost-first thread priorities as Go's own NFA simulation (regexp/exec.go),
so matches and submatches are Go's, in time linear in the text for a fixed pattern.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

Node = tuple[Any, ...]
CharTest = Callable[[str], bool]

_CHAR, _SPLIT, _JMP, _SAVE, _ASSERT, _MATCH = range(6)
MAX_UNBOUNDED_RUNS = 3


def _variants(ch: str) -> set[str]:
    out = {ch}
    for other in (ch.lower(), ch.upper(), ch.casefold()):
        if len(other) == 1:
            out.add(other)
    return out


def _in_ranges(starts: Sequence[int], ends: Sequence[int], code: int) -> bool:
    k = bisect_right(starts, code) - 1
    return k >= 0 and code <= ends[k]


def _char_test(node: Node) -> CharTest:
    kind = node[0]
    if kind == "lit":
        _, code, fold = node
        if not fold:
            target = chr(code)
            return lambda ch: ch == target
        accepted = _variants(chr(code))
        return lambda ch: ch in accepted or bool(_variants(ch) & accepted)
    if kind == "any":
        return (lambda ch: True) if node[1] else (lambda ch: ch != "\n")
    _, ranges, negated, fold = node
    starts = [lo for lo, _ in ranges]
    ends = [hi for _, hi in ranges]

    def test(ch: str) -> bool:
        if fold:
            hit = any(_in_ranges(starts, ends, ord(v)) for v in _variants(ch))
        else:
            hit = _in_ranges(starts, ends, ord(ch))
        return bool(hit != negated)

    return test


@dataclass(frozen=True)
class Program:
    """Instructions: (op, arg1, arg2); `ncap` = 2 x (groups + 1) save slots."""

    code: tuple[tuple[Any, ...], ...]
    ncap: int


class _Compiler:
    def __init__(self) -> None:
        self.code: list[list[Any]] = []

    def emit(self, op: int, a: Any = None, b: Any = None) -> int:
        self.code.append([op, a, b])
        return len(self.code) - 1

    def compile(self, node: Node) -> None:
        kind = node[0]
        if kind in ("lit", "cls", "any"):
            self.emit(_CHAR, _char_test(node))
        elif kind == "assert":
            self.emit(_ASSERT, node[1])
        elif kind == "cat":
            for sub in node[1]:
                self.compile(sub)
        elif kind == "cap":
            self.emit(_SAVE, 2 * node[1])
            self.compile(node[2])
            self.emit(_SAVE, 2 * node[1] + 1)
        elif kind == "alt":
            jumps: list[int] = []
            subs = node[1]
            for k, sub in enumerate(subs):
                if k < len(subs) - 1:
                    split = self.emit(_SPLIT)
                    self.code[split][1] = len(self.code)
                    self.compile(sub)
                    jumps.append(self.emit(_JMP))
                    self.code[split][2] = len(self.code)
                else:
                    self.compile(sub)
            for j in jumps:
                self.code[j][1] = len(self.code)
        elif kind == "rep":
            self._repeat(node[1], node[2], node[3], node[4])
        else:  # pragma: no cover - the parser builds no other node
            raise ValueError(f"unknown regexp node {kind}")

    def _split(self, greedy: bool, body: int, out: int) -> tuple[int, int]:
        return (body, out) if greedy else (out, body)

    def _star(self, sub: Node, greedy: bool) -> None:
        if _nullable(sub):
            # Go compiles x* as (x+)? when x can match empty, for the right priorities (go.dev/issue/46123).
            self._quest(("rep", sub, 1, -1, greedy), greedy)
            return
        loop = self.emit(_SPLIT)
        self.compile(sub)
        self.emit(_JMP, loop)
        self.code[loop][1], self.code[loop][2] = self._split(greedy, loop + 1, len(self.code))

    def _quest(self, sub: Node, greedy: bool, then: Callable[[], None] | None = None) -> None:
        split = self.emit(_SPLIT)
        self.compile(sub)
        if then is not None:
            then()
        self.code[split][1], self.code[split][2] = self._split(greedy, split + 1, len(self.code))

    def _repeat(self, sub: Node, lo: int, hi: int, greedy: bool) -> None:
        # Go simplifies x{n,m} to n copies of x, then nested optional copies: x{2,4} = xx(x(x)?)?.
        if hi == -1:
            if lo == 0:
                self._star(sub, greedy)
                return
            for _ in range(lo - 1):
                self.compile(sub)
            start = len(self.code)
            self.compile(sub)
            split = self.emit(_SPLIT)
            self.code[split][1], self.code[split][2] = self._split(greedy, start, split + 1)
            return
        for _ in range(lo):
            self.compile(sub)
        # Each optional copy may be skipped, and skipping one skips all that follow it.
        splits = []
        for _ in range(hi - lo):
            splits.append(self.emit(_SPLIT))
            self.compile(sub)
        end = len(self.code)
        for split in splits:
            self.code[split][1], self.code[split][2] = self._split(greedy, split + 1, end)


def _children(node: Node) -> list[Node]:
    kind = node[0]
    if kind in ("cat", "alt"):
        return list(node[1])
    if kind == "cap":
        return [node[2]]
    if kind == "rep":
        return [node[1]]
    return []


def _nullable(root: Node) -> bool:
    """Whether the node can match the empty string (post-order, no recursion)."""
    done: dict[int, bool] = {}
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if id(node) in done:
            continue
        kids = _children(node)
        if not expanded and kids:
            stack.append((node, True))
            stack.extend((kid, False) for kid in kids)
            continue
        kind = node[0]
        if kind in ("lit", "cls", "any"):
            value = False
        elif kind == "cat":
            value = all(done[id(k)] for k in kids)
        elif kind == "alt":
            value = any(done[id(k)] for k in kids)
        elif kind == "cap":
            value = done[id(kids[0])]
        elif kind == "rep":
            value = node[2] == 0 or done[id(kids[0])]
        else:  # assertions
            value = True
        done[id(node)] = value
    return done[id(root)]


def compile_program(root: Node, groups: int) -> Program:
    compiler = _Compiler()
    compiler.compile(("cap", 0, root))
    compiler.emit(_MATCH)
    return Program(tuple(tuple(instr) for instr in compiler.code), 2 * groups)


def _is_word(text: str, pos: int) -> bool:
    if pos < 0 or pos >= len(text):
        return False
    ch = text[pos]
    return ch == "_" or (ch.isascii() and ch.isalnum())


def _assert(kind: str, text: str, pos: int) -> bool:
    if kind == "bot":
        return pos == 0
    if kind == "eot":
        return pos == len(text)
    if kind == "bol":
        return pos == 0 or text[pos - 1] == "\n"
    if kind == "eol":
        return pos == len(text) or text[pos] == "\n"
    boundary = _is_word(text, pos - 1) != _is_word(text, pos)
    return boundary if kind == "wb" else not boundary


def _add(
    program: Program, threads: list[tuple[int, tuple[int, ...]]], seen: set[int], pc: int,
    caps: tuple[int, ...], text: str, pos: int,
) -> None:  # fmt: skip
    code = program.code
    stack = [(pc, caps)]
    while stack:
        pc, caps = stack.pop()
        if pc in seen:
            continue
        seen.add(pc)
        op, a, b = code[pc]
        if op == _JMP:
            stack.append((a, caps))
        elif op == _SPLIT:
            stack.append((b, caps))
            stack.append((a, caps))  # popped first: the preferred branch
        elif op == _SAVE:
            if a < len(caps):
                caps = (*caps[:a], pos, *caps[a + 1 :])
            stack.append((pc + 1, caps))
        elif op == _ASSERT:
            if _assert(a, text, pos):
                stack.append((pc + 1, caps))
        else:
            threads.append((pc, caps))


def search(program: Program, text: str) -> tuple[int, ...] | None:
    """Leftmost-first match anywhere in `text`: the save slots (-1 = group did not take part)."""
    code = program.code
    empty = (-1,) * program.ncap
    threads: list[tuple[int, tuple[int, ...]]] = []
    _add(program, threads, set(), 0, empty, text, 0)
    matched: tuple[int, ...] | None = None
    for pos in range(len(text) + 1):
        ch = text[pos] if pos < len(text) else ""
        following: list[tuple[int, tuple[int, ...]]] = []
        seen: set[int] = set()
        for pc, caps in threads:
            op, test, _ = code[pc]
            if op == _MATCH:
                matched = caps
                break  # lower-priority threads lose to this match
            if ch and test(ch):
                _add(program, following, seen, pc + 1, caps, text, pos + 1)
        if matched is None and pos < len(text):
            _add(program, following, seen, 0, empty, text, pos + 1)
        threads = following
        if not threads and matched is not None:
            break
    return matched


def _variable(node: Node) -> bool:
    return bool(node[0] == "rep" and (node[3] == -1 or node[3] > node[2]))


def _walk(root: Node) -> list[Node]:
    """The node and everything below it (iterative: hostile patterns nest deeply)."""
    out: list[Node] = []
    stack = [root]
    while stack:
        node = stack.pop()
        out.append(node)
        stack.extend(_children(node))
    return out


def needs_linear_time(root: Node) -> bool:
    """Whether backtracking could blow up: a repeated part that itself varies (`(a+)+`, `(a|ab)*`), or
    more than three unbounded repetitions (`.*.*.*.*`), which is polynomial of high degree.
    Ordinary tag filters (`^v(\\d+)\\.(\\d+)$`, `^main-[a-f0-9]+-(?P<ts>[0-9]+)`) stay on `re`."""
    nodes = _walk(root)
    if sum(1 for n in nodes if n[0] == "rep" and n[3] == -1) > MAX_UNBOUNDED_RUNS:
        return True
    # A loop whose body can match empty also goes to the VM: Python's `re` reports the captures of
    # the final empty iteration where Go does not.
    return any(
        n[0] == "rep"
        and (n[3] == -1 or n[3] > 1)
        and (_nullable(n[1]) or any(_variable(m) or (m[0] == "alt" and len(m[1]) > 1) for m in _walk(n[1])))
        for n in nodes
    )


class VMMatch:
    """The parts of `re.Match` that policy code uses, for a Pike VM result."""

    __slots__ = ("_slots", "string")

    def __init__(self, string: str, slots: tuple[int, ...]) -> None:
        self.string = string
        self._slots = slots

    def start(self, group: int = 0) -> int:
        return self._slots[2 * group]

    def end(self, group: int = 0) -> int:
        return self._slots[2 * group + 1]

    def span(self, group: int = 0) -> tuple[int, int]:
        return self.start(group), self.end(group)

    def group(self, group: int = 0) -> str | None:
        lo, hi = self.span(group)
        return None if lo < 0 else self.string[lo:hi]

    def groups(self) -> tuple[str | None, ...]:
        return tuple(self.group(k) for k in range(1, len(self._slots) // 2))
