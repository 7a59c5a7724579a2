from __future__ import annotations

import json
from pathlib import Path

from textual.widgets import Button, Markdown, RadioSet, TabbedContent
from tui_helpers import make_session, wait_until

from lab.tui.app import LabApp


async def test_lesson_reveals_hints_one_at_a_time(tmp_path: Path) -> None:
    app = LabApp(make_session(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2")
        screen = app.screen
        assert screen.query_one("#lesson", Markdown)
        await pilot.press("n")
        await pilot.pause()
        assert screen.query_one(TabbedContent).active == "hints-pane"
        hints = [m for m in screen.query("#hints-scroll Markdown")]
        assert len(hints) == 1
        for _ in range(4):
            await pilot.press("n")
        await pilot.pause()
        assert len(screen.query("#hints-scroll Markdown")) == 5
        assert screen.query_one("#reveal", Button).display is False


async def test_quiz_records_a_passing_result(tmp_path: Path) -> None:
    session = make_session(tmp_path)
    app = LabApp(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("6")
        for question in session.task.quiz.questions:
            choices = app.screen.query_one("#choices", RadioSet)
            expected = len(question.choices)
            await wait_until(pilot, lambda c=choices, n=expected: len(c.children) == n)  # type: ignore[misc]
            buttons = list(choices.query("RadioButton"))
            buttons[question.answer].value = True
            await pilot.pause()
            assert await pilot.click("#check")
            await pilot.pause()
            assert await pilot.click("#next")
            await pilot.pause()
        await wait_until(pilot, lambda: (tmp_path / ".fluxlab/quiz.json").exists())
    record = json.loads((tmp_path / ".fluxlab/quiz.json").read_text())
    assert record["passed"] is True
    assert record["score"] == len(session.task.quiz.questions)


async def test_quiz_requires_an_answer(tmp_path: Path) -> None:
    app = LabApp(make_session(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("6")
        await pilot.pause()
        assert await pilot.click("#check")
        await pilot.pause()
        assert app.screen.query_one("#next", Button).disabled is True
