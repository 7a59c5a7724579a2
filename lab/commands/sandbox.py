"""`lab sandbox ...`: the embedded world (API server, registry, Flux controllers) with no cluster needed."""

from __future__ import annotations

import argparse
import sys

from lab.commands._common import positive, print_usage
from lab.errors import UsageError


def _add_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dir",
        metavar="D",
        help="sandbox directory (default: $XDG_DATA_HOME/fluxlab/sandbox)",
    )


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "sandbox",
        help="run the embedded sandbox: Kubernetes API, registry and Flux's controllers on this machine",
        description=(
            "A cluster with Flux, simulated on 127.0.0.1: a loopback Kubernetes API (kubectl works), an "
            "embedded registry serving the task's images (snapshots of their real tags), and controllers that apply "
            "clusters/dev from origin, scan, pick tags and push Flux's commits."
        ),
    )
    parser.set_defaults(func=lambda args: print_usage(parser))
    cmds = parser.add_subparsers(dest="sandbox_command", metavar="COMMAND")

    up = cmds.add_parser("up", help="start the sandbox (foreground until Ctrl-C, or --detach)")
    _add_dir(up)
    up.add_argument("--detach", action="store_true", help="run in the background; print the workspace path")
    up.add_argument(
        "--speed",
        type=positive,
        default=100.0,
        metavar="N",
        help="sandbox seconds per real second (default 100: a 5m interval takes 3s)",
    )
    up.add_argument(
        "--no-image-controllers",
        action="store_true",
        help="start Flux without the image controllers (the seed's first pitfall)",
    )
    up.add_argument(
        "--flux",
        choices=("2.8", "2.9"),
        default=None,
        help=(
            "the Flux world: 2.9 serves image.toolkit.fluxcd.io/v1 only; 2.8 also serves the course "
            "text's v1beta2 (deprecated). Default: what this sandbox ran last, else 2.9"
        ),
    )
    up.add_argument(
        "--task",
        metavar="ID",
        default=None,
        help="the task whose starter and images the sandbox serves (default: what it served last, else "
        "the course's current task; another task needs `lab sandbox reset --task ID`)",
    )
    up.set_defaults(func=run_up)

    down = cmds.add_parser("down", help="stop the sandbox (no process or port is left behind)")
    _add_dir(down)
    down.set_defaults(func=run_down)

    status = cmds.add_parser("status", help="is it running, where, and what the registry has published")
    _add_dir(status)
    status.add_argument("--json", action="store_true", help="machine-readable output")
    status.set_defaults(func=run_status)

    env = cmds.add_parser("env", help='print the exports for `eval "$(lab sandbox env)"`')
    _add_dir(env)
    env.set_defaults(func=run_env)

    push = cmds.add_parser(
        "push-tag",
        help="publish a new image tag, as CI would (no TAG: the next dated release of the snapshot, or "
        "for a task without dated releases the next tag its policy picks)",
    )
    _add_dir(push)
    push.add_argument(
        "tag",
        nargs="?",
        metavar="[IMAGE:]TAG",
        help="e.g. 1.25.4 (the task's first image) or ghcr.io/org/app:2.0.0 (any image the task declares)",
    )
    push.add_argument(
        "--image",
        default=None,
        help="the image to push to (default: the task's first; with no TAG and no dated releases, every "
        "image the task's policies track gets its next tag, --image only that one)",
    )
    push.set_defaults(func=run_push_tag)

    reset = cmds.add_parser(
        "reset",
        help="stop the sandbox; a new practice repo (the old one is kept under previous/) and an "
        "empty cluster at the next `up`",
    )
    _add_dir(reset)
    reset.add_argument(
        "--force",
        action="store_true",
        help="reset even with uncommitted or unpushed work (it is kept under previous/)",
    )
    reset.add_argument("--task", metavar="ID", default=None, help="start afresh with this task's starter")
    reset.set_defaults(func=run_reset)

    install = cmds.add_parser(
        "install-image-controllers",
        help="add image-reflector and image-automation controllers (flux install --components-extra)",
    )
    _add_dir(install)
    install.set_defaults(func=run_install)


def run_up(args: argparse.Namespace) -> int:
    from lab.services import sandbox as svc

    image_controllers = not args.no_image_controllers
    if args.detach:
        info = svc.start_detached(
            args.dir, speed=args.speed, image_controllers=image_controllers, flux=args.flux, task=args.task
        )
        print(info.workspace)
        print(
            f"sandbox running (pid {info.pid}, {_flux_line(info.flux)}); its registry serves "
            f"{svc.served_images(info.task or None)} (`lab sandbox push-tag` publishes newer ones).\n"
            f'Use it with: eval "$(lab sandbox env{_dir_flag(args)})"',
            file=sys.stderr,
        )
        return 0

    def ready(info: svc.SandboxInfo) -> None:
        five_minutes = 300 / args.speed
        print(f"sandbox ready: workspace {info.workspace}")
        print(f"  Kubernetes API  {info.api}  (KUBECONFIG={info.kubeconfig})")
        print(f"  registry        {info.registry}  (Docker Hub names resolve here)")
        print(f"  it serves       {svc.served_images(info.task or None)};")
        print("  `lab sandbox push-tag` publishes the next release, as CI would")
        print(f"  speed           {args.speed:g}x: a 5m interval takes {five_minutes:.3g}s")
        print(f"  Flux            {_flux_line(info.flux)}")
        if not image_controllers:
            print("  image controllers NOT installed (`lab sandbox install-image-controllers` adds them)")
        print(f'In another shell: eval "$(lab sandbox env{_dir_flag(args)})". Ctrl-C stops the sandbox.')
        sys.stdout.flush()

    svc.run_foreground(
        args.dir,
        speed=args.speed,
        image_controllers=image_controllers,
        on_ready=ready,
        flux=args.flux,
        task=args.task,
    )
    print("sandbox stopped")
    return 0


def _flux_line(flux: str) -> str:
    if flux == "2.8":
        return "Flux 2.8: image.toolkit.fluxcd.io v1 and v1beta2 (deprecated)"
    return f"Flux {flux}: image.toolkit.fluxcd.io v1 only"


def _dir_flag(args: argparse.Namespace) -> str:
    import shlex

    return f" --dir {shlex.quote(args.dir)}" if getattr(args, "dir", None) else ""


def run_down(args: argparse.Namespace) -> int:
    from lab.services import sandbox as svc

    if svc.down(args.dir):
        print("sandbox stopped")
    else:
        print(f"the sandbox in {svc.paths(args.dir).root} is not running")
    return 0


def run_status(args: argparse.Namespace) -> int:
    from lab.commands._common import print_json
    from lab.services import sandbox as svc

    data = svc.status(args.dir)
    if args.json:
        print_json(data)
        return 0 if data["running"] else 3
    if not data["running"]:
        print(f"sandbox: stopped ({data['dir']})")
        print(f"  workspace  {data['workspace']}")
        print(f"  flux       {data['flux']} (`lab sandbox up --flux 2.8|2.9` changes it)")
        print(f"  start it with `lab sandbox up{_dir_flag(args)} --detach`")
        return 3
    print(f"sandbox: running (pid {data['pid']}, speed {data['speed']:g}x)")
    print(f"  flux               {_flux_line(str(data.get('flux') or '2.9'))}")
    print(f"  workspace          {data['workspace']}")
    print(f"  Kubernetes API     {data['api']}  (KUBECONFIG={data['kubeconfig']})")
    print(f"  registry           {data['registry']}  (tags as of {data.get('as_of', '?')})")
    nxt = data.get("next_event")
    if nxt:
        print(f"  next release       {nxt['date']}: {', '.join(nxt['tags'])} ... (`lab sandbox push-tag`)")
    installed = "installed" if data.get("image_controllers") else "NOT installed"
    print(f"  image controllers  {installed}")
    for err in data.get("errors") or []:
        print(f"  controller error   {err}")
    return 0


def run_env(args: argparse.Namespace) -> int:
    from lab.services import sandbox as svc

    for line in svc.env_lines(args.dir):
        print(line)
    return 0


def _refuse_other_task(directory: str | None) -> None:
    """Run from a practice repository of another task, push-tag would publish to the sandbox's task
    (a junk tag there, and a learner waiting for a Flux commit that cannot come): refuse first."""
    from lab.errors import LabError
    from lab.services import sandbox as svc
    from lab.services.session import recorded_task_here

    own = recorded_task_here()
    info = svc.running_info(directory)
    if info is not None and info.task and own and own != info.task:
        raise LabError(
            f"the sandbox serves task {info.task}, not this repository (task {own}): nothing published",
            hint=f"`lab sandbox reset --task {own}` makes the sandbox serve it (or run push-tag outside "
            f"this repository to publish to task {info.task}); offline, `lab simulate --dry-run "
            "--tags-file -` shows what Flux would do with new tags",
        )


def run_push_tag(args: argparse.Namespace) -> int:
    from lab.services import sandbox as svc

    if args.tag is not None and not args.tag.strip():
        raise UsageError(
            "push-tag '': an empty tag", hint="give a tag (e.g. 1.25.4), or none for the next release"
        )
    _refuse_other_task(args.dir)
    result = svc.push_tag(args.dir, args.tag, args.image)
    added = result.get("added") or []
    # The image as the task declares it (ghcr.io/acme/api), not its path in the registry (acme/api).
    image = result.get("declared") or result["image"]
    if not added:
        tag = svc.split_image_tag(args.tag)[1]
        print(f"{image}:{tag} was already published; nothing new")
        return 0
    shown = ", ".join(added[:6]) + (f" and {len(added) - 6} more" if len(added) > 6 else "")
    when = f" (released {result['event']})" if result.get("event") else ""
    if result.get("picked"):
        when = " (the next tag the task's policy picks: the task has no dated releases)"
    print(f"published {image}: {shown}{when}")
    for other in result.get("also") or []:
        # The task's other images: the next tag each one's policy picks, published with the first's.
        print(f"published {other['declared']}: {', '.join(other['added'])} (the next tag its policy picks)")
    scanners = result.get("image_repositories") or []
    if scanners:
        print(
            "the ImageRepository sees it at its next scan; "
            f"`lab flux reconcile image repository {scanners[0]}` scans now"
        )
        # A pre-release or a variant (1.25.4-otel) is published too, and a semver range skips it.
        print(f"{svc.FLUX_COMMITS_WHEN}; `lab why` says why when it does not")
    else:
        print(f"no ImageRepository scans {result.get('declared') or result['image']} yet")
    return 0


def run_reset(args: argparse.Namespace) -> int:
    from lab.services import sandbox as svc

    result = svc.reset(args.dir, force=args.force, task=args.task)
    print(f"sandbox reset: fresh practice repository at {result.workspace}")
    if result.kept is not None:
        print(f"the previous repository and its origin are kept in {result.kept} (delete it when done)")
    print(f"the sandbox is stopped; start it with `lab sandbox up{_dir_flag(args)} --detach`")
    return 0


def run_install(args: argparse.Namespace) -> int:
    from lab.services import sandbox as svc

    svc.install_image_controllers(args.dir)
    print("✔ image-reflector-controller and image-automation-controller installed")
    print("the flux-system Kustomization applies clusters/dev again at its next interval")
    return 0


run = run_status
