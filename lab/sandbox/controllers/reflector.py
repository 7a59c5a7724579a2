"""image-reflector-controller: scan ImageRepositories through the registry client, resolve ImagePolicies.

Scans go through `RegistryClient` with the sandbox's mirror (Docker Hub names -> the embedded registry),
so the canonical names, revisions and failure messages are the ones `lab tags` and the checks see. The
stored tags live in memory, like Flux's database on an emptyDir: after a restart every repository is
rescanned (`no tags in database`). Policies are evaluated by `lab.core.reconcile.resolve_policies`,
the same code `lab simulate` runs, over the objects read back from the API server.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from lab.core.record import dataclass
from lab.core.refs import ImageRef
from lab.core.scan import DEFAULT_EXCLUSION
from lab.sandbox.controllers.common import (
    JSON,
    Clock,
    Controller,
    as_models,
    generation,
    handled,
    key,
    now_rfc3339,
    progress_message,
    ready_conditions,
    ready_message,
    reconcile_requested,
    requested_at,
    spec,
    status,
    stays_stalled,
)

if TYPE_CHECKING:
    from lab.adapters.registry import RegistryClient, ScanResult
    from lab.sandbox.kubeapi import KubeAPIServer

REPO_KIND = "ImageRepository"
POLICY_KIND = "ImagePolicy"
_STALLED = frozenset({"ImageURLInvalid", "InvalidPolicy", "FeatureGateDisabled"})
# --requeue-dependency: a policy waiting for tags is retried after 30 s (sandbox time).
REQUEUE_DEPENDENCY = "30s"


@dataclass(frozen=True)
class Stored:
    image: str
    exclusion: tuple[str, ...]
    tags: tuple[str, ...]
    revision: str


def _exclusion(obj: Mapping[str, Any]) -> tuple[str, ...]:
    raw = spec(obj).get("exclusionList")
    if isinstance(raw, list):
        return tuple(str(x) for x in raw)
    return DEFAULT_EXCLUSION


class ReflectorController(Controller):
    def __init__(
        self,
        api: KubeAPIServer,
        client_factory: Callable[[], RegistryClient],
        clock: Clock,
        registry_hosts: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(api, clock)
        # Registry host -> the sandbox registry serving it. Objects are written by anyone who can reach
        # the API: an image on any other host is never contacted (None: no restriction, for tests).
        self.registry_hosts = dict(registry_hosts) if registry_hosts is not None else None
        self.client_factory = client_factory
        self.db: dict[tuple[str, str], Stored] = {}
        self.last_image: dict[tuple[str, str], str] = {}
        # The exclusion list of the last scan, failed or not: a change rescans at once, a retried
        # failure waits for its backoff (the status keeps the list of the last successful scan).
        self.last_exclusion: dict[tuple[str, str], tuple[str, ...]] = {}
        # What Flux's scan decision reads, as its last successful scan left it: the canonical name and
        # exclusion list in the status and whether its database holds tags (a failure changes none).
        self.scanned: dict[tuple[str, str], tuple[str, tuple[str, ...], bool]] = {}

    def forget_tags(self) -> None:
        """A restarted controller starts with an empty tag database (Flux keeps it on an emptyDir)."""
        self.db.clear()
        self.last_image.clear()
        self.last_exclusion.clear()
        self.scanned.clear()
        self.schedule.due.clear()

    def tick(self) -> None:
        from lab.sandbox.kubeapi import ApiError

        now = self.clock.now()
        try:
            repos = self.api.list(REPO_KIND)
            policies = self.api.list(POLICY_KIND)
        except ApiError:
            return  # the image CRDs are not installed: no controller either
        for repo in repos:
            self._reconcile_repository(repo, now)
        live = {(REPO_KIND, *key(r)) for r in repos} | {(POLICY_KIND, *key(p)) for p in policies}
        for gone in [k for k in {*self.db, *self.last_image} if (REPO_KIND, *k) not in live]:
            # a deleted repository takes its tags with it; re-created, it starts with a first scan
            self.db.pop(gone, None)
            self.last_image.pop(gone, None)
            self.last_exclusion.pop(gone, None)
            self.scanned.pop(gone, None)
            self.schedule.due.pop((REPO_KIND, *gone), None)
        if policies:
            repos = self.api.list(REPO_KIND)
            for pol in policies:
                self._reconcile_policy(pol, repos, now)
        self.schedule.forget_except(live)

    # --- ImageRepository ------------------------------------------------------------------------------

    def _scan_reason(self, obj: JSON, now: float) -> str | None:
        st = status(obj)
        ident = (REPO_KIND, *key(obj))
        stored = self.db.get(key(obj))
        if not st.get("lastScanResult") and key(obj) not in self.last_image:
            return "first scan"
        if reconcile_requested(obj):
            return "reconcile requested"
        if str(spec(obj).get("image") or "") != self.last_image.get(key(obj)):
            return "new image name"
        if _exclusion(obj) != self.last_exclusion.get(key(obj)):
            return "updated exclusion list"
        if now < self.schedule.due.get(ident, 0.0):
            return None
        if stored is None or not stored.tags:
            return "no tags in database"
        return "triggered by interval"

    def _flux_scan_reason(self, obj: JSON, canonical: str) -> str:
        """Why Flux scans: image-reflector-controller v1.2.0 `shouldScan`
        (internal/controller/imagerepository_controller.go :363-414) on the status and database its
        last successful scan left (:336-337 set canonicalImageName and observedExclusionList only
        then). A retried failure is asked again: a first scan that failed is still a "first scan"."""
        st = status(obj)
        if not st.get("lastScanResult"):
            return "first scan"
        if reconcile_requested(obj):
            return "reconcile requested"
        seen = self.scanned.get(key(obj))
        if seen is None:  # the controller restarted: the status is all it has, and no tags
            observed = st.get("observedExclusionList")
            listed = tuple(str(x) for x in observed) if isinstance(observed, list) else ()
            seen = (str(st.get("canonicalImageName") or ""), listed, False)
        name, exclusion, has_tags = seen
        if canonical and canonical != name:
            return "new image name"
        if not _same_content(_exclusion(obj), exclusion):
            return "updated exclusion list"
        if not has_tags:
            return "no tags in database"
        return "triggered by interval"

    def _reconcile_repository(self, obj: JSON, now: float) -> None:
        ns, name = key(obj)
        ident = (REPO_KIND, ns, name)
        if spec(obj).get("suspend") is True:
            return
        if stays_stalled(obj, _STALLED):
            return
        if self._scan_reason(obj, now) is None:
            return
        period = self._period(obj)
        image = str(spec(obj).get("image") or "")
        exclusion = _exclusion(obj)
        obj = self.starting(REPO_KIND, obj)
        canonical = self._canonical(image)
        scanning = f"scanning: {self._flux_scan_reason(obj, canonical)}"
        if canonical:  # IRC :303-308; an image it cannot parse stalls before the scan (ImageURLInvalid)
            obj = self.progressing(REPO_KIND, obj, scanning)
        result = self._unreachable(image)
        if result is None:
            with self.client_factory() as client:
                result = client.scan(image, exclusion, check=False)
        self.last_image[(ns, name)] = image
        self.last_exclusion[(ns, name)] = exclusion
        new = dict(status(obj))
        if result.ready:
            # IRC v1.2.0 imagerepository_controller.go :336-338: the observations are set only after
            # a successful scan (a failed one returns at :312-316 before them).
            if result.canonical_name:
                new["canonicalImageName"] = result.canonical_name
            new["observedExclusionList"] = list(exclusion)
            self.db[(ns, name)] = Stored(image, exclusion, result.tags, result.revision)
            new["lastScanResult"] = {
                "revision": result.revision,
                "tagCount": result.tag_count,
                "scanTime": now_rfc3339(),
                "latestTags": list(result.latest_tags),
            }
            new["conditions"] = ready_conditions(obj, True, "Succeeded", result.message)
            self.scanned[(ns, name)] = (result.canonical_name, exclusion, bool(result.tags))
        else:
            # The database keeps the tags of the last successful scan: `scan` (:420-456) returns the
            # registry's error before `SetTags` (:443), so the ImagePolicies go on resolving from them.
            stalled_now = result.reason in _STALLED
            message = self._as_flux_sees_it(image, result.message)
            new["conditions"] = ready_conditions(
                obj, False, result.reason, message, stalled=stalled_now, progress=scanning
            )
            # controller-runtime retries failures with backoff; the interval bounds it here.
            period = min(period, self.clock.seconds("30s"))
        self._finish(REPO_KIND, obj, new, "image-reflector-controller")
        self.schedule.due[ident] = now + period

    def _canonical(self, image: str) -> str:
        """The image's canonical name as Flux parses it (`docker.io/library/nginx`), "" when it cannot."""
        from lab.adapters.registry.names import ImageNameError, parse_image

        try:
            return parse_image(image, mirrors=self.registry_hosts or {}).canonical
        except ImageNameError:
            return ""

    def _as_flux_sees_it(self, image: str, message: str) -> str:
        """A failure as it reads against the image's own registry, not the sandbox's address for it."""
        from lab.adapters.registry.names import ImageNameError, parse_image

        try:
            name = parse_image(image, mirrors=self.registry_hosts or {})
        except ImageNameError:
            return message
        return (
            message.replace(f"http://{name.wire_host}", f"https://{name.registry}")
            if name.mirrored
            else message
        )

    def _unreachable(self, image: str) -> ScanResult | None:
        """A failed scan for an image outside the sandbox's registries, without connecting anywhere."""
        from lab.adapters.registry import ScanResult
        from lab.adapters.registry.names import ImageNameError, parse_image

        if self.registry_hosts is None:
            return None
        try:
            name = parse_image(image, mirrors=self.registry_hosts)
        except ImageNameError:
            return None  # the client reports ImageURLInvalid without a request
        if name.wire_host in self.registry_hosts.values():
            return None
        served = ", ".join(sorted(h.replace("index.docker.io", "docker.io") for h in self.registry_hosts))
        message = (
            f"scan failed: {name.registry} is outside the sandbox: its registry serves {served} "
            "(the images the task declares), and the sandbox connects nowhere else"
        )
        return ScanResult(name.canonical, (), 0, (), "", message, ready=False, reason="ReadOperationFailed")

    def _period(self, obj: JSON) -> float:
        return self.clock.seconds(spec(obj).get("interval"), "5m")

    def _finish(self, kind: str, obj: JSON, new: JSON, component: str) -> None:
        if handled(obj, new) == status(obj):
            return
        ns, name = key(obj)
        before = ready_message(obj)
        updated = self.api.update_status(kind, name, ns, new)
        after = ready_message(updated)
        if after is not None and after != before:
            ok = (updated.get("status") or {}).get("conditions", [{}])[0].get("status") == "True"
            reason = (updated.get("status") or {}).get("conditions", [{}])[0].get("reason", "")
            self.api.record_event(updated, "Normal" if ok else "Warning", reason, after, component)

    # --- ImagePolicy ----------------------------------------------------------------------------------

    def _tag_source(
        self, repos: Sequence[JSON] = (), ref: tuple[str, str] = ("", "")
    ) -> Callable[[str, Sequence[str]], list[str]]:
        """The tags a policy reads: IRC v1.2.0 imagepolicy_controller.go :520 asks the database for
        the repository's (namespace, name, status.canonicalImageName), what its last successful scan
        stored, whatever its spec says now (a failed scan of a new image changes neither). Without
        `repos`, the stored tags under the image and exclusion list they were scanned with."""
        by_image = {(s.image, s.exclusion): list(s.tags) for s in self.db.values()}
        for repo in sorted(repos, key=lambda r: key(r) == ref):  # the policy's own repository last
            stored = self.db.get(key(repo))
            if stored is not None:
                by_image[(str(spec(repo).get("image") or ""), _exclusion(repo))] = list(stored.tags)

        def source(image: str, exclusion: Sequence[str]) -> list[str]:
            return by_image.get((image, tuple(exclusion)), [])

        return source

    def _digest(self, image: str, tag: str) -> str:
        """IRC's `fetchDigest`: a manifest HEAD to the registry the ImageRepository names."""
        with self.client_factory() as client:
            return client.digest(image, tag)

    def _reconcile_policy(self, obj: JSON, repos: list[JSON], now: float) -> None:
        from lab.core.policy import ready_message as policy_message
        from lab.core.reconcile import resolve_policies

        ns, name = key(obj)
        ident = (POLICY_KIND, ns, name)
        ref = spec(obj).get("imageRepositoryRef") or {}
        ref = ref if isinstance(ref, Mapping) else {}
        repo_key = (str(ref.get("namespace") or ns), str(ref.get("name") or ""))
        repo = next((r for r in repos if key(r) == repo_key), None)
        stored = self.db.get(repo_key)
        inputs = (generation(obj), requested_at(obj), stored.revision if stored else None, repo is None)
        if spec(obj).get("suspend") is True or not self.schedule.is_due(ident, inputs, now):
            return
        obj = self.starting(POLICY_KIND, obj)
        aset = as_models([*repos, obj])
        aset.policies[:] = [p for p in aset.policies if (p.namespace, p.name) == (ns, name)]
        new = dict(status(obj))
        repo_ready = (status(repo).get("conditions") or [{}])[0] if repo is not None else {}
        if not aset.policies:
            # The parser refused the object (a spec the API server would not have accepted either).
            ok, reason, message = False, "InvalidPolicy", "invalid policy: spec.policy is not valid"
        elif repo is not None and repo_ready.get("reason") == "ImageURLInvalid":
            ok, reason, message = False, "ImageURLInvalid", str(repo_ready.get("message", ""))
        else:
            old = new.get("latestRef") if isinstance(new.get("latestRef"), Mapping) else None
            known = _ref(old)
            resolutions, _ = resolve_policies(
                aset,
                ns,
                self._tag_source(repos, repo_key),
                self._digest,
                {f"{ns}:{name}": known} if known is not None else None,
            )
            res = resolutions[0]
            ok, reason, message = res.ready, res.reason, res.message
            if res.ready and res.tag:
                latest = {"name": res.image, "tag": res.tag}
                if res.digest:
                    latest["digest"] = res.digest
                previous = None
                current = ImageRef(res.image, res.tag, res.digest)
                if old and known is not None and known != current:
                    previous = known.full()
                    new["observedPreviousRef"] = dict(old)
                    message = policy_message(res.image, res.tag, res.digest, previous=previous)
                elif old:
                    # The "(previously ...)" note stays until the next change, as the last message did.
                    kept = ready_message(obj) or ""
                    if kept.startswith(f"{message} (previously "):
                        message = kept
                new["latestRef"] = latest
                if "v1beta2" in self.api.image_api_versions:
                    new["latestImage"] = f"{res.image}:{res.tag}"
        new["conditions"] = ready_conditions(
            obj, ok, reason, message, stalled=reason in _STALLED, progress=progress_message(obj)
        )
        self._finish(POLICY_KIND, obj, new, "image-reflector-controller")
        period = self.clock.seconds(REQUEUE_DEPENDENCY if reason == "DependencyNotReady" else None, "10m")
        if ok or reason in _STALLED:
            period = self.clock.seconds(spec(obj).get("interval"), "10m")
        self.schedule.done(ident, inputs, now, period)


def _same_content(a: Sequence[str], b: Sequence[str]) -> bool:
    """IRC `isEqualSliceContent` (imagerepository_controller.go :536-553): as long, each of `a` in `b`."""
    return len(a) == len(b) and all(x in b for x in a)


def _ref(raw: Mapping[str, Any] | None) -> ImageRef | None:
    """A `status.latestRef` as the reconcile rules take it."""
    if not raw or not raw.get("tag"):
        return None
    return ImageRef(str(raw.get("name") or ""), str(raw.get("tag")), str(raw.get("digest") or ""))
