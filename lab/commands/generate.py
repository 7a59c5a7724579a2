"""`lab generate`: write ImageRepository, ImagePolicy and ImageUpdateAutomation manifests."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lab.commands._common import add_task_arg, add_workspace_arg, resolve_workspace


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "generate",
        help="write the three image automation manifests (defaults: the task's, else the course text)",
        description=(
            "Write the ImageRepository, ImagePolicy and ImageUpdateAutomation into the task's three "
            "files (the ones its checks read). An option not given is the task's (the [generate] "
            "table of its task.toml), else the course text's, shown as 'else ...' below; --api "
            "v1beta2 reproduces the course text exactly, the default v1 is what current Flux serves "
            "(the shape of `flux create ... --export`)."
        ),
    )
    parser.add_argument(
        "--out",
        metavar="DIR",
        help="write the three files into DIR instead, under the same names (default: the task's files)",
    )
    parser.add_argument("--api", choices=("v1", "v1beta2"), help="API version (default: v1)")
    parser.add_argument("--name", help="ImageRepository/ImagePolicy name (default: the task's, else nginx)")
    parser.add_argument("--namespace", help="namespace of all three (default: the task's, else flux-system)")
    parser.add_argument(
        "--image", help="image to scan, without tag (default: the task's, else library/nginx)"
    )
    parser.add_argument("--interval", help="scan interval (default: the task's, else 5m)")
    policy = parser.add_mutually_exclusive_group()
    policy.add_argument(
        "--semver", metavar="RANGE", help="semver range (default policy: the task's, else --semver 1.25.x)"
    )
    policy.add_argument("--numerical", choices=("asc", "desc"), help="numerical order policy")
    policy.add_argument("--alphabetical", choices=("asc", "desc"), help="alphabetical order policy")
    parser.add_argument(
        "--filter-pattern",
        metavar="REGEX",
        help="filterTags.pattern (Go regexp; default: the task's, left out when a policy "
        "kind other than the task's is given)",
    )
    parser.add_argument(
        "--filter-extract",
        metavar="TEMPLATE",
        help="filterTags.extract, e.g. '$version' (a group the pattern names; default: the task's, as the pattern)",
    )
    parser.add_argument(
        "--reflect-digest",
        choices=("Never", "IfNotPresent", "Always"),
        help="the policy's digestReflectionPolicy (default: the task's, else Never, not written; "
        "Always also sets its interval)",
    )
    parser.add_argument("--git-source", help="GitRepository name (default: the task's, else flux-system)")
    parser.add_argument("--branch", help="checkout branch (default: the task's, else main)")
    parser.add_argument("--push-branch", help="push branch (default: the task's, else main)")
    parser.add_argument(
        "--update-path", help="path Flux scans for markers (default: the task's, else ./apps)"
    )
    parser.add_argument("--author-name", help="commit author name (default: the task's, else Flux)")
    parser.add_argument("--author-email", help="commit author e-mail")
    parser.add_argument("--automation-name", help="ImageUpdateAutomation name")
    parser.add_argument(
        "--automation-interval", help="ImageUpdateAutomation interval (default: the task's, else 10m)"
    )
    parser.add_argument(
        "--message-template", metavar="TEXT", help="commit message template (Go text/template)"
    )
    how = parser.add_mutually_exclusive_group()
    how.add_argument(
        "--force", action="store_true", help="overwrite files that differ from the generated ones"
    )
    how.add_argument(
        "--add",
        action="store_true",
        help="append each object to its file, keeping what the file holds (one more image: --name, --image)",
    )
    parser.add_argument("--stdout", action="store_true", help="print the manifests instead of writing them")
    add_workspace_arg(parser)
    add_task_arg(parser)
    parser.set_defaults(func=run)


def _task_defaults(parser_args: argparse.Namespace, workspace: Path) -> str | None:
    """A task's `[generate]` table (task.toml) replaces the course text's defaults for the options
    not given on the command line: the generator's form is the task's (the one `workspace` practises).

    The task's tag filter (`filter_pattern`, `filter_extract`) is written for the task's policy kind
    (an extract ordered alphabetically, say): another kind given on the command line replaces the
    task's policy, filter included, unless the filter is given too; the filter is one option: either
    flag given, the task's other half is not filled in. Returns the line that says so, or None."""
    import shlex

    from lab.core.manifests.generate import POLICY_KINDS
    from lab.services.tasks import workspace_task

    generate = workspace_task(workspace, parser_args.task).meta.generate
    # One policy: a kind given on the command line replaces the task's, whichever kind that is.
    given = [kind for kind in POLICY_KINDS if getattr(parser_args, kind) is not None]
    task_kind = next((kind for kind in POLICY_KINDS if kind in generate), "semver")
    other_kind = bool(given) and given[0] != task_kind
    # The pattern and its extract are one filter: either given on the command line, the task's whole
    # filter gives way (the task's extract names the task's pattern's groups, not the learner's).
    own_filter = any(getattr(parser_args, dest, None) is not None for dest in _FILTER_OPTIONS)
    dropped: list[str] = []
    for key, value in generate.items():
        dest = key.replace("-", "_")
        if not hasattr(parser_args, dest) or (dest in POLICY_KINDS and given):
            continue
        if own_filter and dest in _FILTER_OPTIONS:
            continue
        if getattr(parser_args, dest) is None:
            if other_kind and dest in _FILTER_OPTIONS:
                dropped.append(f"{_FILTER_OPTIONS[dest]} {shlex.quote(value)}")
                continue
            setattr(parser_args, dest, value)
    if not dropped:
        return None
    return (
        f"--{given[0]} replaces the task's {task_kind} policy and its tag filter ({', '.join(dropped)}): "
        "not written; give --filter-pattern/--filter-extract to filter the tags too"
    )


#: The task's tag filter options, as the command line names them.
_FILTER_OPTIONS = {"filter_pattern": "--filter-pattern", "filter_extract": "--filter-extract"}


def run(args: argparse.Namespace) -> int:
    from lab.errors import UsageError

    if args.stdout and args.add:
        # --stdout prints the objects alone, not the files as adding would leave them.
        raise UsageError(
            "--add writes the objects into the files; --stdout prints them alone", hint="use one of them"
        )
    if args.stdout and not args.workspace:
        try:
            workspace = resolve_workspace(None)
        except Exception:  # printing needs no repository
            workspace = Path.cwd()
    else:
        workspace = resolve_workspace(args.workspace)
    note = _task_defaults(args, workspace)
    if note:
        # Beside the YAML of --stdout, not in it.
        print(note, file=sys.stderr if args.stdout else sys.stdout)

    from dataclasses import fields

    from lab.core.manifests.generate import (
        FILE_REPOSITORY,
        SEED_MESSAGE_TEMPLATE,
        GenerateOptions,
    )
    from lab.core.policy.spec import PolicySpec
    from lab.services.generate import default_api_version, generate
    from lab.services.tasks import task_automation_files, task_for_workspace

    if args.numerical:
        policy = PolicySpec("numerical", args.numerical)
    elif args.alphabetical:
        policy = PolicySpec("alphabetical", args.alphabetical)
    else:
        policy = PolicySpec("semver", "1.25.x" if args.semver is None else args.semver)
    # Every other field is the option of the same name (as task.toml's [generate] keys are).
    # An option neither given nor in the task's [generate] is the course text's (argparse's default is
    # None, so that `--name nginx` given on a task whose form says `shop` is not taken for "not given").
    defaults = GenerateOptions()
    named = {
        f.name: getattr(defaults, f.name) if getattr(args, f.name) is None else getattr(args, f.name)
        for f in fields(GenerateOptions)
        if f.name not in _NOT_AN_OPTION
    }
    opts = GenerateOptions(
        api_version=args.api or default_api_version(),
        policy=policy,
        message_template=SEED_MESSAGE_TEMPLATE if args.message_template is None else args.message_template,
        **named,
    )
    out = Path(args.out).expanduser() if args.out else None
    files = task_automation_files(task_for_workspace(workspace, args.task))
    result = generate(workspace, opts, out, force=args.force, stdout=args.stdout, files=files, add=args.add)
    if args.stdout:
        for outcome in result.files:
            text = outcome.text
            if not text.startswith("---"):
                print("---")
            print(f"# {outcome.path.name}")
            sys.stdout.write(text)
        return 0
    root = workspace.resolve()
    for outcome in result.files:
        try:
            shown = str(outcome.path.relative_to(root))
        except ValueError:
            shown = str(outcome.path)
        print(f"{outcome.status:<11} {shown}")
        if outcome.present and outcome.differs:
            print(
                f"{'':<11} (it has {outcome.present} already, unlike these options: left as it is; "
                "edit the file, or --force replaces the files)"
            )
        elif outcome.present:
            print(f"{'':<11} (it has {outcome.present} already: left as it is)")
    if result.backups:
        where = result.backups[0].parent
        try:
            where = where.relative_to(root)
        except ValueError:
            pass
        print(f"saved the previous versions in {where}")
    version = result.api_version.rpartition("/")[2]
    print(
        f"apiVersion {result.api_version}"
        + (" (deprecated; Flux 2.9 serves only v1)" if version != "v1" else "")
    )
    if version != "v1" and opts.reflect_digest != "Never":
        # The field came with image-reflector-controller v0.35; the API server prunes unknown fields.
        print(
            f"digestReflectionPolicy: {opts.reflect_digest} needs Flux 2.6 or later: "
            "the v1beta2 of Flux 2.3-2.5 has no such field and drops it"
        )
    shown_interval = _written_interval(result.texts.get(FILE_REPOSITORY, ""))
    if shown_interval and shown_interval != opts.interval:
        # v1 is written as `flux create ... --export` writes it: Go durations (5m -> 5m0s).
        print(
            f"interval {opts.interval} is written {shown_interval}, as `flux create --export` writes it; "
            "Flux reads both the same"
        )
    print(_next_step(workspace, args.task, f"{opts.namespace}:{opts.name}"))
    return 0


def _next_step(workspace: Path, task: str | None, policy: str) -> str:
    """The marker to add next, in the file the task's checks call its deployment (`[params]`)."""
    from lab.core.marker import marker_ref_for
    from lab.services.generate import current_text
    from lab.services.tasks import task_deployment, task_for_workspace

    deployment = task_deployment(task_for_workspace(workspace, task))
    if deployment is not None and deployment.endswith((".yaml", ".yml")):
        text = current_text(workspace / deployment) or ""
        ref = marker_ref_for(text, policy, deployment)
        if ref == policy:
            return f"next: mark your Deployment: lab mark {deployment} --policy {policy}"
        if ref is not None and '"$imagepolicy"' not in text:
            # A file that holds the tag alone (a kustomize images override), not marked yet.
            return f"next: mark the tag Flux should move: lab mark {deployment} --policy {ref}"
    return (
        f'next: end each image field Flux should move with # {{"$imagepolicy": "{policy}[:tag|:name|:digest]"}} '
        "(`lab lesson` says which variant fits which field)"
    )


def _written_interval(text: str) -> str | None:
    for line in text.splitlines():
        if line.strip().startswith("interval:"):
            return line.split(":", 1)[1].strip().strip("'\"")
    return None


#: GenerateOptions' fields that no option of the same name gives as it is.
_NOT_AN_OPTION = ("api_version", "policy", "message_template")
