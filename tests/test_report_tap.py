"""TAP version 14: plan, ok/not ok, SKIP directives, YAML diagnostics, escaping."""

from __future__ import annotations

import json
import re

from test_report_common import sample_report

from lab.core.report.tap import render_tap


def test_version_plan_and_one_line_per_check() -> None:
    lines = render_tap(sample_report()).splitlines()
    assert lines[0] == "TAP version 14"
    assert lines[1] == "1..8"
    tests = [line for line in lines if re.match(r"(not )?ok \d+ - ", line)]
    assert [int(re.search(r"ok (\d+)", t).group(1)) for t in tests] == list(range(1, 9))  # type: ignore[union-attr]


def test_status_mapping() -> None:
    text = render_tap(sample_report())
    assert "ok 1 - repo.files - Files exist\n" in text
    assert "not ok 3 - marker.valid - Marker valid\n" in text
    assert "ok 5 - git.pushed - Pushed # SKIP blocked by marker.valid\n" in text
    block = text.split("not ok 6 - registry.tags - Tags\n")[1].split("  ...")[0]
    assert '  severity: "error"' in block
    block = text.split("not ok 7 - cluster.controllers - Controllers\n")[1].split("  ...")[0]
    assert '  severity: "pending"' in block
    assert "# TODO" not in text  # a TODO failure would read as success


def test_yaml_diagnostics_are_indented_and_parse() -> None:
    text = render_tap(sample_report())
    block = text.split("not ok 3 - marker.valid - Marker valid\n  ---\n")[1].split("\n  ...")[0]
    fields = {}
    for line in block.splitlines():
        assert line.startswith("  ")
        key, value = line.strip().split(": ", 1)
        fields[key] = json.loads(value)
    assert fields["file"] == "apps/base/nginx/deployment.yaml" and fields["line"] == 17
    assert fields["hint"] == 'write # {"$imagepolicy": "flux-system:nginx"}'


def test_hostile_message_stays_inside_its_block() -> None:
    lines = render_tap(sample_report()).splitlines()
    assert not any(line.startswith("::error") for line in lines)
    assert all(line.startswith(("TAP", "1..", "ok ", "not ok ", "  ", "# score")) for line in lines), lines


def test_offline_skip_reason() -> None:
    assert "ok 6 - registry.tags - Tags # SKIP offline: registry checks" in render_tap(
        sample_report(offline=True)
    )


def test_hash_in_description_is_escaped() -> None:
    from lab.core.report.tap import _escape

    assert _escape("a # b \\ c") == "a \\# b \\\\ c"
