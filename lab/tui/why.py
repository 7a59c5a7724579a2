"""The app's `lab why` panel: Flux's chain, link by link, with the first broken one named.

The walk (git, registry, cluster) runs in a thread worker; the panel only renders its report.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Static
from textual.worker import Worker, WorkerState, get_current_worker

from lab.core.why import Report
from lab.tui.screens.base import key_footer


class WhyPanel(VerticalScroll):
    """`lab why` in the app: `refresh_why()` starts the walk; the result replaces the text."""

    @dataclass
    class Walked(Message):
        report: Report | None
        error: str | None = None

    def compose(self) -> ComposeResult:
        yield Static(
            "y: why didn't Flux do anything? (controllers → scan → policy → automation → markers → path → "
            "push → origin)",
            id="why-text",
            markup=False,
        )

    def refresh_why(
        self,
        workspace: Path,
        *,
        kubeconfig: str | None = None,
        offline: bool = False,
        tags_file: Path | None = None,
    ) -> None:
        self.query_one("#why-text", Static).update("walking the chain…")
        self._walk(workspace, kubeconfig, offline, tags_file)

    @work(thread=True, exclusive=True, group="why", exit_on_error=False, description="lab why")
    def _walk(self, workspace: Path, kubeconfig: str | None, offline: bool, tags_file: Path | None) -> None:
        from lab.services.why import explain

        report = explain(workspace, offline=offline, tags_file=tags_file, kubeconfig=kubeconfig)
        if not get_current_worker().is_cancelled:
            self.post_message(self.Walked(report))

    @on(Worker.StateChanged)
    def _worker_changed(self, event: Worker.StateChanged) -> None:
        """The app's one worker error handler words it; the panel shows it where the answer goes."""
        from lab.tui.app import worker_error_text

        if event.state is WorkerState.ERROR:
            self.post_message(self.Walked(None, worker_error_text(event.worker)))

    def on_why_panel_walked(self, message: Walked) -> None:
        from lab.core.text import escape_controls
        from lab.core.why import render

        text = message.error if message.report is None else render(message.report)
        self.query_one("#why-text", Static).update(escape_controls(text or ""))


class WhyScreen(ModalScreen[None]):
    """`y` from the Flux and Checks screens: the panel over the current screen; escape closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Close"),
        Binding("y", "again", "Walk again"),
    ]

    def __init__(
        self, workspace: Path, *, kubeconfig: str | None, offline: bool, tags_file: Path | None
    ) -> None:
        super().__init__()
        self.workspace = workspace
        self.kubeconfig = kubeconfig
        self.offline = offline
        self.tags_file = tags_file

    def compose(self) -> ComposeResult:
        yield WhyPanel(id="why")
        yield key_footer()

    def on_mount(self) -> None:
        self.action_again()

    def action_again(self) -> None:
        self.query_one(WhyPanel).refresh_why(
            self.workspace, kubeconfig=self.kubeconfig, offline=self.offline, tags_file=self.tags_file
        )
