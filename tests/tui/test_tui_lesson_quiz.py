from __future__ import annotations

import json
from pathlib import Path

import pytest
from textual.widgets import Button, Markdown, Static, TabbedContent

from lab.tui.app import LabApp
from tests.support.tui_helpers import make_session, wait_until

pytestmark = pytest.mark.slow


async def test_lesson_reveals_hints_one_at_a_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each code block's text is highlighted once, as Textual highlights it: Textual did it again as
    the block mounted and as its screen came back, and Pygments tries every lexer on a block that
    names no language (a third of a CPU-second a block)."""
    from collections import Counter

    from textual.widgets import _markdown
    from textual.widgets.markdown import MarkdownFence

    from lab.tui.screens import lesson

    highlighted: list[str] = []
    highlight = _markdown.highlight

    def counted(code: str, **options: object) -> object:
        highlighted.append(code)
        return highlight(code, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(_markdown, "highlight", counted)
    lesson._highlighted.cache_clear()  # as in a process that has shown no lesson yet
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
        await pilot.press("1", "2")
        await wait_until(pilot, lambda: app.screen is screen)
        await pilot.pause()
        fences = list(screen.query(lesson.CommandFence))
        assert fences and set(highlighted) == {f.code for f in fences}
        assert max(Counter(highlighted).values()) == 1, Counter(highlighted)
        for fence in fences:
            own = MarkdownFence.highlight(
                fence.code, fence.lexer, ansi=app.native_ansi_color, dark=app.current_theme.dark
            )
            shown = fence._highlighted_code
            assert (shown.plain, shown.spans) == (own.plain, own.spans)


async def test_the_lesson_says_it_is_loading_at_once_and_builds_after_the_first_frame(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first visit to the Lesson takes about a CPU-second of Textual's Markdown widgets, and the key
    that opened it showed nothing until they were all built. Held here until the screen has shown."""
    import asyncio

    from lab.tui.screens.lesson import LessonMarkdown

    release = asyncio.Event()
    update = LessonMarkdown.update

    def held(self: LessonMarkdown, markdown: str) -> object:
        if self.id != "lesson" or not markdown:
            return update(self, markdown)

        async def later() -> None:
            await release.wait()
            await update(self, markdown)

        return later()

    monkeypatch.setattr(LessonMarkdown, "update", held)
    app = LabApp(make_session(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        # Within seconds, while the lesson is held: the screen waited for every block to mount.
        try:
            await asyncio.wait_for(pilot.press("2"), timeout=10)
        finally:
            release_later = asyncio.get_running_loop().call_later(15, release.set)  # the app can stop
        await pilot.pause()
        screen = app.screen
        loading = screen.query_one("#lesson-loading", Static)
        assert loading.display and "loading the lesson" in str(loading.render())
        assert not screen.query("#lesson MarkdownBlock")
        release_later.cancel()
        release.set()
        await wait_until(pilot, lambda: not screen.query("#lesson-loading"))
        assert len(screen.query("#lesson MarkdownBlock")) > 10


async def test_a_hints_long_command_keeps_its_lines_whole_and_scrolls_sideways(tmp_path: Path) -> None:
    """At 80 columns hint 1's bootstrap command was wrapped inside a word (image-automation-con⏎troller)
    and at a space before an option: copied from the terminal, either breaks the command. Its lines stay
    whole; Tab puts the cursor on the block and → scrolls it to their ends."""
    from textual.widgets import Label

    from lab.tui.screens.lesson import CommandFence

    app = LabApp(make_session(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2", "n")
        # The hint's fences mount one by one: wait for the one with the long command, not for any two.
        await wait_until(
            pilot, lambda: any("--components-extra" in f.code for f in app.screen.query(CommandFence))
        )
        fence = next(f for f in app.screen.query(CommandFence) if "--components-extra" in f.code)
        lines = fence.code.rstrip("\n").splitlines()
        label = fence.query_one(Label)
        await wait_until(pilot, lambda: label.size.height > 0)
        assert (label.size.width, label.size.height) == (max(map(len, lines)), len(lines))  # one row a line
        assert fence.max_scroll_x > 0
        await pilot.press("tab", "tab")
        assert app.focused is fence
        await pilot.press(*["right"] * 40)
        await wait_until(pilot, lambda: fence.scroll_x == fence.max_scroll_x)


async def test_quiz_records_a_passing_result(tmp_path: Path) -> None:
    session = make_session(tmp_path)
    app = LabApp(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("6")
        for number, question in enumerate(session.task.quiz.questions, 1):
            counter = app.screen.query_one("#counter")
            await wait_until(pilot, lambda n=number, c=counter: f"Question {n} of" in str(c.render()))  # type: ignore[misc]
            for _ in range(question.answer):
                await pilot.press("down")
            await pilot.press("enter")
            await pilot.pause()
            if number < len(session.task.quiz.questions):
                await pilot.press("n")
        # The last answer is recorded when it is given: Done and the checks see it without another key.
        await wait_until(pilot, lambda: (tmp_path / ".fluxlab/quiz.json").exists())
        total = len(session.task.quiz.questions)
        counter = app.screen.query_one("#counter")
        await wait_until(pilot, lambda: f"recorded: {total}/{total} passed" in str(counter.render()))
        assert "n shows your result" in str(app.screen.query_one("#feedback", Static).content)
        assert "quiz_answers" not in (tmp_path / ".fluxlab/session.json").read_text()
        # The footer says what n does now, as the text above it does: no "Next question" after the last.
        from textual.widgets._footer import FooterKey

        await pilot.pause()
        offered = [(k.key, k.description) for k in app.screen.query(FooterKey)]
        assert ("n", "Show result") in offered and ("n", "Next question") not in offered, offered
        assert str(app.screen.query_one("#next", Button).label) == "Result (n)"
        await pilot.press("n")
        await wait_until(
            pilot, lambda: f"Quiz finished · recorded: {total}/{total} passed" in str(counter.render())
        )
        # The open questions lead to the lab's exercises on them.
        think = str(app.screen.query_one("#feedback", Static).content)
        assert think.startswith("Think about:\n- How would you handle multiple images in one deployment?\n")
        assert "  the lab's exercise on it: Task 09b-staging (Home, 1: Enter opens it)\n" in think
        # A finished quiz has no next question (nor result) for the footer to offer; r starts again.
        await pilot.pause()
        offered = [k.description for k in app.screen.query(FooterKey)]
        assert "Next question" not in offered and "Start again" in offered, offered
        assert "Show result" not in offered, offered
    record = json.loads((tmp_path / ".fluxlab/quiz.json").read_text())
    assert record["passed"] is True
    assert record["score"] == len(session.task.quiz.questions)


async def test_quiz_requires_an_answer_and_resumes_after_quitting(tmp_path: Path) -> None:
    session = make_session(tmp_path)
    app = LabApp(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("6")
        await pilot.pause()
        await pilot.press("n")
        await pilot.pause()
        assert "Question 1 of" in str(app.screen.query_one("#counter").render())
        assert app.screen.query_one("#next", Button).disabled is True
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("n")
        await wait_until(pilot, lambda: (tmp_path / ".fluxlab/session.json").exists())
    again = LabApp(session)
    async with again.run_test(size=(80, 24)) as pilot:
        await pilot.press("6")
        counter = again.screen.query_one("#counter")
        await wait_until(pilot, lambda: "Question 2 of" in str(counter.render()))


async def test_revealed_hints_survive_quitting(tmp_path: Path) -> None:
    session = make_session(tmp_path)
    app = LabApp(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2", "n", "n")
        await wait_until(pilot, lambda: (tmp_path / ".fluxlab/session.json").exists())
        await app.workers.wait_for_complete()
    again = LabApp(session)
    async with again.run_test(size=(80, 24)) as pilot:
        await pilot.press("2")
        screen = again.screen
        await wait_until(pilot, lambda: len(screen.query("#hints-scroll Markdown")) == 2)
        assert screen.query_one(TabbedContent).active == "lesson-pane"


def test_a_long_pitfall_wraps_under_its_own_column() -> None:
    """A cause longer than the pane wrapped back to the left margin, under "why:"."""
    from rich.console import Console

    from lab.services.tasks import Pitfall
    from lab.tui.screens.lesson import pitfalls_content

    console = Console(width=40, record=True)
    console.print(pitfalls_content((Pitfall("Issue", "a cause " * 10, "the fix", "marker.valid"),)))
    lines = [line.rstrip() for line in console.export_text().splitlines()]
    assert lines[0] == "Issue" and lines[1].startswith("  why:   a cause")
    assert lines[2].startswith(" " * 9 + "a cause"), lines
    assert any(line.startswith("  check: marker.valid") for line in lines)
