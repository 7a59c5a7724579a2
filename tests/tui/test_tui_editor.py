"""The lab's editor by keyboard: what it refuses, and that it never drops work without asking."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Static, TextArea

from lab.tui.app import LabApp
from lab.tui.screens.confirm import ConfirmDiff
from lab.tui.screens.editor import EditorScreen, FilePicker, UnsavedChanges
from tests.support.tui_helpers import lab_app, notifications, practice_session, wait_until

pytestmark = pytest.mark.slow


async def _open(pilot: Pilot[None], app: LabApp, typed: str) -> None:
    await pilot.press("3", "e")
    await wait_until(pilot, lambda: isinstance(app.screen, FilePicker) and bool(app.screen.files))
    await pilot.press(*typed, "enter")


async def _opened(pilot: Pilot[None], app: LabApp) -> EditorScreen:
    await wait_until(pilot, lambda: isinstance(app.screen, EditorScreen) and app.screen.opened is not None)
    assert isinstance(app.screen, EditorScreen)
    return app.screen


async def test_a_symlink_out_of_the_workspace_is_refused(tmp_path: Path) -> None:
    session = practice_session(tmp_path)
    secret = tmp_path / "secret.txt"
    secret.write_text("token\n", encoding="utf-8")
    (session.workspace / "notes.yaml").symlink_to(secret)
    seen: list[object] = []
    app = lab_app(session)
    async with app.run_test(size=(80, 24), message_hook=seen.append) as pilot:
        await _open(pilot, app, "notes.yaml")
        await wait_until(
            pilot, lambda: any("leads out of the repository" in m for _, m in notifications(seen))
        )
        await wait_until(pilot, lambda: not isinstance(app.screen, EditorScreen))
        assert app.current_mode == "generate"
        # The picker never listed it either: symlinks are not offered.
        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(app.screen, FilePicker) and bool(app.screen.files))
        assert "notes.yaml" not in [f.rel for f in app.screen.files]  # type: ignore[attr-defined]
    assert secret.read_text(encoding="utf-8") == "token\n"
    assert (
        "error",
        "notes.yaml is a symlink that leads out of the repository - hint: the editor only opens "
        "files inside the workspace",
    ) in notifications(seen)


async def test_closing_with_unsaved_changes_asks_and_discard_keeps_the_file(tmp_path: Path) -> None:
    session = practice_session(tmp_path)
    readme = session.workspace / "README.md"
    before = readme.read_text(encoding="utf-8")
    app = lab_app(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await _open(pilot, app, "README.md")
        editor = await _opened(pilot, app)
        await pilot.press("3", "x")  # area keys are text in the editor: no switch to another area
        assert app.screen is editor and editor.modified
        assert editor.query_one(TextArea).text.startswith("3x")
        status = editor.query_one("#editor-status", Static)
        assert "modified" in str(status.content)
        # A key that leaves the status line's words as they were leaves it unpainted (painting the same
        # text laid the screen out again at every key typed).
        shown = status.visual
        await pilot.press("y")
        assert editor.query_one(TextArea).text.startswith("3xy")
        assert status.visual is shown
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, UnsavedChanges))
        await pilot.press("escape")  # keep editing
        await wait_until(pilot, lambda: app.screen is editor)
        assert editor.modified
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, UnsavedChanges))
        await pilot.press("d")
        await wait_until(
            pilot, lambda: app.current_mode == "generate" and not isinstance(app.screen, EditorScreen)
        )
        assert readme.read_text(encoding="utf-8") == before

        # Save from the question: written, then closed.
        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(app.screen, FilePicker) and bool(app.screen.files))
        await pilot.press(*"README.md", "enter")
        editor = await _opened(pilot, app)
        await pilot.press("end", "!", "escape")
        await wait_until(pilot, lambda: isinstance(app.screen, UnsavedChanges))
        await pilot.press("s")
        await wait_until(pilot, lambda: not isinstance(app.screen, EditorScreen | UnsavedChanges))
        lines = before.splitlines()
        assert readme.read_text(encoding="utf-8").splitlines() == [lines[0] + "!", *lines[1:]]


async def test_quitting_with_unsaved_changes_asks_first(tmp_path: Path) -> None:
    session = practice_session(tmp_path)
    app = lab_app(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await _open(pilot, app, "README.md")
        editor = await _opened(pilot, app)
        await pilot.press("x", "ctrl+q")
        await wait_until(pilot, lambda: isinstance(app.screen, UnsavedChanges))
        assert app.is_running
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is editor)
        assert editor.modified and app.is_running
        await pilot.press("ctrl+q")
        await wait_until(pilot, lambda: isinstance(app.screen, UnsavedChanges))
        await pilot.press("s")
        await wait_until(pilot, lambda: not app.is_running)
    assert (session.workspace / "README.md").read_text(encoding="utf-8").startswith("x")


async def test_a_file_changed_on_disk_is_overwritten_only_after_the_diff(tmp_path: Path) -> None:
    session = practice_session(tmp_path)
    readme = session.workspace / "README.md"
    app = lab_app(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await _open(pilot, app, "README.md")
        editor = await _opened(pilot, app)
        readme.write_text("changed by someone else\n", encoding="utf-8")
        await pilot.press("m", "i", "n", "e", "ctrl+s")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDiff))
        assert "changed on disk since you opened it" in app.screen.title_text  # type: ignore[attr-defined]
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is editor)
        assert readme.read_text(encoding="utf-8") == "changed by someone else\n"
        assert editor.modified
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDiff))
        await pilot.press("y")
        await wait_until(pilot, lambda: readme.read_text(encoding="utf-8").startswith("mine"))
        await wait_until(pilot, lambda: not editor.modified and not editor.saving)


async def test_the_unsaved_question_wraps_a_long_file_name(tmp_path: Path) -> None:
    """'clusters/dev/image-automation/image-policy.yaml has unsaved' lost its last word at 80 columns."""
    from textual.widgets import Label

    app = lab_app(practice_session(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(UnsavedChanges("clusters/dev/image-automation/image-policy.yaml"))
        await wait_until(pilot, lambda: isinstance(app.screen, UnsavedChanges))
        await pilot.pause()
        title = app.screen.query_one(".title", Label)
        assert title.size.height >= 2 and title.size.width <= 62


async def test_a_file_changed_on_disk_is_shown_as_it_is_now(tmp_path: Path) -> None:
    """The editor kept the old text and said 'saved' after the file changed on disk (another
    terminal, git); with edits of its own it now says so before ctrl+s asks."""
    session = practice_session(tmp_path)
    policy = "clusters/dev/image-automation/image-policy.yaml"
    path = session.workspace / policy
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("a: 1\n", encoding="utf-8")
    app = lab_app(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await _open(pilot, app, "image-policy")
        editor = await _opened(pilot, app)
        area = editor.query_one(TextArea)
        assert area.text == "a: 1\n"
        path.write_text("a: 2\n", encoding="utf-8")
        app.refresh_state(fetch=False)
        await wait_until(pilot, lambda: area.text == "a: 2\n", timeout=20)
        assert not editor.modified
        await pilot.press("x")
        path.write_text("a: 3\n", encoding="utf-8")
        app.refresh_state(fetch=False)
        status = editor.query_one("#editor-status", Static)
        await wait_until(pilot, lambda: "changed on disk too" in str(status.content), timeout=20)
        assert area.text.startswith("x")  # the learner's edit is kept


@pytest.mark.parametrize(
    ("text", "said"),
    [
        # The text area draws ESC as nothing: the status names its line, until it is deleted.
        ("a: 1\nb: x\x1b[31my\n", "line 2 holds a control character \\x1b"),
        # It turns \x0b (and U+2028, a lone CR...) into a newline: saving would change the file.
        ("a: 1\nb: x\x0by\n", "line 2 holds a line break \\x0b"),
    ],
)
async def test_the_editor_says_what_it_cannot_show(tmp_path: Path, text: str, said: str) -> None:
    from textual.widgets import Static, TextArea

    session = practice_session(tmp_path)
    (session.workspace / "notes.yaml").write_text(text, encoding="utf-8")
    app = lab_app(session)
    async with app.run_test(size=(120, 30)) as pilot:
        await _open(pilot, app, "notes.yaml")
        editor = await _opened(pilot, app)
        status = editor.query_one("#editor-status", Static)
        await wait_until(pilot, lambda: said in str(status.content))
        if "control character" in said:
            editor.query_one("#editor", TextArea).load_text("a: 1\nb: xy\n")
            await wait_until(pilot, lambda: "control character" not in str(status.content))


async def test_a_buffer_of_another_task_is_not_saved_into_the_repository(tmp_path: Path) -> None:
    """`lab sandbox reset --task 09b-staging` in another shell under an unsaved buffer of 09b: the status
    said "deleted on disk: ctrl+s writes it again" and ctrl+s wrote 09b's file into the 09b-staging
    repository (twalk finding 3). The status and ctrl+s say which task the repository now works on; the
    text stays in the editor."""
    import json

    session = practice_session(tmp_path)
    readme = session.workspace / "README.md"
    record = session.workspace / ".fluxlab" / "task.json"
    seen: list[object] = []
    app = lab_app(session)
    async with app.run_test(size=(80, 24), message_hook=seen.append) as pilot:
        await _open(pilot, app, "README.md")
        editor = await _opened(pilot, app)
        await pilot.press("m", "i", "n", "e")
        record.parent.mkdir(exist_ok=True)
        record.write_text(json.dumps({"task": "09b-staging"}) + "\n", encoding="utf-8")
        readme.unlink()
        app.refresh_state(fetch=False)
        status = editor.query_one("#editor-status", Static)
        await wait_until(pilot, lambda: "now works on task 09b-staging" in str(status.content), timeout=20)
        await pilot.press("ctrl+s")
        await wait_until(
            pilot, lambda: any("now works on task 09b-staging" in m for _, m in notifications(seen))
        )
        assert app.screen is editor and editor.modified and not readme.exists()
        assert editor.query_one(TextArea).text.startswith("mine")
