"""Use case: grade a class of students' repositories (instructor mode, `lab grade`).

Every repository is untrusted. None is ever written to or has its hooks or repo-local config run; the
checks run on a private shallow clone made by the hardened git adapter, in a temporary directory
removed afterwards (and, when a run was killed, by the next run).

What is graded is what the student pushed: a checkout is graded from its `origin` (the bare repository
`lab init` made, or the URL), and a checkout whose branch is ahead of origin's gets the note "not
pushed". A checkout without an origin is graded as committed, with `git.pushed` failing. A bare
repository or URL is cloned as it is.

The branch graded is the roster's, else the branch the submission's Flux follows (the `spec.ref.branch`
of the GitRepository Flux deploys from, read on origin's default branch, as `lab check` reads it), else
origin's default branch (its HEAD; main when HEAD is detached or names no branch origin has): never the
branch a checkout happens to have checked out, which is the student's work in progress, not their
submission. The checks read that same branch of origin, so the files graded and `git.pushed` never
disagree; when origin lacks the branch Flux follows, `git.pushed` fails as source-controller does.

A submission is graded only from objects and refs inside it: a `.git` that is a symlink or a `gitdir:`
file pointing elsewhere, `objects/info/alternates`, a `commondir` or symlinks leading out of the git
directory, or an origin that is a classmate's repository make an `error` row naming the target, never a
grade of someone else's work. One bad repository becomes an `error` row with a one-line reason; it never
stops the others.
"""

from __future__ import annotations

import csv
import os
import queue
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urlparse

from lab.adapters.git import NETWORK_TIMEOUT as CLONE_TIMEOUT_S
from lab.adapters.git import Workspace, abort_running, clone_to_temp, open_workspace
from lab.adapters.scratch import remove_own, scratch_dir, sweep_stale
from lab.core.checks.model import CheckDef, CheckResult, Report, Status, one_line
from lab.core.record import dataclass
from lab.core.report.grade_table import ClassReport, GradeRow
from lab.core.text import redact_url
from lab.errors import GitError, LabError, UsageError

# Deep enough that git.flux-commit can diff Flux's commit against its parent after a few learner
# commits on top, shallow enough that a long history is not copied 100 times.
CLONE_DEPTH = 50
# The course's branch (the starter's Flux syncs it, the automation pushes to it): graded when origin's
# HEAD names no branch origin has.
FALLBACK_BRANCH = "main"
DEFAULT_TIMEOUT_S = 300.0
CLUSTER_LEFT_OUT = "left out: lab grade does not check a student's cluster (--with-cluster does)"
SCRATCH_PREFIX = "lab-grade"
ORIGIN_SUFFIX = "-origin.git"  # `lab init DIR` puts DIR's bare origin next to it
# Entries of a git directory looked at for symlinks leading out of it; a bigger one is refused.
MAX_GIT_DIR_ENTRIES = 200_000
# After the timeout, how long finished-but-late workers get to remove their clones.
GRACE_S = 3.0
# Each repository's checks already run a few threads; the class-level pool supplies the parallelism.
CHECK_WORKERS = 2


# What each worker thread is doing ("the clone of URL", "the checks"), by thread id: what a repository
# that overruns --timeout was stuck in, for its row to say.
_DOING: dict[int, str] = {}


def _doing(what: str) -> None:
    _DOING[threading.get_ident()] = what


def _timed_out(ident: int | None, timeout_s: float) -> str:
    what = _DOING.get(ident, "") if ident is not None else ""
    if what.startswith("the clone of "):
        hint = "raise --timeout, or check the URL answers (git ls-remote URL)"
    else:
        hint = "raise --timeout"
    return f"{what or 'grading'} timed out after {timeout_s:g}s - hint: {hint}"


@dataclass(frozen=True)
class Target:
    """One student's repository: a local checkout, a bare repository, or a URL."""

    student: str
    source: str
    branch: str | None = None


def _is_url(text: str) -> bool:
    return "://" in text or (":" in text.split("/", 1)[0] and not Path(text).exists())


def _is_bare(path: Path) -> bool:
    return (path / "HEAD").is_file() and (path / "objects").is_dir() and (path / "refs").is_dir()


def _is_checkout(path: Path) -> bool:
    return (path / ".git").exists()


def is_repository(path: Path) -> bool:
    return _is_checkout(path) or _is_bare(path)


def student_name(source: str) -> str:
    """`alice` for /class/alice, /srv/alice.git, https://host/org/alice.git or `lab init`'s
    alice-origin.git (`%20` in a URL is a space); a relative path is named by the folder it stands for
    (`.` is the current one)."""
    from urllib.parse import unquote

    if not _is_url(source):
        source = os.path.abspath(os.path.expanduser(source))
    tail = redact_url(source).rstrip("/").rsplit("/", 1)[-1]
    tail = tail.rsplit(":", 1)[-1]
    if _is_url(source):
        tail = unquote(tail)
    if tail.endswith(ORIGIN_SUFFIX) and tail != ORIGIN_SUFFIX:
        return tail.removesuffix(ORIGIN_SUFFIX)  # `lab init NAME`'s origin is NAME's, as a path or a URL
    return tail.removesuffix(".git") or tail or source


def expand(sources: Iterable[str], *, base: Path | None = None) -> list[Target]:
    """Targets for command-line arguments: a directory that is no repository but holds some (one
    level down) stands for each of its subdirectories; everything else is one student. A `lab init`
    NAME-origin.git given along with its checkout NAME (by a class directory or by a glob) is NAME's
    origin, not a student of its own."""
    # In the order given (a URL where it stands among the paths; a class directory's repositories by
    # name): the order of the grades.
    given: list[str | Path] = []
    empty: list[str] = []
    sources = list(sources)
    for source in sources:
        if _is_url(source):
            given.append(source)
            continue
        path = Path(source).expanduser()
        if not path.is_absolute() and base is not None:
            path = base / path
        if path.is_dir() and not is_repository(path):
            entries = [p for p in path.iterdir() if not p.name.startswith(".")]
            if not entries:
                empty.append(source)
            children = sorted(p for p in entries if p.is_dir())
            if any(is_repository(c) for c in children):
                given += children
                continue
        given.append(path)
    if empty and len(empty) == len(sources):
        # Only empty folders: an empty class, no student to grade. Among other students an empty
        # folder is one of them whose work is missing (an error row), not a reason to grade nobody.
        raise UsageError(
            f"no repositories found in {', '.join(empty)}",
            hint="pass a class directory holding the students' repositories, or --roster FILE",
        )
    checkouts = {_resolved(p) for p in given if isinstance(p, Path)}
    targets: list[Target] = []
    for entry in given:
        if isinstance(entry, str):
            targets.append(Target(student_name(entry), entry))
            continue
        checkout = _init_checkout(entry)
        if checkout is not None and _resolved(checkout) in checkouts:
            continue
        targets.append(Target(student_name(str(entry)), str(entry)))
    return targets


def _init_checkout(path: Path) -> Path | None:
    """The checkout NAME next to `NAME-origin.git` (the origin `lab init NAME` made), else None."""
    if not path.name.endswith(ORIGIN_SUFFIX):
        return None
    checkout = path.with_name(path.name[: -len(ORIGIN_SUFFIX)])
    return checkout if checkout.name and _is_checkout(checkout) else None


def read_roster(path: Path) -> list[Target]:
    """`student,repo[,branch]` rows (a header row and `#` comments allowed); relative repository
    paths are taken from the roster's directory."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UsageError(f"roster {path} not found", hint="a CSV with student,repo[,branch] rows") from None
    except (OSError, UnicodeDecodeError) as err:
        raise UsageError(f"cannot read roster {path}: {err}", hint="save it as UTF-8 CSV") from None
    targets: list[Target] = []
    seen: dict[tuple[str, str | None], int] = {}  # (repository, branch) -> the roster line naming it first
    example = "one student per line, e.g. alice,https://github.com/org/alice-gitops,main"
    for lineno, row in enumerate(csv.reader(text.splitlines()), start=1):
        cells = [c.strip() for c in row]
        if not any(cells) or cells[0].startswith("#"):
            continue
        if lineno == 1 and [c.lower() for c in cells[:2]] == ["student", "repo"]:
            continue
        if len(cells) == 1 and ";" in cells[0]:
            raise UsageError(
                f"{path}:{lineno}: one field; its cells look separated by ';', a roster's by ','",
                hint="save the roster as comma-separated CSV (a spreadsheet's 'CSV (comma delimited)')",
            )
        if len(cells) >= 2 and cells[0] and not cells[1] and not any(cells[2:3]) and len(cells) <= 3:
            raise UsageError(f"{path}:{lineno}: the repo cell of {one_line(cells[0])} is empty", hint=example)
        if len(cells) < 2 or not cells[0] or not cells[1] or len(cells) > 3:
            raise UsageError(
                f"{path}:{lineno}: expected student,repo[,branch], got {len(cells)} field(s)", hint=example
            )
        student, repo = cells[0], cells[1]
        branch = cells[2] if len(cells) == 3 and cells[2] else None
        if not _is_url(repo) and not Path(repo).expanduser().is_absolute():
            repo = str(path.parent / repo)
        # One repository on two branches is two submissions (students sharing a repository).
        first = seen.setdefault((_key(repo), branch), lineno)
        if first != lineno:
            on = f" (branch {one_line(branch)})" if branch else ""
            raise UsageError(
                f"{path}:{lineno}: duplicate roster entry: {redact_url(one_line(cells[1]))}{on} is also on "
                f"line {first}",
                hint="one line per repository and branch (students sharing one: a branch each, or one line "
                "naming them all)",
            )
        targets.append(Target(student, repo, branch))
    return targets


def gather(
    sources: Sequence[str], roster: Path | None, same: list[tuple[str, str]] | None = None
) -> list[Target]:
    """Roster rows first (they name students), then arguments whose repository the roster lacks.
    A repository named twice (a symlink, a path and its URL) is graded once; `same` collects the
    (dropped, kept) pairs, for the caller to say so."""
    targets = read_roster(roster) if roster is not None else []
    named = len(targets)
    known = {_key(t.source): i for i, t in enumerate(targets)}
    for target in expand(sources):
        key = _key(target.source)
        i = known.get(key)
        if i is None:
            known[key] = len(targets)
            targets.append(target)
            continue
        kept, dropped = targets[i], target
        if i >= named and _is_symlink(kept.source) and not _is_symlink(target.source):
            # `aaa -> alice` sorts first in a class directory: grading it would refuse it as a symlink
            # and drop alice, whose repository it is. (A roster row is the instructor's: it stays.)
            kept, dropped = target, targets[i]
            targets[i] = target
        if same is not None and kept.source != dropped.source:
            same.append((dropped.source, kept.source))
    return targets


def _is_symlink(source: str) -> bool:
    return not _is_url(source) and Path(source).expanduser().is_symlink()


def _key(source: str) -> str:
    if _is_url(source):
        return source.rstrip("/")
    return str(Path(source).expanduser().resolve())


@dataclass(frozen=True)
class _Graded:
    """The private clone to run the checks on, the branch graded and what the row should add."""

    root: Path
    branch: str | None
    note: str = ""


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # a symlink loop
        return path.absolute()


def _read_head(path: Path, limit: int = 4096) -> str:
    try:
        with open(path, "rb") as fh:
            return fh.read(limit).decode("utf-8", "replace")
    except OSError:
        return ""


def _owner(path: Path, owners: Mapping[Path, str], me: str) -> str:
    """`, which is alice's submission` when `path` lies in a classmate's submission."""
    for root, student in owners.items():
        if student != me and _inside(path, root):
            return f", which is {student}'s submission"
    return ""


def _init_origin_owner(origin: Path, checkout: Path, me: str) -> str:
    """`, which is alice's submission` when `origin` is the `lab init` origin of another student's
    checkout: `alice-origin.git` next to a checkout `alice` that pushes to it. Whoever else is in the
    run: a classmate's origin is theirs also when their directory was not passed. A student's own
    second clone of it (alice grading from alice-laptop2) is hers."""
    sibling = _init_checkout(origin)
    if sibling is None or _resolved(sibling) == _resolved(checkout) or student_name(str(sibling)) == me:
        return ""
    try:
        url = open_workspace(sibling, untrusted=True).remote_url("origin")
    except LabError:
        return ""
    theirs = _local_origin(url)
    if theirs is None or _resolved(theirs) != origin:
        return ""
    return f", which is {student_name(str(sibling))}'s submission"


def _not_graded(what: str) -> LabError:
    return LabError(
        f"not graded: {what}",
        hint="grading reads only objects and refs inside the submitted repository; ask for a plain clone",
    )


def _git_dir_of_checkout(path: Path, owners: Mapping[Path, str], me: str) -> Path:
    """The checkout's own git directory; refuses a `.git` symlink or a gitdir file leading out of it."""
    dot = path / ".git"
    if dot.is_symlink():
        target = _resolved(dot)
        raise _not_graded(f".git is a symlink to {target}{_owner(target, owners, me)}")
    if dot.is_dir():
        return dot
    text = _read_head(dot).strip()
    if not text.startswith("gitdir:"):
        raise LabError(f"{dot} is neither a directory nor a gitdir link", hint="ask for a plain clone")
    raw = text[len("gitdir:") :].strip().splitlines()[0] if text[len("gitdir:") :].strip() else ""
    target = _resolved(path / raw)
    if not _inside(target, _resolved(path)):
        raise _not_graded(f".git is a gitdir link to {target}{_owner(target, owners, me)}")
    return target


def _check_git_dir(git_dir: Path, owners: Mapping[Path, str], me: str) -> None:
    """Refuse a git directory that reads objects or refs from elsewhere (the target named)."""
    info = git_dir / "objects" / "info"
    for name in ("alternates", "http-alternates"):
        f = info / name
        if not os.path.lexists(f):
            continue
        lines = [ln.strip() for ln in _read_head(f).splitlines() if ln.strip() and not ln.startswith("#")]
        if lines:
            shown = lines[0]
            if name == "alternates" and not shown.startswith(("http://", "https://")):
                full = _resolved(info.parent / shown)  # git reads a relative entry from objects/
                shown = f"{full}{_owner(full, owners, me)}"
            raise _not_graded(f"objects/info/{name} borrows objects from {shown}")
    common = git_dir / "commondir"
    if os.path.lexists(common):
        raw = _read_head(common).strip()
        common_dir = _resolved(git_dir / raw) if raw else git_dir
        if not _inside(common_dir, _resolved(git_dir)):
            raise _not_graded(f"commondir points at {common_dir}{_owner(common_dir, owners, me)}")
    root = _resolved(git_dir)
    # Iterative: a git directory can be deep (refs/heads/a/b/...); no recursion limit to hit.
    stack = [git_dir]
    seen = 0
    while stack:
        current = stack.pop()
        try:
            entries = list(os.scandir(current))
        except OSError:
            continue
        for entry in entries:
            seen += 1
            if seen > MAX_GIT_DIR_ENTRIES:
                raise _not_graded(f"{git_dir} holds more than {MAX_GIT_DIR_ENTRIES} entries")
            if entry.is_symlink():
                link = _resolved(Path(entry.path))
                if not _inside(link, root):
                    rel = Path(entry.path).relative_to(git_dir)
                    raise _not_graded(f".git/{rel} is a symlink to {link}{_owner(link, owners, me)}")
            elif entry.is_dir(follow_symlinks=False):
                stack.append(Path(entry.path))


def _local_origin(url: str) -> Path | None:
    """The path of a local origin (`Workspace.remote_url` makes local paths absolute), None for a URL."""
    if url.startswith("file://"):
        return Path(unquote(urlparse(url).path))
    return Path(url) if Path(url).is_absolute() else None


def _clone_timeout(deadline: float | None) -> float:
    if deadline is None:
        return CLONE_TIMEOUT_S
    return max(1.0, min(CLONE_TIMEOUT_S, deadline - time.monotonic()))


def _clone_local(
    path: Path, branch: str | None, dest: Path, owners: Mapping[Path, str], me: str, deadline: float | None
) -> Workspace:
    """Clone a local repository (bare or checkout) after refusing every indirection in it."""
    git_dir = path if _is_bare(path) else _git_dir_of_checkout(path, owners, me)
    _check_git_dir(git_dir, owners, me)
    _doing(f"the clone of {path}")
    return clone_to_temp(str(path), branch, dest, depth=CLONE_DEPTH, timeout=_clone_timeout(deadline))


def _clone_url(url: str, branch: str | None, dest: Path, deadline: float | None) -> Workspace:
    """A shallow clone of a remote repository, within what is left of the row's time."""
    _doing(f"the clone of {redact_url(url)}")
    return clone_to_temp(url, branch, dest, depth=CLONE_DEPTH, timeout=_clone_timeout(deadline))


def _clone_pushed(
    clone: Callable[[str | None], Workspace],
    wanted: str | None,
    dest: Path,
    follows: Callable[[Path], str | None],
) -> tuple[Workspace, str | None]:
    """The clone to grade and the branch graded: `wanted` (the roster's), else the branch the
    submission's Flux follows (`follows` reads it from the default branch's files), else origin's
    default branch. Flux deploys the branch its GitRepository names, whatever origin's default is:
    when origin lacks that branch, the default branch's files are graded as that branch's, and
    `git.pushed` fails as source-controller does (origin has no such branch)."""
    from lab.adapters.scratch import remove_tree

    ws = _clone_default(clone, wanted, dest)
    if wanted is not None:
        return ws, ws.branch() or wanted
    followed = follows(ws.root)
    if followed is None or followed == ws.branch():
        return ws, ws.branch()
    remove_tree(dest)
    try:
        return clone(followed), followed
    except LabError:
        remove_tree(dest)
        return _clone_default(clone, None, dest), followed


def _clone_default(clone: Callable[[str | None], Workspace], wanted: str | None, dest: Path) -> Workspace:
    """`clone(wanted)`; with no branch wanted, origin's default branch, and main when origin's HEAD
    names a branch it does not have (git then clones nothing: an empty repository) or names none (a
    detached HEAD: any commit, not what was pushed to a branch)."""
    from lab.adapters.scratch import remove_tree

    ws = clone(wanted)
    on_a_branch = ws.branch() is not None and ws.rev_parse("HEAD") is not None
    if wanted is not None or on_a_branch or ws.branch() == FALLBACK_BRANCH:
        return ws
    remove_tree(dest)
    try:
        return clone(FALLBACK_BRANCH)
    except GitError:
        # No main either: origin holds nothing graded on any branch we know of (nothing pushed).
        remove_tree(dest)
        return clone(None)


def _flux_follows(task: str | None) -> Callable[[Path], str | None]:
    """The branch the GitRepository Flux deploys from follows in a clone's files (`lab check`'s rule),
    None when it names none (or pins a tag or commit)."""

    def follows(root: Path) -> str | None:
        from lab.checks.context import followed_branch
        from lab.checks.loader import load_task_checks
        from lab.services.check import check_context

        found = followed_branch(check_context(root, load_task_checks(task), offline=True))
        return found.branch if found is not None else None

    return follows


def _prepare(
    target: Target,
    dest: Path,
    *,
    owners: Mapping[Path, str],
    deadline: float | None,
    cancelled: Callable[[], bool] = lambda: False,
    follows: Callable[[Path], str | None] = lambda _root: None,
) -> _Graded:
    """A private clone of what the student pushed, and the branch graded: the roster's, else the one
    the submission's Flux follows (`follows`), else origin's default branch (main when it names none)."""
    me = target.student
    wanted = target.branch
    if _is_url(target.source) and _local_origin(target.source) is None:
        url = target.source
        clone, branch = _clone_pushed(lambda b: _clone_url(url, b, dest, deadline), wanted, dest, follows)
        return _Graded(clone.root, branch)
    given = _local_origin(target.source) or Path(target.source).expanduser()
    if given.is_symlink():
        real = _resolved(given)
        raise _not_graded(f"{given} is a symlink to {real}{_owner(real, owners, me)}")
    path = given
    if not path.exists():
        raise LabError(f"{path} does not exist", hint="check the path in the roster or arguments")
    if not path.is_dir():
        raise LabError(f"{path} is not a directory", hint="pass a repository directory or URL")
    if _is_bare(path):
        clone, branch = _clone_pushed(
            lambda b: _clone_local(path, b, dest, owners, me, deadline), wanted, dest, follows
        )
        return _Graded(clone.root, branch)
    if not _is_checkout(path):
        raise LabError(f"{path} is not a git repository", hint="pass the student's clone or its URL")
    git_dir = _git_dir_of_checkout(path, owners, me)
    _check_git_dir(git_dir, owners, me)
    # Read-only: where origin is, what the checkout's branches hold.
    ws = open_workspace(path, untrusted=True)
    if "origin" not in ws.remotes():
        # Nothing pushed, no origin to name a default: the course's branch when the checkout has it.
        branch = wanted
        if branch is None:
            branch = FALLBACK_BRANCH if ws.rev_parse(f"refs/heads/{FALLBACK_BRANCH}") else ws.branch()
        clone = _clone_local(path, branch, dest, owners, me, deadline)
        clone.remove_remote("origin")  # the clone's origin would be the checkout itself
        return _Graded(
            clone.root, clone.branch() or branch, note=f"not pushed: {path.name} has no remote origin"
        )
    url = ws.remote_url("origin")
    local = _local_origin(url)
    if local is not None:
        local = _resolved(local)
        if not local.exists():
            raise LabError(
                f"origin {local} does not exist: cannot see what was pushed",
                hint="pass the student's origin (bare repository or URL) instead of the checkout",
            )
        owner = _owner(local, owners, me) or _init_origin_owner(local, path, me)
        if owner or local in (_resolved(path), _resolved(git_dir)):
            # A classmate's repository, or the checkout itself (its unpushed commits would count).
            raise _not_graded(f"origin is {local}{owner or ', the checkout itself'}")
        origin = local
        clone, branch = _clone_pushed(
            lambda b: _clone_local(origin, b, dest, owners, me, deadline), wanted, dest, follows
        )
        shown = str(local)
    else:
        if not urlparse(url).scheme and ":" not in url.split("/", 1)[0]:
            raise LabError(f"origin {redact_url(url)} is not a URL git can reach", hint="check the remote")
        shown = redact_url(url)
        try:
            clone, branch = _clone_pushed(lambda b: _clone_url(url, b, dest, deadline), wanted, dest, follows)
        except GitError as err:
            if cancelled() or (deadline is not None and time.monotonic() >= deadline):
                raise  # killed: the timeout or the interruption says why
            # Never the checkout's own refs instead: its commits and its refs/remotes/origin/* are the
            # student's to write, so they cannot tell what was pushed.
            raise LabError(
                f"origin {shown} could not be read, so what was pushed is unknown: {one_line(err.message)}",
                hint=err.hint or "check the network and the remote's URL, or grade the origin itself",
            ) from None
    branch = branch or FALLBACK_BRANCH
    return _Graded(clone.root, branch, note=_unpushed_note(ws, clone, branch, shown))


def _unpushed_note(ws: Workspace, clone: Workspace, branch: str, origin: str) -> str:
    """'not pushed: ...' when the checkout's own `branch` (the one graded) has commits origin's lacks,
    else ''. Other branches, and which one is checked out, say nothing about the submission."""
    local = f"refs/heads/{branch}"
    head = ws.rev_parse(local)
    if head is None or clone.rev_parse(f"{head}^{{commit}}") is not None:
        return ""
    tip = clone.rev_parse("HEAD")
    ahead = ""
    if tip is not None and ws.rev_parse(f"{tip}^{{commit}}") is not None:
        count = len(ws.log(local, n=1000, not_ref=tip))
        ahead = f" {count} commit{'s' if count != 1 else ''}"
    return f"not pushed:{ahead or ' commits'} on local {branch} ({head[:7]}) not on origin {origin}; graded origin"


def grade_one(
    target: Target,
    *,
    task: str | None = None,
    offline: bool = False,
    tags_file: Path | None = None,
    cluster: bool = False,
    workdir: Path | None = None,
    owners: Mapping[Path, str] | None = None,
    deadline: float | None = None,
    cancelled: Callable[[], bool] = lambda: False,
) -> GradeRow:
    """Grade one repository; never raises for a bad repository (it becomes a row with a reason).

    `cluster=False` leaves the cluster checks out (reported `skipped`): the cluster the instructor's
    kubeconfig reaches is not each student's, so its state must not be credited to every student.
    `owners`: every submission's directory -> student, to name a classmate whose repository a
    submission points at. `deadline` (time.monotonic()): clones are killed when it passes.
    `cancelled`: once it answers True (the run was interrupted), nothing more is started.
    """
    start = time.monotonic()
    shown = redact_url(target.source)
    branch = target.branch
    try:
        with scratch_dir(SCRATCH_PREFIX, base=workdir) as tmp:
            graded = _prepare(
                target,
                tmp / "repo",
                owners=owners or {},
                deadline=deadline,
                cancelled=cancelled,
                follows=_flux_follows(task),
            )
            branch = graded.branch
            _doing("the checks")
            if cancelled():
                raise LabError("interrupted", hint="grade it again")
            report = _run(
                graded.root, task=task, offline=offline, tags_file=tags_file, cluster=cluster, branch=branch
            )
            records = _other_task(graded.root, report.task)
    except LabError as err:
        return GradeRow(target.student, shown, branch, None, _reason(str(err)), time.monotonic() - start)
    except Exception as err:  # a checker bug on one student's repository must not stop the class
        reason = f"internal error: {type(err).__name__}: {err}"
        return GradeRow(target.student, shown, branch, None, _reason(reason), time.monotonic() - start)
    note = one_line(graded.note, limit=None)
    took = time.monotonic() - start
    return GradeRow(target.student, shown, branch, report, "", took, note=note, records_task=records)


def _other_task(root: Path, graded_as: str) -> str:
    """The task the submission records when it is another task of this lab than `graded_as` (a class of
    exercise repositories graded as the course task, say); "" otherwise. The record only informs the
    instructor - it never chooses the grading task - and an id the lab does not have is not repeated."""
    from lab.adapters.tasks import recorded_task
    from lab.services.tasks import list_tasks

    try:
        recorded = recorded_task(root)
    except LabError:
        return ""
    if recorded is None or recorded == graded_as:
        return ""
    return recorded if recorded in list_tasks() else ""


def _run(
    root: Path, *, task: str | None, offline: bool, tags_file: Path | None, cluster: bool, branch: str | None
) -> Report:
    from lab.checks.loader import load_task_checks
    from lab.services.check import run_checks

    if cluster or offline:
        return run_checks(
            root, task=task, offline=offline, tags_file=tags_file, max_workers=CHECK_WORKERS, branch=branch
        )
    defs = load_task_checks(task).defs
    only = [d.id for d in defs if d.kind != "cluster"]
    report = run_checks(
        root,
        task=task,
        offline=False,
        tags_file=tags_file,
        only=only,
        max_workers=CHECK_WORKERS,
        branch=branch,
    )
    ran = {c.id: c for c in report.checks}
    checks = tuple(ran.get(d.id) or _left_out(d) for d in defs)
    return replace(report, checks=checks)


def _left_out(d: CheckDef) -> CheckResult:
    return CheckResult(
        id=d.id,
        title=d.title,
        status=Status.SKIPPED,
        points=0,
        max_points=d.points,
        message=CLUSTER_LEFT_OUT,
        hint="pass --with-cluster to check the cluster your kubeconfig reaches",
        depends_on=d.depends_on,
        kind=d.kind,
        hidden=d.hidden,
    )


def _reason(text: str) -> str:
    # Never cut: the CSV and JSON keep it whole; the table fits it to the terminal.
    return one_line(redact_url(text), limit=None)


def default_jobs() -> int:
    return max(1, os.cpu_count() or 1)


def owners_of(targets: Sequence[Target]) -> dict[Path, str]:
    """Each local submission's directory (and its `lab init` origin next to it) -> the student."""
    owners: dict[Path, str] = {}
    for t in targets:
        local = _local_origin(t.source) if _is_url(t.source) else Path(t.source).expanduser()
        if local is None or not local.exists():
            continue
        if local.is_symlink():
            # A symlink's own row is refused ("is a symlink"); what it points at stays its real
            # owner's, or that owner's row would be refused as pointing at the symlink's submission.
            continue
        path = _resolved(local)
        owners[path] = t.student
        sibling = path.with_name(path.name + ORIGIN_SUFFIX)
        if sibling.is_dir():
            owners.setdefault(sibling, t.student)
    return owners


def _interrupt(threads: Sequence[threading.Thread], stop: threading.Event, workdir: Path | None) -> None:
    """Stop the workers: no new repository, every running clone killed, and the temporary clones
    removed (by their workers within the grace period, else here)."""
    stop.set()
    abort_running()
    until = time.monotonic() + GRACE_S
    for thread in threads:
        if thread.ident is not None:  # started
            thread.join(max(0.0, until - time.monotonic()))
    abort_running()  # one a worker started between the first kill and its look at `stop`
    remove_own(SCRATCH_PREFIX, base=workdir)


def grade_class(
    targets: Sequence[Target],
    *,
    task: str | None = None,
    offline: bool = False,
    tags_file: Path | None = None,
    jobs: int | None = None,
    cluster: bool = False,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    on_row: Callable[[GradeRow], None] | None = None,
    workdir: Path | None = None,
) -> ClassReport:
    """Grade every target with `jobs` threads (`task`: default the course's current); rows in the
    targets' order (the roster's, then the arguments', as the instructor gave them), whichever ends first.

    A repository still running after `timeout_s` becomes an `error` row ("timed out"): its clone is
    killed at that deadline, and the workers are daemon threads, so a stuck repository never keeps the
    process alive past the timeout. Clones left by a killed earlier run are removed first. An exception
    while waiting (Ctrl-C's KeyboardInterrupt) kills the running clones and removes the temporary ones
    before it goes on up.
    """
    if tags_file is not None:
        from lab.adapters.tagsfile import require_tags_file

        require_tags_file(tags_file)
    if task is None:
        from lab.adapters.tasks import default_task_id

        # One task for the class, never a submission's `.fluxlab/task.json`: that record is the learner's
        # to edit, and would let a repository choose what it is graded against.
        task = default_task_id()
    if timeout_s <= 0:
        raise UsageError("--timeout must be positive", hint="e.g. --timeout 120")
    sweep_stale(SCRATCH_PREFIX, base=workdir)
    workers = max(1, min(jobs or default_jobs(), len(targets) or 1))
    started_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    start = time.monotonic()
    owners = owners_of(targets)
    rows: dict[int, GradeRow] = {}  # target -> its row
    lock = threading.Lock()
    began: dict[int, float] = {}
    workers_of: dict[int, int] = {}  # target -> the thread grading it
    todo: queue.SimpleQueue[int] = queue.SimpleQueue()
    done: queue.SimpleQueue[tuple[int, GradeRow]] = queue.SimpleQueue()
    for i in range(len(targets)):
        todo.put(i)
    stop = threading.Event()

    def work() -> None:
        while not stop.is_set():
            try:
                i = todo.get_nowait()
            except queue.Empty:
                return
            now = time.monotonic()
            with lock:
                began[i] = now
                workers_of[i] = threading.get_ident()
            _doing("grading")
            try:
                row = grade_one(
                    targets[i],
                    task=task,
                    offline=offline,
                    tags_file=tags_file,
                    cluster=cluster,
                    workdir=workdir,
                    owners=owners,
                    # A little after the class-level timeout, which reports "timed out" and kills
                    # what still runs; this deadline only bounds a clone when nobody is watching.
                    deadline=now + timeout_s + 1.0,
                    cancelled=stop.is_set,
                )
            except BaseException as err:  # grade_one does not raise; a worker must report anyway
                row = GradeRow(targets[i].student, redact_url(targets[i].source), reason=_reason(str(err)))
            done.put((i, row))

    threads = [threading.Thread(target=work, name=f"lab-grade-{n}", daemon=True) for n in range(workers)]
    try:
        for thread in threads:
            thread.start()
        pending = set(range(len(targets)))
        late: set[int] = set()
        while pending:
            try:
                i, row = done.get(timeout=0.2)
            except queue.Empty:
                i, row = -1, None
            finished: list[tuple[int, GradeRow]] = []
            if row is not None and i in pending:
                finished.append((i, row))
            now = time.monotonic()
            with lock:
                overdue = [j for j in pending if j in began and now - began[j] > timeout_s]
            for j in overdue:
                if any(k == j for k, _ in finished):
                    continue
                late.add(j)
                t = targets[j]
                reason = _timed_out(workers_of.get(j), timeout_s)
                finished.append(
                    (j, GradeRow(t.student, redact_url(t.source), t.branch, None, reason, timeout_s))
                )
            for j, r in finished:
                pending.discard(j)
                rows[j] = r
                if on_row is not None:
                    on_row(r)
    except BaseException:
        # Ctrl-C, or SIGTERM turned into an exception by `lab grade`: the clones run in process groups
        # of their own, which the signal does not reach, so they would outlive the process (orphans
        # still talking to the server) and leave their temporary folders.
        _interrupt(threads, stop, workdir)
        raise
    if late:
        # Whatever the late ones still run (a clone stuck in a transport) dies now; their workers then
        # remove their clones within the grace period, or the next run does.
        abort_running()
        until = time.monotonic() + GRACE_S
        for thread in threads:
            thread.join(max(0.0, until - time.monotonic()))
    return ClassReport(
        task=task,
        rows=tuple(rows[i] for i in sorted(rows)),
        started_at=started_at,
        duration_s=time.monotonic() - start,
        offline=offline,
    )
