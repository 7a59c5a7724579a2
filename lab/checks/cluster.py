"""Cluster checks: the image controllers run (`cluster.controllers`) and the learner's three objects are
Ready in the cluster (`cluster.image-repository`, `cluster.image-policy`, `cluster.image-update`), read
through `lab.adapters.cluster`. An unreachable or forbidding API is `error`; objects Flux has not
reconciled yet are `pending` (so `--watch` waits for them); a Ready=False verdict is `fail`.

A cluster only counts for the workspace it syncs: its flux-system GitRepository must name the
workspace's origin (URL and branch; ssh, scp-like and https forms of one forge path are the same
repository). A local origin cannot be a GitRepository URL (Flux accepts http, https and ssh only), so
for it the cluster's fetched revision must be on origin's branch (the sandbox serves the local origin
in place of the URL in gotk-sync.yaml). When they differ the cluster checks are `skipped`, naming both,
and count nothing: another repository's cluster must never credit this one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from lab.checks import check
from lab.checks.context import (
    CheckContext,
    automation_dir,
    automation_files,
    task_images,
)
from lab.checks.manifests import automation_set
from lab.core.checks.model import Evidence, Outcome, Status
from lab.core.fluxsource import fix_for_message, repo_key, synced_revision
from lab.core.imagename import spelling_hint
from lab.core.manifests.models import (
    IMAGE_CONTROLLERS,
    FluxObject,
    ImagePolicy,
    ImageRepository,
    ImageUpdateAutomation,
)
from lab.errors import ClusterError, GitError, LabError

if TYPE_CHECKING:
    from lab.checks.gitrepo import Origin

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

        try:
            client = ClusterClient.from_kubeconfig(
                ctx.settings.get("kubeconfig"), ctx.settings.get("kube_context")
            )
        except ClusterError as err:
            # Kept too: each cluster check asking again would run the kubeconfig's credential program again.
            return err
        ctx.on_close(client.close)
        return client

    found = ctx.cached("cluster:client", compute)
    if isinstance(found, ClusterError):
        raise found
    return found


SYNC_NAME = "flux-system"


def source_mismatch(ctx: CheckContext) -> Outcome | None:
    """`skipped` (naming both) when the cluster syncs another repository than the workspace's origin;
    None when it syncs this one, or when that cannot be told (no origin, an unreachable cluster: the
    checks report those; no flux-system GitRepository: nothing names a repository)."""

    def compute() -> Outcome | None:
        from lab.checks.gitrepo import fetched_origin

        try:
            origin = fetched_origin(ctx)
            origin_url = origin.ws.remote_url("origin")
        except LabError:
            return None  # git.pushed explains a workspace without an origin
        branch = origin.branch
        try:
            obj = client_for(ctx).get("GitRepository", SYNC_NAME, "flux-system")
        except ClusterError:
            return None  # cluster.controllers reports the unreachable cluster
        mine = f"your origin is {origin_url} (branch {branch})"
        hint = (
            "point KUBECONFIG at the cluster that syncs your repository, or bootstrap Flux with your "
            "origin's URL and branch"
        )
        if obj is None:
            # Not bootstrapped: nothing says which repository the cluster follows; the object checks
            # still look for this workspace's own objects by name.
            return None
        spec = obj.get("spec") or {}
        url = str(spec.get("url") or "")
        ref = spec.get("ref") or {}
        their_branch = str(ref.get("branch") or "") if isinstance(ref, dict) else ""
        theirs = f"another repository's cluster: GitRepository {SYNC_NAME} syncs {url} (branch {their_branch or '-'})"
        evidence = [Evidence("object", f"GitRepository flux-system/{SYNC_NAME}", f"{url} {their_branch}")]
        mine_key, their_key = repo_key(origin_url), repo_key(url)
        if mine_key is not None:
            if mine_key == their_key and their_branch == branch:
                return None
            return Outcome.make(Status.SKIPPED, f"{theirs}; {mine}", hint=hint, evidence=evidence)
        synced = synced_revision(obj)
        if synced is None:
            return None  # not fetched yet: the objects are not there either, so nothing is credited
        sync_branch, sha = synced
        if sync_branch == branch and (_on_origin(origin, sha) or _on_origin(_refetched(origin), sha)):
            return None
        return Outcome.make(
            Status.SKIPPED,
            f"{theirs} at {sync_branch}@{sha[:7]}, which is not on your origin {origin_url} (branch {branch})",
            hint=hint,
            evidence=evidence,
        )

    return ctx.cached("cluster:source", compute)


def _on_origin(origin: Origin | None, sha: str) -> bool:
    return (
        origin is not None
        and origin.sha is not None
        and sha in {c.sha for c in origin.ws.log(origin.ref, n=500)}
    )


def _refetched(origin: Origin) -> Origin | None:
    """Origin fetched again, None when it cannot be. The run fetched origin when it began; Flux may have
    pushed since (the sandbox's automation commits seconds after a new tag, and source-controller
    fetches it at once), and the cluster then runs a commit this run has not seen, on this very origin."""
    if not origin.fetched:
        return None
    try:
        origin.ws.fetch("origin")
    except GitError:
        return None
    return replace(origin, sha=origin.ws.remote_sha(origin.branch))


def _errored(err: ClusterError) -> Outcome:
    return Outcome.errored(f"could not check: {err.message}", hint=err.hint or "check KUBECONFIG")


@check("cluster.controllers")
def cluster_controllers(ctx: CheckContext) -> Outcome:
    skipped = source_mismatch(ctx)
    if skipped is not None:
        return skipped
    try:
        client = client_for(ctx)
        served = client.served_image_api_versions()
        controllers = {c.name: c for c in client.controllers()} if served else {}
    except ClusterError as err:
        return _errored(err)
    if not served:
        return Outcome.failed(
            "image.toolkit.fluxcd.io is not served: the image controllers are not installed",
            hint=f"bootstrap or install with --components-extra: {INSTALL_HINT}",
        )
    missing = [name for name in IMAGE_CONTROLLERS if name not in controllers]
    if missing:
        return Outcome.failed(
            f"no {' or '.join(missing)} Deployment in flux-system",
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
    """The task's object of `kind`: its ImageRepository (`scanned_repository`: one scanning the task's
    image, not a second app's beside it), the ImagePolicy that references it, else the first one."""
    from lab.core.scan import scanned_repository

    aset = automation_set(ctx)
    mine = [o for o in aset.all_objects() if isinstance(o, kind) and o.file in automation_files(ctx)]
    repo = scanned_repository(aset.repositories, automation_files(ctx), task_images(ctx).images)
    if kind is ImageRepository:
        return repo
    if kind is ImagePolicy and repo is not None:
        key = (repo.namespace, repo.name)
        return next((o for o in mine if isinstance(o, ImagePolicy) and o.repository_key == key), None) or (
            mine[0] if mine else None
        )
    return mine[0] if mine else None


def _judge(
    ctx: CheckContext, kind_name: str, kind: type[FluxObject]
) -> Outcome | tuple[str, dict[str, Any], dict[str, Any]]:
    """The common verdict on one object; its (name, status, spec) when it is Ready and the caller adds
    detail."""
    from lab.core.fluxget import ready_condition

    skipped = source_mismatch(ctx)
    if skipped is not None:
        return skipped
    mine = _learner_object(ctx, kind)
    if mine is None:
        return Outcome.failed(f"no {kind_name} in {automation_dir(ctx)}/ to look for")
    ns, name = mine.namespace or "flux-system", mine.name
    try:
        obj = client_for(ctx).get(kind_name, name, ns)
    except ClusterError as err:
        return _errored(err)
    ref = f"{kind_name} {ns}/{name}"
    reconcile = RECONCILE_HINT[kind_name].format(name=name, ns=ns)
    if obj is None:
        return Outcome.pending(
            f"{ref} does not exist in the cluster yet",
            hint="push your commit, then `flux reconcile kustomization flux-system --with-source` "
            "(or wait for its interval)",
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
        )
    generation, observed = meta.get("generation"), status.get("observedGeneration")
    behind = isinstance(generation, int) and isinstance(observed, int) and observed < generation
    # Flux moves status.observedGeneration only when a reconcile succeeds or stalls: a failure it
    # retries keeps the old one. Its Ready condition carries the generation it judged, so Ready=False
    # for this generation is the verdict (the message says what is wrong), not "not reconciled yet".
    judged = cond.observed_generation if cond is not None else None
    stale = isinstance(generation, int) and isinstance(judged, int) and judged < generation
    current_failure = cond is not None and cond.status == "False" and isinstance(judged, int) and not stale
    behind = (behind and not current_failure) or stale
    if cond is None or behind or cond.status == "Unknown":
        if stale:
            why = f"its Ready condition is of generation {judged} < generation {generation}"
        elif behind:
            why = f"observedGeneration {observed} < generation {generation}"
        else:
            why = cond.message if cond else "no Ready condition yet"
        return Outcome.pending(f"{ref} not reconciled yet: {why}", hint=reconcile, evidence=evidence)
    if cond.status != "True":
        if cond.reason in PROGRESS_REASONS:
            return Outcome.pending(
                f"{ref} not ready yet: {cond.reason}: {cond.message}", hint=reconcile, evidence=evidence
            )
        return Outcome.failed(
            f"{ref} is not Ready: {cond.reason}: {cond.message}",
            file=mine.file,
            line=mine.line,
            hint=f"{_fix(kind_name, name, ns, cond.message)}, then {reconcile}",
            evidence=evidence,
        )
    return str(meta.get("name", "")), status, spec


def _fix(kind_name: str, name: str, ns: str, message: str) -> str:
    """The fix for a failure message that names its cause; else where to read the whole story."""
    return (
        fix_for_message(kind_name, message)
        or f"kubectl describe {kind_name.lower()} {name} -n {ns}; fix the cause"
    )


def _once_ready(
    kind_name: str, kind: type[FluxObject]
) -> Callable[[Callable[[str, dict[str, Any], dict[str, Any]], Outcome]], Callable[[CheckContext], Outcome]]:
    """A check of one of the learner's objects in the cluster: `_judge`'s verdict until the object is
    Ready, then the decorated function's, from the Ready object's name, status and spec."""

    def wrap(
        when_ready: Callable[[str, dict[str, Any], dict[str, Any]], Outcome],
    ) -> Callable[[CheckContext], Outcome]:
        def run(ctx: CheckContext) -> Outcome:
            ready = _judge(ctx, kind_name, kind)
            return ready if isinstance(ready, Outcome) else when_ready(*ready)

        return run

    return wrap


@check("cluster.image-repository")
@_once_ready("ImageRepository", ImageRepository)
def cluster_image_repository(name: str, status: dict[str, Any], spec: dict[str, Any]) -> Outcome:
    count = (status.get("lastScanResult") or {}).get("tagCount")
    message = (status.get("conditions") or [{}])[0].get("message", "")
    if count == 0:
        # Flux writes status.canonicalImageName only after a successful scan (image-reflector-controller
        # v1.2.0 imagerepository_controller.go :336-337); without it the learner's spec.image is named.
        image = str(status.get("canonicalImageName") or spec.get("image") or "")
        return Outcome.failed(
            f"ImageRepository {name} scanned but found no tags",
            hint=f"{spelling_hint(image)}; check spec.exclusionList too",
        )
    return Outcome.passed(f"ImageRepository {name} Ready: {message}".rstrip(": "))


@check("cluster.image-policy")
def cluster_image_policy(ctx: CheckContext) -> Outcome:
    ready = _judge(ctx, "ImagePolicy", ImagePolicy)
    if isinstance(ready, Outcome):
        return ready
    name, status, spec = ready
    latest = status.get("latestRef") or {}
    image = f"{latest.get('name')}:{latest.get('tag')}" if latest.get("tag") else status.get("latestImage")
    if not image:
        return Outcome.pending(f"ImagePolicy {name} is Ready but reports no latest image yet")
    warning = _stale_scan_warning(ctx, name, str(image), spec)
    return Outcome.passed(f"ImagePolicy {name} selects {image}{f'; warning: {warning}' if warning else ''}")


def _stale_scan_warning(ctx: CheckContext, name: str, image: str, spec: dict[str, Any]) -> str | None:
    """What Flux is silent about when the policy's ImageRepository fails its scan after a new spec.image:
    the database keeps the last successful scan's tags (image-reflector-controller v1.2.0
    imagerepository_controller.go :420-456) and status.canonicalImageName (:336-338), the policy
    resolves from them (imagepolicy_controller.go :520) but names the new spec.image in
    latestRef.name (:406; latestImage on v1beta2), which the next ImageUpdateAutomation commit writes.
    None when the repository scans, or names what the policy names, or cannot be read."""
    from lab.core.fluxget import ready_condition
    from lab.core.imagename import canonical_or_written
    from lab.core.refs import split_reference

    ref = spec.get("imageRepositoryRef") or {}
    repo_name = str(ref.get("name") or "") if isinstance(ref, dict) else ""
    if not repo_name:
        return None
    mine = _learner_object(ctx, ImagePolicy)
    ns = str(ref.get("namespace") or (mine.namespace if mine is not None else None) or "flux-system")
    try:
        repo = client_for(ctx).get("ImageRepository", repo_name, ns)
    except ClusterError:
        return None  # cluster.image-repository reports the unreachable cluster
    if repo is None:
        return None
    cond = ready_condition(repo)
    scanned = str((repo.get("status") or {}).get("canonicalImageName") or "")
    if cond is None or cond.status != "False" or not scanned:
        return None
    named, tag = split_reference(image)
    if canonical_or_written(named) == canonical_or_written(scanned):
        return None
    return (
        f"it is Ready on the tags of ImageRepository {repo_name}'s last successful scan ({scanned}), but "
        f"names {named}, which that repository now fails to scan: Flux's next commit writes {named}:{tag} "
        f"- fix spec.image of ImageRepository {repo_name}"
    )


@check("cluster.image-update")
@_once_ready("ImageUpdateAutomation", ImageUpdateAutomation)
def cluster_image_update(name: str, status: dict[str, Any], spec: dict[str, Any]) -> Outcome:
    pushed = status.get("lastPushCommit")
    detail = f"last push {str(pushed)[:7]}" if pushed else "no push yet"
    return Outcome.passed(f"ImageUpdateAutomation {name} Ready ({detail})")
