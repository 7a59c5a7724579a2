"""`p` (commit the task's files, integrate Flux's commits, push) where git is not simply on main:
a deleted task file, a detached HEAD, a stopped rebase, a branch Flux does not deploy. Pilot on real
practice repositories with bare origins."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from textual.widgets import Static

from lab.services.session import Session
from lab.tui.screens.confirm import ConfirmDiff
from tests.support.gitutil import commit_files, git
from tests.support.tui_helpers import lab_app, notifications, practice_session, wait_until

pytestmark = pytest.mark.slow

UPDATE = "clusters/dev/image-automation/image-update.yaml"
POLICY = "clusters/dev/image-automation/image-policy.yaml"
FLUX = ("Flux", "flux@gitops-lab.local")


def _text(widget: Static) -> str:
    return str(widget.content)


def _with_automation(tmp_path: Path) -> tuple[Session, Path]:
    """The practice session with its image automation committed and pushed (the task's first p)."""
    from lab.core.manifests.generate import GenerateOptions
    from lab.services.generate import generate
    from lab.services.sync import push_work

    session = practice_session(tmp_path)
    generate(session.workspace, GenerateOptions())
    assert push_work(session.workspace).ok
    return session, Path(git(session.workspace, "remote", "get-url", "origin"))


async def test_p_asks_before_it_pushes_the_deletion_of_a_task_file(tmp_path: Path) -> None:
    session, origin = _with_automation(tmp_path)
    ws = session.workspace
    (ws / UPDATE).unlink()
    head = git(ws, "rev-parse", "HEAD")
    seen: list[object] = []
    app = lab_app(session)
    async with app.run_test(size=(100, 30), message_hook=seen.append) as pilot:
        await pilot.press("5")
        await pilot.press("p")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDiff), timeout=30)
        dialog = app.screen
        assert isinstance(dialog, ConfirmDiff)
        assert dialog.title_text.startswith(f"{UPDATE} is deleted, and the task's checks need it.")
        assert "Flux then removes what it declares from the cluster" in dialog.title_text
        assert "-kind: ImageUpdateAutomation" in dialog.diff
        await pilot.press("escape")  # the default: nothing happens
        await wait_until(pilot, lambda: not isinstance(app.screen, ConfirmDiff))
        await wait_until(
            pilot, lambda: any("Nothing committed or pushed" in m for _, m in notifications(seen))
        )
        assert any(f"git restore {UPDATE} brings it back" in m for _, m in notifications(seen))
        assert git(ws, "rev-parse", "HEAD") == head and git(origin, "rev-parse", "main") == head
        assert not (ws / UPDATE).exists()

        await pilot.press("p")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDiff), timeout=30)
        await pilot.press("y")
        await wait_until(
            pilot,
            lambda: not app.sync.running and app.sync.ok and "Delete image-update.yaml" in app.sync.text,
            timeout=30,
            describe=lambda: app.sync,
        )
    assert git(origin, "log", "-1", "--format=%s", "main") == "Delete image-update.yaml"


async def test_detached_on_origin_shows_origins_log_and_no_promise_from_p(tmp_path: Path) -> None:
    session, _origin = _with_automation(tmp_path)
    ws = session.workspace
    git(ws, "checkout", "-q", "--detach", "HEAD~1")
    short = git(ws, "rev-parse", "--short=7", "HEAD")
    seen: list[object] = []
    app = lab_app(session)
    async with app.run_test(size=(100, 30), message_hook=seen.append) as pilot:
        await pilot.press("5")
        flux = app.screen
        log = flux.query_one("#origin-log", Static)
        await wait_until(pilot, lambda: "Add image automation" in _text(log), describe=lambda: _text(log))
        assert _text(log).startswith("$ git log --oneline origin/main\n")
        status = _text(flux.query_one("#origin-status", Static))
        assert status.startswith(f"HEAD is detached at {short} (on origin/main)")
        assert "p does it" not in status
        bar = _text(flux.query_one("#state-bar", Static))
        assert bar.startswith(f"detached at {short} (on origin)"), bar
        await pilot.press("p")
        await wait_until(pilot, lambda: any("no branch to push" in m for _, m in notifications(seen)))


async def test_p_during_a_stopped_rebase_says_how_to_finish_it(tmp_path: Path) -> None:
    session = practice_session(tmp_path)
    ws = session.workspace
    origin = Path(git(ws, "remote", "get-url", "origin"))
    flux = tmp_path / "flux-clone"
    git(tmp_path, "clone", "-q", "-b", "main", str(origin), str(flux))
    commit_files(flux, {"PROGRESS.md": "| 09 | 🔄 | flux |\n"}, "Flux edits progress", author=FLUX)
    git(flux, "push", "-q", "origin", "main")
    commit_files(ws, {"PROGRESS.md": "| 09 | ✅ | mine |\n"}, "Mark done")
    git(ws, "fetch", "-q", "origin")
    subprocess.run(["git", "rebase", "origin/main"], cwd=ws, capture_output=True, check=False)
    assert (ws / ".git" / "rebase-merge").is_dir()
    seen: list[object] = []
    app = lab_app(session)
    async with app.run_test(size=(100, 30), message_hook=seen.append) as pilot:
        await pilot.press("5")
        await pilot.press("p")
        await wait_until(pilot, lambda: not app.sync.running and not app.sync.ok, timeout=30)
        assert app.sync.summary == "stopped: " + (
            "a rebase of main is stopped; conflicts in PROGRESS.md; nothing was changed - hint: keep the "
            "lines you want, git add the file(s), git rebase --continue (or git rebase --abort to go back)"
        )
        await wait_until(pilot, lambda: any(sev == "warning" for sev, _ in notifications(seen)))
        toast = next(m for sev, m in notifications(seen) if sev == "warning")
        assert "git rebase --continue" in toast and "git switch" not in toast
    assert (ws / ".git" / "rebase-merge").is_dir()


async def test_p_on_a_branch_flux_does_not_deploy_says_so(tmp_path: Path) -> None:
    session, origin = _with_automation(tmp_path)
    ws = session.workspace
    git(ws, "switch", "-q", "-c", "feature")
    (ws / POLICY).write_text((ws / POLICY).read_text().replace("1.25.x", "1.26.x"))
    seen: list[object] = []
    app = lab_app(session)
    async with app.run_test(size=(100, 30), message_hook=seen.append) as pilot:
        await pilot.press("5")
        await pilot.press("p")
        # The toast is a message of its own: wait for it, not for the push's end.
        await wait_until(
            pilot,
            lambda: any(sev == "warning" for sev, _ in notifications(seen)),
            timeout=30,
            describe=lambda: (app.sync, notifications(seen)),
        )
        warned = [m for sev, m in notifications(seen) if sev == "warning"]
        assert warned[0].startswith(
            "pushed to origin/feature. Flux deploys main, not feature: what is on origin/feature "
            "is not deployed until feature is merged into main"
        ), warned
        assert "git switch main && git merge feature" in warned[0]
        bar = app.screen.query_one("#state-bar", Static)
        await wait_until(pilot, lambda: "Flux deploys main" in _text(bar), describe=lambda: _text(bar))
    assert git(origin, "rev-parse", "feature") == git(ws, "rev-parse", "HEAD")


async def test_checks_after_pushing_a_feature_branch_say_main_is_graded(tmp_path: Path) -> None:
    """The checks grade origin/main: after p pushed `feature` they toasted "All green" all the same."""
    from dataclasses import replace

    from lab.core.checks.model import CheckResult, Status
    from lab.services.check import run_checks

    session, _origin = _with_automation(tmp_path)
    ws = session.workspace
    git(ws, "switch", "-q", "-c", "feature")
    deploy = ws / "apps/base/nginx/deployment.yaml"
    deploy.write_text(deploy.read_text().replace("replicas: 1", "replicas: 3"))
    git(ws, "commit", "-qam", "Three replicas")
    git(ws, "push", "-q", "-u", "origin", "feature")
    graded = run_checks(ws, offline=True, only=["git.pushed"])
    # Every check passing, the PROGRESS.md row too: the toast that said "All green".
    row = CheckResult("progress.updated", "PROGRESS.md", Status.PASS, 5, 5, kind="progress")
    report = replace(graded, checks=(*graded.checks, row))
    assert report.status == "pass"
    seen: list[object] = []
    app = lab_app(session)
    async with app.run_test(size=(100, 30), message_hook=seen.append) as pilot:
        await pilot.press("4")
        await wait_until(pilot, lambda: app.state is not None and app.state.git is not None, timeout=30)
        app.screen._announce(report)  # type: ignore[attr-defined]
        await wait_until(pilot, lambda: any(sev == "warning" for sev, _ in notifications(seen)))
        warned = [m for sev, m in notifications(seen) if sev == "warning"]
        assert warned[0] == (
            f"All green: {report.score}/{report.max_score} for origin/main. The checks grade origin/main, "
            "which Flux deploys, not feature: its 1 commit main lacks is neither graded nor deployed until "
            "merged - git switch main && git merge feature, then p."
        ), warned
        assert not any(m.startswith("All green") for sev, m in notifications(seen) if sev != "warning")
        summary = app.screen.query_one("#checks-summary")
        await wait_until(pilot, lambda: "graded: origin/main, not feature" in str(summary.content))


async def test_the_origin_tab_shows_flux_commits_after_the_last_push(tmp_path: Path) -> None:
    """After Flux committed (the sandbox's Flux after `t`, or `c`), the Origin tab still opened on the git
    commands of the last `p` ("pushed 1 commit to origin/main"), which at 80x24 also pushed the new commit
    in the log below the screen: it shows what reached origin last, and Flux's commits after it."""
    from tests.support.taskfiles import solved_files, write_files

    session = practice_session(tmp_path)
    ws = session.workspace
    write_files(ws, solved_files())
    flux_clone = tmp_path / "flux-clone"  # Flux pushes from its own clone, as the sandbox's does
    app = lab_app(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("5", "p")
        flux = app.screen
        moves = flux.query_one("#push-commands", Static)
        await wait_until(pilot, lambda: not app.sync.running and "$ git push" in _text(moves), timeout=30)
        git(tmp_path, "clone", "-q", git(ws, "remote", "get-url", "origin"), str(flux_clone))
        sha = commit_files(flux_clone, {"notes/flux.txt": "scanned\n"}, "Scan nginx", author=FLUX)
        git(flux_clone, "push", "-q", "origin", "main")
        await pilot.press("l")
        await wait_until(
            pilot,
            lambda: (
                _text(moves) == f"After your last p, origin/main has 1 commit by Flux:\n{sha[:7]} Scan nginx"
            ),
            timeout=30,
            describe=lambda: _text(moves),
        )

        status = flux.query_one("#sim-status", Static)
        await pilot.press("c")
        await wait_until(pilot, lambda: "dry run, nothing committed" in _text(status), timeout=30)
        await pilot.press("c")
        await wait_until(pilot, lambda: "pushed commit" in _text(status), timeout=30)
        head = git(flux_clone, "ls-remote", "origin", "refs/heads/main")[:7]  # origin's, not a fetch's
        assert _text(moves).splitlines() == [
            "$ lab simulate   (c: one Flux reconcile, committed and pushed as Flux)",
            f"flux-system/flux-system: pushed commit '{head}' to branch 'main': Automated image update",
        ]
        origin = flux.query_one("#origin-status", Static)
        await wait_until(
            pilot, lambda: "origin has 2 commits by Flux you don't have" in _text(origin), timeout=30
        )
        git(flux_clone, "pull", "-q", "--rebase")
        sha = commit_files(flux_clone, {"notes/flux.txt": "again\n"}, "Scan nginx again", author=FLUX)
        git(flux_clone, "push", "-q", "origin", "main")
        await pilot.press("l")
        await wait_until(
            pilot,
            lambda: _text(moves).startswith("After your last c, origin/main has 1 commit by Flux:\n"),
            timeout=30,
            describe=lambda: _text(moves),
        )


async def test_p_asks_before_it_pushes_files_flux_refuses(tmp_path: Path) -> None:
    """p pushed `semver: ge: 1.25.x` with only "Pushed"; the checks explained it only afterwards."""
    session, origin = _with_automation(tmp_path)
    ws = session.workspace
    (ws / POLICY).write_text((ws / POLICY).read_text().replace("range: 1.25.x", "ge: 1.25.x"))
    head = git(ws, "rev-parse", "HEAD")
    seen: list[object] = []
    app = lab_app(session)
    async with app.run_test(size=(100, 30), message_hook=seen.append) as pilot:
        await pilot.press("5")
        await pilot.press("p")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDiff), timeout=30)
        dialog = app.screen
        assert isinstance(dialog, ConfirmDiff)
        assert dialog.title_text.startswith("The files about to be pushed have 2 problems Flux refuses")
        # no range, and `ge`, a field the ImagePolicy schema does not declare
        assert dialog.diff.startswith(f"{POLICY}:11: spec.policy.semver.range is empty or missing\n"), (
            dialog.diff
        )
        assert f"{POLICY}:12: spec.policy.semver.ge is not a field of ImagePolicy" in dialog.diff
        assert str(dialog.query_one("#confirm").label) == "Push anyway (y)"
        assert dialog.focused is dialog.query_one("#cancel")
        helps = [str(label.content) for label in dialog.query(".muted")]
        assert helps == ["↓ and PageDown scroll the problems"], helps  # a list, not a diff
        await pilot.press("escape")  # the default: nothing is committed, the edit stays
        await wait_until(
            pilot, lambda: any("Nothing committed or pushed" in m for _, m in notifications(seen))
        )
        assert git(ws, "rev-parse", "HEAD") == head and git(origin, "rev-parse", "main") == head
        assert git(ws, "status", "--porcelain") == f"M {POLICY}"

        await pilot.press("p")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDiff), timeout=30)
        await pilot.press("y")
        await wait_until(
            pilot, lambda: not app.sync.running and app.sync.ok, timeout=30, describe=lambda: app.sync
        )
    assert "ge: 1.25.x" in git(origin, "show", f"main:{POLICY}")


async def test_p_without_a_marker_pushes_and_says_flux_has_nothing_to_update(tmp_path: Path) -> None:
    from lab.core.manifests.generate import GenerateOptions
    from lab.services.generate import generate

    session = practice_session(tmp_path)
    generate(session.workspace, GenerateOptions())
    seen: list[object] = []
    app = lab_app(session)
    async with app.run_test(size=(100, 30), message_hook=seen.append) as pilot:
        await pilot.press("5")
        await pilot.press("p")
        await wait_until(pilot, lambda: any(sev == "warning" for sev, _ in notifications(seen)), timeout=30)
        toast = next(m for sev, m in notifications(seen) if sev == "warning")
        assert toast.startswith("pushed to origin/main; note: no $imagepolicy marker yet"), toast
        assert not isinstance(app.screen, ConfirmDiff)


DEPLOYMENT = "apps/base/nginx/deployment.yaml"


def _flux_and_you_edit_the_image_line(tmp_path: Path) -> tuple[Session, Path]:
    """Flux's commit on origin sets the marked image line; the learner edited the same line by hand."""
    from lab.services.sync import push_work
    from tests.support.taskfiles import solved_files, write_files

    session = practice_session(tmp_path)
    ws = session.workspace
    write_files(ws, solved_files())
    assert push_work(ws).ok
    origin = Path(git(ws, "remote", "get-url", "origin"))
    flux_clone = tmp_path / "flux-clone"
    git(tmp_path, "clone", "-q", "-b", "main", str(origin), str(flux_clone))
    mine = (ws / DEPLOYMENT).read_text()
    assert "nginx:1.25.0" in mine and "$imagepolicy" in mine
    commit_files(
        flux_clone, {DEPLOYMENT: mine.replace("nginx:1.25.0", "nginx:1.25.3")}, "Update nginx", author=FLUX
    )
    git(flux_clone, "push", "-q", "origin", "main")
    (ws / DEPLOYMENT).write_text(mine.replace("nginx:1.25.0", "nginx:1.25.2"))
    return session, flux_clone


async def test_a_conflict_notice_fits_at_80x24_and_points_at_the_flux_screen(tmp_path: Path) -> None:
    session, _ = _flux_and_you_edit_the_image_line(tmp_path)
    seen: list[object] = []
    app = lab_app(session)
    async with app.run_test(size=(80, 24), message_hook=seen.append) as pilot:
        await pilot.press("5", "p")
        await wait_until(pilot, lambda: not app.sync.running and not app.sync.ok, timeout=30)
        moves = app.screen.query_one("#push-commands", Static)
        assert f"conflict in {DEPLOYMENT}" in _text(moves)
        await wait_until(pilot, lambda: any(sev == "warning" for sev, _ in notifications(seen)))
        toast = next(m for sev, m in notifications(seen) if sev == "warning")
        # A toast is half the screen wide: what stopped and where the rest is, not the whole report.
        assert len(toast) <= 200 and "origin has:" not in toast, toast
        assert toast.startswith("stopped: your work is committed") and "Flux screen (5)" in toast, toast


async def test_the_flux_screen_drops_a_conflict_report_once_the_branch_is_in_sync(tmp_path: Path) -> None:
    session, _ = _flux_and_you_edit_the_image_line(tmp_path)
    ws = session.workspace
    app = lab_app(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("5", "p")
        moves = app.screen.query_one("#push-commands", Static)
        await wait_until(pilot, lambda: not app.sync.running and "conflict in" in _text(moves), timeout=30)
        git(ws, "reset", "-q", "--hard", "origin/main")  # resolved in a shell: origin's line kept
        await pilot.press("l")
        await wait_until(
            pilot,
            lambda: "conflict in" not in _text(moves) and "main is in sync with origin/main" in _text(moves),
            timeout=30,
            describe=lambda: _text(moves),
        )


async def test_a_conflict_on_a_marked_line_says_the_line_is_fluxs(tmp_path: Path) -> None:
    session, _ = _flux_and_you_edit_the_image_line(tmp_path)
    app = lab_app(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("5", "p")
        moves = app.screen.query_one("#push-commands", Static)
        await wait_until(pilot, lambda: not app.sync.running and "conflict in" in _text(moves), timeout=30)
        text = " ".join(_text(moves).split())
        assert "the marked line is Flux's" in text and "keep origin's value" in text, text


async def test_p_says_it_committed_a_hand_edit_and_as_what(tmp_path: Path) -> None:
    """A hand edit of a task file not yet committed: `p` committed it as "Update …" before the rebase
    and said only "pushed to origin/main"; the commit was listed among the git commands, where a
    learner did not look for it."""
    session, origin = _with_automation(tmp_path)
    ws = session.workspace
    (ws / DEPLOYMENT).write_text((ws / DEPLOYMENT).read_text().replace("replicas: 1", "replicas: 2"))
    seen: list[object] = []
    app = lab_app(session)
    async with app.run_test(size=(100, 30), message_hook=seen.append) as pilot:
        await pilot.press("5", "p")
        await wait_until(pilot, lambda: not app.sync.running and app.sync.ok, timeout=30)
        await wait_until(pilot, lambda: any("pushed to origin/main" in m for _, m in notifications(seen)))
    toast = next(m for _, m in notifications(seen) if "pushed to origin/main" in m)
    subject = git(origin, "log", "-1", "--format=%s", "main").strip()
    assert f'Your uncommitted edits to {DEPLOYMENT} were committed first, as "{subject}".' in toast, toast
    assert (ws / DEPLOYMENT).read_text().count("replicas: 2") == 1
