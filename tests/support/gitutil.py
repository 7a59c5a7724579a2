"""Git helpers for tests: real repositories in tmp, driven by plain `git` (not by the code under test).

from tests.support.gitutil import make_repo, make_bare, make_repo_with_origin, commit_files, git, practice
(make_practice: the task's starter pushed to a bare origin with plain git, no lab code involved)
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

Files = Mapping[str, str | bytes]


def git(cwd: Path, *args: str, check: bool = True, env: Mapping[str, str] | None = None) -> str:
    """Run plain git in `cwd` and return stdout (stripped). Hooks are off so setup stays predictable."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    proc = subprocess.run(
        ["git", "-c", "core.hooksPath=/dev/null", "-c", "protocol.file.allow=always", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        check=False,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed in {cwd}: {proc.stderr}")
    return proc.stdout.strip()


def write_files(root: Path, files: Files) -> None:
    for rel, content in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_bytes(content.encode("utf-8"))


def make_repo(
    path: Path, files: Files | None = None, *, branch: str = "main", message: str = "initial"
) -> Path:
    """A non-bare repo at `path` with `files` committed on `branch` (README.md when none given)."""
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "--template=", "-b", branch)
    write_files(path, files or {"README.md": "practice\n"})
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", message)
    return path


def make_bare(path: Path, *, branch: str = "main") -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "--bare", "--template=", "-b", branch)
    return path


def make_repo_with_origin(
    tmp_path: Path, files: Files | None = None, *, name: str = "work", branch: str = "main"
) -> tuple[Path, Path]:
    """(work, origin): `work` committed and pushed to the bare `origin`, upstream set."""
    origin = make_bare(tmp_path / f"{name}-origin.git", branch=branch)
    work = make_repo(tmp_path / name, files, branch=branch)
    git(work, "remote", "add", "origin", str(origin))
    git(work, "push", "-q", "-u", "origin", branch)
    return work, origin


def commit_files(
    repo: Path,
    files: Files,
    message: str = "change",
    *,
    author: tuple[str, str] | None = None,
) -> str:
    """Write `files`, commit them (optionally as `author`), return the new sha."""
    write_files(repo, files)
    git(repo, "add", "--", *files)
    env: dict[str, str] = {}
    if author:
        env = {
            "GIT_AUTHOR_NAME": author[0],
            "GIT_AUTHOR_EMAIL": author[1],
            "GIT_COMMITTER_NAME": author[0],
            "GIT_COMMITTER_EMAIL": author[1],
        }
    git(repo, "commit", "-q", "-m", message, env=env)
    return git(repo, "rev-parse", "HEAD")


def push_from_other_clone(origin: Path, tmp_path: Path, files: Files, *, branch: str = "main") -> str:
    """Someone else pushes to `origin` (makes the next push from the first clone non-fast-forward)."""
    other = tmp_path / "other-clone"
    git(tmp_path, "clone", "-q", "-b", branch, str(origin), str(other))
    sha = commit_files(other, files, "someone else")
    git(other, "push", "-q", "origin", branch)
    return sha


def origin_log(origin: Path, ref: str = "main", fmt: str = "%an <%ae>|%s") -> list[str]:
    out = git(origin, "log", f"--format={fmt}", ref)
    return out.splitlines() if out else []


def make_practice(tmp: Path, task: str = "09b") -> Path:
    """The task's starter committed on main and pushed to a local bare origin, like `lab init` (plain git):
    made once per task (per worker), copied for each call (tmp/gitops-lab, tmp/origin.git)."""
    from tests.support.practice_copy import from_template

    return from_template(("make_practice", task), lambda root: _make_practice(root, task), tmp)


def _make_practice(tmp: Path, task: str) -> tuple[Path, Path]:
    from tests.support.taskfiles import task_dir

    ws = tmp / "gitops-lab"
    shutil.copytree(task_dir(task) / "starter", ws)
    origin = make_bare(tmp / "origin.git")
    git(ws, "init", "-q", "-b", "main")
    git(ws, "add", "-A")
    git(ws, "commit", "-qm", "Task 09a state")
    git(ws, "remote", "add", "origin", str(origin))
    git(ws, "push", "-q", "-u", "origin", "main")
    return ws, origin


def practice(tmp_path: Path, name: str = "gitops-lab") -> Path:
    """A fresh `lab init` practice repo (through the library, not the CLI); returns its path. Made once
    per name (per worker) by `init_practice_repo`, copied for each call with its origin (NAME-origin.git)."""
    from tests.support.practice_copy import from_template

    return from_template(("practice", name), lambda root: _init_practice(root / name), tmp_path.resolve())


def _init_practice(dest: Path) -> tuple[Path, Path]:
    from lab.sandbox.practice import init_practice_repo

    made = init_practice_repo(dest)
    return made.path, made.origin
