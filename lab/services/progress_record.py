"""The learner's course record on disk (`$XDG_DATA_HOME/fluxlab/course.json`, see
`lab.core.progress_record`): where each task's repositories are, and the one last opened.

Recording never fails a command: the record is the lab's memory of paths, not the learner's work.
"""

from __future__ import annotations

from pathlib import Path

from lab.core.progress_record import (
    EMPTY,
    CourseRecord,
    parse_record,
    render_record,
    with_repository,
    with_repository_moved,
)
from lab.resources import data_home

# A record of a few dozen paths; a larger file is not ours to parse.
MAX_RECORD_BYTES = 256 * 1024


def record_path() -> Path:
    return data_home() / "course.json"


def load_record() -> CourseRecord:
    from lab.adapters.files import read_regular

    try:
        raw = read_regular(record_path(), MAX_RECORD_BYTES, follow_symlinks=False)
    except OSError:  # none yet, or unreadable: no repository known beyond the app's own
        return EMPTY
    return parse_record(raw.decode("utf-8", "replace"))


def remember_repository(workspace: Path, task_id: str, *, last: bool = True) -> None:
    """Record `workspace` as the repository the learner works on `task_id` in (and, when `last`, the one
    `lab` reopens)."""
    record = load_record()
    _save(record, with_repository(record, task_id, str(Path(workspace).resolve()), last=last))


def repository_moved(old: Path, new: Path, task_id: str | None) -> None:
    """Record that the repository at `old` (working on `task_id`) is now at `new`."""
    record = load_record()
    _save(record, with_repository_moved(record, str(old), str(new.resolve()), task_id))


def _save(record: CourseRecord, updated: CourseRecord) -> None:
    from lab.adapters.files import write_atomic

    if updated == record:
        return
    try:
        write_atomic(record_path(), render_record(updated).encode("utf-8"), fsync=False)
    except OSError:  # a read-only home: the lab works on, it only forgets where this repository is
        return


def recorded_repositories(task_id: str) -> list[Path]:
    """The repositories recorded for `task_id` that are still git repositories working on it (the most
    recently used first); a repository since deleted or made again for another task is left out."""
    from lab.errors import LabError
    from lab.services.tasks import task_for_workspace

    found: list[Path] = []
    for raw in load_record().repositories.get(task_id, ()):
        path = Path(raw)
        try:
            if (path / ".git").exists() and task_for_workspace(path) == task_id:
                found.append(path)
        except LabError:  # it records a task this lab does not have
            continue
    return found


def last_repository() -> Path | None:
    """The repository last opened in the app or made by `lab init`, when it is still there."""
    last = load_record().last
    return Path(last) if last and (Path(last) / ".git").exists() else None
