"""PyYAML's import without compiling its pure-Python reader's pattern (lab.core.pyyaml)."""

from __future__ import annotations

import re

import pytest
import yaml

from lab.core.pyyaml import NON_PRINTABLE, DeferredPattern


def test_the_deferred_text_is_the_one_pyyaml_compiles() -> None:
    # A PyYAML whose reader compiles another text would get no deferred pattern: the cost comes back.
    assert yaml.reader.Reader.NON_PRINTABLE.pattern == NON_PRINTABLE


def test_a_deferred_pattern_matches_as_the_compiled_one() -> None:
    deferred = DeferredPattern(NON_PRINTABLE)
    compiled = re.compile(NON_PRINTABLE, re.UNICODE)
    assert deferred._compiled is None
    for text in ("plain text", "tab\tok", "bell\x07", "nel\x85 ok", "\ud800", "\ufffe", "\U0001f600"):
        got, want = deferred.search(text), compiled.search(text)
        assert (got and got.span()) == (want and want.span()), text
    assert deferred._compiled is not None
    assert deferred.flags == compiled.flags and deferred.pattern == compiled.pattern


def test_pure_python_reader_still_refuses_non_printable_text() -> None:
    # What the pattern is for, through a loader that reads with it (lab's own go through libyaml).
    with pytest.raises(yaml.reader.ReaderError, match="#x0007"):
        yaml.load("a: b\x07", Loader=yaml.SafeLoader)
