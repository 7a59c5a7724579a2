"""A kubeconfig for the loopback API server (what `lab sandbox env` points KUBECONFIG at)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path


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
) -> Path:
    """Write (atomically, mode 0600: it may hold a token) a single-context kubeconfig and return its path."""
    target = Path(path)
    user = f"{context}-user"
    auth = f"    token: {_q(token)}\n" if token else "    {}\n"
    if not token:
        auth = ""
    text = (
        "apiVersion: v1\n"
        "kind: Config\n"
        "clusters:\n"
        f"- name: {_q(context)}\n"
        "  cluster:\n"
        f"    server: {_q(server_url)}\n"
        "contexts:\n"
        f"- name: {_q(context)}\n"
        "  context:\n"
        f"    cluster: {_q(context)}\n"
        f"    user: {_q(user)}\n"
        f"    namespace: {_q(namespace)}\n"
        f"current-context: {_q(context)}\n"
        "preferences: {}\n"
        "users:\n"
        f"- name: {_q(user)}\n" + (f"  user:\n{auth}" if auth else "  user: {}\n")
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o600)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return target
