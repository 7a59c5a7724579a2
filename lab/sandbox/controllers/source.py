"""source-controller and kustomize-controller, as far as the lab needs them.

Every GitRepository is served from the sandbox's origin (the practice repo's bare remote stands in for
the GitHub URL written in gotk-sync.yaml). A Kustomization builds its `path` the way kustomize-controller
does (a kustomization.yaml's `resources`, else every manifest below the path, a sub-directory with its own
kustomization.yaml counting as one resource), applies the objects to the API server, and prunes what an
earlier revision applied and this one no longer contains (its inventory lives in the object's status).
"""

from __future__ import annotations

import copy
import json
import posixpath
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lab.core.manifests.models import KUSTOMIZATION_NAMES
from lab.errors import LabError
from lab.sandbox.controllers.common import (
    FLUX_NS,
    JSON,
    Clock,
    Controller,
    generation,
    handled,
    key,
    meta,
    now_rfc3339,
    progress_message,
    ready_conditions,
    requested_at,
    spec,
    status,
)

if TYPE_CHECKING:
    from lab.adapters.git import TreeFiles, Workspace
    from lab.sandbox.kubeapi import KubeAPIServer

GIT_KIND = "GitRepository"
KS_KIND = "Kustomization"
_KUSTOMIZE_GROUP = "kustomize.config.k8s.io"


class BuildError(Exception):
    """kustomize build failed; the message is what kustomize-controller reports."""


def _norm(path: str) -> str:
    clean = posixpath.normpath(path.strip() or ".").lstrip("/")
    return "" if clean in (".", "") else clean


def _kustomization_file(tree: Mapping[str, bytes], directory: str) -> str | None:
    for name in KUSTOMIZATION_NAMES:
        candidate = f"{directory}/{name}" if directory else name
        if candidate in tree:
            return candidate
    return None


def _is_dir(tree: Mapping[str, bytes], directory: str) -> bool:
    prefix = f"{directory}/" if directory else ""
    return any(p.startswith(prefix) for p in tree)


def _docs(tree: Mapping[str, bytes], file: str, *, generated: bool = False) -> list[JSON]:
    """The objects of `file`; `generated`: read by kustomize-controller's generator, whose error it is."""
    from lab.core.kustomizegen import decode_error
    from lab.core.yamlsafe import load_all

    try:
        text = tree[file].decode("utf-8")
    except UnicodeDecodeError as err:
        raise BuildError(f"{file}: not UTF-8 text") from err
    try:
        docs = load_all(text, file)
    except LabError as err:
        error = err.message.removeprefix("invalid YAML: ")
        raise BuildError(decode_error(file, error) if generated else f"{file}: {err.message}") from err
    out: list[JSON] = []
    for doc in docs:
        data = json.loads(json.dumps(doc.data, default=str))
        if not isinstance(data, dict):
            continue
        if str(data.get("apiVersion", "")).startswith(_KUSTOMIZE_GROUP):
            continue
        if data.get("kind") == "List" and isinstance(data.get("items"), list):
            out.extend(i for i in data["items"] if isinstance(i, dict))
            continue
        out.append(data)
    return out


def build(tree: Mapping[str, bytes], path: str, depth: int = 0) -> list[JSON]:
    """The objects kustomize-controller would apply for `path` of `tree`."""
    if depth > 20:
        raise BuildError(f"kustomization {path}: resources nest too deeply (a cycle?)")
    directory = _norm(path)
    if directory in tree:
        return _docs(tree, directory)
    if not _is_dir(tree, directory):
        raise BuildError(f"kustomization path not found: stat {directory or '.'}: no such file or directory")
    kfile = _kustomization_file(tree, directory)
    objects: list[JSON] = []
    if kfile is not None:
        from lab.core.yamlsafe import load_one

        try:
            doc = load_one(tree[kfile].decode("utf-8", "replace"), kfile)
        except LabError as err:
            raise BuildError(f"{kfile}: {err.message}") from err
        data = doc.data if doc is not None and isinstance(doc.data, dict) else {}
        for entry in data.get("resources") or []:
            target = _norm(posixpath.join(directory, str(entry)))
            if target not in tree and not _is_dir(tree, target):
                raise BuildError(
                    f"accumulating resources: accumulation err='accumulating resources from '{entry}': "
                    f"'{target}' must resolve to a file': must build at directory: not a valid directory"
                )
            objects.extend(build(tree, target, depth + 1))
        return objects
    # No kustomization.yaml: kustomize-controller generates one listing every manifest below the path.
    prefix = f"{directory}/" if directory else ""
    nested: set[str] = set()
    for file in sorted(tree):
        if not file.startswith(prefix):
            continue
        rest = file[len(prefix) :]
        parts = rest.split("/")
        sub = ""
        for i in range(1, len(parts)):
            candidate = prefix + "/".join(parts[:i])
            if _kustomization_file(tree, candidate) is not None:
                sub = candidate
                break
        if sub:
            if sub not in nested:
                nested.add(sub)
                objects.extend(build(tree, sub, depth + 1))
            continue
        if file.endswith((".yaml", ".yml")):  # the generator's extensions: a .json file is never read
            objects.extend(_docs(tree, file, generated=True))
    return objects


def inventory_id(obj: Mapping[str, Any]) -> str:
    api_version = str(obj.get("apiVersion", ""))
    group = api_version.rpartition("/")[0] if "/" in api_version else ""
    m = meta(obj)
    return f"{m.get('namespace') or ''}_{m.get('name')}_{group}_{obj.get('kind')}"


def _step(obj: Mapping[str, Any], step: str, revision: str) -> str:
    """The Reconciling message of kustomize-controller's step that failed (kustomization_controller.go
    `reconcile`: "Fetching manifests", "Building manifests", "Detecting drift" ... "for revision R with a
    timeout of T"), T being `Kustomization.GetTimeout()`: spec.timeout, else the interval less 30s, at
    least 30s."""
    from lab.core.duration import format_duration, parse_duration

    second = 1_000_000_000

    def ns(value: object) -> int | None:
        try:
            return parse_duration(value) if isinstance(value, str) and value else None
        except (LabError, ValueError):
            return None

    timeout = ns(spec(obj).get("timeout"))
    if timeout is None:
        timeout = (ns(spec(obj).get("interval")) or 0) - 30 * second
    return f"{step} for revision {revision} with a timeout of {format_duration(max(timeout, 30 * second))}"


class SourceControllers(Controller):
    """GitRepository and Kustomization reconcilers sharing one clone of origin."""

    def __init__(self, api: KubeAPIServer, origin: Path, cache_dir: Path, clock: Clock) -> None:
        super().__init__(api, clock)
        self.origin = origin
        self.cache_dir = cache_dir
        self._ws: Workspace | None = None
        self._trees: dict[str, TreeFiles] = {}
        self._stamps: dict[tuple[str, ...], tuple[tuple[str, int, int, int], ...]] = {}

    def _origin_stamp(self) -> tuple[tuple[str, int, int, int], ...]:
        """The origin's refs as file stats: a push changes them (cheaper than a fetch per interval)."""
        out = []
        heads = self.origin / "refs" / "heads"
        for path in [self.origin / "packed-refs", *sorted(heads.rglob("*"))]:
            try:
                st = path.stat()
            except OSError:
                continue
            out.append((str(path), st.st_ino, st.st_mtime_ns, st.st_size))
        return tuple(out)

    # --- the clone of origin (the artifact store) -----------------------------------------------------

    def workspace(self) -> Workspace:
        from lab.adapters.git import clone_to_temp, open_workspace

        if self._ws is None:
            clone = self.cache_dir / "origin-clone"
            if (clone / ".git").is_dir():
                self._ws = open_workspace(clone)
            else:
                import shutil

                shutil.rmtree(clone, ignore_errors=True)
                self._ws = clone_to_temp(str(self.origin), None, clone, depth=None)
        return self._ws

    def tree(self, sha: str) -> TreeFiles:
        tree = self._trees.get(sha)
        if tree is None:
            tree = self.workspace().read_tree_at(sha)
            self._trees = {sha: tree}
        return tree

    # --- reconcile loop -------------------------------------------------------------------------------

    def tick(self, *, git: bool = True, kustomize: bool = True) -> None:
        """Reconcile what is due; `git`/`kustomize` False: that controller is scaled to zero."""
        now = self.clock.now()
        if git:
            for repo in self.api.list(GIT_KIND):
                self._reconcile_git(repo, now)
        if kustomize:
            for ks in self.api.list(KS_KIND):
                self._reconcile_kustomization(ks, now)

    def _reconcile_git(self, obj: JSON, now: float) -> None:
        ns, name = key(obj)
        ident = (GIT_KIND, ns, name)
        inputs = (generation(obj), requested_at(obj))
        if not self.schedule.is_due(ident, inputs, now):
            return
        self.schedule.done(ident, inputs, now, self.clock.seconds(spec(obj).get("interval"), "1m"))
        ref = spec(obj).get("ref") or {}
        branch = str(ref.get("branch") or "master") if isinstance(ref, Mapping) else "master"
        url = str(spec(obj).get("url") or "")
        new = dict(status(obj))
        stamp = self._origin_stamp()
        if stamp == self._stamps.get(ident) and status(obj).get("observedGeneration") == generation(obj):
            wanted = requested_at(obj)
            if not wanted or wanted == status(obj).get("lastHandledReconcileAt"):
                return  # origin's refs did not move: the artifact is current, skip the fetch
        obj = self.starting(GIT_KIND, obj)
        if not status(obj).get("artifact"):
            obj = self.progressing(GIT_KIND, obj, "building artifact", drift=True)  # reconcileStorage
        try:
            ws = self.workspace()
            ws.fetch()
            sha = ws.remote_sha(branch)
            self._stamps[ident] = stamp
        except LabError as err:
            sha = None
            message = f"failed to checkout and determine revision: unable to clone '{url}': {err.message}"
        else:
            message = (
                f"failed to checkout and determine revision: unable to clone '{url}': "
                f'couldn\'t find remote ref "refs/heads/{branch}"'
            )
        if sha is None:
            # source-controller's reconcileStorage says "building artifact" while there is none yet;
            # the clone that fails comes after it (gitrepository_controller.go reconcileStorage).
            progress = "building artifact" if not status(obj).get("artifact") else progress_message(obj)
            new["conditions"] = ready_conditions(obj, False, "GitOperationFailed", message, progress=progress)
        else:
            revision = f"{branch}@sha1:{sha}"
            artifact = new.get("artifact") if isinstance(new.get("artifact"), Mapping) else None
            if not artifact or artifact.get("revision") != revision:
                # reconcileSource: a revision the artifact lacks is drift, Ready goes Unknown until stored.
                obj = self.progressing(
                    GIT_KIND, obj, f"building artifact: new upstream revision '{revision}'", drift=True
                )
                new["artifact"] = {
                    "revision": revision,
                    "path": f"gitrepository/{ns}/{name}/{sha}.tar.gz",
                    "url": f"http://source-controller.flux-system.svc.cluster.local./gitrepository/"
                    f"{ns}/{name}/{sha}.tar.gz",
                    "lastUpdateTime": now_rfc3339(),
                }
            new["conditions"] = ready_conditions(
                obj, True, "Succeeded", f"stored artifact for revision '{revision}'"
            )
        self._write(GIT_KIND, obj, new)

    def _write(self, kind: str, obj: JSON, new: JSON) -> None:
        if handled(obj, new) != status(obj):
            ns, name = key(obj)
            self.api.update_status(kind, name, ns, new)

    def _reconcile_kustomization(self, obj: JSON, now: float) -> None:
        ns, name = key(obj)
        ident = (KS_KIND, ns, name)
        src = spec(obj).get("sourceRef") or {}
        src = src if isinstance(src, Mapping) else {}
        src_ns = str(src.get("namespace") or ns)
        src_name = str(src.get("name") or "")
        source = self.api.get(GIT_KIND, src_name, src_ns) if src_name else None
        artifact = status(source).get("artifact") if source else None
        revision = str(artifact.get("revision")) if isinstance(artifact, Mapping) else ""
        inputs = (generation(obj), requested_at(obj), revision)
        if not self.schedule.is_due(ident, inputs, now):
            return
        self.schedule.done(ident, inputs, now, self.clock.seconds(spec(obj).get("interval"), "10m"))
        new = dict(status(obj))
        if source is None:
            message = f"Source '{src.get('kind') or GIT_KIND}/{src_ns}/{src_name}' not found"
            new["conditions"] = ready_conditions(obj, False, "ArtifactFailed", message, progress=None)
            self._write(KS_KIND, obj, new)
            return
        if not revision:
            message = "Source artifact not found, retrying in 30s"
            new["conditions"] = ready_conditions(obj, False, "ArtifactFailed", message, progress=None)
            self._write(KS_KIND, obj, new)
            return
        # kustomization_controller.go `reconcile`: each step patches its progress before it runs.
        obj = self.progressing(
            KS_KIND, obj, _step(obj, "Fetching manifests", revision), ready="Reconciliation in progress"
        )
        new["lastAttemptedRevision"] = revision
        obj = self.progressing(
            KS_KIND,
            obj,
            _step(obj, "Building manifests", revision),
            progressive=False,
            fields={"lastAttemptedRevision": revision},
        )
        try:
            tree = self.tree(revision.rpartition(":")[2])
            objects = build(tree, str(spec(obj).get("path") or "./"))
        except (BuildError, LabError) as err:
            text = err.message if isinstance(err, LabError) else str(err)
            new["conditions"] = ready_conditions(
                obj, False, "BuildFailed", text, progress=_step(obj, "Building manifests", revision)
            )
            self._write(KS_KIND, obj, new)
            return
        obj = self.progressing(KS_KIND, obj, _step(obj, "Detecting drift", revision), progressive=False)
        warnings: list[str] = []
        failure = self._apply(objects, str(spec(obj).get("targetNamespace") or ""), warnings)
        if failure:
            new["conditions"] = ready_conditions(
                obj, False, "ReconciliationFailed", failure, progress=_step(obj, "Detecting drift", revision)
            )
            self._write(KS_KIND, obj, new)
            return
        entries = [{"id": inventory_id(o), "v": str(o["apiVersion"]).rpartition("/")[2]} for o in objects]
        if spec(obj).get("prune") is True:
            self._prune(status(obj).get("inventory"), {e["id"] for e in entries})
        new["inventory"] = {"entries": sorted(entries, key=lambda e: e["id"])}
        if warnings and revision != status(obj).get("lastAppliedRevision"):
            # The API server's deprecation warnings (v1beta2 on Flux 2.7/2.8), once per applied revision:
            # what `kubectl apply` prints as "Warning: ...", kept where `kubectl describe` shows it.
            self.api.record_event(
                obj, "Warning", "DeprecatedAPIVersion", "\n".join(warnings), "kustomize-controller"
            )
        new["lastAppliedRevision"] = revision
        new["conditions"] = ready_conditions(
            obj, True, "ReconciliationSucceeded", f"Applied revision: {revision}"
        )
        self._write(KS_KIND, obj, new)

    def _apply(self, objects: list[JSON], target_ns: str, warnings: list[str] | None = None) -> str | None:
        """Apply all objects, or none when a kind is unknown (Flux dry-runs a stage before applying it).

        The API server's deprecation warnings for the applied versions are appended to `warnings`."""
        from lab.sandbox.kubeapi import ApiError

        unmodelled: list[JSON] = []
        for obj in objects:
            m = obj.setdefault("metadata", {})
            if not isinstance(m, dict) or not m.get("name") or not obj.get("kind"):
                return f"object without kind or metadata.name: {json.dumps(obj)[:120]}"
            rt = self.api.store.by_kind(str(obj["kind"]), str(obj.get("apiVersion", "")))
            ident = f"{obj['kind']}/{m.get('namespace') or target_ns or 'default'}/{m['name']}"
            if rt is None and "." not in str(obj.get("apiVersion", "")).rpartition("/")[0]:
                # A built-in kind the loopback API server does not model (Service, ConfigMap...):
                # a real cluster would accept it, so it is not an error here.
                unmodelled.append(obj)
                continue
            if rt is None:
                return (
                    f'{ident} dry-run failed: no matches for kind "{obj["kind"]}" '
                    f'in version "{obj.get("apiVersion", "")}"'
                )
            if rt.namespaced and target_ns:
                m["namespace"] = target_ns
            elif rt.namespaced and not m.get("namespace"):
                m["namespace"] = "default"
        # kustomize-controller applies in stages (Namespaces and CRDs, then the rest); a stage is
        # dry-run as a whole first, so one invalid object means none of its stage is applied.
        modelled = [o for o in objects if not any(o is u for u in unmodelled)]
        first = [o for o in modelled if o["kind"] in ("Namespace", "CustomResourceDefinition")]
        rest = [o for o in modelled if o["kind"] not in ("Namespace", "CustomResourceDefinition")]
        for stage in (first, rest):
            for dry_run in (True, False):
                for obj in stage:
                    m = obj["metadata"]
                    ident = f"{obj['kind']}/{m.get('namespace', '')}/{m['name']}".replace("//", "/")
                    undeclared = self._undeclared(obj) if dry_run else None
                    if undeclared:
                        return undeclared
                    try:
                        self._apply_one(obj, dry_run=dry_run)
                    except ApiError as err:
                        return f"{ident} dry-run failed ({err.reason}): {err.message}"
        if warnings is not None:
            for obj in modelled:
                api_version = str(obj.get("apiVersion", ""))
                rt = self.api.store.by_kind(str(obj["kind"]), api_version)
                text = rt.deprecated_versions.get(api_version.rpartition("/")[2]) if rt else None
                if text and text not in warnings:
                    warnings.append(text)
        return None

    def _undeclared(self, obj: JSON) -> str | None:
        """Server-side apply's refusal of fields the kind's schema lacks, as Flux reports it (a
        `kubectl apply` gets the API server's `strict decoding error` instead)."""
        from lab.core.manifests.schema import not_declared, object_schema, unknown_fields

        api_version = str(obj.get("apiVersion", ""))
        rt = self.api.store.by_kind(str(obj["kind"]), api_version)
        if rt is None or api_version.rpartition("/")[2] != rt.storage_version:
            return None
        root = object_schema(rt.group, rt.plural)
        paths = unknown_fields(root, obj) if root is not None else []
        m = obj["metadata"]
        return (
            not_declared(rt.kind, str(m.get("namespace") or ""), str(m["name"]), api_version, paths)
            if paths
            else None
        )

    def _apply_one(self, desired: JSON, *, dry_run: bool = False) -> None:
        m = desired["metadata"]
        ns = str(m.get("namespace") or "")
        current = self.api.get(str(desired["kind"]), str(m["name"]), ns, str(desired["apiVersion"]))
        body = copy.deepcopy(desired)
        body.pop("status", None)
        if current is not None:
            cur_meta = meta(current)
            # Like a server-side apply by another field manager: annotations others set (the
            # reconcile request of `flux reconcile`) survive; the manifest's own win.
            for field in ("annotations", "labels"):
                merged = {**(cur_meta.get(field) or {}), **(m.get(field) or {})}
                if merged:
                    body["metadata"][field] = merged
            same_meta = all(
                (cur_meta.get(f) or {}) == (body["metadata"].get(f) or {}) for f in ("annotations", "labels")
            )
            same_rest = all(
                current.get(k) == body.get(k) for k in body if k not in ("metadata", "apiVersion", "kind")
            )
            if same_meta and same_rest:
                return
        if dry_run:
            self._dry_run(body, current is not None)
        else:
            self.api.put(body)

    def _dry_run(self, body: JSON, exists: bool) -> None:
        """What `put` would do, validated but not stored (KubeAPIServer.put has no dry-run)."""
        from lab.sandbox.kubeapi.store import DRY_RUN

        store = self.api.store
        api_version = str(body["apiVersion"])
        rt = store.by_kind(str(body["kind"]), api_version)
        if rt is None:
            return
        version = api_version.rpartition("/")[2]
        m = body["metadata"]
        ns = str(m.get("namespace") or "default") if rt.namespaced else ""
        if exists:
            store.replace(rt, ns, str(m["name"]), body, version, options=DRY_RUN)
        else:
            store.create(rt, ns, body, version, options=DRY_RUN)

    def _prune(self, inventory: Any, keep: set[str]) -> None:
        entries = inventory.get("entries") if isinstance(inventory, Mapping) else None
        for entry in entries if isinstance(entries, list) else []:
            ident = str(entry.get("id", "")) if isinstance(entry, Mapping) else ""
            if not ident or ident in keep:
                continue
            parts = ident.split("_")
            if len(parts) < 4:
                continue
            ns, name, group, kind = parts[0], "_".join(parts[1:-2]), parts[-2], parts[-1]
            version = str(entry.get("v") or "v1")
            api_version = f"{group}/{version}" if group else version
            if kind == "Namespace" and name == FLUX_NS:
                continue
            try:
                self.api.delete(kind, name, ns, api_version)
            except Exception:
                continue
