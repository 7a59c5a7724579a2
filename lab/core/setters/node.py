"""yaml.v3's `Node`, the tree the setters read, edit and write, apart from the emitter: `lab check`
reads markers into it (`find`) and never writes YAML, so it need not import the emitter."""

from __future__ import annotations

import re
from dataclasses import field

from lab.core.record import dataclass

# Node styles (yaml.v3 Style bit flags).
TAGGED = 1
DOUBLE_QUOTED = 2
SINGLE_QUOTED = 4
LITERAL = 8
FOLDED = 16
FLOW = 32

DOC, SEQ, MAP, SCALAR, ALIAS = "document", "sequence", "mapping", "scalar", "alias"


@dataclass(eq=False, slots=True)
class Node:
    """A yaml.v3 `Node`: the tree Flux decodes, edits and encodes again."""

    kind: str
    tag: str = ""
    value: str = ""
    style: int = 0
    anchor: str = ""
    alias: Node | None = None
    content: list[Node] = field(default_factory=list)
    head_comment: str = ""
    line_comment: str = ""
    foot_comment: str = ""
    line: int = 0
    column: int = 0


# Text with no YAML indicator, blank, break or non-printable character, not starting like `---`/`...`:
# the emitter writes it as it is in any context.
PLAIN_SAFE = re.compile(r"[A-Za-z0-9_/][A-Za-z0-9_./=+-]*")

# What the reader records of a document while it builds the tree (ParsedDoc.items), for the encoder:
# a plain-safe text with its implicit tag (written as it is), a Node (encoded as usual), or one of
# these for a block mapping's or sequence's start and end with no tag, anchor or comment.
OPEN_MAP, OPEN_SEQ, CLOSE_MAP, CLOSE_SEQ = range(4)
