"""Which kubeconfig the lab uses: apart from the cluster adapter (its Kubernetes kinds and Flux models),
so that opening a session, which only asks whether there is one, imports none of that."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


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


def credential_program(data: object, context: str | None = None) -> tuple[str, str, str] | None:
    """(user name, how it is named, program) when the user of `context` (else the current context) in kubeconfig `data`
    gets its credentials from a program: `exec.command`, or a gcp auth-provider's `cmd-path` (its first
    word when no `cmd-args`); else None. What a failure of that program is blamed on."""

    def named(items: object, name: object) -> dict[str, Any]:
        for item in items if isinstance(items, list) else []:
            if isinstance(item, dict) and item.get("name") == name:
                return _mapping(item)
        return {}

    if not isinstance(data, dict):
        return None
    ctx = _mapping(named(data.get("contexts"), context or data.get("current-context")).get("context"))
    user_name = ctx.get("user")
    user = _mapping(named(data.get("users"), user_name).get("user"))
    command, kind = _mapping(user.get("exec")).get("command"), "exec credential plugin"
    provider = _mapping(user.get("auth-provider"))
    if not command and provider.get("name") == "gcp":
        config = _mapping(provider.get("config"))
        command, kind = config.get("cmd-path"), "gcp auth-provider cmd-path"
        if isinstance(command, str) and "cmd-args" not in config:
            command = (command.split() or [""])[0]
    return (str(user_name), kind, command) if isinstance(command, str) and command else None


def _mapping(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
