"""Task TOML files as parsed data, kept between runs: every `lab check` reads the task's task.toml and
checks.toml, and parsing them (with the import of tomllib) was 4% of `lab check --offline`.

The cache is one file per user and Python version, `$XDG_CACHE_HOME/fluxlab/task-toml-<tag>.marshal`
(default `~/.cache`), never in a task folder or a learner's repository: path -> (stamp, marshalled
data). An entry serves only while the file's stamp (size, modification and change times, inode,
device) is unchanged, and a file is stored only once it has not changed for a while: one rewritten
within the file system's clock tick keeps its times (git's "racy" files). marshal holds what TOML
values are made of; a file with a date or time value is not stored. A cache that cannot be read or
written is no error: the file is parsed, as without one.
"""

from __future__ import annotations

import marshal
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

SETTLED_NS = 2_000_000_000
"""How long a file must have been unchanged before its data is stored."""
MAX_ENTRIES = 256
"""More and the cache starts again (task folders come and go; each entry is a few KB)."""

Stamp = tuple[int, int, int, int, int]


def cache_file() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "fluxlab" / f"task-toml-{sys.implementation.cache_tag}.marshal"


def stamp(st: os.stat_result) -> Stamp:
    """What tells a file changed: a file with the same stamp has the same content once it has `settled`."""
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)


def settled(st: os.stat_result) -> bool:
    """The file has not changed for SETTLED_NS: a rewrite now would give it other times than its stamp's."""
    return time.time_ns() - max(st.st_mtime_ns, st.st_ctime_ns) >= SETTLED_NS


def _entries(cache: Path) -> dict[str, tuple[Stamp, bytes]]:
    try:
        entries = marshal.loads(cache.read_bytes())
    except (OSError, EOFError, ValueError, TypeError):
        return {}
    return entries if isinstance(entries, dict) else {}


def cached_toml(path: Path, st: os.stat_result, parse: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """`parse()`'s data for the file at `path` (whose `os.stat` is `st`): from the cache while the file
    is unchanged, else parsed (and stored when the file has settled). `parse`'s errors pass through."""
    key, stamped, cache = os.path.abspath(path), stamp(st), cache_file()
    entries = _entries(cache)
    hit = entries.get(key)
    if isinstance(hit, tuple) and len(hit) == 2 and hit[0] == stamped:
        try:
            data = marshal.loads(hit[1])
        except (EOFError, ValueError, TypeError):
            data = None
        if isinstance(data, dict):
            return data
    data = parse()
    if not settled(st):
        return data
    try:
        entry = (stamped, marshal.dumps(data))
    except ValueError:  # a date or time value
        return data
    if len(entries) >= MAX_ENTRIES:
        entries = {}
    entries[key] = entry
    partial = cache.with_name(f"{cache.name}.{os.getpid()}")
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        partial.write_bytes(marshal.dumps(entries))
        os.replace(partial, cache)  # readers see the old file or the new one, never half of one
    except OSError:
        partial.unlink(missing_ok=True)
    return data
