"""PyYAML, imported without compiling the patterns the lab never matches with.

`yaml.reader.Reader` compiles `NON_PRINTABLE` in its class body: a character class over most of
Unicode, which `re`'s compiler (Python code) walks character by character - ~57M instructions, an
eighth of `lab check --offline` and more than the rest of PyYAML's import. Only the pure-Python
reader uses it; the lab reads through libyaml (`CParser`), which checks the text in C. The
constructor's timestamp pattern and the resolver's (~11M together) serve loaders that build Python
values or resolve tags; lab.core.yamlsafe only composes nodes, with a resolver that has none.

`prepare_import` puts patterns that compile themselves on first use into `re`'s cache under those
texts and flags before PyYAML is first imported, so the modules' `re.compile` return them. A loader
that uses them (`yaml.safe_load`) still gets the same matches, compiled when it first reads. If `re`
keeps no such cache (another Python) or PyYAML already is imported, nothing is put in it and the
import is as before.
"""

from __future__ import annotations

import re
import sys
from typing import Any

# Byte for byte the patterns PyYAML 6's modules compile at import (the version pinned in pyproject.toml),
# with their flags; a different text is a cache entry nobody asks for.
NON_PRINTABLE = "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
"""yaml/reader.py: `Reader.NON_PRINTABLE`."""
TIMESTAMP = "^(?P<year>[0-9][0-9][0-9][0-9])\n                -(?P<month>[0-9][0-9]?)\n                -(?P<day>[0-9][0-9]?)\n                (?:(?:[Tt]|[ \\t]+)\n                (?P<hour>[0-9][0-9]?)\n                :(?P<minute>[0-9][0-9])\n                :(?P<second>[0-9][0-9])\n                (?:\\.(?P<fraction>[0-9]*))?\n                (?:[ \\t]*(?P<tz>Z|(?P<tz_sign>[-+])(?P<tz_hour>[0-9][0-9]?)\n                (?::(?P<tz_minute>[0-9][0-9]))?))?)?$"
"""yaml/constructor.py: `SafeConstructor.timestamp_regexp` (re.VERBOSE), read when a timestamp is built."""
RESOLVERS: tuple[tuple[str, int], ...] = (
    (
        "^(?:yes|Yes|YES|no|No|NO\n                    |true|True|TRUE|false|False|FALSE\n                    |on|On|ON|off|Off|OFF)$",
        re.VERBOSE,
    ),
    ("^(?: ~\n                    |null|Null|NULL\n                    | )$", re.VERBOSE),
    (
        "^(?:[-+]?(?:[0-9][0-9_]*)\\.[0-9_]*(?:[eE][-+][0-9]+)?\n                    |\\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?\n                    |[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\\.[0-9_]*\n                    |[-+]?\\.(?:inf|Inf|INF)\n                    |\\.(?:nan|NaN|NAN))$",
        re.VERBOSE,
    ),
    (
        "^(?:[-+]?0b[0-1_]+\n                    |[-+]?0[0-7_]+\n                    |[-+]?(?:0|[1-9][0-9_]*)\n                    |[-+]?0x[0-9a-fA-F_]+\n                    |[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$",
        re.VERBOSE,
    ),
    (
        "^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]\n                    |[0-9][0-9][0-9][0-9] -[0-9][0-9]? -[0-9][0-9]?\n                     (?:[Tt]|[ \\t]+)[0-9][0-9]?\n                     :[0-9][0-9] :[0-9][0-9] (?:\\.[0-9]*)?\n                     (?:[ \\t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$",
        re.VERBOSE,
    ),
    ("^(?:<<)$", 0),
    ("^(?:=)$", 0),
    ("^(?:!|&|\\*)$", 0),
)
"""yaml/resolver.py: `Resolver`'s implicit resolvers, read when a plain scalar is resolved (the lab
composes with `BaseResolver`, which has none: lab.core.yamlsafe types plain scalars itself)."""
DEFERRED: tuple[tuple[str, int], ...] = ((NON_PRINTABLE, 0), (TIMESTAMP, re.VERBOSE), *RESOLVERS)


class DeferredPattern:
    """A compiled pattern's stand-in: compiles `pattern` when an attribute is first asked for."""

    __slots__ = ("_compiled", "_flags", "pattern")

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self.pattern = pattern
        self._flags = flags
        self._compiled: re.Pattern[str] | None = None

    def __getattr__(self, name: str) -> Any:
        compiled = self._compiled
        if compiled is None:
            # re.UNICODE, which a str pattern has anyway (the same `flags`, the same matches): the
            # cache entry without it is this object, which re.compile would hand back.
            compiled = self._compiled = re.compile(self.pattern, self._flags | re.UNICODE)
        return getattr(compiled, name)


def prepare_import() -> None:
    """Call before `import yaml`: the first import then compiles none of `DEFERRED`."""
    if "yaml" not in sys.modules:
        cache = getattr(re, "_cache", None)
        if isinstance(cache, dict):
            for pattern, flags in DEFERRED:
                # re's cache is keyed by the flags' int value (re._compile converts a RegexFlag).
                cache.setdefault((str, pattern, int(flags)), DeferredPattern(pattern, flags))
