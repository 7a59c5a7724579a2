"""Every dataclass lab defines, made by lab.core.record.dataclass, is the class dataclasses.dataclass makes
of the same body: the same fields (with their options), docstring, `__match_args__`, `__dataclass_params__`,
hashability, own methods and abstract methods. Two fresh interpreters import all of lab, one with
`record.dataclass` replaced by the standard library's, and describe each class."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow

_DESCRIBE = r"""
import dataclasses, gc, importlib, json, pkgutil, sys
import lab
import lab.core.record
if sys.argv[1] == "standard":
    lab.core.record.dataclass = dataclasses.dataclass
for info in pkgutil.walk_packages(lab.__path__, "lab."):
    if not info.name.endswith("__main__"):  # importing it runs the lab
        importlib.import_module(info.name)

def name(value):
    if value is dataclasses.MISSING:
        return "MISSING"
    return getattr(value, "__qualname__", None) or repr(value)

def resolved(cls):
    # the class its module names by its qualified name (slots=True leaves the class it replaced alive)
    obj = sys.modules[cls.__module__]
    for part in cls.__qualname__.split("."):
        obj = getattr(obj, part, None)
    return obj

described = {}
for obj in gc.get_objects():
    if isinstance(obj, type) and obj.__module__.startswith("lab") and "__dataclass_fields__" in obj.__dict__:
        if "<locals>" not in obj.__qualname__ and resolved(obj) is not obj:
            continue
        p = obj.__dataclass_params__
        described[f"{obj.__module__}.{obj.__qualname__}"] = {
            "fields": [
                [f.name, str(f.type), name(f.default), name(f.default_factory), f.init, f.repr, f.compare,
                 f.hash, str(f.kw_only), f._field_type.name]
                for f in obj.__dict__["__dataclass_fields__"].values()
            ],
            "doc": obj.__doc__,
            "match_args": list(obj.__dict__.get("__match_args__", ["(none)"])),
            "params": [p.init, p.repr, p.eq, p.order, p.unsafe_hash, p.frozen],
            "hash": "none" if obj.__hash__ is None else "object" if obj.__hash__ is object.__hash__ else "own",
            "own": sorted(k for k in ("__init__", "__repr__", "__eq__", "__hash__", "__setattr__",
                                      "__delattr__", "__lt__", "__slots__") if k in obj.__dict__),
            "abstract": sorted(getattr(obj, "__abstractmethods__", ())),
        }
json.dump(described, sys.stdout)
"""


def describe(which: str) -> dict[str, dict[str, object]]:
    proc = subprocess.run(
        [sys.executable, "-c", _DESCRIBE, which], capture_output=True, text=True, timeout=300, check=False
    )
    assert proc.returncode == 0, proc.stderr
    described: dict[str, dict[str, object]] = json.loads(proc.stdout)
    return described


def test_every_lab_dataclass_is_the_standard_librarys() -> None:
    records, standard = describe("record"), describe("standard")
    assert len(standard) > 150  # all of lab was imported
    assert sorted(records) == sorted(standard)
    differences = {
        name: {
            key: (records[name][key], value)
            for key, value in standard[name].items()
            if records[name][key] != value
        }
        for name in standard
    }
    assert {name: diff for name, diff in differences.items() if diff} == {}
