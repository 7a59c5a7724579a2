"""`lab tasks [--json]`: the course's catalogue - every task folder the lab finds, in course order."""

from __future__ import annotations

import argparse

from lab.commands._common import print_json


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "tasks",
        help="list the course's tasks (what --task accepts)",
        description=(
            "List every task folder: the lab's own tasks/ and the folders on LAB_TASKS_PATH "
            "(dir1:dir2, searched first). The current task is what every command works on without --task."
        ),
    )
    parser.add_argument("--json", action="store_true", help="print the catalogue as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import sys

    from lab.adapters.tasks import default_task_id, scan_catalogue
    from lab.errors import LabError
    from lab.services.session import gitops_root_here, lab_task_standings
    from lab.services.tasks import task_for_workspace

    current = default_task_id()
    entries, problems = scan_catalogue()
    for problem in problems:
        print(f"lab: left out: {problem}", file=sys.stderr)
    # Inside a practice repository its task is read there too; every task is read in the repositories
    # the learner made for it (`lab init`, the app), wherever the command runs.
    workspace, own_task = gitops_root_here(), None
    if workspace is not None:
        try:
            own_task = task_for_workspace(workspace)
        except LabError:  # it records a task this lab does not have: `lab check` there says so
            pass
    standing = {meta.id: stands for meta, stands in lab_task_standings(workspace, own_task)}
    if args.json:
        print_json(
            [
                {
                    "id": e.meta.id,
                    "title": e.meta.title,
                    "summary": e.meta.summary,
                    "order": e.meta.order,
                    "prerequisites": list(e.meta.prerequisites),
                    "progress_row": e.meta.progress_row,
                    "images": [i.name for i in e.meta.images],
                    "folder": str(e.folder),
                    "current": e.meta.id == current,
                    "standing": standing[e.meta.id],
                }
                for e in entries
            ]
        )
        return 1 if problems else 0
    width = max((len(e.meta.id) for e in entries), default=2)
    for e in entries:
        mark = "*" if e.meta.id == current else " "
        print(f"{mark} {e.meta.id.ljust(width)}  {standing[e.meta.id].ljust(7)}  {e.meta.title}")
        if e.meta.summary:
            print(f"  {' ' * width}  {' ' * 7}  {e.meta.summary}")
    print(f"\n* current task ({current}); choose another with --task ID")
    print(
        "done: PROGRESS.md in one of its repositories marks it done; started: one of its repositories "
        "exists (the same from any directory)"
    )
    return 1 if problems else 0
