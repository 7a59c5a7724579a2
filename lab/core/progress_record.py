"""The learner's course record: the repositories they work on each task in, and the one last opened.

It holds no status. Each repository's PROGRESS.md stays the truth for that repository's own task (the row
`lab check` and `lab grade` score); the record only says where those repositories are, so that every
repository, `lab tasks` and the app show the whole course the same way, and `lab` reopens where the
learner left off.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from lab.core.record import dataclass

# A learner makes a handful of repositories per task; older ones beyond this are forgotten first.
MAX_REPOSITORIES = 8


@dataclass(frozen=True)
class CourseRecord:
    repositories: Mapping[str, tuple[str, ...]]
    """task id -> absolute paths of its repositories, the most recently used first."""
    last: str = ""
    """The repository last opened in the app or made by `lab init` ("" when none)."""


EMPTY = CourseRecord({})


def parse_record(text: str) -> CourseRecord:
    """The record in `text`; anything unreadable counts as no record (it only says where repositories
    are: at worst the lab forgets one, and the next `lab init` or opening it records it again)."""
    try:
        data = json.loads(text)
    except ValueError:
        return EMPTY
    if not isinstance(data, dict):
        return EMPTY
    raw = data.get("repositories")
    repositories: dict[str, tuple[str, ...]] = {}
    if isinstance(raw, dict):
        for task, paths in raw.items():
            if isinstance(task, str) and isinstance(paths, list):
                kept = tuple(p for p in paths if isinstance(p, str) and p)
                if kept:
                    repositories[task] = kept[:MAX_REPOSITORIES]
    last = data.get("last")
    return CourseRecord(repositories, last if isinstance(last, str) else "")


def render_record(record: CourseRecord) -> str:
    data = {"last": record.last, "repositories": {t: list(p) for t, p in record.repositories.items()}}
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def with_repository(record: CourseRecord, task: str, path: str, *, last: bool) -> CourseRecord:
    """`record` with `path` as `task`'s most recent repository (and the last one opened when `last`)."""
    repositories = dict(record.repositories)
    # A repository works on one task: made again for another (`lab sandbox reset --task`), it leaves the old.
    for other, paths in list(repositories.items()):
        if other != task and path in paths:
            remaining = tuple(p for p in paths if p != path)
            if remaining:
                repositories[other] = remaining
            else:
                del repositories[other]
    mine = (path, *(p for p in repositories.get(task, ()) if p != path))
    repositories[task] = mine[:MAX_REPOSITORIES]
    return CourseRecord(repositories, path if last else record.last)


def with_repository_moved(record: CourseRecord, old: str, new: str, task: str | None) -> CourseRecord:
    """`record` with the repository at `old` now at `new` (`lab sandbox reset` keeps the one it replaces
    under previous/): wherever `old` is listed, `new` takes its place; listed nowhere, `new` joins `task`'s
    list last (it is where that task's work is, not the one the learner opened last)."""
    repositories = {
        t: tuple(new if p == old else p for p in paths) for t, paths in record.repositories.items()
    }
    if task is not None and not any(old in paths for paths in record.repositories.values()):
        mine = tuple(p for p in repositories.get(task, ()) if p != new)
        repositories[task] = (*mine[: MAX_REPOSITORIES - 1], new)
    return CourseRecord(repositories, record.last)
