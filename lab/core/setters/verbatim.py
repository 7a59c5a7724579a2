"""Documents whose text is already what yaml.v3 writes, recognised by a line grammar, not a parse.

Most documents of a large manifest are block mappings and sequences of plain keys and short plain or
quoted values, indented as yaml.v3 indents (2 spaces; sequences compact or wide as the document's
first one). For such a document the encoder's output is its text, but for the gap before a line
comment (yaml.v3 writes one space). Checking that with one compiled pattern per line costs a few
percent of building the tree from libyaml's events and encoding it again, so the reader keeps the
text of a document no setter can change when it is in this grammar, and of a document with markers
its lines, where the setters set values line by line (apply._set_in_lines).

The grammar is deliberately narrow: what it accepts must parse (as a mapping, with the same meaning)
and be written back exactly so, but for blank lines between content lines, which yaml.v3 drops. In a
document no setter can change, comment lines at the column of the line under them are kept too (see
_loose). Anything else (other blank or comment lines, tabs, non-ASCII, anchors, tags, block scalars,
nested flow collections, block collections nested deeper than _MAX_DEPTH, long keys, an empty value,
a `metadata` the reader may edit) leaves the document to the parser and the encoder. The fast paths
test compares this path with that one on every text the setters tests have.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from lab.core.record import dataclass

# A plain key the emitter writes as it is and as a simple key (its own check allows 128 characters):
# the plain-safe text of lab.core.setters.node.PLAIN_SAFE, shorter.
_KEY = r"[A-Za-z0-9_/][A-Za-z0-9_./=+-]{0,100}"
# A `-` may start a plain scalar when a non-blank follows (`--port`, `-v`, `-1`), in block and flow
# context alike; yaml.v3 quotes a lone `-` and anything that starts `---` (a document marker). A `.`
# may start one (`./apps`, `../base`) unless it starts `...` (the other marker).
_LEAD = r"[A-Za-z0-9_/]|-(?!--)(?=[A-Za-z0-9_./=+@-])|\.(?!\.\.)"
# A plain value in block context: words of plain-safe characters (and `@`), `:` only between two of
# them and single spaces between words, so no `: `, ` #`, indicator first, or edge blank; written as
# it is (no folding: Flux's encoder has no width).
_WORD = r"[A-Za-z0-9_./=+@-]+"
_PLAIN = rf"(?:{_LEAD})[A-Za-z0-9_./=+@-]*(?::{_WORD})*(?: {_WORD}(?::{_WORD})*)*"
# Texts written as they are in quotes: printable ASCII but the quote and, double-quoted, `\`; single-
# quoted (a regular expression, a range) with no blank at either end.
_DOUBLE = r'"[ !#-\[\]-~]*"'
_SINGLE = r"'[!-&(-~](?:[ -&(-~]*[!-&(-~])?'"
# A flow collection on one line of plain-safe texts and double-quoted ones, as yaml.v3 spaces it.
_ITEM = rf"(?:(?:{_LEAD})[A-Za-z0-9_./=+-]*|{_DOUBLE})"
_FLOW = rf"\[(?:{_ITEM}(?:, {_ITEM})*)?\]|\{{(?:{_KEY}: {_ITEM}(?:, {_KEY}: {_ITEM})*)?\}}"
_VALUE = rf"{_PLAIN}|{_DOUBLE}|{_SINGLE}|{_FLOW}"
# A comment's text: printable ASCII, no blank at the end (the scanner's comment text keeps it).
_COMMENT = r"#(?:[ -~]*[!-~])?"

_LINE = re.compile(
    rf"(?P<ind> *)(?P<dash>- )?"
    rf"(?:(?P<key>{_KEY}):(?: (?P<value>{_VALUE}))?|(?P<item>{_VALUE}))"
    rf"(?:(?P<gap> +)(?P<comment>{_COMMENT}))?"
)
_HEADER = re.compile(_COMMENT)
# Block collections open at once, at most: far below the parser's limit (libyaml refuses 1,100 levels,
# yaml.v3 10,000), so a deeper document is left to the parser, which raises what Flux's reader would.
_MAX_DEPTH = 256


@dataclass
class Marked:
    """A document in the grammar whose comments may name setters (marked_document).

    `lines`: what the encoder writes for it as it is, line by line; `marks`: the lines whose line
    comment may name a setter, each after a plain or quoted value or sequence item (its scalar's
    line comment); `roots`: the lines of the root mapping's keys; `nodes`: at least as many nodes
    as kyaml's walk visits in it (its budget, apply.MAX_NODES)."""

    lines: list[str]
    marks: list[int]
    roots: list[int]
    nodes: int


def verbatim_document(text: str, wide: bool) -> str | None:
    """What yaml.v3 writes for the document `text` (a piece of the file, ending in a line break),
    without the final line break, when the text is in the grammar above; None when it is not.

    `wide`: the document's sequences are indented under their key (kyaml's derived style), else
    compact. Indentation is checked, not normalised: a text indented otherwise is not accepted.
    """
    scan = _scan(text, wide, None)
    return None if scan is None else "\n".join(scan.lines)


def marked_document(text: str, wide: bool, may_name_setters: Callable[[str], bool]) -> Marked | None:
    """verbatim_document for a document whose comments may name setters, with what the setters
    need to set values in its lines: the lines with such a comment (`may_name_setters` of the
    comment). Stricter: no key twice in a mapping (kyaml's walk visits the first value of a name
    once per key of that name), no such comment in the header or after a flow collection."""
    return _scan(text, wide, may_name_setters)


def _scan(text: str, wide: bool, may_name_setters: Callable[[str], bool] | None) -> Marked | None:
    if not text.endswith("\n"):
        return None
    lines = text.split("\n")
    lines.pop()
    n = 0
    # Comment lines above the first key (a file header, a generator's note) stay where they are.
    while n < len(lines) and lines[n][:1] == "#":
        if _HEADER.fullmatch(lines[n]) is None:
            return None
        if may_name_setters is not None and may_name_setters(lines[n]):
            return None
        n += 1
    if n == len(lines):
        return None
    out = lines
    marks: list[int] = []
    roots: list[int] = []
    seq_step = 2 if wide else 0
    # Open block collections, innermost last: a mapping whose keys are at column c as 2c, a
    # sequence whose dashes are there as 2c + 1 (so a compact sequence sits above its key's mapping).
    stack = [0]
    # With markers, the keys of each open mapping (None for a sequence), to refuse a key twice.
    keys: list[set[str] | None] | None = None if may_name_setters is None else [set()]
    pending = -1  # the column of a key whose value is the block collection on the next line
    root_key = ""
    fullmatch = _LINE.fullmatch
    for i in range(n, len(lines)):
        m = fullmatch(lines[i])
        if m is None:
            # Documents with markers keep their line numbers and comments stay out of them.
            if may_name_setters is None and _loose(lines, i, n):
                continue
            return None
        ind, dash, key, value, item, gap, comment = m.groups()
        col = len(ind)
        if pending >= 0:
            if dash is not None:
                if col != pending + seq_step or (pending == 0 and root_key == "metadata"):
                    return None
                stack.append(2 * col + 1)
                if keys is not None:
                    keys.append(None)
            else:
                if col != pending + 2:
                    return None
                stack.append(2 * col)
                if keys is not None:
                    keys.append(set())
            pending = -1
            if len(stack) > _MAX_DEPTH:
                return None
        else:
            want = 2 * col + (dash is not None)
            while stack[-1] > want:
                stack.pop()
                if keys is not None:
                    keys.pop()
            if stack[-1] != want:
                return None
        if dash is not None:
            if key is None:
                if item is None:
                    return None
            else:
                col += 2
                stack.append(2 * col)
                if keys is not None:
                    keys.append(set())
        elif key is None:
            return None  # a scalar where a key belongs
        if key is not None:
            if keys is not None:
                names = keys[-1]
                assert names is not None  # a key opens or continues a mapping
                if key in names:
                    return None
                names.add(key)
            if value is None:
                if comment is not None:
                    return None  # `key: # c` then a collection: yaml.v3 moves the comment
                pending = col
            if col == 0:
                root_key = key
                roots.append(i)
                if key == "metadata" and value is not None:
                    return None  # read_documents may drop it (kyaml's reader annotations)
            elif col == 2 and key == "annotations" and root_key == "metadata":
                return None  # read_documents edits metadata.annotations
        if comment is not None:
            if may_name_setters is not None and may_name_setters(comment):
                if (value or item)[0] in "[{":
                    return None  # a flow collection's comment: left to the parser
                marks.append(i)
            if gap != " ":
                if out is lines:
                    out = list(lines)
                out[i] = lines[i][: m.start("gap")] + " " + comment
    if pending >= 0:
        return None  # an empty value
    if "" in lines:
        out = [line for line in out if line]
    # kyaml's walk visits the document, its root and per line at most an item, a value and the
    # items of a flow collection (no more than its commas and one).
    return Marked(out, marks, roots, 2 + 3 * len(lines) + text.count(","))


def _is_comment(line: str) -> bool:
    return line.lstrip(" ")[:1] == "#"


def _loose(lines: list[str], i: int, start: int) -> bool:
    """Whether line `i` of the body (from `start`, after the header), which the line pattern does not
    read, is one yaml.v3 writes as verbatim does: a blank line, dropped, or a comment line, kept.

    yaml.v3 writes a blank line only where it places a comment, so a blank line is dropped when no
    comment line is next to its run and content lines are on both sides. A run of comment lines at the
    column of the content line right under it heads that line and is written as it is (checked with
    go-yaml v3 on thousands of such texts); at another column, after a blank line, at the end, the
    run may become a foot elsewhere, which is left to the parser. Each run is checked at its first line
    (a later line of it is reached only when that passed), so the check stays linear."""
    if i == start:
        return False  # next to the header or the document's start: the parser places it
    line, prev = lines[i], lines[i - 1]
    if not line:
        if not prev:
            return True
        if _is_comment(prev):
            return False
        below = i + 1
        while below < len(lines) and not lines[below]:
            below += 1
        return below < len(lines) and not _is_comment(lines[below])
    if not _is_comment(line) or not prev:
        return False
    if _is_comment(prev):
        return True
    below = i + 1
    while below < len(lines) and _is_comment(lines[below]):
        below += 1
    if below == len(lines) or not lines[below]:
        return False
    column = _indent(lines[below])
    return all(_indent(lines[j]) == column and _HEADER.fullmatch(lines[j][column:]) for j in range(i, below))


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))
