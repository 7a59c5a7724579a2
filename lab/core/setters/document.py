"""Reading YAML into the node tree Flux edits, with comments where yaml.v3 would put them.

ruamel.yaml parses the text (scalars, styles, tags, anchors, positions). Comments are found in the
text and attached with the placement rules yaml.v3's scanner applies in the cases that occur in
manifests: a comment at the end of a value's line is that value's line comment; one after a bare
`key:` belongs to the key; comment lines above an entry are its head comment; comment lines that end
a block (followed by a blank line or by a dedent) are a foot comment of the entry they follow; what
is left at the end of a document is the document's foot.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from io import StringIO
from typing import Any

from lab.core.setters.emitter import (
    ALIAS,
    DOC,
    DOUBLE_QUOTED,
    FLOW,
    FOLDED,
    LITERAL,
    MAP,
    SCALAR,
    SEQ,
    SINGLE_QUOTED,
    TAGGED,
    Node,
)
from lab.core.setters.resolve import resolve_v3, short_tag


class YamlSyntaxError(Exception):
    """The text is not YAML that Flux's reader accepts."""


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
    keys: set[int] = field(default_factory=set)


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
    try:
        import yaml as pyyaml

        loader = getattr(pyyaml, "CSafeLoader", None)
    except ImportError:  # pragma: no cover - PyYAML comes with the kubernetes client
        loader = None
    if loader is not None:
        try:
            return list(pyyaml.parse(text, Loader=loader))
        except pyyaml.YAMLError as err:
            raise YamlSyntaxError(_first_line(err)) from err
        except (ValueError, TypeError, RecursionError) as err:
            raise YamlSyntaxError(str(err) or "invalid YAML") from err
    return _ruamel_events(text)  # pragma: no cover - exercised only without libyaml


def _first_line(err: Exception) -> str:
    text = str(err).strip()
    return " ".join(text.split("\n")[:2]) if text else "invalid YAML"


def _ruamel_events(text: str) -> list[Any]:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    # The plain (non round-trip) scanner: comments are placed by this module.
    yaml = YAML(typ="safe", pure=True)
    try:
        return list(yaml.parse(StringIO(text)))
    except YAMLError as err:
        raise YamlSyntaxError(_first_line(err)) from err
    except (ValueError, TypeError, RecursionError) as err:
        raise YamlSyntaxError(str(err) or "invalid YAML") from err


_NEWLINE = re.compile("\n")
_HASH = re.compile("#")

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


def parse_document(text: str) -> ParsedDoc | None:
    """Decode the first document of `text` (kyaml decodes one per piece); None when it is empty."""
    _check_flow_depth(text)
    events = _events(text)
    builder = _Builder(text)
    return builder.build(events)


class _Builder:
    def __init__(self, text: str) -> None:
        self.text = text
        self.line_starts = [0]
        self.line_starts.extend(m.end() for m in _NEWLINE.finditer(text))
        self.anchors: dict[str, Node] = {}
        self.toks: list[_Tok] = []
        self.spans: list[tuple[int, int]] = []
        self.content_end: dict[int, tuple[int, Node | None, str]] = {}
        self.entries: list[_Entry] = []
        self.empty_values: set[int] = set()
        self.key_values: dict[int, Node] = {}
        self.key_parent: dict[int, Node] = {}
        self.tok_index: list[int] = []
        # comment line -> (node, role) where role is line/head/foot/doc-head/doc-foot
        self.attached: dict[int, tuple[Node | None, str]] = {}

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
            name = type(ev).__name__
            if name == "DocumentStartEvent":
                doc = Node(DOC)
                root = self._node(next(it), it, None, None)
                doc.content = [root]
                break
        if doc is None:
            return None
        root = doc.content[0]
        if root.kind == SCALAR and root.tag == "!!null":
            return None
        self._attach_comments(doc)
        keys = {id(e.owner) for e in self.entries if e.is_key}
        return ParsedDoc(doc, self.anchors, self.attached, keys)

    def _tag(self, ev: Any) -> tuple[str, bool]:
        raw = ev.tag
        if raw is None:
            return "", False
        tag = str(raw)
        if tag == "!":
            return "", False
        return short_tag(tag), True

    def _node(self, ev: Any, it: Any, parent: _Entry | None, container: Node | None) -> Node:
        name = type(ev).__name__
        sm = ev.start_mark
        if name == "AliasEvent":
            target = self.anchors.get(ev.anchor)
            if target is None:
                raise YamlSyntaxError(f"unknown anchor '{ev.anchor}' referenced")
            node = Node(ALIAS, value=ev.anchor, alias=target, line=sm.line, column=sm.column)
            self._note_end(ev.end_mark.index, node, "alias")
            return node
        tag, explicit = ("", False) if ev.tag is None else self._tag(ev)
        anchor = ev.anchor or ""
        if name == "ScalarEvent":
            style = _STYLE_BITS.get(ev.style or "", 0)
            if explicit:
                style |= TAGGED
            value = ev.value
            if not tag:
                # yaml.v3 decode: quoted/block scalars are strings, a plain `<<` is a merge key.
                tag = "!!str" if style & ~TAGGED else "!!merge" if value == "<<" else resolve_v3(value)
            node = Node(
                SCALAR, tag=tag, value=value, style=style, anchor=anchor, line=sm.line, column=sm.column
            )
            start, end = sm.index, ev.end_mark.index
            if style & (LITERAL | FOLDED):
                nl = self.text.find("\n", start)
                header_end = nl if nl != -1 and nl < end else end
                self.spans.append((header_end, end))
                self._note_end(header_end, node, "block-header")
            elif style & (DOUBLE_QUOTED | SINGLE_QUOTED):
                self.spans.append((start, end))
                self._note_end(end, node, "scalar")
            elif value == "" and not anchor and not explicit:
                self.empty_values.add(id(node))
            else:
                self._note_end(end, node, "scalar")
        elif name == "SequenceStartEvent":
            flow = bool(ev.flow_style)
            node = Node(SEQ, tag=tag or "!!seq", style=(FLOW if flow else 0) | (TAGGED if explicit else 0))
            node.anchor, node.line, node.column = anchor, sm.line, sm.column
            for child_ev in it:
                if type(child_ev).__name__ == "SequenceEndEvent":
                    if flow:
                        self._note_end(child_ev.end_mark.index, node, "flow-end")
                    break
                cs = child_ev.start_mark
                dash_idx = cs.index
                entry_line, entry_col = cs.line, cs.column
                if not flow:
                    dash_idx = self._find_dash(cs.index, sm.column)
                    entry_line = self._line_of(dash_idx)
                    entry_col = sm.column
                entry = _Entry(entry_col, entry_line, dash_idx, node, None, parent, False, flow)
                child = self._node(child_ev, it, entry, node)
                entry.owner = child
                entry.value = child
                self.entries.append(entry)
                self.toks.append(_Tok(dash_idx, entry_line, entry_col, child, entry))
                node.content.append(child)
        elif name == "MappingStartEvent":
            flow = bool(ev.flow_style)
            node = Node(MAP, tag=tag or "!!map", style=(FLOW if flow else 0) | (TAGGED if explicit else 0))
            node.anchor, node.line, node.column = anchor, sm.line, sm.column
            while True:
                kev = next(it)
                if type(kev).__name__ == "MappingEndEvent":
                    if flow:
                        self._note_end(kev.end_mark.index, node, "flow-end")
                    break
                ks = kev.start_mark
                entry = _Entry(ks.column, ks.line, ks.index, node, None, parent, True, flow)
                key = self._node(kev, it, entry, node)
                entry.owner = key
                self.toks.append(_Tok(ks.index, ks.line, ks.column, key, entry))
                self.entries.append(entry)
                vev = next(it)
                value = self._node(vev, it, entry, node)
                entry.value = value
                self.key_values[id(key)] = value
                self.key_parent[id(key)] = node
                if value.kind in (SCALAR, ALIAS) and id(value) not in self.empty_values:
                    vs = vev.start_mark
                    if vs.line != ks.line:
                        self.toks.append(_Tok(vs.index, vs.line, vs.column, value, None))
                node.content.extend((key, value))
        else:
            raise YamlSyntaxError(f"unexpected {name}")
        if anchor:
            self.anchors[anchor] = node
        return node

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
                if c == "#" and (pos == ls or text[pos - 1] in " \t"):
                    out.append((ln, pos - ls, text[pos:le], content))
                    break
                if c not in " \t":
                    content = True
                pos += 1
        return out

    def _attach_comments(self, doc: Node) -> None:
        comments = self._scan_comments()
        if not comments:
            return
        self.toks.sort(key=lambda t: t.index)
        tok_idx = self.tok_index = [t.index for t in self.toks]
        entries = sorted(self.entries, key=lambda e: e.index)
        entry_idx = [e.index for e in entries]
        content_lines = sorted(self.content_end)
        own: list[tuple[int, int, str]] = []
        deferred: list[tuple[int, str]] = []
        for line, col, txt, has_content in comments:
            if has_content:
                if not self._attach_line_comment(line, txt, defer=True):
                    deferred.append((line, txt))
            else:
                own.append((line, col, txt))
        for line, txt in deferred:
            self._attach_line_comment(line, txt, defer=False)
        # Group own-line comments into gaps between content lines.
        gaps: list[list[tuple[int, int, str]]] = []
        for c in own:
            if gaps and not self._content_between(content_lines, gaps[-1][-1][0], c[0]):
                gaps[-1].append(c)
            else:
                gaps.append([c])
        for gap in gaps:
            self._attach_gap(doc, gap, tok_idx, entries, entry_idx, content_lines)

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
        owner = self.key_values.get(id(node))
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
                parent = self.key_parent.get(id(node))
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

    def _first_tok_after_line(self, line: int) -> _Tok | None:
        idx = self.line_starts[line]
        start = bisect.bisect_left(self.tok_index, idx)
        for t in self.toks[start:]:
            if t.index >= idx:
                if t.line == line and t.entry is not None and t.entry.is_key:
                    return t
                if t.line > line:
                    return t
        return None

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
            # Comments never attach inside a flow collection: its block entry takes them.
            if not e.in_flow:
                chain.append(e)
            e = e.parent
        runs: list[list[tuple[int, int, str]]] = []
        for c in gap:
            if runs and c[0] == runs[-1][-1][0] + 1:
                runs[-1].append(c)
            else:
                runs.append([c])
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
            for k, ent in enumerate(chain):
                if ent.col <= col:
                    while k + 1 < len(chain) and chain[k + 1].col == ent.col:
                        k += 1
                        ent = chain[k]
                    return ent
            return chain[-1] if chain else None

        next_col = nxt.col if nxt is not None else -1
        next_line = nxt.line if nxt is not None else -1
        first_empty = prev_line >= 0 and first_line == prev_line + 1
        prev_bare_key = False
        if prev_line >= 0:
            end = self.content_end.get(prev_line)
            if end is not None and end[1] is not None:
                last_node = end[1]
                prev_bare_key = any(
                    en.is_key and en.owner is last_node and en.value is not None and en.value.line > prev_line
                    for en in chain[:3]
                )
        if prev_line < 0:
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
        closes = nxt is None or next_col < inner_col
        i = 0
        if first_empty and not prev_bare_key and parts:
            first = parts[0]
            blank_after = run_end[0] and (len(runs) > 1 or (nxt is not None and next_line > first[-1][0] + 1))
            dedent_after = not run_end[0] and parts[1][0][1] < inner_col
            above_next = run_end[0] and len(runs) == 1
            if blank_after or dedent_after or (above_next and closes and first[0][1] != next_col):
                # At the end of the document the foot lands on the block at the comment's column.
                at_eof = nxt is None and not blank_after and not dedent_after
                # Before a blank line the foot belongs to the block at the comment's own column
                # (yaml.v3: `ka:\n  kb: vb\n# FA1\n\nkc: vc` is ka's foot, written back in place).
                outdented = blank_after and first[0][1] < inner_col
                foot_to(level(first[0][1]) if at_eof or outdented else inner, first)
                i = 1
                while i < len(parts) and not run_end[i - 1] and closes and parts[i][0][1] > next_col:
                    foot_to(level(parts[i][0][1]), parts[i])
                    i += 1
        rest = parts[i:]
        if not rest:
            return
        if nxt is None:
            text = "\n\n".join(text_of(p) for p in _merge_runs(rest, run_end[i:]))
            doc.foot_comment = _join(doc.foot_comment, text)
            for p in rest:
                mark(p, None, "doc-foot")
            return
        last = rest[-1]
        if closes and last[0][1] != next_col and next_line == last[-1][0] + 1:
            # Text directly above a dedented token at another column ends the block it follows.
            foot_to(inner if i == 0 and len(rest) == 1 and first_empty else level(last[0][1]), last)
            rest = rest[:-1]
        if rest:
            merged = _merge_runs(rest, run_end[i : i + len(rest)])
            nxt.node.head_comment = _join("\n\n".join(text_of(p) for p in merged), nxt.node.head_comment)
            for p in rest:
                mark(p, nxt.node, "head")


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


def _join(a: str, b: str) -> str:
    if not a:
        return b
    if not b:
        return a
    return a + "\n" + b


def _join_blank(a: str, b: str) -> str:
    if not a:
        return b
    if not b:
        return a
    return a + "\n\n" + b


def _join_parts(parts: list[list[tuple[int, int, str]]]) -> str:
    return "\n\n".join("\n".join(t for _, _, t in part) for part in parts)


__all__ = ["ParsedDoc", "YamlSyntaxError", "derive_seq_indent", "parse_document", "split_documents"]
