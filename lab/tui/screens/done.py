"""Done: when the checks pass, mark the task in PROGRESS.md (the diff first), then point to the next task."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Footer, Header, Label, Static

if TYPE_CHECKING:
    from lab.services.progress import ProgressResult
    from lab.tui.app import LabApp


class DoneScreen(Screen[None]):
    HELP = (
        "Shows the change to PROGRESS.md that marks this task done (`lab progress --done`). "
        "`u` writes it after you have seen the diff; then commit it and go on to the next task."
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("u", "write", "Update PROGRESS.md"),
        Binding("v", "preview", "Show diff", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.previewed = False
        self.written = False

    @property
    def lab(self) -> LabApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        task = self.lab.session.task
        yield Header()
        with VerticalScroll(id="done"):
            yield Label(f"Task {task.id}: {task.title}", classes="title", markup=False)
            yield Static("", id="done-state", markup=False)
            yield Static("", id="progress-diff")
            yield Button("Update PROGRESS.md (u)", id="write-progress", variant="primary", compact=True)
            yield Static(
                f"Next: Task {task.next_task} - {task.next_title}. "
                "Commit PROGRESS.md (p on the Flux screen pushes it with your other changes).",
                id="next-task",
                classes="muted",
                markup=False,
            )
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.action_preview()

    def on_screen_resume(self) -> None:
        self._state()

    def _state(self) -> bool:
        """Say whether the checks allow marking the task done; True when they do."""
        from lab.tui.screens.checks import ready_for_done

        report = self.lab.last_report
        state = self.query_one("#done-state", Static)
        ready = report is not None and ready_for_done(report)
        if report is None:
            state.update("Run the checks first (4): PROGRESS.md is updated once they pass.")
        elif ready:
            state.update(f"Every check passes ({report.score}/{report.max_score}). Well done.")
        else:
            broken = report.first_broken()
            where = f"; start with {broken.title}" if broken else ""
            state.update(f"Not every check passes yet ({report.score}/{report.max_score}){where}.")
        if not self.written:
            self.query_one("#write-progress", Button).disabled = not ready
        return ready

    def _mark(self, *, dry_run: bool) -> ProgressResult | None:
        from lab.errors import LabError
        from lab.services.progress import mark_task_done

        try:
            return mark_task_done(self.lab.session.workspace, self.lab.session.task.meta, dry_run=dry_run)
        except LabError as err:
            self.notify(str(err), severity="error")
            return None

    def action_preview(self) -> None:
        from lab.tui.diff import diff_content

        self._state()
        result = self._mark(dry_run=True)
        if result is None:
            return
        self.previewed = True
        shown = self.query_one("#progress-diff", Static)
        if not result.diff:
            shown.update("PROGRESS.md already marks this task done.")
            self.written = True
            self.query_one("#write-progress", Button).disabled = True
            return
        shown.update(diff_content(result.diff))

    @on(Button.Pressed, "#write-progress")
    def action_write(self) -> None:
        if not self._state():
            self.notify("Not yet: every check must pass first (4 runs them).", severity="warning")
            return
        if not self.previewed:
            self.action_preview()
            return
        result = self._mark(dry_run=False)
        if result is None:
            return
        self.written = True
        self.query_one("#write-progress", Button).disabled = True
        self.query_one("#progress-diff", Static).update(
            "PROGRESS.md updated." if result.written else "PROGRESS.md already marks this task done."
        )
        task = self.lab.session.task
        self.notify(f"PROGRESS.md updated. Next: Task {task.next_task} - {task.next_title}.", title="Done")
