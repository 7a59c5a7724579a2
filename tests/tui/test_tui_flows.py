"""Pilot tests of each flow of the app on real practice repositories (real files, real git)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from textual.widgets import Button, DataTable, Input, Select, Static

from lab.core.manifests.models import API_V1BETA2
from lab.tui.screens.checks import ChecksScreen
from lab.tui.screens.confirm import ConfirmDiff
from tests.support.tui_helpers import lab_app, notifications, practice_session, task_session, wait_until

pytestmark = pytest.mark.slow

OUT = "clusters/dev/image-automation"
DEPLOYMENT = "apps/base/nginx/deployment.yaml"


def _text(widget: Static) -> str:
    return str(widget.content)


async def test_generate_previews_validates_and_writes(tmp_path: Path) -> None:
    session = practice_session(tmp_path)
    ws = session.workspace
    app = lab_app(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("3")
        await pilot.pause()
        screen = app.screen
        preview = screen.query_one("#preview", Static)
        assert "kind: ImageUpdateAutomation" in _text(preview)
        screen.query_one("#name", Input).value = "web"
        await pilot.pause()
        assert "name: web" in _text(preview)
        screen.query_one("#interval", Input).value = "soon"
        await pilot.pause()
        error = _text(screen.query_one("#form-error", Static))
        assert error.startswith("✗ Scan interval: ")  # the form's label, not the CLI flag
        assert screen.query_one("#interval", Input).has_class("-bad")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert not (ws / OUT).exists(), "an invalid form must write nothing"
        screen.query_one("#interval", Input).value = "5m"
        screen.query_one("#name", Input).value = "nginx"
        screen.query_one("#api", Select).value = API_V1BETA2
        await pilot.pause()
        assert "image.toolkit.fluxcd.io/v1beta2" in _text(preview)
        await pilot.press("ctrl+s")
        # the worker writes the files, then reports: wait for the report, not only for the files
        await wait_until(pilot, lambda: "created" in _text(screen.query_one("#write-result", Static)))
        written = (ws / OUT / "image-policy.yaml").read_text()
        assert "apiVersion: image.toolkit.fluxcd.io/v1beta2" in written


async def test_a_write_that_fails_replaces_the_last_writes_list(tmp_path: Path) -> None:
    """The left panel kept the previous 'created ...' lines after a later write failed."""
    session = practice_session(tmp_path)
    ws = session.workspace
    app = lab_app(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("3")
        await pilot.pause()
        screen = app.screen
        await pilot.press("ctrl+s")
        result = screen.query_one("#write-result", Static)
        await wait_until(pilot, lambda: "created" in _text(result))
        update = ws / OUT / "image-update.yaml"
        update.unlink()
        update.symlink_to(tmp_path / "elsewhere.yaml")
        await pilot.press("ctrl+s")
        await wait_until(
            pilot, lambda: _text(result).startswith("not written: "), describe=lambda: _text(result)
        )
        assert "symlink" in _text(result) and "created" not in _text(result)


async def test_generate_shows_a_diff_and_keeps_learner_changes_unless_confirmed(tmp_path: Path) -> None:
    session = practice_session(tmp_path)
    ws = session.workspace
    target = ws / OUT / "image-policy.yaml"
    target.parent.mkdir(parents=True)
    target.write_text("# my own policy\n")
    app = lab_app(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("3")
        await pilot.pause()
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDiff))
        dialog = app.screen
        assert isinstance(dialog, ConfirmDiff)
        assert "-# my own policy" in dialog.diff and f"a/{OUT}/image-policy.yaml" in dialog.diff
        await pilot.press("escape")
        await pilot.pause()
        assert target.read_text() == "# my own policy\n"
        assert not (ws / OUT / "image-repository.yaml").exists()
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDiff))
        await pilot.press("y")
        await wait_until(pilot, lambda: "kind: ImagePolicy" in target.read_text())
        assert (ws / OUT / "image-repository.yaml").exists()


async def test_marker_step_inserts_the_marker_and_warns_without_a_policy(tmp_path: Path) -> None:
    session = practice_session(tmp_path)
    ws = session.workspace
    seen: list[object] = []
    app = lab_app(session)
    async with app.run_test(size=(80, 24), message_hook=seen.append) as pilot:
        await pilot.press("3")
        # the Marker tab reads the file in a worker, and `m` marks it in another: wait for each
        await wait_until(
            pilot, lambda: "image: nginx:1.25.0" in _text(app.screen.query_one("#deployment", Static))
        )
        await pilot.press("escape", "m")
        await wait_until(pilot, lambda: "line 18" in str(app.screen.query_one("#marker-info").render()))
        deployment = (ws / DEPLOYMENT).read_text()
        assert '{"$imagepolicy": "flux-system:nginx"}' in deployment
        await wait_until(
            pilot, lambda: '"$imagepolicy"' in _text(app.screen.query_one("#deployment", Static))
        )
    messages = notifications(seen)
    assert (
        "information",
        f"marker added on line 18 of {DEPLOYMENT}; next: commit and push (5, p)",
    ) in messages
    assert any(sev == "warning" and "no ImagePolicy" in msg for sev, msg in messages)


async def test_starter_checks_fail_with_the_first_broken_link_selected(tmp_path: Path) -> None:
    app = lab_app(practice_session(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("4")
        screen = app.screen
        await wait_until(pilot, lambda: getattr(screen, "report", None) is not None, timeout=30)
        table = screen.query_one("#checks", DataTable)
        assert table.row_count == 17
        assert str(table.get_cell("repo.files", "status")) == "✗ FAIL"
        assert str(table.get_cell("repo.files", "check")).startswith("▶ ")
        assert table.cursor_row == table.get_row_index("repo.files")
        detail = _text(screen.query_one("#check-detail", Static))
        assert "[repo.files]" in detail and "hint:" in detail
        assert str(table.get_cell("cluster.controllers", "status")) == "- skip"
        summary = str(screen.query_one("#checks-summary").render())
        assert summary.startswith("score 0/79")


async def test_simulate_before_pushing_is_a_one_line_error(tmp_path: Path) -> None:
    session = practice_session(tmp_path)
    seen: list[object] = []
    app = lab_app(session)
    async with app.run_test(size=(80, 24), message_hook=seen.append) as pilot:
        await pilot.press("5", "d")
        await wait_until(pilot, lambda: any(sev == "error" for sev, _ in notifications(seen)), timeout=20)
        errors = [m for sev, m in notifications(seen) if sev == "error"]
        assert errors == [
            "origin/main has no ImageUpdateAutomation - hint: create it with `lab generate`, then git add, "
            "git commit and git push"
        ]
        assert "Traceback" not in errors[0] and "\n" not in errors[0]
        # The toast goes; the pane keeps the error and its hint until the next run.
        await pilot.pause()
        status = _text(app.screen.query_one("#sim-status", Static))
        assert status == f"simulation stopped: {errors[0]}", status


async def test_flux_screen_says_when_no_cluster_is_configured(tmp_path: Path) -> None:
    app = lab_app(practice_session(tmp_path), tags_file=None)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("5")
        await pilot.pause()
        assert "No cluster configured" in _text(app.screen.query_one("#cluster", Static))
        assert "2024-01-15 snapshot" in str(app.screen.query_one("#tag-source").render())


async def test_done_waits_for_the_checks(tmp_path: Path) -> None:
    session = practice_session(tmp_path)
    app = lab_app(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("7")
        await pilot.pause()
        assert app.screen.query_one("#write-progress", Button).disabled is True
        await pilot.press("u")
        await pilot.pause()
    assert "| 09-fluxcd-image-automation | ⬜ |" in (session.workspace / "PROGRESS.md").read_text()


async def test_watch_reruns_checks_when_a_file_is_saved(tmp_path: Path) -> None:
    session = practice_session(tmp_path)
    app = lab_app(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("4")
        screen = app.screen
        assert isinstance(screen, ChecksScreen)
        await wait_until(pilot, lambda: app.last_report is not None, timeout=30)
        first = app.last_report
        await pilot.press("w")
        await pilot.pause(0.3)
        (session.workspace / ".fluxlab").mkdir(exist_ok=True)
        quiz = session.task.quiz
        record = {"task": "09b", "score": len(quiz.questions), "total": len(quiz.questions), "passed": True}
        (session.workspace / ".fluxlab" / "quiz.json").write_text(json.dumps(record))
        await wait_until(pilot, lambda: app.last_report is not first, timeout=30)
        assert screen.watching
        await pilot.press("w")
        await pilot.pause()
        await wait_until(pilot, lambda: all(w.is_finished for w in app.workers if w.group == "watch"))
        assert not screen.watching


async def test_palette_and_keys(tmp_path: Path) -> None:
    from lab.tui.screens.keys import KeysScreen

    app = lab_app(practice_session(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        commands = {c.title: c.callback for c in app.get_system_commands(app.screen)}
        # Every action of every area is in the palette, not only "Go to".
        for title in (
            "Go to Checks (4)",
            "Flux: Dry run (d)",
            "Flux: Push (p)",
            "Generate: Insert marker (m)",
            "Quiz: Next question (n)",
            "Done: Update PROGRESS.md (u)",
            "Lesson: Next hint (n)",
        ):
            assert title in commands, sorted(commands)
        commands["Checks: Run (r)"]()
        await wait_until(pilot, lambda: app.last_report is not None, timeout=30)
        assert isinstance(app.screen, ChecksScreen)
        commands["Go to Home (1)"]()
        await pilot.pause()
        await pilot.press("5")
        await pilot.pause()
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, KeysScreen))
        keys = app.screen
        assert isinstance(keys, KeysScreen)
        listed = dict(keys.rows)
        # The screen's own keys, the hidden ones, the sub-tab and scrolling keys and the app's.
        for key in ("p", "d", "c", "l", "g", "R", "]", "[", "pgdn", "pgup", "1", "^q"):
            assert key in listed, sorted(listed)
        assert "t" not in listed  # New tag publishes to the sandbox registry: a practice repo has none
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: not isinstance(app.screen, KeysScreen))


async def test_commit_like_flux_shows_the_dry_run_first_on_a_solved_repo(tmp_path: Path) -> None:
    from lab.services.solve import solve

    session = practice_session(tmp_path)
    solve(session.workspace)
    app = lab_app(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("5")
        await pilot.pause()
        flux = app.screen
        status = flux.query_one("#sim-status", Static)
        log = flux.query_one("#origin-log", Static)
        await wait_until(pilot, lambda: "Add image automation" in _text(log))
        await pilot.press("c")
        await wait_until(pilot, lambda: "dry run, nothing committed" in _text(status), timeout=20)
        await pilot.press("l")
        await pilot.pause(0.3)
        await app.workers.wait_for_complete()
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
        await pilot.press("c")
        await wait_until(pilot, lambda: "up-to-date" in _text(status), timeout=20)


async def test_commit_asks_before_pushing_an_older_tag_only_a_stale_snapshot_chose(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the registry down, the sandbox's app falls back to the 2024-01-15 snapshot: origin's
    1.25.4 (published since) went back to 1.25.3 on c without a word, where `lab simulate` refuses it.
    The dry run says so, and c asks first."""
    from lab.services.solve import solve
    from tests.support.gitutil import git

    # Port 1 on loopback refuses at once: no registry answers, without the network.
    monkeypatch.setenv("LAB_REGISTRY_MIRROR", "docker.io=127.0.0.1:1,ghcr.io=127.0.0.1:1")
    session = practice_session(tmp_path)
    ws = session.workspace
    solve(ws)
    deployment = ws / DEPLOYMENT
    deployment.write_text(deployment.read_text().replace("nginx:1.25.0", "nginx:1.25.4"))
    git(ws, "commit", "-qam", "Flux: 1.25.4")
    git(ws, "push", "-q")
    pushed = git(ws, "rev-parse", "HEAD")
    app = lab_app(session, tags_file=None)
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.press("5")
        await pilot.pause()
        status = app.screen.query_one("#sim-status", Static)
        await pilot.press("c")
        await wait_until(
            pilot, lambda: "c asks first" in _text(status), timeout=20, describe=lambda: _text(status)
        )
        assert "nginx:1.25.4 -> library/nginx:1.25.3: an older tag than origin has" in _text(status)
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDiff))
        assert "Push it anyway?" in app.screen.title_text
        await pilot.press("escape")
        await wait_until(pilot, lambda: "not pushed" in _text(status), describe=lambda: _text(status))
        await app.workers.wait_for_complete()
        assert git(ws, "ls-remote", "origin", "main").split()[0] == pushed
        await pilot.press("c")  # the dry run again, then the question again
        await wait_until(pilot, lambda: "c asks first" in _text(status), timeout=20)
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDiff))
        await pilot.press("y")
        await wait_until(
            pilot, lambda: "pushed commit" in _text(status), timeout=20, describe=lambda: _text(status)
        )
    # Origin itself: a fetch here could race the app's own watcher for refs/remotes/origin/main.
    origin = Path(git(ws, "remote", "get-url", "origin"))
    assert "library/nginx:1.25.3 #" in git(origin, "show", f"main:{DEPLOYMENT}")


async def test_generator_policy_kinds_and_tag_filters(tmp_path: Path) -> None:
    app = lab_app(practice_session(tmp_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("3")
        await pilot.pause()
        screen = app.screen
        preview = screen.query_one("#preview", Static)
        screen.query_one("#policy_kind", Select).value = "numerical"
        await pilot.pause()
        assert screen.query_one("#policy_value", Input).value == "asc"
        assert "Order" in str(screen.query_one("#policy_value-label").render())
        screen.query_one("#filter_pattern", Input).value = "^main-[a-f0-9]+-(?P<ts>[0-9]+)$"
        screen.query_one("#filter_extract", Input).value = "$ts"
        await pilot.pause()
        text = _text(preview)
        assert "numerical:" in text and "order: asc" in text and "extract: $ts" in text
        screen.query_one("#filter_pattern", Input).value = "^(unclosed"
        await pilot.pause()
        assert _text(screen.query_one("#form-error", Static)).startswith("✗ Tag filter pattern (optional): ")
        assert screen.query_one("#filter_pattern", Input).has_class("-bad")
        assert "extract: $ts" in _text(preview), "the last valid preview stays"
        # An extract naming a group the pattern lacks: the form names its own field, not a CLI flag.
        screen.query_one("#filter_pattern", Input).value = "^x-(?P<n>[0-9]+)$"
        await pilot.pause()
        error = _text(screen.query_one("#form-error", Static))
        assert error.startswith("✗ Tag filter extract (optional) uses $ts, but "), error
        assert "--filter-extract" not in error
        assert screen.query_one("#filter_extract", Input).has_class("-bad")


async def test_switching_policy_kinds_keeps_the_tasks_own_default(tmp_path: Path) -> None:
    """An exercise's form starts at its semver range (1.4.x); switching to numerical and back gives
    `asc` and then that range again, not the course task's 1.25.x, and a typed value is kept."""
    session = task_session(tmp_path, "09b-guard")
    task = session.task
    app = lab_app(session)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("3")
        await pilot.pause()
        kind, value = (
            app.screen.query_one("#policy_kind", Select),
            app.screen.query_one("#policy_value", Input),
        )
        start = value.value
        assert kind.value == "semver" and start == task.meta.generate["semver"] != "1.25.x"
        kind.value = "numerical"
        await pilot.pause()
        assert value.value == "asc"
        kind.value = "semver"
        await pilot.pause()
        assert value.value == start
        value.value = ">=1.4.0 <2.0.0"
        kind.value = "alphabetical"
        await pilot.pause()
        assert value.value == ">=1.4.0 <2.0.0"


async def test_another_policy_kind_gets_no_other_tasks_values_and_the_help_names_the_marked_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An author's alphabetical task about ghcr.io/acme/api, whose marked file is a kustomize
    Kustomization: switching to semver filled nginx's 1.25.x, and the help spoke of "the task's
    Deployment". A kind the task has no value for starts empty with an example; the help names the file."""
    import shutil

    from tests.support.paths import FIXTURES

    shutil.copytree(FIXTURES / "tasks" / "t-alpha", tmp_path / "authors" / "t-alpha")
    monkeypatch.setenv("LAB_TASKS_PATH", str(tmp_path / "authors"))
    app = lab_app(task_session(tmp_path, "t-alpha"))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("3")
        await pilot.pause()
        screen = app.screen
        kind, value = screen.query_one("#policy_kind", Select), screen.query_one("#policy_value", Input)
        assert (kind.value, value.value) == ("alphabetical", "asc")
        kind.value = "semver"
        await pilot.pause()
        assert value.value == "" and value.placeholder.startswith("e.g. "), value.placeholder
        assert "1.25" not in value.placeholder
        kind.value = "alphabetical"
        await pilot.pause()
        assert value.value == "asc"
        await wait_until(pilot, lambda: "the task's Kustomization" in getattr(screen, "help_now", ""))
        await pilot.press("question_mark")
        await pilot.pause()
        shown = str(app.screen.query_one("#keys-help", Static).render())
        assert "the task's Kustomization" in shown and "Deployment" not in shown


async def test_a_state_read_during_the_apps_own_push_is_not_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `p` rebases: git leaves PROGRESS.md empty for a moment. A state read then (the watcher saw the
    # change) reached Home and Done, which said "no progress table" as an error.
    import threading

    from lab.services import sync

    session = practice_session(tmp_path)
    progress = session.workspace / "PROGRESS.md"
    text = progress.read_text(encoding="utf-8")
    halfway, finish = threading.Event(), threading.Event()
    real = sync.push_work

    def push_with_git_halfway(*args: object, **kwargs: object) -> sync.PushWorkResult:
        progress.write_text("", encoding="utf-8")
        halfway.set()
        finish.wait(30)
        progress.write_text(text, encoding="utf-8")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(sync, "push_work", push_with_git_halfway)
    seen: list[object] = []
    app = lab_app(session)
    async with app.run_test(size=(80, 24), message_hook=seen.append) as pilot:
        await wait_until(pilot, lambda: app.state is not None, timeout=30)
        before = app.state
        await pilot.press("7", "p")
        await wait_until(pilot, halfway.is_set, timeout=30)
        app.refresh_state(fetch=False)
        await wait_until(pilot, lambda: not app.refreshing, timeout=30)
        await pilot.pause(1.5)  # the watcher's tick
        assert app.state is before, "nothing read while `p` runs is shown"
        finish.set()
        await wait_until(pilot, lambda: not app.sync.running and app.state is not before, timeout=60)
        assert app.state is not None and app.state.files["PROGRESS.md"] == text
    assert not [m for sev, m in notifications(seen) if sev == "error"]


async def test_toasts_do_not_pile_up(tmp_path: Path) -> None:
    """The same message again replaces the toast shown, and no more than three stay: a watch failing
    each round stacked error toasts over the screen for a minute. (The toast rack shows the app's
    notifications, read here.)"""
    app = lab_app(practice_session(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.state is not None)
        app.clear_notifications()

        def shown() -> list[str]:
            return [str(n.message) for n in app._notifications]

        for _ in range(5):
            app.notify("origin cannot be read", severity="error", timeout=30)
        await pilot.pause()
        await wait_until(pilot, lambda: shown() == ["origin cannot be read"])
        for n in range(5):
            app.notify(f"message {n}", timeout=30)
        await wait_until(pilot, lambda: shown() == ["message 2", "message 3", "message 4"])


async def test_switching_away_from_the_tasks_policy_kind_leaves_out_its_tag_filter(tmp_path: Path) -> None:
    """09b-staging's form filters main builds and extracts `$ts` for its numerical policy; switching to
    semver kept that filter in the preview (as `lab generate --semver` did). Another kind leaves the
    untouched filter out, the task's kind brings it back, and a typed filter is kept."""
    session = task_session(tmp_path, "09b-staging")
    task = session.task
    app = lab_app(session)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("3")
        await pilot.pause()
        screen = app.screen
        kind, pattern, extract = (
            screen.query_one("#policy_kind", Select),
            screen.query_one("#filter_pattern", Input),
            screen.query_one("#filter_extract", Input),
        )
        preview = screen.query_one("#preview", Static)
        assert kind.value == "numerical" and extract.value == "$ts" == task.meta.generate["filter_extract"]
        kind.value = "semver"
        await pilot.pause()
        assert (pattern.value, extract.value) == ("", "")
        value = screen.query_one("#policy_value", Input)
        assert value.value == ""  # the task has no range: the learner writes one
        value.value = ">=1.0.0"
        await pilot.pause()
        assert "semver:" in _text(preview) and "filterTags" not in _text(preview)
        value.value = ""
        kind.value = "numerical"
        await pilot.pause()
        assert (pattern.value, extract.value) == (task.meta.generate["filter_pattern"], "$ts")
        assert "extract: $ts" in _text(preview)
        pattern.value = "^(?P<v>.*)$"
        extract.value = "$v"
        kind.value = "alphabetical"
        await pilot.pause()
        assert (pattern.value, extract.value) == ("^(?P<v>.*)$", "$v")


async def test_an_invalid_field_says_why_under_it_and_the_preview_says_it_is_not_written(
    tmp_path: Path,
) -> None:
    """Scan interval `ngnix`: the preview kept `interval: 5m0s` and the error sat below the fold of
    a 24-row terminal, so only ctrl+s said why."""
    session = practice_session(tmp_path)
    app = lab_app(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("3")
        await pilot.pause()
        screen = app.screen
        form = screen.query_one("#gen-form")
        interval = screen.query_one("#interval", Input)
        interval.focus()
        await pilot.pause()
        interval.value = ""
        await pilot.press(*"ngnix")
        await pilot.pause()
        error = screen.query_one("#form-error", Static)
        assert _text(error).startswith("✗ Scan interval: 'ngnix' does not match the CRD pattern")
        # Right under the field, on screen where the learner types (not below the last field).
        assert form.children.index(error) == form.children.index(interval) + 1
        assert form.region.contains_region(error.region), (form.region, error.region)
        stale = screen.query_one("#preview-stale", Static)
        assert stale.display and _text(stale).startswith("not written: Scan interval: 'ngnix'")
        assert screen.query_one("#preview", Static).has_class("-stale")
        assert "interval: 5m0s" in _text(screen.query_one("#preview", Static))  # the last valid one

        interval.value = "10m"
        await pilot.pause()
        assert _text(error) == "" and not stale.display
        assert not screen.query_one("#preview", Static).has_class("-stale")
        assert "interval: 10m0s" in _text(screen.query_one("#preview", Static))
        # Back after the last field, where it was: a valid form looks as before.
        assert form.children.index(error) == form.children.index(screen.query_one("#author_email")) + 1
