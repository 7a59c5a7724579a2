"""`lab grade` reaches a student's repository only over the transports the lab supports (https, http,
ssh, and local paths the instructor named): any other git transport a submission names (`fd::`,
`ext::`, `git://`, a remote helper) is refused at once, never left to hang until --timeout."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from tests.support.gitutil import git
from tests.support.labrun import run_lab

pytestmark = pytest.mark.slow

# Far above a refusal (well under a second), far below the default --timeout (300 s).
QUICK_S = 20.0


def _grade(*args: str, cwd: Path) -> tuple[dict[str, Any], float]:
    start = time.monotonic()
    proc = run_lab("grade", *args, "--offline", "--timeout", "60", "--format", "json", cwd=cwd)
    took = time.monotonic() - start
    repos: list[dict[str, Any]] = json.loads(proc.stdout)["repos"]
    assert len(repos) == 1, repos
    return repos[0], took


@pytest.mark.parametrize("origin", ["fd::17", "fd::0,1", "ext::sh -c true", "git://127.0.0.1:9/x.git"])
def test_an_origin_over_an_unsupported_transport_is_refused_at_once(tmp_path: Path, origin: str) -> None:
    run_lab("init", "bob", cwd=tmp_path, ok=True)
    git(tmp_path / "bob", "remote", "set-url", "origin", origin)
    row, took = _grade("bob", cwd=tmp_path)
    assert took < QUICK_S, (took, row)
    transport = origin.split(":", 1)[0]
    # Not graded: what was pushed cannot be seen, and the checkout's own refs are the student's to set.
    assert not row["graded"] and row["score"] is None, row
    assert f"transport '{transport}' not allowed" in row["message"], row["message"]
    assert row["message"].startswith(f"origin {origin} could not be read"), row["message"]


def test_an_unreachable_origin_is_not_graded_from_the_checkouts_own_refs(tmp_path: Path) -> None:
    from lab.services.solve import solve

    run_lab("init", "cheat", cwd=tmp_path, ok=True)
    cheat = tmp_path / "cheat"
    solve(cheat)  # committed, never pushed
    # The checkout claims origin has it: its remote-tracking ref is its own to write.
    git(cheat, "update-ref", "refs/remotes/origin/main", "HEAD")
    git(cheat, "remote", "set-url", "origin", "https://github.invalid/cheat.git")
    row, _ = _grade("cheat", cwd=tmp_path)
    assert not row["graded"] and row["score"] is None and row["status"] == "error", row
    assert row["message"].startswith("origin https://github.invalid/cheat.git could not be read"), row


def test_a_submission_url_over_fd_is_an_error_row_at_once(tmp_path: Path) -> None:
    row, took = _grade("fd::17", cwd=tmp_path)
    assert took < QUICK_S, (took, row)
    assert not row["graded"] and "transport 'fd' not allowed" in row["message"], row
    assert "hint: the lab clones over https, http, ssh and local paths" in row["message"], row


def test_help_states_the_default_timeout(tmp_path: Path) -> None:
    from lab.services.grade import DEFAULT_TIMEOUT_S

    out = " ".join(run_lab("grade", "--help", cwd=tmp_path, ok=True).stdout.split())
    assert f"--timeout S give up on one repository after S seconds (default {DEFAULT_TIMEOUT_S:g};" in out, (
        out
    )


def test_with_cluster_and_offline_conflict(tmp_path: Path) -> None:
    proc = run_lab("grade", str(tmp_path), "--with-cluster", "--offline", cwd=tmp_path)
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert "--with-cluster and --offline conflict" in proc.stderr, proc.stderr
