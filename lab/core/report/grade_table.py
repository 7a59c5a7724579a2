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
from collections.abc import Callable, Sequence
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
        return first.id, one_line(first.located())


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


def sort_rows(rows: Sequence[GradeRow]) -> tuple[GradeRow, ...]:
    """By student (case-insensitive), then repository, so outputs diff cleanly between runs."""
    return tuple(sorted(rows, key=lambda r: (r.student.casefold(), r.student, r.repo)))


def _score_cell(row: GradeRow) -> str:
    return "-" if row.score is None else f"{row.score}/{row.max_score}"


def _number(value: int | None) -> str:
    return "" if value is None else str(value)


def _cells(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _cells(text))


def render_table(report: ClassReport, *, message_width: int = 100) -> str:
    """Aligned text: student, repo, score, status, first failing check and its message."""
    header = ("STUDENT", "REPO", "SCORE", "STATUS", "FIRST PROBLEM")
    body: list[tuple[str, ...]] = []
    for row in report.rows:
        check_id, message = row.first_problem()
        problem = f"{check_id}: {message}" if check_id else message
        note = _note(row, report.task)
        if note:
            problem = f"{note}; {problem}" if problem else note
        if len(problem) > message_width:
            problem = problem[: message_width - 1] + "…"
        body.append((one_line(row.student), one_line(row.repo), _score_cell(row), row.status, problem))
    widths = [max(_cells(r[i]) for r in (header, *body)) for i in range(len(header) - 1)]
    lines = []
    for cells in (header, *body):
        lead = "  ".join(_pad(c, w) for c, w in zip(cells, widths, strict=False))
        lines.append(f"{lead}  {cells[-1]}".rstrip())
    counts = report.counts()
    summary = ", ".join(f"{n} {status}" for status, n in counts.items() if n)
    mode = " (offline)" if report.offline else ""
    lines.append("")
    lines.append(f"{len(report.rows)} repositories{mode}: {summary or 'none'} in {report.duration_s:.1f}s")
    recorded = Counter(row.records_task for row in report.rows if row.records_task)
    for other, count in recorded.most_common():
        them = "it" if count == 1 else "them"
        lines.append(
            f"{count} of {len(report.rows)} record task {other}, graded as {report.task}: "
            f"lab grade --task {other} grades {them} as their own"
        )
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
    "table": render_table,
    "csv": render_csv,
    "json": render_json,
    "junit": render_junit,
}


def render_grades(report: ClassReport, fmt: str) -> str:
    renderer = _RENDERERS.get(fmt)
    if renderer is None:
        raise ValueError(f"unknown grade format {fmt}")
    return renderer(report)
