"""Cluster checks: the image controllers run (`cluster.controllers`) and the learner's three objects are
Ready in the cluster (`cluster.image-repository`, `cluster.image-policy`, `cluster.image-update`), read
through `lab.adapters.cluster`. An unreachable or forbidding API is `error`; objects Flux has not
reconciled yet are `pending` (so `--watch` waits for them); a Ready=False verdict is `fail`."""

from __future__ import annotations

from typing import Any

from lab.checks import check
from lab.checks.context import (
    CheckContext,
    automation_files,
)
from lab.checks.manifests import automation_set
from lab.core.checks.model import Evidence, Outcome
from lab.core.manifests.models import FluxObject, ImagePolicy, ImageRepository, ImageUpdateAutomation
from lab.errors import ClusterError

IMAGE_CONTROLLERS = ("image-reflector-controller", "image-automation-controller")
INSTALL_HINT = "flux install --components-extra=image-reflector-controller,image-automation-controller"
# Ready=False reasons that only mean "still working on it".
PROGRESS_REASONS = frozenset({"Progressing", "ProgressingWithRetry", "DependencyNotReady", "Reconciling"})
RECONCILE_HINT = {
    "ImageRepository": "flux reconcile image repository {name} -n {ns}",
    "ImagePolicy": "flux reconcile image policy {name} -n {ns}",
    "ImageUpdateAutomation": "flux reconcile image update {name} -n {ns}",
}


def client_for(ctx: CheckContext) -> Any:
    """The run's cluster connection (closed when the run ends). Raises ClusterError."""

    def compute() -> Any:
        from lab.adapters.cluster import ClusterClient

        client = ClusterClient.from_kubeconfig(
            ctx.settings.get("kubeconfig"), ctx.settings.get("kube_context")
        )
        ctx.on_close(client.close)
        return client

    return ctx.cached("cluster:client", compute)


def _errored(err: ClusterError) -> Outcome:
    return Outcome.errored(f"could not check: {err.message}", hint=err.hint or "check KUBECONFIG")


@check("cluster.controllers")
def cluster_controllers(ctx: CheckContext) -> Outcome:
    try:
        client = client_for(ctx)
        served = client.served_image_api_versions()
        controllers = {c.name: c for c in client.controllers()} if served else {}
    except ClusterError as err:
        return _errored(err)
    if not served:
        return Outcome.failed(
            "image.toolkit.fluxcd.io is not served: the image controllers are not installed (F1)",
            hint=f"bootstrap or install with --components-extra: {INSTALL_HINT}",
        )
    missing = [name for name in IMAGE_CONTROLLERS if name not in controllers]
    if missing:
        return Outcome.failed(
            f"no {' or '.join(missing)} Deployment in flux-system (F1)",
            hint=INSTALL_HINT,
        )
    evidence = [Evidence("deployment", f"flux-system/{n}", controllers[n].message) for n in IMAGE_CONTROLLERS]
    waiting = [n for n in IMAGE_CONTROLLERS if not controllers[n].ready]
    if waiting:
        return Outcome.pending(
            f"{', '.join(f'{n}: {controllers[n].message}' for n in waiting)}",
            hint="kubectl -n flux-system get deployments; wait for the pods to start",
            evidence=evidence,
        )
    return Outcome.passed(
        f"{' and '.join(IMAGE_CONTROLLERS)} ready; serving {', '.join(served)}", evidence=evidence
    )


def _learner_object(ctx: CheckContext, kind: type[FluxObject]) -> FluxObject | None:
    aset = automation_set(ctx)
    return next(
        (o for o in aset.all_objects() if isinstance(o, kind) and o.file in automation_files(ctx)), None
    )


def _judge(
    ctx: CheckContext, kind_name: str, kind: type[FluxObject]
) -> tuple[Outcome | None, dict[str, Any]]:
    """The common verdict on one object; (None, obj) when it is Ready and the caller adds detail."""
    from lab.core.fluxget import ready_condition

    mine = _learner_object(ctx, kind)
    if mine is None:
        return Outcome.failed(f"no {kind_name} in clusters/dev/image-automation/ to look for"), {}
    ns, name = mine.namespace or "flux-system", mine.name
    try:
        obj = client_for(ctx).get(kind_name, name, ns)
    except ClusterError as err:
        return _errored(err), {}
    ref = f"{kind_name} {ns}/{name}"
    reconcile = RECONCILE_HINT[kind_name].format(name=name, ns=ns)
    if obj is None:
        return (
            Outcome.pending(
                f"{ref} does not exist in the cluster yet",
                hint="push your commit, then `flux reconcile kustomization flux-system --with-source` "
                "(or wait for its interval)",
            ),
            {},
        )
    meta, spec, status = obj.get("metadata") or {}, obj.get("spec") or {}, obj.get("status") or {}
    cond = ready_condition(obj)
    evidence = [
        Evidence(
            "object",
            ref,
            f"Ready={cond.status} {cond.reason}: {cond.message}" if cond else "no Ready condition",
        )
    ]
    if spec.get("suspend") is True:
        return Outcome.failed(
            f"{ref} is suspended", hint=f"flux resume {reconcile.split(' ', 2)[2]}", evidence=evidence
        ), obj
    generation, observed = meta.get("generation"), status.get("observedGeneration")
    behind = isinstance(generation, int) and isinstance(observed, int) and observed < generation
    if cond is None or behind or cond.status == "Unknown":
        why = (
            f"observedGeneration {observed} < generation {generation}"
            if behind
            else (cond.message if cond else "no Ready condition yet")
        )
        return Outcome.pending(f"{ref} not reconciled yet: {why}", hint=reconcile, evidence=evidence), obj
    if cond.status != "True":
        if cond.reason in PROGRESS_REASONS:
            return Outcome.pending(
                f"{ref} not ready yet: {cond.reason}: {cond.message}", hint=reconcile, evidence=evidence
            ), obj
        return Outcome.failed(
            f"{ref} is not Ready: {cond.reason}: {cond.message}",
            file=mine.file,
            line=mine.line,
            hint=f"kubectl describe {kind_name.lower()} {name} -n {ns}; fix the cause, then {reconcile}",
            evidence=evidence,
        ), obj
    return None, obj


@check("cluster.image-repository")
def cluster_image_repository(ctx: CheckContext) -> Outcome:
    verdict, obj = _judge(ctx, "ImageRepository", ImageRepository)
    if verdict is not None:
        return verdict
    scan = (obj.get("status") or {}).get("lastScanResult") or {}
    count = scan.get("tagCount")
    message = ((obj.get("status") or {}).get("conditions") or [{}])[0].get("message", "")
    name = (obj.get("metadata") or {}).get("name", "")
    if count == 0:
        return Outcome.failed(
            f"ImageRepository {name} scanned but found no tags",
            hint="use the full repository path (library/nginx) and check spec.exclusionList",
        )
    return Outcome.passed(f"ImageRepository {name} Ready: {message}".rstrip(": "))


@check("cluster.image-policy")
def cluster_image_policy(ctx: CheckContext) -> Outcome:
    verdict, obj = _judge(ctx, "ImagePolicy", ImagePolicy)
    if verdict is not None:
        return verdict
    status = obj.get("status") or {}
    latest = status.get("latestRef") or {}
    image = f"{latest.get('name')}:{latest.get('tag')}" if latest.get("tag") else status.get("latestImage")
    name = (obj.get("metadata") or {}).get("name", "")
    if not image:
        return Outcome.pending(f"ImagePolicy {name} is Ready but reports no latest image yet")
    return Outcome.passed(f"ImagePolicy {name} selects {image}")


@check("cluster.image-update")
def cluster_image_update(ctx: CheckContext) -> Outcome:
    verdict, obj = _judge(ctx, "ImageUpdateAutomation", ImageUpdateAutomation)
    if verdict is not None:
        return verdict
    status = obj.get("status") or {}
    name = (obj.get("metadata") or {}).get("name", "")
    pushed = status.get("lastPushCommit")
    detail = f"last push {str(pushed)[:7]}" if pushed else "no push yet"
    return Outcome.passed(f"ImageUpdateAutomation {name} Ready ({detail})")
