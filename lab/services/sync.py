"""Living with Flux's commits: where origin stands, and `git pull --rebase && git push` done for the learner.

Once image-automation-controller has pushed, origin has a commit the learner does not have, and a plain
`git push` is rejected (non-fast-forward). `sync` does what a careful engineer types: fetch, replay the
learner's commits on top of origin (rebase; merge when asked), push, and retry when Flux pushed again
in between. It records the git commands as the learner would type them, so the app and `lab sync`
can teach them.

Nothing is ever lost: uncommitted changes to tracked files make it refuse, unless the caller asked to
stash them (then they are stashed and restored, and the result says so). A conflict aborts the rebase
or merge, so HEAD, the index and the working tree are exactly as before, and the result names the file,
the commits on both sides and the lines they disagree on.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from lab.adapters.git import PULL_AND_PUSH, CommitInfo, Workspace, by_author, count_commits, open_workspace
from lab.core import jsontext
from lab.core.fluxsource import DEFAULT_BRANCH, FluxBranch, ref_branch, syncs_repository
from lab.core.gitstate import detached_advice, stopped_advice
from lab.core.record import dataclass
from lab.errors import GitError, LabError

if TYPE_CHECKING:
    from lab.core.checks.model import CheckResult
    from lab.core.marker import MarkerDelta
    from lab.services.sandbox import SandboxInfo

Strategy = Literal["rebase", "merge"]
Outcome = Literal["up-to-date", "pushed", "integrated", "conflict", "refused"]
MAX_ATTEMPTS = 3
STASH_MESSAGE = "lab sync: your uncommitted changes"
SANDBOX_WHERE = "the sandbox"
CLUSTER_TIMEOUT_S = 2.0
"""How long reading Flux's GitRepository from a cluster may take: a side question of a git command."""


def _ask_cluster(source: ClusterSource, name: str, namespace: str) -> dict[str, Any] | None:
    """The GitRepository from `source`'s cluster; a cluster that did not answer lately fails at once,
    saying since when, until RETRY_AFTER_S have passed (`lab.adapters.cluster_silence`). Raises
    LabError."""
    from lab.adapters.cluster import ClusterClient
    from lab.adapters.cluster_silence import asking

    with (
        ClusterClient.from_kubeconfig(source.kubeconfig, source.context, timeout=CLUSTER_TIMEOUT_S) as client,
        asking(client.server, source.where),
    ):
        return client.get("GitRepository", name, namespace)


@dataclass(frozen=True)
class ClusterSource:
    """A cluster to ask which branch Flux deploys: `kubeconfig` (and `context`); `where` names it in
    what the learner reads ("the sandbox", "the cluster of $KUBECONFIG"). Made once per command or
    state read, it asks the cluster once: the app's state read retries its git reads until the tree
    settles, and a cluster that does not answer cost its timeout on every round."""

    kubeconfig: str
    where: str
    context: str | None = None
    _answers: dict[tuple[str, str], dict[str, Any] | LabError | None] = field(
        default_factory=dict, compare=False, repr=False
    )

    def git_repository(self, name: str, namespace: str) -> dict[str, Any] | None:
        """The GitRepository as the cluster has it, None when it has none. Raises LabError when the
        cluster cannot be read."""
        asked = (name, namespace)
        if asked not in self._answers:
            try:
                self._answers[asked] = _ask_cluster(self, name, namespace)
            except LabError as err:
                self._answers[asked] = err
        answer = self._answers[asked]
        if isinstance(answer, LabError):
            raise answer
        return answer

    @property
    def failure(self) -> LabError | None:
        """Why a read of this cluster failed (None: none failed, or none was made): the branch Flux
        deploys then came from the sync file."""
        return next((a for a in self._answers.values() if isinstance(a, LabError)), None)


@dataclass(frozen=True)
class OriginStatus:
    """The local branch against origin's, as of a fresh fetch (or the last one when it failed)."""

    root: Path
    branch: str | None
    head: str | None
    remote_head: str | None
    ahead: list[CommitInfo] = field(default_factory=list)
    """Commits the learner has that origin lacks (newest first)."""
    behind: list[CommitInfo] = field(default_factory=list)
    """Commits origin has that the learner lacks (newest first), Flux's typically."""
    dirty: list[str] = field(default_factory=list)
    """Tracked files with uncommitted changes (these block a rebase)."""
    untracked: list[str] = field(default_factory=list)
    fetch_error: str | None = None
    has_origin: bool = True
    in_progress: str | None = None
    """"rebase", "merge", ... stopped half-way (on a conflict, typically); `branch` is the one rebased."""
    conflicted: list[str] = field(default_factory=list)
    """Files a stopped rebase or merge left with conflict markers."""
    watched: str = DEFAULT_BRANCH
    """The branch Flux deploys (the task's GitRepository's), whichever branch the learner is on."""
    detached_on: list[str] = field(default_factory=list)
    """HEAD detached: origin's branches that have its commit (none: the commit is only here)."""
    unmerged: list[CommitInfo] = field(default_factory=list)
    """On a branch Flux does not deploy: its commits that origin's deployed branch lacks (newest
    first), pushed or not: what is not deployed until merged."""
    flux: FluxBranch = field(default_factory=FluxBranch)
    """Where `watched` comes from: the cluster's GitRepository when one was read, else the sync file's;
    `flux.mismatch()` says when the two differ."""
    left_stashes: list[str] = field(default_factory=list)
    """Stash entries a `lab sync --stash` left (`stash@{N}`, newest first): changes not restored."""

    @property
    def diverged(self) -> bool:
        return bool(self.ahead) and bool(self.behind)

    @property
    def log_branch(self) -> str:
        """The origin branch worth a `git log`: the learner's when origin has it, else the one Flux
        deploys (a detached HEAD or a branch not pushed yet has no origin branch of its own)."""
        return self.branch if self.branch and self.remote_head else self.watched

    @property
    def in_sync(self) -> bool:
        return self.head is not None and self.head == self.remote_head

    @property
    def cannot_sync(self) -> bool:
        """`lab sync` cannot run here: no origin, a detached HEAD, or a rebase or merge stopped
        half-way (`summary` says what to do first)."""
        return not self.has_origin or self.branch is None or self.in_progress is not None

    def status_code(self) -> int:
        """`lab sync --status`'s exit code: 0 when the branch is on origin at the same commit (nothing
        to pull or push, whichever branch Flux deploys), 1 when it is not (commits to pull or to push,
        or origin has no such branch yet, even one with no commits of its own), 3 when `lab sync`
        cannot run here (`cannot_sync`) or origin could not be fetched (what is said is as of the last
        fetch, and `lab sync` would fail the same way)."""
        if self.cannot_sync or self.fetch_error:
            return 3
        return 0 if self.in_sync else 1

    def behind_line(self) -> str | None:
        """ "origin has 1 commit by Flux you don't have", or None when origin has nothing new."""
        if not self.behind:
            return None
        return f"origin has {count_commits(len(self.behind))}{by_author(self.behind)} you don't have"

    def ahead_line(self) -> str | None:
        if self.remote_head is None and self.head is not None:
            # Pushing creates the branch even when it has no commit of its own yet.
            if self.ahead:
                return (
                    f"origin has no branch {self.branch}: {count_commits(len(self.ahead))} of its own to push"
                )
            return (
                f"origin has no branch {self.branch} yet, and it has no commits of its own "
                f"(none that origin/{self.watched} lacks)"
            )
        if not self.ahead:
            return None
        return f"you have {count_commits(len(self.ahead))} origin doesn't have"

    def not_on_origin(self) -> str:
        """What a simulated Flux run does not see because origin lacks it (Flux reads origin): the
        learner's uncommitted files and unpushed commits; "" when everything is on origin. A dry run
        that says only "nothing to commit" misleads a learner who forgot to push."""
        parts = []
        if self.dirty or self.untracked:
            n = len(self.dirty) + len(self.untracked)
            parts.append(f"{n} uncommitted file{'s' if n != 1 else ''}")
        if self.ahead:
            parts.append(f"{len(self.ahead)} unpushed commit{'' if len(self.ahead) == 1 else 's'}")
        if not parts:
            return ""
        return f"Flux reads origin, which does not have your {' and '.join(parts)}"

    def summary(self) -> str:
        """One or two sentences: where origin stands and what to do about it."""
        if not self.has_origin:
            return "no remote origin: git remote add origin URL"
        if self.in_progress is not None:
            what, todo = stopped_advice(self.in_progress, self.branch, self.conflicted)
            return f"{what}: {todo}"
        if self.branch is None:
            what, todo = detached_advice(self.head, self.detached_on, self.watched)
            return f"{what}: {todo}"
        parts = [p for p in (self.behind_line(), self.ahead_line()) if p]
        if not parts:
            text = f"{self.branch} is in sync with origin/{self.branch}"
        else:
            text = "; ".join(parts)
            if self.diverged:
                text += f" - integrate them: {PULL_AND_PUSH}"
            elif self.behind:
                text += " - git pull --rebase"
            elif self.remote_head is None:
                text += f" - git push -u origin {self.branch}"
            else:
                text += " - git push"
        if self.dirty:
            n = len(self.dirty)
            text += f" ({n} file{'' if n == 1 else 's'} with uncommitted changes)"
        if self.branch != self.watched:
            text += f"; Flux deploys {self.watched}, not {self.branch}"
        if self.flux.mismatch():
            text += f"; {self.flux.mismatch()}"
        if self.fetch_error:
            text += f" [as of the last fetch: {self.fetch_error}]"
        return text + self.stash_note()

    def stash_note(self) -> str:
        """Where an interrupted `lab sync --stash` left the learner's changes, and how to get them back."""
        if not self.left_stashes:
            return ""
        where = ", ".join(self.left_stashes)
        return (
            f"; your uncommitted changes from an earlier lab sync are still in {where} "
            f"({STASH_MESSAGE}) - git stash pop {self.left_stashes[0]}"
        )

    def commit_lines(self) -> list[str]:
        """Origin's new commits as `sha author: subject` lines (what `git log HEAD..origin/main` shows)."""
        return [f"{c.short} {c.author_name}: {c.subject}" for c in self.behind]


def flux_branch(
    path: Path | Workspace, task_id: str | None = None, *, cluster: ClusterSource | None = None
) -> FluxBranch:
    """The branch Flux deploys. From `cluster`'s GitRepository when it can be read and follows this
    repository (what runs now), else from `spec.ref.branch` of the GitRepository in the task's sync file
    (`[params] sync_file`, the one `flux bootstrap` wrote and the sandbox bootstraps from) as the
    learner's working tree has it (what Flux applies once the file is deployed), else `DEFAULT_BRANCH`.
    The result keeps both, so that a difference can be said."""
    ws = path if isinstance(path, Workspace) else open_workspace(Path(path))
    found = _sync_file_branch(ws, task_id)
    if cluster is None:
        return found
    try:
        obj = cluster.git_repository(found.name, found.namespace)
        origin_url = ws.remote_url("origin") if "origin" in ws.remotes() else ""
    except LabError:
        return found  # no cluster to be read now: the working tree is the best guess
    if (
        obj is None
        or not origin_url
        or not syncs_repository(obj, origin_url, lambda sha: ws.rev_parse(sha) == sha)
    ):
        return found  # not bootstrapped, or another repository's cluster: it says nothing of this one
    return replace(found, cluster_branch=ref_branch(obj), cluster=cluster.where)


def _sync_file_branch(ws: Workspace, task_id: str | None) -> FluxBranch:
    """The sync file's GitRepository (flux-system first: the one `flux bootstrap` makes)."""
    from lab.adapters.tasks import task_params
    from lab.core.manifests.parse import find_automation

    try:
        rel = task_params(_task_of(ws, task_id)).get("sync_file")
        raw = ws.read_worktree_file(rel) if isinstance(rel, str) and rel else None
    except LabError:  # an unknown recorded task or a bad path: Flux's default is still the best guess
        return FluxBranch()
    if raw is None:
        return FluxBranch(file=str(rel or ""))
    repos = find_automation({str(rel): raw.decode("utf-8", "replace")}).git_repositories
    for repo in sorted(repos, key=lambda r: r.name != "flux-system"):
        if repo.branch:
            return FluxBranch(repo.branch, str(rel), name=repo.name, namespace=repo.namespace)
    return FluxBranch(file=str(rel))


def workspace_cluster(
    workspace: Path, named: str | None = None, context: str | None = None
) -> ClusterSource | None:
    """The cluster that deploys `workspace`, to ask: `named` (--kubeconfig), else $KUBECONFIG, else
    ~/.kube/config, else the running sandbox when this is its repository; None when there is none."""
    from lab.services import sandbox

    return cluster_of(workspace, sandbox.running_info(None), named, context)


def cluster_of(
    workspace: Path, running: SandboxInfo | None, named: str | None = None, context: str | None = None
) -> ClusterSource | None:
    """`workspace_cluster` with the running sandbox (`sandbox.running_info`) read already."""
    from lab.adapters.kubeconfig import kubeconfig_source
    from lab.services import sandbox

    found = kubeconfig_source(named)
    if found is not None:
        # The app passes the sandbox's own kubeconfig by name: call it the sandbox, as without it.
        own = running is not None and Path(found[0]).resolve() == Path(running.kubeconfig).resolve()
        return ClusterSource(found[0], SANDBOX_WHERE if own else f"the cluster of {found[1]}", context)
    info = sandbox.sandbox_of(running, workspace)
    return ClusterSource(str(info.kubeconfig), SANDBOX_WHERE) if info is not None else None


def _tracked_dirty(ws: Workspace) -> tuple[list[str], list[str]]:
    entries = ws.status()
    dirty = sorted({e.path for e in entries if e.code != "??"})
    untracked = sorted({e.path for e in entries if e.code == "??"})
    return dirty, untracked


def origin_status(
    path: Path | Workspace,
    *,
    fetch: bool = True,
    task_id: str | None = None,
    cluster: ClusterSource | None = None,
) -> OriginStatus:
    """Fetch origin (unless `fetch=False`) and compare it with the checked-out branch. `task_id`: the
    task whose GitRepository names the branch Flux deploys (default: the one the repository records);
    `cluster`: where to read that GitRepository first (see `flux_branch`)."""
    ws = path if isinstance(path, Workspace) else open_workspace(Path(path))
    busy = ws.in_progress()
    conflicted = ws.conflicted_files() if busy is not None else []
    # A stopped rebase detaches HEAD: the branch it replays is the one to compare with origin's.
    branch = ws.branch() or (ws.rebasing_branch() if busy == "rebase" else None)
    head = ws.rev_parse(f"refs/heads/{branch}") if busy == "rebase" and branch else ws.rev_parse("HEAD")
    dirty, untracked = _tracked_dirty(ws)
    dirty = [p for p in dirty if p not in conflicted]
    flux = flux_branch(ws, task_id, cluster=cluster)
    watched = flux.branch
    left = [ref for ref, message in ws.stash_entries(STASH_MESSAGE) if message == STASH_MESSAGE]
    if "origin" not in ws.remotes():
        return OriginStatus(
            ws.root,
            branch,
            head,
            None,
            dirty=dirty,
            untracked=untracked,
            has_origin=False,
            in_progress=busy,
            conflicted=conflicted,
            watched=watched,
            flux=flux,
            left_stashes=left,
        )
    fetch_error = None
    if fetch:
        try:
            ws.fetch("origin")
        except GitError as err:
            fetch_error = err.message
    if branch is None:
        return OriginStatus(
            ws.root,
            None,
            head,
            None,
            dirty=dirty,
            untracked=untracked,
            fetch_error=fetch_error,
            in_progress=busy,
            conflicted=conflicted,
            watched=watched,
            detached_on=ws.remote_branches_containing(head) if head else [],
            flux=flux,
            left_stashes=left,
        )
    remote_head = ws.remote_sha(branch)
    ahead: list[CommitInfo] = []
    behind: list[CommitInfo] = []
    unmerged = _new_branch_commits(ws, branch, watched) if head is not None and branch != watched else []
    if head is not None and remote_head is not None:
        ahead, behind = ws.ahead_behind(f"refs/heads/{branch}", f"refs/remotes/origin/{branch}")
    elif head is not None:
        ahead = unmerged
    return OriginStatus(
        ws.root,
        branch,
        head,
        remote_head,
        ahead,
        behind,
        dirty,
        untracked,
        fetch_error,
        in_progress=busy,
        conflicted=conflicted,
        watched=watched,
        unmerged=unmerged,
        flux=flux,
        left_stashes=left,
    )


def _new_branch_commits(ws: Workspace, branch: str, watched: str) -> list[CommitInfo]:
    """The commits of a branch origin does not have yet that origin's deployed branch lacks too: a
    branch made from main pushes only its own commits (it said "6 commits" for one new commit)."""
    base = f"refs/remotes/origin/{watched}"
    return ws.log(f"refs/heads/{branch}", n=1000, not_ref=base if ws.rev_parse(base) else None)


@dataclass(frozen=True)
class Conflict:
    """Why a rebase/merge stopped: the file, the commits on both sides, the lines they disagree on."""

    files: list[str]
    ours: CommitInfo | None
    """The learner's commit being replayed (rebase) or their branch tip (merge)."""
    theirs: list[CommitInfo]
    """Origin's commits that changed the same files."""
    origin_lines: str
    your_lines: str
    detail: str
    """git's own words."""

    def explain(self) -> str:
        what = ", ".join(self.files) or "the working tree"
        lines = [f"conflict in {what}:"]
        if self.theirs:
            by = "; ".join(f"{c.short} by {c.author_name} ({c.subject})" for c in self.theirs[:3])
            lines.append(f"  origin changed it in {by}")
        if self.ours is not None:
            lines.append(f"  your commit {self.ours.short} ({self.ours.subject}) changed the same lines")
        if self.origin_lines or self.your_lines:
            lines.append("  origin has:")
            lines += [f"    {ln}" for ln in self.origin_lines.splitlines()[:6]]
            lines.append("  yours has:")
            lines += [f"    {ln}" for ln in self.your_lines.splitlines()[:6]]
        if _marked(self.origin_lines) or _marked(self.your_lines):
            # The automation rewrites a marked field to the policy's pick: a hand edit there is undone.
            lines.append(
                "  the marked line is Flux's: the automation sets it to the policy's pick, so keep "
                "origin's value; yours would be rewritten by Flux's next commit"
            )
        if not self.files:
            lines.append(f"  git says: {self.detail}")
        return "\n".join(lines)


def _marked(lines: str) -> bool:
    """A line carries an `$imagepolicy` marker Flux reads (its comment starts at the first `#`)."""
    from lab.core.marker import flux_reads_marker

    return any("#" in ln and flux_reads_marker(ln[ln.index("#") :]) for ln in lines.splitlines())


@dataclass(frozen=True)
class SyncResult:
    """What `sync` did. `commands` are the git commands as a learner would type them, in order."""

    outcome: Outcome
    branch: str
    strategy: Strategy
    commands: list[str] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)
    """What happened, one line each, in the order it happened (for the app's log)."""
    integrated: list[CommitInfo] = field(default_factory=list)
    """Origin's commits brought in (Flux's)."""
    pushed: list[CommitInfo] = field(default_factory=list)
    """The learner's commits now on origin (rebased shas)."""
    conflict: Conflict | None = None
    stashed: bool = False
    """Uncommitted changes were stashed for the rebase and restored afterwards."""
    stash_kept: bool = False
    """Restoring the stash failed: the changes are safe in `git stash list`."""
    message: str = ""
    head: str | None = None
    not_deployed: str = ""
    """The branch is not the one Flux deploys: what that means for this push and how to deploy it."""
    flux_note: str = ""
    """The cluster's GitRepository deploys another branch than the sync file says (`FluxBranch.mismatch`)."""

    @property
    def ok(self) -> bool:
        return self.outcome in ("up-to-date", "pushed", "integrated") and not self.stash_kept

    def report(self) -> str:
        """The commands, then what happened; for `lab sync` and the app's log pane."""
        out = [f"$ {c}" for c in self.commands]
        out += self.steps
        if self.conflict is not None:
            out.append(self.conflict.explain())
        if self.message:
            out.append(self.message)
        if self.not_deployed:
            out.append(self.not_deployed)
        if self.flux_note:
            out.append(self.flux_note)
        return "\n".join(out)


def not_deployed_note(branch: str, watched: str) -> str:
    """Said after every sync of a branch Flux does not deploy: the push worked, and did not deploy."""
    return (
        f"Flux deploys {watched}, not {branch}: what is on origin/{branch} is not deployed until "
        f"{branch} is merged into {watched} - hint: git switch {watched} && git merge {branch}, then push "
        f"{watched} (lab sync, or p in the app), or merge it with a pull request"
    )


def _conflict_sides(ws: Workspace, path: str) -> tuple[str, str]:
    """The first conflict region of `path` in the working tree: (origin's lines, yours)."""
    raw = ws.read_worktree_file(path)
    if raw is None:
        return "", ""
    text = raw.decode("utf-8", "replace")
    upstream: list[str] = []
    mine: list[str] = []
    side: list[str] | None = None
    for line in text.splitlines():
        if line.startswith("<<<<<<<"):
            side = upstream
        elif line.startswith("|||||||") and side is not None:
            side = []  # diff3 base section: not shown
        elif line.startswith("=======") and side is not None:
            side = mine
        elif line.startswith(">>>>>>>") and side is not None:
            break
        elif side is not None:
            side.append(_printable(line))
    return "\n".join(upstream), "\n".join(mine)


def _printable(line: str) -> str:
    return "".join(ch if ch.isprintable() or ch == "\t" else "?" for ch in line)


def _conflict(ws: Workspace, strategy: Strategy, before: str, upstream: str, detail: str) -> Conflict:
    files = ws.conflicted_files()
    ours: CommitInfo | None = None
    stopped = ws.rev_parse("REBASE_HEAD") if strategy == "rebase" else before
    if stopped:
        found = ws.log(stopped, n=1)
        ours = found[0] if found else None
    theirs: list[CommitInfo] = []
    for commit in ws.log(upstream, n=200, not_ref=before):
        if set(ws.commit_files(commit.sha)) & set(files):
            theirs.append(commit)
    origin_lines, your_lines = _conflict_sides(ws, files[0]) if files else ("", "")
    # During a rebase "ours" is the upstream being built on; during a merge it is the learner's side.
    if strategy == "merge":
        origin_lines, your_lines = your_lines, origin_lines
    return Conflict(files, ours, theirs, origin_lines, your_lines, detail)


def _restore_stash(ws: Workspace, result_steps: list[str], commands: list[str]) -> bool:
    """Pop the stash; True when the changes are back, False when they stay in the stash."""
    commands.append("git stash pop")
    try:
        ws.stash_pop()
    except GitError as err:
        result_steps.append(f"could not restore your uncommitted changes: {err.message}")
        try:
            clashed = ws.conflicted_files()
        except GitError:
            clashed = []
        if clashed:
            # The pop wrote both versions into the files and kept the stash: popping again would fail.
            result_steps.append(
                f"they clash with the commits brought in: {', '.join(clashed)} now hold both versions "
                "(<<<<<<< markers); keep what you want, `git add` the file(s), then `git stash drop` "
                "(the stash keeps your changes until then)"
            )
        else:
            result_steps.append(
                "they are safe in the stash: `git stash list`, then `git stash pop` when ready"
            )
        return False
    result_steps.append("restored your uncommitted changes (git stash pop)")
    return True


def sync(
    path: Path | Workspace,
    *,
    strategy: Strategy = "rebase",
    stash: bool = False,
    push: bool = True,
    committed: str | None = None,
    task_id: str | None = None,
    cluster: ClusterSource | None = None,
) -> SyncResult:
    """Fetch, integrate origin's new commits (rebase, or merge), push; retry if origin moved meanwhile.
    `committed`: the short sha of a commit the caller made just before (`push_work`), which a conflict
    leaves in place, so the result must not say that nothing changed. `task_id`: the task whose
    GitRepository says which branch Flux deploys (default: the one the repository records; read from
    `cluster` first, see `flux_branch`); a sync
    of another branch says that it is not deployed (`not_deployed`).

    Refuses (outcome "refused", nothing changed) on a rebase/merge in progress, a detached HEAD, or
    uncommitted changes to tracked files unless `stash=True`. A conflict aborts the rebase/merge:
    HEAD, index and working tree are as before (outcome "conflict", `conflict` explains).
    """
    ws = path if isinstance(path, Workspace) else open_workspace(Path(path))
    branch = ws.branch()
    busy = ws.in_progress()
    if busy is not None:
        # Before the detached HEAD: a stopped rebase detaches it, and git refuses `git switch` meanwhile.
        rebased = branch or (ws.rebasing_branch() if busy == "rebase" else None)
        what, todo = stopped_advice(busy, rebased, ws.conflicted_files())
        return SyncResult(
            "refused", rebased or "HEAD", strategy, message=f"{what}; nothing was changed - hint: {todo}"
        )
    has_origin = "origin" in ws.remotes()
    if branch is None:
        head = ws.rev_parse("HEAD")
        on = ws.remote_branches_containing(head) if head and has_origin else []
        what, todo = detached_advice(head, on, flux_branch(ws, task_id, cluster=cluster).branch)
        return SyncResult(
            "refused",
            "HEAD",
            strategy,
            message=f"{what}: no branch to push; nothing was changed - hint: {todo}",
        )
    if not has_origin:
        return SyncResult(
            "refused", branch, strategy, message="no remote origin - hint: git remote add origin URL"
        )
    clashed = ws.conflicted_files()
    if clashed:
        shown = ", ".join(clashed[:5])
        return SyncResult(
            "refused",
            branch,
            strategy,
            message=(
                f"{shown} still hold{'s' if len(clashed) == 1 else ''} a conflict (<<<<<<< markers); nothing "
                "was changed - hint: keep the lines you want, `git add` the file(s), then "
                "`git stash drop` if a stash was being restored"
            ),
        )
    # Read before a stash could take the sync file away from the working tree.
    flux = flux_branch(ws, task_id, cluster=cluster)
    dirty, _untracked = _tracked_dirty(ws)
    if dirty and not stash:
        shown = ", ".join(dirty[:5]) + (f" and {len(dirty) - 5} more" if len(dirty) > 5 else "")
        return SyncResult(
            "refused",
            branch,
            strategy,
            message=(
                f"uncommitted changes in {shown}; nothing was changed - hint: commit them "
                "(git commit -am ...), or let lab stash and restore them (lab sync --stash)"
            ),
        )
    with _interrupt_safe(ws):
        return _sync_from(ws, strategy, push, committed, branch, flux, dirty)


def _sync_from(
    ws: Workspace,
    strategy: Strategy,
    push: bool,
    committed: str | None,
    branch: str,
    flux: FluxBranch,
    dirty: list[str],
) -> SyncResult:
    """`sync` once its refusals are behind: stash the `dirty` files, fetch, integrate, push, restore."""
    commands: list[str] = []
    steps: list[str] = []
    watched = flux.branch
    stashed = False
    if dirty:
        shown = ", ".join(dirty[:5]) + (f" and {len(dirty) - 5} more" if len(dirty) > 5 else "")
        commands.append(f'git stash push -m "{STASH_MESSAGE}"')
        stashed = ws.stash_push(STASH_MESSAGE) is not None
        steps.append(f"stashed your uncommitted changes in {shown} (they come back once the sync is done)")

    identity = ws.learner_identity()
    integrated: list[CommitInfo] = []
    outcome: Outcome = "up-to-date"
    message = ""
    conflict: Conflict | None = None
    pushed: list[CommitInfo] = []
    upstream = f"origin/{branch}"
    try:
        for attempt in range(1, MAX_ATTEMPTS + 1):
            commands.append("git fetch origin")
            ws.fetch("origin")
            remote = ws.remote_sha(branch)
            head = ws.head_sha()
            ahead, behind = (
                ws.ahead_behind(f"refs/heads/{branch}", f"refs/remotes/{upstream}")
                if remote
                else (_new_branch_commits(ws, branch, watched), [])
            )
            if behind:
                steps.append(
                    f"origin has {count_commits(len(behind))}{by_author(behind)} you didn't have: "
                    + "; ".join(f"{c.short} {c.subject}" for c in behind[:3])
                )
                if not ahead:
                    commands.append(f"git merge --ff-only {upstream}")
                    ws.fast_forward(f"refs/remotes/{upstream}")
                    steps.append(f"fast-forwarded {branch} to {upstream} (you had nothing new to replay)")
                else:
                    stopped = _integrate(ws, strategy, branch, upstream, identity, commands, steps)
                    if stopped is not None:
                        conflict = _conflict(ws, strategy, head, f"refs/remotes/{upstream}", stopped)
                        _abort(ws, strategy, commands)
                        if ws.head_sha() != head:
                            raise GitError(
                                f"after git {strategy} --abort HEAD is not {head[:7]}",
                                hint="check `git reflog`; your commits are there",
                            )
                        kept = (
                            f"as lab's commit {committed} left them (it stays on {branch}, not pushed)"
                            if committed
                            else "exactly as before"
                        )
                        steps.append(f"stopped: {strategy} aborted, your branch and files are {kept}")
                        outcome = "conflict"
                        message = _conflict_advice(conflict, strategy, upstream, committed, branch)
                        break
                integrated += [c for c in behind if c.sha not in {i.sha for i in integrated}]
                outcome = "integrated"
            new_ahead = (
                ws.log(f"refs/heads/{branch}", n=1000, not_ref=f"refs/remotes/{upstream}")
                if remote
                else ahead
            )
            # A branch origin lacks is pushed even without commits of its own: that creates it.
            if not new_ahead and remote is not None:
                if not behind:
                    steps.append(f"nothing to push: {branch} is already on origin")
                break
            if not push:
                steps.append(f"{count_commits(len(new_ahead))} ready to push (not pushed)")
                break
            commands.append(f"git push {'-u ' if remote is None else ''}origin {branch}")
            try:
                ws.push(branch, set_upstream=remote is None)
            except GitError as err:
                rejected = "fetch first" in err.message or "non-fast-forward" in err.message
                if rejected and attempt < MAX_ATTEMPTS:
                    steps.append("origin moved while we were pushing (Flux pushed again?): integrating again")
                    continue
                raise
            if new_ahead:
                steps.append(
                    f"pushed {count_commits(len(new_ahead))} to origin/{branch}"
                    + (" (a new branch)" if remote is None else "")
                    + ": "
                    + "; ".join(f"{c.short} {c.subject}" for c in new_ahead[:3])
                )
            else:
                steps.append(f"pushed {branch} to origin (a new branch, no commits of its own yet)")
            pushed = new_ahead
            outcome = "integrated" if integrated else "pushed"
            break
    except GitError as err:
        if stashed:
            restored = _restore_stash(ws, steps, commands)
            return SyncResult(
                "refused",
                branch,
                strategy,
                commands,
                steps,
                integrated,
                conflict=conflict,
                stashed=True,
                stash_kept=not restored,
                message=str(err),
                head=ws.rev_parse("HEAD"),
            )
        raise
    result = SyncResult(
        outcome,
        branch,
        strategy,
        commands,
        steps,
        integrated,
        pushed,
        conflict,
        stashed,
        message=message or _lesson(integrated, strategy),
        head=ws.rev_parse("HEAD"),
        not_deployed=not_deployed_note(branch, watched)
        if branch != watched and outcome != "conflict"
        else "",
        flux_note=flux.mismatch(),
    )
    return _finish(ws, result)


class SyncInterrupted(LabError):
    """Ctrl-C or SIGTERM stopped `sync`; the message says where the learner's changes are."""

    def __init__(self, message: str, *, hint: str | None = None, exit_code: int = 130) -> None:
        super().__init__(message, hint=hint)
        self.exit_code = exit_code


class _Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the main thread is so that `sync` can give the stash back first."""


def _raise_terminated(signum: int, frame: object) -> None:
    raise _Terminated


@contextmanager
def _interrupt_safe(ws: Workspace) -> Iterator[None]:
    """Ctrl-C (or SIGTERM) while `sync` runs, a stash of the learner's changes perhaps made: abort a
    rebase or merge git left half-way, pop the stash, and raise SyncInterrupted saying so (or where
    the changes are when they cannot be put back). The learner saw only ^C, their edits gone."""
    before = ws.rev_parse("refs/stash")
    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _raise_terminated) if main else None
    try:
        yield
    except KeyboardInterrupt as stop:
        code = 128 + (signal.SIGTERM if isinstance(stop, _Terminated) else signal.SIGINT)
        if main:
            # The clean-up runs to its end: a second Ctrl-C (and the git commands it starts) wait.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
        try:
            raise _after_interrupt(ws, before, code) from None
        finally:
            if main:
                signal.signal(signal.SIGINT, signal.default_int_handler)
    finally:
        if main:
            signal.signal(signal.SIGTERM, previous)


def _after_interrupt(ws: Workspace, stash_before: str | None, code: int) -> SyncInterrupted:
    done: list[str] = []
    busy = ws.in_progress()
    if busy in ("rebase", "merge"):
        try:
            ws.abort(busy)  # type: ignore[arg-type]
        except GitError as err:
            return SyncInterrupted(
                f"lab sync interrupted during git {busy}: {err.message}",
                hint=f"git {busy} --abort, then `git stash list` (a `{STASH_MESSAGE}` entry: git stash pop)",
                exit_code=code,
            )
        done.append(f"git {busy} --abort")
    ours = ws.rev_parse("refs/stash")
    entries = ws.stash_entries()
    if ours is None or ours == stash_before or not entries or entries[0][1] != STASH_MESSAGE:
        return SyncInterrupted(
            "lab sync interrupted"
            + (f" ({', '.join(done)}); " if done else "; ")
            + "your uncommitted changes are where they were",
            exit_code=code,
        )
    try:
        ws.stash_pop()
    except GitError:
        return SyncInterrupted(
            f"lab sync interrupted; your uncommitted changes are safe in {entries[0][0]} ({STASH_MESSAGE})",
            hint="git stash pop (if `git status` shows them already: git stash drop)",
            exit_code=code,
        )
    done.append("git stash pop")
    return SyncInterrupted(
        f"lab sync interrupted ({', '.join(done)}); your uncommitted changes are back", exit_code=code
    )


def _finish(ws: Workspace, result: SyncResult) -> SyncResult:
    if not result.stashed:
        return result
    steps = list(result.steps)
    commands = list(result.commands)
    restored = _restore_stash(ws, steps, commands)

    return replace(result, steps=steps, commands=commands, stash_kept=not restored)


def _integrate(
    ws: Workspace,
    strategy: Strategy,
    branch: str,
    upstream: str,
    identity: tuple[str, str],
    commands: list[str],
    steps: list[str],
) -> str | None:
    """Rebase (or merge) onto origin's branch; git's reason when it stopped on a conflict."""
    ref = f"refs/remotes/{upstream}"
    if strategy == "merge":
        commands.append(f"git merge {upstream}")
        stopped = ws.merge(ref, f"Merge {upstream} into {branch}", identity=identity)
        if stopped is None:
            steps.append(f"merged {upstream} into {branch} (a merge commit joins both histories)")
        return stopped
    commands.append(f"git rebase {upstream}")
    stopped = ws.rebase(ref, identity=identity)
    if stopped is None:
        steps.append(f"replayed your commits on top of {upstream} (rebase: history stays a straight line)")
    return stopped


def _abort(ws: Workspace, strategy: Strategy, commands: list[str]) -> None:
    commands.append(f"git {strategy} --abort")
    ws.abort(strategy)


def _lesson(integrated: Sequence[CommitInfo], strategy: Strategy) -> str:
    if not integrated:
        return ""
    if strategy == "merge":
        return "in a shell: git pull --no-rebase && git push (fetch, merge, push)"
    return f"in a shell: {PULL_AND_PUSH} (fetch, replay your commits on origin's, push)"


def _conflict_advice(
    conflict: Conflict, strategy: Strategy, upstream: str, committed: str | None, branch: str
) -> str:
    files = " ".join(conflict.files) or "."
    lead = (
        f"your work is committed as {committed} on {branch}, not pushed."
        if committed
        else "nothing was changed."
    )
    return (
        f"{lead} To resolve it yourself: git {strategy} {upstream}, edit {files} "
        f"(keep the lines you want, drop the <<<<<<< ======= >>>>>>> markers), git add {files}, "
        f"{'git rebase --continue' if strategy == 'rebase' else 'git commit'}, then git push"
    )


# -- committing the learner's work with a message that says what it is ---------------------------------


@dataclass(frozen=True)
class WorkCommit:
    """One commit of the task's files: what was committed, the message, the commands a learner types."""

    sha: str
    paths: list[str]
    message: str
    commands: list[str]

    @property
    def subject(self) -> str:
        return self.message.splitlines()[0] if self.message else ""


@dataclass(frozen=True)
class PushWorkResult:
    """`p` in the app, `lab sync --commit` in a shell: commit the task's files, then `sync`."""

    commit: WorkCommit | None
    sync: SyncResult
    deleted: list[str] = field(default_factory=list)
    """Refused: these task files are deleted and the task's checks need them (`guarded_deletions`);
    the caller asks the learner and calls again with `allow_delete=True`."""
    deleted_diff: str = ""
    """What committing the deletions would remove (`git diff HEAD -- FILE`), for the app's dialog."""
    restore: str = ""
    """The git command that brings the deleted files back."""
    problems: list[str] = field(default_factory=list)
    """Refused: what the lab's offline checks find wrong in the files about to be pushed, one
    "file:line: message" each (`push_problems`); the caller asks the learner and calls again with
    `allow_invalid=True`."""
    notes: list[str] = field(default_factory=list)
    """Pushed, but worth a word: "no $imagepolicy marker yet, Flux has nothing to update"."""

    @property
    def commands(self) -> list[str]:
        return [*(self.commit.commands if self.commit else []), *self.sync.commands]

    @property
    def ok(self) -> bool:
        return self.sync.ok

    @property
    def refused_invalid(self) -> bool:
        """Refused, nothing committed, because of `problems`: the caller may ask and insist."""
        return self.sync.outcome == "refused" and bool(self.problems) and self.commit is None

    def committed_note(self) -> str:
        """What `p` did to edits the learner had not committed, said with the result ("" when it
        committed nothing): a hand edit became a commit the learner never typed."""
        if self.commit is None:
            return ""
        files = ", ".join(self.commit.paths)
        return f'Your uncommitted edits to {files} were committed first, as "{self.commit.subject}".'

    def report(self) -> str:
        head = [f"$ {c}" for c in self.commit.commands] if self.commit else []
        said = (
            refusal_lines(self.sync.message, self.problems) if self.refused_invalid else [self.sync.report()]
        )
        return "\n".join([*head, *said, *(f"note: {n}" for n in self.notes)])


def task_paths(task_id: str | None = None) -> list[str]:
    """The files the learner's work on the task consists of: the solution's paths (manifests, marker),
    those it removes, the files the lab writes for the task (Generate's three, the Deployment `m`
    marks), PROGRESS.md and the quiz record; each once (a solution holds PROGRESS.md too). A solution
    may leave a generated file as the starter had it, which the learner's form may not."""
    from lab.adapters.tasks import solution_files, solution_removals
    from lab.core.progress import PROGRESS_FILE
    from lab.services.tasks import load_task, task_automation_files, task_deployment

    task = load_task(task_id)
    files = solution_files(task)
    written = [*task_automation_files(task), *filter(None, [task_deployment(task)])]
    return list(
        dict.fromkeys(
            [*files, *solution_removals(task, files), *written, PROGRESS_FILE, task.meta.quiz_record]
        )
    )


def _deleted(ws: Workspace, paths: Sequence[str]) -> list[str]:
    """Those of `paths` that committing them deletes: tracked (deletion staged or not) and gone from the
    working tree. `git rm --cached` keeps the file on disk: `git add` then tracks it again."""
    if not paths:
        return []
    gone = {e.path for e in ws.status(paths) if "D" in e.code}
    return [p for p in paths if p in gone and not (ws.root / p).is_symlink() and not (ws.root / p).exists()]


def guarded_deletions(path: Path | Workspace, task_id: str | None = None) -> list[str]:
    """The task's files that are deleted in the working tree although its checks read them: committing
    one deletes it on origin, and Flux (prune: true) then removes what it declared from the cluster.
    The files the solution itself removes (`[solution] remove`) are meant to go and are not guarded."""
    from lab.adapters.tasks import solution_files, solution_removals
    from lab.services.tasks import load_task

    ws = path if isinstance(path, Workspace) else open_workspace(Path(path))
    task = load_task(_task_of(ws, task_id))
    meant = set(solution_removals(task, solution_files(task)))
    return [p for p in _deleted(ws, task_paths(task.id)) if p not in meant]


def restore_command(ws: Workspace, paths: Sequence[str]) -> str:
    """The command that brings deleted files back from the last commit: `git restore FILE`, or with
    --staged when the deletion is staged (`git rm`), where plain `git restore` restores nothing."""
    staged = {e.path for e in ws.status(paths) if e.code[0] == "D"}
    flags = "--staged --worktree " if staged & set(paths) else ""
    return f"git restore {flags}{' '.join(paths)}"


def prune_effect(deleted: Sequence[str]) -> str:
    """What Flux does about deleted manifests (its Kustomization prunes), "" when none is a manifest."""
    if not any(p.endswith((".yaml", ".yml")) for p in deleted):
        return ""
    return f"Flux then removes what {'it declares' if len(deleted) == 1 else 'they declare'} from the cluster"


def deletion_refusal(ws: Workspace, deleted: Sequence[str]) -> str:
    """One line: which task files are deleted, what committing them would do, how to undo or insist."""
    one = len(deleted) == 1
    it = "it" if one else "them"
    prune = prune_effect(deleted)
    return (
        f"{', '.join(deleted)} {'is' if one else 'are'} deleted and the task's checks need {it}: committing "
        f"would delete {it} on origin too{f' ({prune})' if prune else ''}; nothing was changed - hint: "
        f"{restore_command(ws, deleted)} brings {it} back, or lab sync --commit --allow-delete commits "
        "the deletion"
    )


def _text_at(ws: Workspace, ref: str, path: str) -> str | None:
    if ws.rev_parse(ref) is None:
        return None
    raw = ws.show_file(ref, path)
    return None if raw is None else raw.decode("utf-8", "replace")


def _worktree_text(ws: Workspace, path: str) -> str | None:
    raw = ws.read_worktree_file(path)
    return None if raw is None else raw.decode("utf-8", "replace")


def _delete_piece(paths: Sequence[str]) -> str:
    return "delete " + ", ".join(Path(p).name for p in paths)


def work_message(ws: Workspace, paths: Sequence[str], task_id: str | None = None) -> str:
    """A commit message that says what these uncommitted changes are, e.g. "Add image automation" (the
    task's `[solution] commit_message`),
    "Mark task 09 done in PROGRESS.md", "Record the quiz result (6/6, passed)", "Delete
    image-update.yaml", joined by "; "."""

    from lab.checks.loader import load_task_checks
    from lab.core.progress import PROGRESS_FILE, row_status, status_is_done
    from lab.services.tasks import load_task

    task = load_task(task_id)
    # What the files are comes from the task's checks.toml [params] (the files its checks read).
    params = load_task_checks(task.id).params
    IMAGE_AUTOMATION_FILES = tuple(params.get("automation_files", ()))
    DEPLOYMENT_FILE = str(params.get("deployment", ""))
    new = {p for p in paths if _text_at(ws, "HEAD", p) is None}
    # A deleted file is said to be deleted: "Update image automation" for a deletion hid that Flux
    # would prune the object.
    deleted = set(_deleted(ws, paths))
    pieces: list[str] = []
    automation = [p for p in paths if p in IMAGE_AUTOMATION_FILES and p not in deleted]
    automation_gone = [p for p in paths if p in IMAGE_AUTOMATION_FILES and p in deleted]
    named = {*IMAGE_AUTOMATION_FILES, PROGRESS_FILE, task.meta.quiz_record}
    # The files whose image policy markers changed (the Deployment, and in the exercises Helm values,
    # kustomize overrides...): "update" hid that a marker was added, moved or dropped.
    markers = _marker_changes(ws, [p for p in paths if p not in named and p not in deleted])
    added = bool(automation) and all(p in new for p in automation) and not automation_gone
    # The automation files neither committed before nor in this commit: a partial push of the
    # automation says what it holds, not that the automation was added.
    missing = [p for p in IMAGE_AUTOMATION_FILES if p not in automation and _text_at(ws, "HEAD", p) is None]
    if added and missing:
        pieces.append(
            "Add image automation: "
            + ", ".join(Path(p).name for p in automation)
            + " (not yet "
            + ", ".join(Path(p).name for p in missing)
            + ")"
        )
    elif added:
        # The task's own word for this work, the message `lab solve` commits it with.
        pieces.append(task.meta.commit_message or "Add image automation")
    elif automation:
        pieces.append("Update image automation (" + ", ".join(Path(p).name for p in automation) + ")")
    if automation_gone:
        if pieces:
            pieces[-1] += " and " + _delete_piece(automation_gone)
        else:
            pieces.append(_delete_piece(automation_gone))
    if DEPLOYMENT_FILE in deleted:
        pieces.append(_delete_piece([DEPLOYMENT_FILE]))
    marking = markers.get(DEPLOYMENT_FILE)
    if (
        marking is not None
        and marking.added
        and not marking.removed
        and added
        and not missing
        and len(markers) == 1
    ):
        # Marking the Deployment alone is part of adding the image automation; beside other marked
        # files it is named with them, or the subject counts only theirs.
        del markers[DEPLOYMENT_FILE]
    pieces.extend(_marker_pieces(markers, paths))
    if DEPLOYMENT_FILE in paths and DEPLOYMENT_FILE not in deleted and marking is None:
        pieces.append(f"update {DEPLOYMENT_FILE}")
    if PROGRESS_FILE in deleted:
        pieces.append(_delete_piece([PROGRESS_FILE]))
    elif PROGRESS_FILE in paths:
        text = _worktree_text(ws, PROGRESS_FILE)
        done = False
        if text is not None:
            try:
                found = row_status(text, task.meta.progress_row)
            except LabError:  # a broken table is still a change to commit; the check explains it
                found = None
            done = found is not None and status_is_done(found[0])
        pieces.append(
            f"mark task {task.meta.progress_row} done in PROGRESS.md" if done else "update PROGRESS.md"
        )
    if task.meta.quiz_record in deleted:
        pieces.append(f"delete the quiz record ({task.meta.quiz_record})")
    elif task.meta.quiz_record in paths:
        shown = ""
        try:
            data = jsontext.loads(_worktree_text(ws, task.meta.quiz_record) or "")
            if isinstance(data, dict) and "score" in data:
                verdict = "passed" if data.get("passed") is True else "not passed"
                shown = f" ({data.get('score')}/{data.get('total')}, {verdict})"
        except ValueError:
            pass
        pieces.append(f"record the quiz result{shown}")
    others = [p for p in paths if p not in {*named, DEPLOYMENT_FILE} and p not in markers]
    if [p for p in others if p not in deleted]:
        pieces.append("update " + ", ".join(p for p in others if p not in deleted))
    if [p for p in others if p in deleted]:
        pieces.append("delete " + ", ".join(p for p in others if p in deleted))
    if not pieces:
        return "Update " + ", ".join(paths)
    subject = "; ".join(pieces)
    subject = subject[0].upper() + subject[1:]
    body = "\n".join(f"- {p}{' (new)' if p in new else ' (deleted)' if p in deleted else ''}" for p in paths)
    return f"{subject}\n\n{body}\n"


def _marker_changes(ws: Workspace, paths: Sequence[str]) -> dict[str, MarkerDelta]:
    """The files of `paths` whose image policy markers change in this commit (HEAD -> working tree)."""
    from lab.core.marker import marker_delta

    out: dict[str, MarkerDelta] = {}
    for path in paths:
        now = _worktree_text(ws, path)
        if now is None:
            continue
        delta = marker_delta(_text_at(ws, "HEAD", path) or "", now)
        if delta.changed:
            out[path] = delta
    return out


def _marker_pieces(markers: Mapping[str, MarkerDelta], paths: Sequence[str]) -> list[str]:
    """What the marker changes are, in a commit subject's words: the files that only gain markers in one
    "mark ... for Flux" piece, every other file (markers dropped or changed, other edits) in its own."""
    names = _short_names(paths)
    marked_only = [p for p, d in markers.items() if d.added and not d.removed and not d.other_lines]
    pieces: list[str] = []
    if marked_only:
        images = dict.fromkeys(i for p in marked_only for i in markers[p].images)
        count = sum(len(markers[p].added) for p in marked_only)
        pieces.append(_mark_piece(len(images), [names[p] for p in marked_only], count))
    for path, delta in markers.items():
        if path in marked_only:
            continue
        name = names[path]
        if delta.added and delta.removed:
            piece = (
                f"change the image policy marker{_s(len(delta.added))} in {name} "
                f"({', '.join(delta.removed)} -> {', '.join(delta.added)})"
            )
        elif delta.added:
            piece = _mark_piece(len(delta.images), [name], len(delta.added))
        else:
            piece = (
                f"remove the image policy marker{_s(len(delta.removed))} from {name} "
                f"({', '.join(delta.removed)})"
            )
        pieces.append(piece + (", with other edits" if delta.other_lines else ""))
    return pieces


def _mark_piece(images: int, files: Sequence[str], markers: int) -> str:
    return (
        f"mark {'the image' if images == 1 else f'{images} images'} in {_and(files)} for Flux "
        f"(image policy marker{_s(markers)})"
    )


def _short_names(paths: Sequence[str]) -> dict[str, str]:
    """Each path by its file name, or whole where two paths share the name (two kustomization.yaml)."""
    counts: dict[str, int] = {}
    for path in paths:
        counts[Path(path).name] = counts.get(Path(path).name, 0) + 1
    return {p: Path(p).name if counts[Path(p).name] == 1 else p for p in paths}


def _and(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _s(count: int) -> str:
    return "" if count == 1 else "s"


def _task_of(ws: Workspace, task_id: str | None) -> str:
    from lab.adapters.tasks import task_for_workspace

    return task_for_workspace(ws.root, task_id)


def commit_work(
    path: Path | Workspace,
    task_id: str | None = None,
    *,
    message: str | None = None,
    allow_delete: bool = False,
) -> WorkCommit | None:
    """Commit the task's files that changed (only those: other files are left alone), with a message
    that says what they are; None when nothing changed. A deleted file the task's checks need is
    committed only with `allow_delete` (GitError otherwise, nothing committed)."""
    ws = path if isinstance(path, Workspace) else open_workspace(Path(path))
    task_id = _task_of(ws, task_id)
    if not allow_delete:
        guarded = guarded_deletions(ws, task_id)
        if guarded:
            text, _, hint = deletion_refusal(ws, guarded).partition(" - hint: ")
            raise GitError(text, hint=hint)
    wanted = task_paths(task_id)
    dirty = set(ws.dirty_files(wanted))
    changed = [p for p in wanted if p in dirty]
    if not changed:
        return None
    text = message or work_message(ws, changed, task_id)
    # The commands as a learner types them: `git rm` stages a deletion (`git add` of a file already
    # `git rm`-ed fails: the index has the deletion and needs no command).
    deleted = set(_deleted(ws, changed))
    staged = {e.path for e in ws.status(sorted(deleted)) if e.code[0] == "D"} if deleted else set()
    added = [p for p in changed if p not in deleted]
    removed = [p for p in changed if p in deleted and p not in staged]
    name, email = ws.learner_identity()
    sha = ws.commit(changed, text, author_name=name, author_email=email)
    subject = text.splitlines()[0]
    commands = [
        *(["git add " + " ".join(added)] if added else []),
        *(["git rm " + " ".join(removed)] if removed else []),
    ]
    return WorkCommit(sha, changed, text, [*commands, f'git commit -m "{subject}"'])


# -- what the offline checks say of the files about to be pushed -----------------------------------------

PUSH_CHECKS = ("repo.files", "marker.valid")
"""The checks whose failure means Flux refuses or ignores a file besides what validation says (the
push check validates every YAML file once itself): a task file that holds no object, a marker its
setters cannot read."""
MARKER_CHECK = "marker.present"
NO_MARKER_NOTE = "no $imagepolicy marker yet, Flux has nothing to update"


@dataclass(frozen=True)
class PushCheck:
    """What the offline checks find in the files a push would bring to origin."""

    problems: list[str] = field(default_factory=list)
    """"file:line: message", one per problem Flux refuses or ignores."""
    notes: list[str] = field(default_factory=list)
    """Not wrong, but Flux does nothing with it yet (no marker)."""


def outgoing_files(ws: Workspace, task_id: str | None = None) -> list[str]:
    """The files a push brings to origin: the task's files `commit_work` would commit, and those the
    commits origin's branch lacks change (as of the last fetch). Not a deleted file: its deletion is
    asked about on its own (`guarded_deletions`), and it has nothing for Flux to refuse."""
    task_id = _task_of(ws, task_id)
    wanted = task_paths(task_id)
    files = ws.dirty_files(wanted)
    branch = ws.branch()
    remote = ws.remote_sha(branch) if branch else None
    if remote is not None and remote != ws.rev_parse("HEAD"):
        files = [*files, *ws.changed_files(remote, "HEAD")]
    return [p for p in dict.fromkeys(files) if (ws.root / p).is_file()]


def _own_failure(result: CheckResult, unreadable: set[str]) -> list[str]:
    """ "file:line: message" of a push check's own failure: not the validation problems its evidence
    lists (the push check has them from its one validation), nor a file validation already found to
    be unreadable YAML (`unreadable`), said once in validation's words."""
    if any(ev.kind == "problem" and ev.text.startswith("error: ") for ev in result.evidence):
        return []
    if result.id == "repo.files" and result.file in unreadable:
        return []
    where = result.file or ""
    if where and result.line is not None:
        where += f":{result.line}"
    return [f"{where}: {result.message}" if where else result.message]


def push_problems(path: Path | Workspace, task_id: str | None = None) -> PushCheck:
    """What Flux will refuse or ignore in the files a push brings to origin (`outgoing_files`): the
    errors of one validation of every YAML file of the working tree (what Flux's API refuses, whether
    or not the task has the check of that object's kind), and the failures of the offline checks of
    files and markers, each problem once. Nothing outgoing: nothing to say."""
    from lab.adapters.tasks import task_for_workspace
    from lab.checks.loader import load_task_checks
    from lab.checks.manifests import validation_problems
    from lab.core.checks.model import Status
    from lab.services.check import check_context, run_checks

    ws = path if isinstance(path, Workspace) else open_workspace(Path(path))
    task_id = _task_of(ws, task_id)
    outgoing = set(outgoing_files(ws, task_id))
    if not outgoing:
        return PushCheck()
    spec = load_task_checks(task_for_workspace(ws.root, task_id))
    ctx = check_context(ws.root, spec, offline=True, whole_repository=True)
    errors = [p for p in validation_problems(ctx) if p.severity == "error" and p.file in outgoing]
    problems = [f"{p.location()}: {p.message}" for p in errors]
    defined = {d.id for d in spec.defs}
    only = [c for c in (*PUSH_CHECKS, MARKER_CHECK) if c in defined]
    notes: list[str] = []
    if only:
        report = run_checks(ws.root, task=task_id, offline=True, only=only, context=ctx)
        unreadable = {p.file for p in errors if p.code == "yaml.invalid"}
        for result in report.checks:
            if result.status is not Status.FAIL and result.status is not Status.ERROR:
                continue
            if result.id == MARKER_CHECK:
                notes.append(NO_MARKER_NOTE)
            elif result.id in PUSH_CHECKS:  # not a prerequisite the run added (image-policy.valid)
                problems += [p for p in _own_failure(result, unreadable) if p.split(":", 1)[0] in outgoing]
    return PushCheck(list(dict.fromkeys(problems)), notes)


def invalid_refusal(problems: Sequence[str]) -> str:
    """One line: how many problems the files about to be pushed have, and how to push anyway. The
    problems themselves travel beside it (`PushWorkResult.problems`), each said once where it is shown."""
    one = len(problems) == 1
    return (
        f"the files about to be pushed have {'a problem' if one else f'{len(problems)} problems'} Flux "
        f"refuses or ignores; nothing was changed - hint: fix {'it' if one else 'them'} (lab check "
        "--offline says more), or lab sync --commit --allow-invalid pushes anyway to see how Flux reacts"
    )


def refusal_lines(message: str, problems: Sequence[str]) -> list[str]:
    """A refusal over `problems` (`invalid_refusal`'s line): the line, each problem once, then its hint,
    which is about them all."""
    said, _, hint = message.partition(" - hint: ")
    return [said, *(f"  {p}" for p in problems), *([f"  hint: {hint}"] if hint else [])]


def push_work(
    path: Path | Workspace,
    task_id: str | None = None,
    *,
    strategy: Strategy = "rebase",
    stash: bool = False,
    message: str | None = None,
    allow_delete: bool = False,
    allow_invalid: bool = False,
    push: bool = True,
    cluster: ClusterSource | None = None,
) -> PushWorkResult:
    """Commit the task's changed files truthfully, then fetch, integrate Flux's commits and push.

    Other uncommitted edits are never swept into the commit; they make the sync refuse unless
    `stash=True` (then they are stashed and restored, and the result says so). A deleted file the
    task's checks need makes it refuse (`deleted` names them) unless `allow_delete=True`; so does a
    problem the offline checks find in the files about to be pushed (`problems`, see `push_problems`)
    unless `allow_invalid=True`. `cluster`: where to read the branch Flux deploys first (see
    `flux_branch`)."""
    ws = path if isinstance(path, Workspace) else open_workspace(Path(path))
    if ws.in_progress() is not None or ws.branch() is None:
        # Nothing to commit on: sync says what git left half-way or where HEAD is.
        return PushWorkResult(
            None, sync(ws, strategy=strategy, stash=stash, push=push, task_id=task_id, cluster=cluster)
        )
    branch = ws.branch() or "HEAD"
    task_id = _task_of(ws, task_id)
    # Refusals come before committing anything, so that a refusal changes nothing at all.
    guarded = [] if allow_delete else guarded_deletions(ws, task_id)
    if guarded:
        return PushWorkResult(
            None,
            SyncResult("refused", branch, strategy, message=deletion_refusal(ws, guarded)),
            deleted=guarded,
            deleted_diff=ws.diff("HEAD", paths=guarded),
            restore=restore_command(ws, guarded),
        )
    if not stash:
        wanted = set(task_paths(task_id))
        others = [p for p in _tracked_dirty(ws)[0] if p not in wanted]
        if others:
            shown = ", ".join(others[:5]) + (f" and {len(others) - 5} more" if len(others) > 5 else "")
            message = (
                f"uncommitted changes in {shown}, which are not the task's files, so lab does not commit "
                "them; nothing was changed - hint: commit them yourself (git commit), or let lab stash "
                "and restore them (lab sync --commit --stash)"
            )
            return PushWorkResult(None, SyncResult("refused", branch, strategy, message=message))
    checked = push_problems(ws, task_id) if push else PushCheck()
    if checked.problems and not allow_invalid:
        return PushWorkResult(
            None,
            SyncResult("refused", branch, strategy, message=invalid_refusal(checked.problems)),
            problems=checked.problems,
        )
    made = commit_work(ws, task_id, message=message, allow_delete=True)
    committed = made.sha[:7] if made is not None else None
    return PushWorkResult(
        made,
        sync(
            ws,
            strategy=strategy,
            stash=stash,
            push=push,
            committed=committed,
            task_id=task_id,
            cluster=cluster,
        ),
        problems=checked.problems,
        notes=checked.notes,
    )
