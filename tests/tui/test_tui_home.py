from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import DataTable

from lab.tui.app import LabApp
from tests.support.tui_helpers import make_session, wait_until

pytestmark = pytest.mark.slow


async def test_home_lists_course_tasks_with_status(tmp_path: Path) -> None:
    app = LabApp(make_session(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.screen.query_one("#tasks", DataTable)
        await wait_until(pilot, lambda: table.row_count == 10)
        row = table.get_row("09-fluxcd-image-automation")
        assert str(row[1]) == "⬜"
        # The title bar and Home name the mode in the same words.
        assert " · practice repo · " in str(app.sub_title)
        assert "mode       practice repo (" in str(app.screen.query_one("#home-mode").render())


async def test_home_reports_missing_progress_file(tmp_path: Path) -> None:
    session = make_session(tmp_path)
    (tmp_path / "PROGRESS.md").unlink()
    seen: list[object] = []
    app = LabApp(session)
    async with app.run_test(size=(80, 24), message_hook=seen.append) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
    from textual.notifications import Notify

    messages = [m.notification.message for m in seen if isinstance(m, Notify)]
    assert any("no PROGRESS.md" in m for m in messages)
