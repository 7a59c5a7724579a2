"""Renderings of one `Report`: text for people, JSON, JUnit XML, GitHub Actions, TAP, Classroom."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the command line imports the format names before any report exists
    from lab.core.checks.model import Report

FORMATS = ("text", "json", "junit", "github", "tap", "classroom")
GRADE_FORMATS = ("table", "csv", "json", "junit")
"""`lab grade`'s formats (`lab.core.report.grade_table.render_grades`)."""


def render(report: Report, fmt: str, *, color: bool = False, verbose: bool = False) -> str:
    """The main output of a format (for `github`: the workflow-command lines for stdout); `verbose`:
    the text lists everything each check that did not pass found (the other formats carry it anyway)."""
    if fmt == "text":
        from lab.core.report.text import render_text

        return render_text(report, color=color, verbose=verbose)
    if fmt == "json":
        from lab.core.report.json import render_json

        return render_json(report)
    if fmt == "junit":
        from lab.core.report.junit import render_junit

        return render_junit(report)
    if fmt == "github":
        from lab.core.report.github import render_annotations

        return render_annotations(report)
    if fmt == "tap":
        from lab.core.report.tap import render_tap

        return render_tap(report)
    if fmt == "classroom":
        from lab.core.report.github import classroom_output

        return classroom_output(report)
    raise ValueError(f"unknown format {fmt}")
