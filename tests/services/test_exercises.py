"""The three "Think about" exercises: each starter fails, each solution passes, and the ways learners
break a solution are named by the check that should name them.

Repositories are real: the starter is committed and pushed to a bare origin, the solution (or a broken
variant) is committed on top, Flux's reconcile runs against origin with the task's bundled tags, and the
checks run offline as `lab check --task ID --offline` does.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from lab.adapters.tasks import task_folder
from lab.core.checks.model import Report, Status
from lab.core.text import indent_code_blocks
from lab.services.check import run_checks
from lab.services.tasks import load_task
from tests.support.gitutil import git
from tests.support.labrun import run_lab
from tests.support.practice_copy import from_template

EXERCISES = ("09b-multi", "09b-staging", "09b-guard")
LEARNER = ("Learner", "learner@gitops-lab.local")

Edit = Callable[[Path], None]


def _commit_push(ws: Path, message: str, author: tuple[str, str] = LEARNER) -> None:
    env = {
        "GIT_AUTHOR_NAME": author[0],
        "GIT_AUTHOR_EMAIL": author[1],
        "GIT_COMMITTER_NAME": author[0],
        "GIT_COMMITTER_EMAIL": author[1],
    }
    git(ws, "add", "-A")
    git(ws, "commit", "-q", "--allow-empty", "-m", message, env=env)
    git(ws, "push", "-q", "origin", "main")


def _practice(tmp_path: Path, task: str, *, record: bool = True) -> Path:
    """The task's starter as `lab init --task` makes it: one commit (recording the task, unless
    `record` is False: a starter copied by hand), pushed to a bare origin. Made once per task (per
    worker) by `_make_practice`; each test gets a copy (tmp_path/repo, tmp_path/origin.git)."""
    return from_template(
        ("exercise-starter", task, str(record)),
        lambda root: _make_practice(root, task, record=record),
        tmp_path,
    )


def _make_practice(tmp_path: Path, task: str, *, record: bool) -> tuple[Path, Path]:
    from lab.core.tasks import RECORDED_TASK_FILE, render_recorded_task

    ws = tmp_path / "repo"
    shutil.copytree(task_folder(task) / "starter", ws)
    if record:
        (ws / RECORDED_TASK_FILE).parent.mkdir(parents=True, exist_ok=True)
        (ws / RECORDED_TASK_FILE).write_text(render_recorded_task(task), encoding="utf-8")
    bare = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(bare))
    git(ws, "init", "-q", "-b", "main")
    git(ws, "remote", "add", "origin", str(bare))
    _commit_push(ws, "Starter")
    return ws, bare


def _solve(ws: Path, task: str, *breakages: Edit, simulate: bool = True) -> None:
    """Apply the solution (its PROGRESS.md row and quiz record included), break it, commit and push;
    run Flux once against origin."""
    from lab.adapters.automation import run_automations
    from lab.checks.exercises import tag_source

    shutil.copytree(task_folder(task) / "solution", ws, dirs_exist_ok=True)
    for edit in breakages:
        edit(ws)
    _commit_push(ws, "Solution")
    if simulate:
        run_automations(ws, tag_source=tag_source(task))
        git(ws, "pull", "-q", "--ff-only", "origin", "main")


def _solved(tmp_path: Path, task: str) -> Path:
    """`_practice` then `_solve` with no breakage: the solution pushed and Flux's commit pulled. Made once
    per task (per worker) by `_make_solved`; each test gets a copy, as `_practice` gives."""
    return from_template(("exercise-solved", task), lambda root: _make_solved(root, task), tmp_path)


def _make_solved(root: Path, task: str) -> tuple[Path, Path]:
    ws, bare = _make_practice(root, task, record=True)
    _solve(ws, task)
    return ws, bare


def _check(ws: Path, task: str) -> Report:
    return run_checks(ws, task=task, offline=True)


def _replace(rel: str, old: str, new: str) -> Edit:
    def edit(ws: Path) -> None:
        path = ws / rel
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {rel}"
        path.write_text(text.replace(old, new), encoding="utf-8")

    return edit


def _failing(report: Report) -> dict[str, str]:
    return {c.id: c.message for c in report.checks if c.status in (Status.FAIL, Status.ERROR)}


@pytest.mark.parametrize("task", EXERCISES)
def test_task_folder_is_complete(task: str) -> None:
    spec = load_task(task)
    folder = task_folder(task)
    assert spec.id == task and spec.hints and spec.pitfalls and len(spec.quiz.questions) >= 5
    for name in ("lesson.md", "starter/PROGRESS.md", "solution"):
        assert (folder / name).exists(), name
    # Every pitfall names a check the task defines.
    from lab.checks.loader import load_task_checks

    ids = {d.id for d in load_task_checks(task).defs}
    assert {p.check for p in spec.pitfalls} <= ids


@pytest.mark.slow
@pytest.mark.parametrize("task", EXERCISES)
def test_starter_fails_and_solution_gets_full_marks(tmp_path: Path, task: str) -> None:
    ws = _practice(tmp_path, task)
    start = _check(ws, task)
    assert start.score < start.max_score and _failing(start)
    _solve(ws, task)
    done = _check(ws, task)
    assert _failing(done) == {}
    assert done.score == done.max_score == 100
    # The exercise's own row, and no other: row 09 stays as the course says.
    progress = (ws / "PROGRESS.md").read_text(encoding="utf-8")
    assert (
        "| 09-fluxcd-image-automation | ✅ | Image automation working, commits appearing in Git |" in progress
    )
    others = [t for t in EXERCISES if t != task]
    assert all(f"| {t} | ⬜ | |" in progress for t in others)


@pytest.mark.slow
@pytest.mark.parametrize("task", ["09b-staging", "09b-guard"])
def test_solve_applies_over_the_commits_flux_pushed_on_the_starter(tmp_path: Path, task: str) -> None:
    """In the sandbox these starters already carry an automation, so Flux commits before the learner
    does: `lab solve` brings origin's commits in first (as `lab sync` would), writes the solution over
    them, pushes, and the exercise still reaches full marks."""
    from lab.adapters.automation import run_automations
    from lab.checks.exercises import tag_source
    from lab.services.solve import solve

    ws = _practice(tmp_path, task)
    flux = run_automations(ws, tag_source=tag_source(task))
    assert any(r.pushed for r in flux), "the starter's automation did not commit"
    origin = tmp_path / "origin.git"
    assert git(origin, "log", "-1", "--format=%an", "main") == "Flux"
    result = solve(ws, task=task)
    assert result.commit is not None
    assert git(ws, "rev-parse", "HEAD") == git(origin, "rev-parse", "main")
    assert "Flux" in git(origin, "log", "--format=%an", "main")
    solution = task_folder(task) / "solution"
    for rel in result.files:
        assert (ws / rel).read_bytes() == (solution / rel).read_bytes(), rel
    run_automations(ws, tag_source=tag_source(task))
    git(ws, "pull", "-q", "--ff-only", "origin", "main")
    done = _check(ws, task)
    assert _failing(done) == {} and done.score == 100


@pytest.mark.slow
@pytest.mark.parametrize("task", ["09b-staging", "09b-guard"])
def test_a_flux_commit_from_before_the_fix_does_not_count(tmp_path: Path, task: str) -> None:
    """Flux committed on the starter (in 09b-guard: production to the trap tag sha256-3fe1.sig); the
    learner pushes the fix but Flux has not run since. The exercise must not pass with the old commit:
    one more reconcile would still change Git. After it, it passes."""
    from lab.adapters.automation import run_automations
    from lab.checks.exercises import tag_source

    ws = _practice(tmp_path, task)
    assert any(r.pushed for r in run_automations(ws, tag_source=tag_source(task)))
    git(ws, "pull", "-q", "--ff-only", "origin", "main")
    _solve(ws, task, simulate=False)
    stale = _failing(_check(ws, task))
    assert set(stale) == {"git.flux-commit"}, stale
    assert "Flux has not run since your last push: a reconcile now would change" in stale["git.flux-commit"]
    if task == "09b-guard":
        assert "sha256-3fe1.sig -> 1.4.1" in stale["git.flux-commit"]
    run_automations(ws, tag_source=tag_source(task))
    git(ws, "pull", "-q", "--ff-only", "origin", "main")
    done = _check(ws, task)
    assert _failing(done) == {} and done.score == 100


@pytest.mark.slow
@pytest.mark.parametrize(
    ("task", "image", "tag"),
    [
        ("09b-staging", "ghcr.io/acme/shop", "main-f00d123-1717099999"),
        ("09b-guard", "ghcr.io/acme/shop", "1.4.3"),
    ],
)
def test_a_newer_tag_flux_saw_elsewhere_stays_settled(
    tmp_path: Path, task: str, image: str, tag: str
) -> None:
    """After `lab simulate --tags-file` (or the sandbox's registry) Flux wrote a tag the task does not
    bundle: the registry that had it still has it, so replaying with the bundled tags must not call the
    repository unsettled (it would "change" the newer tag back, and no learner action could fix it)."""
    from lab.adapters.automation import run_automations
    from lab.checks.exercises import tag_source

    ws = _solved(tmp_path, task)
    assert any(r.pushed for r in run_automations(ws, tag_source=tag_source(task, {image: [tag]})))
    git(ws, "pull", "-q", "--ff-only", "origin", "main")
    assert tag in git(
        tmp_path / "origin.git",
        "show",
        "main:"
        + (
            "apps/staging/kustomization.yaml"
            if task == "09b-staging"
            else "apps/production/kustomization.yaml"
        ),
    )
    failing = _failing(_check(ws, task))
    assert "git.flux-commit" not in failing, failing


@pytest.mark.slow
def test_an_uncommitted_edit_outside_the_automation_folder_is_not_on_origin(tmp_path: Path) -> None:
    """09b-staging's promotion is an edit of apps/production: left uncommitted, "The work is committed
    and on origin" passed while the promotion check said no commit of yours changes it."""
    ws = _solved(tmp_path, "09b-staging")
    production = ws / "apps/production/kustomization.yaml"
    production.write_text(production.read_text(encoding="utf-8") + "# promoted next\n", encoding="utf-8")
    failing = _failing(_check(ws, "09b-staging"))
    assert failing.get("git.pushed") == "not committed: apps/production/kustomization.yaml", failing


# -- 09b-multi: the ways learners mark several images ---------------------------------------------

DEPLOY = "apps/base/shop/deployment.yaml"
WORKER = "apps/base/shop/worker.yaml"
OVERLAY = "apps/dev/kustomization.yaml"
REPO_M = "clusters/dev/image-automation/image-repository.yaml"
SHOP_MARKER = '# {"$imagepolicy": "flux-system:shop"}'


@pytest.mark.slow
def test_multi_tag_marker_on_full_reference_is_named(tmp_path: Path) -> None:
    ws = _practice(tmp_path, "09b-multi")
    _solve(ws, "09b-multi", _replace(DEPLOY, SHOP_MARKER, '# {"$imagepolicy": "flux-system:shop:tag"}'))
    failing = _failing(_check(ws, "09b-multi"))
    assert "multi.markers" in failing
    assert "after the update the line would read `image: 1.4.2`" in failing["multi.markers"]


def _remove(rel: str) -> Edit:
    def edit(ws: Path) -> None:
        (ws / rel).unlink()

    return edit


@pytest.mark.slow
@pytest.mark.parametrize(
    ("breakage", "says"),
    [
        (_replace(WORKER, "  values:\n", "  values: [unclosed\n"), "does not parse as YAML"),
        (_remove(WORKER), "is gone from origin: its 3 image field(s) are no longer automated"),
    ],
    ids=["unparsable", "removed"],
)
def test_multi_helm_values_out_of_flux_reach_are_named(tmp_path: Path, breakage: Edit, says: str) -> None:
    """Flux skips a file it cannot parse without a word; both scored 100/100 before."""
    ws = _practice(tmp_path, "09b-multi")
    _solve(ws, "09b-multi", breakage, simulate=False)
    failing = _failing(_check(ws, "09b-multi"))
    assert failing["multi.markers"].startswith(f"{WORKER} ") and says in failing["multi.markers"], failing


@pytest.mark.slow
def test_multi_marker_in_a_file_that_does_not_parse_says_so(tmp_path: Path) -> None:
    """A tab in the Deployment read as 'that line is not a container image: line'."""
    ws = _practice(tmp_path, "09b-multi")
    _solve(ws, "09b-multi", _replace(DEPLOY, "  name: shop\n", "\tname: shop\n"), simulate=False)
    message = _failing(_check(ws, "09b-multi"))["marker.valid"]
    assert (
        "the file does not parse as YAML" in message
        and "so Flux skips it and the marker does nothing" in message
    )


@pytest.mark.slow
def test_multi_marker_evidence_names_each_place_once(tmp_path: Path) -> None:
    """The detail panel read `file apps/base/shop/deployment.yaml:22: apps/base/shop/deployment.yaml:22: ...`."""
    ws = _solved(tmp_path, "09b-multi")
    markers = next(c for c in _check(ws, "09b-multi").checks if c.id == "multi.markers")
    assert markers.evidence
    for item in markers.evidence:
        assert not item.text.startswith(item.ref), (item.ref, item.text)


@pytest.mark.slow
def test_multi_unmarked_sidecar_is_named(tmp_path: Path) -> None:
    ws = _practice(tmp_path, "09b-multi")
    _solve(ws, "09b-multi", _replace(DEPLOY, ' # {"$imagepolicy": "flux-system:nginx"}', ""))
    failing = _failing(_check(ws, "09b-multi"))
    assert "container proxy (image: nginx:1.25.0) has no marker" in failing["multi.markers"]


@pytest.mark.slow
def test_multi_unmarked_override_is_named_first_not_its_base_line(tmp_path: Path) -> None:
    """The base initContainer line came first with 'has no marker'; marking it as the hint said made the
    next run say 'remove this marker'. The lesson: the override is the field Flux must update."""
    ws = _practice(tmp_path, "09b-multi")
    _solve(ws, "09b-multi", _replace(OVERLAY, ' # {"$imagepolicy": "flux-system:shop-migrate:tag"}', ""))
    report = _check(ws, "09b-multi")
    markers = report.get("multi.markers")
    assert markers.message.startswith(f"{OVERLAY}:7: images[ghcr.io/acme/shop-migrate].newTag"), (
        markers.message
    )
    assert "(+" not in markers.message and ":tag" in (markers.hint or ""), markers


@pytest.mark.slow
def test_multi_marker_without_namespace_says_so(tmp_path: Path) -> None:
    ws = _practice(tmp_path, "09b-multi")
    _solve(ws, "09b-multi", _replace(DEPLOY, '"flux-system:nginx"', '"nginx"'), simulate=False)
    report = _check(ws, "09b-multi")
    markers = report.get("multi.markers")
    assert "container proxy" in markers.message and "without its namespace" in markers.message, markers
    assert "has no marker" not in markers.message
    assert markers.hint == 'write # {"$imagepolicy": "flux-system:nginx"}'


@pytest.mark.slow
def test_multi_marker_naming_no_policy_fails_as_in_the_course_task(tmp_path: Path) -> None:
    """A typo'd policy beside good markers passed marker.valid ("advisory"), while the same typo fails
    Task 09b's; the other checks said the policy "selects no tag" and sent the learner to
    image-policy.valid, which passes, and `lab why` found no broken link."""
    from lab.services.why import explain

    ws = _practice(tmp_path, "09b-multi")
    _solve(ws, "09b-multi", _replace(DEPLOY, '"flux-system:nginx"', '"flux-system:ngnix"'), simulate=False)
    failing = _failing(_check(ws, "09b-multi"))
    said = failing.get("marker.valid", "")
    assert said.startswith(f"marker in {DEPLOY}:26 names flux-system:ngnix, but no such ImagePolicy"), failing
    assert "Flux skips it in silence, sets the other markers" in said
    for check_id in ("multi.moves", "multi.message"):
        assert "no such ImagePolicy exists" in failing.get(check_id, ""), failing
        assert "selects no tag" not in failing[check_id]
    broken = explain(ws, offline=True).broken
    assert broken is not None and "flux-system:ngnix" in broken.summary, broken


@pytest.mark.slow
def test_multi_plain_marker_on_split_tag_is_named(tmp_path: Path) -> None:
    ws = _practice(tmp_path, "09b-multi")
    _solve(ws, "09b-multi", _replace(WORKER, "flux-system:shop-worker:tag", "flux-system:shop-worker"))
    message = _failing(_check(ws, "09b-multi"))["multi.markers"]
    # The policy reflects digests (the worker's is pinned), so the full reference carries @digest.
    assert "`tag: ghcr.io/acme/shop-worker:1.4.2@sha256:" in message


@pytest.mark.slow
def test_multi_marker_on_kustomize_match_key_is_named(tmp_path: Path) -> None:
    ws = _practice(tmp_path, "09b-multi")
    _solve(
        ws,
        "09b-multi",
        _replace(
            OVERLAY,
            "  - name: ghcr.io/acme/shop-migrate\n",
            '  - name: ghcr.io/acme/shop-migrate # {"$imagepolicy": "flux-system:shop-migrate:name"}\n',
        ),
    )
    assert "match key" in _failing(_check(ws, "09b-multi"))["multi.markers"]


@pytest.mark.slow
def test_multi_fixed_commit_message_is_named(tmp_path: Path) -> None:
    ws = _practice(tmp_path, "09b-multi")
    shutil.copy(
        task_folder("09b-multi") / "starter/clusters/dev/image-automation/image-update.yaml",
        tmp_path / "iua.yaml",
    )

    def fixed_message(w: Path) -> None:
        shutil.copy(tmp_path / "iua.yaml", w / "clusters/dev/image-automation/image-update.yaml")

    _solve(ws, "09b-multi", fixed_message)
    failing = _failing(_check(ws, "09b-multi"))
    assert set(failing) == {"multi.message"}
    assert "does not list 5 of 5 changes" in failing["multi.message"]


DIGEST_MARKER = '# {"$imagepolicy": "flux-system:shop-worker:digest"}'
POLICY_M = "clusters/dev/image-automation/image-policy.yaml"


@pytest.mark.slow
def test_multi_digest_field_moves_with_its_tag(tmp_path: Path) -> None:
    """The pinned digest follows the tag: Flux's commit writes the digest the registry serves for 1.4.2
    (the sandbox's registry, offline the same function), and the solution's digest is that of 1.4.0."""
    from lab.core.oci import lab_digest

    ws = _practice(tmp_path, "09b-multi")
    assert f"digest: {lab_digest('ghcr.io/acme/shop-worker', '1.4.0')}\n" in (ws / WORKER).read_text()
    _solve(ws, "09b-multi")
    after = git(ws, "show", f"origin/main:{WORKER}")
    assert f"digest: {lab_digest('ghcr.io/acme/shop-worker', '1.4.2')} {DIGEST_MARKER}" in after
    assert 'tag: "1.4.2" # {"$imagepolicy": "flux-system:shop-worker:tag"}' in after


@pytest.mark.slow
def test_multi_unmarked_digest_is_named(tmp_path: Path) -> None:
    """The tag moves, the pinned digest stays: the pod would keep running 1.4.0."""
    ws = _practice(tmp_path, "09b-multi")
    _solve(ws, "09b-multi", _replace(WORKER, " " + DIGEST_MARKER, ""))
    result = _check(ws, "09b-multi").get("multi.markers")
    assert "image.digest (digest: sha256:" in result.message and "has no marker" in result.message
    assert "flux-system:POLICY:digest" in (result.hint or "")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("variant", "reads"),
    [
        ("flux-system:shop-worker:tag", "`digest: 1.4.2`"),
        ("flux-system:shop-worker", "`digest: ghcr.io/acme/shop-worker:1.4.2@sha256:"),
        ("flux-system:shop-worker:name", "`digest: ghcr.io/acme/shop-worker`"),
    ],
)
def test_multi_wrong_variant_on_digest_is_named(tmp_path: Path, variant: str, reads: str) -> None:
    ws = _practice(tmp_path, "09b-multi")
    _solve(ws, "09b-multi", _replace(WORKER, DIGEST_MARKER, f'# {{"$imagepolicy": "{variant}"}}'))
    result = _check(ws, "09b-multi").get("multi.markers")
    assert result.status is Status.FAIL
    assert f"after the update the line would read {reads}" in result.message
    assert 'use # {"$imagepolicy": "flux-system:shop-worker:digest"}' in (result.hint or "")


@pytest.mark.slow
def test_multi_digest_marker_on_tag_is_named(tmp_path: Path) -> None:
    ws = _practice(tmp_path, "09b-multi")
    _solve(
        ws,
        "09b-multi",
        _replace(
            WORKER, '"1.4.0" # {"$imagepolicy": "flux-system:shop-worker:tag"}', '"1.4.0" ' + DIGEST_MARKER
        ),
    )
    message = _failing(_check(ws, "09b-multi"))["multi.markers"]
    assert ":digest marker on a tag" in message and "`tag: sha256:" in message


@pytest.mark.slow
def test_multi_digest_without_reflection_is_named(tmp_path: Path) -> None:
    """No digestReflectionPolicy: latestRef.digest is empty, and the :digest setter blanks the pin."""
    ws = _practice(tmp_path, "09b-multi")
    _solve(ws, "09b-multi", _replace(POLICY_M, "  digestReflectionPolicy: IfNotPresent\n", ""))
    assert 'digest: "" ' + DIGEST_MARKER in git(ws, "show", f"origin/main:{WORKER}")
    failing = _failing(_check(ws, "09b-multi"))
    assert "does not reflect digests" in failing["marker.valid"], failing


@pytest.mark.slow
def test_multi_policy_that_never_moves_is_named(tmp_path: Path) -> None:
    ws = _practice(tmp_path, "09b-multi")
    _solve(
        ws,
        "09b-multi",
        _replace("clusters/dev/image-automation/image-policy.yaml", "range: 1.25.x", "range: 1.25.3"),
    )
    assert "did not move" in _failing(_check(ws, "09b-multi"))["multi.moves"]


@pytest.mark.slow
@pytest.mark.parametrize("simulate", [False, True], ids=["before-flux", "after-flux"])
def test_multi_marker_for_another_images_policy_is_named(tmp_path: Path, simulate: bool) -> None:
    """The shop container marked with the migrate policy passed every check; Flux then writes
    ghcr.io/acme/shop-migrate:1.4.2 on it, and the check blamed the override and said to remove the
    marker, which left the wrong image deployed."""
    ws = _practice(tmp_path, "09b-multi")
    _solve(
        ws,
        "09b-multi",
        _replace(DEPLOY, SHOP_MARKER, '# {"$imagepolicy": "flux-system:shop-migrate"}'),
        simulate=simulate,
    )
    said = _failing(_check(ws, "09b-multi")).get("multi.markers", "")
    assert said.startswith(f"{DEPLOY}:22: container shop "), said
    assert "ghcr.io/acme/shop," in said and "whose ImageRepository scans ghcr.io/acme/shop-migrate" in said
    assert ("wrote ghcr.io/acme/shop-migrate:1.4.2 here" if simulate else "would write") in said, said
    report = _check(ws, "09b-multi")
    hint = report.get("multi.markers").hint or ""
    assert hint.startswith('use # {"$imagepolicy": "flux-system:shop"}') and "remove" not in hint, hint
    if not simulate:
        # The marker check (and `lab why`) say it too, for any task: the line names another image.
        from lab.services.why import explain

        # One mistake, one penalty: multi.markers grades it (20), marker.valid (8) only notes it, naming
        # that check (`leave_to` in the task's checks.toml); it cost both before.
        marker = report.get("marker.valid")
        assert marker.status is Status.PASS, marker
        assert (
            f"advisory: {DEPLOY}:22: multi.markers grades this: the line names ghcr.io/acme/shop, but the "
            "marker's policy flux-system:shop-migrate follows ImageRepository flux-system/shop-migrate"
        ) in marker.message, marker.message
        broken = explain(ws, offline=True).broken
        assert broken is not None and "ghcr.io/acme/shop-migrate" in broken.summary, broken


@pytest.mark.slow
def test_multi_marker_on_the_base_line_the_override_tags_is_named(tmp_path: Path) -> None:
    ws = _practice(tmp_path, "09b-multi")
    base = "apps/base/shop/deployment.yaml"
    _solve(
        ws,
        "09b-multi",
        _replace(
            base,
            "image: ghcr.io/acme/shop-migrate\n",
            'image: ghcr.io/acme/shop-migrate # {"$imagepolicy": "flux-system:shop-migrate"}\n',
        ),
    )
    failing = _failing(_check(ws, "09b-multi"))
    said = failing.get("multi.markers", "")
    assert said.startswith(f"{base}:18:") and "apps/dev/kustomization.yaml:7" in said, failing


@pytest.mark.slow
@pytest.mark.parametrize("pattern", ["1.25.x", "'^stable-[0-9]+$'"])
def test_multi_policy_whose_filter_keeps_no_tag_fails_and_keeps_its_change_expected(
    tmp_path: Path, pattern: str
) -> None:
    ws = _practice(tmp_path, "09b-multi")
    _solve(
        ws,
        "09b-multi",
        _replace(POLICY_M, "range: 1.25.x", f"range: 1.25.x\n  filterTags:\n    pattern: {pattern}"),
    )
    failing = _failing(_check(ws, "09b-multi"))
    said = failing.get("image-policy.valid", "")
    assert "matches none of the" in said and "version list argument cannot be empty" in said, failing
    # nginx's field cannot move, so its change is missing from the message: not "3 of 3 changes".
    assert "flux-system:nginx" in failing.get("multi.message", ""), failing


# -- 09b-staging ------------------------------------------------------------------------------------

IUA = "clusters/dev/image-automation/image-update.yaml"
STAGING = "apps/staging/kustomization.yaml"
PROD = "apps/production/kustomization.yaml"


@pytest.mark.slow
def test_staging_marker_left_in_base_is_a_silent_no_op(tmp_path: Path) -> None:
    ws = _practice(tmp_path, "09b-staging")
    _solve(
        ws,
        "09b-staging",
        _replace(STAGING, ' # {"$imagepolicy": "flux-system:shop-staging:tag"}', ""),
        _replace(
            "apps/base/shop/deployment.yaml",
            "image: ghcr.io/acme/shop:1.4.1",
            'image: ghcr.io/acme/shop:1.4.1 # {"$imagepolicy": "flux-system:shop-staging"}',
        ),
        simulate=False,
    )
    failing = _failing(_check(ws, "09b-staging"))
    assert "nothing in staging moved" in failing["staging.isolated"]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("breakage", "cause", "hint"),
    [
        (
            _replace(STAGING, ' # {"$imagepolicy": "flux-system:shop-staging:tag"}', ""),
            "the marker at apps/base/shop/deployment.yaml:17 lies outside update.path ./apps/staging",
            "move the marker into a file under ./apps/staging, e.g. apps/staging/kustomization.yaml",
        ),
        (
            _replace(
                "clusters/dev/image-automation/image-policy.yaml",
                "    name: shop\n",
                "    name: shop-staging\n",
            ),
            "imageRepositoryRef names shop-staging, but there is no ImageRepository flux-system/shop-staging",
            "set spec.imageRepositoryRef.name to the ImageRepository of the image (shop)",
        ),
        (
            _replace(IUA, "      env: staging\n", "      env: stagign\n"),
            "spec.policySelector (env=stagign) of ImageUpdateAutomation flux-system/staging does not select "
            "ImagePolicy flux-system/shop-staging (labels: env=staging)",
            "add the selector's labels to ImagePolicy shop-staging",
        ),
    ],
    ids=["outside-path", "no-repository", "selector-typo"],
)
def test_staging_unmoved_names_its_cause(tmp_path: Path, breakage: Edit, cause: str, hint: str) -> None:
    """staging.isolated gave one hint whatever kept staging still: "put the marker in a file under the
    automation's update.path", also when the marker was there and the policy or selector was wrong."""
    base_marker = _replace(
        "apps/base/shop/deployment.yaml",
        "image: ghcr.io/acme/shop:1.4.1",
        'image: ghcr.io/acme/shop:1.4.1 # {"$imagepolicy": "flux-system:shop-staging"}',
    )
    edits = (breakage, base_marker) if "outside" in cause else (breakage,)
    ws = _practice(tmp_path, "09b-staging")
    _solve(ws, "09b-staging", *edits, simulate=False)
    isolated = _check(ws, "09b-staging").get("staging.isolated")
    assert isolated.status is Status.FAIL
    assert "nothing in staging moved" in isolated.message and cause in isolated.message, isolated.message
    assert isolated.hint is not None and isolated.hint.startswith(hint), isolated.hint


@pytest.mark.slow
def test_staging_unmoved_cause_is_the_diagnosis(tmp_path: Path) -> None:
    """A policySelector typo: staging.isolated said why staging does not move in its own words, with
    another hint than image-update.valid, which reports lab.core.diagnose's finding: one cause, one fix."""
    ws = _practice(tmp_path, "09b-staging")
    _solve(ws, "09b-staging", _replace(IUA, "      env: staging\n", "      env: stagign\n"), simulate=False)
    report = _check(ws, "09b-staging")
    isolated, owning = report.get("staging.isolated"), report.get("image-update.valid")
    assert isolated.status is Status.FAIL and owning.status is Status.FAIL, (isolated.message, owning.message)
    cause = owning.message.split("; Flux: ")[0]
    assert cause in isolated.message, (isolated.message, owning.message)
    assert isolated.hint == owning.hint, (isolated.hint, owning.hint)
    assert (isolated.file, isolated.line) == (owning.file, owning.line)


@pytest.mark.slow
def test_staging_without_a_marker_says_so_and_where_it_goes(tmp_path: Path) -> None:
    """marker.valid said only "no marker found", as if the marker were malformed; marker.present, as in
    every task whose Flux commit needs a marker, names the path Flux walks and the line to end, and
    marker.valid waits for it."""
    ws = _practice(tmp_path, "09b-staging")
    _solve(ws, "09b-staging", _replace(STAGING, ' # {"$imagepolicy": "flux-system:shop-staging:tag"}', ""))
    report = _check(ws, "09b-staging")
    present = next(c for c in report.checks if c.id == "marker.present")
    assert present.status is Status.FAIL
    assert present.message.startswith("no $imagepolicy marker in any YAML file under ./apps/staging")
    assert present.hint == (
        f'end the newTag line of {STAGING} with # {{"$imagepolicy": "flux-system:shop-staging:tag"}}'
    )
    valid = next(c for c in report.checks if c.id == "marker.valid")
    assert valid.status is Status.SKIPPED and valid.blocked_by == "marker.present"


@pytest.mark.slow
def test_staging_update_path_typo_hint_shows_the_solution_path(tmp_path: Path) -> None:
    """A misspelt update.path: the example in the hint is the task's own path, not ./apps (which holds
    production too, in the one exercise about keeping it out)."""
    ws = _practice(tmp_path, "09b-staging")
    _solve(ws, "09b-staging", _replace(IUA, "path: ./apps/staging", "path: ./apps/stagin"), simulate=False)
    failed = _check(ws, "09b-staging").get("image-update.valid")
    assert failed.status is Status.FAIL and "apps/stagin does not exist" in failed.message
    assert failed.hint is not None and "e.g. ./apps/staging" in failed.hint, failed.hint
    from lab.services.why import explain

    path = next(link for link in explain(ws, offline=True).links if link.name == "path")
    assert path.state == "broken" and path.fix.endswith("e.g. ./apps/staging"), path.fix


@pytest.mark.slow
def test_update_path_example_is_one_for_why_and_the_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A solution that writes its update.path unnormalised (./apps/staging/): `lab why` and
    image-update.valid name the same example (why used to show it as written)."""
    authors = tmp_path / "authors"
    shutil.copytree(task_folder("09b-staging"), authors / "09b-staging")
    _replace(IUA, "path: ./apps/staging", "path: ./apps/staging/")(authors / "09b-staging" / "solution")
    monkeypatch.setenv("LAB_TASKS_PATH", str(authors))
    assert task_folder("09b-staging") == authors / "09b-staging"
    ws = _practice(tmp_path, "09b-staging")
    _solve(ws, "09b-staging", _replace(IUA, "path: ./apps/staging/", "path: ./apps/stagin"), simulate=False)
    failed = _check(ws, "09b-staging").get("image-update.valid")
    assert failed.hint is not None and failed.hint.endswith("e.g. ./apps/staging"), failed.hint
    from lab.services.why import explain

    path = next(link for link in explain(ws, offline=True).links if link.name == "path")
    assert path.fix.endswith("e.g. ./apps/staging"), path.fix


@pytest.mark.slow
def test_staging_flux_commit_counts_only_when_it_moved_staging(tmp_path: Path) -> None:
    """git.flux-commit gave 5/5 "it moved staging" for the starter's Flux commit, which rewrote only
    apps/base, and kept it after a fix whose policySelector typo means Flux never moves staging."""
    from lab.adapters.automation import run_automations
    from lab.checks.exercises import tag_source

    ws = _practice(tmp_path, "09b-staging")
    assert any(r.pushed for r in run_automations(ws, tag_source=tag_source("09b-staging")))
    git(ws, "pull", "-q", "--ff-only", "origin", "main")
    flux = _check(ws, "09b-staging").get("git.flux-commit")
    assert flux.status is Status.FAIL, flux.message
    assert "none changed a marked line under apps/staging/" in flux.message, flux.message
    assert "changed apps/base/shop/deployment.yaml" in flux.message, flux.message
    _solve(ws, "09b-staging", _replace(IUA, "      env: staging\n", "      env: stagign\n"))
    flux = _check(ws, "09b-staging").get("git.flux-commit")
    assert flux.status is Status.FAIL, flux.message
    assert "none changed a marked line under apps/staging/" in flux.message, flux.message
    assert flux.hint is not None and "changes nothing under apps/staging/ either" in flux.hint, flux.hint


NEWEST_BUILD = "main-e4f5a6b-1717003600"  # what Flux writes into the starter's base


def _starter_flux_commit_pulled(tmp_path: Path) -> Path:
    """The starter with Flux's commit pulled (lesson step 0): the base then reads the newest build."""
    from lab.adapters.automation import run_automations
    from lab.checks.exercises import tag_source

    ws = _practice(tmp_path, "09b-staging")
    assert any(r.pushed for r in run_automations(ws, tag_source=tag_source("09b-staging")))
    git(ws, "pull", "-q", "--ff-only", "origin", "main")
    return ws


@pytest.mark.slow
def test_staging_already_on_the_newest_build_is_settled(tmp_path: Path) -> None:
    """A solution whose staging newTag already holds the policy's pick (copied from the base after the
    starter's Flux commit) gives Flux nothing to commit: git.flux-commit failed it 0/5 with "Flux
    applies no marker there" while staging.isolated passed in the same run."""
    ws = _starter_flux_commit_pulled(tmp_path)
    _solve(ws, "09b-staging", _replace(STAGING, "newTag: 1.4.1", f"newTag: {NEWEST_BUILD}"))
    report = _check(ws, "09b-staging")
    assert _failing(report) == {}, _failing(report)
    flux = report.get("git.flux-commit")
    assert f"{STAGING}:10 already holds {NEWEST_BUILD}" in flux.message, flux.message


@pytest.mark.slow
def test_staging_hand_made_flux_commit_keeps_the_revert_hint(tmp_path: Path) -> None:
    """A commit under Flux's name that Flux would not write: the hint says to revert it, not that
    "Flux applies no marker there" (the staging set-up is right)."""
    ws = _practice(tmp_path, "09b-staging")
    _solve(ws, "09b-staging", simulate=False)
    _replace(STAGING, "newTag: 1.4.1", f"newTag: {NEWEST_BUILD}")(ws)
    _commit_push(ws, "bump staging", author=("Flux", "flux@gitops-lab.local"))
    flux = _check(ws, "09b-staging").get("git.flux-commit")
    assert flux.status is Status.FAIL and "is not the commit Flux writes" in flux.message, flux.message
    assert flux.hint is not None and "git revert" in flux.hint, flux.hint
    assert "applies no marker" not in flux.hint, flux.hint


def _production_gate(*, first: bool) -> Edit:
    """The lesson's gate: production's own automation, pushing to a branch a pull request merges
    (listed `first` in image-update.yaml, or after staging's), with its policy and marker."""

    def edit(ws: Path) -> None:
        path = ws / IUA
        staging = path.read_text(encoding="utf-8")
        gate = PROD_AUTOMATION.removeprefix("---\n")
        path.write_text(gate + "---\n" + staging if first else staging + "---\n" + gate, encoding="utf-8")
        with (ws / "clusters/dev/image-automation/image-policy.yaml").open("a", encoding="utf-8") as fh:
            fh.write(PROD_POLICY)
        _replace(PROD, "newTag: 1.4.2", 'newTag: 1.4.1 # {"$imagepolicy": "flux-system:shop-prod:tag"}')(ws)

    return edit


@pytest.mark.slow
def test_staging_gate_pending_merge_is_settled(tmp_path: Path) -> None:
    """With the lesson's gate, production's automation has pushed image-updates-prod and waits for the
    merge: git.flux-commit said "Flux has not run since your last push: a reconcile now would change
    apps/production/kustomization.yaml", a change Flux commits to another branch than the graded one."""
    ws = _practice(tmp_path, "09b-staging")
    _solve(ws, "09b-staging", _production_gate(first=False))
    assert git(ws, "ls-remote", "origin", "image-updates-prod").strip()
    flux = _check(ws, "09b-staging").get("git.flux-commit")
    assert flux.status is Status.PASS, flux.message


@pytest.mark.slow
def test_staging_gate_listed_first_grades_the_deployed_branch(tmp_path: Path) -> None:
    """With production's automation first in image-update.yaml, git.flux-commit graded
    origin/image-updates-prod (the first automation's push branch), not main, where staging's
    automation commits and Flux deploys from."""
    ws = _practice(tmp_path, "09b-staging")
    _solve(ws, "09b-staging", _production_gate(first=True))
    flux = _check(ws, "09b-staging").get("git.flux-commit")
    assert "image-updates-prod" not in flux.message, flux.message
    assert "Automated image update" in flux.message, flux.message


ENV_EXISTS = _replace(
    IUA,
    "  policySelector:\n    matchLabels:\n      env: staging\n",
    "  policySelector:\n    matchExpressions:\n      - key: env\n        operator: Exists\n",
)


@pytest.mark.slow
def test_staging_selector_that_picks_production_policy_is_not_scoped(tmp_path: Path) -> None:
    """A policySelector that exists but does not scope (env Exists, with the gate's production policy
    labelled env: prod) passed "a policySelector picks the policies"."""
    ws = _practice(tmp_path, "09b-staging")
    _solve(ws, "09b-staging", _production_gate(first=False), ENV_EXISTS)
    scoped = _check(ws, "09b-staging").get("staging.scoped")
    assert scoped.status is Status.FAIL, scoped.message
    assert (
        "picks flux-system:shop-prod, which apps/production/kustomization.yaml:10 is marked with"
        in scoped.message
    )


NO_SELECTOR = _replace(IUA, "  policySelector:\n    matchLabels:\n      env: staging\n", "")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("edits", "said"),
    [
        (
            (_replace(IUA, "path: ./apps/staging", "path: ./"), NO_SELECTOR),
            "update.path ./, which reaches apps/base/shop and apps/production, built by production: without "
            "the scope Flux moves production too",
        ),
        (
            (NO_SELECTOR,),
            "has no policySelector: it applies every ImagePolicy of flux-system (shop-staging) to every marker "
            "under ./apps/staging, so a production policy marked there would move production too",
        ),
    ],
    ids=["root-path", "no-selector"],
)
def test_staging_scoping_the_lesson_teaches_is_graded(
    tmp_path: Path, edits: tuple[Edit, ...], said: str
) -> None:
    """With update.path ./ and no policySelector (the marker moved to the staging overlay only) the
    exercise scored 100: isolation holds while no marker sits in production's files, and nothing graded
    the scoping of lesson steps 3-4."""
    ws = _practice(tmp_path, "09b-staging")
    _solve(ws, "09b-staging", *edits)
    failing = _failing(_check(ws, "09b-staging"))
    assert set(failing) == {"staging.scoped"}, failing
    assert said in failing["staging.scoped"], failing


@pytest.mark.slow
def test_staging_root_path_with_base_marker_updates_production(tmp_path: Path) -> None:
    ws = _practice(tmp_path, "09b-staging")
    _solve(
        ws,
        "09b-staging",
        _replace(IUA, "path: ./apps/staging", "path: ./"),
        _replace(
            "apps/base/shop/deployment.yaml",
            "image: ghcr.io/acme/shop:1.4.1",
            'image: ghcr.io/acme/shop:1.4.1 # {"$imagepolicy": "flux-system:shop-staging"}',
        ),
    )
    failing = _failing(_check(ws, "09b-staging"))
    assert "production must not be auto-updated" in failing["staging.isolated"]
    assert "apps/base/shop/deployment.yaml" in failing["staging.isolated"]
    assert "one policy name for two environments" in failing["staging.no-flap"]


@pytest.mark.slow
def test_staging_one_policy_in_both_overlays_is_diagnosed(tmp_path: Path) -> None:
    ws = _practice(tmp_path, "09b-staging")
    _solve(
        ws,
        "09b-staging",
        _replace(PROD, "newTag: 1.4.2", 'newTag: 1.4.2 # {"$imagepolicy": "flux-system:shop-staging:tag"}'),
        simulate=False,
    )
    failing = _failing(_check(ws, "09b-staging"))
    assert "apps-production and apps-staging" in failing["staging.no-flap"]


@pytest.mark.slow
def test_staging_production_moved_by_the_automation_is_refused(tmp_path: Path) -> None:
    ws = _practice(tmp_path, "09b-staging")
    _solve(ws, "09b-staging", _replace(PROD, "newTag: 1.4.2", "newTag: 1.4.1"))
    _replace(PROD, "newTag: 1.4.1", "newTag: 1.4.2")(ws)
    _commit_push(ws, "Automated image update", author=("Flux", "flux@gitops-lab.local"))
    assert "(the automation)" in _failing(_check(ws, "09b-staging"))["staging.promoted"]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("tag", "said"),
    [
        ("does-not-exist", "promoted to does-not-exist, a tag ghcr.io/acme/shop does not have"),
        ("1.4.0", "set to 1.4.0, a downgrade from 1.4.1, what it ran before your commit"),
        ("1.4.1", "promoted to 1.4.1, not 1.4.2, the release the lesson promotes"),
    ],
)
def test_staging_promotion_to_another_tag_is_named(tmp_path: Path, tag: str, said: str) -> None:
    """Any commit under apps/production passed: a downgrade to 1.4.0 and a tag the registry lacks
    scored 15/15, where the lesson and the hint promote 1.4.2."""
    ws = _practice(tmp_path, "09b-staging")
    _solve(ws, "09b-staging", _replace(PROD, "newTag: 1.4.2", f"newTag: {tag}"))
    failing = _failing(_check(ws, "09b-staging"))
    assert set(failing) == {"staging.promoted"}, failing
    assert said in failing["staging.promoted"], failing


@pytest.mark.slow
def test_staging_promotion_grades_the_task_image_not_a_sidecar(tmp_path: Path) -> None:
    """A sidecar listed first in production's images: staging.promoted graded its tag ("promoted to
    1.25, not 1.4.2")."""
    ws = _practice(tmp_path, "09b-staging")
    sidecar = "images:\n  - name: nginx\n    newTag: '1.25'\n  - name: ghcr.io/acme/shop"
    _solve(ws, "09b-staging", _replace(PROD, "images:\n  - name: ghcr.io/acme/shop", sidecar))
    assert _failing(_check(ws, "09b-staging")) == {}


@pytest.mark.slow
def test_staging_promotion_to_a_tag_pushed_into_the_sandbox_is_pullable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tag pushed into the sandbox's registry is there to pull: not "a tag ... does not have
    (ErrImagePull)"; only the release the lesson promotes is still asked for."""
    import lab.sandbox.layout

    monkeypatch.setattr(lab.sandbox.layout, "workspace_pushed_tags", lambda _ws: {"acme/shop": ("1.4.3",)})
    ws = _practice(tmp_path, "09b-staging")
    _solve(ws, "09b-staging", _replace(PROD, "newTag: 1.4.2", "newTag: 1.4.3"))
    said = _failing(_check(ws, "09b-staging"))["staging.promoted"]
    assert said.startswith("production is promoted to 1.4.3, not 1.4.2, the release the lesson promotes"), (
        said
    )


@pytest.mark.slow
def test_staging_downgrade_is_judged_against_the_promotion_before(tmp_path: Path) -> None:
    """The baseline was the tree before the learner's oldest production commit: promoting 1.4.2, then
    setting 1.4.1, was "not 1.4.2" instead of a downgrade from what production ran."""
    ws = _solved(tmp_path, "09b-staging")
    _replace(PROD, "newTag: 1.4.2", "newTag: 1.4.1")(ws)
    _commit_push(ws, "Roll production back")
    said = _failing(_check(ws, "09b-staging"))["staging.promoted"]
    assert "set to 1.4.1, a downgrade from 1.4.2, what it ran before your commit" in said, said


@pytest.mark.slow
def test_staging_coming_back_to_the_lessons_release_after_overshooting_passes(tmp_path: Path) -> None:
    """Promoting 1.4.3, then correcting to the lesson's 1.4.2, is right: against the promotion before
    it, 1.4.2 read as a downgrade, and nothing but rewriting history could pass."""
    ws = _practice(tmp_path, "09b-staging")
    _solve(ws, "09b-staging", _replace(PROD, "newTag: 1.4.2", "newTag: 1.4.3"))
    _replace(PROD, "newTag: 1.4.3", "newTag: 1.4.2")(ws)
    _commit_push(ws, "Promote the lesson's release")
    assert _failing(_check(ws, "09b-staging")) == {}


@pytest.mark.slow
def test_staging_production_removed_is_not_a_promotion(tmp_path: Path) -> None:
    """Deleting the production overlay changes production in a commit of yours: it scored 100/100."""
    ws = _practice(tmp_path, "09b-staging")
    _solve(ws, "09b-staging", _remove("apps/production/kustomization.yaml"))
    failing = _failing(_check(ws, "09b-staging"))
    assert set(failing) == {"staging.promoted"}, failing
    assert "apps/production/ sets no image tag on origin" in failing["staging.promoted"]


@pytest.mark.slow
def test_staging_policy_selector_flux_cannot_parse_is_named(tmp_path: Path) -> None:
    """matchLabels written as a string selected every policy in the lab, and staging scored 100/100."""
    ws = _practice(tmp_path, "09b-staging")
    _solve(
        ws,
        "09b-staging",
        _replace(
            IUA,
            "  policySelector:\n    matchLabels:\n      env: staging\n",
            "  policySelector:\n    matchLabels: env=staging\n",
        ),
        simulate=False,  # the automation stalls: lab simulate refuses to run it
    )
    failing = _failing(_check(ws, "09b-staging"))
    assert "spec.policySelector.matchLabels must be a mapping" in failing["image-update.valid"], failing
    assert "spec.policySelector.matchLabels must be a mapping" in failing["staging.isolated"], failing


@pytest.mark.slow
def test_a_comment_that_names_an_image_policy_is_not_a_broken_marker(tmp_path: Path) -> None:
    """Prose naming an ImagePolicy failed marker.valid: 'the comment must be a JSON object'."""
    ws = _practice(tmp_path, "09b-staging")
    overlay = "apps/staging/kustomization.yaml"
    prose = "# The tag below is written by Flux (ImagePolicy shop-staging).\n"

    def edit(work: Path) -> None:
        (work / overlay).write_text(prose + (work / overlay).read_text(encoding="utf-8"), encoding="utf-8")

    _solve(ws, "09b-staging", edit)
    assert _failing(_check(ws, "09b-staging")) == {}


@pytest.mark.slow
def test_staging_pushed_to_a_branch_nothing_deploys_is_named(tmp_path: Path) -> None:
    """It was blamed on 'a marker outside update.path, or a policy the policySelector leaves out'."""
    ws = _practice(tmp_path, "09b-staging")
    _solve(
        ws,
        "09b-staging",
        _replace(IUA, "    push:\n      branch: main\n", "    push:\n      branch: staging-auto\n"),
    )
    message = _failing(_check(ws, "09b-staging"))["staging.isolated"]
    assert message.startswith("staging moved only on branch staging-auto, which nothing deploys"), message


@pytest.mark.slow
def test_staging_without_promotion_is_named(tmp_path: Path) -> None:
    ws = _practice(tmp_path, "09b-staging")
    shutil.copy(task_folder("09b-staging") / "starter" / PROD, tmp_path / "prod.yaml")
    _solve(ws, "09b-staging", lambda w: shutil.copy(tmp_path / "prod.yaml", w / PROD))
    assert "promotion is a commit" in _failing(_check(ws, "09b-staging"))["staging.promoted"]


# -- 09b-guard --------------------------------------------------------------------------------------

REPO = "clusters/dev/image-automation/image-repository.yaml"
POLICY = "clusters/dev/image-automation/image-policy.yaml"


@pytest.mark.slow
def test_guard_exclusion_without_sig_is_named(tmp_path: Path) -> None:
    ws = _practice(tmp_path, "09b-guard")
    _solve(ws, "09b-guard", _replace(REPO, "    - '^.*\\.sig$'\n", ""))
    failing = _failing(_check(ws, "09b-guard"))
    assert set(failing) == {"guard.exclusion"}
    assert "replaces the default" in failing["guard.exclusion"]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("image", "says"),
    [
        ("ghcr.io/acme/shop:1.4.1", "should not include a tag; remove ':1.4.1'"),
        ('"ghcr.io/acme/shop\\e[31m"', r"could not parse reference: ghcr.io/acme/shop\x1b[31m"),
    ],
)
def test_guard_with_an_image_flux_cannot_parse_names_it(tmp_path: Path, image: str, says: str) -> None:
    """The guard checks crashed (ImageNameError) on a spec.image Flux's reflector stalls on."""
    ws = _practice(tmp_path, "09b-guard")
    _solve(ws, "09b-guard", _replace(REPO, "image: ghcr.io/acme/shop\n", f"image: {image}\n"))
    report = _check(ws, "09b-guard")
    for check_id in ("guard.prod-holds", "guard.staging-holds"):
        got = report.get(check_id)
        assert got.status is Status.FAIL and says in got.message, (check_id, got.message)
        assert got.file == REPO and got.line is not None


@pytest.mark.slow
@pytest.mark.parametrize(
    ("entry", "says"),
    [
        ("'['", "scan failed: failed to compile regex ["),
        ("5", "spec.exclusionList[0] must be a string, found number"),
        ("".join(f"'^x{n}$'\n    - " for n in range(30)) + "'^y$'", "36 entries; the CRD allows at most 25"),
    ],
    ids=["regex", "number", "too-many"],
)
def test_guard_with_an_exclusion_list_flux_refuses_names_it(tmp_path: Path, entry: str, says: str) -> None:
    """Such a list passed guard.exclusion ("5" matches the 5 of sha256) or was blamed for dropping the
    default; a 99,000-entry one ran the trap tags through every entry for 40 s."""
    ws = _practice(tmp_path, "09b-guard")
    edit = _replace(REPO, "  exclusionList:\n", f"  exclusionList:\n    - {entry}\n")
    _solve(ws, "09b-guard", edit, simulate=False)  # Flux's scan fails: lab simulate refuses to run
    report = _check(ws, "09b-guard")
    for check_id in ("guard.exclusion", "guard.prod-holds", "guard.staging-holds"):
        got = report.get(check_id)
        assert got.status is Status.FAIL and says in got.message, (check_id, got.message)


@pytest.mark.slow
def test_guard_prerelease_range_is_caught(tmp_path: Path) -> None:
    ws = _practice(tmp_path, "09b-guard")
    _solve(ws, "09b-guard", _replace(POLICY, "range: '>=1.4.0 <2.0.0'", "range: '>=1.4.0-0 <2.0.0'"))
    message = _failing(_check(ws, "09b-guard"))["guard.prod-holds"]
    assert "selects 1.5.0-rc.2 from today's tags, not 1.4.1" in message


@pytest.mark.slow
def test_guard_open_upper_bound_lets_the_next_major_through(tmp_path: Path) -> None:
    ws = _practice(tmp_path, "09b-guard")
    _solve(
        ws,
        "09b-guard",
        _replace(POLICY, "range: '>=1.4.0 <2.0.0'", "range: '>=1.4.0 <2.0.0 || >=2.1.0'"),
    )
    message = _failing(_check(ws, "09b-guard"))["guard.prod-holds"]
    assert "trap 2.1.0 got through: the policy moved from 1.4.1 to 2.1.0" in message


@pytest.mark.slow
def test_guard_flux_commit_does_not_pass_with_the_next_major_in_git(tmp_path: Path) -> None:
    """A range without its upper bound picks 2.0.0 and Flux commits it: a reconcile then changes nothing,
    but the check's title says no trap tag is left in Git, and production holds the major it keeps out."""
    ws = _practice(tmp_path, "09b-guard")
    _solve(ws, "09b-guard", _replace(POLICY, "range: '>=1.4.0 <2.0.0'", "range: '>=1.4.0'"))
    assert "newTag: 2.0.0 #" in (ws / "apps/production/kustomization.yaml").read_text()
    message = _failing(_check(ws, "09b-guard")).get("git.flux-commit", "")
    assert "apps/production/kustomization.yaml:9 holds 2.0.0" in message and "1.4.1" in message, message


def _swap_guard_markers(ws: Path) -> None:
    _replace(PROD, "flux-system:shop-prod:tag", "flux-system:shop-staging:tag")(ws)
    _replace(STAGING, "flux-system:shop-staging:tag", "flux-system:shop-prod:tag")(ws)


@pytest.mark.slow
def test_guard_judges_the_policy_each_environment_is_marked_with(tmp_path: Path) -> None:
    """Production marked with staging's policy (and staging with production's) scored 100/100: the
    guards judged the policies by name, and production ran a main- build."""
    ws = _practice(tmp_path, "09b-guard")
    _solve(ws, "09b-guard", _swap_guard_markers)
    assert "newTag: main-e4f5a6b-1717003600 #" in (ws / PROD).read_text()
    report = _check(ws, "09b-guard")
    prod = report.get("guard.prod-holds")
    assert prod.status is Status.FAIL and prod.message.startswith(
        f"{PROD}:9 is marked with ImagePolicy flux-system/shop-staging, not flux-system/shop-prod"
    ), prod.message
    assert "selects main-e4f5a6b-1717003600 from today's tags, not 1.4.1" in prod.message
    assert (
        prod.hint
        == 'this environment\'s policy is flux-system/shop-prod: end the line with # {"$imagepolicy": "flux-system:shop-prod:tag"}'
    )
    assert report.get("guard.staging-holds").status is Status.FAIL
    settled = report.get("git.flux-commit")
    assert (
        settled.status is Status.FAIL
        and f"{PROD}:9 holds main-e4f5a6b-1717003600, not 1.4.1" in settled.message
    )


@pytest.mark.slow
def test_guard_follows_a_renamed_policy_the_environment_is_marked_with(tmp_path: Path) -> None:
    """Judged from the objects, not the names: the production policy renamed, and production's marker
    with it, still holds."""
    ws = _practice(tmp_path, "09b-guard")
    _solve(
        ws,
        "09b-guard",
        _replace(POLICY, "name: shop-prod\n", "name: shop-production\n"),
        _replace(PROD, "flux-system:shop-prod:tag", "flux-system:shop-production:tag"),
    )
    prod = _check(ws, "09b-guard").get("guard.prod-holds")
    assert prod.status is Status.PASS and "flux-system/shop-production stays on 1.4.1" in prod.message, prod


@pytest.mark.slow
def test_guard_missing_incident_exclusion_takes_the_broken_release(tmp_path: Path) -> None:
    ws = _practice(tmp_path, "09b-guard")
    _solve(ws, "09b-guard", _replace(REPO, "    - '^1\\.4\\.2$'\n", ""))
    assert "selects 1.4.2" in _failing(_check(ws, "09b-guard"))["guard.prod-holds"]


@pytest.mark.slow
def test_guard_unanchored_filter_takes_the_feature_branch(tmp_path: Path) -> None:
    ws = _practice(tmp_path, "09b-guard")
    _solve(
        ws,
        "09b-guard",
        _replace(POLICY, "pattern: '^main-[a-f0-9]+-(?P<ts>[0-9]+)$'", "pattern: '[a-f0-9]+-(?P<ts>[0-9]+)'"),
    )
    assert "selects feat-login-9c8d7e6-1717007200" in _failing(_check(ws, "09b-guard"))["guard.staging-holds"]


@pytest.mark.slow
def test_guard_pattern_without_end_anchor_lets_a_debug_build_through(tmp_path: Path) -> None:
    ws = _practice(tmp_path, "09b-guard")
    _solve(
        ws,
        "09b-guard",
        _replace(
            POLICY, "pattern: '^main-[a-f0-9]+-(?P<ts>[0-9]+)$'", "pattern: '^main-[a-f0-9]+-(?P<ts>[0-9]+)'"
        ),
    )
    message = _failing(_check(ws, "09b-guard"))["guard.staging-holds"]
    assert "main-e4f5a6b-1717003600-debug" in message or "got through" in message


PROD_POLICY = """---
apiVersion: image.toolkit.fluxcd.io/v1
kind: ImagePolicy
metadata:
  name: shop-prod
  namespace: flux-system
  labels:
    env: prod
spec:
  imageRepositoryRef:
    name: shop
  policy:
    semver:
      range: '>=1.4.0 <2.0.0'
"""


@pytest.mark.slow
def test_policy_selector_keeps_a_production_marker_in_the_path_untouched(tmp_path: Path) -> None:
    """update.path ./apps covers production's marker; only policySelector keeps Flux out (as in Flux:
    the automation lists every policy of its namespace, narrowed by the selector)."""

    def add_prod_policy(w: Path) -> None:
        with (w / "clusters/dev/image-automation/image-policy.yaml").open("a", encoding="utf-8") as fh:
            fh.write(PROD_POLICY)

    ws = _practice(tmp_path, "09b-staging")
    _solve(
        ws,
        "09b-staging",
        add_prod_policy,
        _replace(IUA, "path: ./apps/staging", "path: ./apps"),
        _replace(PROD, "newTag: 1.4.2", 'newTag: 1.4.1 # {"$imagepolicy": "flux-system:shop-prod:tag"}'),
    )
    prod = git(ws, "show", f"origin/main:{PROD}")
    assert "newTag: 1.4.1 #" in prod  # shop-prod resolves 1.4.2, but the selector leaves it out
    assert "main-e4f5a6b-1717003600" in git(ws, "show", f"origin/main:{STAGING}")
    failing = _failing(_check(ws, "09b-staging"))
    assert "staging.isolated" not in failing and "staging.no-flap" not in failing
    # Without the selector the same repository updates production.
    _replace(IUA, "  policySelector:\n    matchLabels:\n      env: staging\n", "")(ws)
    _commit_push(ws, "Drop the policySelector")
    assert "production must not be auto-updated" in _failing(_check(ws, "09b-staging"))["staging.isolated"]


PROD_AUTOMATION = """---
apiVersion: image.toolkit.fluxcd.io/v1
kind: ImageUpdateAutomation
metadata:
  name: production
  namespace: flux-system
spec:
  interval: 10m
  policySelector:
    matchLabels:
      env: prod
  sourceRef:
    kind: GitRepository
    name: flux-system
  git:
    checkout:
      ref:
        branch: main
    commit:
      author:
        email: flux@gitops-lab.local
        name: Flux
    push:
      branch: image-updates-prod
  update:
    path: ./apps/production
"""


@pytest.mark.slow
def test_staging_pr_gate_for_production_is_accepted(tmp_path: Path) -> None:
    """The stretch goal: production gets its own automation pushing to a side branch; main (what
    production deploys) is untouched until a person merges."""

    def gate(w: Path) -> None:
        with (w / "clusters/dev/image-automation/image-policy.yaml").open("a", encoding="utf-8") as fh:
            fh.write(PROD_POLICY.replace("'>=1.4.0 <2.0.0'", "'>=1.4.0 <2.0.0'"))
        with (w / IUA).open("a", encoding="utf-8") as fh:
            fh.write(PROD_AUTOMATION)

    ws = _practice(tmp_path, "09b-staging")
    _solve(
        ws,
        "09b-staging",
        gate,
        _replace(PROD, "newTag: 1.4.2", 'newTag: 1.4.1 # {"$imagepolicy": "flux-system:shop-prod:tag"}'),
    )
    git(ws, "fetch", "-q", "origin")
    assert "newTag: 1.4.2 #" in git(ws, "show", f"origin/image-updates-prod:{PROD}")
    assert "newTag: 1.4.1 #" in git(ws, "show", f"origin/main:{PROD}")
    failing = _failing(_check(ws, "09b-staging"))
    assert not {"staging.isolated", "staging.no-flap"} & set(failing)
    # The promotion is still the learner's: merging the side branch by hand counts.
    git(ws, "merge", "-q", "--no-ff", "-m", "Promote 1.4.2 to production", "origin/image-updates-prod")
    git(ws, "push", "-q", "origin", "main")
    assert "staging.promoted" not in _failing(_check(ws, "09b-staging"))


@pytest.mark.slow
def test_multi_long_spec_image_is_accepted_with_a_note(tmp_path: Path) -> None:
    """spec.image docker.io/library/nginx rewrites the proxy line's spelling: the same image, accepted."""
    ws = _practice(tmp_path, "09b-multi")
    _solve(ws, "09b-multi", _replace(REPO_M, "  image: nginx\n", "  image: docker.io/library/nginx\n"))
    assert "image: docker.io/library/nginx:1.25.3 #" in git(ws, "show", f"origin/main:{DEPLOY}")
    assert _failing(_check(ws, "09b-multi")) == {}


@pytest.mark.slow
def test_wrap_up_hints_name_the_exercise(tmp_path: Path) -> None:
    """In a repository that records no task `lab quiz` alone would quiz the course's task: the hint says
    --task. In one `lab init --task` made, `lab quiz` is the exercise's quiz: the hint says just that."""
    ws = _practice(tmp_path / "by-hand", "09b-guard", record=False)
    report = _check(ws, "09b-guard")
    assert report.get("quiz.passed").hint.startswith("run `lab quiz --task 09b-guard`")
    assert report.get("progress.updated").hint.startswith("lab progress --done 09b-guard")
    recorded = _practice(tmp_path / "init", "09b-guard")
    hint = _check(recorded, "09b-guard").get("quiz.passed").hint
    assert hint.startswith("run `lab quiz` ") and "--task" not in hint


# -- a repository made by `lab init --task ID` knows its task ---------------------------------------


def _unreachable_registries(task: str) -> str:
    """LAB_REGISTRY_MIRROR sending every registry the task's images live on to a closed local port: the
    offline path (the task's bundled tags) without waiting on DNS or the network."""
    from lab.core.imagename import parse_image

    hosts = {parse_image(image.name).registry for image in load_task(task).meta.images}
    return ",".join(f"{host}=127.0.0.1:1" for host in sorted(hosts))


@pytest.mark.slow
@pytest.mark.parametrize("task", EXERCISES)
def test_init_records_the_task_and_every_command_defaults_to_it(
    tmp_path: Path, task: str, lab_env: dict[str, str]
) -> None:
    """The issue's acceptance, with no --task after `lab init`: the starter fails, `lab solve`, `lab
    simulate` (offline: the task's bundled tags), `lab check --offline` gives full marks."""
    env = {**lab_env, "LAB_REGISTRY_MIRROR": _unreachable_registries(task)}
    made = run_lab("init", "repo", "--task", task, env=env, cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    repo = tmp_path / "repo"
    assert "--task" not in made.stdout  # the printed next steps need none
    assert json.loads(git(repo, "show", "HEAD:.fluxlab/task.json")) == {"task": task}

    before = run_lab("check", "--offline", "--format", "json", env=env, cwd=repo)
    assert before.returncode == 1, before.stderr
    report = json.loads(before.stdout)
    assert report["task"] == task and report["score"] < 100
    lesson = run_lab("lesson", env=env, cwd=repo / "apps")  # from a subdirectory too
    # The task's lesson, its code blocks printed as indented commands (no ``` fences in a terminal).
    assert lesson.returncode == 0 and lesson.stdout == indent_code_blocks(load_task(task).lesson)

    solved = run_lab("solve", ".", env=env, cwd=repo)
    assert solved.returncode == 0, solved.stderr
    assert load_task(task).meta.commit_message in solved.stdout
    simulated = run_lab("simulate", env=env, cwd=repo)
    assert simulated.returncode == 0, simulated.stdout + simulated.stderr
    assert "the lab's snapshot of" in simulated.stdout and "pushed commit" in simulated.stdout
    if task == "09b-multi":  # the worker's pinned digest: offline, the one the lab's registry serves
        from lab.core.oci import lab_digest

        digest = lab_digest("ghcr.io/acme/shop-worker", "1.4.2")
        assert f"resolved to 1.4.2 with digest {digest}" in simulated.stdout
        assert "digests: the ones the lab's sandbox registry serves" in simulated.stdout
        assert f"digest: {digest} #" in git(
            tmp_path / "repo-origin.git", "show", "main:apps/base/shop/worker.yaml"
        )

    after = run_lab("check", "--offline", "--format", "json", env=env, cwd=repo)
    assert after.returncode == 0, after.stdout + after.stderr
    report = json.loads(after.stdout)
    assert report["task"] == task and report["score"] == 100
    assert {c["status"] for c in report["checks"]} == {"pass"}
    # --task still wins over the record: the course's own task grades this repository as a failure.
    other = run_lab("check", "--offline", "--task", "09b", "--format", "json", env=env, cwd=repo)
    assert json.loads(other.stdout)["task"] == "09b" and other.returncode == 1


@pytest.mark.slow
def test_task_for_workspace_explicit_then_recorded_then_course(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lab.adapters.tasks import default_task_id
    from lab.services.tasks import task_for_workspace, workspace_task

    recorded = _practice(tmp_path / "a", "09b-staging")
    plain = _practice(tmp_path / "b", "09b-staging", record=False)
    assert task_for_workspace(recorded) == "09b-staging"
    assert task_for_workspace(recorded, "09b-guard") == "09b-guard"
    assert task_for_workspace(plain) == default_task_id()
    assert workspace_task(recorded).id == "09b-staging"
    monkeypatch.chdir(recorded / "apps" / "staging")  # no workspace given: the repository around the cwd
    assert task_for_workspace() == "09b-staging"
    monkeypatch.chdir(tmp_path)
    assert task_for_workspace() == default_task_id()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            '{"task": "09q-nope"}\n',
            "task.json: this repository is for task '09q-nope', which this lab does not have",
        ),
        ('{"task": \n', "task.json:2: invalid JSON"),
        ('["09b"]\n', "task.json: does not name a task"),
    ],
)
def test_a_bad_recorded_task_is_one_line(
    tmp_path: Path, lab_env: dict[str, str], content: str, message: str
) -> None:
    ws = _practice(tmp_path, "09b-multi")
    (ws / ".fluxlab" / "task.json").write_text(content, encoding="utf-8")
    for args in (("check", "--offline"), ("lesson",), ("simulate", "--dry-run")):
        done = run_lab(*args, env=lab_env, cwd=ws)
        assert done.returncode == 1 and done.stdout == ""
        lines = done.stderr.splitlines()
        assert len(lines) == 1 and message in lines[0] and " - hint: " in lines[0], (args, done.stderr)
    # --task names the task outright: the record is not read.
    assert run_lab("lesson", "--task", "09b-multi", env=lab_env, cwd=ws).returncode == 0


@pytest.mark.slow
def test_a_recorded_task_behind_a_symlink_is_refused(tmp_path: Path) -> None:
    """The repository is the learner's: lab never follows a link out of it to learn its task."""
    from lab.errors import LabError
    from lab.services.tasks import task_for_workspace

    ws = _practice(tmp_path, "09b-multi")
    outside = tmp_path / "elsewhere.json"
    outside.write_text('{"task": "09b-guard"}\n', encoding="utf-8")
    (ws / ".fluxlab" / "task.json").unlink()
    (ws / ".fluxlab" / "task.json").symlink_to(outside)
    with pytest.raises(LabError, match="symbolic link"):
        task_for_workspace(ws)


@pytest.mark.slow
@pytest.mark.parametrize(("odd", "says"), [("fifo", "a FIFO"), ("huge", "larger than 65536 bytes")])
def test_a_recorded_task_that_is_no_small_file_is_refused_at_once(
    tmp_path: Path, odd: str, says: str
) -> None:
    """Every command asks the repository for its task: a FIFO there would block them all."""
    import os

    from lab.errors import LabError
    from lab.services.tasks import task_for_workspace

    ws = _practice(tmp_path, "09b-multi")
    record = ws / ".fluxlab" / "task.json"
    record.unlink()
    if odd == "fifo":
        os.mkfifo(record)
    else:
        record.write_text('{"task": "09b-multi"}' + " " * 70_000, encoding="utf-8")
    with pytest.raises(LabError, match=f"cannot read: {says}"):
        task_for_workspace(ws)


@pytest.mark.slow
@pytest.mark.parametrize("task", EXERCISES)
def test_generator_form_is_the_exercises(
    tmp_path: Path, task: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """In an exercise's repository `lab generate` (and the app's form, which reads the same table) writes
    the exercise's image, not the course text's nginx, and its policy picks a tag from the task's registry."""
    from lab.cli import main
    from lab.core.manifests.parse import find_automation
    from lab.core.reconcile import resolve_policies

    ws = _practice(tmp_path, task)
    monkeypatch.chdir(ws)
    assert main(["generate", "--stdout"]) == 0
    out = capsys.readouterr().out
    assert "library/nginx" not in out
    texts = {f"f{i}.yaml": doc for i, doc in enumerate(out.split("\n---\n"))}
    aset = find_automation(texts)
    assert [r.image for r in aset.repositories] == [load_task(task).meta.generate["image"]]
    from lab.checks.exercises import tag_source

    resolutions, _ = resolve_policies(aset, "flux-system", tag_source(task))
    assert [r.ready for r in resolutions] == [True], resolutions


# -- the wrap-up steps learners skip, in every exercise ---------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("task", EXERCISES)
def test_no_reconcile_yet_is_named(tmp_path: Path, task: str) -> None:
    """Pushed, but Flux has not run (no `lab simulate`, no sandbox): no Flux commit on origin."""
    ws = _practice(tmp_path, task)
    _solve(ws, task, simulate=False)
    failing = _failing(_check(ws, task))
    assert set(failing) == {"git.flux-commit"}, failing


@pytest.mark.slow
@pytest.mark.parametrize("task", EXERCISES)
def test_committed_but_not_pushed_is_named(tmp_path: Path, task: str) -> None:
    ws = _practice(tmp_path, task)
    shutil.copytree(task_folder(task) / "solution", ws, dirs_exist_ok=True)
    git(ws, "add", "-A")
    git(ws, "commit", "-q", "-m", "Solution")
    report = _check(ws, task)
    assert set(_failing(report)) == {"git.pushed"}, _failing(report)
    pushed = report.get("git.pushed")
    assert "on origin/main: committed, not pushed yet" in pushed.message and pushed.hint == "git push", pushed


@pytest.mark.slow
@pytest.mark.parametrize("task", EXERCISES)
def test_the_course_row_marked_instead_of_the_exercises_is_named(tmp_path: Path, task: str) -> None:
    """`lab progress --done 09` by habit: the exercise's own row stays open."""
    row = f"| {task} | ✅ |"

    def course_row_only(w: Path) -> None:
        text = (w / "PROGRESS.md").read_text(encoding="utf-8")
        assert row in text
        (w / "PROGRESS.md").write_text(
            "\n".join(f"| {task} | ⬜ | |" if line.startswith(row) else line for line in text.splitlines())
            + "\n",
            encoding="utf-8",
        )

    ws = _practice(tmp_path, task)
    _solve(ws, task, course_row_only)
    failing = _failing(_check(ws, task))
    assert set(failing) == {"progress.updated"}, failing
    assert task in failing["progress.updated"]


@pytest.mark.slow
def test_multi_marker_on_the_base_init_container_is_named(tmp_path: Path) -> None:
    """The initContainer's base line has no tag (the dev overlay sets it): marking it instead of the
    overlay's newTag leaves the override unmarked, and kustomize's newTag still wins."""
    ws = _practice(tmp_path, "09b-multi")
    _solve(
        ws,
        "09b-multi",
        _replace(
            DEPLOY,
            "image: ghcr.io/acme/shop-migrate\n",
            'image: ghcr.io/acme/shop-migrate # {"$imagepolicy": "flux-system:shop-migrate"}\n',
        ),
        _replace(OVERLAY, ' # {"$imagepolicy": "flux-system:shop-migrate:tag"}', ""),
    )
    message = _failing(_check(ws, "09b-multi"))["multi.markers"]
    assert "newTag" in message and "has no marker" in message, message


@pytest.mark.slow
def test_grading_ignores_a_submissions_own_task_record(tmp_path: Path) -> None:
    """`lab grade` without --task grades the class against the course's task: a student editing
    `.fluxlab/task.json` does not choose what their repository is graded against."""
    from lab.adapters.tasks import default_task_id
    from lab.services.grade import expand, grade_class

    ws = _solved(tmp_path / "alice", "09b-multi")
    report = grade_class(expand([str(ws)]), offline=True, jobs=1)
    assert report.task == default_task_id() != "09b-multi"
    row = report.rows[0]
    assert row.report is not None and row.report.task == default_task_id()
    pinned = grade_class(expand([str(ws)]), task="09b-multi", offline=True, jobs=1)
    assert pinned.rows[0].report is not None and pinned.rows[0].report.score == 100


@pytest.mark.slow
def test_why_offline_reads_the_exercises_bundled_tags(tmp_path: Path) -> None:
    """`lab why --offline` in a repository made for 09b-multi reasons from that task's registry data
    (the course's task bundles only nginx: every shop image would have read as "no tags")."""
    from lab.services.why import explain

    ws = _solved(tmp_path, "09b-multi")
    report = explain(ws, offline=True)
    assert report.broken is None, report.verdict()
    assert "ghcr.io/acme/shop-worker" in report.mode.partition("bundled tags: ")[2]


@pytest.mark.slow
def test_a_missing_objects_hint_names_the_tasks_own_image_and_policy(tmp_path: Path) -> None:
    """The example in "write kind: ImageRepository ..., e.g. spec.image: ..." is the exercise's image,
    not the course task's library/nginx."""
    from lab.checks.context import CheckContext
    from lab.checks.manifests import image_policy_valid, image_repository_valid

    ws = _practice(tmp_path, "09b-guard")
    for name in ("image-repository.yaml", "image-policy.yaml"):
        (ws / "clusters/dev/image-automation" / name).unlink()
    from lab.checks.loader import load_task_checks

    spec = load_task_checks("09b-guard")
    ctx = CheckContext(ws, task="09b-guard", offline=True, params=spec.params, settings=dict(spec.settings))
    repo, policy = image_repository_valid(ctx), image_policy_valid(ctx)
    assert repo.message == "no ImageRepository in clusters/dev/image-automation/"
    assert repo.hint is not None and repo.hint.endswith("e.g. spec.image: ghcr.io/acme/shop")
    assert policy.hint is not None and policy.hint.endswith("e.g. spec.policy.semver.range: 1.x")


@pytest.mark.slow
def test_simulate_pushes_a_downgrade_when_the_task_tags_are_its_registry(
    tmp_path: Path, lab_env: dict[str, str]
) -> None:
    """09b-guard: Flux took a trap tag on the starter; the fix moves production back to 1.4.1. The
    task's tags are its registry (no dated snapshot of a real one standing in), so `lab simulate`
    pushes that change as Flux would, as the app's c does, and git.flux-commit then passes."""
    task = "09b-guard"
    env = {**lab_env, "LAB_REGISTRY_MIRROR": _unreachable_registries(task)}
    run_lab("init", "repo", "--task", task, env=env, cwd=tmp_path, ok=True)
    repo = tmp_path / "repo"
    run_lab("simulate", env=env, cwd=repo, ok=True)
    git(repo, "pull", "-q", "--ff-only")
    trap = git(repo, "show", "HEAD:apps/production/kustomization.yaml")
    assert "newTag: 1.4.1 #" not in trap
    run_lab("solve", ".", env=env, cwd=repo, ok=True)
    fixed = run_lab("simulate", env=env, cwd=repo)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert "pushed commit" in fixed.stdout and "-> 1.4.1" in fixed.stdout
    git(repo, "pull", "-q", "--ff-only")
    assert "newTag: 1.4.1 #" in (repo / "apps/production/kustomization.yaml").read_text()


@pytest.mark.slow
@pytest.mark.parametrize("task", EXERCISES)
def test_one_check_run_reads_each_origin_file_and_the_task_tags_once(
    tmp_path: Path, task: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Several checks replay Flux on origin's automation files with the task's tags: a `lab check` parses
    each of origin's texts once and reads the task's tags (its texts, its tags files) once, whichever
    check asks first (each check read them again: a third of the run's CPU)."""
    import collections

    from lab.checks import exercises
    from lab.core import yamlsafe
    from lab.core.manifests import parse

    ws = _solved(tmp_path, task)
    parsed: collections.Counter[tuple[str, str]] = collections.Counter()
    tags_read: list[str] = []
    load_all, task_tags = yamlsafe.load_all, exercises.task_tags

    def counted_load(text: str, file: str = "<input>") -> list[yamlsafe.Doc]:
        parsed[(file, text)] += 1
        return load_all(text, file)

    def counted_tags(task: str) -> dict[str, list[str]]:
        tags_read.append(task)
        return task_tags(task)

    monkeypatch.setattr(yamlsafe, "load_all", counted_load)
    monkeypatch.setattr(parse, "load_all", counted_load)
    monkeypatch.setattr(exercises, "task_tags", counted_tags)
    done = _check(ws, task)
    assert _failing(done) == {} and done.score == 100
    names = git(tmp_path / "origin.git", "ls-tree", "-r", "--name-only", "main").splitlines()
    origin = {
        (name, (ws / name).read_text(encoding="utf-8")) for name in names if name.endswith((".yaml", ".yml"))
    }
    assert git(ws, "status", "--porcelain") == ""  # the files read are origin's: nothing left uncommitted
    assert origin and origin <= set(parsed), sorted(origin - set(parsed))
    assert {key[0]: n for key, n in parsed.items() if key in origin and n > 1} == {}
    assert tags_read == [task]
