"""`lab init DIR [--task ID]`: create a practice repository from a task's starter, with a local origin."""

from __future__ import annotations

import argparse
from pathlib import Path

from lab.commands._common import add_task_arg, print_json


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "init",
        help="create a practice repository (a task's starter) with a local origin",
        description=(
            "Copy the task's starter repository into DIR, commit it on main and push it to a local "
            "bare repository that becomes the `origin` remote. The repository records its task "
            "(.fluxlab/task.json): inside it every command works on that task without --task."
        ),
    )
    add_task_arg(parser)
    parser.add_argument("dir", metavar="DIR", help="new (or empty) directory for the practice repository")
    parser.add_argument(
        "--origin",
        metavar="PATH",
        help="where to create the bare origin repository (default: DIR-origin.git next to DIR)",
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from lab.core.tasktexts import format_steps, task_steps
    from lab.services.classroom import new_practice_repo
    from lab.services.progress_record import remember_repository
    from lab.services.tasks import load_task

    task = load_task(args.task)
    dest = Path(args.dir).expanduser().resolve()
    practice = new_practice_repo(dest, origin=Path(args.origin) if args.origin else None, task=task.id)
    # The app (Home, and `lab` reopening where the learner left off) and `lab tasks` find it from now on.
    remember_repository(practice.path, task.id)
    if args.json:
        print_json(
            {
                "path": str(practice.path),
                "origin": str(practice.origin),
                "branch": practice.branch,
                "head": practice.head,
                "author": practice.author,
            }
        )
        return 0
    print(f"Practice repository: {practice.path}")
    print(f"Origin (bare, remote 'origin'): {practice.origin}")
    print(f"Branch {practice.branch} at {practice.head[:7]}, pushed, committed as {practice.author}")
    print()
    print(f"Next steps (task {task.id}: {task.title}):")
    print(f"  cd {practice.path}")
    # No --task in them: the repository records its task, and every command inside it works on it.
    for line in format_steps(task_steps(task)):
        print(line)
    return 0
