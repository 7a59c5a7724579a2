"""The file walk of Flux's Setters strategy, made safe for a learner's workspace.

Mirrors image-automation-controller's `ScreeningLocalReader`: Go `filepath.Walk` order (lexical,
hidden directories included, symlinked directories not followed, symlinked files read through the
link, dangling links skipped), files named `*.yaml`, `*.yml` or exactly `Kustomization`, kept only
when their bytes contain `"$imagepolicy"`. Unlike Flux, a link that resolves outside the workspace
root is never followed, and `update.path` is joined the way `securejoin` does (no `..` escape).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

from lab.adapters.files import read_regular
from lab.core.record import dataclass
from lab.core.setters.markers import TOKEN
from lab.errors import LabError

# Flux reads any size; the lab caps one manifest so a hostile tree cannot exhaust memory.
MAX_MANIFEST_BYTES = 16 << 20
_MAX_LINK_HOPS = 255


@dataclass(frozen=True)
class ScreenedFile:
    """A file Flux would parse: `rel` is relative to the update path (forward slashes)."""

    rel: str
    path: Path  # where the bytes were read (the link target for a symlinked file)
    content: bytes


def secure_join(root: Path, unsafe: str | None) -> Path:
    """`securejoin.SecureJoin(root, unsafe)`: resolve `unsafe` as if `root` were `/`.

    `..` cannot climb above the root and symlinks met on the way are evaluated inside the root,
    so the result always lies under `root`. `/apps`, `./apps` and `apps` are the same path.
    """
    root = root.resolve()
    parts = [p for p in (unsafe or "").replace("\\", "/").split("/") if p not in ("", ".")]
    current: list[str] = []
    hops = 0
    while parts:
        part = parts.pop(0)
        if part == "..":
            if current:
                current.pop()
            continue
        candidate = root.joinpath(*current, part)
        try:
            st = candidate.lstat()
        except OSError:
            current.append(part)
            continue
        if stat.S_ISLNK(st.st_mode):
            hops += 1
            if hops > _MAX_LINK_HOPS:
                raise LabError(f"too many symlinks in update path {unsafe!r}")
            target = os.readlink(candidate)
            target_parts = [p for p in target.split("/") if p not in ("", ".")]
            if target.startswith("/"):
                current = []
            parts = target_parts + parts
            continue
        current.append(part)
    return root.joinpath(*current)


def _wanted_name(name: str) -> bool:
    # Go's filepath.Ext is the suffix from the last dot, also for names starting with a dot.
    dot = name.rfind(".")
    ext = name[dot:] if dot != -1 else ""
    return ext in (".yaml", ".yml") or name == "Kustomization"


def walk_screened(workspace: Path, start: Path) -> Iterator[ScreenedFile]:
    """Yield the files under `start` that Flux would read, in `filepath.Walk` order.

    Raises LabError with Flux's wording when `start` does not exist.
    """
    workspace = workspace.resolve()
    try:
        st = start.lstat()
    except FileNotFoundError as err:
        raise LabError(
            f"failed to apply policies: walking path for files: lstat {start}: no such file or directory",
            hint="spec.update.path is relative to the repository root, e.g. ./apps",
        ) from err
    except OSError as err:
        raise LabError(f"failed to apply policies: walking path for files: {err}") from err
    if stat.S_ISDIR(st.st_mode):
        base = start
        yield from _walk_dir(workspace, start, base)
    else:
        found = _screen(workspace, start, start.parent, st)
        if found is not None:
            yield found


def _sorted_entries(directory: Path) -> list[os.DirEntry[str]]:
    with os.scandir(directory) as it:
        return sorted(it, key=lambda e: e.name.encode("utf-8", "surrogateescape"))


def walk_entries(
    top: Path, *, skip_dirs: frozenset[str] = frozenset(), strict: bool = False
) -> Iterator[os.DirEntry[str]]:
    """Every entry under `top` in Go `filepath.Walk` order (lexical, pre-order), never following
    symlinked directories. Iterative, so a tree thousands of directories deep is walked like a flat
    one (os.walk recurses and overflows Python's stack near 1,000 levels). Unreadable directories
    are skipped, or raise OSError with `strict`."""
    stack: list[Iterator[os.DirEntry[str]]] = []
    try:
        stack.append(iter(_sorted_entries(top)))
    except OSError:
        if strict:
            raise
        return
    while stack:
        entry = next(stack[-1], None)
        if entry is None:
            stack.pop()
            continue
        yield entry
        try:
            is_dir = entry.is_dir(follow_symlinks=False)
        except OSError:
            continue
        if is_dir and entry.name not in skip_dirs:
            try:
                stack.append(iter(_sorted_entries(Path(entry.path))))
            except OSError:
                if strict:
                    raise


def _walk_dir(workspace: Path, directory: Path, base: Path) -> Iterator[ScreenedFile]:
    try:
        entries = walk_entries(directory, strict=True)
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False) or not _wanted_name(entry.name):
                    continue
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            found = _screen(workspace, Path(entry.path), base, st)
            if found is not None:
                yield found
    except OSError as err:
        raise LabError(f"failed to apply policies: walking path for files: {err}") from err


def _screen(workspace: Path, path: Path, base: Path, st: os.stat_result) -> ScreenedFile | None:
    if not _wanted_name(path.name):
        return None
    target = path
    if stat.S_ISLNK(st.st_mode):
        try:
            target = path.resolve(strict=True)
        except (OSError, RuntimeError):
            return None  # dangling or looping link: Flux skips it too
        if not target.is_relative_to(workspace) or not target.is_file():
            return None
    elif not stat.S_ISREG(st.st_mode):
        return None
    try:
        content = read_regular(target, MAX_MANIFEST_BYTES)
    except OSError as err:
        if stat.S_ISLNK(st.st_mode):
            return None
        raise LabError(f"failed to apply policies: reading YAML file: {err}") from err
    if TOKEN not in content:
        return None
    rel = path.relative_to(base).as_posix()
    return ScreenedFile(rel, target, content)


__all__ = ["ScreenedFile", "secure_join", "walk_entries", "walk_screened"]
