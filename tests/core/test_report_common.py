"""The format dispatch: every format renders the report with every status (tests.support.reports)."""

from __future__ import annotations

import pytest

from lab.core.report import FORMATS, render
from tests.support.reports import sample_report


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_renders_every_status(fmt: str) -> None:
    text = render(sample_report(), fmt)
    assert text.endswith("\n")
    if fmt != "classroom":  # base64
        assert "marker.valid" in text


def test_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown format"):
        render(sample_report(), "xml")


def test_sample_covers_every_status() -> None:
    rep = sample_report()
    assert rep.counts() == {"pass": 2, "fail": 3, "error": 1, "pending": 1, "skipped": 1}
    assert rep.get("git.pushed").blocked_by == "marker.valid"
