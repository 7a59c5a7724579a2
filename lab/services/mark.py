"""`lab mark`: add the image policy marker to a manifest in the learner's repository."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lab.core.marker import MarkResult, mark
from lab.errors import LabError
from lab.services.generate import atomic_write

MAX_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True)
class MarkFileResult:
    path: Path
    display: str
    result: MarkResult


def _resolve(workspace: Path, file: Path) -> tuple[Path, str]:
    root = workspace.resolve()
    candidate = file if file.is_absolute() else Path.cwd() / file
    if not candidate.exists() and not file.is_absolute():
        # relative to the workspace as well, so `lab mark apps/base/nginx/deployment.yaml -w REPO` works
        candidate = root / file
    if candidate.is_symlink():
        raise LabError("refusing to edit a symlink", file=str(file), hint="mark the file it points to")
    resolved = candidate.resolve()
    try:
        display = str(resolved.relative_to(root))
    except ValueError:
        raise LabError(
            "is outside the workspace",
            file=str(file),
            hint=f"mark files inside {root}, or pass --workspace",
        ) from None
    if not resolved.is_file():
        raise LabError("no such file", file=display, hint="give the path of your Deployment manifest")
    return resolved, display


def mark_file(
    workspace: Path, file: Path, policy_ref: str, *, container: str | None = None
) -> MarkFileResult:
    """Mark the container's image line in `file`; writes only when something changes."""
    path, display = _resolve(workspace, file)
    data = path.read_bytes()
    if len(data) > MAX_BYTES:
        raise LabError(f"file is {len(data)} bytes; too large for a manifest", file=display)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise LabError(
            f"not UTF-8 text (byte {err.start})", file=display, hint="save the file as UTF-8"
        ) from None
    result = mark(text, policy_ref, container=container, file=display)
    if result.changed:
        atomic_write(path, result.text)
    return MarkFileResult(path, display, result)
