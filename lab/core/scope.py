"""Where image automation may write: environments, update paths, policy selectors - without I/O.

An ImageUpdateAutomation changes a field when (a) the field carries a marker, (b) its file is a YAML
file under `spec.update.path`, and (c) the marker names a policy the automation applies: every
ImagePolicy of its namespace with a `latestRef`, narrowed by `spec.policySelector`. This module runs
that rule over an in-memory tree (`run_automations`), tells which directories each environment's
Flux Kustomization builds (`environment_dirs`, following kustomize `resources`), and names policies
that two environments share (`shared_policies`), the set-up that makes commits flap
(fluxcd/image-automation-controller#204).
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping, Sequence
from dataclasses import field

from lab.core.diagnose import norm_path, under
from lab.core.manifests.models import KUSTOMIZATION_NAMES, AutomationSet, ImageUpdateAutomation, Kustomization
from lab.core.reconcile import TagSource, refuse_invalid_refs, resolve_policies, setters_for
from lab.core.record import dataclass
from lab.core.refs import Change, ImageRef
from lab.core.setters import find_markers, rewrite
from lab.core.setters.markers import TOKEN
from lab.core.yamlsafe import load_all
from lab.errors import LabError

MAX_DEPTH = 20


@dataclass
class AutomationRun:
    """What one automation would change in the tree: the setters it used and every value change."""

    automation: ImageUpdateAutomation
    setters: dict[str, ImageRef]
    changes: list[tuple[str, Change]] = field(default_factory=list)  # (repository path, change)
    files: list[str] = field(default_factory=list)
    error: str = ""


def run_automations(
    tree: Mapping[str, bytes], aset: AutomationSet, tag_source: TagSource
) -> tuple[dict[str, bytes], list[AutomationRun]]:
    """Every automation of `aset` once over `tree` (repository path -> bytes), in order.

    Each run sees the previous runs' output, as consecutive commits would. Files are screened as
    image-automation-controller screens them (`.yaml`/`.yml` or `Kustomization`, containing the
    `"$imagepolicy"` token, under `update.path`).
    """
    current = dict(tree)
    runs: list[AutomationRun] = []
    for iua in aset.automations:
        _, all_setters = resolve_policies(aset, iua.namespace, tag_source)
        try:
            setters = setters_for(aset, iua, all_setters)
            refuse_invalid_refs(setters)
        except LabError as err:  # the automation stalls on its policySelector, or fails on a bad ref
            runs.append(AutomationRun(iua, {}, error=err.message))
            continue
        run = AutomationRun(iua, setters)
        runs.append(run)
        root = norm_path(iua.update_path)
        if root and not any(under(path, root) for path in current):
            run.error = (
                f"failed to apply policies: walking path for files: lstat {root}: no such file or directory"
            )
            continue
        for path in sorted(current):
            name = posixpath.basename(path)
            if not under(path, root) or not (name.endswith((".yaml", ".yml")) or name == "Kustomization"):
                continue
            data = current[path]
            if TOKEN not in data:
                continue
            rel = path[len(root) + 1 :] if root else path
            result = rewrite(data, setters, iua.namespace, rel)
            if result.content is None:
                continue
            current[path] = result.content
            run.files.append(path)
            run.changes.extend((path, c) for c in result.changes)
    return current, runs


def _kustomize_resources(text: str, file: str) -> list[str]:
    try:
        docs = load_all(text, file)
    except LabError:
        return []
    data = docs[0].data if docs and isinstance(docs[0].data, dict) else {}
    out: list[str] = []
    for key in ("resources", "bases", "components"):
        value = data.get(key) or []
        if isinstance(value, list):
            out.extend(str(v) for v in value if isinstance(v, str))
    return out


def environment_dirs(tree: Mapping[str, str], start: str) -> set[str]:
    """The directories kustomize reads when it builds `start`: the directory itself, and every local
    directory its kustomization file lists under resources/bases/components, recursively."""
    seen: set[str] = set()

    def visit(directory: str, depth: int) -> None:
        if directory in seen or depth > MAX_DEPTH:
            return
        seen.add(directory)
        for name in KUSTOMIZATION_NAMES:
            kfile = posixpath.join(directory, name) if directory else name
            if kfile in tree:
                for entry in _kustomize_resources(tree[kfile], kfile):
                    if "://" in entry or entry.startswith(("github.com/", "git@")):
                        continue
                    target = norm_path(posixpath.join(directory, entry))
                    if any(p.startswith(target + "/") for p in tree):
                        visit(target, depth + 1)
                return

    visit(norm_path(start), 0)
    return seen


def file_in(dirs: set[str], file: str) -> bool:
    """Whether kustomize building those directories reads `file` (a file of a listed directory, or below
    one built without a kustomization file)."""
    directory = posixpath.dirname(file)
    return directory in dirs


@dataclass(frozen=True)
class SharedPolicy:
    policy: str
    environments: tuple[str, ...]
    places: tuple[str, ...]  # file:line of the markers


def marker_places(tree: Mapping[str, str]) -> dict[str, list[tuple[str, int]]]:
    """Policy reference ("ns:name") -> every (file, line) of a marker Flux would read for it."""
    out: dict[str, list[tuple[str, int]]] = {}
    for path in sorted(tree):
        if not path.endswith((".yaml", ".yml")) and posixpath.basename(path) != "Kustomization":
            continue
        for marker in find_markers(tree[path], path):
            if marker.setter is None:
                continue
            out.setdefault(f"{marker.namespace}:{marker.policy}", []).append((path, marker.line))
    return out


def shared_policies(tree: Mapping[str, str], environments: Mapping[str, set[str]]) -> list[SharedPolicy]:
    """Policies whose markers land in the builds of two or more environments."""
    shared: list[SharedPolicy] = []
    for policy, places in marker_places(tree).items():
        envs = sorted(
            {env for env, dirs in environments.items() for file, _ in places if file_in(dirs, file)}
        )
        if len(envs) > 1:
            shared.append(SharedPolicy(policy, tuple(envs), tuple(f"{f}:{n}" for f, n in places)))
    return shared


def app_environments(kustomizations: Sequence[Kustomization], tree: Mapping[str, str]) -> dict[str, set[str]]:
    """Each Flux Kustomization that builds an application (not the one applying `clusters/`), by name."""
    envs: dict[str, set[str]] = {}
    for k in kustomizations:
        path = norm_path(k.path)
        if not path or path.startswith("clusters"):
            continue
        envs[k.name] = environment_dirs(tree, path)
    return envs


__all__ = [
    "AutomationRun",
    "SharedPolicy",
    "app_environments",
    "environment_dirs",
    "file_in",
    "marker_places",
    "norm_path",
    "run_automations",
    "shared_policies",
    "under",
]
