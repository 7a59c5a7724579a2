"""What the lab is working on: the learner's repository, the task, and the world around it.

`lab` with no workspace and no gitops repository under the current directory works in the default
sandbox: a practice repository (with a local bare origin) in the per-user data directory, created
on first use, so a fresh laptop needs no cluster and no network.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from lab.services.tasks import Task, load_task


@dataclass(frozen=True)
class Session:
    workspace: Path
    task: Task
    sandbox: bool
    kubeconfig: str | None

    @property
    def mode(self) -> str:
        return "sandbox" if self.sandbox else "cluster"


def data_home() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "fluxlab"


def default_sandbox_workspace() -> Path:
    return data_home() / "sandbox" / "gitops-lab"


def _looks_like_gitops_repo(path: Path) -> bool:
    return (path / ".git").exists() and (path / "clusters").is_dir()


def _git_root(start: Path) -> Path | None:
    for candidate in (start, *start.parents):
        if (candidate / ".git").exists():
            return candidate
    return None


def _kubeconfig() -> str | None:
    env = os.environ.get("KUBECONFIG")
    if env:
        return env
    default = Path.home() / ".kube" / "config"
    return str(default) if default.is_file() else None


def open_session(workspace: Path | None = None, task_id: str = "09b") -> Session:
    """Pick the workspace: given > the gitops repo around the cwd > the default sandbox."""
    task = load_task(task_id)
    kubeconfig = _kubeconfig()
    if workspace is not None:
        return Session(workspace.resolve(), task, sandbox=kubeconfig is None, kubeconfig=kubeconfig)
    root = _git_root(Path.cwd().resolve())
    if root is not None and _looks_like_gitops_repo(root):
        return Session(root, task, sandbox=kubeconfig is None, kubeconfig=kubeconfig)
    sandbox_ws = default_sandbox_workspace()
    if not (sandbox_ws / ".git").exists():
        from lab.sandbox.practice import init_practice_repo

        init_practice_repo(sandbox_ws)
    return Session(sandbox_ws, task, sandbox=True, kubeconfig=None)


def plain_overview(session: Session) -> str:
    """The home screen as text, for `lab --plain` and terminals where a TUI is unwelcome."""
    task = session.task
    lines = [
        f"fluxlab - Task {task.id}: {task.title}",
        f"workspace: {session.workspace} ({session.mode})",
        "",
        "Next steps:",
        "  lab lesson                 read the task (lab lesson --hint N for hints 1-5)",
        f"  cd {session.workspace}",
        "  lab generate               write the three manifests",
        "  lab mark apps/base/nginx/deployment.yaml --policy flux-system:nginx",
        "  git add . && git commit -m 'Add image automation' && git push",
        "  lab simulate               let Flux scan, pick a tag, commit and push",
        "  lab check                  see what is done and what is missing",
        "  lab quiz                   the three CRDs in six questions",
        "",
    ]
    return "\n".join(lines)


@dataclass(frozen=True)
class ProgressRow:
    task: str
    status: str
    note: str


def progress_rows(session: Session) -> list[ProgressRow]:
    """The course tracker's rows, from PROGRESS.md in the workspace."""
    from lab.core.progress import parse_progress
    from lab.errors import LabError

    path = session.workspace / "PROGRESS.md"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as err:
        raise LabError(f"{path}: no PROGRESS.md", hint="restore it from git, or run `lab init`") from err
    return [ProgressRow(r.task, r.status, r.note) for r in parse_progress(text, file=str(path)).rows]
