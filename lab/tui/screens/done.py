"""Done: when the checks pass, mark the task in PROGRESS.md (the diff first), push it, then the next task.

What it says comes from the app's one state: the last check run (re-run here when the workspace
changed since), PROGRESS.md as it is on disk, and git (is it committed, is it on origin)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Button, Label, Static

from lab.core.progress import PROGRESS_FILE
from lab.core.text import escape_controls
from lab.tui.screens.base import LabScreen
from lab.tui.widgets.static import show

if TYPE_CHECKING:
    from lab.core.tasks import TaskMeta
    from lab.errors import LabError
    from lab.services.progress import ProgressResult


class DoneScreen(LabScreen):
    HELP = (
        "Shows the change to PROGRESS.md that marks this task done (`lab progress --done`). "
        "`u` writes it once every check passes; `p` commits and pushes it (bringing in Flux's "
        "commits first); `n` then opens the next task in this lab (Home lists them all)."
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("u", "write", "Update PROGRESS.md"),
        Binding("p", "push", "Push"),
        Binding("r", "run_checks", "Re-run"),
        Binding("n", "next_task", "Next task"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.preview: ProgressResult | None = None
        self._previewed_text: str | None = None
        self._next: TaskMeta | None = None
        #: where the course goes on outside this lab ("Task 10 - Cleanup"); read with `_next`
        self._course = ""
        #: whether this task is done too (with `_next` None: the last of the lab, or all done)
        self._this_done = False

    def compose_area(self) -> ComposeResult:
        task = self.lab.session.task
        with VerticalScroll(id="done"):
            yield Label(f"Task {task.id}: {task.title}", id="done-title", classes="title", markup=False)
            yield Static("", id="done-state", markup=False)
            yield Static("", id="progress-diff")
            yield Button("Update PROGRESS.md (u)", id="write-progress", variant="primary", compact=True)
            yield Static("", id="next-task", classes="muted", markup=False)

    def on_mount(self) -> None:
        for attribute in ("state", "checks", "sync"):
            self.watch(self.lab, attribute, self._render_state, init=False)
        # Opened before the workspace state was first read: the checks start once it arrives.
        self.watch(self.lab, "state", self._state_arrived, init=False)
        self._render_state()

    def _state_arrived(self) -> None:
        if self.is_current:
            self._ensure_fresh_checks()

    def on_screen_resume(self) -> None:
        self._ensure_fresh_checks()
        self._render_state()
        # Other tasks may have been done meanwhile (in this app or another terminal).
        self._find_next()

    def _ensure_fresh_checks(self) -> None:
        """The verdict needs checks of the workspace as it is now."""
        checks = self.lab.checks
        if checks.running or self.lab.state is None:
            return
        if checks.report is None or self.lab.stale_checks():
            self.lab.run_checks()

    def ready(self) -> bool:
        from lab.tui.screens.checks import ready_for_done

        report = self.lab.checks.report
        return (
            report is not None
            and not self.lab.checks.running
            and not self.lab.stale_checks()
            and ready_for_done(report)
        )

    def _render_state(self) -> None:
        app = self.lab
        state, checks = app.state, app.checks
        report = checks.report
        lines: list[str] = []
        if state is not None and not app.sync.running:
            # Not while `p` runs: git rewrites PROGRESS.md then (empty for a moment).
            text = state.files.get(PROGRESS_FILE)
            if text != self._previewed_text:
                self._previewed_text = text
                self._preview()
        marked = self.preview is not None and not self.preview.diff
        if checks.running:
            lines.append("Running the checks…")
        elif report is None:
            lines.append("The checks have not run yet (4 runs them; they start here too).")
        elif app.stale_checks():
            lines.append("The workspace changed since the last check run: re-checking…")
        elif self.ready() and report.score == report.max_score:
            lines.append(f"Every check passes ({report.score}/{report.max_score}).")
        elif self.ready():
            lines.append(
                f"Every check passes but the PROGRESS.md row ({report.score}/{report.max_score}): "
                "marking it done gives the rest."
            )
        else:
            # The PROGRESS.md row is what `u` writes once the rest passes: name what blocks `u`.
            from lab.services.check import is_progress

            broken = next((c for c in report.checks if c.broken and not is_progress(c)), None)
            where = f"; start with {broken.title}" if broken else ""
            lines.append(f"Not every check passes yet ({report.score}/{report.max_score}){where}.")
        git = state.git if state is not None else None
        if report is not None and not checks.running:
            from lab.services.check import off_branch_note

            note = off_branch_note(git, checks.graded)  # a pass on main says nothing of a feature branch
            if note:
                lines.append(note)
        if marked:
            lines.append("PROGRESS.md marks this task done.")
            if git is not None:
                if PROGRESS_FILE in git.dirty:
                    lines.append("It is not committed yet: p commits and pushes it.")
                elif git.ahead:
                    lines.append("It is committed but not on origin yet: p pushes it.")
                elif git.behind:
                    lines.append(f"{git.behind_line()}: p brings them in.")
                elif git.in_sync and self.ready():
                    lines.append("Everything is on origin.")
        elif self.ready():
            lines.append("u writes the change below to PROGRESS.md.")
        if app.sync.running:
            lines.append("pushing…")
        show(self.query_one("#done-state", Static), "\n".join(lines))
        self.query_one("#write-progress", Button).disabled = marked or not self.ready()
        show(self.query_one("#next-task", Static), self._next_line())

    def _next_line(self) -> str:
        if self._next is None:
            # Read by the worker: every other task of the lab is done (or not known yet).
            if not self._course:
                return ""
            if self._this_done:
                return f"Every task in this lab is done. Next: {self._course}."
            return f"This is the last task of this lab not done yet. Then: {self._course}."
        line = f"Next in this lab: Task {self._next.id} - {self._next.title} (n opens it)."
        if self._course:
            line += f"\nThe course then goes on with {self._course}."
        return line

    @work(
        thread=True, exclusive=True, group="next-task", exit_on_error=False, description="reading the tasks"
    )
    def _find_next(self) -> None:
        from lab.services.session import course_goes_on, next_task_in_lab, task_standing

        session = self.lab.session
        meta = session.task.meta
        done = task_standing(meta, session.workspace) == "done"
        self.app.call_from_thread(self._show_next, next_task_in_lab(meta), course_goes_on(meta), done)

    def _show_next(self, found: TaskMeta | None, course: str, this_done: bool) -> None:
        self._next, self._course, self._this_done = found, course, this_done
        self.query_one("#next-task", Static).update(self._next_line())

    def action_next_task(self) -> None:
        if self._next is not None:
            self.lab.open_task(self._next.id)
            return
        after = f": the course goes on with {self._course}" if self._course else ""
        done = "Every task in this lab is done" if self._this_done else "Every other task in this lab is done"
        self.notify(f"{done}{after}.")

    @work(thread=True, exclusive=True, group="progress", exit_on_error=False, description="PROGRESS.md")
    def _preview(self) -> None:
        from lab.errors import LabError

        try:
            result = self._mark(dry_run=True)
        except LabError as err:
            # A preview of a file that was readable before must not stand for one that is not now.
            self.app.call_from_thread(self._show_preview_failed, err)
            return
        self.app.call_from_thread(self._show_preview, result)

    def _show_preview_failed(self, err: LabError) -> None:
        from rich.text import Text

        self.preview = None
        self.query_one("#progress-diff", Static).update(Text(escape_controls(str(err))))
        self._render_state()

    def _mark(self, *, dry_run: bool) -> ProgressResult:
        from lab.services.progress import mark_task_done

        # The task's own row (added when the table lacks a row for a task outside the course's list).
        return mark_task_done(self.lab.session.workspace, self.lab.session.task.meta, dry_run=dry_run)

    def _show_preview(self, result: ProgressResult) -> None:
        from lab.tui.diff import diff_content

        self.preview = result
        shown = self.query_one("#progress-diff", Static)
        shown.update(diff_content(result.diff) if result.diff else "")
        self._render_state()

    @on(Button.Pressed, "#write-progress")
    def action_write(self) -> None:
        if self.preview is not None and not self.preview.diff:
            self.notify("PROGRESS.md already marks this task done.")
            return
        if not self.ready():
            self.notify(
                "Not yet: every check must pass first (the state above says which).", severity="warning"
            )
            self._ensure_fresh_checks()
            return
        self._write()

    @work(thread=True, exclusive=True, group="progress", exit_on_error=False, description="PROGRESS.md")
    def _write(self) -> None:
        self._mark(dry_run=False)
        self.app.call_from_thread(self._written)

    def _written(self) -> None:
        self.notify("PROGRESS.md updated. p commits and pushes it.", title="Done")
        self.lab.refresh_state(fetch=False)

    def action_push(self) -> None:
        self.lab.push_work()

    def action_run_checks(self) -> None:
        self.lab.run_checks()
