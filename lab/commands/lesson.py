"""`lab lesson`: the task text, hints one at a time, and the pitfalls table, as plain text."""

from __future__ import annotations

import argparse

from lab.commands._common import add_task_arg, resolve_workspace
from lab.errors import UsageError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("lesson", help="print the lesson, a hint (--hint N) or the pitfalls")
    add_task_arg(parser)
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--hint",
        type=int,
        metavar="N",
        help="show hint N (hints are numbered from 1; the lesson says how many)",
    )
    group.add_argument("--pitfalls", action="store_true", help="show the common pitfalls")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from lab.services.tasks import workspace_task

    # No repository needed: inside one made by `lab init --task ID` the lesson is ID's.
    named = getattr(args, "workspace", None)
    task = workspace_task(resolve_workspace(named) if named else None, args.task)
    # Markdown's code fences (```bash) as a terminal shows commands: indented, each line whole to copy.
    from lab.core.text import indent_code_blocks

    if args.hint is not None:
        if not 1 <= args.hint <= len(task.hints):
            raise UsageError(f"--hint {args.hint}: there are hints 1 to {len(task.hints)}")
        hint = task.hints[args.hint - 1]
        print(f"Hint {args.hint} - {hint.title}\n\n{indent_code_blocks(hint.body)}")
        return 0
    if args.pitfalls:
        import shutil
        import textwrap

        width = max(40, min(100, shutil.get_terminal_size((80, 24)).columns))
        for pit in task.pitfalls:
            text = f"{pit.issue}: {pit.cause}. Fix: {pit.resolution} (check {pit.check})"
            print(
                textwrap.fill(
                    text, width=width, initial_indent="- ", subsequent_indent="  ", break_on_hyphens=False
                )
            )
        return 0
    print(indent_code_blocks(task.lesson), end="")
    return 0
