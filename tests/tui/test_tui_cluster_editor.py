"""The Flux screen against a real (loopback) Kubernetes API, `e` handing the terminal to $EDITOR,
and NO_COLOR."""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import DataTable, Static, TextArea

from lab.sandbox.kubeapi import KubeAPIServer, write_kubeconfig
from lab.services.session import Session
from lab.tui.screens.editor import EditorScreen
from tests.support.kubeapi_helpers import IMAGE_POLICY, IMAGE_REPOSITORY, POLICY_READY_STATUS
from tests.support.tui_helpers import lab_app, notifications, practice_session, wait_until

pytestmark = pytest.mark.slow


async def test_flux_screen_shows_flux_get_images_and_reconciles(tmp_path: Path) -> None:
    sandbox = practice_session(tmp_path)
    seen: list[object] = []
    with KubeAPIServer() as server:
        server.put(IMAGE_REPOSITORY)
        server.put(IMAGE_POLICY)
        server.update_status("ImagePolicy", "nginx", "flux-system", POLICY_READY_STATUS)
        kubeconfig = server.write_kubeconfig(tmp_path / "kubeconfig")
        session = Session(sandbox.workspace, sandbox.task, sandbox=False, kubeconfig=str(kubeconfig))
        app = lab_app(session)
        async with app.run_test(size=(120, 40), message_hook=seen.append) as pilot:
            await pilot.press("5")
            cluster = app.screen.query_one("#cluster", Static)
            await wait_until(pilot, lambda: "flux get images all" in str(cluster.content), timeout=20)
            text = str(cluster.content)
            assert "imagerepository/nginx" in text
            assert "imagepolicy/nginx" in text and "1.25.3" in text
            await pilot.press("R")
            await wait_until(pilot, lambda: any("reconcile requested" in m for _, m in notifications(seen)))
            policy = server.get("ImagePolicy", "nginx", "flux-system")
            assert policy is not None
            annotations = policy["metadata"].get("annotations", {})
            assert "reconcile.fluxcd.io/requestedAt" in annotations
    assert not [m for sev, m in notifications(seen) if sev == "error"]


async def test_generator_preselects_the_version_the_cluster_serves(tmp_path: Path) -> None:
    from textual.widgets import Select

    from lab.core.manifests.models import API_V1BETA2

    sandbox = practice_session(tmp_path)
    with KubeAPIServer(image_api_versions=("v1beta2",)) as server:
        kubeconfig = server.write_kubeconfig(tmp_path / "kubeconfig")
        session = Session(sandbox.workspace, sandbox.task, sandbox=False, kubeconfig=str(kubeconfig))
        app = lab_app(session)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("3")
            select = app.screen.query_one("#api", Select)
            await wait_until(pilot, lambda: select.value == API_V1BETA2, timeout=20)
            await pilot.pause()
            preview = str(app.screen.query_one("#preview", Static).content)
            assert "apiVersion: image.toolkit.fluxcd.io/v1beta2" in preview


async def test_unreachable_cluster_is_a_notification(tmp_path: Path) -> None:
    sandbox = practice_session(tmp_path)
    kubeconfig = write_kubeconfig(tmp_path / "kc", "http://127.0.0.1:1")
    session = Session(sandbox.workspace, sandbox.task, sandbox=False, kubeconfig=str(kubeconfig))
    seen: list[object] = []
    app = lab_app(session)
    async with app.run_test(size=(80, 24), message_hook=seen.append) as pilot:
        await pilot.press("5")
        await wait_until(pilot, lambda: any(sev == "error" for sev, _ in notifications(seen)), timeout=30)
    errors = [m for sev, m in notifications(seen) if sev == "error"]
    assert len(errors) == 1 and "127.0.0.1:1" in errors[0] and "\n" not in errors[0]


@pytest.fixture
def recording_editor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    record = tmp_path / "editor-args"
    script = tmp_path / "fake-editor"
    script.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > {record}\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", f"{script} --wait")
    return record


async def test_e_and_shift_e_open_the_checks_file_at_its_line(tmp_path: Path, recording_editor: Path) -> None:
    """`e` opens the lab's own editor there, `E` lends the terminal to $EDITOR."""
    session = practice_session(tmp_path)
    app = lab_app(session)

    @contextlib.contextmanager
    def lend_terminal() -> Iterator[None]:
        yield  # headless: there is no terminal to lend, the editor still runs

    app.suspend = lend_terminal  # type: ignore[method-assign]
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("4")
        await wait_until(pilot, lambda: app.last_report is not None, timeout=30)
        table = app.screen.query_one("#checks", DataTable)
        table.move_cursor(row=table.get_row_index("marker.present"))
        await pilot.pause()
        result = app.last_report.get("marker.present") if app.last_report else None
        assert result is not None and result.file
        # `e`: the lab's own editor, at the check's file and line; the palette offers it too.
        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(app.screen, EditorScreen))
        editor = app.screen
        assert isinstance(editor, EditorScreen) and editor.rel == result.file
        assert editor.query_one(TextArea).cursor_location == ((result.line or 1) - 1, 0)
        await pilot.press("escape")
        await wait_until(
            pilot, lambda: app.current_mode == "checks" and not isinstance(app.screen, EditorScreen)
        )
        titles = {c.title for c in app.get_system_commands(app.screen)}
        assert {"Edit a file (e)", "Checks: Edit (e)", "Generate: Edit (e)"} <= titles
        await pilot.press("E")
        await wait_until(pilot, lambda: recording_editor.exists())
    args = recording_editor.read_text().splitlines()
    expected = [str(session.workspace / result.file)]
    if result.line:
        expected.insert(0, f"+{result.line}")
    assert args == ["--wait", *expected]


async def test_no_color_keeps_status_readable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = lab_app(practice_session(tmp_path))
    assert os.environ["NO_COLOR"] == "1"
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.no_color
        await pilot.press("4")
        await wait_until(pilot, lambda: app.last_report is not None, timeout=30)
        table = app.screen.query_one("#checks", DataTable)
        assert str(table.get_cell("repo.files", "status")) == "✗ FAIL"
        assert str(table.get_cell("cluster.controllers", "status")) == "- skip"
