"""`lab classroom`: set a GitHub Classroom class up.

`lab classroom init DIR --lab-spec SPEC` makes the assignment's template repository (the practice
repository of `lab init`, with its autograding workflow pinned to SPEC); `lab classroom workflow`
prints that workflow, to add to an existing repository."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lab.commands._common import add_task_arg, check_output, write_file

SPEC_HELP = (
    "the exact lab the learners' CI installs: a git URL pinned to a commit or tag "
    "('fluxlab @ git+https://github.com/ORG/fluxlab@COMMIT'), fluxlab==X.Y.Z or a wheel URL"
)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "classroom",
        help="set up a GitHub Classroom assignment (instructor)",
        description="Make the template repository of a GitHub Classroom assignment, or print its workflow.",
    )
    actions = p.add_subparsers(dest="classroom_action", metavar="ACTION", required=True)
    init = actions.add_parser(
        "init",
        help="the assignment's template repository, its workflow pinned to --lab-spec",
        description=(
            "Create DIR like `lab init` (starter files, bare origin next to it) with "
            ".github/workflows/classroom.yml installing exactly --lab-spec. Push it to GitHub, mark it "
            "as a template repository and use it as the assignment's starter."
        ),
    )
    init.add_argument("dir", metavar="DIR", help="new (or empty) directory for the template repository")
    init.add_argument("--lab-spec", required=True, metavar="SPEC", help=SPEC_HELP)
    init.add_argument(
        "--origin", metavar="PATH", help="where to create the bare origin (default DIR-origin.git)"
    )
    add_task_arg(init)
    init.set_defaults(func=run_init)
    wf = actions.add_parser(
        "workflow",
        help="print the autograding workflow",
        description=(
            "Print .github/workflows/classroom.yml for the task, pinned to --lab-spec, else to the lab the "
            "current repository's workflow pins (a template from lab classroom init keeps its pin)."
        ),
    )
    wf.add_argument("--lab-spec", default="", metavar="SPEC", help=SPEC_HELP)
    wf.add_argument("--output", "-o", metavar="FILE", help="write it to FILE instead of stdout")
    add_task_arg(wf)
    wf.set_defaults(func=run_workflow)


def run_init(args: argparse.Namespace) -> int:
    from lab.core.report.workflow import WORKFLOW_PATH
    from lab.services.classroom import classroom_init, outside_lab_warning

    warning = outside_lab_warning(args.task)
    if warning:
        print(f"lab: warning: {warning}", file=sys.stderr)
    practice = classroom_init(
        Path(args.dir),
        lab_spec=args.lab_spec,
        task=args.task,
        origin=Path(args.origin) if args.origin else None,
    )
    print(f"Template repository: {practice.path} ({WORKFLOW_PATH} installs {args.lab_spec.strip()})")
    print(f"Origin (bare, remote 'origin'): {practice.origin}")
    print()
    print("Next: publish it and use it as the assignment's template repository:")
    print(f"  cd {practice.path}")
    print("  git remote set-url origin git@github.com:ORG/REPO.git && git push -u origin main")
    return 0


def run_workflow(args: argparse.Namespace) -> int:
    from lab.services.classroom import outside_lab_warning, repository_pin, workflow_for
    from lab.services.tasks import task_for_workspace

    # "for an existing repository": the one around the current directory, for the task it records and
    # the lab its workflow pins.
    check_output(args.output)
    task = task_for_workspace(None, args.task)
    text = workflow_for(task, args.lab_spec or repository_pin(Path.cwd()))
    warning = outside_lab_warning(task)
    if warning:
        print(f"lab: warning: {warning}", file=sys.stderr)
    if args.output:
        write_file(args.output, text)
    else:
        sys.stdout.write(text)
    return 0
