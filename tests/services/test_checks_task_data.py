"""The library checks take what they say from the task's data, not from the course task (09b, nginx,
semver): `policy.resolves` checks WHICH tag the policy picks when the task names it (`expect_tag`,
`expect_tags`), and the hints of policy.resolves and marker.present come from the task's `[generate]`
and solution. The task is tests/fixtures/tasks/t-alpha: an author's alphabetical task (filterTags +
extract, a `:tag` marker on a kustomize newTag), trimmed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from lab.core.checks.model import CheckResult
from lab.services.check import run_checks
from lab.services.devcheck import check_task
from tests.support.paths import FIXTURES
from tests.support.taskfiles import copy_task, edited

pytestmark = pytest.mark.slow

FIXTURE = FIXTURES / "tasks" / "t-alpha"
POLICY = "clusters/dev/image-automation/image-policy.yaml"
ANCHORED = "pattern: ^main-[a-f0-9]+-(?P<ts>[0-9]{14})$"
UNANCHORED = "pattern: main-[a-f0-9]+-(?P<ts>.*)"


@pytest.fixture
def authors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of t-alpha on LAB_TASKS_PATH (the tests break its copy, never the fixture)."""
    root = tmp_path / "authors"
    shutil.copytree(FIXTURE, root / "t-alpha")
    monkeypatch.setenv("LAB_TASKS_PATH", str(root))
    return root / "t-alpha"


def _checks(ws: Path, task: str, tags: Path) -> dict[str, CheckResult]:
    report = run_checks(ws, task=task, offline=True, tags_file=tags)
    return {r.id: r for r in report.checks}


def _solved(ws: Path, task: str) -> Path:
    from lab.sandbox.practice import init_practice_repo
    from lab.services.solve import solve

    init_practice_repo(ws, task=task)
    solve(ws, task=task, api_version="image.toolkit.fluxcd.io/v1")
    return ws


def _set_pattern(ws: Path, pattern: str, old: str = ANCHORED) -> None:
    path = ws / POLICY
    path.write_text(edited(path.read_text(), old, pattern))


def test_the_fixture_passes_dev_check(authors: Path) -> None:
    report = check_task("t-alpha")
    assert [f"{f.step}: {f.detail}" for f in report.findings if not f.ok] == []


def test_dev_check_fails_a_solution_whose_policy_picks_another_tag(authors: Path) -> None:
    """An unanchored pattern lets fix-main-... in: every other check passed, and so did dev check."""
    policy = authors / "solution" / POLICY
    policy.write_text(edited(policy.read_text(), ANCHORED, UNANCHORED))
    bad = [f for f in check_task("t-alpha").findings if not f.ok]
    assert bad and bad[0].step == "solution passes every offline check"
    assert (
        "policy.resolves (fail: ImagePolicy api selects fix-main-5a4b3c2-20240229081500 from the tags of "
        "ghcr.io/acme/api, the task expects main-4b5c6d7-20240227093000: fix-main-5a4b3c2-20240229081500 "
        "matches filterTags.pattern main-[a-f0-9]+-(?P<ts>.*) too"
    ) in bad[0].detail


def test_policy_resolves_says_why_the_pick_differs_and_how_to_fix_it(authors: Path, tmp_path: Path) -> None:
    ws = _solved(tmp_path / "ws", "t-alpha")
    tags = authors / "registry" / "api-tags.txt"
    assert _checks(ws, "t-alpha", tags)["policy.resolves"].status.value == "pass"
    _set_pattern(ws, UNANCHORED)
    result = _checks(ws, "t-alpha", tags)["policy.resolves"]
    assert result.status.value == "fail"
    assert result.message == (
        "ImagePolicy api selects fix-main-5a4b3c2-20240229081500 from the tags of ghcr.io/acme/api, "
        "the task expects main-4b5c6d7-20240227093000: fix-main-5a4b3c2-20240229081500 matches "
        "filterTags.pattern main-[a-f0-9]+-(?P<ts>.*) too, and its 20240229081500 sorts after "
        "20240227093000 (alphabetical asc)"
    )
    assert result.hint.startswith("anchor filterTags.pattern with ^ and $ so that only tags shaped like")
    # Anchored, but the capture also takes the -debug variant's suffix: the reason names that tag.
    _set_pattern(ws, "pattern: ^main-[a-f0-9]+-(?P<ts>[0-9]{14}.*)$", UNANCHORED)
    result = _checks(ws, "t-alpha", tags)["policy.resolves"]
    assert "selects main-4b5c6d7-20240227093000-debug" in result.message
    assert result.hint.startswith("tighten filterTags.pattern so that main-4b5c6d7-20240227093000-debug")


def test_a_pick_for_a_named_policy_is_checked_and_a_missing_policy_named(
    authors: Path, tmp_path: Path
) -> None:
    checks = authors / "checks.toml"
    text = checks.read_text()
    checks.write_text(
        edited(
            text,
            'expect_tag = "main-4b5c6d7-20240227093000"',
            'expect_tags = { api = "main-6f7a8b9-20240220143000" }',
        )
    )
    ws = _solved(tmp_path / "ws", "t-alpha")
    result = _checks(ws, "t-alpha", authors / "registry" / "api-tags.txt")["policy.resolves"]
    assert "selects main-4b5c6d7-20240227093000" in result.message
    assert "the task expects main-6f7a8b9-20240220143000" in result.message
    checks.write_text(
        edited(text, 'expect_tag = "main-4b5c6d7-20240227093000"', 'expect_tags = { api-staging = "x" }')
    )
    result = _checks(ws, "t-alpha", authors / "registry" / "api-tags.txt")["policy.resolves"]
    assert result.status.value == "fail"
    assert "the automation files have no ImagePolicy api-staging (policies: api)" in result.message


def test_a_policy_selecting_nothing_gets_the_tasks_hint_not_a_semver_example(
    authors: Path, tmp_path: Path
) -> None:
    ws = _solved(tmp_path / "ws", "t-alpha")
    _set_pattern(ws, "pattern: ^release-(?P<ts>[0-9]{14})$")
    result = _checks(ws, "t-alpha", authors / "registry" / "api-tags.txt")["policy.resolves"]
    assert result.status.value == "fail"
    assert "semver" not in result.hint and "1.25" not in result.hint, result.hint


def test_marker_hints_name_the_tasks_line_form_and_policy(authors: Path, tmp_path: Path) -> None:
    from lab.sandbox.practice import init_practice_repo

    ws = tmp_path / "ws"
    init_practice_repo(ws, task="t-alpha")
    result = _checks(ws, "t-alpha", authors / "registry" / "api-tags.txt")["marker.present"]
    assert result.hint == (
        'end the newTag line of apps/base/api/kustomization.yaml with # {"$imagepolicy": "flux-system:api:tag"}'
    )


def test_the_downgrade_hint_names_the_tasks_range(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A copy of 09b whose [generate] range is ~1.25.0: the hint said 1.25.x (a setting checks.toml
    cannot even hold)."""
    folder = copy_task(tmp_path / "authors", "t-range")
    meta = folder / "task.toml"
    meta.write_text(meta.read_text() + '\n[generate]\nsemver = "~1.25.0"\n')
    monkeypatch.setenv("LAB_TASKS_PATH", str(tmp_path / "authors"))
    ws = _solved(tmp_path / "ws", "t-range")
    path = ws / POLICY
    path.write_text(edited(path.read_text(), "range: 1.25.x", "range: 1.24.x"))
    tags = folder / "registry" / "nginx-tags-2024-01-15.txt"
    result = _checks(ws, "t-range", tags)["policy.resolves"]
    assert "older than 1.25.0 already deployed" in result.message
    assert result.hint == (
        "a policy must not go backwards: use the task's semver range ~1.25.0, which keeps 1.25.0 or picks a newer patch"
    )


def test_markers_in_a_shared_base_outside_a_narrow_update_path_move_not_the_path(tmp_path: Path) -> None:
    """09b-staging with update.path ./apps/staging and the marker still in apps/base: the hint said to
    widen the path to ./apps, letting Flux rewrite the base production builds too."""
    from lab.sandbox.practice import init_practice_repo

    ws = tmp_path / "ws"
    init_practice_repo(ws, task="09b-staging")
    update = ws / "clusters/dev/image-automation/image-update.yaml"
    update.write_text(edited(update.read_text(), "path: ./\n", "path: ./apps/staging\n"))
    # The library check with the task's own data, as its checks.toml runs it.
    from lab.checks.context import CheckContext
    from lab.checks.loader import load_task_checks
    from lab.checks.manifests import marker_present

    spec = load_task_checks("09b-staging")
    ctx = CheckContext(ws, "09b-staging", offline=True, settings=spec.settings, params=spec.params)
    result = marker_present(ctx)
    assert result.status.value == "fail"
    assert result.message.endswith("the marker is outside it: apps/base/shop/deployment.yaml:17")
    assert result.hint is not None and result.hint.startswith(
        "the markers belong under ./apps/staging, the only files Flux should write: mark the value there "
        "(e.g. a kustomize images: override in ./apps/staging, newTag: <tag> "
        '# {"$imagepolicy": "flux-system:shop:tag"}); or, only if Flux should rewrite every file under '
        "./apps (files other folders build too), set spec.update.path: ./apps in "
        "clusters/dev/image-automation/image-update.yaml (line "
    ), result.hint
    # A path that holds neither: the solution's narrower path is named before the shared folder.
    update.write_text(edited(update.read_text(), "path: ./apps/staging\n", "path: ./clusters\n"))
    ctx = CheckContext(ws, "09b-staging", offline=True, settings=spec.settings, params=spec.params)
    hint = marker_present(ctx).hint or ""
    assert hint.startswith(
        "set spec.update.path: ./apps/staging in clusters/dev/image-automation/image-update.yaml (line "
    ), hint
    assert "; the markers belong under ./apps/staging," in hint and "set spec.update.path: ./apps in" in hint
