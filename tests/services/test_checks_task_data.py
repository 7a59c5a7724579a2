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
        "policy.resolves (fail: ImagePolicy api selects fix-main-5a4b3c2-20240229081500 from task "
        "t-alpha's bundled tags, the task expects main-4b5c6d7-20240227093000: fix-main-5a4b3c2-20240229081500 "
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
        "ImagePolicy api selects fix-main-5a4b3c2-20240229081500 from task t-alpha's bundled tags, "
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


def test_offline_the_policy_is_judged_on_the_tasks_bundled_tags(authors: Path, tmp_path: Path) -> None:
    """`lab check --offline` is how an author proves a task: the bundled tags are data the lab has
    offline, so the pick the task expects is graded without a registry (and the message says on what)."""
    ws = _solved(tmp_path / "ws", "t-alpha")
    checks = {r.id: r for r in run_checks(ws, task="t-alpha", offline=True).checks}
    assert checks["registry.tags"].status.value == "pass", checks["registry.tags"].message
    assert "bundled with task t-alpha" in checks["registry.tags"].message
    assert checks["policy.resolves"].status.value == "pass", checks["policy.resolves"].message
    assert "bundled with task t-alpha" in checks["policy.resolves"].message
    _set_pattern(ws, UNANCHORED)
    result = {r.id: r for r in run_checks(ws, task="t-alpha", offline=True).checks}["policy.resolves"]
    assert result.status.value == "fail", result.message
    assert result.message.startswith(
        "ImagePolicy api selects fix-main-5a4b3c2-20240229081500 from task t-alpha's bundled tags, "
    )
    # The cluster is still left out offline; an image the task bundles nothing of is not asked.
    cluster = [r for r in run_checks(ws, task="t-alpha", offline=True).checks if r.kind == "cluster"]
    assert all(r.excluded for r in cluster)
    repo = ws / "clusters/dev/image-automation/image-repository.yaml"
    repo.write_text(edited(repo.read_text(), "ghcr.io/acme/api", "ghcr.io/acme/other"))
    other = {r.id: r for r in run_checks(ws, task="t-alpha", offline=True).checks}
    assert other["registry.tags"].excluded and other["registry.tags"].message.startswith("offline")
    assert other["policy.resolves"].excluded


def test_the_expected_pick_is_judged_on_the_bundled_tags_and_the_live_pick_by_the_tasks_policy(
    authors: Path, tmp_path: Path
) -> None:
    """`expect_tag` names the pick on the task's bundled tags; on other tags (a registry that published
    newer builds, `--tags-file`) the message says both picks, and the live one must be what the task's
    own policy ([generate]) selects from them - a pattern that lets a release candidate in fails there."""
    ws = _solved(tmp_path / "ws", "t-alpha")
    newer = tmp_path / "newer.txt"
    bundled = (authors / "registry" / "api-tags.txt").read_text()
    newer.write_text(bundled + "main-aaaaaaa-20240301000000\nmain-bbbbbbb-20240302000000-rc\n")
    result = _checks(ws, "t-alpha", newer)["policy.resolves"]
    assert result.status.value == "pass", result.message
    assert result.message.startswith(
        "ImagePolicy api selects main-4b5c6d7-20240227093000 from the tags bundled with task t-alpha "
        "(api-tags.txt, a 2024-03-01 snapshot), as the task expects; from tags file newer.txt it selects "
        "main-aaaaaaa-20240301000000, as the task's policy does"
    ), result.message
    _set_pattern(ws, "pattern: ^main-[a-f0-9]+-(?P<ts>[0-9]{14})(-rc)?$")
    result = _checks(ws, "t-alpha", newer)["policy.resolves"]
    assert result.status.value == "fail", result.message
    assert result.message == (
        "ImagePolicy api selects main-bbbbbbb-20240302000000-rc from tags file newer.txt, where the task's "
        "policy (alphabetical asc on ^main-[a-f0-9]+-(?P<ts>[0-9]{14})$) selects main-aaaaaaa-20240301000000 "
        "(from the task's bundled tags both select main-4b5c6d7-20240227093000)"
    )


def test_a_wrong_order_is_said_first_and_a_vague_diagnosis_leaves_the_tasks_hint(
    authors: Path, tmp_path: Path
) -> None:
    ws = _solved(tmp_path / "ws", "t-alpha")
    tags = authors / "registry" / "api-tags.txt"
    policy = ws / POLICY
    policy.write_text(edited(policy.read_text(), "order: asc", "order: desc"))
    result = _checks(ws, "t-alpha", tags)["policy.resolves"]
    assert result.status.value == "fail"
    assert result.message.endswith(
        "alphabetical desc selects the lowest value, main-0a1b2c3-20240102093000; alphabetical asc selects "
        "main-4b5c6d7-20240227093000"
    )
    assert result.hint == "order the tags with policy: alphabetical: order: asc (not alphabetical desc)"
    assert result.line == policy.read_text().splitlines().index("  policy:") + 1
    policy.write_text(edited(policy.read_text(), "order: desc", "order: asc"))
    # The pattern leaves the expected tag out: the library only knows "make the pattern match it", the
    # task's checks.toml hint says how.
    _set_pattern(ws, "pattern: ^main-[a-f0-9]+-(?P<ts>2024010[0-9]+)$")
    result = _checks(ws, "t-alpha", tags)["policy.resolves"]
    assert result.status.value == "fail" and "does not match main-4b5c6d7-20240227093000" in result.message
    assert (
        result.hint == "the filterTags pattern must match main-<sha>-<14 digits> tags, anchored with ^ and $"
    )


def test_in_the_sandbox_after_newer_builds_the_message_names_both_picks(
    authors: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sandbox's registry published newer builds: the check passed "selects main-aaaaaaa-..." under
    the title naming the bundled pick. It says both, and a pattern that takes the release candidate fails."""
    from lab.sandbox.registry import EmbeddedRegistry

    ws = _solved(tmp_path / "ws", "t-alpha")
    with EmbeddedRegistry("t-alpha") as reg:
        monkeypatch.setenv("LAB_REGISTRY_MIRROR", f"ghcr.io={reg.address}")
        reg.push_tags("acme/api", ["main-aaaaaaa-20240301000000", "main-bbbbbbb-20240302000000-rc"])
        result = {r.id: r for r in run_checks(ws, task="t-alpha").checks}["policy.resolves"]
        assert result.status.value == "pass", result.message
        assert result.message.startswith(
            "ImagePolicy api selects main-4b5c6d7-20240227093000 from the tags bundled with task t-alpha"
        ), result.message
        assert "it selects main-aaaaaaa-20240301000000, as the task's policy does" in result.message
        _set_pattern(ws, "pattern: ^main-[a-f0-9]+-(?P<ts>[0-9]{14})(-rc)?$")
        result = {r.id: r for r in run_checks(ws, task="t-alpha").checks}["policy.resolves"]
    assert result.status.value == "fail", result.message
    assert result.message.startswith("ImagePolicy api selects main-bbbbbbb-20240302000000-rc from "), (
        result.message
    )
