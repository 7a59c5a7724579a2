"""`lab sync`: bring in Flux's commits and push yours (`git pull --rebase && git push`, explained)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from lab.commands._common import (
    add_kubeconfig_args,
    add_task_arg,
    add_workspace_arg,
    print_json,
    resolve_workspace,
)

if TYPE_CHECKING:
    from lab.services.sync import ClusterSource


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "sync",
        help="fetch origin, replay your commits on Flux's (rebase), push; prints the git commands",
        description=(
            "Once Flux has pushed, a plain `git push` is rejected (non-fast-forward). `lab sync` fetches "
            "origin, rebases your commits onto it (or merges with --merge), and pushes, printing each "
            "git command. A conflict aborts the rebase and leaves everything as it was. Uncommitted "
            "changes are never touched: lab refuses, or with --stash stashes and restores them (if they "
            "clash with what came in, git writes both versions into the file and keeps the stash)."
        ),
        epilog=(
            "--status exits 0 when your branch is on origin at the same commit (nothing to pull or push; "
            "it says when Flux deploys another branch), 1 when it is not (origin has commits you lack, "
            "you have commits origin lacks, or origin has no such branch yet, even one with no commits "
            "of its own), 3 when lab sync cannot run here (no origin, a detached HEAD, a rebase or merge "
            "stopped half-way, origin could not be fetched). The branch Flux deploys is the flux-system GitRepository's: read from "
            "the cluster (--kubeconfig, $KUBECONFIG, ~/.kube/config, or the running sandbox of this "
            "repository) when it can be read, else from the task's gotk-sync.yaml; when they differ, "
            "both are said. A sync exits 0 when it did its part (nothing to do, brought in origin's "
            "commits, pushed), 1 when it stopped (refused, a conflict, your changes left in the stash)."
        ),
    )
    add_workspace_arg(parser)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--status",
        action="store_true",
        help="only fetch and show how origin and you differ (exit 0 in step, 1 not, 3 cannot sync)",
    )
    mode.add_argument("--merge", action="store_true", help="merge origin's commits instead of rebasing")
    parser.add_argument(
        "--stash", action="store_true", help="stash uncommitted changes for the sync and restore them after"
    )
    parser.add_argument(
        "--commit",
        action="store_true",
        help="first commit the task's changed files (manifests, marker, PROGRESS.md, quiz record) "
        "with a message that says what they are",
    )
    parser.add_argument(
        "--allow-delete",
        action="store_true",
        help="with --commit: also commit the deletion of a task file its checks need (refused without: "
        "Flux would prune what it declared)",
    )
    parser.add_argument(
        "--allow-invalid",
        action="store_true",
        help="with --commit: push even when the offline checks find problems Flux refuses or ignores in "
        "the files about to be pushed (refused without; each is printed), to see how Flux reacts",
    )
    add_task_arg(parser)
    parser.add_argument("--no-push", action="store_true", help="integrate origin's commits but do not push")
    parser.add_argument("--json", action="store_true", help="machine-readable result")
    add_kubeconfig_args(parser)
    parser.set_defaults(func=run)


def _commit_json(commits: list[object]) -> list[dict[str, str]]:
    from lab.adapters.git import CommitInfo

    return [
        {"sha": c.sha, "author": c.author, "subject": c.subject} for c in commits if isinstance(c, CommitInfo)
    ]


def run(args: argparse.Namespace) -> int:
    from lab.services.sync import workspace_cluster

    workspace = resolve_workspace(getattr(args, "workspace", None))
    cluster = workspace_cluster(workspace, args.kubeconfig, args.context)
    try:
        return _run(args, workspace, cluster)
    finally:
        if cluster is not None and cluster.failure is not None and (args.kubeconfig or args.context):
            # Asked for by name: its failure is said (another cluster's, or none, is the quiet default).
            print(
                f"lab: note: {cluster.where} could not be read ({cluster.failure.message}); the branch "
                "Flux deploys is the sync file's",
                file=sys.stderr,
            )


def _run(args: argparse.Namespace, workspace: Path, cluster: ClusterSource | None) -> int:
    from lab.errors import UsageError
    from lab.services.sync import Strategy, origin_status, push_work, refusal_lines, sync

    if args.status:
        status = origin_status(workspace, task_id=args.task, cluster=cluster)
        if args.json:
            flux = status.flux
            print_json(
                {
                    "branch": status.branch,
                    "head": status.head,
                    "origin": status.remote_head,
                    "ahead": _commit_json(list(status.ahead)),
                    "behind": _commit_json(list(status.behind)),
                    "dirty": status.dirty,
                    "flux_branch": {
                        "branch": status.watched,
                        "from": flux.source,
                        "file": flux.file,
                        "file_branch": flux.file_branch,
                        "cluster": flux.cluster,
                        "cluster_branch": flux.cluster_branch,
                    },
                    "summary": status.summary(),
                }
            )
        else:
            print(status.summary())
            for line in status.commit_lines():
                print(f"  {line}")
        return status.status_code()
    if args.allow_delete and not args.commit:
        raise UsageError("--allow-delete only applies to --commit", hint="lab sync --commit --allow-delete")
    if args.allow_invalid and not args.commit:
        raise UsageError("--allow-invalid only applies to --commit", hint="lab sync --commit --allow-invalid")
    strategy: Strategy = "merge" if args.merge else "rebase"
    commit_commands: list[str] = []
    problems: list[str] = []
    notes: list[str] = []
    if args.commit:
        # The app's `p` in a shell: one implementation, the same refusals before anything is committed.
        work = push_work(
            workspace,
            args.task,
            strategy=strategy,
            stash=args.stash,
            allow_delete=args.allow_delete,
            allow_invalid=args.allow_invalid,
            push=not args.no_push,
            cluster=cluster,
        )
        result = work.sync
        problems, notes = work.problems, work.notes
        if work.commit is not None:
            commit_commands = work.commit.commands
            if not args.json:
                print("\n".join(f"$ {c}" for c in commit_commands))
    else:
        result = sync(
            workspace,
            strategy=strategy,
            stash=args.stash,
            push=not args.no_push,
            task_id=args.task,
            cluster=cluster,
        )
    if args.json:
        print_json(
            {
                "outcome": result.outcome,
                "branch": result.branch,
                "strategy": result.strategy,
                "commands": [*commit_commands, *result.commands],
                "steps": result.steps,
                "integrated": _commit_json(list(result.integrated)),
                "pushed": _commit_json(list(result.pushed)),
                "conflict": None
                if result.conflict is None
                else {
                    "files": result.conflict.files,
                    "explain": result.conflict.explain(),
                },
                "stashed": result.stashed,
                "stash_kept": result.stash_kept,
                "message": result.message,
                "not_deployed": result.not_deployed,
                "flux_note": result.flux_note,
                "problems": problems,
                "notes": notes,
            }
        )
    elif result.outcome == "refused" and not result.commands:
        lines = refusal_lines(result.message, problems) if problems else [result.message]
        print(f"lab: cannot sync: {lines[0]}", *lines[1:], sep="\n", file=sys.stderr)
    else:
        for problem in problems:
            # --allow-invalid: pushed as asked; each problem is still said, before the push's report.
            print(f"lab: warning: {problem}", file=sys.stderr)
        print(result.report())
        for note in notes:
            print(f"lab: note: {note}", file=sys.stderr)
    return 0 if result.ok else 1
