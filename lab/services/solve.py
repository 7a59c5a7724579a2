"""A task's reference solution applied to a practice repository: the instructor's "solve" and the basis
of `lab dev check` (the starter fails the checks, the solution passes them).

The solution is data: `tasks/<id>/solution/` holds files at the paths they have in the repository,
task.toml's `[solution] remove` the paths it deletes and `[solution] commit_message` the message. Like a learner, this writes the files, commits
them and pushes; it refuses to touch files that hold uncommitted work. When it pushes, it first brings
in what origin has that the repository lacks (Flux's commits: in the sandbox an exercise's starter
automation commits before the learner does), as `lab sync` would, so the solution is written over them
and the push is not rejected.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from lab.core.manifests.models import IMAGE_GROUP
from lab.core.record import dataclass

if TYPE_CHECKING:
    from lab.adapters.git import Workspace

_IMAGE_API = re.compile(rb"^(\s*apiVersion:\s*)" + re.escape(IMAGE_GROUP.encode()) + rb"/[A-Za-z0-9]+", re.M)


@dataclass(frozen=True)
class SolveResult:
    workspace: Path
    files: list[str]
    commit: str | None
    pushed_branch: str
    message: str = ""


def with_image_api(data: bytes, api_version: str) -> bytes:
    """The solution's image objects written for the API version the cluster serves (`group/version`)."""
    return _IMAGE_API.sub(lambda m: m.group(1) + api_version.encode(), data)


def solve(
    workspace: Path, *, task: str | None = None, api_version: str | None = None, push: bool = True
) -> SolveResult:
    from lab.adapters.files import write_atomic
    from lab.adapters.tasks import load_task, solution_files, solution_removals, task_for_workspace
    from lab.adapters.tree import secure_join
    from lab.errors import LabError
    from lab.services.generate import default_api_version
    from lab.services.workspace import open_learner_workspace, require_committable

    ws = open_learner_workspace(workspace)
    the_task = load_task(task_for_workspace(ws.root, task))
    api = api_version or default_api_version()
    files = solution_files(the_task, api.rpartition("/")[2])
    removed = solution_removals(the_task, files)
    paths = [*files, *removed]
    branch = require_committable(ws, paths, action="apply the solution")
    if push:
        _integrate_origin(ws, push=False)
    for rel, source in files.items():
        target = secure_join(ws.root, rel)
        if target.is_symlink() or target.is_dir():
            raise LabError("is a symlink or a directory; the solution is not written there", file=rel)
        data = with_image_api(source.read_bytes(), api)
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.is_file() or target.read_bytes() != data:
            write_atomic(target, data)
    for rel in removed:
        parent, _, name = rel.rpartition("/")
        target = secure_join(ws.root, parent) / name  # a symlink itself goes, never what it points at
        if target.is_dir() and not target.is_symlink():
            raise LabError("is a directory; the solution removes files only", file=rel)
        if target.is_symlink() or target.exists():
            target.unlink()
    name, email = ws.learner_identity()
    dirty = set(ws.dirty_files())
    changed = [p for p in paths if p in dirty]
    message = the_task.meta.commit_message or f"Solve task {the_task.id}"
    sha = ws.commit(changed, message, author_name=name, author_email=email) if changed else None
    if push:
        _integrate_origin(ws, push=True)
    return SolveResult(ws.root, changed, sha, branch, message)


def _integrate_origin(ws: Workspace, *, push: bool) -> None:
    """`git pull --rebase` (and `git push` when `push`), retried when Flux pushes in between; other
    uncommitted edits are stashed and restored. A conflict or a refusal changes nothing and is an error."""
    from lab.errors import GitError
    from lab.services.sync import sync

    result = sync(ws, stash=True, push=push)
    if not result.ok:
        raise GitError(
            f"cannot apply the solution over origin's commits: {result.message}",
            hint="bring origin's commits in yourself (lab sync), then run lab solve again",
        )
