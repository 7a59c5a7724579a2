"""The library of checks, and the checks a task brings itself.

A task's `checks.toml` says which check function runs each of its checks (`run = "manifests.policy_valid"`)
and with which parameters (`[params]` for the task, `[check.params]` for one check). Library functions
live in this package's modules and register by name with `@check("name")`; a task whose check needs code
of its own ships `tasks/<id>/checks.py`, whose `@check("name")` functions are that task's only (a name
there wins over the library's for that task). Check ids belong to their task: two tasks may both have
a `repo.files` check, each running what its own checks.toml says.

A `run` that names no function is reported by the runner as `error` "no implementation" - nothing is faked.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lab.adapters.packages import package_modules
from lab.core.checks.model import Outcome
from lab.errors import LabError

if TYPE_CHECKING:
    from lab.checks.context import CheckContext

Impl = Callable[..., Outcome]

_REGISTRY: dict[str, Impl] = {}
_TASK_REGISTRIES: dict[Path, dict[str, Impl]] = {}
_LOCK = threading.RLock()
_LOADED = False
_target: dict[str, Impl] | None = None
"""Where `@check` registers while a task's checks.py is being imported (else the library)."""


def check(name: str, params: Iterable[str] = ()) -> Callable[[Impl], Impl]:
    """Register `fn(ctx: CheckContext) -> Outcome` as the check function `name`. `params`: the
    parameters of its own it reads (besides the task's paths, `lab.checks.loader.TASK_PARAMS`), so that
    `lab dev check` can name a `[check.params]` key it would never read."""

    def register(fn: Impl) -> Impl:
        fn.check_params = frozenset(params)  # type: ignore[attr-defined]
        registry = _target if _target is not None else _REGISTRY
        previous = registry.get(name)
        if previous is not None and previous is not fn:
            # Never crash the whole run over one name: report it as that check's error.
            where = f"{previous.__module__} and {fn.__module__}"

            def conflict(_: object) -> Outcome:
                raise RuntimeError(f"check function {name} is defined twice ({where})")

            registry[name] = conflict
            return fn
        registry[name] = fn
        return fn

    return register


# A decorator at the start of a line, found from the newline before it: a pattern starting with a literal
# lets the engine jump from one `\n@check("` to the next, where `^` with re.MULTILINE tried it at every
# character (1.6% of `lab check --offline`'s instructions).
_DECORATOR = re.compile(r'\n@check\("([^"\\]+)"\)')


def params_of(fn: Impl) -> frozenset[str]:
    """The parameters of its own check function `fn` declared (`@check(name, params=...)`)."""
    declared: frozenset[str] = getattr(fn, "check_params", frozenset())
    return declared


def _library_modules() -> list[str]:
    return sorted(
        name
        for name in package_modules(__path__)
        if not name.startswith("_") and name not in ("context", "loader")
    )


def _module_index(modules: list[str]) -> dict[str, str] | None:
    """Check function name -> the module that registers it, read from the modules' source (a few
    small files) rather than by importing them all; None when a source cannot be read."""
    index: dict[str, str] = {}
    for mod in modules:
        try:
            text = (Path(__path__[0]) / f"{mod}.py").read_text(encoding="utf-8")
        except OSError:
            return None
        for name in _DECORATOR.findall("\n" + text):
            index.setdefault(name, mod)
    return index


def implementations(names: Iterable[str] | None = None) -> dict[str, Impl]:
    """The library: every registered function, importing this package's modules on first use.

    With `names`, only the modules that register those functions are imported: each module costs
    start-up time, and `lab check --offline` has no use for the cluster or registry checks' clients.
    A name no module's source registers imports them all, as before."""
    global _LOADED
    with _LOCK:
        if not _LOADED:
            modules = _library_modules()
            wanted = modules
            index = _module_index(modules) if names is not None else None
            if names is not None and index is not None and all(n in index for n in names):
                wanted = sorted({index[n] for n in names})
            for mod in wanted:
                importlib.import_module(f"{__name__}.{mod}")
            _LOADED = wanted == modules
    return dict(_REGISTRY)


BUNDLED_OFFLINE = frozenset({"registry.tags", "policy.resolves"})
"""Library check functions of kind `registry` that `--offline` still runs: without a registry they grade
on the tags the task bundles for the image (task.toml `[[images]]`), data the lab has offline, and say so;
for an image the task bundles nothing of they report themselves left out offline."""

_PREFETCH = {"git.pushed": ("gitrepo", "prefetch"), "git.flux-commit": ("gitrepo", "prefetch_flux")}
"""Check functions whose first reads start before the checks run: name -> (module, function(ctx))."""


def prefetch(ctx: CheckContext, names: Iterable[tuple[str, Mapping[str, Any]]]) -> None:
    """Start in the background (`ctx.in_background`) what the library functions `names` (each with its
    check's params) read first, so that git works while the rest of the checks' modules load."""
    for name, params in names:
        if name in _PREFETCH:
            module, function = _PREFETCH[name]
            fn: Callable[[CheckContext], None] = getattr(
                importlib.import_module(f"{__name__}.{module}"), function
            )
            ctx.in_background(functools.partial(fn, ctx.with_params(params)))


def task_implementations(module: Path) -> dict[str, Impl]:
    """The check functions of a task's own `checks.py` (imported once per path)."""
    global _target
    path = module.resolve()
    with _LOCK:
        if path not in _TASK_REGISTRIES:
            name = "lab_task_checks_" + re.sub(r"\W", "_", path.parent.name) + f"_{len(_TASK_REGISTRIES)}"
            spec = importlib.util.spec_from_file_location(name, path)
            if spec is None or spec.loader is None:
                raise ImportError(f"cannot import {path}")
            found: dict[str, Impl] = {}
            _target = found
            try:
                spec.loader.exec_module(importlib.util.module_from_spec(spec))
            except Exception as exc:
                # The course author's code, not the lab's and not the learner's: say where it broke.
                line = exc.lineno if isinstance(exc, SyntaxError) else _line_in(exc, path)
                raise LabError(
                    f"the task's checks.py does not load: {type(exc).__name__}: {exc}",
                    file=str(path),
                    line=line,
                    hint="a fault in the task's own checks (tell its author); `lab dev check --task ID` shows it",
                ) from None
            finally:
                _target = None
            _TASK_REGISTRIES[path] = {name: _owned(fn, path) for name, fn in found.items()}
        return dict(_TASK_REGISTRIES[path])


def _line_in(exc: BaseException, path: Path) -> int | None:
    """The last line of `path` the traceback of `exc` passed through."""
    import traceback

    frames = [f for f in traceback.extract_tb(exc.__traceback__) if Path(f.filename) == path]
    return frames[-1].lineno if frames else None


def _owned(fn: Impl, path: Path) -> Impl:
    """`fn` from a task's checks.py: a crash in it is reported as that file's, not as a bug in the lab
    (LabError and the runner's own signals pass through as from any check)."""
    from lab.core.checks.runner import Concluded

    @functools.wraps(fn)
    def run(ctx: Any) -> Outcome:
        try:
            return fn(ctx)
        except (LabError, Concluded):
            raise
        except Exception as exc:
            line = _line_in(exc, path)
            where = f"{path}:{line}" if line else str(path)
            return Outcome.errored(
                f"check crashed in the task's checks.py ({where}): {type(exc).__name__}: {exc}",
                hint="a fault in the task's own checks, not in your repository: tell the task's author",
            )

    return run
