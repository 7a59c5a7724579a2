"""`lab solve DIR [--task ID]`: apply a task's reference solution (write, commit, push)."""

from __future__ import annotations

import argparse
from pathlib import Path

from lab.commands._common import add_task_arg


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "solve",
        help="apply the reference solution to a practice repo (instructor / self-test)",
        description="Write the task's solution files, commit and push them - what a learner does.",
    )
    add_task_arg(parser)
    parser.add_argument("dir", metavar="DIR", help="the practice repository (from `lab init`)")
    parser.add_argument(
        "--api", choices=["v1", "v1beta2"], help="API version (default: what the cluster serves)"
    )
    parser.add_argument("--no-push", action="store_true", help="commit but do not push")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from lab.services.solve import solve

    api = f"image.toolkit.fluxcd.io/{args.api}" if args.api else None
    result = solve(Path(args.dir), task=args.task, api_version=api, push=not args.no_push)
    if result.commit:
        print(f'committed {result.commit[:7]} "{result.message}": {", ".join(result.files)}')
    else:
        print("nothing to commit: the solution is already in place")
    if not args.no_push:
        print(f"pushed {result.pushed_branch} to origin")
    return 0
