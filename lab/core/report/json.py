"""The stable, versioned JSON results (docs/formats.md, docs/results.schema.json). Other formats are renderings of it."""

from __future__ import annotations

import json
from typing import Any

from lab.core.checks.model import CheckResult, Report
from lab.core.text import escape_json

SCHEMA = "fluxlab.results/1"


def check_to_dict(c: CheckResult) -> dict[str, Any]:
    return {
        "id": c.id,
        "title": c.title,
        "status": c.status.value,
        "points": c.points,
        "max_points": c.max_points,
        "message": c.message,
        "hint": c.hint,
        "file": c.shown_file,
        "line": c.line,
        "evidence": [e.to_dict() for e in c.evidence],
        "depends_on": list(c.depends_on),
        "blocked_by": c.blocked_by,
        "duration_s": round(c.duration_s, 3),
        "attempts": c.attempts,
    }


def to_dict(report: Report, *, show_hidden: bool = False) -> dict[str, Any]:
    shown = report if show_hidden else report.for_learner()
    return {
        "schema": SCHEMA,
        "task": shown.task,
        "graded": shown.graded,
        "tool": {"name": shown.tool_name, "version": shown.tool_version},
        "started_at": shown.started_at,
        "duration_s": round(shown.duration_s, 3),
        "status": shown.status.value,
        "score": shown.score,
        "max_score": shown.max_score,
        "counts": shown.counts(),
        "checks": [check_to_dict(c) for c in shown.checks],
    }


def render_json(report: Report, *, show_hidden: bool = False) -> str:
    return (
        escape_json(json.dumps(to_dict(report, show_hidden=show_hidden), indent=2, ensure_ascii=False)) + "\n"
    )
