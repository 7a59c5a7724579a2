"""The versioned JSON shape: key order, check order, and the fields the issue names."""

from __future__ import annotations

import json

from lab.core.report.json import render_json, to_dict
from tests.support.reports import sample_report


def test_top_level_shape_and_key_order() -> None:
    data = json.loads(render_json(sample_report()))
    assert list(data) == [
        "schema",
        "task",
        "graded",
        "tool",
        "started_at",
        "duration_s",
        "status",
        "score",
        "max_score",
        "counts",
        "checks",
    ]
    assert data["schema"] == "fluxlab.results/1" and data["task"] == "09b"
    assert (data["score"], data["max_score"], data["status"]) == (13, 48, "fail")
    assert data["counts"] == {"pass": 2, "fail": 3, "error": 1, "pending": 1, "skipped": 1}


def test_check_fields() -> None:
    checks = to_dict(sample_report())["checks"]
    assert [c["id"] for c in checks][:3] == ["repo.files", "image-policy.valid", "marker.valid"]
    marker = checks[2]
    for key in ("id", "status", "title", "message", "hint", "points", "file", "line"):
        assert key in marker
    assert marker["evidence"] == [
        {"kind": "file", "ref": "apps/base/nginx/deployment.yaml:17", "text": "image: nginx:1.25.0 # ..."}
    ]
    assert checks[4]["blocked_by"] == "marker.valid" and checks[4]["depends_on"] == ["marker.valid"]


def test_rendering_is_deterministic() -> None:
    rep = sample_report()
    assert render_json(rep) == render_json(rep)


def test_offline_scores() -> None:
    data = to_dict(sample_report(offline=True))
    assert (data["score"], data["max_score"]) == (13, 36)
