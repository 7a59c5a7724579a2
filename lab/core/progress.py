"""PROGRESS.md, the course tracker: read the Markdown table and change one row's cells, nothing else.

The learner's file is theirs: an edit replaces only the Status (and Notes) cell of the chosen row and keeps
every other byte - other rows, column padding, line endings (LF or CRLF), a missing final newline.
Tolerated input: any column order (headers Task/Status/Notes, case and emphasis ignored), optional outer
pipes, extra spaces, escaped pipes inside cells, CRLF.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from lab.core.record import dataclass
from lab.core.text import first_unsafe
from lab.errors import LabError

PROGRESS_FILE = "PROGRESS.md"


def not_a_file(kind: str) -> tuple[str, str]:
    """(what is wrong, what to do) when PROGRESS.md is `kind` ("a directory", "a FIFO" ...): the one
    phrasing of `lab check` and `lab progress`, whose hint must not send the learner to the other."""
    away = "mv PROGRESS.md PROGRESS.md.dir" if kind == "a directory" else "rm PROGRESS.md"
    return (
        f"is {kind}, not a file",
        f"move it out of the way ({away}), then restore the file: git checkout -- PROGRESS.md",
    )


"""The course tracker, at the root of every practice repository."""
DONE = "✅"
TODO = "⬜"
ROW_HINT = "add the row `| {task} | ⬜ | |` to the table"
TABLE_HINT = "PROGRESS.md needs a Markdown table with a header row `| Task | Status | Notes |`"
_DELIMITER_CELL = re.compile(r"^\s*:?-+:?\s*$")
_DONE_WORDS = frozenset({"done", "complete", "completed", "[x]", "x", "yes", "✔", "✔️", "☑", "☑️", "✅"})


@dataclass(frozen=True)
class ProgressRow:
    task: str
    status: str
    note: str
    line: int
    """1-based line number in the file."""


@dataclass(frozen=True)
class ProgressTable:
    header_line: int
    columns: dict[str, int]
    """"task", "status" and (when present) "notes" -> cell index."""
    rows: list[ProgressRow]


@dataclass(frozen=True)
class ProgressEdit:
    text: str
    changed: bool
    old_row: str
    new_row: str
    line: int


@dataclass(frozen=True)
class _Line:
    body: str
    eol: str
    start: int
    """Offset of `body` in the whole text."""


def _split_lines(text: str) -> list[_Line]:
    lines: list[_Line] = []
    pos = 0
    for piece in re.split(r"(?<=\n)", text):
        if not piece:
            continue
        body = piece.rstrip("\r\n")
        lines.append(_Line(body, piece[len(body) :], pos))
        pos += len(piece)
    return lines


def _pipes(body: str) -> list[int]:
    """Offsets of the unescaped `|` in a row."""
    out: list[int] = []
    backslashes = 0
    for i, ch in enumerate(body):
        if ch == "|" and backslashes % 2 == 0:
            out.append(i)
        backslashes = backslashes + 1 if ch == "\\" else 0
    return out


def _cell_spans(body: str) -> list[tuple[int, int]]:
    pipes = _pipes(body)
    if not pipes:
        return []
    leading = pipes[0] == len(body) - len(body.lstrip())
    trailing = pipes[-1] == len(body.rstrip()) - 1 and (len(pipes) > 1 or not leading)
    edges = ([] if leading else [-1]) + pipes + ([] if trailing else [len(body)])
    return [(edges[k] + 1, edges[k + 1]) for k in range(len(edges) - 1)]


def _cells(body: str) -> list[str]:
    return [body[a:b].strip() for a, b in _cell_spans(body)]


def _normalise_header(cell: str) -> str:
    return re.sub(r"[*_`]", "", cell).strip().lower()


def _columns(header: list[str]) -> dict[str, int] | None:
    columns: dict[str, int] = {}
    for index, raw in enumerate(header):
        name = _normalise_header(raw)
        if name in ("task", "tasks") and "task" not in columns:
            columns["task"] = index
        elif name in ("status", "state") and "status" not in columns:
            columns["status"] = index
        elif name in ("notes", "note", "comments", "comment") and "notes" not in columns:
            columns["notes"] = index
    return columns if "task" in columns and "status" in columns else None


def _unescape(cell: str) -> str:
    return cell.replace("\\|", "|")


def _find_table(lines: list[_Line]) -> tuple[int, dict[str, int], list[int]] | None:
    """(header index, columns, row indexes) of the first progress table."""
    for i, line in enumerate(lines[:-1]):
        if "|" not in line.body:
            continue
        columns = _columns(_cells(line.body.lstrip("\ufeff")))
        if columns is None:
            continue
        delimiter = _cells(lines[i + 1].body)
        if not delimiter or not all(_DELIMITER_CELL.match(c) for c in delimiter):
            continue
        rows: list[int] = []
        for j in range(i + 2, len(lines)):
            if not lines[j].body.strip() or not _pipes(lines[j].body):
                break
            rows.append(j)
        return i, columns, rows
    return None


def _row(lines: list[_Line], index: int, columns: dict[str, int]) -> ProgressRow:
    cells = _cells(lines[index].body)

    def get(name: str) -> str:
        col = columns.get(name)
        return _unescape(cells[col]) if col is not None and col < len(cells) else ""

    return ProgressRow(get("task"), get("status"), get("notes"), index + 1)


def parse_progress(text: str, *, file: str = "PROGRESS.md") -> ProgressTable:
    """The progress table; LabError (naming `file`) when there is none."""
    lines = _split_lines(text)
    found = _find_table(lines)
    if found is None:
        raise LabError("no progress table with Task and Status columns", file=file, hint=TABLE_HINT)
    header, columns, rows = found
    return ProgressTable(header + 1, columns, [_row(lines, j, columns) for j in rows])


def task_matches(task_cell: str, wanted: str) -> bool:
    """`09` matches `09-fluxcd-image-automation` (and `9`), not `090`; names match by prefix.

    Several rows may match (`09` also matches `09b-multi`): `_find_row` takes the closest (`_closeness`)."""
    cell = _task_name(task_cell)
    wanted = wanted.strip()
    if wanted.isdigit():
        match = re.match(r"\d+", cell)
        return match is not None and int(match.group()) == int(wanted)
    return bool(wanted) and cell.lower().startswith(wanted.lower())


def _closeness(task_cell: str, wanted: str) -> int:
    """2: the cell is the task's name; 1: it is the task's number followed by a name (`09-flux..` for
    `09`); 0: a longer name that only starts the same (`09b-multi` for `09` or `09b`), a weaker match."""
    cell, wanted = _task_name(task_cell).lower(), wanted.strip().lower()
    if cell == wanted:
        return 2
    if not wanted.isdigit():
        return 0  # `09b` names `09b-multi` only by prefix: another task's row
    match = re.match(r"\d+", cell)
    rest = cell[match.end() :] if match else ""
    return 1 if not rest[:1].isalnum() else 0


def _task_name(task_cell: str) -> str:
    cell = re.sub(r"^[\s*_`\[]+", "", task_cell)
    return re.sub(r"^task\s+", "", cell, flags=re.IGNORECASE)


def _find_row(text: str, task: str, file: str) -> tuple[list[_Line], dict[str, int], int]:
    lines = _split_lines(text)
    found = _find_table(lines)
    if found is None:
        raise LabError("no progress table with Task and Status columns", file=file, hint=TABLE_HINT)
    header, columns, rows = found
    matches = [rows[k] for k in best_matches([_row(lines, j, columns).task for j in rows], task)]
    if not matches:
        raise LabError(
            f"no row for task {task} in the progress table",
            file=file,
            line=header + 1,
            hint=ROW_HINT.format(task=task),
        )
    if len(matches) > 1:
        raise LabError(
            f"{len(matches)} rows match task {task} (lines {', '.join(str(j + 1) for j in matches)})",
            file=file,
            hint="name the task more precisely: the row's full name",
        )
    return lines, columns, matches[0]


def best_matches(cells: Sequence[str], task: str) -> list[int]:
    """The indexes of the task cells that name `task` most closely (`09` names `09-fluxcd-...` rather
    than `09b-multi`): the row(s) every edit and the app's Home take as the task's."""
    matches = [k for k, cell in enumerate(cells) if task_matches(cell, task)]
    if not matches:
        return []
    rank = {k: _closeness(cells[k], task) for k in matches}
    best = max(rank.values())
    return [k for k in matches if rank[k] == best]


def row_status(text: str, task: str) -> tuple[str, str] | None:
    """(status, note) of the task's row, None when there is no table or no such row."""
    try:
        lines, columns, index = _find_row(text, task, "PROGRESS.md")
    except LabError:
        return None
    row = _row(lines, index, columns)
    return row.status, row.note


def status_is_done(status: str) -> bool:
    text = status.strip()
    return DONE in text or text.lower() in _DONE_WORDS


def _fill(raw: str, content: str) -> str:
    """`content` in a cell that held `raw`, keeping its padding style (and width when it fits)."""
    if not raw.strip():
        lead, trail_min = (" ", 1) if raw else ("", 0)
    else:
        lead = raw[: len(raw) - len(raw.lstrip())]
        trail_min = len(raw) - len(raw.rstrip())
    trail = max(trail_min, len(raw) - len(lead) - len(content))
    return lead + content + " " * trail


def _clean_cell(value: str, what: str, file: str) -> str:
    unsafe = first_unsafe(value)
    if unsafe is not None:
        # Refused, not escaped: a `\x1b]0;...` spelled out in the committed table is not what anyone typed.
        raise LabError(
            f"the {what} holds a control character ({unsafe[1]}), which PROGRESS.md would carry to every terminal",
            file=file,
            hint=f"write the {what} as plain text",
        )
    cleaned = " ".join(value.split())
    if not cleaned and what == "status":
        raise LabError("the status must not be empty", file=file, hint=f"use {DONE} or {TODO}")
    return re.sub(r"(?<!\\)\|", r"\\|", cleaned)


def set_status(
    text: str,
    task_prefix: str,
    status: str,
    note: str | None = None,
    *,
    file: str = "PROGRESS.md",
    add_missing: bool = False,
) -> ProgressEdit:
    """Set the Status (and, when `note` is given, Notes) cell of the task's row; idempotent.

    `add_missing`: a table without the row gets one, appended after its last row (a task that is not
    in the course's table, such as an exercise, records its progress without touching other rows).
    """
    if add_missing:
        text = _with_row(text, task_prefix, file)
    lines, columns, index = _find_row(text, task_prefix, file)
    line = lines[index]
    body = line.body
    wanted: dict[int, str] = {columns["status"]: _clean_cell(status, "status", file)}
    if note is not None:
        if "notes" not in columns:
            raise LabError(
                "the progress table has no Notes column",
                file=file,
                hint="add a Notes column or omit the note",
            )
        wanted[columns["notes"]] = _clean_cell(note, "note", file)
    spans = _cell_spans(body)
    current = [body[a:b].strip() for a, b in spans]
    if all((current[c] if c < len(current) else "") == v for c, v in wanted.items()):
        return ProgressEdit(text, False, line.body, line.body, index + 1)
    missing = max(wanted) + 1 - len(spans)
    if missing > 0:
        trailing = bool(spans) and spans[-1][1] < len(body) and body[spans[-1][1]] == "|"
        body = body + (" |" * missing if trailing else " | " * missing)
        spans = _cell_spans(body)
    new_body = body
    for col in sorted(wanted, reverse=True):
        start, end = spans[col]
        if body[start:end].strip() == wanted[col]:
            continue
        new_body = new_body[:start] + _fill(body[start:end], wanted[col]) + new_body[end:]
    new_text = text[: line.start] + new_body + text[line.start + len(line.body) :]
    return ProgressEdit(new_text, True, line.body, new_body, index + 1)


def _with_row(text: str, task: str, file: str) -> str:
    """`text` with an empty row for `task` appended to the table, unless it has one."""
    lines = _split_lines(text)
    found = _find_table(lines)
    if found is None:
        raise LabError("no progress table with Task and Status columns", file=file, hint=TABLE_HINT)
    header, columns, rows = found
    cells_of = [_row(lines, j, columns).task for j in rows]
    if any(task_matches(c, task) and _closeness(c, task) > 0 for c in cells_of):
        return text  # its own row (a longer name that only starts the same is another task's)
    cells = [""] * (max(columns.values()) + 1)
    cells[columns["task"]] = _clean_cell(task, "task", file)
    cells[columns["status"]] = TODO
    head = lines[header]
    outer = head.body.strip().startswith("|")
    row = " | ".join(cells)
    row = f"| {row} |" if outer else row
    last = lines[rows[-1] if rows else header + 1]
    eol = last.eol or (lines[header].eol or "\n")
    end = last.start + len(last.body)
    # The last row may lack a final newline: the new row goes on a line of its own either way.
    return text[:end] + (last.eol or eol) + row + (eol if last.eol else "") + text[end + len(last.eol) :]
