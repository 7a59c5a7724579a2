"""GitHub Actions: workflow commands within the per-step limits, a step summary, Classroom points.

Limits (grading.md section 2): 10 error, 10 warning and 10 notice annotations per step; extra ones are
dropped silently. So at most 9 errors + 9 warnings, root causes first, then one notice pointing at the
summary. Learner-controlled text is escaped inside commands and fenced with `::stop-commands::` elsewhere.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json

from lab.core.checks.model import CheckResult, Report, Status
from lab.core.report.text import render_text

MAX_ERRORS = 9
MAX_WARNINGS = 9
SUMMARY_CAP = 900 * 1024  # the step summary limit is 1 MiB; stay well under it

SUMMARY_ICONS = {
    Status.PASS: "✅",
    Status.FAIL: "❌",
    Status.ERROR: "⚠️",
    Status.PENDING: "⏳",
    Status.SKIPPED: "⏭️",
}


def escape_data(text: str) -> str:
    # `##[` is the runner's legacy command prefix; break it so learner text cannot use it.
    escaped = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return escaped.replace("##[", "# #[")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(name: str, message: str, **props: str | int | None) -> str:
    parts = [f"{k}={escape_property(str(v))}" for k, v in props.items() if v not in (None, "")]
    head = f"::{name} {','.join(parts)}" if parts else f"::{name}"
    return f"{head}::{escape_data(message)}"


def points_notice(report: Report) -> list[str]:
    """The two lines the Classroom reporter prints; empty when there is nothing to score."""
    if report.max_score <= 0:
        return []
    payload = json.dumps({"totalPoints": report.score, "maxPoints": report.max_score}, separators=(",", ":"))
    return [
        command("notice", f"Points {report.score}/{report.max_score}", title="Autograding complete"),
        command("notice", payload, title="Autograding report"),
    ]


def _annotation_text(c: CheckResult) -> str:
    return f"{c.message}\nhint: {c.hint}" if c.hint else c.message


def annotation_lines(report: Report) -> list[str]:
    report = report.for_learner()
    fails = [c for c in report.checks if c.status is Status.FAIL]
    fails.sort(key=lambda c: c.file is None)  # stable: failures pointing at a file first
    unknown = [c for c in report.checks if c.status in (Status.ERROR, Status.PENDING)]
    lines = [
        command("error", _annotation_text(c), file=c.file, line=c.line, title=c.id)
        for c in fails[:MAX_ERRORS]
    ]
    for c in unknown[:MAX_WARNINGS]:
        title = f"{c.id} pending" if c.status is Status.PENDING else f"{c.id} could not be checked"
        lines.append(command("warning", _annotation_text(c), title=title))
    dropped = max(0, len(fails) - MAX_ERRORS) + max(0, len(unknown) - MAX_WARNINGS)
    if dropped:
        lines.append(
            command("notice", f"{dropped} more findings: see the job summary", title="More findings")
        )
    return lines


def fenced(text: str) -> list[str]:
    """Raw text the runner must not interpret: fenced with a token the text cannot contain."""
    token = "fluxlab-" + hashlib.sha256(text.encode()).hexdigest()[:32]
    return [f"::stop-commands::{token}", *text.rstrip("\n").split("\n"), f"::{token}::"]


def render_annotations(report: Report, *, points: bool = True) -> str:
    """Everything for stdout: points notice first, annotations, then the readable report, fenced."""
    lines = [*(points_notice(report) if points else []), *annotation_lines(report)]
    lines.append("::group::fluxlab report")
    lines.extend(fenced(render_text(report)))
    lines.append("::endgroup::")
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return html.escape(" ".join(text.split()), quote=False).replace("|", "\\|")


def render_summary(report: Report) -> str:
    """GitHub-flavoured Markdown for `$GITHUB_STEP_SUMMARY`, capped well under 1 MiB."""
    report = report.for_learner()
    counts = ", ".join(f"{n} {s}" for s, n in report.counts().items() if n)
    head = [
        f"## fluxlab: task {report.task} - {report.score}/{report.max_score} points",
        "",
        counts,
        "",
        "| | Check | Points | Result |",
        "|---|---|---|---|",
    ]
    rows: list[str] = []
    hints: list[str] = []
    for c in report.checks:
        where = f" (`{_cell(c.file)}`" + (f" line {c.line})" if c.line else ")") if c.file else ""
        text = c.message or c.title
        rows.append(
            f"| {SUMMARY_ICONS[c.status]} | `{c.id}` | {c.points}/{c.max_points} | {_cell(text)}{where} |"
        )
        if c.hint and c.status in (Status.FAIL, Status.ERROR, Status.PENDING):
            hints.append(
                f"<details><summary>{_cell(c.id)}: how to fix</summary>\n\n{_cell(c.hint)}\n\n</details>"
            )
    body = head + rows
    if hints:
        body += ["", "### Hints", "", *hints]
    text = "\n".join(body) + "\n"
    if len(text.encode()) > SUMMARY_CAP:
        text = text.encode()[:SUMMARY_CAP].decode(errors="ignore") + "\n\n(summary truncated)\n"
    return text


def classroom_result(report: Report) -> dict[str, object]:
    """The autograding-grading-reporter runner result (grading.md 1.2/1.5): one test per check.

    Mode-excluded checks are left out; blocked ones count as `fail` with 0; pending is an `error`.
    """
    report = report.for_learner()
    tests: list[dict[str, object]] = []
    for c in report.checks:
        if c.excluded:
            continue
        if c.status is Status.PASS:
            status, message = "pass", c.message
        elif c.status is Status.PENDING:
            status, message = "error", f"pending: {c.message}"
        elif c.status is Status.ERROR:
            status, message = "error", c.message
        else:
            status, message = "fail", c.message
        tests.append(
            {
                "name": c.id,
                "status": status,
                "score": c.points,
                "message": message,
                "test_code": f"lab check --only {c.id}",
                "filename": c.file or "",
                "line_no": c.line or 0,
                "duration": round(c.duration_s * 1000),
            }
        )
    overall = {Status.FAIL: "fail", Status.ERROR: "error"}.get(report.status, "pass")
    return {"version": 1, "status": overall, "max_score": report.max_score, "tests": tests}


def classroom_output(report: Report) -> str:
    """`result=<base64 JSON>` for `$GITHUB_OUTPUT` (pass it to the reporter as `<ID>_RESULTS`)."""
    compact = json.dumps(classroom_result(report), separators=(",", ":"), ensure_ascii=False)
    return "result=" + base64.b64encode(compact.encode()).decode("ascii") + "\n"
