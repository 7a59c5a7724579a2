"""`lab setters`: run Flux's Setters strategy on a directory and show what it writes."""

from __future__ import annotations

import argparse
import re

from lab.commands._common import print_json
from lab.errors import UsageError

_SET = re.compile(r"^(?P<ns>[^:=/\s]+):(?P<policy>[^:=/\s]+)=(?P<image>\S+)$")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "setters",
        help="apply image policy results to $imagepolicy markers, byte for byte as Flux does",
        description=(
            "Apply the Setters strategy of Flux's image-automation-controller under PATH: every "
            '\'# {"$imagepolicy": "NS:NAME[:tag|:name|:digest]"}\' marker of the automation\'s '
            "namespace gets the policy's image, and changed files are re-serialised exactly as Flux "
            "writes them. Prints a unified diff (or the change records with --json)."
        ),
    )
    p.add_argument("path", metavar="PATH", help="the directory (or file) Flux's update.path names")
    p.add_argument(
        "--set",
        dest="sets",
        action="append",
        default=[],
        metavar="NS:NAME=IMAGE[:TAG][@DIGEST]",
        help="an ImagePolicy result, e.g. flux-system:nginx=library/nginx:1.25.3 (repeatable)",
    )
    p.add_argument("--namespace", default="flux-system", help="the ImageUpdateAutomation's namespace")
    p.add_argument("--dry-run", action="store_true", help="show the changes without writing files")
    p.add_argument("--json", action="store_true", help="print the change records as JSON")
    p.set_defaults(func=run)


def parse_set(value: str) -> tuple[str, str, str, str]:
    """`ns:name=image[:tag][@digest]` -> (key, name, tag, digest); UsageError when malformed."""
    m = _SET.match(value)
    if not m:
        raise UsageError(
            f"--set {value!r} is not NS:NAME=IMAGE[:TAG][@DIGEST]",
            hint="e.g. --set flux-system:nginx=library/nginx:1.25.3",
        )
    image = m.group("image")
    image, _, digest = image.partition("@")
    if digest and not re.match(r"^[a-z0-9]+:[0-9a-fA-F]{32,}$", digest):
        raise UsageError(
            f"--set {value!r}: digest {digest!r} is not ALGORITHM:HEX", hint="e.g. @sha256:<64 hex>"
        )
    slash = image.rfind("/")
    colon = image.rfind(":")
    if colon > slash:
        name, tag = image[:colon], image[colon + 1 :]
    else:
        name, tag = image, "latest"
    if not name or not tag:
        raise UsageError(f"--set {value!r}: empty image name or tag", hint="e.g. library/nginx:1.25.3")
    from lab.core.imagename import ImageNameError, parse_image

    try:
        parse_image(name)  # what an ImagePolicy could select: Flux never writes an invalid name
    except ImageNameError as err:
        raise UsageError(f"--set {value!r}: {err}", hint=err.hint) from None
    return f"{m.group('ns')}:{m.group('policy')}", name, tag, digest


def run(args: argparse.Namespace) -> int:
    import os
    from pathlib import Path

    from lab.adapters.git import find_git_root
    from lab.adapters.setters import apply_to_tree
    from lab.core.refs import ImageRef

    if not args.sets:
        raise UsageError("no --set given: nothing to apply", hint="add --set NS:NAME=IMAGE:TAG")
    setters: dict[str, ImageRef] = {}
    for value in args.sets:
        key, name, tag, digest = parse_set(value)
        if key in setters:
            raise UsageError(
                f"--set {key} is given twice", hint="one value per policy, as one ImagePolicy selects one"
            )
        setters[key] = ImageRef(name=name, tag=tag, digest=digest)
    path = Path(os.path.abspath(args.path))
    if not path.exists() and not path.is_symlink():
        raise UsageError(
            f"{args.path}: no such file or directory", hint="pass the directory update.path names"
        )
    # The workspace is the repository the path lies in, taken lexically; the rest is joined inside it
    # as Flux's securejoin does, so a symlinked `apps` cannot lead the rewrite out of the repository.
    root = find_git_root(path if path.is_dir() and not path.is_symlink() else path.parent)
    if root is None:
        root = path if path.is_dir() and not path.is_symlink() else path.parent
    if path.is_symlink() and not path.resolve().is_relative_to(root.resolve()):
        raise UsageError(
            f"{args.path} is a symlink to {path.resolve()}, outside the repository {root}; not followed",
            hint="Flux resolves links inside the repository only; point update.path at a real directory",
        )
    update = path.relative_to(root).as_posix() if path != root else None
    result = apply_to_tree(root, update, setters, args.namespace, dry_run=args.dry_run)
    if args.json:
        print_json(
            {
                "changes": [
                    {
                        "file": c.file,
                        "object": {
                            "apiVersion": c.object.api_version,
                            "kind": c.object.kind,
                            "name": c.object.name,
                            "namespace": c.object.namespace,
                        },
                        "setter": c.setter,
                        "old": c.old,
                        "new": c.new,
                        "line": c.line,
                    }
                    for c in result.changes
                ],
                "files": [rel for rel, _, _ in result.files],
                "skipped": [{"file": rel, "why": why} for rel, why in result.skipped],
                "written": not args.dry_run,
            }
        )
        return 0
    from lab.core.diff import unified_diff

    print(unified_diff(result.files), end="")
    for rel, why in result.skipped:
        print(f"skipped {rel}: {why}")
    verb = "would change" if args.dry_run else "changed"
    print(f"{len(result.changes)} value(s) {verb} in {len(result.files)} file(s)")
    return 0
