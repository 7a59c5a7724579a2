"""TAP version 13: plan, ok/not ok, SKIP directives, YAML diagnostics, escaping."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from lab.core.checks import CheckDef, Outcome, Report, runner
from lab.core.report.tap import render_tap
from tests.support.reports import sample_report


def test_version_plan_and_one_line_per_check() -> None:
    lines = render_tap(sample_report()).splitlines()
    assert lines[0] == "TAP version 13"
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


# --- Perl's `prove` (Test::Harness), the harness Debian's perl ships, reads the output -------------------


def _prove(tmp_path: Path, text: str) -> subprocess.CompletedProcess[str]:
    prove = shutil.which("prove")
    if prove is None:
        if os.environ.get("CI"):
            pytest.fail("prove (Debian's perl) is missing: CI must run the TAP harness test", pytrace=False)
        pytest.skip("prove (perl's Test::Harness) is not installed")
    tap = tmp_path / "lab.tap"
    tap.write_text(text, encoding="utf-8")
    # `--exec cat` makes prove read the file as a test's output instead of running it.
    return subprocess.run(
        [prove, "--exec", "cat", "--verbose", str(tap)], capture_output=True, text=True, timeout=60
    )


def _report(**outcomes: Outcome) -> Report:
    defs = tuple(CheckDef(name, name.title(), 2) for name in outcomes)
    impls = {name: (lambda _ctx, o=o: o) for name, o in outcomes.items()}
    return Report(task="09b", checks=runner.run(defs, impls, None))


@pytest.mark.slow
def test_prove_passes_an_all_pass_run(tmp_path: Path) -> None:
    report = _report(**{"a.one": Outcome.passed("ok # fine"), "b.two": Outcome.passed("ok")})
    proc = _prove(tmp_path, render_tap(report))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Result: PASS" in proc.stdout
    assert "Parse errors" not in proc.stdout


@pytest.mark.slow
def test_prove_passes_skips_and_fails_failures(tmp_path: Path) -> None:
    passing = sample_report(offline=True)
    only_ok = Report(
        task="09b", checks=tuple(c for c in passing.checks if c.status.value in ("pass", "skipped"))
    )
    # Renumbered by the renderer: passes and SKIPs only, so the harness must say PASS.
    proc = _prove(tmp_path, render_tap(only_ok))
    assert proc.returncode == 0 and "Result: PASS" in proc.stdout, proc.stdout
    proc = _prove(tmp_path, render_tap(sample_report()))
    assert proc.returncode != 0 and "Result: FAIL" in proc.stdout
    assert "Parse errors" not in proc.stdout, proc.stdout
    # Every `not ok` of the report is a failed test to the harness, nothing else.
    failed = re.search(r"Failed tests?:\s+([\d, -]+)", proc.stdout)
    assert failed is not None, proc.stdout
    expected = [n for n, c in enumerate(sample_report().checks, 1) if c.broken]
    listed: list[int] = []
    for part in failed.group(1).replace(" ", "").split(","):
        lo, _, hi = part.partition("-")
        listed += list(range(int(lo), int(hi or lo) + 1))
    assert listed == expected
