"""`lab tags IMAGE`: list a repository's tags as image-reflector-controller stores them."""

from __future__ import annotations

import argparse
import sys

from lab.commands._common import add_exclude_arg, add_registry_config_arg, print_json, use_sandbox_here


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "tags",
        help="list an image's tags like an ImageRepository scan",
        description=(
            "Scan IMAGE (spec.image of an ImageRepository, e.g. nginx, ghcr.io/org/app, "
            "localhost:5000/app) and print the tags Flux would store, newest-looking first "
            "(descending byte order, default exclusionList applied), one per line: a tags file for "
            "`lab policy --tags-file` (a listed name that is no image tag, e.g. with control characters, "
            "is a `# not an image tag:` comment, escaped). The scan summary goes to stderr. "
            "LAB_REGISTRY_MIRROR=docker.io=HOST:PORT sends Docker Hub names to another registry."
        ),
    )
    parser.add_argument("image", metavar="IMAGE", help="repository without tag, as in spec.image")
    add_registry_config_arg(parser)
    parser.add_argument("--json", action="store_true", help="print the scan as JSON")
    parser.add_argument("--all", action="store_true", help="apply no exclusionList (show .sig tags too)")
    add_exclude_arg(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from lab.errors import RegistryError
    from lab.services import tags as svc

    use_sandbox_here()
    exclusions: list[str] | None
    if args.all:
        exclusions = None
    elif args.exclude:
        exclusions = list(args.exclude)
    else:
        exclusions = list(svc.DEFAULT_EXCLUSION)
    try:
        result = svc.scan_image(args.image, registry_config=args.registry_config, exclusion_list=exclusions)
    except RegistryError as err:
        # Offline, the tags the lab bundles for the image (as simulate and the checks use them); a
        # registry that answered no, and --json (for scripts), keep the error.
        fallback = None if args.json else svc.bundled_fallback(args.image, exclusions, err)
        if fallback is None:
            raise
        tags, note = fallback
        sys.stdout.write("".join(tag + "\n" for tag in tags))
        sys.stdout.flush()
        print(f"note: {err.message}", file=sys.stderr)
        from lab.core.tasks import LIVE_TAGS_HINT

        print(f"note: {note}; {LIVE_TAGS_HINT}", file=sys.stderr)
        return 0
    if args.json:
        print_json(svc.scan_json(args.image, result))
    else:
        from lab.core.scan import tag_list_line

        out = sys.stdout
        for tag in result.tags:
            out.write(tag_list_line(tag) + "\n")
        out.flush()
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    print(f"{result.canonical_name}: {result.message}", file=sys.stderr)
    return 0
