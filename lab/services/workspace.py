"""The learner's repository as the CLI and the TUI open it. Where it stands against origin (ahead,
behind, uncommitted) is `lab.services.sync.origin_status`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from lab.adapters.git import Workspace, find_git_root, open_workspace
from lab.errors import UsageError


def resolve_workspace(value: str | None, *, repository: bool = False) -> Path:
    """The workspace named on the command line, else the git root above the current directory.
    `repository`: a named folder must be inside a git repository too, as the current directory must
    (`lab check` graded a folder outside git 0/79, exit 1); the quiz and the lesson need no repository."""
    if value:
        path = Path(value).expanduser()
        if not path.is_dir():
            raise UsageError(f"workspace {value} is not a directory", hint="pass an existing repository")
    here = path.resolve() if value else Path.cwd().resolve()
    root = find_git_root(here)
    if root is None and (repository or not value):
        raise UsageError(
            f"{here} is not inside a git repository",
            hint="pass your gitops repository with --workspace, or create one with `lab init DIR`"
            if value
            else "run from your gitops repository, pass --workspace, or create one with `lab init DIR`",
        )
    return here if value or root is None else root


def open_learner_workspace(path: Path | str | None = None) -> Workspace:
    """The workspace at `path` (default: the git root above the current directory)."""
    return open_workspace(resolve_workspace(str(path) if path is not None else None))


def require_committable(ws: Workspace, paths: Sequence[str], *, action: str) -> str:
    """The branch to commit on; GitError naming the files when `paths` hold uncommitted work.

    Callers that are about to write `paths` (generate, mark, solve) use this so learner edits are never
    overwritten or swept into a commit they did not make.
    """
    branch = ws.require_branch(action)
    ws.require_clean(paths, action=action)
    return branch
