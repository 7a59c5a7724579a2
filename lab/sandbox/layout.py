"""The sandbox directory's paths (its layout is lab.sandbox.runtime's docstring) and the state files a
process that does not run the sandbox reads there; lab.sandbox.runtime names them too.

Apart from the supervisor, which serves HTTPS and the registry: `lab check` asks which tags the
workspace's sandbox published when Flux's commit writes a tag the tag list lacks (git.flux-commit), and
importing the supervisor and the registry client for that cost more than the rest of an offline check.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from lab.core.record import dataclass
from lab.resources import SANDBOX_ENV, data_home

WORKSPACE = "gitops-lab"
ORIGIN = "gitops-lab-origin.git"


def default_root() -> Path:
    """The same place `lab` (lab.services.session) keeps its default sandbox workspace."""
    return data_home() / "sandbox"


class _Under:
    """A path in the sandbox directory (the layout in lab.sandbox.runtime's docstring)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, paths: SandboxPaths, owner: type[SandboxPaths]) -> Path:
        return paths.root / self.name


@dataclass(frozen=True)
class SandboxPaths:
    root: Path

    @classmethod
    def at(cls, directory: str | Path | None = None) -> SandboxPaths:
        root = Path(directory).expanduser() if directory else default_root()
        return cls(root.absolute())

    workspace = _Under(WORKSPACE)
    origin = _Under(ORIGIN)
    kube_state = _Under("kubeapi.json")
    kubeconfig = _Under("kubeconfig")
    registry_state = _Under("registry.json")
    config = _Under("config.json")
    credentials = _Under("apiserver-credentials.json")
    runtime = _Under("runtime.json")
    lock = _Under("supervisor.lock")
    log = _Under("supervisor.log")
    cache = _Under("cache")


def read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def pushed_tags(paths: SandboxPaths) -> dict[str, list[str]]:
    """The tags pushed into the sandbox's registry beyond its dated publications (`lab sandbox push-tag
    TAG`, the app's `t`), by repository path (`library/nginx`), as registry.json keeps them."""
    pushed = read_json(paths.registry_state).get("pushed")
    if not isinstance(pushed, dict):
        return {}
    return {str(k): [str(t) for t in v] for k, v in pushed.items() if isinstance(v, list)}


def workspace_pushed_tags(workspace: Path) -> dict[str, tuple[str, ...]]:
    """`pushed_tags` of the sandbox whose practice repository `workspace` is (the default sandbox, or the
    one `lab sandbox env` named), running or not: its Flux scanned them, though no other registry may
    list them. {} for any other repository: it is read from the sandbox's directory, never from a file
    the repository could hold."""
    roots = [SandboxPaths.at()]
    named = os.environ.get(SANDBOX_ENV)
    if named and Path(named).name == WORKSPACE:
        roots.append(SandboxPaths.at(Path(named).parent))
    here = workspace.resolve()
    for paths in roots:
        if here.is_relative_to(paths.workspace.resolve()):
            return {repo: tuple(tags) for repo, tags in pushed_tags(paths).items()}
    return {}
