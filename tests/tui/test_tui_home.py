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


async def test_the_lab_tasks_are_on_screen_and_keep_the_keys_at_80x24(tmp_path: Path) -> None:
    """The tester's round: the lab's tasks were below the fold at 80x24 and ↑↓ scrolled the page, so
    09b-staging could not be opened from Home. They are on the first screen, Tab leaves the focus on them,
    ↑↓ move their cursor, and PageDown still scrolls the page to the course's table."""
    from textual.containers import VerticalScroll

    from tests.support.tui_helpers import lab_app, practice_session

    session = practice_session(tmp_path)
    progress = session.workspace / "PROGRESS.md"
    # The exercises' rows, as a repository of the course task gets them once they are done elsewhere.
    rows = "".join(
        f"| 09b-{name} | ✅ | done in ~/gitops-{name} |\n" for name in ("multi", "staging", "guard")
    )
    progress.write_text(progress.read_text().replace("| 10-cleanup", rows + "| 10-cleanup"))
    app = lab_app(session)
    async with app.run_test(size=(80, 24)) as pilot:
        tasks = app.screen.query_one("#lab-tasks", DataTable)
        course = app.screen.query_one("#tasks", DataTable)
        await wait_until(pilot, lambda: tasks.row_count == 4 and course.row_count == 13)
        await pilot.pause()
        page = app.screen.query_one(VerticalScroll)
        assert page.scroll_y == 0
        # The header and every row above the footer, without scrolling.
        assert tasks.virtual_region.height == 5
        assert page.region.y + tasks.virtual_region.bottom <= 24 - 1
        await pilot.press("tab", "down", "down")
        assert tasks.has_focus and tasks.cursor_row == tasks.get_row_index("09b-staging")
        assert page.scroll_y == 0
        await pilot.press("pagedown")
        await wait_until(pilot, lambda: page.scroll_y > 0)
        assert tasks.cursor_row == tasks.get_row_index("09b-staging")
        await pilot.press("pageup", "enter")
        await wait_until(pilot, lambda: app.session.task.id == "09b-staging", timeout=30)


async def test_lab_reopens_the_task_last_worked_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """ctrl+q in the middle of an exercise, then `lab` (or `make lab`) outside any repository: the app
    opened the course's sandbox task again; it reopens the exercise, and says so."""
    from textual.notifications import Notify

    from lab.services.session import default_sandbox_workspace, open_session, open_task

    monkeypatch.chdir(tmp_path)
    first = open_session()
    assert first.workspace == default_sandbox_workspace() and not first.resumed
    staging = open_task(first, "09b-staging")  # Enter on it in Home
    again = open_session()
    assert (again.task.id, again.workspace, again.resumed) == ("09b-staging", staging.workspace, True)
    seen: list[object] = []
    app = LabApp(again)
    async with app.run_test(size=(80, 24), message_hook=seen.append) as pilot:
        await wait_until(
            pilot,
            lambda: any(
                isinstance(m, Notify) and m.notification.message.startswith("Resumed Task 09b-staging in ")
                for m in seen
            ),
        )
    # Back to the course task: that is where `lab` opens next, without a word.
    open_task(again, "09b")
    assert open_session().workspace == default_sandbox_workspace()
    assert not open_session().resumed


async def test_home_says_which_rows_are_done_elsewhere(tmp_path: Path) -> None:
    """~/gitops-guard, made before 09b-staging was done in its own repository: Home's PROGRESS.md table
    showed that row open with nothing more; it says where it is done and how to copy it."""
    from lab.sandbox.practice import init_practice_repo
    from lab.services.progress import mark_task_done
    from lab.services.progress_record import remember_repository
    from lab.services.session import Session, home_relative
    from lab.services.tasks import load_task
    from tests.support.tui_helpers import lab_app

    guard = init_practice_repo(tmp_path / "gitops-guard", task="09b-guard").path
    staging = init_practice_repo(tmp_path / "gitops-staging", task="09b-staging").path
    remember_repository(staging, "09b-staging")
    mark_task_done(staging, load_task("09b-staging").meta)
    app = lab_app(Session(guard, load_task("09b-guard"), sandbox=True, kubeconfig=None))
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.screen.query_one("#tasks", DataTable)
        want = f"done in {home_relative(staging)}: lab progress --sync"
        await wait_until(pilot, lambda: table.row_count > 0 and str(table.get_row("09b-staging")[2]) == want)
        assert [str(c) for c in table.get_row("09b-guard")[1:]] == ["⬜", ""]
        assert str(table.get_row("09b-multi")[2]) == ""


async def test_a_stopped_sandbox_is_said_stopped_with_how_to_start_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Attached to the sandbox, which stopped (`lab sandbox down`, or a reset that left it stopped):
    Home kept "sandbox cluster (runs in the background…)" and the Flux screen "kubeconfig … does not
    exist - hint: check KUBECONFIG", never S or `lab sandbox up`."""
    from dataclasses import replace

    from textual.widgets import Static

    from lab.services import session as session_module
    from tests.support.tui_helpers import notifications, practice_session

    detached = practice_session(tmp_path)
    monkeypatch.setattr(session_module, "default_sandbox_workspace", lambda: detached.workspace)
    gone = tmp_path / "sandbox-kubeconfig"  # the stopped sandbox's: no sandbox runs here
    seen: list[object] = []
    app = LabApp(replace(detached, kubeconfig=str(gone)), workspace_label="gitops-lab")
    async with app.run_test(size=(100, 30), message_hook=seen.append) as pilot:
        await wait_until(pilot, lambda: app.session.kubeconfig is None, timeout=30)  # the watcher saw it
        mode = str(app.screen.query_one("#home-mode").render())
        assert "practice repo" in mode and "S on Flux" in mode and "background" not in mode, mode
        assert any("The sandbox stopped: S on Flux" in m for _, m in notifications(seen))
        await pilot.press("5")
        await pilot.pause()
        cluster = str(app.screen.query_one("#cluster", Static).content)
        assert "S starts the sandbox" in cluster, cluster
        await pilot.press("g")
        await pilot.pause()
        assert any("S starts it" in m for _, m in notifications(seen))
        # `lab sandbox up` in another shell: the watcher attaches again, without a key.
        from lab.services import sandbox as sandbox_module

        back = tmp_path / "sandbox-up-kubeconfig"
        info = sandbox_module.SandboxInfo(detached.workspace, back, "127.0.0.1:9", pid=1)
        monkeypatch.setattr(sandbox_module, "running_info", lambda _workspace: info)
        await wait_until(pilot, lambda: app.session.kubeconfig == str(back), timeout=30)


async def test_a_sandbox_cluster_that_cannot_be_read_points_at_S(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cluster error on the Flux screen in the sandbox said "check KUBECONFIG … `eval $(lab sandbox
    env)`": the lab chose that kubeconfig, and S is what starts the sandbox again."""
    from dataclasses import replace

    from lab.services import session as session_module
    from lab.tui.screens.flux import FluxScreen
    from tests.support.tui_helpers import notifications, practice_session

    detached = practice_session(tmp_path)
    monkeypatch.setattr(session_module, "default_sandbox_workspace", lambda: detached.workspace)
    monkeypatch.setattr(session_module, "followed_sandbox", lambda s: s)  # its detach: the test above
    seen: list[object] = []
    app = LabApp(replace(detached, kubeconfig=str(tmp_path / "gone")), workspace_label="gitops-lab")
    async with app.run_test(size=(100, 30), message_hook=seen.append) as pilot:
        await pilot.press("5")
        await wait_until(pilot, lambda: isinstance(app.screen, FluxScreen))
        await wait_until(pilot, lambda: any("cannot reach" in m for _, m in notifications(seen)), timeout=30)
        said = next(m for _, m in notifications(seen) if "cannot reach" in m)
        assert "S starts it again" in said and "KUBECONFIG" not in said, said
