"""`lab check`: grade the workspace. Exit 0 nothing failed, 1 a check failed, 3 something could not be
checked or is pending, 2 usage error (`--format classroom` always exits 0 so the reporter step runs)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from lab.commands._common import (
    add_offline_args,
    add_task_arg,
    add_workspace_arg,
    check_output,
    positive,
    require_task,
    resolve_workspace,
    use_sandbox_here,
    write_report,
    write_trusted,
)
from lab.core.report import FORMATS


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "check",
        help="grade your repository for the current task (--task ID for another)",
        description=(
            "Run the task's checks and report pass/fail/error/pending/skipped for each. "
            "Exit 0 when nothing failed, 1 when a check failed, 3 when something could not be "
            "checked or is pending, 2 for usage errors."
        ),
        epilog=(
            "--format github prints the Classroom points notice and annotations, appends the step "
            "summary to $GITHUB_STEP_SUMMARY and the reporter result to $GITHUB_OUTPUT when set. "
            "--format classroom writes one <runner>=<base64 result> line per check for "
            "autograding-grading-reporter (to $GITHUB_OUTPUT when set) and exits 0."
        ),
    )
    add_workspace_arg(p)
    add_task_arg(p)
    p.add_argument("--format", "-f", choices=FORMATS, default="text", help="output format (default text)")
    add_offline_args(p)
    p.add_argument(
        "--only", action="append", metavar="ID", help="run only this check and its prerequisites (repeatable)"
    )
    p.add_argument(
        "--watch", action="store_true", help="re-run pending registry/cluster checks until settled"
    )
    p.add_argument(
        "--watch-timeout", type=positive, default=300.0, metavar="S", help="give up watching after S seconds"
    )
    p.add_argument(
        "--update-progress",
        action="store_true",
        help="mark the task done in PROGRESS.md once every other check passes (not committed)",
    )
    p.add_argument(
        "--output", "-o", metavar="FILE", help="write the report to FILE (github: the step summary)"
    )
    p.add_argument(
        "--verbose",
        "-v",
        action="store_true",
        help="text: under each check that did not pass, list every problem it found, not only the first",
    )
    p.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="colour the text report (auto: on a terminal unless NO_COLOR is set)",
    )
    p.set_defaults(func=run)


def _use_color(choice: str, stream: object) -> bool:
    if choice != "auto":
        return choice == "always"
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def _append(path: str, text: str) -> None:
    """Append to a file GitHub names ($GITHUB_OUTPUT, $GITHUB_STEP_SUMMARY). One that cannot be written
    is a warning: the report on stdout and the exit status still count."""
    try:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as err:
        print(f"lab: warning: cannot append to {path}: {err.strerror or err}", file=sys.stderr)


def _progress(results: tuple[object, ...]) -> None:
    from lab.core.checks.runner import unsettled

    waiting = sorted(unsettled(results))  # type: ignore[arg-type]
    if waiting:
        print(f"lab: waiting for {', '.join(waiting)}", file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    from lab.core.report import render
    from lab.services.check import run_checks, run_ci_checks

    workspace = resolve_workspace(getattr(args, "workspace", None), repository=True)
    require_task(args.task)
    tags_file = Path(args.tags_file).expanduser() if args.tags_file else None
    check_output(args.output)
    if not args.offline:
        use_sandbox_here(workspace)
    note = None
    if _in_ci(args):
        report, note = run_ci_checks(
            workspace, task=args.task, offline=args.offline, only=args.only, tags_file=tags_file
        )
    else:
        report = run_checks(
            workspace,
            task=args.task,
            offline=args.offline,
            only=args.only,
            tags_file=tags_file,
            watch=args.watch,
            watch_timeout_s=args.watch_timeout,
            on_round=_progress if args.watch else None,
            update_progress=args.update_progress,
        )
    if report.extra.get("progress_updated"):
        print(
            f"lab: marked task {_row(report.task)} done in "
            f"{report.extra['progress_updated']} (not committed: "
            "git add PROGRESS.md && git commit && git push)",
            file=sys.stderr,
        )
    fmt = args.format
    if note is not None and note.text and fmt == "github":
        from lab.core.report.github import command

        kind = "warning" if note.warning else "notice"
        sys.stdout.write(command(kind, note.text, title=note.title or "Not the branch Flux deploys") + "\n")
    elif note is not None and note.text:
        print(f"lab: {note.text}", file=sys.stderr)
    if fmt in ("github", "classroom"):
        # Only these formats need it (base64, hashlib, html, json: start-up time for the others).
        from lab.core.report.github import classroom_output, render_annotations, render_summary
    if fmt == "github":
        points = os.environ.get("LAB_POINTS_NOTICE", "1") != "0"
        sys.stdout.write(render_annotations(report, points=points))
        summary = render_summary(report)
        if os.environ.get("GITHUB_STEP_SUMMARY"):
            _append(os.environ["GITHUB_STEP_SUMMARY"], summary)
        if os.environ.get("GITHUB_OUTPUT"):
            _append(os.environ["GITHUB_OUTPUT"], classroom_output(report))
        if args.output:
            write_report(args.output, summary)
        return report.exit_code()
    if fmt == "classroom":
        line = classroom_output(report)
        sys.stdout.write(render(report, "text"))
        if args.output:
            write_report(args.output, line)
        elif os.environ.get("GITHUB_OUTPUT"):
            _append(os.environ["GITHUB_OUTPUT"], line)
        else:
            sys.stdout.write(line)
        return 0
    color = fmt == "text" and not args.output and _use_color(args.color, sys.stdout)
    if fmt == "text" and args.color == "always":
        color = True
    text = render(report, fmt, color=color, verbose=args.verbose)
    if args.output:
        write_report(args.output, text)
    elif color:
        write_trusted(text)  # the report's learner text is escaped by the check model already
    else:
        sys.stdout.write(text)
    return report.exit_code()


def _in_ci(args: argparse.Namespace) -> bool:
    """A CI run: GitHub Actions, or a format only CI reads. It grades what Flux deploys
    (`run_ci_checks`); `--watch` and `--update-progress` are the learner's, on their working tree."""
    if args.watch or args.update_progress:
        return False
    return os.environ.get("GITHUB_ACTIONS") == "true" or args.format in ("github", "classroom")


def _row(task: str) -> str:
    from lab.services.tasks import load_task

    return load_task(task).meta.progress_row
