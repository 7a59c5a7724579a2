"""The app's Why? tab (`y` on the Flux screen): `lab why` on the learner's repository, walked in a worker."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Static

from lab.tui.screens.flux import FluxScreen
from lab.tui.why import WhyScreen
from tests.support.tui_helpers import lab_app, practice_session, wait_until

pytestmark = pytest.mark.slow


def _text(widget: Static) -> str:
    return str(widget.content)


async def test_why_tab_names_the_broken_link(tmp_path: Path) -> None:
    session = practice_session(tmp_path)
    app = lab_app(session)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("5")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, FluxScreen)
        await pilot.press("y")
        await pilot.pause()
        modal = app.screen
        assert isinstance(modal, WhyScreen)
        why = modal.query_one("#why-text", Static)
        await wait_until(pilot, lambda: "nothing happened at" in _text(why), timeout=20)
        text = _text(why)
        # The starter has no image automation yet: the walk stops at the scan.
        assert "nothing happened at 'scan': no ImageRepository in the repository" in text
        assert "✗ markers     no $imagepolicy marker in any file" in text
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen
