"""`lab generate`: write the three image-automation manifests into the learner's repository.

Safe by default: a file whose content differs from what we would write is never overwritten without
`force` (the learner may have edited it), targets that are symlinks are refused, the default output
directory must stay inside the workspace, and every file is written atomically.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from lab.adapters.files import read_regular, write_atomic, writing
from lab.core.manifests.generate import DEFAULT_FILES, FILES, GenerateOptions, add_manifest, render_manifests
from lab.core.manifests.models import API_V1
from lab.core.record import dataclass
from lab.errors import LabError

Status = Literal["created", "unchanged", "overwritten", "printed", "added", "kept"]


@dataclass(frozen=True)
class FileOutcome:
    path: Path
    status: Status
    text: str
    #: With `add`, for a file left as it was: the object it holds already (`ImagePolicy flux-system/shop`).
    present: str = ""
    #: ... and that object is not what the form would write (kept all the same: it may be the learner's)
    differs: bool = False


@dataclass(frozen=True)
class GenerateResult:
    out_dir: Path
    """The folder that holds the files (their common parent)."""
    api_version: str
    texts: dict[str, str]
    """render_manifests' texts, by the course text's file names (FILES)."""
    files: list[FileOutcome] = field(default_factory=list)
    #: Where `force` saved the previous content of overwritten files (nothing a learner wrote is lost).
    backups: list[Path] = field(default_factory=list)


def served_image_api(kubeconfig: str | None, *, timeout: float = 5.0) -> str | None:
    """The image.toolkit.fluxcd.io apiVersion the cluster serves and the lab should write (full form),
    or None without a cluster or without the image CRDs. An unreachable cluster raises ClusterError."""
    if kubeconfig is None:
        return None
    from lab.adapters.cluster import ClusterClient
    from lab.core.manifests.models import IMAGE_GROUP

    client = ClusterClient.from_kubeconfig(kubeconfig, timeout=timeout)
    try:
        version = client.served_image_api()
    finally:
        client.close()
    if version is None:
        return None
    return version if "/" in version else f"{IMAGE_GROUP}/{version}"


def default_api_version() -> str:
    """The apiVersion to generate when the learner does not choose one.

    What the connected cluster serves (v1 when it serves v1, v1beta2 on Flux 2.2-2.6), else v1,
    current Flux. No kubeconfig, an unreachable cluster or no image CRDs all mean "v1": the lab never
    blocks generation on a cluster, it only follows one when there is one.
    """
    from lab.adapters.kubeconfig import default_kubeconfig
    from lab.errors import ClusterError

    try:
        return served_image_api(default_kubeconfig(), timeout=2.0) or API_V1
    except ClusterError:
        return API_V1


def _leaves(shown: str, resolved: Path, hint: str) -> LabError:
    return LabError(
        f"{shown} points outside the workspace (it resolves to {resolved})", file=shown, hint=hint
    )


def target_paths(workspace: Path, out_dir: Path | None, files: Sequence[str] = DEFAULT_FILES) -> list[Path]:
    """Where the ImageRepository, ImagePolicy and ImageUpdateAutomation go: the task's `files`
    (relative to the workspace, which they must not leave, symlinks included), or their names in
    `out_dir` when the learner chose one: anywhere, but a folder in the workspace must not lead out
    of it through a symlink (the same refusal as the task's own folder)."""
    root = workspace.resolve()
    if out_dir is not None:
        written = Path(os.path.abspath(Path.cwd() / out_dir))
        folder = written.resolve()
        inside = written.is_relative_to(root) or written.is_relative_to(os.path.abspath(workspace))
        if inside and not folder.is_relative_to(root):
            raise _leaves(
                str(out_dir), folder, "replace the symlink with a directory, or pass another --out DIR"
            )
        return [folder / Path(name).name for name in files]
    paths: list[Path] = []
    for name in files:
        parent = (root / name).parent.resolve()
        if not parent.is_relative_to(root):
            hint = "replace the symlink with a directory, or pass --out DIR with a folder it does not lead through"
            raise _leaves(Path(name).parent.as_posix(), parent, hint)
        paths.append(parent / Path(name).name)
    return paths


def backup_dir(workspace: Path, now: datetime | None = None) -> Path:
    """A fresh directory for copies of files about to be replaced: inside `.git` when there is one,
    so backups never show up in `git status` or in what Flux applies."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S.%fZ")
    git_dir = workspace.resolve() / ".git"
    base = git_dir / "lab-backups" if git_dir.is_dir() else workspace.resolve() / ".lab-backups"
    return base / stamp


def _display(path: Path, workspace: Path) -> str:
    root = workspace.resolve()
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)


# Generated manifests are a few hundred bytes; a file past the checks' own limit is not one of them.
MAX_CURRENT_BYTES = 2 * 1024 * 1024


def current_text(path: Path) -> str | None:
    """What a file the generator would write holds now: None when it is not a regular file (a link, a
    FIFO), is larger than MAX_CURRENT_BYTES, or is not UTF-8 - then it differs from any manifest."""
    try:
        return read_regular(path, MAX_CURRENT_BYTES, follow_symlinks=False).decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def generate(
    workspace: Path,
    opts: GenerateOptions,
    out_dir: Path | None = None,
    *,
    force: bool = False,
    stdout: bool = False,
    texts: Mapping[str, str] | None = None,
    files: Sequence[str] = DEFAULT_FILES,
    add: bool = False,
) -> GenerateResult:
    """Render the manifests and (unless `stdout`) write them to `files` (the task's layout, see
    target_paths). Raises LabError before writing anything if an option is invalid or an existing
    file would be overwritten without `force`. `texts` are `render_manifests(opts)` already rendered
    (the app renders once per change, not once per step).

    `add` appends each object to its file instead (a task with several images keeps them one file a
    kind): nothing in the file changes, and a file that holds an object of the same kind and name
    already is left as it is (`kept`), so no `force` is ever needed."""
    texts = dict(texts) if texts is not None else render_manifests(opts)
    api_version = (
        opts.api_version if "/" in opts.api_version else f"image.toolkit.fluxcd.io/{opts.api_version}"
    )
    paths = target_paths(workspace, out_dir, files)
    if len(set(paths)) != len(paths):
        # Written one after the other, the last would replace the others: two manifests lost.
        raise LabError(
            "two of the three manifests would go to the same file: "
            + ", ".join(_display(p, workspace) for p in paths),
            hint="give each its own file ([params] automation_files, or the names --out keeps)",
        )
    target_dir = Path(os.path.commonpath(paths)) if len(set(paths)) > 1 else paths[0].parent
    named = list(zip(paths, (texts[name] for name in FILES), strict=True))
    if stdout:
        return GenerateResult(
            target_dir, api_version, texts, [FileOutcome(path, "printed", text) for path, text in named]
        )
    for folder in dict.fromkeys(path.parent for path in paths):
        if folder.exists() and not folder.is_dir():
            raise LabError(
                f"{_display(folder, workspace)} exists and is not a directory", hint="pass --out DIR"
            )
    plans: list[tuple[Path, str, Status, str, bool]] = []
    differing: list[str] = []
    for path, text in named:
        if path.is_symlink():
            raise LabError(
                "refusing to write through a symlink",
                file=_display(path, workspace),
                hint="replace the symlink with a regular file",
            )
        if path.exists():
            if not path.is_file():
                raise LabError(
                    "exists and is not a file", file=_display(path, workspace), hint="move it away"
                )
            current = current_text(path)
            if add and current != text:
                plans.append(_addition(path, current, text, workspace))
                continue
            if current == text:
                plans.append((path, text, "unchanged", "", False))
                continue
            differing.append(_display(path, workspace))
            plans.append((path, text, "overwritten", "", False))
        else:
            plans.append((path, text, "created", "", False))
    if differing and not force:
        raise LabError(
            f"would overwrite {len(differing)} file(s) that differ from the generated ones: "
            + ", ".join(differing),
            hint="compare with `lab generate --stdout`, then rerun with --force to replace them",
        )
    backups: list[Path] = []
    if differing:
        saved = backup_dir(workspace)
        for path, _, status, _, _ in plans:
            if status == "overwritten":
                copy = saved / _display(path, workspace).lstrip("/")
                with writing(copy):
                    copy.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(path, copy)
                backups.append(copy)
    outcomes: list[FileOutcome] = []
    for path, text, status, present, differs in plans:
        if status not in ("unchanged", "kept"):
            write_atomic(path, text.encode("utf-8"))
        outcomes.append(FileOutcome(path, status, text, present, differs))
    return GenerateResult(target_dir, api_version, texts, outcomes, backups)


def _addition(
    path: Path, current: str | None, text: str, workspace: Path
) -> tuple[Path, str, Status, str, bool]:
    """The plan for one file under `add`: the object appended, or the file kept as it is."""
    shown = _display(path, workspace)
    if current is None:
        raise LabError(
            f"cannot add to it: not a UTF-8 text file of at most {MAX_CURRENT_BYTES // 2**20} MB",
            file=shown,
            hint="move it away, or write the files instead of adding to them",
        )
    addition = add_manifest(current, text, shown)
    if addition.present:
        return path, current, "kept", addition.present, addition.differs
    return path, addition.text, "added", "", False
