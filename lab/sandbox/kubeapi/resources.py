"""Resource types the loopback API server serves: built-in kinds plus whatever the stored CRDs define.

Discovery is derived from the CustomResourceDefinition objects in the store, as on a real API server, so
"image controllers not installed" is simply "no image CRDs", and installing them later makes the group appear.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import field
from typing import Any

from lab.core.manifests.models import IMAGE_GROUP, KUSTOMIZE_GROUP, SOURCE_GROUP
from lab.core.manifests.schema import crd_schema
from lab.core.record import dataclass

JSON = dict[str, Any]

ALL_VERBS: tuple[str, ...] = (
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
)
STATUS_VERBS: tuple[str, ...] = ("get", "patch", "update")

CRD_GROUP = "apiextensions.k8s.io"


@dataclass(frozen=True)
class Column:
    """A table column; `path` is the small JSONPath subset CRDs use (see tables.py)."""

    name: str
    path: str
    type: str = "string"
    priority: int = 0
    description: str = ""


@dataclass(frozen=True)
class ResourceType:
    group: str
    versions: tuple[str, ...]
    plural: str
    singular: str
    kind: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    status_subresource: bool = False
    # Objects whose spec changes bump metadata.generation (CRDs and workloads, not ConfigMaps).
    generation: bool = True
    columns: tuple[Column, ...] = ()
    verbs: tuple[str, ...] = ALL_VERBS
    deprecated_versions: Mapping[str, str] = field(default_factory=dict)
    # Defined by a CustomResourceDefinition: no strategic-merge patch (no patch strategies to merge by).
    custom: bool = False
    # Serves the autoscaling/v1 Scale subresource (`kubectl scale`).
    scale_subresource: bool = False

    @property
    def resource(self) -> str:
        """`plural.group` as RBAC and error messages spell it (`pods` for the core group)."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def storage_version(self) -> str:
        return self.versions[0]

    def api_version(self, version: str | None = None) -> str:
        v = version or self.storage_version
        return f"{self.group}/{v}" if self.group else v


_READY = '.status.conditions[?(@.type=="Ready")].status'
_STATUS = '.status.conditions[?(@.type=="Ready")].message'
_AGE = Column("Age", ".metadata.creationTimestamp", "date")


BUILTIN_TYPES: tuple[ResourceType, ...] = (
    ResourceType(
        "",
        ("v1",),
        "namespaces",
        "namespace",
        "Namespace",
        False,
        ("ns",),
        status_subresource=True,
        generation=False,
        columns=(Column("Status", ".status.phase"), _AGE),
    ),
    ResourceType(
        "",
        ("v1",),
        "configmaps",
        "configmap",
        "ConfigMap",
        True,
        ("cm",),
        generation=False,
        columns=(Column("Data", ".data", "datacount"), _AGE),
    ),
    ResourceType(
        "",
        ("v1",),
        "secrets",
        "secret",
        "Secret",
        True,
        generation=False,
        columns=(Column("Type", ".type"), Column("Data", ".data", "datacount"), _AGE),
    ),
    ResourceType(
        "",
        ("v1",),
        "serviceaccounts",
        "serviceaccount",
        "ServiceAccount",
        True,
        ("sa",),
        generation=False,
        columns=(_AGE,),
    ),
    ResourceType(
        "",
        ("v1",),
        "services",
        "service",
        "Service",
        True,
        ("svc",),
        ("all",),
        status_subresource=True,
        generation=False,
        columns=(
            Column("Type", ".spec.type"),
            Column("Cluster-IP", ".spec.clusterIP"),
            Column("Ports", ".spec.ports", "ports"),
            _AGE,
        ),
    ),
    ResourceType(
        "",
        ("v1",),
        "events",
        "event",
        "Event",
        True,
        ("ev",),
        generation=False,
        columns=(
            Column("Last Seen", ".lastTimestamp", "date"),
            Column("Type", ".type"),
            Column("Reason", ".reason"),
            Column("Object", ".involvedObject", "objectref"),
            Column("Message", ".message"),
        ),
    ),
    ResourceType(
        "",
        ("v1",),
        "pods",
        "pod",
        "Pod",
        True,
        ("po",),
        ("all",),
        status_subresource=True,
        generation=False,
        columns=(
            Column("Ready", "", "podready"),
            Column("Status", ".status.phase"),
            Column("Restarts", "", "restarts"),
            _AGE,
            Column("IP", ".status.podIP", priority=1),
            Column("Node", ".spec.nodeName", priority=1),
        ),
    ),
    ResourceType(
        "apps",
        ("v1",),
        "deployments",
        "deployment",
        "Deployment",
        True,
        ("deploy",),
        ("all",),
        status_subresource=True,
        scale_subresource=True,
        columns=(
            Column("Ready", "", "deployready"),
            Column("Up-to-date", ".status.updatedReplicas", "integer"),
            Column("Available", ".status.availableReplicas", "integer"),
            _AGE,
            Column("Containers", ".spec.template.spec.containers[*].name", priority=1),
            Column("Images", ".spec.template.spec.containers[*].image", priority=1),
        ),
    ),
    ResourceType(
        CRD_GROUP,
        ("v1",),
        "customresourcedefinitions",
        "customresourcedefinition",
        "CustomResourceDefinition",
        False,
        ("crd", "crds"),
        status_subresource=True,
        columns=(Column("Created At", ".metadata.creationTimestamp", "timestamp"),),
    ),
)


@dataclass(frozen=True)
class CRDSpec:
    """The parts of a Flux CRD the lab needs."""

    group: str
    plural: str
    singular: str
    kind: str
    short_names: tuple[str, ...]
    categories: tuple[str, ...]
    columns: tuple[Column, ...]
    component: str


_REPO_COLUMNS = (
    Column("Image", ".spec.image"),
    Column("Tags", ".status.lastScanResult.tagCount"),
    Column("Ready", _READY),
    Column("Status", _STATUS),
    Column("Last scan", ".status.lastScanResult.scanTime", priority=1),
    _AGE,
)
_POLICY_COLUMNS = (
    Column("Image", ".status.latestRef.name"),
    Column("Tag", ".status.latestRef.tag"),
    Column("Ready", _READY),
    Column("Status", _STATUS),
    _AGE,
)
# In the CRD's order (IAC config/crd/bases, v1 and v1beta2 alike): `kubectl get -o wide` shows Last run
# after Status, not first.
_IUA_COLUMNS = (
    Column("Ready", _READY),
    Column("Status", _STATUS),
    Column("Last run", ".status.lastAutomationRunTime", priority=1),
    _AGE,
)
_IMAGE_CATEGORIES = ("fluxcd", "fluxcd-images", "all")

IMAGE_CRDS: tuple[CRDSpec, ...] = (
    CRDSpec(
        IMAGE_GROUP,
        "imagerepositories",
        "imagerepository",
        "ImageRepository",
        ("imgrepo", "imagerepo"),
        _IMAGE_CATEGORIES,
        _REPO_COLUMNS,
        "image-reflector-controller",
    ),
    CRDSpec(
        IMAGE_GROUP,
        "imagepolicies",
        "imagepolicy",
        "ImagePolicy",
        ("imgpol", "imagepol"),
        _IMAGE_CATEGORIES,
        _POLICY_COLUMNS,
        "image-reflector-controller",
    ),
    CRDSpec(
        IMAGE_GROUP,
        "imageupdateautomations",
        "imageupdateautomation",
        "ImageUpdateAutomation",
        ("iua", "imgupd", "imgauto"),
        _IMAGE_CATEGORIES,
        _IUA_COLUMNS,
        "image-automation-controller",
    ),
)

_READY_COLUMNS = (_AGE, Column("Ready", _READY), Column("Status", _STATUS))


def _source(kind: str, short: str) -> tuple[CRDSpec, tuple[str, ...]]:
    """A source-controller kind: `GitRepository` -> gitrepositories, shown with its URL."""
    singular = kind.lower()
    plural = singular[:-1] + "ies" if singular.endswith("y") else singular + "s"
    columns = (Column("URL", ".spec.url"), *_READY_COLUMNS)
    categories = ("fluxcd", "fluxcd-sources", "all")
    return CRDSpec(
        SOURCE_GROUP, plural, singular, kind, (short,), categories, columns, "source-controller"
    ), ("v1",)


CORE_CRDS: tuple[tuple[CRDSpec, tuple[str, ...]], ...] = (
    _source("GitRepository", "gitrepo"),
    _source("OCIRepository", "ocirepo"),
    _source("HelmRepository", "helmrepo"),
    (
        CRDSpec(
            KUSTOMIZE_GROUP,
            "kustomizations",
            "kustomization",
            "Kustomization",
            ("ks",),
            ("fluxcd", "all"),
            _READY_COLUMNS,
            "kustomize-controller",
        ),
        ("v1",),
    ),
    (
        CRDSpec(
            "helm.toolkit.fluxcd.io",
            "helmreleases",
            "helmrelease",
            "HelmRelease",
            ("hr",),
            ("fluxcd", "all"),
            _READY_COLUMNS,
            "helm-controller",
        ),
        ("v2",),
    ),
    (
        CRDSpec(
            "notification.toolkit.fluxcd.io",
            "providers",
            "provider",
            "Provider",
            (),
            ("fluxcd",),
            (_AGE,),
            "notification-controller",
        ),
        ("v1beta3",),
    ),
    (
        CRDSpec(
            "notification.toolkit.fluxcd.io",
            "alerts",
            "alert",
            "Alert",
            (),
            ("fluxcd",),
            (_AGE,),
            "notification-controller",
        ),
        ("v1beta3",),
    ),
)


def _column_json(col: Column) -> JSON:
    data: JSON = {"jsonPath": col.path, "name": col.name, "type": col.type}
    if col.priority:
        data["priority"] = col.priority
    return data


def crd_object(spec: CRDSpec, versions: Iterable[str], labels: Mapping[str, str]) -> JSON:
    """A CustomResourceDefinition like Flux's, its schema from lab.core.manifests.schema.

    `versions` are the served ones, newest (storage) first.
    """
    served = list(versions)
    storage = served[0]
    entries: list[JSON] = []
    for v in served:
        entry: JSON = {
            "additionalPrinterColumns": [_column_json(c) for c in spec.columns],
            "name": v,
            "schema": {"openAPIV3Schema": crd_schema(spec.group, spec.plural)},
            "served": True,
            "storage": v == storage,
            "subresources": {"status": {}},
        }
        if v != storage and spec.group == IMAGE_GROUP:
            entry["deprecated"] = True
            entry["deprecationWarning"] = f"{v} {spec.kind} is deprecated, upgrade to {storage}"
        entries.append(entry)
    names: JSON = {
        "kind": spec.kind,
        "listKind": f"{spec.kind}List",
        "plural": spec.plural,
        "singular": spec.singular,
    }
    if spec.short_names:
        names["shortNames"] = list(spec.short_names)
    if spec.categories:
        names["categories"] = list(spec.categories)
    return {
        "apiVersion": f"{CRD_GROUP}/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{spec.plural}.{spec.group}", "labels": dict(labels)},
        "spec": {"group": spec.group, "names": names, "scope": "Namespaced", "versions": entries},
        "status": {
            "acceptedNames": names,
            "conditions": [
                {
                    "type": "NamesAccepted",
                    "status": "True",
                    "reason": "NoConflicts",
                    "message": "no conflicts found",
                },
                {
                    "type": "Established",
                    "status": "True",
                    "reason": "InitialNamesAccepted",
                    "message": "the initial names have been accepted",
                },
            ],
            "storedVersions": [storage],
        },
    }


def type_from_crd(crd: JSON) -> ResourceType | None:
    """The ResourceType a stored CRD defines, or None when it is malformed or serves nothing."""
    spec = crd.get("spec")
    if not isinstance(spec, dict):
        return None
    names = spec.get("names") or {}
    group = spec.get("group")
    plural = names.get("plural")
    kind = names.get("kind")
    raw_versions = spec.get("versions") or []
    if not (isinstance(group, str) and isinstance(plural, str) and isinstance(kind, str)):
        return None
    served = [v for v in raw_versions if isinstance(v, dict) and v.get("served", True) and v.get("name")]
    if not served:
        return None
    # The storage version is the preferred one and is listed first in discovery.
    served.sort(key=lambda v: not v.get("storage", False))
    status = any("status" in (v.get("subresources") or {}) for v in served)
    columns: list[Column] = []
    for c in served[0].get("additionalPrinterColumns") or []:
        if isinstance(c, dict) and c.get("name") and c.get("jsonPath"):
            columns.append(
                Column(
                    str(c["name"]),
                    str(c["jsonPath"]),
                    str(c.get("type", "string")),
                    int(c.get("priority", 0)),
                )
            )
    if not any(c.path == ".metadata.creationTimestamp" for c in columns):
        columns.append(_AGE)
    deprecated = {
        str(v["name"]): str(v.get("deprecationWarning") or f"{group}/{v['name']} {kind} is deprecated")
        for v in served
        if v.get("deprecated")
    }
    return ResourceType(
        group=group,
        versions=tuple(str(v["name"]) for v in served),
        plural=plural,
        singular=str(names.get("singular") or kind.lower()),
        kind=kind,
        namespaced=spec.get("scope", "Namespaced") == "Namespaced",
        short_names=tuple(names.get("shortNames") or ()),
        categories=tuple(names.get("categories") or ()),
        status_subresource=status,
        columns=tuple(columns),
        deprecated_versions=deprecated,
        custom=True,
    )
