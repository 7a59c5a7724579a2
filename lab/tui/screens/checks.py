"""Checks: every check of `lab check` with status and points, the first broken link highlighted,
details of the selected one, `e` to open its file in the lab's editor (`E`: in $EDITOR), and a watch
mode."""

from __future__ import annotations

import os
import shlex
import subprocess
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Label, Static

from lab.core.text import escape_controls
from lab.tui.screens.base import LabScreen
from lab.tui.widgets.static import show
from lab.tui.widgets.table import set_cell

if TYPE_CHECKING:
    from lab.core.checks.model import CheckDef, CheckResult, Report
    from lab.tui.app import ChecksState

ICONS = {
    "pass": "✔ ok",
    "fail": "✗ FAIL",
    "error": "! error",
    "pending": "… wait",
    "skipped": "- skip",
}
#: A pass with an advisory finding (a marker Flux skips): its warning lines lead the detail pane.
WARN_ICON = "✔ warn"


# The Check column takes the width the screen leaves (Status 8 and Points 6, each cell padded by 1 on
# both sides, and 2 for the scroll bar), and a title wraps in it: at 80 columns a fixed row cut titles
# of up to 90 characters mid-word, with the rest only in the detail pane.
CHECK_BESIDE = 8 + 6 + 3 * 2 + 2
CHECK_MIN_WIDTH = 30
#: Before the title, on the first broken link; its width is kept free on every row, so that the mark
#: moving to another row never changes how many lines a title takes.
BROKEN_MARK = "▶ "


def ready_for_done(report: Report) -> bool:
    """Everything but the PROGRESS.md row itself passes (or is left out by the mode): the rule of
    `lab check --update-progress`, whether or not the row is already marked."""
    from lab.services.check import is_progress, ready_for_progress

    if any(is_progress(c) and c.status == "pass" for c in report.checks):
        return all(c.status == "pass" or c.excluded for c in report.checks)
    return ready_for_progress(report.checks)


class ChecksScreen(LabScreen):
    HELP = (
        "`r` runs every check (as `lab check`). Up/Down select a row: its message, hint and evidence "
        "show below; `e` opens the file at the line in the lab's editor (`E` in your $EDITOR). `w` "
        "watches: checks re-run when a file is saved or origin moves."
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "run_checks", "Run"),
        Binding("w", "toggle_watch", "Watch"),
        Binding("e", "edit", "Edit"),
        Binding("E", "external_edit", "Edit in $EDITOR", key_display="E", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._shown_report: Report | None = None
        self._title_width = 80 - CHECK_BESIDE  # the floor's; on_resize sets the screen's
        #: (status, score, max score, the off-branch note) of the last report announced in a toast
        self._announced: tuple[str, int, int, str] | None = None

    @property
    def report(self) -> Report | None:
        return self.lab.checks.report

    @property
    def watching(self) -> bool:
        return self.lab.watching_checks

    def compose_area(self) -> ComposeResult:
        yield Label("", id="checks-summary", classes="muted", markup=False)
        yield DataTable(id="checks", cursor_type="row", zebra_stripes=True)
        with VerticalScroll(id="check-detail-scroll"):
            yield Static("Select a check to see why.", id="check-detail", markup=False)

    def on_mount(self) -> None:
        self._add_columns(self.query_one("#checks", DataTable))
        self.watch(self.lab, "checks", self._render_checks, init=False)
        self.watch(self.lab, "state", self._render_summary, init=False)
        if self.lab.checks.report is None and not self.lab.checks.running:
            self.lab.run_checks()
        self._render_checks(self.lab.checks)

    def _add_columns(self, table: DataTable[Text]) -> None:
        table.add_column("Status", key="status", width=8)
        table.add_column("Points", key="points", width=6)
        table.add_column("Check", key="check", width=self._title_width)

    def on_resize(self, event: events.Resize) -> None:
        """The titles wrap at the width the screen has: the rows are built again when it changes (a
        row's height is fixed when it is added), keeping the cursor on its check."""
        width = max(CHECK_MIN_WIDTH, event.size.width - CHECK_BESIDE)
        if width == self._title_width:
            return
        self._title_width = width
        table = self.query_one("#checks", DataTable)
        selected = self._selected_key()
        table.clear(columns=True)
        self._add_columns(table)
        self._render_checks(self.lab.checks)
        if selected in table.rows:
            table.move_cursor(row=table.get_row_index(selected))

    def _title_lines(self, title: str) -> list[str]:
        """`title` wrapped to the Check column, the broken link's mark left room for on every row."""
        width = max(1, self._title_width - len(BROKEN_MARK))
        return [line.plain.rstrip() for line in Text(title).wrap(self.app.console, width)] or [""]

    def _title_cell(self, title: str, broken: bool = False) -> Text:
        lines = self._title_lines(title)
        if not broken:
            return Text("\n".join(lines))
        indent = "\n" + " " * len(BROKEN_MARK)
        return Text(BROKEN_MARK + indent.join(lines), style="bold")

    def _add_row(self, table: DataTable[Text], d: CheckDef) -> None:
        table.add_row(
            Text("…"),
            Text(f"-/{d.points}"),
            self._title_cell(d.title),
            key=d.id,
            height=len(self._title_lines(d.title)),
        )

    def on_screen_resume(self) -> None:
        if self.lab.stale_checks() and not self.lab.checks.running:
            self.lab.run_checks()

    def action_run_checks(self) -> None:
        self.lab.run_checks()

    # --- rendering the one check state -------------------------------------------------------------

    def _render_checks(self, checks: ChecksState) -> None:
        table = self.query_one("#checks", DataTable)
        if table.row_count == 0:
            for d in checks.defs:
                self._add_row(table, d)
        broken = checks.report.first_broken() if checks.report is not None else None
        for d in checks.defs:
            result = checks.results.get(d.id)
            if d.id not in table.rows:
                self._add_row(table, d)
            if result is None:
                set_cell(table, d.id, "status", Text("…" if checks.running else "-"))
                continue
            first = broken is not None and broken.id == d.id
            icon = WARN_ICON if result.warnings() else ICONS.get(result.status.value, result.status.value)
            set_cell(table, d.id, "status", Text(icon))
            set_cell(table, d.id, "points", Text(f"{result.points}/{result.max_points}"))
            set_cell(table, d.id, "check", self._title_cell(result.title, first))
        self._render_summary()
        if checks.report is not None and checks.report is not self._shown_report:
            self._shown_report = checks.report
            if broken is not None and broken.id in table.rows:
                table.move_cursor(row=table.get_row_index(broken.id))
            self._announce(checks.report)
        self._render_detail()

    def _render_summary(self) -> None:
        checks = self.lab.checks
        report = checks.report
        watch = " · watching" if self.lab.watching_checks else ""
        if checks.running:
            text = f"running… · {checks.mode_text}"
        elif checks.error is not None:
            text = "checks could not run"
        elif report is None:
            text = "no check run yet · r runs them"
        else:
            counts = report.counts()
            state = f"{counts['fail']} failing" if counts["fail"] else "nothing failing"
            warned = sum(1 for c in report.checks if c.warnings())
            state += f", {warned} with a warning" if warned else ""
            stale = " · out of date (r)" if self.lab.stale_checks() else ""
            branch = self._branch()
            graded = f" · graded: origin/{checks.graded}, not {branch}" if branch else ""
            text = f"score {report.score}/{report.max_score} · {state}{graded}{stale}{watch} · {checks.mode_text}"
        show(self.query_one("#checks-summary", Label), text)

    def _branch(self) -> str | None:
        """The branch checked out when it is not the one the checks grade."""
        git = self.lab.state.git if self.lab.state is not None else None
        branch = git.branch if git is not None else None
        return branch if branch is not None and branch != self.lab.checks.graded else None

    def _announce(self, report: Report) -> None:
        from lab.services.check import off_branch_note, ready_for_progress

        graded = self.lab.checks.graded
        # Passing on origin's graded branch says nothing of a feature branch the learner pushed.
        note = off_branch_note(self.lab.state.git if self.lab.state is not None else None, graded)
        # A watch re-runs the checks whenever origin moves and while the cluster settles: the same
        # outcome again is no news, and re-posting it kept the toast up for as long as the watch ran.
        # The same score on another branch (or another push of it) is news.
        outcome = (report.status, report.score, report.max_score, note)
        if outcome == self._announced:
            return
        self._announced = outcome
        elsewhere = f" on {graded}, not {self._branch()}" if note else ""
        if ready_for_progress(report.checks):
            done = (
                "7 (Done), then u" if "done" in self.lab.session.task.meta.areas else "`lab progress --done`"
            )
            text = f"Every check passes but the PROGRESS.md row ({report.score}/{report.max_score}): {done} marks the task done there."
            if note:
                self.notify(f"{text} {note}", title=f"Done{elsewhere}", severity="warning", timeout=15)
            else:
                self.notify(text, title="Done")
        elif report.status == "pass":
            if note:
                self.notify(
                    f"All green: {report.score}/{report.max_score} for origin/{graded}. {note}",
                    title=f"Checks{elsewhere}",
                    severity="warning",
                    timeout=15,
                )
            else:
                self.notify(f"All green: {report.score}/{report.max_score}.", title="Checks")

    # --- details ----------------------------------------------------------------------------------

    @on(DataTable.RowHighlighted, "#checks")
    def _highlighted(self) -> None:
        self._render_detail()

    def _selected_key(self) -> str:
        table = self.query_one("#checks", DataTable)
        if table.row_count == 0:
            return ""
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value or ""

    def _selected(self) -> CheckResult | None:
        return self.lab.checks.results.get(self._selected_key())

    def _render_detail(self) -> None:
        """The selected row's result from the same check state as its row: they cannot disagree."""
        result = self._selected()
        detail = self.query_one("#check-detail", Static)
        if result is None:
            show(detail, "Select a check to see why." if not self.lab.checks.running else "running…")
            return
        icon = ICONS.get(result.status.value, result.status.value)
        lines = [f"{result.title} [{result.id}]", f"{icon}: {result.message or '-'}"]
        lines.extend(f"warning: {w}" for w in result.warnings())
        if result.blocked_by:
            lines.append(f"blocked by {result.blocked_by}")
        if result.file:
            lines.append(
                f"at {result.file}" + (f":{result.line}" if result.line else "") + "  (e: edit, E: $EDITOR)"
            )
        if result.hint:
            lines.append(f"hint: {result.hint}")
        for ev in result.evidence:
            lines.append(ev.shown())
        show(detail, escape_controls("\n".join(lines)))  # file names, values and messages from the repo

    def action_edit(self) -> None:
        """`e`: the selected check's file at its line in the lab's editor (the picker when it names none)."""
        result = self._selected()
        if result is None or not result.file:
            self.lab.edit_file()
            return
        self.lab.edit_file(result.file, result.line)

    def action_external_edit(self) -> None:
        """`E`: the same in $VISUAL / $EDITOR, lent the terminal."""
        result = self._selected()
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
        self.lab.refresh_state(fetch=False)
        self.lab.run_checks()

    # --- watch ------------------------------------------------------------------------------------

    def action_toggle_watch(self) -> None:
        self.lab.watching_checks = not self.lab.watching_checks
        if self.lab.watching_checks:
            self.notify("Watching: checks re-run when a file is saved or origin moves.")
        else:
            self.notify("Stopped watching.")
        self._render_summary()
