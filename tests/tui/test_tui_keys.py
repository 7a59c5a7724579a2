"""The whole task by keyboard alone, and the one workspace state every screen renders from.

Every step below is a key press (pilot.press); the tests only read the screen and the files."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from textual.widget import Widget
from textual.widgets import Button, DataTable, Input, Label, Markdown, OptionList, Static, TabbedContent

from lab.services.session import Session
from lab.tui.app import LabApp
from lab.tui.screens.confirm import ConfirmDiff
from tests.support.tui_helpers import (
    TAGS_FILE,
    fast_keys,
    lab_app,
    notifications,
    practice_session,
    type_keys,
    wait_until,
)

pytestmark = pytest.mark.slow

OUT = "clusters/dev/image-automation"
DEPLOYMENT = "apps/base/nginx/deployment.yaml"


def _text(widget: Static) -> str:
    return str(widget.content)


def _git(ws: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=ws, capture_output=True, text=True, check=True).stdout


def _state_bar(app: LabApp) -> str:
    return _text(app.screen.query_one("#state-bar", Static))


async def _answer_quiz_by_keys(pilot, app: LabApp) -> None:  # type: ignore[no-untyped-def]
    questions = app.session.task.quiz.questions
    for number, question in enumerate(questions, 1):
        counter = app.screen.query_one("#counter")
        await wait_until(pilot, lambda n=number, c=counter: f"Question {n} of" in str(c.render()))  # type: ignore[misc]
        choices = app.screen.query_one("#choices", OptionList)
        assert choices.highlighted == 0 and choices.has_focus
        for _ in range(question.answer):
            await pilot.press("down")
        assert choices.highlighted == question.answer
        await pilot.press("enter")
        await pilot.pause()
        assert "✔ Right." in _text(app.screen.query_one("#feedback", Static))
        await pilot.press("n")
        await pilot.pause()


async def test_whole_task_by_keys_alone(tmp_path: Path) -> None:
    """The acceptance path, keys only: generate, mark, push, Flux's commit (`p` then only fast-forwards to
    it), the quiz, the checks, PROGRESS.md, and after a second Flux commit `p` on Done rebases onto it and
    pushes; every screen tells the same truth on the way and every check ends green. One walk for what
    were two (this one and test_tui_flows' full-task test): the same path, every assertion of both."""
    session = practice_session(tmp_path)
    ws = session.workspace
    tags = tmp_path / "nginx-tags.txt"  # the bundled snapshot; a newer tag is added for Flux's second commit
    shutil.copyfile(TAGS_FILE, tags)
    seen: list[object] = []
    app = lab_app(session, tags_file=tags)
    async with app.run_test(size=(80, 24), message_hook=seen.append) as pilot:
        await wait_until(pilot, lambda: app.state is not None)
        await pilot.press("3", "ctrl+s")
        await wait_until(pilot, lambda: (ws / OUT / "image-update.yaml").exists())
        await pilot.press("right_square_bracket")  # the Marker tab, by key
        await pilot.pause()
        assert app.screen.query_one(TabbedContent).active == "marker-pane"
        await pilot.press("m")
        await wait_until(pilot, lambda: '"$imagepolicy"' in (ws / DEPLOYMENT).read_text())
        info = app.screen.query_one("#marker-info")
        await wait_until(pilot, lambda: "marker on line 18" in str(info.render()))
        await wait_until(pilot, lambda: "4 files uncommitted" in _state_bar(app))

        await pilot.press("5", "p")
        flux = app.screen
        log = flux.query_one("#origin-log", Static)
        # The log follows origin (the app's watcher may read it first), the commands follow the push's end.
        await wait_until(
            pilot,
            lambda: "Add image automation  (Learner)" in _text(log) and not app.sync.running,
            timeout=20,
            describe=lambda: _text(log),
        )
        assert "$ git push origin main" in _text(flux.query_one("#push-commands", Static))
        await wait_until(pilot, lambda: "main = origin/main" in _state_bar(app))
        await pilot.press("d")
        status = flux.query_one("#sim-status", Static)
        await wait_until(pilot, lambda: "dry run, nothing committed" in _text(status), timeout=20)
        diff = _text(flux.query_one("#sim-diff", Static))
        assert "-          image: nginx:1.25.0 # {" in diff
        assert "+          image: library/nginx:1.25.3 # {" in diff
        assert "- nginx:1.25.0 -> library/nginx:1.25.3" in _text(flux.query_one("#sim-message", Static))
        assert "Automated image update" not in _text(log)
        await pilot.press("c")
        # Origin's log can show Flux's commit (the app's watcher reads origin) before the reconcile's
        # result reaches the status line: wait for both.
        await wait_until(
            pilot,
            lambda: "Automated image update" in _text(log) and "pushed commit" in _text(status),
            timeout=20,
            describe=lambda: _text(status),
        )
        # origin is ahead now: the Flux screen says so, the state line on every screen too.
        origin_status = flux.query_one("#origin-status", Static)
        await wait_until(pilot, lambda: "origin has 1 commit by Flux you don't have" in _text(origin_status))
        assert "origin has 1 commit by Flux you don't have" in _state_bar(app)
        # p now only fast-forwards to Flux's commit: the toast says so.
        await pilot.press("p")
        expected = "brought in origin's commits; nothing of yours to push (the git commands: Origin tab on 5)"
        await wait_until(pilot, lambda: ("information", expected) in notifications(seen), timeout=20)

        await pilot.press("7")
        state = app.screen.query_one("#done-state", Static)
        await wait_until(pilot, lambda: "Not every check passes yet" in _text(state), timeout=30)
        # The PROGRESS.md row is what `u` writes once the rest passes: Done names what blocks it.
        assert "(69/79); start with Quiz: the three CRDs and their roles." in _text(state), _text(state)

        await pilot.press("6")
        await _answer_quiz_by_keys(pilot, app)
        await wait_until(pilot, lambda: (ws / ".fluxlab/quiz.json").exists())
        total = len(app.session.task.quiz.questions)
        assert f"{total}/{total}: passed" in _text(app.screen.query_one("#prompt", Static))
        assert not app.screen.query_one("#quiz-actions").display  # no "Choose (enter)" left to press

        await wait_until(pilot, lambda: not app.checks.running, timeout=30)
        before = app.last_report
        await pilot.press("4")
        await pilot.pause()
        checks = app.screen
        await pilot.press("r")
        await wait_until(pilot, lambda: app.last_report is not before and not app.checks.running, timeout=30)
        assert app.last_report is not None
        failing = {c.id for c in app.last_report.checks if c.status == "fail"}
        assert failing == {"progress.updated"}
        await pilot.pause()
        score = f"{app.last_report.score}/{app.last_report.max_score}"
        done_note = f"Every check passes but the PROGRESS.md row ({score}): 7 (Done), then u marks the task done there."
        assert ("information", done_note) in notifications(seen)

        # A newer tag: Flux commits again, so origin is ahead of the learner's work once more.
        with tags.open("a") as file:
            file.write("1.25.4\n")
        await pilot.press("5", "d")
        sim_diff = flux.query_one("#sim-diff", Static)
        await wait_until(
            pilot, lambda: "+          image: library/nginx:1.25.4 # {" in _text(sim_diff), timeout=20
        )
        await pilot.press("c")
        await wait_until(
            pilot,
            lambda: "origin has 1 commit by Flux you don't have" in _text(origin_status),
            timeout=20,
            describe=lambda: _text(status),
        )

        await pilot.press("7")
        done = app.screen
        state = done.query_one("#done-state", Static)
        await wait_until(
            pilot, lambda: "Every check passes but the PROGRESS.md row" in _text(state), timeout=40
        )
        assert "+| 09-fluxcd-image-automation | ✅ |" in _text(done.query_one("#progress-diff", Static))
        assert done.query_one("#write-progress", Button).disabled is False
        await pilot.press("u")
        await wait_until(
            pilot, lambda: "| 09-fluxcd-image-automation | ✅ |" in (ws / "PROGRESS.md").read_text()
        )
        await wait_until(
            pilot, lambda: "not committed yet: p commits and pushes it" in _text(state), timeout=20
        )
        # The row written (not committed yet): the task list marks the task done, every check passes.
        await pilot.press("1")
        tasks = app.screen.query_one("#tasks", DataTable)
        await wait_until(pilot, lambda: str(tasks.get_row("09-fluxcd-image-automation")[1]) == "✅")
        before = app.last_report
        await pilot.press("4")
        await pilot.press("r")
        await wait_until(pilot, lambda: app.last_report is not before and not app.checks.running, timeout=30)
        report = app.last_report
        assert report is not None
        assert report.status == "pass", [(c.id, c.message) for c in report.checks if c.broken]
        assert report.score == report.max_score
        assert "nothing failing" in str(checks.query_one("#checks-summary").render())

        await pilot.press("7")
        await pilot.pause()
        await pilot.press("p")  # origin has Flux's commit: p rebases onto it, then pushes
        await wait_until(pilot, lambda: "Everything is on origin" in _text(state), timeout=40)
        assert "Every check passes" in _text(state)
        assert _text(done.query_one("#next-task", Static)).startswith("Next in this lab: Task 09b-multi")
        assert "main = origin/main" in _state_bar(app)
        await pilot.press("5", "left_square_bracket")  # back to the Origin tab (Simulate <- Origin)
        await pilot.pause()
        pushed = _text(app.screen.query_one("#push-commands", Static))
        assert "$ git rebase origin/main" in pushed and "$ git push origin main" in pushed

    subjects = _git(ws, "log", "--format=%an: %s", "origin/main").splitlines()
    assert subjects[:4] == [
        f"Learner: Mark task 09 done in PROGRESS.md; record the quiz result ({total}/{total}, passed)",
        f"Flux: {subjects[1].split(': ', 1)[1]}",
        f"Flux: {subjects[2].split(': ', 1)[1]}",
        "Learner: Add image automation",
    ]
    assert subjects[1].startswith("Flux: Automated image update")
    assert subjects[2].startswith("Flux: Automated image update")
    assert _git(ws, "status", "--porcelain") == ""
    assert not [m for sev, m in notifications(seen) if sev == "error"]


async def test_dialog_hands_focus_back_to_a_safe_widget(tmp_path: Path) -> None:
    """`5p` after the overwrite dialog switches to Flux and pushes; it types nothing into a field."""
    session = practice_session(tmp_path)
    policy = session.workspace / OUT / "image-policy.yaml"
    policy.parent.mkdir(parents=True)
    policy.write_text("# my own policy\n")
    app = lab_app(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("3")
        await pilot.pause()
        image = app.screen.query_one("#image", Input)
        image.focus()  # the learner was typing in the Image field
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDiff))
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, ConfirmDiff))
        await pilot.press("5", "p")
        await wait_until(pilot, lambda: app.current_mode == "flux")
        assert image.value == "library/nginx"
        assert policy.read_text() == "# my own policy\n"


async def test_subtabs_and_page_keys(tmp_path: Path) -> None:
    app = lab_app(practice_session(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2")
        await pilot.pause()
        tabs = app.screen.query_one(TabbedContent)
        scroll = app.screen.query_one("#lesson-scroll")
        await wait_until(pilot, lambda: not app.screen.query("#lesson-loading"))  # built after a frame
        await pilot.press("pagedown")
        await wait_until(pilot, lambda: scroll.scroll_y > 0)
        await pilot.press("pageup")
        await wait_until(pilot, lambda: scroll.scroll_y == 0)
        await pilot.press("right_square_bracket", "right_square_bracket")
        await pilot.pause()
        assert tabs.active == "pitfalls-pane"
        from rich.console import Console

        console = Console(width=80, record=True)
        console.print(app.screen.query_one("#pitfalls", Static).content)
        pitfalls = console.export_text()
        assert "Controllers missing" in pitfalls and "check: cluster.controllers" in pitfalls
        await pilot.press("left_square_bracket")
        await pilot.pause()
        assert tabs.active == "hints-pane"


async def test_quiz_first_down_moves_and_enter_chooses(tmp_path: Path) -> None:
    app = lab_app(practice_session(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("6")
        await pilot.pause()
        choices = app.screen.query_one("#choices", OptionList)
        assert choices.highlighted == 0
        await pilot.press("down")
        assert choices.highlighted == 1
        await pilot.press("n")  # no answer yet: n does not skip the question
        await pilot.pause()
        assert "Question 1 of" in str(app.screen.query_one("#counter").render())
        await pilot.press("enter")
        await pilot.pause()
        assert _text(app.screen.query_one("#feedback", Static)) != ""
        await pilot.press("n")
        await pilot.pause()
        assert "Question 2 of" in str(app.screen.query_one("#counter").render())


async def test_check_detail_agrees_with_its_row_after_a_fix(tmp_path: Path) -> None:
    from lab.services.solve import solve

    session = practice_session(tmp_path)
    app = lab_app(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("4")
        await wait_until(pilot, lambda: app.last_report is not None and not app.checks.running, timeout=30)
        table = app.screen.query_one("#checks", DataTable)
        detail = app.screen.query_one("#check-detail", Static)
        assert str(table.get_cell("repo.files", "status")) == "✗ FAIL"
        assert "✗ FAIL:" in _text(detail) and "[repo.files]" in _text(detail)
        first = app.last_report
        solve(session.workspace)  # the files appear outside the app (an editor, a shell)
        await pilot.press("r")
        await wait_until(pilot, lambda: app.last_report is not first and not app.checks.running, timeout=30)
        assert table.cursor_row == table.get_row_index(app.last_report.first_broken().id)  # type: ignore[union-attr]
        for _ in range(table.cursor_row - table.get_row_index("repo.files")):
            await pilot.press("up")  # to repo.files, fixed now
        await pilot.pause()
        assert table.cursor_row == table.get_row_index("repo.files")
        assert str(table.get_cell("repo.files", "status")) == "✔ ok"
        assert "[repo.files]" in _text(detail) and "✔ ok:" in _text(detail)


async def test_a_marker_flux_skips_is_a_warning_on_its_passing_row(tmp_path: Path) -> None:
    """A marker Flux ignores on a line of its own, beside the same marker it reads, passes marker.valid
    (it does nothing); the row said only "ok", the advisory was at the end of a message shown on selection."""
    from lab.services.solve import solve
    from tests.support.taskfiles import MARKER, edited, own_line_marker

    session = practice_session(tmp_path)
    solve(session.workspace)
    text, _ = own_line_marker("after")
    both = edited(text, "image: nginx:1.25.0\n", f"image: nginx:1.25.0 {MARKER}\n")
    (session.workspace / "apps/base/nginx/deployment.yaml").write_text(both)
    app = lab_app(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("4")
        await wait_until(pilot, lambda: app.last_report is not None and not app.checks.running, timeout=30)
        table = app.screen.query_one("#checks", DataTable)
        assert str(table.get_cell("marker.valid", "status")) == "✔ warn"
        assert "1 with a warning" in str(app.screen.query_one("#checks-summary").render())
        table.move_cursor(row=table.get_row_index("marker.valid"))
        await pilot.pause()
        detail = _text(app.screen.query_one("#check-detail", Static)).splitlines()
        assert detail[2].startswith(
            "warning: apps/base/nginx/deployment.yaml:19: this marker is on its own line, so Flux ignores it"
        ), detail
        assert "sets the value by the marker on line 18" in detail[2], detail


async def test_marker_tab_and_origin_follow_the_files_without_a_key(tmp_path: Path) -> None:
    session = practice_session(tmp_path)
    ws = session.workspace
    app = lab_app(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("3", "right_square_bracket")
        deployment = app.screen.query_one("#deployment", Static)
        await wait_until(pilot, lambda: "image: nginx:1.25.0" in _text(deployment))
        path = ws / DEPLOYMENT
        path.write_text(path.read_text().replace("nginx:1.25.0", "nginx:1.25.1"))
        await wait_until(pilot, lambda: "image: nginx:1.25.1" in _text(deployment), timeout=10)
        # Someone else pushes to origin: the Flux screen shows it within seconds, no key pressed.
        other = tmp_path / "other"
        subprocess.run(
            ["git", "clone", "-q", _git(ws, "remote", "get-url", "origin").strip(), str(other)], check=True
        )
        (other / "README.md").write_text("changed elsewhere\n")
        _git(other, "commit", "-qam", "Change the README elsewhere")
        _git(other, "push", "-q")
        await pilot.press("5")
        log = app.screen.query_one("#origin-log", Static)
        await wait_until(pilot, lambda: "Change the README elsewhere" in _text(log), timeout=10)
        assert "origin has 1 commit by Learner you don't have" in _state_bar(app)


async def test_a_conflict_stops_cleanly_and_loses_nothing(tmp_path: Path) -> None:
    session = practice_session(tmp_path)
    ws = session.workspace
    seen: list[object] = []
    app = lab_app(session)
    other = tmp_path / "other"
    subprocess.run(
        ["git", "clone", "-q", _git(ws, "remote", "get-url", "origin").strip(), str(other)], check=True
    )
    (other / "PROGRESS.md").write_text((other / "PROGRESS.md").read_text().replace("| ⬜ |", "| 🔶 |", 1))
    _git(other, "commit", "-qam", "Someone else edits PROGRESS.md")
    _git(other, "push", "-q")
    (ws / "PROGRESS.md").write_text((ws / "PROGRESS.md").read_text().replace("| ⬜ |", "| ✅ |", 1))
    (ws / "README.md").write_text("my uncommitted notes\n")  # tracked, not a task file
    before = _git(ws, "rev-parse", "HEAD")
    async with app.run_test(size=(80, 24), message_hook=seen.append) as pilot:
        await pilot.press("5", "p")
        await wait_until(pilot, lambda: not app.sync.running and app.sync.text != "", timeout=30)
        assert not app.sync.ok
        text = _text(app.screen.query_one("#push-commands", Static))
        assert "conflict in PROGRESS.md" in text and "rebase --abort" in text
    # The toast is short and points at that screen's full report (a whole report is taller than 80x24).
    assert any(sev == "warning" and "Flux screen (5)" in m for sev, m in notifications(seen))
    assert (ws / "README.md").read_text() == "my uncommitted notes\n"
    assert "| ✅ |" in (ws / "PROGRESS.md").read_text()
    # The learner's commit of PROGRESS.md is kept, on top of what they had.
    assert _git(ws, "rev-parse", "HEAD~1").strip() == before.strip()


async def test_home_opens_another_task_by_keys(tmp_path: Path) -> None:
    """Enter on a task in Home: its own practice repository (made from its starter), then its lesson,
    checks and quiz in every area; the exercises are tasks like any other."""
    from lab.services.session import task_workspace
    from lab.services.tasks import load_task

    other = load_task("09b-multi")
    seen: list[object] = []
    app = lab_app(practice_session(tmp_path))
    async with app.run_test(size=(80, 24), message_hook=seen.append) as pilot:
        tasks = app.screen.query_one("#lab-tasks", DataTable)
        await wait_until(pilot, lambda: tasks.row_count >= 4)
        assert str(tasks.get_row("09b")[0]) == "▶ 09b"
        for _ in range(6):  # tab from the course's progress table to the lab's tasks
            if tasks.has_focus:
                break
            await pilot.press("tab")
            await pilot.pause()
        assert tasks.has_focus
        for _ in range(tasks.get_row_index(other.id)):
            await pilot.press("down")
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.session.task.id == other.id, timeout=30)
        ws = task_workspace(other.id)
        assert app.session.workspace == ws and (ws / ".git").is_dir()
        title = app.screen.query_one("#home-title")
        await wait_until(pilot, lambda: other.title in str(title.render()))
        await wait_until(pilot, lambda: str(tasks.get_row(other.id)[0]) == f"▶ {other.id}")
        await pilot.press("2")
        await wait_until(pilot, lambda: app.current_mode == "lesson")
        lesson = app.screen.query_one("#lesson", Markdown)
        await wait_until(pilot, lambda: lesson.source == other.lesson)  # built after the first frame
        await pilot.press("4")
        await wait_until(pilot, lambda: app.last_report is not None and not app.checks.running, timeout=40)
        assert app.last_report is not None and app.last_report.task == other.id
        await pilot.press("6")
        await wait_until(pilot, lambda: app.current_mode == "quiz")
        assert other.quiz.questions[0].prompt in _text(app.screen.query_one("#prompt", Static))
    assert not [m for sev, m in notifications(seen) if sev == "error"]


async def test_done_leads_to_the_exercises_then_out_of_the_lab(tmp_path: Path) -> None:
    """Task 09b's Done names the first exercise and the course's next task; `n` opens the exercise,
    whose Done names the next exercise (its own next task). The chain's end is in test_next_in_lab."""
    from lab.services.tasks import load_task

    seen: list[object] = []
    app = lab_app(practice_session(tmp_path))
    async with app.run_test(size=(120, 40), message_hook=seen.append) as pilot:
        await pilot.press("7")
        line = app.screen.query_one("#next-task", Static)
        multi, staging = load_task("09b-multi"), load_task("09b-staging")
        await wait_until(pilot, lambda: "Next in this lab" in _text(line), describe=lambda: _text(line))
        assert _text(line) == (
            f"Next in this lab: Task 09b-multi - {multi.title} (n opens it).\n"
            "The course then goes on with Task 10 - Cleanup."
        )
        await pilot.press("n")
        await wait_until(pilot, lambda: app.session.task.id == "09b-multi", timeout=30)
        await pilot.press("7")
        line = app.screen.query_one("#next-task", Static)
        await wait_until(pilot, lambda: "Next in this lab" in _text(line), describe=lambda: _text(line))
        assert _text(line) == (
            f"Next in this lab: Task 09b-staging - {staging.title} (n opens it).\n"
            "The course then goes on with Task 10 - Cleanup."
        )
    assert not [m for sev, m in notifications(seen) if sev == "error"]


async def test_done_at_the_end_of_the_lab_says_where_the_course_goes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Exercises taken out of order: guard's chain goes out of the lab (Task 10), but a task of the lab
    is not done yet, so Done offers it; once every task is done, Done says so and where the course
    goes on (it said "Next: Task 09b-staging" for a task done already, and `n` did nothing)."""
    from lab.sandbox.practice import init_practice_repo
    from lab.services import session as session_module
    from lab.services.session import Session
    from lab.services.tasks import load_task

    task = load_task("09b-guard")
    repo = init_practice_repo(tmp_path / "guard", task=task.id)
    seen: list[object] = []
    app = lab_app(Session(workspace=repo.path, task=task, sandbox=True, kubeconfig=None))
    async with app.run_test(size=(120, 40), message_hook=seen.append) as pilot:
        await pilot.press("7")
        line = app.screen.query_one("#next-task", Static)
        await wait_until(
            pilot, lambda: "Next in this lab: Task 09b -" in _text(line), describe=lambda: _text(line)
        )
        assert _text(line).endswith("\nThe course then goes on with Task 10 - Cleanup.")
        # Every other task done, this one not yet: the last of the lab, not "every task is done".
        monkeypatch.setattr(
            session_module,
            "task_standing",
            lambda meta, _ws=None: "started" if meta.id == task.id else "done",
        )
        await pilot.press("1", "7")
        line = app.screen.query_one("#next-task", Static)
        await wait_until(
            pilot, lambda: _text(line).startswith("This is the last"), describe=lambda: _text(line)
        )
        assert (
            _text(line)
            == f"This is the last task of this lab not done yet. Then: Task 10 - {task.meta.next_title}."
        )
        monkeypatch.setattr(session_module, "task_standing", lambda _meta, _ws=None: "done")
        await pilot.press("1", "7")
        line = app.screen.query_one("#next-task", Static)
        await wait_until(pilot, lambda: _text(line).startswith("Every task"), describe=lambda: _text(line))
        assert _text(line) == f"Every task in this lab is done. Next: Task 10 - {task.meta.next_title}."
        await pilot.press("n")
        said = f"Every task in this lab is done: the course goes on with Task 10 - {task.meta.next_title}."
        await wait_until(pilot, lambda: said in [m for _, m in notifications(seen)])
        assert app.session.task.id == "09b-guard"


async def test_home_lists_where_each_task_stands_and_follows_progress(tmp_path: Path) -> None:
    """The lab's tasks with their standing: the open task started, then done once PROGRESS.md says so
    (no key: the app follows the file); a task whose repository the app has not made, nothing."""
    from lab.services.progress import mark_task_done

    session = practice_session(tmp_path)
    app = lab_app(session)
    async with app.run_test(size=(80, 24)) as pilot:
        tasks = app.screen.query_one("#lab-tasks", DataTable)
        await wait_until(pilot, lambda: tasks.row_count >= 4)
        assert [str(c) for c in tasks.get_row("09b")[:2]] == ["▶ 09b", "started"]
        assert str(tasks.get_row("09b-guard")[1]) == ""
        mark_task_done(session.workspace, session.task.meta)
        await wait_until(pilot, lambda: str(tasks.get_row("09b")[1]) == "✅", timeout=20)


async def test_home_shows_a_long_note_whole_on_a_wide_screen(tmp_path: Path) -> None:
    """The Notes column takes the width the screen has; at 80 columns the table still fits."""
    session = practice_session(tmp_path)
    note = "Image automation working, commits appearing in Git, and a second bump by hand"
    progress = session.workspace / "PROGRESS.md"
    progress.write_text(
        progress.read_text().replace(
            "| 09-fluxcd-image-automation | ⬜ | |", f"| 09-fluxcd-image-automation | ✅ | {note} |"
        )
    )
    app = lab_app(session)
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.screen.query_one("#tasks", DataTable)
        await wait_until(pilot, lambda: table.row_count > 8)
        notes = list(table.columns.values())[2]
        assert notes.width >= len(note)
        assert str(table.get_row("09-fluxcd-image-automation")[2]) == note
        assert table.virtual_size.width <= table.size.width  # no sideways scrolling
        await pilot.resize_terminal(80, 24)
        await wait_until(pilot, lambda: list(table.columns.values())[2].width == 38)
        assert table.row_count > 8
        assert table.virtual_size.width <= table.size.width


async def test_generate_renders_once_per_change_and_asks_the_cluster_off_the_ui_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    import lab.core.manifests.generate as core_generate
    import lab.services.generate as service_generate

    renders: list[str] = []
    real = core_generate.render_manifests

    def counting(opts: object) -> dict[str, str]:
        renders.append(threading.current_thread().name)
        return real(opts)  # type: ignore[arg-type]

    asked: list[bool] = []
    real_default = service_generate.default_api_version

    def asking() -> str:
        asked.append(threading.current_thread() is threading.main_thread())
        return real_default()

    monkeypatch.setattr(core_generate, "render_manifests", counting)
    monkeypatch.setattr(service_generate, "render_manifests", counting)
    monkeypatch.setattr(service_generate, "default_api_version", asking)
    session = practice_session(tmp_path)
    app = lab_app(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("3")
        await wait_until(pilot, lambda: bool(asked))
        assert asked == [False], "the served API is asked in a worker"
        await app.workers.wait_for_complete()
        await pilot.pause()
        # Opening the screen is one change (every field posts Changed as it mounts: one rendering).
        assert len(renders) == 1, renders
        app.screen.query_one("#name", Input).focus()
        await pilot.press("end", "x")
        await pilot.pause()
        assert len(renders) == 2, "one key, one rendering"
        await pilot.press("backspace", "escape")
        await pilot.pause()
        before = len(renders)
        assert before == 3
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: (session.workspace / OUT / "image-update.yaml").exists())
        await app.workers.wait_for_complete()
        assert len(renders) == before, "writing reuses the preview's rendering"


async def test_the_state_line_says_when_it_is_being_refreshed(tmp_path: Path) -> None:
    """... and says it in place: a line of as many rows moves no widget, so the screen is not laid out
    again (it was, twice at every workspace read); a line that needs a second row still gets it."""
    from lab.tui.widgets.static import show

    app = lab_app(practice_session(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.state is not None and not app.refreshing)
        assert "refreshing" not in _state_bar(app)
        bar = app.screen.query_one("#state-bar", Static)
        laid_out: list[bool] = []
        refresh = bar.refresh

        def recorded(*regions: object, layout: bool = False, **options: bool) -> object:
            laid_out.append(layout)
            return refresh(*regions, layout=layout, **options)  # type: ignore[arg-type]

        bar.refresh = recorded  # type: ignore[method-assign]
        app.refreshing = True  # what refresh_state sets while its worker reads git and the files
        await pilot.pause()
        assert _state_bar(app).endswith("· refreshing…")
        app.refresh_state(fetch=False)
        await wait_until(pilot, lambda: not app.refreshing)
        assert "refreshing" not in _state_bar(app)
        assert laid_out and not any(laid_out), laid_out
        shown = _state_bar(app)
        show(bar, shown + " ·" * 40, fixed_width=True)
        await wait_until(pilot, lambda: bar.size.height == 2)
        show(bar, shown, fixed_width=True)
        await wait_until(pilot, lambda: bar.size.height == 1)


async def test_a_read_that_changes_nothing_shown_repaints_nothing(tmp_path: Path) -> None:
    """The app reads the workspace again whenever a file changes and sets the checks at every step of a
    run; a read that changes nothing a screen shows leaves its text and the checks' cells as they were,
    not repainted (a repaint of the same text laid the whole screen out again)."""
    app = lab_app(practice_session(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.state is not None)
        await pilot.press("4")
        await wait_until(pilot, lambda: app.checks.report is not None and not app.checks.running, timeout=40)
        # A cell set again, even to the same text, throws away the rendering of the whole table.
        table = app.screen.query_one("#checks", DataTable)
        updated: list[object] = []
        update_cell = table.update_cell
        table.update_cell = lambda *args, **kwargs: updated.append(args) or update_cell(*args, **kwargs)  # type: ignore[method-assign]
        app.checks = app.checks
        await pilot.pause()
        assert updated == []
        for area, names in (("4", ("checks-summary", "check-detail")), ("7", ("done-state", "next-task"))):
            await pilot.press(area)
            await wait_until(pilot, lambda: not app.refreshing and not app.checks.running)
            await pilot.pause()
            shown = [app.screen.query_one(f"#{name}", Static) for name in (*names, "state-bar")]
            before = [widget.visual for widget in shown]
            app.checks = app.checks
            await pilot.pause()
            # The same objects: a repaint makes new ones, however equal.
            assert all(widget.visual is old for widget, old in zip(shown, before, strict=True)), area
            app.refresh_state(fetch=False)  # the state line says "refreshing…" meanwhile: not it
            await wait_until(pilot, lambda: not app.refreshing)
            await pilot.pause()
            assert all(widget.visual is old for widget, old in zip(shown[:-1], before, strict=False)), area


async def test_the_checks_are_out_of_date_only_after_a_change_they_read(tmp_path: Path) -> None:
    """An unfinished quiz answer (.fluxlab/session.json, read by no check) leaves the score as it is; a
    change to a file the checks read marks it, in words that keep the state line one line at 80 columns
    (it wrapped and pushed the screen down)."""
    from lab.services.quiz import save_quiz_progress

    app = lab_app(practice_session(tmp_path))
    ws = app.session.workspace
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.state is not None)
        await pilot.press("4")
        await wait_until(pilot, lambda: app.checks.report is not None and not app.checks.running, timeout=40)
        await pilot.press("1")
        save_quiz_progress(ws, "09b", [1, None, None])
        app.refresh_state(fetch=False)
        await wait_until(pilot, lambda: not app.refreshing)
        assert not app.stale_checks()
        progress = ws / "PROGRESS.md"
        progress.write_text(progress.read_text() + "\nnotes\n")
        app.refresh_state(fetch=False)
        await wait_until(pilot, lambda: "(out of date)" in _state_bar(app), describe=lambda: _state_bar(app))
        bar = app.screen.query_one("#state-bar", Static)
        assert "1 file uncommitted" in _state_bar(app)
        assert bar.size.height == 1, _state_bar(app)


async def test_the_screens_follow_what_the_task_declares(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A task without a Flux area has no key 5 and no palette entry for it; its [generate] table is the
    form's defaults."""
    import shutil

    from lab.services.session import Session
    from lab.services.tasks import load_task
    from tests.support.tui_helpers import ROOT

    authors = tmp_path / "authors"
    folder = authors / "t-declared"
    shutil.copytree(ROOT / "tasks" / "09b", folder)
    meta = folder / "task.toml"
    text = meta.read_text(encoding="utf-8").replace('id = "09b"', 'id = "t-declared"', 1)
    text = text.replace(
        'areas = ["home", "lesson", "generate", "checks", "flux", "quiz", "done"]',
        'areas = ["home", "lesson", "generate", "checks", "quiz", "done"]',
    )
    meta.write_text(text + '\n[generate]\nname = "web"\nsemver = "1.26.x"\n', encoding="utf-8")
    monkeypatch.setenv("LAB_TASKS_PATH", str(authors))
    task = load_task("t-declared")
    base = practice_session(tmp_path / "ws")
    app = lab_app(Session(base.workspace, task, sandbox=True, kubeconfig=None))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("5")
        await pilot.pause()
        assert app.current_mode == "home"
        titles = {c.title for c in app.get_system_commands(app.screen)}
        assert "Go to Flux (5)" not in titles and "Flux: Push (p)" not in titles
        assert "Go to Checks (4)" in titles
        await pilot.press("3")
        await pilot.pause()
        assert app.screen.query_one("#name", Input).value == "web"
        assert app.screen.query_one("#policy_value", Input).value == "1.26.x"
        assert "range: 1.26.x" in _text(app.screen.query_one("#preview", Static))


async def test_a_change_during_a_check_run_is_checked_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The workspace changes while the checks run (a push, a save): when the run ends its report is
    already stale, and Done re-runs the checks instead of saying "re-checking…" for good."""
    import threading

    import lab.services.check as check_service

    session = practice_session(tmp_path)
    ws = session.workspace
    real_run = check_service.run_checks
    gate = threading.Event()
    gate.set()
    runs: list[int] = []

    def gated_run(*args, **kwargs):  # type: ignore[no-untyped-def]
        runs.append(1)
        gate.wait(30)
        return real_run(*args, **kwargs)

    monkeypatch.setattr(check_service, "run_checks", gated_run)
    app = lab_app(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.state is not None)
        await pilot.press("7")
        state = app.screen.query_one("#done-state", Static)
        await wait_until(pilot, lambda: app.checks.report is not None and not app.checks.running, timeout=40)
        first = len(runs)
        gate.clear()
        app.run_checks()  # a run that is held until the workspace has changed under it
        await wait_until(pilot, lambda: len(runs) > first)
        old_stamp = app.state.stamp if app.state else None
        progress = ws / "PROGRESS.md"
        progress.write_text(progress.read_text() + "\nchanged while the checks ran\n")
        app.refresh_state(fetch=False)
        await wait_until(pilot, lambda: app.state is not None and app.state.stamp != old_stamp)
        assert app.checks.running
        gate.set()
        await wait_until(pilot, lambda: len(runs) > first + 1, timeout=20)
        await wait_until(pilot, lambda: not app.checks.running and not app.stale_checks(), timeout=40)
        assert "re-checking" not in _text(state)


async def test_back_to_the_sandboxs_task_uses_the_sandbox_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """From an exercise back to 09b: the app stayed on 'practice repo' (no cluster checks, tags from
    the snapshot) while the sandbox ran, until `t` happened to attach it."""
    from dataclasses import replace

    from lab.sandbox.practice import init_practice_repo
    from lab.services import session as svc
    from lab.services.tasks import load_task

    init_practice_repo(svc.default_sandbox_workspace())
    attached: list[str] = []

    def attach(session: Session, *, start: bool = False) -> Session:
        attached.append(session.task.id)
        return replace(session, kubeconfig=str(tmp_path / "kubeconfig"))

    monkeypatch.setattr(svc, "attach_sandbox", attach)
    # The sandbox runs (for 09b): a session attached to a sandbox that does not run is detached.
    from lab.services import sandbox

    running = sandbox.SandboxInfo(
        workspace=svc.default_sandbox_workspace(),
        kubeconfig=tmp_path / "kubeconfig",
        registry="127.0.0.1:5001",
        pid=1,
        task="09b",
    )
    monkeypatch.setattr(sandbox, "running_info", lambda _where=None: running)
    course = Session(svc.default_sandbox_workspace(), load_task("09b"), sandbox=True, kubeconfig=None)
    app = lab_app(course)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.session.kubeconfig is not None)
        app.open_task("09b-multi")
        await wait_until(pilot, lambda: app.session.task.id == "09b-multi", timeout=30)
        assert app.session.kubeconfig is None  # the exercise's own practice repository
        app.open_task("09b")
        await wait_until(pilot, lambda: app.session.task.id == "09b", timeout=30)
        await wait_until(pilot, lambda: app.session.kubeconfig is not None)
    assert attached == ["09b", "09b"]


async def test_done_with_a_progress_file_it_cannot_read_says_so(tmp_path: Path) -> None:
    """PROGRESS.md marked done, then replaced by a FIFO: Done kept the old preview and said 'PROGRESS.md
    marks this task done. It is not committed yet', and u answered 'already marks this task done'."""
    import os

    from lab.services.progress import mark_task_done

    session = practice_session(tmp_path)
    ws = session.workspace
    mark_task_done(ws, session.task.meta)
    app = lab_app(session)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("7")
        done = app.screen
        state = done.query_one("#done-state", Static)
        await wait_until(pilot, lambda: "PROGRESS.md marks this task done." in _text(state), timeout=20)
        (ws / "PROGRESS.md").unlink()
        os.mkfifo(ws / "PROGRESS.md")
        diff = done.query_one("#progress-diff", Static)
        await wait_until(
            pilot, lambda: "is a FIFO, not a file" in _text(diff), timeout=20, describe=lambda: _text(diff)
        )
        assert "marks this task done" not in _text(state)


async def test_done_keeps_the_learners_own_note_on_a_row_done_already(tmp_path: Path) -> None:
    """The row was ✅ with the learner's note: Done said "u writes the change below" and its diff replaced
    that note with the task's default text (tex finding 13). It says the task is done and changes nothing."""
    from lab.core.progress import row_status
    from lab.services.progress import mark_progress

    session = practice_session(tmp_path)
    ws = session.workspace
    row = session.task.meta.progress_row
    mark_progress(ws, row, note="Image automation working")
    before = (ws / "PROGRESS.md").read_text()
    app = lab_app(session)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("7")
        done = app.screen
        state = done.query_one("#done-state", Static)
        await wait_until(
            pilot,
            lambda: "PROGRESS.md marks this task done." in _text(state),
            timeout=20,
            describe=lambda: _text(state) + _text(done.query_one("#progress-diff", Static)),
        )
        assert "u writes" not in _text(state)
        assert _text(done.query_one("#progress-diff", Static)).strip() == ""
        await pilot.press("u")
        await pilot.pause()
    assert (ws / "PROGRESS.md").read_text() == before
    found = row_status(before, row)
    assert found is not None and found[1].strip() == "Image automation working"


async def test_the_state_bar_shows_an_authors_escape_as_text(tmp_path: Path) -> None:
    """An author named 'Evil\\x1b[31m' read 'Evil[31m' in the bar (the terminal took the ESC) while the
    Origin tab showed 'Evil\\x1b[31m'."""
    import os

    session = practice_session(tmp_path)
    ws = session.workspace
    origin = Path(_git(ws, "remote", "get-url", "origin").strip())
    other = tmp_path / "other"
    subprocess.run(["git", "clone", "-q", str(origin), str(other)], check=True)
    (other / "notes.txt").write_text("x\n")
    env = {**os.environ, "GIT_AUTHOR_NAME": "Evil\x1b[31m", "GIT_AUTHOR_EMAIL": "e@example.org"}
    subprocess.run(["git", "-C", str(other), "add", "notes.txt"], check=True)
    subprocess.run(["git", "-C", str(other), "commit", "-qm", "evil"], check=True, env=env)
    subprocess.run(["git", "-C", str(other), "push", "-q", "origin", "HEAD:main"], check=True)
    app = lab_app(session)
    async with app.run_test(size=(120, 40)) as pilot:
        app.refresh_state(fetch=True)
        await wait_until(
            pilot, lambda: "by Evil" in _state_bar(app), timeout=20, describe=lambda: _state_bar(app)
        )
        assert "by Evil\\x1b[31m" in _state_bar(app)


async def test_every_area_shows_the_keys_key_at_80_columns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`?` is the way to every other key, so the footer must not push it off an 80-column terminal
    (Flux's footer as the sandbox shows it, with `t New tag`, `y Why?`, and `c` saying that a dry run comes
    first). Showing an area the first time parses none of the app's CSS again (Textual would, twice,
    for a screen not marked as styled under it), and showing it, the first time or again, styles none of
    its widgets again: Textual restyled the whole screen each time (the Lesson's Markdown, a CPU-second),
    and once more at its first Resize for its -normal class."""
    from textual.app import App
    from textual.css.stylesheet import Stylesheet
    from textual.screen import Screen
    from textual.widgets._footer import FooterKey

    from lab.services import session as session_module
    from lab.tui.app import AREAS

    monkeypatch.setattr(session_module, "is_default_sandbox", lambda _session: True)
    app = lab_app(practice_session(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.state is not None)
        reparsed: list[Stylesheet] = []
        reparse = Stylesheet.reparse

        def counted(sheet: Stylesheet) -> None:
            reparsed.append(sheet)
            reparse(sheet)

        monkeypatch.setattr(Stylesheet, "reparse", counted)
        restyled: list[str] = []
        update_styles = App.update_styles

        def whole_screen(app: App[None], node: object, animate: bool = True) -> None:
            if isinstance(node, Screen):
                restyled.append(type(node).__name__)
            update_styles(app, node, animate)  # type: ignore[arg-type]

        monkeypatch.setattr(App, "update_styles", whole_screen)
        for mode, key, _, _ in [*AREAS, AREAS[1]]:  # the Lesson twice
            await pilot.press("escape", key)
            await wait_until(pilot, lambda m=mode: app.current_mode == m)  # type: ignore[misc]

            def laid_out() -> bool:
                # On a loaded machine the footer of a screen just shown may not be laid out yet:
                # its keys then have no width, which says nothing about where they will be drawn.
                found = [k for k in app.screen.query(FooterKey) if k.key_display == "?"]
                return bool(found) and found[0].region.width > 0

            await wait_until(pilot, laid_out)
            shown = [k for k in app.screen.query(FooterKey)]
            if mode == "flux":
                described = {k.key_display: k.description for k in shown}
                assert "New tag" in described.values()
                # `c` shows the dry run before it commits as Flux: its label says so.
                assert described["c"] == "Dry run, then commit", described
                # `y` answers "no Flux commit?", which `t`'s toast raises: found without `?`.
                assert described["y"] == "Why?", described
            keys = [k for k in shown if k.key_display == "?"]
            assert keys, f"{mode}: no ? in the footer"
            region = keys[0].region
            assert region.width > 0 and region.right <= 80, f"{mode}: ? Keys drawn at {region}"
            assert reparsed == [], f"{mode}: the app's CSS was parsed again"
            assert restyled == [], f"{mode}: the whole screen was styled again"


async def test_generate_writes_where_the_tasks_checks_look(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ctrl+s writes the task's three files (checks.toml [params]), and the preview names them."""
    from lab.services.session import Session
    from lab.services.tasks import load_task
    from tests.support.taskfiles import IA, POLICY, REPO, UPDATE, copy_task, edited

    layout = ("deploy/flux/repo.yaml", "deploy/flux/policy.yaml", "deploy/flux/auto.yaml")
    folder = copy_task(tmp_path / "authors", "t-layout")
    checks = (folder / "checks.toml").read_text(encoding="utf-8")
    for old, new in zip((REPO, POLICY, UPDATE), layout, strict=True):
        checks = edited(checks, f'"{old}"', f'"{new}"')
    (folder / "checks.toml").write_text(checks, encoding="utf-8")
    monkeypatch.setenv("LAB_TASKS_PATH", str(tmp_path / "authors"))
    base = practice_session(tmp_path / "ws")
    ws = base.workspace
    app = lab_app(Session(ws, load_task("t-layout"), sandbox=True, kubeconfig=None))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("3")
        preview = app.screen.query_one("#preview", Static)
        await wait_until(pilot, lambda: "# auto.yaml" in _text(preview))
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: all((ws / name).is_file() for name in layout))
        assert "kind: ImageRepository" in (ws / layout[0]).read_text()
        assert not (ws / IA).exists()
        result = app.screen.query_one("#write-result", Static)
        await wait_until(pilot, lambda: "created     deploy/flux/policy.yaml" in _text(result))


async def test_home_cursor_follows_a_task_opened_elsewhere(tmp_path: Path) -> None:
    """Opened from Done's n, ▶ moved to the new task but the cursor stayed on the old row, so Up, Up,
    Enter opened another task than the learner counted from ▶."""
    app = lab_app(practice_session(tmp_path))
    async with app.run_test(size=(120, 40)) as pilot:
        tasks = app.screen.query_one("#lab-tasks", DataTable)
        await wait_until(pilot, lambda: tasks.row_count >= 4)
        assert tasks.cursor_row == tasks.get_row_index("09b")
        app.open_task("09b-staging")
        await wait_until(pilot, lambda: app.session.task.id == "09b-staging", timeout=30)
        await wait_until(pilot, lambda: str(tasks.get_row("09b-staging")[0]) == "▶ 09b-staging")
        await wait_until(pilot, lambda: tasks.cursor_row == tasks.get_row_index("09b-staging"))


async def test_new_tag_is_offered_only_in_the_sandbox(tmp_path: Path) -> None:
    """`t New tag` showed in a practice repository's footer, where pressing it only said that it publishes
    to the sandbox registry: outside the sandbox it has no key, no `?` row and no palette entry (the
    sandbox's footer keeps it: test_every_area_shows_the_keys_key_at_80_columns)."""
    from textual.widgets._footer import FooterKey

    from lab.tui.screens.keys import KeysScreen

    seen: list[object] = []
    app = lab_app(practice_session(tmp_path))
    async with app.run_test(size=(80, 24), message_hook=seen.append) as pilot:
        await pilot.press("5")
        await wait_until(pilot, lambda: any(k.key_display == "p" for k in app.screen.query(FooterKey)))
        flux = app.screen
        assert "New tag" not in [k.description for k in app.screen.query(FooterKey)]
        palette = [c.title for c in app.get_system_commands(app.screen)]
        assert "Flux: Dry run (d)" in palette and not [t for t in palette if "New tag" in t], palette
        await pilot.press("t", "question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, KeysScreen))
        assert "t" not in dict(app.screen.rows)  # type: ignore[attr-defined]
        assert not [m for _, m in notifications(seen) if "publish" in m]
        assert "lab simulate --dry-run --tags-file -" in _text(flux.query_one("#cluster", Static))


@pytest.mark.parametrize("on_sandbox", [False, True], ids=["practice", "sandbox"])
async def test_start_the_sandbox_is_offered_only_in_the_sandbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, on_sandbox: bool
) -> None:
    """`S Start the sandbox` was in a practice repository's `?` and palette (twice in the sandbox's:
    the app's entry and Flux's), where pressing it only said that this repository has no sandbox:
    like `t`, it is the default sandbox's alone (SANDBOX_ACTIONS), where `?` and the palette keep it."""
    from lab.services import session as session_module
    from lab.tui.screens.keys import KeysScreen

    if on_sandbox:
        monkeypatch.setattr(session_module, "is_default_sandbox", lambda _session: True)
    seen: list[object] = []
    app = lab_app(practice_session(tmp_path))
    async with app.run_test(size=(80, 24), message_hook=seen.append) as pilot:
        await pilot.press("5")
        await wait_until(pilot, lambda: app.current_mode == "flux")
        palette = [c.title for c in app.get_system_commands(app.screen)]
        # once in the sandbox: the app's own entry said the same as Flux's
        assert [t for t in palette if "Start the sandbox" in t] == (
            ["Flux: Start the sandbox (S)"] if on_sandbox else []
        ), palette
        if not on_sandbox:
            await pilot.press("S")  # no key: nothing said
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, KeysScreen))
        assert (dict(app.screen.rows).get("S") == "Start the sandbox") is on_sandbox  # type: ignore[attr-defined]
        assert not [m for _, m in notifications(seen) if "has none" in m]


async def test_the_marker_tab_of_an_exercise_points_to_the_editor_not_a_flag(tmp_path: Path) -> None:
    """09b-staging's file to mark is a Kustomization with no container image line and no tag field yet:
    the Marker tab said "m marks flux-system:shop" and `m` then explained it could not. It offers no `m`
    there, and says what to write by hand and that `e` opens the file."""
    app = lab_app(practice_session(tmp_path))
    async with app.run_test(size=(120, 40)) as pilot:
        app.open_task("09b-staging")
        await wait_until(pilot, lambda: app.session.task.id == "09b-staging", timeout=30)
        await pilot.press("3", "right_square_bracket")
        info = app.screen.query_one("#marker-info", Label)
        await wait_until(pilot, lambda: "apps/staging/kustomization.yaml" in str(info.render()))
        said = str(info.render())
        assert "m marks" not in said and "e opens it" in said
        assert '# {"$imagepolicy": "flux-system:shop"} (a full image) or "flux-system:shop:tag"' in said
        assert "mark" not in [b.action for b in app.active_bindings.values() if b.binding.key == "m"]
        assert not app.screen.query_one("#mark", Button).display


async def test_the_marker_tab_marks_a_kustomize_override_with_the_tag_marker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A course author's task whose file to mark is a kustomize images override (no container image
    line): `m` marks its newTag with the form's policy and `:tag`, as Flux reads it; a `:tag` marker
    already there for another policy (09b-guard's starter has one) is left as it is."""
    from lab.sandbox.practice import init_practice_repo
    from lab.services.tasks import load_task
    from tests.support.taskfiles import copy_task, edited

    folder = copy_task(tmp_path / "authors", "10-tagged", task="09b-guard")
    override = folder / "starter/apps/production/kustomization.yaml"
    override.write_text(edited(override.read_text(), ' # {"$imagepolicy": "flux-system:shop-prod:tag"}', ""))
    monkeypatch.setenv("LAB_TASKS_PATH", str(tmp_path / "authors"))
    repo = init_practice_repo(tmp_path / "ws", task="10-tagged")
    seen: list[object] = []
    app = lab_app(Session(workspace=repo.path, task=load_task("10-tagged"), sandbox=True, kubeconfig=None))
    async with app.run_test(size=(120, 40), message_hook=seen.append) as pilot:
        await pilot.press("3", "right_square_bracket")
        info = app.screen.query_one("#marker-info", Label)
        await wait_until(pilot, lambda: "m marks" in str(info.render()))
        assert "no marker yet · m marks its tag with flux-system:shop:tag · e edits" in str(info.render())
        await pilot.press("m")
        await wait_until(pilot, lambda: any("marker added" in m for _, m in notifications(seen)))
        text = (repo.path / "apps/production/kustomization.yaml").read_text()
        assert '    newTag: 1.4.1 # {"$imagepolicy": "flux-system:shop:tag"}\n' in text
        (repo.path / "apps/production/kustomization.yaml").write_text(
            text.replace("flux-system:shop:tag", "flux-system:shop-prod:tag")
        )
        await pilot.press("m")
        await wait_until(pilot, lambda: any("already carries" in m for _, m in notifications(seen)))
        assert "shop-prod:tag" in (repo.path / "apps/production/kustomization.yaml").read_text()


async def test_generate_adds_one_more_image_and_keeps_the_objects_there(tmp_path: Path) -> None:
    """`a` on the form appends the objects to the task's files (a task with several images keeps them
    one file a kind); what the files hold stays, and an object they hold already is kept as it is."""
    from tests.support.taskfiles import POLICY

    seen: list[object] = []
    app = lab_app(practice_session(tmp_path))
    ws = app.session.workspace
    async with app.run_test(size=(80, 24), message_hook=seen.append) as pilot:
        await pilot.press("3", "ctrl+s")
        await wait_until(pilot, lambda: (ws / POLICY).is_file())
        await pilot.press("f")  # into the form's first field; Tab walks the others
        for field, value in (("name", "web"), ("image", "ghcr.io/acme/web")):
            widget = app.screen.query_one(f"#{field}", Input)
            if field == "image":
                await pilot.press("tab", "tab")  # past Namespace
            await wait_until(pilot, lambda w=widget: w.has_focus)  # type: ignore[misc]
            await fast_keys(pilot, "end", *(["backspace"] * len(widget.value)))
            await type_keys(pilot, value)
        await pilot.press("escape", "a")
        await wait_until(pilot, lambda: "name: web" in (ws / POLICY).read_text())
        text = (ws / POLICY).read_text()
        assert text.index("name: nginx") < text.index("---\n", 4) < text.index("name: web")
        result = app.screen.query_one("#write-result", Static)
        await wait_until(pilot, lambda: f"added       {POLICY}" in _text(result))
        await pilot.press("a")
        await wait_until(
            pilot, lambda: "kept: image-policy.yaml has ImagePolicy flux-system/web" in _text(result)
        )
        assert (ws / POLICY).read_text() == text
        # Each file holds the form's objects already: every one is said to be kept, none "added".
        assert ("information", "added to 0 of 3 files, 3 kept as they were; next: the Marker tab (])") in (
            notifications(seen)
        )
        assert not [m for t, m in notifications(seen) if t == "warning"]
        # A typo fixed in the form: `a` keeps the file's object, and says it is not the form's.
        await pilot.press("f", "tab", "tab")
        await fast_keys(pilot, "end")
        await type_keys(pilot, "2")  # ghcr.io/acme/web2
        await pilot.press("escape", "a")
        await wait_until(pilot, lambda: any(t == "warning" for t, _ in notifications(seen)))
        warning = next(m for t, m in notifications(seen) if t == "warning")
        assert warning.startswith(
            "image-repository.yaml has ImageRepository flux-system/web already, unlike the form"
        )


async def test_a_burst_of_keys_in_the_form_keeps_every_key_in_order(tmp_path: Path) -> None:
    """End, Backspaces and a new value sent at once (a fast typist, `tmux send-keys`): the edits run in
    their place among the characters. Textual ran a field's bound keys only once they had bubbled up to
    the app, after the characters typed behind them, which erased the new value instead of the old.
    Tab from field to field keeps the footer's keys as they were: it is not built again on each move."""
    from textual.widgets._footer import FooterKey

    app = lab_app(practice_session(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("3", "f")
        name = app.screen.query_one("#name", Input)
        await wait_until(pilot, lambda: name.has_focus)
        await fast_keys(pilot, "end", *(["backspace"] * 13), *"ngnix")
        assert name.value == "ngnix"
        keys = list(app.screen.query(FooterKey))
        assert "^s" in [key.key_display for key in keys]
        await pilot.press("tab", "tab")
        image = app.screen.query_one("#image", Input)
        await wait_until(pilot, lambda: image.has_focus)
        assert list(app.screen.query(FooterKey)) == keys
        await fast_keys(pilot, "end", *(["backspace"] * 15), *"library/nginx", "home", *"docker.io/")
        assert image.value == "docker.io/library/nginx"
        # And the preview follows the form as typed.
        await wait_until(
            pilot, lambda: "name: ngnix" in str(app.screen.query_one("#preview", Static).render())
        )


async def test_a_tab_in_a_burst_of_keys_moves_the_keys_after_it_to_the_next_field(tmp_path: Path) -> None:
    """`value<Tab>value2` typed fast (`tmux send-keys`) put both values in the first field: the app
    moved the focus on Tab only once the key had bubbled up to it, after it had handed the keys typed
    behind it to the field it left. Fast or slow, they land in two fields."""
    app = lab_app(practice_session(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("3", "f")
        name = app.screen.query_one("#name", Input)
        await wait_until(pilot, lambda: name.has_focus)
        namespace = app.screen.query_one("#namespace", Input)
        await fast_keys(pilot, "end", *"-x", "tab", "end", *"-y", "shift+tab", "end", *"z")
        assert (name.value, namespace.value) == ("nginx-xz", "flux-system-y")
        assert name.has_focus


async def test_p_that_brings_in_origins_commits_runs_the_checks_again(tmp_path: Path) -> None:
    """`p` brought in Flux's commit and the state line said "checks 9/79 (out of date)" until the
    learner opened Checks or Done. The lab knows the checks' inputs changed: after `p` it runs them
    again itself, in a worker, wherever the learner is."""
    session = practice_session(tmp_path)
    ws = session.workspace
    flux = tmp_path / "flux-clone"
    subprocess.run(
        ["git", "clone", "-q", _git(ws, "remote", "get-url", "origin").strip(), str(flux)], check=True
    )
    (flux / "PROGRESS.md").write_text((flux / "PROGRESS.md").read_text() + "\n", encoding="utf-8")
    app = lab_app(session)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("4")
        await wait_until(pilot, lambda: app.checks.report is not None and not app.checks.running, timeout=30)
        before = app.checks.report
        await pilot.press("5")
        _git(flux, "commit", "-q", "-am", "Flux's commit", "--author", "Flux <flux@gitops-lab.local>")
        _git(flux, "push", "-q", "origin", "main")
        await pilot.press("p")
        await wait_until(
            pilot, lambda: not app.sync.running and "Flux's commit" in _git(ws, "log", "-1"), timeout=20
        )
        await wait_until(
            pilot,
            lambda: app.checks.report is not before and not app.checks.running and not app.stale_checks(),
            timeout=30,
            describe=lambda: _state_bar(app),
        )
        assert app.current_mode == "flux"
        assert "out of date" not in _state_bar(app)


async def test_the_same_check_outcome_again_is_not_announced_again(tmp_path: Path) -> None:
    """A watch re-runs the checks whenever origin moves and while the cluster settles; each run posted
    'All green' again, which replaced the toast with a fresh one, so it never went away."""
    from lab.core.checks.model import CheckResult, Report, Status

    seen: list[object] = []
    app = lab_app(practice_session(tmp_path))

    def report(points: int) -> Report:
        return Report(task="09b", checks=(CheckResult("a.one", "A", Status.PASS, points, points),))

    async with app.run_test(size=(120, 40), message_hook=seen.append) as pilot:
        await pilot.press("4")
        await wait_until(pilot, lambda: app.current_mode == "checks")
        screen = app.screen
        for points in (2, 2, 2, 3):
            screen._announce(report(points))  # type: ignore[attr-defined]
        await pilot.pause()
        announced = [m for _, m in notifications(seen) if m.startswith(("All green", "Every check passes"))]
        assert len(announced) == 2, announced  # 2/2 once, then 3/3: news again


async def test_writing_a_form_with_a_bad_field_says_why_in_the_toast(tmp_path: Path) -> None:
    """The toast said only "Fix the highlighted field first."; the reason sat under the last field,
    below the fold at 24 rows, and the highlight is a colour alone."""
    seen: list[object] = []
    app = lab_app(practice_session(tmp_path))
    async with app.run_test(size=(80, 24), message_hook=seen.append) as pilot:
        await pilot.press("3", "f")
        await wait_until(pilot, lambda: app.screen.query_one("#name", Input).has_focus)
        await fast_keys(pilot, "end")
        await type_keys(pilot, "X")
        await pilot.press("escape", "ctrl+s")
        await wait_until(pilot, lambda: any(t == "warning" for t, _ in notifications(seen)))
        warning = next(m for t, m in notifications(seen) if t == "warning")
        assert warning.startswith("Name (repository, policy): 'nginxX'"), warning
        assert not (app.session.workspace / OUT).exists()


async def test_the_marker_tab_shows_the_line_it_marked(tmp_path: Path) -> None:
    """At 80x24 the marked line (18) sat below the Marker tab's preview until PageDown."""
    from textual.containers import VerticalScroll

    app = lab_app(practice_session(tmp_path))
    ws = app.session.workspace
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("3", "right_square_bracket", "m")
        await wait_until(pilot, lambda: '"$imagepolicy"' in (ws / DEPLOYMENT).read_text())
        line = next(
            n for n, text in enumerate((ws / DEPLOYMENT).read_text().splitlines()) if "$imagepolicy" in text
        )
        scroll = app.screen.query_one("#deployment-scroll", VerticalScroll)
        await wait_until(
            pilot,
            lambda: scroll.scroll_y <= line < scroll.scroll_y + scroll.scrollable_content_region.height,
            describe=lambda: (scroll.scroll_y, scroll.scrollable_content_region.height, line),
        )


async def test_the_marker_tab_names_the_policy_the_form_names_now(tmp_path: Path) -> None:
    """The Marker tab said 'm marks flux-system:nginx' after the form's Name became another: m then
    inserted the other."""
    app = lab_app(practice_session(tmp_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("3", "right_square_bracket")
        info = app.screen.query_one("#marker-info", Label)
        await wait_until(pilot, lambda: "m marks flux-system:nginx ·" in str(info.content))
        await pilot.press("left_square_bracket", "f")
        await fast_keys(pilot, "end")
        await type_keys(pilot, "2")
        await pilot.press("escape", "right_square_bracket")
        await wait_until(pilot, lambda: "m marks flux-system:nginx2 ·" in str(info.content))


async def _marker_tab_says(pilot, app: LabApp, says: str) -> Label:  # type: ignore[no-untyped-def]
    """Opens the Marker tab (3, ]) and waits until its line about the Deployment says `says`."""
    await pilot.press("3", "right_square_bracket")
    info = app.screen.query_one("#marker-info", Label)
    await wait_until(pilot, lambda: says in str(info.content), describe=lambda: str(info.content))
    return info


async def test_the_marker_tab_says_flux_ignores_a_marker_and_m_moves_it(tmp_path: Path) -> None:
    """A marker on its own line below `image:`: the tab said only 'marker on line 19', and m added a
    second one on line 18 ('markers on lines 18, 19')."""
    from tests.support.taskfiles import own_line_marker, solution_text

    app = lab_app(practice_session(tmp_path))
    ws = app.session.workspace
    text, _ = own_line_marker("after")
    (ws / DEPLOYMENT).write_text(text, encoding="utf-8")
    seen: list[object] = []
    async with app.run_test(size=(120, 40), message_hook=seen.append) as pilot:
        info = await _marker_tab_says(
            pilot, app, "marker on line 19 - Flux ignores line 19: marker on its own line"
        )
        assert "move the comment to the end of the image: line, line 18 (above it)" in str(info.content)
        await pilot.press("m")
        await wait_until(pilot, lambda: (ws / DEPLOYMENT).read_text() == solution_text(DEPLOYMENT))
        await wait_until(
            pilot, lambda: "marker on line 18 ·" in str(info.content), describe=lambda: str(info.content)
        )
        await wait_until(
            pilot,
            lambda: any(
                m.startswith(
                    "marker added on line 18 of apps/base/nginx/deployment.yaml; moved the marker from "
                    "line 19"
                )
                for _, m in notifications(seen)
            ),
            describe=lambda: notifications(seen),
        )


async def test_the_marker_tab_flags_a_marker_naming_no_policy_and_m_says_it_replaced_it(
    tmp_path: Path,
) -> None:
    """`flux-system:ngnix` in the file: the tab said only 'marker on line 18', and m 'marker added'."""
    from tests.support.taskfiles import solution_text, solved_files, write_files

    app = lab_app(practice_session(tmp_path))
    ws = app.session.workspace
    write_files(ws, solved_files())
    right = solution_text(DEPLOYMENT)
    (ws / DEPLOYMENT).write_text(right.replace("flux-system:nginx", "flux-system:ngnix"), encoding="utf-8")
    seen: list[object] = []
    async with app.run_test(size=(120, 40), message_hook=seen.append) as pilot:
        await _marker_tab_says(
            pilot, app, "Flux ignores line 18: there is no ImagePolicy 'ngnix' in namespace 'flux-system'"
        )
        await pilot.press("m")
        await wait_until(pilot, lambda: (ws / DEPLOYMENT).read_text() == right)
        await wait_until(
            pilot,
            lambda: any(
                "replaced on line 18" in m and "flux-system:ngnix" in m and "commit and push (5, p)" in m
                for _, m in notifications(seen)
            ),
            describe=lambda: notifications(seen),
        )


async def test_the_overwrite_dialog_scrolls_its_diff_with_the_keys_a_learner_tries(tmp_path: Path) -> None:
    """With the focus on Cancel, PageDown and Down did nothing: the learner confirmed half a diff."""
    from textual.containers import VerticalScroll

    seen: list[object] = []
    app = lab_app(practice_session(tmp_path))
    ws = app.session.workspace
    async with app.run_test(size=(80, 24), message_hook=seen.append) as pilot:
        await pilot.press("3", "ctrl+s")
        await wait_until(pilot, lambda: (ws / OUT / "image-update.yaml").is_file())
        for name in ("image-repository.yaml", "image-policy.yaml", "image-update.yaml"):
            (ws / OUT / name).write_text("# mine\n" * 30)
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDiff))
        diff = app.screen.query_one("#dialog-diff", VerticalScroll)
        await wait_until(pilot, lambda: diff.max_scroll_y > 0)
        await pilot.press("pagedown")
        await wait_until(pilot, lambda: diff.scroll_y > 0)
        paged = diff.scroll_y
        await pilot.press("down")
        await wait_until(pilot, lambda: diff.scroll_y > paged or diff.scroll_y == diff.max_scroll_y)
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, ConfirmDiff))
        assert (ws / OUT / "image-policy.yaml").read_text() == "# mine\n" * 30
        # Confirmed: the toast says where the previous versions went (as lab generate --force does).
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDiff))
        await pilot.press("y")
        await wait_until(
            pilot,
            lambda: any("previous versions are in .git/lab-backups/" in m for _, m in notifications(seen)),
        )


async def test_home_keeps_the_lab_tasks_cursor_in_sight_at_24_rows(tmp_path: Path) -> None:
    """The lab's tasks are the last table on Home: at 24 rows (20 here, a practice repo's Home is shorter than the sandbox's) Down moved the cursor onto rows below the
    fold, and Enter would open a task the learner could not see."""
    from textual.containers import VerticalScroll

    app = lab_app(practice_session(tmp_path))
    async with app.run_test(size=(80, 20)) as pilot:
        tasks = app.screen.query_one("#lab-tasks", DataTable)
        # The progress rows above the table too: on a loaded machine they could arrive after the keys and
        # push the table (and its cursor) below the fold again.
        await wait_until(pilot, lambda: tasks.row_count >= 4 and app.state is not None and not app.refreshing)
        await pilot.pause()
        scroll = app.screen.query_one(VerticalScroll)
        for _ in range(tasks.row_count - 1 - tasks.cursor_row):
            await pilot.press("down")
        await pilot.pause()
        row = tasks.virtual_region.y + tasks.header_height + tasks.cursor_row
        assert tasks.cursor_row == tasks.row_count - 1
        await wait_until(
            pilot,
            lambda: scroll.scroll_y <= row < scroll.scroll_y + scroll.scrollable_content_region.height,
            describe=lambda: (scroll.scroll_y, scroll.scrollable_content_region.height, row),
        )


async def test_lesson_tables_wrap_their_cells_at_80_columns(tmp_path: Path) -> None:
    """09b-multi's table of marker variants showed "flux-system:shop:nam…": the text the lesson teaches."""
    from textual.widgets._markdown import MarkdownTableContent

    from lab.services.session import Session
    from lab.services.tasks import load_task

    base = practice_session(tmp_path)
    app = lab_app(Session(base.workspace, load_task("09b-multi"), sandbox=True, kubeconfig=None))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2")

        def cell() -> Widget:
            for table in app.screen.query(MarkdownTableContent):
                for c in table.query(".cell"):
                    if "flux-system:shop:name" in str(c.render()):
                        return c
            raise LookupError("no cell names flux-system:shop:name")

        await wait_until(pilot, lambda: cell().size.width > 0)
        shown = cell()
        lines = shown.render_lines(shown.region.reset_offset)
        drawn = "".join(strip.text.strip() for strip in lines)
        assert "flux-system:shop:name" in drawn, drawn  # not cut to "flux-system:shop:nam…"


async def test_a_dry_run_says_flux_does_not_see_work_that_is_not_pushed(tmp_path: Path) -> None:
    """Forgot to push: the dry run said only 'repository up-to-date, nothing to commit'."""
    app = lab_app(practice_session(tmp_path))
    ws = app.session.workspace
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("3", "ctrl+s")
        await wait_until(pilot, lambda: (ws / OUT / "image-update.yaml").is_file())
        before = app.sync
        await pilot.press("5", "p")
        await wait_until(pilot, lambda: app.sync is not before and not app.sync.running, timeout=30)
        policy = ws / OUT / "image-policy.yaml"
        policy.write_text(policy.read_text().replace("1.25.x", "1.26.x"))
        await wait_until(
            pilot, lambda: app.state is not None and app.state.git is not None and bool(app.state.git.dirty)
        )
        await pilot.press("d")
        status = app.screen.query_one("#sim-status", Static)
        await wait_until(
            pilot,
            lambda: "Flux reads origin, which does not have your 1 uncommitted file" in _text(status),
            describe=lambda: _text(status),
        )


async def test_check_titles_wrap_whole_at_80_columns(tmp_path: Path) -> None:
    """At 80 columns the Checks table cut titles ("... commits to main with the Setters stra"), whole
    only in the detail pane: the Check column takes the width the screen leaves, and a title wraps in
    it, on a wide screen too after a resize, the cursor kept on its check."""
    from lab.tui.screens.checks import ChecksScreen

    app = lab_app(practice_session(tmp_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("4")
        await wait_until(pilot, lambda: app.last_report is not None and not app.checks.running, timeout=30)
        screen = app.screen
        assert isinstance(screen, ChecksScreen)
        table = screen.query_one("#checks", DataTable)
        titles = {d.id: d.title for d in app.checks.defs}
        assert all(row.height == 1 for row in table.rows.values())
        await pilot.press("down", "down")
        selected = table.coordinate_to_cell_key(table.cursor_coordinate).row_key

        def check_width() -> int:
            return next(c.width for k, c in table.columns.items() if k.value == "check")

        await pilot.resize_terminal(80, 24)
        await wait_until(pilot, lambda: check_width() == 80 - 22 and table.row_count == len(titles))
        await pilot.pause()
        width = check_width()
        assert table.virtual_size.width <= table.size.width  # nothing drawn past the right edge
        wrapped = 0
        for key, row in table.rows.items():
            lines = str(table.get_cell(key, "check")).split("\n")
            assert row.height == len(lines)
            assert all(len(line) <= width for line in lines), lines
            assert " ".join(line.strip().removeprefix("▶ ") for line in lines) == titles[str(key.value)]
            wrapped += len(lines) > 1
        assert wrapped, "no title of the task is longer than the column: this test tests nothing"
        assert table.coordinate_to_cell_key(table.cursor_coordinate).row_key == selected


async def test_the_running_sandbox_and_the_deployment_markers_are_read_off_the_ui_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whether the running sandbox serves another task (its runtime file, lock, PID) and which markers
    Flux ignores (parsing the Deployment) are read in workers: screens only read the result."""
    import threading

    import lab.core.setters.find as find
    from lab.services import sandbox

    on_ui: list[str] = []
    elsewhere = sandbox.SandboxInfo(
        workspace=tmp_path / "elsewhere", kubeconfig=tmp_path / "kubeconfig", registry="r", pid=1, task="08"
    )

    def running_info(directory: object = None) -> sandbox.SandboxInfo:
        if threading.current_thread() is threading.main_thread():
            on_ui.append("running_info")
        return elsewhere

    real_find = find.find_markers

    def find_markers(*args: object, **kwargs: object) -> object:
        if threading.current_thread() is threading.main_thread():
            on_ui.append("find_markers")
        return real_find(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(sandbox, "running_info", running_info)
    monkeypatch.setattr(find, "find_markers", find_markers)
    app = lab_app(practice_session(tmp_path), tags_file=None)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.state is not None)
        await pilot.pause()
        assert "bundled with this task" in str(app.screen.query_one("#home-tags", Label).content)
        await pilot.press("3")
        await app.workers.wait_for_complete()
        await pilot.press("5")
        await pilot.pause()
        assert "the sandbox serves task 08" in str(app.screen.query_one("#tag-source", Label).content)
        app.run_checks()
        assert "the sandbox serves task 08" in app.checks.mode_text
        await app.workers.wait_for_complete()
    assert on_ui == []


async def test_tab_from_the_preview_and_f_put_the_cursor_in_name(tmp_path: Path) -> None:
    """The tester's round on Generate: typing `shop-worker` before `f` ran the screen's keys (`e` opened
    the editor), and Tab from where the screen starts did not reach the fields. One Tab reaches Name, the
    field the exercises change first (`f` too), its text selected; the Namespace stays as it was."""
    from lab.tui.screens.editor import EditorScreen

    app = lab_app(practice_session(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("3")
        await wait_until(pilot, lambda: app.current_mode == "generate")
        name = app.screen.query_one("#name", Input)
        namespace = app.screen.query_one("#namespace", Input).value
        await pilot.press("tab")
        assert name.has_focus
        await type_keys(pilot, "shop-worker")
        await pilot.pause()
        assert name.value == "shop-worker"
        assert not isinstance(app.screen, EditorScreen) and app.current_mode == "generate"
        await pilot.press("escape", "f")
        assert name.has_focus
        await type_keys(pilot, "shop")
        await pilot.pause()
        assert (name.value, app.screen.query_one("#namespace", Input).value) == ("shop", namespace)


async def test_the_checks_name_the_branch_the_flux_system_source_follows(tmp_path: Path) -> None:
    """The app said "The checks grade origin/main and Flux deploys dev; you are on dev" when the run had
    graded origin/dev (the GitRepository's branch): it read the graded branch from the task's settings,
    which know nothing of the learner's sync file. The report of the run says which branch it graded."""
    from lab.services.check import off_branch_note

    session = practice_session(tmp_path)
    ws = session.workspace
    sync = ws / "clusters/dev/flux-system/gotk-sync.yaml"
    sync.write_text(sync.read_text().replace("branch: main", "branch: dev"))
    _git(ws, "switch", "-q", "-c", "dev")
    _git(ws, "commit", "-qam", "Flux follows dev")
    _git(ws, "push", "-q", "origin", "dev")
    app = lab_app(session)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.state is not None)
        app.run_checks()
        await app.workers.wait_for_complete()
        await wait_until(pilot, lambda: app.checks.report is not None)
        assert app.checks.graded == "dev"
        assert app.state is not None and app.state.git is not None and app.state.git.branch == "dev"
        assert off_branch_note(app.state.git, app.checks.graded) == ""


async def test_a_run_that_ends_before_the_pushed_state_arrives_leaves_the_re_run_to_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The re-run after `p` was used up by whichever came first: a checks run that ended between the end
    of `p` and the arrival of the state read after it cleared it, and the report stayed stale."""
    import threading

    from lab.services import check, session

    run_ends, state_arrives = threading.Event(), threading.Event()
    runs: list[int] = []
    real_run, real_read = check.run_checks, session.read_state
    hold_reads = False

    def run_checks(*args: object, **kwargs: object) -> object:
        if "on_result" not in kwargs:  # `p`'s own look at what Flux would refuse, not the app's run
            return real_run(*args, **kwargs)  # type: ignore[arg-type]
        runs.append(1)
        if len(runs) == 2:
            run_ends.wait(30)  # the run that started before `p` ends while its state is read
        return real_run(*args, **kwargs)  # type: ignore[arg-type]

    def read_state(*args: object, **kwargs: object) -> object:
        if hold_reads:
            state_arrives.wait(30)
        return real_read(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(check, "run_checks", run_checks)
    monkeypatch.setattr(session, "read_state", read_state)
    app = lab_app(practice_session(tmp_path))
    ws = app.session.workspace
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.state is not None)
        app.run_checks()
        await wait_until(pilot, lambda: app.checks.report is not None and not app.checks.running)
        app.run_checks()  # held until `p` has ended
        await wait_until(pilot, lambda: len(runs) == 2)  # its stamp taken: the tree as the state has it
        hold_reads = True
        deploy = ws / "apps/base/nginx/deployment.yaml"
        deploy.write_text(deploy.read_text().replace("replicas: 1", "replicas: 2"))
        app.push_work()
        await wait_until(pilot, lambda: not app.sync.running, timeout=30)
        assert app.sync.ok, app.sync.text
        run_ends.set()
        await wait_until(pilot, lambda: not app.checks.running, timeout=30)
        assert len(runs) == 2
        state_arrives.set()
        await wait_until(pilot, lambda: len(runs) == 3, timeout=30)
        await wait_until(pilot, lambda: not app.checks.running, timeout=30)
        assert app.state is not None and app.checks.stamp == app.state.stamp


async def test_following_the_sandbox_to_another_task_grades_it(tmp_path: Path) -> None:
    """`r` found the sandbox's repository reset to another task: the app switched to it and graded
    nothing (the switch starts with no report), so the learner's `r` did nothing visible."""
    from tests.support.tui_helpers import task_session

    app = LabApp(practice_session(tmp_path), workspace_label="gitops-lab")
    other = task_session(tmp_path, "09b-multi")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("2")
        app._follow_sandbox(other)
        await wait_until(pilot, lambda: app.session.task.id == "09b-multi")
        await wait_until(
            pilot,
            lambda: app.checks.report is not None and app.checks.report.task == "09b-multi",
            timeout=30,
            describe=lambda: app.checks,
        )
