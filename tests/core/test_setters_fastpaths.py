"""The setters' fast paths write what their general paths write, on every YAML text the suite has.

Each fast path is a shortcut for the common case (a plain scalar, a double-quoted text with no
escape, a flow collection of plain texts written on one line, ...). Here every fixture and a set of
texts made to hit their edges are decoded and encoded twice, once with the fast paths swapped for
the general code they shortcut, and the bytes must be the same.
"""

from __future__ import annotations

import functools
import json
import random
import re
from dataclasses import replace

import pytest

from bench.bench_setters import DEPLOYMENT
from lab.core.refs import Change, ImageRef
from lab.core.setters import find_markers, rewrite
from lab.core.setters.apply import encode_documents, read_documents
from lab.core.setters.document import ParsedDoc, YamlSyntaxError, _Builder
from lab.core.setters.emitter import Emitter, EmitterError, Encoder
from lab.core.setters.node import Node
from tests.core import test_setters_oracle, test_setters_yaml
from tests.support.paths import FIXTURES, FLUX_CASES

# Texts in the line grammar of lab.core.setters.verbatim and at its edges: a document written as it is
# (but for the gap before a line comment), and what yaml.v3 writes otherwise (spacing in a flow
# collection, indentation, blank or comment lines, tabs, what the reader edits in metadata).
VERBATIM_EDGES = [
    DEPLOYMENT.format(i=1, team=2, replicas=3, image="nginx:1.25.0", marker=""),
    '# h1\n#\n# h3\nk: \'a b\'\nl: "x y"   # c\nm: a:b c # c\nn: [x, "y z"] #c\no: {k: v, l: "w"}\n',
    "metadata:\n  name: n\nspec:\n  - name: a\n    ports:\n      - 80\n    env:\n      k: v  # c\n  - b # c\n",
    "metadata:\n  name: n\nspec:\n- name: a\n  ports:\n  - 80\n  env:\n    k: v  # c\n- b # c\n",
    "a:\n  - x\n  - k: v\n    l:\n      - y\nb:\n  c:\n    - z\n",
    "a:\n  - x\nb:\n- y\n",
    "a:\n- x\nb:\n  - y\n",
    'a: [ x, y ]\nb: {k: v}\nc: [x,y]\nd: []\ne: {}\nf: [""]\n',
    "k:\n    deep: x\nl: y\n",
    "k: v\n\nl: w\n",
    # Blank lines between content lines (yaml.v3 writes none), and next to a header, a line comment,
    # the start or the end of the document, and before a marker.
    "a:\n  - x\n\n  - k: v\n\n\n    l:\n\n      - y\nb: c # c\n\nd: e\n",
    "a:\n- x\n\n- y\n",
    "# h\n\na: b\n",
    "\na: b\n",
    "a: b\n\n",
    "a: b\n\n---\n\nc: d\n\ne: f\n",
    'a: b\n\nimage: nginx:1.0 # {"$imagepolicy": "ns:p"}\n',
    # Comment lines in the body: kept at the column of the line under them (a run, after `key:`, before
    # an item), left to the parser at another column, next to a blank line, at the end or with markers.
    "a:\n  # one\n  # two\n  b: c\n# three\nd:\n# four\n- e\n#\nf: g\n",
    "a:\n  b: c\n# left of b, at d\nd: e\n",
    "a: b\n  # right\nc: d\n",
    "a:\n  b: c\n    # deeper\n  d: e\n",
    "a:\n  b: c\n  # under\nd: e\n",
    "a: b\n# c\n\nd: e\n",
    "a: b\n\n# c\nd: e\n",
    "a: b\n# c\n",
    'a: b\n# c\nimage: nginx:1.0 # {"$imagepolicy": "ns:p"}\n',
    "k: v   \nl: w\n",
    "k: v\n# foot\nl: w\n",
    "k: v # c  \nl: w #\n",
    "k: a  b\nl: 'x'\nm: ''\nn: ' s'\no: yes\np: ~\nq: null\nr: 012\ns: -x\nt: x@y\nu: 1:2\n",
    # Plain texts that start with `-` (command-line flags, negative numbers), and the ones yaml.v3 quotes.
    'a: --port\nb: [--x, -y, --, "-z"]\nc:\n  - -v\n  - --m=:8080 # c\n  - -1\n  - -.inf\nd: {k: -v}\ne: -- a\n',
    "a:\n- --x\n- -@y\nb: -@z\nc: [-@x]\n",
    "a: -\nb: ---x\nc: [-, x]\nd: [---x]\ne: [--]\n",
    "- --\n- -\n",
    # Plain paths (`./apps`, `../base`), and `...` (a document end) that yaml.v3 quotes.
    "a: ./apps\nb: ../base\nc: .\nd: [./x, ../y]\ne: .inf\nf: -.5\ng:\n- ../z\n",
    "a: ...\nb: ...x\nc: [...]\n",
    # Single-quoted texts: regular expressions, ranges, blanks inside, at the ends, a quote, long ones.
    "a: '^main-[a-f0-9]+-(?P<ts>[0-9]+)$'\nb: '>=1.4.0 <2.0.0'\nc: '$ts'\nf: 'a  b'\nh: '#x'\ni: 'a # b' # c\n",
    "d: ' x'\n---\ne: 'x '\n---\ng: 'it''s'\n---\nj: '\\d'\n---\nk: '\"'\n---\nl: [' x']\n---\nm: ' '\n",
    "k: 'a'   # 'b'\n---\nk: 'a\tb'\n---\nk: 'a\\'   # c\n---\nk: 'a'' # b'   # c\n",
    "a: '" + "word " * 30 + "end'\nb: '" + "x" * 200 + "'\n",
    'image: \'nginx:1.0\' # {"$imagepolicy": "ns:p"}\ntag: \'1.0\' # {"$imagepolicy": "ns:p:tag"}\n',
    'args:\n  - --image=nginx:1.0 # {"$imagepolicy": "ns:p"}\n  - -t # {"$imagepolicy": "ns:p:tag"}\n',
    "metadata:\n  annotations:\n    internal.config.kubernetes.io/path: x\n  name: x\n",
    "metadata:\n  name: x\n  labels:\n    annotations: y\nannotations: z\n",
    "metadata:\n- name\n",
    "a:\n  b:\nc: d\n",
    "a: b\n- c\n",
    "- a\n- b\n",
    "a: b\n  c: d\n",
    "a:\n  - - b\n",
    "a:\n  -  b\n",
    "a: x\n---\nb:\n  c: d   # e\n---\nf: |\n  g\n---\nh: i\n",
    "k" * 120 + ": v\n" + "k" * 90 + ": w\n",
    # Nested deeper than verbatim's grammar takes (_MAX_DEPTH): the parser's.
    "k:\n" + "".join("  " * i + "- k:\n" for i in range(150)) + "  " * 150 + "- v\n",
]

# Texts at the edges of the fast paths: flow collections (nested, empty, with tags, anchors,
# comments, long keys, escapes), quoted texts of every kind, plain texts that are not plain-safe.
EDGES = [
    'a: [x, "y", z]\nb: {k: v, "q": w}\n',
    'a: [[x, y], {k: [1, 2]}, "z"]\n',
    "a:\n- [x, y]\n- {k: v}\n- \"dq\"\n- 'sq'\n-   [ spaced , items ]\n",
    "a: []\nb: {}\nc: [x, []]\nd: {k: {}}\n",
    "a: [x, !!str 1, &an y, *an]\n",
    "a: !!seq [x]\nb: &m {k: v}\nc: *m\n",
    'a: ["tab\\there", "quote\\"", "back\\\\slash", "ü", ""]\n',
    "a: {" + "k" * 130 + ": v}\nb: {" + "k" * 128 + ": v}\n",
    "a: [x, # c\n  y]\nb: [x, y] # after\nc: {k: v} # after\n",
    "a: [\n  x,\n  y\n]\nb: {\n  k: v,\n  k2: v2\n}\n",
    'a: "x"\nb: "a b"\nc: "1"\nd: "true"\ne: "null"\nf: ""\ng: "multi\\nline"\nh: "x" # c\n',
    'a: {k: [x, {y: "z"}], j: "w"}\nb:\n  - - [p]\n    - "q"\n',
    'k: ["--port", "8080", --x=1, a/b, "a:b", "a#b", "a # b"]\n',
    "a: [1, 2.5, true, null, ~, 0x1F, 2024-01-01]\n",
    "a: {? complex : v}\n",
    'a: ["\\u00e9", "\\x41", "\\u2028"]\n',
    "a: 'it''s'\nb: 'a  b'\nc: ' lead'\nd: 'x\n\n  y'\ne: plain with  spaces\nf: a:b\n",
    "a: !!str 1\nb: !custom x\nc: &anc v\nd: *anc\n<<: {m: 1}\n",
    'a: |\n  lit\n  text\nb: >\n  folded\n  text\nc: "x"\n',
    "{a: b, c: [d, e]}\n",
    "a: &x {k: [1, &y two, *y]}\nb: *x\nc: !!map {}\nd: !!set {? a}\ne: [&z q, *z]\n",
    "- a\n- - b\n  - {c: d}\n- e: f\n  g: [h]\n",
    # Comments only after content on their lines (no comment line of its own).
    "a: x # c\nb: \"q\" # c\nc: 's' # c\nd: [x] # c\ne: {k: v} # c\nf: # c\n  g: h\n",
    "- x # c\n- # c\n  y\n- &a z # c\n- *a # c\n- !!str 1 # c\n- | # c\n  lit\n",
    "k: &m # c\n  a: b\nl: v   # c  \nm: multi\n  line # c\nn: \"\" # c\no: '' # c\n",
    'a:\n  b: c # {"$imagepolicy": "flux-system:nginx"}\n  d: "e" # {"$imagepolicy": "flux-system:nginx"}\n',
    # Comment lines above all content (a header), with or without trailing comments after it.
    "# h\napiVersion: v1\nkind: K # c\n",
    "# h1\n\n# h2\nkey: v # c\n",
    "# h1\n# h2\n\nkey: v\n",
    "# a\n\n# b\n\n# c\nk: v\n",
    "\n  # indented\n    # more  \n   \nk: v\n",
    '# {"$imagepolicy": "flux-system:nginx"}\nimage: nginx:1.0 # {"$imagepolicy": "flux-system:nginx"}\n',
    '# {"$imagepolicy": "flux-system:nginx"}\n\nimage: nginx:1.0\n',
    "---\n# after the dashes\nk: v\n",
    "# h\n&a k: v\nl: *a\n",
    "# h\n!!map\nk: v\n",
    "# h\n&m\nk: v\n",
    "# h\n- a\n- b # c\n",
    "# h\n[a, b]\n",
    "# h\n{k: v} # c\n",
    "# h\n? complex\n: v\n",
    "# h\n? [a, b]\n: v\n",
    '# h\n"quoted": v # c\n',
    "# h\nk: v\n# foot\n",
    "# h\nk: v\n  # indented foot\nl: w\n",
    "# h\nk: |\n  # in the text\n",
    "# h\nk:\n  - a # c\n  - b\n",
    "# h\na: b\n---\n# h2\n\nc: d # c\n--- # sep\n# h3\ne: f\n",
    '# {"$imagepolicy": "flux-system:nginx"}\n\n# {"$imagepolicy": "flux-system:nginx"}\nk: v\n',
    '# c\n\n# {"$imagepolicy": "flux-system:nginx"}\n\n# {"$imagepolicy": "flux-system:nginx"}\nk: v\n',
    '# c\n# {"$imagepolicy": "flux-system:nginx"}\n\nk: v # {"$imagepolicy": "flux-system:nginx"}\n',
    '# c\n\n# {"$imagepolicy": "flux-system:nginx"}\n\nk: v\n',
    "# a\n\n# b\n\nk: v\n",
    "# h\n{k: v}\n",
    # Values written as they are, with and without a line comment; keys with a head comment.
    "a: nginx:1.0\nb: nginx:1.0 # c\nc: \"q\" # c\nd: a b # c\ne: -x # c\nf: 'q' # c\ng: a:b\nh: x #\n",
    's:\n- nginx:1.0\n- nginx:1.0 # c\n- "q" # c\n- a b\n- x # ## c\n- - y # c\n- k: v:w # c\n',
    "a: http://x/y?z # c\nb: 'x' # c\nc: \"tab\\t\" # c\nd: x #c\ne: !!str 1 # c\nf: &a x # c\ng: 1 # c\n",
    "a: b\n# head\nc: d\ne:\n  # inner\n  f: g\n  # second\n  h: i\nl:\n- # item\n  m: n\n  # nk\n  o: p\n",
    "# one\n# two\nk: v\n# three\n#\nl: w\n##\nm: x\n",
    'a: b\n# head\n"c": d\n# head\n&x e: f\n# head\n? g\n: h\n# head\nnginx:1: x\n',
    "a: x\ty # c\nb: x\ty\nc:\n- x\ty # c\n- x # c\n- - x # c\n  - y\n",
    "l:\n- x\n- y # c\n  # foot\n\nm: y\nn:\n  - x:y\n  # foot\n\no: p\n",
    # Documents whose encoder items are recorded while they are read: what the reader changes
    # (reader annotations, empty metadata) and what recording leaves to the encoder.
    "metadata:\n  annotations:\n    config.kubernetes.io/index: '0'\n  name: x\nspec: y\n",
    "metadata:\n  annotations:\n    config.kubernetes.io/index: '0'\nspec: y # c\n",
    "kind: K\nmetadata: {}\nspec: [a]\n",
    "kind: K\nmetadata:\nspec: y\n",
    "metadata:\n  annotations: {}\n  name: n\n",
    "metadata:\n  annotations:\n    config.kubernetes.io/index: '0'\n    a: b\n  name: x\n",
    '"k": v\nl: "w"\n\'m\': x # c\n"n": "o" # c\n',
    "a: &x [1, 2]\nb: *x\nc: !!map\n  d: e\nf: !t\n- g\nh: &y\n  i: j\nk: *y\n",
    "<<: {a: b}\nc: |\n  lit\nd:\ne: ~\n? [f]\n: g\n? - h\n: i\n",
    '# h\napiVersion: v1\nkind: K # c\nspec:\n  a: [x, "y"] # c\n  b: {k: v} # c\n  c: nginx:1 # c\n',
    '# h\napiVersion: v1\nkind: K # c\nspec:\n  c: nginx:1 # c\n  d: "q" # c\n  e:\n  - x # c\n',
    # Documents read as a sketch, or read again whole for the reader's edits to metadata.
    "kind: K\nmetadata: null\nspec: y\n",
    "kind: K\nmetadata: name\nspec: y\n",
    "kind: K\nmetadata:\n  name: n\n  annotations: a\nspec: y\n",
    "kind: K\nmetadata:\n- annotations\nspec: y\n",
    # Documents kept as their text (lab.core.setters.verbatim) and texts just outside its grammar.
    *VERBATIM_EDGES,
]


def _corpus() -> dict[str, str]:
    texts = {f"edge{i}": text for i, text in enumerate(EDGES)}
    for name in ("roundtrip.json", "flow-comments.json", "encode-oracle.json", "dedented-feet.json"):
        data = json.loads((FIXTURES / "yaml-v3-nodes" / name).read_text(encoding="utf-8"))
        for i, case in enumerate(data["cases"]):
            texts[f"{name}#{i}"] = case if isinstance(case, str) else case.get("yaml", case.get("text"))
    for key, (source, _) in {**test_setters_oracle.CASES, **test_setters_yaml.CASES}.items():
        texts[f"cases:{key}"] = source
    for path in sorted((FLUX_CASES / "setters").glob("*/input/**/*.y*ml")):
        texts[str(path.relative_to(FLUX_CASES))] = path.read_text()
    # Each text once more inside a block mapping and a block sequence.
    for name, text in list(texts.items()):
        indented = "\n".join("    " + line if line else line for line in text.split("\n"))
        texts[name + " nested"] = "kind: K\nitems:\n  - name: n\n  - spec:\n" + indented
    return texts


CORPUS = _corpus()


def _encode(text: str) -> str:
    """The file as the setters write it, each document encoded alone (wide and compact), and the
    markers found in it (where each comment was attached)."""
    parts: list[str] = [repr(find_markers(text))]
    try:
        parts.append(encode_documents(read_documents(text.encode())).decode())
    except (YamlSyntaxError, EmitterError) as err:
        parts.append(f"error: {err}")
    try:
        docs = read_documents(text.encode())
    except YamlSyntaxError:
        return "\n---\n".join(parts)
    for compact in (False, True):
        for doc in docs:
            enc = Encoder(indent=2)
            enc.compact_seq_indent(compact)
            try:
                enc.encode(doc.parsed.node)
                parts.append(enc.close())
            except EmitterError as err:
                parts.append(f"error: {err}")
    return "\n---\n".join(parts)


def _general_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_Builder, "_scalar", _Builder._any_scalar)
    monkeypatch.setattr(_Builder, "_untracked", lambda self, ev, it: self._node(ev, it, None))
    monkeypatch.setattr(_Builder, "_attach_trailing", lambda self, doc: False)  # built again, tracked
    monkeypatch.setattr(Emitter, "_write_double", Emitter._write_double_chars)
    monkeypatch.setattr(Emitter, "_write_quotable", Emitter._write_quotable_chars)
    monkeypatch.setattr(Emitter, "_write_comment", Emitter._write_comment_chars)
    monkeypatch.setattr(Emitter, "_write_value", lambda self, ev, state: False)
    monkeypatch.setattr(Emitter, "_write_headed_key", lambda self, ev, state: False)
    monkeypatch.setattr(Encoder, "_recorded", lambda self, doc, recorded: self._node(doc, ""))
    monkeypatch.setattr(Encoder, "_flow_verbatim", lambda self, first, node, tag, tail: None)
    monkeypatch.setattr("lab.core.setters.emitter._as_verbatim", lambda item: item)
    _without_verbatim(monkeypatch)


def _without_verbatim(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every document parsed and encoded: none kept as its text (lab.core.setters.verbatim)."""
    monkeypatch.setattr("lab.core.setters.apply.verbatim_document", lambda text, wide: None)
    monkeypatch.setattr("lab.core.setters.apply.marked_document", lambda text, wide, may: None)


def test_the_corpus_reaches_the_fast_paths() -> None:
    assert len(CORPUS) > 150
    text = "\n".join(CORPUS.values())
    for needle in ('["--port"', "{k: v", ': "x"', "'it''s'"):
        assert needle in text


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_fast_paths_write_what_the_general_paths_write(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    text = CORPUS[name]
    fast = _encode(text)
    with monkeypatch.context() as m:
        _general_paths(m)
        general = _encode(text)
    assert fast == general


def test_a_wrong_fast_path_shows_as_a_difference(monkeypatch: pytest.MonkeyPatch) -> None:
    # The comparison must be able to fail: a fast path that let `"` and `\` through unescaped.
    text = CORPUS["edge6"]
    with monkeypatch.context() as m:
        m.setattr("lab.core.setters.emitter._DOUBLE_AS_IS", re.compile(r"[ -~]*"))
        fast = _encode(text)
        _general_paths(m)
        general = _encode(text)
    assert fast != general


@pytest.mark.parametrize("fast_path", ["_write_value", "_write_headed_key", "_write_comment"])
def test_a_fast_path_that_writes_one_character_more_shows_as_a_difference(
    fast_path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The comparison must be able to fail for each of the emitter's shortcuts for values and keys
    # with a comment: one that wrote a stray character after what it writes.
    text = "# head\nk: nginx:1.0 # c\nl:\n- x:y # c\n"
    original = getattr(Emitter, fast_path)

    def stray(self: Emitter, *args: object) -> object:
        done = original(self, *args)
        if done is not False:
            self.out.append("~")
        return done

    with monkeypatch.context() as m:
        m.setattr(Emitter, fast_path, stray)
        fast = _encode(text)
        _general_paths(m)
        general = _encode(text)
    assert "~" in fast
    assert fast != general


def test_recorded_items_that_lost_a_comment_show_as_a_difference(monkeypatch: pytest.MonkeyPatch) -> None:
    # Documents no setter can change are encoded from the items recorded while reading them: a
    # recording that wrote a commented value as its bare text must show.
    text = next(t for t in EDGES if t.startswith("# h\napiVersion: v1\nkind: K # c\nspec:\n  c:"))
    assert "imagepolicy" not in text
    original = Encoder._recorded

    def without_comments(self: Encoder, doc: Node, recorded: list[str | int | Node]) -> None:
        bare = [
            i.value if isinstance(i, Node) and i.kind == "scalar" and i.line_comment else i for i in recorded
        ]
        original(self, doc, bare)

    with monkeypatch.context() as m:
        _without_verbatim(m)  # the document is in verbatim's grammar: the recorded path is tested
        m.setattr(Encoder, "_recorded", without_comments)
        fast = _encode(text)
        assert read_documents(text.encode())[0].parsed.items is not None
        _general_paths(m)
        general = _encode(text)
    assert fast != general


def test_a_wrongly_placed_header_comment_shows_as_a_difference(monkeypatch: pytest.MonkeyPatch) -> None:
    # Header comments placed without positions: a run above the first key that went to the document
    # instead, or a marker there not reported as sitting above a key, must show.
    text = CORPUS["edge31"]
    assert text.startswith('# {"$imagepolicy"') and "\n\n" not in text
    with monkeypatch.context() as m:
        m.setattr(
            "lab.core.setters.document._header_comments",
            lambda comments, first: [([[c] for c in comments], None)],
        )
        fast = _encode(text)
        _general_paths(m)
        general = _encode(text)
    assert fast != general
    assert "above a mapping key" in general
    original = _Builder.build

    def build_without_keys(self: _Builder, events: list[object]) -> ParsedDoc | None:
        parsed = original(self, events)
        if parsed is not None:
            parsed.keys = set()
        return parsed

    with monkeypatch.context() as m:
        m.setattr(_Builder, "build", build_without_keys)
        assert "above a mapping key" not in _encode(text)


def test_documents_whose_comments_cannot_name_a_setter_are_not_walked_but_every_marker_form_is_read() -> None:
    # rewrite walks only the documents whose text could hold a marker; the JSON escape of `$` and the
    # long `$ref` form, in documents of their own, are markers all the same.
    from lab.core.refs import ImageRef
    from lab.core.setters import rewrite

    source = (
        'a: nginx:1.0 # {"$imagepolicy": "flux-system:nginx"}\n'
        "---\n"
        "b: nginx:1.0 # label\n"
        "---\n"
        'c: nginx:1.0 # {"\\u0024imagepolicy": "flux-system:nginx"}\n'
        "---\n"
        'd: nginx:1.0 # {"$ref": "#/definitions/io.k8s.cli.setters.flux-system:nginx"}\n'
        "---\n"
        'e: nginx:1.0 # {"$ref": "#\\/definitions\\/io.k8s.cli.setters.flux-system:nginx"}\n'
    )
    result = rewrite(
        source.encode(), {"flux-system:nginx": ImageRef("library/nginx", "1.25.3")}, "flux-system"
    )
    assert result.content is not None
    assert [c.line for c in result.changes] == [1, 5, 7, 9]
    assert result.content.decode().count("library/nginx:1.25.3") == 4


def test_a_document_no_setter_can_change_is_read_as_a_sketch_and_its_tree_built_when_asked_for() -> None:
    # In verbatim's grammar but for the non-ASCII value: parsed, as a sketch.
    text = "kind: K\nmetadata:\n  name: n\nspec:\n  a: [x]\n  b: c\u00e9 # c\n  d:\n  - e\n"
    doc = read_documents(text.encode())[0]
    assert doc.verbatim is None
    assert doc.read.sketch
    sketch = doc.read.node.content[0]
    assert sketch.content[0].__class__ is Node  # the first key: a header comment may head it
    assert "kind" not in sketch.content and "K" in sketch.content  # texts in place of nodes
    whole = doc.parsed
    assert whole is doc.parsed and not whole.sketch and whole.items is doc.read.items
    assert [n.value for n in whole.node.content[0].content[:2]] == ["kind", "K"]
    enc = Encoder(indent=2)
    enc.compact_seq_indent(doc.style != "wide")
    enc.encode(whole.node)
    assert enc.close() == encode_documents([doc]).decode()


def test_a_sketch_handed_out_as_the_tree_or_kept_despite_reader_annotations_shows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The comparison must be able to fail: a sketch given where the tree is asked for, or a
    # document whose reader annotations must go encoded from its sketch.
    from lab.core.setters import apply

    text = next(t for t in EDGES if t.startswith("metadata:\n  annotations:\n    config.kubernetes.io/index"))
    assert "config.kubernetes.io/index" not in _encode(text)
    with monkeypatch.context() as m:
        m.setattr(apply, "_reader_annotations_may_change", lambda root: False)
        fast = _encode(text)
        _general_paths(m)
        general = _encode(text)
    assert fast != general
    assert "config.kubernetes.io/index" in fast
    with monkeypatch.context() as m:
        _without_verbatim(m)
        m.setattr(apply._Doc, "parsed", property(lambda self: self.read))
        with pytest.raises(AttributeError):
            _encode("kind: K\nspec: y\n")


def test_a_sketch_that_takes_a_text_for_its_own_item_wrongly_shows(monkeypatch: pytest.MonkeyPatch) -> None:
    # The comparison must be able to fail for the recorded items of a sketch: one that took the
    # empty value of `c:` for a plain-safe text wrote `c: ` with a blank.
    text = "a: b\nc:\nd:\n- e\n"
    with monkeypatch.context() as m:
        m.setattr("lab.core.setters.document.PLAIN_SAFE", re.compile(r"[A-Za-z0-9_./=+-]*"))
        fast = _encode(text)
        _general_paths(m)
        general = _encode(text)
    assert "c: \n" in fast
    assert fast != general


def test_documents_in_verbatims_grammar_are_kept_as_their_text_and_parsed_only_when_asked_for() -> None:
    kept = [t for t in VERBATIM_EDGES if _all_verbatim(t)]
    assert len(kept) >= 5 and VERBATIM_EDGES[0] in kept
    doc = read_documents(VERBATIM_EDGES[0].encode())[0]
    assert doc._read is None and doc.verbatim is not None
    assert "app: app-1 # label" in doc.verbatim and "app: app-1   # label" in doc.text
    assert object_id_of(doc) == ("apps/v1", "Deployment", "app-1")  # parsed when asked for
    assert doc._read is not None and not doc.read.sketch
    outside = [t for t in VERBATIM_EDGES if t not in kept]
    assert len(outside) >= 10


def test_a_comment_line_taken_as_it_is_at_another_column_shows_as_a_difference(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from lab.core.setters import verbatim

    # ("  # under" after a deeper block is written as it is too: refused, though, as a foot.)
    texts = [t for t in VERBATIM_EDGES if "# right" in t or "# deeper" in t]
    assert len(texts) == 2 and not any(_all_verbatim(t) for t in texts)
    with monkeypatch.context() as m:
        m.setattr(verbatim, "_loose", lambda lines, i, start: True)
        assert all(_all_verbatim(t) for t in texts)
        fast = [_encode(t) for t in texts]
    assert all(f != _encode(t) for f, t in zip(fast, texts, strict=True))


def _all_verbatim(text: str) -> bool:
    try:
        return all(d.verbatim is not None for d in read_documents(text.encode()))
    except YamlSyntaxError:
        return False


def object_id_of(doc: object) -> tuple[str, str, str]:
    from lab.core.setters.apply import object_id

    oid = object_id(doc.parsed.node.content[0])  # type: ignore[attr-defined]
    return oid.api_version, oid.kind, oid.name


@pytest.mark.parametrize(
    ("breakage", "text"),
    [
        # The gap before a line comment not made one space.
        ("gap", VERBATIM_EDGES[0]),
        # A flow collection spaced otherwise than yaml.v3 spaces it taken as it is.
        ("flow", next(t for t in VERBATIM_EDGES if t.startswith("a: [ x"))),
        # The reader's edits of metadata.annotations forgotten.
        ("annotations", next(t for t in VERBATIM_EDGES if "internal.config" in t)),
        # A mapping indented otherwise than yaml.v3 indents it taken as it is.
        ("indent", next(t for t in VERBATIM_EDGES if t.startswith("k:\n    deep"))),
        # Blank lines between content lines kept.
        ("blank", next(t for t in VERBATIM_EDGES if t.startswith("a:\n  - x\n\n"))),
        # Comment lines in the body dropped.
        ("comment", next(t for t in VERBATIM_EDGES if "# one" in t)),
    ],
)
def test_a_wrong_verbatim_document_shows_as_a_difference(
    breakage: str, text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lab.core.setters import verbatim

    original = verbatim.verbatim_document

    def broken(text: str, wide: bool) -> str | None:
        if breakage == "gap":
            out = original(text, wide)
            return None if out is None else text[:-1]
        if breakage == "flow":
            return original(text.replace("[ x, y ]", "[x, y]").replace("[x,y]", "[x, y]"), wide) and text[:-1]
        if breakage == "comment":
            out = original(text, wide)
            return (
                None
                if out is None
                else "\n".join(x for x in out.split("\n") if not x.lstrip().startswith("#"))
            )
        if breakage == "blank":
            out = original(text, wide)
            return None if out is None else text[:-1]
        if breakage == "annotations":
            return original(text.replace("annotations:", "notations:"), wide) and text[:-1]
        return original(text.replace("\n    deep", "\n  deep"), wide) and text[:-1]

    with monkeypatch.context() as m:
        m.setattr("lab.core.setters.apply.verbatim_document", broken)
        fast = _encode(text)
        _general_paths(m)
        general = _encode(text)
    assert fast != general


# Marked documents in verbatim's grammar, the setters setting values in their lines: generated
# (seeded) manifests with markers of every form after every kind of value, in the metadata the
# changes report, in sequences, next to other comments, with a key twice, and documents just outside
# the grammar.
_VALUES = ["nginx:1.0", "1.0", "null", "true", "x y", '"q"', '"1.0"', "'s'", "'1.0'", "012"]
_VALUES += ["~", "[a, b]", "{k: v}", "a:b c"]
_MARKERS = [
    '# {"$imagepolicy": "flux-system:nginx"}',
    '# {"$imagepolicy": "flux-system:nginx:tag"}',
    '# {"$imagepolicy": "flux-system:nginx:name"}',
    '#{"$imagepolicy":"flux-system:app"}',
    '# {"$ref": "#/definitions/io.k8s.cli.setters.flux-system:nginx"}',
    '# {"$imagepolicy": "other:x"}',
    '# {"$imagepolicy": "flux-system:nginx"',
    "# $imagepolicy",
]
_SETTERS = {
    "flux-system:nginx": ImageRef("library/nginx", "1.25.3"),
    "flux-system:app": ImageRef("ghcr.io/x/app", "v2"),
}


def _marked_text(r: random.Random) -> str:
    def value() -> str:
        v = r.choice(_VALUES[:10] if r.random() < 0.95 else _VALUES)
        if r.random() < 0.4:
            v += " " * r.choice([1, 1, 3]) + (r.choice(_MARKERS) if r.random() < 0.7 else "# c")
        return v

    def block(ind: int, depth: int, wide: bool) -> list[str]:
        lines: list[str] = []
        for k in r.sample(["name", "image", "tag", "a", "b", "c"], r.randint(1, 4)):
            roll = r.random()
            if roll < 0.6 or depth > 2:
                lines.append(f"{' ' * ind}{k}: {value()}")
            elif roll < 0.8:
                lines += [f"{' ' * ind}{k}:", *block(ind + 2, depth + 1, wide)]
            else:
                lines.append(f"{' ' * ind}{k}:")
                d = ind + (2 if wide else 0)
                for _ in range(r.randint(1, 3)):
                    if r.random() < 0.5:
                        lines.append(f"{' ' * d}- {value()}")
                    else:
                        inner = block(d + 2, depth + 1, wide)
                        lines += [" " * d + "- " + inner[0].lstrip(" "), *inner[1:]]
        return lines

    docs = []
    for _ in range(r.randint(1, 3)):
        wide = r.random() < 0.5
        lines = ["# header"] if r.random() < 0.3 else []
        lines += ["apiVersion: v1", f"kind: {value()}", "metadata:", f"  name: {value()}"]
        if r.random() < 0.5:
            lines.append(f"  namespace: {value()}")
        lines += ["spec:", *block(2, 0, wide)]
        if r.random() < 0.1:
            lines.append("spec: again")  # a key twice
        if r.random() < 0.1:
            i = r.randrange(1, len(lines))
            lines[i] = r.choice(["", "  # c", lines[i] + "\t", lines[i].replace("  ", "   ", 1)])
        docs.append("\n".join(lines) + "\n")
    return "---\n".join(docs)


MARKED_TEXTS = [_marked_text(random.Random(seed)) for seed in range(400)]


def _rewritten(text: str) -> tuple[object, ...]:
    result = rewrite(text.encode(), _SETTERS, "flux-system", "f.yaml")
    return result.content, result.changes, result.skipped, result.reformatted


@functools.cache
def _general(max_nodes: int) -> list[tuple[object, ...]]:
    """What the general paths (the walk as Flux walks) make of MARKED_TEXTS with the walk's budget
    `max_nodes`: the same every time, so computed once per budget (per worker) and compared to by each test."""
    from lab.core.setters import apply

    with pytest.MonkeyPatch.context() as m:
        m.setattr(apply, "MAX_NODES", max_nodes)
        _general_paths(m)
        return [_rewritten(text) for text in MARKED_TEXTS]


#: The tests that compare with `_general` on one xdist worker: its cache is per process, and each
#: worker a test landed on walked the 400 texts again (the slowest calls of this file).
ONE_WALK = pytest.mark.xdist_group("setters-general-walk")


@ONE_WALK
def test_values_set_in_the_lines_of_a_marked_document_are_what_the_walk_sets(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from lab.core.setters import apply

    calls: list[bool] = []
    original = apply._set_in_lines

    def counted(d: object, known: dict[str, str], file: str, edits: dict[str, object]) -> object:
        found = original(d, known, file, edits)  # type: ignore[arg-type]
        calls.append(found is not None)
        return found

    with monkeypatch.context() as m:
        m.setattr(apply, "_set_in_lines", counted)
        fast = [_rewritten(text) for text in MARKED_TEXTS]
    assert sum(calls) > 300  # most documents are set in their lines
    changed = [f for f in fast if f[1]]
    assert len(changed) > 200 and any(c.object.name == "library/nginx:1.25.3" for f in changed for c in f[1])
    general = _general(apply.MAX_NODES)
    for text, f, g in zip(MARKED_TEXTS, fast, general, strict=True):
        assert f == g, text
    # A walk that runs out of its budget: set in the lines, the file is walked again as Flux walks it.
    with monkeypatch.context() as m:
        m.setattr(apply, "MAX_NODES", 60)
        fast = [_rewritten(text) for text in MARKED_TEXTS]
    general = _general(60)
    assert fast == general
    assert 50 < sum(bool(g[2] and "too large" in g[2]) for g in general) < 350


def test_a_line_repeated_across_documents_is_read_and_written_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from lab.core.setters import apply

    doc = (
        "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d{i}\nspec:\n  template:\n"
        "    spec:\n      containers:\n        - name: c\n"
        '          image: nginx:1.25.0 # {{"$imagepolicy": "flux-system:nginx"}}\n'
        '          env:\n            - name: X\n              value: "y{i}"\n'
    )
    text = "".join(doc.format(i=i) for i in range(300)) + doc.format(i=300).replace(
        "nginx:1.25.0", "'nginx:1.25.0'"
    )
    calls: list[str] = []
    original = apply._set_line

    def counted(line: str, known: dict[str, str]) -> apply._LineEdit | None:
        calls.append(line)
        return original(line, known)

    with monkeypatch.context() as m:
        m.setattr(apply, "_set_line", counted)
        fast = _rewritten(text)
    assert len(calls) == 2  # the plain image line once, the quoted one once
    assert len(fast[1]) == 301 and fast[1][300].object.name == "d300"
    with monkeypatch.context() as m:
        _general_paths(m)
        assert _rewritten(text) == fast


@ONE_WALK
@pytest.mark.parametrize("breakage", ["line", "object", "style", "budget"])
def test_a_wrong_value_set_in_the_lines_shows_as_a_difference(
    breakage: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lab.core.setters import apply

    original = apply._set_in_lines

    def broken(
        d: apply._Doc, known: dict[str, str], file: str, edits: dict[str, apply._LineEdit | None]
    ) -> list[Change] | None:
        found = original(d, known, file, edits)
        if found is None:
            return None
        if breakage == "line":  # a change reported one line off
            return [replace(c, line=c.line + 1) for c in found]
        if breakage == "object":  # the object read before the values were set
            return [replace(c, object=found[0].object) for c in found]
        if breakage == "budget":  # the nodes of the lines not counted against the walk's budget
            assert d.marked is not None
            d.marked.nodes = 0
            return found
        d.verbatim = (d.verbatim or "").replace('"', "")  # the value written without its quotes
        return found

    general = _general(60 if breakage == "budget" else apply.MAX_NODES)
    with monkeypatch.context() as m:
        m.setattr(apply, "MAX_NODES", 60 if breakage == "budget" else apply.MAX_NODES)
        m.setattr(apply, "_set_in_lines", broken)
        # The broken fast paths differ from the walk (fast != general): the first text that shows it
        # is enough, the rest need not be rewritten.
        assert any(_rewritten(text) != g for text, g in zip(MARKED_TEXTS, general, strict=True))


def test_verbatim_leaves_a_deeply_nested_document_to_the_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    # libyaml refuses 1,100 levels of block collections (Flux's yaml.v3 10,000): verbatim's grammar
    # must not write such a document as it is where the parser raises an error.
    from lab.core.setters.verbatim import _MAX_DEPTH, verbatim_document

    def nested(depth: int, marker: str = "") -> str:
        return "".join(" " * (2 * i) + "k:\n" for i in range(depth)) + " " * (2 * depth) + f"k: v{marker}\n"

    assert verbatim_document(nested(_MAX_DEPTH - 1), True) is not None
    assert verbatim_document(nested(_MAX_DEPTH + 1), True) is None
    with pytest.raises(YamlSyntaxError, match="nesting depth"):
        read_documents(nested(1100).encode())
    text = nested(1100, ' # {"$imagepolicy": "flux-system:nginx"}')
    fast = _rewritten(text)  # compared by parts: a failing comparison of 1 MB texts is slow to show
    with monkeypatch.context() as m:
        _general_paths(m)
        general = _rewritten(text)
    assert fast[0] is None and general[0] is None
    assert fast[1:] == general[1:] and "nesting depth" in str(fast[2])
