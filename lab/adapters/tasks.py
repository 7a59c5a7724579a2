"""The task catalogue on disk: the one reader of task folders, used by the services and the checks.

Task folders live in the lab's own `tasks/` and in the folders named by `LAB_TASKS_PATH`
(`dir1:dir2`, for course authors; searched first, so an author's copy of a task wins over the bundled
one). `tasks/course.toml` names the task the course is at, the default for every `--task`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from lab.core.tasks import (
    TASK_FILE,
    Course,
    Task,
    TaskMeta,
    parse_course,
    parse_hints,
    parse_pitfalls,
    parse_quiz,
    parse_task_meta,
)
from lab.errors import LabError
from lab.resources import data_dir

TASKS_PATH_ENV = "LAB_TASKS_PATH"
COURSE_FILE = "course.toml"
MAX_TASK_FILE_BYTES = 1024 * 1024

__all__ = [
    "TASKS_PATH_ENV",
    "CatalogueEntry",
    "catalogue",
    "course",
    "default_task_id",
    "load_task",
    "read_task_file",
    "solution_files",
    "task_folder",
    "task_roots",
]


def task_roots() -> list[Path]:
    """Where task folders are looked for, first match wins: LAB_TASKS_PATH, then the lab's tasks/."""
    roots = [Path(p).expanduser() for p in os.environ.get(TASKS_PATH_ENV, "").split(os.pathsep) if p]
    roots.append(data_dir("tasks"))
    return roots


def read_task_file(path: Path) -> str:
    """A task file as text; LabError (file named) when missing, too large or not UTF-8."""
    try:
        if path.stat().st_size > MAX_TASK_FILE_BYTES:
            raise LabError("task file is larger than 1 MiB", file=str(path))
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LabError("missing task file", file=str(path), hint="restore it, or reinstall fluxlab") from None
    except UnicodeDecodeError:
        raise LabError("task file is not UTF-8 text", file=str(path)) from None
    except OSError as err:
        raise LabError(f"cannot read task file: {err.strerror}", file=str(path)) from None


@dataclass(frozen=True)
class CatalogueEntry:
    meta: TaskMeta
    folder: Path


def catalogue() -> list[CatalogueEntry]:
    """Every task folder on the search path (first root wins for a repeated id), in course order."""
    seen: dict[str, CatalogueEntry] = {}
    for root in task_roots():
        if not root.is_dir():
            continue
        for folder in sorted(root.iterdir()):
            path = folder / TASK_FILE
            if not path.is_file():
                continue
            meta = parse_task_meta(read_task_file(path), str(path))
            if meta.id != folder.name:
                raise LabError(
                    f"task id {meta.id!r} does not match its folder {folder.name!r}",
                    file=str(path),
                    field="id",
                    hint=f'set id = "{folder.name}" or rename the folder',
                )
            seen.setdefault(meta.id, CatalogueEntry(meta, folder))
    return sorted(seen.values(), key=lambda e: (e.meta.order, e.meta.id))


def course() -> Course:
    path = data_dir("tasks") / COURSE_FILE
    return parse_course(read_task_file(path), str(path))


def default_task_id() -> str:
    """The task the course is at (tasks/course.toml): what every command works on without --task."""
    return course().current_task


def task_folder(task_id: str) -> Path:
    for root in task_roots():
        folder = root / task_id
        if (folder / TASK_FILE).is_file() and "/" not in task_id and task_id not in ("", ".", ".."):
            return folder
    known = ", ".join(e.meta.id for e in catalogue()) or "none"
    raise LabError(f"no task {task_id!r}", hint=f"known tasks: {known} (see `lab tasks`)")


def load_task(task_id: str | None = None) -> Task:
    """The task `task_id` (default: the course's current task) with its texts read and parsed."""
    folder = task_folder(task_id or default_task_id())
    path = folder / TASK_FILE
    meta = parse_task_meta(read_task_file(path), str(path))

    def text(rel: str) -> tuple[str, str]:
        where = folder / rel
        return read_task_file(where), str(where)

    return Task(
        meta=meta,
        folder=folder,
        lesson=text(meta.lesson)[0],
        hints=parse_hints(*text(meta.hints)),
        pitfalls=parse_pitfalls(*text(meta.pitfalls)),
        quiz=parse_quiz(*text(meta.quiz)),
    )


def solution_files(task: Task, variant: str | None = None) -> dict[str, Path]:
    """The solution's files: repository path (forward slashes, sorted) -> the file to copy there;
    with `variant` (an image API version the task has a variant folder for), that folder's files win.

    Symlinks are refused: a task folder from LAB_TASKS_PATH must not make `lab solve` copy what lies
    outside it.
    """
    files = _files_under(task, task.solution)
    folder = dict(task.meta.solution_variants).get(variant or "")
    if folder is not None:
        files.update(_files_under(task, task.folder / folder))
    return dict(sorted(files.items()))


def _files_under(task: Task, root: Path) -> dict[str, Path]:
    if not root.is_dir():
        raise LabError(
            f"task {task.id} has no {root.name}/ folder",
            file=str(root),
            hint="put the solved files there, at the same paths as in starter/",
        )
    files: dict[str, Path] = {}
    for path in sorted(root.rglob("*")):
        if path.is_symlink():
            raise LabError("a symlink in a task's solution is not copied", file=str(path), hint="use a file")
        if path.is_file() and "__pycache__" not in path.parts:
            files[path.relative_to(root).as_posix()] = path
    return files
