"""The text of a learner's repository that the diagnosis reads: every YAML file (for the objects) and
every file that mentions `imagepolicy` (for markers, whatever its extension: a marker in a file Flux
never opens is exactly what must be reported).

The workspace is untrusted: the walk is iterative (a thousands-deep tree is fine), never follows a
symlink, skips `.git`, reads regular files only (no FIFO or device blocks it) and caps sizes and counts.
"""

from __future__ import annotations

from pathlib import Path

from lab.adapters.files import read_regular
from lab.adapters.tree import walk_entries
from lab.core.record import dataclass

MAX_FILES = 5000
MAX_FILE_BYTES = 1024 * 1024


@dataclass(frozen=True)
class RepoText:
    yaml: dict[str, str]
    """Every `.yaml`/`.yml` file, by path relative to the workspace."""
    marked: dict[str, str]
    """Every text file whose content mentions `imagepolicy` (any case, any extension)."""
    dirs: frozenset[str]
    files: frozenset[str]
    unread: dict[str, str]
    """`.yaml`/`.yml` files not read, by path: why (a symlink, not a regular file, too large, binary)."""


def read_repo_text(workspace: Path) -> RepoText:
    workspace = Path(workspace)
    yaml: dict[str, str] = {}
    marked: dict[str, str] = {}
    dirs: set[str] = {""}
    files: set[str] = set()
    unread: dict[str, str] = {}
    for count, entry in enumerate(walk_entries(workspace, skip_dirs=frozenset({".git"}))):
        if count > MAX_FILES:
            break
        rel = Path(entry.path).relative_to(workspace).as_posix()
        is_yaml = entry.name.endswith((".yaml", ".yml"))
        try:
            if entry.is_symlink():
                if is_yaml:
                    unread[rel] = "a symlink (the lab does not follow links)"
                continue
            if entry.is_dir(follow_symlinks=False):
                if entry.name != ".git":
                    dirs.add(rel)
                continue
        except OSError:
            continue
        files.add(rel)
        try:
            data = read_regular(Path(entry.path), MAX_FILE_BYTES, follow_symlinks=False)
        except OSError as err:
            if is_yaml:
                unread[rel] = f"not read ({err.strerror or err})"
            continue
        if b"\0" in data:
            if is_yaml:
                unread[rel] = "binary (it holds NUL bytes)"
            continue
        text = data.decode("utf-8", errors="replace")
        if is_yaml:
            yaml[rel] = text
        if "imagepolicy" in text.lower():
            marked[rel] = text
    return RepoText(yaml, marked, frozenset(dirs), frozenset(files), unread)
