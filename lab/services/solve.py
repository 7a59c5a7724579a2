"""The reference solution of Task 09b applied to a practice repository.

The instructor's "solve" and the basis of self-tests: the starter fails the checks, the solution
passes them. It does what the learner does (generate, mark, commit, push) through the same services,
and refuses to touch files that hold uncommitted work.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lab.core.manifests.generate import GenerateOptions

DEPLOYMENT = "apps/base/nginx/deployment.yaml"
OUT_DIR = "clusters/dev/image-automation"
COMMIT_MESSAGE = "Add image automation"


@dataclass(frozen=True)
class SolveResult:
    workspace: Path
    files: list[str]
    commit: str | None
    pushed_branch: str


def solve(workspace: Path, *, api_version: str | None = None, push: bool = True) -> SolveResult:
    from lab.services.generate import default_api_version, generate
    from lab.services.mark import mark_file
    from lab.services.workspace import open_learner_workspace, require_committable

    ws = open_learner_workspace(workspace)
    names = ["image-repository.yaml", "image-policy.yaml", "image-update.yaml"]
    paths = [f"{OUT_DIR}/{n}" for n in names] + [DEPLOYMENT]
    branch = require_committable(ws, paths, action="apply the solution")
    opts = GenerateOptions(api_version=api_version or default_api_version())
    generate(ws.root, opts, ws.root / OUT_DIR, force=True)
    mark_file(ws.root, Path(DEPLOYMENT), f"{opts.namespace}:{opts.name}")
    name, email = ws.learner_identity()
    changed = [p for p in paths if p in set(ws.dirty_files())]
    sha = ws.commit(changed, COMMIT_MESSAGE, author_name=name, author_email=email) if changed else None
    if push:
        ws.push(branch, set_upstream=True)
    return SolveResult(ws.root, changed, sha, branch)
