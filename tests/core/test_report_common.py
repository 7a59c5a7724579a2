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


def test_a_file_name_of_terminal_escapes_is_written_one_way_in_every_field_of_every_format() -> None:
    """JSON and TAP put real ESC/OSC in `file` (`jq -r .checks[].file` wrote them to the terminal) while
    `message` held visible `\\x1b` escapes; the annotation's file= named a path that does not exist."""
    import base64
    import csv
    import io
    import json
    import re
    import xml.etree.ElementTree as ET

    import yaml

    from lab.core.checks import CheckDef, Outcome, runner
    from lab.core.checks.model import Report
    from lab.core.report.github import classroom_output, render_annotations
    from lab.core.report.grade_table import ClassReport, GradeRow, render_grades

    raw = "clusters/dev/\x1b[31mred\x1b]0;PWNED\x07.yaml"
    shown = r"clusters/dev/\x1b[31mred\x1b]0;PWNED\x07.yaml"
    results = runner.run(
        (CheckDef("sync.included", "Sync", 5),),
        {"sync.included": lambda _: Outcome.failed("does not decode", file=raw, line=1)},
        None,
    )
    report = Report(task="09b", checks=results)
    outputs = {fmt: render(report, fmt) for fmt in FORMATS}
    klass = ClassReport(task="09b", rows=(GradeRow("s", "r", report=report),))
    outputs |= {f"grade-{fmt}": render_grades(klass, fmt) for fmt in ("csv", "json", "junit")}
    for fmt, text in outputs.items():
        assert "\x1b" not in text and "\x07" not in text, fmt
        assert "\\u001b" not in text, fmt  # a JSON escape: `jq -r` turns it back into a real ESC
    assert json.loads(outputs["json"])["checks"][0]["file"] == shown
    assert json.loads(outputs["grade-json"])["repos"][0]["checks"][0]["file"] == shown
    block = outputs["tap"].split("  ---\n")[1].split("  ...")[0]
    assert yaml.safe_load(block)["file"] == shown
    assert f"file: {shown}:1" in (ET.fromstring(outputs["junit"]).findtext(".//failure") or "")
    assert shown in next(csv.DictReader(io.StringIO(outputs["grade-csv"])))["message"]
    encoded = classroom_output(report).strip().split("=", 1)[1]
    assert json.loads(base64.b64decode(encoded))["tests"][0]["filename"] == shown
    # GitHub cannot place an annotation on a file the visible form does not name: no file=, the text names it.
    error = next(line for line in render_annotations(report).splitlines() if line.startswith("::error"))
    assert "file=" not in error and "line=" not in error, error
    assert re.search(
        r"::clusters/dev/\\x1b\[31mred\\x1b\]0;PWNED\\x07\.yaml%3A1%3A |::" + re.escape(shown), error
    )
