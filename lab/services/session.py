"""What the lab is working on: the learner's repository, the task, and the world around it.

`lab` with no workspace and no gitops repository under the current directory works in the default
sandbox: a practice repository (with a local bare origin) in the per-user data directory, created
on first use, so a fresh laptop needs no cluster and no network.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import field
from pathlib import Path
from typing import TYPE_CHECKING

from lab.core.record import dataclass
from lab.resources import data_home
from lab.services.tasks import Task, load_task

if TYPE_CHECKING:
    from lab.adapters.git import CommitInfo, Workspace
    from lab.core.manifests.generate import GenerateOptions
    from lab.core.tasks import TaskMeta
    from lab.errors import LabError
    from lab.services.simulate import ProvenancedTags
    from lab.services.sync import ClusterSource, OriginStatus


@dataclass(frozen=True)
class Session:
    workspace: Path
    task: Task
    sandbox: bool
    kubeconfig: str | None
    sandbox_env: tuple[tuple[str, str], ...] = ()
    """What `lab sandbox env` exports, once attached to the running sandbox (see `sandbox.point_env`)."""
    resumed: bool = False
    """Opened as the repository the learner last worked in (`lab` run outside any GitOps repository)."""

    @property
    def mode(self) -> str:
        """Where the lab works, in the words the app's title bar and Home both use."""
        return self.mode_detail[0]

    @property
    def mode_detail(self) -> tuple[str, str]:
        """(mode, what it means): Home shows both, the title bar the first."""
        if self.sandbox and self.kubeconfig is None and is_default_sandbox(self):
            return "practice repo", "no cluster needed; `lab sandbox up` (S on Flux) starts one"
        if self.sandbox and self.kubeconfig is None:
            return "practice repo", "no cluster needed; on 5, c simulates Flux"
        if self.sandbox:
            return "sandbox cluster", "runs in the background; `lab sandbox down` stops it"
        return "cluster", str(self.kubeconfig)


def default_sandbox_workspace() -> Path:
    return data_home() / "sandbox" / "gitops-lab"


def _looks_like_gitops_repo(path: Path) -> bool:
    return (path / ".git").exists() and (path / "clusters").is_dir()


def open_session(workspace: Path | None = None, task_id: str | None = None) -> Session:
    """Pick the workspace: given > the gitops repo around the cwd > the one the learner last worked in
    (unless `task_id` names another) > the default sandbox; then the task: `task_id` > the one the
    workspace records (`lab init DIR --task ID`) > the course's current task. The one picked is recorded
    as the last (`lab.services.progress_record`)."""
    from lab.errors import LabError
    from lab.services.progress_record import remember_repository
    from lab.services.tasks import task_for_workspace

    session = _pick_session(workspace, task_id)
    try:
        # `--task` over a repository that records another task: not where that task is worked on.
        own = task_for_workspace(session.workspace) == session.task.id
    except LabError:
        own = False
    if own:
        remember_repository(session.workspace, session.task.id)
    return session


def _pick_session(workspace: Path | None, task_id: str | None) -> Session:
    from lab.adapters.kubeconfig import default_kubeconfig
    from lab.services.tasks import workspace_task

    kubeconfig = default_kubeconfig()
    if workspace is not None:
        chosen = workspace.resolve()
        return Session(
            chosen, workspace_task(chosen, task_id), sandbox=kubeconfig is None, kubeconfig=kubeconfig
        )
    root = gitops_root_here()
    if root is not None:
        return Session(root, workspace_task(root, task_id), sandbox=kubeconfig is None, kubeconfig=kubeconfig)
    if task_id:
        # The sandbox's repository if it is that task's, else the task's own (as Home opens it): the
        # sandbox's task is not needed, and may be one this shell's lab lacks.
        return _task_session(load_task(task_id))
    resumed = _resumed_session()
    if resumed is not None:
        return resumed
    sandbox_ws = default_sandbox_workspace()
    if not (sandbox_ws / ".git").exists():
        from lab.services.classroom import new_practice_repo

        new_practice_repo(sandbox_ws)
    from lab.sandbox.runtime import SandboxPaths, require_task
    from lab.services.tasks import recorded_task

    recorded = recorded_task(sandbox_ws)
    if recorded is not None:
        require_task(SandboxPaths.at(), recorded)
    return Session(sandbox_ws, workspace_task(sandbox_ws), sandbox=True, kubeconfig=None)


def _resumed_session() -> Session | None:
    """The repository the learner last worked in (the app's last task, or the last `lab init`), opened as
    Home opens a task; None when there is none, it is gone, or it is the default sandbox's."""
    from lab.errors import LabError
    from lab.services.progress_record import last_repository
    from lab.services.tasks import workspace_task

    last = last_repository()
    if last is None or last == default_sandbox_workspace().resolve() or not _looks_like_gitops_repo(last):
        return None
    try:
        task = workspace_task(last)
    except LabError:  # it records a task this lab no longer has: the course's sandbox instead
        return None
    return Session(last, task, sandbox=True, kubeconfig=None, resumed=True)


def resumed_line(session: Session) -> str:
    """What the app and `lab --plain` say when they reopened the learner's last repository."""
    return (
        f"Resumed Task {session.task.id} in {home_relative(session.workspace)}, where you left off; "
        "Home lists every task"
    )


def home_relative(path: Path) -> str:
    """`path` as a learner types it: under the home directory as ~/..., shell-quoted."""
    import shlex

    home = Path.home()
    if path.is_relative_to(home):
        return "~/" + shlex.quote(path.relative_to(home).as_posix())
    return shlex.quote(str(path))


def plain_overview(session: Session) -> str:
    """The home screen as text, for `lab --plain` and terminals where a TUI is unwelcome."""
    from lab.core.tasktexts import format_steps, task_steps

    task = session.task
    lines = [
        *([resumed_line(session)] if session.resumed else []),
        f"fluxlab - Task {task.id}: {task.title}",
        f"workspace: {session.workspace} ({session.mode})",
        "",
        "Next steps:",
        f"  cd {session.workspace}",
        *format_steps(task_steps(task)),
        "",
    ]
    return "\n".join(lines)


# --- what the TUI needs beyond the CLI's services: thin compositions of them, no logic of their own ---


def snapshot_tags_file(task: Task | None = None) -> Path | None:
    """The task's bundled tag list (its first image's), what `lab init` suggests for `lab simulate
    --tags-file`; None when the task bundles no tags."""
    task = task or load_task()
    image = next(iter(task.meta.images), None)
    return task.image_file(image.tags) if image is not None else None


def snapshot_date(task: Task | None = None) -> str:
    """The date the task's bundled tags were taken ("a <date> snapshot")."""
    return (task or load_task()).snapshot_date or "bundled"


def snapshot_note(task: Task | None = None) -> str:
    return f"tags come from a {snapshot_date(task)} snapshot"


def sandbox_elsewhere(session: Session) -> str | None:
    """Why a practice repository not attached to the sandbox does not use the running sandbox: the
    sandbox serves one task, in its own repository (an exercise opened from Done's `n` or Home has a
    repository of its own, with its bundled tags and no cluster). None when no sandbox runs, or this
    is its repository."""
    from lab.services import sandbox

    if not session.sandbox or session.kubeconfig is not None:
        return None
    info = sandbox.running_info(None)
    if info is None or sandbox.holds(info, session.workspace):
        return None
    served = f"task {info.task}" if info.task else "the course's task"
    return (
        f"the sandbox serves {served}; `lab sandbox reset --task {session.task.id}` makes it serve this one"
    )


@dataclass(frozen=True)
class TagSource:
    """Where the session's tags come from, in the Flux screen's words (`note`) and Home's (`row`)."""

    note: str
    row: str


def tag_source(session: Session, tags_file: Path | None = None, elsewhere: str | None = None) -> TagSource:
    """Where the tags come from: `tags_file` (the task's bundled snapshot, or another file), else the
    registry; the sandbox's, or any registry with the snapshot standing in when it cannot be reached
    (as `session_tags` does). Decided here once so that the screens cannot disagree. `elsewhere`:
    `sandbox_elsewhere(session)`, computed off the UI thread (`WorkspaceState.sandbox_elsewhere`):
    this reads no file."""
    task = session.task
    date = snapshot_date(task)
    if tags_file is not None:
        if tags_file == snapshot_tags_file(task):
            return TagSource(snapshot_note(task), f"a {date} snapshot of {task.image_label}'s tags")
        return TagSource(f"tags from {tags_file.name}", f"from {tags_file.name}")
    if session.sandbox and session.kubeconfig is not None:
        from lab.services.sandbox import learners_mirror

        mirror = learners_mirror()
        if mirror is not None:  # attached to the sandbox's cluster, the learner's mirror kept
            return TagSource(
                f"tags from your registry mirror LAB_REGISTRY_MIRROR={mirror}, not the sandbox registry; "
                f"if it cannot be reached, from a {date} snapshot",
                f"your mirror LAB_REGISTRY_MIRROR={mirror}; a {date} snapshot when it cannot be reached",
            )
        served = task.images_label + (f" as of {task.snapshot_date}" if task.snapshot_date else "")
        return TagSource(
            f"tags from the sandbox registry ({served}, then what you push)",
            f"the sandbox registry: {served}, newer tags as you push them",
        )
    if elsewhere is not None:
        as_of = f" as of {task.snapshot_date}" if task.snapshot_date else ""
        return TagSource(
            f"tags come from the ones bundled with this task for {task.images_label}{as_of} ({elsewhere})",
            f"the tags of {task.images_label} bundled with this task"
            + (f" ({as_of.strip()})" if as_of else ""),
        )
    if session.sandbox:
        return TagSource(
            f"tags from the registry; if it cannot be reached, from a {date} snapshot",
            f"the registry; a {date} snapshot when it cannot be reached",
        )
    return TagSource(
        "tags from the registry each ImageRepository names", "the registry each ImageRepository names"
    )


def session_tags(session: Session, tags_file: Path | None = None) -> ProvenancedTags:
    """The session's tag source, `lab simulate`'s: `tags_file`, else the registry (in the sandbox the
    task's bundled tags stand in when it cannot be reached, `used_snapshot` says so for the UI to
    tell); the task's bundled tags alone when the running sandbox serves another task. Reads the
    sandbox's runtime files: call it in a worker."""
    from lab.services.simulate import ProvenancedTags

    return ProvenancedTags(
        tags_file=tags_file,
        fallback=session.sandbox,
        task=session.task,
        elsewhere=sandbox_elsewhere(session),
    )


@dataclass(frozen=True)
class CheckMode:
    """How `lab check` is run for this session: the sandbox has no cluster, and the registry may be
    replaced by a tags file (the bundled snapshot in the sandbox)."""

    offline: bool
    tags_file: Path | None
    task: Task | None = field(default=None, compare=False)
    """The session's task, whose snapshot `describe` recognises (None: the course's current task)."""
    elsewhere: str | None = None
    """`sandbox_elsewhere`: why the running sandbox is not this repository's."""

    def describe(self) -> str:
        if self.tags_file is None:
            return "registry and cluster checks included" if not self.offline else "offline"
        if self.tags_file == snapshot_tags_file(self.task):
            why = f" ({self.elsewhere})" if self.elsewhere else ""
            return f"practice repo: no cluster checks; {snapshot_note(self.task)}{why}"
        return f"tags from {self.tags_file.name}" + ("; no cluster checks" if self.offline else "")


def check_mode(session: Session, tags_file: Path | None = None, elsewhere: str | None = None) -> CheckMode:
    """`elsewhere`: `sandbox_elsewhere(session)`, computed off the UI thread (this reads no file)."""
    if session.sandbox and session.kubeconfig is None:
        return CheckMode(True, tags_file or snapshot_tags_file(session.task), session.task, elsewhere)
    return CheckMode(False, tags_file, session.task)


def generate_diff(
    workspace: Path,
    opts: GenerateOptions,
    out_dir: Path | None = None,
    *,
    texts: Mapping[str, str] | None = None,
    files: Sequence[str] | None = None,
) -> str:
    """What `lab generate --force` would change in files that already exist (empty: nothing to lose).
    `texts`: the manifests already rendered from `opts` (not rendered again); `files`: the task's
    (default: the course text's)."""
    from lab.core.diff import file_diff
    from lab.core.manifests.generate import DEFAULT_FILES
    from lab.services.generate import current_text, generate

    result = generate(workspace, opts, out_dir, stdout=True, texts=texts, files=files or DEFAULT_FILES)
    parts: list[str] = []
    for outcome in result.files:
        path = outcome.path
        if path.is_file() and not path.is_symlink():
            current = current_text(path) or ""
            if current != outcome.text:
                parts.append(file_diff(_rel(path, workspace), current, outcome.text))
    return "".join(parts)


def _rel(path: Path, workspace: Path) -> str:
    try:
        return path.resolve().relative_to(workspace.resolve()).as_posix()
    except ValueError:
        return str(path)


def origin_log(workspace: Path, branch: str | None = None, n: int = 15) -> list[CommitInfo]:
    """`git fetch` then `git log --oneline origin/<branch>`: where Flux's commit shows up."""
    from lab.adapters.git import open_workspace

    ws = open_workspace(workspace)
    ws.fetch()
    branch = branch or ws.branch() or "main"
    if ws.remote_sha(branch) is None:
        return []
    return ws.log(f"origin/{branch}", n=n)


def flux_get_images(kubeconfig: str | None) -> str:
    """`flux get images all -A` from the configured cluster (ClusterError when it cannot be reached)."""
    from lab.adapters.cluster import ClusterClient
    from lab.core.fluxget import format_get_all

    client = ClusterClient.from_kubeconfig(kubeconfig)
    try:
        by_kind = {
            kind: client.list(kind, None)
            for kind in ("ImageRepository", "ImagePolicy", "ImageUpdateAutomation")
        }
    finally:
        client.close()
    return format_get_all(by_kind, all_namespaces=True) or "no image automation objects in the cluster\n"


def reconcile_images(kubeconfig: str | None) -> list[str]:
    """`flux reconcile` for every image object: ask the controllers to act now."""
    from lab.adapters.cluster import ClusterClient

    client = ClusterClient.from_kubeconfig(kubeconfig)
    done: list[str] = []
    try:
        for kind in ("ImageRepository", "ImagePolicy", "ImageUpdateAutomation"):
            for obj in client.list(kind, None):
                meta = obj.get("metadata") or {}
                ns, name = str(meta.get("namespace", "flux-system")), str(meta.get("name", ""))
                client.request_reconcile(kind, name, ns)
                done.append(f"{kind}/{ns}/{name}")
    finally:
        client.close()
    return done


_STAMP_SKIP = {".git", ".fluxlab-cache", "node_modules", ".venv", "__pycache__"}
_STAMP_MAX_FILES = 2000


def workspace_stamp(workspace: Path) -> tuple[tuple[str, int, int], ...]:
    """mtime and size of the files the checks read (manifests, PROGRESS.md, the quiz record, the
    origin refs); a change means the checks are worth re-running. Cheap: stat only, bounded."""
    from lab.adapters.tree import walk_entries
    from lab.services.quiz import SESSION_FILE, STATE_DIR

    root = workspace
    # The lab's personal state (hints revealed, unfinished quiz answers: lab.services.quiz), read by no
    # check and written on every quiz answer: it must not make the checks look stale.
    skipped = {os.path.join(root, STATE_DIR, SESSION_FILE)}
    out: list[tuple[str, int, int]] = []
    for entry in walk_entries(root, skip_dirs=frozenset(_STAMP_SKIP)):
        if not entry.name.endswith((".yaml", ".yml", ".md", ".json")) or entry.is_dir(follow_symlinks=False):
            continue
        if entry.path in skipped:
            continue
        _stat_into(out, Path(entry.path))
        if len(out) >= _STAMP_MAX_FILES:
            return tuple(out)
    git = root / ".git"
    for extra in ("HEAD", "packed-refs"):
        _stat_into(out, git / extra)
    _stat_refs(out, git / "refs" / "remotes")
    return tuple(out)


def _stat_refs(out: list[tuple[str, int, int]], refs: Path) -> None:
    """Every ref file below `refs` (a branch named feature/x is a directory and a file)."""
    if refs.is_dir():
        for dirpath, _dirs, filenames in os.walk(refs):
            for name in filenames:
                _stat_into(out, Path(dirpath) / name)


def _stat_into(out: list[tuple[str, int, int]], path: Path) -> None:
    try:
        st = path.lstat()
    except OSError:
        return
    out.append((str(path), st.st_mtime_ns, st.st_size))


def served_image_api(kubeconfig: str | None) -> str | None:
    """The apiVersion the session's cluster serves (full form), None without one: generate's probe."""
    from lab.services.generate import served_image_api as probe

    return probe(kubeconfig)


def is_default_sandbox(session: Session) -> bool:
    return session.sandbox and session.workspace.resolve() == default_sandbox_workspace().resolve()


def attach_sandbox(session: Session, *, start: bool = False) -> Session:
    """The same session pointed at the running sandbox's cluster and registry (`lab sandbox up`): its
    kubeconfig and `sandbox_env`. With `start`, start the sandbox in the background first. Unchanged
    when this is not the default sandbox, a cluster is already configured, or none runs. Changes no
    process-wide setting (safe in a worker thread): `sandbox.point_env(dict(session.sandbox_env))` does."""
    if not is_default_sandbox(session) or session.kubeconfig is not None:
        return session
    from dataclasses import replace

    from lab.services import sandbox

    # The sandbox serves one task's images: started for this session's task, and a running sandbox of
    # another task is refused (a LabError saying how to switch), never attached to the wrong world.
    task = session.task.id
    info = sandbox.ensure_running(None, task=task) if start else sandbox.running_info(None)
    if info is not None and not start and not info.serves(task):
        return session
    if info is None:
        return session
    return replace(session, kubeconfig=str(info.kubeconfig), sandbox_env=tuple(sorted(info.env().items())))


def followed_sandbox(session: Session) -> Session:
    """The default sandbox's session as the sandbox is now. `lab sandbox reset --task X` (which the app
    tells the learner to run) gives its repository another task, and `lab sandbox up` after it other
    ports: the task the repository records, attached to the sandbox that runs now. `session` itself when
    nothing changed or when it is not the default sandbox. When no sandbox of that task runs (`lab
    sandbox down`, a reset that left it stopped) the session is detached: Home and the Flux screen then
    say there is no cluster and that `S` / `lab sandbox up` starts it, where they kept naming a cluster
    whose kubeconfig was gone. A task this lab lacks (reset in a shell with LAB_TASKS_PATH, the app's
    without it) leaves the open task graded, as `_resumed_session` does."""
    if not is_default_sandbox(session):
        return session
    from dataclasses import replace

    from lab.errors import LabError
    from lab.services import sandbox
    from lab.services.tasks import workspace_task

    try:
        task = workspace_task(session.workspace)
    except LabError:
        task = session.task
    followed = session if task.id == session.task.id else replace(session, task=task)
    info = sandbox.running_info(None)
    if info is not None and info.serves(task.id):
        followed = replace(
            followed, kubeconfig=str(info.kubeconfig), sandbox_env=tuple(sorted(info.env().items()))
        )
    else:
        followed = replace(followed, kubeconfig=None, sandbox_env=())
    return session if followed == session else followed


def sandbox_reset_note(before: Session, after: Session) -> str | None:
    """What the app says once when it follows `lab sandbox reset --task` run in another shell: the task
    the sandbox serves now and where the previous repository was kept (None: the task did not change)."""
    if after.task.id == before.task.id or not is_default_sandbox(after):
        return None
    from lab.services import sandbox

    kept = sandbox.last_kept(None)
    where = f"; your task {before.task.id} repository is kept in {kept}" if kept is not None else ""
    return f"The sandbox was reset: it now serves task {after.task.id}{where}."


def sandbox_note(session: Session, *, running: bool) -> str | None:
    """What quitting the app says: the sandbox does not stop with it."""
    if not running:
        return None
    return (
        "The sandbox keeps running in the background (cluster, registry, Flux controllers): "
        "`lab sandbox down` stops it, `lab` uses it again."
    )


def push_sandbox_tag(tag: str | None = None) -> list[tuple[str, list[str]]]:
    """`lab sandbox push-tag [TAG]`: publish a tag of the task's first image in the sandbox registry as
    CI would (no tag: its next dated release after the snapshot, or the next tag its policy picks, and
    then the next tag of each other image the task's policies track); returns (image, tags added) for
    each image that got one, the first image first (its tags may be none)."""
    from lab.services import sandbox

    result = sandbox.push_tag(None, tag)
    first = str(result.get("declared") or result.get("image") or "")
    out = [(first, [str(t) for t in result.get("added") or []])]
    out += [
        (str(o["declared"]), [str(t) for t in o["added"]]) for o in result.get("also") or [] if o["added"]
    ]
    return out


# --- one workspace state for every screen of the app ---------------------------------------------

#: origins the watcher cannot stat (a URL) are fetched this often while the app runs
REMOTE_FETCH_S = 60.0


@dataclass(frozen=True)
class WorkspaceState:
    """What every screen shows: the task's files, git (local and origin), the sandbox. Read in a
    worker, never on the UI thread; `stamp` is the watch stamp it was read at (see `watch_stamp`)."""

    stamp: tuple[tuple[str, int, int], ...]
    files: dict[str, str | None]
    """The task's files as they are on disk (None: missing or unreadable)."""
    git: OriginStatus | None
    git_error: str | None
    origin_log: tuple[CommitInfo, ...]
    sandbox_running: bool
    sandbox_elsewhere: str | None = None
    """`sandbox_elsewhere(session)`: why the running sandbox is not this repository's (None: it is, or
    none runs). Read here so that the screens need not read the sandbox's files on the UI thread."""


def origin_dir(workspace: Path, ws: Workspace | None = None) -> Path | None:
    """origin's directory when it is a local (bare) repository, as `lab init` and the sandbox make it:
    then watching its refs tells when Flux pushed, with no fetch and no network. `ws`: the workspace
    already opened (its git config is read once, not again)."""
    from lab.adapters.git import open_workspace
    from lab.errors import LabError

    try:
        url = (ws or open_workspace(workspace)).remote_url()
    except LabError:
        return None
    path = Path(url.removeprefix("file://"))
    return path if path.is_absolute() and path.is_dir() else None


def watch_stamp(workspace: Path, origin: Path | None) -> tuple[tuple[str, int, int], ...]:
    """The workspace's files and refs plus origin's refs: a change means the state is worth reading
    again. stat only, bounded: cheap enough to take every second on a shared 2-core machine."""
    out = list(workspace_stamp(workspace))
    # Not .git/index: `git status` itself rewrites it, and the state read would then look like a change.
    _stat_refs(out, workspace / ".git" / "refs" / "heads")
    if origin is not None:
        _stat_into(out, origin / "packed-refs")
        _stat_refs(out, origin / "refs" / "heads")
    return tuple(out)


def read_state(session: Session, *, fetch: bool = True, log_size: int = 15) -> WorkspaceState:
    """Read the workspace state (blocking: run it in a worker). Fetches origin first unless told not to;
    the stamp is taken after the fetch, so the fetch itself does not look like a change.

    git rewrites a file by creating it empty and then writing it, so a read beside a git command (a
    pull, a rebase, the learner's own `git` in another terminal) can see a torn tree: an empty
    PROGRESS.md, the old manifest with the new refs. Such a read is taken again, a few times; if
    the tree is still moving, the state carries a stamp no tree has, so the watcher reads it again
    on its next tick rather than keeping a torn state for good."""
    import time

    from lab.adapters.git import open_workspace
    from lab.errors import LabError

    workspace = session.workspace
    ws: Workspace | None = None
    try:
        ws = open_workspace(workspace)
        opened: LabError | None = None
    except LabError as err:
        opened = err
    origin = origin_dir(workspace, ws) if ws is not None else None
    cluster = cluster_source(session)
    stamp = watch_stamp(workspace, origin)
    for attempt in range(_SETTLE_TRIES):
        # Nothing moved between the stamps on both sides of the reads: the reads saw one tree, the
        # second stamp's. A fetch that brings commits moves the stamp too: one more round, whose
        # fetch brings none (needed anyway when origin moved during the fetch: Flux pushing then).
        before = stamp
        git, git_error, log = _read_git(
            ws, opened, fetch=fetch, log_size=log_size, task_id=session.task.id, cluster=cluster
        )
        files = _read_task_files(workspace, session.task.id)
        stamp = watch_stamp(workspace, origin)
        if stamp == before and not git_busy(workspace):
            break
        time.sleep(_SETTLE_WAIT_S * (attempt + 1))
    else:
        stamp = (*stamp, _UNSETTLED)
    return WorkspaceState(
        stamp=stamp,
        files=files,
        git=git,
        git_error=git_error,
        origin_log=log,
        sandbox_running=sandbox_running(session),
        sandbox_elsewhere=sandbox_elsewhere(session),
    )


_SETTLE_TRIES = 4
_SETTLE_WAIT_S = 0.05
_UNSETTLED = ("<git was still writing>", -1, -1)
_LOCK_FRESH_S = 10.0
"""An index.lock older than this is a crashed git's leftover, not a command at work."""


def git_busy(workspace: Path) -> bool:
    """A git command is writing the work tree now: it holds .git/index.lock (checkout, merge, rebase,
    commit). A lock left by a crashed git is not a command at work, and git itself says how to clear it."""
    import time

    try:
        st = (workspace / ".git" / "index.lock").lstat()
    except OSError:
        return False
    return time.time() - st.st_mtime < _LOCK_FRESH_S


def cluster_source(session: Session) -> ClusterSource | None:
    """The session's cluster, to ask which branch Flux deploys: the sandbox's or the real one; None in
    the practice repository (no cluster: the sync file says)."""
    if session.kubeconfig is None:
        return None
    from lab.services.sync import SANDBOX_WHERE, ClusterSource

    return ClusterSource(
        session.kubeconfig, SANDBOX_WHERE if session.sandbox else f"the cluster of {session.kubeconfig}"
    )


def _read_git(
    ws: Workspace | None,
    opened: LabError | None,
    *,
    fetch: bool,
    log_size: int,
    task_id: str | None = None,
    cluster: ClusterSource | None = None,
) -> tuple[OriginStatus | None, str | None, tuple[CommitInfo, ...]]:
    """git's side of the state; `opened`: why the workspace could not be opened as a repository."""
    from lab.errors import LabError
    from lab.services.sync import origin_status

    if ws is None:
        return None, str(opened), ()
    try:
        git = origin_status(ws, fetch=fetch, task_id=task_id, cluster=cluster)
        log: tuple[CommitInfo, ...] = ()
        # A detached HEAD or a branch origin lacks: origin's deployed branch (it read "no commits").
        if git.has_origin and ws.remote_sha(git.log_branch) is not None:
            log = tuple(ws.log(f"refs/remotes/origin/{git.log_branch}", n=log_size))
    except LabError as err:
        return None, str(err), ()
    return git, None, log


def _read_task_files(workspace: Path, task_id: str) -> dict[str, str | None]:
    """The task's files as the checks read them (regular files up to their limit): a FIFO there would
    block the read for ever, a huge file cost every refresh, and a link is not the learner's file."""
    from lab.adapters.files import read_regular
    from lab.checks.context import MAX_FILE_BYTES
    from lab.services.sync import task_paths

    files: dict[str, str | None] = {}
    for rel in task_paths(task_id):
        try:
            files[rel] = read_regular(workspace / rel, MAX_FILE_BYTES, follow_symlinks=False).decode("utf-8")
        except (OSError, UnicodeDecodeError):
            files[rel] = None
    return files


def sandbox_running(session: Session) -> bool:
    """Whether the per-user sandbox runs (whichever task is open: quitting must say it keeps running)."""
    if not session.sandbox:
        return False
    from lab.services import sandbox

    return sandbox.running_info(None) is not None


# --- the course's tasks, opened from the app's Home ----------------------------------------------


def task_catalogue() -> list[TaskMeta]:
    """Every task the lab has (the course's and those on LAB_TASKS_PATH), in course order."""
    from lab.adapters.tasks import catalogue

    return [entry.meta for entry in catalogue()]


def next_task_in_lab(meta: TaskMeta) -> TaskMeta | None:
    """The task the lab offers once `meta` is done: its next task, else the exercises built on it, and
    past the ones already done (PROGRESS.md in their repositories says so); at the chain's end the
    first task of the lab not done yet (exercises taken out of order); None when every one is done."""
    from lab.core.tasks import next_in_lab

    catalogue = task_catalogue()
    seen = {meta.id}
    found = next_in_lab(meta, catalogue)
    while found is not None and found.id not in seen and task_standing(found) == "done":
        seen.add(found.id)
        found = next_in_lab(found, catalogue)
    if found is not None and found.id not in seen:
        return found
    return next((t for t in catalogue if t.id != meta.id and task_standing(t) != "done"), None)


def course_goes_on(meta: TaskMeta) -> str:
    """The course's next task outside this lab after `meta` ("Task 10 - Cleanup"), "" when none."""
    from lab.core.tasks import course_after

    found = course_after(meta, task_catalogue())
    return f"Task {found[0]} - {found[1]}" if found is not None else ""


def task_workspace(task_id: str) -> Path:
    """Where the app keeps a task's own practice repository (made from its starter on first use)."""
    return data_home() / "tasks" / task_id / "gitops-lab"


def task_start(task_id: str) -> str:
    """How to start on `task_id` in a shell, in the repository the app opens it in (so the app and the
    shell work on one repository, not two): `cd` to it when the app has made it, else the `lab init`
    that makes it there."""
    path = task_repository(task_id)
    quoted = home_relative(path)
    if (path / ".git").exists():
        return f"cd {quoted}"
    return f"lab init {quoted} --task {task_id}"


def task_repository(task_id: str) -> Path:
    """The repository the app opens `task_id` in: the one the learner last worked on it in (`lab init
    DIR --task ID`, or opened in the app), else the default sandbox's for the task it records (the
    course's current task until `lab sandbox reset --task ID`), else the task's own practice repository."""
    from lab.services.progress_record import recorded_repositories

    recorded = recorded_repositories(task_id)
    return recorded[0] if recorded else _app_repository(task_id)


def _app_repository(task_id: str) -> Path:
    from lab.services.tasks import default_task_id

    sandbox_ws = default_sandbox_workspace()
    # The id as recorded, known to this lab or not: a task the lab has is never an unknown one.
    sandbox_task = recorded_task_in(sandbox_ws) if (sandbox_ws / ".git").exists() else None
    return sandbox_ws if task_id == (sandbox_task or default_task_id()) else task_workspace(task_id)


def gitops_root_here() -> Path | None:
    """The GitOps repository around the working directory (the workspace commands pick first), if any."""
    from lab.adapters.git import find_git_root

    try:
        root = find_git_root(Path.cwd().resolve())
    except OSError:  # the working directory was removed under us
        return None
    return root if root is not None and _looks_like_gitops_repo(root) else None


def recorded_task_here() -> str | None:
    """The task the GitOps repository around the working directory records (`lab init --task`); None
    when there is none, or its record cannot be read (`lab check` there says why)."""
    here = gitops_root_here()
    return recorded_task_in(here) if here is not None else None


def recorded_task_in(workspace: Path) -> str | None:
    """The task id `workspace` records, None when none or unreadable (`lab check` there says why)."""
    from lab.adapters.tasks import recorded_task
    from lab.errors import LabError

    try:
        return recorded_task(workspace)
    except LabError:
        return None


def task_standing(meta: TaskMeta, workspace: Path | None = None) -> str:
    """Where the learner is with a task across the course: `done` when PROGRESS.md in one of its
    repositories marks the task's row done (`task_done_in`), `started` when one of them exists, ""
    when none does. Reads a few files; never creates anything."""
    if task_done_in(meta, workspace) is not None:
        return "done"
    return (
        "started" if any((where / ".git").exists() for where in _task_repositories(meta, workspace)) else ""
    )


def task_done_in(meta: TaskMeta, workspace: Path | None = None) -> Path | None:
    """The repository whose PROGRESS.md marks `meta`'s own row done: `workspace` (the open repository,
    working on that task), or one the learner made for it (`lab init`, the app), None when none does.
    Only a repository working on the task counts: the rows other repositories copy are not the truth."""
    from lab.core.progress import row_status, status_is_done
    from lab.errors import LabError
    from lab.services.progress import read_progress

    for where in _task_repositories(meta, workspace):
        if not (where / ".git").exists():
            continue
        try:
            _, text = read_progress(where)
        except LabError:
            continue
        row = row_status(text, meta.progress_row or meta.id)
        if row is not None and status_is_done(row[0]):
            return where
    return None


def _task_repositories(meta: TaskMeta, workspace: Path | None) -> list[Path]:
    from lab.errors import LabError
    from lab.services.progress_record import recorded_repositories

    found = [workspace] if workspace is not None else []
    found += recorded_repositories(meta.id)
    try:
        found.append(_app_repository(meta.id))
    except LabError:  # a course.toml that cannot be read: opening the task says so
        pass
    unique: list[Path] = []
    for path in found:
        if path.resolve() not in (u.resolve() for u in unique):
            unique.append(path)
    return unique


def lab_task_standings(
    workspace: Path | None = None, task_id: str | None = None
) -> list[tuple[TaskMeta, str]]:
    """Every task of the lab, in course order, with where the learner stands (`task_standing`):
    `task_id`'s read in `workspace` (the open repository, or the one around the working directory), the
    others in the repositories the app keeps for them."""
    return [
        (meta, task_standing(meta, workspace if meta.id == task_id else None)) for meta in task_catalogue()
    ]


def open_task(session: Session, task_id: str) -> Session:
    """The session for `task_id`: the default sandbox's repository for the course's current task, else
    the task's own practice repository (made from its starter, with a local origin, on first use, as
    `lab init DIR --task ID` does). Unchanged when that task is already open."""
    task = load_task(task_id)
    return session if task.id == session.task.id else _task_session(task)


def _task_session(task: Task) -> Session:
    from lab.services.progress_record import remember_repository

    workspace = task_repository(task.id)
    if not (workspace / ".git").exists():
        from lab.services.classroom import new_practice_repo

        new_practice_repo(workspace, task=task.id)
    remember_repository(workspace, task.id)
    return Session(workspace, task, sandbox=True, kubeconfig=None)
