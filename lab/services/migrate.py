"""`lab migrate`: find and rewrite old image.toolkit.fluxcd.io manifests under a path (flux migrate -f).

The rules are `lab.core.migrate`; this module walks the files (regular files only, never through a
symlink, `.git` skipped), reads them as UTF-8 and writes each changed file atomically, keeping its mode.
"""

from __future__ import annotations

import os
from pathlib import Path

from lab.adapters.tree import walk_entries
from lab.core.migrate import DEFAULT_EXTENSIONS, FileMigration, matches_extensions, migrate_text
from lab.core.record import dataclass
from lab.errors import LabError

MAX_FILE_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class PlannedFile:
    path: Path
    shown: str
    """The path as the learner wrote it, joined like flux prints it (`./clusters/x.yaml`)."""
    migration: FileMigration


@dataclass(frozen=True)
class Plan:
    files: tuple[PlannedFile, ...]
    skipped: tuple[str, ...]
    """Files that could not be read (irregular, too large, not UTF-8), with the reason."""

    @property
    def upgrades(self) -> int:
        return sum(len(f.migration.upgrades) for f in self.files)


def _candidates(root: Path, shown_root: str, extensions: tuple[str, ...]) -> list[tuple[Path, str]]:
    if root.is_symlink() or root.is_file():
        if not matches_extensions(root.name, extensions):
            raise LabError(
                f"file {shown_root} does not match the specified extensions: {', '.join(extensions)}",
                hint="pass --extensions with the file's extension, or a directory",
            )
        return [(root, shown_root)]
    if not root.is_dir():
        raise LabError(
            f"failed to stat path {shown_root}: no such file or directory", hint="pass an existing path"
        )
    found: list[tuple[Path, str]] = []
    # Iterative filepath.Walk order: a learner's tree may be deeper than os.walk's recursion allows.
    for entry in walk_entries(root, skip_dirs=frozenset({".git"})):
        if entry.is_dir(follow_symlinks=False) or not matches_extensions(entry.name, extensions):
            continue
        full = Path(entry.path)
        rel = full.relative_to(root).as_posix()
        found.append((full, rel if shown_root in ("", ".") else f"{shown_root.rstrip('/')}/{rel}"))
    return found


def plan(path: str, extensions: tuple[str, ...] = DEFAULT_EXTENSIONS) -> Plan:
    """What `lab migrate -f PATH` would change; reads only."""
    root = Path(path).expanduser()
    shown_root = os.path.normpath(path) if path else "."
    files: list[PlannedFile] = []
    skipped: list[str] = []
    for full, shown in _candidates(root, shown_root, extensions):
        if full.is_symlink() or not full.is_file():
            skipped.append(f"{shown}: skipping irregular file")
            continue
        if full.stat().st_size > MAX_FILE_BYTES:
            skipped.append(f"{shown}: larger than {MAX_FILE_BYTES} bytes, not read")
            continue
        try:
            text = full.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            skipped.append(f"{shown}: not UTF-8 text, not read")
            continue
        migration = migrate_text(text, shown)
        if migration.upgrades or migration.template_warnings:
            files.append(PlannedFile(full, shown, migration))
    return Plan(tuple(files), tuple(skipped))


def apply(planned: Plan) -> list[str]:
    """Write every file with upgrades; returns the shown paths written."""
    from lab.adapters.files import write_atomic

    written: list[str] = []
    for f in planned.files:
        if not f.migration.changed:
            continue
        write_atomic(f.path, f.migration.new_text.encode("utf-8"))
        written.append(f.shown)
    return written
