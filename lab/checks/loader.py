"""Read `checks/<task>.toml`: the check definitions as data."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from lab.core.checks.model import CHECK_KINDS, CheckDef, CheckKind
from lab.core.checks.runner import DefinitionError, validate_defs
from lab.errors import LabError
from lab.resources import data_dir


def checks_dir() -> Path:
    """`checks/` next to the lab package (the repository root in a source or editable install)."""
    return data_dir("checks")


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


def _task_facts(task: str) -> dict[str, Any]:
    """What the checks need from the task's own data (tasks/<task>/task.toml), when there is one."""
    path = data_dir("tasks") / task / "task.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as err:
        raise LabError(f"invalid TOML: {err}", file=str(path)) from None
    return {k: data[k] for k in TASK_FACTS if k in data}


def load_task_checks(task: str, *, root: Path | None = None) -> TaskChecks:
    folder = root or checks_dir()
    path = folder / f"{task}.toml"
    if not path.is_file():
        known = sorted(p.stem for p in folder.glob("*.toml"))
        raise LabError(
            f"no check definitions for task {task}",
            file=str(path),
            hint=f"known tasks: {', '.join(known) or 'none'}",
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise LabError(f"invalid TOML: {err}", file=str(path)) from None
    defs = tuple(_def(raw, str(path)) for raw in data.get("check", []))
    try:
        validate_defs(defs)
    except DefinitionError as err:
        raise LabError(str(err), file=str(path)) from None
    settings = {**_task_facts(str(data.get("task", task))), **{k: v for k, v in data.items() if k != "check"}}
    return TaskChecks(
        task=str(data.get("task", task)), title=str(data.get("title", "")), defs=defs, settings=settings
    )
