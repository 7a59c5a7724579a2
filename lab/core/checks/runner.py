"""Run check callables as a DAG: concurrently where independent, never raising.

The runner performs no I/O itself: implementations are handed in as a mapping `id -> fn(ctx) -> Outcome`
and the context is opaque to it. Rules (docs/formats.md):
- a prerequisite that is not `pass` makes its dependents `skipped` with `blocked_by` = the root cause;
- a LabError (phrased for the learner) fails the check with its file:line and hint, or is `error`
  when it is about the environment (registry, cluster, git); any other exception is `error` with
  the exception class in the evidence (a bug in the lab);
- kinds excluded by a mode (`--offline`) are `skipped` without `blocked_by` and leave `max_score`,
  but for the ids the mode still runs (`runs_offline`: checks that grade on data the lab has offline);
- an id without an implementation is `error` "no implementation for check X" (nothing is faked).
"""

from __future__ import annotations

import functools
import threading
import time

# queue.SimpleQueue is this C class; the queue module around it (heapq, three Python queue classes) is
# ~0.5% of `lab check --offline`'s start-up, for nothing the runner uses.
from _queue import SimpleQueue
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any, TypeVar

from lab.core.checks.model import (
    LIVE_KINDS,
    MESSAGE_LIMIT,
    OFFLINE_REASON,
    CheckDef,
    CheckResult,
    Evidence,
    Outcome,
    Status,
    clean_text,
    one_line,
)
from lab.errors import ClusterError, GitError, LabError, RegistryError, TaskDataError

C = TypeVar("C")
CheckFn = Callable[[Any], Outcome]
Clock = Callable[[], float]

BUG_HINT = "this is a bug in fluxlab, not in your repository: rerun with LAB_DEBUG=1 and report it"


class DefinitionError(ValueError):
    """Check definitions that cannot be run: duplicate ids, unknown prerequisites, a cycle."""


class Concluded(Exception):
    """Raised by a helper that already knows the check's answer (nothing pushed, no automation to read),
    so that the check need not pass it back up by hand: the runner reports `outcome` as if the check
    had returned it."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.message)
        self.outcome = outcome


def validate_defs(defs: Sequence[CheckDef]) -> None:
    ids: set[str] = set()
    for d in defs:
        if d.id in ids:
            raise DefinitionError(f"check {d.id} is defined twice")
        if d.points < 0:
            raise DefinitionError(f"check {d.id} has negative points")
        ids.add(d.id)
    for d in defs:
        for dep in d.depends_on:
            if dep not in ids:
                raise DefinitionError(f"check {d.id} depends on unknown check {dep}")
    by_id = {d.id: d for d in defs}
    state: dict[str, int] = {}  # 1 = on the current path, 2 = finished

    def visit(node: str, path: list[str]) -> None:
        if state.get(node) == 2:
            return
        if state.get(node) == 1:
            cycle = [*path[path.index(node) :], node]
            raise DefinitionError("checks depend on each other in a cycle: " + " -> ".join(cycle))
        state[node] = 1
        for dep in by_id[node].depends_on:
            visit(dep, [*path, node])
        state[node] = 2

    for d in defs:
        visit(d.id, [])


def select(defs: Sequence[CheckDef], only: Iterable[str] | None) -> tuple[CheckDef, ...]:
    """The checks named in `only` plus everything they depend on, in declared order."""
    if only is None:
        return tuple(defs)
    by_id = {d.id: d for d in defs}
    wanted: set[str] = set()
    stack = list(only)
    unknown = [i for i in stack if i not in by_id]
    if unknown:
        raise DefinitionError(f"unknown check id {unknown[0]}; known: {', '.join(by_id)}")
    while stack:
        cid = stack.pop()
        if cid not in wanted:
            wanted.add(cid)
            stack.extend(by_id[cid].depends_on)
    return tuple(d for d in defs if d.id in wanted)


def dependents(defs: Sequence[CheckDef], roots: Collection[str]) -> set[str]:
    """Every check that depends on one of `roots`, directly or transitively."""
    found: set[str] = set()
    changed = True
    while changed:
        changed = False
        for d in defs:
            if d.id not in found and any(dep in roots or dep in found for dep in d.depends_on):
                found.add(d.id)
                changed = True
    return found


def _result(d: CheckDef, status: Status, message: str, **kw: Any) -> CheckResult:
    if "hint" in kw:
        kw["hint"] = one_line(kw["hint"], 500)
    if "evidence" in kw:
        kw["evidence"] = tuple(
            Evidence(one_line(e.kind, 40), one_line(e.ref, 300), clean_text(e.text)[:2000])
            for e in kw["evidence"]
        )
    return CheckResult(
        id=d.id,
        title=d.title,
        status=status,
        points=0,
        max_points=d.points,
        message=one_line(message, MESSAGE_LIMIT),
        depends_on=d.depends_on,
        kind=d.kind,
        hidden=d.hidden,
        **kw,
    )


def _decide_without_running(
    d: CheckDef,
    done: Mapping[str, CheckResult],
    excluded_kinds: Collection[str],
    impls: Mapping[str, CheckFn],
    runs_offline: Collection[str] = frozenset(),
) -> CheckResult | None:
    if d.kind in excluded_kinds and d.id not in runs_offline:
        return _result(
            d,
            Status.SKIPPED,
            f"{OFFLINE_REASON}: {d.kind} checks are not run in offline mode",
            hint=f"run `lab check` without --offline to check the {d.kind}",
        )
    prereqs = [done[dep] for dep in d.depends_on]
    blocked = [r for r in prereqs if r.status is not Status.PASS and not r.excluded]
    if blocked:
        root = blocked[0].blocked_by or blocked[0].id
        return _result(
            d,
            Status.SKIPPED,
            f"blocked by {root}: not checked until it passes",
            hint=f"fix {root} first",
            blocked_by=root,
        )
    excluded = [r for r in prereqs if r.excluded]
    if excluded:
        first = excluded[0]
        if not first.message.startswith(OFFLINE_REASON):
            # Left out for another reason (e.g. a cluster that syncs another repository): say that one.
            return _result(d, Status.SKIPPED, f"left out with {first.id}: {first.message}", hint=first.hint)
        return _result(
            d,
            Status.SKIPPED,
            f"{OFFLINE_REASON}: needs {first.id}, which offline mode does not run",
            hint="run `lab check` without --offline",
        )
    if d.id not in impls:
        return _result(d, Status.ERROR, f"no implementation for check {d.id}", hint=BUG_HINT)
    return None


def _call(d: CheckDef, fn: CheckFn, ctx: Any, clock: Clock, reraise: bool) -> CheckResult:
    start = clock()
    try:
        outcome = fn(ctx)
        if not isinstance(outcome, Outcome):
            raise TypeError(f"check returned {type(outcome).__name__}, not an Outcome")
    except Concluded as answer:
        outcome = answer.outcome
    except LabError as exc:
        # A LabError is phrased for the learner (a file that does not parse, a registry that cannot be
        # reached): it is the check's answer, not a bug. Input problems fail the check with file:line;
        # environment problems (registry, cluster, git) mean it could not be checked.
        if reraise:
            raise
        # A task's own data that cannot be used is no answer about the repository either.
        status = (
            Status.ERROR
            if isinstance(exc, RegistryError | ClusterError | GitError | TaskDataError)
            else Status.FAIL
        )
        where = exc.location()
        return _result(
            d,
            status,
            f"{where}: {exc.message}" if where else exc.message,
            hint=exc.hint or d.hint,
            evidence=(Evidence("file", where, one_line(exc.message, 1000)),) if where else (),
            duration_s=clock() - start,
            attempts=1,
            file=exc.file,
            line=exc.line,
        )
    except Exception as exc:
        if reraise:
            raise
        name = f"{type(exc).__module__}.{type(exc).__qualname__}"
        return _result(
            d,
            Status.ERROR,
            f"check crashed: {type(exc).__name__}: {exc}",
            hint=BUG_HINT,
            evidence=(Evidence("exception", name, one_line(str(exc), 1000)),),
            duration_s=clock() - start,
            attempts=1,
        )
    status = outcome.status
    if status is Status.PASS:
        points = d.points
    elif status is Status.FAIL and outcome.points is not None:
        points = min(max(outcome.points, 0), d.points)
    else:
        points = 0
    hint = "" if status is Status.PASS else (outcome.hint if outcome.hint is not None else d.hint)
    return replace(
        _result(d, status, outcome.message, hint=hint, evidence=outcome.evidence),
        points=points,
        file=outcome.file,
        line=outcome.line,
        duration_s=clock() - start,
        attempts=1,
    )


def run(
    defs: Sequence[CheckDef],
    impls: Mapping[str, CheckFn],
    ctx: Any,
    *,
    excluded_kinds: Collection[str] = frozenset(),
    runs_offline: Collection[str] = frozenset(),
    keep: Mapping[str, CheckResult] | None = None,
    max_workers: int = 4,
    clock: Clock = time.perf_counter,
    reraise: bool = False,
    on_result: Callable[[CheckResult], None] | None = None,
) -> tuple[CheckResult, ...]:
    """Run `defs` (already selected) and return one result per definition, in declared order.

    `keep` holds results from an earlier round that stay as they are (used by `watch`).
    `on_result` is called (from the calling thread) as each new result is decided, so a live view
    can show checks as they finish rather than when the whole run ends.
    """

    def settle(d: CheckDef, result: CheckResult) -> None:
        done[d.id] = result
        if on_result is not None:
            on_result(result)

    validate_defs(defs)
    done: dict[str, CheckResult] = {k: v for k, v in (keep or {}).items()}
    waiting = [d for d in defs if d.id not in done]
    running = 0
    with _Pool(max(1, max_workers)) as pool:
        while waiting or running:
            progressed = True
            while progressed:
                progressed = False
                for d in list(waiting):
                    if not all(dep in done for dep in d.depends_on):
                        continue
                    waiting.remove(d)
                    decided = _decide_without_running(d, done, excluded_kinds, impls, runs_offline)
                    if decided is not None:
                        settle(d, decided)
                        progressed = True
                    else:
                        pool.submit(d, functools.partial(_call, d, impls[d.id], ctx, clock, reraise))
                        running += 1
            if not running:
                break
            d, result = pool.next_finished()
            running -= 1
            settle(d, result)
    return tuple(done[d.id] for d in defs)


class _Pool:
    """At most `size` threads running checks (for one, the caller's own); `next_finished()` blocks until
    one is done. (What the runner used of concurrent.futures, without the ~4 ms its import and logging's
    cost at start-up.) Leaving the `with` block waits for every started check, as ThreadPoolExecutor's
    does."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._threads: list[threading.Thread] = []
        self._jobs: SimpleQueue[tuple[CheckDef, Callable[[], CheckResult]] | None] = SimpleQueue()
        self._done: SimpleQueue[tuple[CheckDef, CheckResult | BaseException]] = SimpleQueue()
        self._idle = 0
        self._lock = threading.Lock()

    def __enter__(self) -> _Pool:
        return self

    def __exit__(self, *exc: object) -> None:
        for _ in self._threads:
            self._jobs.put(None)
        for thread in self._threads:
            # Ctrl-C can land in a worker's start(): that thread never ran (or has not yet said so), and
            # join() would raise RuntimeError in place of the KeyboardInterrupt. It takes its None and
            # ends, if it runs at all.
            if thread.is_alive():
                thread.join()

    def submit(self, d: CheckDef, fn: Callable[[], CheckResult]) -> None:
        if self._size == 1:
            # One worker: the calling thread is it. A thread would only take each check and hand it
            # back, two waits for the scheduler per check (on a busy machine, each for a free core).
            self._done.put((d, fn()))
            return
        self._jobs.put((d, fn))
        with self._lock:
            start = self._idle <= 0 and len(self._threads) < self._size
            if not start:
                self._idle -= 1
        if start:
            thread = threading.Thread(target=self._work, name=f"check_{len(self._threads)}", daemon=True)
            self._threads.append(thread)
            thread.start()

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            d, fn = job
            try:
                outcome: CheckResult | BaseException = fn()
            except BaseException as exc:  # handed to the caller, as Future.result() would
                outcome = exc
            with self._lock:
                self._idle += 1
            self._done.put((d, outcome))

    def next_finished(self) -> tuple[CheckDef, CheckResult]:
        d, outcome = self._done.get()
        if isinstance(outcome, BaseException):
            raise outcome
        return d, outcome


def unsettled(results: Iterable[CheckResult]) -> set[str]:
    """Live checks worth another try: the registry or cluster may still be catching up."""
    return {r.id for r in results if r.kind in LIVE_KINDS and r.status in (Status.PENDING, Status.ERROR)}


def watch(
    defs: Sequence[CheckDef],
    impls: Mapping[str, CheckFn],
    ctx: Any,
    *,
    timeout_s: float,
    excluded_kinds: Collection[str] = frozenset(),
    runs_offline: Collection[str] = frozenset(),
    max_workers: int = 4,
    first_delay_s: float = 1.0,
    max_delay_s: float = 15.0,
    sleep: Callable[[float], None] = time.sleep,
    clock: Clock = time.monotonic,
    on_round: Callable[[tuple[CheckResult, ...]], None] | None = None,
    reraise: bool = False,
) -> tuple[CheckResult, ...]:
    """Re-run pending/error registry and cluster checks (and what they block) with exponential backoff
    until they settle or `timeout_s` passes. At the deadline a pending check stays `pending`."""
    deadline = clock() + timeout_s
    results = run(
        defs,
        impls,
        ctx,
        excluded_kinds=excluded_kinds,
        runs_offline=runs_offline,
        max_workers=max_workers,
        reraise=reraise,
    )
    delay = first_delay_s
    while True:
        if on_round is not None:
            on_round(results)
        again = unsettled(results)
        remaining = deadline - clock()
        if not again or remaining <= 0:
            return results
        sleep(min(delay, remaining))
        delay = min(delay * 2, max_delay_s)
        rerun = again | dependents(defs, again)
        previous = {r.id: r for r in results}
        keep = {cid: r for cid, r in previous.items() if cid not in rerun}
        fresh = run(
            defs,
            impls,
            ctx,
            excluded_kinds=excluded_kinds,
            runs_offline=runs_offline,
            keep=keep,
            max_workers=max_workers,
            reraise=reraise,
        )
        results = tuple(
            replace(r, attempts=previous[r.id].attempts + r.attempts) if r.id in rerun else r for r in fresh
        )
