"""`lab mark`: add the image policy marker to a manifest in the learner's repository.

Besides editing the line, it checks the marker against the repository's image automation objects,
because a marker Flux cannot resolve fails silently (F10: wrong namespace or policy name; F12: file
outside `update.path`): no error, no commit, nothing to look at.
"""

from __future__ import annotations

from dataclasses import field
from pathlib import Path, PurePosixPath

from lab.adapters.files import not_regular, read_regular, write_atomic
from lab.adapters.tree import walk_entries
from lab.core.manifests.models import AutomationSet
from lab.core.manifests.parse import find_automation, might_hold_automation
from lab.core.marker import MarkResult, check_policy_ref, mark
from lab.core.record import dataclass
from lab.errors import LabError

MAX_BYTES = 2 * 1024 * 1024
MAX_SCANNED_FILES = 2000
SKIP_DIRS = frozenset({".git", "node_modules", ".venv", "__pycache__"})


@dataclass(frozen=True)
class MarkFileResult:
    path: Path
    display: str
    result: MarkResult
    warnings: list[str] = field(default_factory=list)


def _resolve(workspace: Path, file: Path) -> tuple[Path, str]:
    """The file to edit: absolute, relative to the current directory, or relative to the workspace.

    A relative path is looked up from the current directory first (what a shell user means) and
    then from the workspace root (what a caller passing `apps/...` means); a candidate outside the
    workspace never wins over one inside it.
    """
    root = workspace.resolve()
    candidates = [file] if file.is_absolute() else [Path.cwd() / file, root / file]
    existing = [c for c in candidates if c.exists() or c.is_symlink()]
    inside = [c for c in existing if c.parent.resolve().is_relative_to(root)]
    candidate = (inside or existing or candidates)[0]
    if candidate.is_symlink():
        raise LabError("refusing to edit a symlink", file=str(file), hint="mark the file it points to")
    resolved = candidate.resolve()
    if not resolved.is_relative_to(root):
        raise LabError(
            "is outside the workspace",
            file=str(file),
            hint=f"mark files inside {root}, or pass --workspace",
        )
    display = resolved.relative_to(root).as_posix()
    why = not_regular(resolved)
    if why is not None:
        what = "no such file" if why == "not found" else f"is {why}, not a regular file"
        raise LabError(what, file=display, hint="give the path of your Deployment manifest")
    return resolved, display


def read_manifests(workspace: Path) -> dict[str, str]:
    """Every readable .yaml/.yml file of the workspace (not following symlinks), by relative path."""
    root = workspace.resolve()
    files: dict[str, str] = {}
    for entry in walk_entries(root, skip_dirs=SKIP_DIRS):
        if not entry.name.endswith((".yaml", ".yml")) or entry.is_dir(follow_symlinks=False):
            continue
        if len(files) >= MAX_SCANNED_FILES:
            break
        path = Path(entry.path)
        try:
            data = read_regular(path, MAX_BYTES, follow_symlinks=False)
            files[path.relative_to(root).as_posix()] = data.decode("utf-8")
        except (OSError, UnicodeDecodeError):
            continue  # links, FIFOs, devices, huge or binary files: not a manifest to consider
    return files


def policy_keys(workspace: Path) -> frozenset[str] | None:
    """`ns:name` of every ImagePolicy in the workspace's manifests; None when there is none yet (a
    marker is then judged by its syntax alone, as before the policy is written)."""
    manifests = {k: v for k, v in read_manifests(workspace).items() if might_hold_automation(v)}
    keys = frozenset(f"{p.namespace}:{p.name}" for p in find_automation(manifests).policies)
    return keys or None


def _under(file: str, update_path: str) -> bool:
    base = PurePosixPath(update_path.strip() or ".")
    parts = [p for p in base.parts if p not in (".", "/")]
    return PurePosixPath(file).parts[: len(parts)] == tuple(parts)


def marker_warnings(aset: AutomationSet, file: str, policy_ref: str) -> list[str]:
    """Why Flux would ignore this marker, judged from the repository's manifests (empty if fine)."""
    ns, name = check_policy_ref(policy_ref)
    out: list[str] = []
    if not aset.policies:
        out.append("no ImagePolicy in this repository yet; create one with `lab generate`")
    elif aset.policy(ns, name) is None:
        known = ", ".join(sorted(f"{p.namespace}:{p.name}" for p in aset.policies))
        out.append(f"no ImagePolicy {ns}:{name} in this repository (found: {known}); Flux ignores the marker")
    if aset.automations:
        same_ns = [a for a in aset.automations if a.namespace == ns]
        if not same_ns:
            namespaces = ", ".join(sorted({a.namespace for a in aset.automations}))
            out.append(
                f"the ImageUpdateAutomation is in {namespaces}, not {ns}; it only applies policies "
                "of its own namespace, so this marker does nothing"
            )
        elif not any(_under(file, a.update_path or ".") for a in same_ns):
            paths = ", ".join(sorted({a.update_path or "." for a in same_ns}))
            out.append(f"{file} is outside update.path ({paths}); Flux never looks at it")
    return out


def mark_file(
    workspace: Path, file: Path, policy_ref: str, *, container: str | None = None, keep_other: bool = False
) -> MarkFileResult:
    """Mark the container's image line in `file` (of several, `container`, else the one that runs the
    policy's image as its ImageRepository names it), or with `ns:name:tag` (`:name`, `:digest`) the
    field that holds that part (a kustomize images[] newTag, Helm values tag:); writes only when
    something changes."""
    path, display = _resolve(workspace, file)
    try:
        data = read_regular(path, MAX_BYTES)
    except OSError as err:
        raise LabError(
            f"cannot read: {err.strerror}", file=display, hint="mark a regular YAML file"
        ) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise LabError(
            f"not UTF-8 text (byte {err.start})", file=display, hint="save the file as UTF-8"
        ) from None
    manifests = {k: v for k, v in read_manifests(workspace).items() if might_hold_automation(v)}
    aset = find_automation(manifests)
    result = mark(
        text,
        policy_ref,
        container=container,
        image=_policy_image(aset, policy_ref),
        file=display,
        keep_other=keep_other,
    )
    if result.changed:
        write_atomic(path, result.text.encode("utf-8"))
    warnings = marker_warnings(aset, Path(display).as_posix(), policy_ref)
    return MarkFileResult(path, display, result, warnings)


def _policy_image(aset: AutomationSet, policy_ref: str) -> str | None:
    """spec.image of the ImageRepository the policy `policy_ref` reads, when the repository has both."""
    policy = aset.policy(*check_policy_ref(policy_ref))
    repository = aset.repository(*policy.repository_key) if policy is not None else None
    return repository.image if repository is not None and repository.image else None
