"""The task catalogue on disk: the one reader of task folders, used by the services and the checks.

Task folders live in the lab's own `tasks/` and in the folders named by `LAB_TASKS_PATH`
(`dir1:dir2`, for course authors; searched first, so an author's copy of a task wins over the bundled
one). `course.toml` (the first root's that has one, else `tasks/course.toml`) names the task the course is at; a practice repository made by `lab init DIR
--task ID` records ID (`.fluxlab/task.json`), and `task_for_workspace` is the one rule for the task a command
works on: --task, else the repository's recorded task, else the course's.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lab.adapters.files import read_regular
from lab.adapters.tomlcache import Stamp, cached_toml, settled, stamp
from lab.core.record import dataclass
from lab.core.tasks import RECORDED_TASK_FILE, TASK_FILE, TaskMeta, load_toml, parse_recorded_task, task_meta
from lab.errors import LabError
from lab.resources import data_dir

if TYPE_CHECKING:
    from lab.core.tasktexts import Course, Task

TASKS_PATH_ENV = "LAB_TASKS_PATH"
COURSE_FILE = "course.toml"
MAX_TASK_FILE_BYTES = 1024 * 1024

__all__ = [
    "TASKS_PATH_ENV",
    "CatalogueEntry",
    "bundled_task",
    "catalogue",
    "course",
    "course_file",
    "default_task_id",
    "load_task",
    "read_task_file",
    "read_task_meta",
    "read_task_toml",
    "record_task_source",
    "recorded_task",
    "solution_files",
    "solution_removals",
    "task_folder",
    "task_for_workspace",
    "task_roots",
    "task_source",
    "unknown_recorded_task",
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
        # Reinstalling restores the lab's own tasks, never a folder on LAB_TASKS_PATH.
        own = path.resolve().is_relative_to(data_dir("tasks").resolve())
        hint = (
            "restore it, or reinstall fluxlab" if own else "restore it (the folder is yours: LAB_TASKS_PATH)"
        )
        raise LabError("missing task file", file=str(path), hint=hint) from None
    except UnicodeDecodeError:
        raise LabError("task file is not UTF-8 text", file=str(path)) from None
    except OSError as err:
        raise LabError(f"cannot read task file: {err.strerror}", file=str(path)) from None


def read_task_toml(path: Path) -> dict[str, Any]:
    """A task's TOML file as data (LabError naming the file, as `read_task_file` and `load_toml`),
    parsed once for as long as the file stays unchanged (`lab.adapters.tomlcache`)."""

    def parse() -> dict[str, Any]:
        return load_toml(read_task_file(path), str(path))

    try:
        st = path.stat()
    except OSError:
        return parse()  # read_task_file says what is wrong
    return cached_toml(path, st, parse)


def task_params(task_id: str | None = None) -> dict[str, Any]:
    """The task's checks.toml `[params]` (the facts its checks and the sandbox share), {} without."""
    from lab.core.tasks import CHECKS_FILE

    path = task_folder(task_id or default_task_id()) / CHECKS_FILE
    params = read_task_toml(path).get("params", {}) if path.is_file() else {}
    return params if isinstance(params, dict) else {}


def read_task_meta(path: Path) -> TaskMeta:
    """A task's task.toml, checked; its `id` must be its folder's name, as every lookup goes by folder
    (--task, LAB_TASKS_PATH, a repository's .fluxlab/task.json)."""
    from lab.core.tasks import key_line

    meta = task_meta(read_task_toml(path), str(path))
    folder = path.parent.name
    if meta.id != folder:
        raise LabError(
            f"id {meta.id!r} must equal the task's folder name {folder!r}",
            file=str(path),
            line=key_line(read_task_file(path), "", "id"),
            hint=f'set id = "{folder}", or rename the folder to {meta.id}',
        )
    return meta


@dataclass(frozen=True)
class CatalogueEntry:
    meta: TaskMeta
    folder: Path


def catalogue() -> list[CatalogueEntry]:
    """Every task folder on the search path (first root wins for a repeated id), in course order
    (`lab.core.tasks.course_order`); a folder whose task.toml cannot be read is left out
    (`scan_catalogue` says which and why)."""
    return scan_catalogue()[0]


def scan_catalogue() -> tuple[list[CatalogueEntry], list[LabError]]:
    """The catalogue, and what made a folder unreadable: one author's broken folder on LAB_TASKS_PATH
    must not hide every other task."""
    seen: dict[str, CatalogueEntry] = {}
    problems: list[LabError] = []
    broken: set[str] = set()  # a broken folder still shadows its id on later roots, as load_task finds it
    for root in task_roots():
        if not root.is_dir():
            continue
        for folder in sorted(root.iterdir()):
            path = folder / TASK_FILE
            if not path.is_file():
                continue
            try:
                meta = read_task_meta(path)
            except LabError as err:
                if folder.name not in seen:
                    broken.add(folder.name)
                problems.append(err)
                continue
            if meta.id not in broken:
                seen.setdefault(meta.id, CatalogueEntry(meta, folder))
    from lab.core.tasks import course_order

    try:
        listed = course().tasks
    except LabError:  # a course.toml that cannot be read: the commands that need it say why
        listed = ()
    by_id = {entry.meta.id: entry for entry in seen.values()}
    return [by_id[meta.id] for meta in course_order((e.meta for e in seen.values()), listed)], problems


def course_file() -> Path:
    """The course.toml in force: the first task root that has one (so a course on LAB_TASKS_PATH can
    name its own current task), else the lab's tasks/course.toml."""
    for root in task_roots():
        path = root / COURSE_FILE
        if path.is_file():
            return path
    return data_dir("tasks") / COURSE_FILE


def course() -> Course:
    from lab.core.tasktexts import parse_course

    path = course_file()
    return parse_course(read_task_file(path), str(path))


def bundled_task(task_id: str) -> bool:
    """Whether `task_id` is found in the lab's own tasks/ (not in a LAB_TASKS_PATH folder): only those
    are there wherever the lab is installed (a Classroom workflow's CI, a learner's machine)."""
    folder = _find_folder(task_id)
    return folder is not None and folder.parent.resolve() == data_dir("tasks").resolve()


def default_task_id() -> str:
    """The task the course is at (`course_file`): what every command works on without --task, in a
    repository that records no task of its own (`task_for_workspace`)."""
    return course().current_task


MAX_RECORD_BYTES = 64 * 1024


def recorded_task(workspace: Path) -> str | None:
    """The task id the repository at `workspace` records (`.fluxlab/task.json`, written by `lab init`),
    None when it records none. The repository is the learner's: a symlink is refused, not followed."""
    path = Path(workspace) / RECORDED_TASK_FILE
    where = str(path)
    if path.parent.is_symlink() or path.is_symlink():
        raise LabError(
            "is a symbolic link; lab reads only a regular file", file=where, hint="replace it with the file"
        )
    try:
        raw = read_regular(path, MAX_RECORD_BYTES, follow_symlinks=False)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as err:  # a FIFO or device is refused, not read (the read would block or not end)
        raise LabError(
            f"cannot read: {err.strerror}", file=where, hint='it holds {"task": "<task id>"}'
        ) from None
    return parse_recorded_task(raw.decode("utf-8", "replace"), where)


def task_for_workspace(workspace: Path | None = None, task: str | None = None) -> str:
    """The task a command works on: `task` (--task) when given, else the one the repository at
    `workspace` (default: the git repository around the current directory, if any) records, else the
    course's current task. A recorded task this lab does not have is a one-line LabError."""
    if task:
        return task
    if workspace is None:
        from lab.adapters.git import find_git_root

        try:
            workspace = find_git_root(Path.cwd())
        except OSError:  # the current directory was removed under us: no repository to ask
            workspace = None
    recorded = recorded_task(workspace) if workspace is not None else None
    if recorded is None or workspace is None:
        return default_task_id()
    if _find_folder(recorded) is None:
        raise unknown_recorded_task(workspace, recorded)
    return recorded


SOURCE_FILE = "fluxlab-tasks-path"
"""In a practice repository's git directory (this clone's, never committed): the LAB_TASKS_PATH folder its
task came from, so a shell without that variable can say where the task is instead of only that it is not."""


def task_source(task_id: str) -> Path | None:
    """The LAB_TASKS_PATH folder holding `task_id`; None for a task of the lab's own tasks/ (or none)."""
    folder = _find_folder(task_id)
    return folder.parent.resolve() if folder is not None and not bundled_task(task_id) else None


def record_task_source(git_dir: Path, task_id: str) -> None:
    """Remember in `git_dir` where `task_id` came from, when LAB_TASKS_PATH supplied it."""
    source = task_source(task_id)
    if source is not None:
        (git_dir / SOURCE_FILE).write_text(str(source) + "\n", encoding="utf-8")


def recorded_task_source(workspace: Path) -> str | None:
    """The folder `record_task_source` wrote for the repository at `workspace`, None when none."""
    try:
        raw = read_regular(Path(workspace) / ".git" / SOURCE_FILE, 4096, follow_symlinks=False)
    except OSError:
        return None
    return raw.decode("utf-8", "replace").strip() or None


def unknown_recorded_task(
    workspace: Path,
    recorded: str,
    *,
    made_for: str = "this repository is for",
    way_out: str = "pass --task ID, or update fluxlab",
) -> LabError:
    """The one line for a repository recording a task this lab lacks: from which LAB_TASKS_PATH folder
    it came when that was recorded, and how to get it back or leave it (`way_out`)."""
    import shlex

    source = recorded_task_source(workspace)
    known = f"known tasks: {_known_ids()}"
    if source is None:
        came, hint = "", f"{known}; {way_out}"
    else:
        came = f" from {TASKS_PATH_ENV}={source}"
        again = f"{TASKS_PATH_ENV}={shlex.quote(source)}"
        hint = f"set it again (export {again}, or {again} lab ...), or {way_out} ({known})"
    return LabError(
        f"{made_for} task {recorded!r}{came}, which this lab does not have",
        file=str(Path(workspace) / RECORDED_TASK_FILE),
        hint=hint,
    )


def _find_folder(task_id: str) -> Path | None:
    """The first task root's folder of `task_id` (one with a task.toml); None when no root has it."""
    if "/" in task_id or task_id in ("", ".", ".."):
        return None
    return next((root / task_id for root in task_roots() if (root / task_id / TASK_FILE).is_file()), None)


def _known_ids() -> str:
    return ", ".join(e.meta.id for e in catalogue()) or "none"


def task_folder(task_id: str) -> Path:
    folder = _find_folder(task_id)
    if folder is None:
        raise LabError(f"no task {task_id!r}", hint=f"known tasks: {_known_ids()} (see `lab tasks`)")
    return folder


def load_task(task_id: str | None = None) -> Task:
    """The task `task_id` (default: the course's current task) with its texts read and parsed; read
    again only when one of its files changed (a check run reads the task's tags several times, the app
    its texts at every screen)."""
    folder = task_folder(task_id or default_task_id())
    kept = _loaded.get(folder)
    if kept is not None and _stamps(kept[0]) == kept[1]:
        return kept[2]
    task = _read_task(folder)
    files = (
        folder / TASK_FILE,
        *(folder / rel for rel in (task.meta.lesson, task.meta.hints, task.meta.pitfalls, task.meta.quiz)),
    )
    stamps = _stamps(files, settled_only=True)
    if stamps is not None:
        _loaded[folder] = (files, stamps, task)
    return task


#: load_task's tasks by folder, with the files they were read from and those files' stamps then.
_loaded: dict[Path, tuple[tuple[Path, ...], tuple[Stamp, ...], Task]] = {}


def _stamps(files: tuple[Path, ...], *, settled_only: bool = False) -> tuple[Stamp, ...] | None:
    """The files' stamps (lab.adapters.tomlcache); None when one cannot be read, or with `settled_only`
    has changed too recently for its stamp to tell a rewrite (git's "racy" files)."""
    found: list[Stamp] = []
    for path in files:
        try:
            st = path.stat()
        except OSError:
            return None
        if settled_only and not settled(st):
            return None
        found.append(stamp(st))
    return tuple(found)


def _read_task(folder: Path) -> Task:
    from lab.core.tasktexts import Task, parse_hints, parse_pitfalls, parse_quiz

    meta = read_task_meta(folder / TASK_FILE)

    def text(key: str, rel: str) -> tuple[str, str]:
        where = folder / rel
        if not where.exists() and not where.is_symlink():
            raise _missing_named_file(folder, key, rel)
        return read_task_file(where), str(where)

    return Task(
        meta=meta,
        folder=folder,
        lesson=text("lesson", meta.lesson)[0],
        hints=parse_hints(*text("hints", meta.hints)),
        pitfalls=parse_pitfalls(*text("pitfalls", meta.pitfalls)),
        quiz=parse_quiz(*text("quiz", meta.quiz)),
    )


def _missing_named_file(folder: Path, key: str, rel: str) -> LabError:
    """task.toml's `key` names `rel`, which the task folder lacks: the field is what to fix (a typo such
    as `quizz.toml`), named with its line and the folder's file it probably meant."""
    from lab.core.tasks import key_line
    from lab.core.text import closest

    toml = folder / TASK_FILE
    close = closest(rel, [p.name for p in folder.iterdir() if p.is_file()]) if folder.is_dir() else None
    try:
        line = key_line(read_task_file(toml), "", key)
    except LabError:
        line = None
    return LabError(
        f"{key} = {rel!r}: the task folder has no such file",
        file=str(toml),
        line=line,
        field=key,
        hint=f'did you mean {key} = "{close}"?'
        if close
        else f"create {folder / rel}, or name the file {key} is in",
    )


def solution_files(task: Task, variant: str | None = None) -> dict[str, Path]:
    """The solution's files: repository path (forward slashes, sorted) -> the file to copy there;
    with `variant` (an image API version the task has a variant folder for), that folder's files win.

    Symlinks are refused: a task folder from LAB_TASKS_PATH must not make `lab solve` copy what lies
    outside it.
    """
    # A solution that only removes files may have no folder (git keeps no empty one).
    removes_only = bool(task.meta.solution_remove) and not task.solution.exists()
    files = {} if removes_only else _files_under(task, task.solution)
    folder = dict(task.meta.solution_variants).get(variant or "")
    if folder is not None:
        files.update(_files_under(task, task.folder / folder))
    return dict(sorted(files.items()))


def solution_removals(task: Task, files: Mapping[str, object]) -> list[str]:
    """The paths the solution deletes (`[solution] remove`), except those it also writes (`files`, from
    `solution_files`): a path both written and removed ends up written."""
    return [rel for rel in task.meta.solution_remove if rel not in files]


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
