"""Every `$imagepolicy`-looking comment in a file, with whether Flux would use it and why not."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from functools import partial

from lab.core.record import dataclass
from lab.core.setters.document import YamlSyntaxError, parse_document, split_documents
from lab.core.setters.markers import parse_marker_text
from lab.core.setters.node import ALIAS, MAP, SCALAR, SEQ, Node

# A marker, or an attempt at one worth explaining: the word as a key (`$imagepolicy`, `"imagepolicy"`,
# `imagePolicy:`), in any case. Prose that names an ImagePolicy ("written by Flux (ImagePolicy shop)")
# is a plain comment, to Flux and here.
_LOOKS_LIKE = re.compile(r"""[$"']imagepolicy|imagepolicy["']?\s*:""", re.IGNORECASE)


def looks_like_marker(comment: str) -> bool:
    """Whether a comment is a marker or an attempt at one (not prose that mentions an ImagePolicy)."""
    return _LOOKS_LIKE.search(comment) is not None


# A `"$key":` in a comment: the shape of a marker, whatever the key says.
_DOLLAR_KEY = re.compile(r"""["'](\$[\w-]+)["']\s*:""")


def misspelt_marker_key(comment: str) -> str | None:
    """The key of a comment shaped like a marker whose key is a misspelling of `$imagepolicy`
    (`{"$imagepolcy": "flux-system:nginx"}`): Flux reads no other key and says nothing. None otherwise."""
    from lab.core.setters.markers import SHORTHAND_KEY
    from lab.core.text import closest

    for m in _DOLLAR_KEY.finditer(comment):
        key = m.group(1)
        if key != SHORTHAND_KEY and closest(key.lower(), [SHORTHAND_KEY]) is not None:
            return key
    return None


@dataclass(frozen=True)
class Marker:
    """One marker-like comment. `line`/`column` are 1-based; `applies` means Flux would set the value
    (given `namespace`/`policies` when they were passed to `find_markers`)."""

    file: str
    line: int
    column: int
    raw: str
    namespace: str
    policy: str
    suffix: str
    setter: str | None
    applies: bool
    why_ignored: str | None
    value: str | None = None
    #: What to change so that Flux reads the marker, when `why_ignored` has a fix of its own (the
    #: parser's, for a file Flux cannot parse).
    fix: str | None = None

    @property
    def policy_ref(self) -> str:
        """`namespace:policy`, the ImagePolicy the marker names (the key of the policies' results)."""
        return f"{self.namespace}:{self.policy}"


def _comment_at(line: str) -> tuple[int, str]:
    hit = _LOOKS_LIKE.search(line)
    end = hit.start() if hit else len(line)
    pos = line.rfind("#", 0, end)
    while pos > 0 and line[pos - 1] == "#":
        pos -= 1
    if pos < 0:
        return -1, ""
    return pos, line[pos:].rstrip()


def _mover(text: str) -> Callable[[int], str]:
    """Where the comment on a line of `text`, a line of its own, belongs: the end of the image line
    beside it. The file is parsed for that once, on the first call (not once per marker)."""
    from lab.core.marker import image_line_finder, move_to_image_line

    finder: list[Callable[[int], int | None]] = []

    def move(line: int) -> str:
        if not finder:
            finder.append(image_line_finder(text))
        return move_to_image_line(line, finder[0](line))

    return move


def _placement(
    node: Node | None, role: str, is_key: bool, comment: str, move: Callable[[], str]
) -> str | None:
    """Why a well-formed marker at this place is not read (None when Flux reads it); `move` says where
    a comment on a line of its own belongs (`lab.core.marker.move_to_image_line`)."""
    if role == "line":
        if is_key:
            return "marker after a key whose value is not on that line is ignored: put it after the value"
        if node is not None and node.kind in (MAP, SEQ):
            return "marker after a flow collection ([...] or {...}) is ignored: mark a scalar value instead"
        if node is not None and node.kind == ALIAS:
            return "marker on an alias (*name) is ignored: mark the anchored value"
        return None
    if role == "head":
        if is_key:
            return f"marker on its own line above a mapping key is ignored: {move()}"
        if node is None or node.kind != SCALAR:
            return (
                "marker above a list item that is not a plain value is ignored: "
                "put it at the end of the value's line"
            )
        if node.line_comment:
            return (
                "the value's own line comment is read instead of this one: "
                "move the marker to the end of the line"
            )
        if node.head_comment.strip() != comment.strip():
            return (
                "only a single comment line directly above a list item is read: "
                "remove the other comment lines"
            )
        return None
    return f"comment is not attached to a value (it ends a block or stands apart): {move()}"


#: How `why_ignored` starts for a marker in a file Flux's reader refuses (the parser's words follow).
NOT_VALID_YAML = "the file is not valid YAML, Flux skips it"


@dataclass(frozen=True)
class Unread:
    """Lines (1-based, first and last) Flux's reader never reaches, and its commit drops: kyaml
    decodes one document per piece, and the first one ended before the piece did."""

    first: int
    last: int
    end_marker: int | None = None
    """The line of the `...` that ended the document; None: it ended at a line indented less."""

    @property
    def lines(self) -> str:
        """`line 12`, or `lines 12-14`."""
        return f"line {self.first}" if self.first == self.last else f"lines {self.first}-{self.last}"

    @property
    def reason(self) -> str:
        if self.end_marker is not None:
            return f"the document ends at the '...' on line {self.end_marker}"
        return "the document starts indented and ends at the first line indented less"

    @property
    def fix(self) -> str:
        if self.end_marker is not None:
            return f"replace the '...' on line {self.end_marker} with '---': a document of its own"
        return (
            "indent the file's top-level keys alike (none of them indented), or put the rest after a "
            "'---' line as a document of its own"
        )


def _read(text: str) -> tuple[dict[int, tuple[Node | None, str, bool]], list[Unread]]:
    """Decode each piece as kyaml does: the comments attached to nodes, by 0-based line of the file
    (node, role, whether it is a key), and the lines the reader never reaches.
    Raises YamlSyntaxError (with the file's lines) or RecursionError as the reader would fail."""
    attached: dict[int, tuple[Node | None, str, bool]] = {}
    unread: list[Unread] = []
    pieces = split_documents(text)
    offset = 0
    for i, piece in enumerate(pieces):
        count = piece.count("\n") + 1
        piece += "\n" if i != len(pieces) - 1 else ""
        try:
            parsed = parse_document(piece)
        except YamlSyntaxError:
            if not offset:
                raise
            # Parsed again behind as many blank lines as the documents before it: the parser's
            # positions are then the file's, as the learner counts them (only when it fails).
            parse_document("\n" * offset + piece)
            raise
        if parsed is not None:
            for ln, (node, role) in parsed.attached.items():
                attached[offset + ln] = (node, role, node is not None and id(node) in parsed.keys)
            if parsed.unread_line is not None:
                last = len(piece.rstrip("\n").split("\n"))
                marker = None if parsed.end_marker_line is None else offset + parsed.end_marker_line + 1
                unread.append(Unread(offset + parsed.unread_line + 1, offset + last, marker))
        offset += count + 1
    return attached, unread


def unread_lines(content: bytes | str) -> list[Unread]:
    """What Flux's reader never reaches in a file, and its commit drops (`Unread`). Empty for a file
    that does not parse (Flux skips it whole)."""
    text = content.decode("utf-8", errors="replace") if isinstance(content, bytes) else content
    try:
        return _read(text.replace("\r\n", "\n"))[1]
    except (YamlSyntaxError, RecursionError):
        return []


def find_markers(
    content: bytes | str,
    file: str = "",
    *,
    namespace: str | None = None,
    policies: Collection[str] | None = None,
) -> list[Marker]:
    """Every comment mentioning `imagepolicy`, parsed and explained.

    `namespace` is the ImageUpdateAutomation's namespace and `policies` the `ns:name` keys of the
    ImagePolicies that exist; when given, markers naming something else are reported as ignored.
    """
    text = content.decode("utf-8", errors="replace") if isinstance(content, bytes) else content
    text = text.replace("\r\n", "\n")
    if not _LOOKS_LIKE.search(text):
        return []
    lines = text.split("\n")
    move = _mover(text)
    parse_problem: str | None = None
    parse_hint: str | None = None
    try:
        attached, unread = _read(text)
    except YamlSyntaxError as err:
        attached, unread = {}, []
        parse_problem = f"{NOT_VALID_YAML}: {err}"
        parse_hint = err.hint
    except RecursionError as err:
        attached, unread = {}, []
        parse_problem = f"{NOT_VALID_YAML} ({err})"
    out: list[Marker] = []
    for idx, raw_line in enumerate(lines):
        hit = _LOOKS_LIKE.search(raw_line)
        # Only comment-like text: `kind: ImagePolicy` or an `imagePolicy:` key are not markers.
        if hit is None or "#" not in raw_line[: hit.start()]:
            continue
        col, comment = _comment_at(raw_line)
        syntax = parse_marker_text(comment) if comment else None
        why: str | None
        value: str | None = None
        stop = next((u for u in unread if u.first <= idx + 1 <= u.last), None)
        if parse_problem is not None:
            why = parse_problem
        elif stop is not None:
            why = (
                f"Flux's reader stops before line {stop.first}: {stop.reason}, so what follows is never read"
            )
        elif idx in attached:
            node, role, is_key = attached[idx]
            why = (
                syntax.problem
                if syntax and syntax.problem
                else _placement(node, role, is_key, comment, partial(move, idx + 1))
            )
            if node is not None and node.kind == SCALAR and not is_key:
                value = node.value
        elif raw_line.startswith("---"):
            why = "a comment on a '---' line is dropped by Flux's reader"
        else:
            why = "not a YAML comment here (inside a block scalar or a quoted string)"
        if why is None and syntax is not None:
            if namespace is not None and syntax.namespace != namespace:
                why = (
                    f"namespace '{syntax.namespace}' is not the automation's namespace '{namespace}': "
                    "an ImageUpdateAutomation only sees ImagePolicies of its own namespace"
                )
            elif policies is not None and f"{syntax.namespace}:{syntax.policy}" not in policies:
                why = f"there is no ImagePolicy '{syntax.policy}' in namespace '{syntax.namespace}'"
        if syntax is None:
            why = why or "no comment found"
        out.append(
            Marker(
                file=file,
                line=idx + 1,
                column=col + 1,
                raw=comment or raw_line.strip(),
                namespace=syntax.namespace if syntax else "",
                policy=syntax.policy if syntax else "",
                suffix=syntax.suffix if syntax else "",
                setter=syntax.setter if syntax else None,
                applies=why is None,
                why_ignored=why,
                value=value,
                fix=parse_hint if parse_problem is not None else None,
            )
        )
    return out


__all__ = [
    "NOT_VALID_YAML",
    "Marker",
    "Unread",
    "find_markers",
    "looks_like_marker",
    "misspelt_marker_key",
    "unread_lines",
]
