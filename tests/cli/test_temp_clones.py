"""Temporary clones outlive nothing: `lab simulate` and `lab grade` clone into `lab-<what>-<pid>-*`
directories, and a run removes those whose process is gone (a SIGKILL mid-clone leaves one behind)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.support.labrun import run_lab
from tests.support.paths import ROOT, lab_executable

pytestmark = pytest.mark.slow

TAGS = ROOT / "tasks" / "09b" / "registry" / "nginx-tags-2024-01-15.txt"


def _env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "LAB_DEBUG"}
    (tmp / "tmp").mkdir(exist_ok=True)
    env.update(HOME=str(tmp), TMPDIR=str(tmp / "tmp"), NO_COLOR="1")
    return env


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_simulate_removes_clones_of_killed_runs_and_its_own(tmp_path: Path) -> None:
    env = _env(tmp_path)
    ws = tmp_path / "ws"
    assert run_lab("init", str(ws), env=env).returncode == 0
    assert run_lab("solve", str(ws), env=env).returncode == 0
    stale = tmp_path / "tmp" / f"lab-simulate-{_dead_pid()}-abc"
    (stale / "repo" / ".git").mkdir(parents=True)
    proc = run_lab("simulate", "-w", str(ws), "--tags-file", str(TAGS), env=env)
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in (tmp_path / "tmp").iterdir()) == []


def test_sigkill_mid_clone_then_the_next_run_cleans_up(tmp_path: Path) -> None:
    env = _env(tmp_path)
    ws = tmp_path / "ws"
    assert run_lab("init", str(ws), env=env).returncode == 0
    assert run_lab("solve", str(ws), env=env).returncode == 0
    scratch = tmp_path / "tmp"
    # Kill `lab grade` as soon as its clone directory exists (mid-clone or mid-check).
    proc = subprocess.Popen(
        [*lab_executable(), "grade", str(ws), "--offline"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any(scratch.glob("lab-grade-*")):
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    left = list(scratch.glob("lab-grade-*"))
    assert left, "the run finished before it could be killed"
    again = run_lab("grade", str(ws), "--offline", env=env)
    assert again.returncode == 0, again.stderr
    assert list(scratch.glob("lab-grade-*")) == []


def test_temporary_files_are_in_memory_where_linux_has_it(tmp_path: Path, lab_env: dict[str, str]) -> None:
    """The suite's repositories, their copies and the clones of every `lab` it starts go to /dev/shm
    (tmpfs) unless the caller set TMPDIR: on disk, making and removing their many small files and
    directories cost the kernel several times more."""
    import tempfile

    from tests.conftest import CALLER_TMPDIR, memory_temp_usable

    shm = Path("/dev/shm")
    if CALLER_TMPDIR or not memory_temp_usable():
        pytest.skip("TMPDIR chosen by the caller, or no /dev/shm with room that runs programs")
    for place in (tmp_path, Path(tempfile.gettempdir()), Path(lab_env["TMPDIR"])):
        assert place.resolve().is_relative_to(shm), place


def test_a_small_or_noexec_dev_shm_is_not_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A container's /dev/shm (64 MB by default) or one mounted noexec keeps the suite on disk."""
    from tests.conftest import memory_temp_usable

    class Fs:
        def __init__(self, free: int, flag: int) -> None:
            self.f_bavail, self.f_frsize, self.f_flag = free, 1, flag

    for fs, usable in ((Fs(2 << 30, 0), True), (Fs(64 << 20, 0), False), (Fs(2 << 30, os.ST_NOEXEC), False)):
        monkeypatch.setattr(os, "statvfs", lambda _path, fs=fs: fs)
        assert memory_temp_usable(str(tmp_path)) is usable
