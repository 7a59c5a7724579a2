"""Documents whose text is already what yaml.v3 writes, recognised by a line grammar, not a parse.

Most documents of a large manifest are block mappings and sequences of plain keys and short plain or
quoted values, indented as yaml.v3 indents (2 spaces; sequences compact or wide as the document's
first one). For such a document the encoder's output is its text, but for the gap before a line
comment (yaml.v3 writes one space). Checking that with one compiled pattern per line costs a few
percent of building the tree from libyaml's events and encoding it again, so the reader keeps the
text of a document no setter can change when it is in this grammar.

The grammar is deliberately narrow: what it accepts must parse (as a mapping, with the same meaning)
and be written back exactly so. Anything else (blank lines, comment lines but a header, tabs,
non-ASCII, anchors, tags, block scalars, nested flow collections, long keys, an empty value, a
`metadata` the reader may edit) leaves the document to the parser and the encoder. The fast paths
test compares this path with that one on every text the setters tests have.
"""

from __future__ import annotations

import re

# A plain key the emitter writes as it is and as a simple key (its own check allows 128 characters):
# the plain-safe text of lab.core.setters.node.PLAIN_SAFE, shorter.
_KEY = r"[A-Za-z0-9_/][A-Za-z0-9_./=+-]{0,100}"
# A plain value in block context: words of plain-safe characters (and `@`), `:` only between two of
# them and single spaces between words, so no `: `, ` #`, indicator first, or edge blank; written as
# it is (no folding: Flux's encoder has no width).
_WORD = r"[A-Za-z0-9_./=+@-]+"
_PLAIN = rf"[A-Za-z0-9_/][A-Za-z0-9_./=+@-]*(?::{_WORD})*(?: {_WORD}(?::{_WORD})*)*"
# Texts written as they are in quotes: printable ASCII but the quote and, double-quoted, `\`.
_DOUBLE = r'"[ !#-\[\]-~]*"'
_SINGLE = r"'[A-Za-z0-9_./=+@:-]+(?: [A-Za-z0-9_./=+@:-]+)*'"
# A flow collection on one line of plain-safe texts and double-quoted ones, as yaml.v3 spaces it.
_ITEM = rf"(?:[A-Za-z0-9_/][A-Za-z0-9_./=+-]*|{_DOUBLE})"
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


def verbatim_document(text: str, wide: bool) -> str | None:
    """What yaml.v3 writes for the document `text` (a piece of the file, ending in a line break),
    without the final line break, when the text is in the grammar above; None when it is not.

    `wide`: the document's sequences are indented under their key (kyaml's derived style), else
    compact. Indentation is checked, not normalised: a text indented otherwise is not accepted.
    """
    if not text.endswith("\n"):
        return None
    lines = text.split("\n")
    lines.pop()
    n = 0
    # Comment lines above the first key (a file header, a generator's note) stay where they are.
    while n < len(lines) and lines[n][:1] == "#":
        if _HEADER.fullmatch(lines[n]) is None:
            return None
        n += 1
    if n == len(lines):
        return None
    out = lines
    seq_step = 2 if wide else 0
    # Open block collections, innermost last: a mapping whose keys are at column c as 2c, a
    # sequence whose dashes are there as 2c + 1 (so a compact sequence sits above its key's mapping).
    stack = [0]
    pending = -1  # the column of a key whose value is the block collection on the next line
    root_key = ""
    fullmatch = _LINE.fullmatch
    for i in range(n, len(lines)):
        m = fullmatch(lines[i])
        if m is None:
            return None
        ind, dash, key, value, item, gap, comment = m.groups()
        col = len(ind)
        if pending >= 0:
            if dash is not None:
                if col != pending + seq_step or (pending == 0 and root_key == "metadata"):
                    return None
                stack.append(2 * col + 1)
            else:
                if col != pending + 2:
                    return None
                stack.append(2 * col)
            pending = -1
        else:
            want = 2 * col + (dash is not None)
            while stack[-1] > want:
                stack.pop()
                if not stack:
                    return None
            if stack[-1] != want:
                return None
        if dash is not None:
            if key is None:
                if item is None:
                    return None
            else:
                col += 2
                stack.append(2 * col)
        elif key is None:
            return None  # a scalar where a key belongs
        if key is not None:
            if value is None:
                if comment is not None:
                    return None  # `key: # c` then a collection: yaml.v3 moves the comment
                pending = col
            if col == 0:
                root_key = key
                if key == "metadata" and value is not None:
                    return None  # read_documents may drop it (kyaml's reader annotations)
            elif col == 2 and key == "annotations" and root_key == "metadata":
                return None  # read_documents edits metadata.annotations
        if gap is not None and gap != " ":
            if out is lines:
                out = list(lines)
            out[i] = lines[i][: m.start("gap")] + " " + comment
    if pending >= 0:
        return None  # an empty value
    return "\n".join(out)
