"""A tags file holds OCI tags, one a line (`#` comments and blank lines allowed): any other line is a
usage error naming the file and the line, alike for every command that reads one."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.labrun import run_lab

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    "command",
    [
        ("check", "-w", "ws", "--offline"),
        ("simulate", "-w", "ws"),
        ("grade", "ws", "--offline"),
    ],
)
def test_a_line_that_is_no_tag_is_a_usage_error_naming_file_and_line(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    run_lab("init", "ws", cwd=tmp_path, ok=True)
    tags = tmp_path / "notes.md"
    tags.write_text("# nginx tags\n\n1.25.3\n1.25.3-alpine\n| file | content |\n1.26.0\n")
    proc = run_lab(*command, "--tags-file", str(tags), cwd=tmp_path)
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert f'{tags}:5: "| file | content |" is not an image tag' in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr


def test_comments_blank_lines_and_the_longest_tag_stay_allowed(tmp_path: Path) -> None:
    run_lab("init", "ws", cwd=tmp_path, ok=True)
    tags = tmp_path / "tags.txt"
    tags.write_text("# comment\n\n  1.25.3  \n_" + "a" * 127 + "\n")
    proc = run_lab("simulate", "-w", "ws", "--tags-file", str(tags), cwd=tmp_path)
    assert proc.returncode != 2, proc.stderr
    too_long = tmp_path / "long.txt"
    too_long.write_text("1.25.3\n" + "a" * 129 + "\n")
    proc = run_lab("simulate", "-w", "ws", "--tags-file", str(too_long), cwd=tmp_path)
    assert proc.returncode == 2 and f"{too_long}:2: " in proc.stderr, proc.stderr
