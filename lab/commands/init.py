"""`lab init DIR`: create a practice repository in the state the course is in after task 09a."""

from __future__ import annotations

import argparse
from pathlib import Path

from lab.commands._common import print_json


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "init",
        help="create a practice repository (after task 09a) with a local origin",
        description=(
            "Copy the course's starter repository into DIR, commit it on main and push it to a local "
            "bare repository that becomes the `origin` remote."
        ),
    )
    parser.add_argument("dir", metavar="DIR", help="new (or empty) directory for the practice repository")
    parser.add_argument(
        "--origin",
        metavar="PATH",
        help="where to create the bare origin repository (default: DIR-origin.git next to DIR)",
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from lab.sandbox.practice import init_practice_repo
    from lab.services.classroom import practice_files

    practice = init_practice_repo(
        Path(args.dir),
        origin=Path(args.origin) if args.origin else None,
        extra_files=practice_files(getattr(args, "task", None) or "09b"),
    )
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
    print("Next steps:")
    print(f"  cd {practice.path}")
    print("  lab generate                       # write the three image automation manifests")
    print("  lab mark apps/base/nginx/deployment.yaml --policy flux-system:nginx")
    print("  git add . && git commit -m 'Add image automation' && git push")
    print("  lab simulate                       # one reconcile of the image controllers (it says where")
    print("                                     # the tags came from: no network, the lab's snapshot)")
    print("  lab check                          # grade your repository")
    return 0
