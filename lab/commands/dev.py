"""`lab dev check [--task ID]`: for course authors, prove every task folder works (see CONTRIBUTING.md)."""

from __future__ import annotations

import argparse
import sys

from lab.commands._common import print_json


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("dev", help="tools for course authors (lab dev check)")
    dev = parser.add_subparsers(dest="dev_command", metavar="COMMAND", required=True)
    check = dev.add_parser(
        "check",
        help="prove the tasks work: files parse, the starter fails, the solution passes offline",
        description=(
            "For each task (default: every task, LAB_TASKS_PATH included): task.toml, lesson, hints, "
            "pitfalls, quiz and checks.toml parse and render; quiz answers are valid; every check names "
            "a function; the starter fails its checks and the solution passes every offline check."
        ),
    )
    check.add_argument("--task", metavar="ID", action="append", help="only this task (repeatable)")
    check.add_argument("--json", action="store_true", help="print the findings as JSON")
    check.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from lab.services.devcheck import TaskReport, dev_check

    def show(report: TaskReport) -> None:
        if args.json:
            return
        print(f"{'✔' if report.ok else '✗'} {report.task}")
        for f in report.findings:
            print(f"  {'✔' if f.ok else '✗'} {f.step}: {f.detail}")
        sys.stdout.flush()

    reports = dev_check(args.task, on_task=show)
    if args.json:
        print_json([r.to_json() for r in reports])
    bad = [r.task for r in reports if not r.ok]
    if bad and not args.json:
        print(f"lab: {len(bad)} of {len(reports)} tasks fail: {', '.join(bad)}", file=sys.stderr)
    return 1 if bad else 0
