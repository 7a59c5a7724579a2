"""tests.support.tui_helpers.wait_until: a timeout says what was awaited and what there was instead."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any, cast

import pytest
from textual.pilot import Pilot

from tests.support.tui_helpers import wait_until


class Home:
    """Stands for the screen on top."""


class StubPilot:
    """Just what wait_until uses of a Pilot: the app's screen and pause(). `pauses` counts its sleeps
    between looks (the app runs on the event loop meanwhile), `settled` its pause() calls."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.app = SimpleNamespace(screen=Home())
        self.pauses = 0
        self.settled = 0
        sleep = asyncio.sleep

        async def counted(delay: float) -> None:
            self.pauses += 1
            await sleep(delay)

        monkeypatch.setattr(asyncio, "sleep", counted)

    async def pause(self, delay: float | None = None) -> None:
        self.settled += 1


@pytest.fixture
def stub(monkeypatch: pytest.MonkeyPatch) -> tuple[StubPilot, Pilot[None]]:
    pilot = StubPilot(monkeypatch)
    return pilot, cast(Any, pilot)


async def test_a_met_condition_returns_without_pausing(stub: tuple[StubPilot, Pilot[None]]) -> None:
    pilot, as_pilot = stub
    await wait_until(as_pilot, lambda: True)
    assert pilot.pauses == pilot.settled == 0


async def test_the_timeout_names_the_predicate_the_screen_and_the_description(
    stub: tuple[StubPilot, Pilot[None]],
) -> None:
    _, as_pilot = stub
    status = "re-checking…"
    with pytest.raises(AssertionError) as failure:
        await wait_until(
            as_pilot, lambda: "passed" in status, timeout=0.05, describe=lambda: f"status {status!r}"
        )
    message = str(failure.value)
    assert 'lambda: "passed" in status' in message
    assert "screen: Home" in message
    assert "instead: status 're-checking…'" in message


async def test_a_raising_predicate_is_not_met_yet_and_its_error_is_reported(
    stub: tuple[StubPilot, Pilot[None]],
) -> None:
    pilot, as_pilot = stub
    mounted: list[str] = []

    def widget_text() -> bool:
        if pilot.pauses < 3:
            raise LookupError("no #status yet")
        mounted.append("status")
        return True

    await wait_until(as_pilot, widget_text)
    # Met after sleeps: the screen is let through its work once, and the condition looked at again.
    assert mounted == ["status", "status"] and pilot.pauses == 3 and pilot.settled == 1
    with pytest.raises(AssertionError, match=r"raised KeyError\('never'\)"):
        await wait_until(as_pilot, lambda: {}["never"], timeout=0.05)  # type: ignore[index]


async def test_a_failing_description_does_not_hide_the_timeout(stub: tuple[StubPilot, Pilot[None]]) -> None:
    _, as_pilot = stub
    with pytest.raises(
        AssertionError, match=r"(?s)not met within 0.05s.*describe\(\) raised ZeroDivisionError"
    ):
        await wait_until(as_pilot, lambda: False, timeout=0.05, describe=lambda: 1 / 0)
