"""Read `tasks/<task>/checks.toml`: the check definitions as data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from lab.core.checks.model import CHECK_KINDS, CheckDef, CheckKind
from lab.core.checks.runner import DefinitionError, validate_defs
from lab.errors import LabError


@dataclass(frozen=True)
class TaskChecks:
    task: str
    title: str
    defs: tuple[CheckDef, ...]
    settings: dict[str, Any]


def _def(raw: dict[str, Any], where: str) -> CheckDef:
    missing = [k for k in ("id", "title", "points") if k not in raw]
    if missing:
        raise LabError(f"a check lacks {', '.join(missing)}", file=where)
    kind = raw.get("kind", "repo")
    if kind not in CHECK_KINDS:
        raise LabError(f"check {raw['id']} has unknown kind {kind}", file=where, hint=", ".join(CHECK_KINDS))
    return CheckDef(
        id=str(raw["id"]),
        title=str(raw["title"]),
        points=int(raw["points"]),
        depends_on=tuple(str(d) for d in raw.get("depends_on", ())),
        kind=cast(CheckKind, kind),
        hint=str(raw.get("hint", "")),
        hidden=bool(raw.get("hidden", False)),
    )


TASK_FACTS = ("progress_row", "progress_note", "quiz_record")


def load_task_checks(task: str | None = None) -> TaskChecks:
    """`tasks/<task>/checks.toml` (default: the course's current task), with the task's own facts
    (PROGRESS.md row and note, quiz record) from its task.toml as settings."""
    from lab.adapters.tasks import default_task_id, read_task_file, task_folder
    from lab.core.tasks import CHECKS_FILE, TASK_FILE, load_toml, parse_task_meta

    task_id = task or default_task_id()
    folder = task_folder(task_id)
    meta = parse_task_meta(read_task_file(folder / TASK_FILE), str(folder / TASK_FILE))
    path = folder / CHECKS_FILE
    if not path.is_file():
        raise LabError(
            f"no check definitions for task {task_id}",
            file=str(path),
            hint="every task folder needs a checks.toml (see CONTRIBUTING.md)",
        )
    data = load_toml(read_task_file(path), str(path))
    defs = tuple(_def(raw, str(path)) for raw in data.get("check", []))
    try:
        validate_defs(defs)
    except DefinitionError as err:
        raise LabError(str(err), file=str(path)) from None
    facts = {k: getattr(meta, k) for k in TASK_FACTS}
    settings = {**facts, **{k: v for k, v in data.items() if k != "check"}}
    return TaskChecks(task=meta.id, title=str(data.get("title", meta.title)), defs=defs, settings=settings)
