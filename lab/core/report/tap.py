"""TAP version 13: pass -> ok, skipped -> ok # SKIP, everything else -> not ok (docs/formats.md).

Version 13, not 14: Perl's Test::Harness (`prove`, 3.44 in Debian) fails a whole run that announces a
version it does not know, and everything used here (plan, directives, YAML diagnostics) is in 13.
error and pending are `not ok` with `severity` rather than TODO: a TODO failure would read as success.
"""

from __future__ import annotations

import json

from lab.core.checks.model import CheckResult, Report, Status
from lab.core.text import escape_json


def _escape(text: str) -> str:
    return " ".join(text.replace("\\", "\\\\").replace("#", "\\#").split())


def _yaml_value(value: object) -> str:
    # JSON strings are valid YAML flow scalars and keep hostile text on one line.
    return escape_json(json.dumps(value, ensure_ascii=False))


def _diagnostics(c: CheckResult) -> list[str]:
    fields: list[tuple[str, object]] = [("message", c.message)]
    if c.status in (Status.ERROR, Status.PENDING):
        fields.append(("severity", c.status.value))
    if c.hint:
        fields.append(("hint", c.hint))
    if c.shown_file:
        fields.append(("file", c.shown_file))
    if c.line:
        fields.append(("line", c.line))
    fields.append(("points", f"{c.points}/{c.max_points}"))
    return ["  ---", *(f"  {k}: {_yaml_value(v)}" for k, v in fields), "  ..."]


def render_tap(report: Report) -> str:
    report = report.for_learner()
    lines = ["TAP version 13", f"1..{len(report.checks)}"]
    for n, c in enumerate(report.checks, start=1):
        desc = _escape(f"{c.id} - {c.title}")
        if c.status is Status.PASS:
            lines.append(f"ok {n} - {desc}")
        elif c.status is Status.SKIPPED:
            reason = f"blocked by {c.blocked_by}" if c.blocked_by else c.message
            lines.append(f"ok {n} - {desc} # SKIP {_escape(reason)}")
        else:
            lines.append(f"not ok {n} - {desc}")
            lines.extend(_diagnostics(c))
    lines.append(f"# score {report.score}/{report.max_score}")
    return "\n".join(lines) + "\n"
