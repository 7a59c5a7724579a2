"""Temporary directories for clones that survive nothing: a process killed mid-clone (SIGKILL, OOM, a
closed laptop) leaves its directory behind, so every directory names the process that made it
(`lab-grade-<pid>-<random>`), and the next run removes those whose process is gone.

Removal does not recurse in Python: a student's tree can be ~1000 directories deep, deeper than
Python's recursion limit (shutil.rmtree and os.walk recurse), so `rm -rf` does it where it exists.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_NAME = re.compile(r"^(?P<prefix>[a-z][a-z0-9-]*?)-(?P<pid>\d+)-[A-Za-z0-9_]+$")


def remove_tree(path: Path) -> None:
    """Delete `path` and everything below it, at any depth; never follows a symlink out of it."""
    if not os.path.lexists(path):
        return
    rm = shutil.which("rm")
    if rm is not None:
        subprocess.run(
            [rm, "-rf", "--one-file-system", "--", str(path)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
            timeout=600,
        )
    if os.path.lexists(path):
        shutil.rmtree(path, ignore_errors=True)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    return True


def sweep_stale(prefix: str, *, base: Path | None = None) -> list[Path]:
    """Remove `<prefix>-<pid>-*` directories in `base` (the temp directory) whose process is gone and
    that belong to this user; returns what was removed."""
    root = Path(base) if base is not None else Path(tempfile.gettempdir())
    removed: list[Path] = []
    try:
        entries = list(os.scandir(root))
    except OSError:
        return removed
    uid = os.getuid()
    for entry in entries:
        match = _NAME.match(entry.name)
        if match is None or match.group("prefix") != prefix:
            continue
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if not entry.is_dir(follow_symlinks=False) or st.st_uid != uid:
            continue
        if _alive(int(match.group("pid"))):
            continue
        remove_tree(Path(entry.path))
        if not os.path.lexists(entry.path):
            removed.append(Path(entry.path))
    return removed


def remove_own(prefix: str, *, base: Path | None = None) -> None:
    """Remove this process's `<prefix>-<pid>-*` directories in `base` (the temp directory): an
    interrupted run's, whose threads may not get to remove theirs before the process ends."""
    root = Path(base) if base is not None else Path(tempfile.gettempdir())
    for path in root.glob(f"{prefix}-{os.getpid()}-*"):
        match = _NAME.match(path.name)
        if match is not None and match.group("prefix") == prefix and not path.is_symlink():
            remove_tree(path)


@contextmanager
def scratch_dir(prefix: str, *, base: Path | None = None) -> Iterator[Path]:
    """A private directory `<base>/<prefix>-<pid>-<random>`, removed (at any depth) on exit."""
    if base is not None:
        Path(base).mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix=f"{prefix}-{os.getpid()}-", dir=base))
    try:
        yield path
    finally:
        remove_tree(path)
