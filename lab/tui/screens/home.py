"""Home: the course tasks with their PROGRESS.md status, and where the lab is working."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Label, Static

if TYPE_CHECKING:
    from lab.services.session import ProgressRow
    from lab.tui.app import LabApp


class HomeScreen(Screen[None]):
    HELP = "The course at a glance. Keys 1-6 switch areas; ctrl+p opens the command palette."
    BINDINGS: ClassVar[list[BindingType]] = [Binding("r", "refresh", "Refresh")]

    @property
    def lab(self) -> LabApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        session = self.lab.session
        yield Header()
        with VerticalScroll():
            yield Label(f"Task {session.task.id}: {session.task.title}", classes="title", markup=False)
            yield Label(f"workspace  {self.lab.workspace_label}", classes="muted", markup=False)
            yield Label(self._mode(), id="home-mode", classes="muted", markup=False)
            yield Label(self._tags(), id="home-tags", classes="muted", markup=False)
            yield DataTable(id="tasks", cursor_type="row", zebra_stripes=True)
            yield Static(
                "2 Lesson · 3 Generate and mark · 4 Checks · 5 Push and simulate Flux · 6 Quiz · "
                "7 Done · ? help · ctrl+p commands",
                id="next-steps",
                classes="muted",
                markup=False,
            )
        yield Footer(compact=True)

    def _mode(self) -> str:
        session = self.lab.session
        if session.sandbox and session.kubeconfig is None:
            mode = "practice repository (no cluster needed; `lab sandbox up` adds one)"
        elif session.sandbox:
            mode = "sandbox cluster and registry (`lab sandbox up`)"
        else:
            mode = f"cluster ({session.kubeconfig})"
        return f"mode       {mode}"

    def refresh_header(self) -> None:
        self.query_one("#home-mode", Label).update(self._mode())
        self.query_one("#home-tags", Label).update(self._tags())

    def _tags(self) -> str:
        return f"tags       {self._tag_source()}"

    def _tag_source(self) -> str:
        from lab.services.session import snapshot_date, snapshot_tags_file

        task = self.lab.session.task
        SNAPSHOT_DATE = snapshot_date(task)
        tags_file = self.lab.tags_file
        if tags_file is not None:
            if tags_file == snapshot_tags_file(task):
                return f"a {SNAPSHOT_DATE} snapshot of nginx's tags"
            return f"from {tags_file.name}"
        if self.lab.session.sandbox and self.lab.session.kubeconfig is not None:
            return f"the sandbox registry: nginx as of {SNAPSHOT_DATE}, newer tags as you push them"
        if self.lab.session.sandbox:
            return f"the registry; a {SNAPSHOT_DATE} snapshot when it cannot be reached"
        return "the registry each ImageRepository names"

    def on_mount(self) -> None:
        table = self.query_one("#tasks", DataTable)
        table.add_columns("Task", "Status", "Notes")
        self.action_refresh()

    def on_screen_resume(self) -> None:
        # PROGRESS.md may have changed on the Done screen (or in an editor) since the last look.
        if self.is_mounted and self.query_one("#tasks", DataTable).columns:
            self.refresh_header()
            self.action_refresh()

    def action_refresh(self) -> None:
        self._load_progress()

    @work(thread=True, exclusive=True, group="progress", exit_on_error=False)
    def _load_progress(self) -> None:
        from lab.errors import LabError
        from lab.services.session import progress_rows

        try:
            rows = progress_rows(self.lab.session)
        except LabError as err:
            self.app.call_from_thread(self.notify, str(err), severity="error")
            return
        self.app.call_from_thread(self._show_rows, rows)

    def _show_rows(self, rows: list[ProgressRow]) -> None:
        table = self.query_one("#tasks", DataTable)
        table.clear()
        current = self.lab.session.task.progress_row
        for row in rows:
            style = "bold" if row.task.startswith(current) else ""
            table.add_row(Text(row.task, style=style), Text(row.status), Text(row.note), key=row.task)
