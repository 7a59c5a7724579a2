"""`lab why`: at which link of Flux's chain nothing happened, and why (controllers -> scan -> policy ->
automation -> markers -> path -> push -> origin)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lab.commands._common import add_kubeconfig_args, add_workspace_arg, print_json, resolve_workspace


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "why",
        help="why didn't Flux do anything? walk the chain and name the link that broke",
        description=(
            "Walk Flux's image automation chain for the repository - controllers, scan, policy, automation, "
            "markers, path, push, origin - and say at which link nothing happened and why, with the evidence "
            "(object status, file:line, git state). With a cluster (KUBECONFIG, --kubeconfig) or the running "
            "sandbox it reads live status; otherwise it reasons from the repository and the registry's tags "
            "(--offline: the bundled tag list, no network)."
        ),
    )
    add_workspace_arg(parser)
    parser.add_argument("--offline", action="store_true", help="no cluster, no network: bundled tags only")
    parser.add_argument("--tags-file", metavar="F", help="the registry's tags, one per line")
    add_kubeconfig_args(parser)
    parser.add_argument("--json", action="store_true", help="print the links as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from lab.core.why import render
    from lab.services import why

    workspace = resolve_workspace(getattr(args, "workspace", None))
    report = why.explain(
        workspace,
        offline=args.offline,
        tags_file=Path(args.tags_file).expanduser() if args.tags_file else None,
        kubeconfig=args.kubeconfig,
        context=args.context,
    )
    if args.json:
        print_json(why.report_json(report))
    else:
        sys.stdout.write(render(report))
    return 1 if report.broken is not None else 0
