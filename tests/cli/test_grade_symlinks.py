"""A symlink in a class directory that points at a student's repository is refused as a row of its own,
and never takes the repository away from the student it belongs to."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.labrun import run_lab

pytestmark = pytest.mark.slow


def _rows(cwd: Path) -> dict[str, dict[str, Any]]:
    return _graded(cwd)[0]


def _graded(cwd: Path) -> tuple[dict[str, dict[str, Any]], str]:
    proc = run_lab("grade", ".", "--offline", "--format", "json", cwd=cwd)
    return {r["student"]: r for r in json.loads(proc.stdout)["repos"]}, proc.stderr


def test_a_symlink_to_a_students_origin_is_the_symlinks_error_only(tmp_path: Path) -> None:
    run_lab("init", "alice", cwd=tmp_path, ok=True)
    run_lab("solve", "alice", cwd=tmp_path, ok=True)
    alone = _rows(tmp_path)["alice"]
    assert alone["graded"], alone

    (tmp_path / "eve.git").symlink_to("alice-origin.git")
    rows = _rows(tmp_path)
    assert sorted(rows) == ["alice", "eve"]
    alice, eve = rows["alice"], rows["eve"]
    assert alice["graded"] and alice["score"] == alone["score"], alice["message"]
    assert not eve["graded"]
    assert eve["message"].startswith(
        f"not graded: eve.git is a symlink to {tmp_path / 'alice-origin.git'}, which is alice's submission"
    ), eve["message"]


def test_a_symlink_to_a_checkout_that_sorts_first_leaves_the_checkout_graded(tmp_path: Path) -> None:
    run_lab("init", "zed", cwd=tmp_path, ok=True)
    run_lab("solve", "zed", cwd=tmp_path, ok=True)
    (tmp_path / "aaa").symlink_to("zed")
    rows, err = _graded(tmp_path)
    assert list(rows) == ["zed"], rows  # was: aaa, an error row ("is a symlink"), and zed dropped
    assert rows["zed"]["graded"], rows["zed"]["message"]
    assert "lab: aaa is the same repository as zed: graded once" in err, err
