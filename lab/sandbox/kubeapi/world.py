"""What a cluster with Flux installed contains before the learner applies anything."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import replace

from lab.core.manifests.models import IMAGE_CONTROLLERS
from lab.sandbox.kubeapi.resources import CORE_CRDS, CRD_GROUP, IMAGE_CRDS, JSON, crd_object
from lab.sandbox.kubeapi.store import ApiError, Store

FLUX_NAMESPACE = "flux-system"
CORE_COMPONENTS = ("source-controller", "kustomize-controller", "helm-controller", "notification-controller")
SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")

# Controller tags per Flux distribution. The image controllers' tags are the released ones; the
# others are illustrative and only shown by `flux check`-like output.
_TAGS: dict[str, dict[str, str]] = {
    "v2.8": {
        "source-controller": "v1.7.4",
        "kustomize-controller": "v1.7.3",
        "helm-controller": "v1.4.5",
        "notification-controller": "v1.7.5",
        "image-reflector-controller": "v1.1.1",
        "image-automation-controller": "v1.1.1",
    },
    "v2.9": {
        "source-controller": "v1.8.2",
        "kustomize-controller": "v1.8.1",
        "helm-controller": "v1.5.1",
        "notification-controller": "v1.8.1",
        "image-reflector-controller": "v1.2.4",
        "image-automation-controller": "v1.2.4",
    },
}


def default_flux_version(image_api_versions: Sequence[str]) -> str:
    """Flux 2.8 still serves image v1beta2; 2.9 serves v1 only."""
    return "v2.8.2" if "v1beta2" in image_api_versions else "v2.9.4"


def image_crd_categories(flux_version: str) -> bool:
    """Whether the image CRDs of this Flux are in the kubectl categories all, fluxcd, fluxcd-images: from
    Flux 2.9 (image-automation-controller v1.2.1, image-reflector-controller v1.2.1); 2.8's have none."""
    minor = flux_version.lstrip("v").split(".")[:2]
    return [int(p) for p in minor if p.isdigit()] >= [2, 9]


def flux_labels(flux_version: str, component: str | None = None) -> dict[str, str]:
    # The kustomize.toolkit.fluxcd.io labels are what `flux check` reads as "bootstrapped: true".
    labels = {
        "app.kubernetes.io/instance": FLUX_NAMESPACE,
        "app.kubernetes.io/part-of": "flux",
        "app.kubernetes.io/version": flux_version,
        "kustomize.toolkit.fluxcd.io/name": FLUX_NAMESPACE,
        "kustomize.toolkit.fluxcd.io/namespace": FLUX_NAMESPACE,
    }
    if component:
        labels["app.kubernetes.io/component"] = component
    return labels


def controller_image(component: str, flux_version: str) -> str:
    minor = ".".join(flux_version.split(".")[:2])
    tag = _TAGS.get(minor, _TAGS["v2.9"])[component]
    return f"ghcr.io/fluxcd/{component}:{tag}"


def controller_deployment(component: str, flux_version: str) -> JSON:
    labels = {**flux_labels(flux_version, component), "control-plane": "controller"}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": component, "namespace": FLUX_NAMESPACE, "labels": labels},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": component}},
            "template": {
                "metadata": {"labels": {"app": component}},
                "spec": {
                    "serviceAccountName": component,
                    "containers": [
                        {
                            "name": "manager",
                            "image": controller_image(component, flux_version),
                            "args": [
                                "--events-addr=http://notification-controller.flux-system.svc.cluster.local./"
                            ],
                        }
                    ],
                },
            },
        },
    }


def _upsert(store: Store, obj: JSON) -> None:
    rt = store.by_kind(obj["kind"], obj["apiVersion"])
    if rt is None:
        raise RuntimeError(f"{obj['kind']} is not a known type")
    meta = obj["metadata"]
    namespace = meta.get("namespace", "")
    try:
        current = store.get(rt, namespace, meta["name"])
    except ApiError:
        store.create(rt, namespace, obj, keep_status=True)
        return
    desired = copy.deepcopy(current)
    desired["metadata"]["labels"] = {
        **(current["metadata"].get("labels") or {}),
        **(meta.get("labels") or {}),
    }
    if "spec" in obj:
        desired["spec"] = obj["spec"]
    store.replace(rt, namespace, meta["name"], desired)
    if "status" in obj and rt.status_subresource and rt.group == CRD_GROUP:
        store.replace(rt, namespace, meta["name"], {"status": obj["status"]}, subresource="status")


def _remove(store: Store, kind: str, api_version: str, namespace: str, name: str) -> None:
    rt = store.by_kind(kind, api_version)
    if rt is None:
        return
    try:
        store.delete(rt, namespace, name)
    except ApiError:
        pass


def ensure_world(
    store: Store,
    *,
    image_api_versions: Sequence[str] = ("v1",),
    image_controllers: bool = True,
    flux_version: str | None = None,
) -> str:
    """Make the store hold Flux as configured; idempotent, keeps learners' objects. Returns the version."""
    versions = [v for v in ("v1", "v1beta2", "v1beta1") if v in image_api_versions]
    version = flux_version or default_flux_version(versions)
    with store.batch():
        for ns in (*SYSTEM_NAMESPACES, FLUX_NAMESPACE):
            labels = flux_labels(version) if ns == FLUX_NAMESPACE else {}
            _upsert(
                store, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns, "labels": labels}}
            )
        for spec, crd_versions in CORE_CRDS:
            _upsert(store, crd_object(spec, crd_versions, flux_labels(version, spec.component)))
        for component in CORE_COMPONENTS:
            _upsert(store, controller_deployment(component, version))
        if image_controllers and versions:
            for spec in IMAGE_CRDS:
                spec = spec if image_crd_categories(version) else replace(spec, categories=())
                _upsert(store, crd_object(spec, versions, flux_labels(version, spec.component)))
            for component in IMAGE_CONTROLLERS:
                _upsert(store, controller_deployment(component, version))
        else:
            for spec in IMAGE_CRDS:
                _remove(
                    store, "CustomResourceDefinition", f"{CRD_GROUP}/v1", "", f"{spec.plural}.{spec.group}"
                )
            for component in IMAGE_CONTROLLERS:
                _remove(store, "Deployment", "apps/v1", FLUX_NAMESPACE, component)
        store.sync_workloads()
    return version
