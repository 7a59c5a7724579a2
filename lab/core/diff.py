"""The lab's one unified-diff builder: what `lab simulate`, `lab setters`, `lab progress` and the
Generate screen show before or after they change a file.

Lines are compared without their line ending and shown with "\\n", so a CRLF file does not print raw
carriage returns into a terminal, and a last line without a newline still ends the diff cleanly.

The hunks are difflib's (`SequenceMatcher.get_grouped_opcodes`, three lines of context, the same
headers), but the lines are matched here, patience-style: common head and tail first, then the lines
that occur once on each side as anchors (their longest increasing run), then the same inside each gap.
difflib's own matcher is quadratic on manifests whose documents repeat the same lines: a 2 MB file in
which every document's image changes took minutes to diff. Gaps without such anchors go to difflib
while they are small, and are shown as replaced beyond that. The anchor search may scan the lines
_PASSES times in all (a manifest needs two or three passes): a text built so that each gap yields one
anchor stops there, its gaps shown as replaced, rather than costing n squared.
"""

from __future__ import annotations

import difflib
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence

__all__ = ["file_diff", "unified_diff"]

#: Largest gap (lines before x lines after) without anchors that difflib matches; beyond it the gap
#: is shown as replaced (difflib's worst case there is still well under a second).
_DIFFLIB_GAP = 250_000
#: Passes over both texts the anchor search may make (see above).
_PASSES = 32
_CONTEXT = 3

Block = tuple[int, int, int]
#: A region still to match (alo, ahi, blo, bhi), or a match to record (a Block).
_Todo = tuple[int, int, int, int] | Block


def _lines(data: str | bytes) -> list[str]:
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    return [ln.rstrip("\r\n") + "\n" for ln in text.splitlines(keepends=True)]


def _increasing_run(pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The longest run of `pairs` (sorted by their first item) whose second items increase."""
    tails: list[int] = []  # second item ending the best run of each length
    tail_at: list[int] = []  # its index in pairs
    before = [-1] * len(pairs)
    for k, (_, j) in enumerate(pairs):
        n = bisect_left(tails, j)
        if n == len(tails):
            tails.append(j)
            tail_at.append(k)
        else:
            tails[n] = j
            tail_at[n] = k
        before[k] = tail_at[n - 1] if n else -1
    run: list[tuple[int, int]] = []
    k = tail_at[-1] if tail_at else -1
    while k >= 0:
        run.append(pairs[k])
        k = before[k]
    return run[::-1]


def _anchors(
    a: Sequence[str], b: Sequence[str], alo: int, ahi: int, blo: int, bhi: int
) -> list[tuple[int, int]]:
    """Lines that occur exactly once in a[alo:ahi] and once in b[blo:bhi], in an order both keep."""
    seen: dict[str, int] = {}
    for i in range(alo, ahi):
        seen[a[i]] = -1 if a[i] in seen else i
    in_b: dict[str, int] = {}
    for j in range(blo, bhi):
        line = b[j]
        if seen.get(line, -1) >= 0:
            in_b[line] = -1 if line in in_b else j
    pairs = sorted((seen[line], j) for line, j in in_b.items() if j >= 0)
    return _increasing_run(pairs)


def _matching_blocks(a: Sequence[str], b: Sequence[str]) -> list[Block]:
    """Matching runs (i, j, n), in order, ending with difflib's sentinel (len(a), len(b), 0)."""
    blocks: list[Block] = []
    # A stack of regions still to match and of matches to record, in reverse order of position.
    todo: list[_Todo] = [(0, len(a), 0, len(b))]
    budget = _PASSES * (len(a) + len(b))
    while todo:
        item = todo.pop()
        if len(item) == 3:
            blocks.append(item)
            continue
        alo, ahi, blo, bhi = item
        head = 0
        while alo + head < ahi and blo + head < bhi and a[alo + head] == b[blo + head]:
            head += 1
        if head:
            blocks.append((alo, blo, head))
            alo, blo = alo + head, blo + head
        tail = 0
        while alo < ahi - tail and blo < bhi - tail and a[ahi - tail - 1] == b[bhi - tail - 1]:
            tail += 1
        ahi, bhi = ahi - tail, bhi - tail
        later: list[_Todo] = [(ahi, bhi, tail)] if tail else []
        budget -= (ahi - alo) + (bhi - blo)
        if alo < ahi and blo < bhi and budget >= 0:
            anchors = _anchors(a, b, alo, ahi, blo, bhi)
            if anchors:
                regions: list[_Todo] = []
                for i, j in anchors:
                    regions += [(alo, i, blo, j), (i, j, 1)]
                    alo, blo = i + 1, j + 1
                regions.append((alo, ahi, blo, bhi))
                later = regions + later
            elif (ahi - alo) * (bhi - blo) <= _DIFFLIB_GAP:
                matcher = difflib.SequenceMatcher(None, a[alo:ahi], b[blo:bhi], autojunk=False)
                found: list[_Todo] = [(alo + i, blo + j, n) for i, j, n in matcher.get_matching_blocks() if n]
                later = found + later
        todo.extend(reversed(later))
    merged: list[Block] = []
    for i, j, n in blocks:
        if merged and merged[-1][0] + merged[-1][2] == i and merged[-1][1] + merged[-1][2] == j:
            merged[-1] = (merged[-1][0], merged[-1][1], merged[-1][2] + n)
        elif n:
            merged.append((i, j, n))
    merged.append((len(a), len(b), 0))
    return merged


class _Matcher(difflib.SequenceMatcher[str]):
    """difflib's opcodes and grouping over the matching blocks above."""

    def __init__(self, a: Sequence[str], b: Sequence[str]) -> None:
        # Not super().__init__: its index of b (for its own matcher) is not needed.
        self.a, self.b = a, b
        self.opcodes = None
        self.matching_blocks = [difflib.Match(*block) for block in _matching_blocks(a, b)]


def _range(start: int, stop: int) -> str:
    """difflib's unified range: `start,length`, a lone line as `start`, nothing as `start-1,0`."""
    length = stop - start
    if length == 1:
        return str(start + 1)
    return f"{start + 1 if length else start},{length}"


def _hunks(old: list[str], new: list[str], fromfile: str, tofile: str) -> Iterator[str]:
    started = False
    for group in _Matcher(old, new).get_grouped_opcodes(_CONTEXT):
        if not started:
            started = True
            yield f"--- {fromfile}\n+++ {tofile}\n"
        first, last = group[0], group[-1]
        yield f"@@ -{_range(first[1], last[2])} +{_range(first[3], last[4])} @@\n"
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                yield from (" " + line for line in old[i1:i2])
                continue
            if tag in ("replace", "delete"):
                yield from ("-" + line for line in old[i1:i2])
            if tag in ("replace", "insert"):
                yield from ("+" + line for line in new[j1:j2])


def file_diff(path: str, old: str | bytes, new: str | bytes) -> str:
    """A git-style diff of one file (`a/<path>`, `b/<path>`); empty when nothing differs."""
    return "".join(_hunks(_lines(old), _lines(new), f"a/{path}", f"b/{path}"))


def unified_diff(files: Iterable[tuple[str, str | bytes, str | bytes]]) -> str:
    """The diffs of (path, old, new) triples, one after the other."""
    return "".join(file_diff(path, old, new) for path, old, new in files)
