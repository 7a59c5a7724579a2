"""JUnit XML that GitLab, Jenkins (junit and xunit plugins) and the GitHub JUnit actions all read.

One `testcase` per check id; `classname` constant with one dot; the message both in `@message` (one line)
and in the element body (full text), because older GitLab reads only the body. The location of a finding
(`file: path:line`) is in that body, not in `testcase/@file`/`@line`: Jenkins' xunit schema (junit-10.xsd)
refuses those attributes, as it refuses `testsuites/@skipped` (pytest left both out of its default output
for the same reason). docs/formats.md describes the document.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from lab.core.checks.model import CheckResult, Report, Status, clean_text

# XML 1.0 forbids most C0 controls even as character references, and lone surrogates (from
# undecodable file names) cannot be encoded at all; learner text may contain them.
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def clean(text: str) -> str:
    # The one escaping of control characters every format uses (`\x1b]0;...\x07` shown, as the table and
    # CSV show it), then what XML cannot hold at all even escaped.
    return _ILLEGAL.sub("", clean_text(text))


def _attr_message(text: str) -> str:
    # Jenkins and the GitHub actions show @message as a one-line summary; the body keeps the full text.
    return " ".join(line.strip() for line in clean(text).splitlines() if line.strip())


def _seconds(value: float) -> str:
    return f"{value:.3f}"


def _body(c: CheckResult) -> str:
    lines = [c.message]
    if c.hint:
        lines.append(f"hint: {c.hint}")
    if c.shown_file:
        lines.append(f"file: {c.shown_file}:{c.line}" if c.line else f"file: {c.shown_file}")
    lines.extend(f"evidence: {e.ref}" + (f"\n{e.text}" if e.text else "") for e in c.evidence)
    return clean("\n".join(lines))


def _testcase(parent: ET.Element, c: CheckResult, classname: str) -> None:
    attrs = {"classname": classname, "name": c.id, "time": _seconds(c.duration_s)}
    case = ET.SubElement(parent, "testcase", attrs)
    message = _attr_message(c.message)
    if c.status is Status.FAIL:
        ET.SubElement(case, "failure", {"type": "fail", "message": message}).text = _body(c)
    elif c.status in (Status.ERROR, Status.PENDING):
        ET.SubElement(case, "error", {"type": c.status.value, "message": message}).text = _body(c)
    elif c.status is Status.SKIPPED:
        reason = f"blocked by {c.blocked_by}" if c.blocked_by else message
        ET.SubElement(case, "skipped", {"message": _attr_message(reason)}).text = clean(c.message)
    out = f"{c.title}: {c.message}" if c.message else c.title
    ET.SubElement(case, "system-out").text = clean(out)


def render_junit(report: Report) -> str:
    report = report.for_learner()
    counts = report.counts()
    totals = {
        "tests": str(len(report.checks)),
        "failures": str(counts["fail"]),
        "errors": str(counts["error"] + counts["pending"]),
        "time": _seconds(sum(c.duration_s for c in report.checks)),
    }
    task = report.task
    # `skipped` is a testsuite attribute only: junit-10.xsd refuses it on testsuites.
    root = ET.Element("testsuites", {"name": f"fluxlab {task}", **totals})
    suite_attrs = {"name": f"task-{task}", **totals, "skipped": str(counts["skipped"])}
    if report.started_at:
        suite_attrs["timestamp"] = report.started_at
    suite = ET.SubElement(root, "testsuite", suite_attrs)
    props = ET.SubElement(suite, "properties")
    ET.SubElement(props, "property", {"name": "score", "value": str(report.score)})
    ET.SubElement(props, "property", {"name": "max_score", "value": str(report.max_score)})
    classname = "fluxlab.task" + re.sub(r"[^0-9A-Za-z_]", "", task)
    for c in report.checks:
        _testcase(suite, c, classname)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
