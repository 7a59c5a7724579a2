"""A course task as data: the model of `tasks/<id>/` and the parsing of its files, without I/O.

A task is one folder (see CONTRIBUTING.md): `task.toml` (identity, PROGRESS.md row, prerequisites,
solution commit message, the images its registry serves), lesson, hints, pitfalls, quiz, `starter/`,
`solution/` and `checks.toml`. `lab.adapters.tasks` reads the files; this module turns their text into
these values, so every layer (checks, sandbox, services, TUI) shares one model and one reading. The
task with its texts (lesson, hints, pitfalls, quiz) and the course file are `lab.core.tasktexts`: a
check run reads only task.toml and the task a repository records, so it never imports them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import field
from pathlib import PurePosixPath
from typing import Any

from lab.core import jsontext
from lab.core.record import dataclass
from lab.errors import LabError

TASK_FILE = "task.toml"
CHECKS_FILE = "checks.toml"
CHECKS_MODULE = "checks.py"
STARTER_DIR = "starter"
SOLUTION_DIR = "solution"
DEFAULT_AREAS = ("home", "lesson", "generate", "checks", "flux", "quiz", "done")


@dataclass(frozen=True)
class TaskImage:
    """An image the task's registry serves (`[[images]]` in task.toml), with its bundled tags."""

    name: str
    """As written in the task's manifests, e.g. `library/nginx`."""
    tags: str
    """The tags file, relative to the task folder: one tag per line, `#` comments ignored."""
    events: str | None = None
    """Optional dated history (JSON list of {date, tags}) the sandbox replays after `snapshot`."""
    snapshot: str | None = None
    """The date the tags file was taken (YYYY-MM-DD), shown to learners as "a <date> snapshot"."""


@dataclass(frozen=True)
class TaskMeta:
    """What task.toml says, checked for types; file names are relative to the task folder."""

    id: str
    title: str
    summary: str = ""
    order: int = 0
    prerequisites: tuple[str, ...] = ()
    progress_row: str = ""
    progress_task: str = ""
    progress_note: str = ""
    quiz_record: str = ".fluxlab/quiz.json"
    next_task: str = ""
    next_title: str = ""
    lesson: str = "lesson.md"
    hints: str = "hints.toml"
    pitfalls: str = "pitfalls.toml"
    quiz: str = "quiz.toml"
    starter: str = STARTER_DIR
    starter_message: str = ""
    """The first commit of a practice repository (`lab init`)."""
    solution: str = SOLUTION_DIR
    commit_message: str = ""
    """The message `lab solve` commits the solution with (`[solution] commit_message`), and the app's `p`
    a first commit of the image automation; "" when the task gives none (each has its own default)."""
    solution_variants: tuple[tuple[str, str], ...] = ()
    """(image API version, folder): files that replace the solution's when that version is written
    (`[solution] variants = { v1beta2 = "solution-v1beta2" }`); other versions get the apiVersion rewritten."""
    solution_remove: tuple[str, ...] = ()
    """Repository paths the solution deletes (`[solution] remove = ["apps/old.yaml"]`): a task whose work
    is removing a file (a cleanup) cannot say so with files copied over the starter."""
    areas: tuple[str, ...] = DEFAULT_AREAS
    generate: dict[str, str] = field(default_factory=dict)
    """`[generate]`: the generator's defaults for this task (option name -> value), e.g. image, semver."""
    next_steps: tuple[str, ...] = ()
    """What `lab init` prints after creating the practice repository (`command  # comment`)."""
    images: tuple[TaskImage, ...] = ()


def course_order(tasks: Iterable[TaskMeta], listed: Sequence[str]) -> list[TaskMeta]:
    """`tasks` in the course's order: those course.toml lists (`[course] tasks`), as it lists them; then
    the others (a course author's from LAB_TASKS_PATH) by their `order`, then id. An unlisted task never
    comes between the course's own."""
    place = {task_id: n for n, task_id in enumerate(listed)}
    return sorted(tasks, key=lambda t: (place.get(t.id, len(place)), t.order, t.id))


def next_in_lab(meta: TaskMeta, catalogue: Sequence[TaskMeta]) -> TaskMeta | None:
    """The task to open after `meta` in this lab: the one after it in `catalogue`, which is in course
    order (`course_order`). None at the end: the course goes on outside the lab (`course_after`)."""
    ids = [t.id for t in catalogue]
    following = ids.index(meta.id) + 1 if meta.id in ids else len(ids)
    return catalogue[following] if following < len(ids) else None


def course_after(meta: TaskMeta, catalogue: Sequence[TaskMeta]) -> tuple[str, str] | None:
    """Where the course goes on outside this lab after `meta`: following `next_task` through the tasks
    the lab has, the first (id, title) it does not have; None when the chain ends or goes round."""
    by_id = {t.id: t for t in catalogue}
    seen = {meta.id}
    current = meta
    while current.next_task:
        following = by_id.get(current.next_task)
        if following is None:
            return current.next_task, current.next_title
        if following.id in seen:
            return None
        seen.add(following.id)
        current = following
    return None


LIVE_TAGS_HINT = "live tags: lab sandbox up serves the task's images, or --tags-file F"
"""Where a learner gets live tags of an image the task bundles, whatever its registry (Docker Hub or the
task's own ghcr.io image): said wherever the bundled tags stand in for a registry."""


def snapshot_words(found: TaskImage) -> str:
    """What the bundled tags of `found` are, for a learner: "the lab's snapshot of Docker Hub's
    library/nginx as of 2024-06-01"."""
    from lab.core.imagename import ImageNameError, parse_image

    when = f" as of {found.snapshot}" if found.snapshot else ""
    try:
        hub = "Docker Hub's " if parse_image(found.name).is_docker_hub else ""
    except ImageNameError:
        hub = ""
    return f"the lab's snapshot of {hub}{found.name}{when}"


def unreachable_origin(what: str, count: int, file: str, where: str, error: str = "") -> str:
    """Where the tags came from when `where` (a registry) could not be reached and the task's bundled
    tags (`what`, `snapshot_words`) stood in: the one wording of `lab simulate` and `lab check`."""
    why = f" ({error})" if error else ""
    return f"{what} ({count} tags, {file}), as {where} cannot be reached{why}"


def find_image(images: tuple[TaskImage, ...], name: str) -> TaskImage | None:
    from lab.core.imagename import canonical_or_written

    wanted = canonical_or_written(name)
    return next((i for i in images if canonical_or_written(i.name) == wanted), None)


def load_toml(text: str, where: str) -> dict[str, Any]:
    """TOML text as a dict; a syntax error is a one-line LabError naming the file."""
    # Imported here: `lab check` mostly finds its task files parsed already (lab.adapters.tomlcache).
    import tomllib

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise LabError(f"invalid TOML: {err}", file=where, hint="fix the TOML syntax") from None


def _str(data: Mapping[str, Any], key: str, where: str, default: str | None = None) -> str:
    value = data.get(key, default)
    if value is None:
        raise LabError(f"task.toml lacks {key}", file=where, hint=f'add {key} = "..."')
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise LabError(f"{key} must be a string", file=where, field=key)
    return str(value)


def _strings(data: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise LabError(f"{key} must be a list of strings", file=where, field=key)
    return tuple(value)


def _generate(data: Mapping[str, Any], where: str) -> dict[str, str]:
    raw = data.get("generate", {})
    if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
        raise LabError("[generate] must map generator options to strings", file=where, field="generate")
    return {str(k): str(v) for k, v in raw.items()}


def _variants(solution: Mapping[str, Any], where: str) -> tuple[tuple[str, str], ...]:
    raw = solution.get("variants", {})
    if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
        raise LabError("[solution] variants must map API versions to folders", file=where)
    return tuple((str(k), _relative(v, "solution.variants", where)) for k, v in raw.items())


def _relative(value: str, key: str, where: str) -> str:
    """A path inside the task folder: relative, no `..` (the folder may come from LAB_TASKS_PATH)."""
    pure = PurePosixPath(value)
    if not value or pure.is_absolute() or ".." in pure.parts or "\\" in value:
        raise LabError(f"{key} must be a path inside the task folder, not {value!r}", file=where, field=key)
    return value


#: The keys task.toml may hold (what task_meta reads), for `lab dev check` to name a misspelt one.
TASK_KEYS = frozenset(
    {
        "id", "title", "summary", "order", "prerequisites", "progress_row", "progress_task",
        "progress_note", "quiz_record", "next_task", "next_title", "starter_message", "areas",
        "next_steps", "lesson", "hints", "pitfalls", "quiz", "starter", "solution", "generate", "images",
    }
)  # fmt: skip
SOLUTION_KEYS = frozenset({"dir", "commit_message", "variants", "remove"})
IMAGE_KEYS = frozenset({"name", "tags", "events", "snapshot"})


def unknown_keys(data: object, known: frozenset[str]) -> list[str]:
    """The keys of a TOML table that `known` lacks, sorted (nothing for a value that is no table)."""
    return sorted(str(k) for k in data if k not in known) if isinstance(data, dict) else []


def did_you_mean(key: str, known: Iterable[str]) -> str:
    """ ", did you mean 'depends_on'?" for a key close to a known one; else the known keys listed."""
    from lab.core.text import closest

    names = sorted(known)
    close = closest(key, names)
    return f", did you mean {close!r}?" if close else f" (known: {', '.join(names)})"


_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")
_KEY = re.compile(r"""^\s*(?:"([^"]*)"|'([^']*)'|([A-Za-z0-9_-]+))\s*[=.]""")


def _dotted(name: str) -> list[str]:
    return [part.strip().strip("\"'") for part in name.split(".")]


def key_line(text: str, table: str, key: str, index: int | None = None) -> int | None:
    """The 1-based line of `key` in TOML `text`: in table `table` ("" top level, dotted "check.params"),
    of its `index`-th entry when it is an array of tables (`[[check]]`); a key written as a table header
    (`[parms]`, `[exercise.stagng]`) counts too. None when not found (a key in an inline table)."""
    path = _dotted(table) if table else []
    current: list[str] = []
    entries: dict[str, int] = {}  # array-of-tables name -> entries seen
    entry = -1
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header:
            current = _dotted(header[2])
            if header[1] == "[[":
                name = ".".join(current)
                entries[name] = entries.get(name, 0) + 1
            owner = ".".join(current[: len(path)]) if path else ""
            entry = entries.get(owner, 0) - 1
            here = current[: len(path)] == path and current[len(path) : len(path) + 1] == [key]
            if here and (index is None or entry == index):
                return number
            continue
        found = _KEY.match(line)
        written = next((g for g in found.groups() if g is not None), None) if found else None
        if written == key and current == path and (index is None or entry == index):
            return number
    return None


def task_meta(data: Mapping[str, Any], where: str) -> TaskMeta:
    """task.toml's data, checked (`where` names the file in errors)."""
    task_id = _str(data, "id", where)
    if not task_id or task_id != task_id.strip() or "/" in task_id or task_id.startswith("."):
        raise LabError(f"task id {task_id!r} is not a folder name", file=where, field="id")
    prereq = data.get("prerequisites", [])
    if not isinstance(prereq, list) or not all(isinstance(p, str) for p in prereq):
        raise LabError("prerequisites must be a list of task ids", file=where, field="prerequisites")
    areas = data.get("areas", list(DEFAULT_AREAS))
    if not isinstance(areas, list) or not all(isinstance(a, str) for a in areas):
        raise LabError("areas must be a list of names", file=where, field="areas")
    order = data.get("order", 0)
    if not isinstance(order, int) or isinstance(order, bool):
        raise LabError("order must be an integer", file=where, field="order")
    solution = data.get("solution", {})
    if not isinstance(solution, dict):
        raise LabError("[solution] must be a table", file=where, field="solution")
    images = []
    raw_images = data.get("images", [])
    if not isinstance(raw_images, list):
        raise LabError("images must be an array of tables ([[images]])", file=where, field="images")
    for raw in raw_images:
        if not isinstance(raw, dict):
            raise LabError("each [[images]] entry must be a table", file=where, field="images")
        events = raw.get("events")
        snapshot = raw.get("snapshot")
        images.append(
            TaskImage(
                name=_str(raw, "name", where),
                tags=_relative(_str(raw, "tags", where), "images.tags", where),
                events=_relative(str(events), "images.events", where) if events is not None else None,
                snapshot=str(snapshot) if snapshot is not None else None,
            )
        )
    # The dataclass's defaults are the one place a task's file names are spelt.
    files = {
        key: _relative(_str(data, key, where, getattr(TaskMeta, key)), key, where)
        for key in ("lesson", "hints", "pitfalls", "quiz", "starter")
    }
    return TaskMeta(
        id=task_id,
        title=_str(data, "title", where),
        summary=_str(data, "summary", where, ""),
        order=order,
        prerequisites=tuple(prereq),
        # A task without a course row of its own records its progress in a row named by its id.
        progress_row=_str(data, "progress_row", where, task_id),
        progress_task=_str(data, "progress_task", where, task_id),
        # The check wants a note on the row: without one of its own, the task's title is the note.
        progress_note=_str(data, "progress_note", where, "") or _str(data, "title", where),
        quiz_record=_relative(_str(data, "quiz_record", where, TaskMeta.quiz_record), "quiz_record", where),
        next_task=_str(data, "next_task", where, ""),
        next_title=_str(data, "next_title", where, ""),
        starter_message=_str(data, "starter_message", where, f"Starter of task {task_id}"),
        solution=_relative(_str(solution, "dir", where, SOLUTION_DIR), "solution.dir", where),
        commit_message=_str(solution, "commit_message", where, ""),
        solution_variants=_variants(solution, where),
        solution_remove=tuple(
            _relative(rel, "solution.remove", where) for rel in _strings(solution, "remove", where)
        ),
        areas=tuple(areas),
        next_steps=_strings(data, "next_steps", where),
        generate=_generate(data, where),
        images=tuple(images),
        **files,
    )


# -- the task a practice repository was made for ------------------------------------------------------

RECORDED_TASK_FILE = ".fluxlab/task.json"
"""Written and committed by `lab init DIR --task ID`: inside that repository every command (and the app)
works on ID without --task. Committed rather than personal, so a clone or a grader's checkout knows it too."""


def render_recorded_task(task_id: str) -> str:
    import json

    return json.dumps({"task": task_id}, indent=2) + "\n"


def parse_recorded_task(text: str, where: str) -> str:
    """The task id in a repository's `.fluxlab/task.json`; a one-line LabError naming the file (and
    line) when it is not `{"task": "<id>"}`."""
    hint = 'it holds {"task": "<task id>"} (`lab tasks` lists the ids); or pass --task ID'
    try:
        data = jsontext.loads(text)
    except json.JSONDecodeError as err:
        raise LabError(
            f"invalid JSON: {jsontext.error_text(err)}", file=where, line=err.lineno, hint=hint
        ) from None
    task = data.get("task") if isinstance(data, dict) else None
    if not isinstance(task, str) or not task.strip():
        raise LabError("does not name a task", file=where, field="task", hint=hint)
    return task.strip()
