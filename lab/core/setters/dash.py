"""The comments after a `-` that ends its line, placed by replaying yaml.v3 on them.

yaml.v3 reads a comment in two steps. Its scanner cuts the comment lines between two tokens into
head and foot comments, each tagged with the position of the token it belongs to (scan_comments);
its parser collects them as it peeks tokens and hands what it holds to the next event that takes
comments, which decode may then move (a key's foot to the key before it, a value's to its key, a
block mapping's to its last key). After most tokens the two steps come out as the simple rules
document.py applies. After a sequence indicator with nothing else on its line they do not: the `-`
takes no line comment, the comment lines under it are scanned with the `-` as the prior token (a
foot of it unless followed by the item's content), an empty item's event takes no comment, and what
the `-` held travels on through the end events of the blocks that close before the next token. So
the comments there are placed by running those two steps as yaml.v3 writes them: `scan` is
yaml_parser_scan_comments, `block_end_marks` the repositioning of BLOCK-END tokens in
yaml_parser_unroll_indent, and `deliver` the parser's unfolding of comments into events.
"""

from __future__ import annotations

from collections.abc import Iterator

from lab.core.record import dataclass
from lab.core.setters.node import FLOW, MAP, SCALAR, SEQ, Node

_BREAKS = "\r\n\x85\u2028\u2029"
_PEEK_LIMIT = 512  # yaml.v3 looks this many characters ahead for the next comment line


@dataclass(slots=True)
class Mark:
    """A position as yaml.v3's scanner records it."""

    pos: int  # the index in the text
    line: int
    column: int  # 1-based while scanning comments, as scan_comments counts it


@dataclass(slots=True)
class Comment:
    """One of yaml.v3's comment records: a head or a foot, with the token position it waits for."""

    foot: bool
    text: str
    token_mark: int  # the parser takes it when it peeks a token starting at or after this index
    start: Mark
    scan_mark: int
    end: int


def scan(
    text: str, at: int, line: int, newlines: int, scan_mark: Mark, token_start: int, indent: int
) -> list[Comment]:
    """yaml_parser_scan_comments from the `#` at index `at` (on `line`), after a block entry token
    starting at `token_start` whose scan began at `scan_mark`, with `newlines` line breaks since
    the last non-blank character and the scanner's indentation `indent`. Its quirks are kept: after
    a comment line it peeks past the line break without counting it (so the line after a comment is
    never a blank line to it, and its line count lags by one from there)."""
    n = len(text)
    out: list[Comment] = []
    token_mark = token_start
    start = Mark(0, 0, 0)
    next_indent = max(indent, 0)
    recent_empty = False
    first_empty = newlines <= 1
    column = at - (text.rfind("\n", 0, at) + 1)
    foot_line = -1
    if scan_mark.line > 0:
        foot_line = line - newlines + 1
        if newlines == 0 and column > 1:
            foot_line += 1
    buf = ""
    mark = at
    peek = 0
    while peek < _PEEK_LIMIT:
        column += 1
        pos = mark + peek
        c = text[pos] if pos < n else "\0"
        if c in " \t":
            peek += 1
            continue
        if c in _BREAKS or c == "\0":
            if not recent_empty:
                if first_empty and (
                    (start.line == foot_line) or start.column - 1 < next_indent  # the token is no VALUE
                ):
                    # The first empty line: the text before it is the prior token's foot.
                    if buf:
                        if start.column - 1 < next_indent:
                            token_mark = start.pos  # dedented: unrelated to the prior token
                        out.append(Comment(True, buf, token_mark, start, scan_mark.pos, pos))
                        scan_mark = Mark(pos, line, column)
                        token_mark = pos
                        buf = ""
                elif buf and c != "\0":
                    buf += "\n"
            if c == "\0":
                break
            first_empty = False
            recent_empty = True
            column = 0
            line += 1
            peek += 1
            continue
        if buf and column - 1 < next_indent and column != start.column:
            # A comment at another column left of the block: a foot of what precedes it.
            out.append(Comment(True, buf, token_mark, start, scan_mark.pos, pos))
            scan_mark = Mark(pos, line, column)
            token_mark = pos
            buf = ""
        if c != "#":
            break
        if not buf:
            start = Mark(pos, line, column)
        else:
            buf += "\n"
        recent_empty = False
        eol = pos
        while eol < n and text[eol] not in _BREAKS:
            eol += 1
        buf += text[pos:eol]
        line += text.count("\n", mark, pos)  # the breaks the consumption skips before the `#`
        mark = eol
        column = 0
        next_indent = max(indent, 0)
        peek = 1  # yaml.v3 resets its peek to 0 and the loop steps it past the comment's break
    if buf:
        end = mark + peek - 1
        out.append(Comment(False, buf, start.pos, start, scan_mark.pos, end))
    return out


def block_end_marks(comments: list[Comment], indents: list[int], block_mark: int) -> list[int]:
    """Where yaml_parser_unroll_indent puts the BLOCK-END tokens of the blocks at `indents` (the
    innermost first), starting from index `block_mark`: each moves back to the first of the
    comments just scanned that starts at its block's column, so the comments from there on reach
    the parser after the block's end."""
    marks: list[int] = []
    for indent in indents:
        stop = block_mark
        for c in reversed(comments):
            if c.end < stop:
                break
            if c.start.column == indent + 1:
                block_mark = c.start.pos
            stop = c.scan_mark
        marks.append(block_mark)
    return marks


@dataclass(slots=True)
class Event:
    """An event of the document as the parser makes it, for the comments it takes."""

    kind: str  # "node" (scalar, alias or collection start), "end" or "doc-end"
    node: Node | None
    parent: Node | None = None  # the collection the node is in
    index: int = 0  # its place in the parent's content


def events(root: Node) -> Iterator[Event]:
    """The document's events in order (a collection's end after its content)."""
    stack: list[tuple[Node, Node | None, int, bool]] = [(root, None, 0, False)]
    while stack:
        node, parent, index, end = stack.pop()
        if end:
            yield Event("end", node, parent, index)
            continue
        yield Event("node", node, parent, index)
        if node.kind in (MAP, SEQ):
            stack.append((node, parent, index, True))
            stack.extend((child, node, i, False) for i, child in reversed(list(enumerate(node.content))))
    yield Event("doc-end", None)


def is_empty(node: Node) -> bool:
    """An empty value (`key:` or `-` with nothing after it): the parser's empty scalar event."""
    return (
        node.kind == SCALAR and not node.value and not node.style and not node.anchor and node.tag == "!!null"
    )


def _block(node: Node | None) -> bool:
    return node is not None and not node.style & FLOW


@dataclass(slots=True)
class Placed:
    """Where a comment record went: its node (None: the document's foot, or lost) and role."""

    comment: Comment
    node: Node | None
    role: str


class Delivery:
    """The parser's comment buffers (head and foot; the scan after a `-` makes no line comment)
    handed to events and moved as decode moves them."""

    def __init__(self, doc: Node) -> None:
        self.doc = doc
        self.head: list[Comment] = []
        self.foot: list[Comment] = []
        self.placed: list[Placed] = []

    def unfold(self, pending: list[Comment], upto: int | None, *, block_end: bool = False) -> list[Comment]:
        """Peeking a token starting at `upto` (past them all when None): take the records in order
        while their token mark is at or before it; a BLOCK-END token stops at a head, which waits
        for a later token. The records left."""
        taken = 0
        for c in pending:
            if (upto is not None and c.token_mark > upto) or (block_end and not c.foot):
                break
            (self.foot if c.foot else self.head).append(c)
            taken += 1
        return pending[taken:]

    def _put(self, node: Node, foot: bool, comments: list[Comment], *, replace: bool = False) -> None:
        text = "\n".join(c.text for c in comments)
        if foot:
            node.foot_comment = text if replace or not node.foot_comment else node.foot_comment + "\n" + text
        else:
            # Appended: the `-`s are replayed in order, before any other comment is placed.
            node.head_comment = text if not node.head_comment else node.head_comment + "\n" + text
        self.placed.extend(Placed(c, node, "foot" if foot else "head") for c in comments)

    def _lose(self, comments: list[Comment]) -> None:
        self.placed.extend(Placed(c, None, "lost") for c in comments)

    def stem(self, node: Node) -> None:
        """A block collection right after a `-`: the head comments held when the `-` was skipped."""
        if self.head:
            self._put(node, False, self.head)
            self.head = []

    def take(self, ev: Event) -> bool:
        """Hand the buffers to event `ev` if it takes comments; whether it did."""
        if not self.head and not self.foot:
            return False
        node = ev.node
        if ev.kind == "doc-end":
            # A head without a foot becomes the document's foot; with one, decode drops it.
            if self.foot:
                self._put(self.doc, True, self.foot)
                self._lose(self.head)
            else:
                self._put(self.doc, True, self.head)
            self.head, self.foot = [], []
            return True
        assert node is not None
        if ev.kind == "end":
            if node.kind == SEQ and _block(node):
                return False  # a block sequence's end takes no comment
            # A mapping's or flow collection's end: decode keeps its line and foot, not its head.
            self._lose(self.head)
            if node.kind == MAP and _block(node):
                if len(node.content) > 1:
                    self._put(node.content[-2], True, self.foot, replace=True)
                else:
                    self._put(node, True, self.foot)
            else:
                self._put(node, True, self.foot, replace=True)
                self._move_value_foot(ev)
            self.head, self.foot = [], []
            return True
        if node.kind in (MAP, SEQ) and _block(node):
            return False  # a block collection's start takes only a stem (see stem)
        if self.head:
            self._put(node, False, self.head)
        if node.kind in (MAP, SEQ):
            # A flow collection's start: decode replaces its foot with its end event's.
            self._lose(self.foot)
        elif self.foot:
            parent = ev.parent
            if (
                parent is not None
                and parent.kind == MAP
                and _block(parent)
                and ev.index % 2 == 0
                and ev.index >= 2
            ):
                # A key's foot: decode makes it the previous key's (a foot of the value before).
                self._put(parent.content[ev.index - 2], True, self.foot, replace=True)
            else:
                self._put(node, True, self.foot)
                self._move_value_foot(ev)
        self.head, self.foot = [], []
        return True

    def _move_value_foot(self, ev: Event) -> None:
        """decode gives a block mapping value's foot to its key when the key has none."""
        parent, node = ev.parent, ev.node
        if node is None or parent is None or parent.kind != MAP or not _block(parent) or ev.index % 2 == 0:
            return
        key = parent.content[ev.index - 1]
        if node.foot_comment and not key.foot_comment:
            key.foot_comment, node.foot_comment = node.foot_comment, ""
            self.placed = [
                Placed(p.comment, key, p.role) if p.node is node and p.role == "foot" else p
                for p in self.placed
            ]


__all__ = ["Comment", "Delivery", "Event", "Mark", "Placed", "block_end_marks", "events", "is_empty", "scan"]
