"""`lab grade` through the real executable on a class of real repositories built with `lab init/solve/...`.

The class: alice (solved, simulated, pulled, progress and quiz committed), bob (the starter), carol (not a
git repository), dave (solved but not simulated, a dirty tree and a hostile post-checkout hook and
core.fsmonitor that would write marker files), frank (broken YAML committed, not pushed), and by roster: eve (a bare
origin given as a file:// URL) and ghost (an https URL with a token that cannot be cloned).
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import tomllib
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.labrun import run_lab
from tests.support.paths import ROOT

# One worker builds the class once (the module fixture took ~6 s on each worker that ran a test of it).
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("grade-cli-class")]

TAGS = ROOT / "tasks" / "09b" / "registry" / "nginx-tags-2024-01-15.txt"
CHECKS = tomllib.loads((ROOT / "tasks" / "09b" / "checks.toml").read_text())["check"]
POINTS = {c["id"]: c["points"] for c in CHECKS}
OFFLINE_MAX = sum(p for cid, p in POINTS.items() if not cid.startswith("cluster."))
SECRET = "s3cr3t-t0ken"


@dataclass(frozen=True)
class Class:
    root: Path
    class_dir: Path
    roster: Path
    markers: Path
    dave: Path
    env: dict[str, str]


def _env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    for key in ("LAB_DEBUG", "KUBECONFIG", "GIT_DIR", "GIT_WORK_TREE"):
        env.pop(key, None)
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        GIT_CONFIG_NOSYSTEM="1",
        GIT_AUTHOR_NAME="Learner",
        GIT_AUTHOR_EMAIL="learner@example.com",
        GIT_COMMITTER_NAME="Learner",
        GIT_COMMITTER_EMAIL="learner@example.com",
        NO_COLOR="1",
    )
    return env


def _git(cwd: Path, env: dict[str, str], *args: str) -> str:
    # fsmonitor off: dave's hostile config must only ever meet the code under test.
    proc = subprocess.run(
        ["git", "-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, (args, proc.stderr)
    return proc.stdout


def _step(env: dict[str, str], *args: str) -> None:
    proc = run_lab(*args, env=env)
    assert proc.returncode == 0, (args, proc.stdout, proc.stderr)


def _init(env: dict[str, str], class_dir: Path, origins: Path, name: str) -> Path:
    ws = class_dir / name
    _step(env, "init", str(ws))
    # lab init puts the bare origin next to the checkout; keep the class directory to checkouts only.
    origin = origins / f"{name}.git"
    shutil.move(str(class_dir / f"{name}-origin.git"), origin)
    _git(ws, env, "remote", "set-url", "origin", str(origin))
    return ws


def _quiz_answers() -> str:
    questions = tomllib.loads((ROOT / "tasks" / "09b" / "quiz.toml").read_text())["question"]
    return ",".join(str(q["answer"] + 1) for q in questions)


@pytest.fixture(scope="module")
def klass(tmp_path_factory: pytest.TempPathFactory) -> Class:
    root = tmp_path_factory.mktemp("class")
    env = _env(root / "home")
    (root / "home").mkdir()
    class_dir, origins, markers = root / "class", root / "origins", root / "markers"
    for d in (class_dir, origins, markers):
        d.mkdir()

    alice = _init(env, class_dir, origins, "alice")
    _step(env, "solve", str(alice))
    _step(env, "simulate", "-w", str(alice), "--tags-file", str(TAGS))
    _git(alice, env, "pull", "-q", "--ff-only")
    _step(env, "progress", "-w", str(alice), "--done", "09")
    _step(env, "quiz", "-w", str(alice), "--answers", _quiz_answers())
    _git(alice, env, "add", "-A")
    _git(alice, env, "commit", "-qm", "Task 09 done")
    _git(alice, env, "push", "-q")

    _init(env, class_dir, origins, "bob")
    (class_dir / "carol").mkdir()
    (class_dir / "carol" / "README.md").write_text("I forgot to clone\n")

    dave = _init(env, class_dir, origins, "dave")
    _step(env, "solve", str(dave))
    # Uncommitted damage: grading reads what was committed, so this must not change dave's grade.
    (dave / "clusters/dev/image-automation/image-policy.yaml").unlink()
    hooks = dave / ".git" / "hooks"
    hooks.mkdir(exist_ok=True)
    for hook in ("post-checkout", "pre-commit", "post-merge", "reference-transaction", "pre-push"):
        script = hooks / hook
        script.write_text(f"#!/bin/sh\ntouch '{markers}/hook-{hook}'\n")
        script.chmod(0o755)
    monitor = root / "fsmonitor.sh"
    monitor.write_text(f"#!/bin/sh\ntouch '{markers}/fsmonitor'\n")
    monitor.chmod(0o755)
    _git(dave, env, "config", "core.fsmonitor", str(monitor))
    _git(dave, env, "config", "core.sshCommand", f"touch '{markers}/ssh'")

    frank = _init(env, class_dir, origins, "frank")
    _step(env, "solve", str(frank))
    policy = frank / "clusters/dev/image-automation/image-policy.yaml"
    policy.write_text(policy.read_text() + "spec: [unclosed\n")
    _git(frank, env, "commit", "-qam", "oops")

    eve = _init(env, root, origins, "eve")
    _step(env, "solve", str(eve))
    roster = root / "roster.csv"
    roster.write_text(
        "student,repo,branch\n"
        "Alice Liddell,class/alice\n"
        f"eve,{(origins / 'eve.git').as_uri()},main\n"
        f"ghost,https://ghost:{SECRET}@127.0.0.1:9/ghost.git\n"
    )
    return Class(root, class_dir, roster, markers, dave, env)


def _snapshot(path: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(path)): (p.stat().st_mtime_ns, p.stat().st_size)
        for p in path.rglob("*")
        if not p.is_symlink()
    }


def _grade(k: Class, *args: str) -> subprocess.CompletedProcess[str]:
    return run_lab(
        "grade",
        "class",
        "--roster",
        str(k.roster),
        "--offline",
        "--tags-file",
        str(TAGS),
        "--jobs",
        "2",
        *args,
        env=k.env,
        cwd=k.root,
    )


@pytest.fixture(scope="module")
def graded_json(klass: Class) -> dict[str, Any]:
    before = _snapshot(klass.dave)
    proc = _grade(klass, "--format", "json")
    assert proc.returncode == 1, proc.stderr  # carol and ghost could not be graded
    assert _snapshot(klass.dave) == before, "grading wrote into a student's checkout"
    data: dict[str, Any] = json.loads(proc.stdout)
    return data


def test_json_rows_scores_and_statuses(graded_json: dict[str, Any]) -> None:
    repos = graded_json["repos"]
    assert isinstance(repos, list)
    assert graded_json["task"] == "09b"
    students = [r["student"] for r in repos]
    # The roster's rows, then the class directory's other repositories by name.
    assert students == ["Alice Liddell", "eve", "ghost", "bob", "carol", "dave", "frank"]
    rows = {r["student"]: r for r in repos}

    alice = rows["Alice Liddell"]
    assert (alice["status"], alice["score"], alice["max_score"]) == ("pass", OFFLINE_MAX, OFFLINE_MAX)
    assert alice["repo"].endswith("class/alice") and alice["branch"] == "main"
    assert len(alice["checks"]) == len(CHECKS)
    assert {c["status"] for c in alice["checks"]} == {"pass", "skipped"}

    bob = rows["bob"]
    assert (bob["status"], bob["score"], bob["first_failing_check"]) == ("fail", 0, "repo.files")

    for name in ("carol", "ghost"):
        row = rows[name]
        assert row["status"] == "error" and not row["graded"] and row["checks"] == []
        # Not graded is no score, not a score of 0 (as CSV's empty cell, the table's "-" and JUnit's
        # missing score property say).
        assert row["score"] is None and row["max_score"] is None
    assert "is not a git repository" in rows["carol"]["message"]
    assert rows["ghost"]["message"].startswith(
        "cannot clone https://***@127.0.0.1:9/ghost.git: "
    )  # no "(branch None)"

    # dave: committed the solution; his deleted file and his hooks changed nothing.
    dave = rows["dave"]
    failed = {c["id"] for c in dave["checks"] if c["status"] == "fail"}
    assert failed == {"git.flux-commit", "progress.updated", "quiz.passed"}
    assert dave["score"] == OFFLINE_MAX - sum(POINTS[c] for c in failed)
    assert dave["first_failing_check"] == "git.flux-commit"

    eve = rows["eve"]
    assert eve["repo"].startswith("file://") and eve["branch"] == "main"
    assert eve["score"] == dave["score"]

    # frank broke his policy in a commit he never pushed: graded is what origin holds, with a note.
    frank = rows["frank"]
    assert frank["graded"] and frank["score"] == dave["score"]
    assert frank["note"].startswith("not pushed: 1 commit on local main (")
    assert dave["note"] == alice["note"] == ""


def test_hostile_hooks_and_config_never_run(klass: Class, graded_json: dict[str, Any]) -> None:
    proc = run_lab("grade", str(klass.dave), "--offline", "--format", "csv", env=klass.env, cwd=klass.root)
    assert proc.returncode == 0, proc.stderr
    assert list(klass.markers.iterdir()) == []
    # The uncommitted deletion is still there: nothing restored or touched the learner's tree.
    assert not (klass.dave / "clusters/dev/image-automation/image-policy.yaml").exists()


def test_table_in_roster_order_with_first_problem(klass: Class, graded_json: dict[str, Any]) -> None:
    proc = _grade(klass)
    assert proc.returncode == 1
    lines = proc.stdout.splitlines()
    assert lines[0].split() == ["STUDENT", "REPO", "SCORE", "STATUS", "FIRST", "PROBLEM"]
    assert lines[1].startswith("Alice Liddell ") and f"{OFFLINE_MAX}/{OFFLINE_MAX}" in lines[1]
    status_col = lines[0].index("STATUS")
    assert [ln[status_col:].split()[0] for ln in lines[1:8]] == [
        "pass",
        "fail",
        "error",
        "fail",
        "error",
        "fail",
        "fail",
    ]
    score_col = lines[0].index("SCORE")
    carol = next(ln for ln in lines if ln.startswith("carol "))
    assert carol[score_col:].split()[0] == "-"
    bob = next(ln for ln in lines if ln.startswith("bob "))
    assert "repo.files: clusters/dev/image-automation/image-repository.yaml: missing in clusters/dev/" in bob
    assert lines[-1].startswith("7 repositories (offline): 1 pass, 4 fail, 2 error")
    assert SECRET not in proc.stdout + proc.stderr


def test_csv(klass: Class, graded_json: dict[str, Any]) -> None:
    proc = _grade(klass, "--format", "csv")
    assert proc.returncode == 1
    rows = list(csv.DictReader(io.StringIO(proc.stdout)))
    assert [r["student"] for r in rows] == [r["student"] for r in graded_json["repos"]]
    by = {r["student"]: r for r in rows}
    assert by["Alice Liddell"]["score"] == str(OFFLINE_MAX) and by["Alice Liddell"]["status"] == "pass"
    assert by["carol"]["score"] == by["carol"]["max_score"] == "" and by["carol"]["status"] == "error"
    assert by["dave"]["first_failing_check"] == "git.flux-commit"
    assert SECRET not in proc.stdout


def test_junit_one_suite_per_student(klass: Class, graded_json: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "grades.xml"
    proc = _grade(klass, "--format", "junit", "--output", str(out))
    assert proc.returncode == 1 and proc.stdout == ""
    assert "graded 5 of 7 repositories" in proc.stderr
    root = ET.fromstring(out.read_bytes())
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == [
        "Alice Liddell",
        "eve",
        "ghost",
        "bob",
        "carol",
        "dave",
        "frank",
    ]
    total = 0
    classnames: set[str] = set()
    for suite in suites:
        cases = suite.findall("testcase")
        total += len(cases)
        assert suite.get("tests") == str(len(cases))
        assert suite.get("failures") == str(sum(c.find("failure") is not None for c in cases))
        assert suite.get("errors") == str(sum(c.find("error") is not None for c in cases))
        assert suite.get("skipped") == str(sum(c.find("skipped") is not None for c in cases))
        names = {c.get("classname") or "" for c in cases}
        assert len(names) == 1 and next(iter(names)).count(".") == 1
        classnames |= names
    assert root.get("tests") == str(total)
    assert len(classnames) == len(suites)  # GitLab keeps one (classname, name): students must differ
    by_name = {s.get("name"): s for s in suites}
    props = {p.get("name") for p in by_name["carol"].iter("property")}
    assert "score" not in props and "max_score" not in props
    carol = by_name["carol"].findall("testcase")
    assert [c.get("name") for c in carol] == ["grade"]
    error = carol[0].find("error")
    assert error is not None and "not a git repository" in (error.get("message") or "")
    bob = {c.get("name"): c for c in by_name["bob"].findall("testcase")}
    assert len(bob) == len(CHECKS) and bob["repo.files"].find("failure") is not None
    assert SECRET not in out.read_text()


def test_every_repo_graded_exits_zero_whatever_the_scores(klass: Class) -> None:
    proc = run_lab(
        "grade",
        str(klass.class_dir / "bob"),
        str(klass.class_dir / "alice"),
        "--offline",
        "-f",
        "json",
        env=klass.env,
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert [r["student"] for r in data["repos"]] == ["bob", "alice"]  # as given
    assert [r["status"] for r in data["repos"]] == ["fail", "pass"]
    # Offline: the cluster left out, the registry checks graded on the task's bundled tags.
    assert data["repos"][1]["max_score"] == OFFLINE_MAX


@pytest.mark.parametrize(
    ("args", "words"),
    [
        ([], "nothing to grade"),
        (["x", "--jobs", "0"], "--jobs must be at least 1"),
        (["x", "--roster", "/nonexistent/roster.csv"], "roster /nonexistent/roster.csv not found"),
        (["x", "--tags-file", "/nonexistent/tags"], "tags file"),
        (["x", "--format", "xml"], "invalid choice"),
        # refused before a repository is graded (they were an internal error after the whole class)
        (
            ["x", "--output", "/nonexistent/grades.txt"],
            "--output /nonexistent/grades.txt: no folder /nonexistent",
        ),
        (["x", "--output", "/tmp"], "--output /tmp: is a directory"),
        # one usage error: '' graded each repository as the task it records, and an unknown id gave
        # one error row per student
        (["x", "--task", ""], "an empty task id"),
        (["x", "--task", "nope"], "no task 'nope'"),
        # a NaN timeout never expired: a clone that hung was never killed
        (["x", "--timeout", "nan"], "--timeout: nan is not a positive number"),
        (["x", "--timeout", "0"], "--timeout: 0 is not a positive number"),
    ],
)
def test_usage_errors_exit_2(klass: Class, args: list[str], words: str) -> None:
    proc = run_lab("grade", *args, env=klass.env, cwd=klass.root)
    assert proc.returncode == 2
    assert words in proc.stderr


def test_a_row_graded_without_the_registry_is_incomplete_not_pass(klass: Class) -> None:
    """README: without --offline the registry checks scan the registry; when it cannot be reached they
    cannot check, so alice (who passes everything offline) is `incomplete`, and the row says why. The
    snapshot the lab bundles is no stand-in for a grade."""
    from tests.support.registry_fixtures import free_port

    env = {**klass.env, "LAB_REGISTRY_MIRROR": f"docker.io=127.0.0.1:{free_port()}"}
    env.pop("LAB_SANDBOX_WORKSPACE", None)
    alice = str(klass.class_dir / "alice")
    proc = run_lab("grade", alice, "--format", "json", env=env, cwd=klass.root)
    (row,) = json.loads(proc.stdout)["repos"]
    assert row["status"] == "incomplete", row
    tags = next(c for c in row["checks"] if c["id"] == "registry.tags")
    assert tags["status"] == "error"
    assert tags["message"].startswith("could not check: registry 127.0.0.1:"), tags
    assert "connection refused; only the lab's snapshot of Docker Hub's library/nginx" in tags["message"]
    table = run_lab("grade", alice, env=env, cwd=klass.root).stdout
    assert "1 repository: 1 incomplete" in table, table


def test_readme_says_what_grade_offline_counts(graded_json: dict[str, Any]) -> None:
    """README's `lab grade DIR --offline` sentence says what the grade does: the registry checks run on the
    task's bundled tags and count in the maximum; only the cluster checks are left out (as `--help` says)."""
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    start = readme.index("`lab grade DIR --offline` (")
    sentence = readme[start : readme.index(")", start + 27)]
    alice = next(r for r in graded_json["repos"] if r["student"] == "Alice Liddell")
    registry = [c for c in alice["checks"] if c["id"].startswith("registry.")]
    assert registry and all(c["status"] == "pass" for c in registry)
    # The registry checks' points are in the offline maximum: only the cluster checks are not.
    assert alice["max_score"] == OFFLINE_MAX
    assert "registry checks" in sentence and "bundled tags" in sentence and "count" in sentence, sentence
    assert "registry and cluster checks left out" not in sentence, sentence
    assert "cluster checks" in sentence and "left out" in sentence, sentence
