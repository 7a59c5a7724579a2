"""Names a package re-exports from its modules, imported on first use (PEP 562).

A package `__init__` that imports its modules eagerly makes every importer of any one module pay for
all of them (importing `pkg.a` runs `pkg/__init__.py` first); a module that re-exports another's names
makes its importers pay for that one. With `__getattr__ = exports(__name__, {"name": "pkg.module"})`
a name is imported from `pkg.module` when first asked for, and kept.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any


def exports(module: str, homes: Mapping[str, str]) -> Callable[[str], Any]:
    """A `__getattr__` for `module`: `name` -> `name` of the module `homes[name]`, imported once."""
    clash = sorted(n for n, home in homes.items() if home == f"{module}.{n}")
    if clash:  # importing module `pkg.x` binds `pkg.x` to the module, hiding an exported `x` for good
        raise ValueError(f"{module}: {', '.join(clash)} named both a module and an exported name")

    def __getattr__(name: str) -> Any:
        if name not in homes:
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        value = getattr(import_module(homes[name]), name)
        setattr(sys.modules[module], name, value)
        return value

    return __getattr__
