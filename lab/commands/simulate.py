"""`lab simulate`: one reconcile of Flux's image controllers against what is pushed to origin."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lab.commands._common import (
    add_registry_config_arg,
    add_task_arg,
    add_workspace_arg,
    print_json,
    resolve_workspace,
    use_sandbox_here,
)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "simulate",
        help="run Flux's image controllers once: scan, pick a tag, commit and push like Flux",
        description=(
            "Read the automation objects pushed to origin, take tags from the registry each "
            "ImageRepository names (or --tags-file), resolve the policies, rewrite marked fields in a "
            "fresh clone, commit as the automation's author and push. No change, no commit. Without a "
            "network the task's bundled tags stand in for the registry (and the output says so)."
        ),
    )
    add_workspace_arg(parser)
    add_task_arg(parser)
    parser.add_argument("--tags-file", metavar="F", help="tags to use instead of the registry (- = stdin)")
    add_registry_config_arg(parser)
    parser.add_argument("--branch", help="branch on origin to read (default: the current branch)")
    parser.add_argument("--dry-run", action="store_true", help="show the diff and message, commit nothing")
    parser.add_argument(
        "--allow-downgrade",
        action="store_true",
        help="push even a change to an older tag than origin has when the tags came from the lab's "
        "snapshot (the registry unreachable); refused by default: the snapshot is older than origin",
    )
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from lab.services import simulate as svc
    from lab.services.tasks import workspace_task

    workspace = resolve_workspace(args.workspace)
    use_sandbox_here(workspace)
    source = svc.ProvenancedTags(
        tags_file=Path(args.tags_file) if args.tags_file else None,
        docker_config=args.registry_config,
        task=workspace_task(workspace, args.task),
    )
    results = svc.simulate(
        workspace,
        tag_source=source,
        dry_run=args.dry_run,
        branch=args.branch,
        digest_source=source.digest,
        before_push=None if args.allow_downgrade else source.guard.refuse,
    )
    failed = [r for r in results if r.error]
    if args.json:
        print_json([{**r.to_json(), "tags_from": dict(source.origins)} for r in results])
        return 1 if failed else 0
    # Where the tags came from is always said: a registry, the sandbox's, a file or the lab's snapshot.
    for image, where in source.origins.items():
        print(f"tags for {image}: {where}")
    for result in results:
        print(f"ImageUpdateAutomation {result.automation}")
        if result.error:
            print(f"  ✗ failed: {result.error}")
            continue
        for pol in result.policies:
            mark = "✔" if pol.ready else "✗"
            print(f"  {mark} ImagePolicy {pol.namespace}/{pol.name}: {pol.message}")
        if not result.changes:
            print("  repository up-to-date: no marked field changed, nothing committed")
            continue
        print()
        print(result.diff, end="")
        print()
        if result.commit_sha:
            print(result.push_summary())
        else:
            print("dry run: nothing committed")
            if not args.allow_downgrade and source.guard.downgrades(result.changes):
                print(
                    "note: an older tag than origin has, from the lab's stale snapshot: `lab simulate` "
                    "would not push it (--tags-file F with current tags, or --allow-downgrade)"
                )
        print(result.message or "", end="" if (result.message or "").endswith("\n") else "\n")
    _not_on_origin(workspace)
    if failed:
        pushed = [
            f"{r.automation} -> {r.branch} ({r.commit_sha[:7]})" for r in results if r.pushed and r.commit_sha
        ]
        done = f"; pushed anyway: {', '.join(pushed)}" if pushed else ""
        print(f"lab: {len(failed)} of {len(results)} ImageUpdateAutomations failed{done}", file=sys.stderr)
        return 1
    return 0


def _not_on_origin(workspace: Path) -> None:
    """Flux reads origin: say what of the learner's work this run did not see."""
    from lab.errors import LabError
    from lab.services.sync import origin_status

    try:
        note = origin_status(workspace, fetch=False).not_on_origin()
    except LabError:
        return
    if note:
        print(f"{note} (lab sync --commit pushes the task's files)")
