"""Loopback Kubernetes API server for the sandbox and the tests (real kubectl and clients talk to it)."""

from __future__ import annotations

from lab.sandbox.kubeapi.kubeconfig import write_kubeconfig
from lab.sandbox.kubeapi.server import KubeAPIServer
from lab.sandbox.kubeapi.store import ApiError, Store

__all__ = ["ApiError", "KubeAPIServer", "Store", "write_kubeconfig"]
