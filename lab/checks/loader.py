"""Read `tasks/<task>/checks.toml`: the check definitions as data, and which function runs each.

title = "..."
[params]                      # the task's parameters, seen by every check of the task
automation_files = ["clusters/dev/image-automation/image-repository.yaml", ...]

[[check]]
id = "repo.files"             # the check's id in this task's reports (unique within the task)
run = "repo.files"            # the check function: the task's checks.py first, then the library
title = "..."                 # title, points, kind, depends_on, hint, hidden: the report's data
[check.params]                # optional: parameters of this check only, over [params]
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import field
from typing import TYPE_CHECKING, Any, cast

from lab.core.checks.model import CHECK_KINDS, CheckDef, CheckKind
from lab.core.checks.runner import DefinitionError, validate_defs
from lab.core.record import dataclass
from lab.errors import LabError

if TYPE_CHECKING:
    from lab.checks.context import CheckContext
    from lab.core.checks.model import Outcome


@dataclass(frozen=True)
class TaskChecks:
    task: str
    title: str
    defs: tuple[CheckDef, ...]
    settings: dict[str, Any]
    params: dict[str, Any] = field(default_factory=dict)
    runs: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    """check id -> (check function name, the check's own params)."""
    module: Any = None
    """The task's checks.py (a Path), when it has one."""

    def implementations(
        self, ids: Collection[str] | None = None
    ) -> dict[str, Callable[[CheckContext], Outcome]]:
        """check id -> the function its `run` names, called with the check's params; ids whose `run`
        names nothing are left out (the runner reports them as errors). With `ids`, only those checks
        (the ones a run may call: only their library modules are imported)."""
        from lab.checks import implementations, task_implementations

        own = task_implementations(self.module) if self.module is not None else {}
        runs = {k: v for k, v in self.runs.items() if ids is None or k in ids}
        library = implementations(
            None if ids is None else [name for name, _ in runs.values() if name not in own]
        )
        bound: dict[str, Callable[[CheckContext], Outcome]] = {}
        for check_id, (name, params) in runs.items():
            fn = own.get(name) or library.get(name)
            if fn is not None:
                bound[check_id] = _bind(fn, params)
        return bound

    def runs_offline(self) -> frozenset[str]:
        """The ids whose `run` is a library function that grades on the task's bundled tags offline
        (`lab.checks.BUNDLED_OFFLINE`); a task's own checks.py function of that name is not one."""
        from lab.checks import BUNDLED_OFFLINE, task_implementations

        own = task_implementations(self.module) if self.module is not None else {}
        return frozenset(
            k for k, (name, _) in self.runs.items() if name in BUNDLED_OFFLINE and name not in own
        )

    def prefetch(self, ctx: CheckContext, ids: Collection[str]) -> None:
        """Start in the background what the checks `ids` read first (`lab.checks.prefetch`), before
        `implementations(ids)` loads their modules. Only for library functions the task does not override."""
        from lab.checks import prefetch, task_implementations

        own = task_implementations(self.module) if self.module is not None else {}
        prefetch(
            ctx, [(name, params) for k, (name, params) in self.runs.items() if k in ids and name not in own]
        )


def _bind(fn: Callable[..., Outcome], params: Mapping[str, Any]) -> Callable[[CheckContext], Outcome]:
    def run(ctx: CheckContext) -> Outcome:
        return fn(ctx.with_params(params))

    run.__name__ = getattr(fn, "__name__", "check")
    return run


#: The keys a [[check]] and [dev] may hold, for `lab dev check` to name a misspelt one.
CHECK_KEYS = frozenset({"id", "run", "title", "points", "kind", "depends_on", "hint", "hidden", "params"})
DEV_KEYS = frozenset({"starter_passes"})
#: checks.toml's top-level keys: the checks and their data, and the settings the library reads (`branch`
#: graded, `served_versions` of the image API, `kubeconfig`/`kube_context` of the cluster checks).
CHECKS_TOML_KEYS = frozenset(
    {"title", "params", "check", "dev", "exercise", "branch", "served_versions", "kubeconfig", "kube_context"}
)
#: The task's paths, in `[params]` or a check's `[check.params]`: every library check may read them
#: (lab.checks.context); a check function's parameters of its own are declared by `@check(name, params=)`.
TASK_PARAMS = frozenset({"automation_files", "automation_dir", "deployment", "sync_file", "task_files"})
#: The `[exercise]` table the exercise checks read (lab/checks/exercises.py); besides these keys, the
#: guards' tables, each named by a guard check's `[check.params] guard`.
EXERCISE_KEYS = frozenset({"cosign_tags", "next_tags", "rounds", "production", "staging"})
GUARD_KEYS = frozenset({"policy", "path", "expect", "traps", "good", "hint"})


REQUIRED_CHECK_KEYS = ("id", "title", "points")


def _lacking(raw: dict[str, Any], where: str, number: int, missing: list[str]) -> LabError:
    """A [[check]] without a key it needs, said as `lab dev check` says a misspelt optional key: the
    file and line, the check, and the written key the missing one probably is (`pionts` for points)."""
    from pathlib import Path

    from lab.core.tasks import key_line, unknown_keys
    from lab.core.text import closest

    written = unknown_keys(raw, CHECK_KEYS)
    typo = next(((w, m) for w in written if (m := closest(w, missing)) is not None), None)
    try:
        text = Path(where).read_text(encoding="utf-8")
    except OSError:
        text = ""
    anchor = typo[0] if typo else next(iter(raw), "")
    line = key_line(text, "check", anchor, number) if anchor else None
    label = f"[[check]] {raw.get('id', number + 1)}"
    needs = f"a check needs {', '.join(REQUIRED_CHECK_KEYS)}"
    if typo:
        message = f"{label}: unknown key {typo[0]!r}, did you mean {typo[1]!r}? ({needs})"
    else:
        message = f"{label}: no {' and no '.join(missing)} ({needs})"
    return LabError(message, file=where, line=line)


def _def(raw: dict[str, Any], where: str, number: int = 0) -> CheckDef:
    missing = [k for k in REQUIRED_CHECK_KEYS if k not in raw]
    if missing:
        raise _lacking(raw, where, number, missing)
    kind = raw.get("kind", "repo")
    if kind not in CHECK_KINDS:
        raise LabError(f"check {raw['id']} has unknown kind {kind}", file=where, hint=", ".join(CHECK_KINDS))
    points = raw["points"]
    if not isinstance(points, int) or isinstance(points, bool):
        raise LabError(f"check {raw['id']}: points must be a whole number, not {points!r}", file=where)
    depends = raw.get("depends_on", [])
    if not isinstance(depends, list) or not all(isinstance(d, str) for d in depends):
        raise LabError(f"check {raw['id']}: depends_on must be a list of check ids", file=where)
    return CheckDef(
        id=str(raw["id"]),
        title=str(raw["title"]),
        points=points,
        depends_on=tuple(depends),
        kind=cast(CheckKind, kind),
        hint=str(raw.get("hint", "")),
        hidden=bool(raw.get("hidden", False)),
    )


TASK_FACTS = ("progress_row", "progress_note", "quiz_record", "generate")


def load_task_checks(task: str | None = None) -> TaskChecks:
    """`tasks/<task>/checks.toml` (default: the course's current task), with the task's own facts
    (PROGRESS.md row and note, quiz record, the generator's `[generate]`) from its task.toml as settings."""
    from lab.adapters.tasks import default_task_id, read_task_meta, read_task_toml, task_folder
    from lab.core.tasks import CHECKS_FILE, CHECKS_MODULE, TASK_FILE

    task_id = task or default_task_id()
    folder = task_folder(task_id)
    meta = read_task_meta(folder / TASK_FILE)
    path = folder / CHECKS_FILE
    if not path.is_file():
        raise LabError(
            f"no check definitions for task {task_id}",
            file=str(path),
            hint="every task folder needs a checks.toml (see CONTRIBUTING.md)",
        )
    data = read_task_toml(path)
    defs = tuple(_def(raw, str(path), n) for n, raw in enumerate(data.get("check", [])))
    try:
        validate_defs(defs)
    except DefinitionError as err:
        raise LabError(str(err), file=str(path)) from None
    params = data.get("params", {})
    if not isinstance(params, dict):
        raise LabError("[params] must be a table", file=str(path), field="params")
    runs: dict[str, tuple[str, dict[str, Any]]] = {}
    for raw in data.get("check", []):
        run, own = raw.get("run", raw.get("id")), raw.get("params", {})
        if not isinstance(run, str) or not isinstance(own, dict):
            raise LabError(
                f"check {raw.get('id')}: run must name a check function and params be a table", file=str(path)
            )
        runs[str(raw["id"])] = (run, own)
    facts = {k: getattr(meta, k) for k in TASK_FACTS}
    settings = {**facts, **{k: v for k, v in data.items() if k not in ("check", "params")}}
    module = folder / CHECKS_MODULE
    return TaskChecks(
        task=meta.id,
        title=str(data.get("title", meta.title)),
        defs=defs,
        settings=settings,
        params=dict(params),
        runs=runs,
        module=module if module.is_file() else None,
    )
