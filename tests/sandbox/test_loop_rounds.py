"""Many rounds of the learner's loop against the sandbox, from a shell.

edit -> push -> Flux commits -> a new tag (`lab sandbox push-tag`) -> Flux commits -> edit -> push...
Each round the learner commits on top of a main that does not have Flux's latest commit yet (as anyone
who forgot to pull does), so every push needs a rebase; `lab sync --commit` does it in some rounds,
plain `git pull --rebase && git push` in another. Origin's history must end up learner, Flux, learner,
Flux... with messages that say what each commit is, and no uncommitted change may be lost.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.labrun import run_lab
from tests.support.sandbox_helpers import git, push, wait_for

pytestmark = pytest.mark.slow

SPEED = "3000"
FLUX = "Flux"


@pytest.fixture
def sandbox_dir(tmp_path: Path, lab_env: dict[str, str]) -> Iterator[Path]:
    d = tmp_path / "sb"
    yield d
    run_lab("sandbox", "down", "--dir", str(d), env=lab_env)


def _history(origin: Path) -> list[tuple[str, str]]:
    """(author, subject) of origin/main, oldest first, first parents only."""
    out = git(origin, "log", "--first-parent", "--reverse", "--format=%an%x00%s", "main")
    return [tuple(line.split("\0", 1)) for line in out.splitlines()]  # type: ignore[misc]


def _flux_count(origin: Path) -> int:
    return sum(1 for author, _ in _history(origin) if author == FLUX)


def _wait_flux(origin: Path, count: int, tag: str) -> None:
    def probe() -> bool:
        if _flux_count(origin) < count:
            return False
        deployment = git(origin, "show", "main:apps/base/nginx/deployment.yaml")
        return f"library/nginx:{tag}" in deployment

    wait_for(probe, f"Flux's commit #{count} writing {tag}", timeout=90)


def _right_answers() -> str:
    from lab.services.tasks import load_task

    return ",".join(str(q.answer + 1) for q in load_task("09b").quiz.questions)


def test_three_rounds_of_edit_push_flux_commit_new_tag(sandbox_dir: Path, lab_env: dict[str, str]) -> None:
    d = sandbox_dir
    up = run_lab("sandbox", "up", "--dir", str(d), "--detach", "--speed", SPEED, env=lab_env)
    assert up.returncode == 0, up.stderr
    env_out = run_lab("sandbox", "env", "--dir", str(d), env=lab_env)
    exports = dict(
        line.removeprefix("export ").split("=", 1)
        for line in env_out.stdout.splitlines()
        if line.startswith("export ")
    )
    learner = {**lab_env, **{k: v.strip("'\"") for k, v in exports.items()}}
    ws = d / "gitops-lab"
    origin = d / "gitops-lab-origin.git"

    # Round 0: the work itself; Flux answers with 1.25.3.
    solved = run_lab("solve", str(ws), env=learner)
    assert solved.returncode == 0, solved.stderr
    _wait_flux(origin, 1, "1.25.3")

    # Round 1: mark the task done on a main without Flux's commit; lab sync --commit rebases and pushes.
    assert run_lab("progress", "--done", "09", env=learner, cwd=ws).returncode in (0, 1)
    (ws / "notes.txt").write_text("my notes, never committed\n")
    pushed = run_lab("sync", "--commit", env=learner, cwd=ws)
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr
    assert "$ git rebase origin/main" in pushed.stdout
    assert "origin has 1 commit by Flux you didn't have" in pushed.stdout
    tag = run_lab("sandbox", "push-tag", "--dir", str(d), "1.25.4", env=learner)
    assert tag.returncode == 0, tag.stderr
    _wait_flux(origin, 2, "1.25.4")

    # Round 2: the quiz record, committed with the work; a plain push would be rejected.
    quiz = run_lab("quiz", "--answers", _right_answers(), env=learner, cwd=ws)
    assert quiz.returncode == 0, quiz.stdout
    pushed = run_lab("sync", "--commit", env=learner, cwd=ws)
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr
    assert "$ git rebase origin/main" in pushed.stdout
    tag = run_lab("sandbox", "push-tag", "--dir", str(d), "1.25.5", env=learner)
    assert tag.returncode == 0, tag.stderr
    _wait_flux(origin, 3, "1.25.5")

    # Round 3: a policy edit committed by hand without pulling; the check names the problem and the
    # fix, and the fix is what the learner types.
    repo_file = ws / "clusters/dev/image-automation/image-repository.yaml"
    repo_file.write_text(repo_file.read_text().replace("interval: 5m", "interval: 10m"))
    git(ws, "commit", "-qam", "Scan nginx every 10 minutes")
    check = run_lab("check", "--offline", "--format", "json", env=learner, cwd=ws)
    graded = {c["id"]: c for c in json.loads(check.stdout)["checks"]}
    assert graded["git.pushed"]["status"] == "fail", graded["git.pushed"]
    assert graded["git.pushed"]["hint"].startswith("git pull --rebase && git push")
    git(ws, "pull", "-q", "--rebase")
    push(ws)  # as the hint says; again after another pull if the controllers pushed in between
    tag = run_lab("sandbox", "push-tag", "--dir", str(d), "1.25.6", env=learner)
    assert tag.returncode == 0, tag.stderr
    _wait_flux(origin, 4, "1.25.6")

    history = _history(origin)[1:]  # after the course's starting commit
    authors = [author for author, _ in history]
    assert authors == ["Learner", FLUX, "Learner", FLUX, "Learner", FLUX, "Learner", FLUX], history
    learner_subjects = [s for a, s in history if a != FLUX]
    from lab.services.tasks import load_task

    n = len(load_task("09b").quiz.questions)
    assert learner_subjects == [
        "Add image automation",
        "Mark task 09 done in PROGRESS.md",
        f"Record the quiz result ({n}/{n}, passed)",
        "Scan nginx every 10 minutes",
    ]
    flux_bodies = git(origin, "log", "--author=Flux", "--reverse", "--format=%B%x00", "main").split("\0")
    assert "library/nginx:1.25.3" in flux_bodies[0] and "1.25.6" in flux_bodies[3]
    assert (ws / "notes.txt").read_text() == "my notes, never committed\n"
    assert git(ws, "status", "--porcelain") == "?? notes.txt"
    assert git(origin, "rev-list", "--merges", "main") == ""

    # Flux's commit of a tag the sandbox published, which the lab's bundled list lacks, is still Flux's:
    # the sandbox kept what was pushed into its registry, so the check says where the tag came from.
    check = run_lab("check", "--offline", "--format", "json", env=learner, cwd=ws)
    row = next(c for c in json.loads(check.stdout)["checks"] if c["id"] == "git.flux-commit")
    assert row["status"] == "pass", row
    compared = next(e["text"] for e in row["evidence"] if e["ref"] == "compared with Flux")
    assert (
        "with 1.25.6 it lacks (pushed into the sandbox's registry, which the tags bundled with task 09b"
        in (compared)
    ), compared
