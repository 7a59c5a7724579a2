"""PyYAML, imported without compiling the one pattern its import spends most of its time on.

`yaml.reader.Reader` compiles `NON_PRINTABLE` in its class body: a character class over most of
Unicode, which `re`'s compiler (Python code) walks character by character - ~57M instructions, an
eighth of `lab check --offline` and more than the rest of PyYAML's import. Only the pure-Python
reader uses it; the lab reads through libyaml (`CSafeLoader`, `CParser`), which checks the text in C.

`prepare_import` puts a pattern that compiles itself on first use into `re`'s cache under that text
before PyYAML is first imported, so the class body's `re.compile` returns it. A pure-Python loader
(`yaml.safe_load` without libyaml, a test) still gets the same matches, compiled when it first reads.
If `re` keeps no such cache (another Python) or PyYAML already is imported, nothing is put in it and
the import is as before.
"""

from __future__ import annotations

import re
import sys
from typing import Any

# Byte for byte the pattern PyYAML 6's yaml/reader.py compiles (the version pinned in pyproject.toml);
# a different text is a cache entry nobody asks for.
NON_PRINTABLE = "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"


class DeferredPattern:
    """A compiled pattern's stand-in: compiles `pattern` when an attribute is first asked for."""

    __slots__ = ("_compiled", "pattern")

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self._compiled: re.Pattern[str] | None = None

    def __getattr__(self, name: str) -> Any:
        compiled = self._compiled
        if compiled is None:
            # re.UNICODE, which a str pattern has anyway (the same `flags`, the same matches): the
            # cache entry without it is this object, which re.compile would hand back.
            compiled = self._compiled = re.compile(self.pattern, re.UNICODE)
        return getattr(compiled, name)


def prepare_import() -> None:
    """Call before `import yaml`: the first import then compiles no `NON_PRINTABLE`."""
    if "yaml" not in sys.modules:
        cache = getattr(re, "_cache", None)
        if isinstance(cache, dict):
            cache.setdefault((str, NON_PRINTABLE, 0), DeferredPattern(NON_PRINTABLE))
