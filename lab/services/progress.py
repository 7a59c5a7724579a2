"""Read and edit the learner's PROGRESS.md (the pure work is in lab.core.progress).

Writes are atomic (temp file in the same directory, then rename, mode kept) and refuse a PROGRESS.md that
is a symlink or lies outside the workspace. Nothing is committed: the learner commits it.
"""

from __future__ import annotations

import errno
from pathlib import Path

from lab.adapters.files import not_regular, read_regular
from lab.adapters.files import write_atomic as replace_bytes
from lab.core.diff import file_diff
from lab.core.progress import (
    DONE,
    PROGRESS_FILE,
    TODO,
    ProgressEdit,
    ProgressTable,
    not_a_file,
    parse_progress,
    row_status,
    set_status,
    status_is_done,
)
from lab.core.record import dataclass
from lab.core.tasks import TaskMeta
from lab.errors import LabError

# A course's table is a few rows; a larger file is not one to parse on every read (Home, lab tasks).
MAX_PROGRESS_BYTES = 1 << 20

_STATUS_WORDS = {"done": DONE, "ok": DONE, "yes": DONE, "todo": TODO, "open": TODO, "no": TODO}


@dataclass(frozen=True)
class ProgressResult:
    path: Path
    edit: ProgressEdit
    diff: str
    written: bool


def progress_path(workspace: Path) -> Path:
    return Path(workspace) / PROGRESS_FILE


def normalise_status(value: str) -> str:
    """`done`/`todo` (any case) become ✅/⬜; anything else is used as written."""
    return _STATUS_WORDS.get(value.strip().lower(), value.strip())


def _checked_path(workspace: Path) -> Path:
    path = progress_path(workspace)
    if path.is_symlink():
        raise LabError(
            "is a symbolic link; lab only edits a regular file",
            file=str(path),
            hint="replace the link with the file itself",
        )
    root = Path(workspace).resolve()
    if root not in path.resolve().parents:
        raise LabError("is outside the workspace", file=str(path), hint="keep PROGRESS.md in the repository")
    kind = not_regular(path)
    if kind not in (None, "not found"):
        message, hint = not_a_file(str(kind))
        raise LabError(message, file=str(path), hint=hint)
    if not path.is_file():
        raise LabError(
            "not found",
            file=str(path),
            hint="PROGRESS.md belongs at the repository root (lab init creates one)",
        )
    return path


def read_progress(workspace: Path) -> tuple[Path, str]:
    path = _checked_path(workspace)
    try:
        raw = read_regular(path, MAX_PROGRESS_BYTES, follow_symlinks=False)
    except OSError as err:
        hint = (
            "PROGRESS.md is a table of a few rows: restore it with git checkout -- PROGRESS.md"
            if err.errno == errno.EFBIG
            else "check the permissions"
        )
        raise LabError(f"cannot read: {err.strerror}", file=str(path), hint=hint) from err
    try:
        return path, raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise LabError(
            f"is not UTF-8 (byte {err.start})", file=str(path), hint="save PROGRESS.md as UTF-8"
        ) from err


def show_progress(workspace: Path) -> tuple[Path, ProgressTable]:
    path, text = read_progress(workspace)
    return path, parse_progress(text, file=str(path))


def write_atomic(path: Path, data: bytes, *, expected: bytes | None = None) -> None:
    """Replace `path` with `data` in one rename; refuse when it no longer holds `expected`."""
    if expected is not None and path.read_bytes() != expected:
        raise LabError(
            "changed while lab was editing it",
            file=str(path),
            hint="run the command again; nothing was written",
        )
    replace_bytes(path, data)


def mark_progress(
    workspace: Path,
    task: str,
    *,
    status: str = DONE,
    note: str | None = None,
    dry_run: bool = False,
    add_missing: bool = False,
) -> ProgressResult:
    """Set the task's row (status, and the note unless None); write only when something changed.

    `add_missing`: append the row when the table has none (see `lab.core.progress.set_status`). The rows
    of the lab's other tasks done in their own repositories are marked done too (`with_course_rows`)."""
    from lab.services.tasks import task_for_workspace

    path, text = read_progress(workspace)
    edit = set_status(text, task, normalise_status(status), note, file=str(path), add_missing=add_missing)
    try:
        own_task = task_for_workspace(workspace)
    except LabError:  # it records a task this lab does not have: only the row asked for
        own_task = ""
    course = (
        with_course_rows(edit.text, workspace, own_task, file=str(path), keep=task) if own_task else edit.text
    )
    if course != edit.text:
        edit = ProgressEdit(course, True, edit.old_row, edit.new_row, edit.line)
    diff = file_diff(PROGRESS_FILE, text, edit.text) if edit.changed else ""
    written = False
    if edit.changed and not dry_run:
        write_atomic(path, edit.text.encode("utf-8"), expected=text.encode("utf-8"))
        written = True
    return ProgressResult(path, edit, diff, written)


def mark_task_done(workspace: Path, task: TaskMeta, *, dry_run: bool = False) -> ProgressResult:
    """Mark `task` done with its note in its own row: the course's row when task.toml names one,
    else a row named by the task id, added when missing (no other row is touched). A row done already
    with a note keeps it: it is the learner's own words, which the task's default text must not replace."""
    own_row = task.progress_row == task.id
    found = row_status(read_progress(workspace)[1], task.progress_row)
    kept = found is not None and status_is_done(found[0]) and bool(found[1].strip())
    return mark_progress(
        workspace,
        task.progress_row,
        note=None if kept else task.progress_note or None,
        dry_run=dry_run,
        add_missing=own_row,
    )


def done_elsewhere(workspace: Path, own_task: str) -> list[tuple[str, Path, bool]]:
    """(row, repository, whether the row is the task's own, named by its id) of the lab's other tasks done in a repository of their own, in course order:
    never `own_task`'s row, the one `workspace` (which works on `own_task`) is graded on."""
    from lab.services.session import task_catalogue, task_done_in

    here = Path(workspace).resolve()
    catalogue = task_catalogue()
    own = next((m for m in catalogue if m.id == own_task), None)
    own_row = own.progress_row if own is not None else own_task
    found: list[tuple[str, Path, bool]] = []
    for meta in catalogue:
        row = meta.progress_row or meta.id
        if meta.id == own_task or row == own_row:
            continue
        where = task_done_in(meta)
        if where is not None and where.resolve() != here:
            found.append((row, where, row == meta.id))
    return found


def with_course_rows(text: str, workspace: Path, own_task: str, *, file: str, keep: str = "") -> str:
    """`text` (a PROGRESS.md of `workspace`, which works on `own_task`) with the rows of the lab's other
    tasks done in a repository of their own marked done, their note saying where (`done_elsewhere`): the
    file the learner commits shows the whole course. Never `own_task`'s row nor the row `keep`: what
    `lab check` and `lab grade` score in this repository (its own task's row) is never copied from
    another one. A row done here already keeps its cells; a course row the table lacks is left out."""
    from lab.services.session import home_relative

    for row, where, own_row in done_elsewhere(workspace, own_task):
        current = row_status(text, row)
        if row == keep or (current is not None and status_is_done(current[0])):
            continue
        note = f"done in {home_relative(where)}"
        # A row named by its task's id (an exercise's) is added when missing; the course's only filled.
        try:
            text = set_status(text, row, DONE, note, file=file, add_missing=own_row).text
        except LabError:  # no Notes column, or no row for a course task: the status alone, else nothing
            try:
                text = set_status(text, row, DONE, file=file, add_missing=own_row).text
            except LabError:
                continue
    return text


def sync_course_rows(workspace: Path, *, dry_run: bool = False) -> ProgressResult:
    """`lab progress --sync`: write the rows of tasks done elsewhere (`with_course_rows`), nothing else."""
    from lab.services.tasks import task_for_workspace

    path, text = read_progress(workspace)
    course = with_course_rows(text, workspace, task_for_workspace(workspace), file=str(path))
    changed = course != text
    first = next(
        (
            n
            for n, (a, b) in enumerate(zip(text.splitlines(), course.splitlines(), strict=False), 1)
            if a != b
        ),
        0,
    )
    edit = ProgressEdit(course, changed, "", "", first)
    diff = file_diff(PROGRESS_FILE, text, course) if changed else ""
    if changed and not dry_run:
        write_atomic(path, course.encode("utf-8"), expected=text.encode("utf-8"))
    return ProgressResult(path, edit, diff, changed and not dry_run)


def starter_progress(task_id: str, dest: Path) -> dict[str, str]:
    """The files a new practice repository for `task_id` at `dest` takes over its starter's: its
    PROGRESS.md with the rows of tasks done elsewhere marked done (`with_course_rows`), when any is."""
    from lab.services.tasks import load_task

    starter = load_task(task_id).starter / PROGRESS_FILE
    try:
        text = starter.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):  # the starter's own problem: init_practice_repo names it
        return {}
    try:
        course = with_course_rows(text, dest, task_id, file=str(dest / PROGRESS_FILE))
    except LabError:
        return {}
    return {PROGRESS_FILE: course} if course != text else {}
