"""The app on the default sandbox with `lab sandbox up`'s cluster, registry and Flux controllers:
attach when it runs, start it and publish a tag with `t`, and see the sandbox's Flux commit arrive."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import Static

from lab.services import sandbox
from lab.services.session import open_session, origin_log
from lab.tui.app import LabApp
from tests.support.tui_helpers import notifications, wait_until

pytestmark = pytest.mark.slow


@pytest.fixture
def default_sandbox(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    monkeypatch.chdir(tmp_path)
    for var in ("KUBECONFIG", "LAB_REGISTRY_MIRROR", "LAB_SANDBOX_WORKSPACE"):
        monkeypatch.setenv(var, "")  # attaching exports them; monkeypatch puts them back
    try:
        yield
    finally:
        sandbox.down(None)


async def test_push_tag_starts_the_sandbox_and_its_flux_commits(default_sandbox: None) -> None:
    from lab.services.solve import solve

    session = open_session(None)
    assert session.sandbox and session.kubeconfig is None
    solve(session.workspace)
    seen: list[object] = []
    app = LabApp(session, workspace_label="gitops-lab")
    async with app.run_test(size=(100, 30), message_hook=seen.append) as pilot:
        await pilot.press("5")
        await pilot.pause()
        assert "lab sandbox up" in str(app.screen.query_one("#cluster", Static).content)
        await pilot.press("t")
        await wait_until(pilot, lambda: app.session.kubeconfig is not None, timeout=30)
        await wait_until(
            pilot, lambda: any("published nginx:1.25.4" in m for _, m in notifications(seen)), timeout=30
        )
        published = next(m for _, m in notifications(seen) if "published nginx:1.25.4" in m)
        assert "a policy's pick changes to a different tag (an older one too)" in published
        assert "newer" not in published
        cluster = app.screen.query_one("#cluster", Static)
        for _ in range(120):  # the sandbox's kustomize-controller applies origin on its own clock
            if "imagepolicy/nginx" in str(cluster.content):
                break
            await pilot.press("g")
            await pilot.pause(0.5)
        assert "imagepolicy/nginx" in str(cluster.content), str(cluster.content)
        log = app.screen.query_one("#origin-log", Static)

        def flux_took_the_new_tag() -> bool:
            # Whether the sandbox's first scan ran before or after the push, Flux ends on 1.25.4.
            return any(
                c.author_name == "Flux" and "-> library/nginx:1.25.4" in c.message
                for c in origin_log(session.workspace)
            )

        for _ in range(240):  # the sandbox's controllers reconcile on their own clock
            if flux_took_the_new_tag():
                break
            await pilot.pause(0.25)
        assert flux_took_the_new_tag(), str(log.content)
        await pilot.press("l")
        await wait_until(pilot, lambda: "Automated image update  (Flux)" in str(log.content), timeout=20)
        assert "sandbox" in str(app.sub_title)
    assert not [m for sev, m in notifications(seen) if sev == "error"]


async def test_a_running_sandbox_is_attached_after_the_first_paint(default_sandbox: None) -> None:
    info = sandbox.ensure_running(None)
    session = open_session(None)
    assert session.workspace == info.workspace and session.kubeconfig is None
    app = LabApp(session, workspace_label="gitops-lab")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.session.kubeconfig == str(info.kubeconfig), timeout=20)
        await pilot.pause()
        assert "sandbox cluster (runs in the background" in str(app.screen.query_one("#home-mode").render())
        assert " · sandbox cluster · " in str(app.sub_title)  # the title bar says what Home says


async def test_t_on_a_task_without_events_publishes_the_tag_its_policy_picks_next(
    default_sandbox: None,
) -> None:
    """`t` on a task without dated releases said it had none to publish, and the learner needed `lab
    sandbox push-tag TAG` from a shell (tex finding 15): it publishes what `lab sandbox push-tag` does."""
    sandbox.ensure_running(None, task="09b-multi")
    session = open_session(None)
    assert session.task.id == "09b-multi" and session.task.meta.images[0].events is None
    seen: list[object] = []
    app = LabApp(session, workspace_label="gitops-lab")
    async with app.run_test(size=(100, 30), message_hook=seen.append) as pilot:
        await pilot.press("5")
        await wait_until(pilot, lambda: app.session.kubeconfig is not None, timeout=30)  # attached
        await pilot.pause(0.5)
        before = len(notifications(seen))
        await pilot.press("t")
        await wait_until(
            pilot, lambda: any("published" in m for _, m in notifications(seen)[before:]), timeout=30
        )
        said = [m for _, m in notifications(seen)][before:]
        assert not any("has no events" in m for m in said), said
    from lab.sandbox.runtime import pushed_tags

    assert pushed_tags(sandbox.paths(None)), "nothing was published"


async def test_the_app_follows_a_sandbox_reset_to_another_task(default_sandbox: None) -> None:
    """The app says "`lab sandbox reset --task 09b-multi` makes it serve this one"; run in another shell
    (then `lab sandbox up`), the open app kept "Task 09b", graded the new starter with 09b's checks and
    asked the stopped sandbox's registry port (tex finding 4). On `r` it follows: the task the sandbox's
    repository now records, and the sandbox's registry and cluster as they run now. It says so once: only
    "Opened Task 09b-staging" told that a reset had happened, and nothing where the old repository went
    (twalk finding 4)."""
    from lab.services.session import attach_sandbox

    sandbox.ensure_running(None, task="09b")
    session = attach_sandbox(open_session(None))
    assert session.task.id == "09b" and session.kubeconfig is not None
    seen: list[object] = []
    app = LabApp(session, workspace_label="gitops-lab")
    async with app.run_test(size=(100, 30), message_hook=seen.append) as pilot:
        await pilot.press("4")
        await wait_until(pilot, lambda: app.checks.report is not None, timeout=30)
        assert app.checks.report is not None and app.checks.report.task == "09b"
        # Another shell: reset to another task, start it again (new ports).
        kept = sandbox.reset(None, force=True, task="09b-staging").kept
        assert kept is not None
        info = sandbox.ensure_running(None, task="09b-staging")
        await pilot.press("4")
        await pilot.press("r")
        await wait_until(pilot, lambda: app.session.task.id == "09b-staging", timeout=30)
        assert "Task 09b-staging" in str(app.sub_title)
        said = [m for _, m in notifications(seen) if "reset" in m]
        assert len(said) == 1 and "09b-staging" in said[0], said
        assert str(kept / "gitops-lab") in said[0] and "09b" in said[0].replace("09b-staging", ""), said
        assert dict(app.session.sandbox_env) == info.env()
        assert app.session.kubeconfig == str(info.kubeconfig)
        await wait_until(
            pilot,
            lambda: app.checks.report is not None and app.checks.report.task == "09b-staging",
            timeout=60,
        )
        report = app.checks.report
        assert report is not None
        assert "registry.tags" not in {c.id for c in report.checks if c.status.value == "error"}, [
            (c.id, c.message) for c in report.checks if c.status.value == "error"
        ]
        # Once: checks run again on the same sandbox say nothing more about it.
        await pilot.press("r")
        await wait_until(
            pilot, lambda: app.checks.report is not report and not app.checks.running, timeout=60
        )
        assert [m for _, m in notifications(seen) if "reset" in m] == said


async def test_the_app_notices_a_sandbox_reset_without_running_checks(default_sandbox: None) -> None:
    """Home's `r` kept "Task 09b" after `lab sandbox reset --task 09b-staging` in another shell; only
    running checks followed it (twalk finding 4). The workspace changing is enough: the app opens the
    sandbox's new task and says once where the previous repository went."""
    session = open_session(None)
    assert session.task.id == "09b"
    seen: list[object] = []
    app = LabApp(session, workspace_label="gitops-lab")
    async with app.run_test(size=(80, 24), message_hook=seen.append) as pilot:
        await wait_until(pilot, lambda: app.state is not None, timeout=30)
        kept = sandbox.reset(None, force=True, task="09b-staging").kept
        assert kept is not None
        await pilot.press("r")
        await wait_until(pilot, lambda: app.session.task.id == "09b-staging", timeout=30)
        await wait_until(pilot, lambda: app.state is not None, timeout=30)
        said = [m for _, m in notifications(seen) if "reset" in m]
        assert len(said) == 1 and str(kept / "gitops-lab") in said[0], said
        await pilot.press("r")
        await wait_until(pilot, lambda: app.state is not None and not app.refreshing, timeout=30)
        assert [m for _, m in notifications(seen) if "reset" in m] == said
