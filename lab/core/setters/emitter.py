"""A YAML emitter that writes what image-automation-controller writes.

Flux re-serialises every file it changes with go.yaml.in/yaml/v3 (indent 2, no line folding, compact
or wide sequences per document). To reproduce its bytes this module follows the structure of that
library's event emitter (`emitterc.go`) and node encoder (`encode.go`) state by state; a generic
Python YAML dumper makes different choices about indentation, quoting and comment placement.
Only the paths Flux uses are kept: UTF-8, no canonical mode, no directives, no width folding.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

from lab.core.record import dataclass
from lab.core.setters import node as nodes
from lab.core.setters.node import Node
from lab.core.setters.resolve import long_tag, resolve_v3, short_tag
from lab.core.yamlscalar import (
    BREAKS,
    ScalarAnalysis,
    analyze_scalar,
    double_quoted,
    is_break,
)


class Ev:
    """Event types (plain ints: an IntEnum lookup per event cost a tenth of the emitter's time)."""

    STREAM_START = 1
    STREAM_END = 2
    DOC_START = 3
    DOC_END = 4
    ALIAS = 5
    SCALAR = 6
    SEQ_START = 7
    SEQ_END = 8
    MAP_START = 9
    MAP_END = 10


class Sty:
    """Scalar styles."""

    ANY = 0
    PLAIN = 1
    SINGLE = 2
    DOUBLE = 3
    LITERAL = 4
    FOLDED = 5


@dataclass(slots=True)
class Event:
    typ: int
    anchor: str = ""
    tag: str = ""
    value: str = ""
    implicit: bool = False
    quoted_implicit: bool = False
    style: int = 0  # Sty for scalars; 1 = block, 2 = flow for collections
    head_comment: str = ""
    line_comment: str = ""
    foot_comment: str = ""
    tail_comment: str = ""


@dataclass(slots=True)
class Verbatim:
    """A value written on one line as `text` whatever the context: a flow collection of plain or
    double-quoted texts (`["--port", "8080"]`, `{cpu: 100m}`) or a double-quoted text that needs no
    escape. In a block mapping or sequence with no comment pending, the emitter writes `text` where
    the general path writes the same characters event by event; anywhere else it handles `events`."""

    text: str
    events: list[Item]


# What the Encoder hands the emitter: an Event, or for a scalar with no anchor, tag or comment whose
# text is plain-safe (most keys and values of a manifest) just its text, which costs no Event, or a
# Verbatim value.
Item = Event | str | Verbatim


class S:
    """Emitter states."""

    STREAM_START = 0
    FIRST_DOC_START = 1
    DOC_START = 2
    DOC_CONTENT = 3
    DOC_END = 4
    FLOW_SEQ_FIRST = 5
    FLOW_SEQ_TRAIL = 6
    FLOW_SEQ_ITEM = 7
    FLOW_MAP_FIRST = 8
    FLOW_MAP_TRAIL = 9
    FLOW_MAP_KEY = 10
    FLOW_MAP_SIMPLE_VALUE = 11
    FLOW_MAP_VALUE = 12
    BLOCK_SEQ_FIRST = 13
    BLOCK_SEQ_ITEM = 14
    BLOCK_MAP_FIRST = 15
    BLOCK_MAP_KEY = 16
    BLOCK_MAP_SIMPLE_VALUE = 17
    BLOCK_MAP_VALUE = 18
    END = 19


# A collection start's end event and its first flow and block states.
_COLLECTION_STATES = {
    Ev.SEQ_START: (Ev.SEQ_END, S.FLOW_SEQ_FIRST, S.BLOCK_SEQ_FIRST),
    Ev.MAP_START: (Ev.MAP_END, S.FLOW_MAP_FIRST, S.BLOCK_MAP_FIRST),
}


class EmitterError(Exception):
    """The tree cannot be written (yaml.v3 would fail the same way)."""


# yaml.v3's "no folding" width (Flux's encoder sets none): no line is ever broken at a space.
_NO_FOLDING = (1 << 31) - 1
# A double-quoted text written with no escape: printable ASCII without `"` and `\`.
_DOUBLE_AS_IS = re.compile(r"[ !#-\[\]-~]*")
_HAS_BREAK = re.compile(f"[{BREAKS}]")


def _is_blank(c: str) -> bool:
    return c in " \t"


def _is_blankz(c: str) -> bool:
    return c in " \t\0" or c in BREAKS or c == ""


def _is_alpha(c: str) -> bool:
    return c.isascii() and (c.isalnum() or c in "_-")


_COLLECTION_TAGS = {nodes.MAP: "!!map", nodes.SEQ: "!!seq"}
# The events of most collections, shared: the emitter never changes an Event.
_BLOCK_STARTS = {typ: Event(typ, implicit=True, style=1) for typ in (Ev.SEQ_START, Ev.MAP_START)}
_MAP_END = Event(Ev.MAP_END)
_SEQ_END = Event(Ev.SEQ_END)


def _start_event(typ: int, node: Node, tag: str, tail: str) -> Event:
    """SEQUENCE-START or MAPPING-START of `node` whose tag is written as `tag` ("" when implicit)."""
    if not (tag or node.anchor or node.style & nodes.FLOW or node.head_comment or tail):
        return _BLOCK_STARTS[typ]
    return Event(
        typ,
        anchor=node.anchor,
        tag=long_tag(tag),
        implicit=tag == "",
        style=2 if node.style & nodes.FLOW else 1,
        head_comment=node.head_comment,
        tail_comment=tail,
    )


def _plain_event(value: str) -> Event:
    """The Event a bare scalar text in the Encoder's output stands for."""
    return Event(Ev.SCALAR, "", "", value, True, True, Sty.PLAIN)


_DEFAULT_TAG_DIRECTIVES = (("!", "!"), ("!!", "tag:yaml.org,2002:"))


class Emitter:
    """Port of yaml.v3's emitter for the UTF-8, non-canonical, unlimited-width case."""

    def __init__(self, indent: int = 2) -> None:
        self.out: list[str] = []
        self.best_indent = indent if 2 <= indent <= 9 else 2
        self.best_width = _NO_FOLDING
        self.compact_sequence_indent = False
        self.state = S.STREAM_START
        self.states: list[int] = []
        self.events: list[Item] = []
        self.head = 0
        self.indents: list[int] = []
        self.indent = -1
        self.flow_level = 0
        self.root_context = False
        self.sequence_context = False
        self.mapping_context = False
        self.simple_key_context = False
        self.column = 0
        self.whitespace = True
        self.indention = True
        self.open_ended = False
        self.foot_indent = -1
        self.anchor_data: tuple[str, bool] | None = None
        self.tag_handle = ""
        self.tag_suffix = ""
        self.scalar_value = ""
        self.scalar_style = Sty.ANY
        self.multiline = False
        self.flow_plain_allowed = False
        self.block_plain_allowed = False
        self.single_quoted_allowed = False
        self.block_allowed = False
        self.head_comment = ""
        self.line_comment = ""
        self.foot_comment = ""
        self.tail_comment = ""
        self.key_line_comment = ""
        self.plain_safe = False  # the last analysed scalar matched nodes.PLAIN_SAFE
        self._analyses: dict[str, ScalarAnalysis] = {}  # analyze_scalar is pure; texts repeat
        self._handlers = self._build_handlers()

    # -- output primitives -------------------------------------------------------------------
    def put(self, c: str) -> None:
        self.out.append(c)
        self.column += 1

    def put_break(self) -> None:
        self.out.append("\n")
        self.column = 0
        self.indention = True

    def write(self, c: str) -> None:
        self.out.append(c)
        self.column += 1

    def write_all(self, s: str) -> None:
        self.out.append(s)
        self.column += len(s)

    def write_break(self, c: str) -> None:
        if c == "\n":
            self.put_break()
        else:
            self.write(c)
            self.column = 0
            self.indention = True

    # -- event loop ----------------------------------------------------------------------------
    def emit_all(self, events: list[Item]) -> None:
        """Process events that form whole nodes (the Encoder passes one document at a time).

        yaml.v3 buffers up to three events of look-ahead before it handles a collection start
        (`yaml_emitter_need_more_events`); every look-ahead reads at most the next event, so with a
        document's events all present the states take the same decisions without that check.

        Most of a manifest is block mappings and sequences of plain text with no comment. With no
        comment pending, the branches below write what the block states and `_emit_node` write for
        a plain key, value or item, a block collection's start and its end, and leave the emitter as
        they do (state stack, indent, flags), without an Event, its analysis and the calls. The
        analysis they skip only feeds the handling of the event it is made for.
        """
        self.events = events
        self.head = 0
        handlers = self._handlers
        analyze = self._analyze_event
        out = self.out
        states = self.states
        last = len(events) - 1
        map_start, seq_start = _BLOCK_STARTS[Ev.MAP_START], _BLOCK_STARTS[Ev.SEQ_START]
        # The block states as locals (a class attribute is a lookup per use).
        seq_first, seq_item = S.BLOCK_SEQ_FIRST, S.BLOCK_SEQ_ITEM
        map_first, map_key, map_value = S.BLOCK_MAP_FIRST, S.BLOCK_MAP_KEY, S.BLOCK_MAP_SIMPLE_VALUE
        # No comment pending: only the general path below sets one, so it is checked after it.
        quiet = self._quiet()
        i = 0
        while i <= last:
            item = events[i]
            i += 1
            state = self.state
            if quiet and seq_first <= state <= map_value:
                if item.__class__ is str:
                    if state == map_value:
                        out.append(": ")
                        out.append(item)
                        self.column += 2 + len(item)
                        self.whitespace = self.indention = self.open_ended = False
                        self.root_context = self.sequence_context = self.simple_key_context = False
                        self.mapping_context = True
                        self.state = map_key
                        continue
                    if state <= seq_item:
                        self._write_dash(state)
                        out.append(" ")
                        out.append(item)
                        self.column += 1 + len(item)
                        self.whitespace = self.indention = False
                        self.root_context = self.mapping_context = self.simple_key_context = False
                        self.sequence_context = True
                        self.state = seq_item
                        continue
                    if len(item) <= 128:  # _check_simple_key's limit
                        if state == map_first:
                            self._increase_indent(False, False)
                        if (
                            i <= last
                            and events[i].__class__ is str
                            and not self.indention
                            and self.foot_indent < 0
                        ):
                            i = self._write_pairs(i)
                            continue
                        self._write_indent()
                        out.append(item)
                        self.column += len(item)
                        self.whitespace = self.indention = False
                        self.root_context = self.sequence_context = False
                        self.mapping_context = self.simple_key_context = True
                        self.state = map_value
                        continue
                elif item.__class__ is Verbatim and (state == map_value or state <= seq_item):
                    # What the value paths above write for a text, with the flags the general path
                    # leaves after the value's last event.
                    text = item.text
                    if state == map_value:
                        out.append(": ")
                        self.column += 2 + len(text)
                        self.state = map_key
                    else:
                        self._write_dash(state)
                        out.append(" ")
                        self.column += 1 + len(text)
                        self.state = seq_item
                    out.append(text)
                    self.whitespace = self.indention = self.open_ended = False
                    self.root_context = self.mapping_context = self.simple_key_context = False
                    self.sequence_context = True
                    continue
                elif item.__class__ is Event and item.typ == Ev.SCALAR:
                    if state == map_value or state <= seq_item:
                        if self._write_value(item, state):
                            quiet = self._quiet()
                            continue
                    elif self._write_headed_key(item, state):
                        continue
                elif (item is map_start or item is seq_start) and (state == map_value or state <= seq_item):
                    is_map = item is map_start
                    after = events[i + 1] if i < last else None
                    # An empty collection is written in flow style (`{}`, `[]`): the general path.
                    if not (isinstance(after, Event) and after.typ == (Ev.MAP_END if is_map else Ev.SEQ_END)):
                        if state == map_value:
                            out.append(":")
                            self.column += 1
                            self.whitespace = self.indention = self.open_ended = False
                            states.append(map_key)
                            self.mapping_context = True
                            self.sequence_context = False
                        else:
                            self._write_dash(state)
                            states.append(seq_item)
                            self.mapping_context = False
                            self.sequence_context = True
                        self.root_context = self.simple_key_context = False
                        self.state = map_first if is_map else seq_first
                        continue
                elif (item is _MAP_END and state == map_key) or (item is _SEQ_END and state == seq_item):
                    self.indent = self.indents.pop()
                    self.state = states.pop()
                    continue
            if isinstance(item, Verbatim):
                self.emit_all(item.events)  # the general path, event by event
                self.events = events
            else:
                ev = events[i - 1] = _plain_event(item) if isinstance(item, str) else item
                self.head = i - 1
                analyze(ev)
                handlers[state](ev)
            quiet = self._quiet()
        self.events = []
        self.head = 0

    def _quiet(self) -> bool:
        """No comment is pending."""
        return not (
            self.head_comment
            or self.line_comment
            or self.foot_comment
            or self.tail_comment
            or self.key_line_comment
        )

    def _write_value(self, ev: Event, state: int) -> bool:
        """A scalar value or sequence item with no comment but its line comment (a marker's line),
        if any, written as text that needs no quoting or escape: what `_emit_block_mapping_value` or
        `_emit_block_sequence_item` and `_emit_node` write for it, the comment after it, and the
        flags they leave. False, writing nothing, for any other scalar."""
        value = ev.value
        if ev.head_comment or ev.foot_comment or ev.tail_comment:
            return False
        if ev.anchor or ev.tag or not value:
            return False
        if ev.style == Sty.PLAIN:
            if not nodes.PLAIN_SAFE.fullmatch(value):
                a = self._analyses.get(value)
                if a is None:
                    a = self._analyses[value] = analyze_scalar(value, tabs_are_special=False)
                if a.multiline or not a.block_plain or _HAS_BREAK.search(value):
                    return False
            text = value
        elif ev.style == Sty.DOUBLE and _DOUBLE_AS_IS.fullmatch(value):
            text = f'"{value}"'
        else:
            return False
        if state == S.BLOCK_MAP_SIMPLE_VALUE:
            self.out.append(": ")
            self.mapping_context = True
            self.sequence_context = False
            self.state = S.BLOCK_MAP_KEY
        else:
            self._write_dash(state)
            self.out.append(" ")
            self.mapping_context = False
            self.sequence_context = True
            self.state = S.BLOCK_SEQ_ITEM
        self.out.append(text)
        self.column += 1 + len(text)
        self.root_context = self.simple_key_context = False
        self.whitespace = self.indention = self.open_ended = False
        if ev.line_comment:
            self.line_comment = ev.line_comment
            self._process_line_comment()
        return True

    def _write_headed_key(self, ev: Event, state: int) -> bool:
        """A plain-safe mapping key whose only comment is its head comment (a document's first key
        under a file header): what `_emit_block_mapping_key` and `_emit_node` write and leave. False,
        writing nothing, for any other scalar or state."""
        value = ev.value
        if state != S.BLOCK_MAP_FIRST and state != S.BLOCK_MAP_KEY:
            return False
        if not ev.head_comment or ev.line_comment or ev.foot_comment or ev.tail_comment:
            return False
        if (
            ev.anchor
            or ev.tag
            or ev.style != Sty.PLAIN
            or len(value) > 128
            or not nodes.PLAIN_SAFE.fullmatch(value)
        ):
            return False
        if state == S.BLOCK_MAP_FIRST:
            self._increase_indent(False, False)
        self._write_indent()
        self._write_comment(ev.head_comment)
        self._write_indent()
        self.out.append(value)
        self.column += len(value)
        self.whitespace = self.indention = False
        self.root_context = self.sequence_context = False
        self.mapping_context = self.simple_key_context = True
        self.state = S.BLOCK_MAP_SIMPLE_VALUE
        return True

    def _write_pairs(self, i: int) -> int:
        """Write the `key: value` lines of plain text that start with the key at `i - 1`.

        In a block mapping after content (no indentation pending, no foot comment just written)
        `_write_indent` breaks the line and pads to the indent, and the key and value paths above
        write `key: value`: one string per line here. Returns the index after the last value.
        """
        events = self.events
        last = len(events) - 1
        pad = "\n" + " " * self.indent
        out = self.out
        key, value = events[i - 1], events[i]
        assert isinstance(key, str) and isinstance(value, str)
        while True:
            out.append(f"{pad}{key}: {value}")
            i += 1
            if i >= last:
                break
            next_key, next_value = events[i], events[i + 1]
            if not (isinstance(next_key, str) and isinstance(next_value, str)) or len(next_key) > 128:
                break
            key, value = next_key, next_value
            i += 1
        self.column = self.indent + len(key) + 2 + len(value)
        self.whitespace = self.open_ended = False
        self.root_context = self.sequence_context = self.simple_key_context = False
        self.mapping_context = True
        self.state = S.BLOCK_MAP_KEY
        return i

    def _write_dash(self, state: int) -> None:
        """What `_emit_block_sequence_item` writes before an item when no comment is pending."""
        if state == S.BLOCK_SEQ_FIRST:
            seq = (
                self.mapping_context
                and (self.column == 0 or not self.indention)
                and self.compact_sequence_indent
            )
            self._increase_indent(False, False, seq)
        self._write_indent()
        self._write_indicator("-", True, False, True)

    def emit(self, event: Event) -> None:
        self.emit_all([event])

    def _increase_indent(self, flow: bool, indentless: bool, compact_seq: bool = False) -> None:
        self.indents.append(self.indent)
        if self.indent < 0:
            self.indent = self.best_indent if flow else 0
        elif not indentless:
            if self.states and self.states[-1] == S.BLOCK_SEQ_ITEM:
                self.indent += 2
            else:
                self.indent = self.best_indent * ((self.indent + self.best_indent) // self.best_indent)
                if compact_seq:
                    self.indent -= 2

    def _pop_indent(self) -> None:
        self.indent = self.indents.pop()

    def _pop_state(self) -> None:
        self.state = self.states.pop()

    def _build_handlers(self) -> list[Callable[[Event], None]]:
        """One handler per state, indexed by the state number (a dispatch per event, no if-chain)."""
        h: dict[int, Callable[[Event], None]] = {
            S.STREAM_START: self._emit_stream_start,
            S.FIRST_DOC_START: lambda ev: self._emit_document_start(ev, True),
            S.DOC_START: lambda ev: self._emit_document_start(ev, False),
            S.DOC_CONTENT: self._emit_document_content,
            S.DOC_END: self._emit_document_end,
            S.FLOW_SEQ_FIRST: lambda ev: self._emit_flow_sequence_item(ev, True, False),
            S.FLOW_SEQ_TRAIL: lambda ev: self._emit_flow_sequence_item(ev, False, True),
            S.FLOW_SEQ_ITEM: lambda ev: self._emit_flow_sequence_item(ev, False, False),
            S.FLOW_MAP_FIRST: lambda ev: self._emit_flow_mapping_key(ev, True, False),
            S.FLOW_MAP_TRAIL: lambda ev: self._emit_flow_mapping_key(ev, False, True),
            S.FLOW_MAP_KEY: lambda ev: self._emit_flow_mapping_key(ev, False, False),
            S.FLOW_MAP_SIMPLE_VALUE: lambda ev: self._emit_flow_mapping_value(ev, True),
            S.FLOW_MAP_VALUE: lambda ev: self._emit_flow_mapping_value(ev, False),
            S.BLOCK_SEQ_FIRST: lambda ev: self._emit_block_sequence_item(ev, True),
            S.BLOCK_SEQ_ITEM: lambda ev: self._emit_block_sequence_item(ev, False),
            S.BLOCK_MAP_FIRST: lambda ev: self._emit_block_mapping_key(ev, True),
            S.BLOCK_MAP_KEY: lambda ev: self._emit_block_mapping_key(ev, False),
            S.BLOCK_MAP_SIMPLE_VALUE: lambda ev: self._emit_block_mapping_value(ev, True),
            S.BLOCK_MAP_VALUE: lambda ev: self._emit_block_mapping_value(ev, False),
            S.END: self._emit_after_end,
        }
        return [h[i] for i in range(len(h))]

    def _emit_stream_start(self, ev: Event) -> None:
        if ev.typ != Ev.STREAM_START:
            raise EmitterError("expected STREAM-START")
        self.indent = -1
        self.state = S.FIRST_DOC_START

    def _emit_document_content(self, ev: Event) -> None:
        self.states.append(S.DOC_END)
        self._process_head_comment()
        self._emit_node(ev, root=True)
        self._process_line_comment()
        self._process_foot_comment()

    def _emit_after_end(self, ev: Event) -> None:
        raise EmitterError("expected nothing after STREAM-END")

    def _emit_document_start(self, ev: Event, first: bool) -> None:
        if ev.typ == Ev.DOC_START:
            implicit = ev.implicit and first
            if not implicit:
                self._write_indent()
                self._write_indicator("---", True, False, False)
                self._write_indent()
            if self.head_comment:
                self._process_head_comment()
                self.put_break()
            self.state = S.DOC_CONTENT
            return
        if ev.typ == Ev.STREAM_END:
            if self.open_ended:
                self._write_indicator("...", True, False, False)
                self._write_indent()
            self.state = S.END
            return
        raise EmitterError("expected DOCUMENT-START or STREAM-END")

    def _emit_document_end(self, ev: Event) -> None:
        if ev.typ != Ev.DOC_END:
            raise EmitterError("expected DOCUMENT-END")
        self.foot_indent = 0
        self._process_foot_comment()
        self.foot_indent = -1
        self._write_indent()
        if not ev.implicit:
            self._write_indicator("...", True, False, False)
            self._write_indent()
        self.state = S.DOC_START

    def _open_flow(self, indicator: str) -> None:
        self._write_indicator(indicator, True, True, False)
        self._increase_indent(True, False)
        self.flow_level += 1

    def _close_flow(self, indicator: str, *, indent_at_line_start: bool) -> None:
        self.flow_level -= 1
        self._pop_indent()
        if indent_at_line_start and self.column == 0:
            self._write_indent()
        self._write_indicator(indicator, False, False, False)
        self._process_line_comment()
        self._process_foot_comment()
        self._pop_state()

    def _start_flow_item(self, first: bool, trail: bool) -> None:
        """The `,` before an item or key (not after the first, nor where a comment wrote one) and
        what comes before the item itself."""
        if not first and not trail:
            self._write_indicator(",", False, False, False)
        self._process_head_comment()
        if self.column == 0:
            self._write_indent()
        if self.column > self.best_width:
            self._write_indent()

    def _push_flow_next(self, trail_state: int, next_state: int) -> None:
        """After an item the next one needs no `,` when a comment is pending: it is written here."""
        pending = bool(self.line_comment or self.foot_comment or self.tail_comment)
        self.states.append(trail_state if pending else next_state)

    def _end_flow_item(self) -> None:
        if self.line_comment or self.foot_comment or self.tail_comment:
            self._write_indicator(",", False, False, False)
        self._process_line_and_foot_comment()

    def _process_line_and_foot_comment(self) -> None:
        if self.line_comment:
            self._process_line_comment()
        if self.foot_comment:
            self._process_foot_comment()

    def _emit_flow_sequence_item(self, ev: Event, first: bool, trail: bool) -> None:
        if first:
            self._open_flow("[")
        if ev.typ == Ev.SEQ_END:
            self._close_flow("]", indent_at_line_start=True)
            return
        self._start_flow_item(first, trail)
        self._push_flow_next(S.FLOW_SEQ_TRAIL, S.FLOW_SEQ_ITEM)
        self._emit_node(ev, sequence=True)
        self._end_flow_item()

    def _emit_flow_mapping_key(self, ev: Event, first: bool, trail: bool) -> None:
        if first:
            self._open_flow("{")
        if ev.typ == Ev.MAP_END:
            if (self.head_comment or self.foot_comment or self.tail_comment) and not first and not trail:
                self._write_indicator(",", False, False, False)
            self._process_head_comment()
            self._close_flow("}", indent_at_line_start=False)
            return
        self._start_flow_item(first, trail)
        self._emit_key(ev, S.FLOW_MAP_SIMPLE_VALUE, S.FLOW_MAP_VALUE, indention=False)

    def _emit_key(self, ev: Event, simple_state: int, complex_state: int, *, indention: bool) -> None:
        """A mapping key: simple, or after a `?` indicator (long, multi-line or a collection)."""
        if self._check_simple_key():
            self.states.append(simple_state)
            self._emit_node(ev, mapping=True, simple_key=True)
            return
        self._write_indicator("?", True, False, indention)
        self.states.append(complex_state)
        self._emit_node(ev, mapping=True)

    def _emit_flow_mapping_value(self, ev: Event, simple: bool) -> None:
        if simple:
            self._write_indicator(":", False, False, False)
        else:
            if self.column > self.best_width:
                self._write_indent()
            self._write_indicator(":", True, False, False)
        self._push_flow_next(S.FLOW_MAP_TRAIL, S.FLOW_MAP_KEY)
        self._emit_node(ev, mapping=True)
        self._end_flow_item()

    def _emit_block_sequence_item(self, ev: Event, first: bool) -> None:
        if first:
            seq = (
                self.mapping_context
                and (self.column == 0 or not self.indention)
                and self.compact_sequence_indent
            )
            self._increase_indent(False, False, seq)
        if ev.typ == Ev.SEQ_END:
            self._pop_indent()
            self._pop_state()
            return
        if self.head_comment or self.tail_comment:
            self._process_head_comment()
        self._write_indent()
        self._write_indicator("-", True, False, True)
        self.states.append(S.BLOCK_SEQ_ITEM)
        self._emit_node(ev, sequence=True)
        self._process_line_and_foot_comment()

    def _emit_block_mapping_key(self, ev: Event, first: bool) -> None:
        if first:
            self._increase_indent(False, False)
        if self.head_comment or self.tail_comment:
            self._process_head_comment()
        if ev.typ == Ev.MAP_END:
            self._pop_indent()
            self._pop_state()
            return
        self._write_indent()
        if self.line_comment:
            self.key_line_comment = self.line_comment
            self.line_comment = ""
        self._emit_key(ev, S.BLOCK_MAP_SIMPLE_VALUE, S.BLOCK_MAP_VALUE, indention=True)

    def _emit_block_mapping_value(self, ev: Event, simple: bool) -> None:
        if simple:
            self._write_indicator(":", False, False, False)
        else:
            self._write_indent()
            self._write_indicator(":", True, False, True)
        if self.key_line_comment:
            if ev.typ == Ev.SCALAR:
                if not self.line_comment:
                    self.line_comment = self.key_line_comment
                    self.key_line_comment = ""
            elif ev.typ in (Ev.MAP_START, Ev.SEQ_START) and ev.style != 2:
                # Go tests `event.sequence_style() != yaml_FLOW_SEQUENCE_STYLE`, which reads a mapping's
                # style too: a flow mapping (style 2 as well) keeps the key's comment pending, as a flow
                # sequence does.
                self.line_comment, self.key_line_comment = self.key_line_comment, self.line_comment
                self._process_line_comment()
                self.line_comment, self.key_line_comment = self.key_line_comment, self.line_comment
        self.states.append(S.BLOCK_MAP_KEY)
        self._emit_node(ev, mapping=True)
        self._process_line_and_foot_comment()

    def _emit_node(
        self,
        ev: Event,
        *,
        root: bool = False,
        sequence: bool = False,
        mapping: bool = False,
        simple_key: bool = False,
    ) -> None:
        self.root_context = root
        self.sequence_context = sequence
        self.mapping_context = mapping
        self.simple_key_context = simple_key
        if ev.typ == Ev.ALIAS:
            self._process_anchor()
            self._pop_state()
        elif ev.typ == Ev.SCALAR:
            if (
                self.plain_safe
                and ev.implicit
                and ev.style <= Sty.PLAIN
                and self.anchor_data is None
                and not self.tag_handle
                and not self.tag_suffix
            ):
                # Most scalars: no anchor, no tag, plain and safe everywhere. The general path below
                # selects the plain style, writes the text after one space and leaves the indent as
                # it was; this does the same without the calls (a 2 MB manifest has ~300k of them).
                if not self.whitespace:
                    self.out.append(" ")
                    self.column += 1
                self.out.append(ev.value)
                self.column += len(ev.value)
                self.whitespace = self.indention = False
                if root:
                    self.open_ended = True
                self.state = self.states.pop()
                return
            self._select_scalar_style(ev)
            self._process_anchor()
            self._process_tag()
            self._increase_indent(True, False)
            self._process_scalar()
            self._pop_indent()
            self._pop_state()
        elif ev.typ in _COLLECTION_STATES:
            self._process_anchor()
            self._process_tag()
            end, flow_state, block_state = _COLLECTION_STATES[ev.typ]
            if self.flow_level > 0 or ev.style == 2 or self._check_empty(ev.typ, end):
                self.state = flow_state
            else:
                self.state = block_state
        else:
            raise EmitterError(f"expected SCALAR, SEQUENCE-START, MAPPING-START, or ALIAS, got {ev.typ}")

    def _check_empty(self, start: int, end: int) -> bool:
        if len(self.events) - self.head < 2:
            return False
        here, after = self.events[self.head], self.events[self.head + 1]
        # `after` may still be a bare scalar text, never a collection end.
        return isinstance(here, Event) and here.typ == start and isinstance(after, Event) and after.typ == end

    def _check_simple_key(self) -> bool:
        ev = self.events[self.head]
        assert isinstance(ev, Event)  # emit_all turned the current item into one
        anchor_len = len(self.anchor_data[0]) if self.anchor_data else 0
        length = 0
        if ev.typ == Ev.ALIAS:
            length += anchor_len
        elif ev.typ == Ev.SCALAR:
            if self.multiline:
                return False
            length += anchor_len + len(self.tag_handle) + len(self.tag_suffix) + len(self.scalar_value)
        elif ev.typ == Ev.SEQ_START:
            if not self._check_empty(Ev.SEQ_START, Ev.SEQ_END):
                return False
            length += anchor_len + len(self.tag_handle) + len(self.tag_suffix)
        elif ev.typ == Ev.MAP_START:
            if not self._check_empty(Ev.MAP_START, Ev.MAP_END):
                return False
            length += anchor_len + len(self.tag_handle) + len(self.tag_suffix)
        else:
            return False
        # Go measures bytes here.
        return length <= 128

    def _select_scalar_style(self, ev: Event) -> None:
        no_tag = not self.tag_handle and not self.tag_suffix
        if no_tag and not ev.implicit and not ev.quoted_implicit:
            raise EmitterError("neither tag nor implicit flags are specified")
        style = ev.style
        if style == Sty.ANY:
            style = Sty.PLAIN
        if self.simple_key_context and self.multiline:
            style = Sty.DOUBLE
        if style == Sty.PLAIN:
            if (self.flow_level > 0 and not self.flow_plain_allowed) or (
                self.flow_level == 0 and not self.block_plain_allowed
            ):
                style = Sty.SINGLE
            if not self.scalar_value and (self.flow_level > 0 or self.simple_key_context):
                style = Sty.SINGLE
            if no_tag and not ev.implicit:
                style = Sty.SINGLE
        if style == Sty.SINGLE and not self.single_quoted_allowed:
            style = Sty.DOUBLE
        if style in (Sty.LITERAL, Sty.FOLDED) and (
            not self.block_allowed or self.flow_level > 0 or self.simple_key_context
        ):
            style = Sty.DOUBLE
        if no_tag and not ev.quoted_implicit and style != Sty.PLAIN:
            self.tag_handle = "!"
        self.scalar_style = style

    def _process_anchor(self) -> None:
        if self.anchor_data is None:
            return
        anchor, alias = self.anchor_data
        self._write_indicator("*" if alias else "&", True, False, False)
        self.write_all(anchor)
        self.whitespace = False
        self.indention = False

    def _process_tag(self) -> None:
        if not self.tag_handle and not self.tag_suffix:
            return
        if self.tag_handle:
            if not self.whitespace:
                self.put(" ")
            self.write_all(self.tag_handle)
            self.whitespace = False
            self.indention = False
            if self.tag_suffix:
                self._write_tag_content(self.tag_suffix, False)
        else:
            self._write_indicator("!<", True, False, False)
            self._write_tag_content(self.tag_suffix, False)
            self._write_indicator(">", False, False, False)

    def _process_scalar(self) -> None:
        allow = not self.simple_key_context
        v = self.scalar_value
        if self.scalar_style == Sty.PLAIN:
            self._write_plain(v, allow)
        elif self.scalar_style == Sty.SINGLE:
            self._write_single(v, allow)
        elif self.scalar_style == Sty.DOUBLE:
            self._write_double(v, allow)
        elif self.scalar_style == Sty.LITERAL:
            self._write_literal(v)
        else:
            self._write_folded(v)

    # -- comments ------------------------------------------------------------------------------
    def _process_head_comment(self) -> None:
        if self.tail_comment:
            self._write_indent()
            self._write_comment(self.tail_comment)
            self.tail_comment = ""
            self.foot_indent = max(self.indent, 0)
        if not self.head_comment:
            return
        self._write_indent()
        self._write_comment(self.head_comment)
        self.head_comment = ""

    def _process_line_comment(self, linebreak: bool = False) -> None:
        if not self.line_comment:
            if linebreak:
                self.put_break()
            return
        if not self.whitespace:
            self.put(" ")
        self._write_comment(self.line_comment)
        self.line_comment = ""

    def _process_foot_comment(self) -> None:
        if not self.foot_comment:
            return
        self._write_indent()
        self._write_comment(self.foot_comment)
        self.foot_comment = ""
        self.foot_indent = max(self.indent, 0)

    def _write_comment(self, comment: str) -> None:
        if not _HAS_BREAK.search(comment):
            # One line: the loop below writes `# ` unless the text starts with `#`, the text, and a
            # break, and leaves the flags as here.
            if comment:
                self.out.append(comment if comment[0] == "#" else "# " + comment)
            self.put_break()
            self.whitespace = True
            return
        self._write_comment_chars(comment)

    def _write_comment_chars(self, comment: str) -> None:
        breaks = False
        pound = False
        for c in comment:
            if is_break(c):
                self.write_break(c)
                breaks = True
                pound = False
            else:
                if breaks:
                    self._write_indent()
                if not pound:
                    if c != "#":
                        self.put("#")
                        self.put(" ")
                    pound = True
                self.write(c)
                self.indention = False
                breaks = False
        if not breaks:
            self.put_break()
        self.whitespace = True

    # -- analysis ------------------------------------------------------------------------------
    def _analyze_event(self, ev: Event) -> None:
        self.anchor_data = None
        self.tag_handle = ""
        self.tag_suffix = ""
        self.scalar_value = ""
        if ev.head_comment:
            self.head_comment = ev.head_comment
        if ev.line_comment:
            self.line_comment = ev.line_comment
        if ev.foot_comment:
            self.foot_comment = ev.foot_comment
        if ev.tail_comment:
            self.tail_comment = ev.tail_comment
        if ev.typ == Ev.ALIAS:
            self._analyze_anchor(ev.anchor, True)
        elif ev.typ == Ev.SCALAR:
            if ev.anchor:
                self._analyze_anchor(ev.anchor, False)
            if ev.tag and not ev.implicit and not ev.quoted_implicit:
                self._analyze_tag(ev.tag)
            self._analyze_scalar(ev.value)
        elif ev.typ in (Ev.SEQ_START, Ev.MAP_START):
            if ev.anchor:
                self._analyze_anchor(ev.anchor, False)
            if ev.tag and not ev.implicit:
                self._analyze_tag(ev.tag)

    def _analyze_anchor(self, anchor: str, alias: bool) -> None:
        if not anchor:
            raise EmitterError("alias value must not be empty" if alias else "anchor value must not be empty")
        if not all(_is_alpha(c) for c in anchor):
            what = "alias" if alias else "anchor"
            raise EmitterError(f"{what} value must contain alphanumerical characters only")
        self.anchor_data = (anchor, alias)

    def _analyze_tag(self, tag: str) -> None:
        for handle, prefix in _DEFAULT_TAG_DIRECTIVES:
            if tag.startswith(prefix):
                self.tag_handle = handle
                self.tag_suffix = tag[len(prefix) :]
                return
        self.tag_suffix = tag

    def _analyze_scalar(self, value: str) -> None:
        self.scalar_value = value
        self.plain_safe = False
        if nodes.PLAIN_SAFE.fullmatch(value):
            self.plain_safe = True
            # Most keys and values (names, versions, paths): no indicator, blank, break or special
            # character anywhere, so every style is allowed; analyze_scalar would find the same.
            self.multiline = False
            self.flow_plain_allowed = self.block_plain_allowed = True
            self.single_quoted_allowed = self.block_allowed = True
            return
        a = self._analyses.get(value)
        if a is None:
            a = self._analyses[value] = analyze_scalar(value, tabs_are_special=False)
        self.multiline = a.multiline
        self.flow_plain_allowed, self.block_plain_allowed = a.flow_plain, a.block_plain
        self.single_quoted_allowed, self.block_allowed = a.single_quoted, a.block

    # -- writers -------------------------------------------------------------------------------
    def _write_indent(self) -> None:
        indent = self.indent if self.indent > 0 else 0
        column = self.column
        breaks = 0
        if not self.indention or column > indent or (column == indent and not self.whitespace):
            breaks = 1
        if self.foot_indent == indent:
            breaks += 1  # a blank line after a foot comment
        if breaks:
            self.out.append("\n" * breaks)
            column = 0
            self.indention = True
        if column < indent:
            self.out.append(" " * (indent - column))
            column = indent
        self.column = column
        self.whitespace = True
        self.foot_indent = -1

    def _write_indicator(self, ind: str, need_ws: bool, is_ws: bool, is_indention: bool) -> None:
        if need_ws and not self.whitespace:
            self.put(" ")
        self.write_all(ind)
        self.whitespace = is_ws
        self.indention = self.indention and is_indention
        self.open_ended = False

    def _write_tag_content(self, value: str, need_ws: bool) -> None:
        if need_ws and not self.whitespace:
            self.put(" ")
        for c in value:
            if c in ";/?:@&=+$,_.~*'()[]" or _is_alpha(c):
                self.write(c)
            else:
                for octet in c.encode("utf-8"):
                    self.write_all(f"%{octet:02X}")
        self.whitespace = False
        self.indention = False

    def _write_plain(self, value: str, allow_breaks: bool) -> None:
        if value and not self.whitespace:
            self.put(" ")
        if nodes.PLAIN_SAFE.fullmatch(value):
            # No space or break: the loop below would write it character by character, unchanged.
            self.write_all(value)
            self.whitespace = False
            self.indention = False
            if self.root_context:
                self.open_ended = True
            return
        self._write_quotable(value, allow_breaks, single_quoted=False)
        if value:
            self.whitespace = False
        self.indention = False
        if self.root_context:
            self.open_ended = True

    def _write_quotable(self, value: str, allow_breaks: bool, *, single_quoted: bool) -> None:
        """The text of a plain or single-quoted scalar (yaml.v3 has one loop for each that differ
        only in where a line may fold and in doubling `'`)."""
        if self.best_width == _NO_FOLDING and not _HAS_BREAK.search(value):
            # With no width limit a space never folds, and without a break every character is
            # written as it is (a `'` doubled): what the loop writes, in one piece.
            self.write_all(value.replace("'", "''") if single_quoted else value)
            if value.strip(" "):
                self.indention = False
            return
        self._write_quotable_chars(value, allow_breaks, single_quoted=single_quoted)

    def _write_quotable_chars(self, value: str, allow_breaks: bool, *, single_quoted: bool) -> None:
        spaces = breaks = False
        n = len(value)
        for i, c in enumerate(value):
            if c == " ":
                nxt = value[i + 1] if i + 1 < n else ""
                if (
                    allow_breaks
                    and not spaces
                    and self.column > self.best_width
                    and (not single_quoted or 0 < i < n - 1)
                    and nxt != " "
                ):
                    self._write_indent()
                else:
                    self.write(c)
                spaces = True
            elif is_break(c):
                if not breaks and c == "\n":
                    self.put_break()
                self.write_break(c)
                breaks = True
            else:
                self._write_text_char("''" if single_quoted and c == "'" else c, breaks)
                spaces = breaks = False

    def _write_text_char(self, text: str, breaks: bool) -> None:
        """A character of a scalar's text that is not a break (`text`: it, or `''` for a `'` in
        single quotes), after the indent when it starts a line (`breaks`)."""
        if breaks:
            self._write_indent()
        self.write_all(text)
        self.indention = False

    def _write_single(self, value: str, allow_breaks: bool) -> None:
        self._write_indicator("'", True, False, False)
        self._write_quotable(value, allow_breaks, single_quoted=True)
        self._write_indicator("'", False, False, False)
        self.whitespace = False
        self.indention = False

    def _write_double(self, value: str, allow_breaks: bool) -> None:
        if self.best_width == _NO_FOLDING and _DOUBLE_AS_IS.fullmatch(value):
            # Printable ASCII but `"` and `\`: no escape, and with no width limit no space folds.
            self._write_indicator('"', True, False, False)
            self.write_all(value)
            self._write_indicator('"', False, False, False)
            self.whitespace = False
            self.indention = False
            return
        self._write_double_chars(value, allow_breaks)

    def _write_double_chars(self, value: str, allow_breaks: bool) -> None:
        self._write_indicator('"', True, False, False)
        # A fold is `_write_indent` in the text: a break and the indent (the flags it sets are
        # set again by the closing quote).
        text = double_quoted(
            value, self.column, self.best_width, max(self.indent, 0), allow_breaks=allow_breaks
        )
        self.out.append(text)
        nl = text.rfind("\n")
        self.column = len(text) - nl - 1 if nl >= 0 else self.column + len(text)
        self._write_indicator('"', False, False, False)
        self.whitespace = False
        self.indention = False

    def _write_block_hints(self, value: str) -> None:
        if value and (value[0] == " " or is_break(value[0])):
            self._write_indicator(str(self.best_indent), False, False, False)
        self.open_ended = False
        chomp = ""
        if not value:
            chomp = "-"
        else:
            last = value[-1]
            if not is_break(last):
                chomp = "-"
            elif len(value) == 1 or is_break(value[-2]):
                chomp = "+"
                self.open_ended = True
        if chomp:
            self._write_indicator(chomp, False, False, False)

    def _start_block_scalar(self, indicator: str, value: str) -> None:
        """`|` or `>`, its hints and the line comment: the text starts on the next line."""
        self._write_indicator(indicator, True, False, False)
        self._write_block_hints(value)
        self._process_line_comment(linebreak=True)
        self.whitespace = True

    def _write_literal(self, value: str) -> None:
        self._start_block_scalar("|", value)
        breaks = True
        for c in value:
            if is_break(c):
                self.write_break(c)
                breaks = True
            else:
                self._write_text_char(c, breaks)
                breaks = False

    def _write_folded(self, value: str) -> None:
        self._start_block_scalar(">", value)
        breaks = True
        leading_spaces = True
        n = len(value)
        for i, c in enumerate(value):
            if is_break(c):
                if not breaks and not leading_spaces and c == "\n":
                    k = 0
                    while k < n and is_break(value[k]):
                        k += 1
                    if not (k >= n or _is_blankz(value[k])):
                        self.put_break()
                self.write_break(c)
                breaks = True
            else:
                if breaks:
                    self._write_indent()
                    leading_spaces = _is_blank(c)
                nxt = value[i + 1] if i + 1 < n else ""
                if not breaks and c == " " and nxt != " " and self.column > self.best_width:
                    self._write_indent()
                else:
                    self.write(c)
                self.indention = False
                breaks = False

    def getvalue(self) -> str:
        return "".join(self.out)


def _as_verbatim(item: Item) -> Item:
    """A double-quoted scalar's Event as a Verbatim when nothing but its escape-free text and quotes
    is written (no tag, anchor or comment); any other item as it is."""
    if (
        isinstance(item, Event)
        and item.style == Sty.DOUBLE
        and not (item.tag or item.anchor or item.head_comment or item.line_comment)
        and not (item.foot_comment or item.tail_comment)
        and _DOUBLE_AS_IS.fullmatch(item.value)
    ):
        return Verbatim(f'"{item.value}"', [item])
    return item


class Encoder:
    """yaml.v3 `Encoder` over `Node` trees: one stream, several documents."""

    def __init__(self, indent: int = 2) -> None:
        self.emitter = Emitter(indent)
        self.emitter.emit(Event(Ev.STREAM_START))
        self.events: list[Item] = []
        # Per-encoder memos of two pure functions of a scalar's text: manifests repeat the same
        # keys and values thousands of times.
        self._resolved: dict[str, str] = {}
        self._plain_tags: dict[str, str] = {}

    def compact_seq_indent(self, compact: bool) -> None:
        self.emitter.compact_sequence_indent = compact

    def encode(self, doc: Node, recorded: list[str | int | Node] | None = None) -> None:
        """Write the document `doc`; `recorded` is what the reader recorded of it while building it
        (ParsedDoc.items), when the tree has not changed since: the same items without the walk."""
        self.events = []
        if recorded is None:
            self._node(doc, "")
        else:
            self._recorded(doc, recorded)
        self.emitter.emit_all(self.events)
        self.events = []

    def encode_verbatim(self, text: str) -> None:
        """Write a document whose content is `text` as yaml.v3 writes it (lab.core.setters.verbatim:
        a block mapping, without the final line break): the document start and end are emitted as
        for any document (the `---` between documents), the content is written as it is, and the
        emitter left as after writing the root mapping's last value (a scalar on the last line)."""
        em = self.emitter
        em.emit(Event(Ev.DOC_START, implicit=True))
        em.out.append(text)
        em.column = len(text) - text.rfind("\n") - 1
        em.whitespace = em.indention = em.open_ended = False
        em.state = S.DOC_END
        em.emit(Event(Ev.DOC_END, implicit=True))

    def _recorded(self, doc: Node, recorded: list[str | int | Node]) -> None:
        """_node for a document from its recorded items: a text is its own item (what _scalar makes
        of a plain-safe text with its implicit tag), a block collection's start and end are the
        shared events, any other node is encoded as _node encodes it in a block collection."""
        events = self.events
        events.append(Event(Ev.DOC_START, implicit=True, head_comment=doc.head_comment))
        marks = {
            nodes.OPEN_MAP: _BLOCK_STARTS[Ev.MAP_START],
            nodes.OPEN_SEQ: _BLOCK_STARTS[Ev.SEQ_START],
            nodes.CLOSE_MAP: _MAP_END,
            nodes.CLOSE_SEQ: _SEQ_END,
        }
        for item in recorded:
            if item.__class__ is str:
                events.append(item)  # type: ignore[arg-type]
            elif item.__class__ is int:
                events.append(marks[item])  # type: ignore[index]
            elif item.kind == nodes.SCALAR:  # type: ignore[union-attr]
                # A key too: the emitter writes a Verbatim key from its events.
                scalar = self._scalar(item, "")  # type: ignore[arg-type]
                events.append(_as_verbatim(scalar) if scalar.__class__ is Event else scalar)
            else:
                self._node(item, "")  # type: ignore[arg-type]
        events.append(Event(Ev.DOC_END, implicit=True, foot_comment=doc.foot_comment))

    def close(self) -> str:
        self.emitter.open_ended = False
        self.emitter.emit(Event(Ev.STREAM_END))
        return self.emitter.getvalue()

    def _resolve(self, value: str) -> str:
        rtag = self._resolved.get(value, "")
        if not rtag:
            rtag = self._resolved[value] = resolve_v3(value)
        return rtag

    def _scalar(self, node: Node, tail: str) -> Item:
        """The event of a scalar node: its bare text when nothing but the text is written."""
        value = node.value
        if not (
            node.style or node.anchor or node.head_comment or node.line_comment or node.foot_comment or tail
        ):
            # Plain text with its implicit tag (or none): the general path below gives it no tag
            # and the plain style. `_plain_tags` holds a text's implicit tag, "" if not plain-safe.
            rtag = self._plain_tags.get(value)
            if rtag is None:
                rtag = self._plain_tags[value] = (
                    self._resolve(value) if nodes.PLAIN_SAFE.fullmatch(value) is not None else ""
                )
            if rtag:
                tag = node.tag
                if not tag or tag == rtag or rtag == short_tag(tag):
                    return value
        tag = node.tag
        style_bits = node.style
        force_quoting = False
        if tag and not style_bits & nodes.TAGGED:
            stag = short_tag(tag)
            if stag == "!!str" and style_bits & (
                nodes.SINGLE_QUOTED | nodes.DOUBLE_QUOTED | nodes.LITERAL | nodes.FOLDED
            ):
                tag = ""
            else:
                rtag = self._resolve(value)
                if rtag == stag:
                    tag = ""
                elif stag == "!!str":
                    tag = ""
                    force_quoting = True
        style = Sty.PLAIN
        if style_bits & nodes.DOUBLE_QUOTED:
            style = Sty.DOUBLE
        elif style_bits & nodes.SINGLE_QUOTED:
            style = Sty.SINGLE
        elif style_bits & nodes.LITERAL:
            style = Sty.LITERAL
        elif style_bits & nodes.FOLDED:
            style = Sty.FOLDED
        elif "\n" in value:
            style = Sty.LITERAL
        elif force_quoting:
            style = Sty.DOUBLE
        ltag = long_tag(tag) if tag else ""
        # Positional Event arguments: this runs for every scalar that is not plain text.
        return Event(
            Ev.SCALAR,
            node.anchor,
            ltag,
            value,
            not ltag,
            not ltag,
            style,
            node.head_comment,
            node.line_comment,
            node.foot_comment,
            tail,
        )

    def _flow_verbatim(self, first: int, node: Node, tag: str, tail: str) -> None:
        """Fold the events of a flow collection from `first` on into one Verbatim when it holds only
        plain or escape-free double-quoted texts (keys plain and short enough to be simple keys)
        and nothing but its brackets and items is written (no tag, anchor or comment)."""
        events = self.events
        items = events[first + 1 : -1]
        if not items or tag or node.anchor or node.head_comment or tail:
            return
        texts: list[str] = []
        is_map = node.kind == nodes.MAP
        for i, item in enumerate(items):
            if item.__class__ is str:
                if is_map and not i % 2 and len(item) > 128:  # _check_simple_key's limit
                    return
                texts.append(item)
            elif is_map and not i % 2:
                return  # a key that is not plain text
            else:
                verbatim = _as_verbatim(item)
                if verbatim.__class__ is not Verbatim:
                    return
                texts.append(verbatim.text)
        if is_map:
            text = "{" + ", ".join(f"{texts[i]}: {texts[i + 1]}" for i in range(0, len(texts), 2)) + "}"
        else:
            text = "[" + ", ".join(texts) + "]"
        events[first:] = [Verbatim(text, events[first:])]

    def _node(self, node: Node, tail: str) -> None:
        kind = node.kind
        events = self.events
        if kind == nodes.SCALAR:
            events.append(self._scalar(node, tail))
            return
        tag = node.tag
        if tag and not node.style & nodes.TAGGED:
            implicit = _COLLECTION_TAGS.get(kind, "")
            if tag == implicit or implicit == short_tag(tag):
                tag = ""
        if kind == nodes.DOC:
            events.append(Event(Ev.DOC_START, implicit=True, head_comment=node.head_comment))
            for child in node.content:
                self._node(child, "")
            events.append(Event(Ev.DOC_END, implicit=True, foot_comment=node.foot_comment))
        elif kind == nodes.SEQ:
            first = len(events)
            events.append(_start_event(Ev.SEQ_START, node, tag, ""))
            block = not node.style & nodes.FLOW
            for child in node.content:
                if child.kind == nodes.SCALAR:
                    item = self._scalar(child, "")
                    events.append(_as_verbatim(item) if block and item.__class__ is Event else item)
                else:
                    self._node(child, "")
            if not (node.line_comment or node.foot_comment):
                events.append(_SEQ_END)
                if not block:
                    self._flow_verbatim(first, node, tag, tail)
            else:
                events.append(
                    Event(Ev.SEQ_END, line_comment=node.line_comment, foot_comment=node.foot_comment)
                )
        elif kind == nodes.MAP:
            first = len(events)
            events.append(_start_event(Ev.MAP_START, node, tag, tail))
            block = not node.style & nodes.FLOW
            inner_tail = ""
            items = node.content
            scalar = self._scalar
            for i in range(0, len(items) - 1, 2):
                k = items[i]
                foot = k.foot_comment
                if foot:
                    # yaml.v3 moves a key's foot comment to the tail of the next entry.
                    k = replace(k, foot_comment="")
                if k.kind == nodes.SCALAR:
                    events.append(scalar(k, inner_tail))
                else:
                    self._node(k, inner_tail)
                inner_tail = foot
                v = items[i + 1]
                if v.kind == nodes.SCALAR:
                    item = scalar(v, "")
                    events.append(_as_verbatim(item) if block and item.__class__ is Event else item)
                else:
                    self._node(v, "")
            if not (inner_tail or node.line_comment or node.foot_comment):
                events.append(_MAP_END)
                if not block:
                    self._flow_verbatim(first, node, tag, tail)
            else:
                events.append(
                    Event(
                        Ev.MAP_END,
                        tail_comment=inner_tail,
                        line_comment=node.line_comment,
                        foot_comment=node.foot_comment,
                    )
                )
        elif kind == nodes.ALIAS:
            events.append(
                Event(
                    Ev.ALIAS,
                    anchor=node.value,
                    head_comment=node.head_comment,
                    line_comment=node.line_comment,
                    foot_comment=node.foot_comment,
                )
            )
        else:
            raise EmitterError(f"cannot encode node with unknown kind {kind}")
