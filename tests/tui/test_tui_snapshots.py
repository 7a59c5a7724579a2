"""Every screen at 80x24 (the floor) and 120x40, on a practice repository with fixed commit dates so
the origin log's hashes, like everything else on screen, are the same on every run."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.support.tui_helpers import lab_app, practice_session, wait_until

pytestmark = pytest.mark.slow

SIZES = [(80, 24), (120, 40)]


async def _settle(pilot: Pilot[None]) -> None:
    app = pilot.app
    await wait_until(pilot, lambda: app.state is not None and not app.refreshing)  # type: ignore[attr-defined]
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.wait_for_scheduled_animations()
    # A DataTable filled from a worker's result lays out its header on a later refresh.
    await pilot.pause(0.1)
    await pilot.pause()


async def _home(pilot: Pilot[None]) -> None:
    await wait_until(pilot, lambda: pilot.app.screen.query_one("#tasks").row_count == 10)  # type: ignore[attr-defined]
    await wait_until(pilot, lambda: pilot.app.screen.query_one("#lab-tasks").row_count >= 4)  # type: ignore[attr-defined]
    await _settle(pilot)


async def _lesson(pilot: Pilot[None]) -> None:
    await pilot.press("2")
    await _settle(pilot)


async def _generate(pilot: Pilot[None]) -> None:
    await pilot.press("3")
    await _settle(pilot)


async def _checks(pilot: Pilot[None]) -> None:
    await pilot.press("4")
    app = pilot.app
    await wait_until(pilot, lambda: app.last_report is not None and not app.checks.running, timeout=30)  # type: ignore[attr-defined]
    await _settle(pilot)


async def _flux(pilot: Pilot[None]) -> None:
    await pilot.press("5")
    await wait_until(pilot, lambda: "Course state" in str(pilot.app.screen.query_one("#origin-log").render()))
    await _settle(pilot)


async def _quiz(pilot: Pilot[None]) -> None:
    await pilot.press("6")
    await _settle(pilot)


async def _done(pilot: Pilot[None]) -> None:
    await pilot.press("7")
    app = pilot.app
    await wait_until(pilot, lambda: app.last_report is not None and not app.checks.running, timeout=30)  # type: ignore[attr-defined]
    await _settle(pilot)


SCREENS: dict[str, Callable[[Pilot[None]], Awaitable[None]]] = {
    "home": _home,
    "lesson": _lesson,
    "generate": _generate,
    "checks": _checks,
    "flux": _flux,
    "quiz": _quiz,
    "done": _done,
}


@pytest.fixture
def fixed_dates(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_AUTHOR_DATE", "2024-01-15T12:00:00+00:00")
    monkeypatch.setenv("GIT_COMMITTER_DATE", "2024-01-15T12:00:00+00:00")


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("screen", list(SCREENS))
def test_screen(
    screen: str, size: tuple[int, int], snap_compare: Any, tmp_path: Path, fixed_dates: None
) -> None:
    app = lab_app(practice_session(tmp_path))
    assert snap_compare(app, run_before=SCREENS[screen], terminal_size=size)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_overwrite_dialog(
    size: tuple[int, int], snap_compare: Any, tmp_path: Path, fixed_dates: None
) -> None:
    from lab.tui.screens.confirm import ConfirmDiff

    session = practice_session(tmp_path)
    policy = session.workspace / "clusters/dev/image-automation/image-policy.yaml"
    policy.parent.mkdir(parents=True)
    policy.write_text("# my own policy\n")

    async def open_dialog(pilot: Pilot[None]) -> None:
        await pilot.press("3")
        await pilot.pause()
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, ConfirmDiff))
        await _settle(pilot)

    assert snap_compare(lab_app(session), run_before=open_dialog, terminal_size=size)
