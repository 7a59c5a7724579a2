"""Check implementations for the tasks' check definitions (`checks/<task>.toml`).

Implementations register by stable id with `@check("id")`; every module of this package is imported by
`implementations()`, so adding a check is adding a module. Ids defined in the TOML without an
implementation are reported by the runner as `error` "no implementation for check X" - nothing is faked.
"""

from __future__ import annotations

import importlib
import pkgutil
import threading
from collections.abc import Callable

from lab.core.checks.model import Outcome

Impl = Callable[..., Outcome]

_REGISTRY: dict[str, Impl] = {}
_LOCK = threading.Lock()
_LOADED = False


def check(check_id: str) -> Callable[[Impl], Impl]:
    """Register `fn(ctx: CheckContext) -> Outcome` as the implementation of `check_id`."""

    def register(fn: Impl) -> Impl:
        previous = _REGISTRY.get(check_id)
        if previous is not None and previous is not fn:
            # Never crash the whole run over one id: report it as that check's error.
            where = f"{previous.__module__} and {fn.__module__}"

            def conflict(_: object) -> Outcome:
                raise RuntimeError(f"check {check_id} is implemented twice ({where})")

            _REGISTRY[check_id] = conflict
            return fn
        _REGISTRY[check_id] = fn
        return fn

    return register


def implementations() -> dict[str, Impl]:
    """Every registered implementation, importing this package's modules on first use."""
    global _LOADED
    with _LOCK:
        if not _LOADED:
            for mod in sorted(m.name for m in pkgutil.iter_modules(__path__)):
                if not mod.startswith("_"):
                    importlib.import_module(f"{__name__}.{mod}")
            _LOADED = True
    return dict(_REGISTRY)
