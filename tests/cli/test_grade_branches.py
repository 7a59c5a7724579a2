"""Which branch `lab grade` grades: what the student pushed to the course's branch (main), whatever the
checkout has checked out. A student who starts a `wip` branch (pushed or not) after pushing the solution
to main is graded on main, and the "not pushed" note is about main only; a roster's branch is graded
instead when the instructor names one, and the checks then read that branch of origin too."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.gitutil import git
from tests.support.labrun import run_lab
from tests.support.practice_copy import copy_practice, practice_template

pytestmark = pytest.mark.slow

POLICY = "clusters/dev/image-automation/image-policy.yaml"


def _grade(*args: str, cwd: Path) -> dict[str, Any]:
    proc = run_lab("grade", *args, "--offline", "--format", "json", cwd=cwd)
    assert "Traceback" not in proc.stderr
    data: dict[str, Any] = json.loads(proc.stdout)
    assert len(data["repos"]) == 1, data
    row: dict[str, Any] = data["repos"][0]
    return row


def _statuses(row: dict[str, Any]) -> dict[str, str]:
    return {c["id"]: c["status"] for c in row["checks"]}


@pytest.fixture(scope="module")
def solved_alice(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`lab init` + `lab solve` (the solved template the other modules copy, made once per process),
    copied under the name alice: the tests are about grade."""
    return practice_template(tmp_path_factory, "ws", "solve")


@pytest.fixture
def alice(tmp_path: Path, solved_alice: Path) -> Path:
    """alice and alice-origin.git, alone in the test's directory (the class `lab grade` reads)."""
    return copy_practice(solved_alice, tmp_path / "alice")


def _steady(row: dict[str, Any]) -> dict[str, Any]:
    """The row without what differs from run to run (durations)."""
    checks = [{k: v for k, v in c.items() if k != "duration_s"} for c in row["checks"]]
    return {**{k: v for k, v in row.items() if k != "duration_s"}, "checks": checks}


def test_a_checked_out_wip_branch_does_not_change_what_is_graded(alice: Path) -> None:
    on_main = _grade("alice", cwd=alice.parent)
    assert on_main["graded"] and on_main["branch"] == "main" and on_main["note"] == ""

    # Not pushed: the old grader cloned origin's wip, which does not exist (an error row).
    git(alice, "checkout", "-qb", "wip")
    assert _steady(_grade("alice", cwd=alice.parent)) == _steady(on_main)


def test_a_pushed_wip_branch_is_not_graded_nor_noted(alice: Path) -> None:
    on_main = _grade("alice", cwd=alice.parent)
    git(alice, "checkout", "-qb", "wip")
    git(alice, "rm", "-q", POLICY)
    git(alice, "commit", "-qm", "wip: try without the policy")
    git(alice, "push", "-q", "-u", "origin", "wip")

    row = _grade("alice", cwd=alice.parent)
    assert (row["branch"], row["score"], row["note"]) == ("main", on_main["score"], "")
    assert _statuses(row) == _statuses(on_main)

    # The roster names main: the commit on wip is on origin (wip), and main was pushed: no note.
    roster = alice.parent / "roster.csv"
    roster.write_text("alice,alice,main\n")
    row = _grade("--roster", str(roster), cwd=alice.parent)
    assert (row["branch"], row["score"], row["note"]) == ("main", on_main["score"], "")

    # The roster names wip: wip is graded.
    roster.write_text("alice,alice,wip\n")
    row = _grade("--roster", str(roster), cwd=alice.parent)
    assert row["branch"] == "wip" and row["score"] < on_main["score"]
    assert _statuses(row)["repo.files"] == "fail"

    # The roster names a branch with the whole solution: the checks read that branch of origin too.
    git(alice, "checkout", "-qb", "review", "main")
    (alice / "notes.txt").write_text("for review\n")
    git(alice, "add", "notes.txt")
    git(alice, "commit", "-qm", "notes for review")
    git(alice, "push", "-q", "-u", "origin", "review")
    roster.write_text("alice,alice,review\n")
    row = _grade("--roster", str(roster), cwd=alice.parent)
    assert (row["branch"], row["score"], row["note"]) == ("review", on_main["score"], "")
    flux = next(c for c in row["checks"] if c["id"] == "git.flux-commit")
    assert "on origin/review" in flux["message"], flux["message"]


def test_the_not_pushed_note_names_the_graded_branch_only(alice: Path) -> None:
    # A commit on main that was never pushed, then work on another branch: the note is about main.
    (alice / "notes.txt").write_text("todo\n")
    git(alice, "add", "notes.txt")
    git(alice, "commit", "-qm", "notes")
    unpushed = git(alice, "rev-parse", "--short=7", "HEAD")
    git(alice, "checkout", "-qb", "wip")
    (alice / "more.txt").write_text("more\n")
    git(alice, "add", "more.txt")
    git(alice, "commit", "-qm", "more")

    row = _grade("alice", cwd=alice.parent)
    assert row["branch"] == "main"
    assert row["note"].startswith(f"not pushed: 1 commit on local main ({unpushed}) not on origin "), row


def test_an_origin_head_naming_no_branch_grades_main(alice: Path) -> None:
    # git clones nothing from an origin whose HEAD names a branch it lacks (an empty repository): the
    # student's pushed main would have been graded as nothing pushed.
    origin = alice.parent / "alice-origin.git"
    on_main = _grade(str(origin), cwd=alice.parent)
    git(origin, "symbolic-ref", "HEAD", "refs/heads/master")
    row = _grade(str(origin), cwd=alice.parent)
    assert (row["branch"], row["score"]) == ("main", on_main["score"])
    assert _statuses(row) == _statuses(on_main)


def test_a_detached_head_in_origin_grades_main_not_that_commit(alice: Path) -> None:
    """Origin's HEAD detached at an older commit: the clone took that commit (0/67 and a false 'not
    pushed' note for the checkout; branch null for the bare repository) instead of main."""
    on_main = _grade("alice", cwd=alice.parent)
    origin = alice.parent / "alice-origin.git"
    older = git(origin, "rev-parse", "main~1").strip()
    (origin / "HEAD").write_text(older + "\n")
    assert _steady(_grade("alice", cwd=alice.parent)) == _steady(on_main)
    bare = _grade("alice-origin.git", cwd=alice.parent)
    assert bare["branch"] == "main" and bare["score"] == on_main["score"]
