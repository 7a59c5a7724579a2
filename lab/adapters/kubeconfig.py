"""Which kubeconfig the lab uses: apart from the cluster adapter (its Kubernetes kinds and Flux models),
so that opening a session, which only asks whether there is one, imports none of that."""

from __future__ import annotations

import os
from pathlib import Path


def kubeconfig_source(named: str | None = None) -> tuple[str, str] | None:
    """(the kubeconfig the lab uses, how it was chosen): `named` (--kubeconfig), else $KUBECONFIG, else
    ~/.kube/config if it is a file, else None (no cluster: the sandbox). The one reading of it, for
    every layer above."""
    if named:
        return named, named
    env = os.environ.get("KUBECONFIG")
    if env:
        return env, "$KUBECONFIG"
    home = Path(os.path.expanduser("~")) / ".kube" / "config"
    return (str(home), "~/.kube/config") if home.is_file() else None


def default_kubeconfig() -> str | None:
    """The kubeconfig the lab uses when none is named (see `kubeconfig_source`)."""
    found = kubeconfig_source()
    return found[0] if found is not None else None
