"""GitHub Actions: workflow commands within the per-step limits, a step summary, Classroom points.

Limits (GitHub's workflow-commands documentation): 10 error, 10 warning and 10 notice annotations per
step; extra ones are dropped silently. So at most 9 errors + 9 warnings, root causes first, then one
notice pointing at the summary. Learner-controlled text is escaped inside commands, fenced with
`::stop-commands::` elsewhere, and Markdown-escaped in the step summary. docs/formats.md has the shapes.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import math
import re
import string
from collections.abc import Sequence

from lab.core.checks.model import CheckResult, Report, Status
from lab.core.report.text import render_text
from lab.core.text import escape_controls

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


def _annotation_text(c: CheckResult, message: str | None = None) -> str:
    message = c.message if message is None else message
    return f"{message}\nhint: {c.hint}" if c.hint else message


def _error_annotation(c: CheckResult) -> str:
    """An `::error` at the check's file and line; a file named with control characters gets none (its
    visible form names no file of the repository, and GitHub would place the annotation nowhere): its
    text names the file instead."""
    if c.file != c.shown_file:
        return command("error", _annotation_text(c, c.located()), title=c.id)
    return command("error", _annotation_text(c), file=c.file, line=c.line, title=c.id)


def annotation_lines(report: Report) -> list[str]:
    report = report.for_learner()
    fails = [c for c in report.checks if c.status is Status.FAIL]
    fails.sort(key=lambda c: c.file is None)  # stable: failures pointing at a file first
    unknown = [c for c in report.checks if c.status in (Status.ERROR, Status.PENDING)]
    lines = [_error_annotation(c) for c in fails[:MAX_ERRORS]]
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


_MD_PUNCTUATION = frozenset(string.punctuation)
_PLAIN_ID = re.compile(r"[A-Za-z0-9._-]+")


def md_text(text: str) -> str:
    """Learner text as literal GitHub-flavoured Markdown inline text, safe inside a table cell.

    CommonMark lets a backslash escape every ASCII punctuation character, so escaping all of them
    leaves nothing to interpret: no code span (backticks), emphasis (`**`), link, autolink or raw HTML
    (`<`), entity (`&lt;` stays those four characters), strikethrough (`~`) or cell break (`|`). Line
    breaks become spaces: a table row is one line.
    """
    # The summary is a file GitHub renders, but also one people `cat`: a repository's file name must
    # not reach it as raw escape sequences or bidi overrides.
    flat = " ".join(escape_controls(text).split())
    return "".join("\\" + ch if ch in _MD_PUNCTUATION else ch for ch in flat)


def _md_id(check_id: str) -> str:
    # Check ids are dotted words from the task's data: shown as code when that cannot break the span.
    return f"`{check_id}`" if _PLAIN_ID.fullmatch(check_id) else md_text(check_id)


def _where(c: CheckResult, text: str) -> str:
    """The file and line after a row's text, leaving out what the text already names (its messages
    often name the file: "ImageRepository flux-system/nginx (clusters/dev/...)")."""
    shown = c.shown_file
    if not shown:
        return ""
    line = f" line {c.line}" if c.line and f"{shown}:{c.line}" not in text else ""
    if shown not in text:
        return f" ({md_text(shown)}{line})"
    return f" ({line.strip()})" if line else ""


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
        text = c.message or c.title
        where = _where(c, text)
        # A check left out is no lost points: "–/6 offline", never "0/6".
        points = f"{c.points_text()} {md_text(c.skip_reason())}" if c.excluded else c.points_text()
        rows.append(f"| {SUMMARY_ICONS[c.status]} | {_md_id(c.id)} | {points} | {md_text(text)}{where} |")
        if c.hint and c.status in (Status.FAIL, Status.ERROR, Status.PENDING):
            # Inside <summary> the text is raw HTML (escaped as HTML); after the blank line it is
            # Markdown again.
            summary = html.escape(" ".join(c.id.split()))
            hints.append(
                f"<details><summary>{summary}: how to fix</summary>\n\n{md_text(c.hint)}\n\n</details>"
            )
    body = head + rows
    if hints:
        body += ["", "### Hints", "", *hints]
    text = "\n".join(body) + "\n"
    if len(text.encode()) > SUMMARY_CAP:
        text = text.encode()[:SUMMARY_CAP].decode(errors="ignore") + "\n\n(summary truncated)\n"
    return text


def runner_name(check_id: str) -> str:
    """The Classroom runner (and `$GITHUB_OUTPUT` name) of a check: `repo.files` -> `repoFiles`.

    The reporter reads `<RUNNER uppercased>_RESULTS`; letters and digits only, because its error path
    calls any other runner list malformed and hides the real error.
    """
    parts = [p for p in re.split(r"[^A-Za-z0-9]+", check_id) if p]
    name = "".join([parts[0].lower(), *(p[:1].upper() + p[1:].lower() for p in parts[1:])]) if parts else ""
    return name if name[:1].isalpha() else f"check{name}"


def runner_names(check_ids: Sequence[str]) -> list[str]:
    """One distinct runner name per check id, in order (a clash gets a numeric suffix)."""
    seen: set[str] = set()
    names: list[str] = []
    for check_id in check_ids:
        base = name = runner_name(check_id)
        n = 1
        while name in seen:
            n += 1
            name = f"{base}{n}"
        seen.add(name)
        names.append(name)
    return names


def _classroom_status(c: CheckResult) -> tuple[str, str]:
    if c.status is Status.PASS:
        return "pass", c.message
    if c.status is Status.PENDING:
        return "error", f"pending: {c.message}"
    if c.status is Status.ERROR:
        return "error", c.message
    return "fail", c.message  # fail, and skipped because blocked: 0 points


def _test(c: CheckResult, name: str, status: str, score: int, message: str) -> dict[str, object]:
    return {
        "name": name,
        "status": status,
        "score": score,
        "message": message,
        "test_code": f"lab check --only {c.id}",
        "filename": c.shown_file or "",
        "line_no": c.line or 0,
        "duration": round(c.duration_s * 1000),
    }


def check_runner_result(c: CheckResult) -> dict[str, object]:
    """One check as one autograding-grading-reporter runner whose max_score is the check's points.

    The reporter shows a runner's points as (passed tests / tests) x max_score and sends Classroom the
    sum of the tests' scores; one runner per check makes both the same number. Partial credit p of m
    points is split into m/g tests of g = gcd(p, m) points, p/g of them passed, so both still agree.
    """
    status, message = _classroom_status(c)
    m, p = c.max_points, c.points
    if status != "pass" and 0 < p < m:
        g = math.gcd(p, m)
        tests = [_test(c, f"{c.id} ({i + 1}/{m // g})", "pass", g, message) for i in range(p // g)]
        tests += [_test(c, f"{c.id} ({i + 1}/{m // g})", status, 0, message) for i in range(p // g, m // g)]
    else:
        tests = [_test(c, c.id, status, p if status == "pass" else 0, message)]
    return {"version": 1, "status": status, "max_score": m, "tests": tests}


def classroom_runners(report: Report) -> list[tuple[str, dict[str, object]]]:
    """(runner name, result) for every check that counts; mode-excluded checks are left out."""
    report = report.for_learner()
    counted = [c for c in report.checks if not c.excluded]
    names = runner_names([c.id for c in report.checks])
    by_id = dict(zip([c.id for c in report.checks], names, strict=True))
    return [(by_id[c.id], check_runner_result(c)) for c in counted]


def _encode(result: dict[str, object]) -> str:
    compact = json.dumps(result, separators=(",", ":"), ensure_ascii=False)
    return base64.b64encode(compact.encode()).decode("ascii")


def classroom_output(report: Report) -> str:
    """`<runner>=<base64 JSON>` lines for `$GITHUB_OUTPUT`, one runner per check.

    Give the reporter `runners: <the names>` and `<NAME uppercased>_RESULTS: ${{ steps.<id>.outputs.<name> }}`
    for each (`lab classroom workflow` writes that workflow).
    """
    return "".join(f"{name}={_encode(result)}\n" for name, result in classroom_runners(report))
