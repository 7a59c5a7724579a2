"""Shared helpers for the loopback API server tests (not a test module)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

IMAGE_REPOSITORY: dict[str, Any] = {
    "apiVersion": "image.toolkit.fluxcd.io/v1",
    "kind": "ImageRepository",
    "metadata": {"name": "nginx", "namespace": "flux-system"},
    "spec": {"image": "library/nginx", "interval": "5m0s"},
}
IMAGE_POLICY: dict[str, Any] = {
    "apiVersion": "image.toolkit.fluxcd.io/v1",
    "kind": "ImagePolicy",
    "metadata": {"name": "nginx", "namespace": "flux-system", "labels": {"app": "web"}},
    "spec": {"imageRepositoryRef": {"name": "nginx"}, "policy": {"semver": {"range": ">=1.25.0"}}},
}
POLICY_READY_STATUS: dict[str, Any] = {
    "observedGeneration": 1,
    "latestRef": {"name": "library/nginx", "tag": "1.25.3"},
    "conditions": [
        {
            "type": "Ready",
            "status": "True",
            "reason": "Succeeded",
            "message": "Latest image tag for library/nginx resolved to 1.25.3",
            "lastTransitionTime": "2026-11-27T03:00:00Z",
            "observedGeneration": 1,
        }
    ],
}


def manifest(obj: dict[str, Any], **meta: Any) -> dict[str, Any]:
    out = copy.deepcopy(obj)
    out["metadata"].update(meta)
    return out


def api_client(kubeconfig: Path) -> Any:
    from kubernetes import client, config

    configuration = client.Configuration()
    return config.new_client_from_config(
        config_file=str(kubeconfig), persist_config=False, client_configuration=configuration
    )


def kubeconfig_ca(kubeconfig: Path, target: Path) -> Path:
    """The kubeconfig's certificate-authority-data as a PEM file (for raw HTTPS clients in tests)."""
    import base64
    import json
    import re

    found = re.search(r"certificate-authority-data: (\".*\")", kubeconfig.read_text(encoding="utf-8"))
    assert found, f"no certificate-authority-data in {kubeconfig}"
    target.write_bytes(base64.b64decode(json.loads(found.group(1))))
    return target


def bearer(kubeconfig: Path) -> dict[str, str]:
    """The Authorization header the kubeconfig's token gives (for raw HTTP requests in tests)."""
    import json
    import re

    found = re.search(r"token: (\".*\")", kubeconfig.read_text(encoding="utf-8"))
    assert found, f"no token in {kubeconfig}"
    return {"Authorization": f"Bearer {json.loads(found.group(1))}"}


def auth(server: Any) -> dict[str, str]:
    """The Authorization header for an in-process KubeAPIServer."""
    return {"Authorization": f"Bearer {server.token}"}


def watched_ready(api: Any, plural: str, name: str, since: int = 0) -> list[tuple[str, str, str]]:
    """What a watch of the `plural` object `name` delivered after resourceVersion `since` (the API
    server's watch history: one event per write): (Ready status, Ready message, Reconciling message),
    "" for a condition not there."""
    out = []
    for event in api.store.history:
        if event.rv <= since or event.plural != plural or event.object["metadata"]["name"] != name:
            continue
        conds = {c["type"]: c for c in (event.object.get("status") or {}).get("conditions") or []}
        ready = conds.get("Ready") or {}
        reconciling = conds.get("Reconciling") or {}
        out.append((ready.get("status", ""), ready.get("message", ""), reconciling.get("message", "")))
    return out
