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


def read_kubeconfig(path: str) -> object:
    """The data of the kubeconfig at `path`, read as the lab reads a learner's YAML (a regular file of
    bounded size, bounded nesting and aliases): a FIFO, a device or a deeply nested file is a one-line
    ClusterError naming it, where the Kubernetes client would wait for ever or overflow the stack."""
    from lab.adapters.files import read_regular
    from lab.core import yamlsafe
    from lab.errors import ClusterError, LabError

    hint = "a kubeconfig is a YAML mapping with clusters, contexts and users (`kubectl config view`)"
    try:
        raw = read_regular(Path(path).expanduser(), yamlsafe.MAX_BYTES)
        doc = yamlsafe.load_one(raw.decode("utf-8"), path)
    except OSError as err:
        raise ClusterError(
            f"cannot read kubeconfig {path}: {err.strerror or err}", hint="check KUBECONFIG"
        ) from err
    except UnicodeDecodeError as err:
        raise ClusterError(f"kubeconfig {path} is not UTF-8 text", hint=hint) from err
    except LabError as err:
        at = f" line {err.line}" if err.line is not None else ""
        raise ClusterError(f"kubeconfig {path}{at}: {err.message}", hint=hint) from err
    return doc.data if doc is not None else None
