"""An origin that cannot be fetched: `lab check` waits a bounded time and says it graded the last fetch;
`lab sync --status` exits 3 (cannot sync)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from lab.core.checks import Status
from lab.services.check import run_checks
from tests.support.gitutil import git
from tests.support.labrun import run_lab
from tests.support.silent import silent_server

pytestmark = pytest.mark.slow


def _pushed(tmp_path: Path) -> Path:
    from lab.core.manifests.generate import GenerateOptions
    from lab.services.generate import generate
    from lab.services.sync import push_work
    from tests.support.gitutil import practice

    ws = practice(tmp_path)
    generate(ws, GenerateOptions())
    assert push_work(ws).ok
    return ws


@pytest.fixture
def silent_origin() -> Iterator[str]:
    """An origin URL that accepts connections and never answers."""
    with silent_server("/learner/gitops-lab.git") as url:
        yield url


def test_a_missing_origin_is_graded_from_the_last_fetch_out_loud(
    tmp_path: Path, lab_env: dict[str, str]
) -> None:
    from lab.services.mark import mark_file

    ws = _pushed(tmp_path)
    mark_file(ws, ws / "apps/base/nginx/deployment.yaml", "flux-system:nginx")
    git(ws, "commit", "-qam", "mark")
    git(ws, "push", "-q", "origin", "HEAD")
    git(ws, "remote", "set-url", "origin", str(tmp_path / "gone.git"))
    proc = run_lab("check", "--offline", "--format", "json", env=lab_env, cwd=ws)
    pushed = {c["id"]: c for c in json.loads(proc.stdout)["checks"]}["git.pushed"]
    message = str(pushed["message"])
    assert (
        "origin could not be fetched" in message
        and "graded from origin/main as this clone last saw" in message
    )
    flux = {c["id"]: c for c in json.loads(proc.stdout)["checks"]}["git.flux-commit"]
    assert "origin could not be fetched" in str(flux["message"]), flux  # a Flux commit may be there
    text = run_lab("check", "--offline", env=lab_env, cwd=ws).stdout
    assert "origin could not be fetched" in text, text
    status = run_lab("sync", "--status", env=lab_env, cwd=ws)
    assert status.returncode == 3, status.stdout
    assert "git fetch origin failed" in status.stdout


def test_an_origin_that_never_answers_is_given_a_few_seconds(tmp_path: Path, silent_origin: str) -> None:
    ws = _pushed(tmp_path)
    git(ws, "remote", "set-url", "origin", silent_origin)
    began = time.monotonic()
    result = run_checks(ws, offline=False, only=["git.pushed"]).get("git.pushed")
    took = time.monotonic() - began
    assert took < 30, f"lab check waited {took:.0f}s on origin"
    assert result.status is not Status.PASS or "origin could not be fetched" in result.message
    assert "did not finish within" in result.message, result.message


def test_behind_origin_is_told_to_pull_not_to_push(tmp_path: Path, lab_env: dict[str, str]) -> None:
    """A teammate changed image-repository.yaml on origin and the learner fetched: git.pushed said
    "different on origin/main: committed, not pushed yet" with hint `git push`, which does nothing."""
    from tests.support.gitutil import push_from_other_clone

    ws = _pushed(tmp_path)
    rel = "clusters/dev/image-automation/image-repository.yaml"
    theirs = (ws / rel).read_text().replace("interval: 5m", "interval: 6m")
    assert theirs != (ws / rel).read_text()
    push_from_other_clone(Path(git(ws, "remote", "get-url", "origin")), tmp_path, {rel: theirs})
    git(ws, "fetch", "-q", "origin")
    proc = run_lab("check", "--offline", "--format", "json", env=lab_env, cwd=ws)
    pushed = {c["id"]: c for c in json.loads(proc.stdout)["checks"]}["git.pushed"]
    message, hint = str(pushed["message"]), str(pushed["hint"] or "")
    assert "not pushed yet" not in message and hint != "git push", pushed
    assert "git pull --rebase" in message + hint and "image-repository.yaml" in message, pushed


def test_behind_origin_with_a_file_a_teammate_added_is_told_to_pull(
    tmp_path: Path, lab_env: dict[str, str]
) -> None:
    """The same when the teammate added a task file the learner's clone does not have yet: it said
    "committed, not pushed yet" with hint `git push` ("Everything up-to-date")."""
    from tests.support.gitutil import push_from_other_clone

    ws = _pushed(tmp_path)
    rel = "clusters/dev/image-automation/image-update.yaml"
    text = (ws / rel).read_text()
    git(ws, "rm", "-q", rel)
    git(ws, "commit", "-qm", "not yet")
    git(ws, "push", "-q", "origin", "HEAD")
    push_from_other_clone(Path(git(ws, "remote", "get-url", "origin")), tmp_path, {rel: text})
    git(ws, "fetch", "-q", "origin")
    # repo.files reports the file missing here; git.pushed's own verdict, asked alone, is a pull.
    from lab.checks.context import CheckContext
    from lab.checks.gitrepo import git_pushed
    from lab.checks.loader import load_task_checks

    spec = load_task_checks("09b")
    pushed = git_pushed(
        CheckContext(workspace=ws, task="09b", offline=True, settings=spec.settings, params=spec.params)
    )
    assert "not pushed yet" not in pushed.message and pushed.hint != "git push", pushed
    assert "git pull --rebase" in pushed.message + (pushed.hint or ""), pushed
    assert "image-update.yaml" in pushed.message, pushed
