"""PyYAML's import without compiling the patterns the lab never matches with (lab.core.pyyaml)."""

from __future__ import annotations

import re

import pytest
import yaml

from lab.core.pyyaml import DEFERRED, NON_PRINTABLE, DeferredPattern


def test_the_deferred_texts_are_the_ones_pyyaml_compiles() -> None:
    # A PyYAML that compiles another text would get no deferred pattern for it: the cost comes back.
    compiled = [yaml.reader.Reader.NON_PRINTABLE, yaml.constructor.SafeConstructor.timestamp_regexp]
    compiled += [
        regexp for tags in yaml.resolver.Resolver.yaml_implicit_resolvers.values() for _, regexp in tags
    ]
    assert {(p.pattern, p.flags & ~re.UNICODE) for p in compiled} == {(t, int(f)) for t, f in DEFERRED}
    assert yaml.reader.Reader.NON_PRINTABLE.pattern == NON_PRINTABLE


def test_deferred_patterns_with_flags_match_as_compiled_ones() -> None:
    for text, flags in DEFERRED:
        deferred, compiled = DeferredPattern(text, flags), re.compile(text, flags)
        for value in ("yes", "On", "~", "null", "", "0x1F", "-0b101", "1_000", "190:20:30", "1.5e+3", ".NaN"):
            assert (deferred.match(value) is None) == (compiled.match(value) is None), (text, value)
        for value in ("2001-12-14", "2001-12-14t21:59:43.10-05:00", "<<", "=", "!", "nginx"):
            assert (deferred.match(value) is None) == (compiled.match(value) is None), (text, value)
        assert deferred.flags == compiled.flags and deferred.groupindex == compiled.groupindex


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
