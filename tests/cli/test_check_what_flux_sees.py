"""`lab check` judges what Flux sees, on real practice repositories (`lab init`, `lab solve`).

- The task's image: a second ImageRepository of the learner's own (another app's image, which the task's
  registry does not serve) is no mistake in Flux; with the task's bundled tags standing in for its
  registry, as in the app.
- The branch Flux follows: `spec.ref.branch` of the learner's flux-system GitRepository (source-controller
  fetches that branch), and Flux's commits where the automation's spec.git pushes them; not origin/main
  whatever the sync file says.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.gitutil import git
from tests.support.labrun import run_lab
from tests.support.paths import ROOT
from tests.support.practice_copy import copy_practice, practice_template
from tests.support.taskfiles import DEPLOY, REPO, UPDATE
from tests.support.taskfiles import PODINFO_REPOSITORY as PODINFO

pytestmark = pytest.mark.slow

TAGS = ROOT / "tasks" / "09b" / "registry" / "nginx-tags-2024-01-15.txt"
SYNC = "clusters/dev/flux-system/gotk-sync.yaml"


@pytest.fixture(scope="module")
def solved_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return practice_template(tmp_path_factory, "ws", "solve")


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return practice_template(tmp_path_factory, "ws")


def _check(ws: Path, env: dict[str, str], *args: str) -> str:
    proc = run_lab("check", "-w", str(ws), *args, env=env)
    assert proc.returncode in (0, 1), (proc.stdout, proc.stderr)
    return proc.stdout


def test_another_apps_repository_beside_the_tasks_is_a_note(
    solved_template: Path, tmp_path: Path, lab_env: dict[str, str]
) -> None:
    ws = copy_practice(solved_template, tmp_path / "ws")
    # First in the file: the task's ImageRepository is not "the first one" any more.
    (ws / REPO).write_text(PODINFO + (ws / REPO).read_text())
    git(ws, "commit", "-qam", "Scan podinfo too")
    out = _check(ws, lab_env, "--tags-file", str(TAGS), "--only", "policy.resolves")
    assert "✔ image-repository.valid" in out, out
    assert (
        "note: ImageRepository podinfo scans ghcr.io/stefanprodan/podinfo, which the task's registry does "
        "not serve: its scan fails there, and the task's automation of library/nginx does not depend on it"
    ) in out, out
    assert "✔ registry.tags" in out and "✔ policy.resolves" in out, out

    # A misspelling of the task's image, with nothing scanning the image itself, is still the mistake.
    (ws / REPO).write_text((ws / REPO).read_text().replace("image: library/nginx", "image: library/ngnix"))
    out = _check(ws, lab_env, "--tags-file", str(TAGS), "--only", "policy.resolves")
    assert "✘ image-repository.valid" in out, out
    assert "ImageRepository nginx scans library/ngnix, which the task's registry does not serve" in out, out


def test_the_branch_the_gitrepository_follows_is_graded(
    template: Path, tmp_path: Path, lab_env: dict[str, str]
) -> None:
    ws = copy_practice(template, tmp_path / "ws")
    git(ws, "switch", "-qc", "feature")
    run_lab("solve", str(ws), "--no-push", env=lab_env, ok=True)
    (ws / SYNC).write_text((ws / SYNC).read_text().replace("branch: main", "branch: feature"))
    git(ws, "commit", "-qam", "Flux follows feature")

    out = _check(ws, lab_env, "--offline", "--only", "git.flux-commit")
    assert (
        f"{SYNC}:11: origin has no branch feature, which GitRepository flux-system follows "
        "(spec.ref.branch): source-controller fails with: failed to checkout and determine revision: "
        "unable to clone 'ssh://git@github.com/learner/gitops-lab': "
        'couldn\'t find remote ref "refs/heads/feature"'
    ) in out, out
    assert "hint: git push -u origin feature, or set spec.ref.branch to a branch origin has, e.g. main" in out

    git(ws, "push", "-q", "-u", "origin", "feature")
    out = _check(ws, lab_env, "--offline", "--only", "git.flux-commit")
    assert "✔ git.pushed" in out, out  # origin/main has none of the files: feature is what Flux fetches
    # spec.git pushes main, which Flux does not deploy: its commits never reach the cluster.
    assert "spec.git.push.branch main: Flux commits its updates to origin/main, but deploys feature" in out, (
        out
    )
    assert (
        "hint: push.branch feature, the branch Flux deploys (in a PR flow every update waits for a merge of main)"
        in out
    ), out

    # The automation pushes to a branch of its own: Flux's commit is looked for there.
    update = (
        (ws / UPDATE)
        .read_text()
        .replace("    push:\n      branch: main", "    push:\n      branch: flux-updates")
    )
    (ws / UPDATE).write_text(update)
    git(ws, "commit", "-qam", "Flux pushes to flux-updates")
    git(ws, "push", "-q")
    git(ws, "switch", "-qc", "flux-updates")
    deploy = (ws / DEPLOY).read_text()
    (ws / DEPLOY).write_text(deploy.replace("nginx:1.25.0", "library/nginx:1.25.3"))
    flux = {"GIT_AUTHOR_NAME": "Flux", "GIT_AUTHOR_EMAIL": "flux@gitops-lab.local"}
    # What Flux writes: the policy's pick and the messageTemplate rendered (git.flux-commit compares).
    git(ws, "commit", "-qam", "Automated image update\n\n\n- nginx:1.25.0 -> library/nginx:1.25.3", env=flux)
    git(ws, "push", "-q", "-u", "origin", "flux-updates")
    git(ws, "switch", "-q", "feature")
    proc = run_lab(
        "check", "-w", str(ws), "--offline", "--only", "git.flux-commit", "--format", "json", env=lab_env
    )
    row = next(c for c in json.loads(proc.stdout)["checks"] if c["id"] == "git.flux-commit")
    assert row["blocked_by"] == "image-update.valid", row  # found there, but not deployed until merged
