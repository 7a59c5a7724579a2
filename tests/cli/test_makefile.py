"""`make lab` installs only when pyproject.toml changed: the second run starts as fast as .venv/bin/lab.

The real Makefile and pyproject.toml run in a temporary folder whose .venv holds stand-ins for python,
pip and lab that log their calls, so no package index is needed."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.support.paths import ROOT

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed"),
]


def _script(path: Path, body: str) -> None:
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    bin_dir = tmp_path / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    log = tmp_path / "calls.log"
    _script(bin_dir / "python", f'echo "python $*" >> {log}')
    _script(bin_dir / "pip", f'echo "pip $*" >> {log}')
    _script(bin_dir / "lab", f'echo "lab $*" >> {log}; echo "the lab runs"')
    return tmp_path


def _run_make(project: Path, target: str) -> subprocess.CompletedProcess[str]:
    # Not as a job of the `make test` that runs this suite: its jobserver flags would make this make
    # warn "jobserver unavailable" into the output under test.
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    return subprocess.run(
        ["make", "-s", target], cwd=project, capture_output=True, text=True, timeout=60, env=env
    )


def _make(project: Path, target: str) -> tuple[list[str], float]:
    log = project / "calls.log"
    log.write_text("")
    start = time.monotonic()
    proc = _run_make(project, target)
    took = time.monotonic() - start
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return log.read_text().splitlines(), took


def test_make_lab_installs_once_then_only_when_pyproject_changes(project: Path) -> None:
    calls, _ = _make(project, "lab")
    assert calls == ["pip install -q -e .", "lab "]
    calls, took = _make(project, "lab")
    assert calls == ["lab "]
    assert took < 5
    later = time.time() + 5
    os.utime(project / "pyproject.toml", (later, later))
    calls, _ = _make(project, "lab")
    assert calls == ["pip install -q -e .", "lab "]


def test_make_test_setup_also_satisfies_make_lab(project: Path) -> None:
    calls, _ = _make(project, "setup-test")
    assert calls == ["pip install -q -e .[test]"]
    calls, _ = _make(project, "setup-test")
    assert calls == []
    calls, _ = _make(project, "lab")
    assert calls == ["lab "]


def _output(project: Path, target: str) -> str:
    proc = _run_make(project, target)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout + proc.stderr


def test_the_quiet_waits_say_what_they_wait_for(project: Path) -> None:
    # pip -q prints nothing for ~100 s on a fresh machine; --output-sync holds the suite's output until
    # it ends: each says first, in one line, what is coming.
    first = _output(project, "lab").splitlines()
    assert "installing fluxlab into .venv" in first[0] and first[-1] == "the lab runs", first
    assert _output(project, "lab").splitlines() == ["the lab runs"]
    bin_dir = project / ".venv" / "bin"
    for tool in ("ruff", "mypy", "pytest"):
        _script(bin_dir / tool, f'echo "{tool} ran"')
    out = _output(project, "test").splitlines()
    waiting = next(i for i, line in enumerate(out) if "mypy and the test suite" in line)
    assert waiting < out.index("mypy ran") and waiting < out.index("pytest ran"), out
