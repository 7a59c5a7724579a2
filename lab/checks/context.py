"""What every check implementation receives, and safe ways to read the learner's workspace.

The workspace is untrusted: paths are resolved and must stay inside it (no symlink escapes), files are
size-capped, YAML goes through `lab.core.yamlsafe` (alias bombs, depth, duplicates).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import field, replace
from pathlib import Path
from typing import Any, TypeVar

from lab.adapters.files import read_regular
from lab.core import yamlsafe
from lab.core.record import dataclass
from lab.core.tasks import TaskImage, find_image
from lab.errors import LabError, TaskDataError

T = TypeVar("T")

MAX_FILE_BYTES = yamlsafe.MAX_BYTES


class WorkspaceFileError(LabError):
    """A workspace file that cannot be read safely (outside the workspace, too large, not text)."""


@dataclass
class CheckContext:
    workspace: Path
    task: str = ""
    """The task id (default: the course's current task)."""
    offline: bool = False
    tags_file: Path | None = None
    untrusted: bool = False
    """Instructor grading of a student's repository: refuse file:// transports to its remotes."""
    whole_repository: bool = False
    """Validate the objects of every YAML file of the workspace, not only the task's files: the push
    check (Flux's API refuses an invalid object in any file a push brings) validates them once, and the
    checks it runs report from that one validation."""
    settings: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    """The task's `[params]` (checks.toml), with the running check's `[check.params]` over them."""
    sandbox_pushed: Callable[[], Mapping[str, tuple[str, ...]]] = dict
    """Tags pushed into the registry of the sandbox whose practice repository the workspace is, by
    repository path (`library/nginx`): its Flux scanned them, though Docker Hub may not list them.
    Asked only when a check needs them: reading them loads the sandbox's runtime, which `lab check
    --offline` otherwise never imports."""
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _key_locks: dict[str, threading.Lock] = field(default_factory=dict, repr=False)
    _closers: list[Callable[[], None]] = field(default_factory=list, repr=False)
    _background: list[threading.Thread] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self.workspace = self.workspace.resolve()
        if not self.task:
            from lab.adapters.tasks import task_for_workspace

            self.task = task_for_workspace(self.workspace)

    def with_params(self, params: Mapping[str, Any]) -> CheckContext:
        """This run's context for one check with its own params: the same workspace and cache."""
        if not params:
            return self
        view = replace(self, params={**self.params, **params})
        view._cache, view._lock, view._key_locks, view._closers, view._background = (
            self._cache,
            self._lock,
            self._key_locks,
            self._closers,
            self._background,
        )
        return view

    def param(self, name: str) -> Any:
        """A parameter the running check needs; a check misconfigured by its task errors, naming it."""
        if name not in self.params:
            raise TaskDataError(
                f"task {self.task}: this check needs the parameter {name!r}",
                file="checks.toml",
                hint=f"set {name} in [params] or in the check's [check.params]",
            )
        return self.params[name]

    def str_param(self, name: str) -> str:
        value = self.param(name)
        if not isinstance(value, str):
            raise TaskDataError(f"task {self.task}: parameter {name!r} must be a string", file="checks.toml")
        return value

    def optional_str_param(self, name: str) -> str | None:
        """A parameter a check reads when the task gives it (None when not); a wrong type errors."""
        if name not in self.params:
            return None
        return self.str_param(name)

    def str_table_param(self, name: str) -> dict[str, str]:
        """An optional table of strings (`expect_tags = { api = "main-..." }`); {} when not given."""
        value = self.params.get(name, {})
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise TaskDataError(
                f'task {self.task}: parameter {name!r} must be a table of strings, e.g. {name} = {{ api = "..." }}',
                file="checks.toml",
            )
        return {str(k): v for k, v in value.items()}

    def files_param(self, name: str) -> tuple[str, ...]:
        value = self.param(name)
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise TaskDataError(
                f"task {self.task}: parameter {name!r} must be a list of paths", file="checks.toml"
            )
        return tuple(value)

    def cached(self, key: str, compute: Callable[[], T]) -> T:
        """Compute once per run, also when several checks ask at the same time (they run in threads)."""
        with self._lock:
            lock = self._key_locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self._cache:
                self._cache[key] = compute()
            value: T = self._cache[key]
            return value

    def in_background(self, fn: Callable[[], None]) -> None:
        """Start `fn` in a thread now: it warms `cached` values that checks ask for later (git's answers
        while the other checks' modules load). An exception is dropped - the check that needs the value
        computes it again and reports the problem. `close()` waits for it."""

        def run() -> None:
            try:
                fn()
            except Exception:  # the check asking for the value meets the same error and reports it
                pass

        thread = threading.Thread(target=run, name="lab-prefetch", daemon=True)
        with self._lock:
            self._background.append(thread)
        thread.start()

    def on_close(self, fn: Callable[[], None]) -> None:
        """Release something (a cluster connection) when the run ends."""
        with self._lock:
            self._closers.append(fn)

    def close(self) -> None:
        with self._lock:
            background, self._background[:] = list(self._background), []
        for thread in background:
            if thread.is_alive():  # not one whose start() Ctrl-C interrupted: join() would raise instead
                thread.join()
        with self._lock:
            closers, self._closers = self._closers, []
        for fn in reversed(closers):
            try:
                fn()
            except Exception:  # closing must never turn a finished report into a crash
                pass

    def path(self, rel: str) -> Path:
        """`rel` inside the workspace; a symlink that leads outside is refused. Resolved once per run:
        the checks ask for the same few files again and again, and resolving stats every component."""
        return self.cached(f"path:{rel}", lambda: self._inside(rel))

    def _inside(self, rel: str) -> Path:
        try:
            candidate = (self.workspace / rel).resolve()
        except (OSError, RuntimeError):  # a symlink loop (RuntimeError before Python 3.13)
            raise WorkspaceFileError(
                "is a symlink that leads to itself (a loop); the lab does not follow it",
                file=rel,
                hint="replace the symlink with the file itself",
            ) from None
        if candidate != self.workspace and self.workspace not in candidate.parents:
            raise WorkspaceFileError(
                "points outside the workspace (a symlink?); the lab does not follow it",
                file=rel,
                hint="replace the symlink with the file itself",
            )
        return candidate

    def exists(self, rel: str) -> bool:
        try:
            return self.path(rel).is_file()
        except WorkspaceFileError:
            return (self.workspace / rel).is_symlink()

    def occupied(self, rel: str) -> bool:
        """Whether anything is at `rel`: a file, or what the lab refuses to read (a FIFO, a directory,
        a link out of the workspace), which `read_text` then names."""
        try:
            return self.path(rel).exists()
        except WorkspaceFileError:
            return True

    def read_text(self, rel: str) -> str:
        path = self.path(rel)
        if not path.exists():
            raise WorkspaceFileError("file not found", file=rel)
        try:
            data = read_regular(path, MAX_FILE_BYTES)
        except OSError as err:
            raise WorkspaceFileError(
                f"cannot read: {err.strerror}",
                file=rel,
                hint=f"the lab reads regular files of at most {MAX_FILE_BYTES >> 20} MiB",
            ) from None
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as err:
            line = data.count(b"\n", 0, err.start) + 1  # an editor shows lines, not byte offsets
            raise WorkspaceFileError(
                f"file is not UTF-8 text (line {line}, byte {err.start})",
                file=rel,
                line=line,
                hint="save it as UTF-8: YAML is UTF-8 text",
            ) from None

    def yaml_docs(self, rel: str) -> list[yamlsafe.Doc]:
        """Parsed documents of a workspace YAML file, cached per run. Raises LabError."""
        return self.cached(f"yaml:{rel}", lambda: self.load_yaml(self.read_text(rel), rel))

    def load_yaml(self, text: str, rel: str) -> list[yamlsafe.Doc]:
        """`yamlsafe.load_all(text, rel)` once per run for the same file and text: the checks, the
        manifest model and the diagnosis all read the automation files. Raises LabError."""
        return self.cached(f"yaml-text:{rel}\0{text}", lambda: yamlsafe.load_all(text, rel))


# The parameters the library's checks of image automation read (a task's checks.toml [params]).


def graded_branch(ctx: CheckContext) -> str:
    """origin's branch the checks read: the one `lab grade` graded (the roster's), else the branch the
    learner's flux-system GitRepository follows (what source-controller fetches and Flux deploys), else
    main. A run's report carries it (`Report.graded`): a task's settings alone do not know it."""
    if "branch" in ctx.settings:
        return str(ctx.settings["branch"])
    followed = followed_branch(ctx)
    return followed.branch if followed is not None else "main"


@dataclass(frozen=True)
class FollowedBranch:
    """`spec.ref.branch` of the learner's flux-system GitRepository, where it is written."""

    branch: str
    file: str
    line: int
    url: str


def deployed_source(ctx: CheckContext) -> yamlsafe.Doc | None:
    """The GitRepository Flux deploys from, as the working tree's sync file has it: the source the
    flux-system Kustomization names (`spec.sourceRef`), else the one named flux-system, as `flux
    bootstrap` writes them. None when there is no sync file or no such GitRepository."""

    def compute() -> yamlsafe.Doc | None:
        rel = ctx.optional_str_param("sync_file")
        try:
            docs = ctx.yaml_docs(rel) if rel and ctx.exists(rel) else []
        except LabError:
            return None  # repo's checks report an unreadable sync file
        of_kind = [d for d in docs if isinstance(d.data, dict)]
        deployer = next(
            (
                d
                for d in of_kind
                if d.get("kind") == "Kustomization" and d.get("metadata.name") == "flux-system"
            ),
            None,
        )
        source = deployer.get("spec.sourceRef.name") if deployer is not None else None
        name = source if isinstance(source, str) and source else "flux-system"
        return next(
            (d for d in of_kind if d.get("kind") == "GitRepository" and d.get("metadata.name") == name), None
        )

    return ctx.cached("git:deployed-source", compute)


def pinned_ref(ctx: CheckContext) -> str | None:
    """`tag v1.0.0` (or semver, name, commit) when the deployed GitRepository pins a ref: each takes
    precedence over spec.ref.branch, and source-controller checks out that ref whatever a branch has."""
    doc = deployed_source(ctx)
    if doc is None:
        return None
    for field_name in ("commit", "name", "semver", "tag"):  # source-controller's precedence
        value = doc.get(f"spec.ref.{field_name}")
        if isinstance(value, str) and value:
            return f"{field_name} {value}"
    return None


def followed_branch(ctx: CheckContext) -> FollowedBranch | None:
    """The branch of the GitRepository Flux deploys from (`deployed_source`). None when there is none,
    or when it pins a tag or a commit: another GitRepository of the file with a branch is not what Flux
    deploys."""

    def compute() -> FollowedBranch | None:
        doc = deployed_source(ctx)
        branch = doc.get("spec.ref.branch") if doc is not None else None
        if doc is None or not isinstance(branch, str) or not branch or pinned_ref(ctx) is not None:
            return None
        url = doc.get("spec.url")
        return FollowedBranch(branch, doc.file, doc.line_of("spec.ref.branch"), str(url or ""))

    return ctx.cached("git:followed-branch", compute)


@dataclass(frozen=True)
class TaskImages:
    """The task's `[[images]]`, what its registry serves, and the folder their tag files are in."""

    images: tuple[TaskImage, ...]
    folder: Path
    solution: str = "solution"
    """The task's solution folder (task.toml `[solution] dir`), relative to `folder`."""

    def find(self, name: str) -> TaskImage | None:
        """The declared image `name` names (`nginx`, `library/nginx`, `docker.io/library/nginx` alike)."""
        return find_image(self.images, name)

    def file(self, rel: str) -> Path:
        return self.folder / rel

    def solution_text(self, rel: str) -> str | None:
        """The task's solution file at repository path `rel` (the task's own data, trusted), or None."""
        path = self.folder / self.solution / rel
        try:
            return path.read_text(encoding="utf-8") if path.is_file() else None
        except (OSError, UnicodeDecodeError):
            return None


def task_images(ctx: CheckContext) -> TaskImages:
    """From task.toml alone (kept parsed between runs): `load_task` parses the lesson, hints and quiz
    too, which no check of the repository needs."""

    def compute() -> TaskImages:
        from lab.adapters.tasks import default_task_id, read_task_meta, task_folder
        from lab.core.tasks import TASK_FILE

        folder = task_folder(ctx.task or default_task_id())
        meta = read_task_meta(folder / TASK_FILE)
        return TaskImages(meta.images, folder, meta.solution)

    return ctx.cached("task:images", compute)


def automation_files(ctx: CheckContext) -> tuple[str, ...]:
    """The ImageRepository, ImagePolicy and ImageUpdateAutomation files, in that order."""
    return ctx.files_param("automation_files")


def automation_dir(ctx: CheckContext) -> str:
    return ctx.str_param("automation_dir")


def deployment_file(ctx: CheckContext) -> str:
    """The workload whose image line carries the marker."""
    return ctx.str_param("deployment")


def sync_file(ctx: CheckContext) -> str:
    """Where the flux-system Kustomization (what applies the files) is defined."""
    return ctx.str_param("sync_file")
