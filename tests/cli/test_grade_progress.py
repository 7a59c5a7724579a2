"""`lab grade` on a terminal: a progress line rewritten in place (a real carriage return), while text
that comes from the class (a folder's name) still reaches the terminal with its control characters
escaped."""

from __future__ import annotations

import os
import pty
import subprocess
from pathlib import Path

import pytest

from tests.support.labrun import run_lab
from tests.support.paths import lab_executable

pytestmark = pytest.mark.slow


def _read_all(fd: int) -> bytes:
    out = b""
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: the other side closed
            return out
        if not chunk:
            return out
        out += chunk


def test_progress_on_a_terminal_uses_a_real_carriage_return(tmp_path: Path, lab_env: dict[str, str]) -> None:
    for name in ("solved", "starter"):
        run_lab("init", name, cwd=tmp_path, ok=True)
    run_lab("solve", "solved", cwd=tmp_path, ok=True)
    # The same repository under a second name holding an escape sequence: lab says so on stderr.
    hostile = "evil\x1b[2J"
    (tmp_path / hostile).symlink_to("starter")
    primary, secondary = pty.openpty()
    try:
        proc = subprocess.Popen(
            [*lab_executable(), "grade", "solved", "starter", hostile, "--offline"],
            cwd=tmp_path,
            env=lab_env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=secondary,
        )
        os.close(secondary)
        err = _read_all(primary)
        out, _ = proc.communicate(timeout=120)
    finally:
        os.close(primary)
    assert proc.returncode == 0, (out, err)
    text = err.decode()
    assert "\\x0d" not in text, text
    assert "\rlab: graded 1/2" in text and "\rlab: graded 2/2" in text, text
    assert "\x1b" not in text and "evil\\x1b[2J is the same repository as" in text, text
    assert b"\r" not in out.replace(b"\r\n", b"")  # the table itself is untouched
