"""The git adapter against real repositories, including hostile ones."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from lab.adapters.git import clone_to_temp, condense, open_workspace
from lab.errors import GitError
from tests.support.gitutil import (
    commit_files,
    git,
    make_bare,
    make_repo,
    make_repo_with_origin,
    origin_log,
    push_from_other_clone,
)

FLUX = ("Flux", "flux@gitops-lab.local")


def _executable(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def _trap(tmp_path: Path, name: str) -> tuple[Path, str]:
    """A marker file path and a shell script that creates it when run."""
    marker = tmp_path / f"PWNED-{name}"
    return marker, f"#!/bin/sh\ntouch '{marker}'\nexit 0\n"


def test_non_git_dir_is_git_error_with_lab_init_hint(tmp_path: Path) -> None:
    with pytest.raises(GitError) as err:
        open_workspace(tmp_path)
    assert "not a git repository" in str(err.value)
    assert "lab init" in str(err.value)


@pytest.mark.slow
def test_open_from_subdirectory_finds_root(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", {"apps/base/x.yaml": "a: 1\n"})
    ws = open_workspace(repo / "apps" / "base")
    assert ws.root == repo.resolve()
    assert ws.branch() == "main"


@pytest.mark.slow
def test_hooks_never_run(tmp_path: Path) -> None:
    work, _origin = make_repo_with_origin(tmp_path)
    marker, script = _trap(tmp_path, "hook")
    for hook in (
        "pre-commit",
        "commit-msg",
        "post-commit",
        "pre-push",
        "post-checkout",
        "reference-transaction",
    ):
        _executable(work / ".git" / "hooks" / hook, script)
    # A hooksPath in the repo's own config must not win either.
    _executable(tmp_path / "evil-hooks" / "pre-commit", script)
    git(work, "config", "core.hooksPath", str(tmp_path / "evil-hooks"))
    ws = open_workspace(work)
    (work / "new.txt").write_text("x\n")
    ws.commit(["new.txt"], "add new", author_name="A", author_email="a@example.com")
    ws.push("main")
    assert not marker.exists()
    # The sanity half: plain git does run that hook, so the test would notice a regression.
    (work / "new2.txt").write_text("y\n")
    git(work, "add", "new2.txt")
    import subprocess

    subprocess.run(["git", "commit", "-q", "-m", "plain"], cwd=work, check=True, capture_output=True)
    assert marker.exists()


@pytest.mark.slow
def test_fsmonitor_and_other_repo_programs_do_not_execute(tmp_path: Path) -> None:
    work, _origin = make_repo_with_origin(tmp_path, {"a.txt": "a\n", ".gitattributes": "*.txt filter=evil\n"})
    markers = {}
    for key in (
        "core.fsmonitor",
        "core.sshCommand",
        "core.pager",
        "filter.evil.clean",
        "filter.evil.smudge",
        "filter.evil.process",
        "credential.helper",
        "remote.origin.uploadpack",
        "remote.origin.receivepack",
        "core.alternateRefsCommand",
        "diff.external",
    ):
        marker, script = _trap(tmp_path, key)
        _executable(tmp_path / "bin" / key, script)
        git(work, "config", key, str(tmp_path / "bin" / key))
        markers[key] = marker
    git(work, "config", "commit.gpgSign", "true")
    git(work, "config", "gpg.program", str(tmp_path / "bin" / "core.pager"))
    ws = open_workspace(work)
    (work / "a.txt").write_text("changed\n")
    assert ws.is_dirty()
    assert ws.dirty_files() == ["a.txt"]
    ws.diff("HEAD", None)
    ws.commit(["a.txt"], "change", author_name="A", author_email="a@example.com")
    ws.push("main")
    ws.fetch()
    ws.log("HEAD")
    ws.read_tree_at("HEAD")
    fired = sorted(k for k, m in markers.items() if m.exists())
    assert fired == []


@pytest.mark.slow
def test_fsmonitor_sanity_plain_git_runs_it(tmp_path: Path) -> None:
    """Proves the trap above is armed: plain `git status` runs core.fsmonitor."""
    work = make_repo(tmp_path / "w")
    marker, script = _trap(tmp_path, "fsm")
    _executable(tmp_path / "fsm", script)
    git(work, "config", "core.fsmonitor", str(tmp_path / "fsm"))
    git(work, "status")
    assert marker.exists()
    filt, script = _trap(tmp_path, "filter")
    _executable(tmp_path / "clean", script)
    git(work, "config", "filter.evil.clean", str(tmp_path / "clean"))
    (work / ".gitattributes").write_text("*.txt filter=evil\n")
    (work / "f.txt").write_text("f\n")
    git(work, "add", "f.txt")
    assert filt.exists()


@pytest.mark.slow
def test_inherited_git_dir_does_not_redirect(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    one = make_repo(tmp_path / "one", {"one.txt": "1\n"})
    two = make_repo(tmp_path / "two", {"two.txt": "2\n"})
    monkeypatch.setenv("GIT_DIR", str(two / ".git"))
    monkeypatch.setenv("GIT_INDEX_FILE", str(two / ".git" / "index"))
    ws = open_workspace(one)
    assert set(ws.read_tree_at("HEAD")) == {"one.txt"}


@pytest.mark.slow
def test_dirty_tree_detection_includes_untracked_and_staged(tmp_path: Path) -> None:
    work = make_repo(tmp_path / "w", {"a.txt": "a\n", "b.txt": "b\n"})
    ws = open_workspace(work)
    assert not ws.is_dirty()
    (work / "a.txt").write_text("A\n")
    (work / "b.txt").write_text("B\n")
    git(work, "add", "b.txt")
    (work / "new dir").mkdir()
    (work / "new dir" / "c.txt").write_text("c\n")
    assert ws.dirty_files() == ["a.txt", "b.txt", "new dir/c.txt"]
    assert ws.is_dirty(["a.txt"])
    assert not ws.is_dirty(["missing.txt"])
    with pytest.raises(GitError) as err:
        ws.require_clean(action="solve")
    assert "a.txt" in str(err.value) and "nothing was changed" in str(err.value)


@pytest.mark.slow
def test_dirty_file_groups_answer_as_one_status_per_group_would(tmp_path: Path) -> None:
    files = {
        "dir/a.yaml": "kind: A\n" * 20,
        "dir/b.yaml": "b\n",
        "dirt/c.yaml": "c\n",
        "PROGRESS.md": "| 09 | todo |\n" * 20,
        "notes.md": "n\n",
    }
    work = make_repo(tmp_path / "w", files)
    ws = open_workspace(work)
    groups = [["dir"], ["PROGRESS.md", ".fluxlab/quiz.json"], ["dir/", "notes.md"]]
    assert ws.dirty_file_groups(groups) == [[], [], []]
    (work / "dir" / "b.yaml").write_text("B\n")
    (work / "dirt" / "c.yaml").write_text("C\n")  # "dir" does not name "dirt/..."
    (work / ".fluxlab").mkdir()
    (work / ".fluxlab" / "quiz.json").write_text("{}\n")
    git(work, "mv", "dir/a.yaml", "dir/renamed.yaml")  # a rename inside one group: the new name only
    git(work, "mv", "PROGRESS.md", "dir/progress.md")  # a rename across groups: each side in its own
    expected = [ws.dirty_files(g) for g in groups]
    assert expected == [
        ["dir/b.yaml", "dir/progress.md", "dir/renamed.yaml"],
        [".fluxlab/quiz.json", "PROGRESS.md"],
        ["dir/b.yaml", "dir/progress.md", "dir/renamed.yaml"],
    ]
    assert ws.dirty_file_groups(groups) == expected
    assert ws.dirty_file_groups([["."], ["notes.md"]]) == [ws.dirty_files(), []]


@pytest.mark.slow
def test_open_workspace_refuses_a_repository_git_does_not_accept(tmp_path: Path) -> None:
    work = make_repo(tmp_path / "w", {"a.txt": "a\n"})
    git(work, "config", "core.repositoryformatversion", "1")
    git(work, "config", "extensions.frobnicate", "true")
    with pytest.raises(GitError) as err:
        open_workspace(work)
    assert "not a usable git repository" in str(err.value)
    assert "unknown repository extension" in str(err.value)


@pytest.mark.slow
def test_commit_only_named_paths_and_keeps_other_changes(tmp_path: Path) -> None:
    work = make_repo(tmp_path / "w", {"a.txt": "a\n", "b.txt": "b\n"})
    ws = open_workspace(work)
    (work / "a.txt").write_text("A\n")
    (work / "b.txt").write_text("B (uncommitted learner work)\n")
    sha = ws.commit(
        ["a.txt"], "Automated image update\n\n\n- x\n\n", author_name=FLUX[0], author_email=FLUX[1]
    )
    assert ws.head_sha() == sha
    assert (work / "b.txt").read_text() == "B (uncommitted learner work)\n"
    assert ws.dirty_files() == ["b.txt"]
    info = ws.log("HEAD", n=1)[0]
    assert (info.author_name, info.author_email) == FLUX
    assert (info.committer_name, info.committer_email) == FLUX
    # Flux commits its rendered template verbatim: blank lines and trailing newlines survive.
    assert info.message == "Automated image update\n\n\n- x\n\n"
    assert info.subject == "Automated image update"
    assert len(info.parents) == 1


@pytest.mark.slow
def test_commit_refuses_detached_head_and_nothing_to_commit(tmp_path: Path) -> None:
    work = make_repo(tmp_path / "w", {"a.txt": "a\n"})
    ws = open_workspace(work)
    with pytest.raises(GitError) as err:
        ws.commit(["a.txt"], "m", author_name="A", author_email="a@example.com")
    assert "nothing to commit" in str(err.value)
    git(work, "checkout", "-q", "--detach")
    assert ws.branch() is None
    (work / "a.txt").write_text("changed\n")
    with pytest.raises(GitError) as err:
        ws.commit(["a.txt"], "m", author_name="A", author_email="a@example.com")
    assert "detached" in str(err.value) and "git switch" in str(err.value)
    assert (work / "a.txt").read_text() == "changed\n"


@pytest.mark.slow
def test_commit_rejects_paths_outside_repo(tmp_path: Path) -> None:
    work = make_repo(tmp_path / "w")
    ws = open_workspace(work)
    for bad in ("../x", "/etc/passwd", ".git/config"):
        with pytest.raises(GitError):
            ws.commit([bad], "m", author_name="A", author_email="a@example.com")


@pytest.mark.slow
def test_push_rejected_is_one_line_and_local_state_intact(tmp_path: Path) -> None:
    work, origin = make_repo_with_origin(tmp_path)
    push_from_other_clone(origin, tmp_path, {"other.txt": "o\n"})
    ws = open_workspace(work)
    (work / "mine.txt").write_text("m\n")
    sha = ws.commit(["mine.txt"], "mine", author_name="A", author_email="a@example.com")
    with pytest.raises(GitError) as err:
        ws.push("main")
    text = str(err.value)
    assert "\n" not in text
    assert "rejected" in text and "fetch first" in text
    assert "git pull --rebase" in text
    assert ws.head_sha() == sha
    assert (work / "mine.txt").read_text() == "m\n"
    assert [c.subject for c in ws.unpushed_commits("main")] == ["mine"]


@pytest.mark.slow
def test_push_declined_by_remote_hook_names_the_reason(tmp_path: Path) -> None:
    work, origin = make_repo_with_origin(tmp_path)
    _executable(
        origin / "hooks" / "pre-receive",
        "#!/bin/sh\necho 'GH006: Protected branch update failed for refs/heads/main.' >&2\nexit 1\n",
    )
    ws = open_workspace(work)
    (work / "x.txt").write_text("x\n")
    ws.commit(["x.txt"], "x", author_name="A", author_email="a@example.com")
    with pytest.raises(GitError) as err:
        ws.push("main")
    text = str(err.value)
    assert "\n" not in text
    assert "pre-receive hook declined" in text and "Protected branch" in text


@pytest.mark.slow
def test_fetch_remote_sha_read_tree_and_log(tmp_path: Path) -> None:
    work, origin = make_repo_with_origin(tmp_path, {"apps/base/d.yaml": "image: nginx:1.25.0\n"})
    other_sha = push_from_other_clone(origin, tmp_path, {"apps/base/d.yaml": "image: nginx:1.25.3\n"})
    ws = open_workspace(work)
    assert ws.remote_sha("main") != other_sha
    ws.fetch()
    assert ws.remote_sha("main") == other_sha
    assert ws.remote_sha("nope") is None
    tree = ws.read_tree_at("origin/main", "apps")
    assert tree == {"apps/base/d.yaml": b"image: nginx:1.25.3\n"}
    # The working tree is not what was read.
    assert (work / "apps/base/d.yaml").read_text() == "image: nginx:1.25.0\n"
    assert ws.read_tree_at("origin/main", "ap") == {}
    commits = ws.log("origin/main", author="Learner")
    assert [c.subject for c in commits] == ["someone else", "initial"]
    assert ws.log("origin/main", author="Flux") == []
    assert "nginx:1.25.3" in ws.diff("HEAD", "origin/main")
    assert ws.changed_files("HEAD", "origin/main") == ["apps/base/d.yaml"]
    assert ws.commit_files(other_sha) == ["apps/base/d.yaml"]
    assert "+image: nginx:1.25.3" in ws.commit_patch(other_sha)
    root_sha = commits[-1].sha
    assert "+image: nginx:1.25.0" in ws.commit_patch(root_sha, ["apps"])


@pytest.mark.slow
def test_fetches_from_several_threads_of_one_process_do_not_fail_each_other(tmp_path: Path) -> None:
    # The app's state refresh, a check run and a push each fetch in their own thread; unserialised, git
    # failed all but one ("cannot lock ref 'refs/remotes/origin/main': is at X but expected Y").
    import threading

    work, origin = make_repo_with_origin(tmp_path, {"a.txt": "0\n"})
    other = tmp_path / "other-clone"
    git(tmp_path, "clone", "-q", str(origin), str(other))
    errors: list[str] = []

    def fetch() -> None:
        try:
            open_workspace(work).fetch()
        except GitError as err:
            errors.append(err.message)

    for round_ in range(8):
        head = commit_files(other, {"a.txt": f"{round_ + 1}\n"}, f"round {round_}")
        git(other, "push", "-q", "origin", "main")
        threads = [threading.Thread(target=fetch) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert open_workspace(work).remote_sha("main") == head


@pytest.mark.slow
def test_fetch_waits_out_another_process_holding_the_ref_lock(tmp_path: Path) -> None:
    import threading

    work, origin = make_repo_with_origin(tmp_path, {"a.txt": "0\n"})
    head = push_from_other_clone(origin, tmp_path, {"a.txt": "1\n"})
    lock = work / ".git/refs/remotes/origin/main.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    lock.write_text("")  # what a `git fetch` in another terminal holds while it updates the ref
    release = threading.Timer(0.4, lock.unlink)
    release.start()
    try:
        open_workspace(work).fetch()
    finally:
        release.join()
    assert open_workspace(work).remote_sha("main") == head


@pytest.mark.slow
def test_fetch_gives_up_on_a_ref_lock_that_stays(tmp_path: Path) -> None:
    work, origin = make_repo_with_origin(tmp_path, {"a.txt": "0\n"})
    push_from_other_clone(origin, tmp_path, {"a.txt": "1\n"})
    lock = work / ".git/refs/remotes/origin/main.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    lock.write_text("")
    with pytest.raises(GitError, match=r"git fetch origin failed: .*main\.lock"):
        open_workspace(work).fetch()


@pytest.mark.slow
def test_read_tree_reports_symlinks_without_following(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("outside\n")
    work = make_repo(tmp_path / "w", {"apps/a.yaml": "a: 1\n"})
    os.symlink(secret, work / "apps" / "escape.yaml")
    os.symlink("a.yaml", work / "apps" / "inner.yaml")
    git(work, "add", "-A")
    git(work, "commit", "-q", "-m", "links")
    tree = open_workspace(work).read_tree_at("HEAD")
    assert set(tree) == {"apps/a.yaml"}
    assert tree.symlinks == {"apps/escape.yaml": str(secret), "apps/inner.yaml": "a.yaml"}
    assert b"outside" not in b"".join(tree.values())


@pytest.mark.slow
def test_bad_refs_and_names_are_refused(tmp_path: Path) -> None:
    ws = open_workspace(make_repo(tmp_path / "w"))
    with pytest.raises(GitError):
        ws.read_tree_at("--output=/tmp/x")
    with pytest.raises(GitError):
        ws.push("main; rm -rf /")
    with pytest.raises(GitError):
        ws.fetch("-uorigin")
    with pytest.raises(GitError) as err:
        ws.read_tree_at("no-such-branch")
    assert "no-such-branch" in str(err.value)


@pytest.mark.slow
def test_clone_to_temp_is_shallow_commits_as_flux_and_pushes(tmp_path: Path) -> None:
    work, origin = make_repo_with_origin(tmp_path)
    commit_files(work, {"b.txt": "b\n"}, "second")
    git(work, "push", "-q")
    ws = open_workspace(work)
    clone = clone_to_temp(ws.remote_url(), "main", tmp_path / "clone")
    assert git(clone.root, "rev-parse", "--is-shallow-repository") == "true"
    (clone.root / "b.txt").write_text("B\n")
    sha = clone.commit(["b.txt"], "Automated image update", author_name=FLUX[0], author_email=FLUX[1])
    clone.push("main")
    assert git(origin, "rev-parse", "main") == sha
    assert origin_log(origin)[0] == "Flux <flux@gitops-lab.local>|Automated image update"
    clone.push("flux-updates")
    assert git(origin, "rev-parse", "flux-updates") == sha
    default = clone_to_temp(str(origin), None, tmp_path / "default-branch")
    assert default.branch() == "main" and default.head_sha() == sha


@pytest.mark.slow
def test_clone_missing_branch_is_clear(tmp_path: Path) -> None:
    _work, origin = make_repo_with_origin(tmp_path)
    with pytest.raises(GitError) as err:
        clone_to_temp(str(origin), "nope", tmp_path / "c")
    assert "nope" in str(err.value) and "\n" not in str(err.value)


@pytest.mark.slow
def test_relative_origin_url_is_made_absolute(tmp_path: Path) -> None:
    work = make_repo(tmp_path / "w")
    make_bare(tmp_path / "o.git")
    git(work, "remote", "add", "origin", "../o.git")
    ws = open_workspace(work)
    assert ws.remote_url() == str((tmp_path / "o.git").resolve())
    ws.push("main", set_upstream=True)
    assert git(work, "rev-parse", "--abbrev-ref", "main@{upstream}") == "origin/main"


@pytest.mark.slow
def test_untrusted_workspace_refuses_file_transport(tmp_path: Path) -> None:
    work, _origin = make_repo_with_origin(tmp_path)
    ws = open_workspace(work, untrusted=True)
    with pytest.raises(GitError) as err:
        ws.fetch()
    assert "\n" not in str(err.value)


def test_condense_keeps_errors_drops_hints() -> None:
    text = "To /x\n ! [rejected] main -> main (fetch first)\nerror: failed to push\nhint: Updates were\n"
    assert condense(text) == "! [rejected] main -> main (fetch first); error: failed to push"


@pytest.mark.slow
def test_origin_status_and_require_committable(tmp_path: Path) -> None:
    from lab.services.sync import origin_status
    from lab.services.workspace import require_committable

    work, origin = make_repo_with_origin(tmp_path)
    status = origin_status(work, fetch=False)
    assert status.in_sync and status.summary() == "main is in sync with origin/main"
    commit_files(work, {"a.txt": "a\n"}, "local only")
    (work / "b.txt").write_text("b\n")
    status = origin_status(work, fetch=False)
    assert status.untracked == ["b.txt"] and status.dirty == []
    assert [c.subject for c in status.ahead] == ["local only"]
    assert status.summary() == "you have 1 commit origin doesn't have - git push"
    ws = open_workspace(work)
    with pytest.raises(GitError) as err:
        require_committable(ws, ["b.txt"], action="mark")
    assert "b.txt" in str(err.value)
    assert require_committable(ws, ["a.txt"], action="mark") == "main"
    push_from_other_clone(origin, tmp_path, {"c.txt": "c\n"})
    fetched = origin_status(work)
    assert fetched.fetch_error is None and fetched.remote_head != status.remote_head
    assert fetched.diverged and fetched.behind_line() == "origin has 1 commit by Learner you don't have"


def test_neutralise_keeps_user_helpers_and_resets_repo_ones() -> None:
    from lab.adapters.git import _neutralise

    entries = [
        ("global", "credential.helper", "cache"),
        ("local", "credential.helper", "!evil"),
        ("local", "credential.https://x.example.helper", "!evil2"),
        ("global", "core.sshcommand", "ssh -i ~/.ssh/lab"),
        ("local", "core.sshcommand", "evil-ssh"),
        ("local", "filter.lfs.smudge", "evil"),
        ("global", "filter.lfs.smudge", "git-lfs smudge -- %f"),
        ("local", "core.pager", "evil"),
        ("local", "user.name", "harmless"),
    ]
    assert _neutralise(entries) == [
        ("credential.helper", ""),
        ("credential.helper", "cache"),
        ("credential.https://x.example.helper", ""),
        ("core.sshcommand", "ssh -i ~/.ssh/lab"),
        ("filter.lfs.smudge", "git-lfs smudge -- %f"),
        ("filter.lfs.required", "false"),
        ("core.pager", "cat"),
    ]


@pytest.mark.slow
def test_included_config_and_core_worktree_cannot_redirect_or_execute(tmp_path: Path) -> None:
    work = make_repo(tmp_path / "w", {".gitattributes": "*.yaml filter=evil\n", "a.yaml": "a: 1\n"})
    marker, script = _trap(tmp_path, "included-clean")
    _executable(tmp_path / "clean.sh", script)
    extra = tmp_path / "extra.gitconfig"
    extra.write_text(f'[filter "evil"]\n\tclean = {tmp_path / "clean.sh"}\n\trequired = true\n')
    git(work, "config", "include.path", str(extra))
    elsewhere = make_repo(tmp_path / "elsewhere", {"z.txt": "z\n"})
    (elsewhere / "z.txt").write_text("dirty elsewhere\n")
    git(work, "config", "core.worktree", str(elsewhere))
    ws = open_workspace(work)
    (work / "a.yaml").write_text("a: 2\n")
    assert ws.dirty_files() == ["a.yaml"]
    ws.commit(["a.yaml"], "m", author_name="A", author_email="a@example.com")
    assert ws.read_tree_at("HEAD")["a.yaml"] == b"a: 2\n"
    assert not marker.exists()


@pytest.mark.slow
def test_credentials_in_urls_are_never_printed(tmp_path: Path) -> None:
    with pytest.raises(GitError) as err:
        clone_to_temp("https://learner:ghp_SECRET123@127.0.0.1:9/x/y.git", "main", tmp_path / "c")
    assert "ghp_SECRET123" not in str(err.value)
    assert "https://***@127.0.0.1:9/x/y.git" in str(err.value)


@pytest.mark.slow
def test_config_changed_during_a_session_is_neutralised_too(tmp_path: Path) -> None:
    work = make_repo(tmp_path / "w", {".gitattributes": "*.txt filter=evil\n", "a.txt": "a\n"})
    ws = open_workspace(work)
    assert not ws.is_dirty()
    marker, script = _trap(tmp_path, "late-clean")
    _executable(tmp_path / "clean.sh", script)
    git(work, "config", "filter.evil.clean", str(tmp_path / "clean.sh"))
    (work / "a.txt").write_text("b\n")
    ws.commit(["a.txt"], "m", author_name="A", author_email="a@example.com")
    assert not marker.exists()


def test_git_is_never_found_in_the_current_directory_through_an_empty_path_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    from lab.adapters.git import _git_binary

    real = shutil.which("git")
    assert real is not None
    _executable(tmp_path / "git", "#!/bin/sh\nexit 0\n")  # a student's repository with its own `git`
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", f":.:{os.path.dirname(real)}")
    assert _git_binary() == real
    monkeypatch.setenv("PATH", ":.")
    with pytest.raises(GitError, match="git is not installed"):
        _git_binary()


@pytest.mark.slow
def test_a_left_lock_file_is_named_with_what_to_do(tmp_path: Path) -> None:
    """'Unable to create .../index.lock: File exists' came with the hint 'check the paths'."""
    work = make_repo(tmp_path / "w")
    (work / "notes.txt").write_text("x\n")
    (work / ".git/index.lock").touch()
    with pytest.raises(GitError) as err:
        open_workspace(work).commit(["notes.txt"], "notes", author_name="A", author_email="a@example.org")
    assert "another git command is running in this repository" in (err.value.hint or "")
    assert str(work / ".git/index.lock") in (err.value.hint or "")


@pytest.mark.slow
def test_only_the_supported_transports_even_when_the_repository_allows_more(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `fd::17` talks over a descriptor git inherits: none is open, so a fetch waited for its timeout
    # (120 s; 5 here). The repository's own config allowing it changes nothing: GIT_ALLOW_PROTOCOL
    # beats every config file.
    monkeypatch.setattr("lab.adapters.git.NETWORK_TIMEOUT", 5.0)
    work, _origin = make_repo_with_origin(tmp_path)
    git(work, "remote", "set-url", "origin", "fd::17")
    git(work, "config", "protocol.fd.allow", "always")
    git(work, "config", "protocol.allow", "always")
    with pytest.raises(GitError, match="transport 'fd' not allowed"):
        open_workspace(work).fetch("origin")
    # A local origin the learner owns is still fetched and pushed (file is allowed for it).
    git(work, "remote", "set-url", "origin", str(_origin))
    ws = open_workspace(work)
    ws.fetch("origin")
    assert ws.remote_sha("main") == git(work, "rev-parse", "HEAD")


@pytest.mark.slow
@pytest.mark.parametrize("where", [".git/info/exclude", "apps/.gitignore", "core.excludesFile"])
def test_a_fifo_git_would_read_as_an_exclude_file_is_a_quick_error(tmp_path: Path, where: str) -> None:
    repo = make_repo(tmp_path / "r", {"apps/base/x.yaml": "a: 1\n"})
    fifo = tmp_path / "ignore" if where == "core.excludesFile" else repo / where
    fifo.parent.mkdir(parents=True, exist_ok=True)
    fifo.unlink(missing_ok=True)
    os.mkfifo(fifo)
    if where == "core.excludesFile":
        git(repo, "config", "core.excludesFile", str(fifo))
    ws = open_workspace(repo)
    with pytest.raises(GitError) as err:
        ws.status()
    shown = str(fifo) if where == "core.excludesFile" else where
    assert str(err.value).startswith(f"{shown} is a FIFO: git reads it as an exclude file")
    assert ws.rev_parse("HEAD")  # what reads no exclude file still works


@pytest.mark.slow
@pytest.mark.parametrize(
    ("ignore_file", "line"),
    [(".gitignore", "node_modules/"), (".git/info/exclude", "/node_modules"), ("apps/.gitignore", "node_*")],
)
def test_a_fifo_gitignore_in_a_folder_git_ignores_blocks_nothing(
    tmp_path: Path, ignore_file: str, line: str
) -> None:
    """git never reads an exclude file inside an ignored folder: the lab's look for a FIFO stays out of
    it too (it walked every folder, and refused a status git answers at once)."""
    repo = make_repo(tmp_path / "r", {"apps/base/x.yaml": "a: 1\n"})
    ignored = repo / ("apps" if ignore_file.startswith("apps") else "") / "node_modules" / "pkg"
    ignored.mkdir(parents=True)
    os.mkfifo(ignored / ".gitignore")
    (repo / ignore_file).parent.mkdir(parents=True, exist_ok=True)
    with (repo / ignore_file).open("a") as out:
        out.write(f"{line}\n")
    assert open_workspace(repo).dirty_files() == ([] if ignore_file.startswith(".git/") else [ignore_file])


@pytest.mark.slow
def test_the_working_tree_is_walked_for_a_fifo_gitignore_once_per_workspace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """git status, add and commit are the lab's hot path: each walked the whole tree first."""
    repo = make_repo(tmp_path / "r", {"apps/base/x.yaml": "a: 1\n", "clusters/dev/y.yaml": "b: 2\n"})
    ws = open_workspace(repo)
    scanned: list[str] = []
    real_scandir = os.scandir

    def counting(path: str) -> object:
        scanned.append(str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", counting)
    for _ in range(3):
        ws.status()
    folders = [repo, repo / "apps", repo / "apps" / "base", repo / "clusters", repo / "clusters" / "dev"]
    assert sorted(scanned) == sorted(map(str, folders))  # one walk, .git left out


@pytest.mark.slow
@pytest.mark.parametrize("where", [".gitignore", "apps/base/.gitignore"])
def test_a_fifo_gitignore_made_after_the_walk_is_named_before_git_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    """A FIFO .gitignore made during a long app session (one Workspace) was named only after git's
    60 s timeout: the walk ran once per Workspace. Its folder's mtime moved: the walk runs again."""
    import lab.adapters.git as gitmod

    repo = make_repo(tmp_path / "r", {"apps/base/x.yaml": "a: 1\n"})
    ws = open_workspace(repo)
    assert ws.status() == []

    def git_ran(*args: object, **kwargs: object) -> object:
        raise AssertionError("git ran: it would wait on the FIFO until its timeout")

    os.mkfifo(repo / where)
    monkeypatch.setattr(gitmod, "_run", git_ran)
    with pytest.raises(GitError) as err:
        ws.status()
    assert str(err.value).startswith(f"{where} is a FIFO: git reads it as an exclude file"), err.value
    with pytest.raises(GitError):  # still there: said again, not left to git
        ws.status()


@pytest.mark.slow
def test_a_fifo_gitignore_made_after_the_walk_is_named_when_git_runs_out_of_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("lab.adapters.git.DEFAULT_TIMEOUT", 1.0)
    repo = make_repo(tmp_path / "r", {"apps/base/x.yaml": "a: 1\n"})
    ws = open_workspace(repo)
    assert ws.status() == []
    os.mkfifo(repo / "apps" / ".gitignore")
    with pytest.raises(GitError) as err:
        ws.status()
    assert str(err.value).startswith("apps/.gitignore is a FIFO: git reads it as an exclude file")


@pytest.mark.slow
@pytest.mark.parametrize(
    "text",
    [
        "x\x0cbuild\n",  # one pattern to git, which splits on \n alone: build/ is read
        "build\n" + "#\n" * 150_000 + "!build\n",  # past what the lab reads, a `!` brings build/ back
    ],
    ids=["form-feed", "past-256KiB"],
)
def test_a_fifo_gitignore_in_a_folder_git_reads_is_named_however_the_exclude_file_reads(
    tmp_path: Path, text: str
) -> None:
    """The walk skipped build/ where git reads it: git status waited for its timeout on the FIFO."""
    repo = make_repo(tmp_path / "r", {"apps/base/x.yaml": "a: 1\n"})
    (repo / ".gitignore").write_text(text)
    (repo / "build").mkdir()
    os.mkfifo(repo / "build" / ".gitignore")
    with pytest.raises(GitError) as err:
        open_workspace(repo)._git("status", timeout=4)
    assert str(err.value).startswith("build/.gitignore is a FIFO: git reads it as an exclude file"), err.value


@pytest.mark.slow
def test_after_git_runs_out_of_time_the_walk_for_a_fifo_skips_no_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Should the lab misread which folders git skips, the walk after git's timeout still finds the FIFO."""
    monkeypatch.setattr("lab.adapters.git.DEFAULT_TIMEOUT", 1.0)
    monkeypatch.setattr("lab.adapters.git.ignores_folder", lambda *_: True)
    repo = make_repo(tmp_path / "r", {"apps/base/x.yaml": "a: 1\n"})
    os.mkfifo(repo / "apps" / ".gitignore")
    with pytest.raises(GitError) as err:
        open_workspace(repo).status()
    assert str(err.value).startswith("apps/.gitignore is a FIFO: git reads it as an exclude file"), err.value


@pytest.mark.slow
def test_a_local_command_that_times_out_does_not_blame_the_remote(tmp_path: Path) -> None:
    from lab.adapters.git import _run

    repo = make_repo(tmp_path / "r")
    (repo / ".git" / "info").mkdir(exist_ok=True)
    os.mkfifo(repo / ".git" / "info" / "exclude")  # what the runner's callers look for first
    with pytest.raises(GitError) as err:
        _run(["status"], cwd=repo, env={**os.environ, "GIT_DIR": str(repo / ".git")}, timeout=1)
    assert "did not finish within 1s" in str(err.value)
    assert "a FIFO?" in str(err.value) and "remote" not in str(err.value)


@pytest.mark.slow
def test_a_fetch_into_a_read_only_repository_says_so_not_origin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As root a read-only mount is the only way to refuse the write: git's own words stand in for it."""
    from lab.adapters import git as git_adapter

    work, origin = make_repo_with_origin(tmp_path, {"a.txt": "0\n"})
    push_from_other_clone(origin, tmp_path, {"a.txt": "1\n"})
    lock = work / ".git/refs/remotes/origin/main.lock"
    said = f"error: cannot lock ref 'refs/remotes/origin/main': Unable to create '{lock}': Read-only file system\n"
    ws = open_workspace(work)
    monkeypatch.setattr(ws, "_fetch", lambda _remote, *_args, **_kw: git_adapter._Result(1, b"", said))
    with pytest.raises(GitError) as err:
        ws.fetch()
    assert "git fetch origin failed: the repository is on a read-only file system" in err.value.message
    assert err.value.hint is not None and "read-only" in err.value.hint
    assert "get-url" not in str(err.value) and "another git command" not in str(err.value)
