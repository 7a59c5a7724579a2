"""Checks: every check of `lab check` with status and points, the first broken link highlighted,
details of the selected one, `e` to open its file in $EDITOR, and a watch mode."""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Label, Static
from textual.worker import get_current_worker

if TYPE_CHECKING:
    from lab.core.checks.model import CheckDef, CheckResult, Report
    from lab.tui.app import LabApp

ICONS = {
    "pass": "✔ ok",
    "fail": "✗ FAIL",
    "error": "! error",
    "pending": "… wait",
    "skipped": "- skip",
}
WATCH_POLL_S = 1.0
#: With a cluster, pending/erroring live checks are retried this often while watching.
CLUSTER_RETRY_S = 10.0


def ready_for_done(report: Report) -> bool:
    """Everything but the PROGRESS.md row itself passes (or is left out by the mode): the rule of
    `lab check --update-progress`, whether or not the row is already marked."""
    from lab.services.check import PROGRESS_CHECK, ready_for_progress

    if any(c.id == PROGRESS_CHECK and c.status == "pass" for c in report.checks):
        return all(c.status == "pass" or c.excluded for c in report.checks)
    return ready_for_progress(report.checks)


class ChecksScreen(Screen[None]):
    HELP = (
        "`r` runs every check (as `lab check`). Select a row for its message, hint and evidence; "
        "`e` opens the file at the line in $EDITOR. `w` watches: checks re-run when a file is saved."
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "run_checks", "Run"),
        Binding("w", "toggle_watch", "Watch"),
        Binding("e", "edit", "Edit file"),
    ]

    class Planned(Message):
        def __init__(self, defs: tuple[CheckDef, ...]) -> None:
            super().__init__()
            self.defs = defs

    class CheckDone(Message):
        def __init__(self, result: CheckResult) -> None:
            super().__init__()
            self.result = result

    class Finished(Message):
        def __init__(self, report: Report) -> None:
            super().__init__()
            self.report = report

    class Failed(Message):
        def __init__(self, message: str) -> None:
            super().__init__()
            self.message = message

    class FilesChanged(Message):
        pass

    def __init__(self) -> None:
        super().__init__()
        self.results: dict[str, CheckResult] = {}
        self.report: Report | None = None
        self.watching = False
        self.running = False
        self.mode_text = ""

    @property
    def lab(self) -> LabApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Label("", id="checks-summary", classes="muted", markup=False)
        yield DataTable(id="checks", cursor_type="row", zebra_stripes=True)
        with VerticalScroll(id="check-detail-scroll"):
            yield Static("Select a check to see why.", id="check-detail", markup=False)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        table = self.query_one("#checks", DataTable)
        table.add_column("Status", key="status", width=8)
        table.add_column("Points", key="points", width=6)
        table.add_column("Check", key="check")
        self.action_run_checks()

    # --- running ----------------------------------------------------------------------------------

    def action_run_checks(self) -> None:
        from lab.services.session import check_mode

        mode = check_mode(self.lab.session, self.lab.tags_file)
        self.running = True
        self.mode_text = mode.describe()
        self._summary(f"running… · {self.mode_text}")
        self._run(mode.offline, mode.tags_file)

    @work(thread=True, exclusive=True, group="checks", exit_on_error=False)
    def _run(self, offline: bool, tags_file: Path | None) -> None:
        from lab.checks.loader import load_task_checks
        from lab.errors import LabError
        from lab.services.check import run_checks

        worker = get_current_worker()
        session = self.lab.session
        try:
            spec = load_task_checks(session.task.id)
            shown = tuple(d for d in spec.defs if not d.hidden)
            self.post_message(self.Planned(shown))
            visible = {d.id for d in shown}

            def live(result: CheckResult) -> None:
                # Each check appears as it finishes; the final report below repaints them all.
                if result.id in visible and not worker.is_cancelled:
                    self.post_message(self.CheckDone(result))

            report = run_checks(
                session.workspace,
                task=session.task.id,
                offline=offline,
                tags_file=tags_file,
                on_result=live,
            ).for_learner()
        except LabError as err:
            self.post_message(self.Failed(str(err)))
            return
        except Exception as err:  # a crash in a check is reported, never shown as a traceback
            self.post_message(self.Failed(f"checks stopped: {type(err).__name__}: {err}"))
            return
        for result in report.checks:
            if worker.is_cancelled:
                return
            self.post_message(self.CheckDone(result))
        self.post_message(self.Finished(report))

    def on_checks_screen_planned(self, message: Planned) -> None:
        table = self.query_one("#checks", DataTable)
        if table.row_count == 0:
            for d in message.defs:
                table.add_row(Text("…"), Text(f"-/{d.points}"), Text(d.title), key=d.id)
        else:
            for d in message.defs:
                if d.id in table.rows:
                    table.update_cell(d.id, "status", Text("…"))

    def on_checks_screen_check_done(self, message: CheckDone) -> None:
        result = message.result
        self.results[result.id] = result
        table = self.query_one("#checks", DataTable)
        cells = (
            Text(ICONS.get(result.status.value, result.status.value)),
            Text(f"{result.points}/{result.max_points}"),
            Text(result.title),
        )
        if result.id not in table.rows:
            table.add_row(*cells, key=result.id)
            return
        for column, cell in zip(("status", "points", "check"), cells, strict=True):
            table.update_cell(result.id, column, cell)

    def on_checks_screen_finished(self, message: Finished) -> None:
        report = message.report
        self.report = report
        self.running = False
        self.lab.set_report(report)
        table = self.query_one("#checks", DataTable)
        broken = report.first_broken()
        counts = report.counts()
        state = f"{counts['fail']} failing" if counts["fail"] else "nothing failing"
        watch = " · watching" if self.watching else ""
        self._summary(f"score {report.score}/{report.max_score} · {state}{watch} · {self.mode_text}")
        if broken is not None:
            table.update_cell(broken.id, "check", Text(f"▶ {broken.title}", style="bold"))
            table.move_cursor(row=table.get_row_index(broken.id))
            self._show_detail(broken)
        from lab.services.check import ready_for_progress

        if ready_for_progress(report.checks):
            self.notify("Every check passes. Press 7 to update PROGRESS.md.", title="Done")
        elif report.status == "pass":
            self.notify(f"All green: {report.score}/{report.max_score}.", title="Checks")

    def on_checks_screen_failed(self, message: Failed) -> None:
        self.running = False
        self._summary("checks could not run")
        self.notify(message.message, severity="error")

    def _summary(self, text: str) -> None:
        self.query_one("#checks-summary", Label).update(text)

    # --- details ----------------------------------------------------------------------------------

    @on(DataTable.RowHighlighted, "#checks")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        key = event.row_key.value
        if key is not None and key in self.results:
            self._show_detail(self.results[key])

    def _show_detail(self, result: CheckResult) -> None:
        lines = [f"{result.title} [{result.id}]", f"{result.status.value}: {result.message or '-'}"]
        if result.blocked_by:
            lines.append(f"blocked by {result.blocked_by}")
        if result.file:
            lines.append(f"at {result.file}" + (f":{result.line}" if result.line else "") + "  (e: edit)")
        if result.hint:
            lines.append(f"hint: {result.hint}")
        for ev in result.evidence:
            lines.append(f"{ev.kind} {ev.ref}: {ev.text}".rstrip(": "))
        self.query_one("#check-detail", Static).update("\n".join(lines))

    def action_edit(self) -> None:
        table = self.query_one("#checks", DataTable)
        if table.row_count == 0:
            return
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        result = self.results.get(key or "")
        if result is None or not result.file:
            self.notify("This check names no file.", severity="warning")
            return
        path = self.lab.session.workspace / result.file
        editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
        command = [*shlex.split(editor)]
        if result.line:
            command.append(f"+{result.line}")
        command.append(str(path))
        try:
            with self.app.suspend():
                subprocess.run(command, check=False)
        except Exception as err:  # no terminal to lend (headless, web) or no such editor
            self.notify(f"cannot open {result.file} in {editor}: {err}", severity="error")
            return
        self.action_run_checks()

    # --- watch ------------------------------------------------------------------------------------

    def action_toggle_watch(self) -> None:
        self.watching = not self.watching
        if self.watching:
            self._watch()
            self.notify("Watching: checks re-run when a file is saved.")
        else:
            self.workers.cancel_group(self, "watch")
            self.notify("Stopped watching.")

    @work(thread=True, exclusive=True, group="watch", exit_on_error=False)
    def _watch(self) -> None:
        import time

        from lab.core.checks.runner import unsettled
        from lab.services.session import workspace_stamp

        worker = get_current_worker()
        workspace = self.lab.session.workspace
        with_cluster = self.lab.session.kubeconfig is not None
        stamp = workspace_stamp(workspace)
        last_retry = time.monotonic()
        while not worker.cancelled_event.wait(WATCH_POLL_S):
            fresh = workspace_stamp(workspace)
            if fresh != stamp:
                stamp = fresh
                self.post_message(self.FilesChanged())
                continue
            # The cluster changes without any file changing: retry what is still settling there.
            report = self.report
            if (
                with_cluster
                and report is not None
                and not self.running
                and unsettled(report.checks)
                and time.monotonic() - last_retry >= CLUSTER_RETRY_S
            ):
                last_retry = time.monotonic()
                self.post_message(self.FilesChanged())

    def on_checks_screen_files_changed(self) -> None:
        if self.watching:
            self.action_run_checks()
