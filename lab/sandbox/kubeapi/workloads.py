"""Pods for the sandbox's Deployments, as the deployment and ReplicaSet controllers and a kubelet leave them.

There is no kubelet: every Deployment gets `spec.replicas` Running, Ready pods named as a cluster names them
(`<deployment>-<pod-template-hash>-<5 chars>`), owned by the ReplicaSet `<deployment>-<hash>`. Scaling to 0
removes them, a new template replaces them (a rollout), deleting the Deployment deletes them. So
`kubectl get pods -n flux-system` lists the controllers, and `kubectl logs deploy/NAME` finds a pod.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
import uuid
from collections.abc import Callable
from typing import Any

JSON = dict[str, Any]
# apimachinery's rand.SafeEncodeString alphabet: no vowels, no confusable characters.
_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
NODE = "fluxlab-sandbox"
DEPLOYMENTS = ("apps", "deployments")
PODS = ("", "pods")


def _safe(data: bytes, length: int) -> str:
    return "".join(_ALPHABET[b % len(_ALPHABET)] for b in hashlib.sha256(data).digest()[:length])


def template_hash(deployment: JSON) -> str:
    template = (deployment.get("spec") or {}).get("template") or {}
    return _safe(json.dumps(template, sort_keys=True).encode(), 10)


def replicas(deployment: JSON) -> int:
    value = (deployment.get("spec") or {}).get("replicas", 1)
    return value if isinstance(value, int) and value >= 0 else 1


def owner(pod: JSON) -> str | None:
    """The ReplicaSet name of a sandbox pod (`<deployment>-<hash>`), or None."""
    for ref in (pod.get("metadata") or {}).get("ownerReferences") or []:
        if isinstance(ref, dict) and ref.get("kind") == "ReplicaSet" and ref.get("controller"):
            return str(ref.get("name") or "")
    return None


def deployment_of(pod: JSON) -> str | None:
    rs = owner(pod)
    labels = (pod.get("metadata") or {}).get("labels") or {}
    suffix = f"-{labels.get('pod-template-hash', '')}"
    return rs[: -len(suffix)] if rs and rs.endswith(suffix) else None


def _stamp() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_pod(deployment: JSON, pod_hash: str, index: int) -> JSON:
    meta = deployment["metadata"]
    namespace, name = meta.get("namespace", "default"), meta["name"]
    template = (deployment.get("spec") or {}).get("template") or {}
    tmeta = template.get("metadata") or {}
    pod_spec = json.loads(json.dumps(template.get("spec") or {}))
    pod_spec.setdefault("restartPolicy", "Always")
    pod_spec["nodeName"] = NODE
    containers = [c for c in pod_spec.get("containers") or [] if isinstance(c, dict)]
    now = _stamp()
    rs = f"{name}-{pod_hash}"
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": f"{rs}-{_safe(secrets.token_bytes(8), 5)}",
            "namespace": namespace,
            "labels": {**(tmeta.get("labels") or {}), "pod-template-hash": pod_hash},
            "annotations": dict(tmeta.get("annotations") or {}),
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "ReplicaSet",
                    "name": rs,
                    "uid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{namespace}/{rs}")),
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "spec": pod_spec,
        "status": {
            "phase": "Running",
            "conditions": [
                {"type": t, "status": "True", "lastTransitionTime": now}
                for t in (
                    "PodReadyToStartContainers",
                    "Initialized",
                    "Ready",
                    "ContainersReady",
                    "PodScheduled",
                )
            ],
            "hostIP": "10.89.0.2",
            "podIP": f"10.244.0.{10 + index % 240}",
            "startTime": now,
            "qosClass": "BestEffort",
            "containerStatuses": [
                {
                    "name": str(c.get("name", "")),
                    "image": str(c.get("image", "")),
                    "imageID": "",
                    "ready": True,
                    "started": True,
                    "restartCount": 0,
                    "state": {"running": {"startedAt": now}},
                }
                for c in containers
            ],
        },
    }


def plan(deployment: JSON | None, pods: list[JSON]) -> tuple[list[JSON], list[JSON]]:
    """(pods to delete, pods to create) so that `deployment`'s pods match it (None: it was deleted)."""
    if deployment is None:
        return pods, []
    pod_hash = template_hash(deployment)
    current = [p for p in pods if (p["metadata"].get("labels") or {}).get("pod-template-hash") == pod_hash]
    stale = [p for p in pods if p not in current]
    want = replicas(deployment)
    surplus = current[want:]
    missing = [new_pod(deployment, pod_hash, i) for i in range(len(current), want)]
    return stale + surplus, missing


def sync(
    objects: dict[tuple[str, str, str, str], JSON],
    namespace: str,
    name: str,
    delete: Callable[[tuple[str, str, str, str]], None],
    create: Callable[[JSON], None],
) -> bool:
    """Bring the pods of Deployment `namespace/name` in line; True when any pod was created."""
    deployment = objects.get((*DEPLOYMENTS, namespace, name))
    pods = [
        obj
        for key, obj in sorted(objects.items())
        if key[0:2] == PODS and key[2] == namespace and deployment_of(obj) == name
    ]
    gone, new = plan(deployment, pods)
    for pod in gone:
        delete((*PODS, namespace, pod["metadata"]["name"]))
    for pod in new:
        create(pod)
    return bool(new)
