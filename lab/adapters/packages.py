"""The modules of a package's directories, as `pkgutil.iter_modules` lists them, without its cost.

`pkgutil`'s file finder names a file's module with `inspect.getmodulename`, and importing `inspect`
imports `ast`, `dis`, `tokenize` and `linecache`: ~30M instructions, 7% of `lab check --offline`,
which lists its command and check modules at every start and has no other use for them.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from importlib.machinery import all_suffixes


def _module_name(filename: str, suffixes: list[str]) -> str | None:
    """`inspect.getmodulename`: the name without the longest import suffix it ends with."""
    for suffix in suffixes:
        if filename.endswith(suffix):
            return filename[: -len(suffix)]
    return None


def package_modules(paths: Iterable[str]) -> list[str]:
    """The names `pkgutil.iter_modules(paths)` yields for directories, in its order: each directory's
    modules and packages (a directory holding an `__init__` module), sorted, without `__init__` and
    dotted names; a name an earlier directory gave is not repeated; an unreadable directory gives none."""
    suffixes = sorted(all_suffixes(), key=len, reverse=True)  # longest first, as inspect tries them
    names: list[str] = []
    seen: set[str] = set()
    for path in paths:
        if not os.path.isdir(path):
            continue
        try:
            filenames = sorted(os.listdir(path))  # a package before a module of the same name
        except OSError:
            filenames = []
        found: set[str] = set()
        for filename in filenames:
            name = _module_name(filename, suffixes)
            if name == "__init__" or name in found:
                continue
            full = os.path.join(path, filename)
            if not name and os.path.isdir(full) and "." not in filename:
                try:
                    inside = os.listdir(full)
                except OSError:
                    inside = []
                if not any(_module_name(f, suffixes) == "__init__" for f in inside):
                    continue
                name = filename
            if name and "." not in name:
                found.add(name)
                if name not in seen:
                    seen.add(name)
                    names.append(name)
    return names
