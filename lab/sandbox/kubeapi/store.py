"""The in-memory object store behind the loopback API server.

Semantics follow the real API server where clients can observe them: a global resourceVersion, `generation`
bumped only when something outside metadata/status changes, the status subresource (status is ignored on
create and on main-resource writes), no-op writes that change nothing, optimistic concurrency, watch history
with `410 Gone` for compacted versions, namespaces and CRDs deleting what they contain.
"""

from __future__ import annotations

import builtins
import contextlib
import copy
import datetime as dt
import json
import secrets
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from lab.adapters.files import write_atomic
from lab.core.dnsnames import DNS_LABEL, DNS_SUBDOMAIN
from lab.core.record import dataclass
from lab.sandbox.kubeapi import workloads
from lab.sandbox.kubeapi.patch import (
    PatchError,
    json_patch,
    merge_patch,
    parse_field_selector,
    parse_label_selector,
    strategic_merge_patch,
)
from lab.sandbox.kubeapi.resources import BUILTIN_TYPES, CRD_GROUP, JSON, ResourceType, type_from_crd

Key = tuple[str, str, str, str]  # group, plural, namespace ("" when cluster-scoped), name

STATE_FORMAT = 1
MAX_EVENTS = 500


@dataclass(frozen=True)
class WriteOptions:
    """What a create, update or patch request asks of the write (Kubernetes' CreateOptions,
    UpdateOptions, PatchOptions): `dry_run` stores nothing; `field_validation` is Strict, Warn or
    Ignore, and what it warns about is added to `warnings` when given; a `manager` (fieldManager) gets
    its managedFields entry."""

    dry_run: bool = False
    field_validation: str = "Strict"
    warnings: list[str] | None = None
    manager: str | None = None


PLAIN_WRITE = WriteOptions()
DRY_RUN = WriteOptions(dry_run=True)


class ApiError(Exception):
    """An error the API server answers with a `Status` object."""

    def __init__(self, code: int, reason: str, message: str, details: JSON | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details

    def status(self) -> JSON:
        body: JSON = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details is not None:
            body["details"] = self.details
        return body


def not_found(rt: ResourceType, name: str) -> ApiError:
    return ApiError(
        404,
        "NotFound",
        f'{rt.resource} "{name}" not found',
        {"name": name, "group": rt.group, "kind": rt.plural},
    )


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def invalid(rt: ResourceType, name: str, field: str, value: Any, detail: str) -> ApiError:
    shown = json.dumps(value) if isinstance(value, str) else value
    return ApiError(
        422,
        "Invalid",
        f'{rt.kind} "{name}" is invalid: {field}: Invalid value: {shown}: {detail}',
        {
            "name": name,
            "group": rt.group,
            "kind": rt.kind,
            "causes": [
                {
                    "reason": "FieldValueInvalid",
                    "message": f"Invalid value: {shown}: {detail}",
                    "field": field,
                }
            ],
        },
    )


def now_rfc3339() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class WatchEvent:
    rv: int
    type: str  # ADDED, MODIFIED, DELETED
    group: str
    plural: str
    namespace: str
    object: JSON


def _spec_part(obj: JSON) -> JSON:
    return {k: v for k, v in obj.items() if k not in ("metadata", "status", "apiVersion", "kind")}


class Store:
    """Thread-safe object store; persists to `path` (atomic replace) after every change when given."""

    def __init__(
        self, path: Path | None = None, *, history: int = 2000, simulate_workloads: bool = True
    ) -> None:
        self.path = path
        self.simulate_workloads = simulate_workloads
        self.lock = threading.RLock()
        self.cond = threading.Condition(self.lock)
        self.objects: dict[Key, JSON] = {}
        self.rv = 0
        self.history: deque[WatchEvent] = deque(maxlen=history)
        self.compacted_rv = 0
        self.closed = False
        self._types: dict[tuple[str, str], ResourceType] | None = None
        self._batch = 0
        self._dirty = False
        if path is not None:
            # A process killed between writing a temp file and renaming it leaves that file behind.
            for stale in path.parent.glob(f".{path.name}.*") if path.parent.is_dir() else ():
                with contextlib.suppress(OSError):
                    stale.unlink()
            if path.exists():
                self._load(path)

    # --- persistence -------------------------------------------------------------------------------------

    def _load(self, path: Path) -> None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict) or data.get("format") != STATE_FORMAT:
                raise ValueError("unknown state format")
            objects = {}
            for entry in data["objects"]:
                meta = entry["object"]["metadata"]
                key = (entry["group"], entry["plural"], meta.get("namespace", ""), meta["name"])
                objects[key] = entry["object"]
            self.objects = objects
            self.rv = int(data["resourceVersion"])
        except (OSError, ValueError, KeyError, TypeError):
            # Writes are atomic, so this is a foreign or hand-edited file: keep it aside, start empty.
            with contextlib.suppress(OSError):
                path.replace(path.with_name(path.name + ".corrupt"))
            self.objects = {}
            self.rv = 0
        # Watch history is not persisted: any watch from before the restart must relist.
        self.compacted_rv = self.rv
        self._types = None

    def _save(self) -> None:
        if self.path is None:
            return
        if self._batch:
            self._dirty = True
            return
        entries = [{"group": k[0], "plural": k[1], "object": o} for k, o in sorted(self.objects.items())]
        text = json.dumps({"format": STATE_FORMAT, "resourceVersion": self.rv, "objects": entries})
        # No fsync: the rename is atomic against a killed process, which is the failure the sandbox
        # must survive; fsync per write cost ~4 ms here and guards only against power loss.
        write_atomic(self.path, text.encode("utf-8"), mode=0o600, fsync=False)

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Group several changes into one state-file write (seeding, cascading deletes)."""
        with self.lock:
            self._batch += 1
            try:
                yield
            finally:
                self._batch -= 1
                if self._batch == 0 and self._dirty:
                    self._dirty = False
                    self._save()

    # --- types -------------------------------------------------------------------------------------------

    def types(self) -> dict[tuple[str, str], ResourceType]:
        with self.lock:
            if self._types is None:
                types = {(t.group, t.plural): t for t in BUILTIN_TYPES}
                for key, obj in self.objects.items():
                    if key[0] == CRD_GROUP and key[1] == "customresourcedefinitions":
                        rt = type_from_crd(obj)
                        if rt is not None and (rt.group, rt.plural) not in types:
                            types[(rt.group, rt.plural)] = rt
                self._types = types
            return self._types

    def resolve(self, group: str, version: str, plural: str) -> ResourceType | None:
        rt = self.types().get((group, plural))
        return rt if rt is not None and version in rt.versions else None

    def by_kind(self, kind: str, api_version: str | None = None) -> ResourceType | None:
        group = version = None
        if api_version:
            group, _, version = api_version.rpartition("/")
        for rt in self.types().values():
            if (
                rt.kind == kind
                and (group is None or rt.group == group)
                and (version is None or version in rt.versions)
            ):
                return rt
        return None

    # --- reads -------------------------------------------------------------------------------------------

    @staticmethod
    def present(obj: JSON, rt: ResourceType, version: str | None = None) -> JSON:
        out = copy.deepcopy(obj)
        out["apiVersion"] = rt.api_version(version)
        out["kind"] = rt.kind
        return out

    def get(self, rt: ResourceType, namespace: str, name: str, version: str | None = None) -> JSON:
        with self.lock:
            _, obj = self._stored(rt, namespace, name)
            return self.present(obj, rt, version)

    def list(
        self,
        rt: ResourceType,
        namespace: str | None,
        version: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> tuple[list[JSON], str]:
        match = self.matcher(label_selector, field_selector)
        with self.lock:
            items = [
                self.present(obj, rt, version)
                for key, obj in sorted(self.objects.items())
                if key[0] == rt.group
                and key[1] == rt.plural
                and (namespace is None or not rt.namespaced or key[2] == namespace)
                and match(obj)
            ]
            return items, str(self.rv)

    @staticmethod
    def matcher(label_selector: str | None, field_selector: str | None) -> Callable[[JSON], bool]:
        try:
            labels = parse_label_selector(label_selector) if label_selector else None
            fields = parse_field_selector(field_selector) if field_selector else None
        except ValueError as err:
            raise bad_request(str(err)) from err

        def match(obj: JSON) -> bool:
            if labels is not None and not labels((obj.get("metadata") or {}).get("labels") or {}):
                return False
            return fields is None or fields(obj)

        return match

    # --- writes ------------------------------------------------------------------------------------------

    def _commit(self, rt: ResourceType, key: Key, obj: JSON | None, kind: str) -> None:
        """Record a change: new resourceVersion, watch event, state file, wake watchers. Caller holds lock."""
        self.rv += 1
        if obj is None:
            old = self.objects.pop(key)
            old["metadata"]["resourceVersion"] = str(self.rv)
            snapshot = old
        else:
            obj["metadata"]["resourceVersion"] = str(self.rv)
            self.objects[key] = obj
            snapshot = copy.deepcopy(obj)
        if len(self.history) == self.history.maxlen:
            self.compacted_rv = self.history[0].rv
        self.history.append(WatchEvent(self.rv, kind, rt.group, rt.plural, key[2], snapshot))
        if rt.group == CRD_GROUP:
            self._types = None
        self._save()
        self.cond.notify_all()

    def _commit_and_sync(
        self,
        rt: ResourceType,
        key: Key,
        obj: JSON | None,
        kind: str,
        namespace: str,
        name: str,
        *,
        pods: bool = True,
    ) -> None:
        """`_commit`, then (when `pods`) bring a simulated Deployment's pods in line with it. Caller holds lock."""
        self._commit(rt, key, obj, kind)
        if pods and self._simulated_workload(rt):
            self.sync_workload(namespace, name)

    def _default_and_validate(
        self,
        rt: ResourceType,
        version: str,
        obj: JSON,
        options: WriteOptions,
    ) -> None:
        """Fill the type's defaults into `obj` and validate it as `options` ask."""
        self._defaults(rt, obj)
        found = self._validate(rt, version, obj, options.field_validation)
        if options.warnings is not None:
            options.warnings.extend(found)

    def _key(self, rt: ResourceType, namespace: str, name: str) -> Key:
        return (rt.group, rt.plural, namespace if rt.namespaced else "", name)

    def _stored(self, rt: ResourceType, namespace: str, name: str) -> tuple[Key, JSON]:
        """The object's key and stored object; NotFound when there is none. Caller holds lock."""
        key = self._key(rt, namespace, name)
        current = self.objects.get(key)
        if current is None:
            raise not_found(rt, name)
        return key, current

    def _check_body(self, rt: ResourceType, version: str, body: Any) -> JSON:
        if not isinstance(body, dict):
            raise bad_request("the request body must be a JSON object")
        kind = body.get("kind")
        if kind not in (None, rt.kind):
            raise bad_request(
                f"the kind of the provided object ({kind}) does not match the resource ({rt.kind})"
            )
        api_version = body.get("apiVersion")
        if api_version not in (None, rt.api_version(version)):
            group = str(api_version).rpartition("/")[0]
            if group != rt.group:
                raise bad_request(
                    f"the API version in the data ({api_version}) does not match the expected API version "
                    f"({rt.api_version(version)})"
                )
        meta = body.get("metadata")
        if meta is None:
            body["metadata"] = meta = {}
        if not isinstance(meta, dict):
            raise bad_request("metadata must be an object")
        return body

    def create(
        self,
        rt: ResourceType,
        namespace: str,
        body: Any,
        version: str | None = None,
        *,
        options: WriteOptions = PLAIN_WRITE,
        keep_status: bool = False,
        operation: str = "Update",
    ) -> JSON:
        version = version or rt.storage_version
        obj = copy.deepcopy(self._check_body(rt, version, body))
        meta = obj["metadata"]
        with self.lock:
            name = meta.get("name")
            if not name and meta.get("generateName"):
                name = f"{meta['generateName']}{secrets.token_hex(3)[:5]}"
                meta["name"] = name
            if not name:
                raise invalid(rt, "", "metadata.name", "", "name or generateName is required")
            self._validate_name(rt, name)
            if rt.namespaced:
                if meta.get("namespace") not in (None, "", namespace):
                    raise bad_request(
                        "the namespace of the provided object does not match "
                        "the namespace sent on the request"
                    )
                meta["namespace"] = namespace
                self._require_namespace(namespace)
            else:
                meta.pop("namespace", None)
            key = self._key(rt, namespace, name)
            if key in self.objects:
                raise ApiError(
                    409,
                    "AlreadyExists",
                    f'{rt.resource} "{name}" already exists',
                    {"name": name, "group": rt.group, "kind": rt.plural},
                )
            meta["uid"] = str(uuid.uuid4())
            meta["creationTimestamp"] = now_rfc3339()
            for transient in ("resourceVersion", "deletionTimestamp", "selfLink", "managedFields"):
                meta.pop(transient, None)
            if rt.generation:
                meta["generation"] = 1
            else:
                meta.pop("generation", None)
            if rt.status_subresource and not keep_status:
                obj.pop("status", None)
            self._default_and_validate(rt, version, obj, options)
            if self._simulated_workload(rt) and not (keep_status and "status" in obj):
                obj["status"] = deployment_ready_status(obj)
            obj["apiVersion"] = rt.api_version(version)
            obj["kind"] = rt.kind
            if options.manager:
                meta["managedFields"] = managed_fields(
                    [], obj, options.manager, operation, rt.api_version(version)
                )
            if not options.dry_run:
                self._commit_and_sync(rt, key, obj, "ADDED", namespace, name)
            return self.present(obj, rt, version)

    def replace(
        self,
        rt: ResourceType,
        namespace: str,
        name: str,
        body: Any,
        version: str | None = None,
        *,
        subresource: str | None = None,
        options: WriteOptions = PLAIN_WRITE,
        operation: str = "Update",
        applied: Any = None,
    ) -> JSON:
        version = version or rt.storage_version
        body = self._check_body(rt, version, body)
        with self.lock:
            key, current = self._stored(rt, namespace, name)
            meta = body["metadata"]
            if meta.get("name") not in (None, name):
                raise bad_request(
                    f"the name of the object ({meta.get('name')}) does not match the name on the URL ({name})"
                )
            if meta.get("resourceVersion") not in (None, "", current["metadata"]["resourceVersion"]):
                raise ApiError(
                    409,
                    "Conflict",
                    f'Operation cannot be fulfilled on {rt.resource} "{name}": the object has been modified; '
                    "please apply your changes to the latest version and try again",
                    {"name": name, "group": rt.group, "kind": rt.plural},
                )
            if subresource == "status":
                new = copy.deepcopy(current)
                if body.get("status") is None:
                    new.pop("status", None)
                else:
                    new["status"] = copy.deepcopy(body["status"])
            elif subresource is not None:
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
            else:
                new = copy.deepcopy(body)
                new_meta = new["metadata"]
                for keep in ("uid", "creationTimestamp", "generation", "resourceVersion"):
                    if keep in current["metadata"]:
                        new_meta[keep] = current["metadata"][keep]
                    else:
                        new_meta.pop(keep, None)
                new_meta["name"] = name
                if rt.namespaced:
                    new_meta["namespace"] = namespace
                else:
                    new_meta.pop("namespace", None)
                new_meta.pop("managedFields", None)
                if "managedFields" in current["metadata"]:
                    new_meta["managedFields"] = copy.deepcopy(current["metadata"]["managedFields"])
                if rt.status_subresource:
                    if "status" in current:
                        new["status"] = copy.deepcopy(current["status"])
                    else:
                        new.pop("status", None)
                self._default_and_validate(rt, version, new, options)
                if rt.generation and _spec_part(new) != _spec_part(current):
                    new_meta["generation"] = int(current["metadata"].get("generation", 1)) + 1
                    if self._simulated_workload(rt):
                        new["status"] = deployment_ready_status(new)
            new["apiVersion"] = current.get("apiVersion", rt.api_version())
            new["kind"] = rt.kind
            if new == current:
                return self.present(current, rt, version)
            if options.manager:
                new["metadata"]["managedFields"] = managed_fields(
                    current["metadata"].get("managedFields") or [],
                    new,
                    options.manager,
                    operation,
                    rt.api_version(version),
                    subresource,
                    applied,
                )
            if not options.dry_run:
                self._commit_and_sync(rt, key, new, "MODIFIED", namespace, name, pods=subresource is None)
            return self.present(new, rt, version)

    def patch(
        self,
        rt: ResourceType,
        namespace: str,
        name: str,
        patch_type: str,
        body: Any,
        version: str | None = None,
        *,
        subresource: str | None = None,
        options: WriteOptions = PLAIN_WRITE,
    ) -> tuple[JSON, bool]:
        """Apply a patch; returns (object, created). Server-side apply creates missing objects."""
        with self.lock:
            key = self._key(rt, namespace, name)
            current = self.objects.get(key)
            if current is None:
                if patch_type == "apply" and subresource is None:
                    if isinstance(body, dict):
                        body.setdefault("metadata", {}).setdefault("name", name)
                    created = self.create(rt, namespace, body, version, options=options, operation="Apply")
                    return created, True
                raise not_found(rt, name)
            base = self.present(current, rt, version)
            try:
                if patch_type == "json":
                    patched = json_patch(base, body)
                elif patch_type == "merge":
                    patched = merge_patch(base, body)
                elif patch_type in ("strategic", "apply"):
                    patched = strategic_merge_patch(base, body)
                else:
                    raise ApiError(
                        415, "UnsupportedMediaType", f"the media type {patch_type} is not supported"
                    )
            except PatchError as err:
                raise ApiError(422, "Invalid", str(err)) from err
            if not isinstance(patched, dict):
                raise bad_request("the patch did not produce an object")
            meta = patched.setdefault("metadata", {})
            if meta.get("resourceVersion") == base["metadata"].get("resourceVersion"):
                meta.pop("resourceVersion", None)
            replaced = self.replace(
                rt,
                namespace,
                name,
                patched,
                version,
                subresource=subresource,
                options=options,
                operation="Apply" if patch_type == "apply" else "Update",
                applied=body if patch_type == "apply" else None,
            )
            return replaced, False

    def delete(
        self,
        rt: ResourceType,
        namespace: str,
        name: str,
        version: str | None = None,
        *,
        dry_run: bool = False,
    ) -> JSON:
        with self.lock:
            key, current = self._stored(rt, namespace, name)
            shown = self.present(current, rt, version)
            if dry_run:
                return shown
            with self.batch():
                if rt.group == "" and rt.plural == "namespaces":
                    for other in [k for k in self.objects if k[2] == name and k[0:2] != ("", "namespaces")]:
                        other_rt = self.types().get(other[0:2])
                        if other_rt is not None and other_rt.namespaced:
                            self._commit(other_rt, other, None, "DELETED")
                if rt.group == CRD_GROUP:
                    crd_type = type_from_crd(current)
                    if crd_type is not None:
                        for other in [k for k in self.objects if k[0:2] == (crd_type.group, crd_type.plural)]:
                            self._commit(crd_type, other, None, "DELETED")
                self._commit_and_sync(rt, key, None, "DELETED", namespace, name)
            return shown

    # --- helpers -----------------------------------------------------------------------------------------

    def _validate_name(self, rt: ResourceType, name: str) -> None:
        rule = DNS_LABEL if rt.plural == "namespaces" else DNS_SUBDOMAIN
        if len(name) > 253 or not rule.fullmatch(name):
            kind = "RFC 1123 label" if rt.plural == "namespaces" else "RFC 1123 subdomain"
            raise invalid(
                rt,
                name,
                "metadata.name",
                name,
                f"a lowercase {kind} must consist of lower case alphanumeric characters, '-' or '.', "
                "and must start and end with an alphanumeric character",
            )

    def _require_namespace(self, namespace: str) -> None:
        if ("", "namespaces", "", namespace) not in self.objects:
            raise ApiError(
                404,
                "NotFound",
                f'namespaces "{namespace}" not found',
                {"name": namespace, "kind": "namespaces"},
            )

    def _defaults(self, rt: ResourceType, obj: JSON) -> None:
        """What admission and the built-in controllers would have written by the time a client looks."""
        from lab.sandbox.kubeapi.validation import default  # the CRDs' schema defaults

        default(rt, obj)
        if rt.group == "" and rt.plural == "namespaces":
            obj.setdefault("spec", {"finalizers": ["kubernetes"]})
            obj["status"] = {"phase": "Active"}
            labels = obj["metadata"].setdefault("labels", {})
            labels["kubernetes.io/metadata.name"] = obj["metadata"]["name"]
        elif rt.group == "" and rt.plural == "services":
            spec = obj.setdefault("spec", {})
            if isinstance(spec, dict):
                spec.setdefault("type", "ClusterIP")
                if spec.get("clusterIP") in (None, ""):
                    # A stable address per name, inside the usual service CIDR.
                    digest = uuid.uuid5(uuid.NAMESPACE_DNS, obj["metadata"]["name"]).bytes
                    spec["clusterIP"] = f"10.96.{digest[0]}.{max(digest[1], 1)}"
                for port in spec.get("ports") or []:
                    if isinstance(port, dict):
                        port.setdefault("protocol", "TCP")
                        port.setdefault("targetPort", port.get("port"))
            obj.setdefault("status", {"loadBalancer": {}})
        elif rt.group == CRD_GROUP and rt.plural == "customresourcedefinitions":
            spec = obj.get("spec") or {}
            names = spec.get("names") or {}
            expected = f"{names.get('plural')}.{spec.get('group')}"
            if obj["metadata"]["name"] != expected:
                raise invalid(
                    rt,
                    obj["metadata"]["name"],
                    "metadata.name",
                    obj["metadata"]["name"],
                    'must be spec.names.plural+"."+spec.group',
                )
            if "status" not in obj:
                versions = [v.get("name") for v in spec.get("versions") or [] if v.get("storage")]
                obj["status"] = {
                    "acceptedNames": names,
                    "conditions": [
                        {"type": "Established", "status": "True", "reason": "InitialNamesAccepted"}
                    ],
                    "storedVersions": versions,
                }

    def _validate(
        self, rt: ResourceType, version: str, obj: JSON, field_validation: str
    ) -> builtins.list[str]:
        from lab.sandbox.kubeapi.validation import validate  # validation raises this module's ApiError

        return validate(rt, version, obj, field_validation)

    def _simulated_workload(self, rt: ResourceType) -> bool:
        # No kubelet here: a Deployment is available as soon as a new generation is written.
        return self.simulate_workloads and rt.group == "apps" and rt.plural == "deployments"

    def sync_workload(self, namespace: str, name: str) -> None:
        """Create and delete the pods of Deployment `namespace/name` as its controllers would."""
        if not self.simulate_workloads:
            return
        with self.lock, self.batch():
            rt = self.types()[workloads.PODS]

            def delete(key: Key) -> None:
                if key in self.objects:
                    self._commit(rt, key, None, "DELETED")

            def create(pod: JSON) -> None:
                meta = pod["metadata"]
                meta["uid"] = str(uuid.uuid4())
                meta["creationTimestamp"] = now_rfc3339()
                self._commit(rt, self._key(rt, meta["namespace"], meta["name"]), pod, "ADDED")

            workloads.sync(self.objects, namespace, name, delete, create)

    def sync_workloads(self) -> None:
        """Pods for every Deployment (a state file from before pods were simulated has none)."""
        with self.lock:
            for key in [k for k in self.objects if k[0:2] == workloads.DEPLOYMENTS]:
                self.sync_workload(key[2], key[3])

    def wait_for_change(self, since: int, timeout: float) -> int:
        with self.cond:
            self.cond.wait_for(lambda: self.rv > since or self.closed, timeout=timeout)
            return self.rv

    def events_after(
        self, rv: int, rt: ResourceType, namespace: str | None, match: Callable[[JSON], bool]
    ) -> builtins.list[WatchEvent]:
        """Watch events newer than `rv`; raises 410 when history no longer reaches back that far."""
        with self.lock:
            if rv < self.compacted_rv:
                raise ApiError(410, "Expired", f"too old resource version: {rv} ({self.compacted_rv})")
            return [
                e
                for e in self.history
                if e.rv > rv
                and e.group == rt.group
                and e.plural == rt.plural
                and (namespace is None or e.namespace == namespace)
                and match(e.object)
            ]

    def close(self) -> None:
        with self.cond:
            self.closed = True
            self.cond.notify_all()

    def trim_events(self, keep: int = MAX_EVENTS) -> None:
        with self.lock:
            events = [k for k in self.objects if k[0:2] == ("", "events")]
            if len(events) <= keep:
                return
            events.sort(key=lambda k: int(self.objects[k]["metadata"]["resourceVersion"]))
            rt = self.types()[("", "events")]
            with self.batch():
                for key in events[: len(events) - keep]:
                    self._commit(rt, key, None, "DELETED")


def deployment_ready_status(obj: JSON) -> JSON:
    replicas = int((obj.get("spec") or {}).get("replicas", 1))
    name = obj["metadata"]["name"]
    stamp = now_rfc3339()
    return {
        "observedGeneration": obj["metadata"].get("generation", 1),
        "replicas": replicas,
        "updatedReplicas": replicas,
        "readyReplicas": replicas,
        "availableReplicas": replicas,
        "conditions": [
            {
                "type": "Available",
                "status": "True",
                "reason": "MinimumReplicasAvailable",
                "message": "Deployment has minimum availability.",
                "lastUpdateTime": stamp,
                "lastTransitionTime": stamp,
            },
            {
                "type": "Progressing",
                "status": "True",
                "reason": "NewReplicaSetAvailable",
                "message": f'ReplicaSet "{name}-{secrets.token_hex(5)}" has successfully progressed.',
                "lastUpdateTime": stamp,
                "lastTransitionTime": stamp,
            },
        ],
    }


def _fieldset(value: Any) -> JSON:
    # FieldsV1 in short: maps by key; lists and scalars are owned whole (the lab keeps no list keys).
    if isinstance(value, dict):
        return {f"f:{k}": _fieldset(v) for k, v in sorted(value.items())}
    return {}


def _owned(obj: Any, subresource: str | None) -> JSON:
    if not isinstance(obj, dict):
        return {}
    if subresource == "status":
        return {"f:status": _fieldset(obj.get("status"))} if obj.get("status") is not None else {}
    out: JSON = {}
    meta = obj.get("metadata")
    meta = meta if isinstance(meta, dict) else {}
    kept = {k: meta[k] for k in ("labels", "annotations", "finalizers") if k in meta}
    if kept:
        out["f:metadata"] = _fieldset(kept)
    for key, value in sorted(obj.items()):
        if key not in ("apiVersion", "kind", "metadata", "status"):
            out[f"f:{key}"] = _fieldset(value)
    return out


def managed_fields(
    current: builtins.list[JSON],
    obj: JSON,
    manager: str,
    operation: str,
    api_version: str,
    subresource: str | None = None,
    applied: Any = None,
) -> builtins.list[JSON]:
    """metadata.managedFields after a write: one entry per manager, operation and subresource.

    An Apply entry owns exactly the fields of the applied configuration, as server-side apply records
    them; an Update entry owns what the written object holds.
    """
    entry: JSON = {
        "manager": manager,
        "operation": operation,
        "apiVersion": api_version,
        "time": now_rfc3339(),
        "fieldsType": "FieldsV1",
        "fieldsV1": _owned(applied if applied is not None else obj, subresource),
    }
    if subresource:
        entry["subresource"] = subresource
    same = (manager, operation, subresource)
    kept = [
        e
        for e in current
        if isinstance(e, dict) and (e.get("manager"), e.get("operation"), e.get("subresource")) != same
    ]
    return [*kept, entry]
