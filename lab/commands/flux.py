"""`lab flux check|get|reconcile`: the flux CLI's image commands, through the kubernetes client.

They talk to whatever KUBECONFIG points at (a real cluster or the sandbox; with none, in the running
sandbox's repository, the sandbox) and print flux's formats:
tables on stdout, `✗` lines on stderr.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from lab.commands._common import add_kubeconfig_args, positive, print_usage, use_sandbox_here
from lab.errors import UsageError

KIND_CHOICES = ("repository", "policy", "update")


def _cluster_args(parser: argparse.ArgumentParser, *, all_namespaces: bool = False) -> None:
    add_kubeconfig_args(parser)
    parser.add_argument("-n", "--namespace", default="flux-system", help="namespace (default flux-system)")
    if all_namespaces:
        parser.add_argument("-A", "--all-namespaces", action="store_true", help="list across namespaces")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "flux",
        help="flux check / get image(s) / reconcile image, on a real cluster or the sandbox",
        description="The flux CLI's commands the course uses, with flux's output, over the kubernetes client.",
    )
    parser.set_defaults(func=lambda args: print_usage(parser))
    cmds = parser.add_subparsers(dest="flux_command", metavar="COMMAND")

    get = cmds.add_parser("get", help="flux get image(s) all|repository|policy|update [NAME]")
    gets = get.add_subparsers(dest="get_what", metavar="image|images")
    get.set_defaults(func=lambda args: print_usage(get))
    # flux's command is `get image`; `get images all` is how the course (and many guides) write it.
    image = gets.add_parser("image", aliases=["images"], help="all | repository | policy | update")
    kinds = image.add_subparsers(dest="kind", metavar="all|repository|policy|update")
    image.set_defaults(func=lambda args: print_usage(image))
    every = kinds.add_parser("all", help="the three image tables")
    _get_args(every)
    every.set_defaults(func=run_get_all)
    for kind, what in (
        ("repository", "ImageRepositories: NAME LAST SCAN SUSPENDED READY MESSAGE"),
        ("policy", "ImagePolicies: NAME IMAGE TAG READY MESSAGE"),
        ("update", "ImageUpdateAutomations: NAME LAST RUN SUSPENDED READY MESSAGE"),
    ):
        one = kinds.add_parser(kind, help=what)
        one.add_argument("name", nargs="?", metavar="NAME")
        _get_args(one)
        one.set_defaults(func=run_get)

    check = cmds.add_parser("check", help="controllers, CRDs and versions, as `flux check` prints them")
    check.add_argument("--pre", action="store_true", help="only run the pre-installation checks")
    _cluster_args(check)
    check.set_defaults(func=run_check)

    reconcile = cmds.add_parser("reconcile", help="flux reconcile image repository|policy|update NAME")
    recs = reconcile.add_subparsers(dest="reconcile_what", metavar="image")
    reconcile.set_defaults(func=lambda args: print_usage(reconcile))
    add_reconcile_args(recs.add_parser("image", help="annotate and wait for the controller"))


def _get_args(parser: argparse.ArgumentParser) -> None:
    """flux get's persistent flags."""
    _cluster_args(parser, all_namespaces=True)
    parser.add_argument("--no-header", action="store_true", help="skip the header when printing the results")
    parser.add_argument(
        "-w", "--watch", action="store_true", help="after listing the objects, watch for changes"
    )
    parser.add_argument(
        "--status-selector",
        metavar="TYPE=STATUS",
        help="print only objects whose condition TYPE has STATUS, e.g. ready=false",
    )
    parser.add_argument(
        "--timeout", type=positive, default=300.0, metavar="S", help="how long --watch runs (300 s, as flux)"
    )


def timeout_arg(value: str) -> float:
    """An argparse type: flux's `--timeout` (a Go duration such as 5m0s or 30s), or plain seconds."""
    from lab.core.duration import DurationError, parse_duration

    try:
        return positive(value)
    except argparse.ArgumentTypeError:
        pass
    try:
        seconds = parse_duration(value) / 1e9
    except DurationError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
    if seconds <= 0:
        raise argparse.ArgumentTypeError(f"{value} is not a positive duration")
    return seconds


def add_reconcile_args(parser: argparse.ArgumentParser) -> None:
    """KIND NAME and cluster flags of `flux reconcile image` (also `lab reconcile`)."""
    parser.add_argument("kind", choices=KIND_CHOICES)
    parser.add_argument("name", nargs="?")
    parser.add_argument(
        "--timeout",
        type=timeout_arg,
        default=300.0,
        metavar="DURATION",
        help="how long to wait, as flux's --timeout: 5m0s (default), 30s, or seconds",
    )
    _cluster_args(parser)
    parser.set_defaults(func=run_reconcile)


@contextmanager
def _client(args: argparse.Namespace) -> Iterator[Any]:
    """The cluster's client, failing at once while the cluster does not answer, as the app's reads do:
    each request to a paused sandbox cost the client's timeout, twice, on every command."""
    from lab.adapters.cluster import ClusterClient
    from lab.adapters.cluster_silence import asking

    use_sandbox_here(None, args.kubeconfig)
    with ClusterClient.from_kubeconfig(args.kubeconfig, args.context) as client, asking(client.server):
        yield client


def _kind(name: str) -> str:
    from lab.core.fluxget import image_kind

    return image_kind(name)


# --- get -----------------------------------------------------------------------------------------------


def _selector(args: argparse.Namespace) -> tuple[str, str] | None:
    from lab.core.fluxget import parse_status_selector

    if not args.status_selector:
        return None
    try:
        return parse_status_selector(args.status_selector)
    except ValueError as err:
        raise UsageError(str(err), hint="--status-selector ready=false") from None


def run_get(args: argparse.Namespace) -> int:
    from lab.core.fluxget import format_get_table

    kind = _kind(args.kind)
    selector = _selector(args)
    if args.watch:
        return _watch(args, kind, selector)
    namespace = None if args.all_namespaces else args.namespace
    with _client(args) as client:
        if args.name and not args.all_namespaces:
            obj = client.get(kind, args.name, args.namespace)
            objects = [obj] if obj else []
        else:
            objects = client.list(kind, namespace)
    text = format_get_table(
        kind,
        objects,
        args.all_namespaces,
        namespace=args.namespace,
        name=args.name,
        no_header=args.no_header,
        status_selector=selector,
    )
    if not objects or text.startswith("✗"):
        # flux logs the miss on stderr and still exits 0 (`return nil` after logger.Failuref).
        sys.stderr.write(text)
        return 0
    sys.stdout.write(text)
    return 0


def _watch(args: argparse.Namespace, kind: str, selector: tuple[str, str] | None) -> int:
    """flux get --watch: one row per watch event; the header only before the first."""
    from lab.core.fluxget import headers, render_table, status_matches, summarise

    namespace = None if args.all_namespaces else args.namespace
    first = True
    with _client(args) as client:
        for _type, obj in client.watch(kind, namespace, name=args.name, timeout=args.timeout):
            header: list[str] = []
            if first and not args.no_header:
                header = headers(kind)
                if args.all_namespaces:
                    header = ["Namespace", *header]
            rows = []
            if selector is None or status_matches(obj, selector):
                rows.append(summarise(kind, obj, all_namespaces=args.all_namespaces))
            sys.stdout.write(render_table(header, rows))
            sys.stdout.flush()
            first = False
    # flux's watch ends with its context: the global --timeout.
    sys.stderr.write("✗ timed out waiting for the condition\n")
    return 1


def run_get_all(args: argparse.Namespace) -> int:
    from lab.core.fluxget import format_get_all

    if args.watch:
        raise UsageError(
            "expected a single resource type, but found all", hint="lab flux get image policy --watch"
        )
    selector = _selector(args)
    namespace = None if args.all_namespaces else args.namespace
    by_kind: dict[str, list[dict[str, Any]] | None] = {}
    with _client(args) as client:
        if client.served_image_api() is None:
            return 0  # flux skips kinds with no CRD: nothing at all is printed
        for kind in ("ImageRepository", "ImagePolicy", "ImageUpdateAutomation"):
            by_kind[kind] = client.list(kind, namespace)
    sys.stdout.write(
        format_get_all(by_kind, args.all_namespaces, no_header=args.no_header, status_selector=selector)
    )
    return 0


# --- check ---------------------------------------------------------------------------------------------

MIN_KUBERNETES = (1, 33, 0)


def _version_tuple(text: str) -> tuple[int, ...]:
    import re

    m = re.match(r"v?(\d+)\.(\d+)\.(\d+)", text)
    return tuple(int(x) for x in m.groups()) if m else (0, 0, 0)


def run_check(args: argparse.Namespace) -> int:
    ok = True
    out = sys.stdout
    with _client(args) as client:
        out.write("► checking prerequisites\n")
        version = client.server_version()
        plain = version.lstrip("v").split("+")[0].split("-")[0]
        wanted = ">=" + ".".join(map(str, MIN_KUBERNETES)) + "-0"
        if _version_tuple(version) >= MIN_KUBERNETES:
            out.write(f"✔ Kubernetes {plain} {wanted}\n")
        else:
            ok = False
            out.write(f"✗ Kubernetes version {plain} does not match {wanted}\n")
        if args.pre:
            # flux 2.x: `os.Exit(1)` on a failed prerequisite, without a summary line.
            if ok:
                out.write("✔ prerequisites checks passed\n")
            return 0 if ok else 1
        out.write("► checking version in cluster\n")
        install = client.flux_install()
        if install is not None and install.version:
            out.write(f"✔ distribution: {install.distribution}\n")
            out.write(f"✔ bootstrapped: {'true' if install.bootstrapped else 'false'}\n")
        else:
            ok = False
            out.write("✗ no Flux installation found in the cluster\n")
        out.write("► checking controllers\n")
        for ctl in client.controllers(args.namespace):
            if ctl.ready:
                out.write(f"✔ {ctl.name}: deployment ready\n")
            else:
                ok = False
                out.write(f"✗ {ctl.name}: deployment not ready\n")
            for image in ctl.images:
                out.write(f"► {image}\n")
        out.write("► checking crds\n")
        for crd in client.flux_crds():
            out.write(f"✔ {crd}\n")
    out.write("✔ all checks passed\n" if ok else "✗ check failed\n")
    return 0 if ok else 1


# --- reconcile ---------------------------------------------------------------------------------------

# flux polls every 2 s (rootArgs.pollInterval); the lab asks more often, which changes no line it prints.
POLL_SECONDS = 0.25


def run_reconcile(args: argparse.Namespace) -> int:
    """flux2 cmd/flux/reconcile.go `reconcileCommand.run`: annotate, then poll until the controller has
    handled the request (status.lastHandledReconcileAt moved) and kstatus says Current; Stalled ends it
    with the stalled message, InProgress (Reconciling, Ready=False, an older observedGeneration) keeps
    it waiting until --timeout, which ends as Go's context does: `context deadline exceeded`."""
    from lab.core.kstatus import reconcile_progress, retried_failure

    kind = _kind(args.kind)
    ns = args.namespace
    err = sys.stderr
    if not args.name:
        err.write(f"✗ {kind} name is required\n")
        return 1
    deadline = time.monotonic() + args.timeout
    with _client(args) as client:
        obj = client.get(kind, args.name, ns)
        if obj is None:
            # the API server's NotFound, as flux prints the Get error
            err.write(f'✗ {_resource(kind)} "{args.name}" not found\n')
            return 1
        if (obj.get("spec") or {}).get("suspend") is True:
            err.write("✗ resource is suspended\n")
            return 1
        err.write(f"► annotating {kind} {args.name} in {ns} namespace\n")
        client.request_reconcile(kind, args.name, ns)
        err.write(f"✔ {kind} annotated\n")
        previous = (obj.get("status") or {}).get("lastHandledReconcileAt")
        err.write(f"◎ waiting for {kind} reconciliation\n")
        explained = False
        while True:
            obj = client.get(kind, args.name, ns) or {}
            done = reconcile_progress(kind, obj, previous or None)
            failure = None if explained or done is not None else retried_failure(obj, previous or None)
            if failure is not None:
                # Not flux's: it says nothing until the timeout, and a learner takes that for a hang.
                err.write(
                    f"  lab: Ready=False, {failure}. The controller retries it and flux reconcile "
                    f"waits for it until --timeout; Ctrl-C stops waiting.\n"
                )
                explained = True
            if done is not None:
                err.write(f"{'✔' if done.ok else '✗'} {done.line}\n")
                return 0 if done.ok else 1
            if time.monotonic() >= deadline:
                err.write("✗ context deadline exceeded\n")
                return 1
            time.sleep(min(POLL_SECONDS, max(0.0, deadline - time.monotonic())))


def _resource(kind: str) -> str:
    from lab.core.fluxget import resource_name

    return resource_name(kind)


def run(args: argparse.Namespace) -> int:
    raise UsageError("choose a flux command", hint="lab flux check | get | reconcile")
