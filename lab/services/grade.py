"""Use case: grade a class of students' repositories (instructor mode, `lab grade`).

Every repository is untrusted. None is ever written to or has its hooks or repo-local config run:
a checkout is opened read-only (`open_workspace(untrusted=True)`) and the checks run on a temporary
clone of its checked-out branch (what the student committed: a dirty tree cannot change the grade);
a bare repository or URL is cloned shallow, without hooks. The clone is made by the hardened git adapter
and lives in a temporary directory removed afterwards. One bad repository becomes an `error` row with a
one-line reason; it never stops the others.
"""

from __future__ import annotations

import csv
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from lab.adapters.git import clone_to_temp, open_workspace, redact_url
from lab.core.checks.model import CheckDef, CheckResult, Report, Status, one_line
from lab.core.report.grade_table import ClassReport, GradeRow, sort_rows
from lab.errors import LabError, UsageError

# Deep enough that git.flux-commit can diff Flux's commit against its parent after a few learner
# commits on top, shallow enough that a long history is not copied 100 times.
CLONE_DEPTH = 50
DEFAULT_TIMEOUT_S = 300.0
CLUSTER_LEFT_OUT = "left out: lab grade does not check a student's cluster (--with-cluster does)"
# Each repository's checks already run a few threads; the class-level pool supplies the parallelism.
CHECK_WORKERS = 2


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
    """`alice` for /class/alice, /srv/alice.git or https://host/org/alice.git."""
    tail = redact_url(source).rstrip("/").rsplit("/", 1)[-1]
    tail = tail.rsplit(":", 1)[-1]
    return tail.removesuffix(".git") or tail or source


def expand(sources: Iterable[str], *, base: Path | None = None) -> list[Target]:
    """Targets for command-line arguments: a directory that is no repository but holds some (one
    level down) stands for each of its subdirectories; everything else is one student."""
    targets: list[Target] = []
    for source in sources:
        if _is_url(source):
            targets.append(Target(student_name(source), source))
            continue
        path = Path(source).expanduser()
        if not path.is_absolute() and base is not None:
            path = base / path
        if path.is_dir() and not is_repository(path):
            children = sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith("."))
            if any(is_repository(c) for c in children):
                targets += [Target(student_name(str(c)), str(c)) for c in children]
                continue
        targets.append(Target(student_name(str(path)), str(path)))
    return targets


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
    for lineno, row in enumerate(csv.reader(text.splitlines()), start=1):
        cells = [c.strip() for c in row]
        if not any(cells) or cells[0].startswith("#"):
            continue
        if lineno == 1 and [c.lower() for c in cells[:2]] == ["student", "repo"]:
            continue
        if len(cells) < 2 or not cells[0] or not cells[1] or len(cells) > 3:
            raise UsageError(
                f"{path}:{lineno}: expected student,repo[,branch], got {len(cells)} field(s)",
                hint="one student per line, e.g. alice,https://github.com/org/alice-gitops,main",
            )
        student, repo = cells[0], cells[1]
        branch = cells[2] if len(cells) == 3 and cells[2] else None
        if not _is_url(repo) and not Path(repo).expanduser().is_absolute():
            repo = str(path.parent / repo)
        targets.append(Target(student, repo, branch))
    return targets


def gather(sources: Sequence[str], roster: Path | None) -> list[Target]:
    """Roster rows first (they name students), then arguments whose repository the roster lacks."""
    targets = read_roster(roster) if roster is not None else []
    known = {_key(t.source) for t in targets}
    for target in expand(sources):
        if _key(target.source) not in known:
            known.add(_key(target.source))
            targets.append(target)
    return targets


def _key(source: str) -> str:
    if _is_url(source):
        return source.rstrip("/")
    return str(Path(source).expanduser().resolve())


def _clone(target: Target, dest: Path) -> tuple[Path, str | None]:
    """A private clone of what is to be graded, and the branch graded (None: the remote's default)."""
    if _is_url(target.source):
        clone = clone_to_temp(target.source, target.branch, dest, depth=CLONE_DEPTH)
        return clone.root, target.branch or clone.branch()
    path = Path(target.source).expanduser()
    if not path.exists():
        raise LabError(f"{path} does not exist", hint="check the path in the roster or arguments")
    if not path.is_dir():
        raise LabError(f"{path} is not a directory", hint="pass a repository directory or URL")
    if _is_bare(path):
        clone = clone_to_temp(str(path), target.branch, dest, depth=CLONE_DEPTH)
        return clone.root, target.branch or clone.branch()
    if not _is_checkout(path):
        raise LabError(f"{path} is not a git repository", hint="pass the student's clone or its URL")
    # Read-only: only to learn which branch the student has checked out.
    ws = open_workspace(path, untrusted=True)
    branch = target.branch or ws.branch()
    clone = clone_to_temp(str(ws.root), branch, dest, depth=CLONE_DEPTH)
    return clone.root, branch


def grade_one(
    target: Target,
    *,
    task: str | None = None,
    offline: bool = False,
    tags_file: Path | None = None,
    cluster: bool = False,
    workdir: Path | None = None,
) -> GradeRow:
    """Grade one repository; never raises for a bad repository (it becomes a row with a reason).

    `cluster=False` leaves the cluster checks out (reported `skipped`): the cluster the instructor's
    kubeconfig reaches is not each student's, so its state must not be credited to every student.
    """
    start = time.monotonic()
    shown = redact_url(target.source)
    branch = target.branch
    try:
        with tempfile.TemporaryDirectory(prefix="lab-grade-", dir=workdir) as tmp:
            root, branch = _clone(target, Path(tmp) / "repo")
            report = _run(root, task=task, offline=offline, tags_file=tags_file, cluster=cluster)
    except LabError as err:
        return GradeRow(target.student, shown, branch, None, _reason(str(err)), time.monotonic() - start)
    except Exception as err:  # a checker bug on one student's repository must not stop the class
        reason = f"internal error: {type(err).__name__}: {err}"
        return GradeRow(target.student, shown, branch, None, _reason(reason), time.monotonic() - start)
    return GradeRow(target.student, shown, branch, report, "", time.monotonic() - start)


def _run(root: Path, *, task: str | None, offline: bool, tags_file: Path | None, cluster: bool) -> Report:
    from lab.checks.loader import load_task_checks
    from lab.services.check import run_checks

    if cluster or offline:
        return run_checks(root, task=task, offline=offline, tags_file=tags_file, max_workers=CHECK_WORKERS)
    defs = load_task_checks(task).defs
    only = [d.id for d in defs if d.kind != "cluster"]
    report = run_checks(
        root, task=task, offline=False, tags_file=tags_file, only=only, max_workers=CHECK_WORKERS
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
    return one_line(redact_url(text), limit=300)


def default_jobs() -> int:
    return max(1, os.cpu_count() or 1)


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
    """Grade every target with `jobs` threads (`task`: default the course's current); rows sorted by student.

    A repository still running after `timeout_s` becomes an `error` row ("timed out"); its thread is
    left to finish in the background (git and network calls carry their own timeouts), the others go on.
    """
    if tags_file is not None and not tags_file.is_file():
        raise UsageError(f"tags file {tags_file} not found", hint="one tag per line, as `lab tags` writes")
    if task is None:
        from lab.adapters.tasks import default_task_id

        task = default_task_id()
    if timeout_s <= 0:
        raise UsageError("--timeout must be positive", hint="e.g. --timeout 120")
    workers = max(1, jobs or default_jobs())
    started_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    start = time.monotonic()
    rows: list[GradeRow] = []
    lock = threading.Lock()
    began: dict[int, float] = {}

    def work(i: int, target: Target) -> GradeRow:
        with lock:
            began[i] = time.monotonic()
        return grade_one(
            target, task=task, offline=offline, tags_file=tags_file, cluster=cluster, workdir=workdir
        )

    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="lab-grade")
    try:
        futures: dict[Future[GradeRow], tuple[int, Target]] = {
            pool.submit(work, i, t): (i, t) for i, t in enumerate(targets)
        }
        pending = set(futures)
        while pending:
            done, pending = wait(pending, timeout=0.2, return_when="FIRST_COMPLETED")
            finished = [(f, f.result()) for f in done]
            now = time.monotonic()
            with lock:
                late = [f for f in pending if now - began.get(futures[f][0], now) > timeout_s]
            for f in late:
                pending.discard(f)
                target = futures[f][1]
                shown = redact_url(target.source)
                late_row = GradeRow(
                    target.student, shown, target.branch, None, f"timed out after {timeout_s:g}s", timeout_s
                )
                finished.append((f, late_row))
            for _, row in finished:
                rows.append(row)
                if on_row is not None:
                    on_row(row)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    return ClassReport(
        task=task,
        rows=sort_rows(rows),
        started_at=started_at,
        duration_s=time.monotonic() - start,
        offline=offline,
    )
