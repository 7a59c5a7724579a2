"""Use case: grade a workspace against a task's checks. The CLI and the TUI both call `run_checks`."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path

from lab import __version__
from lab.core.checks import runner
from lab.core.checks.model import CheckDef, CheckResult, Report
from lab.errors import LabError, UsageError

DEFAULT_WATCH_TIMEOUT_S = 300.0


def excluded_kinds(*, offline: bool, tags_file: Path | None) -> frozenset[str]:
    """Offline mode leaves out the cluster, and the registry unless a tags file stands in for it."""
    if not offline:
        return frozenset()
    return frozenset({"cluster"} if tags_file is not None else {"cluster", "registry"})


def run_checks(
    workspace: Path,
    *,
    task: str = "09b",
    offline: bool = False,
    only: Iterable[str] | None = None,
    tags_file: Path | None = None,
    watch: bool = False,
    watch_timeout_s: float = DEFAULT_WATCH_TIMEOUT_S,
    on_round: Callable[[tuple[CheckResult, ...]], None] | None = None,
    max_workers: int = 4,
) -> Report:
    """Run the task's checks on `workspace` and return the report (never raises for a failing check).

    Raises LabError for an unusable workspace or tags file, UsageError for an unknown check id.
    """
    from lab.checks import implementations
    from lab.checks.context import CheckContext
    from lab.checks.loader import load_task_checks

    if not workspace.is_dir():
        raise LabError(f"workspace {workspace} is not a directory", hint="pass your gitops repository")
    if tags_file is not None and not tags_file.is_file():
        raise UsageError(f"tags file {tags_file} not found", hint="one tag per line, as `lab tags` writes")
    spec = load_task_checks(task)
    try:
        defs = runner.select(spec.defs, list(only) if only else None)
    except runner.DefinitionError as err:
        raise UsageError(str(err), hint="see `lab check --format json` for every id") from None
    ctx = CheckContext(
        workspace=workspace,
        task=spec.task,
        offline=offline,
        tags_file=tags_file.resolve() if tags_file else None,
        settings=dict(spec.settings),
    )
    impls = implementations()
    excluded = excluded_kinds(offline=offline, tags_file=tags_file)
    reraise = bool(os.environ.get("LAB_DEBUG"))
    started_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    start = time.monotonic()
    try:
        results = _run(defs, impls, ctx, excluded, watch, watch_timeout_s, on_round, max_workers, reraise)
    finally:
        ctx.close()
    return Report(
        task=spec.task,
        checks=results,
        started_at=started_at,
        duration_s=time.monotonic() - start,
        tool_name="fluxlab",
        tool_version=__version__,
    )


def _run(
    defs: tuple[CheckDef, ...],
    impls: Mapping[str, runner.CheckFn],
    ctx: object,
    excluded: frozenset[str],
    watch: bool,
    watch_timeout_s: float,
    on_round: Callable[[tuple[CheckResult, ...]], None] | None,
    max_workers: int,
    reraise: bool,
) -> tuple[CheckResult, ...]:
    if watch:
        return runner.watch(
            defs,
            impls,
            ctx,
            timeout_s=watch_timeout_s,
            excluded_kinds=excluded,
            max_workers=max_workers,
            on_round=on_round,
            reraise=reraise,
        )
    return runner.run(defs, impls, ctx, excluded_kinds=excluded, max_workers=max_workers, reraise=reraise)
