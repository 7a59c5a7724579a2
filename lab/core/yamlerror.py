"""One wording for every YAML syntax error the lab reports, whichever parser found it.

libyaml (through PyYAML) and ruamel raise errors with a `problem` and its `problem_mark`, often a
`context` and its `context_mark`, and a `str()` meant for a Python traceback: several lines, the
parser's stream name (`"<unicode string>"`) and 0-based marks turned 1-based. A learner needs one
line: what is wrong, on the line that helps, and what to type. The line that helps is not always the
problem's: an unclosed `[` is found where the text ends, a `key:value` written without a space is found
on the line after it. Pure: the caller passes the text it parsed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from lab.core.record import dataclass

# What the parser's context names the thing it was reading when it met the problem, for an opener a
# learner can look for: `[`, `{` or a quote.
_OPENERS = {"[": "]", "{": "}", "'": "'", '"': '"'}
_CONTEXT_OPENERS = (
    "while parsing a flow sequence",
    "while parsing a flow mapping",
    "while scanning a quoted scalar",
)
# The context of a node missing inside a `[...]` or `{...}` (`[a,` then the text ends): its mark is
# where the node was expected, not the opener.
_FLOW_NODE = "while parsing a flow node"

# What the rough scan of flow collections looks at: their indicators, quotes, comments and line ends.
_FLOW_CHARS = re.compile(r"[\[\]{}'\"#\n]")

# `key:value` with no space after the colon where a key belongs: YAML reads it as one plain string.
# The key is a field name (Kubernetes keys are words, dotted or dashed); a `//` after the colon is a
# URL, which nobody means as a key.
_GLUED = re.compile(r"([A-Za-z_][\w.-]*):(?!//)([^\s:][^\s]*)")
# The same written inside quotes, where a space after the colon does not make it a key either.
_KEYED = re.compile(r"\s*([A-Za-z_][\w.-]*):(?!//)[ \t]*([^\s:].*?)\s*")
_GLUED_LINE = re.compile(r"[ \t]*(?:-[ \t]+)?(" + _GLUED.pattern + r")[ \t]*(?:#.*)?")

# `key: {...`: a plain value opening with `{`, which YAML reads as a flow mapping.
_FLOW_VALUE = re.compile(r"[ \t]*(?:-[ \t]+)?[\w.-]+:[ \t]+\{")

# The start of a line up to a `:` the scanner refused: one key, nothing before it on the line.
_KEY_ONLY = re.compile(r"[ \t]*(?:-[ \t]+)?[\w.-]+[ \t]*")

# git's conflict markers, each at the start of a line: `<<<<<<< HEAD`, `=======`, `>>>>>>> 4b5c6d7 (msg)`.
_CONFLICT = re.compile(r"(?:<{7}|>{7}|\|{7})(?: .*)?|={7}")
# The field a line sets (`image:` of `  - image: nginx:1.25.3`), to name what a conflict is about.
_FIELD = re.compile(r"[ \t]*(?:-[ \t]+)?([\w.-]+):(?:[ \t]|$)")

# The parser's stream name and positions in a `str(err)`: the lab reports its own, 1-based, with the file.
_STREAM = re.compile(r'\s*in "<[^>]*>", line \d+, column \d+:?')


@dataclass(frozen=True)
class YamlErrorText:
    """A YAML syntax error for a learner: `problem` in the parser's words (made specific where a
    position tells more), `line` the 1-based line to look at (None when the parser gave none),
    `position` where the parser met the problem ("line 13, column 1"), and `hint`, what to change."""

    problem: str
    line: int | None
    hint: str
    position: str = ""

    def text(self) -> str:
        """One line: the problem and the position the parser met it at."""
        return f"{self.problem} ({self.position})" if self.position else self.problem


def glued_key(value: str) -> tuple[str, str] | None:
    """`("range", "1.25.x")` for the string `range:1.25.x`: a `key:value` missing the space YAML needs
    after the colon to read a key; None for anything else (`https://x`, `a: b`, `nginx`)."""
    m = _GLUED.fullmatch(value)
    return (m.group(1), m.group(2)) if m else None


def key_in_string(value: str) -> tuple[str, str] | None:
    """`("range", "1.25.x")` for a string that holds a field and its value: `range:1.25.x`, or, quoted,
    `'range: 1.25.x'` (a quoted `key: value` is one string too); None for anything else."""
    m = _KEYED.fullmatch(value)
    return (m.group(1), m.group(2)) if m else None


def glued_hint(value: str) -> str | None:
    """The fix for a glued `key:value` (see `glued_key`), None when `value` is not one."""
    glued = glued_key(value)
    if glued is None:
        return None
    return f"`{value}` is one string to YAML: put a space after '{glued[0]}:'"


def flow_brackets(text: str) -> Iterator[tuple[int, str]]:
    """The index and character of every `[`, `]`, `{` and `}` of `text` outside quoted scalars and
    comments, in order. Rough, without a parser (it must also read text a parser refuses): a quote
    starts a scalar after a space, a line start or one of `[{,:-`, a `#` a comment after a space."""
    quote = ""
    for m in _FLOW_CHARS.finditer(text):
        ch, start = m.group(), m.start()
        if ch == "\n":
            if quote == "#":
                quote = ""
        elif quote:
            if ch == quote and quote != "#":
                quote = ""
        elif ch == "#" and (start == 0 or text[start - 1] in " \t\n"):
            quote = "#"
        elif ch in "'\"" and (start == 0 or text[start - 1] in " \t\n[{,:-"):
            quote = ch
        elif ch in "[]{}":
            yield start, ch


def _open_brackets(text: str, end: int) -> list[int]:
    """The indices of the `[` and `{` still open where `text[:end]` ends, outermost first."""
    stack: list[int] = []
    for index, ch in flow_brackets(text):
        if index >= end:
            break
        if ch in "[{":
            stack.append(index)
        elif stack:
            stack.pop()
    return stack


def _line_text(lines: list[str], line: int | None) -> str:
    return lines[line - 1] if line is not None and 0 < line <= len(lines) else ""


def _glued_on(lines: list[str], line: int | None) -> str | None:
    """The glued `key:value` that line `line` consists of (its comment aside), if it is one."""
    m = _GLUED_LINE.fullmatch(_line_text(lines, line))
    return m.group(1) if m else None


def _closer_after(text: str, index: int, opener: str) -> bool:
    """Whether the closing character of the `opener` at `index` appears later in `text` (roughly:
    enough to tell "never closed" from "closed, but something inside is wrong")."""
    return _OPENERS[opener] in text[index + 1 :]


def _mark(mark: object, starts: list[int]) -> tuple[int, int, int] | None:
    """(1-based line, 1-based column, 0-based index into the text) of a parser mark. The index is
    worked out from line and column, which both parsers count in characters."""
    line, column = getattr(mark, "line", None), getattr(mark, "column", None)
    if not isinstance(line, int) or not isinstance(column, int) or line < 0 or column < 0:
        return None
    index = starts[line] + column if line < len(starts) else -1
    return line + 1, column + 1, index


def conflict_lines(text: str) -> list[int]:
    """The 1-based lines of git's conflict markers in `text` (`<<<<<<< ours`, `=======`, `>>>>>>> theirs`,
    and diff3's `||||||| base`): a merge or rebase stopped on this file and nobody resolved it yet."""
    return [n for n, line in enumerate(text.split("\n"), 1) if _CONFLICT.match(line)]


def _conflict_error(text: str, found: list[int]) -> YamlErrorText:
    """A parse error in a file with conflict markers: the markers are the cause, whatever the parser met."""
    lines = text.split("\n")
    start, end = found[0], next((n for n in found if lines[n - 1].startswith(">>>>>>>")), found[-1])
    fields = {m.group(1) for ln in lines[start : end - 1] if (m := _FIELD.match(ln))}
    keep = f"keep one {next(iter(fields))}: line" if len(fields) == 1 else "keep one side of each conflict"
    return YamlErrorText(
        "conflict markers (<<<<<<< ======= >>>>>>>) of an unresolved merge or rebase",
        start,
        f"{keep} and delete the marker lines, then git add the file and git rebase --continue "
        "(git commit after a merge)",
        f"line {start}",
    )


def explain_yaml_error(err: Exception, text: str) -> YamlErrorText:
    """The learner's wording of a PyYAML or ruamel error raised while parsing `text`."""
    conflicts = conflict_lines(text)
    if conflicts:
        return _conflict_error(text, conflicts)
    position = getattr(err, "position", None)  # a ReaderError: a character YAML does not allow
    if isinstance(position, int) and 0 <= position <= len(text):
        code = getattr(err, "character", None)
        shown = f"U+{code:04X}" if isinstance(code, int) else "a control character"
        row = text.count("\n", 0, position) + 1
        column = position - (text.rfind("\n", 0, position) + 1) + 1
        return YamlErrorText(
            f"{shown} is not allowed in YAML text",
            row,
            "delete it (a terminal escape or control character pasted in; an editor may not show it)",
            f"line {row}, column {column}",
        )
    raw = getattr(err, "problem", None) or _STREAM.sub("", str(err)).strip().split("\n", 1)[0]
    problem = " ".join(str(raw).split()) or "invalid YAML"
    context = " ".join(str(getattr(err, "context", None) or "").split())
    lines = text.split("\n")
    starts = [0]
    for n in lines[:-1]:
        starts.append(starts[-1] + len(n) + 1)
    at = _mark(getattr(err, "problem_mark", None), starts)
    opened = _mark(getattr(err, "context_mark", None), starts)
    mark = at or opened
    line = mark[0] if mark else None
    where = f"line {mark[0]}, column {mark[1]}" if mark else ""

    bad = _line_text(lines, line)
    tab_at = at is not None and 0 <= at[2] < len(text) and text[at[2]] == "\t"
    if tab_at or "tab character" in problem or "\t" in bad[: len(bad) - len(bad.lstrip())]:
        return YamlErrorText(
            problem, line, f"YAML indents with spaces, not tabs: replace the tab on line {line}", where
        )

    # An unclosed `[`, `{` or quote is met where the text ends (or a later line no longer fits in
    # it): the line to fix is the one it opens on.
    if opened and at and (context.startswith(_CONTEXT_OPENERS) or context == _FLOW_NODE):
        end = at[2] if 0 <= at[2] <= len(text) else len(text)
        index = opened[2]
        if context == _FLOW_NODE:
            still_open = _open_brackets(text, end)
            index = still_open[-1] if still_open else -1
        opener = text[index] if 0 <= index < len(text) and text[index] in _OPENERS else ""
        if not opener:
            never_closed = False
        elif opener in "'\"":
            never_closed = not _closer_after(text, index, opener)
        else:
            never_closed = index in _open_brackets(text, len(text))
        opens_on = text.count("\n", 0, index) + 1
        if opener and never_closed and (opens_on != at[0] or not text[end:].strip()):
            what = "quote" if opener in "'\"" else opener
            hint = f"close it with {_OPENERS[opener]} on line {opens_on}"
            if opener not in "'\"":
                hint += f", or quote the value if the {opener} is part of it"
            return YamlErrorText(
                f"the {what} opened on line {opens_on} is never closed: {problem}", opens_on, hint, where
            )

    # A key without its space: the scanner reads `key:value` as a plain scalar and fails after it:
    # no ':' after the "simple key" it started, or a `key: ` on the next line that it took for the
    # scalar's continuation.
    glued = None
    if opened and context == "while scanning a simple key":
        glued = opened[0], _glued_on(lines, opened[0])
    elif at and "mapping values are not allowed" in problem:
        before = _line_text(lines, at[0])[: at[1] - 1]
        if _KEY_ONLY.fullmatch(before):
            glued = at[0] - 1, _glued_on(lines, at[0] - 1)
    if glued is not None and glued[1] is not None:
        return YamlErrorText(problem, glued[0], glued_hint(glued[1]) or "", where)

    if problem.startswith("found unknown escape character") and at is not None:
        return YamlErrorText(problem, line, _escape_hint(bad, at[1]), where)

    hint = "check indentation and quoting on that line"
    if _FLOW_VALUE.match(bad):
        # A value such as a Go template (`{{range ...}}`) written plain: YAML reads its `{` as the start
        # of a mapping, not as text.
        hint = "a value starting with { starts a YAML flow mapping: quote the value ('{{...}}'), or write it as a block after |"
    elif "mapping values are not allowed" in problem:
        hint = "a value containing ': ' must be quoted, or the indentation is off"
    return YamlErrorText(problem, line, hint, where)


def _escape_hint(line: str, column: int) -> str:
    """A backslash in a double-quoted scalar starts an escape (`\\n`, `\\t`): a regex such as `"^.*\\.sig$"`
    fails there. In single quotes a backslash is itself, as the regex means it."""
    opened = line.rfind('"', 0, max(column - 1, 0))
    closed = line.find('"', column - 1) if opened >= 0 else -1
    inner = line[opened + 1 : closed] if opened >= 0 and closed > opened else ""
    plain = inner and "'" not in inner and '\\"' not in line
    single = f"'{inner}'" if plain else "single quotes"
    return (
        "in double quotes a backslash starts an escape such as \\n: write the value in "
        f"{single} (a regex keeps its backslashes there), or double each backslash"
    )


__all__ = [
    "YamlErrorText",
    "conflict_lines",
    "explain_yaml_error",
    "flow_brackets",
    "glued_hint",
    "glued_key",
    "key_in_string",
]
