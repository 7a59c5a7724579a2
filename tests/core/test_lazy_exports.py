"""Packages that re-export their modules' names on first use (`lab.core.lazy.exports`)."""

from __future__ import annotations

import importlib
import pkgutil
import types

import pytest

LAZY_PACKAGES = ("lab.core.policy", "lab.core.setters")


@pytest.mark.parametrize("name", LAZY_PACKAGES)
def test_no_exported_name_is_also_a_module_of_the_package(name: str) -> None:
    # Importing `pkg.x` sets the attribute `x` of the package to that module: an exported function
    # `x` would then be shadowed by it for everyone who imports the module first.
    package = importlib.import_module(name)
    modules = {m.name for m in pkgutil.iter_modules(package.__path__)}
    assert not modules & set(package.__all__)


@pytest.mark.parametrize("name", LAZY_PACKAGES)
def test_every_exported_name_resolves_after_all_modules_are_imported(name: str) -> None:
    package = importlib.import_module(name)
    for m in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{name}.{m.name}")
    for export in package.__all__:
        value = getattr(package, export)
        assert not isinstance(value, types.ModuleType), export


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(ImportError):
        from lab.core.policy import no_such_name  # type: ignore[attr-defined]  # noqa: F401
