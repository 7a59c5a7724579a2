"""Each exercise (09b-multi, 09b-staging, 09b-guard) opened from Home and completed by keyboard alone.

Every step is a key press a learner makes at 80x24: Enter on the exercise in Home, the generator's
ctrl+s, `e` / ctrl+o to open a file in the lab's editor, the edits typed into it (arrows, End,
Backspace, characters), ctrl+s to save, `p` to push, `d` `c` for Flux's commit, the quiz, `u` and `p`
on Done. The tests read the screen and the files only to decide where the cursor has to go and when
a worker is done. The end is full marks, the same report `lab check --task ID --offline` gives.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Button, DataTable, OptionList, Static, TextArea

from lab.services.check import run_checks
from lab.services.session import task_workspace
from lab.tui.app import LabApp
from lab.tui.screens.confirm import ConfirmDiff
from lab.tui.screens.editor import EditorScreen, FilePicker
from tests.support.tui_helpers import (
    fast_keys,
    lab_app,
    notifications,
    practice_session,
    type_keys,
    wait_until,
)

pytestmark = pytest.mark.slow

OUT = "clusters/dev/image-automation"


def _text(widget: Static) -> str:
    return str(widget.content)


class Keys:
    """The learner's hands: every method is key presses on the app."""

    def __init__(self, pilot: Pilot[None], app: LabApp) -> None:
        self.pilot = pilot
        self.app = app

    @property
    def area(self) -> TextArea:
        return self.app.screen.query_one("#editor", TextArea)

    async def type(self, text: str) -> None:
        await type_keys(self.pilot, text)

    async def open_file(self, name: str, *, key: str = "ctrl+o") -> None:
        """`key` (e on an area, ctrl+o in the editor) opens the picker; typing filters; Enter opens."""
        await self.pilot.press(key)
        await wait_until(self.pilot, lambda: isinstance(self.app.screen, FilePicker))
        picker = self.app.screen
        await wait_until(self.pilot, lambda: bool(picker.files))  # type: ignore[attr-defined]
        await self.type(name)
        await self.pilot.press("enter")
        await wait_until(
            self.pilot,
            lambda: (
                isinstance(self.app.screen, EditorScreen)
                and self.app.screen.opened is not None
                and self.app.screen.rel.endswith(name)
            ),
        )

    async def goto(self, contains: str, *, after: int = 0) -> None:
        """Arrow keys to the line holding `contains` (the first after row `after`), then End."""
        rows = self.area.text.split("\n")
        target = next(i for i, row in enumerate(rows) if i >= after and contains in row)
        current = self.area.cursor_location[0]
        step = "down" if target > current else "up"
        await fast_keys(self.pilot, *([step] * abs(target - current)), "end")

    async def goto_last_line(self) -> None:
        rows = self.area.text.split("\n")
        last = len(rows) - 1 if rows[-1] else len(rows) - 2
        await fast_keys(self.pilot, *(["down"] * (last - self.area.cursor_location[0])), "end")

    async def erase(self, count: int) -> None:
        await fast_keys(self.pilot, *(["backspace"] * count))

    async def lines(self, *lines: str) -> None:
        """Enter and type each line; Enter keeps the indentation, so Backspace takes it away first."""
        for line in lines:
            await fast_keys(self.pilot, "enter")
            column = self.area.cursor_location[1]
            await self.erase(column)  # keys bound to actions (backspace) run after plain characters
            await self.type(line)  # sent with them, so each kind goes in a batch of its own

    async def replace_end(self, old: str, new: str) -> None:
        """On the current line (cursor at its end): Backspace over `old`, type `new`."""
        row = self.area.text.split("\n")[self.area.cursor_location[0]]
        assert row.endswith(old), row
        await self.erase(len(old))
        await self.type(new)

    async def save(self, workspace: Path) -> None:
        editor = self.app.screen
        assert isinstance(editor, EditorScreen)
        await self.pilot.press("ctrl+s")
        path = workspace / editor.rel
        await wait_until(
            self.pilot,
            lambda: (
                not editor.saving
                and not editor.modified
                and path.is_file()
                and path.read_text(encoding="utf-8") == self.area.text
            ),
        )

    async def close_editor(self) -> None:
        await self.pilot.press("escape")
        await wait_until(self.pilot, lambda: not isinstance(self.app.screen, EditorScreen))


async def _open_from_home(pilot: Pilot[None], app: LabApp, task_id: str) -> Path:
    tasks = app.screen.query_one("#lab-tasks", DataTable)
    await wait_until(pilot, lambda: tasks.row_count >= 4)
    assert tasks.has_focus, "Home starts on the lab's tasks"
    steps = tasks.get_row_index(task_id) - tasks.cursor_row
    await pilot.press(*(["down"] * steps), "enter")
    await wait_until(pilot, lambda: app.session.task.id == task_id and app.state is not None, timeout=30)
    return app.session.workspace


async def _push(pilot: Pilot[None], app: LabApp) -> None:
    before = app.sync
    await pilot.press("5", "p")
    await wait_until(pilot, lambda: app.sync is not before and not app.sync.running, timeout=30)
    assert app.sync.ok, app.sync.text


async def _flux_commits(pilot: Pilot[None], app: LabApp) -> None:
    """On Flux (5): `d` shows the dry run, `c` commits and pushes as Flux."""
    status = app.screen.query_one("#sim-status", Static)
    await pilot.press("d")
    await wait_until(
        pilot,
        lambda: "dry run, nothing committed" in _text(status),
        timeout=30,
        describe=lambda: _text(status),
    )
    await pilot.press("c")
    await wait_until(pilot, lambda: "pushed commit" in _text(status), timeout=30)


async def _quiz(pilot: Pilot[None], app: LabApp) -> None:
    await pilot.press("6")
    for number, question in enumerate(app.session.task.quiz.questions, 1):
        counter = app.screen.query_one("#counter")
        await wait_until(pilot, lambda n=number, c=counter: f"Question {n} of" in str(c.render()))  # type: ignore[misc]
        assert app.screen.query_one("#choices", OptionList).has_focus
        await pilot.press(*(["down"] * question.answer), "enter")
        assert "✔ Right." in _text(app.screen.query_one("#feedback", Static))
        await pilot.press("n")
    total = len(app.session.task.quiz.questions)
    prompt = app.screen.query_one("#prompt", Static)
    await wait_until(pilot, lambda: f"{total}/{total}: passed" in _text(prompt))


async def _done(pilot: Pilot[None], app: LabApp, workspace: Path) -> None:
    """Done (7): the checks run; `u` marks the exercise's own row, `p` pushes it after Flux's commit."""
    task = app.session.task
    await pilot.press("7")
    state = app.screen.query_one("#done-state", Static)
    await wait_until(pilot, lambda: "Every check passes but the PROGRESS.md row" in _text(state), timeout=60)
    assert f"+| {task.meta.progress_row} | ✅ |" in _text(app.screen.query_one("#progress-diff", Static))
    assert app.screen.query_one("#write-progress", Button).disabled is False
    await pilot.press("u")
    await wait_until(pilot, lambda: "not committed yet: p commits and pushes it" in _text(state), timeout=30)
    await pilot.press("p")
    try:
        await wait_until(pilot, lambda: "Everything is on origin" in _text(state), timeout=90)
    except AssertionError:
        raise AssertionError(f"{_text(state)}\n{app.sync.text}\n{app.checks}") from None
    report = app.last_report
    assert report is not None and report.task == task.id
    assert report.score == report.max_score == 100, [(c.id, c.status, c.message) for c in report.checks]
    progress = (workspace / "PROGRESS.md").read_text(encoding="utf-8")
    assert f"| {task.meta.progress_row} | ✅ |" in progress
    starter = (task.starter / "PROGRESS.md").read_text(encoding="utf-8").splitlines()
    changed = [line for line in progress.splitlines() if line not in starter]
    assert changed == [f"| {task.meta.progress_row} | ✅ | {task.meta.progress_note} |"], (
        "only the exercise's row"
    )


def _cli_report_is_full(workspace: Path, task_id: str) -> None:
    """What `lab check --task ID --offline` reports for the repository the app left behind."""
    report = run_checks(workspace, task=task_id, offline=True)
    assert report.score == report.max_score == 100, [(c.id, c.status, c.message) for c in report.checks]


async def _run(tmp_path: Path, task_id: str, edit: object) -> None:
    seen: list[object] = []
    app = lab_app(practice_session(tmp_path))
    async with app.run_test(size=(80, 24), message_hook=seen.append) as pilot:
        workspace = await _open_from_home(pilot, app, task_id)
        assert workspace == task_workspace(task_id)
        await edit(Keys(pilot, app), workspace)  # type: ignore[operator]
        await _push(pilot, app)
        await _flux_commits(pilot, app)
        await _quiz(pilot, app)
        await _done(pilot, app, workspace)
    _cli_report_is_full(workspace, task_id)
    assert not [m for sev, m in notifications(seen) if sev == "error"]


def _marker(policy: str) -> str:
    return f' # {{"$imagepolicy": "{policy}"}}'


async def test_09b_multi_by_keyboard(tmp_path: Path) -> None:
    """The form writes shop's ImageRepository, ImagePolicy and the automation (its message template
    lists every change); the editor adds the other three images and one marker per field."""

    async def edit(keys: Keys, ws: Path) -> None:
        pilot, app = keys.pilot, keys.app
        await pilot.press("3", "ctrl+s")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDiff))  # the starter's automation
        await pilot.press("y")
        await wait_until(pilot, lambda: (ws / OUT / "image-policy.yaml").exists())
        await wait_until(pilot, lambda: ".Changed.Changes" in (ws / OUT / "image-update.yaml").read_text())

        await keys.open_file("image-repository.yaml", key="e")
        await keys.goto_last_line()
        for name, image in (
            ("shop-worker", "ghcr.io/acme/shop-worker"),
            ("shop-migrate", "ghcr.io/acme/shop-migrate"),
            ("nginx", "nginx"),
        ):
            await keys.lines(
                "---",
                "apiVersion: image.toolkit.fluxcd.io/v1",
                "kind: ImageRepository",
                "metadata:",
                f"  name: {name}",
                "  namespace: flux-system",
                "spec:",
                f"  image: {image}",
                "  interval: 5m",
            )
        await keys.save(ws)

        await keys.open_file("image-policy.yaml")
        await keys.goto_last_line()
        for name, extra, semver in (
            ("shop-worker", ["  digestReflectionPolicy: IfNotPresent"], "1.4.x"),
            ("shop-migrate", [], "1.4.x"),
            ("nginx", [], "1.25.x"),
        ):
            await keys.lines(
                "---",
                "apiVersion: image.toolkit.fluxcd.io/v1",
                "kind: ImagePolicy",
                "metadata:",
                f"  name: {name}",
                "  namespace: flux-system",
                "spec:",
                "  imageRepositoryRef:",
                f"    name: {name}",
                *extra,
                "  policy:",
                "    semver:",
                f"      range: {semver}",
            )
        await keys.save(ws)

        await keys.open_file("shop/deployment.yaml")
        await keys.goto("image: ghcr.io/acme/shop:1.4.0")
        await keys.type(_marker("flux-system:shop"))
        await keys.goto("image: nginx:1.25.0")
        await keys.type(_marker("flux-system:nginx"))
        await keys.save(ws)

        await keys.open_file("shop/worker.yaml")
        await keys.goto("repository: ghcr.io/acme/shop-worker")
        await keys.type(_marker("flux-system:shop-worker:name"))
        await keys.goto('tag: "1.4.0"')
        await keys.type(_marker("flux-system:shop-worker:tag"))
        await keys.goto("digest: sha256:")
        await keys.type(_marker("flux-system:shop-worker:digest"))
        await keys.save(ws)

        await keys.open_file("apps/dev/kustomization.yaml")
        await keys.goto("newTag: 1.4.0")
        await keys.type(_marker("flux-system:shop-migrate:tag"))
        await keys.save(ws)
        await keys.close_editor()

    await _run(tmp_path, "09b-multi", edit)


async def test_09b_staging_by_keyboard(tmp_path: Path) -> None:
    """The automation writes under apps/staging only, through a staging policy it selects by label;
    production is promoted by the learner's own commit."""

    async def edit(keys: Keys, ws: Path) -> None:
        await keys.pilot.press("5")  # e works on Flux too: the file picker
        await keys.open_file("image-update.yaml", key="e")
        await keys.goto("name: flux-system")
        await keys.replace_end("flux-system", "staging")
        await keys.goto("interval: 10m")
        await keys.pilot.press("up", "end")
        await keys.lines("  policySelector:", "    matchLabels:", "      env: staging")
        await keys.goto("path: ./")
        await keys.type("apps/staging")
        await keys.save(ws)

        await keys.open_file("image-policy.yaml")
        await keys.goto("name: shop")
        await keys.type("-staging")
        await keys.goto("namespace: flux-system")
        await keys.lines("  labels:", "    env: staging")
        await keys.save(ws)

        await keys.open_file("apps/base/shop/deployment.yaml")
        await keys.goto("image: ghcr.io/acme/shop:1.4.1")
        await keys.replace_end(_marker("flux-system:shop"), "")
        await keys.save(ws)

        await keys.open_file("apps/staging/kustomization.yaml")
        await keys.goto_last_line()
        await keys.lines(
            "images:",
            "  - name: ghcr.io/acme/shop",
            "    newTag: 1.4.1" + _marker("flux-system:shop-staging:tag"),
        )
        await keys.save(ws)

        await keys.open_file("apps/production/kustomization.yaml")
        await keys.goto_last_line()
        await keys.lines("images:", "  - name: ghcr.io/acme/shop", "    newTag: 1.4.2")
        await keys.save(ws)
        await keys.close_editor()

    await _run(tmp_path, "09b-staging", edit)


async def test_09b_guard_by_keyboard(tmp_path: Path) -> None:
    """Production takes stable 1.x only and never the broken 1.4.2; staging takes builds of main only;
    the custom exclusion list keeps the default .sig rule."""

    async def edit(keys: Keys, ws: Path) -> None:
        await keys.pilot.press("5")
        await keys.open_file("image-repository.yaml", key="e")
        await keys.goto("exclusionList:")
        await keys.lines("    - '^.*\\.sig$'", "    - '^.*\\.att$'", "    - '^.*\\.sbom$'")
        await keys.goto_last_line()
        await keys.lines("    - '^1\\.4\\.2$'")
        await keys.save(ws)

        await keys.open_file("image-policy.yaml")
        await keys.goto("alphabetical:")
        await keys.replace_end("alphabetical:", "semver:")
        await keys.pilot.press("down", "end")
        await keys.replace_end("order: asc", "range: '>=1.4.0 <2.0.0'")
        await keys.goto("pattern:")
        await keys.replace_end("'[a-f0-9]+-(?P<ts>.*)'", "'^main-[a-f0-9]+-(?P<ts>[0-9]+)$'")
        await keys.save(ws)
        await keys.close_editor()

    await _run(tmp_path, "09b-guard", edit)
