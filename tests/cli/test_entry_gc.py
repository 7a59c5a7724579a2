"""The executable starts with the garbage collector off (lab.entry) and lab.cli turns it back on, with
what start-up made frozen, once the command line is parsed: whatever then runs (the Textual app, a
command, `lab sandbox up` in the foreground, which `--detach` starts as `python -m lab sandbox up`) runs
with the collector on, or a long-running lab would keep every reference cycle it drops."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow

# `python -m lab` (lab/__main__.py: sys.exit(lab.entry.main()), as the `lab` executable), with the app and
# the command replaced by a probe of the collector's state when they would start.
_PROBE = r"""
import gc, json, runpy, sys
import lab.cli

seen = []

def probe(args):
    seen.append({"enabled": gc.isenabled(), "frozen": gc.get_freeze_count() > 0})
    return 0

lab.cli._run_app = probe
lab.cli._run_command = probe
sys.argv = ["lab", *json.loads(sys.argv[1])]
try:
    runpy.run_module("lab", run_name="__main__", alter_sys=True)
    code = None
except SystemExit as exit:
    code = exit.code
print(json.dumps({"code": code, "seen": seen}))
"""


def run(argv: list[str]) -> dict[str, object]:
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(argv)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    result: dict[str, object] = json.loads(proc.stdout.splitlines()[-1])
    return result


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["--plain"],
        ["--task", "09b"],
        ["check", "--offline"],
        ["-w", "/nonexistent", "sandbox", "up"],
        ["sandbox", "status"],
    ],
    ids=["app", "plain", "app-task", "check", "sandbox-up", "sandbox-status"],
)
def test_what_runs_runs_with_the_collector_on(argv: list[str]) -> None:
    assert run(argv) == {"code": 0, "seen": [{"enabled": True, "frozen": True}]}


@pytest.mark.parametrize(
    "argv", [["--help"], ["--version"], ["no-such-command"], ["check", "--no-such-option"]]
)
def test_what_exits_while_parsing_runs_nothing(argv: list[str]) -> None:
    # The collector stays off, and the process ends: nothing is left running without it.
    result = run(argv)
    assert result["seen"] == []
    assert result["code"] in (0, 2)
