"""Class-level renderings for `lab grade`: one row per student, as table, CSV, JSON or JUnit.

A row either carries a student's `Report` (graded, whatever the score) or the one-line reason the
repository could not be graded. The per-check pieces come from the single-report renderers
(`report.json.check_to_dict`, `report.junit`), so a check looks the same in `lab check` and `lab grade`.
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable
from typing import Any

from lab.core.checks.model import Report, Status, one_line
from lab.core.record import dataclass
from lab.core.report.json import check_to_dict
from lab.core.report.junit import _attr_message, _seconds, _testcase, clean
from lab.core.text import escape_controls, escape_json

# A graded repository whose checks did not fail but some could not be checked or are pending: distinct
# from "error", which `lab grade` keeps for a repository it could not grade at all.
INCOMPLETE = "incomplete"
NOT_GRADED = "error"


@dataclass(frozen=True)
class GradeRow:
    student: str
    repo: str
    """Where the work came from, as given (credentials in URLs redacted)."""
    branch: str | None = None
    report: Report | None = None
    reason: str = ""
    """Why the repository could not be graded (one line); empty when graded."""
    duration_s: float = 0.0
    note: str = ""
    """What the grade does not show by itself (one line), e.g. local commits that were never pushed."""
    records_task: str = ""
    """The task the repository records (`lab init --task`) when it is another task of this lab than the
    one graded: the class was probably graded against the wrong task."""

    @property
    def graded(self) -> bool:
        return self.report is not None

    @property
    def score(self) -> int | None:
        """None when not graded: no score at all, never a 0 that reads as a graded fail."""
        return self.report.score if self.report is not None else None

    @property
    def max_score(self) -> int | None:
        return self.report.max_score if self.report is not None else None

    @property
    def status(self) -> str:
        """pass / fail / incomplete for a graded repository, error when it could not be graded."""
        if self.report is None:
            return NOT_GRADED
        status = self.report.status
        return INCOMPLETE if status is Status.ERROR else status.value

    def first_problem(self) -> tuple[str, str]:
        """(check id, one-line message) of the first failing check, else of the first that could not be
        checked or is pending; ("", reason) when not graded.

        A failing check is what the student must change; an infrastructure error (registry down,
        cluster unreachable) in front of it would hide that from the instructor.
        """
        if self.report is None:
            return "", self.reason
        checks = self.report.checks
        first = next((c for c in checks if c.status is Status.FAIL), None) or self.report.first_broken()
        if first is None:
            return "", ""
        return first.id, one_line(first.located(), limit=None)


@dataclass(frozen=True)
class ClassReport:
    task: str
    rows: tuple[GradeRow, ...]
    started_at: str = ""
    duration_s: float = 0.0
    offline: bool = False

    def exit_code(self) -> int:
        """0 when every repository was graded (whatever the scores), 1 when some could not be."""
        return 0 if all(r.graded for r in self.rows) else 1

    def counts(self) -> dict[str, int]:
        counts = {"pass": 0, "fail": 0, INCOMPLETE: 0, NOT_GRADED: 0}
        for row in self.rows:
            counts[row.status] += 1
        return counts


def _score_cell(row: GradeRow) -> str:
    return "-" if row.score is None else f"{row.score}/{row.max_score}"


def _number(value: int | None) -> str:
    return "" if value is None else str(value)


def _cells(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _cells(text))


# On a terminal: the narrowest the repository and problem columns get, and the widest a student's name.
MIN_REPO = 16
MIN_PROBLEM = 30
MAX_STUDENT = 24
_GAP = "  "


def _cut(text: str, width: int, *, keep_end: bool = False) -> str:
    """`text` in at most `width` terminal cells, "…" marking what was left out (at the start when
    `keep_end`: a path's last part names the repository)."""
    if _cells(text) <= width:
        return text
    if width <= 1:
        return "…"[:width]
    chars = list(reversed(text)) if keep_end else list(text)
    kept: list[str] = []
    used = 1
    for ch in chars:
        used += _cells(ch)
        if used > width:
            break
        kept.append(ch)
    return "…" + "".join(reversed(kept)) if keep_end else "".join(kept) + "…"


def _problem(row: GradeRow, task: str) -> str:
    """The first failing check and its message, then the row's note: the check is what to act on."""
    check_id, message = row.first_problem()
    problem = f"{check_id}: {message}" if check_id else message
    note = _note(row, task)
    return f"{problem}; {note}" if problem and note else problem or note


def render_table(report: ClassReport, *, width: int | None = None) -> str:
    """Aligned text: student, repo, score, status, first failing check and its message, and the note.

    `width`: the terminal's columns, which every line then fits (the repository cut at its start, the
    problem at its end); None writes every cell in full (a file, a pipe)."""
    header = ("STUDENT", "REPO", "SCORE", "STATUS", "FIRST PROBLEM")
    body = [
        (one_line(row.student, limit=None), one_line(row.repo, limit=None), _score_cell(row), row.status)
        for row in report.rows
    ]
    problems = [_problem(row, report.task) for row in report.rows]
    widths = [max(_cells(r[i]) for r in (header[:4], *body)) for i in range(4)]
    if width is not None:
        widths[0] = min(widths[0], max(len(header[0]), MAX_STUDENT))
        rest = width - len(_GAP) * 4 - widths[0] - widths[2] - widths[3]
        longest = max((_cells(p) for p in problems), default=0)
        widths[1] = max(min(widths[1], rest - min(longest, MIN_PROBLEM)), min(widths[1], MIN_REPO))
        body = [
            (_cut(s, widths[0]), _cut(r, widths[1], keep_end=True), score, status)
            for s, r, score, status in body
        ]
        room = max(1, rest - widths[1])
        problems = [_cut(p, room) for p in problems]
    lines = []
    for cells, problem in ((header[:4], header[4]), *zip(body, problems, strict=True)):
        lead = _GAP.join(_pad(c, w) for c, w in zip(cells, widths, strict=True))
        lines.append(f"{lead}{_GAP}{problem}".rstrip())
    counts = report.counts()
    summary = ", ".join(f"{n} {status}" for status, n in counts.items() if n)
    mode = " (offline)" if report.offline else ""
    total = len(report.rows)
    noun = "repository" if total == 1 else "repositories"
    lines.append("")
    lines.append(f"{total} {noun}{mode}: {summary or 'none'} in {report.duration_s:.1f}s")
    recorded = Counter(row.records_task for row in report.rows if row.records_task)
    for other, count in recorded.most_common():
        them = "it" if count == 1 else "them"
        lines.append(
            f"{count} of {total} record task {other}, graded as {report.task}: "
            f"lab grade --task {other} grades {them} as their own"
        )
    if width is not None:
        lines = [_cut(line, width) for line in lines]
    return "\n".join(lines) + "\n"


def _note(row: GradeRow, task: str) -> str:
    """The row's note, after what its recorded task says about the grade (one line)."""
    recorded = f"records task {row.records_task}, graded as {task}" if row.records_task else ""
    return "; ".join(n for n in (recorded, one_line(row.note)) if n)


CSV_HEADER = (
    "student",
    "repo",
    "branch",
    "score",
    "max_score",
    "status",
    "first_failing_check",
    "message",
    "note",
)


def _csv_safe(text: str) -> str:
    # Spreadsheets run cells starting with = + - @ as formulas; a student controls these strings.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def render_csv(report: ClassReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for row in report.rows:
        check_id, message = row.first_problem()
        writer.writerow(
            [
                _csv_safe(one_line(row.student)),
                _csv_safe(escape_controls(row.repo)),  # as given (it names the repository), but visible
                _csv_safe(escape_controls(row.branch or "")),
                _number(row.score),
                _number(row.max_score),
                row.status,
                check_id,
                _csv_safe(escape_controls(message)),
                _csv_safe(_note(row, report.task)),
            ]
        )
    return out.getvalue()


def row_to_dict(row: GradeRow) -> dict[str, Any]:
    check_id, message = row.first_problem()
    data: dict[str, Any] = {
        "student": row.student,
        "repo": row.repo,
        "branch": row.branch,
        "graded": row.graded,
        "score": row.score,
        "max_score": row.max_score,
        "status": row.status,
        "first_failing_check": check_id or None,
        "message": message,
        "note": row.note,
        "records_task": row.records_task or None,
        "duration_s": round(row.duration_s, 3),
        # The instructor sees everything, hidden checks included.
        "checks": [check_to_dict(c) for c in row.report.checks] if row.report is not None else [],
    }
    return data


def render_json(report: ClassReport) -> str:
    data = {
        "schema": "fluxlab.grades/2",
        "task": report.task,
        "started_at": report.started_at,
        "duration_s": round(report.duration_s, 3),
        "offline": report.offline,
        "counts": report.counts(),
        "repos": [row_to_dict(r) for r in report.rows],
    }
    return escape_json(json.dumps(data, indent=2, ensure_ascii=False)) + "\n"


def _classname(task: str, student: str) -> str:
    # GitLab keeps only the first of duplicate (classname, name) pairs, so every student needs their own
    # classname; one dot keeps Jenkins' package/class split at "fluxlab".
    task_part = re.sub(r"[^0-9A-Za-z_]", "", task)
    student_part = re.sub(r"[^0-9A-Za-z_-]", "_", student) or "student"
    return f"fluxlab.task{task_part}_{student_part}"


def _unique(name: str, used: set[str]) -> str:
    # Different students can sanitise to one classname ("a.b" and "a_b", two "alice" folders).
    candidate, n = name, 1
    while candidate in used:
        n += 1
        candidate = f"{name}_{n}"
    used.add(candidate)
    return candidate


def render_junit(report: ClassReport) -> str:
    """One testsuite per student, one testcase per check; an ungraded repository is one `error` case."""
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    time_total = 0.0
    root = ET.Element("testsuites", {"name": f"fluxlab {report.task} grades"})
    used: set[str] = set()
    for row in report.rows:
        classname = _unique(_classname(report.task, row.student), used)
        suite = ET.SubElement(root, "testsuite", {"name": clean(row.student)})
        props = ET.SubElement(suite, "properties")
        ET.SubElement(props, "property", {"name": "repo", "value": clean(row.repo)})
        ET.SubElement(props, "property", {"name": "status", "value": row.status})
        if row.records_task:
            ET.SubElement(props, "property", {"name": "records_task", "value": clean(row.records_task)})
        if row.report is None:
            counts = {"tests": 1, "failures": 0, "errors": 1, "skipped": 0}
            case = ET.SubElement(
                suite, "testcase", {"classname": classname, "name": "grade", "time": _seconds(0.0)}
            )
            message = _attr_message(row.reason)
            ET.SubElement(case, "error", {"type": "error", "message": message}).text = clean(row.reason)
            suite_time = row.duration_s
        else:
            rep = row.report
            c = rep.counts()
            counts = {
                "tests": len(rep.checks),
                "failures": c["fail"],
                "errors": c["error"] + c["pending"],
                "skipped": c["skipped"],
            }
            ET.SubElement(props, "property", {"name": "score", "value": str(rep.score)})
            ET.SubElement(props, "property", {"name": "max_score", "value": str(rep.max_score)})
            for check in rep.checks:
                _testcase(suite, check, classname)
            suite_time = sum(ch.duration_s for ch in rep.checks)
            if rep.started_at:
                suite.set("timestamp", rep.started_at)
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
        suite.set("time", _seconds(suite_time))
        time_total += suite_time
    for key, value in totals.items():
        if key != "skipped":  # junit-10.xsd allows `skipped` on a testsuite only
            root.set(key, str(value))
    root.set("time", _seconds(time_total))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


_RENDERERS: dict[str, Callable[[ClassReport], str]] = {
    "table": render_table,  # in full: `render_grades` passes a terminal's width
    "csv": render_csv,
    "json": render_json,
    "junit": render_junit,
}


def render_grades(report: ClassReport, fmt: str, *, width: int | None = None) -> str:
    """`report` as `fmt`; `width`: the terminal's columns when the table is shown on one."""
    if fmt == "table":
        return render_table(report, width=width)
    renderer = _RENDERERS.get(fmt)
    if renderer is None:
        raise ValueError(f"unknown grade format {fmt}")
    return renderer(report)
