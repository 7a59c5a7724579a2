"""Reading YAML into the node tree Flux edits, with comments where yaml.v3 would put them.

libyaml (through PyYAML; ruamel.yaml without it) parses the text: scalars, styles, tags, anchors,
positions. No Python parser places comments as yaml.v3 does, so comments are found in the text and
attached with the placement rules yaml.v3's scanner applies in the cases that occur in manifests: a
comment at the end of a value's line is that value's line comment; one after a bare `key:` belongs
to the key; comment lines above an entry are its head comment; comment lines that end a block
(followed by a blank line or by a dedent) are a foot comment of the entry they follow; what is left
at the end of a document is the document's foot. After a `-` alone on its line those rules do not
hold (the `-` takes no comment and an empty item's event none either): the comments there are placed
by replaying yaml.v3's comment scan and its parser's hand-over on them (lab.core.setters.dash).
"""

from __future__ import annotations

import bisect
import re
import sys
from collections.abc import Container
from dataclasses import field
from io import StringIO
from itertools import accumulate
from typing import Any

from lab.core.record import dataclass
from lab.core.setters import dash
from lab.core.setters.dash import is_empty as _is_empty
from lab.core.setters.node import (
    ALIAS,
    CLOSE_MAP,
    CLOSE_SEQ,
    DOC,
    DOUBLE_QUOTED,
    FLOW,
    FOLDED,
    LITERAL,
    MAP,
    OPEN_MAP,
    OPEN_SEQ,
    PLAIN_SAFE,
    SCALAR,
    SEQ,
    SINGLE_QUOTED,
    TAGGED,
    Node,
)
from lab.core.setters.resolve import resolve_v3, short_tag
from lab.core.yamlerror import explain_yaml_error


class YamlSyntaxError(Exception):
    """The text is not YAML that Flux's reader accepts. `line` (1-based, in the text parsed) and
    `hint` when the parser said where and the lab knows the fix (lab.core.yamlerror)."""

    def __init__(self, message: str, *, line: int | None = None, hint: str | None = None) -> None:
        super().__init__(message)
        self.line = line
        self.hint = hint

    @classmethod
    def from_parser(cls, err: Exception, text: str) -> YamlSyntaxError:
        """The learner's wording of a PyYAML or ruamel error raised while parsing `text`."""
        found = explain_yaml_error(err, text)
        return cls(found.text(), line=found.line, hint=found.hint)


@dataclass(eq=False, slots=True)
class _Entry:
    """A mapping key/value pair or a sequence item: the unit comments attach to."""

    col: int
    line: int
    index: int
    owner: Node  # key node (mapping) or item node (sequence)
    value: Node | None
    parent: _Entry | None
    is_key: bool
    in_flow: bool = False
    container: Node | None = None  # the mapping or sequence the entry is in

    # An entry is also the token that starts it (see _Tok): one object instead of two per entry.
    @property
    def node(self) -> Node:
        return self.owner

    @property
    def entry(self) -> _Entry:
        return self


@dataclass(eq=False, slots=True)
class _Flow:
    """A `[...]` or `{...}` collection: where it opens and closes and its items (keys of a mapping)."""

    start: int
    end: int
    line: int
    column: int
    node: Node
    items: list[_Entry] = field(default_factory=list)


@dataclass(slots=True)
class _Tok:
    index: int
    line: int
    col: int
    node: Node
    entry: _Entry | None  # set when the token starts an entry


@dataclass
class ParsedDoc:
    node: Node
    anchors: dict[str, Node] = field(default_factory=dict)
    # 0-based comment line -> (node it is attached to, role); what `find_markers` explains from
    attached: dict[int, tuple[Node | None, str]] = field(default_factory=dict)
    keys: Container[int] = field(default_factory=set)  # id() of every mapping key a comment is attached to
    # What the encoder makes of the tree, recorded while building it (Encoder.encode): None when not
    # asked for (parse_document's `record`), when the build took every position, or when the tree
    # is changed after the build (the encoder then walks the tree).
    items: list[str | int | Node] | None = None
    # True when the tree is a sketch: a recorded build (`record`) leaves a plain-safe text that is
    # its own item as that text in its collection's content, not as a Node (no tag or position).
    # Enough to encode the document from `items` and to look up keys; not a tree to hand out.
    sketch: bool = False
    # 0-based line where the decode stopped with more of the piece left (an indented first document
    # ends at the first line indented less): kyaml never reads on, and Flux writes the file without it.
    unread_line: int | None = None
    # With unread_line: the 0-based line of the `...` that ended the document, None when it ended
    # at a line indented less than its first.
    end_marker_line: int | None = None


_SEP_LINE = re.compile(r"\n---.*\n")


def split_documents(text: str) -> list[str]:
    """kyaml `splitDocuments`: cut at `---` lines; anything but a comment after `---` is an error."""
    docs: list[str] = []
    if not text:
        return docs
    prev = 0
    for m in _SEP_LINE.finditer(text):
        rest = m.group(0)[4:].strip()
        if rest and not rest.startswith("#"):
            raise YamlSyntaxError(f"invalid document separator: {m.group(0).strip()}")
        docs.append(text[prev : m.start()])
        prev = m.end()
    docs.append(text[prev:])
    return docs


def derive_seq_indent(original: str) -> str:
    """kyaml `DeriveSeqIndentStyle`: `compact` or `wide`, from the first `- ` line after a `key:` line."""
    lines = original.split("\n")
    for i, line in enumerate(lines):
        head, sep, _ = line.partition("- ")
        if not sep or head.strip(" ") != "":
            continue
        key_line = ""
        for j in range(i - 1, -1, -1):
            if lines[j].strip(" ").startswith("#"):
                continue
            key_line = lines[j].split("#", 1)[0]
            break
        if key_line == "":
            continue
        key_indent = len(key_line) - len(key_line.lstrip(" "))
        trimmed = key_line.strip(" ")
        if trimmed.count(":") != 1 or not trimmed.endswith(":"):
            continue
        if len(head) == key_indent:
            return "compact"
        if len(head) - key_indent == 2:
            return "wide"
    return "compact"


def _events(text: str) -> list[Any]:
    """Parse events with positions. libyaml (via PyYAML) when present: yaml.v3's scanner and parser
    are a port of it, so it accepts and rejects the same texts, and it is ~20x faster."""
    if "yaml" not in sys.modules:
        from lab.core.pyyaml import prepare_import

        prepare_import()  # the first `import yaml` then compiles none of its pure-Python patterns
    try:
        import yaml as pyyaml

        loader = getattr(pyyaml, "CSafeLoader", None)
    except ImportError:  # pragma: no cover - PyYAML comes with the kubernetes client
        loader = None
    if loader is not None:
        parser = loader(text)
        try:
            # get_event up to the first document's end: kyaml decodes one document per piece,
            # so yaml.v3 never reads on to what a second one would refuse (an indented first
            # document followed by a dedented line is read as that document alone).
            events = []
            for ev in iter(parser.get_event, None):
                events.append(ev)
                if _EVENT_KIND[ev.__class__] == _DOC_END:
                    break
            return events
        except pyyaml.YAMLError as err:
            raise YamlSyntaxError.from_parser(err, text) from err
        except (ValueError, TypeError, RecursionError) as err:
            raise YamlSyntaxError(str(err) or "invalid YAML") from err
        finally:
            parser.dispose()
    return _ruamel_events(text)  # pragma: no cover - exercised only without libyaml


def _ruamel_events(text: str) -> list[Any]:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    # The plain (non round-trip) scanner: comments are placed by this module.
    yaml = YAML(typ="safe", pure=True)
    try:
        events = []
        for ev in yaml.parse(StringIO(text)):
            events.append(ev)
            if _EVENT_KIND[ev.__class__] == _DOC_END:
                break  # the first document only, as above
        return events
    except YAMLError as err:
        raise YamlSyntaxError.from_parser(err, text) from err
    except (ValueError, TypeError, RecursionError) as err:
        raise YamlSyntaxError(str(err) or "invalid YAML") from err


_HASH = re.compile("#")
_OTHER_BREAK = re.compile("[\r\x85\u2028\u2029]")  # the line breaks but `\n` (a lone CR too)
_GLUED_TO_FLOW = re.compile(r"[\[\]{},]#")  # a comment right after a flow indicator (_ends_token)
_OWN_LINE = re.compile(r"^[ \t]*#", re.MULTILINE)  # a line that may hold a comment and nothing else
# The blank and comment lines a document starts with (a file's header, Helm's `# Source:`).
_HEADER = re.compile(r"(?:[ \t]*(?:#[^\n]*)?\n)*")

_STYLE_BITS = {'"': DOUBLE_QUOTED, "'": SINGLE_QUOTED, "|": LITERAL, ">": FOLDED}


MAX_FLOW_DEPTH = 256


def _check_flow_depth(text: str) -> None:
    """Refuse absurd `[[[[...` nesting up front: the parser slows down quadratically on it."""
    if text.count("[") + text.count("{") <= MAX_FLOW_DEPTH:
        return
    depth = 0
    for c in text:
        if c in "[{":
            depth += 1
            if depth > MAX_FLOW_DEPTH:
                raise YamlSyntaxError(f"flow collections nested deeper than {MAX_FLOW_DEPTH} levels")
        elif c in "]}" and depth:
            depth -= 1


def parse_document(
    text: str, resolved: dict[str, str] | None = None, *, record: dict[str, bool] | None = None
) -> ParsedDoc | None:
    """Decode the first document of `text` (kyaml decodes one per piece); None when it is empty.

    `resolved` memoises the implicit tag of plain scalars: pass one dict for all the pieces of a
    file (manifests repeat the same keys and values thousands of times). `record`, when given:
    also record the items the encoder would make of the tree (ParsedDoc.items), for a tree nothing
    will change; the dict memoises which texts are plain-safe (one for all the pieces too). Such a
    tree may be a sketch (ParsedDoc.sketch): parse the text without `record` for the whole tree.
    """
    _check_flow_depth(text)
    events = _events(text)
    if "?" in text:
        _check_flow_question_marks(text, events)
    builder = _Builder(text, {} if resolved is None else resolved, record=record)
    parsed = builder.build(events)
    if parsed is not None:
        parsed.unread_line = _unread_line(text, events)
        if parsed.unread_line is not None and getattr(events[-1], "explicit", False):
            parsed.end_marker_line = int(events[-1].start_mark.line)
    return parsed


def _unread_line(text: str, events: list[Any]) -> int | None:
    """Where the first document ended with more than blank lines and comments after it, else None."""
    if not events or _EVENT_KIND[events[-1].__class__] != _DOC_END:
        return None
    end = events[-1].end_mark
    for n, line in enumerate(text[end.index :].split("\n")):
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            return int(end.line) + n
    return None


# Event kinds by class, filled on first sight: libyaml's and ruamel's event classes share names but
# not identity, and comparing a class is cheaper than comparing its name once per event.
_SCALAR_EV, _ALIAS_EV, _SEQ_START, _SEQ_END, _MAP_START, _MAP_END, _DOC_START, _DOC_END, _OTHER_EV = range(9)
_KIND_NAMES = {
    "ScalarEvent": _SCALAR_EV,
    "AliasEvent": _ALIAS_EV,
    "SequenceStartEvent": _SEQ_START,
    "SequenceEndEvent": _SEQ_END,
    "MappingStartEvent": _MAP_START,
    "MappingEndEvent": _MAP_END,
    "DocumentStartEvent": _DOC_START,
    "DocumentEndEvent": _DOC_END,
}


def _check_flow_question_marks(text: str, events: list[Any]) -> None:
    """Refuse the `?` in a flow collection that yaml.v3 refuses and libyaml (0.2.5) reads.

    yaml.v3's scanner ends a plain scalar at a `?` in a flow collection (libyaml did before 0.2.5),
    and a `?` there is the key indicator, which cannot follow a value: `[a?b]`, `[b ?]` and
    `[http://x/?q]` are refused. And its parser skips the token after a `[? ` with no key, so a
    `]` there is lost and the sequence is refused: `[?]`, `[a, ? ]`.
    """
    depth = 0  # flow collections open around the event
    in_seq: list[bool] = []  # whether each open flow collection is a sequence
    for ev in events:
        kind = _EVENT_KIND[ev.__class__]
        if kind in (_SEQ_START, _MAP_START):
            if depth or ev.flow_style:
                start = ev.start_mark.index
                if depth and in_seq[-1] and kind == _MAP_START and text[start] == "?":
                    at = _after_blanks_and_comments(text, start + 1)
                    if at < len(text) and text[at] == "]":
                        _refuse(text, at, "did not find expected ',' or ']'")
                depth += 1
                # A `key: value` pair in a flow sequence is a mapping, but a `,` or `]` ends it.
                in_seq.append(kind == _SEQ_START or text[start] != "{")
        elif kind in (_SEQ_END, _MAP_END):
            if depth:
                depth -= 1
                in_seq.pop()
        elif kind == _SCALAR_EV and depth and not ev.style and "?" in ev.value:
            at = text.find("?", ev.start_mark.index, ev.end_mark.index)
            if at != -1:
                ends = "']'" if in_seq[-1] else "'}'"
                _refuse(text, at, f"did not find expected ',' or {ends}")


def _after_blanks_and_comments(text: str, i: int) -> int:
    """The index of the first character from `i` on that is not a blank, a break or in a comment."""
    n = len(text)
    while i < n:
        c = text[i]
        if c == "#" and text[i - 1] in " \t\n":
            nl = text.find("\n", i)
            i = n if nl == -1 else nl
        elif c in " \t\r\n":
            i += 1
        else:
            break
    return i


def _refuse(text: str, at: int, problem: str) -> None:
    line = text.count("\n", 0, at)
    column = at - (text.rfind("\n", 0, at) + 1)
    raise YamlSyntaxError(f"{problem} (yaml.v3), line {line + 1}, column {column + 1}", line=line + 1)


class _Kinds(dict[type, int]):
    """Event class -> kind; a class not seen before is looked up by name once."""

    def __missing__(self, cls: type) -> int:
        kind = self[cls] = _KIND_NAMES.get(cls.__name__, _OTHER_EV)
        return kind


_EVENT_KIND = _Kinds()


def _collection(
    kind: str, tag: str, flow: bool, explicit: bool, anchor: str, sm: Any
) -> tuple[Node, _Flow | None]:
    """A sequence or mapping node starting at mark `sm`, and its _Flow when written in flow style."""
    style = (FLOW if flow else 0) | (TAGGED if explicit else 0)
    node = Node(kind, tag, "", style, anchor, None, [], "", "", "", sm.line, sm.column)
    return node, _Flow(sm.index, -1, sm.line, sm.column, node) if flow else None


class _Builder:
    def __init__(
        self,
        text: str,
        resolved: dict[str, str],
        *,
        trailing_only: bool = True,
        record: dict[str, bool] | None = None,
    ) -> None:
        self.text = text
        # The encoder's items, recorded by _untracked (a build with every position records none).
        self.items: list[str | int | Node] | None = None if record is None else []
        self.plain_safe: dict[str, bool] = {} if record is None else record  # text -> PLAIN_SAFE matches
        self.sketched = False  # a text stands for its node in a collection's content (ParsedDoc.sketch)
        # Without a `#` there is no comment to place: none of the positions that placing needs.
        self.track = "#" in text
        # 0, then the index after each "\n": running sums of the lines' lengths plus one (only
        # comments need lines).
        self.line_starts = (
            list(accumulate(map((1).__add__, map(len, text.split("\n"))), initial=0))[:-1]
            if self.track
            else []
        )
        # libyaml counts CR, NEL, LS and PS as line breaks too, and skips a BOM: only without them
        # are its mark lines the lines of `line_starts`.
        self.marks_match_lines = not any(c in text for c in "\r\x85\u2028\u2029\ufeff")
        # When every comment follows content on its line (the usual marker) or stands above all
        # content, the tree is built as without comments and each comment goes to the value it
        # follows or above the first key (_attach_trailing); a comment it cannot place that way has
        # the document built again with every position.
        self.header_end = 0
        if trailing_only and self.track and self.marks_match_lines:
            header = _HEADER.match(text)
            self.header_end = header.end() if header is not None else 0
        self.trailing = (
            trailing_only
            and self.track
            and self.marks_match_lines
            and not _OWN_LINE.search(text, self.header_end)
            and not _GLUED_TO_FLOW.search(text)  # telling such a comment needs the flows' positions
        )
        self.value_ends: dict[int, tuple[int, Node]] = {}  # comment line -> last plain value ending on it
        self.comment_lines: set[int] = set()
        if self.trailing:
            self.track = False
            self.comment_lines = {self._line_of(m.start()) for m in _HASH.finditer(text)}
        self.resolved = resolved
        self.anchors: dict[str, Node] = {}
        self.toks: list[_Tok | _Entry] = []
        self.spans: list[tuple[int, int]] = []
        self.content_end: dict[int, tuple[int, Node | None, str]] = {}
        self.key_entries: dict[int, _Entry] = {}  # id(key node) -> its entry
        self.header_keys: set[int] = set()  # id() of the key a header comment heads (_attach_trailing)
        self.tok_index: list[int] = []
        self.flows: list[_Flow] = []
        self.flow_starts: list[int] = []
        # comment line -> (node, role) where role is line/head/foot/doc-head/doc-foot
        self.attached: dict[int, tuple[Node | None, str]] = {}
        self.broken_lines: set[int] = set()  # lines whose comment NEL, LS or PS ends
        self.line_comment_lines: set[int] = set()  # lines with a comment after content
        self.empty_items: dict[int, int] = {}  # id() of an empty block sequence item -> its `-` line

    # -- positions -------------------------------------------------------------------------------
    def _line_of(self, index: int) -> int:
        return bisect.bisect_right(self.line_starts, index) - 1

    def _note_end(self, index: int, node: Node | None, what: str) -> None:
        """Remember the last token ending on each line (what a trailing comment follows)."""
        if index <= 0:
            return
        line = self._line_of(index - 1)
        cur = self.content_end.get(line)
        if cur is None or index >= cur[0]:
            self.content_end[line] = (index, node, what)

    # -- tree ------------------------------------------------------------------------------------
    def build(self, events: list[Any]) -> ParsedDoc | None:
        it = iter(events)
        doc: Node | None = None
        for ev in it:
            if _EVENT_KIND[ev.__class__] == _DOC_START:
                doc = Node(DOC)
                root = self._node(next(it), it, None) if self.track else self._untracked(next(it), it)
                doc.content = [root]
                break
        if doc is None:
            return None
        root = doc.content[0]
        if root.kind == SCALAR and root.tag == "!!null":
            return None
        if self.trailing:
            if not self._attach_trailing(doc):
                return _Builder(self.text, self.resolved, trailing_only=False).build(events)
        elif self.track:
            self._attach_comments(doc)
            self._pass_on_heads_of_empty_items(doc.content[0])
        # Every mapping key's id is a key of key_entries; a tree built without positions has no
        # entries, and a comment there is attached to one key at most (_attach_trailing).
        keys = self.header_keys if self.trailing else self.key_entries
        items = self.items if self.items and self.items[0] == OPEN_MAP else None
        if self.sketched and items is None:
            # A sketch is only encoded from its items: without them, the whole tree.
            return _Builder(self.text, self.resolved).build(events)
        return ParsedDoc(doc, self.anchors, self.attached, keys, items, self.sketched)

    def _tag(self, ev: Any) -> tuple[str, bool]:
        raw = ev.tag
        if raw is None:
            return "", False
        tag = str(raw)
        if tag == "!":
            return "", False
        return short_tag(tag), True

    def _scalar(self, ev: Any) -> Node:
        """A scalar node; the most frequent event, so the collection loops call this directly."""
        sm = ev.start_mark
        if not ev.style and ev.tag is None and ev.anchor is None:
            # Plain, untagged, no anchor (most keys and values): the general path below, shortened.
            value = ev.value
            tag = self.resolved.get(value)
            if tag is None:
                tag = self.resolved[value] = "!!merge" if value == "<<" else resolve_v3(value)
            node = Node(SCALAR, tag, value, 0, "", None, [], "", "", "", sm.line, sm.column)
            if value and self.track:  # an empty value (`key:`) is no token
                self._note_plain_end(ev.end_mark, node)
            return node
        return self._any_scalar(ev)

    def _any_scalar(self, ev: Any) -> Node:
        sm = ev.start_mark
        tag, explicit = ("", False) if ev.tag is None else self._tag(ev)
        anchor = ev.anchor or ""
        style = _STYLE_BITS.get(ev.style, 0)
        if explicit:
            style |= TAGGED
        value = ev.value
        if not tag:
            # yaml.v3 decode: quoted/block scalars are strings, a plain `<<` is a merge key.
            if style & ~TAGGED:
                tag = "!!str"
            elif value == "<<":
                tag = "!!merge"
            else:
                tag = self.resolved.get(value, "")
                if not tag:
                    tag = self.resolved[value] = resolve_v3(value)
        node = Node(SCALAR, tag, value, style, anchor, None, [], "", "", "", sm.line, sm.column)
        em = ev.end_mark
        end = em.index
        if style & (LITERAL | FOLDED):
            start = sm.index
            nl = self.text.find("\n", start)
            header_end = nl if nl != -1 and nl < end else end
            self.spans.append((header_end, end))
            self._note_end(header_end, node, "block-header")
            if self.track:
                # yaml.v3's scanner counts the line breaks after the last non-blank character the
                # scalar reads (its end mark is past the trailing breaks): a comment line right under
                # the body is as right under content (the scalar's foot), not after a blank line.
                last = len(self.text[header_end:end].rstrip(" \t\r\n"))
                if last:
                    self._note_end(header_end + last, node, "block-body")
        elif style & (DOUBLE_QUOTED | SINGLE_QUOTED):
            self.spans.append((sm.index, end))
            self._note_end(end, node, "scalar")
        elif value == "" and not anchor and not explicit:
            pass  # an empty value (`key:`) is no token: _node tells it by its empty text and style
        else:
            self._note_plain_end(em, node)
        if anchor:
            self.anchors[anchor] = node
        return node

    def _note_plain_end(self, em: Any, node: Node) -> None:
        """_note_end for a plain scalar, without the line search when its end mark's line is the line."""
        end = em.index
        if em.column > 0 and self.marks_match_lines:
            cur = self.content_end.get(em.line)
            if cur is None or end >= cur[0]:
                self.content_end[em.line] = (end, node, "scalar")
        else:
            self._note_end(end, node, "scalar")

    def _node(self, ev: Any, it: Any, parent: _Entry | None) -> Node:
        kinds = _EVENT_KIND
        kind = kinds[ev.__class__]
        if kind == _SCALAR_EV:
            return self._scalar(ev)
        sm = ev.start_mark
        if kind == _ALIAS_EV:
            target = self.anchors.get(ev.anchor)
            if target is None:
                raise YamlSyntaxError(f"unknown anchor '{ev.anchor}' referenced")
            node = Node(ALIAS, value=ev.anchor, alias=target, line=sm.line, column=sm.column)
            self._note_end(ev.end_mark.index, node, "alias")
            return node
        tag, explicit = ("", False) if ev.tag is None else self._tag(ev)
        anchor = ev.anchor or ""
        toks = self.toks
        if kind == _SEQ_START:
            flow = bool(ev.flow_style)
            node, seq_flow = _collection(SEQ, tag or "!!seq", flow, explicit, anchor, sm)
            for child_ev in it:
                child_kind = kinds[child_ev.__class__]
                if child_kind == _SEQ_END:
                    self._end_flow(seq_flow, child_ev)
                    break
                cs = child_ev.start_mark
                dash_idx = cs.index
                entry_line, entry_col = cs.line, cs.column
                if not flow:
                    dash_idx = self._find_dash(cs.index, sm.column)
                    entry_line = self._line_of(dash_idx)
                    entry_col = sm.column
                entry = _Entry(entry_col, entry_line, dash_idx, node, None, parent, False, flow, node)
                if child_kind == _SCALAR_EV:
                    child = self._scalar(child_ev)
                else:
                    child = self._node(child_ev, it, entry)
                entry.owner = child
                entry.value = child
                toks.append(entry)
                if seq_flow is not None:
                    seq_flow.items.append(entry)
                node.content.append(child)
        elif kind == _MAP_START:
            flow = bool(ev.flow_style)
            node, map_flow = _collection(MAP, tag or "!!map", flow, explicit, anchor, sm)
            content = node.content
            key_entries = self.key_entries
            while True:
                kev = next(it)
                key_kind = kinds[kev.__class__]
                if key_kind == _MAP_END:
                    self._end_flow(map_flow, kev)
                    break
                ks = kev.start_mark
                entry = _Entry(ks.column, ks.line, ks.index, node, None, parent, True, flow, node)
                key = self._scalar(kev) if key_kind == _SCALAR_EV else self._node(kev, it, entry)
                entry.owner = key
                toks.append(entry)
                if map_flow is not None:
                    map_flow.items.append(entry)
                vev = next(it)
                value_kind = kinds[vev.__class__]
                value = self._scalar(vev) if value_kind == _SCALAR_EV else self._node(vev, it, entry)
                entry.value = value
                key_entries[id(key)] = entry
                if value_kind == _ALIAS_EV or (
                    value_kind == _SCALAR_EV and (value.value or value.anchor or value.style)
                ):
                    vs = vev.start_mark
                    if vs.line != ks.line:
                        toks.append(_Tok(vs.index, vs.line, vs.column, value, None))
                content.append(key)
                content.append(value)
        else:
            raise YamlSyntaxError(f"unexpected {type(ev).__name__}")
        if anchor:
            self.anchors[anchor] = node
        return node

    def _untracked(self, ev: Any, it: Any) -> Node:
        """_node for a text without comments: the same tree, without the entries and token
        positions that only placing comments needs (a mapping's content is its keys and values
        in event order, as there). While recording, a block collection with no tag or anchor is
        recorded item by item (_sketch); any other is recorded as its node (its content is not)."""
        kinds = _EVENT_KIND
        kind = kinds[ev.__class__]
        items = self.items
        if kind != _SEQ_START and kind != _MAP_START:
            scalar = self._node(ev, it, None)  # a scalar, an alias, or the error
            if items is not None:
                items.append(scalar)
            return scalar
        tag, explicit = ("", False) if ev.tag is None else self._tag(ev)
        anchor = ev.anchor or ""
        seq = kind == _SEQ_START
        if items is not None and not (explicit or anchor or ev.flow_style):
            return self._sketch(seq, ev.start_mark, it)
        node, _ = _collection(
            SEQ if seq else MAP,
            tag or ("!!seq" if seq else "!!map"),
            bool(ev.flow_style),
            explicit,
            anchor,
            ev.start_mark,
        )
        self.items = None
        content = node.content
        end = _SEQ_END if seq else _MAP_END
        trailing = self.trailing
        resolved = self.resolved
        for child in it:
            child_kind = kinds[child.__class__]
            if child_kind == end:
                break
            if child_kind != _SCALAR_EV:
                content.append(self._untracked(child, it))
                continue
            if child.style or child.tag is not None or child.anchor is not None:
                value = self._any_scalar(child)
            else:
                # _scalar's plain case, inline (no position to note without tracking).
                text = child.value
                implicit = resolved.get(text)
                if implicit is None:
                    implicit = resolved[text] = "!!merge" if text == "<<" else resolve_v3(text)
                sm = child.start_mark
                value = Node(SCALAR, implicit, text, 0, "", None, [], "", "", "", sm.line, sm.column)
            if trailing and (seq or len(content) % 2) and (value.value or value.style):
                self._note_value_end(child.end_mark, value)
            content.append(value)
        if anchor:
            self.anchors[anchor] = node
        if items is not None:
            self.items = items
            items.append(node)
        return node

    def _sketch(self, seq: bool, sm: Any, it: Any) -> Node:
        """_untracked of a block collection with no tag or anchor starting at mark `sm`, recorded
        item by item while recording (self.items): a plain-safe text is its own item unless a
        comment may follow it on its line, and then, but for the root's first key (a header comment
        may head it), it stands for its node in the content (ParsedDoc.sketch: no node, tag or
        position, which nothing reads from a sketch)."""
        kinds = _EVENT_KIND
        items: list[str | int | Node] = self.items  # type: ignore[assignment]
        items.append(OPEN_SEQ if seq else OPEN_MAP)
        node = Node(
            SEQ if seq else MAP,
            "!!seq" if seq else "!!map",
            "",
            0,
            "",
            None,
            [],
            "",
            "",
            "",
            sm.line,
            sm.column,
        )
        content: list[Node | str] = node.content  # type: ignore[assignment]
        end = _SEQ_END if seq else _MAP_END
        trailing = self.trailing
        resolved = self.resolved
        comment_lines = self.comment_lines
        plain_safe = self.plain_safe
        sketched = False
        for child in it:
            kind = kinds[child.__class__]
            if kind == _SCALAR_EV:
                if child.style or child.tag is not None or child.anchor is not None:
                    value = self._any_scalar(child)
                    items.append(value)
                else:
                    text = child.value
                    own = plain_safe.get(text)
                    if own is None:
                        own = plain_safe[text] = PLAIN_SAFE.fullmatch(text) is not None
                    if own and comment_lines and child.end_mark.line in comment_lines:
                        own = False
                    if own and len(items) > 1:
                        items.append(text)
                        content.append(text)
                        sketched = True
                        continue
                    # _scalar's plain case, inline (no position to note without tracking).
                    implicit = resolved.get(text)
                    if implicit is None:
                        implicit = resolved[text] = "!!merge" if text == "<<" else resolve_v3(text)
                    start = child.start_mark
                    value = Node(
                        SCALAR, implicit, text, 0, "", None, [], "", "", "", start.line, start.column
                    )
                    items.append(text if own else value)
                if trailing and (seq or len(content) % 2) and (value.value or value.style):
                    self._note_value_end(child.end_mark, value)
                content.append(value)
            elif kind == end:
                break
            elif (
                kind in (_MAP_START, _SEQ_START)
                and not (child.anchor or child.flow_style)
                and (child.tag is None or str(child.tag) == "!")
            ):
                content.append(self._sketch(kind == _SEQ_START, child.start_mark, it))
            else:
                content.append(self._untracked(child, it))
        items.append(CLOSE_SEQ if seq else CLOSE_MAP)
        if sketched:
            self.sketched = True
        return node

    def _note_value_end(self, em: Any, node: Node) -> None:
        """Remember the last plain or quoted value (not a key) ending on a comment line."""
        if node.style & ~(DOUBLE_QUOTED | SINGLE_QUOTED):
            return  # tagged, or a block scalar (its header ends the line, not its text)
        if em.column > 0 and em.line in self.comment_lines:
            cur = self.value_ends.get(em.line)
            if cur is None or em.index >= cur[0]:
                self.value_ends[em.line] = (em.index, node)

    def _attach_trailing(self, doc: Node) -> bool:
        """_attach_comments when every comment follows content on its line or stands in the
        document's header: a comment whose line ends with a plain or quoted value (nothing but
        blanks between them) is that value's line comment, as _attach_line_comment makes it; the
        header's comments are placed as _attach_gap places comments above the first token. False,
        placing nothing, when a comment is not like that."""
        placed: list[tuple[int, Node, str]] = []
        header: list[tuple[int, int, str]] = []
        for line, col, txt, has_content in self._scan_comments():
            if not has_content:
                header.append((line, col, txt))  # no comment line of its own after the header
                continue
            noted = self.value_ends.get(line)
            if noted is None:
                return False
            end, node = noted
            if self.text[end : self.line_starts[line] + col].strip(" \t"):
                return False
            placed.append((line, node, txt))
        heads: list[tuple[list[list[tuple[int, int, str]]], Node | None]] = []
        if header:
            root = doc.content[0]
            if root.kind != MAP or root.style or root.anchor or root.content[0].kind != SCALAR:
                return False
            # The first key is the first token after the header (a block mapping has one).
            heads = _header_comments(header, root.content[0])
        for line, node, txt in placed:
            node.line_comment = txt
            self.attached[line] = (node, "line")
        for runs, target in heads:
            text = _join_parts(runs)
            if target is None:
                doc.head_comment = _join_blank(doc.head_comment, text)
            else:
                target.head_comment = _join(text, target.head_comment)
                self.header_keys.add(id(target))
                if self.items:
                    self.items[1] = target  # the root's first key: encoded with its comment
            self._mark_runs(runs, target, "head" if target is not None else "doc-head")
        return True

    def _pass_on_heads_of_empty_items(self, root: Node) -> None:
        """yaml.v3 makes an empty item or value (a `-` or `key:` with nothing after it) an event
        without comments: the head comments above it stay pending and head the next node in
        document order (next item, or what follows the collection). A block mapping's end event
        takes them first when it comes before (decode keeps no head of it), and so does the
        root's at the end: they are lost. So a marker above an empty item is not Flux's marker
        for it."""
        pending: list[str] = []
        sources: list[Node] = []
        for ev in dash.events(root):
            node = ev.node
            if node is None:
                continue  # the document's end: the root mapping's end came first
            if ev.kind == "end":
                if pending and node.kind == MAP:
                    self._reattach(sources, None, "lost")
                    pending, sources = [], []
                continue
            parent = ev.parent
            if (
                parent is not None
                and not parent.style & FLOW
                and (parent.kind == SEQ or ev.index % 2 == 1)
                and _is_empty(node)
            ):
                if node.head_comment:
                    dash_line = self.empty_items.get(id(node), -1)
                    last = max((ln for ln, (n, _) in self.attached.items() if n is node), default=-1)
                    # A blank line between the comment and its `-` stays in the text (yaml.v3).
                    blank = "\n" if 0 <= last < dash_line - 1 else ""
                    pending.append(node.head_comment + blank)
                    sources.append(node)
                    node.head_comment = ""
                continue
            if pending:
                text = "\n".join(pending)
                node.head_comment = _join(text, node.head_comment) if node.head_comment else text.rstrip("\n")
                self._reattach(sources, node, "head")
                pending, sources = [], []
        if sources:
            self._reattach(sources, None, "lost")

    def _reattach(self, sources: list[Node], node: Node | None, role: str) -> None:
        for ln, (was, _) in list(self.attached.items()):
            if was is not None and any(was is src for src in sources):
                self.attached[ln] = (node, role)

    def _end_flow(self, flow: _Flow | None, end_ev: Any) -> None:
        """At a collection's end event: a flow collection ends at its bracket."""
        if flow is not None:
            end = end_ev.end_mark.index
            self._note_end(end, flow.node, "flow-end")
            flow.end = end
            self.flows.append(flow)

    def _find_dash(self, item_index: int, col: int) -> int:
        """Index of the `- ` indicator that introduces a block sequence item."""
        line = self._line_of(item_index)
        while line >= 0:
            idx = self.line_starts[line] + col
            if idx < len(self.text) and self.text[idx] == "-" and idx <= item_index:
                return idx
            line -= 1
        return item_index

    # -- comments --------------------------------------------------------------------------------
    def _scan_comments(self) -> list[tuple[int, int, str, bool]]:
        """(line, column, text, has content before it) for every comment outside scalars."""
        spans = sorted(self.spans)
        starts = [s for s, _ in spans]
        out: list[tuple[int, int, str, bool]] = []
        text = self.text
        n = len(text)
        line_starts = self.line_starts
        # Only a line with a `#` can hold a comment: the character walk below visits those alone.
        hash_lines = sorted({bisect.bisect_right(line_starts, m.start()) - 1 for m in _HASH.finditer(text)})
        for ln in hash_lines:
            ls = line_starts[ln]
            le = text.find("\n", ls)
            if le == -1:
                le = n
            pos = ls
            content = False
            k = bisect.bisect_right(starts, pos) - 1
            if k >= 0 and spans[k][0] <= pos < spans[k][1]:
                if spans[k][1] >= le:
                    continue
                pos = spans[k][1]
                content = True
            while pos < le:
                k = bisect.bisect_right(starts, pos) - 1
                if k >= 0 and spans[k][0] <= pos < spans[k][1]:
                    if spans[k][1] >= le:
                        pos = le
                        break
                    pos = spans[k][1]
                    content = True
                    continue
                c = text[pos]
                if c == "#" and (pos == ls or text[pos - 1] in " \t" or self._ends_token(pos, le)):
                    m = _OTHER_BREAK.search(text, pos, le)
                    # yaml.v3's scanner ends a comment at CR, NEL, LS or PS as at a line feed.
                    out.append((ln, pos - ls, text[pos : m.start() if m else le], content))
                    if m and m.group() != "\r":
                        self.broken_lines.add(ln)  # ended by a multi-byte break (_attach_gap)
                    break
                if c not in " \t":
                    content = True
                pos += 1
        return out

    def _ends_token(self, pos: int, le: int) -> bool:
        """Whether a token ends right before the `#` at `pos` (on a line ending at `le`), which then
        starts a comment without a blank before it, as yaml.v3's scanner reads it between tokens:
        after a closing quote, a flow indicator, or a block scalar's header."""
        prev = self.text[pos - 1]
        if prev in "\"'":
            k = bisect.bisect_right(self.spans, (pos, -1)) - 1  # a quoted scalar ending at `pos`
            return any(end == pos for _, end in self.spans[max(k - 1, 0) : k + 1])
        if prev in "[]{},":
            # In a flow collection, or right after one (a plain scalar there ends at these).
            return any(f.start < pos <= f.end for f in self.flows)
        if prev in "|>+-0123456789":
            k = bisect.bisect_left(self.spans, (le, -1))
            return k < len(self.spans) and self.spans[k][0] == le  # a block scalar's header line
        return False

    def _attach_comments(self, doc: Node) -> None:
        comments = self._scan_comments()
        if not comments:
            return
        root = doc.content[0]
        for flow in self.flows:
            if flow.node is root:
                # A comment above a `[`/`{` document heads the collection (yaml.v3), not its first item.
                self.toks.append(_Tok(flow.start, flow.line, flow.column, root, None))
        self.flows.sort(key=lambda f: f.start)
        self.flow_starts = [f.start for f in self.flows]
        self.toks.sort(key=lambda t: t.index)
        tok_idx = self.tok_index = [t.index for t in self.toks]
        # The entries by index: toks holds every entry, appended in the order they were found, and
        # the sort is stable.
        entries = [t for t in self.toks if t.__class__ is _Entry]
        # A `-` alone (an empty item) is a token too: the comments above it and below it are apart.
        self.empty_items = {
            id(e.owner): e.line
            for e in entries
            if not e.is_key
            and not e.in_flow
            and _is_empty(e.owner)
            and self._line_text(e.line).strip(" \t") == "-"
        }
        empty_item_lines = set(self.empty_items.values())
        entry_idx = [e.index for e in entries]
        # A line holding only `[`/`{` still separates the comments above it from those inside.
        content_lines = sorted(set(self.content_end).union(self._line_of(f.start) for f in self.flows))
        own: list[tuple[int, int, str]] = []
        deferred: list[tuple[int, str]] = []
        explicit = _explicit_start(self.text)
        placed = self._attach_after_dashes(doc, entries, comments)
        for line, col, txt, has_content in comments:
            if line in placed:
                continue
            if has_content and not (line == 0 and explicit):
                self.line_comment_lines.add(line)
                if not self._attach_line_comment(line, txt, defer=True):
                    deferred.append((line, txt))
            else:
                own.append((line, col, txt))
        for line, txt in deferred:
            self._attach_line_comment(line, txt, defer=False)
        # Group own-line comments into gaps between content lines.
        gaps: list[list[tuple[int, int, str]]] = []
        token_lines = sorted(empty_item_lines.union(content_lines)) if empty_item_lines else content_lines
        for c in own:
            if gaps and not self._content_between(token_lines, gaps[-1][-1][0], c[0]):
                gaps[-1].append(c)
            else:
                gaps.append([c])
        for gap in gaps:
            self._attach_gap(doc, gap, tok_idx, entries, entry_idx, content_lines)

    def _attach_after_dashes(
        self, doc: Node, entries: list[_Entry], comments: list[tuple[int, int, str, bool]]
    ) -> set[int]:
        """Place the comments between a `-` that ends its line (a comment after it aside) and the
        next token as yaml.v3 does (see lab.core.setters.dash); the comment lines placed."""
        placed: set[int] = set()
        text = self.text
        evs: list[dash.Event] = []
        ev_at: dict[int, int] = {}  # id() of a node -> the index of its event in evs
        starts = [self.line_starts[c[0]] + c[1] for c in comments]  # where each comment starts
        for e in entries:
            if e.is_key or e.in_flow or text[e.index : e.index + 1] != "-":
                continue
            d = e.index
            eol = text.find("\n", d)
            after = text[d + 1 : len(text) if eol == -1 else eol].strip(" ")
            if after and not after.startswith("#"):
                continue
            gap = self._dash_gap(d)
            if gap is None:
                continue
            first_hash, newlines, t = gap
            if not evs:
                evs = list(dash.events(doc.content[0]))
                ev_at = {id(ev.node): i for i, ev in enumerate(evs) if ev.kind == "node"}
            gap_comments = comments[bisect.bisect_right(starts, d) : bisect.bisect_left(starts, t)]
            lines = self._deliver_after_dash(
                doc, e, evs, ev_at.get(id(e.owner), -1), first_hash, newlines, t, gap_comments
            )
            if lines is not None:
                placed |= lines
        return placed

    def _dash_gap(self, d: int) -> tuple[int, int, int] | None:
        """For the `-` at `d`: the first `#` after it, the line breaks before that `#`, and the
        index of the next token (len(text) at the end); None without a comment, or with a break or
        tab there that the replay does not model."""
        text = self.text
        n = len(text)
        i = d + 1
        first_hash = -1
        newlines = 0
        while i < n:
            c = text[i]
            if c == " ":
                i += 1
            elif c == "\n":
                if first_hash < 0:
                    newlines += 1
                i += 1
            elif c == "#":
                if first_hash < 0:
                    first_hash = i
                nl = text.find("\n", i)
                end = n if nl == -1 else nl
                if _OTHER_BREAK.search(text, i, end):
                    return None
                i = end
            elif c in "\t\r\x85\u2028\u2029":
                return None
            else:
                break
        if first_hash < 0:
            return None
        return first_hash, newlines, i

    def _deliver_after_dash(
        self,
        doc: Node,
        e: _Entry,
        evs: list[dash.Event],
        k: int,
        first_hash: int,
        newlines: int,
        t: int,
        gap: list[tuple[int, int, str, bool]],
    ) -> set[int] | None:
        """Replay yaml.v3 on the comments `gap` after the `-` of entry `e` (next token at `t`),
        whose item's event is evs[k]."""
        text = self.text
        d = e.index
        at_line_start = t < len(text) and self.line_starts[self._line_of(t)] == t
        if (t < len(text) and text[t] in "?:") or (at_line_start and text.startswith("---", t)):
            return None  # a complex key's indicator, or a document start: not modelled
        # A `...` ends the document as the end of the text does, closing every block.
        doc_end = at_line_start and self._doc_end_at(self._line_of(t))
        # The blocks open at the `-`, innermost first, with their indentation (None: a sequence
        # whose dashes sit at its key's column, which has no indentation level of its own).
        levels: list[tuple[Node, int | None]] = []
        ent: _Entry | None = e
        while ent is not None:
            if ent.in_flow or ent.container is None:
                return None
            cont = ent.container
            indent: int | None = ent.col
            if not ent.is_key and ent.parent is not None and ent.parent.is_key and ent.parent.col == ent.col:
                indent = None
            levels.append((cont, indent))
            ent = ent.parent
        recs = dash.scan(
            text,
            first_hash,
            self._line_of(first_hash),
            newlines,
            dash.Mark(d + 1, e.line, e.col + 1),
            d,
            e.col,
        )
        # The records' lines, checked against the comments found in the gap.
        if [ln for r in recs for ln in r.text.split("\n") if ln] != [c[2] for c in gap]:
            return None
        rec_of: list[tuple[int, dash.Comment]] = []
        for c in gap:
            at = self.line_starts[c[0]] + c[1]
            rec = max((r for r in recs if r.start.pos <= at), key=lambda r: r.start.pos, default=None)
            if rec is None:
                return None
            rec_of.append((c[0], rec))
        if k < 0:
            return None
        item = e.owner
        delivery = dash.Delivery(doc)
        pending = delivery.unfold(recs, d)  # what the parser takes on peeking the `-`
        first = True
        if dash.is_empty(item):
            # The blocks the next token closes end first: their BLOCK-END tokens, at the marks
            # yaml.v3 gives them, are peeked before it; a block mapping's end takes what is held.
            first = False
            k += 1
            ends: list[dash.Event] = []
            while k < len(evs) and evs[k].kind == "end":
                ends.append(evs[k])
                k += 1
            indents = [(node, ind) for node, ind in levels if ind is not None]
            if t >= len(text) or doc_end:
                # The blocks right of the position reached close as before any token; the others
                # close at the `...` or the end of the text, their BLOCK-END tokens placed from
                # there (yaml_parser_fetch_document_indicator, yaml_parser_fetch_stream_end).
                column = 0 if doc_end else t - (text.rfind("\n", 0, t) + 1)
                inner = [(nd, ind) for nd, ind in indents if ind > column]
                outer = indents[len(inner) :]
                marks = dash.block_end_marks(recs, [ind for _, ind in inner], d)
                marks += dash.block_end_marks(recs, [ind for _, ind in outer], t - 1)
                popped = [nd for nd, _ in indents]
            else:
                column = t - self.line_starts[self._line_of(t)]
                inner = []
                for nd, ind in indents:
                    if ind <= column:
                        break
                    inner.append((nd, ind))
                marks = dash.block_end_marks(recs, [ind for _, ind in inner], d)
                popped = [nd for nd, _ in inner]
            if [
                ev.node for ev in ends if any(ev.node is nd for nd, ind in levels if ind is not None)
            ] != popped:
                return None
            mark_of = {id(nd): m for nd, m in zip(popped, marks, strict=True)}
            for ev in ends:
                if ev.node is not None and id(ev.node) in mark_of:
                    pending = delivery.unfold(pending, mark_of[id(ev.node)], block_end=True)
                delivery.take(ev)
        pending = delivery.unfold(pending, None)  # the next token is past every comment
        for ev in evs[k:]:
            if not delivery.head and not delivery.foot:
                break
            node = ev.node
            if ev.kind == "node" and node is not None and node.kind in (MAP, SEQ) and not node.style & FLOW:
                parent = ev.parent
                if not first and parent is not None and parent.kind == SEQ and not parent.style & FLOW:
                    delivery.stem(node)
            elif not (ev.kind == "node" and node is not None and dash.is_empty(node)):
                delivery.take(ev)
            first = False
        where = {id(p.comment): p for p in delivery.placed}
        lines: set[int] = set()
        for line, rec in rec_of:
            p = where.get(id(rec))
            if p is None:
                continue
            if p.node is doc:
                self.attached[line] = (None, "doc-foot")
            else:
                self.attached[line] = (p.node, p.role)
            lines.add(line)
        return lines

    @staticmethod
    def _content_between(content_lines: list[int], a: int, b: int) -> bool:
        k = bisect.bisect_right(content_lines, a)
        return k < len(content_lines) and content_lines[k] < b

    def _attach_line_comment(self, line: int, txt: str, *, defer: bool) -> bool:
        """Attach a comment that follows content on its line; False when deferred to a second pass."""
        end = self.content_end.get(line)
        if end is None:
            # Only a sequence dash (or an empty key) precedes the comment: it heads what follows.
            tok = self._first_tok_after_line(line)
            if tok is not None:
                if tok.entry is not None and tok.entry.is_key and tok.entry.owner.line == line:
                    tok.entry.owner.line_comment = _join(tok.entry.owner.line_comment, txt)
                    self.attached[line] = (tok.entry.owner, "line")
                else:
                    tok.node.head_comment = _join(txt, tok.node.head_comment)
                    self.attached[line] = (tok.node, "head")
            return True
        _, node, what = end
        if node is None:
            return True
        key_entry = self.key_entries.get(id(node))
        owner = key_entry.value if key_entry is not None else None
        if (
            owner is not None
            and owner.kind in (MAP, SEQ)
            and not owner.style & FLOW
            and (owner.anchor or owner.style & TAGGED)
        ):
            # `key: &anchor # c`: yaml.v3 hands the comment to the first value inside that has
            # none of its own, so those are attached first.
            if defer:
                return False
            target = _first_plain_value(owner)
            if target is None:
                # Nothing inside is free: the next key of the enclosing mapping takes it.
                parent = key_entry.container if key_entry is not None else None
                if parent is not None:
                    keys = parent.content[0::2]
                    at = next((i for i, k in enumerate(keys) if k is node), -1)
                    if 0 <= at < len(keys) - 1 and not keys[at + 1].line_comment:
                        target = keys[at + 1]
            if target is not None:
                target.line_comment = target.line_comment or txt
                self.attached[line] = (target, "line")
            return True
        # The last token on the line takes it (a key whose value is not on this line included).
        if what in ("scalar", "alias", "flow-end", "block-header") and not node.line_comment:
            node.line_comment = txt
            self.attached[line] = (node, "line")
        return True

    def _first_tok_after_line(self, line: int) -> _Tok | _Entry | None:
        idx = self.line_starts[line]
        start = bisect.bisect_left(self.tok_index, idx)
        for t in self.toks[start:]:
            if t.index >= idx:
                if t.line == line and t.entry is not None:
                    if t.entry.is_key:
                        return t
                    owner = t.entry.owner
                    if not t.entry.in_flow and owner.kind in (SCALAR, ALIAS) and owner.line > line:
                        # `- # c` with a scalar under it: the comment heads that item (a block
                        # collection's first token after this line takes it, as below).
                        return t
                if t.line > line:
                    return t
        return None

    def _line_text(self, line: int) -> str:
        start = self.line_starts[line]
        end = self.text.find("\n", start)
        return self.text[start : len(self.text) if end == -1 else end]

    def _doc_end_at(self, line: int) -> bool:
        """Whether `line` starts with the document end indicator `...`."""
        if line >= len(self.line_starts):
            return False
        at = self.line_starts[line]
        return self.text.startswith("...", at) and self.text[at + 3 : at + 4] in ("", " ", "\t", "\r", "\n")

    def _flow_around(self, index: int) -> _Flow | None:
        """The innermost `[...]`/`{...}` that `index` lies in, if any."""
        k = bisect.bisect_right(self.flow_starts, index)
        for flow in reversed(self.flows[:k]):
            if flow.start < index < flow.end:
                return flow
        return None

    def _attach_flow_gap(self, flow: _Flow, runs: list[list[tuple[int, int, str]]], prev_line: int) -> None:
        """Comment lines inside a flow collection, placed as yaml.v3's scanner does there.

        The run right under an item (or key: value) is the item's foot when a blank line or the
        closing bracket follows it; what is left heads the next item, or, when the bracket comes
        next, joins that foot (blank lines kept). Keys carry a mapping pair's head and foot.
        """
        first_line = runs[0][0][0]
        last_line = runs[-1][-1][0]
        gap_start = self.line_starts[first_line]
        prev = nxt = None
        for item in flow.items:
            if item.index < gap_start:
                prev = item
            elif nxt is None:
                nxt = item
        next_line = nxt.line if nxt is not None else self._line_of(flow.end - 1)
        rest = runs
        if (
            prev is not None
            and first_line == prev_line + 1
            and (len(runs) > 1 or nxt is None or next_line > last_line + 1)
        ):
            self._flow_foot(prev.owner, runs[:1])
            rest = runs[1:]
        if not rest:
            return
        if nxt is not None:
            nxt.owner.head_comment = _join(_join_parts(rest), nxt.owner.head_comment)
            self._mark_runs(rest, nxt.owner, "head")
        elif prev is not None:
            self._flow_foot(prev.owner, rest)
        else:
            # `[ # only comments ]`: nothing to hang them on; yaml.v3 keeps them on the collection.
            self._flow_foot(flow.node, rest)

    def _flow_foot(self, owner: Node, runs: list[list[tuple[int, int, str]]]) -> None:
        owner.foot_comment = _join_blank(owner.foot_comment, _join_parts(runs))
        self._mark_runs(runs, owner, "foot")

    def _mark_runs(self, runs: list[list[tuple[int, int, str]]], node: Node | None, role: str) -> None:
        for run in runs:
            for ln, _, _ in run:
                self.attached[ln] = (node, role)

    def _attach_gap(
        self,
        doc: Node,
        gap: list[tuple[int, int, str]],
        tok_idx: list[int],
        entries: list[_Entry],
        entry_idx: list[int],
        content_lines: list[int],
    ) -> None:
        first_line = gap[0][0]
        last_line = gap[-1][0]
        gap_start = self.line_starts[first_line]
        k = bisect.bisect_left(tok_idx, self.line_starts[last_line])
        nxt = self.toks[k] if k < len(self.toks) else None
        while nxt is not None and nxt.line <= last_line:
            k += 1
            nxt = self.toks[k] if k < len(self.toks) else None
        kp = bisect.bisect_left(content_lines, first_line) - 1
        prev_line = content_lines[kp] if kp >= 0 else -1
        # Entries open at the gap: the last entry started before it and its ancestors.
        ke = bisect.bisect_left(entry_idx, gap_start) - 1
        chain: list[_Entry] = []
        e = entries[ke] if ke >= 0 else None
        while e is not None:
            # Entries inside a flow collection take no block comments (gaps inside one went to
            # _attach_flow_gap instead).
            if not e.in_flow:
                chain.append(e)
            e = e.parent
        runs = _runs(gap)
        flow = self._flow_around(gap_start)
        if flow is not None:
            self._attach_flow_gap(flow, runs, prev_line)
            return
        broken = self.broken_lines
        cut = next((j for j, c in enumerate(gap) if c[0] in broken), -1) if broken else -1
        if cut >= 0:
            # yaml.v3's comment scan reads bytes: after LS, PS or NEL (two or three bytes) it meets the
            # break's next byte as content in column 0 and stops. The lines up to there end as
            # above such a token: the innermost block's foot when it ends there (it is right of
            # column 0 and the run is not in column 0), else the next token's head (the document's
            # foot at the end). The lines after are scanned anew, as under a blank line.
            part, after = gap[: cut + 1], gap[cut + 1 :]
            if after:
                self._attach_gap(doc, after, tok_idx, entries, entry_idx, content_lines)
            text = "\n".join(t for _, _, t in part)
            inner_entry = chain[0] if chain else None
            target: Node | None = None
            if inner_entry is not None and inner_entry.col > 0 and part[0][1] != 0:
                target = holder = _foot_holder(inner_entry.owner)
                holder.foot_comment = _join(holder.foot_comment, text)
                role = "foot"
            elif nxt is not None:
                target = head = nxt.node
                head.head_comment = _join(text, head.head_comment)
                role = "head"
            else:
                doc.foot_comment = _join(doc.foot_comment, text)
                role = "doc-foot"
            for ln, _, _ in part:
                self.attached[ln] = (target, role)
            return
        if nxt is None and prev_line >= 0 and first_line == prev_line + 1:
            end = self.content_end.get(prev_line)
            root = doc.content[0]
            if end is not None and end[1] is root and end[2] == "flow-end":
                # Right under a `]`/`}` that ends the document: the first run is the collection's
                # foot (yaml.v3 `# F1` in `[la, lb] # I\n# F1`); what follows a blank line is the document's.
                root.foot_comment = _join(root.foot_comment, _join_parts(runs[:1]))
                self._mark_runs(runs[:1], root, "foot")
                if len(runs) > 1:
                    doc.foot_comment = _join(doc.foot_comment, _join_parts(runs[1:]))
                    self._mark_runs(runs[1:], None, "doc-foot")
                return
        # A run whose lines change column splits there (yaml.v3 ends a foot at a dedent).
        parts: list[list[tuple[int, int, str]]] = []
        run_end: list[bool] = []
        for run in runs:
            sub: list[tuple[int, int, str]] = []
            for c in run:
                if sub and c[1] != sub[0][1]:
                    parts.append(sub)
                    run_end.append(False)
                    sub = []
                sub.append(c)
            parts.append(sub)
            run_end.append(True)

        def mark(part: list[tuple[int, int, str]], node: Node | None, role: str) -> None:
            for ln, _, _ in part:
                self.attached[ln] = (node, role)

        def text_of(part: list[tuple[int, int, str]]) -> str:
            return "\n".join(t for _, _, t in part)

        def foot_to(target: _Entry | None, part: list[tuple[int, int, str]]) -> None:
            if target is None:
                doc.foot_comment = _join(doc.foot_comment, text_of(part))
                mark(part, None, "doc-foot")
                return
            holder = _foot_holder(target.owner)
            holder.foot_comment = _join(holder.foot_comment, text_of(part))
            mark(part, holder, "foot")

        def level(col: int) -> _Entry | None:
            # The block at that column; a sequence whose dashes sit at its key's column belongs
            # to the key's mapping.
            if eof_block is not None:
                return eof_block
            for k, ent in enumerate(chain):
                if ent.col <= col:
                    while k + 1 < len(chain) and chain[k + 1].col == ent.col:
                        k += 1
                        ent = chain[k]
                    return ent
            return chain[-1] if chain else None

        def pending_foot(part: list[tuple[int, int, str]]) -> bool:
            """A comment left of the innermost block before a blank line is a foot that yaml.v3
            hands to the next token after it (its token mark is its own start): unless a block
            at its column ends there, the next scalar or alias takes it (yaml.v3 decode then moves
            a key's foot to the key before it and a value's to its key), and a flow collection
            loses it. True when placed so (`level` places the other)."""
            col = part[0][1]
            at = level(col)
            if nxt is None or (at is not None and at.col == col and next_col < col):
                return False
            found = _pending_foot_holder(nxt)
            if found is None and nxt.entry is None and chain and chain[0].value is nxt.node:
                found = (chain[0].owner,)  # a value under its `key:` line: decode moves its foot to the key
            if found is None:
                return False
            holder = found[0]
            if holder is None:
                mark(part, None, "foot")  # lost with the flow collection's start event
            else:
                holder.foot_comment = _join(holder.foot_comment, text_of(part))
                mark(part, holder, "foot")
            return True

        next_col = nxt.col if nxt is not None else -1
        next_line = nxt.line if nxt is not None else -1
        # A `...` right under the comments is a token at column 0 for yaml.v3's scanner: the text
        # above it heads it (the document's foot) unless a dedent to it splits the text off as a
        # foot, as above a dedented key; at the end of the text, a foot is made at the last break.
        doc_end = nxt is None and self._doc_end_at(last_line + 1)
        if doc_end:
            next_col, next_line = 0, last_line + 1
        # Without a line break at the end of the text, yaml.v3 closes the blocks indented past the
        # last line's end before the comments, as at a break, but the others only at the end of
        # the stream, after the comments (unless a comment at a block's column marks its end). A
        # comment left of them that starts a foot of its own (not one split off the previous
        # token's) is then the foot of the innermost of those: of its last key, as a sequence's
        # end takes no comment and hands it to the mapping around it.
        eof_block: _Entry | None = None
        if nxt is None and not doc_end and last_line == len(self.line_starts) - 1:
            width = len(self._line_text(last_line))
            eof_block = next((en for en in chain if en.col <= width), None)
            # Only for one comment as yaml.v3 reads it: a line left of the innermost block at
            # another column would start another.
            start_col = parts[0][0][1]
            if eof_block is not None and (
                start_col >= eof_block.col
                or any(c != start_col and c < chain[0].col for p in parts for _, c, _ in p)
            ):
                eof_block = None
            while eof_block is not None and not eof_block.is_key:
                eof_block = eof_block.parent
        # A line comment ended by NEL, LS or PS leaves two breaks before the next line, as a blank line.
        first_empty = prev_line >= 0 and first_line == prev_line + 1 and prev_line not in self.broken_lines
        prev_bare_key = no_foot_line = False
        if prev_line >= 0:
            end = self.content_end.get(prev_line)
            if end is not None and end[1] is not None:
                last_node = end[1]
                # The line ends with `key:`: its value is on a later line, or empty (no token).
                prev_bare_key = any(
                    en.is_key
                    and en.owner is last_node
                    and en.value is not None
                    and (en.value.line > prev_line or _is_empty(en.value))
                    for en in chain[:3]
                )
                # yaml.v3 looks for a foot on the line under the scan's start, which is after the
                # last token (and its line comment); a scan starting on the document's first line
                # has no such line (`scan_mark.line > 0`). Only a plain scalar with no comment after
                # it reads on past its line break; after any other token on line 0, the comment
                # lines under it are a foot only when dedented, as under `key:`.
                no_foot_line = prev_line == 0 and (
                    end[2] in ("alias", "flow-end")
                    or (end[2] == "scalar" and bool(last_node.style & (DOUBLE_QUOTED | SINGLE_QUOTED)))
                    or 0 in self.line_comment_lines
                )
        if prev_line < 0:
            if nxt is not None and _explicit_start(self.text):
                # After a `---` on the document's first line yaml.v3's scan starts on line 0, where
                # it looks for no foot line, and the implicit document's split of its header at a
                # blank line does not apply: every run heads the first token, the blank lines
                # between runs kept and those before the token dropped.
                nxt.node.head_comment = _join(_join_parts(runs), nxt.node.head_comment)
                for p in runs:
                    mark(p, nxt.node, "head")
                return
            # Comments above the first token: a block separated by a blank line heads the document.
            if len(runs) > 1 or (nxt is not None and next_line > last_line + 1):
                doc.head_comment = text_of(runs[0])
                mark(runs[0], None, "doc-head")
                runs = runs[1:]
            if runs and nxt is not None and next_line == runs[-1][-1][0] + 1:
                nxt.node.head_comment = _join(_join_parts(runs), nxt.node.head_comment)
                for p in runs:
                    mark(p, nxt.node, "head")
            elif runs:
                doc.head_comment = _join_blank(doc.head_comment, _join_parts(runs))
                for p in runs:
                    mark(p, None, "doc-head")
            return
        inner = chain[0] if chain else None
        inner_col = inner.col if inner is not None else 0
        closes = (nxt is None and not doc_end) or next_col < inner_col
        i = 0
        # yaml.v3 makes the comment lines right under content a foot when they are under a value
        # (not under `key:`, whose `:` is the last token), left of the innermost block, or when
        # the block ends at the next token, at another column.
        if (
            first_empty
            and parts
            and (
                not (prev_bare_key or no_foot_line)
                or parts[0][0][1] < inner_col
                or ((nxt is not None or doc_end) and next_col < inner_col and next_col != parts[0][0][1])
            )
        ):
            first = parts[0]
            blank_after = run_end[0] and (len(runs) > 1 or (nxt is not None and next_line > first[-1][0] + 1))
            dedent_after = not run_end[0] and parts[1][0][1] < inner_col
            above_next = run_end[0] and len(runs) == 1
            if blank_after or dedent_after or (above_next and closes and first[0][1] != next_col):
                # At the end of the document the foot lands on the block at the comment's column.
                at_eof = nxt is None and not doc_end and not blank_after and not dedent_after
                # Before a blank line the foot belongs to the block at the comment's own column
                # (yaml.v3: `ka:\n  kb: vb\n# FA1\n\nkc: vc` is ka's foot, written back in place).
                outdented = blank_after and first[0][1] < inner_col
                # Not left of the innermost block, it stays the previous token's foot (yaml.v3's
                # token mark): under a sequence whose dashes sit at its key's column, the last item's.
                to_level = (at_eof and first[0][1] < inner_col) or outdented
                if not (outdented and pending_foot(first)):
                    foot_to(level(first[0][1]) if to_level else inner, first)
                i = 1
                while i < len(parts) and not run_end[i - 1] and closes and parts[i][0][1] > next_col:
                    foot_to(level(parts[i][0][1]), parts[i])
                    i += 1
                if (
                    i < len(parts)
                    and not run_end[i - 1]
                    and run_end[i]
                    and parts[i][0][1] < inner_col
                    and (len(runs) > 1 or next_line > parts[i][-1][0] + 1)
                    and pending_foot(parts[i])
                ):
                    i += 1  # a dedented run's last lines before a blank line, split off at the dedent
        if (
            i == 0
            and not prev_bare_key
            and len(parts) > 1
            and not run_end[0]
            and parts[1][0][1] < inner_col
            and inner is not None
        ):
            # yaml.v3 ends a run where its next line starts left of the block (at another column):
            # the lines before are the previous token's foot, blank line above them or not.
            foot_to(inner, parts[0])
            i = 1
        rest = parts[i:]
        if not rest:
            return
        if nxt is None and not doc_end:
            text = "\n\n".join(text_of(p) for p in _merge_runs(rest, run_end[i:]))
            doc.foot_comment = _join(doc.foot_comment, text)
            for p in rest:
                mark(p, None, "doc-foot")
            return
        last = rest[-1]
        if closes and last[0][1] != next_col and next_line == last[-1][0] + 1:
            # Text directly above a dedented token at another column ends the block it follows;
            # when nothing split the comments before it, yaml.v3 gives it to the token before
            # (its token mark), blank line above or not.
            foot_to(inner if i == 0 and len(rest) == 1 else level(last[0][1]), last)
            rest = rest[:-1]
        if rest:
            merged = "\n\n".join(text_of(p) for p in _merge_runs(rest, run_end[i : i + len(rest)]))
            if nxt is None:  # above `...`: the document's foot
                doc.foot_comment = _join(doc.foot_comment, merged)
            else:
                nxt.node.head_comment = _join(merged, nxt.node.head_comment)
            for p in rest:
                mark(p, None if nxt is None else nxt.node, "doc-foot" if nxt is None else "head")


def _explicit_start(text: str) -> bool:
    """Whether the text starts with the document start indicator `---` (kyaml leaves it on the
    first document of a file; it cuts the file at the others)."""
    return text.startswith("---") and text[3:4] in ("", " ", "\t", "\r", "\n")


def _runs(comments: list[tuple[int, int, str]]) -> list[list[tuple[int, int, str]]]:
    """Comment lines (line, column, text) grouped in runs of consecutive lines."""
    runs: list[list[tuple[int, int, str]]] = []
    for c in comments:
        if runs and c[0] == runs[-1][-1][0] + 1:
            runs[-1].append(c)
        else:
            runs.append([c])
    return runs


def _header_comments(
    comments: list[tuple[int, int, str]], first: Node
) -> list[tuple[list[list[tuple[int, int, str]]], Node | None]]:
    """Where _attach_gap puts comment lines above the first token `first`: the runs of consecutive
    lines (a blank line ends one), each with the node whose head it is (None: the document's).
    With a blank line before the first token they all head the document; else the first run
    heads the document when a blank line follows it, and the runs after it head the first token."""
    runs = _runs(comments)
    if first.line != runs[-1][-1][0] + 1:
        return [(runs, None)]  # a blank line before the first token: all the document's
    if len(runs) == 1:
        return [(runs, first)]
    return [(runs[:1], None), (runs[1:], first)]


def _merge_runs(
    parts: list[list[tuple[int, int, str]]], ends: list[bool]
) -> list[list[tuple[int, int, str]]]:
    """Glue sub-runs of one run back together (they were split only to find feet)."""
    out: list[list[tuple[int, int, str]]] = []
    glue = False
    for part, is_end in zip(parts, ends, strict=False):
        if glue and out:
            out[-1] = out[-1] + part
        else:
            out.append(list(part))
        glue = not is_end
    return out


def _pending_foot_holder(tok: _Tok | _Entry) -> tuple[Node | None] | None:
    """Where yaml.v3 puts a foot comment pending at the entry `tok` starts: the first scalar or
    alias event from there on in its collection (an empty value takes no comment), after decode's
    moves in a block mapping (a key's foot to the key before it, a value's to its key); (None,)
    when a flow collection's start event takes it first (its end event's comments replace it);
    None when the collection ends first or `tok` starts no entry."""
    entry = tok.entry
    if entry is None or entry.container is None or entry.in_flow:
        return None
    container = entry.container
    start = next((i for i, n in enumerate(container.content) if n is entry.owner), -1)
    if start < 0:
        return None
    stack: list[tuple[Node, int]] = [(container, start)]
    while stack:
        parent, i = stack.pop()
        if i >= len(parent.content):
            continue
        stack.append((parent, i + 1))
        node = parent.content[i]
        if node.kind == ALIAS or (node.kind == SCALAR and not _is_empty(node)):
            if parent.kind == MAP and not parent.style & FLOW:
                if i % 2:
                    return (parent.content[i - 1],)  # a value's foot goes to its key
                return (parent.content[i - 2] if i >= 2 else node,)
            return (node,)
        if node.kind in (MAP, SEQ):
            if node.style & FLOW:
                return (None,)
            stack.append((node, 0))
    return None


def _first_plain_value(node: Node) -> Node | None:
    """Where a comment after `key: &anchor` lands: the first free key (mapping) or item, depth first."""
    stack = [node]
    while stack:
        n = stack.pop(0)
        if n.kind == MAP:
            # yaml.v3 gives it to the key (the emitter prints a key's line comment after a scalar
            # value), so Flux does not read it as the value's marker.
            for i in range(1, len(n.content), 2):
                v = n.content[i]
                if v.kind == SCALAR and not v.line_comment and not n.content[i - 1].line_comment:
                    return n.content[i - 1]
            stack.extend(n.content[1::2])
        elif n.kind == SEQ:
            for v in n.content:
                if v.kind == SCALAR and not v.line_comment:
                    return v
            stack.extend(n.content)
    return None


def _foot_holder(node: Node) -> Node:
    """yaml.v3 keeps block collections' feet on their last key or item."""
    while not node.style & FLOW and node.content and node.kind in (MAP, SEQ):
        node = node.content[-2] if node.kind == MAP else node.content[-1]
    return node


def _join(a: str, b: str, sep: str = "\n") -> str:
    """Two comments as one, on consecutive lines (or as `sep` says); an empty one adds nothing."""
    if not a:
        return b
    if not b:
        return a
    return a + sep + b


def _join_blank(a: str, b: str) -> str:
    """Two comments as one with a blank line between them."""
    return _join(a, b, "\n\n")


def _join_parts(parts: list[list[tuple[int, int, str]]]) -> str:
    return "\n\n".join("\n".join(t for _, _, t in part) for part in parts)


__all__ = ["ParsedDoc", "YamlSyntaxError", "derive_seq_indent", "parse_document", "split_documents"]
