"""The in-app editor: pick a file of the workspace, edit it in a TextArea, save with ctrl+s.

Everything a file needs (which files, what is refused, the atomic save that notices a change on disk)
is `lab.services.edit`; reading and saving run in workers. Closing with unsaved edits asks first, and
a file that changed on disk since it was opened is only overwritten after the learner saw the diff.
"""

from __future__ import annotations

import importlib.util
from typing import TYPE_CHECKING, ClassVar

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Header, Input, Label, OptionList, Static, TextArea
from textual.widgets.option_list import Option

from lab.tui.fields import FieldInput, run_own_binding
from lab.tui.screens.base import key_footer
from lab.tui.widgets.static import show

if TYPE_CHECKING:
    from lab.services.edit import EditableFile, OpenedFile
    from lab.tui.app import LabApp


def _yaml_language() -> str | None:
    """ "yaml" when tree-sitter's YAML grammar is installed; without it TextArea shows plain text."""
    return "yaml" if importlib.util.find_spec("tree_sitter_yaml") is not None else None


class YamlArea(TextArea):
    """TextArea whose Enter keeps the current line's indentation (YAML is mostly indentation)."""

    async def _on_key(self, event: events.Key) -> None:
        if event.key == "enter" and not self.read_only:
            event.stop()
            event.prevent_default()
            line = self.document[self.cursor_location[0]]
            indent = line[: len(line) - len(line.lstrip(" "))]
            start, end = self.selection
            self.replace("\n" + indent, start, end, maintain_selection_offset=False)
            return
        if await run_own_binding(self, event):
            return
        await super()._on_key(event)


class FilePicker(ModalScreen[str | None]):
    """Which file to edit: the task's own files first, then the rest of the workspace. Typing filters
    the list; Enter on the field opens the first match, or the path as typed (a new file)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("down", "to_list", "Files", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.files: list[EditableFile] = []
        self.shown: list[EditableFile] = []

    @property
    def lab(self) -> LabApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        with Vertical(id="picker-dialog"):
            yield Label("Edit a file", classes="title")
            yield Static(
                "Type to filter (or a new path), ↓ to the list, Enter opens, esc cancels. "
                "★ the task's files.",
                classes="muted",
                markup=False,
            )
            path = FieldInput(placeholder="path in the repository", id="pick-path", compact=True)
            path.cursor_blink = False
            yield path
            yield OptionList(id="pick-files", markup=False)

    def on_mount(self) -> None:
        self.query_one("#pick-path", Input).focus()
        self._load()

    @work(thread=True, exclusive=True, group="picker", exit_on_error=False, description="listing the files")
    def _load(self) -> None:
        from lab.services.edit import editable_files

        session = self.lab.session
        files = editable_files(session.workspace, session.task.id)
        self.app.call_from_thread(self._loaded, files)

    def _loaded(self, files: list[EditableFile]) -> None:
        self.files = files
        self._filter(self.query_one("#pick-path", Input).value)

    def _filter(self, text: str) -> None:
        needle = text.strip().lower()
        self.shown = [f for f in self.files if needle in f.rel.lower()]
        options = self.query_one("#pick-files", OptionList)
        options.clear_options()
        options.add_options(
            [
                Option(("★ " if f.declared else "  ") + f.display + ("" if f.exists else "  (new)"))
                for f in self.shown
            ]
        )
        if self.shown:
            options.highlighted = 0

    @on(Input.Changed, "#pick-path")
    def _typed(self, event: Input.Changed) -> None:
        self._filter(event.value)

    @on(Input.Submitted, "#pick-path")
    def _submitted(self, event: Input.Submitted) -> None:
        typed = event.value.strip()
        exact = [f for f in self.shown if f.rel == typed]
        if exact or (self.shown and typed == ""):
            self.dismiss((exact or self.shown)[0].rel)
        elif typed and not self.shown:
            self.dismiss(typed)
        elif self.shown:
            self.dismiss(self.shown[0].rel)

    @on(OptionList.OptionSelected, "#pick-files")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.shown[event.option_index].rel)

    def action_to_list(self) -> None:
        options = self.query_one("#pick-files", OptionList)
        if self.focused is not options and options.option_count:
            options.focus()
        elif self.focused is options:
            options.action_cursor_down()

    def action_cancel(self) -> None:
        self.dismiss(None)


class UnsavedChanges(ModalScreen[str]):
    """Dismisses with "save", "discard" or "cancel"."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "choose('cancel')", "Keep editing"),
        Binding("s", "choose('save')", "Save"),
        Binding("d", "choose('discard')", "Discard"),
    ]

    def __init__(self, display: str, then: str = "close the editor") -> None:
        super().__init__()
        self.display_name = display
        self.then = then

    def compose(self) -> ComposeResult:
        with Vertical(id="unsaved-dialog"):
            yield Label(f"{self.display_name} has unsaved changes.", classes="title", markup=False)
            yield Static(f"Save them before you {self.then}?", markup=False)
            with Horizontal(id="unsaved-actions"):
                yield Button("Save (s)", id="save", variant="primary", compact=True)
                yield Button("Discard (d)", id="discard", variant="error", compact=True)
                yield Button("Keep editing (esc)", id="cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#cancel", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id or "cancel")

    def action_choose(self, choice: str) -> None:
        self.dismiss(choice)


class EditorScreen(Screen[None]):
    """One file in a TextArea. ctrl+s saves, esc closes (asking when there are unsaved changes),
    ctrl+o opens another file. The area keys (1-7) are text here: close the editor to switch."""

    HELP = (
        "Type to edit; Enter keeps the indentation, Tab indents (two spaces). ctrl+s saves (atomically; if the file changed on disk "
        "since you opened it you see the difference and choose). esc closes the editor, asking first "
        "when something is not saved; ctrl+o opens another file. ctrl+z / ctrl+y undo and redo."
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save", priority=True),
        Binding("escape", "close", "Close", priority=True),
        Binding("ctrl+o", "open_other", "Open file", priority=True),
    ]

    def __init__(self, opened: OpenedFile, line: int | None = None) -> None:
        super().__init__()
        self.rel = opened.rel
        self.line = line
        self.opened = opened
        self.saving = False
        self._after_save: str | None = None

    @property
    def lab(self) -> LabApp:
        return self.app  # type: ignore[return-value]

    @property
    def modified(self) -> bool:
        return self.query_one("#editor", TextArea).text != self.opened.text

    def compose(self) -> ComposeResult:
        yield Header()
        yield Label(f"Edit {self.opened.display}", id="editor-title", classes="title", markup=False)
        area = YamlArea(
            self.opened.text,
            id="editor",
            language=_yaml_language(),
            tab_behavior="indent",
            show_line_numbers=True,
            soft_wrap=False,
        )
        area.indent_width = 2
        area.cursor_blink = False
        yield area
        yield Static("", id="editor-status", classes="muted", markup=False)
        yield key_footer()

    def on_mount(self) -> None:
        area = self.query_one("#editor", TextArea)
        if self.line:
            area.move_cursor((max(self.line - 1, 0), 0), center=True)
        area.focus()
        self._status()
        # The workspace changed (a save in another editor, git, Flux's pull): is this file still what
        # the editor holds?
        self.watch(self.lab, "state", self._workspace_changed, init=False)

    def _workspace_changed(self) -> None:
        if not self.saving:
            self._reread(self.opened)

    @work(thread=True, exclusive=True, group="editor-reread", exit_on_error=False, description="rereading")
    def _reread(self, opened: OpenedFile) -> None:
        from lab.errors import LabError
        from lab.services.edit import open_file

        try:
            now = open_file(self.lab.session.workspace, opened.rel)
        except LabError:
            return  # saving says what is wrong with the file, and asks
        if now.digest != opened.digest:
            self.app.call_from_thread(self._disk_moved, opened, now)

    def _disk_moved(self, was: OpenedFile, now: OpenedFile) -> None:
        if self.saving or self.opened is not was:
            return  # a save (or another reread) got there first
        if now.task != was.task and (self.modified or now.digest is None):
            # `lab sandbox reset --task` in another shell: this text belongs to the old task.
            task = now.task or "none"
            self._status(
                f"the repository now works on task {task}: saving is refused; copy this text elsewhere"
            )
            return
        if now.digest is None:
            self._status("deleted on disk: ctrl+s writes it again")
            return
        if self.modified:
            self._status("changed on disk too: ctrl+s shows the difference first")
            return
        self.opened = now
        self.query_one("#editor", TextArea).load_text(now.text)
        self.notify(f"{now.display} changed on disk: the editor shows it as it is now", timeout=5)

    @on(TextArea.Changed, "#editor")
    def _changed(self) -> None:
        self._status()

    def _status(self, note: str = "") -> None:
        opened = self.opened
        if self.saving:
            state = "saving…"
        elif self.modified:
            state = "modified: ctrl+s saves"
        elif opened.digest is None:
            state = "new file: ctrl+s creates it"
        else:
            state = "saved"
        from lab.core.text import first_other_break, first_unsafe

        # The text area splits lines as str.splitlines() does: such a break is a plain newline there,
        # and saving writes it as one.
        split = first_other_break(opened.text) if opened.digest is not None else None
        if split is not None:
            line, shown = split
            hint = (
                f"line {line} holds a line break {shown} this editor turns into a newline: edit it elsewhere"
            )
            note = f"{note} · {hint}" if note else hint
        hidden = first_unsafe(self.query_one("#editor", TextArea).text)
        if hidden is not None:
            # The text area draws a control character as nothing: say where it is.
            line, shown = hidden
            hint = f"line {line} holds a control character {shown}, not shown here: delete it"
            note = f"{note} · {hint}" if note else hint
        # What to do next first: a long note wraps below it instead of cutting "esc closes" off.
        show(
            self.query_one("#editor-status", Static),
            f"{opened.display} · {state} · esc closes{' · ' + note if note else ''}",
        )

    # --- saving -----------------------------------------------------------------------------------

    def action_save(self) -> None:
        if self.saving:
            return
        self._start_save(force=False)

    def _start_save(self, *, force: bool) -> None:
        self.saving = True
        self._status()
        self._save(self.opened, self.query_one("#editor", TextArea).text, force)

    @work(thread=True, exclusive=True, group="editor", exit_on_error=False, description="saving the file")
    def _save(self, opened: OpenedFile, text: str, force: bool) -> None:
        from lab.errors import LabError
        from lab.services.edit import FileChangedOnDisk, save_file

        try:
            saved = save_file(self.lab.session.workspace, opened, text, force=force)
        except FileChangedOnDisk as err:
            self.app.call_from_thread(self._changed_on_disk, opened, text, err.current)
            return
        except LabError as err:
            self.app.call_from_thread(self._save_failed, err)
            return
        self.app.call_from_thread(self._saved, saved)

    def _saved(self, saved: OpenedFile) -> None:
        self.saving = False
        self.opened = saved
        text = self.query_one("#editor", TextArea).text
        # What was typed while the save ran stays "modified" against what was written.
        self._status("written" if text == saved.text else "")
        self.notify(f"saved {saved.display}", timeout=3)
        self.lab.refresh_state(fetch=False)
        then, self._after_save = self._after_save, None
        if then == "close":
            self.dismiss(None)
        elif then == "quit":
            self.lab.exit_lab()

    def _save_failed(self, err: Exception) -> None:
        self.saving = False
        self._after_save = None
        self._status("not saved")
        self.notify(str(err), title="Not saved", severity="error", timeout=10)

    def _changed_on_disk(self, opened: OpenedFile, text: str, current: str | None) -> None:
        from lab.services.edit import disk_diff
        from lab.tui.screens.confirm import ConfirmDiff

        self.saving = False
        self._status("changed on disk")
        what = "was deleted" if current is None else "changed on disk"

        def answered(overwrite: bool | None) -> None:
            if overwrite:
                self._start_save(force=True)
            else:
                self._after_save = None
                self._status("not saved: the file on disk is unchanged")
                self.notify("Not saved; your edits are still here, and so is the file on disk.")

        self.app.push_screen(
            ConfirmDiff(
                f"{opened.display} {what} since you opened it. Overwrite it with your version?",
                disk_diff(opened, text, current),
            ),
            answered,
        )

    # --- closing ----------------------------------------------------------------------------------

    def action_close(self) -> None:
        self.ask_then("close")

    def ask_then(self, then: str) -> None:
        """Close the editor ("close") or quit the app ("quit"), asking first about unsaved changes."""
        if not self.modified:
            if then == "quit":
                self.lab.exit_lab()
            else:
                self.dismiss(None)
            return

        def answered(choice: str | None) -> None:
            if choice == "save":
                self._after_save = then
                self._start_save(force=False)
            elif choice == "discard":
                if then == "quit":
                    self.lab.exit_lab()
                else:
                    self.dismiss(None)

        verb = "quit the lab" if then == "quit" else "close the editor"
        self.app.push_screen(UnsavedChanges(self.opened.display, verb), answered)

    def action_open_other(self) -> None:
        def chosen(rel: str | None) -> None:
            if rel is not None:
                self.lab.open_for_edit(rel, None, replace=True)

        def answered(choice: str | None) -> None:
            if choice == "discard":
                self.app.push_screen(FilePicker(), chosen)
            elif choice == "save":
                self.notify("Saving first; press ctrl+o again once it is saved.")
                self.action_save()

        if self.modified:
            self.app.push_screen(UnsavedChanges(self.opened.display, "open another file"), answered)
        else:
            self.app.push_screen(FilePicker(), chosen)
