"""Three rounds of the learner's loop in the app, by keyboard only, against the running sandbox.

Round 1: generate, mark, `p`; the sandbox's Flux commits 1.25.3. Round 2: the quiz, `p` (a plain push
would be rejected: Flux's commit is on origin), `t` publishes nginx 1.25.4; Flux commits it. Round 3: an
edit in the form, overwrite, `p`, `t` (1.25.5); Flux commits. Origin's history is learner, Flux,
learner, Flux, learner, Flux with messages that say what each commit is, and the learner's
uncommitted edits (a tracked file, an untracked one) are there at the end, untouched.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Static, TabbedContent

from lab.services import sandbox
from lab.services.session import open_session
from lab.tui.app import LabApp
from lab.tui.screens.confirm import ConfirmDiff
from tests.support.tui_helpers import notifications, wait_until

pytestmark = pytest.mark.slow

SPEED = 3000.0


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout


@pytest.fixture
def default_sandbox(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    monkeypatch.chdir(tmp_path)
    for var in ("KUBECONFIG", "LAB_REGISTRY_MIRROR", "LAB_SANDBOX_WORKSPACE"):
        monkeypatch.setenv(var, "")  # attaching exports them; monkeypatch puts them back
    try:
        yield
    finally:
        sandbox.down(None)


def _history(origin: Path) -> list[tuple[str, str]]:
    out = _git(origin, "log", "--first-parent", "--reverse", "--format=%an%x00%s", "main")
    return [tuple(line.split("\0", 1)) for line in out.splitlines()]  # type: ignore[misc]


async def _flux_commit(pilot: Pilot[None], origin: Path, count: int, tag: str) -> None:
    def arrived() -> bool:
        flux = [s for a, s in _history(origin) if a == "Flux"]
        return len(flux) >= count and f"library/nginx:{tag}" in _git(
            origin, "show", "main:apps/base/nginx/deployment.yaml"
        )

    await wait_until(pilot, arrived, timeout=60)


async def _push(pilot: Pilot[None], app: LabApp) -> str:
    before = app.sync
    await pilot.press("5", "p")
    # A fast push may be over before a poll sees it running: wait for a new, finished outcome.
    await wait_until(pilot, lambda: app.sync is not before and not app.sync.running, timeout=30)
    assert app.sync.ok, app.sync.text
    return app.sync.text


async def test_three_rounds_by_keyboard_against_the_sandbox(default_sandbox: None) -> None:
    sandbox.ensure_running(None, speed=SPEED)
    session = open_session(None)
    ws = session.workspace
    origin = Path(_git(ws, "remote", "get-url", "origin").strip())
    (ws / "notes.txt").write_text("my notes, never committed\n")
    seen: list[object] = []
    app = LabApp(session, workspace_label="gitops-lab")
    async with app.run_test(size=(100, 30), message_hook=seen.append) as pilot:
        await wait_until(
            pilot, lambda: app.session.kubeconfig is not None and app.state is not None, timeout=30
        )

        # Round 1: the work itself.
        await pilot.press("3", "ctrl+s")
        await wait_until(pilot, lambda: (ws / "clusters/dev/image-automation/image-update.yaml").exists())
        await pilot.press("right_square_bracket", "m")
        await wait_until(
            pilot, lambda: '"$imagepolicy"' in (ws / "apps/base/nginx/deployment.yaml").read_text()
        )
        await _push(pilot, app)
        await _flux_commit(pilot, origin, 1, "1.25.3")
        bar = app.screen.query_one("#state-bar", Static)
        await wait_until(
            pilot, lambda: "origin has 1 commit by Flux you don't have" in str(bar.content), timeout=30
        )

        # Round 2: the quiz; a tracked file edited and left uncommitted on purpose.
        (ws / "README.md").write_text((ws / "README.md").read_text() + "\nmy edit, not committed yet\n")
        await pilot.press("6")
        for number, question in enumerate(app.session.task.quiz.questions, 1):
            counter = app.screen.query_one("#counter")
            await wait_until(pilot, lambda n=number, c=counter: f"Question {n} of" in str(c.render()))  # type: ignore[misc]
            await pilot.press(*(["down"] * question.answer), "enter", "n")
        await wait_until(pilot, lambda: (ws / ".fluxlab/quiz.json").exists())
        text = await _push(pilot, app)
        assert "$ git rebase origin/main" in text and "stashed your uncommitted changes in README.md" in text
        await pilot.press("t")
        await wait_until(
            pilot, lambda: any("published nginx:1.25.4" in m for _, m in notifications(seen)), timeout=30
        )
        await _flux_commit(pilot, origin, 2, "1.25.4")

        # Round 3: change the scan interval in the form, overwrite after the diff, push, new tag.
        await pilot.press("3", "left_square_bracket")  # round 1 left the Marker tab open
        await pilot.pause()
        assert app.screen.query_one(TabbedContent).active == "manifests-pane"
        for _ in range(30):
            if getattr(app.screen.focused, "id", None) == "interval":
                break
            await pilot.press("tab")
        assert getattr(app.screen.focused, "id", None) == "interval"
        await pilot.press("end", "backspace", "backspace", "1", "0", "m", "ctrl+s")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDiff), timeout=30)
        await pilot.press("y")
        repo_file = ws / "clusters/dev/image-automation/image-repository.yaml"
        await wait_until(pilot, lambda: "interval: 10m" in repo_file.read_text())
        text = await _push(pilot, app)
        assert "$ git rebase origin/main" in text

        # `t` publishes nginx's releases in date order; variant-only ones (1.25.4-otel...) come first and
        # a 1.25.x policy ignores them (prereleases), so the learner presses t until 1.25.5 is out.
        def published() -> list[str]:
            return [m for _, m in notifications(seen) if "published nginx:" in m]

        for presses in range(2, 8):
            await pilot.press("t")
            await wait_until(pilot, lambda n=presses: len(published()) >= n, timeout=30)  # type: ignore[misc]
            if "published nginx:1.25.5" in published()[-1]:
                break
        assert "published nginx:1.25.5" in published()[-1], published()
        await _flux_commit(pilot, origin, 3, "1.25.5")
        log = app.screen.query_one("#origin-log", Static)
        await wait_until(
            pilot, lambda: "1.25.5" in str(log.content) or "Automated" in str(log.content), timeout=30
        )

    history = _history(origin)[1:]
    assert [a for a, _ in history] == ["Learner", "Flux"] * 3, history
    total = len(session.task.quiz.questions)
    assert [s for a, s in history if a != "Flux"] == [
        "Add image automation",
        f"Record the quiz result ({total}/{total}, passed)",
        "Update image automation (image-repository.yaml)",
    ]
    assert all(s.startswith("Automated image update") for a, s in history if a == "Flux")
    assert (ws / "notes.txt").read_text() == "my notes, never committed\n"
    assert (ws / "README.md").read_text().endswith("\nmy edit, not committed yet\n")
    assert sorted(_git(ws, "status", "--porcelain").splitlines()) == [" M README.md", "?? notes.txt"]
    assert _git(origin, "rev-list", "--merges", "main") == ""
    assert not [m for sev, m in notifications(seen) if sev == "error"]


async def test_a_sandbox_stopped_under_the_app_is_said_so_and_started_again_with_S(
    default_sandbox: None,
) -> None:
    """`lab sandbox down` in another shell: the Cluster tab kept the last table as if it were the
    cluster's state, and nothing in the app could start the sandbox again (the learner had to quit)."""
    sandbox.ensure_running(None, speed=SPEED)
    seen: list[object] = []
    app = LabApp(open_session(None), workspace_label="gitops-lab")
    async with app.run_test(size=(100, 30), message_hook=seen.append) as pilot:
        await wait_until(pilot, lambda: app.session.kubeconfig is not None, timeout=30)
        await pilot.press("5", "S")  # running: nothing to start
        await wait_until(pilot, lambda: any("running already" in m for _, m in notifications(seen)))
        tabs = app.screen.query_one(TabbedContent)
        tabs.active = "cluster-pane"
        cluster = app.screen.query_one("#cluster", Static)

        def answered() -> bool:  # the starter has no image objects yet: the cluster says so
            text = str(cluster.content)
            return "flux get images" in text and "cannot reach" not in text and "asking" not in text

        await wait_until(pilot, answered, timeout=30)

        sandbox.down(None)
        await pilot.press("g")
        # Said at once (the cluster cannot be reached), then the app detaches from the stopped sandbox.
        await wait_until(pilot, lambda: app.session.kubeconfig is None, timeout=30)
        await wait_until(pilot, lambda: "S starts the sandbox" in str(cluster.content), timeout=30)

        await pilot.press("S")
        await wait_until(pilot, lambda: sandbox.running_info(None) is not None, timeout=60)
        await pilot.press("g")
        await wait_until(pilot, answered, timeout=60)
