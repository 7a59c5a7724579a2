"""`lab grade`'s table fits the terminal it is shown on, and is written in full anywhere else: a
problem is never cut in a file, a CSV cell never, and a row's failing check comes before its note."""

from __future__ import annotations

import csv
import fcntl
import io
import os
import pty
import re
import struct
import subprocess
import termios
from pathlib import Path

import pytest

from lab.core.checks.model import CheckResult, Report, Status
from lab.core.report.grade_table import ClassReport, GradeRow, render_csv, render_table
from tests.support.gitutil import commit_files, practice
from tests.support.paths import lab_executable

pytestmark = pytest.mark.slow

LONG = "Could not resolve the registry of ghcr.io/acme/shop " + "because the network said no " * 12 + "END"


def _row(student: str, repo: str, message: str, note: str = "") -> GradeRow:
    check = CheckResult("registry.tags", "tags", Status.FAIL, 0, 6, message=message)
    return GradeRow(student, repo, "main", Report(task="09b", checks=(check,)), note=note)


def test_the_table_is_written_in_full_problem_before_note_and_counts_in_english() -> None:
    report = ClassReport("09b", (_row("erin", "/srv/class/erin", LONG, note="not pushed: 1 commit"),))
    text = render_table(report)
    assert f"registry.tags: {LONG}; not pushed: 1 commit" in text
    assert text.splitlines()[-1].startswith("1 repository: 1 fail")
    cell = next(csv.DictReader(io.StringIO(render_csv(report))))["message"]
    assert cell == LONG


def test_the_table_fits_a_120_column_terminal(tmp_path: Path) -> None:
    deep = tmp_path / ("a-rather-long-directory-name-for-a-class-" * 3) / "class"
    deep.mkdir(parents=True)
    practice(deep, "alice")
    erin = practice(deep, "erin")
    commit_files(erin, {"notes.txt": "x\n"}, "not pushed")
    main, sub = pty.openpty()
    fcntl.ioctl(sub, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env["HOME"] = str(tmp_path / "home")
    proc = subprocess.Popen(
        [*lab_executable(), "grade", str(deep), "--offline", "-j", "2"],
        stdout=sub,
        stderr=subprocess.DEVNULL,
        env=env,
        cwd=tmp_path,
    )
    os.close(sub)
    chunks = []
    while True:
        try:
            data = os.read(main, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    assert proc.wait(timeout=120) == 0
    os.close(main)
    lines = b"".join(chunks).decode().replace("\r\n", "\n").splitlines()
    rows = [ln for ln in lines if ln.startswith(("alice", "erin"))]
    assert len(rows) == 2, lines
    assert all(len(ln) <= 120 for ln in lines), [len(ln) for ln in lines]
    erin_row = next(ln for ln in rows if ln.startswith("erin"))
    # The failing check is what the instructor must see first; the note ("not pushed") may be cut.
    assert re.search(r" fail +[a-z]+\.[a-z-]+: ", erin_row), erin_row
