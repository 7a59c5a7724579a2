"""`lab mark FILE --policy NS:NAME`: put the image policy marker on a container's image line."""

from __future__ import annotations

import argparse

from lab.commands._common import add_workspace_arg, resolve_workspace


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "mark",
        help='add # {"$imagepolicy": "NS:NAME[:tag|:name|:digest]"} to an image field (idempotent)',
        description=(
            "Append the image policy marker to the image: line of a container (--policy NS:NAME), or to "
            "the field that holds one part of the image (--policy NS:NAME:tag, :name or :digest: a "
            "kustomize images[] entry's newTag, newName or digest, or Helm values tag:, repository:, "
            "digest:), replacing any comment on that line. Nothing else in the file changes; running it "
            "twice changes nothing."
        ),
    )
    parser.add_argument("file", metavar="FILE", help="the manifest, e.g. apps/base/nginx/deployment.yaml")
    parser.add_argument(
        "--policy",
        required=True,
        metavar="NS:NAME[:tag|:name|:digest]",
        help="the ImagePolicy, e.g. flux-system:nginx; with :tag (:name, :digest) only that part is written",
    )
    parser.add_argument("--container", metavar="NAME", help="which container, when there are several")
    add_workspace_arg(parser)
    parser.set_defaults(func=run)


def _workspace_for(file: str, explicit: str | None) -> object:
    import os
    from pathlib import Path

    if explicit:
        return resolve_workspace(explicit)
    # Walked up as written, never through a symlink: `apps` linked to a folder outside the repository
    # must leave the repository the workspace (the file then lies outside it and is refused), not make
    # the link's target a workspace of its own.
    start = Path(os.path.abspath(Path.cwd() / Path(file).expanduser())).parent
    for candidate in (start, *start.parents):
        if (candidate / ".git").exists():
            return candidate
    # Marking a file needs no repository: outside one, the file's own folder is the workspace.
    return start


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from lab.core.marker import moved_text, split_lines
    from lab.services.mark import mark_file

    workspace = _workspace_for(args.file, args.workspace)
    assert isinstance(workspace, Path)
    done = mark_file(workspace, Path(args.file).expanduser(), args.policy, container=args.container)
    result = done.result
    # The file's own repository is the workspace; from another folder its workspace path would read as
    # a file of the current repository (`../sol/apps/x.yaml` as `apps/x.yaml`): name it as given there.
    here = Path.cwd().resolve().is_relative_to(workspace.resolve())
    where = f"{done.display if here else args.file}:{result.line}"
    line = split_lines(result.text)[result.line - 1].strip()
    what = f"container {result.container}" if result.container else result.target
    if result.changed:
        print(f"marked {where} ({what}): {line}")
        if result.moved_from or result.taken_from:
            print(moved_text(result.moved_from, result.taken_from))
        if result.replaced_comment:
            print(f"replaced the comment that was there: {result.replaced_comment}")
    else:
        print(f"already marked {where} ({what}); nothing changed")
    for warning in done.warnings:
        print(f"warning: {warning}")
    return 0
