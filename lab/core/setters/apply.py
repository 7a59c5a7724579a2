"""Flux's Setters strategy on one file: find markers, set values, re-serialise like the controller.

Pipeline (image-automation-controller `internal/update`, kyaml v0.21.1): CRLF -> LF, cut at `---`
lines, decode the first document of each piece, drop empty ones, derive the sequence indent style
per piece, drop empty `metadata.annotations`/`metadata` (kyaml's reader annotations round trip),
walk every scalar reading its line comment else its head comment as a setter reference, set the
value (double-quoting values YAML 1.1 would not read as strings), and when anything changed encode
all documents again with yaml.v3 (indent 2). A file without a change is left byte for byte.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import field

from lab.core import jsontext
from lab.core.record import dataclass
from lab.core.refs import Change, ImageRef, ObjectId
from lab.core.setters.document import (
    ParsedDoc,
    YamlSyntaxError,
    derive_seq_indent,
    parse_document,
    split_documents,
)
from lab.core.setters.emitter import EmitterError, Encoder
from lab.core.setters.markers import SHORTHAND_KEY, TOKEN, GoJsonError, go_json_string_map
from lab.core.setters.node import DOC, DOUBLE_QUOTED, MAP, SCALAR, SEQ, SINGLE_QUOTED, Node
from lab.core.setters.resolve import is_yaml11_non_string
from lab.core.setters.verbatim import Marked, marked_document, verbatim_document

# Nodes visited per file before giving up: a hostile file cannot make the walk unbounded (aliases
# are never followed, so this only caps very large honest files).
MAX_NODES = 2_000_000


@dataclass
class FileRewrite:
    """The result for one file.

    `content` is the new bytes, or None when Flux would not write the file. `reformatted` is the
    file as Flux would write it with no value changed, so a diff view can split Flux's
    re-serialisation noise (old -> reformatted) from the value changes (reformatted -> content);
    it is computed when first asked for (a second encode doubled the cost of every rewrite).
    `skipped` says why a screened file was not processed (Flux skips unparsable files silently).
    """

    content: bytes | None
    changes: list[Change] = field(default_factory=list)
    skipped: str | None = None
    source: bytes = field(default=b"", repr=False)
    _reformatted: bytes | None = field(default=None, repr=False, compare=False)

    @property
    def changed(self) -> bool:
        return self.content is not None

    @property
    def reformatted(self) -> bytes | None:
        if self.content is None:
            return None
        if self._reformatted is None:
            # The source parsed and encoded before, so this cannot fail now.
            with _no_gc_pauses():
                self._reformatted = encode_documents(read_documents(self.source))
        return self._reformatted

    def value_lines(self) -> list[int]:
        """1-based lines of `content` that differ because a value changed (not by reformatting)."""
        if self.content is None or self.reformatted is None:
            return []
        new = self.content.split(b"\n")
        base = self.reformatted.split(b"\n")
        return [i + 1 for i, line in enumerate(new) if i >= len(base) or base[i] != line]


def setter_values(setters: Mapping[str, ImageRef], namespace: str) -> dict[str, str]:
    """The four setters Flux defines per policy of the automation's namespace."""
    out: dict[str, str] = {}
    for key, ref in setters.items():
        ns, _, _name = key.partition(":")
        if ns != namespace:
            continue
        out[key] = ref.full()
        out[key + ":tag"] = ref.tag
        out[key + ":name"] = ref.name
        out[key + ":digest"] = ref.digest
    return out


def marker_setter(node: Node, known: Mapping[str, str]) -> str | None:
    """kyaml `FieldMeta.Read`: the first non-empty of line/head comment decides; None if no setter."""
    for comment in (node.line_comment, node.head_comment):
        if not comment:
            continue
        body = comment.lstrip("#")
        try:
            fields = go_json_string_map(body)
        except GoJsonError:
            return _ref_form(body, known)
        name = fields.get(SHORTHAND_KEY, "")
        if not name:
            return _ref_form(body, known)
        return name if name in known else None
    return None


_REF_PREFIX = "#/definitions/io.k8s.cli.setters."


def _ref_form(body: str, known: Mapping[str, str]) -> str | None:
    """The long OpenAPI form `{"$ref": "#/definitions/io.k8s.cli.setters.<name>"}` works too."""
    try:
        value = jsontext.loads(body)
    except ValueError:
        return None
    if isinstance(value, dict):
        ref = value.get("$ref")
        if isinstance(ref, str) and ref.startswith(_REF_PREFIX):
            name = ref[len(_REF_PREFIX) :]
            return name if name in known else None
    return None


_READER_ANNOTATIONS = frozenset(
    {
        "internal.config.kubernetes.io/index",
        "internal.config.kubernetes.io/path",
        "internal.config.kubernetes.io/seqindent",
        "config.kubernetes.io/index",
        "config.kubernetes.io/path",
    }
)


@dataclass
class _Doc:
    """A document as read. `read` is what the reader made of it: for a document no setter can
    change, with the encoder's items, and maybe a sketch of the tree (ParsedDoc.sketch); `parsed`
    is the document with its whole tree, built from `text` when first asked for if `read` is a
    sketch (encoding it needs only the sketch: most documents of a large manifest never need more).
    `verbatim`, when set, is what the encoder writes for a document no setter can change, found
    from its text (lab.core.setters.verbatim); it is then not parsed until `read` is asked for."""

    _read: ParsedDoc | None
    style: str
    line_offset: int
    may_name_setters: bool = True  # False: no comment in it can name a setter (_may_name_setters)
    text: str = field(default="", repr=False)  # the piece `read` was read from
    resolved: dict[str, str] = field(default_factory=dict, repr=False)  # read_documents' memo
    verbatim: str | None = field(default=None, repr=False)
    # For a document whose comments may name setters, in verbatim's grammar: its lines, where the
    # setters set values (_set_in_lines); `verbatim` is then its lines as they are.
    marked: Marked | None = field(default=None, repr=False)
    _whole: ParsedDoc | None = field(default=None, repr=False, compare=False)

    @property
    def read(self) -> ParsedDoc:
        if self._read is None:
            read = parse_document(self.text, self.resolved)
            assert read is not None  # verbatim_document accepts no empty document
            self._read = read
        return self._read

    @property
    def parsed(self) -> ParsedDoc:
        if not self.read.sketch:
            return self.read
        if self._whole is None:
            whole = parse_document(self.text, self.resolved)
            assert whole is not None  # the text parsed to the sketch before
            whole.items = self.read.items  # the same items: the tree is what was sketched
            self._whole = whole
        return self._whole


def _may_name_setters(text: str) -> bool:
    """Whether a comment in `text` can name a setter. `marker_setter` decodes a comment as JSON and
    looks for the key `$imagepolicy`, or a `$ref` to `#/definitions/io.k8s.cli.setters.<name>`:
    without a backslash (a JSON escape could spell them otherwise) the text holds one or the other."""
    return "$imagepolicy" in text or "io.k8s.cli.setters." in text or "\\" in text


def _field(m: Node, key: str) -> Node | None:
    if m.kind != MAP:
        return None
    for i in range(0, len(m.content) - 1, 2):
        if m.content[i].value == key:
            return m.content[i + 1]
    return None


def _empty_map(n: Node | None) -> bool:
    return n is None or n.tag == "!!null" or (n.kind == MAP and not n.content)


def _clear_if_empty(m: Node | None, key: str) -> bool:
    """Remove the first `key` of mapping `m` when its value is null or an empty mapping; True when removed."""
    if m is None or m.kind != MAP:
        return False
    for i in range(0, len(m.content) - 1, 2):
        if m.content[i].value == key:
            if _empty_map(m.content[i + 1]):
                del m.content[i : i + 2]
                return True
            return False
    return False


def _value(n: Node | None) -> str:
    if n is None or n.tag == "!!null":
        return ""
    if n.kind == SCALAR:
        return n.value
    return ""


def _is_nil_or_empty(n: Node | None) -> bool:
    if n is None or n.tag == "!!null":
        return True
    if n.kind in (MAP, SEQ) and not n.content:
        return True
    return n.kind == SCALAR and n.value == "" and n.tag == ""


def object_id(root: Node) -> ObjectId:
    """kyaml `GetMeta().GetIdentifier()` for a document root."""
    api = _field(root, "apiVersion")
    kind = _field(root, "kind")
    meta = _field(root, "metadata")
    name = ns = ""
    if meta is not None and not _is_nil_or_empty(meta):
        n = _field(meta, "name")
        if not _is_nil_or_empty(n) and n is not None:
            name = n.value
        ns = "" if _is_nil_or_empty(_field(meta, "namespace")) else _value(_field(meta, "namespace"))
    return ObjectId(
        api_version="" if _is_nil_or_empty(api) else _value(api),
        kind="" if _is_nil_or_empty(kind) else _value(kind),
        name=name,
        namespace=ns,
    )


def read_documents(content: bytes, *, marked: bool = True) -> list[_Doc]:
    """Decode a file the way kyaml's ByteReader does. Raises YamlSyntaxError like Flux's reader.
    `marked`: a document whose comments may name setters may be kept as its lines (_Doc.marked)."""
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as err:
        raise YamlSyntaxError(f"invalid UTF-8 at byte {err.start}") from err
    if text.startswith("\ufeff"):
        text = text[1:]
    text = text.replace("\r\n", "\n")
    pieces = split_documents(text)
    docs: list[_Doc] = []
    offset = 0
    resolved: dict[str, str] = {}
    plain_safe: dict[str, bool] = {}
    for i, piece in enumerate(pieces):
        lines_in_piece = piece.count("\n") + 1
        if i != len(pieces) - 1:
            piece += "\n"
        may_name_setters = _may_name_setters(piece)
        if not may_name_setters:
            style = derive_seq_indent(piece)
            verbatim = verbatim_document(piece, style == "wide")
            if verbatim is not None:
                docs.append(_Doc(None, style, offset, False, piece, resolved, verbatim))
                offset += lines_in_piece + 1
                continue
        elif marked:
            style = derive_seq_indent(piece)
            lines = marked_document(piece, style == "wide", _may_name_setters)
            if lines is not None:
                docs.append(_Doc(None, style, offset, True, piece, resolved, "\n".join(lines.lines), lines))
                offset += lines_in_piece + 1
                continue
        # A document no setter can change is encoded as read: its encoder items are recorded.
        parsed = parse_document(piece, resolved, record=None if may_name_setters else plain_safe)
        if parsed is not None:
            root = parsed.node.content[0]
            if root.kind != MAP:
                raise YamlSyntaxError("a document is not a mapping: kyaml cannot annotate it")
            if parsed.sketch:
                if not _reader_annotations_may_change(root):
                    docs.append(_Doc(parsed, derive_seq_indent(piece), offset, False, piece, resolved))
                    offset += lines_in_piece + 1
                    continue
                parsed = parse_document(piece, resolved)  # the whole tree, for the edits below
                assert parsed is not None
                root = parsed.node.content[0]
            meta = _field(root, "metadata")
            annotations = _field(meta, "annotations") if meta is not None else None
            if annotations is not None and annotations.kind == MAP:
                # kyaml's reader sets these and its writer clears them: a user's copy is lost too.
                annotations.content = [
                    n
                    for i in range(0, len(annotations.content) - 1, 2)
                    if annotations.content[i].value not in _READER_ANNOTATIONS
                    for n in annotations.content[i : i + 2]
                ]
                parsed.items = None  # the tree may have changed since it was recorded
            if _clear_if_empty(meta, "annotations") | _clear_if_empty(root, "metadata"):
                parsed.items = None
            docs.append(_Doc(parsed, derive_seq_indent(piece), offset, may_name_setters))
        offset += lines_in_piece + 1
    return docs


def _reader_annotations_may_change(root: Node) -> bool:
    """Whether read_documents' edits for kyaml's reader annotations may change the mapping `root` of
    a sketch (ParsedDoc.sketch): it has a `metadata` that is not a mapping with entries, or one with
    `annotations`. A sketch's key may be its text instead of its node."""
    meta = _sketch_field(root, "metadata")
    if meta is None:
        return False
    if isinstance(meta, str) or meta.kind != MAP or not meta.content:
        return True
    return _sketch_field(meta, "annotations") is not None


def _sketch_field(m: Node, key: str) -> Node | str | None:
    """_field of a sketch's mapping: the value of the first `key` (a text may stand for a node)."""
    content: list[Node | str] = m.content  # type: ignore[assignment]
    for i in range(0, len(content) - 1, 2):
        k = content[i]
        if (k if isinstance(k, str) else k.value) == key:
            return content[i + 1]
    return None


def encode_documents(docs: list[_Doc]) -> bytes:
    enc = Encoder(indent=2)
    for d in docs:
        enc.compact_seq_indent(d.style != "wide")
        # Only a document no setter could change is recorded: its tree is as it was read.
        if d.verbatim is not None:
            enc.encode_verbatim(d.verbatim)
        elif d.may_name_setters or d.read.items is None:
            enc.encode(d.parsed.node)
        else:
            enc.encode(d.read.node, d.read.items)  # a sketch's document node is the document's
    return enc.close().encode("utf-8")


def _walk(node: Node, visit: list[Node], budget: list[int]) -> None:
    """kyaml `accept`: values of mappings (first field of each name), items, scalars with a comment
    (the only ones that can carry a setter); no aliases."""
    stack = [node]
    while stack:
        n = stack.pop()
        budget[0] -= 1
        if budget[0] < 0:
            raise YamlSyntaxError("document too large to process")
        if n.kind == DOC:
            stack.extend(reversed(n.content))
        elif n.kind == MAP:
            # kyaml visits `Field(name)` for every key, i.e. the first value of that name, once per
            # occurrence of the name. One dict keeps it linear in the keys (a scan per key was quadratic).
            content = n.content
            names = [k.value for k in content[0:-1:2]]
            if len(set(names)) == len(names):
                stack.extend(reversed(content[1::2]))  # no name twice: every value once, in order
                continue
            first: dict[str, Node] = {}
            for i, name in enumerate(names):
                first.setdefault(name, content[2 * i + 1])
            stack.extend(reversed([first[name] for name in names]))
        elif n.kind == SEQ:
            stack.extend(reversed(n.content))
        elif n.kind == SCALAR and (n.line_comment or n.head_comment):
            visit.append(n)  # only a comment can name a setter (marker_setter)


#: What one marked line becomes (_set_line): its new text, the setter, the old and the new value.
_LineEdit = tuple[str, str, str, str]
#: A marked line that names no known setter: left as it is.
_UNNAMED: _LineEdit = ("", "", "", "")


def _set_line(text: str, known: Mapping[str, str]) -> _LineEdit | None:
    """One marked line (without its indentation) read alone, set as in the tree, written alone by the
    encoder; None when that is not one scalar written back on one line."""
    try:
        alone = parse_document(text + "\n")
    except (YamlSyntaxError, RecursionError):
        return None
    if alone is None:
        return None
    node = alone.node.content[0]
    if node.kind == SEQ and len(node.content) == 1:
        node = node.content[0]
    if node.kind == MAP and len(node.content) == 2:
        node = node.content[1]
    if node.kind != SCALAR:
        return None
    name = marker_setter(node, known)
    if name is None:
        return _UNNAMED
    old, new = node.value, known[name]
    _set_value(node, new)
    enc = Encoder(indent=2)
    try:
        enc.encode(alone.node)
        written = enc.close()
    except (EmitterError, RecursionError):
        return None
    if written.find("\n") != len(written) - 1:
        return None
    return written[:-1], name, old, new


def _set_in_lines(
    d: _Doc, known: Mapping[str, str], file: str, edits: dict[str, _LineEdit | None]
) -> list[Change] | None:
    """The walk and the setters for a document kept as its lines (_Doc.marked), None when a marked
    line is not what it should be (the document is then walked as any other).

    Each marked line holds one scalar with its line comment: it is read alone (the text after its
    indentation, so with the same style, tag and comment), set as in the tree, and written alone by
    the encoder, whose one line replaces it (`edits` remembers each text's edit for the file: its
    documents often repeat one image line). In the grammar no key is twice in a mapping, so the
    walk visits every value and item, in the order of the lines."""
    marked = d.marked
    assert marked is not None
    lines = marked.lines
    # The object a change is reported for is read from the root entries it comes from, after the
    # values set so far (as the walk reads it from the tree it changes).
    ends = [*marked.roots[1:], len(lines)]
    spans = [
        (a, b)
        for a, b in zip(marked.roots, ends, strict=True)
        if lines[a].partition(":")[0] in ("apiVersion", "kind", "metadata")
    ]
    oid: ObjectId | None = None
    changes: list[Change] = []
    for i in marked.marks:
        line = lines[i]
        text = line.lstrip(" ")
        if text in edits:
            edit = edits[text]
        else:
            edit = edits[text] = _set_line(text, known)
        if edit is None:
            return None
        written, name, old, new = edit
        if not name:
            continue
        lines[i] = line[: len(line) - len(text)] + written
        if any(a <= i < b for a, b in spans):
            oid = None
        if old != new:
            if oid is None:
                root = Node(MAP)
                if spans:
                    sub = parse_document("".join("\n".join(lines[a:b]) + "\n" for a, b in spans))
                    assert sub is not None  # root entries of a document in the grammar
                    root = sub.node.content[0]
                oid = object_id(root)
            changes.append(Change(file, oid, name, old, new, d.line_offset + i + 1))
    d.verbatim = "\n".join(lines)
    return changes


def _set_value(node: Node, new: str) -> None:
    # kyaml `FormatNonStringStyle` replaces the whole style word, as here.
    node.value = new
    if not is_yaml11_non_string(new):
        return
    if not node.style & (DOUBLE_QUOTED | SINGLE_QUOTED):
        node.style = DOUBLE_QUOTED
    if node.tag == "!!null":
        node.style = 0
        return
    node.tag = "!!str"


@contextmanager
def _no_gc_pauses() -> Iterator[None]:
    """Hold the cyclic garbage collector while a file's node tree is built and encoded.

    A 2 MB manifest allocates millions of small objects that all stay alive until the end, so each
    automatic collection walks the whole growing heap for nothing: about a third of the CPU time.
    The trees hold no reference cycles that need collecting during the run.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def rewrite(content: bytes, setters: Mapping[str, ImageRef], namespace: str, file: str = "") -> FileRewrite:
    """Apply the setters of `namespace` to one file's bytes, exactly as Flux would."""
    if TOKEN not in content:
        return FileRewrite(None)
    with _no_gc_pauses():
        return _rewrite(content, setters, namespace, file)


def _rewrite(
    content: bytes, setters: Mapping[str, ImageRef], namespace: str, file: str, marked: bool = True
) -> FileRewrite:
    try:
        docs = read_documents(content, marked=marked)
    except YamlSyntaxError as err:
        return FileRewrite(None, skipped=f"not parsable as YAML: {err}")
    except RecursionError:
        # Python's stack, not YAML, is what ran out: say so, rather than Python's own words.
        return FileRewrite(
            None,
            skipped="nested too deeply for the lab to read (hundreds of levels); "
            "Flux may still rewrite it: flatten the nesting",
        )
    known = setter_values(setters, namespace)
    if not known:
        return FileRewrite(None)
    changes: list[Change] = []
    budget = [MAX_NODES]
    in_lines = 0  # no fewer than the nodes the walk would visit in the documents set in their lines
    edits: dict[str, _LineEdit | None] = {}
    for d in docs:
        if not d.may_name_setters:
            continue  # nothing to set in it (and nothing to walk: the budget guards walks)
        if d.marked is not None:
            found = _set_in_lines(d, known, file, edits)
            if found is not None:
                changes += found
                in_lines += d.marked.nodes
                continue
            d.verbatim = d.marked = None  # walked as below
        scalars: list[Node] = []
        try:
            _walk(d.parsed.node, scalars, budget)
        except YamlSyntaxError as err:
            return FileRewrite(None, skipped=str(err))
        for node in scalars:
            name = marker_setter(node, known)
            if name is None:
                continue
            old, new = node.value, known[name]
            _set_value(node, new)
            if old != new:
                oid = object_id(d.parsed.node.content[0])
                changes.append(Change(file, oid, name, old, new, d.line_offset + node.line + 1))
    if in_lines > budget[0]:
        # The walk might have run out of its budget: walk every document, as Flux would.
        return _rewrite(content, setters, namespace, file, marked=False)
    if not changes:
        return FileRewrite(None)
    try:
        out = encode_documents(docs)
    except (EmitterError, RecursionError) as err:
        return FileRewrite(None, skipped=f"cannot be re-serialised: {err}")
    return FileRewrite(out, changes, source=content)


__all__ = ["TOKEN", "FileRewrite", "marker_setter", "object_id", "read_documents", "rewrite", "setter_values"]
