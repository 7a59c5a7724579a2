"""Flux: push the learner's work, simulate one reconcile (dry run first, then commit and push like
Flux), the `git log --oneline` of origin, and `flux get images all` when a cluster is configured."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Label, Static, TabbedContent, TabPane
from textual.worker import get_current_worker

from lab.core.text import escape_controls
from lab.tui.screens.base import LabScreen

if TYPE_CHECKING:
    from collections.abc import Sequence

    from lab.adapters.git import CommitInfo
    from lab.services.simulate import SimulationResult
    from lab.services.sync import OriginStatus

#: The cluster changes without any file changing: its view is asked again this often.
CLUSTER_REFRESH_S = 10.0


class FluxScreen(LabScreen):
    HELP = (
        "`p` commits the task files, brings in origin's new commits (Flux's) and pushes (it asks "
        "first when that deletes a task file); the git commands are shown in the Origin tab. `d` simulates one "
        "Flux reconcile without committing: the diff and the commit message. `c` then does it "
        "for real, committing and pushing as Flux (pressed first, it shows the dry run). The "
        "Origin tab is `git log --oneline origin/main`; the Cluster tab is `flux get images all` "
        "(`g` refreshes, `R` reconciles). In the sandbox `t` publishes the image's next release. `y` asks "
        "why Flux did nothing: it walks Flux's chain and names the link that broke. `e` opens a file "
        "in the lab's editor."
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("p", "push", "Push"),
        # Not in the footer: `c` says its first press is the dry run, and `y` needs the room more.
        Binding("d", "dry_run", "Dry run", show=False),
        # Says what a first press does: the dry run; the commit as Flux follows only on the second.
        Binding(
            "c",
            "commit",
            "Dry run, then commit",
            tooltip="Commit and push as Flux: the first press shows the dry run (diff and message), "
            "the second commits",
        ),
        Binding("t", "push_tag", "New tag"),  # the sandbox's only: SANDBOX_ACTIONS
        # In the footer: a new tag, a push, and no Flux commit is the lab's most common question.
        Binding("y", "why", "Why?"),
        Binding("l", "refresh", "Fetch origin", show=False),
        Binding("g", "refresh_cluster", "Cluster view", show=False),
        Binding("R", "reconcile", "Reconcile", show=False),
        Binding("e", "edit", "Edit", show=False),
        Binding(
            "S",
            "start_sandbox",
            "Start the sandbox",
            show=False,
            tooltip="Its cluster, registry and Flux again, after `lab sandbox down` (as `lab sandbox up`)",
        ),  # SANDBOX_ACTIONS too
    ]

    # Outside the sandbox there is no registry of the lab's to publish to and no sandbox to start: no `t`
    # in the footer, no `t` or `S` in `?` or the palette (pressed there, they could only explain that
    # they do nothing).
    SANDBOX_ACTIONS: ClassVar[frozenset[str]] = frozenset({"push_tag", "start_sandbox"})

    @dataclass
    class Simulated(Message):
        results: list[SimulationResult]
        dry_run: bool
        snapshot: bool
        elsewhere: str | None = None
        """`sandbox_elsewhere`, as the worker read it."""
        downgrade: str = ""
        """Why pushing this dry run needs asking: an older tag only a stale snapshot chose."""

    @dataclass
    class TagPushed(Message):
        published: list[tuple[str, list[str]]]
        """(image, tags added) per image, the task's first image first (`push_sandbox_tag`)."""

    @dataclass
    class ClusterShown(Message):
        text: str
        #: why the cluster could not be asked ("" when it answered)
        error: str = ""

    def __init__(self) -> None:
        super().__init__()
        self._cluster_down = False
        # `c` commits only after the learner has seen the dry run's diff and message.
        self.reviewed = False
        # The reviewed dry run's diff, and why pushing it needs asking ("" when it does not).
        self._last_diff = ""
        self._downgrade = ""
        self._elsewhere: str | None = None
        """The `sandbox_elsewhere` the tag source note was written with."""
        #: the session is the default sandbox's (`t` publishes there); set on mount and session changes
        self._on_sandbox = False
        #: what the app last did to origin, its name, and origin's head right after it (`_show_move`)
        self._move: tuple[str, str, str | None] = ("", "", None)
        #: the local head when the last p stopped (`_render_sync`); None when it did not stop
        self._stopped_at: str | None = None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in self.SANDBOX_ACTIONS:
            return self._on_sandbox
        return True

    def compose_area(self) -> ComposeResult:
        yield Label(self._source_note(), id="tag-source", classes="muted", markup=False)
        with TabbedContent(initial="sim-pane"):
            with TabPane("Simulate", id="sim-pane"), VerticalScroll(id="sim-scroll"):
                yield Static(
                    "d: dry run (diff and commit message, nothing committed) · "
                    "c: commit and push like Flux · p: push your work first",
                    id="sim-status",
                    markup=False,
                )
                yield Static("", id="sim-policies", markup=False)
                yield Static("", id="sim-diff")
                yield Static("", id="sim-message", classes="commit-message", markup=False)
            with TabPane("Origin", id="log-pane"), VerticalScroll(id="log-scroll"):
                yield Static("", id="origin-status", markup=False)
                yield Static("", id="push-commands", classes="muted", markup=False)
                yield Static("fetching origin…", id="origin-log", markup=False)
            with TabPane("Cluster", id="cluster-pane"), VerticalScroll(id="cluster-scroll"):
                yield Static("", id="cluster", markup=False)

    def action_edit(self) -> None:
        self.lab.edit_file()

    def action_why(self) -> None:
        """`lab why`: which link of Flux's chain broke (walked in a worker, shown over this screen)."""
        from lab.tui.why import WhyScreen

        session = self.lab.session
        self.app.push_screen(
            WhyScreen(
                session.workspace,
                kubeconfig=session.kubeconfig,
                # the sandbox without its cluster reasons from the bundled tags, never the network
                offline=session.sandbox and session.kubeconfig is None and self.lab.tags_file is None,
                tags_file=self.lab.tags_file,
            )
        )

    def on_mount(self) -> None:
        session = self.lab.session
        self._follow_sandbox()
        cluster = self.query_one("#cluster", Static)
        if session.kubeconfig is None:
            cluster.update(self._no_cluster())
        else:
            cluster.update("asking the cluster…")  # on_screen_resume asks, now and on every return
        self.watch(self.lab, "state", self._render_origin)
        self.watch(self.lab, "state", self._show_source_note, init=False)
        self.watch(self.lab, "sync", self._render_sync)
        self.watch(self.lab, "session", self._session_changed, init=False)
        self.set_interval(CLUSTER_REFRESH_S, self._tick)

    def _no_cluster(self) -> str:
        text = (
            "No cluster configured: `flux get images all` needs KUBECONFIG.\n"
            "The Simulate tab runs the same scan, policy and update logic locally."
        )
        from lab.services.session import is_default_sandbox

        if is_default_sandbox(self.lab.session):
            text += (
                "\nIn the sandbox, S starts the sandbox cluster, registry and Flux (`lab sandbox up`); "
                f"`t` starts them too and publishes the next {self.lab.session.task.image_label} "
                "release, as CI would; its Flux then commits on origin."
            )
        elif self.lab.session.sandbox:
            # What `t` said when it was pressed here: this repository has no registry to publish to.
            text += (
                "\nNew tags: `lab simulate --dry-run --tags-file -` in a shell shows what Flux would "
                "do with them (the sandbox registry serves the course's practice repository)."
            )
        return text

    def on_screen_resume(self) -> None:
        if self.lab.session.kubeconfig is not None:
            self.action_refresh_cluster()

    def _tick(self) -> None:
        if self.is_current and self.lab.session.kubeconfig is not None:
            self._cluster(False)  # the controllers move on their own: keep the view live

    def _follow_sandbox(self) -> None:
        """Whether the session is the default sandbox's, read once per session: `check_action` runs on
        every footer refresh, and `is_default_sandbox` resolves paths."""
        from lab.services.session import is_default_sandbox

        on_sandbox = is_default_sandbox(self.lab.session)
        if on_sandbox != self._on_sandbox:
            self._on_sandbox = on_sandbox
            self.refresh_bindings()

    def _session_changed(self) -> None:
        self._follow_sandbox()
        self.query_one("#tag-source", Label).update(self._source_note())
        if self.lab.session.kubeconfig is not None:
            self.action_refresh_cluster()
        else:  # detached (the sandbox stopped): the last table or error is not the cluster's state
            self.query_one("#cluster", Static).update(self._no_cluster())

    def _source_note(self) -> str:
        from lab.services.session import tag_source

        # Whether the running sandbox serves another task: read with the state, in its worker.
        state = self.lab.state
        self._elsewhere = state.sandbox_elsewhere if state is not None else None
        return tag_source(self.lab.session, self.lab.tags_file, self._elsewhere).note

    def _show_source_note(self) -> None:
        # Only when that changed: a simulation's "from the snapshot (no registry reachable)" stays.
        state = self.lab.state
        if state is not None and state.sandbox_elsewhere != self._elsewhere:
            self.query_one("#tag-source", Label).update(self._source_note())

    # --- simulate ---------------------------------------------------------------------------------

    def action_dry_run(self) -> None:
        self._status("simulating (dry run)…")
        self._simulate(True)

    def action_commit(self) -> None:
        if not self.reviewed:
            self.notify("First the dry run: review the diff and message, then press c again.")
            self.action_dry_run()
            return
        self.reviewed = False
        if not self._downgrade:
            self._commit(allow_downgrade=False)
            return
        # `lab simulate` refuses this push; the app asks, as it does before pushing files Flux refuses.
        from lab.tui.screens.confirm import ConfirmDiff

        def answered(push: bool | None) -> None:
            if push:
                self._commit(allow_downgrade=True)
            else:
                self._status(
                    "not pushed: the dry run's older tag came from a stale snapshot · d: dry run again"
                )

        title = f"{self._downgrade}, the registry not answering. Push it anyway?"
        self.app.push_screen(
            ConfirmDiff(title, self._last_diff, confirm_label="Push anyway", shows="the diff"), answered
        )

    def _commit(self, *, allow_downgrade: bool) -> None:
        self._status("reconciling: scan, policy, update, commit, push…")
        self._simulate(False, allow_downgrade)

    @work(thread=True, exclusive=True, group="simulate", exit_on_error=False, description="simulate")
    def _simulate(self, dry_run: bool, allow_downgrade: bool = False) -> None:
        from lab.services.session import session_tags
        from lab.services.simulate import simulate

        session = self.lab.session
        tags = session_tags(session, self.lab.tags_file)
        try:
            results = simulate(
                session.workspace,
                tag_source=tags,
                dry_run=dry_run,
                before_push=None if allow_downgrade else tags.guard.refuse,
            )
        except Exception as err:
            from lab.tui.app import error_text

            # The toast goes in seconds: the pane keeps the error and its hint until the next run.
            self.app.call_from_thread(self._stopped, error_text(err, "simulate"))
            raise
        downgrade = tags.guard.older([c for r in results for c in r.changes]) if dry_run else ""
        if not get_current_worker().is_cancelled:
            self.post_message(self.Simulated(results, dry_run, tags.used_snapshot, tags.elsewhere, downgrade))

    def on_flux_screen_simulated(self, message: Simulated) -> None:
        from lab.tui.diff import diff_content

        if message.snapshot:
            from lab.services.session import snapshot_note

            note = snapshot_note(self.lab.session.task)
            why = message.elsewhere or "no registry reachable"
            self.query_one("#tag-source", Label).update(f"{note} ({why})")
        policies: list[str] = []
        diffs: list[str] = []
        messages: list[str] = []
        status: list[str] = []
        for result in message.results:
            for pol in result.policies:
                mark = "✔" if pol.ready else "✗"
                policies.append(f"{mark} ImagePolicy {pol.namespace}/{pol.name}: {pol.message}")
            if result.error:
                status.append(f"{result.automation}: failed: {result.error}")
                continue
            if not result.changes:
                status.append(f"{result.automation}: repository up-to-date, nothing to commit")
                continue
            diffs.append(result.diff)
            messages.append(result.message or "")
            if result.commit_sha:
                status.append(f"{result.automation}: {result.push_summary()}")
            elif message.downgrade:
                status.append(
                    f"{result.automation}: dry run, nothing committed · {message.downgrade}: "
                    "lab simulate would not push it; c asks first"
                )
            else:
                status.append(f"{result.automation}: dry run, nothing committed · c: commit and push")
        unpushed = self._not_on_origin()
        if unpushed:
            status.append(unpushed)
        self._status("\n".join(status) or "no ImageUpdateAutomation ran")
        self.reviewed = message.dry_run and any(r.changes for r in message.results)
        self._last_diff, self._downgrade = "".join(diffs), message.downgrade if self.reviewed else ""
        self.query_one("#sim-policies", Static).update(escape_controls("\n".join(policies)))
        self.query_one("#sim-diff", Static).update(diff_content("".join(diffs)) if diffs else "")
        commit = "\n".join(messages).rstrip("\n")
        self.query_one("#sim-message", Static).update(
            escape_controls(f"Commit message:\n{commit}") if commit else ""
        )
        tabs = self.query_one(TabbedContent)
        if message.dry_run or not any(r.commit_sha for r in message.results):
            tabs.active = "sim-pane"
        else:
            # Where the learner sees it land: Flux's commit on top of origin's log, and above it what
            # moved origin last (the output of an earlier `p` there read as origin's state).
            tabs.active = "log-pane"
            last = [r.commit_sha for r in message.results if r.commit_sha][-1]
            self._show_move(flux_commit_report(message.results), "your last c", last)
            self.notify("\n".join(status), title="Flux committed")
        if not message.dry_run:
            self.lab.refresh_state()

    def _not_on_origin(self) -> str:
        state = self.lab.state
        note = state.git.not_on_origin() if state is not None and state.git is not None else ""
        return f"{note} (p commits the task's files and pushes)" if note else ""

    def _status(self, text: str) -> None:
        self.query_one("#sim-status", Static).update(escape_controls(text))

    def _stopped(self, error: str) -> None:
        """A run that raised: its error in the pane, and nothing of an earlier run left to commit."""
        self.reviewed, self._last_diff, self._downgrade = False, "", ""
        for pane in ("#sim-policies", "#sim-diff", "#sim-message"):
            self.query_one(pane, Static).update("")
        self._status(f"simulation stopped: {error}")

    # --- git --------------------------------------------------------------------------------------

    def action_push(self) -> None:
        self.reviewed = False  # origin moves: the last dry run may no longer be what Flux would do
        self.query_one(TabbedContent).active = "log-pane"
        self.lab.push_work()

    def _render_origin(self) -> None:
        """origin as the workspace state read it: where the learner stands, then `git log`."""
        state = self.lab.state
        if state is None:
            return
        status = self.query_one("#origin-status", Static)
        git = state.git
        if state.git_error is not None:
            status.update(escape_controls(state.git_error))
        elif git is not None:
            status.update(escape_controls(origin_summary(git)))
        branch = git.log_branch if git is not None else "main"
        lines = [f"{c.short} {c.subject}  ({c.author_name})" for c in state.origin_log]
        text = f"$ git log --oneline origin/{branch}\n" + (
            "\n".join(lines) or f"(origin has no branch {branch})"
        )
        self.query_one("#origin-log", Static).update(escape_controls(text))
        self._render_move()

    def _render_sync(self) -> None:
        sync, state = self.lab.sync, self.lab.state
        git = state.git if state is not None else None
        # Where the branch was when p stopped: once it has moved and is in sync, the report is stale.
        stopped = not (sync.ok or sync.running) and git is not None
        self._stopped_at = git.head if stopped and git is not None else None
        self._show_move(sync.text, "your last p", sync.head)

    def _show_move(self, text: str, what: str, head: str | None) -> None:
        """What this app last did to origin (`p`'s git commands, `c`'s commit), and origin's head right
        after it, which later commits are told from."""
        self._move = (text, what, head)
        self._render_move()

    def _render_move(self) -> None:
        """The last move, or, once origin has moved on past it (the sandbox's Flux committed after a
        `p` or a `t`), those newer commits: the old output no longer says where origin is."""
        text, what, head = self._move
        state = self.lab.state
        if head is not None and state is not None:
            shas = [c.sha for c in state.origin_log]
            if head in shas and shas[0] != head:
                branch = state.git.log_branch if state.git is not None else "main"
                text = origin_moved(state.origin_log[: shas.index(head)], what, branch)
        git = state.git if state is not None else None
        if (
            what == "your last p"
            and self._stopped_at is not None
            and git is not None
            and git.branch is not None
            and git.in_sync
            and git.head != self._stopped_at
        ):
            text = (
                f"Your last p stopped; since then {git.branch} is in sync with origin/{git.branch}: "
                "nothing of it is left to resolve."
            )
        self.query_one("#push-commands", Static).update(escape_controls(text))

    # --- the sandbox registry -------------------------------------------------------------------

    def action_push_tag(self) -> None:
        # Only in the default sandbox (check_action): elsewhere `t` is not bound at all.
        # The sandbox publishes the next dated release, or the tag the task's policy picks next.
        self.notify(
            f"publishing the next {self.lab.session.task.image_label} release in the sandbox registry…"
        )
        self._push_tag()

    @work(thread=True, exclusive=True, group="sandbox", exit_on_error=False, description="push-tag")
    def _push_tag(self) -> None:
        from lab.errors import LabError
        from lab.services.session import attach_sandbox, push_sandbox_tag

        session = self.lab.session
        if session.kubeconfig is None:
            attached = attach_sandbox(session, start=True)
            if attached is session:
                raise LabError(
                    "the sandbox only runs for the default practice repository",
                    hint="run `lab` with no workspace to use it",
                )
            self.app.call_from_thread(self.lab.use_session, attached)
        self.post_message(self.TagPushed(push_sandbox_tag()))

    def on_flux_screen_tag_pushed(self, message: TagPushed) -> None:
        from lab.services.sandbox import FLUX_COMMITS_WHEN

        self.query_one("#tag-source", Label).update(self._source_note())
        (_, added), others = message.published[0], message.published[1:]
        if not added:
            self.notify(
                f"No newer {self.lab.session.task.image_label} release to publish.", severity="warning"
            )
            return
        first, rest = added[0], len(added) - 1
        variants = f" (+{rest} variants)" if rest else ""
        # A task of several images: each one's next release is published (and named), not the first's only.
        more = "".join(f", {image.rsplit('/', 1)[-1]}:{tags[0]}" for image, tags in others)
        self.notify(
            f"$ lab sandbox push-tag\npublished {self.lab.session.task.image_label}:{first}{variants}{more}; "
            f"the sandbox's Flux scans it. {FLUX_COMMITS_WHEN}, on origin (Origin tab); "
            "no commit? `y` says why",
            title="New tag",
            timeout=10,
        )
        self.action_refresh_cluster()
        self.lab.refresh_state()

    # --- cluster ----------------------------------------------------------------------------------

    def action_refresh_cluster(self) -> None:
        if self.lab.session.kubeconfig is None:
            self.notify(self._no_cluster_hint(), severity="warning")
            return
        self._cluster(False)

    def action_reconcile(self) -> None:
        if self.lab.session.kubeconfig is None:
            self.notify(self._no_cluster_hint(), severity="warning")
            return
        self._cluster(True)

    def _no_cluster_hint(self) -> str:
        if self._on_sandbox:
            return "The sandbox is not running: S starts it (as `lab sandbox up`)."
        return "No cluster configured: set KUBECONFIG and restart lab."

    @work(thread=True, exclusive=True, group="cluster", exit_on_error=False, description="cluster")
    def _cluster(self, reconcile: bool) -> None:
        from lab.errors import ClusterError
        from lab.services.session import flux_get_images, reconcile_images

        kubeconfig = self.lab.session.kubeconfig
        if reconcile:
            asked = reconcile_images(kubeconfig)
            self.app.notify(f"reconcile requested for {len(asked)} objects")
        error = ""
        try:
            text = flux_get_images(kubeconfig)
        except ClusterError as err:
            # Said where the table was: a table left from before would read as the cluster's state.
            # The sandbox's own hint, not the error's "check KUBECONFIG": the lab chose that file.
            sandbox = self._on_sandbox
            error = f"cannot reach the cluster: {err.message if sandbox else err}"
            hint = self._unreachable_hint()
            text = f"{error}\n\n{hint}\n"
            if sandbox:
                error = f"{error}. {hint}"
        self.post_message(self.ClusterShown("$ flux get images all -A\n" + text, error))

    def _unreachable_hint(self) -> str:
        if self._on_sandbox:
            return (
                "The sandbox is not running (`lab sandbox down` stops it): S starts it again, as "
                "`lab sandbox up` does; g shows the cluster then."
            )
        return "Is the cluster up? `kubectl get nodes` with the same KUBECONFIG says; g asks again."

    def action_start_sandbox(self) -> None:
        self.lab.start_sandbox_again()

    def on_flux_screen_cluster_shown(self, message: ClusterShown) -> None:
        self.query_one("#cluster", Static).update(escape_controls(message.text))
        # A toast when the cluster stops answering, not one every refresh while it stays down.
        if message.error and not self._cluster_down:
            self.notify(escape_controls(message.error), severity="error", timeout=10)
        self._cluster_down = bool(message.error)


def origin_moved(commits: Sequence[CommitInfo], after: str, branch: str) -> str:
    """Origin's commits since the app's last move there (`after`: "your last p"), newest first."""
    from lab.adapters.git import by_author, count_commits

    lines = [f"After {after}, origin/{branch} has {count_commits(len(commits))}{by_author(commits)}:"]
    lines += [f"{c.short} {c.subject}" for c in commits]
    return "\n".join(lines)


def flux_commit_report(results: list[SimulationResult]) -> str:
    """What `c` did to origin, in the Origin tab where `p`'s git commands are shown after a push: the
    command and each commit Flux pushed (hash, branch, subject). Where that leaves the learner's branch
    is the state line above it, read from git."""
    lines = ["$ lab simulate   (c: one Flux reconcile, committed and pushed as Flux)"]
    for result in results:
        if result.commit_sha:
            subject = (result.message or "").strip().split("\n", 1)[0]
            lines.append(f"{result.automation}: {result.push_summary()}: {subject}")
    return "\n".join(lines)


def origin_summary(git: OriginStatus) -> str:
    """Where the learner's branch stands against origin (what a shell would need), and what `p` does."""
    text = git.summary()
    if git.in_progress is not None or git.branch is None:
        return text  # git's own stop, or no branch to push: `p` refuses until the learner is back on one
    if git.behind or git.ahead or git.remote_head is None:
        text += "\np does it for you and shows the commands: commit your task files, fetch, rebase, push"
    elif git.dirty or git.untracked:
        text += "\np commits the task's files and pushes them"
    return text
