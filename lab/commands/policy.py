"""`lab policy`: which tag would an ImagePolicy select from these tags?"""

from __future__ import annotations

import argparse
import sys

from lab.commands._common import add_exclude_arg, print_json


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "policy",
        help="evaluate an ImagePolicy against a list of tags",
        description=(
            "Apply the exclusionList and the stored order of an ImageRepository scan to the tags, then "
            "select one exactly as Flux's image-reflector-controller does (Flux 2.9 semantics). "
            "Prints the selected tag; prints why not on stderr and exits 1 if none is selected."
        ),
        epilog="example: lab policy --semver 1.25.x --tags-file tags.txt",
    )
    kind = parser.add_mutually_exclusive_group(required=True)
    kind.add_argument("--semver", metavar="RANGE", help="spec.policy.semver.range, e.g. 1.25.x or >=1.0.0")
    kind.add_argument("--numerical", metavar="asc|desc", help="spec.policy.numerical.order")
    kind.add_argument("--alphabetical", metavar="asc|desc", help="spec.policy.alphabetical.order")
    parser.add_argument("--filter-pattern", metavar="P", help="spec.filterTags.pattern (Go RE2, unanchored)")
    parser.add_argument("--filter-extract", metavar="E", help="spec.filterTags.extract, e.g. $1 or ${ts}")
    add_exclude_arg(parser)
    parser.add_argument(
        "--tags-file", required=True, metavar="F", help="one tag per line; - reads standard input"
    )
    parser.add_argument("--json", action="store_true", help="print tag, considered, dropped, reason, message")
    parser.add_argument(
        "--explain",
        action="store_true",
        help="list every stored tag with why it was selected, lost or dropped (with --json: a tags list)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from lab.core.policy import PolicySpec
    from lab.services import policy as svc

    if args.semver is not None:
        spec = PolicySpec("semver", args.semver, args.filter_pattern, args.filter_extract)
    elif args.numerical is not None:
        spec = PolicySpec("numerical", args.numerical, args.filter_pattern, args.filter_extract)
    else:
        spec = PolicySpec("alphabetical", args.alphabetical, args.filter_pattern, args.filter_extract)
    tags = svc.read_tags(args.tags_file)
    exclusions = list(args.exclude) if args.exclude else list(svc.DEFAULT_EXCLUSION)
    result = svc.evaluate(spec, tags, exclusions, with_verdicts=args.explain)
    if args.json:
        print_json(svc.outcome_json(result.outcome, result.verdicts if args.explain else None))
        return 0 if result.outcome.tag is not None else 1
    if args.explain:
        sys.stdout.write("".join(line + "\n" for line in svc.explain_lines(result)))
        sys.stdout.flush()
    if result.outcome.tag is None:
        raise svc.failure_error(spec, result)
    if not args.explain:
        sys.stdout.write(result.outcome.tag + "\n")
    return 0
