"""Use case: grade a workspace against a task's checks. The CLI and the TUI both call `run_checks`."""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from lab import __version__
from lab.core.checks import runner
from lab.core.checks.model import LIVE_KINDS, CheckResult, Report, Status, graded_title
from lab.core.record import dataclass
from lab.errors import LabError, UsageError

if TYPE_CHECKING:
    from lab.checks.context import CheckContext
    from lab.checks.loader import TaskChecks
    from lab.services.sync import OriginStatus

DEFAULT_WATCH_TIMEOUT_S = 300.0


def is_progress(result: CheckResult) -> bool:
    """The check of the task's PROGRESS.md row: the one of kind `progress`, whatever the task calls it
    (its id belongs to the task)."""
    return result.kind == "progress"


def off_branch_note(git: OriginStatus | None, graded: str) -> str:
    """What a report graded on origin/`graded` leaves out when the learner is on another branch (a
    feature branch they pushed): "" on `graded` itself, detached or with no state. The checks read
    `graded`, Flux deploys `git.watched`; what they pushed elsewhere is neither until merged."""
    from lab.adapters.git import count_commits

    if git is None or git.branch is None or git.branch == graded:
        return ""
    branch = git.branch
    if git.watched != graded:
        return f"The checks grade origin/{graded} and Flux deploys {git.watched}; you are on {branch}."
    if not git.unmerged:
        return (
            f"The checks grade origin/{graded}, which Flux deploys; you are on {branch}, "
            f"which has nothing {graded} lacks."
        )
    n = len(git.unmerged)
    return (
        f"The checks grade origin/{graded}, which Flux deploys, not {branch}: its "
        f"{count_commits(n)} {graded} lacks {'is' if n == 1 else 'are'} neither graded nor deployed "
        f"until merged - git switch {graded} && git merge {branch}, then p."
    )


def excluded_kinds(*, offline: bool, tags_file: Path | None) -> frozenset[str]:
    """Offline mode leaves out the cluster, and the registry unless a tags file stands in for it."""
    if not offline:
        return frozenset()
    return frozenset({"cluster"} if tags_file is not None else {"cluster", "registry"})


def run_checks(
    workspace: Path,
    *,
    task: str | None = None,
    offline: bool = False,
    only: Iterable[str] | None = None,
    tags_file: Path | None = None,
    watch: bool = False,
    watch_timeout_s: float = DEFAULT_WATCH_TIMEOUT_S,
    on_round: Callable[[tuple[CheckResult, ...]], None] | None = None,
    max_workers: int = 4,
    update_progress: bool = False,
    on_result: Callable[[CheckResult], None] | None = None,
    branch: str | None = None,
    context: CheckContext | None = None,
) -> Report:
    """Run the task's checks on `workspace` and return the report (never raises for a failing check).

    `context`: the run's context, made by `check_context` for the same workspace and task, when the
    caller reads what the run computed (the push check: the validation of the whole repository).

    `branch`: origin's branch the checks read (default: the task's `branch`, else main); `lab grade`
    passes the branch it graded, so the files and `git.pushed` come from one branch.

    `update_progress`: once every other check passes (offline-excluded ones aside), mark the task's
    PROGRESS.md row done with the task's note, then re-check `progress.updated`; `Report.extra`
    gets `progress_updated` = the file written.

    Raises LabError for an unusable workspace or tags file, UsageError for an unknown check id.
    """
    from lab.checks.context import graded_branch
    from lab.checks.loader import load_task_checks

    if not workspace.is_dir():
        raise LabError(f"workspace {workspace} is not a directory", hint="pass your gitops repository")
    if tags_file is not None:
        from lab.adapters.tagsfile import require_tags_file

        require_tags_file(tags_file)
    from lab.adapters.tasks import task_for_workspace

    spec = load_task_checks(task_for_workspace(workspace, task))
    try:
        defs = runner.select(spec.defs, list(only) if only else None)
    except runner.DefinitionError as err:
        raise UsageError(str(err), hint="see `lab check --format json` for every id") from None
    ctx = context or check_context(workspace, spec, offline=offline, tags_file=tags_file, branch=branch)
    excluded = excluded_kinds(offline=offline, tags_file=tags_file)
    if "registry" not in excluded and any(d.kind == "registry" for d in defs):
        from lab.checks.registry import scan_seconds

        scan_seconds()  # a bad LAB_REGISTRY_TIMEOUT stops the run, not each registry check
    # Offline, the registry checks that can grade on the task's bundled tags still run (an author proves
    # a task with `lab check --offline`: its expected pick must be graded there).
    runs_offline = spec.runs_offline() if "registry" in excluded else frozenset()
    try:
        # Checks of an excluded kind are never called: their modules (cluster client...) need not load.
        ids = [d.id for d in defs if d.kind not in excluded or d.id in runs_offline]
        # Threads help checks that wait on a registry or a cluster; the others hold the GIL (git runs
        # in its own process, started by `prefetch`), and four of them contending for it cost ~10 ms
        # of a 120 ms `lab check --offline` over one thread.
        if not any(d.kind in LIVE_KINDS and d.kind not in excluded for d in defs):
            max_workers = 1
        # git answers what the checks will ask it first on another core while their modules load.
        spec.prefetch(ctx, ids)
        impls = spec.implementations(ids)
        reraise = bool(os.environ.get("LAB_DEBUG"))
        started_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        start = time.monotonic()
        run = functools.partial(
            runner.run, defs, impls, ctx, excluded_kinds=excluded, runs_offline=runs_offline, reraise=reraise
        )
        if watch:
            results = runner.watch(
                defs,
                impls,
                ctx,
                timeout_s=watch_timeout_s,
                excluded_kinds=excluded,
                runs_offline=runs_offline,
                max_workers=max_workers,
                on_round=on_round,
                reraise=reraise,
            )
        else:
            results = run(max_workers=max_workers, on_result=on_result)
        extra: dict[str, str] = {}
        if update_progress and ready_for_progress(results):
            from lab.adapters.tasks import load_task
            from lab.services.progress import mark_task_done

            done = mark_task_done(workspace, load_task(spec.task).meta)
            if done.written:
                extra["progress_updated"] = str(done.path)
            keep = {r.id: r for r in results if not is_progress(r)}
            results = run(keep=keep)
        graded = graded_branch(ctx)
        results = tuple(replace(r, title=graded_title(r.title, graded)) for r in results)
    finally:
        ctx.close()
    return Report(
        task=spec.task,
        checks=results,
        started_at=started_at,
        duration_s=time.monotonic() - start,
        tool_name="fluxlab",
        tool_version=__version__,
        extra=extra,
        graded=graded,
    )


def run_ci_checks(
    workspace: Path,
    *,
    task: str | None = None,
    offline: bool = False,
    only: Iterable[str] | None = None,
    tags_file: Path | None = None,
) -> tuple[Report, CiNote]:
    """A CI run's checks (GitHub Actions, Classroom) and what it says of the commit it graded.

    Flux deploys only the branch its GitRepository follows, and `lab grade` grades that branch of
    origin: a run on any other commit (a pushed feature branch, a dispatch on one) grades the commit
    origin's graded branch has, checked out beside the checkout, so CI never awards points for
    unmerged work. Which branch that is comes from origin's bootstrap branch, not from the branch the
    run is on. The note says which commit was graded: none when the checkout is that commit; a warning
    when git could not give the run origin's commit (a shallow clone, an unwritable .git) and the
    checkout was graded. A learner's own `lab check` reads their working tree: feedback before a push."""
    from lab.adapters.git import open_workspace
    from lab.adapters.scratch import scratch_dir
    from lab.adapters.tasks import task_for_workspace
    from lab.checks.loader import load_task_checks

    def run(where: Path, branch: str | None = None) -> Report:
        return run_checks(where, task=task_id, offline=offline, only=only, tags_file=tags_file, branch=branch)

    task_id = task
    try:
        task_id = task_for_workspace(workspace, task)
        spec = load_task_checks(task_id)
        graded = _graded_in(workspace, spec)
        ws = open_workspace(workspace)
        head, on, bootstrap_tip = ws.rev_parse("HEAD"), ws.branch(), ws.remote_sha(BOOTSTRAP_BRANCH)
    except LabError:
        return run(workspace), CiNote()  # no repository, no origin: the checks say what is wrong
    where_on = on or (f"commit {head[:7]}" if head else "no commit")

    def fallback(why: str) -> tuple[Report, CiNote]:
        return run(workspace), CiNote(
            f"graded {where_on}, not origin/{graded}: {why}; work on {where_on} counts once merged into "
            f"{graded}, the branch Flux deploys and lab grade grades",
            warning=True,
        )

    with scratch_dir("lab-ci") as tmp:
        where = tmp / "graded"
        at: str | None = None  # the commit checked out at `where`
        try:
            try:
                if on != BOOTSTRAP_BRANCH and bootstrap_tip is not None and head != bootstrap_tip:
                    # Flux follows what the branch it deploys says, not what an unmerged branch says
                    # of itself (a feature branch whose gotk-sync.yaml names the feature branch): read
                    # the followed branch from origin's bootstrap branch, as lab grade reads origin's.
                    ws.add_detached_worktree(where, bootstrap_tip)
                    at = bootstrap_tip
                    graded = _graded_in(where, spec)
                tip = ws.remote_sha(graded)
                if head == tip or on == graded:
                    # The graded branch itself (a push to it; a learner's own run on it): its files.
                    return run(workspace), CiNote()
                if tip is None:
                    return fallback(
                        f"this checkout has no origin/{graded} (a shallow clone? actions/checkout needs "
                        "fetch-depth: 0)"
                    )
                if at != tip:
                    if at is not None:
                        ws.remove_worktree(where)
                    ws.add_detached_worktree(where, tip)
                    at = tip
            except LabError as err:  # only git's: grading origin's commit below is graded as it is
                return fallback(err.message)
            report = run(where, graded)
        finally:
            if at is not None or where.exists():
                ws.remove_worktree(where)
    return report, CiNote(
        f"graded origin/{graded} ({tip[:7]}), the branch Flux deploys and lab grade grades, not "
        f"{where_on}: work on {where_on} counts once merged into {graded} and pushed",
        title=f"Graded origin/{graded}",
    )


#: The branch `flux bootstrap` (and the practice repositories) deploy first: a CI run reads from it
#: which branch Flux follows, as `lab grade` reads origin's default branch.
BOOTSTRAP_BRANCH = "main"


def _graded_in(root: Path, spec: TaskChecks) -> str:
    """The branch the checks grade, as the files at `root` say (`graded_branch`)."""
    from lab.checks.context import graded_branch

    ctx = check_context(root, spec, offline=True)
    try:
        return graded_branch(ctx)
    finally:
        ctx.close()


@dataclass(frozen=True)
class CiNote:
    """What a CI run says of the commit it graded: nothing when it graded the checkout as it is; a
    notice when it graded origin's graded branch instead; a warning when it could not and graded the
    checkout."""

    text: str = ""
    title: str = ""
    warning: bool = False


def check_context(
    workspace: Path,
    spec: TaskChecks,
    *,
    offline: bool = False,
    tags_file: Path | None = None,
    branch: str | None = None,
    whole_repository: bool = False,
) -> CheckContext:
    """The context of one run of `spec`'s checks on `workspace` (see `CheckContext`)."""
    from lab.checks.context import CheckContext

    def sandbox_pushed() -> dict[str, tuple[str, ...]]:
        from lab.sandbox.layout import workspace_pushed_tags

        return workspace_pushed_tags(workspace)

    return CheckContext(
        workspace=workspace,
        task=spec.task,
        offline=offline,
        tags_file=tags_file.resolve() if tags_file else None,
        settings={**spec.settings, **({"branch": branch} if branch else {})},
        params=dict(spec.params),
        whole_repository=whole_repository,
        sandbox_pushed=sandbox_pushed,
    )


def ready_for_progress(results: tuple[CheckResult, ...]) -> bool:
    """Every check but the progress row passed (or was left out by a mode) and the row is not done (a
    task without a progress check: every check passed)."""
    if any(is_progress(r) and r.status is Status.PASS for r in results):
        return False
    return all(r.status is Status.PASS or r.excluded for r in results if not is_progress(r))
