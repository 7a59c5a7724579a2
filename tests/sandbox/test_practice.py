"""`lab init`: the practice repository and its local origin."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from lab.errors import LabError
from lab.sandbox.practice import init_practice_repo, starter_dir
from lab.services.tasks import load_task
from tests.support.gitutil import git, origin_log
from tests.support.labrun import run_lab

INITIAL_MESSAGE = load_task("09b").meta.starter_message


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(root).parts
    }


@pytest.mark.slow
def test_init_copies_starter_commits_and_pushes(tmp_path: Path) -> None:
    practice = init_practice_repo(tmp_path / "lab")
    root = practice.path
    # The starter, plus the record of the task the repository is for (every command defaults to it).
    assert _files(root) == {**_files(starter_dir()), ".fluxlab/task.json": b'{\n  "task": "09b"\n}\n'}
    assert practice.origin == (tmp_path / "lab-origin.git").resolve()
    assert git(root, "status", "--porcelain") == ""
    assert git(root, "rev-parse", "--abbrev-ref", "HEAD") == "main"
    assert git(root, "rev-parse", "--abbrev-ref", "main@{upstream}") == "origin/main"
    assert git(practice.origin, "rev-parse", "main") == practice.head
    assert git(root, "config", "remote.origin.url") == str(practice.origin)
    # The conftest identity (GIT_AUTHOR_*) is the user's configured identity.
    assert origin_log(practice.origin) == [f"Learner <learner@example.com>|{INITIAL_MESSAGE}"]
    deployment = (root / "apps/base/nginx/deployment.yaml").read_text()
    assert "image: nginx:1.25.0" in deployment and "$imagepolicy" not in deployment
    # The GitRepository URL stays a valid Flux URL; the local origin lives in git config only.
    sync = (root / "clusters/dev/flux-system/gotk-sync.yaml").read_text()
    assert "url: ssh://git@github.com/learner/gitops-lab" in sync


@pytest.mark.slow
def test_init_without_identity_uses_fluxlab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"):
        monkeypatch.delenv(var)
    practice = init_practice_repo(tmp_path / "lab", origin=tmp_path / "elsewhere" / "o.git")
    assert practice.origin == (tmp_path / "elsewhere" / "o.git").resolve()
    assert origin_log(practice.origin, fmt="%an <%ae>|%cn <%ce>") == [
        "fluxlab <fluxlab@localhost>|fluxlab <fluxlab@localhost>"
    ]


def test_init_refuses_non_empty_dir_and_changes_nothing(tmp_path: Path) -> None:
    dest = tmp_path / "lab"
    dest.mkdir()
    (dest / "notes.txt").write_text("mine\n")
    with pytest.raises(LabError) as err:
        init_practice_repo(dest)
    assert "not empty" in str(err.value) and "\n" not in str(err.value)
    assert [p.name for p in dest.iterdir()] == ["notes.txt"]
    assert not (tmp_path / "lab-origin.git").exists()


def test_init_refuses_non_empty_origin(tmp_path: Path) -> None:
    (tmp_path / "lab-origin.git").mkdir()
    (tmp_path / "lab-origin.git" / "HEAD").write_text("x")
    with pytest.raises(LabError):
        init_practice_repo(tmp_path / "lab")
    assert not (tmp_path / "lab").exists()


@pytest.mark.slow
def test_init_into_empty_existing_dir(tmp_path: Path) -> None:
    (tmp_path / "lab").mkdir()
    assert init_practice_repo(tmp_path / "lab").path == (tmp_path / "lab").resolve()


@pytest.mark.slow
def test_lab_init_subprocess(tmp_path: Path, lab_env: dict[str, str]) -> None:
    proc = run_lab("init", "gitops-lab", env=lab_env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert str((tmp_path / "gitops-lab").resolve()) in proc.stdout
    assert "gitops-lab-origin.git" in proc.stdout
    assert "lab generate" in proc.stdout and "git push" in proc.stdout
    assert git(tmp_path / "gitops-lab", "status", "--porcelain") == ""

    again = run_lab("init", "gitops-lab", env=lab_env, cwd=tmp_path)
    assert again.returncode == 1
    assert again.stderr.startswith("lab: ") and again.stderr.count("\n") == 1
    assert "not empty" in again.stderr and "Traceback" not in again.stderr


@pytest.mark.slow
def test_lab_init_json_and_origin_option(tmp_path: Path, lab_env: dict[str, str]) -> None:
    proc = run_lab(
        "init", str(tmp_path / "p"), "--origin", str(tmp_path / "remote.git"), "--json", env=lab_env
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["origin"] == str((tmp_path / "remote.git").resolve())
    assert data["branch"] == "main" and len(data["head"]) == 40


@pytest.mark.slow
def test_lab_init_without_dir_is_usage_error(lab_env: dict[str, str]) -> None:
    proc = run_lab("init", env=lab_env)
    assert proc.returncode == 2


def test_init_where_a_directory_cannot_be_made_is_one_line_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory\n")
    with pytest.raises(LabError) as err:
        init_practice_repo(blocker / "lab", origin=tmp_path / "o.git")
    assert "cannot create" in str(err.value) and "\n" not in str(err.value)
    assert not (tmp_path / "o.git").exists()
    assert blocker.read_text() == "not a directory\n"


@pytest.mark.slow
def test_learner_can_commit_on_a_machine_without_git_identity(
    tmp_path: Path, lab_env: dict[str, str]
) -> None:
    env = {k: v for k, v in lab_env.items() if not k.startswith(("GIT_AUTHOR", "GIT_COMMITTER"))}
    env["HOME"] = str(tmp_path / "home")
    env["XDG_CONFIG_HOME"] = str(tmp_path / "home" / ".config")
    env["EMAIL"] = ""
    ws = tmp_path / "ws"
    run_lab("init", str(ws), env=env, ok=True)
    (ws / "notes.txt").write_text("hello\n")
    subprocess.run(["git", "add", "notes.txt"], cwd=ws, env=env, check=True)
    proc = subprocess.run(["git", "commit", "-qm", "mine"], cwd=ws, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    author = subprocess.run(
        ["git", "log", "-1", "--format=%an"], cwd=ws, env=env, capture_output=True, text=True
    )
    assert author.stdout.strip() == "Learner"


@pytest.mark.slow
def test_solve_commits_as_the_repository_identity(tmp_path: Path, lab_env: dict[str, str]) -> None:
    env = {k: v for k, v in lab_env.items() if not k.startswith(("GIT_AUTHOR", "GIT_COMMITTER"))}
    env["HOME"] = str(tmp_path / "home")
    env["XDG_CONFIG_HOME"] = str(tmp_path / "home" / ".config")
    ws = tmp_path / "ws"
    run_lab("init", str(ws), env=env, ok=True)
    subprocess.run(["git", "config", "user.name", "Ada"], cwd=ws, check=True)
    subprocess.run(["git", "config", "user.email", "ada@example.com"], cwd=ws, check=True)
    run_lab("solve", str(ws), env=env, ok=True)
    author = subprocess.run(
        ["git", "log", "-1", "--format=%an <%ae>"], cwd=ws, capture_output=True, text=True
    )
    assert author.stdout.strip() == "Ada <ada@example.com>"


def test_the_sandbox_bootstraps_flux_from_its_own_tasks_sync_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A task whose cluster folder is clusters/prod: Flux in the sandbox syncs ./clusters/prod, as that
    task's starter says (checks.toml [params] sync_file), not the course's task's ./clusters/dev."""
    import shutil

    from lab.sandbox.runtime import bootstrap_objects
    from tests.support.taskfiles import copy_task, edited

    folder = copy_task(tmp_path / "authors", "t-prod")
    shutil.move(folder / "starter/clusters/dev", folder / "starter/clusters/prod")
    sync = folder / "starter/clusters/prod/flux-system/gotk-sync.yaml"
    sync.write_text(edited(sync.read_text(), "path: ./clusters/dev", "path: ./clusters/prod"))
    checks = folder / "checks.toml"
    checks.write_text(
        edited(
            checks.read_text(),
            'sync_file = "clusters/dev/flux-system/gotk-sync.yaml"',
            'sync_file = "clusters/prod/flux-system/gotk-sync.yaml"',
        )
    )
    monkeypatch.setenv("LAB_TASKS_PATH", str(tmp_path / "authors"))
    paths = {o["kind"]: o["spec"].get("path") for o in bootstrap_objects("t-prod")}
    assert paths == {"GitRepository": None, "Kustomization": "./clusters/prod"}
    assert {o["kind"]: o["spec"].get("path") for o in bootstrap_objects()}[
        "Kustomization"
    ] == "./clusters/dev"
    sync.unlink()
    with pytest.raises(LabError, match=r"no gotk-sync\.yaml for the sandbox to bootstrap Flux from"):
        bootstrap_objects("t-prod")
