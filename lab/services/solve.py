"""A task's reference solution applied to a practice repository: the instructor's "solve" and the basis
of `lab dev check` (the starter fails the checks, the solution passes them).

The solution is data: `tasks/<id>/solution/` holds files at the paths they have in the repository, and
task.toml's `[solution] commit_message` the message. Like a learner, this writes the files, commits
them and pushes; it refuses to touch files that hold uncommitted work.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from lab.core.manifests.models import IMAGE_GROUP

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
    from lab.adapters.tasks import load_task, solution_files, task_for_workspace
    from lab.adapters.tree import secure_join
    from lab.errors import LabError
    from lab.services.generate import default_api_version
    from lab.services.workspace import open_learner_workspace, require_committable

    ws = open_learner_workspace(workspace)
    the_task = load_task(task_for_workspace(ws.root, task))
    api = api_version or default_api_version()
    files = solution_files(the_task, api.rpartition("/")[2])
    paths = list(files)
    branch = require_committable(ws, paths, action="apply the solution")
    for rel, source in files.items():
        target = secure_join(ws.root, rel)
        if target.is_symlink() or target.is_dir():
            raise LabError("is a symlink or a directory; the solution is not written there", file=rel)
        data = with_image_api(source.read_bytes(), api)
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.is_file() or target.read_bytes() != data:
            write_atomic(target, data)
    name, email = ws.learner_identity()
    dirty = set(ws.dirty_files())
    changed = [p for p in paths if p in dirty]
    message = the_task.meta.commit_message
    sha = ws.commit(changed, message, author_name=name, author_email=email) if changed else None
    if push:
        ws.push(branch, set_upstream=True)
    return SolveResult(ws.root, changed, sha, branch, message)
