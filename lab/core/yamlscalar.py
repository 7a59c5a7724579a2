"""Which styles a YAML scalar may be written in: libyaml's `yaml_emitter_analyze_scalar`, as go-yaml
ports it.

Two writers use it: `lab.core.manifests.emit` (go-yaml v2, which sigs.k8s.io/yaml forks, for
`flux create --export`) and `lab.core.setters.emitter` (yaml.v3, which Flux's setters write with).
The two Go versions differ in one rule only: v2 counts a tab as a special character (it forbids every
style but double quotes), v3 counts tabs apart (plain and single-quoted are forbidden, block scalars
stay allowed). `tabs_are_special` picks the version.
"""

from __future__ import annotations

from lab.core.record import dataclass

BREAKS = "\r\n\x85\u2028\u2029"
_BLANKZ = " \t\0" + BREAKS


def is_break(c: str) -> bool:
    return c in BREAKS


def is_printable(c: str) -> bool:
    """go-yaml's `is_printable` (v2 and v3 alike), which is narrower than YAML 1.1's printable set: NEL
    (U+0085) and everything past U+FFFF (emoji) are not printable, so a text holding one is written
    double-quoted with an escape (`\\U0001F600`)."""
    o = ord(c)
    return o == 0x0A or 0x20 <= o <= 0x7E or 0xA0 <= o <= 0xD7FF or (0xE000 <= o <= 0xFFFD and o != 0xFEFF)


_ESCAPES = {
    "\0": "0",
    "\x07": "a",
    "\b": "b",
    "\t": "t",
    "\n": "n",
    "\x0b": "v",
    "\x0c": "f",
    "\r": "r",
    "\x1b": "e",
    '"': '"',
    "\\": "\\",
    "\x85": "N",
    "\xa0": "_",
    "\u2028": "L",
    "\u2029": "P",
}


def double_quoted_escape(c: str) -> str | None:
    """What both emitters write for `c` inside double quotes when it must be escaped (None: `c` itself)."""
    if is_printable(c) and c != "\ufeff" and not is_break(c) and c not in '"\\':
        return None
    return _escape(c)


def _escape(c: str) -> str:
    """The escape go-yaml writes for `c` when it escapes it (a short one, else by its code)."""
    esc = _ESCAPES.get(c)
    if esc is not None:
        return "\\" + esc
    code = ord(c)
    if code <= 0xFF:
        return f"\\x{code:02X}"
    if code <= 0xFFFF:
        return f"\\u{code:04X}"
    return f"\\U{code:08X}"


def double_quoted(value: str, column: int, width: int, indent: int, *, allow_breaks: bool = True) -> str:
    """What both emitters write between a double-quoted scalar's quotes when it starts at `column`:
    each character or its escape, and, where the line is past `width` (and `allow_breaks`), the
    first space of a run inside the text as a line break indented by `indent` (a `\\` then keeps a
    space that follows it)."""
    if value.startswith("\ufeff"):
        # go-yaml's is_bom(value, i) ignores `i` and tests the text's first three bytes (v2 and v3):
        # when the text starts with a BOM every character is escaped, `a` as `\x61`, a space as `\x20`
        # (and so no space is left to fold at).
        return "".join(map(_escape, value))
    parts: list[str] = []
    spaces = False
    n = len(value)
    for i, c in enumerate(value):
        escaped = double_quoted_escape(c)
        if escaped is not None:
            parts.append(escaped)
            column += len(escaped)
            spaces = False
        elif c == " ":
            if allow_breaks and not spaces and column > width and 0 < i < n - 1:
                parts.append("\n" + " " * indent)
                column = indent
                if value[i + 1] == " ":
                    parts.append("\\")
                    column += 1
            else:
                parts.append(c)
                column += 1
            spaces = True
        else:
            parts.append(c)
            column += 1
            spaces = False
    return "".join(parts)


@dataclass(frozen=True, slots=True)
class ScalarAnalysis:
    """The styles `value` allows, as the emitter's `scalar_data` flags."""

    multiline: bool
    flow_plain: bool
    block_plain: bool
    single_quoted: bool
    block: bool


def analyze_scalar(value: str, *, tabs_are_special: bool) -> ScalarAnalysis:
    if not value:
        return ScalarAnalysis(
            multiline=False, flow_plain=False, block_plain=True, single_quoted=True, block=False
        )
    block_ind = flow_ind = line_breaks = special = tabs = False
    leading_space_or_break = trailing_space = trailing_break = False
    break_space = space_break = False
    previous_space = previous_break = False
    if value.startswith(("---", "...")):
        block_ind = flow_ind = True
    preceded_by_ws = True
    n = len(value)
    for i, c in enumerate(value):
        followed_by_ws = i + 1 >= n or value[i + 1] in " \t" or value[i + 1] in BREAKS
        if i == 0:
            if c in "#,[]{}&*!|>'\"%@`":
                flow_ind = block_ind = True
            elif c in "?:":
                flow_ind = True
                if followed_by_ws:
                    block_ind = True
            elif c == "-" and followed_by_ws:
                flow_ind = block_ind = True
        else:
            if c in ",?[]{}":
                flow_ind = True
            elif c == ":":
                flow_ind = True
                if followed_by_ws:
                    block_ind = True
            elif c == "#" and preceded_by_ws:
                flow_ind = block_ind = True
        if c == "\t" and not tabs_are_special:
            tabs = True
        elif not is_printable(c):
            special = True
        space = c == " "
        if space or c in BREAKS:
            # A space or a line break: which one follows which, and whether one starts or ends the text.
            if i == 0:
                leading_space_or_break = True
            if i + 1 == n:
                trailing_space, trailing_break = space, not space
            if space and previous_break:
                break_space = True
            elif not space:
                line_breaks = True
                space_break = space_break or previous_space
            previous_space, previous_break = space, not space
        else:
            previous_space = previous_break = False
        preceded_by_ws = c in _BLANKZ
    flow_plain = block_plain = single_quoted = block = True
    if leading_space_or_break or trailing_space or trailing_break:
        flow_plain = block_plain = False
    if trailing_space:
        block = False
    if break_space or space_break or tabs or special:
        flow_plain = block_plain = single_quoted = False
    if space_break or special:
        block = False
    if line_breaks:
        flow_plain = block_plain = False
    if flow_ind:
        flow_plain = False
    if block_ind:
        block_plain = False
    return ScalarAnalysis(line_breaks, flow_plain, block_plain, single_quoted, block)
