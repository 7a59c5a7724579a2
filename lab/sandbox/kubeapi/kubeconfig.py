"""A kubeconfig for the loopback API server (what `lab sandbox env` points KUBECONFIG at)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from lab.adapters.files import write_atomic


def _q(value: str) -> str:
    # JSON strings are valid YAML scalars and need no further escaping rules.
    return json.dumps(value)


def write_kubeconfig(
    path: str | Path,
    server_url: str,
    context: str = "fluxlab-sandbox",
    *,
    token: str | None = None,
    namespace: str = "flux-system",
    ca_pem: bytes | None = None,
) -> Path:
    """Write (atomically, mode 0600: it may hold a token) a single-context kubeconfig and return its path."""
    target = Path(path)
    user = f"{context}-user"
    user_block = f"  user:\n    token: {_q(token)}\n" if token else "  user: {}\n"
    text = (
        "apiVersion: v1\n"
        "kind: Config\n"
        "clusters:\n"
        f"- name: {_q(context)}\n"
        "  cluster:\n"
        + (f"    certificate-authority-data: {_q(base64.b64encode(ca_pem).decode())}\n" if ca_pem else "")
        + f"    server: {_q(server_url)}\n"
        "contexts:\n"
        f"- name: {_q(context)}\n"
        "  context:\n"
        f"    cluster: {_q(context)}\n"
        f"    user: {_q(user)}\n"
        f"    namespace: {_q(namespace)}\n"
        f"current-context: {_q(context)}\n"
        "preferences: {}\n"
        "users:\n"
        f"- name: {_q(user)}\n" + user_block
    )
    write_atomic(target, text.encode("utf-8"), mode=0o600)
    return target
