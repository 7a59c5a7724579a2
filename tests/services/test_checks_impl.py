"""The check implementations in lab/checks on real practice repositories (real files, real git)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tomllib
from pathlib import Path, PurePosixPath
from typing import Any

import pytest

from lab.core.checks import Outcome, Report, Status
from lab.services.check import run_checks
from tests.support.gitutil import git, make_practice
from tests.support.gitutil import write_files as write
from tests.support.labrun import run_lab
from tests.support.paths import ROOT, lab_executable
from tests.support.taskfiles import (
    DEPLOY,
    MARKER,
    UPDATE,
    edited,
    line_no,
    own_line_marker,
    solution_files,
    solution_manifests,
    solution_text,
    task_dir,
)

STARTER = task_dir() / "starter"
FILES = solution_manifests()  # repository, policy, update
IMAGE_REPOSITORY, IMAGE_POLICY, IMAGE_UPDATE = FILES.values()
MARKED = f"image: nginx:1.25.0 {MARKER}"


def mark(ws: Path) -> None:
    deploy = ws / "apps/base/nginx/deployment.yaml"
    deploy.write_text(deploy.read_text().replace("image: nginx:1.25.0", MARKED))


def commit_push(ws: Path, message: str = "Add image automation") -> None:
    git(ws, "add", "-A")
    git(ws, "commit", "-qm", message)
    git(ws, "push", "-q", "origin", "main")


def check(ws: Path, *ids: str, offline: bool = True) -> Report:
    return run_checks(ws, offline=offline, only=list(ids))


def direct(ws: Path, check_id: str) -> Outcome:
    """One implementation on its own, bypassing prerequisites that may have no implementation yet."""
    from lab.checks.context import CheckContext
    from lab.checks.loader import load_task_checks

    spec = load_task_checks("09b")
    ctx = CheckContext(workspace=ws, offline=True, settings=spec.settings, params=spec.params)
    return spec.implementations()[check_id](ctx)


@pytest.fixture
def practice(tmp_path: Path) -> Path:
    return make_practice(tmp_path)


@pytest.mark.slow
def test_starter_fails_repo_files_and_blocks_dependents(practice: Path) -> None:
    rep = check(practice, "sync.included", "git.pushed")
    files = rep.get("repo.files")
    assert files.status is Status.FAIL
    assert "image-repository.yaml, image-policy.yaml, image-update.yaml" in files.message
    assert rep.get("sync.included").blocked_by == "repo.files"
    assert rep.get("git.pushed").blocked_by == "repo.files"


@pytest.mark.slow
@pytest.mark.parametrize("task", ["09b", "09b-multi"])
def test_missing_files_hint_is_the_tasks_own(tmp_path: Path, task: str) -> None:
    from lab.checks.loader import load_task_checks

    ws = make_practice(tmp_path, task)
    files = run_checks(ws, task=task, offline=True, only=["repo.files"]).get("repo.files")
    wanted = next(d.hint for d in load_task_checks(task).defs if d.id == "repo.files")
    assert files.status is Status.FAIL and wanted and files.hint == wanted


@pytest.mark.slow
def test_an_exercise_is_hinted_with_its_own_checks(tmp_path: Path) -> None:
    """marker.valid and git.flux-commit pointed at marker.present and cluster.image-update, which
    09b-multi does not have (`lab check --only cluster.image-update` refused the id)."""
    from lab.checks.loader import load_task_checks

    hints = {d.id: d.hint for d in load_task_checks("09b-multi").defs}
    ws = make_practice(tmp_path, "09b-multi")
    write(ws, solution_manifests("09b-multi"))
    commit_push(ws)
    unmarked = run_checks(ws, task="09b-multi", offline=True, only=["marker.valid"]).get("marker.valid")
    assert unmarked.message == "no marker found" and unmarked.hint == hints["marker.valid"]
    deploy = "apps/base/shop/deployment.yaml"
    write(
        ws, {deploy: (ws / deploy).read_text().replace("shop:1.4.0", 'shop:1.4.0 # {"$imagepolicy": shop}')}
    )
    commit_push(ws, "A marker that is not JSON")
    broken = run_checks(ws, task="09b-multi", offline=True, only=["marker.valid"]).get("marker.valid")
    assert broken.status is Status.FAIL
    assert broken.hint == 'write # {"$imagepolicy": "flux-system:shop"} at the end of the image line'
    write(ws, solution_files("09b-multi"))
    commit_push(ws, "Mark every image")
    waiting = run_checks(ws, task="09b-multi", offline=True, only=["git.flux-commit"]).get("git.flux-commit")
    assert waiting.status is Status.FAIL and "no commit by Flux" in waiting.message
    assert waiting.hint == hints["git.flux-commit"]


@pytest.mark.slow
def test_files_pass_and_are_included_by_the_generated_kustomization(practice: Path) -> None:
    write(practice, FILES)
    rep = check(practice, "sync.included")
    assert rep.get("repo.files").status is Status.PASS
    assert rep.get("sync.included").status is Status.PASS, rep.get("sync.included").message


@pytest.mark.slow
def test_a_yaml_file_flux_cannot_decode_under_the_sync_path_fails_the_whole_build(practice: Path) -> None:
    """kustomize-controller decodes every .yaml/.yml file of a path it generates the kustomization for;
    one that does not decode fails the build, so nothing is applied: sync.included passed."""
    write(practice, {**FILES, "clusters/dev/extra.yaml": "apiVersion: v1\nkind: [\n"})
    r = check(practice, "sync.included").get("sync.included")
    assert r.status is Status.FAIL, r.message
    assert (r.file, r.line) == ("clusters/dev/extra.yaml", 2)
    assert r.message.startswith(
        "clusters/dev/extra.yaml does not decode, so the flux-system Kustomization applies nothing under "
        "./clusters/dev, the image automation included: Ready=False, BuildFailed, 'failed to decode "
        "Kubernetes YAML from clusters/dev/extra.yaml: the [ opened on line 2 is never closed"
    ), r.message
    assert r.hint is not None and "delete clusters/dev/extra.yaml" in r.hint
    # The generator reads no other extension, nor below a directory with its own kustomization.yaml.
    (practice / "clusters/dev/extra.yaml").rename(practice / "clusters/dev/extra.json")
    write(
        practice,
        {"clusters/dev/kept/kustomization.yaml": "resources: []\n", "clusters/dev/kept/x.yml": "[\n"},
    )
    assert check(practice, "sync.included").get("sync.included").status is Status.PASS


@pytest.mark.slow
@pytest.mark.parametrize("name", ["\x1b[31mred\x1b]0;PWNED\x07", "d" * 200 + "/" + "e" * 200 + "/f"])
def test_a_decode_failure_keeps_flux_s_whole_reason_whatever_the_file_name(practice: Path, name: str) -> None:
    """A name of terminal escapes cut the message at 300 characters inside Flux's quoted reason (the
    quote never closed); a long path may be abbreviated, the reason never."""
    write(practice, {**FILES, f"clusters/dev/{name}.yaml": "kind: [bad\n"})
    r = check(practice, "sync.included").get("sync.included")
    assert r.status is Status.FAIL, r.message
    assert "'failed to decode Kubernetes YAML from clusters/dev/" in r.message, r.message
    assert (
        ".yaml: the [ opened on line 1 is never closed: did not find expected ',' or ']' (line 2, column 1)' "
        in (r.message)
    )
    assert r.message.endswith("to generate the path's kustomization)"), r.message
    assert len(r.message) < 1000 and r.message.count("\\x1b") in (0, 4), r.message


@pytest.mark.slow
def test_invalid_yaml_names_file_and_line(practice: Path) -> None:
    write(practice, {**FILES, "clusters/dev/image-automation/image-policy.yaml": "kind: X\n  bad: [\n"})
    r = check(practice, "repo.files").get("repo.files")
    assert r.status is Status.FAIL
    assert r.file == "clusters/dev/image-automation/image-policy.yaml" and r.line is not None


@pytest.mark.slow
def test_alias_bomb_is_refused_not_expanded(practice: Path) -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    for n in range(1, 9):
        prev = chr(ord("a") + n - 1)
        cur = chr(ord("a") + n)
        bomb += f"{cur}: &{cur} [" + ", ".join([f"*{prev}"] * 10) + "]\n"
    write(practice, {**FILES, "clusters/dev/image-automation/image-update.yaml": bomb})
    r = check(practice, "repo.files").get("repo.files")
    assert r.status is Status.FAIL and "alias" in r.message


@pytest.mark.slow
def test_symlink_out_of_the_workspace_is_not_followed(practice: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.yaml"
    outside.write_text(IMAGE_POLICY)
    write(practice, FILES)
    target = practice / "clusters/dev/image-automation/image-policy.yaml"
    target.unlink()
    target.symlink_to(outside)
    r = check(practice, "repo.files").get("repo.files")
    assert r.status is Status.FAIL and "outside the workspace" in r.message


@pytest.mark.slow
def test_every_unreadable_task_file_is_listed_not_only_the_first(practice: Path, tmp_path: Path) -> None:
    """With two task files linked out of the repository, `lab check -v` named only the first."""
    from lab.core.report.text import render_text

    write(practice, FILES)
    for rel in (FILES_KEYS[1], FILES_KEYS[2]):
        outside = tmp_path / PurePosixPath(rel).name
        outside.write_text((practice / rel).read_text())
        (practice / rel).unlink()
        (practice / rel).symlink_to(outside)
    rep = check(practice, "repo.files")
    r = rep.get("repo.files")
    assert r.status is Status.FAIL and r.file == FILES_KEYS[1], r
    assert r.message.endswith("(+1 more)"), r.message
    assert [e.ref for e in r.evidence] == [FILES_KEYS[1], FILES_KEYS[2]], r.evidence
    verbose = render_text(rep, verbose=True)
    assert f"file {FILES_KEYS[2]}: not readable YAML: points outside the workspace" in verbose, verbose


@pytest.mark.slow
def test_a_symlink_loop_is_named_not_a_crash(practice: Path) -> None:
    write(practice, FILES)
    target = practice / "clusters/dev/image-automation/image-policy.yaml"
    target.unlink()
    target.symlink_to(target.name)
    r = check(practice, "repo.files").get("repo.files")
    assert r.status is Status.FAIL and "leads to itself" in r.message, r.message


@pytest.mark.slow
@pytest.mark.parametrize(
    ("path", "passes"), [("./apps/base/nginx/deployment.yaml", True), ("./apps/nope", False)]
)
def test_update_path_may_name_a_file(practice: Path, path: str, passes: bool) -> None:
    """Flux walks a file as it walks a directory; only a path that does not exist fails."""
    write(practice, {**FILES, FILES_KEYS[2]: edited(IMAGE_UPDATE, "path: ./apps", f"path: {path}")})
    r = check(practice, "image-update.valid").get("image-update.valid")
    assert (r.status is Status.PASS) is passes, r.message


@pytest.mark.slow
@pytest.mark.parametrize(
    ("odd", "says"), [("fifo", "cannot read: a FIFO"), ("latin-1", "file is not UTF-8 text (line 5, byte ")]
)
def test_a_policy_file_that_is_not_readable_text_is_named(practice: Path, odd: str, says: str) -> None:
    """A FIFO read as 'missing: create it'; a Latin-1 file got 'fix the YAML syntax on that line'."""
    write(practice, FILES)
    target = practice / "clusters/dev/image-automation/image-policy.yaml"
    target.unlink()
    if odd == "fifo":
        os.mkfifo(target)
    else:
        target.write_bytes(IMAGE_POLICY.replace("name: nginx", "name: nginx # caf\u00e9").encode("latin-1"))
    r = check(practice, "repo.files").get("repo.files")
    assert r.status is Status.FAIL and r.file == FILES_KEYS[1], r
    assert r.message.startswith(f"not readable YAML: {says}"), r.message
    assert r.hint is not None and "syntax on that line" not in r.hint


@pytest.mark.slow
def test_kustomization_that_omits_the_directory(practice: Path) -> None:
    write(practice, FILES)
    write(practice, {"clusters/dev/kustomization.yaml": "resources:\n  - flux-system\n  - apps.yaml\n"})
    r = check(practice, "sync.included").get("sync.included")
    assert r.status is Status.FAIL
    assert r.message.startswith("clusters/dev/kustomization.yaml does not list image-automation")
    assert r.file == "clusters/dev/kustomization.yaml" and r.line == 1
    assert r.hint == "add `- image-automation` to resources in clusters/dev/kustomization.yaml"


@pytest.mark.slow
def test_kustomization_listing_a_directory_without_its_own(practice: Path) -> None:
    write(practice, FILES)
    write(
        practice,
        {"clusters/dev/kustomization.yaml": "resources:\n  - flux-system\n  - ./image-automation/\n"},
    )
    r = check(practice, "sync.included").get("sync.included")
    assert r.status is Status.FAIL and "directory without kustomization.yaml" in r.message


@pytest.mark.slow
def test_nested_kustomization_missing_one_file(practice: Path) -> None:
    write(practice, FILES)
    write(
        practice,
        {
            "clusters/dev/kustomization.yaml": "resources:\n  - flux-system\n  - image-automation\n",
            "clusters/dev/image-automation/kustomization.yaml": (
                "resources:\n  - image-repository.yaml\n  - image-policy.yaml\n"
            ),
        },
    )
    r = check(practice, "sync.included").get("sync.included")
    assert r.status is Status.FAIL
    assert "clusters/dev/image-automation/kustomization.yaml does not list image-update.yaml" in r.message
    write(
        practice,
        {
            "clusters/dev/image-automation/kustomization.yaml": (
                "resources:\n  - image-repository.yaml\n  - image-policy.yaml\n  - image-update.yaml\n"
            )
        },
    )
    assert check(practice, "sync.included").get("sync.included").status is Status.PASS


@pytest.mark.slow
def test_sync_path_elsewhere(practice: Path) -> None:
    write(practice, FILES)
    sync = practice / "clusters/dev/flux-system/gotk-sync.yaml"
    sync.write_text(sync.read_text().replace("path: ./clusters/dev", "path: ./clusters/prod"))
    r = check(practice, "sync.included").get("sync.included")
    assert (
        r.status is Status.FAIL and "outside the flux-system Kustomization path ./clusters/prod" in r.message
    )
    assert r.file == "clusters/dev/flux-system/gotk-sync.yaml" and r.line is not None


@pytest.mark.slow
def test_git_pushed_follows_commit_and_push(practice: Path) -> None:
    write(practice, FILES)
    r = check(practice, "git.pushed").get("git.pushed")
    assert r.status is Status.FAIL and r.message.startswith("not committed:")
    mark(practice)
    git(practice, "add", "-A")
    git(practice, "commit", "-qm", "Add image automation")
    r = check(practice, "git.pushed").get("git.pushed")
    assert r.status is Status.FAIL and "missing on origin/main" in r.message and r.hint == "git push"
    # Every file the push brings is named, the marked deployment too, not only the three files.
    assert r.message == (
        f"{', '.join(FILES_KEYS)} missing on origin/main: committed, not pushed yet (also different: {DEPLOY})"
    ), r.message
    git(practice, "push", "-q", "origin", "main")
    r = check(practice, "git.pushed").get("git.pushed")
    assert r.status is Status.PASS, r.message
    deploy = practice / DEPLOY
    deploy.write_text(deploy.read_text().replace(MARKED, "image: nginx:1.25.0"))
    git(practice, "commit", "-qam", "unmark")
    git(practice, "push", "-q", "origin", "main")
    mark(practice)
    git(practice, "commit", "-qam", "mark")
    r = check(practice, "git.pushed").get("git.pushed")
    assert r.status is Status.FAIL and "marker" in r.message


@pytest.mark.slow
def test_git_pushed_on_a_feature_branch_says_main_is_graded(practice: Path) -> None:
    """A pushed feature branch passed as if graded: the checks read origin/main, and said nothing of it."""
    write(practice, FILES)
    commit_push(practice)
    git(practice, "switch", "-q", "-c", "feature")
    r = check(practice, "git.pushed").get("git.pushed")
    assert r.status is Status.PASS and "note" not in r.message, r.message  # nothing main lacks
    deploy = practice / "apps/base/nginx/deployment.yaml"
    deploy.write_text(deploy.read_text().replace("replicas: 1", "replicas: 3"))
    git(practice, "commit", "-qam", "Three replicas")
    git(practice, "push", "-q", "-u", "origin", "feature")
    r = check(practice, "git.pushed").get("git.pushed")
    assert r.status is Status.PASS, r.message
    assert (
        "; note: you are on feature: its 1 commit not on origin/main is not graded until merged into main"
        in r.message
    )
    assert "git switch main && git merge feature && git push" in r.message
    # The task's files changed there: "git push" (the hint on main) would change nothing graded.
    policy = practice / "clusters/dev/image-automation/image-policy.yaml"
    policy.write_text(policy.read_text().replace("1.25.x", "1.26.x"))
    git(practice, "commit", "-qam", "Policy 1.26")
    git(practice, "push", "-q", "origin", "feature")
    r = check(practice, "git.pushed").get("git.pushed")
    assert r.status is Status.FAIL and r.message == (
        "clusters/dev/image-automation/image-policy.yaml different on origin/main: you are on feature, "
        "and the checks read main - merge feature into it"
    ), r.message
    assert r.hint is not None and r.hint.startswith("git switch main && git merge feature && git push")


@pytest.mark.slow
def test_git_pushed_without_origin(tmp_path: Path) -> None:
    ws = tmp_path / "solo"
    shutil.copytree(STARTER, ws)
    write(ws, FILES)
    git(ws, "init", "-q", "-b", "main")
    git(ws, "add", "-A")
    git(ws, "commit", "-qm", "all")
    r = check(ws, "git.pushed").get("git.pushed")
    assert r.status is Status.FAIL and "no remote origin" in r.message


def _flux_commit(ws: Path, *, touch_marker: bool) -> None:
    deploy = ws / "apps/base/nginx/deployment.yaml"
    if touch_marker:
        deploy.write_text(deploy.read_text().replace("nginx:1.25.0 #", "library/nginx:1.25.3 #"))
    else:
        (ws / "apps/base/nginx/notes.txt").write_text("not an image\n")
    git(ws, "add", "-A")
    flux = {"GIT_AUTHOR_NAME": "Flux", "GIT_AUTHOR_EMAIL": "flux@gitops-lab.local"}
    # The solution's messageTemplate rendered for the change, as Flux writes it.
    message = "Automated image update\n\n\n- nginx:1.25.0 -> library/nginx:1.25.3\n"
    subprocess.run(["git", "commit", "-qm", message], cwd=ws, check=True, env={**os.environ, **flux})
    git(ws, "push", "-q", "origin", "main")


@pytest.mark.slow
def test_flux_commit_needs_a_marked_line_changed_by_the_automation_author(practice: Path) -> None:
    write(practice, FILES)
    mark(practice)
    commit_push(practice)
    r = direct(practice, "git.flux-commit")
    assert r.status is Status.FAIL and "no commit by Flux <flux@gitops-lab.local>" in r.message
    _flux_commit(practice, touch_marker=False)
    r = direct(practice, "git.flux-commit")
    assert r.status is Status.FAIL and "none changed a marked image line" in r.message
    _flux_commit(practice, touch_marker=True)
    r = direct(practice, "git.flux-commit")
    assert r.status is Status.PASS and "by Flux: Automated image update" in r.message
    assert "library/nginx:1.25.3" in r.evidence[0].text


@pytest.mark.slow
def test_progress_row(practice: Path) -> None:
    progress = practice / "PROGRESS.md"
    r = check(practice, "progress.updated").get("progress.updated")
    assert r.status is Status.FAIL and "row 09 is ⬜" in r.message and r.line == 13
    progress.write_text(
        progress.read_text().replace(
            "| 09-fluxcd-image-automation | ⬜ | |", "| 09-fluxcd-image-automation | ✅ | |"
        )
    )
    r = check(practice, "progress.updated").get("progress.updated")
    assert r.status is Status.FAIL and "no note" in r.message
    progress.write_text(progress.read_text().replace("| ✅ | |", "| ✅ | Image automation working |"))
    r = check(practice, "progress.updated").get("progress.updated")
    assert r.status is Status.PASS and "Image automation working" in r.message


@pytest.mark.slow
def test_quiz_record(practice: Path) -> None:
    r = check(practice, "quiz.passed").get("quiz.passed")
    assert (
        r.status is Status.FAIL
        and r.hint.startswith("run `lab quiz`")
        and "commit .fluxlab/quiz.json" in r.hint
        and ".fluxlab/quiz.json" in r.message
    )
    record = practice / ".fluxlab" / "quiz.json"
    record.parent.mkdir()
    record.write_text("{not json")
    assert check(practice, "quiz.passed").get("quiz.passed").status is Status.FAIL
    from lab.services.tasks import load_task

    key = [q.answer for q in load_task("09b").quiz.questions]
    n = len(key)
    one_right = [key[0]] + [None] * (n - 1)
    record.write_text(
        json.dumps({"task": "09b", "score": 1, "total": n, "passed": False, "answers": one_right})
    )
    r = check(practice, "quiz.passed").get("quiz.passed")
    assert r.status is Status.FAIL and f"score 1/{n}" in r.message
    record.write_text(json.dumps({"task": "09b", "score": n, "total": n, "passed": True, "answers": key}))
    r = check(practice, "quiz.passed").get("quiz.passed")
    assert r.status is Status.PASS and f"{n}/{n}" in r.message


def test_definitions_sum_to_100_and_cover_every_stable_id() -> None:
    from lab.checks.loader import load_task_checks

    spec = load_task_checks("09b")
    assert sum(d.points for d in spec.defs) == 100
    assert [d.id for d in spec.defs] == [
        "repo.files",
        "image-repository.valid",
        "image-policy.valid",
        "image-update.valid",
        "marker.present",
        "marker.valid",
        "sync.included",
        "git.pushed",
        "registry.tags",
        "policy.resolves",
        "cluster.controllers",
        "cluster.image-repository",
        "cluster.image-policy",
        "cluster.image-update",
        "git.flux-commit",
        "progress.updated",
        "quiz.passed",
    ]


def _marked(practice: Path, comment: str, *, own_line: bool = False) -> None:
    write(practice, FILES)
    deploy = practice / "apps/base/nginx/deployment.yaml"
    text = deploy.read_text()
    if own_line:
        text = text.replace(
            "          image: nginx:1.25.0", f"          {comment}\n          image: nginx:1.25.0"
        )
    else:
        text = text.replace("image: nginx:1.25.0", f"image: nginx:1.25.0 {comment}")
    deploy.write_text(text)


@pytest.mark.slow
def test_marker_checks_pass_on_the_seed_marker(practice: Path) -> None:
    _marked(practice, '# {"$imagepolicy": "flux-system:nginx"}')
    rep = check(practice, "marker.valid")
    assert [r.status for r in rep.checks] == [Status.PASS] * 4, [r.message for r in rep.checks]
    assert rep.get("marker.valid").message == (
        "apps/base/nginx/deployment.yaml:18 is marked for flux-system:nginx"
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("comment", "own_line", "words"),
    [
        ('# {"$imagepolicy": "flux-system/nginx"}', False, "write namespace:name"),
        (
            '# {"$imagepolicy": "flux-system:ngnix"}',
            False,
            "no such ImagePolicy exists (policies: flux-system:nginx)",
        ),
        ("# {'$imagepolicy': 'flux-system:nginx'}", False, "single quotes"),
        ('# {"$imagepolicy": "flux-system:nginx"}', True, "on its own line"),
        ('# {"$imagepolicy": "default:nginx"}', False, "only sees policies in flux-system"),
    ],
)
def test_broken_markers_name_the_mistake(practice: Path, comment: str, own_line: bool, words: str) -> None:
    _marked(practice, comment, own_line=own_line)
    r = check(practice, "marker.valid").get("marker.valid")
    assert r.status is Status.FAIL and words in r.message, r.message
    assert r.file == "apps/base/nginx/deployment.yaml" and r.line in (18, 19)


def _marker_failure(ws: Path) -> Any:
    r = check(ws, "marker.valid").get("marker.valid")
    assert r.status is Status.FAIL, r.message
    return r


@pytest.mark.slow
def test_a_marker_naming_a_policy_in_another_namespace_is_said_as_lab_why_says(practice: Path) -> None:
    """ImagePolicy nginx exists in default: marker.valid said "no such ImagePolicy exists (policies:
    flux-system:nginx)", where `lab why` says the automation only sees its own namespace's policies."""
    _marked(practice, '# {"$imagepolicy": "default:nginx"}')
    other = IMAGE_POLICY.replace("namespace: flux-system", "namespace: default")
    write(practice, {"clusters/dev/default-policy.yaml": other})
    r = _marker_failure(practice)
    assert r.message == (
        "marker in apps/base/nginx/deployment.yaml:18 references default:nginx but ImageUpdateAutomation "
        "flux-system/flux-system only sees policies in flux-system"
    ), r.message
    assert r.hint == "put the ImagePolicy in flux-system and write flux-system:nginx", r.hint


@pytest.mark.slow
@pytest.mark.parametrize("keep_image", [True, False])
def test_a_marker_in_a_commented_out_line_is_said_to_be_in_a_comment(
    practice: Path, keep_image: bool
) -> None:
    """`# image: nginx:1.25.0 # {marker}` on its own line: marker.valid said "the comment must be a JSON
    object starting with '{'"; the marker is in a comment line on no value, which Flux ignores."""
    commented = f"# image: nginx:1.25.0 {MARKER}"
    _marked(practice, commented, own_line=True)
    if not keep_image:
        deploy = practice / DEPLOY
        deploy.write_text(deploy.read_text().replace("          image: nginx:1.25.0\n", "", 1))
    r = _marker_failure(practice)
    assert r.message == (
        "marker in apps/base/nginx/deployment.yaml:18 is inside a line that comments out `image: "
        "nginx:1.25.0`: the whole line is one comment, on no value, so Flux ignores the marker in it"
    ), r.message
    if keep_image:
        assert (
            r.hint
            == f"move the comment to the end of the image: line, line 19 (below it), writing only {MARKER}"
        )
    else:
        assert r.hint == f"uncomment the line: image: nginx:1.25.0 {MARKER}", r.hint


@pytest.mark.slow
@pytest.mark.parametrize(("where", "side"), [("before", "below"), ("after", "above")])
def test_a_marker_on_its_own_line_is_hinted_to_the_image_line_it_belongs_to(
    practice: Path, where: str, side: str
) -> None:
    """The hint said 'the image: line below it' when the image line was above the marker."""
    text, image = own_line_marker(where)
    write(practice, {**FILES, DEPLOY: text})
    r = check(practice, "marker.valid").get("marker.valid")
    assert r.status is Status.FAIL and "is on its own line" in r.message, r.message
    assert r.hint == f"move the comment to the end of the image: line, line {image} ({side} it)"


@pytest.mark.slow
def test_a_stray_marker_flux_ignores_beside_a_good_one_is_a_warning(practice: Path) -> None:
    """After `m`, the marker on line 18 works: the one left on line 19 does nothing, so it fails nothing
    (its hint, to move it to the image line, would write a duplicate)."""
    text, _ = own_line_marker("after")
    both = edited(text, "image: nginx:1.25.0\n", f"image: nginx:1.25.0 {MARKER}\n")
    write(practice, {**FILES, DEPLOY: both})
    r = check(practice, "marker.valid").get("marker.valid")
    assert r.status is Status.PASS, r.message
    assert r.message == (
        f"{DEPLOY}:18 is marked for flux-system:nginx; advisory: {DEPLOY}:19: this marker is on its own "
        "line, so Flux ignores it (it reads the same marker on line 18): delete it"
    )
    # A stray for a policy no good marker names is still a mistake.
    other = edited(both, '"flux-system:nginx"}\n          ports', '"flux-system:other"}\n          ports')
    write(practice, {DEPLOY: other})
    assert check(practice, "marker.valid").get("marker.valid").status is Status.FAIL


@pytest.mark.slow
def test_markers_outside_update_path_hint_at_the_path_not_a_marker(practice: Path) -> None:
    """update.path ./clusters with the marker in apps/: 'no marker ... end the image line with ...'."""
    update = edited(IMAGE_UPDATE, "path: ./apps", "path: ./clusters")
    write(practice, {**FILES, UPDATE: update, DEPLOY: solution_text(DEPLOY)})
    r = check(practice, "marker.present").get("marker.present")
    assert r.status is Status.FAIL
    assert r.message == (
        "no $imagepolicy marker under ./clusters, the path Flux walks (spec.update.path: ./clusters); "
        f"the marker is outside it: {DEPLOY}:18"
    )
    line = line_no(update, "path: ./clusters")
    assert (r.file, r.line) == (UPDATE, line)
    assert (
        r.hint
        == f"set spec.update.path: ./apps in {UPDATE} (line {line}), a folder that holds the marked files"
    )


@pytest.mark.slow
def test_no_marker_fails_marker_present(practice: Path) -> None:
    write(practice, FILES)
    rep = check(practice, "marker.valid")
    assert rep.get("marker.present").status is Status.FAIL
    assert "no $imagepolicy marker in any YAML file under ./apps" in rep.get("marker.present").message
    assert rep.get("marker.valid").blocked_by == "marker.present"


@pytest.mark.slow
@pytest.mark.parametrize("odd", ["latin-1", "outside"])
def test_a_marked_file_that_cannot_be_read_is_named_not_reported_as_no_marker(
    practice: Path, tmp_path: Path, odd: str
) -> None:
    """A Latin-1 or symlinked-out deployment said "no $imagepolicy marker in any YAML file under ./apps"
    though the marker is there; only git.pushed named the file, with a byte offset and no file field."""
    marked = solution_text(DEPLOY).replace("kind: Deployment", "# caf\u00e9\nkind: Deployment", 1)
    write(practice, FILES)
    deploy = practice / DEPLOY
    if odd == "latin-1":
        deploy.write_bytes(marked.encode("latin-1"))
    else:
        outside = tmp_path / "elsewhere.yaml"
        outside.write_text(marked)
        deploy.unlink()
        deploy.symlink_to(outside)
    commit_push(practice)
    rep = check(practice, "marker.present", "git.pushed")
    r = rep.get("marker.present")
    assert r.status is Status.FAIL and r.file == DEPLOY, r
    assert "no $imagepolicy marker in any YAML file" not in r.message, r.message
    says = "file is not UTF-8 text" if odd == "latin-1" else "points outside the workspace"
    assert f"{DEPLOY} cannot be read: {says}" in r.message, r.message
    pushed = rep.get("git.pushed")
    assert pushed.file == DEPLOY, pushed
    if odd == "latin-1":
        line = marked.splitlines().index("# caf\u00e9") + 1
        assert (r.line, pushed.line) == (line, line), (r, pushed)
        assert f"line {line}" in r.message and pushed.located().startswith(f"{DEPLOY}:{line}: ")


@pytest.mark.slow
def test_a_misspelt_marker_key_is_pointed_at_not_reported_as_no_marker(practice: Path) -> None:
    """`{"$imagepolcy": ...}` said "no $imagepolicy marker in any YAML file under ./apps". An unrelated
    file under ./apps that cannot be read does not hide the misspelling."""
    write(practice, {**FILES, DEPLOY: edited(solution_text(DEPLOY), '"$imagepolicy"', '"$imagepolcy"')})
    (practice / "apps/base/notes.yaml").write_bytes(b"# caf\xe9\nkind: ConfigMap\n")
    r = check(practice, "marker.present").get("marker.present")
    assert r.status is Status.FAIL
    assert (r.file, r.line) == (DEPLOY, 18)
    assert "key is $imagepolcy, did you mean $imagepolicy? Flux reads no other key" in r.message, r.message
    assert r.hint is not None and '{"$imagepolicy": "flux-system:nginx"}' in r.hint


@pytest.mark.slow
def test_manifest_problems_map_to_their_check(practice: Path) -> None:
    write(practice, {**FILES, FILES_KEYS[0]: edited(IMAGE_REPOSITORY, "library/nginx", "nginx:1.25")})
    rep = check(practice, "image-repository.valid", "image-policy.valid", "image-update.valid")
    r = rep.get("image-repository.valid")
    assert (
        r.status is Status.FAIL and "nginx:1.25" in r.message and r.file == FILES_KEYS[0] and r.line == 8
    )  # `---` on line 1
    assert rep.get("image-policy.valid").status is Status.PASS
    assert rep.get("image-update.valid").status is Status.PASS


@pytest.mark.slow
def test_update_path_that_does_not_exist(practice: Path) -> None:
    write(practice, {**FILES, FILES_KEYS[2]: edited(IMAGE_UPDATE, "path: ./apps", "path: ./app")})
    r = check(practice, "image-update.valid").get("image-update.valid")
    assert r.status is Status.FAIL and "update.path ./app does not exist" in r.message


@pytest.mark.slow
def test_missing_object_kind(practice: Path) -> None:
    write(practice, {**FILES, FILES_KEYS[1]: edited(IMAGE_REPOSITORY, "name: nginx", "name: other")})
    r = check(practice, "image-policy.valid").get("image-policy.valid")
    assert r.status is Status.FAIL and r.message.startswith(
        "no ImagePolicy in clusters/dev/image-automation/"
    )


FILES_KEYS = list(FILES)


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> object:
    from lab.sandbox.registry import EmbeddedRegistry

    with EmbeddedRegistry() as reg:
        monkeypatch.setenv("LAB_REGISTRY_MIRROR", f"docker.io={reg.address}")
        yield reg


@pytest.mark.slow
def test_registry_tags_and_policy_against_a_loopback_registry(practice: Path, registry: object) -> None:
    write(practice, FILES)
    rep = check(practice, "policy.resolves", offline=False)
    assert rep.get("registry.tags").status is Status.PASS, rep.get("registry.tags").message
    r = rep.get("policy.resolves")
    assert r.status is Status.PASS and "selects 1.25.3" in r.message


@pytest.mark.parametrize(("value", "seconds"), [("7.5", 7.5), ("", 20.0), (" 3 ", 3.0)])
def test_lab_registry_timeout_sets_a_scans_seconds(
    value: str, seconds: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lab.checks.registry import scan_seconds

    monkeypatch.setenv("LAB_REGISTRY_TIMEOUT", value)
    assert scan_seconds() == seconds


@pytest.mark.slow
@pytest.mark.parametrize("value", ["abc", "-1", "0", "1e309", "nan"])
def test_a_bad_lab_registry_timeout_is_a_usage_error_naming_it(
    tmp_path: Path, lab_env: dict[str, str], value: str
) -> None:
    """It fell back to 20 s in silence: a learner who set it believed it."""
    practice = make_practice(tmp_path)
    res = run_lab("check", "--workspace", practice, env={**lab_env, "LAB_REGISTRY_TIMEOUT": value})
    assert res.returncode == 2, res.stderr
    assert res.stderr.startswith(f"lab: LAB_REGISTRY_TIMEOUT={value} is not a positive number of seconds"), (
        res.stderr
    )
    assert "hint:" in res.stderr


def test_a_run_waits_for_a_slow_registry_host_once_however_many_repositories_it_scans(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run had twice a scan's seconds for all its scans: a task with four ImageRepositories reported
    the last ones "spent" after two slow scans, and a slow host cost the run its whole cap. Once a scan
    on a host timed out, the run starts no other scan there and says why; other hosts are scanned."""
    from lab.adapters.registry import RegistryAPIError, RegistryClient
    from lab.checks.context import CheckContext
    from lab.checks.loader import load_task_checks
    from lab.checks.registry import repository_tags
    from lab.core.manifests.models import ImageRepository

    monkeypatch.setenv("LAB_REGISTRY_TIMEOUT", "3")
    monkeypatch.delenv("LAB_REGISTRY_MIRROR", raising=False)
    scanned: list[str] = []

    def scan(client: RegistryClient, image: str, *_args: object, **_kw: object) -> object:
        scanned.append(image)
        return client._failed_scan(image, RegistryAPIError("timed out after 3 s", timed_out=True))

    monkeypatch.setattr(RegistryClient, "scan", scan)
    spec = load_task_checks("09b")
    ctx = CheckContext(workspace=tmp_path, offline=False, settings=spec.settings, params=spec.params)
    images = ["slow.example/app-a", "slow.example/app-b", "slow.example/app-c", "other.example/app-d"]
    found = [
        repository_tags(
            ctx,
            ImageRepository(
                api_version="image.toolkit.fluxcd.io/v1", namespace="flux-system", name=f"r{i}", image=image
            ),
        )
        for i, image in enumerate(images)
    ]
    assert scanned == ["slow.example/app-a", "other.example/app-d"]
    messages = [t.outcome.message if t and t.outcome else "" for t in found]
    assert "the registry answered too slowly: timed out after 3 s" in messages[0], messages
    for later in messages[1:3]:
        assert later.startswith("could not check: registry slow.example"), later
        assert later.endswith("did not answer within 3 s for slow.example/app-a earlier in this run"), later


@pytest.mark.slow
def test_misspelt_image_fails_with_the_pitfall(practice: Path, registry: object) -> None:
    write(practice, {**FILES, FILES_KEYS[0]: edited(IMAGE_REPOSITORY, "library/nginx", "library/ngnix")})
    r = check(practice, "registry.tags", offline=False).get("registry.tags")
    assert r.status is Status.FAIL and "not found" in r.message and r.line == 8  # `---` on line 1
    # The sandbox's registry answers for docker.io as Docker Hub does (401 for a name it does not have):
    # the credentials that could matter are Docker Hub's, not the loopback mirror's.
    assert r.hint == (
        "check the spelling of spec.image; for a private image add credentials keyed https://index.docker.io/v1/"
    )


TYPO = {**FILES, FILES_KEYS[0]: edited(IMAGE_REPOSITORY, "library/nginx", "library/ngnix")}
TASK_TAGS = task_dir() / "registry" / "nginx-tags-2024-01-15.txt"


@pytest.mark.slow
def test_an_image_the_tasks_registry_does_not_serve_fails_where_that_registry_is_scanned(
    practice: Path, tmp_path: Path, registry: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """image-repository.valid passed `library/ngnix`; with the task's bundled tags (the app's practice
    repository) every later check then passed on nginx's tags. Where the scan goes to the task's registry
    (its tags file, the sandbox's registry) the check fails naming both; elsewhere only a note."""
    write(practice, TYPO)
    rep = run_checks(practice, offline=True, tags_file=TASK_TAGS, only=["policy.resolves"])
    r = rep.get("image-repository.valid")
    assert r.status is Status.FAIL, r.message
    assert r.message == (
        "ImageRepository nginx scans library/ngnix, which the task's registry does not serve: "
        "it serves library/nginx"
    )
    assert (r.file, r.line) == (FILES_KEYS[0], 8)
    assert r.hint == (
        "did you mean spec.image: library/nginx? spec.image names one of the task's images "
        "(library/nginx), without a tag"
    )
    assert rep.get("registry.tags").blocked_by == "image-repository.valid"
    # The sandbox's registry (`lab sandbox env`: its mirror takes docker.io) serves the task's images only.
    monkeypatch.setenv("LAB_SANDBOX_WORKSPACE", str(practice))
    assert check(practice, "image-repository.valid", offline=False).get("image-repository.valid").status is (
        Status.FAIL
    )
    # A registry of the learner's (no sandbox), no registry at all, another tags file: the lab does not
    # know what they serve. A note, and registry.tags asks the registry when there is one.
    monkeypatch.delenv("LAB_SANDBOX_WORKSPACE")
    other = tmp_path / "tags.txt"
    other.write_text("1.25.3\n")
    for mode in ({"offline": False}, {"offline": True}, {"offline": True, "tags_file": other}):
        r = run_checks(practice, only=["image-repository.valid"], **mode).get("image-repository.valid")  # type: ignore[arg-type]
        assert r.status is Status.PASS, (mode, r.message)
        assert "note: library/ngnix is not an image of the task (library/nginx)" in r.message, mode
    # Docker Hub's other spellings of the task's image are that image.
    for spelling in ("nginx", "docker.io/library/nginx"):
        write(practice, {FILES_KEYS[0]: edited(IMAGE_REPOSITORY, "library/nginx", spelling)})
        r = run_checks(practice, offline=True, tags_file=TASK_TAGS, only=["image-repository.valid"])
        assert r.get("image-repository.valid").status is Status.PASS
        assert "note" not in r.get("image-repository.valid").message


@pytest.mark.slow
def test_unreachable_registry_is_error_not_fail(practice: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """For an image the task bundles no tags of (the bundled ones stand in for the others, as in
    `lab simulate`)."""
    monkeypatch.setenv("LAB_REGISTRY_MIRROR", "docker.io=127.0.0.1:9")
    write(practice, {**FILES, FILES_KEYS[0]: edited(IMAGE_REPOSITORY, "library/nginx", "library/busybox")})
    rep = check(practice, "policy.resolves", offline=False)
    assert rep.get("registry.tags").status is Status.ERROR
    assert rep.get("registry.tags").message.startswith("could not check")
    assert rep.get("policy.resolves").blocked_by == "registry.tags"
    assert rep.exit_code() == 3


@pytest.mark.slow
def test_tags_file_stands_in_for_the_registry_offline(practice: Path, tmp_path: Path) -> None:
    write(practice, {**FILES, FILES_KEYS[1]: edited(IMAGE_POLICY, "1.25.x", "2.0.x")})
    tags = tmp_path / "tags.txt"
    tags.write_text("1.25.0\n1.25.3\n1.25.3.sig\n# a comment\nlatest\n")
    rep = run_checks(practice, offline=True, only=["policy.resolves"], tags_file=tags)
    assert rep.get("registry.tags").status is Status.PASS and "3 tags" in rep.get("registry.tags").message
    r = rep.get("policy.resolves")
    assert r.status is Status.FAIL and "selects nothing from 3 tags" in r.message
    assert r.file == FILES_KEYS[1] and r.line is not None


@pytest.fixture
def kube(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> object:
    from lab.sandbox.kubeapi.server import KubeAPIServer

    with KubeAPIServer() as server:
        monkeypatch.setenv("KUBECONFIG", str(server.write_kubeconfig(tmp_path / "kubeconfig")))
        yield server


def _put(server: Any, kind: str, name: str, status: dict[str, Any]) -> None:
    """Create the object as the learner wrote it (FILES), with a status as the controller would set it."""
    from ruamel.yaml import YAML

    text = next(t for t in FILES.values() if f"kind: {kind}\n" in t)
    body = YAML(typ="safe", pure=True).load(text)
    body["metadata"]["name"] = name
    body["status"] = status
    rt = server.store.by_kind(kind, "image.toolkit.fluxcd.io/v1")
    server.store.create(rt, "flux-system", body, keep_status=True)


def _ready(status: str, reason: str, message: str, **extra: Any) -> dict[str, Any]:
    cond = {"type": "Ready", "status": status, "reason": reason, "message": message}
    return {"observedGeneration": 1, "conditions": [cond], **extra}


def _cluster(practice: Path, check_id: str) -> Any:
    from lab.checks.context import CheckContext
    from lab.checks.loader import load_task_checks

    spec = load_task_checks("09b")
    ctx = CheckContext(workspace=practice, params=spec.params)
    try:
        return spec.implementations()[check_id](ctx)
    finally:
        ctx.close()


@pytest.mark.slow
def test_cluster_controllers_on_the_loopback_api(practice: Path, kube: Any) -> None:
    out = _cluster(practice, "cluster.controllers")
    assert out.status is Status.PASS, out.message
    assert "image-reflector-controller and image-automation-controller ready" in out.message
    kube.set_image_controllers(False)
    out = _cluster(practice, "cluster.controllers")
    assert out.status is Status.FAIL and "not installed" in out.message


@pytest.mark.slow
def test_cluster_objects_missing_ready_and_failing(practice: Path, kube: Any) -> None:
    write(practice, FILES)
    out = _cluster(practice, "cluster.image-repository")
    assert out.status is Status.PENDING and "does not exist in the cluster yet" in out.message
    _put(
        kube,
        "ImageRepository",
        "nginx",
        _ready("True", "Succeeded", "successful scan: found 3 tags", lastScanResult={"tagCount": 3}),
    )
    out = _cluster(practice, "cluster.image-repository")
    assert out.status is Status.PASS and "successful scan: found 3 tags" in out.message
    _put(kube, "ImagePolicy", "nginx", _ready("False", "Failure", "unable to determine latest version"))
    out = _cluster(practice, "cluster.image-policy")
    assert out.status is Status.FAIL and "Failure: unable to determine latest version" in out.message
    assert out.file == FILES_KEYS[1]
    _put(kube, "ImageUpdateAutomation", "flux-system", {"observedGeneration": 0})
    out = _cluster(practice, "cluster.image-update")
    assert out.status is Status.PENDING and "not reconciled yet" in out.message


@pytest.mark.slow
def test_cluster_repository_without_tags_hints_at_the_image_asked_for(practice: Path, kube: Any) -> None:
    """Flux writes status.canonicalImageName only with a successful scan (image-reflector-controller
    v1.2.0 imagerepository_controller.go :336-337): without it the hint reads spec.image."""
    write(practice, {**FILES, FILES_KEYS[0]: IMAGE_REPOSITORY.replace("library/nginx", "ngnix")})
    ready = _ready("True", "Succeeded", "successful scan: found 0 tags", lastScanResult={"tagCount": 0})
    _put(kube, "ImageRepository", "nginx", ready)
    body = kube.get("ImageRepository", "nginx", "flux-system")
    body["spec"]["image"] = "ngnix"
    kube.put(body)
    kube.update_status("ImageRepository", "nginx", "flux-system", {**ready, "observedGeneration": 2})
    out = _cluster(practice, "cluster.image-repository")
    assert out.status is Status.FAIL and "scanned but found no tags" in out.message
    assert out.hint.startswith("check spec.image for a typo: Docker Hub was asked for library/ngnix"), (
        out.hint
    )
    canonical = {**ready, "observedGeneration": 2, "canonicalImageName": "index.docker.io/library/ngnix"}
    kube.update_status("ImageRepository", "nginx", "flux-system", canonical)
    out = _cluster(practice, "cluster.image-repository")
    assert out.hint.startswith("check spec.image for a typo: Docker Hub was asked for library/ngnix"), (
        out.hint
    )


@pytest.mark.slow
def test_cluster_policy_warns_when_it_names_an_image_its_repository_fails_to_scan(
    practice: Path, kube: Any
) -> None:
    """After a successful scan the learner misspells spec.image (library/ngnix): the scan fails, Flux keeps
    the old tags and status.canonicalImageName (image-reflector-controller v1.2.0
    imagerepository_controller.go :312-316, :336-338), the policy stays Ready on them but its latestRef
    names the new spec.image (imagepolicy_controller.go :406). Flux passes; the check warns."""
    write(practice, FILES)
    message = "scan failed: GET https://index.docker.io/v2/library/ngnix/tags/list: UNAUTHORIZED"
    scanned = {"canonicalImageName": "docker.io/library/nginx", "lastScanResult": {"tagCount": 4}}
    _put(kube, "ImageRepository", "nginx", _ready("True", "Succeeded", "successful scan", **scanned))
    body = kube.get("ImageRepository", "nginx", "flux-system")
    body.pop("status", None)
    body["spec"]["image"] = "library/ngnix"
    kube.put(body)
    conditions = [
        {"type": "Ready", "status": "False", "reason": "ReadOperationFailed", "message": message},
        {"type": "Reconciling", "status": "True", "reason": "ProgressingWithRetry", "message": "scanning"},
    ]
    for cond in conditions:
        cond["observedGeneration"] = 2
    failed = {"observedGeneration": 1, "conditions": conditions, **scanned}
    kube.update_status("ImageRepository", "nginx", "flux-system", failed)
    latest = {"latestRef": {"name": "library/ngnix", "tag": "1.25.4"}}
    _put(kube, "ImagePolicy", "nginx", _ready("True", "Succeeded", "Latest image tag resolved", **latest))
    out = _cluster(practice, "cluster.image-policy")
    assert out.status is Status.PASS, out.message
    assert out.message == (
        "ImagePolicy nginx selects library/ngnix:1.25.4; warning: it is Ready on the tags of ImageRepository "
        "nginx's last successful scan (docker.io/library/nginx), but names library/ngnix, which that "
        "repository now fails to scan: Flux's next commit writes library/ngnix:1.25.4 - fix spec.image of "
        "ImageRepository nginx"
    )
    assert "\n" not in out.message
    # v1beta2 names the image in status.latestImage.
    kube.update_status(
        "ImagePolicy",
        "nginx",
        "flux-system",
        _ready("True", "Succeeded", "", latestImage="library/ngnix:1.25.4"),
    )
    assert (
        "Flux's next commit writes library/ngnix:1.25.4" in _cluster(practice, "cluster.image-policy").message
    )
    # The name the repository scanned, however spelt, or a scan that succeeds again: no warning.
    for name, repo_ready in (("nginx", "False"), ("library/ngnix", "True")):
        conditions[0]["status"] = repo_ready
        kube.update_status("ImageRepository", "nginx", "flux-system", failed)
        latest = {"latestRef": {"name": name, "tag": "1.25.4"}}
        kube.update_status("ImagePolicy", "nginx", "flux-system", _ready("True", "Succeeded", "", **latest))
        out = _cluster(practice, "cluster.image-policy")
        assert out.status is Status.PASS and out.message == f"ImagePolicy nginx selects {name}:1.25.4", (
            out.message
        )


def _put_edited(server: Any, kind: str, name: str, status: dict[str, Any]) -> int:
    """`_put`, then a spec edit (generation 2) and the controller's status after it; the generation."""
    _put(server, kind, name, {})
    body = server.get(kind, name, "flux-system")
    body.pop("status", None)
    body["spec"]["interval"] = "7m0s"
    generation = int(server.put(body)["metadata"]["generation"])
    server.update_status(kind, name, "flux-system", status)
    return generation


@pytest.mark.slow
def test_cluster_failure_flux_retries_is_named_though_observed_generation_is_behind(
    practice: Path, kube: Any
) -> None:
    """Flux moves status.observedGeneration only when a reconcile succeeds or stalls: after a spec edit
    that fails (and is retried) it stays behind, while the Ready condition carries the new generation.
    That Ready=False is the verdict, with its message, not "not reconciled yet"."""
    write(practice, FILES)
    message = "scan failed: GET https://index.docker.io/v2/library/ngnix/tags/list: UNAUTHORIZED"
    conditions = [
        {"type": "Ready", "status": "False", "reason": "ReadOperationFailed", "message": message},
        {"type": "Reconciling", "status": "True", "reason": "ProgressingWithRetry", "message": "scanning"},
    ]
    for cond in conditions:
        cond["observedGeneration"] = 2
    gen = _put_edited(kube, "ImageRepository", "nginx", {"observedGeneration": 1, "conditions": conditions})
    assert gen == 2
    out = _cluster(practice, "cluster.image-repository")
    assert out.status is Status.FAIL, out.message
    assert f"is not Ready: ReadOperationFailed: {message}" in out.message
    # The same Ready condition, judged for generation 1 only: the controller has not seen the edit yet.
    for cond in conditions:
        cond["observedGeneration"] = 1
    kube.update_status(
        "ImageRepository", "nginx", "flux-system", {"observedGeneration": 1, "conditions": conditions}
    )
    out = _cluster(practice, "cluster.image-repository")
    assert out.status is Status.PENDING and "not reconciled yet" in out.message
    assert "generation 1 < generation 2" in out.message


@pytest.mark.slow
def test_unreachable_cluster_is_error(
    practice: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lab.sandbox.kubeapi.kubeconfig import write_kubeconfig

    monkeypatch.setenv("KUBECONFIG", str(write_kubeconfig(tmp_path / "kc", "http://127.0.0.1:9")))
    out = _cluster(practice, "cluster.controllers")
    assert out.status is Status.ERROR and out.message.startswith("could not check")


@pytest.mark.slow
def test_watch_retries_pending_cluster_checks_until_the_deadline(practice: Path, kube: Any) -> None:
    write(practice, FILES)
    rounds: list[int] = []
    rep = run_checks(
        practice,
        only=["cluster.image-repository"],
        watch=True,
        watch_timeout_s=1.5,
        on_round=lambda results: rounds.append(len(results)),
    )
    r = rep.get("cluster.image-repository")
    assert r.status is Status.PENDING and r.attempts >= 2 and len(rounds) == r.attempts
    assert rep.exit_code() == 3


def test_pitfalls_name_existing_check_ids() -> None:
    from lab.checks.loader import load_task_checks

    ids = {d.id for d in load_task_checks("09b").defs}
    pitfalls = tomllib.loads((ROOT / "tasks/09b/pitfalls.toml").read_text())
    named = [p["check"] for p in next(v for v in pitfalls.values() if isinstance(v, list))]
    assert named and set(named) <= ids


@pytest.mark.slow
def test_manifests_validate_against_the_versions_the_cluster_serves(
    practice: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lab.sandbox.kubeapi.server import KubeAPIServer

    seed_style = {k: v.replace("fluxcd.io/v1\n", "fluxcd.io/v1beta2\n") for k, v in FILES.items()}
    write(practice, seed_style)
    offline = check(practice, "image-policy.valid").get("image-policy.valid")
    assert offline.status is Status.FAIL and "v1beta2" in offline.message  # current Flux serves v1 only
    with KubeAPIServer(image_api_versions=("v1", "v1beta2")) as server:  # Flux 2.7/2.8
        monkeypatch.setenv("KUBECONFIG", str(server.write_kubeconfig(tmp_path / "kc")))
        online = check(practice, "image-policy.valid", offline=False).get("image-policy.valid")
    assert online.status is Status.PASS and "warning" in online.message and "deprecated" in online.message


def test_background_work_is_waited_for_and_its_errors_left_to_the_checks(tmp_path: Path) -> None:
    import threading
    import time

    from lab.checks.context import CheckContext

    ctx = CheckContext(workspace=tmp_path, task="09b")
    started = threading.Event()
    warmed: list[int] = []

    def slow() -> None:
        started.set()
        time.sleep(0.2)
        warmed.append(ctx.cached("answer", lambda: 42))

    ctx.in_background(slow)
    ctx.in_background(lambda: ctx.cached("broken", lambda: 1 // 0))
    assert started.wait(5)
    ctx.close()  # waits for both
    assert warmed == [42]
    assert ctx.cached("answer", lambda: 0) == 42  # the check gets the warmed value
    with pytest.raises(ZeroDivisionError):  # and meets the failure itself, nothing was cached
        ctx.cached("broken", lambda: 1 // 0)


def test_ctrl_c_while_background_work_starts_stays_a_ctrl_c(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Issue 16: Ctrl-C landing in Thread.start left the unstarted thread for close() to join, and its
    # RuntimeError replaced the KeyboardInterrupt (`lab check` exited 70, an internal error, not 130).
    import threading

    from lab.checks.context import CheckContext

    ctx = CheckContext(workspace=tmp_path, task="09b")
    real_start = threading.Thread.start

    def interrupted(self: threading.Thread) -> None:
        if self.name == "lab-prefetch":
            raise KeyboardInterrupt
        real_start(self)

    monkeypatch.setattr(threading.Thread, "start", interrupted)
    with pytest.raises(KeyboardInterrupt):
        try:
            ctx.in_background(lambda: None)
        finally:
            ctx.close()


@pytest.mark.slow
def test_a_file_flux_reads_in_part_is_explained_not_called_unparsable(practice: Path) -> None:
    """An indented first document ends at the first line indented less: Flux reads up to there,
    sets what it finds and writes the file without the rest. The checks said the file does not parse
    and Flux skips it, which is true of neither half."""
    write(practice, FILES)
    deploy = practice / "apps/base/nginx/deployment.yaml"
    indented = "".join(f"  {line}\n" for line in deploy.read_text().splitlines())
    deploy.write_text(indented.replace("image: nginx:1.25.0", MARKED) + "extra: dropped by Flux\n")
    last = len(deploy.read_text().splitlines())
    present = check(practice, "marker.present").get("marker.present")
    assert present.status is Status.FAIL
    assert f"only up to line {last - 1}" in present.message and f"without line {last}" in present.message

    # The marker below the line where the reader stops: never read.
    deploy.write_text(
        f"  kind: Deployment\nmetadata:\n  name: nginx\nspec:\n  image: nginx:1.25.0 {MARKER}\n"
    )
    valid = check(practice, "marker.valid").get("marker.valid")
    assert "Flux's reader stops before line 2" in valid.message and "never reads this marker" in valid.message
    assert "does not parse" not in valid.message


def _containers_marked_on_own_lines(containers: int) -> str:
    return (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: nginx\nspec:\n  template:\n"
        "    spec:\n      containers:\n"
        + "".join(
            f"        - name: c{i}\n          {MARKER}\n          image: nginx:1.25.{i}\n"
            for i in range(containers)
        )
    )


@pytest.mark.slow
def test_marker_valid_costs_grow_linearly_with_own_line_markers(practice: Path) -> None:
    """Each marker on a line of its own ran find_markers over the whole file, which parsed the whole
    file once per such marker: cubic (60 containers: 32 s)."""
    from bench.bench_setters import cpu_best

    def cost(containers: int) -> float:
        write(practice, {**FILES, DEPLOY: _containers_marked_on_own_lines(containers)})
        outcome: list[Outcome] = []
        spent = cpu_best(lambda: outcome.append(direct(practice, "marker.valid")), runs=1)
        assert outcome[0].status is Status.FAIL and "is on its own line" in outcome[0].message
        return spent

    small, large = cost(20), cost(80)
    # 4x the markers: ~4x the time, less with the fixed cost of a run (cubic was 64x).
    assert large < 10 * small, (small, large)


@pytest.mark.slow
def test_the_graded_branch_is_the_deployed_sources_not_another_gitrepositorys(practice: Path) -> None:
    """flux-system pinned a tag and the checks graded the branch of another GitRepository in the sync
    file, which Flux does not deploy from: only the source the flux-system Kustomization names counts."""
    sync = practice / "clusters/dev/flux-system/gotk-sync.yaml"
    other = (
        "---\napiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: other\n"
        "  namespace: flux-system\nspec:\n  interval: 1m0s\n  ref:\n    branch: dev\n"
        "  url: https://example.com/other\n"
    )
    sync.write_text(sync.read_text().replace("branch: main", "tag: v1.0.0") + other)
    assert check(practice, "git.pushed").graded == "main"
    sync.write_text(sync.read_text().replace("tag: v1.0.0", "branch: feature"))
    assert check(practice, "git.pushed").graded == "feature"
    out = subprocess.run(
        [*lab_executable(), "check", "--offline", "--format", "json", "--only", "git.pushed"],
        cwd=practice,
        capture_output=True,
        text=True,
        check=False,
    )
    assert json.loads(out.stdout)["graded"] == "feature", out.stderr
    # The text report and the titles name it too: "on origin/main" was the title whatever was graded.
    out = subprocess.run(
        [*lab_executable(), "check", "--offline", "--only", "git.pushed"],
        cwd=practice,
        capture_output=True,
        text=True,
        check=False,
    )
    lines = out.stdout.splitlines()
    assert lines[0] == "Task 09b checks of the working tree and of origin/feature (what is pushed)", (
        out.stdout
    )
    row = next(x for x in lines if " git.pushed " in x)
    assert "  The files are committed and on origin/feature" in row, row


@pytest.mark.slow
def test_git_pushed_says_flux_deploys_the_tag_the_source_pins(practice: Path) -> None:
    """A tag takes precedence over spec.ref.branch (source-controller checks out the tag): origin/main
    passing said nothing of Flux deploying something else."""
    write(practice, FILES)
    sync = practice / "clusters/dev/flux-system/gotk-sync.yaml"
    sync.write_text(sync.read_text().replace("branch: main", "branch: main\n    tag: v1.0.0"))
    commit_push(practice)
    report = check(practice, "git.pushed")
    r = report.get("git.pushed")
    assert report.graded == "main" and r.status is Status.PASS, r.message
    assert "the GitRepository Flux deploys from follows tag v1.0.0 (spec.ref), not a branch" in r.message


@pytest.mark.slow
def test_flux_commit_pushed_to_the_deployed_branch_by_the_refspec_is_deployed(practice: Path) -> None:
    """push.refspec pushes Flux's commit a second time (image-automation-controller pushes to the push
    branch, then with the refspec): when it names the branch Flux deploys, the commit is deployed, not
    waiting on a merge as git.flux-commit said."""
    push = "    push:\n      branch: flux-updates\n      refspec: refs/heads/flux-updates:refs/heads/main\n"
    write(practice, {**FILES, FILES_KEYS[2]: edited(IMAGE_UPDATE, "    push:\n      branch: main\n", push)})
    mark(practice)
    commit_push(practice)
    _flux_commit(practice, touch_marker=True)
    git(practice, "push", "-q", "origin", "main:flux-updates")
    r = direct(practice, "git.flux-commit")
    assert r.status is Status.PASS and "until it is merged" not in r.message, r.message


@pytest.mark.slow
def test_flux_commit_looks_where_the_automations_own_git_repository_pushes(practice: Path) -> None:
    """With neither push.branch nor checkout.ref, image-automation-controller pushes to the branch of
    the GitRepository the automation clones (its sourceRef), which need not be the one Flux deploys
    from: git.flux-commit read only the automation's own fields and looked on the deployed branch."""
    update = edited(IMAGE_UPDATE, "    checkout:\n      ref:\n        branch: main\n", "")
    update = edited(
        edited(update, "    push:\n      branch: main\n", ""),
        "name: flux-system\n  update",
        "name: updates\n  update",
    )
    write(practice, {**FILES, FILES_KEYS[2]: update})
    sync = practice / "clusters/dev/flux-system/gotk-sync.yaml"
    updates = (
        "---\napiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: updates\n"
        "  namespace: flux-system\nspec:\n  interval: 1m\n  ref:\n    branch: flux-updates\n"
        "  url: ssh://git@github.com/example/lab.git\n"
    )
    sync.write_text(sync.read_text() + updates)
    mark(practice)
    commit_push(practice)
    git(practice, "switch", "-qc", "flux-updates")
    _flux_commit(practice, touch_marker=True)  # pushes main: nothing new there
    git(practice, "push", "-q", "origin", "flux-updates")
    r = direct(practice, "git.flux-commit")
    # Found where spec.git pushes, and judged on the branch Flux deploys: not deployed until merged.
    assert r.status is Status.FAIL, r.message
    assert (
        "is on origin/flux-updates, where spec.git pushes, not on origin/main, which Flux deploys"
        in r.message
    )
    assert r.hint is not None and r.hint.startswith("merge flux-updates into main (a PR flow"), r.hint


@pytest.mark.slow
def test_an_automation_pushing_to_a_branch_flux_does_not_deploy_is_not_valid(practice: Path) -> None:
    """push.branch image-updates: Flux's commits never reach main, which Flux deploys; image-update.valid
    ("commits to main") passed, and git.flux-commit passed on origin/image-updates: 100 points for an
    automation that never deploys."""
    push = "    push:\n      branch: image-updates\n"
    write(practice, {**FILES, FILES_KEYS[2]: edited(IMAGE_UPDATE, "    push:\n      branch: main\n", push)})
    mark(practice)
    commit_push(practice)
    r = direct(practice, "image-update.valid")
    assert r.status is Status.FAIL, r.message
    assert r.message.startswith(
        "spec.git.push.branch image-updates: Flux commits its updates to "
        "origin/image-updates, but deploys main"
    ), r.message
    assert (
        r.hint
        == "push.branch main, the branch Flux deploys (in a PR flow every update waits for a merge of image-updates)"
    )
    assert r.file == FILES_KEYS[2] and r.line == line_no(
        (practice / FILES_KEYS[2]).read_text(), "branch: image-updates"
    )
    git(practice, "switch", "-qc", "image-updates")
    _flux_commit(practice, touch_marker=True)
    git(practice, "push", "-q", "origin", "image-updates")
    assert direct(practice, "git.flux-commit").status is Status.FAIL
    git(practice, "switch", "-q", "main")
    git(practice, "merge", "-q", "--ff-only", "image-updates")
    git(practice, "push", "-q", "origin", "main")
    assert direct(practice, "git.flux-commit").status is Status.PASS  # merged: deployed


@pytest.mark.slow
def test_registry_refusals_are_said_as_simulate_says_them(
    practice: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One phrasing of a registry's refusal for check, why and simulate (the client's): a 429 is the rate
    limit with its retry time and hint, not Flux's `scan failed: GET ...` alone; a 401 to credentials the
    lab sent (the Docker config's) is not called an anonymous refusal."""
    import base64
    import json

    from tests.support.fake_registry import fake_registry

    write(practice, FILES)
    monkeypatch.delenv("LAB_SANDBOX_WORKSPACE", raising=False)
    with fake_registry(status=429) as registry:
        monkeypatch.setenv("LAB_REGISTRY_MIRROR", registry.mirror)
        r = check(practice, "registry.tags", offline=False).get("registry.tags")
    assert r.status is Status.ERROR
    assert r.message == f"could not check: rate-limited by 127.0.0.1:{registry.port}, retry after 3600 s"
    assert r.hint == "scan less often"
    assert "scan failed: GET " in " ".join(e.text for e in r.evidence)  # Flux's words, beside them

    config = tmp_path / "docker"
    config.mkdir()
    with fake_registry(status=401) as registry:
        auth = base64.b64encode(b"learner:wrong").decode()
        (config / "config.json").write_text(
            json.dumps({"auths": {f"127.0.0.1:{registry.port}": {"auth": auth}}})
        )
        monkeypatch.setenv("DOCKER_CONFIG", str(config))
        monkeypatch.setenv("LAB_REGISTRY_MIRROR", registry.mirror)
        r = check(practice, "registry.tags", offline=False).get("registry.tags")
    assert any(a.startswith("Basic ") for a in registry.authorizations)
    assert r.status is Status.FAIL
    assert r.message == (
        f"the registry refused to list library/nginx with the Docker config's credentials, asked at registry "
        f"127.0.0.1:{registry.port} (LAB_REGISTRY_MIRROR sends index.docker.io there): credentials rejected "
        f"for 127.0.0.1:{registry.port}"
    )
    assert r.hint is not None and r.hint.startswith("check the user and password/token in ")
    assert "anonymously" not in r.message


@pytest.mark.slow
def test_a_registry_that_cannot_be_scanned_is_named_for_what_it_does(
    practice: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The task bundles the image's tags, yet registry.tags could not check, and says why in the client's
    words: a redirect loop is a redirect loop, not 'cannot be reached'."""
    from tests.support.fake_registry import fake_registry

    write(practice, FILES)
    monkeypatch.delenv("LAB_SANDBOX_WORKSPACE", raising=False)
    with fake_registry(status=307) as registry:
        monkeypatch.setenv("LAB_REGISTRY_MIRROR", registry.mirror)
        rep = check(practice, "policy.resolves", offline=False)
    r = rep.get("registry.tags")
    assert r.status is Status.ERROR and rep.exit_code() == 3
    assert "more than 10 times (a redirect loop); gave up; only the lab's snapshot" in r.message, r.message
    assert "cannot be reached" not in r.message
    assert rep.get("policy.resolves").blocked_by == "registry.tags"


def test_sync_included_waits_out_a_reconcile_in_progress_for_its_verdict(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """kustomize-controller writes Ready=Unknown "Reconciliation in progress" at the start of each
    reconcile, a failing one's too: read in that moment, the failure was missed and the files passed."""
    from lab.checks.context import CheckContext
    from lab.checks.loader import load_task_checks
    from lab.checks.repo import _cluster_sync_failure

    def ready(status: str, reason: str, message: str) -> dict[str, Any]:
        conditions = [{"type": "Ready", "status": status, "reason": reason, "message": message}]
        return {"status": {"conditions": conditions, "lastAttemptedRevision": "main@sha1:abc"}}

    answers = [
        ready("Unknown", "Progressing", "Reconciliation in progress"),
        ready("Unknown", "Progressing", "Reconciliation in progress"),
        ready("False", "ReconciliationFailed", 'no matches for kind "ImagePolicy"'),
    ]

    class Client:
        def get(self, kind: str, name: str) -> dict[str, Any]:
            return answers.pop(0) if len(answers) > 1 else answers[0]

    monkeypatch.setattr("lab.checks.cluster.client_for", lambda _ctx: Client())
    monkeypatch.setattr("lab.checks.repo.SETTLE_POLL_SECONDS", 0.0)
    spec = load_task_checks("09b")
    settings = {**spec.settings, "kubeconfig": str(tmp_path / "kubeconfig")}
    ctx = CheckContext(workspace=tmp_path, offline=False, settings=settings, params=spec.params)
    failed = _cluster_sync_failure(ctx)
    assert failed is not None and failed.status is Status.FAIL
    assert failed.message.endswith('no matches for kind "ImagePolicy"'), failed.message


@pytest.mark.slow
def test_a_checkout_branch_origin_lacks_fails_offline_in_fluxs_words(practice: Path) -> None:
    """checkout.ref.branch: master where origin has only main: Flux fails every run, but `lab check
    --offline` passed image-update.valid ("commits to main"); origin's branches are known offline."""
    update = edited(
        IMAGE_UPDATE, "      ref:\n        branch: main\n", "      ref:\n        branch: master\n"
    )
    write(practice, {**FILES, FILES_KEYS[2]: update})
    mark(practice)
    commit_push(practice)
    r = check(practice, "image-update.valid").get("image-update.valid")
    assert r.status is Status.FAIL, r.message
    assert r.message == (
        "origin has no branch master, which spec.git.checkout.ref.branch names: Flux fails with: failed to "
        "checkout source: unable to clone 'ssh://git@github.com/learner/gitops-lab': couldn't find remote "
        'ref "refs/heads/master"'
    ), r.message
    assert r.file == FILES_KEYS[2] and r.line == line_no(update, "branch: master")
    assert r.hint is not None and r.hint.startswith("spec.git.checkout.ref.branch: main"), r.hint


@pytest.mark.slow
def test_a_clone_failure_of_the_automation_in_the_cluster_is_hinted_with_its_fix(
    practice: Path, kube: Any
) -> None:
    """Flux's message names the cause (origin has no master): the hint said "kubectl describe ...; fix
    the cause", as `lab why` said "see the message"."""
    write(practice, FILES)
    failed = (
        "failed to checkout source: unable to clone 'ssh://git@github.com/learner/gitops-lab': couldn't find "
        'remote ref "refs/heads/master"'
    )
    _put(kube, "ImageUpdateAutomation", "flux-system", _ready("False", "GitOperationFailed", failed))
    out = _cluster(practice, "cluster.image-update")
    assert out.status is Status.FAIL and failed in out.message
    assert out.hint.startswith(
        "origin has no branch master: set spec.git.checkout.ref.branch (or, without spec.git.checkout, the "
        "GitRepository's spec.ref.branch) to a branch origin has, e.g. main"
    ), out.hint


@pytest.mark.slow
def test_markers_under_an_update_path_that_does_not_exist_are_none(tmp_path: Path) -> None:
    """09b-staging with update.path ./apps/stage: marker.present passed ("A marker under the automation's
    update.path") on the markers of ./apps, the fallback, where there is no marker under a path that
    does not exist."""
    ws = make_practice(tmp_path, "09b-staging")
    write(ws, solution_files("09b-staging"))
    update = ws / UPDATE
    update.write_text(update.read_text().replace("path: ./apps/staging", "path: ./apps/stage"))
    r = run_checks(ws, task="09b-staging", offline=True, only=["marker.present"]).get("marker.present")
    assert r.status is Status.FAIL, r.message
    assert r.message == "no marker under update.path ./apps/stage: it does not exist in the repository"
    assert r.file == UPDATE and r.line == line_no(update.read_text(), "path: ./apps/stage")
    assert r.hint == "set spec.update.path to the folder that holds the marked files, e.g. ./apps/staging"


@pytest.mark.slow
def test_a_file_beyond_the_labs_reader_is_read_once_and_not_a_claim_about_flux(
    practice: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """501 documents, each with a marker: the file was parsed again for every marker (196 s), then
    marker.valid failed saying Flux skips the file; the 500-document limit is the lab's."""
    import lab.core.setters.find as find
    import lab.core.yamlsafe as yamlsafe

    pod = (
        "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: p{i}\nspec:\n  containers:\n    - name: c\n"
        "      image: nginx:1.25.0 " + MARKER + "\n"
    )
    docs = yamlsafe.MAX_DOCUMENTS + 1
    write(practice, {**FILES, "apps/many.yaml": "".join(pod.replace("{i}", str(i)) for i in range(docs))})
    calls = {"load_all": 0, "parse_document": 0}

    def counted(name: str, real: Any) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            calls[name] += 1
            # Linear: each document decoded a few times at most (the old code stopped here fast).
            assert calls[name] <= 4 * docs, f"{name} called {calls[name]} times for {docs} documents"
            return real(*args, **kwargs)

        return call

    monkeypatch.setattr(yamlsafe, "load_all", counted("load_all", yamlsafe.load_all))
    monkeypatch.setattr(find, "parse_document", counted("parse_document", find.parse_document))
    r = check(practice, "marker.valid").get("marker.valid")
    assert r.status is Status.ERROR, r.message
    assert "the lab's limit, not Flux's" in r.message and "Flux skips" not in r.message, r.message
    assert "apps/many.yaml:9" in r.message


@pytest.mark.slow
def test_a_pattern_beyond_the_labs_matcher_is_could_not_check_not_a_fail(practice: Path) -> None:
    """A 140 KB alternation Go compiles: image-policy.valid failed 'expression too large for the lab's
    matcher (Go would compile it)'; the limit is the lab's, so it could not check."""
    from lab.core.policy.regex import RegexSyntaxError, compile_go

    pattern = "^(" + "|".join(f"t{i:05d}" for i in range(20000)) + ")$"
    with pytest.raises(RegexSyntaxError, match="too large for the lab"):
        compile_go(pattern)
    policy = IMAGE_POLICY + f"  filterTags:\n    pattern: '{pattern}'\n"
    write(practice, {**FILES, "clusters/dev/image-automation/image-policy.yaml": policy})
    r = check(practice, "image-policy.valid").get("image-policy.valid")
    assert r.status is Status.ERROR, r.message
    assert "could not check" in r.message and "lab" in r.message, r.message
