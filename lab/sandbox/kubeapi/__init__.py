"""Loopback Kubernetes API server for the sandbox and the tests (real kubectl and clients talk to it).

    with KubeAPIServer(state_path, image_api_versions=("v1",), image_controllers=True) as api:
        api.write_kubeconfig(path)               # URL and bearer token; context "fluxlab-sandbox"
        api.put(manifest)                        # create/update like kubectl apply (validated, status kept)
        api.update_status(kind, name, ns, status)
        api.get(kind, name, ns) / api.list(kind, ns, label_selector) / api.delete(kind, name, ns)
        api.record_event(obj, "Normal", reason, message, component)
        api.wait_for_change(since_rv, timeout)   # block until anything changes (controllers' loop)
        api.set_image_controllers(installed, api_versions=None)

`python -m lab.sandbox.kubeapi --kubeconfig K [--state F]` runs it as a process. Errors are `ApiError`
(code, reason, message as the API server words them).
"""

from __future__ import annotations

from lab.sandbox.kubeapi.kubeconfig import write_kubeconfig
from lab.sandbox.kubeapi.server import KubeAPIServer
from lab.sandbox.kubeapi.store import ApiError, Store

__all__ = ["ApiError", "KubeAPIServer", "Store", "write_kubeconfig"]
