"""`lab progress`: show PROGRESS.md, or mark a task done (`--done 09`) preserving every other byte."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from lab.commands._common import add_task_arg, add_workspace_arg, print_json, resolve_workspace
from lab.errors import LabError, UsageError

if TYPE_CHECKING:
    from lab.core.tasktexts import Task


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "progress",
        help="show PROGRESS.md or mark a task done",
        description=(
            "Without --done: print the progress table. With --done TASK: set that row's status "
            "(default ✅) and note, print the diff, write the file atomically. Nothing is committed."
        ),
    )
    add_workspace_arg(parser)
    add_task_arg(parser)
    parser.add_argument(
        "--done",
        metavar="ROW",
        nargs="?",
        const="",
        help="the row to update, by number or name (no value: the row of --task, added when missing)",
    )
    parser.add_argument(
        "--note", metavar="TEXT", help="the Notes cell (default with --done: the task's note)"
    )
    parser.add_argument("--status", metavar="S", help="the Status cell instead of ✅ (done/todo accepted)")
    parser.add_argument(
        "--sync",
        action="store_true",
        help="mark the rows of tasks done in their own repositories done (with where), no other row",
    )
    parser.add_argument("--dry-run", action="store_true", help="print the diff, do not write")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.sync and (args.done is not None or args.note is not None or args.status is not None):
        raise UsageError("--sync changes no row of --done", hint="run lab progress --sync on its own")
    if (
        args.done is None
        and not args.sync
        and (args.note is not None or args.status is not None or args.dry_run)
    ):
        raise UsageError(
            "--note, --status and --dry-run need --done TASK",
            hint="e.g. lab progress --done (the current task's row)",
        )
    workspace = resolve_workspace(args.workspace)
    if args.sync:
        return _sync(workspace, dry_run=args.dry_run, as_json=args.json)
    if args.done is None:
        return _show(workspace, as_json=args.json)
    from lab.core.progress import DONE, status_is_done
    from lab.services.progress import mark_progress, normalise_status
    from lab.services.tasks import task_for_row

    status = normalise_status(args.status or DONE)
    # A task's own note (the seed's, for 09) only makes sense when that task is done; any other row
    # and any other status keep an omitted note as it is.
    task: Task | None
    if args.done == "":
        from lab.services.tasks import workspace_task

        task = workspace_task(workspace, args.task)
        row = task.meta.progress_row
    else:
        task = task_for_row(args.done)
        row = args.done
    default_note = task.meta.progress_note if task is not None and status_is_done(status) else None
    result = mark_progress(
        workspace,
        row,
        status=status,
        note=args.note if args.note is not None else (default_note or None),
        dry_run=args.dry_run,
        # A task without a course row of its own gets a row named by its id (no other row changes).
        add_missing=task is not None and task.meta.progress_row == task.id == row,
    )
    if not args.dry_run:
        from lab.services.progress_record import remember_repository
        from lab.services.tasks import task_for_workspace

        # Where the learner works on this repository's task: `lab tasks` and the app read its row there.
        try:
            remember_repository(workspace, task_for_workspace(workspace), last=False)
        except LabError:  # it records a task this lab does not have: `lab check` there says so
            pass
    following = None
    if task is not None and status_is_done(status):
        from lab.services.session import next_task_in_lab

        _warn_if_checks_fail(workspace, task.id, row)
        following = next_task_in_lab(task.meta)
    if args.json:
        print_json(
            {
                "file": str(result.path),
                "line": result.edit.line,
                "changed": result.edit.changed,
                "written": result.written,
                "old_row": result.edit.old_row,
                "new_row": result.edit.new_row,
                "diff": result.diff,
                "next_task": following.id if following is not None else None,
            }
        )
        return 0
    if not result.edit.changed:
        print(f"{result.path}:{result.edit.line}: already up to date, nothing changed")
        print(f"  {result.edit.old_row}")
    else:
        print(result.diff, end="")
        verb = "would update" if args.dry_run else "updated"
        print(f"{verb} {result.path}:{result.edit.line} (not committed: git add PROGRESS.md && git commit)")
    if following is not None:
        from lab.services.session import task_start

        print(
            f"next in this lab: Task {following.id} - {following.title}: "
            f"{task_start(following.id)} (the repository the app opens it in: Enter on it in Home)"
        )
    return 0


def _warn_if_checks_fail(workspace: Path, task_id: str, task_row: str) -> None:
    """One stderr line when the offline checks of the task this row tracks still fail.

    An explicit --done is the learner's call, so this never changes what was written or the exit code.
    """
    from lab.checks.loader import load_task_checks
    from lab.core.checks.model import Status
    from lab.services.check import is_progress, run_checks

    try:
        spec = load_task_checks(task_id)
        report = run_checks(workspace, task=spec.task, offline=True)
    except LabError:
        return  # a workspace the checks cannot read is `lab check`'s to explain
    failing = [c.id for c in report.checks if c.status in (Status.FAIL, Status.ERROR) and not is_progress(c)]
    if failing:
        print(
            f"lab: warning: task {task_row} marked done but offline checks still fail: "
            f"{', '.join(failing)} (see `lab check --offline`)",
            file=sys.stderr,
        )


def _sync(workspace: Path, *, dry_run: bool, as_json: bool) -> int:
    from lab.services.progress import sync_course_rows

    result = sync_course_rows(workspace, dry_run=dry_run)
    if as_json:
        print_json(
            {
                "file": str(result.path),
                "changed": result.edit.changed,
                "written": result.written,
                "diff": result.diff,
            }
        )
    elif not result.edit.changed:
        print(f"{result.path}: already shows every task done elsewhere, nothing changed")
    else:
        print(result.diff, end="")
        verb = "would update" if dry_run else "updated"
        print(f"{verb} {result.path} (not committed: git add PROGRESS.md && git commit)")
    return 0


def _show(workspace: Path, *, as_json: bool) -> int:
    from lab.core.progress import row_status, status_is_done
    from lab.services.progress import done_elsewhere, read_progress, show_progress
    from lab.services.session import home_relative
    from lab.services.tasks import task_for_workspace

    path, table = show_progress(workspace)
    try:
        elsewhere = done_elsewhere(workspace, task_for_workspace(workspace))
    except LabError:  # it records a task this lab does not have: the file alone
        elsewhere = []
    _, text = read_progress(workspace)
    missing = [
        (name, where)
        for name, where, _ in elsewhere
        if (current := row_status(text, name)) is None or not status_is_done(current[0])
    ]
    if as_json:
        print_json(
            {
                "file": str(path),
                "rows": [
                    {"task": r.task, "status": r.status, "note": r.note, "line": r.line} for r in table.rows
                ],
                "done_elsewhere": {name: str(where) for name, where in missing},
            }
        )
        return 0
    width = max((len(r.task) for r in table.rows), default=4)
    print(f"{path}")
    print(f"  {'Task'.ljust(width)}  Status  Notes")
    for row in table.rows:
        print(f"  {row.task.ljust(width)}  {_pad(row.status, 6)}  {row.note}".rstrip())
    for name, where in missing:
        print(f"{name}: done in {home_relative(where)}, not in this file yet (lab progress --sync writes it)")
    return 0


def _pad(text: str, width: int) -> str:
    """ljust by terminal cells: ✅ and ⬜ are wide (two cells)."""
    import unicodedata

    cells = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(0, width - cells)
