"""`lab grade`: instructor mode. Grade many students' repositories in parallel, one row per student.
Exit 0 when every repository was graded (whatever the scores), 1 when some could not be, 2 usage error."""

from __future__ import annotations

import argparse
import shutil
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from lab.commands._common import (
    add_offline_args,
    add_task_arg,
    check_output,
    positive,
    require_task,
    write_report,
    write_trusted,
)
from lab.core.report import GRADE_FORMATS
from lab.errors import LabError, UsageError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "grade",
        help="grade a class of students' repositories (instructor mode)",
        description=(
            "Grade each student's repository read-only: a local checkout (graded from what its origin "
            "holds, with a 'not pushed' note when its branch is ahead), a bare repository, a file:// or "
            "https:// URL, or a directory holding many repositories one level down (a `lab init` "
            "NAME-origin.git next to NAME is NAME's origin, not another student, whether the directory or "
            "a glob like `*/` names them). Only objects and refs "
            "inside the submitted repository are graded: a .git symlink or gitdir file, alternates or an "
            "origin leading to another repository make an error row naming it. No hook or repo-local git "
            "config of a student ever runs. Exit 0 when every repository was graded whatever the scores, "
            "1 when some could not be."
        ),
        epilog=(
            "The roster is CSV: student,repo[,branch] per line; relative paths are from its directory. "
            "The branch graded is the roster's, else origin's default branch (main when origin's HEAD "
            "is detached or names no branch it has), never the branch a checkout has checked out. "
            "Grades come in the order given: the roster's rows, then the arguments (a class "
            "directory's repositories by name)."
        ),
    )
    p.add_argument("repos", nargs="*", metavar="REPO_OR_DIR", help="repositories, URLs or class directories")
    p.add_argument("--roster", metavar="FILE", help="CSV naming students: student,repo[,branch]")
    p.add_argument("--jobs", "-j", type=int, metavar="N", help="repositories graded at once (default: cores)")
    p.add_argument(
        "--format", "-f", choices=GRADE_FORMATS, default="table", help="output format (default table)"
    )
    add_offline_args(p)
    p.add_argument(
        "--with-cluster",
        action="store_true",
        help="also run the cluster checks against your kubeconfig's cluster (one student's environment)",
    )
    p.add_argument("--output", "-o", metavar="FILE", help="write the grades to FILE instead of stdout")
    p.add_argument(
        "--timeout",
        type=positive,
        default=300.0,
        metavar="S",
        help="give up on one repository after S seconds (default %(default)g; its clone is killed)",
    )
    add_task_arg(
        p,
        help="the task to grade every repository as (default: the course's current task; what a "
        "repository records never chooses it, a row only notes it; `lab tasks` lists them)",
    )
    p.set_defaults(func=run)


class _Terminated(KeyboardInterrupt):
    """SIGTERM (a cancelled CI job, `kill`), raised as Ctrl-C is, so that grading stops the same way:
    its clones killed and its temporary clones removed (lab's own handler would only kill the clones)."""


def _raise_terminated(signum: int, frame: object) -> None:
    raise _Terminated


@contextmanager
def _term_as_interrupt() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class _Interrupted(LabError):
    def __init__(self, signum: int, graded: int, total: int) -> None:
        super().__init__(
            f"interrupted after grading {graded} of {total} repositories: the clones running were "
            "stopped and the temporary clones removed; no grades written",
            hint="run lab grade again (--timeout S gives up on a repository that hangs)",
        )
        self.exit_code = 128 + signum  # as the shell reports a process the signal ended


def _progress(total: int, counted: list[int], tty: bool) -> Callable[[object], None]:
    def on_row(_row: object) -> None:
        counted[0] += 1
        if not tty:
            return
        done = counted[0]
        # Past the escaping stream: the carriage return is ours (it rewrites the line in place), and
        # the line holds two numbers, nothing a repository wrote.
        write_trusted(f"\rlab: graded {done}/{total}", err=True)
        sys.stderr.flush()

    return on_row


def run(args: argparse.Namespace) -> int:
    from lab.core.report.grade_table import render_grades
    from lab.services.grade import gather, grade_class

    if not args.repos and not args.roster:
        raise UsageError("nothing to grade", hint="pass repositories or a class directory, or --roster FILE")
    if args.with_cluster and args.offline:
        raise UsageError(
            "--with-cluster and --offline conflict: offline checks leave the cluster out",
            hint="drop --offline to check the cluster, or --with-cluster to grade offline",
        )
    if args.jobs is not None and args.jobs < 1:
        raise UsageError("--jobs must be at least 1", hint="e.g. --jobs 4")
    check_output(args.output)
    require_task(args.task)
    roster = Path(args.roster).expanduser() if args.roster else None
    tags_file = Path(args.tags_file).expanduser().resolve() if args.tags_file else None
    same: list[tuple[str, str]] = []
    targets = gather(args.repos, roster, same)
    for dropped, kept in same:
        print(f"lab: {dropped} is the same repository as {kept}: graded once", file=sys.stderr)
    if not targets:
        raise UsageError("the roster names no students", hint="add student,repo rows")
    tty = sys.stderr.isatty()
    counted = [0]
    try:
        with _term_as_interrupt():
            report = grade_class(
                targets,
                task=args.task,
                offline=args.offline,
                tags_file=tags_file,
                jobs=args.jobs,
                cluster=args.with_cluster,
                timeout_s=args.timeout,
                on_row=_progress(len(targets), counted, tty),
            )
    except KeyboardInterrupt as err:
        if tty:
            print(file=sys.stderr)  # end the progress line
        signum = signal.SIGTERM if isinstance(err, _Terminated) else signal.SIGINT
        raise _Interrupted(signum, counted[0], len(targets)) from None
    if tty:
        print(file=sys.stderr)
    # Fitted to the terminal it is shown on; in full in a file or a pipe, where nothing wraps it.
    width = shutil.get_terminal_size().columns if not args.output and sys.stdout.isatty() else None
    text = render_grades(report, args.format, width=width)
    if args.output:
        write_report(args.output, text)
        ungraded = [r for r in report.rows if not r.graded]
        print(
            f"lab: graded {len(report.rows) - len(ungraded)} of {len(report.rows)} repositories "
            f"into {args.output}",
            file=sys.stderr,
        )
    else:
        sys.stdout.write(text)
    return report.exit_code()
