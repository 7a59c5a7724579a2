"""Home: the course tasks with their PROGRESS.md status, and where the lab is working."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Label, Static
from textual.worker import get_current_worker

from lab.core.text import escape_controls
from lab.tui.screens.base import LabScreen
from lab.tui.widgets.table import set_cell

# Where the learner is with each of the lab's tasks (services.session.task_standing), as Home shows it.
STANDING = {"done": "✅", "started": "started", "": ""}

# The progress table's Notes column: at least what fits 80 columns, and the rest of a wider screen
# (Task 26 and Status 6, each cell padded by 1 on both sides, and 4 for the scroll bar and margins).
NOTES_MIN_WIDTH = 38
NOTES_BESIDE = 26 + 6 + 3 * 2 + 4


class TaskList(DataTable[Text]):
    """The lab's tasks, which keep the focus on Home: ↑↓ move the cursor, and PageUp/PageDown scroll the
    page to the course's table below (a DataTable's own would jump its cursor over four rows)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("pagedown", "screen.page(1)", "Scroll down a page", show=False),
        Binding("pageup", "screen.page(-1)", "Scroll up a page", show=False),
    ]


class HomeScreen(LabScreen):
    HELP = (
        "The course at a glance. Keys 1-7 switch areas; ? lists every key of a screen; "
        "ctrl+p opens the command palette."
    )
    BINDINGS: ClassVar[list[BindingType]] = [Binding("r", "refresh", "Refresh")]
    # The lab's tasks: Enter opens the highlighted one, straight away.
    AUTO_FOCUS = "#lab-tasks"

    def __init__(self) -> None:
        super().__init__()
        self._missing_told = False
        self._rows: list[tuple[str, str, str]] = []
        self._notes_width = NOTES_MIN_WIDTH
        #: the open task when the lab's task list last placed its cursor (on ▶)
        self._cursor_task = ""
        #: rows of tasks done in their own repositories -> where (read with the catalogue, in its worker)
        self._elsewhere: dict[str, str] = {}

    def compose_area(self) -> ComposeResult:
        session = self.lab.session
        page = VerticalScroll()
        # Not focusable: with the page focused, ↑↓ scrolled it rather than moving the task cursor.
        page.can_focus = False
        with page:
            yield Label(
                f"Task {session.task.id}: {session.task.title}",
                id="home-title",
                classes="title",
                markup=False,
            )
            yield Label(
                f"workspace  {self.lab.workspace_label}", id="workspace", classes="muted", markup=False
            )
            yield Label(self._mode(), id="home-mode", classes="muted", markup=False)
            yield Label(self._tags(), id="home-tags", classes="muted", markup=False)
            # The lab's tasks above the course's table: at 80x24 below it they were off screen, and the
            # learner who paged down to them had the arrows scroll the page instead of choosing a task.
            yield Label(
                "Tasks in this lab, each in its own repository (↑↓ choose, Enter opens)",
                classes="muted",
                markup=False,
            )
            yield TaskList(id="lab-tasks", cursor_type="row", zebra_stripes=True)
            # Read only: the page scrolls past it (PageUp/PageDown); focus stays on the lab's tasks.
            tasks = DataTable[Text](id="tasks", cursor_type="none", zebra_stripes=True)
            tasks.can_focus = False
            yield tasks
            yield Static(
                "2 Lesson · 3 Generate and mark · 4 Checks · 5 Push and simulate Flux · 6 Quiz · "
                "7 Done · ? keys · ctrl+p commands",
                id="next-steps",
                classes="muted",
                markup=False,
            )

    def on_mount(self) -> None:
        table = self.query_one("#tasks", DataTable)
        # Fixed widths: the table is filled from a worker's result, and widths measured from the
        # rows would change the header after the first paint. Text labels: a str is parsed as markup,
        # which imports rich's emoji table before the first frame.
        self._add_progress_columns(table)
        lab_tasks = self.query_one("#lab-tasks", DataTable)
        lab_tasks.add_column(Text("Id"), width=13, key="id")
        lab_tasks.add_column(Text("Status"), width=7, key="standing")
        lab_tasks.add_column(Text("Title"), width=50, key="title")
        self.watch(self.lab, "session", self._session_changed, init=False)
        self.watch(self.lab, "state", self._show_rows)
        self.watch(self.lab, "state", self._show_tags, init=False)
        self._load_catalogue()
        if self.lab.session.resumed:
            from lab.services.session import resumed_line

            self.notify(resumed_line(self.lab.session), timeout=10)

    def _add_progress_columns(self, table: DataTable[Text]) -> None:
        table.add_column(Text("PROGRESS.md here: task"), width=26)
        table.add_column(Text("Status"), width=6)
        table.add_column(Text("Notes"), width=self._notes_width)

    def on_resize(self, event: events.Resize) -> None:
        """The Notes column takes the width the screen has (a learner's note is theirs to read whole);
        the columns are rebuilt only when that width changes, so the header keeps still otherwise."""
        width = max(NOTES_MIN_WIDTH, event.size.width - NOTES_BESIDE)
        if width == self._notes_width:
            return
        self._notes_width = width
        table = self.query_one("#tasks", DataTable)
        table.clear(columns=True)
        self._add_progress_columns(table)
        self._rows = []
        self._show_rows()

    @work(
        thread=True, exclusive=True, group="catalogue", exit_on_error=False, description="reading the tasks"
    )
    def _load_catalogue(self) -> None:
        from lab.services.progress import done_elsewhere
        from lab.services.session import home_relative, lab_task_standings

        session = self.lab.session
        tasks = [
            (t.id, STANDING[stands], t.title)
            for t, stands in lab_task_standings(session.workspace, session.task.id)
        ]
        elsewhere = {
            row: home_relative(where) for row, where, _ in done_elsewhere(session.workspace, session.task.id)
        }
        # A newer read (PROGRESS.md changed meanwhile) replaced this one: its standings may be stale.
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show_catalogue, tasks)
            self.app.call_from_thread(self._show_elsewhere, elsewhere)

    def _show_elsewhere(self, elsewhere: dict[str, str]) -> None:
        if elsewhere != self._elsewhere:
            self._elsewhere = elsewhere
            self._rows = []
            self._show_rows()

    def _show_catalogue(self, tasks: list[tuple[str, str, str]]) -> None:
        table = self.query_one("#lab-tasks", DataTable)
        current = self.lab.session.task.id
        rows = [
            (("▶ " if task_id == current else "  ") + task_id, standing, title)
            for task_id, standing, title in tasks
        ]
        ids = [task_id for task_id, _, _ in tasks]
        if ids == [key.value for key in table.rows]:
            # The same tasks: change the cells that changed, and leave the learner's cursor where it is,
            # unless another task was opened (from Done's n): the cursor goes with ▶.
            for task_id, row in zip(ids, rows, strict=True):
                for column, text in zip(("id", "standing", "title"), row, strict=True):
                    set_cell(table, task_id, column, Text(text))
            if current != self._cursor_task and current in table.rows:
                table.move_cursor(row=table.get_row_index(current))
            self._cursor_task = current
            return
        table.clear()
        for task_id, (shown, standing, title) in zip(ids, rows, strict=True):
            table.add_row(Text(shown), Text(standing), Text(title), key=task_id)
        if current in table.rows:
            table.move_cursor(row=table.get_row_index(current))
        self._cursor_task = current

    @on(DataTable.RowHighlighted, "#lab-tasks")
    def _keep_cursor_in_sight(self, event: DataTable.RowHighlighted) -> None:
        # The table is the last thing on Home, below the fold of a 24-row terminal: the cursor moved
        # onto rows nobody could see, and Enter opened one of them.
        from textual.geometry import Region

        table = event.data_table
        top = table.virtual_region.y + (table.header_height if table.show_header else 0) + event.cursor_row
        self.query_one(VerticalScroll).scroll_to_region(Region(0, top, 1, 1), animate=False)

    @on(DataTable.RowSelected, "#lab-tasks")
    def _task_chosen(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self.lab.open_task(event.row_key.value)

    def _mode(self) -> str:
        mode, detail = self.lab.session.mode_detail
        return f"mode       {mode} ({detail})"

    def _session_changed(self) -> None:
        task = self.lab.session.task
        self.query_one("#home-title", Label).update(f"Task {task.id}: {task.title}")
        self.query_one("#workspace", Label).update(f"workspace  {self.lab.workspace_label}")
        self._rows = []
        self._load_catalogue()
        self.query_one("#home-mode", Label).update(self._mode())
        self.query_one("#home-tags", Label).update(self._tags())

    def _tags(self) -> str:
        from lab.services.session import tag_source

        # Whether the running sandbox serves another task: read with the state, in its worker.
        state = self.lab.state
        elsewhere = state.sandbox_elsewhere if state is not None else None
        return f"tags       {tag_source(self.lab.session, self.lab.tags_file, elsewhere).row}"

    def _show_tags(self) -> None:
        self.query_one("#home-tags", Label).update(self._tags())

    def _show_rows(self) -> None:
        """PROGRESS.md's rows, as the workspace state read them (parsing is pure and quick)."""
        state = self.lab.state
        if state is None:
            return  # the first frame: nothing read yet, so nothing to import for it
        from lab.core.progress import PROGRESS_FILE, best_matches, parse_progress
        from lab.errors import LabError

        path = self.lab.session.workspace / PROGRESS_FILE
        text = state.files.get(PROGRESS_FILE)
        table = self.query_one("#tasks", DataTable)
        try:
            if text is None:
                raise LabError(f"{path}: no PROGRESS.md", hint="restore it from git, or run `lab init`")
            rows = parse_progress(text, file=str(path)).rows
        except LabError as err:
            table.clear()
            self._rows = []
            if not self._missing_told:
                self._missing_told = True
                self.notify(str(err), severity="error")
            return
        self._missing_told = False
        from lab.core.progress import status_is_done

        # A row this file leaves open for a task done in its own repository: said where, and how to copy it.
        later = {
            k: where
            for row, where in self._elsewhere.items()
            for k in best_matches([r.task for r in rows], row)
            if not status_is_done(rows[k].status)
        }
        shown = [
            (r.task, r.status, f"done in {later[k]}: lab progress --sync" if k in later else r.note)
            for k, r in enumerate(rows)
        ]
        if shown == self._rows:
            return  # the same rows: keep the table (and its cursor) as it is
        # The open task's row may have changed since the list was read: its standing there too.
        self._load_catalogue()
        self._rows = shown
        table.clear()
        # The task's own row, as `lab progress` finds it (`09` is not `09b-multi`).
        mine = set(best_matches([r.task for r in rows], self.lab.session.task.meta.progress_row))
        for index, (row, cells) in enumerate(zip(rows, shown, strict=True)):
            style = "bold" if index in mine else ""
            # PROGRESS.md is the learner's file: its cells are shown escaped.
            task, status, note = (escape_controls(cell) for cell in cells)
            table.add_row(
                Text(task, style=style),
                Text(status),
                Text(note, style="italic" if index in later else ""),
                key=row.task,
            )
