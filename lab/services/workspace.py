"""The learner's repository as the CLI and the TUI see it: where it is, what is committed and pushed.

Everything here reads; nothing changes the working tree. Fetching is opt-in because it touches the
network (or the local origin) and can fail for reasons that are not the learner's mistake.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from lab.adapters.git import CommitInfo, Workspace, find_git_root, open_workspace
from lab.errors import GitError, UsageError


@dataclass(frozen=True)
class WorkspaceStatus:
    root: Path
    branch: str | None
    head: str | None
    origin_url: str | None
    remote_head: str | None
    """origin/<branch> as of the last fetch (None: not on origin, or no origin)."""
    dirty_files: list[str] = field(default_factory=list)
    unpushed: list[CommitInfo] = field(default_factory=list)
    fetch_error: str | None = None

    @property
    def detached(self) -> bool:
        return self.branch is None

    @property
    def in_sync(self) -> bool:
        """Everything committed and origin/<branch> is HEAD."""
        return not self.dirty_files and self.head is not None and self.head == self.remote_head

    def summary(self) -> str:
        """One line for a status bar."""
        if self.branch is None:
            return f"{self.root.name}: detached HEAD"
        parts = [f"{self.root.name} on {self.branch}"]
        if self.dirty_files:
            parts.append(f"{len(self.dirty_files)} uncommitted")
        if self.origin_url is None:
            parts.append("no origin")
        elif self.remote_head is None:
            parts.append("not pushed")
        elif self.unpushed:
            parts.append(f"{len(self.unpushed)} unpushed")
        elif self.head == self.remote_head:
            parts.append("pushed")
        else:
            parts.append("behind origin")
        return ", ".join(parts)


def resolve_workspace(value: str | None) -> Path:
    """The workspace named on the command line, else the git root above the current directory."""
    if value:
        path = Path(value).expanduser()
        if not path.is_dir():
            raise UsageError(f"workspace {value} is not a directory", hint="pass an existing repository")
        return path.resolve()
    here = Path.cwd().resolve()
    root = find_git_root(here)
    if root is None:
        raise UsageError(
            f"{here} is not inside a git repository",
            hint="run from your gitops repository, pass --workspace, or create one with `lab init DIR`",
        )
    return root


def open_learner_workspace(path: Path | str | None = None) -> Workspace:
    """The workspace at `path` (default: the git root above the current directory)."""
    return open_workspace(resolve_workspace(str(path) if path is not None else None))


def workspace_status(path: Path | Workspace, *, fetch: bool = False) -> WorkspaceStatus:
    """Branch, HEAD, origin and what is not yet committed/pushed; `fetch=True` refreshes origin first."""
    ws = path if isinstance(path, Workspace) else open_workspace(Path(path))
    branch = ws.branch()
    head = ws.rev_parse("HEAD")
    try:
        origin: str | None = ws.remote_url("origin")
    except GitError:
        origin = None
    fetch_error = None
    if fetch and origin is not None:
        try:
            ws.fetch("origin")
        except GitError as err:
            fetch_error = str(err)
    remote_head = ws.remote_sha(branch) if branch and origin is not None else None
    unpushed = ws.unpushed_commits(branch) if branch and origin is not None else []
    return WorkspaceStatus(
        ws.root, branch, head, origin, remote_head, ws.dirty_files(), unpushed, fetch_error
    )


def require_committable(ws: Workspace, paths: Sequence[str], *, action: str) -> str:
    """The branch to commit on; GitError naming the files when `paths` hold uncommitted work.

    Callers that are about to write `paths` (generate, mark, solve) use this so learner edits are never
    overwritten or swept into a commit they did not make.
    """
    branch = ws.branch()
    if branch is None:
        raise GitError(f"cannot {action}: HEAD is detached in {ws.root}", hint="git switch main, then retry")
    ws.require_clean(paths, action=action)
    return branch
