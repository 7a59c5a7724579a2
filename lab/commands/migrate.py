"""`lab migrate -f PATH`: image.toolkit.fluxcd.io v1beta1|v1beta2 manifests to v1, like `flux migrate -f`.

Output follows flux's logger (`►` action, `✚` per detected upgrade, `✔` success, `✗` failure) on stderr;
what flux does not say - template fields that v1 removed - is printed as `!` warnings with file:line.
"""

from __future__ import annotations

import argparse
import sys

from lab.errors import UsageError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "migrate",
        help="rewrite image.toolkit.fluxcd.io v1beta1/v1beta2 manifests to v1 in place (flux migrate -f .)",
        description=(
            "Rewrite the apiVersion of every ImageRepository, ImagePolicy and ImageUpdateAutomation on "
            "image.toolkit.fluxcd.io/v1beta1 or v1beta2 to v1, in place, changing nothing else in the file "
            "(what `flux migrate -f .` does). Commit message template fields that v1 removed (.Updated, "
            ".Changed.ImageResult) are reported with file:line: the migrated automation would stall on them."
        ),
    )
    parser.add_argument("target", nargs="?", metavar="PATH", help="file or directory (same as -f)")
    parser.add_argument("-f", "--path", dest="path", metavar="PATH", help="file or directory to migrate")
    parser.add_argument(
        "-e",
        "--extensions",
        default=".yaml,.yml",
        metavar="EXT,...",
        help="file extensions to consider (default .yaml,.yml)",
    )
    parser.add_argument("--dry-run", action="store_true", help="show the upgrades, change nothing")
    parser.add_argument("-y", "--yes", action="store_true", help="do not ask before writing")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from lab.services import migrate as svc

    path = args.path or args.target
    if args.path and args.target:
        raise UsageError("give the path once", hint="lab migrate -f PATH")
    if not path:
        raise UsageError("which manifests?", hint="lab migrate -f .   (the current directory)")
    extensions = tuple(e.strip() for e in str(args.extensions).split(",") if e.strip())
    if not extensions:
        raise UsageError("--extensions is empty", hint="--extensions .yaml,.yml")
    err = sys.stderr
    err.write("► starting migration of custom resources\n")
    plan = svc.plan(path, extensions)
    for note in plan.skipped:
        err.write(f"! {note}\n")
    for f in plan.files:
        for up in f.migration.upgrades:
            err.write(f"✚ {f.shown}:{up.line}: {up.kind} {up.old_version} -> {up.new_version}\n")
    for f in plan.files:
        for warn in f.migration.template_warnings:
            err.write(
                f"! {f.shown}:{warn.line}: spec.git.commit.messageTemplate uses {warn.field}, removed in v1: "
                f"the ImageUpdateAutomation stalls (RemovedTemplateField): {warn.message}\n"
            )
    if plan.upgrades == 0:
        err.write("✔ no custom resources found that require migration\n")
        return 0
    if args.dry_run:
        err.write("✔ dry-run mode enabled, no changes will be made\n")
        return 0
    if not args.yes and sys.stdin.isatty():
        err.write("? Are you sure you want to proceed with the above upgrades? [y/N] ")
        err.flush()
        answer = sys.stdin.readline().strip().lower()
        if answer not in ("y", "yes"):
            err.write("✗ migration cancelled, nothing was changed\n")
            return 1
    for shown in svc.apply(plan):
        err.write(f"✔ file {shown} migrated successfully\n")
    err.write("✔ custom resources migrated successfully\n")
    return 0
