"""`lab sync` / lab.services.sync: fetch, rebase (or merge), push, with real git and bare origins.

Flux's commits are made by a second clone committing as Flux (as image-automation-controller does),
then the learner's clone has to integrate them before its push is accepted.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from gitutil import commit_files, git, make_repo_with_origin, origin_log

from lab.services.sync import origin_status, sync

FLUX = ("Flux", "flux@gitops-lab.local")
DEPLOY = "apps/base/nginx/deployment.yaml"
BASE = {
    DEPLOY: "spec:\n  containers:\n    - name: nginx\n      image: nginx:1.25.0 # marker\n",
    "PROGRESS.md": "| 09 | ⬜ | |\n",
}


def flux_commits(origin: Path, tmp_path: Path, files: dict[str, str], message: str) -> str:
    """Flux pushes to origin from its own clone (like image-automation-controller)."""
    other = tmp_path / "flux-clone"
    if not other.exists():
        git(tmp_path, "clone", "-q", "-b", "main", str(origin), str(other))
    else:
        git(other, "pull", "-q", "--rebase", "origin", "main")
    sha = commit_files(other, files, message, author=FLUX)
    git(other, "push", "-q", "origin", "main")
    return sha


def snapshot(work: Path) -> tuple[str, str, dict[str, bytes]]:
    files = {
        str(p.relative_to(work)): p.read_bytes()
        for p in sorted(work.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(work).parts
    }
    return git(work, "rev-parse", "HEAD"), git(work, "status", "--porcelain"), files


@pytest.fixture
def repo(tmp_path: Path) -> tuple[Path, Path]:
    return make_repo_with_origin(tmp_path, BASE)


def test_status_names_flux_commits_the_learner_lacks(repo: tuple[Path, Path], tmp_path: Path) -> None:
    work, origin = repo
    flux_commits(origin, tmp_path, {DEPLOY: BASE[DEPLOY].replace("1.25.0", "1.25.3")}, "Update nginx")
    status = origin_status(work)
    assert status.behind_line() == "origin has 1 commit by Flux you don't have"
    assert [c.subject for c in status.behind] == ["Update nginx"]
    assert status.ahead == []
    assert "git pull --rebase" in status.summary()
    assert status.commit_lines()[0].endswith("Flux: Update nginx")


def test_diverged_history_is_rebased_and_pushed_as_a_straight_line(
    repo: tuple[Path, Path], tmp_path: Path
) -> None:
    work, origin = repo
    flux_commits(origin, tmp_path, {DEPLOY: BASE[DEPLOY].replace("1.25.0", "1.25.3")}, "Update nginx")
    commit_files(work, {"PROGRESS.md": "| 09 | ✅ | done |\n"}, "Mark task 09 done in PROGRESS.md")
    # The lesson: a plain push is rejected now.
    rejected = subprocess.run(["git", "push", "origin", "main"], cwd=work, capture_output=True, text=True)
    assert rejected.returncode != 0

    result = sync(work)

    assert result.outcome == "integrated", result.report()
    assert result.commands == ["git fetch origin", "git rebase origin/main", "git push origin main"]
    assert [c.subject for c in result.integrated] == ["Update nginx"]
    assert [c.subject for c in result.pushed] == ["Mark task 09 done in PROGRESS.md"]
    assert "git pull --rebase && git push" in result.message
    assert origin_log(origin)[:3] == [
        "Learner <learner@example.com>|Mark task 09 done in PROGRESS.md",
        "Flux <flux@gitops-lab.local>|Update nginx",
        "Learner <learner@example.com>|initial",
    ]
    assert git(origin, "rev-list", "--merges", "main") == ""
    assert git(work, "rev-parse", "HEAD") == git(origin, "rev-parse", "main")
    assert "1.25.3" in (work / DEPLOY).read_text()


def test_merge_strategy_joins_histories_with_a_merge_commit(repo: tuple[Path, Path], tmp_path: Path) -> None:
    work, origin = repo
    flux_commits(origin, tmp_path, {DEPLOY: BASE[DEPLOY].replace("1.25.0", "1.25.3")}, "Update nginx")
    commit_files(work, {"PROGRESS.md": "| 09 | ✅ | done |\n"}, "Mark task 09 done")
    result = sync(work, strategy="merge")
    assert result.ok, result.report()
    assert "git merge origin/main" in result.commands
    assert origin_log(origin, fmt="%s")[0] == "Merge origin/main into main"
    assert git(origin, "rev-list", "--merges", "main") != ""


def test_behind_only_fast_forwards_without_pushing(repo: tuple[Path, Path], tmp_path: Path) -> None:
    work, origin = repo
    flux_commits(origin, tmp_path, {DEPLOY: BASE[DEPLOY].replace("1.25.0", "1.25.3")}, "Update nginx")
    result = sync(work)
    assert result.outcome == "integrated"
    assert result.commands == ["git fetch origin", "git merge --ff-only origin/main"]
    assert result.pushed == []
    assert git(work, "rev-parse", "HEAD") == git(origin, "rev-parse", "main")


def test_in_sync_is_up_to_date(repo: tuple[Path, Path]) -> None:
    work, _origin = repo
    result = sync(work)
    assert result.outcome == "up-to-date"
    assert result.ok
    assert origin_status(work).summary() == "main is in sync with origin/main"


def test_conflict_aborts_the_rebase_and_leaves_everything_as_before(
    repo: tuple[Path, Path], tmp_path: Path
) -> None:
    work, origin = repo
    flux_commits(origin, tmp_path, {DEPLOY: BASE[DEPLOY].replace("1.25.0", "1.25.3")}, "Update nginx")
    commit_files(work, {DEPLOY: BASE[DEPLOY].replace("nginx:1.25.0", "nginx:1.24.0")}, "Pin nginx 1.24")
    (work / "notes.txt").write_text("untracked, must survive\n")
    before = snapshot(work)
    origin_before = git(origin, "rev-parse", "main")

    result = sync(work)

    assert result.outcome == "conflict"
    assert not result.ok
    assert snapshot(work) == before
    assert git(origin, "rev-parse", "main") == origin_before
    assert not (work / ".git" / "rebase-merge").exists()
    conflict = result.conflict
    assert conflict is not None
    assert conflict.files == [DEPLOY]
    assert [c.subject for c in conflict.theirs] == ["Update nginx"]
    assert conflict.ours is not None and conflict.ours.subject == "Pin nginx 1.24"
    assert "nginx:1.25.3" in conflict.origin_lines
    assert "nginx:1.24.0" in conflict.your_lines
    text = result.report()
    assert f"conflict in {DEPLOY}" in text
    assert "by Flux (Update nginx)" in text
    assert "git rebase --abort" in result.commands
    assert "exactly as before" in text


def test_uncommitted_changes_are_refused_and_untouched(repo: tuple[Path, Path], tmp_path: Path) -> None:
    work, origin = repo
    flux_commits(origin, tmp_path, {"other.txt": "flux\n"}, "Flux adds a file")
    commit_files(work, {"PROGRESS.md": "| 09 | ✅ | done |\n"}, "Mark done")
    (work / DEPLOY).write_text(BASE[DEPLOY] + "# my edit\n")
    before = snapshot(work)
    result = sync(work)
    assert result.outcome == "refused"
    assert f"uncommitted changes in {DEPLOY}" in result.message
    assert "--stash" in result.message
    assert result.commands == []
    assert snapshot(work) == before


def test_stash_mode_stashes_syncs_and_restores_out_loud(repo: tuple[Path, Path], tmp_path: Path) -> None:
    work, origin = repo
    flux_commits(origin, tmp_path, {"other.txt": "flux\n"}, "Flux adds a file")
    commit_files(work, {"PROGRESS.md": "| 09 | ✅ | done |\n"}, "Mark done")
    edited = BASE[DEPLOY] + "# my edit\n"
    (work / DEPLOY).write_text(edited)
    result = sync(work, stash=True)
    assert result.ok, result.report()
    assert result.stashed and not result.stash_kept
    assert result.commands[0].startswith("git stash push")
    assert result.commands[-1] == "git stash pop"
    assert any("stashed your uncommitted changes" in s for s in result.steps)
    assert any("restored your uncommitted changes" in s for s in result.steps)
    assert (work / DEPLOY).read_text() == edited
    assert origin_log(origin, fmt="%s")[:2] == ["Mark done", "Flux adds a file"]
    assert git(work, "stash", "list") == ""


def test_stash_restored_after_a_conflict_too(repo: tuple[Path, Path], tmp_path: Path) -> None:
    work, origin = repo
    flux_commits(origin, tmp_path, {"PROGRESS.md": "| 09 | 🔄 | flux |\n"}, "Flux edits progress")
    commit_files(work, {"PROGRESS.md": "| 09 | ✅ | mine |\n"}, "Mark done")
    (work / DEPLOY).write_text(BASE[DEPLOY] + "# wip\n")
    before = snapshot(work)
    result = sync(work, stash=True)
    assert result.outcome == "conflict"
    assert result.conflict is not None and result.conflict.files == ["PROGRESS.md"]
    assert snapshot(work) == before
    assert git(work, "stash", "list") == ""


def test_no_identity_configured_still_rebases(
    repo: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work, origin = repo
    flux_commits(origin, tmp_path, {"other.txt": "flux\n"}, "Flux adds a file")
    commit_files(work, {"PROGRESS.md": "| 09 | ✅ | done |\n"}, "Mark done")
    for var in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"):
        monkeypatch.delenv(var)
    result = sync(work)
    assert result.ok, result.report()


def test_cli_sync_prints_the_git_commands(
    repo: tuple[Path, Path], tmp_path: Path, lab_cmd: list[str], lab_env: dict[str, str]
) -> None:
    work, origin = repo
    flux_commits(origin, tmp_path, {DEPLOY: BASE[DEPLOY].replace("1.25.0", "1.25.3")}, "Update nginx")
    commit_files(work, {"PROGRESS.md": "| 09 | ✅ | done |\n"}, "Mark done")

    status = subprocess.run(
        [*lab_cmd, "sync", "--status"], cwd=work, env=lab_env, capture_output=True, text=True
    )
    assert status.returncode == 1
    assert "origin has 1 commit by Flux you don't have" in status.stdout
    assert "Flux: Update nginx" in status.stdout

    (work / DEPLOY).write_text("edited\n")
    refused = subprocess.run([*lab_cmd, "sync"], cwd=work, env=lab_env, capture_output=True, text=True)
    assert refused.returncode == 1
    assert refused.stderr.startswith(
        "lab: cannot sync: uncommitted changes in apps/base/nginx/deployment.yaml"
    )
    assert "Traceback" not in refused.stderr
    git(work, "checkout", "--", DEPLOY)

    done = subprocess.run([*lab_cmd, "sync"], cwd=work, env=lab_env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[:3] == ["$ git fetch origin", "$ git rebase origin/main", "$ git push origin main"]
    assert "git pull --rebase && git push" in done.stdout
    assert origin_log(origin, fmt="%s")[:2] == ["Mark done", "Update nginx"]
