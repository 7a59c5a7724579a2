"""The practice repository `lab init DIR [--task ID]` creates: a task's starter, pushed to a local origin.

What it holds: tasks/<id>/starter/ copied verbatim (for the course's image automation task: flux-system sync manifests, clusters/dev/apps.yaml, the
nginx Deployment with `image: nginx:1.25.0` unmarked, PROGRESS.md) and `.fluxlab/task.json` naming the task,
committed on `main` and pushed to a bare repository that is the `origin` remote, upstream set.

Where Flux would clone from: the GitRepository in clusters/dev/flux-system/gotk-sync.yaml keeps its
`ssh://git@github.com/learner/gitops-lab` URL. Flux's API validates `spec.url` against
`^(http|https|ssh)://`, so a file:// URL written there would be rejected by a real API server, and the
manifest would teach something false. Instead the local origin lives only in git: `remote.origin.url` is
the bare repository's absolute path, and the simulated image-automation-controller clones whatever the
workspace's `origin` remote names (`Workspace.remote_url()`), exactly as the real controller clones the
GitRepository URL. Pointing the practice repo at a real forge later is `git remote set-url origin ...`.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path

from lab.core.progress import PROGRESS_FILE
from lab.core.record import dataclass
from lab.errors import LabError

BRANCH = "main"


@dataclass(frozen=True)
class Practice:
    path: Path
    origin: Path
    branch: str
    head: str
    author: str


def starter_dir(task: str | None = None) -> Path:
    """tasks/<task>/starter/ (default: the course's current task)."""
    from lab.adapters.tasks import load_task

    path = load_task(task).starter
    if not path.is_dir():
        raise LabError(
            f"the task has no starter folder at {path}",
            file=str(path),
            hint="every task folder needs starter/ (the repository a learner starts from, see CONTRIBUTING.md)",
        )
    if not (path / PROGRESS_FILE).is_file():
        raise LabError(
            f"the task's starter has no {PROGRESS_FILE}",
            file=str(path / PROGRESS_FILE),
            hint=f"every starter carries the course's {PROGRESS_FILE} (copy the one of tasks/*/starter)",
        )
    return path


def default_origin(dest: Path) -> Path:
    return dest.parent / f"{dest.name}-origin.git"


def _refuse_non_empty(path: Path, what: str) -> None:
    if path.is_symlink() or (path.exists() and not path.is_dir()):
        raise LabError(f"{path} exists and is not a directory", hint=f"choose a new path for the {what}")
    if path.is_dir() and any(path.iterdir()):
        raise LabError(
            f"{path} is not empty",
            hint=f"choose a new or empty directory for the {what}; nothing was changed",
        )


LEARNER_IDENTITY = ("Learner", "learner@gitops-lab.local")


def _has_global_identity() -> bool:
    from lab.adapters.git import configured_identity

    return configured_identity() is not None


def _identity() -> tuple[str, str]:
    from lab.adapters.git import FALLBACK_IDENTITY, configured_identity

    return configured_identity() or FALLBACK_IDENTITY


def init_practice_repo(
    dest: Path,
    *,
    origin: Path | None = None,
    task: str | None = None,
    extra_files: Mapping[str, str] | None = None,
) -> Practice:
    """Create the practice repo at `dest` and its bare origin; refuse a non-empty `dest`/`origin`.

    `extra_files` (relative path -> text) are written over the starter and committed with it (the
    Classroom workflow `lab init` adds).

    On failure everything this call created is removed again (and nothing else is touched).
    """
    from lab.adapters.git import init_bare, init_repo

    dest = Path(dest).expanduser().resolve()
    origin = Path(origin).expanduser().resolve() if origin is not None else default_origin(dest)
    if origin == dest or dest in origin.parents or origin in dest.parents:
        raise LabError(
            f"origin {origin} must be outside the practice repository {dest}",
            hint="pass --origin PATH next to DIR, not inside it",
        )
    _refuse_non_empty(dest, "practice repository")
    _refuse_non_empty(origin, "origin repository")
    from lab.adapters.tasks import load_task

    meta = load_task(task).meta
    starter = starter_dir(meta.id)
    created = [p for p in (dest, origin) if not p.exists()]
    try:
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copytree(
            starter, dest, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
        )
        from lab.core.tasks import RECORDED_TASK_FILE, render_recorded_task

        # The repository knows its task: inside it every command and the app work on it without --task.
        files = {RECORDED_TASK_FILE: render_recorded_task(meta.id), **(extra_files or {})}
        for rel, text in files.items():
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        ws = init_repo(dest, BRANCH)
        from lab.adapters.tasks import record_task_source

        record_task_source(ws.git_dir, meta.id)
        name, email = _identity()
        if not _has_global_identity():
            # A fresh laptop has no git identity and the learner's first `git commit` would fail.
            ws.set_identity(*LEARNER_IDENTITY)
        head = ws.commit(["."], meta.starter_message + "\n", author_name=name, author_email=email)
        bare = init_bare(origin, BRANCH)
        ws.add_remote("origin", str(bare))
        ws.push(BRANCH, set_upstream=True)
    except OSError as err:
        _rollback(dest, origin, created)
        raise LabError(
            f"cannot create the practice repository at {dest}: {err.strerror or err}",
            hint="choose a directory you can write to",
        ) from err
    except BaseException:
        _rollback(dest, origin, created)
        raise
    return Practice(path=ws.root, origin=bare, branch=BRANCH, head=head, author=f"{name} <{email}>")


def _rollback(dest: Path, origin: Path, created: list[Path]) -> None:
    """Undo a half-made practice repo: only what we made (both were empty or absent to begin with)."""
    for path in (dest, origin):
        if not path.is_dir() or path.is_symlink():
            continue
        if path in created:
            shutil.rmtree(path, ignore_errors=True)
        else:
            for child in path.iterdir():
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child, ignore_errors=True)
                else:
                    child.unlink(missing_ok=True)
