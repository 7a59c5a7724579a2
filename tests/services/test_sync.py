"""`lab sync` / lab.services.sync: fetch, rebase (or merge), push, with real git and bare origins.

Flux's commits are made by a second clone committing as Flux (as image-automation-controller does),
then the learner's clone has to integrate them before its push is accepted.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from lab.services.sync import origin_status, sync
from tests.support.gitutil import commit_files, git, make_repo_with_origin, origin_log
from tests.support.labrun import run_lab
from tests.support.practice_copy import copy_practice, practice_template

pytestmark = pytest.mark.slow

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


def test_stash_that_clashes_with_flux_says_how_to_finish(repo: tuple[Path, Path], tmp_path: Path) -> None:
    """Flux changed the line the learner edited without committing: the pop leaves both versions in the
    file and keeps the stash, so `git stash pop` (the old advice) would fail."""
    work, origin = repo
    flux = BASE[DEPLOY].replace("nginx:1.25.0", "nginx:1.25.3")
    assert flux != BASE[DEPLOY]
    flux_commits(origin, tmp_path, {DEPLOY: flux}, "Flux bumps nginx")
    commit_files(work, {"PROGRESS.md": "| 09 | ✅ | done |\n"}, "Mark done")
    (work / DEPLOY).write_text(BASE[DEPLOY].replace("nginx:1.25.0", "nginx:1.24.0"))
    result = sync(work, stash=True)
    assert result.stash_kept and "<<<<<<<" in (work / DEPLOY).read_text()
    (advice,) = [s for s in result.steps if s.startswith("they clash")]
    assert f"{DEPLOY} now hold both versions" in advice and "then `git stash drop`" in advice
    assert not any("`git stash pop` when ready" in s for s in result.steps)
    assert git(work, "stash", "list") != ""  # the learner's change is still there


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
    repo: tuple[Path, Path], tmp_path: Path, lab_env: dict[str, str]
) -> None:
    work, origin = repo
    flux_commits(origin, tmp_path, {DEPLOY: BASE[DEPLOY].replace("1.25.0", "1.25.3")}, "Update nginx")
    commit_files(work, {"PROGRESS.md": "| 09 | ✅ | done |\n"}, "Mark done")

    status = run_lab("sync", "--status", env=lab_env, cwd=work)
    assert status.returncode == 1
    assert "origin has 1 commit by Flux you don't have" in status.stdout
    assert "Flux: Update nginx" in status.stdout

    (work / DEPLOY).write_text("edited\n")
    refused = run_lab("sync", env=lab_env, cwd=work)
    assert refused.returncode == 1
    assert refused.stderr.startswith(
        "lab: cannot sync: uncommitted changes in apps/base/nginx/deployment.yaml"
    )
    assert "Traceback" not in refused.stderr
    git(work, "checkout", "--", DEPLOY)

    done = run_lab("sync", env=lab_env, cwd=work)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[:3] == ["$ git fetch origin", "$ git rebase origin/main", "$ git push origin main"]
    assert "git pull --rebase && git push" in done.stdout
    assert origin_log(origin, fmt="%s")[:2] == ["Mark done", "Update nginx"]


# -- truthful commit messages; the quiz record travels with the work ---------------------------------


def _right_answers() -> str:
    from lab.services.tasks import load_task

    return ",".join(str(q.answer + 1) for q in load_task("09b").quiz.questions)


def test_commit_messages_say_what_is_committed_and_the_quiz_record_is_pushed(
    tmp_path: Path, lab_env: dict[str, str]
) -> None:
    from tests.support.gitutil import practice

    ws = practice(tmp_path)
    origin = Path(git(ws, "remote", "get-url", "origin"))
    assert run_lab("generate", env=lab_env, cwd=ws).returncode == 0
    assert run_lab("mark", DEPLOY, "--policy", "flux-system:nginx", env=lab_env, cwd=ws).returncode == 0
    (ws / "scratch.txt").write_text("not part of the task\n")

    first = run_lab("sync", "--commit", env=lab_env, cwd=ws)
    assert first.returncode == 0, first.stderr
    assert '$ git commit -m "Add image automation"' in first.stdout
    assert origin_log(origin, fmt="%s")[0] == "Add image automation"
    assert DEPLOY in git(origin, "show", "--name-only", "--format=", "main")

    assert run_lab("progress", "--done", "09", env=lab_env, cwd=ws).returncode in (0, 1)
    second = run_lab("sync", "--commit", env=lab_env, cwd=ws)
    assert second.returncode == 0, second.stderr
    assert origin_log(origin, fmt="%s")[0] == "Mark task 09 done in PROGRESS.md"

    quiz = run_lab("quiz", "--answers", _right_answers(), env=lab_env, cwd=ws)
    assert quiz.returncode == 0, quiz.stdout + quiz.stderr
    third = run_lab("sync", "--commit", env=lab_env, cwd=ws)
    assert third.returncode == 0, third.stderr
    subject = origin_log(origin, fmt="%s")[0]
    from lab.services.tasks import load_task

    n = len(load_task("09b").quiz.questions)
    assert subject == f"Record the quiz result ({n}/{n}, passed)"
    assert ".fluxlab/quiz.json" in git(origin, "ls-tree", "-r", "--name-only", "main")
    # Only the task's files were committed; the learner's scratch file is untouched and untracked.
    assert git(ws, "status", "--porcelain") == "?? scratch.txt"
    subjects = origin_log(origin, fmt="%s")
    assert subjects.count("Add image automation") == 1


def test_one_commit_of_several_kinds_names_each(tmp_path: Path) -> None:
    from lab.services.progress import mark_progress
    from lab.services.sync import commit_work
    from tests.support.gitutil import practice

    ws = practice(tmp_path)
    mark_progress(ws, "09")
    record = ws / ".fluxlab" / "quiz.json"
    record.parent.mkdir(exist_ok=True)
    record.write_text('{"task": "09b", "score": 3, "total": 6, "passed": false}\n')
    made = commit_work(ws)
    assert made is not None
    assert made.subject == "Mark task 09 done in PROGRESS.md; record the quiz result (3/6, not passed)"
    assert made.paths == ["PROGRESS.md", ".fluxlab/quiz.json"]
    assert "- .fluxlab/quiz.json (new)" in made.message
    assert commit_work(ws) is None


def test_a_commit_of_marker_changes_says_what_the_markers_do(tmp_path: Path) -> None:
    """`p` (lab sync --commit) called marking the exercises' files "update apps/base/shop/worker.yaml,
    apps/dev/kustomization.yaml", and dropping or re-pointing the Deployment's marker "update": the
    subject says that images are marked for Flux, or which marker is removed or changed."""
    from lab.services.sync import commit_work
    from tests.support.gitutil import make_practice
    from tests.support.taskfiles import MARKER, solution_text

    multi = make_practice(tmp_path / "multi", "09b-multi")
    for rel in ("apps/base/shop/worker.yaml", "apps/dev/kustomization.yaml"):
        (multi / rel).write_text(solution_text(rel, "09b-multi"))
    made = commit_work(multi, "09b-multi")
    assert made is not None
    assert (
        made.subject == "Mark 2 images in worker.yaml and kustomization.yaml for Flux (image policy markers)"
    )

    # With the automation added in the same commit, the Deployment's markers are still named when
    # other files get markers too: "mark the image in worker.yaml" hid three of them.
    whole = make_practice(tmp_path / "whole", "09b-multi")
    for rel in (
        "clusters/dev/image-automation/image-repository.yaml",
        "clusters/dev/image-automation/image-policy.yaml",
        "apps/base/shop/deployment.yaml",
        "apps/base/shop/worker.yaml",
        "apps/dev/kustomization.yaml",
    ):
        (whole / rel).write_text(solution_text(rel, "09b-multi"))
    made = commit_work(whole, "09b-multi")
    assert made is not None
    assert made.subject == (
        "Automate all four images of the shop; mark 4 images in deployment.yaml, worker.yaml and kustomization.yaml "
        "for Flux (image policy markers)"
    )

    staging = make_practice(tmp_path / "staging", "09b-staging")
    for rel in ("apps/base/shop/deployment.yaml", "apps/staging/kustomization.yaml"):
        (staging / rel).write_text(solution_text(rel, "09b-staging"))
    made = commit_work(staging, "09b-staging")
    assert made is not None
    assert made.subject == (
        "Remove the image policy marker from deployment.yaml (flux-system:shop); mark the image in "
        "kustomization.yaml for Flux (image policy marker), with other edits"
    )

    ws = make_practice(tmp_path / "course")
    deploy = ws / DEPLOY
    deploy.write_text(deploy.read_text().replace("image: nginx:1.25.0", f"image: nginx:1.25.0 {MARKER}"))
    made = commit_work(ws)
    assert made is not None
    assert made.subject == "Mark the image in deployment.yaml for Flux (image policy marker)"
    deploy.write_text(deploy.read_text().replace("flux-system:nginx", "flux-system:web"))
    made = commit_work(ws)
    assert made is not None
    assert made.subject == (
        "Change the image policy marker in deployment.yaml (flux-system:nginx -> flux-system:web)"
    )
    deploy.write_text(deploy.read_text().replace("replicas: 1", "replicas: 2"))
    made = commit_work(ws)
    assert made is not None and made.subject == f"Update {DEPLOY}"


def test_editing_the_policy_later_is_an_update_not_another_add(tmp_path: Path) -> None:
    from lab.services.sync import commit_work, push_work
    from tests.support.gitutil import practice

    ws = practice(tmp_path)
    from lab.core.manifests.generate import GenerateOptions
    from lab.services.generate import generate

    generate(ws, GenerateOptions())
    first = push_work(ws)
    assert first.ok and first.commit is not None
    assert first.commit.subject == "Add image automation"
    policy = ws / "clusters/dev/image-automation/image-policy.yaml"
    policy.write_text(policy.read_text().replace("1.25.x", "1.26.x"))
    again = commit_work(ws)
    assert again is not None
    assert again.subject == "Update image automation (image-policy.yaml)"


# -- "committed without pulling" in a shell -----------------------------------------------------------


def _git_pushed(lab_env: dict[str, str], ws: Path) -> dict[str, object]:
    import json

    proc = run_lab("check", "--offline", "--format", "json", env=lab_env, cwd=ws)
    assert proc.returncode in (0, 1), proc.stderr
    checks = {c["id"]: c for c in json.loads(proc.stdout)["checks"]}
    return checks["git.pushed"]


def test_check_catches_committed_without_pulling_and_prints_the_fix(
    tmp_path: Path, lab_env: dict[str, str]
) -> None:
    from tests.support.gitutil import practice

    ws = practice(tmp_path)
    tags = tmp_path / "tags.txt"
    tags.write_text("1.25.2\n1.25.3\n")
    assert run_lab("solve", str(ws), env=lab_env, cwd=ws).returncode == 0
    sim = run_lab("simulate", "--tags-file", str(tags), env=lab_env, cwd=ws)
    assert sim.returncode == 0, sim.stderr
    # The learner marks the task done and commits, without pulling Flux's commit first.
    assert run_lab("progress", "--done", "09", env=lab_env, cwd=ws).returncode in (0, 1)
    git(ws, "commit", "-qam", "Mark task 09 done")
    push = subprocess.run(["git", "push"], cwd=ws, capture_output=True, text=True)
    assert push.returncode != 0  # rejected: fetch first

    check = _git_pushed(lab_env, ws)
    assert check["status"] == "fail"
    assert "have diverged" in str(check["message"])
    assert "origin has 1 commit by Flux you don't have" in str(check["message"])
    assert '"Mark task 09 done"' in str(check["message"])
    assert str(check["hint"]).startswith("git pull --rebase && git push")

    git(ws, "pull", "-q", "--rebase")
    git(ws, "push", "-q")
    check = _git_pushed(lab_env, ws)
    assert check["status"] == "pass", check


def test_check_fails_committed_but_unpushed_work(tmp_path: Path, lab_env: dict[str, str]) -> None:
    from tests.support.gitutil import practice

    ws = practice(tmp_path)
    assert run_lab("solve", str(ws), env=lab_env, cwd=ws).returncode == 0
    assert run_lab("progress", "--done", "09", env=lab_env, cwd=ws).returncode in (0, 1)
    noted = _git_pushed(lab_env, ws)
    assert noted["status"] == "pass"
    assert "; note: not committed yet (graders read origin): PROGRESS.md" in str(noted["message"])
    git(ws, "commit", "-qam", "Mark task 09 done")
    check = _git_pushed(lab_env, ws)
    assert check["status"] == "fail"
    assert str(check["message"]).startswith("1 commit not pushed to origin/main:")
    assert check["hint"] == "git push"


def test_flux_pushing_between_fetch_and_push_is_integrated_on_retry(
    repo: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lab.adapters.git import Workspace

    work, origin = repo
    flux_commits(origin, tmp_path, {"other.txt": "flux 1\n"}, "Flux one")
    commit_files(work, {"PROGRESS.md": "| 09 | ✅ | done |\n"}, "Mark done")
    real_push = Workspace.push
    raced: list[bool] = []

    def push_after_flux(self: Workspace, branch: str, remote: str = "origin", **kw: bool) -> None:
        if not raced:  # the sandbox's Flux commits again right after our fetch
            raced.append(True)
            flux_commits(origin, tmp_path, {"other.txt": "flux 2\n"}, "Flux two")
        real_push(self, branch, remote, **kw)

    monkeypatch.setattr(Workspace, "push", push_after_flux)
    result = sync(work)
    assert result.ok, result.report()
    assert result.commands.count("git push origin main") == 2
    assert any("origin moved while we were pushing" in s for s in result.steps)
    assert origin_log(origin, fmt="%s")[:3] == ["Mark done", "Flux two", "Flux one"]


def test_push_work_refuses_before_committing_when_other_files_are_dirty(tmp_path: Path) -> None:
    from lab.services.progress import mark_progress
    from lab.services.sync import push_work
    from tests.support.gitutil import practice

    ws = practice(tmp_path)
    mark_progress(ws, "09")
    (ws / "README.md").write_text("my own edit\n")
    head = git(ws, "rev-parse", "HEAD")
    result = push_work(ws)
    assert result.commit is None and result.sync.outcome == "refused"
    assert "uncommitted changes in README.md, which are not the task's files" in result.sync.message
    assert git(ws, "rev-parse", "HEAD") == head
    assert sorted(ln.split()[-1] for ln in git(ws, "status", "--porcelain").splitlines()) == [
        "PROGRESS.md",
        "README.md",
    ]
    stashed = push_work(ws, stash=True)
    assert stashed.ok, stashed.report()
    assert stashed.commit is not None and stashed.commit.subject == "Mark task 09 done in PROGRESS.md"
    assert (ws / "README.md").read_text() == "my own edit\n"


def test_first_push_of_a_branch_sets_its_upstream(tmp_path: Path) -> None:
    from tests.support.gitutil import make_bare, make_repo

    origin = make_bare(tmp_path / "o.git")
    work = make_repo(tmp_path / "w")
    git(work, "remote", "add", "origin", str(origin))
    result = sync(work)
    assert result.outcome == "pushed", result.report()
    assert result.commands == ["git fetch origin", "git push -u origin main"]
    assert git(work, "rev-parse", "--abbrev-ref", "main@{upstream}") == "origin/main"


def test_push_work_conflict_says_the_commit_it_made_stays(tmp_path: Path) -> None:
    """It said 'your branch and files are exactly as before ... nothing was changed' while the commit
    of the learner's edit it had just made stayed on main, ahead of origin."""
    from lab.services.sync import push_work
    from tests.support.gitutil import practice

    ws = practice(tmp_path)
    origin = Path(git(ws, "remote", "get-url", "origin").strip())
    deploy = "apps/base/nginx/deployment.yaml"
    flux = (ws / deploy).read_text().replace("nginx:1.25.0", "nginx:1.25.3")
    flux_commits(origin, tmp_path, {deploy: flux}, "Flux bumps nginx")
    (ws / deploy).write_text((ws / deploy).read_text().replace("nginx:1.25.0", "nginx:1.24.0"))
    result = push_work(ws)
    assert result.commit is not None and result.sync.outcome == "conflict"
    short = result.commit.sha[:7]
    assert f"your work is committed as {short} on main, not pushed." in result.sync.message
    assert any(f"as lab's commit {short} left them" in s for s in result.sync.steps)
    assert not any("exactly as before" in s for s in result.sync.steps)
    assert git(ws, "rev-parse", "--short=7", "HEAD").strip() == short


def test_a_conflict_left_in_the_files_is_named_before_anything_runs(
    repo: tuple[Path, Path], tmp_path: Path
) -> None:
    """After a stash pop that clashed, `p` failed with 'git stash ... failed: (no output)'."""
    work, origin = repo
    flux_commits(origin, tmp_path, {"PROGRESS.md": "| 09 | 🔄 | flux |\n"}, "Flux edits progress")
    (work / "PROGRESS.md").write_text("| 09 | ✅ | mine |\n")
    first = sync(work, stash=True)
    assert first.stash_kept and "<<<<<<<" in (work / "PROGRESS.md").read_text()
    again = sync(work, stash=True)
    assert again.outcome == "refused"
    assert again.message.startswith(
        "PROGRESS.md still holds a conflict (<<<<<<< markers); nothing was changed"
    )


def test_a_rebase_stopped_on_a_conflict_is_named_with_its_branch(
    repo: tuple[Path, Path], tmp_path: Path
) -> None:
    """Mid-rebase (the app's own advice, run in a shell) the app said 'HEAD is detached: git switch
    main' and 'p does it for you' (git refuses to switch), and origin's log read '(origin has no commits)'."""
    from lab.tui.screens.flux import origin_summary

    work, origin = repo
    flux_commits(origin, tmp_path, {"PROGRESS.md": "| 09 | 🔄 | flux |\n"}, "Flux edits progress")
    commit_files(work, {"PROGRESS.md": "| 09 | ✅ | mine |\n"}, "Mark done")
    git(work, "fetch", "-q", "origin")
    subprocess.run(["git", "rebase", "origin/main"], cwd=work, capture_output=True, check=False)
    status = origin_status(work, fetch=False)
    assert status.in_progress == "rebase" and status.branch == "main" and status.remote_head
    assert status.conflicted == ["PROGRESS.md"] and "PROGRESS.md" not in status.dirty
    text = origin_summary(status)
    assert text.startswith("a rebase of main is stopped; conflicts in PROGRESS.md: keep the lines you want")
    assert "git rebase --continue (or git rebase --abort to go back)" in text and "p does it" not in text


# -- deleting a file the task's checks need ----------------------------------------------------------

UPDATE = "clusters/dev/image-automation/image-update.yaml"
POLICY = "clusters/dev/image-automation/image-policy.yaml"


def _pushed_automation(tmp_path: Path) -> tuple[Path, Path]:
    """A practice repo whose image automation is committed and on origin, as after the task's first p."""
    from lab.core.manifests.generate import GenerateOptions
    from lab.services.generate import generate
    from lab.services.sync import push_work
    from tests.support.gitutil import practice

    ws = practice(tmp_path)
    generate(ws, GenerateOptions())
    assert push_work(ws).ok
    return ws, Path(git(ws, "remote", "get-url", "origin"))


def test_a_deleted_task_file_is_not_committed_unless_allowed(tmp_path: Path) -> None:
    """p committed `rm image-update.yaml` as "Update image automation (image-update.yaml)" and pushed
    it: the sandbox's Flux pruned the ImageUpdateAutomation."""
    from lab.services.sync import push_work

    ws, origin = _pushed_automation(tmp_path)
    (ws / UPDATE).unlink()
    head = git(ws, "rev-parse", "HEAD")
    refused = push_work(ws, stash=True)
    assert refused.sync.outcome == "refused" and refused.commit is None
    assert refused.deleted == [UPDATE]
    assert refused.sync.message.startswith(f"{UPDATE} is deleted and the task's checks need it")
    assert f"hint: git restore {UPDATE} brings it back" in refused.sync.message
    assert "\n" not in refused.sync.message
    assert refused.restore == f"git restore {UPDATE}"
    assert (
        "deleted file mode" in refused.deleted_diff and "-kind: ImageUpdateAutomation" in refused.deleted_diff
    )
    assert git(ws, "rev-parse", "HEAD") == head and git(origin, "rev-parse", "main") == head
    assert git(ws, "status", "--porcelain") == f"D {UPDATE}"

    allowed = push_work(ws, stash=True, allow_delete=True)
    assert allowed.ok, allowed.report()
    assert allowed.commit is not None and allowed.commit.subject == "Delete image-update.yaml"
    assert f"- {UPDATE} (deleted)" in allowed.commit.message
    assert allowed.commit.commands[0] == f"git rm {UPDATE}"
    assert UPDATE not in git(origin, "ls-tree", "-r", "--name-only", "main")


def test_an_update_and_a_staged_deletion_say_both(tmp_path: Path) -> None:
    """A `git rm` (the deletion staged) made the commit fail: `git add` of a file neither on disk nor in
    the index is "did not match any files"."""
    from lab.services.sync import push_work

    ws, origin = _pushed_automation(tmp_path)
    git(ws, "rm", "-q", UPDATE)
    (ws / POLICY).write_text((ws / POLICY).read_text().replace("1.25.x", "1.26.x"))
    refused = push_work(ws)
    assert refused.deleted == [UPDATE]
    assert f"hint: git restore --staged --worktree {UPDATE} brings it back" in refused.sync.message
    assert git(ws, "status", "--porcelain", "--", UPDATE) == f"D  {UPDATE}"
    assert git(ws, "diff", "--name-only") == POLICY  # still uncommitted: nothing was changed
    allowed = push_work(ws, allow_delete=True)
    assert allowed.ok, allowed.report()
    assert allowed.commit is not None
    assert (
        allowed.commit.subject == "Update image automation (image-policy.yaml) and delete image-update.yaml"
    )
    assert allowed.commit.commands[0] == f"git add {POLICY}"  # the staged deletion needs no command
    assert not any(c.startswith("git rm") for c in allowed.commit.commands)
    assert origin_log(origin, fmt="%s")[0] == allowed.commit.subject


def test_cli_sync_commit_refuses_a_deletion_in_one_line_and_allow_delete_commits_it(
    tmp_path: Path, lab_env: dict[str, str]
) -> None:
    ws, origin = _pushed_automation(tmp_path)
    (ws / UPDATE).unlink()
    refused = run_lab("sync", "--commit", env=lab_env, cwd=ws)
    assert refused.returncode == 1
    assert refused.stdout == ""
    assert refused.stderr.startswith(f"lab: cannot sync: {UPDATE} is deleted and the task's checks need it")
    assert "lab sync --commit --allow-delete" in refused.stderr
    assert refused.stderr.count("\n") == 1 and "Traceback" not in refused.stderr
    assert (ws / ".git").is_dir() and git(ws, "status", "--porcelain") == f"D {UPDATE}"

    alone = run_lab("sync", "--allow-delete", env=lab_env, cwd=ws)
    assert alone.returncode == 2 and "--allow-delete only applies to --commit" in alone.stderr

    done = run_lab("sync", "--commit", "--allow-delete", env=lab_env, cwd=ws)
    assert done.returncode == 0, done.stderr
    assert f"$ git rm {UPDATE}" in done.stdout
    assert '$ git commit -m "Delete image-update.yaml"' in done.stdout
    assert origin_log(origin, fmt="%s")[0] == "Delete image-update.yaml"


# -- a detached HEAD, a stopped rebase, a branch Flux does not deploy ---------------------------------


def test_detached_on_a_commit_origin_has_says_so_and_shows_origins_log(tmp_path: Path) -> None:
    """Detached at HEAD~1 the Origin tab read '(origin has no commits)' and the state bar 'HEAD
    (detached): not on origin yet', beside 'p does it for you' (p refuses a detached HEAD)."""
    from lab.services.session import read_state
    from lab.services.sync import push_work
    from lab.tui.screens.base import git_parts
    from lab.tui.screens.flux import origin_summary
    from tests.support.tui_helpers import make_session

    ws, _origin = _pushed_automation(tmp_path)
    git(ws, "checkout", "-q", "--detach", "HEAD~1")
    short = git(ws, "rev-parse", "--short=7", "HEAD")
    status = origin_status(ws, fetch=False)
    assert git_parts(status)[0] == f"detached at {short} (on origin)"
    assert status.branch is None and status.detached_on == ["main"]
    text = origin_summary(status)
    assert (
        text == f"HEAD is detached at {short} (on origin/main): git switch main to work on your branch again"
    )
    assert "p does it" not in text and "p commits" not in text
    state = read_state(make_session(ws), fetch=False)
    assert [c.subject for c in state.origin_log][:1] == ["Add image automation"]
    assert state.git is not None and state.git.log_branch == "main"
    refused = push_work(ws)
    assert refused.sync.message.startswith(f"HEAD is detached at {short} (on origin/main)")

    # A commit made while detached is only here: switching away would leave it behind.
    (ws / "notes.txt").write_text("mine\n")
    git(ws, "add", "notes.txt")
    git(ws, "commit", "-qm", "detached work")
    lost = origin_status(ws, fetch=False)
    assert lost.detached_on == []
    assert git_parts(lost)[0].endswith("(not on origin)")
    assert "git switch -c NAME keeps it on a new branch" in lost.summary()


def test_a_stopped_rebase_is_named_by_p_and_lab_sync_not_a_detached_head(
    repo: tuple[Path, Path], tmp_path: Path, lab_env: dict[str, str]
) -> None:
    """Mid-rebase p said 'HEAD is detached - hint: git switch main', which git refuses while rebasing."""
    from lab.services.sync import push_work

    work, origin = repo
    flux_commits(origin, tmp_path, {"PROGRESS.md": "| 09 | 🔄 | flux |\n"}, "Flux edits progress")
    commit_files(work, {"PROGRESS.md": "| 09 | ✅ | mine |\n"}, "Mark done")
    git(work, "fetch", "-q", "origin")
    subprocess.run(["git", "rebase", "origin/main"], cwd=work, capture_output=True, check=False)
    before = snapshot(work)
    for result in (sync(work), push_work(work).sync):
        assert result.outcome == "refused"
        assert result.message == (
            "a rebase of main is stopped; conflicts in PROGRESS.md; nothing was changed - hint: keep the "
            "lines you want, git add the file(s), git rebase --continue (or git rebase --abort to go back)"
        )
    cli = run_lab("sync", "--commit", env=lab_env, cwd=work)
    assert cli.returncode == 1 and "git switch" not in cli.stderr
    assert cli.stderr.startswith("lab: cannot sync: a rebase of main is stopped; conflicts in PROGRESS.md")
    assert snapshot(work) == before
    # The commands that commit for the learner say the same, never "git switch main" (git refuses it).
    solve = run_lab("solve", ".", env=lab_env, cwd=work)
    assert solve.returncode != 0 and "git switch" not in solve.stderr, solve.stderr
    assert "a rebase of main is stopped; conflicts in PROGRESS.md" in solve.stderr
    assert "git rebase --continue (or git rebase --abort to go back)" in solve.stderr
    # Resolved and added, not continued yet: no conflict left to name, the rebase still to finish.
    (work / "PROGRESS.md").write_text("| 09 | ✅ | mine |\n")
    git(work, "add", "PROGRESS.md")
    assert sync(work).message.endswith("git rebase --continue finishes it (or git rebase --abort to go back)")


def test_a_branch_flux_does_not_deploy_is_pushed_and_said_not_deployed(tmp_path: Path) -> None:
    """On `feature`, p pushed origin/feature and said only "pushed" (and "6 commits" for one): Flux
    reads main, so nothing of it was deployed."""
    from lab.services.sync import push_work

    ws, origin = _pushed_automation(tmp_path)
    git(ws, "switch", "-q", "-c", "feature")
    assert "Flux deploys main, not feature" in origin_status(ws, fetch=False).summary()
    (ws / POLICY).write_text((ws / POLICY).read_text().replace("1.25.x", "1.26.x"))
    result = push_work(ws)
    assert result.ok and result.sync.outcome == "pushed", result.report()
    assert result.sync.commands[-1] == "git push -u origin feature"
    assert git(origin, "rev-parse", "feature") == git(ws, "rev-parse", "HEAD")
    assert [c.subject for c in result.sync.pushed] == ["Update image automation (image-policy.yaml)"]
    assert result.sync.steps[-1].startswith("pushed 1 commit to origin/feature (a new branch)")
    note = result.sync.not_deployed
    assert note.startswith("Flux deploys main, not feature: what is on origin/feature is not deployed")
    assert "hint: git switch main && git merge feature" in note
    assert note in result.report()
    # Flux's branch is the task's GitRepository's (the sync file), not a fixed "main".
    from lab.services.sync import flux_branch

    sync_file = ws / "clusters/dev/flux-system/gotk-sync.yaml"
    sync_file.write_text(sync_file.read_text().replace("branch: main", "branch: feature"))
    assert flux_branch(ws).branch == "feature"


def test_a_report_graded_on_main_names_what_a_feature_branch_leaves_out(tmp_path: Path) -> None:
    """After pushing a feature branch the app toasted "All green": the checks grade origin/main."""
    from lab.services.check import off_branch_note
    from lab.services.sync import push_work

    ws, _origin = _pushed_automation(tmp_path)
    assert off_branch_note(origin_status(ws, fetch=False), "main") == ""
    git(ws, "switch", "-q", "-c", "feature")
    status = origin_status(ws, fetch=False)
    assert status.unmerged == []
    assert off_branch_note(status, "main") == (
        "The checks grade origin/main, which Flux deploys; you are on feature, which has nothing main lacks."
    )
    (ws / POLICY).write_text((ws / POLICY).read_text().replace("1.25.x", "1.26.x"))
    assert push_work(ws).ok
    status = origin_status(ws, fetch=False)
    assert status.in_sync and [c.subject for c in status.unmerged] == [
        "Update image automation (image-policy.yaml)"
    ]
    assert off_branch_note(status, "main") == (
        "The checks grade origin/main, which Flux deploys, not feature: its 1 commit main lacks is neither "
        "graded nor deployed until merged - git switch main && git merge feature, then p."
    )


def test_a_new_branch_without_commits_of_its_own_is_still_pushed(tmp_path: Path) -> None:
    from lab.services.sync import push_work

    ws, origin = _pushed_automation(tmp_path)
    git(ws, "switch", "-q", "-c", "empty")
    assert (
        origin_status(ws, fetch=False)
        .summary()
        .startswith(
            "origin has no branch empty yet, and it has no commits of its own (none that origin/main lacks)"
            " - git push -u origin empty"
        )
    )
    result = push_work(ws)
    assert result.ok and result.sync.outcome == "pushed", result.report()
    assert result.sync.steps[-1] == "pushed empty to origin (a new branch, no commits of its own yet)"
    assert git(origin, "rev-parse", "empty") == git(ws, "rev-parse", "HEAD")


def test_status_exit_code_says_whether_the_branch_is_on_origin(
    tmp_path: Path, lab_env: dict[str, str]
) -> None:
    """`lab sync --status` exited 0 on a new branch with no commits of its own: nothing to push, but
    origin has no such branch and Flux does not deploy it."""
    ws, _origin = _pushed_automation(tmp_path)

    def status() -> tuple[int, str]:
        proc = run_lab("sync", "--status", env=lab_env, cwd=ws)
        return proc.returncode, proc.stdout.strip()

    assert status() == (0, "main is in sync with origin/main")
    git(ws, "switch", "-q", "-c", "empty")
    assert status() == (
        1,
        "origin has no branch empty yet, and it has no commits of its own (none that origin/main lacks) - "
        "git push -u origin empty; Flux deploys main, not empty",
    )
    git(ws, "push", "-q", "-u", "origin", "empty")
    assert status() == (0, "empty is in sync with origin/empty; Flux deploys main, not empty")
    git(ws, "checkout", "-q", "--detach", "HEAD")
    code, text = status()
    assert code == 3 and text.startswith("HEAD is detached at"), text
    help_text = run_lab("sync", "--help", env=lab_env, cwd=ws).stdout
    assert "--status exits 0 when your branch is on origin at the same commit" in " ".join(help_text.split())


def test_a_kubeconfig_given_by_name_that_cannot_be_read_is_said(
    tmp_path: Path, lab_env: dict[str, str]
) -> None:
    """`lab sync --kubeconfig F` asks F which branch Flux deploys; when F cannot be read the sync file
    answers, as before, and the learner who named F is told why (it fell back without a word)."""
    ws, _origin = _pushed_automation(tmp_path)
    broken = tmp_path / "kubeconfig"
    broken.write_text("clusters: [\n")
    for named in (broken, tmp_path / "missing"):
        proc = run_lab("sync", "--status", "--kubeconfig", str(named), env=lab_env, cwd=ws)
        assert (proc.returncode, proc.stdout.strip()) == (0, "main is in sync with origin/main")
        note = proc.stderr.strip()
        assert note.startswith(f"lab: note: the cluster of {named} could not be read (kubeconfig {named} "), (
            note
        )
        assert note.endswith("); the branch Flux deploys is the sync file's") and "\n" not in note, note
    quiet = run_lab("sync", "--status", env=lab_env, cwd=ws)  # no cluster named: nothing said
    assert quiet.returncode == 0 and quiet.stderr == ""


def test_task_paths_lists_each_file_once() -> None:
    """A solution that holds PROGRESS.md and the quiz record listed both twice ("git add PROGRESS.md
    ... PROGRESS.md", and twice in the commit body)."""
    from lab.services.sync import task_paths

    paths = task_paths("09b-multi")
    assert "PROGRESS.md" in paths and len(paths) == len(set(paths)), paths


def test_p_commits_every_file_generate_writes_even_one_the_solution_leaves_alone(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, lab_env: dict[str, str]
) -> None:
    """09b-staging's solution leaves image-repository.yaml as the starter has it, so the task's files
    (read from the solution) did not hold it: after the form renamed the repository, p committed the
    policy and the automation and stashed the repository, and origin's policy named a repository origin
    did not have."""
    from lab.services.sync import push_work

    ws = copy_practice(practice_template(tmp_path_factory, "ws", task="09b-staging"), tmp_path / "ws")
    run_lab(
        "generate",
        "--force",
        "--name",
        "shop-staging",
        "--update-path",
        "./apps/staging",
        env=lab_env,
        cwd=ws,
        ok=True,
    )
    result = push_work(ws, "09b-staging")
    assert result.ok, result.report()
    assert git(ws, "status", "--porcelain").strip() == ""
    shown = git(ws, "show", "origin/main:clusters/dev/image-automation/image-repository.yaml")
    assert "name: shop-staging" in shown


def test_lab_simulate_says_what_flux_does_not_see_because_origin_lacks_it(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, lab_env: dict[str, str]
) -> None:
    ws = copy_practice(practice_template(tmp_path_factory, "ws", task="09b-staging"), tmp_path / "ws")
    clean = run_lab("simulate", "--dry-run", env=lab_env, cwd=ws, ok=True)
    assert "Flux reads origin" not in clean.stdout
    (ws / "apps/staging/kustomization.yaml").write_text("# mine\n", encoding="utf-8")
    dirty = run_lab("simulate", "--dry-run", env=lab_env, cwd=ws, ok=True)
    assert "Flux reads origin, which does not have your 1 uncommitted file" in dirty.stdout


#: What `_break_policy` makes wrong: no range, and a field the ImagePolicy schema does not declare.
BROKEN_POLICY = [
    f"{POLICY}:11: spec.policy.semver.range is empty or missing",
    f"{POLICY}:12: spec.policy.semver.ge is not a field of ImagePolicy; Flux's apply fails: "
    "ImagePolicy/flux-system/nginx dry-run failed: failed to create typed patch object "
    "(flux-system/nginx; image.toolkit.fluxcd.io/v1, Kind=ImagePolicy): .spec.policy.semver.ge: "
    "field not declared in schema",
]


def _break_policy(ws: Path) -> None:
    """`semver: ge: 1.25.x`: a field Flux does not know, and no range, which the policy needs."""
    path = ws / POLICY
    path.write_text(path.read_text().replace("range: 1.25.x", "ge: 1.25.x"))


def test_files_flux_refuses_are_not_pushed_unless_allowed(tmp_path: Path) -> None:
    """p pushed `semver: ge: 1.25.x` with only "Pushed"; the checks said why only afterwards."""
    from lab.services.sync import push_work

    ws, origin = _pushed_automation(tmp_path)
    _break_policy(ws)
    head = git(ws, "rev-parse", "HEAD")
    refused = push_work(ws, stash=True)
    assert refused.refused_invalid and refused.commit is None
    assert refused.problems == BROKEN_POLICY
    assert "--allow-invalid" in refused.sync.message and "\n" not in refused.sync.message
    # What the app's Origin tab shows: the refusal, the problem (once), the hint.
    lines = refused.report().splitlines()
    assert lines[1:] == [*(f"  {p}" for p in BROKEN_POLICY), lines[-1]], lines
    assert lines[-1].startswith("  hint: fix them") and refused.report().count("semver.range") == 1
    assert git(ws, "rev-parse", "HEAD") == head and git(origin, "rev-parse", "main") == head
    assert git(ws, "status", "--porcelain") == f"M {POLICY}"

    allowed = push_work(ws, stash=True, allow_invalid=True)
    assert allowed.ok and allowed.sync.pushed, allowed.report()
    assert allowed.problems == refused.problems
    assert "ge: 1.25.x" in git(origin, "show", f"main:{POLICY}")


def test_cli_sync_commit_says_each_problem_once_then_the_hint_once(
    tmp_path: Path, lab_env: dict[str, str]
) -> None:
    """The refusal repeated its first problem in its own line and again in the list below it: each
    problem once, the summary line once, the --allow-invalid hint once, after the problems."""
    ws, _ = _pushed_automation(tmp_path)
    _break_policy(ws)
    repository = ws / "clusters/dev/image-automation/image-repository.yaml"
    text = repository.read_text(encoding="utf-8")
    repository.write_text(text.replace("image: ", "image: HTTP://", 1), encoding="utf-8")
    refused = run_lab("sync", "--commit", env=lab_env, cwd=ws)
    assert refused.returncode == 1
    lines = refused.stderr.splitlines()
    # The policy's two (no range; `ge`, a field Flux does not know) and the repository's image.
    assert lines[0].startswith("lab: cannot sync: the files about to be pushed have 3 problems"), lines
    problems = [line for line in lines if line.startswith("  clusters/")]
    assert len(problems) == 3 and len(set(problems)) == 3, lines
    for problem in problems:
        assert refused.stderr.count(problem.strip()) == 1, refused.stderr
    assert refused.stderr.count("the files about to be pushed") == 1, refused.stderr
    assert refused.stderr.count("--allow-invalid") == 1, refused.stderr
    assert lines[-1].startswith("  hint: fix them") and "--allow-invalid" in lines[-1], lines


def test_pushing_without_a_marker_is_a_note_not_a_refusal(tmp_path: Path) -> None:
    from lab.core.manifests.generate import GenerateOptions
    from lab.services.generate import generate
    from lab.services.sync import NO_MARKER_NOTE, push_work
    from tests.support.gitutil import practice

    ws = practice(tmp_path)
    generate(ws, GenerateOptions())
    pushed = push_work(ws)
    assert pushed.ok and pushed.sync.pushed and not pushed.problems
    assert pushed.notes == [NO_MARKER_NOTE]
    assert f"note: {NO_MARKER_NOTE}" in pushed.report()
    again = push_work(ws)  # nothing outgoing: nothing to say
    assert again.notes == [] and again.sync.outcome == "up-to-date"


def test_cli_sync_commit_refuses_invalid_files_and_names_each_on_stderr(
    tmp_path: Path, lab_env: dict[str, str]
) -> None:
    ws, origin = _pushed_automation(tmp_path)
    _break_policy(ws)
    head = git(ws, "rev-parse", "HEAD")
    refused = run_lab("sync", "--commit", env=lab_env, cwd=ws)
    assert refused.returncode == 1
    assert refused.stderr.startswith("lab: cannot sync: the files about to be pushed have 2 problems")
    assert "".join(f"  {p}\n" for p in BROKEN_POLICY) in refused.stderr, refused.stderr
    assert git(origin, "rev-parse", "main") == head and git(ws, "status", "--porcelain") == f"M {POLICY}"

    pushed = run_lab("sync", "--commit", "--allow-invalid", env=lab_env, cwd=ws)
    assert pushed.returncode == 0, pushed.stderr
    assert f"lab: warning: {POLICY}:11: spec.policy.semver.range is empty or missing" in pushed.stderr
    assert git(origin, "rev-parse", "main") == git(ws, "rev-parse", "HEAD") != head


def test_the_first_commit_of_the_automation_says_the_tasks_own_message(
    tmp_path: Path, lab_env: dict[str, str]
) -> None:
    """`[solution] commit_message` is the task's word for this work: the app's `p` and `lab sync` commit
    the new automation with it, as `lab solve` does (the course task's is the message it always had)."""
    from lab.services.tasks import load_task
    from tests.support.taskfiles import author_task, edited

    assert load_task("09b").meta.commit_message == "Add image automation"
    folder, env = author_task(tmp_path, "t-msg", lab_env)
    meta = folder / "task.toml"
    meta.write_text(
        edited(meta.read_text(encoding="utf-8"), '"Add image automation"', '"Follow the nginx patches"'),
        encoding="utf-8",
    )
    ws = tmp_path / "repo"
    run_lab("init", ws, "--task", "t-msg", env=env, ok=True)
    run_lab("generate", env=env, cwd=ws, ok=True)
    run_lab("mark", DEPLOY, "--policy", "flux-system:nginx", env=env, cwd=ws, ok=True)
    pushed = run_lab("sync", "--commit", env=env, cwd=ws, ok=True)
    assert '$ git commit -m "Follow the nginx patches"' in pushed.stdout, pushed.stdout
    assert git(ws, "log", "-1", "--format=%s") == "Follow the nginx patches"


REPOSITORY = "clusters/dev/image-automation/image-repository.yaml"


def test_a_commit_of_part_of_the_automation_says_which_part(tmp_path: Path) -> None:
    """`p` (lab sync --commit) committed the ImageRepository alone with the task's "Add image automation"
    (an exercise's "Automate all four images of the shop"): the message says what the commit holds."""
    from lab.services.sync import commit_work
    from tests.support.gitutil import make_practice
    from tests.support.taskfiles import solution_text

    ws = make_practice(tmp_path / "ws", "09b")
    (ws / REPOSITORY).parent.mkdir(parents=True, exist_ok=True)
    (ws / REPOSITORY).write_text(solution_text(REPOSITORY))
    (ws / DEPLOY).write_text(solution_text(DEPLOY))
    made = commit_work(ws, "09b")
    assert made is not None
    assert made.subject == (
        "Add image automation: image-repository.yaml (not yet image-policy.yaml, image-update.yaml); "
        "mark the image in deployment.yaml for Flux (image policy marker)"
    ), made.subject
    # The rest of it: the automation is complete with this commit, which the task's message says.
    for rel in (POLICY, UPDATE):
        (ws / rel).write_text(solution_text(rel))
    made = commit_work(ws, "09b")
    assert made is not None and made.subject == "Add image automation", made.subject


@pytest.mark.parametrize(("task", "rel"), [("09b-staging", REPOSITORY), ("09b-guard", UPDATE)])
def test_unknown_fields_are_refused_in_a_task_without_that_kinds_check(
    task: str, rel: str, tmp_path: Path, lab_env: dict[str, str]
) -> None:
    """Tasks without image-repository.valid / image-update.valid pushed fields the sandbox refuses."""
    ws = tmp_path / "s1"
    run_lab("init", ws, "--task", task, env=lab_env, ok=True)
    run_lab("solve", ".", env=lab_env, cwd=ws, ok=True)
    path = ws / rel
    text = path.read_text(encoding="utf-8").replace(
        "\nspec:\n", "\nspec:\n  accessFrom: {namespaceSelectors: [{matchLabel: {a: b}}]}\n", 1
    )
    path.write_text(text.rstrip("\n") + "\nspecs: {}\n", encoding="utf-8")
    head = git(ws, "rev-parse", "HEAD")
    refused = run_lab("sync", "--commit", env=lab_env, cwd=ws)
    assert refused.returncode == 1, refused.stdout
    assert "the files about to be pushed have 2 problems" in refused.stderr, refused.stderr
    assert refused.stderr.count(f"  {rel}:") == 2, refused.stderr
    assert git(ws, "rev-parse", "HEAD") == head
    check = run_lab("check", "--offline", env=lab_env, cwd=ws)
    assert f"{rel}:" in check.stdout and "is not a field of" in check.stdout, check.stdout


def test_a_policy_selecting_no_tag_is_pushed_flux_accepts_it(tmp_path: Path, lab_env: dict[str, str]) -> None:
    """A filter keeping no tag: Flux's API takes the policy (it only goes Ready=False), so p pushes it."""
    ws = tmp_path / "s1"
    run_lab("init", ws, "--task", "09b-multi", env=lab_env, ok=True)
    run_lab("solve", ".", env=lab_env, cwd=ws, ok=True)
    path = ws / POLICY
    text = path.read_text(encoding="utf-8")
    nginx = text.index("name: nginx\n  namespace")
    spec = text.index("\nspec:\n", nginx) + len("\nspec:\n")
    path.write_text(
        text[:spec] + "  filterTags: {pattern: '^stable-[0-9]+$'}\n" + text[spec:], encoding="utf-8"
    )
    check = run_lab("check", "--offline", env=lab_env, cwd=ws)
    assert "matches none of the" in check.stdout, check.stdout  # the check still fails it
    pushed = run_lab("sync", "--commit", env=lab_env, cwd=ws)
    assert pushed.returncode == 0, pushed.stderr
    assert "filterTags" in git(Path(git(ws, "remote", "get-url", "origin")), "show", f"main:{POLICY}")


def test_the_push_check_validates_once_and_says_each_problem_once(tmp_path: Path) -> None:
    """The push check validated the task's files in its checks and every YAML file again: a file that
    does not parse was said twice ('invalid YAML' and 'not readable YAML'), and a reference to a missing
    object twice, each listing the objects its own validation had seen."""
    from unittest import mock

    import lab.core.manifests.validate as validation
    from lab.services.sync import push_problems

    ws, _ = _pushed_automation(tmp_path)
    redis = (
        "apiVersion: image.toolkit.fluxcd.io/v1\nkind: ImageRepository\nmetadata:\n  name: redis\n"
        "  namespace: flux-system\nspec:\n  image: library/redis\n  interval: 5m\n"
    )
    commit_files(ws, {"clusters/dev/other/repository.yaml": redis}, "another image")  # pushed: not outgoing
    git(ws, "push", "-q")
    policy = ws / POLICY
    text = policy.read_text(encoding="utf-8")
    assert "imageRepositoryRef:\n    name: nginx\n" in text
    policy.write_text(
        text.replace("imageRepositoryRef:\n    name: nginx", "imageRepositoryRef:\n    name: ngnix"),
        encoding="utf-8",
    )
    with mock.patch.object(validation, "validate", wraps=validation.validate) as validate:
        checked = push_problems(ws)
    assert validate.call_count == 1
    assert len(checked.problems) == 1, checked.problems
    assert "imageRepositoryRef 'ngnix' matches no ImageRepository in flux-system" in checked.problems[0]
    assert "redis (flux-system, clusters/dev/other/repository.yaml:1)" in checked.problems[0]

    policy.write_text(text.replace("range: 1.25.x", "range: [1.25.x"), encoding="utf-8")
    checked = push_problems(ws)
    assert len(checked.problems) == 1, checked.problems
    assert (
        checked.problems[0].startswith(f"{POLICY}:") and ": invalid YAML: the [ opened" in checked.problems[0]
    )


def test_a_commit_asks_git_status_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What `lab sync`, `lab solve` and the simulated Flux commit through: one `git status` says both
    whether the paths changed and which were deleted (it ran twice per commit); a staged deletion is
    still committed, and nothing to commit is still refused."""
    from lab.adapters import git as git_adapter
    from lab.adapters.git import GitError, open_workspace

    work, _origin = make_repo_with_origin(tmp_path, {"a.txt": "a\n", "b.txt": "b\n"})
    ws = open_workspace(work)
    ran: list[str] = []
    run = git_adapter._run

    def counted(args: list[str], **options: object) -> object:
        ran.append(args[0])
        return run(args, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(git_adapter, "_run", counted)
    (work / "a.txt").write_text("changed\n")
    git(work, "rm", "-q", "b.txt")
    sha = ws.commit(["a.txt", "b.txt"], "m", author_name="A", author_email="a@example.com")
    assert ran.count("status") == 1, ran
    assert git(work, "show", "--name-status", "--format=", sha).splitlines() == ["M\ta.txt", "D\tb.txt"]
    ran.clear()
    with pytest.raises(GitError, match=r"nothing to commit in a\.txt"):
        ws.commit(["a.txt"], "m", author_name="A", author_email="a@example.com")
    assert ran.count("status") == 1, ran
