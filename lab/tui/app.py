"""LabApp: modes for each area of the task over one workspace state; every blocking call runs in a worker.

The app owns what the screens share, as reactive attributes: the `session` (workspace, task, cluster),
the workspace `state` (the task's files, git of local and origin, the sandbox), the `checks` (last run
and whether it is stale) and the last `sync` (push) outcome. A watcher worker takes a cheap stat stamp
of the workspace and origin's refs every second; a change starts one refresh worker. Screens watch
these attributes and render from them, so every screen tells the same truth at the same time.
"""

from __future__ import annotations

import importlib
import sys
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import field, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, cast

from textual import on, work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.notifications import Notify
from textual.reactive import reactive
from textual.screen import Screen
from textual.worker import Worker, WorkerState, get_current_worker

from lab.core.record import dataclass
from lab.services.session import Session
from lab.tui import terminal

if TYPE_CHECKING:
    from lab.core.checks.model import CheckDef, CheckResult, Report
    from lab.services.session import WorkspaceState
    from lab.services.sync import PushWorkResult
    from lab.tui.screens.base import LabScreen
    from lab.tui.screens.editor import EditorScreen

#: How often the watcher stats the workspace and origin's refs (a few dozen stat calls).
WATCH_S = 1.0
#: While watching with a cluster, checks still settling there are retried this often.
CLUSTER_RETRY_S = 10.0


#: mode -> its screen's class in lab.tui.screens.<mode>, imported when the area is first shown (start-up
#: imports no screen the learner has not opened).
_SCREENS = {
    "home": "HomeScreen",
    "lesson": "LessonScreen",
    "generate": "GenerateScreen",
    "checks": "ChecksScreen",
    "flux": "FluxScreen",
    "quiz": "QuizScreen",
    "done": "DoneScreen",
}


#: mode name, key, footer label, palette help. The order is the order of the task.
AREAS: tuple[tuple[str, str, str, str], ...] = (
    ("home", "1", "Home", "The course tasks and where the lab works"),
    ("lesson", "2", "Lesson", "The task's text, hints and pitfalls"),
    ("generate", "3", "Generate", "The manifests and the marker"),
    ("checks", "4", "Checks", "Grade the repository, live"),
    ("flux", "5", "Flux", "Push, simulate Flux, the origin log"),
    ("quiz", "6", "Quiz", "The task's quiz"),
    ("done", "7", "Done", "Update PROGRESS.md, then the next task"),
)


def screen_class(mode: str) -> type[Screen[None]]:
    """The screen class of an area, for the palette, the keys list and the app's modes (imports it)."""
    cls: type[Screen[None]] = getattr(importlib.import_module(f"lab.tui.screens.{mode}"), _SCREENS[mode])
    return cls


def _new_screen(mode: str) -> Callable[[], Screen[None]]:
    def new() -> Screen[None]:
        screen = cast("LabScreen", screen_class(mode)())
        # Made now, the screen is styled as it mounts under the app's CSS as it is now: say so. Unmarked,
        # Textual (8.2: App._init_mode, then switch_mode) parses all of the app's CSS again and restyles
        # every widget shown, twice, on the first visit of each area. A theme or CSS change later still
        # restyles it (the app's count moves on).
        screen._css_update_count = screen.app._css_update_count
        # Likewise the ScreenResume events the mode switch sends it: nothing to restyle yet.
        screen.mark_styled()
        # And its size classes (-narrow): Textual adds them at the screen's first Resize, after its
        # widgets are styled without them, and restyles them all. Given now, they are styled once.
        screen.add_class(*_breakpoint_classes(screen), update=False)
        return screen

    return new


def _breakpoint_classes(screen: Screen[None]) -> set[str]:
    """The classes Textual's Screen gives itself at its size (Screen._on_resize), from the same tables."""
    app = screen.app
    horizontal = (
        app.HORIZONTAL_BREAKPOINTS if screen.HORIZONTAL_BREAKPOINTS is None else screen.HORIZONTAL_BREAKPOINTS
    ) or []
    vertical = (
        app.VERTICAL_BREAKPOINTS if screen.VERTICAL_BREAKPOINTS is None else screen.VERTICAL_BREAKPOINTS
    ) or []
    width, height = app.size
    classes = screen._get_breakpoint_classes(width, horizontal)
    return classes | screen._get_breakpoint_classes(height, vertical)


# Seven area keys do not fit an 80-column footer one by one; grouped they read "1234567 Areas".
_AREAS_GROUP = Binding.Group("Areas", compact=True)


@dataclass(frozen=True)
class ChecksState:
    """The last check run: the checks planned, results so far, the report when finished, and the
    workspace stamp it ran against (stale when the workspace changed since)."""

    defs: tuple[CheckDef, ...] = ()
    results: Mapping[str, CheckResult] = field(default_factory=dict)
    report: Report | None = None
    running: bool = False
    stamp: tuple[tuple[str, int, int], ...] | None = None
    error: str | None = None
    mode_text: str = ""
    graded: str = "main"
    """origin's branch the last run graded (its report's `graded`)."""


@dataclass(frozen=True)
class SyncState:
    """The last `p` (commit, sync with origin, push): the commands it ran and how it ended."""

    running: bool = False
    ok: bool = True
    text: str = ""
    """The git commands (`$ ...`) and what happened, for the Origin tab."""
    summary: str = ""
    head: str | None = None
    """Origin's head right after a push that worked: the Origin tab tells later commits (Flux's) from it."""


class LabApp(App[None]):
    """The lab. `session` says which workspace and task; screens read `self.app.session` and watch it.

    `tags_file` stands in for the registry (like `--tags-file`); `workspace_label` replaces the
    workspace path on screen (tests use it so snapshots do not show temporary paths).
    """

    TITLE = "fluxlab"
    # Absolute, so subclasses defined elsewhere (tests, bench) find it too.
    CSS_PATH = Path(__file__).with_name("lab.tcss")
    MODES: ClassVar[dict[str, str | Callable[[], Screen[None]]]] = {
        mode: _new_screen(mode) for mode in _SCREENS
    }
    DEFAULT_MODE = "home"
    # Below 80 columns the screens get `-narrow` (lab.tcss gives the form less room there).
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (80, "-normal")]  # noqa: RUF012 - declared so on App
    BINDINGS: ClassVar[list[BindingType]] = [
        *(
            Binding(key, f"switch_mode('{mode}')", label, id=f"mode-{mode}", group=_AREAS_GROUP)
            for mode, key, label, _ in AREAS
        ),
        Binding("question_mark", "keys", "Keys", key_display="?", id="help"),
        Binding("ctrl+q", "quit", "Quit", priority=True),
    ]

    session: reactive[Session] = reactive(cast("Session", None), init=False, always_update=True)
    state: reactive[WorkspaceState | None] = reactive(None, init=False, always_update=True)
    refreshing: reactive[bool] = reactive(False, init=False)
    checks: reactive[ChecksState] = reactive(ChecksState, init=False, always_update=True)
    sync: reactive[SyncState] = reactive(SyncState, init=False, always_update=True)

    def __init__(
        self,
        session: Session,
        *,
        tags_file: Path | None = None,
        workspace_label: str | None = None,
        start_sandbox: bool = False,
    ) -> None:
        super().__init__()
        terminal.install()
        self.set_reactive(LabApp.session, session)
        # `lab` itself starts the default sandbox when no cluster is configured (issue 6); tests that
        # drive the app in-process leave it off so they spawn no background world.
        self.start_sandbox = start_sandbox
        self.tags_file = tags_file
        self._fixed_label = workspace_label
        self.workspace_label = workspace_label or _home_relative(session.workspace)
        self.watching_checks = False
        # `p` changed what the checks read (Flux's commits brought in, origin moved): the first state
        # read after it (of this tree epoch or later) re-runs a report it leaves out of date, wherever
        # the learner is. A run that ends before that state arrives must not use it up.
        self._checks_after_push: int | None = None
        self._state_epoch = 0
        self.sub_title = self._sub_title()
        self._watch_stop = threading.Event()
        # Bumped as the app's own git command (`p`) starts and ends: a state read that overlapped it
        # may have caught the tree half-written, and the push's end reads it again anyway.
        self._tree_epoch = 0
        #: the task a sandbox reset made in another shell is being followed to (None: none)
        self._following: str | None = None

    def _sub_title(self) -> str:
        session = self.session
        return f"Task {session.task.id} · {session.mode} · {self.workspace_label}"

    @property
    def last_report(self) -> Report | None:
        """The last finished check report (None before the first run)."""
        return self.checks.report

    def on_mount(self) -> None:
        # After the first frame: the state read imports most of the lab in a thread, and the import
        # lock and GIL it holds would hold back the first paint (which needs none of it).
        self.call_after_refresh(self._start)

    def _start(self) -> None:
        from lab.services.session import is_default_sandbox

        self.refresh_state()
        self._watch()
        if is_default_sandbox(self.session) and self.session.kubeconfig is None:
            self._attach_sandbox()

    # --- toasts ----------------------------------------------------------------------------------

    #: At most this many toasts at once: a stack of them hid the Origin tab for a minute.
    MAX_TOASTS = 3

    def on_notify(self, event: Notify) -> None:
        """Runs before Textual shows the toast: the same message again replaces the one shown (a
        watch that fails each round), and the oldest go beyond MAX_TOASTS."""
        new = event.notification
        for old in list(self._notifications):
            if (old.message, old.title, old.severity) == (new.message, new.title, new.severity):
                self._unnotify(old, refresh=False)
        shown = list(self._notifications)
        for old in shown[: max(0, len(shown) - (self.MAX_TOASTS - 1))]:
            self._unnotify(old, refresh=False)
        # An expired toast removes itself, but on the Flux screen in the sandbox its place was not
        # painted again: it stayed on top of the Origin log until the screen changed. Repaint then.
        self.set_timer(new.timeout + 0.5, self._repaint_after_toast)

    def _repaint_after_toast(self) -> None:
        from textual.app import ScreenStackError

        try:
            screen = self.screen
        except ScreenStackError:  # between modes, or the app is closing: nothing is painted
            return
        screen.refresh(layout=True)

    # --- the one error handler of every worker ----------------------------------------------------

    @on(Worker.StateChanged)
    def _worker_changed(self, event: Worker.StateChanged) -> None:
        self.worker_failed(event.worker, event.state)

    def worker_failed(self, worker: Worker[object], state: WorkerState) -> None:
        """Workers raise; this tells the learner in one line (never a traceback) and puts the shared
        state back to rest. Screens forward their workers' state changes here."""
        if state is not WorkerState.ERROR:
            return
        text = worker_error_text(worker)
        if worker.group == "checks":
            self.checks = replace(self.checks, running=False, error=text)
        elif worker.group == "state":
            self.refreshing = False
        elif worker.group == "git":
            self.sync = SyncState(running=False, ok=False, text=text, summary=text)
            self._tree_epoch += 1
        self.notify(text, severity="error", timeout=8)

    # --- the workspace state --------------------------------------------------------------------

    def refresh_state(self, *, fetch: bool = True) -> None:
        """Read the workspace state again (in a worker); `refreshing` says so meanwhile."""
        self.refreshing = True
        self._read_state(fetch, self._tree_epoch)

    @work(
        thread=True, exclusive=True, group="state", exit_on_error=False, description="reading the workspace"
    )
    def _read_state(self, fetch: bool, epoch: int) -> None:
        from lab.services.session import followed_sandbox, read_state, sandbox_reset_note

        session = self.session
        if fetch:  # Home's `r`, the watcher: a `lab sandbox reset --task X` in another shell shows here first
            followed = followed_sandbox(session)
            if followed.task.id != session.task.id:
                self.call_from_thread(self._follow_reset, followed, sandbox_reset_note(session, followed))
                return
            if followed is not session:  # the sandbox stopped or started again: the new session reads
                self.call_from_thread(self._follow_stop, followed)
                return
        state = read_state(session, fetch=fetch)
        if not get_current_worker().is_cancelled:
            self.call_from_thread(self._set_state, state, epoch)

    def _set_state(self, state: WorkspaceState, epoch: int) -> None:
        self.refreshing = False
        if self.sync.running or epoch != self._tree_epoch:
            return  # read while `p` rewrote the tree: its end reads the state again
        self.state = state
        self._state_epoch = epoch
        self._recheck_if_stale()

    def _recheck_if_stale(self) -> None:
        """Where checks are on show, a report older than the workspace is re-run. Called when a new
        state arrives and when a run ends: a state that arrived during a run (a push, a save) would
        otherwise leave the last report stale for good."""
        state, checks = self.state, self.checks
        if state is None or checks.report is None or checks.running:
            return
        push = self._checks_after_push
        after_push = push is not None and self._state_epoch >= push
        if after_push:
            self._checks_after_push = None  # once: a later edit elsewhere is the learner's to check
        asked = self.watching_checks or after_push or self.current_mode in ("checks", "done")
        if asked and checks.stamp != state.stamp:
            self.run_checks()

    def _watch(self) -> None:
        """Start the watcher: a plain daemon thread, not a worker, so `workers.wait_for_complete()`
        (tests, snapshots) still means "the work the learner asked for is done"."""
        self._watch_stop = threading.Event()
        thread = threading.Thread(
            target=self._watch_loop, args=(self._watch_stop,), name="lab-watch", daemon=True
        )
        thread.start()

    def on_unmount(self) -> None:
        self._watch_stop.set()

    def _watch_loop(self, stop: threading.Event) -> None:
        # Set up at the first tick, not as the thread starts: that is while the first frame is drawn,
        # and the imports (the check runner) and the git call here would compete with it.
        if stop.wait(WATCH_S):
            return
        import time

        for attempt in range(50):
            try:
                from lab.core.checks.runner import unsettled
                from lab.services.session import REMOTE_FETCH_S, origin_dir, watch_stamp
            except KeyError:
                # CPython 3.11 (gh-83065): a first import of a package's submodule can raise KeyError
                # for the package while another thread (the checks worker) imports it; the watcher
                # died with it for the session. The other import ends in moments: try again.
                if attempt == 49:
                    raise
                if stop.wait(0.1):
                    return
                continue
            break

        workspace = self.session.workspace
        origin = origin_dir(workspace)
        last_fetch = last_retry = time.monotonic()
        waited = True  # the first tick's wait is the one above
        while waited or not stop.wait(WATCH_S):
            waited = False
            state = self.state
            if state is None or self.refreshing or self.sync.running:
                continue
            checks = self.checks
            if (
                self.watching_checks
                and self.session.kubeconfig is not None
                and checks.report is not None
                and not checks.running
                and unsettled(checks.report.checks)
                and time.monotonic() - last_retry >= CLUSTER_RETRY_S
            ):
                # The cluster moves without any file changing: retry what is still settling there.
                last_retry = time.monotonic()
                try:
                    self.call_from_thread(self.run_checks)
                except RuntimeError:
                    return
            changed = False
            if origin is None and time.monotonic() - last_fetch >= REMOTE_FETCH_S:
                # A remote origin cannot be watched: look every minute.
                last_fetch = time.monotonic()
                changed = True
            elif watch_stamp(workspace, origin) != state.stamp or self._sandbox_moved():
                changed = True
            if changed and not stop.is_set():
                try:
                    self.call_from_thread(self.refresh_state)
                except RuntimeError:  # the app stopped meanwhile
                    return

    def _sandbox_moved(self) -> bool:
        """The sandbox stopped while the app is attached to it (`lab sandbox down` in another shell), or
        runs again while it is detached (`lab sandbox up`): a state read then follows it (detaches, so
        that Home stops naming a cluster in the background, or attaches again). A stat and a lock."""
        session = self.session
        if not session.sandbox:
            return False
        from lab.services.sandbox import running_info
        from lab.services.session import is_default_sandbox

        info = running_info(None)
        if session.kubeconfig is not None:
            return info is None
        # What followed_sandbox attaches to: the default sandbox's repository, its task's sandbox.
        return info is not None and info.serves(session.task.id) and is_default_sandbox(session)

    def stale_checks(self) -> bool:
        """The last report was taken before the workspace changed."""
        state = self.state
        return self.checks.report is not None and state is not None and self.checks.stamp != state.stamp

    # --- checks -----------------------------------------------------------------------------------

    def run_checks(self) -> None:
        from lab.services.session import check_mode

        state = self.state  # the sandbox's files are read with the state, in its worker
        mode = check_mode(
            self.session, self.tags_file, state.sandbox_elsewhere if state is not None else None
        )
        self.checks = replace(self.checks, running=True, error=None, mode_text=mode.describe())
        self._run_checks(mode.offline, mode.tags_file)

    @work(thread=True, exclusive=True, group="checks", exit_on_error=False, description="checks")
    def _run_checks(self, offline: bool, tags_file: Path | None) -> None:
        from lab.checks.loader import load_task_checks
        from lab.services.check import run_checks
        from lab.services.session import followed_sandbox, origin_dir, sandbox_reset_note, watch_stamp

        worker = get_current_worker()
        session = self.session
        followed = followed_sandbox(session)  # `lab sandbox reset --task X`, `up` again, in another shell
        if followed is not session:
            self.call_from_thread(self._follow_sandbox, followed, sandbox_reset_note(session, followed))
            return
        stamp = watch_stamp(session.workspace, origin_dir(session.workspace))
        spec = load_task_checks(session.task.id)
        shown = tuple(d for d in spec.defs if not d.hidden)
        visible = {d.id for d in shown}
        self.call_from_thread(self._checks_planned, shown)

        def live(result: CheckResult) -> None:
            # Each check appears as it finishes; the final report repaints them all.
            if result.id in visible and not worker.is_cancelled:
                self.call_from_thread(self._check_done, result)

        report = run_checks(
            session.workspace, task=session.task.id, offline=offline, tags_file=tags_file, on_result=live
        ).for_learner()
        if not worker.is_cancelled:
            self.call_from_thread(self._checks_finished, report, stamp)

    def _follow_stop(self, session: Session) -> None:
        self.refreshing = False  # `use_session` reads the state again, for the session as it is now
        if session.kubeconfig is None and self.session.kubeconfig is not None:
            self.notify("The sandbox stopped: S on Flux (or `lab sandbox up`) starts it again.", timeout=10)
        self.use_session(session)

    def _follow_reset(self, session: Session, note: str | None) -> None:
        self.refreshing = False  # the state is read again for the task the switch opens
        self._follow_sandbox(session, note)

    def _follow_sandbox(self, session: Session, note: str | None = None) -> None:
        """The sandbox changed under the app: grade its repository's task with its registry and cluster."""
        if session.task.id != self.session.task.id:
            if self._following == session.task.id:
                return  # the checks and a state read both saw it: one switch, one notice
            self._following = session.task.id
            if note is not None:
                self.notify(note, title="Sandbox reset", timeout=10)
            self.run_worker(self._switch_and_grade(session), group="task-switch", exit_on_error=False)
            return
        self.use_session(session)
        self.run_checks()

    async def _switch_and_grade(self, session: Session) -> None:
        """The learner's `r` grades the task followed to: the switch starts with no report, and only the
        Checks screen, built again, would have graded it on its own."""
        await self._switch_task(session, back_to=self.current_mode)
        if self.checks.report is None and not self.checks.running:
            self.run_checks()

    def _checks_planned(self, defs: tuple[CheckDef, ...]) -> None:
        self.checks = replace(self.checks, defs=defs)

    def _check_done(self, result: CheckResult) -> None:
        self.checks = replace(self.checks, results={**self.checks.results, result.id: result})

    def _checks_finished(self, report: Report, stamp: tuple[tuple[str, int, int], ...]) -> None:
        results = {r.id: r for r in report.checks}
        self.checks = replace(
            self.checks, results=results, report=report, running=False, stamp=stamp, graded=report.graded
        )
        self._recheck_if_stale()

    # --- git: commit, sync with origin, push --------------------------------------------------------

    def push_work(self, *, allow_delete: bool = False, allow_invalid: bool = False) -> None:
        """`p`: commit the task's files, bring in origin's new commits (Flux's), push. `allow_delete`:
        the learner confirmed committing the deletion of task files (`lab sync --commit --allow-delete`);
        `allow_invalid`: pushing files Flux refuses or ignores (`lab sync --commit --allow-invalid`)."""
        if self.sync.running:
            self.notify("already pushing…")
            return
        self.sync = SyncState(running=True, text="pushing…", summary="pushing…")
        self._tree_epoch += 1
        self._push(allow_delete, allow_invalid)

    @work(thread=True, exclusive=True, group="git", exit_on_error=False, description="push")
    def _push(self, allow_delete: bool, allow_invalid: bool) -> None:
        from lab.services.session import cluster_source
        from lab.services.sync import push_work

        # stash=True: edits outside the task's files are stashed for the rebase and restored after,
        # and the report says so; nothing uncommitted is ever dropped.
        result = push_work(
            self.session.workspace,
            self.session.task.id,
            stash=True,
            allow_delete=allow_delete,
            allow_invalid=allow_invalid,
            cluster=cluster_source(self.session),
        )
        self.call_from_thread(self._pushed, result, allow_delete)

    def _pushed(self, result: PushWorkResult, allow_delete: bool = False) -> None:
        sync = result.sync
        text = result.report()
        if result.deleted:
            # The service refused before committing anything: the learner decides, then `p` runs again.
            self.sync = SyncState(running=False, ok=False, text=text, summary="waiting: commit the deletion?")
            self._tree_epoch += 1
            self._confirm_deletion(result)
            return
        if result.refused_invalid:
            # Checked before committing anything: the learner may push it anyway, to see Flux react.
            self.sync = SyncState(
                running=False, ok=False, text=text, summary="waiting: push files Flux refuses?"
            )
            self._tree_epoch += 1
            self._confirm_invalid(result, allow_delete=allow_delete)
            return
        if result.ok:
            summary = {
                "up-to-date": "nothing to push: origin has it all",
                "pushed": f"pushed to origin/{sync.branch}",
                "integrated": f"brought in origin's commits and pushed to origin/{sync.branch}"
                if sync.pushed
                else "brought in origin's commits; nothing of yours to push",
            }.get(sync.outcome, sync.outcome)
            title = "Pushed" if sync.pushed else "Up to date"
            # A hand edit `p` committed is a commit the learner never typed: said with the result.
            made = f"\n{result.committed_note()}" if result.commit is not None else ""
            if sync.not_deployed:
                # Pushed as asked, but Flux reads another branch: said in the toast, not only in the log.
                summary += f". {sync.not_deployed}"
                self.notify(summary + made, title=f"{title}: not deployed", severity="warning", timeout=15)
            elif sync.pushed and (result.problems or result.notes):
                # Pushed as asked (or confirmed): what Flux will do with it is said now, not only by checks.
                said = (
                    [f"{len(result.problems)} problem(s) Flux refuses or ignores"] if result.problems else []
                )
                summary += "; note: " + "; ".join([*said, *result.notes])
                self.notify(summary + made, title=title, severity="warning", timeout=15)
            else:
                self.notify(f"{summary} (the git commands: Origin tab on 5){made}", title=title, timeout=8)
        else:
            summary = "stopped: " + (sync.message.splitlines()[0] if sync.message else sync.outcome)
            # The whole report is taller than an 80x24 screen: the toast points at the Flux screen's copy.
            self.notify(
                f"{summary.split('. ', 1)[0].rstrip('.')}.\nThe full report: Flux screen (5), Origin tab.",
                title="Not pushed: nothing was lost",
                severity="warning",
                timeout=8,
            )
        head = sync.head if result.ok else None
        self.sync = SyncState(running=False, ok=result.ok, text=text, summary=summary, head=head)
        self._tree_epoch += 1
        rerun = self.checks.report is not None and bool(sync.pushed or sync.integrated)
        self._checks_after_push = self._tree_epoch if rerun else None
        self.refresh_state(fetch=False)

    def _confirm_deletion(self, result: PushWorkResult) -> None:
        from lab.services.sync import prune_effect
        from lab.tui.screens.confirm import ConfirmDiff

        names = ", ".join(result.deleted)
        one = len(result.deleted) == 1

        def answered(confirmed: bool | None) -> None:
            if confirmed:
                self.push_work(allow_delete=True)
                return
            kept = f"{names} {'is' if one else 'are'} still deleted in your folder: {result.restore} brings "
            kept += "it back." if one else "them back."
            text = f"Nothing committed or pushed. {kept}"
            self.sync = SyncState(running=False, ok=False, text=text, summary=kept)
            self.notify(text, title="Not pushed", timeout=15)
            self.refresh_state(fetch=False)

        prune = prune_effect(result.deleted)
        title = (
            f"{names} {'is' if one else 'are'} deleted, and the task's checks need "
            f"{'it' if one else 'them'}. Commit the deletion and push it?{f' {prune}.' if prune else ''}"
        )
        self.push_screen(ConfirmDiff(title, result.deleted_diff, confirm_label="Delete and push"), answered)

    def _confirm_invalid(self, result: PushWorkResult, *, allow_delete: bool = False) -> None:
        from lab.tui.screens.confirm import ConfirmDiff

        def answered(confirmed: bool | None) -> None:
            if confirmed:
                self.push_work(allow_delete=allow_delete, allow_invalid=True)
                return
            text = "Nothing committed or pushed: your changes are as they were. Fix the files, then p."
            self.sync = SyncState(
                running=False, ok=False, text=text, summary="not pushed: the files have problems"
            )
            self.notify(text, title="Not pushed", timeout=15)
            self.refresh_state(fetch=False)

        one = len(result.problems) == 1
        title = (
            f"The files about to be pushed have {'a problem' if one else f'{len(result.problems)} problems'} "
            "Flux refuses or ignores. Push anyway, to see how Flux reacts?"
        )
        body = "\n".join(result.problems)
        self.push_screen(
            ConfirmDiff(title, body, confirm_label="Push anyway", shows="the problems"), answered
        )

    # --- the sandbox ------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="sandbox", exit_on_error=False, description="sandbox")
    def _attach_sandbox(self) -> None:
        """After the first paint: use the sandbox's cluster and registry, starting it if asked."""
        from lab.services.session import attach_sandbox

        try:
            attached = attach_sandbox(self.session, start=self.start_sandbox)
        except Exception as err:  # a sandbox that will not start leaves the practice repo usable
            self.notify(f"sandbox: {err}", severity="warning")
            return
        if attached is not self.session:
            self.call_from_thread(self.use_session, attached)

    def start_sandbox_again(self) -> None:
        """`S` on Flux, or the palette: start the sandbox again after `lab sandbox down` stopped it
        under the running app (nothing else in the app could; the learner had to quit)."""
        from lab.services.session import is_default_sandbox

        if not is_default_sandbox(self.session):
            self.notify("The sandbox runs for the course's practice repository; this one has none.")
            return
        self._restart_sandbox()

    @work(
        thread=True, exclusive=True, group="sandbox", exit_on_error=False, description="starting the sandbox"
    )
    def _restart_sandbox(self) -> None:
        from dataclasses import replace

        from lab.errors import LabError
        from lab.services import sandbox
        from lab.services.session import attach_sandbox

        if self.session.kubeconfig is not None and sandbox.running_info(None) is not None:
            self.call_from_thread(
                self.notify, "The sandbox is running already (g on Flux shows its cluster)."
            )
            return
        self.call_from_thread(self.notify, "starting the sandbox (its cluster, registry and Flux)…")
        # Detached first: attach_sandbox leaves a session that has a kubeconfig as it is.
        detached = replace(self.session, kubeconfig=None, sandbox_env=())
        attached = attach_sandbox(detached, start=True)
        if attached is detached:
            raise LabError("the sandbox did not start", hint="`lab sandbox up` in a shell says why")
        self.call_from_thread(self.use_session, attached)

    def use_session(self, session: Session) -> None:
        """Switch to `session` (the sandbox cluster came up); screens watch `session`."""
        from lab.services.sandbox import point_env

        # Process-wide settings (the registry mirror) change here, on the UI thread, never in a worker.
        point_env(dict(session.sandbox_env))
        self.session = session

    def watch_session(self, session: Session) -> None:
        self.workspace_label = self._fixed_label or _home_relative(session.workspace)
        self.sub_title = self._sub_title()
        if session.sandbox and session.kubeconfig is not None:
            self.notify(
                "Using the sandbox: its cluster, registry and Flux controllers run in the background "
                "(`lab sandbox down` stops them)."
            )
        self.refresh_state()

    # --- opening another task ---------------------------------------------------------------------

    def open_task(self, task_id: str) -> None:
        """Home's Enter on a task: its own practice repository (made on first use), its screens."""
        if task_id == self.session.task.id:
            self.notify(f"Task {task_id} is open.")
            return
        self.notify(f"opening task {task_id}…")
        self._open_task(task_id)

    @work(thread=True, exclusive=True, group="task", exit_on_error=False, description="opening the task")
    def _open_task(self, task_id: str) -> None:
        from lab.services.session import open_task

        session = open_task(self.session, task_id)
        self.call_from_thread(self._task_opened, session)

    def _task_opened(self, session: Session) -> None:
        self.run_worker(self._switch_task(session), group="task-switch", exit_on_error=False)

    async def _switch_task(self, session: Session, back_to: str | None = None) -> None:
        """Every area but Home is built again for the new task (its lesson, form, checks, quiz);
        `back_to`: the area to show then (Home otherwise)."""
        self._watch_stop.set()
        if self.current_mode != "home":
            await self.switch_mode("home")
        for mode in list(self.MODES):
            if mode != "home":
                await self.remove_mode(mode)
                self.add_mode(mode, self.MODES[mode])
        self.checks = ChecksState()
        self.sync = SyncState()
        self.watching_checks = False
        self.state = None
        self.tags_file = None  # the new task's own bundled tags (or its registry) from now on
        self.use_session(session)
        self._following = None
        self._watch()
        self.notify(f"Task {session.task.id}: {session.task.title}", title="Opened")
        if back_to is not None and back_to != "home":
            await self.switch_mode(back_to)
        from lab.services.session import is_default_sandbox

        if is_default_sandbox(session) and session.kubeconfig is None:
            self._attach_sandbox()  # back to the sandbox's task: its cluster and registry again

    def areas(self) -> list[tuple[str, str, str, str]]:
        """The areas the open task declares (task.toml `areas`), in the app's order."""
        declared = set(self.session.task.meta.areas)
        return [area for area in AREAS if area[0] in declared]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # An area the task does not declare has no key and no palette entry.
        if action == "switch_mode" and parameters and parameters[0] not in self.session.task.meta.areas:
            return None
        # The editor is open: close it first (it asks about unsaved changes).
        return not (action == "switch_mode" and self._editing() is not None)

    # --- the in-app editor --------------------------------------------------------------------------

    def edit_file(self, rel: str | None = None, line: int | None = None) -> None:
        """Open `rel` (at `line`) in the editor; without a path, the file picker first."""
        from lab.tui.screens.editor import FilePicker

        if rel is not None:
            self.open_for_edit(rel, line)
            return

        def chosen(picked: str | None) -> None:
            if picked is not None:
                self.open_for_edit(picked, None)

        self.push_screen(FilePicker(), chosen)

    @work(thread=True, exclusive=True, group="edit", exit_on_error=False, description="opening the file")
    def open_for_edit(self, rel: str, line: int | None, replace: bool = False) -> None:
        """Read the file first (refused files never open an editor), then show it."""
        from lab.errors import LabError
        from lab.services.edit import open_file
        from lab.tui.screens.editor import EditorScreen

        try:
            opened = open_file(self.session.workspace, rel)
        except LabError as err:
            text = f"{err.message} - hint: {err.hint}" if err.hint else err.message
            self.notify(text, title="Not opened", severity="error", timeout=10)
            return
        screen = EditorScreen(opened, line)
        self.call_from_thread(self.switch_screen if replace else self.push_screen, screen)

    def _editing(self) -> EditorScreen | None:
        # The footer asks (check_action) for every key before the first frame: an editor module not yet
        # imported has no screen open, and importing it (TextArea and all) would delay that frame.
        if "lab.tui.screens.editor" not in sys.modules:
            return None
        from lab.tui.screens.editor import EditorScreen

        return next((s for s in reversed(self.screen_stack) if isinstance(s, EditorScreen)), None)

    # --- keys, palette, quitting ------------------------------------------------------------------

    def action_keys(self) -> None:
        from lab.tui.screens.keys import KeysScreen

        if isinstance(self.screen, KeysScreen):
            self.screen.dismiss(None)
            return
        self.push_screen(KeysScreen.for_screen(self.screen))

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        from lab.tui.screens.base import palette_actions

        yield from super().get_system_commands(screen)
        for mode, key, label, help_text in self.areas():
            yield SystemCommand(f"Go to {label} ({key})", help_text, partial(self.switch_mode, mode))
        from lab.services.session import is_default_sandbox

        sandbox = is_default_sandbox(self.session)
        yield SystemCommand(
            "Edit a file (e)",
            "Open a file of the workspace in the lab's editor; ctrl+s saves",
            self.edit_file,
        )
        for mode, _key, label, _help in self.areas():
            for binding in palette_actions(screen_class(mode), sandbox=sandbox):
                yield SystemCommand(
                    f"{label}: {binding.description} ({binding.key_display or binding.key})",
                    binding.tooltip or f"press {binding.key_display or binding.key} on the {label} screen",
                    partial(self.run_in_mode, mode, binding.action),
                )

    def run_in_mode(self, mode: str, action: str) -> None:
        """Switch to `mode`, then run the screen's `action` there (palette entries)."""

        async def after() -> None:
            await self.screen.run_action(action)

        self.switch_mode(mode)
        self.call_after_refresh(after)

    async def action_quit(self) -> None:
        editor = self._editing()
        if editor is not None and editor.modified:
            if self.screen is not editor:
                return  # a dialog over the editor is asking already
            editor.ask_then("quit")  # unsaved edits are never dropped without asking
            return
        self.exit_lab()

    def exit_lab(self) -> None:
        from lab.services.session import sandbox_note

        note = sandbox_note(self.session, running=bool(self.state and self.state.sandbox_running))
        self.exit(message=note)


def worker_error_text(worker: Worker[object]) -> str:
    """A failed worker in one line: a LabError's own words, else what failed and why (no traceback)."""
    return error_text(worker.error, worker.description or worker.name or "work")


def error_text(error: BaseException | None, what: str) -> str:
    """`error` in one line: a LabError's own words (with its hint), else `what` failed and why."""
    from lab.errors import LabError

    if isinstance(error, LabError):
        return str(error)
    return f"{what} failed: {type(error).__name__}: {error}"


def _home_relative(path: Path) -> str:
    try:
        return "~/" + path.relative_to(Path.home()).as_posix()
    except ValueError:
        return str(path)
