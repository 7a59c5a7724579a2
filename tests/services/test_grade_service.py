"""The grade service and class renderers in process: roster and argument expansion, error rows,
timeouts, and the renderers' escaping."""

from __future__ import annotations

import csv
import io
import json
import shutil
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from lab.core.checks.model import CheckResult, Report, Status
from lab.core.report.grade_table import (
    ClassReport,
    GradeRow,
    render_csv,
    render_json,
    render_junit,
    render_table,
)
from lab.core.text import is_safe
from lab.errors import UsageError
from lab.services import grade
from lab.services.grade import Target, expand, gather, grade_class, grade_one, read_roster, student_name
from tests.support.gitutil import make_bare, make_repo


def _report(*statuses: Status) -> Report:
    checks = tuple(
        CheckResult(
            id=f"c.{i}",
            title=f"check {i}",
            status=s,
            points=2 if s is Status.PASS else 0,
            max_points=2,
            message=f"message {i}\nsecond line",
        )
        for i, s in enumerate(statuses)
    )
    return Report(task="09b", checks=checks, started_at="2026-11-27T00:00:00Z")


def test_student_names() -> None:
    assert student_name("/class/alice") == "alice"
    assert student_name("/srv/git/bob.git/") == "bob"
    assert student_name("https://tok:secret@github.com/org/carol-gitops.git") == "carol-gitops"
    assert student_name("git@github.com:org/dave.git") == "dave"
    assert student_name("file:///srv/class/carol%20smith.git") == "carol smith"  # was carol%20smith
    assert student_name(".") == Path.cwd().name  # was "."
    # `lab init`'s NAME-origin.git is NAME's, whichever way it is named.
    for given in ("/class/evil-origin.git", "file:///class/evil-origin.git", "https://h/org/evil-origin.git"):
        assert student_name(given) == "evil", given
    assert student_name("/class/-origin.git") == "-origin"


@pytest.mark.slow
def test_an_empty_class_directory_is_a_usage_error(tmp_path: Path, lab_env: dict[str, str]) -> None:
    from lab.errors import UsageError
    from tests.support.labrun import run_lab

    (tmp_path / "emptydir").mkdir()
    with pytest.raises(UsageError, match="no repositories found in "):
        expand([str(tmp_path / "emptydir")])
    proc = run_lab("grade", "--offline", "emptydir", env=lab_env, cwd=tmp_path, ok=False)
    assert proc.returncode == 2 and "no repositories found in emptydir" in proc.stderr, proc.stderr
    # Among other students, an empty folder is one whose work is missing: an error row, not exit 2.
    make_repo(tmp_path / "alice")
    assert [t.student for t in expand([str(tmp_path / "alice"), str(tmp_path / "emptydir")])] == [
        "alice",
        "emptydir",
    ]


def test_roster_header_comments_branch_and_relative_paths(tmp_path: Path) -> None:
    roster = tmp_path / "r.csv"
    roster.write_text(
        "student,repo,branch\n# a comment\n\nAlice Smith, alice ,dev\nbob,https://h/org/bob.git\n"
    )
    assert read_roster(roster) == [
        Target("Alice Smith", str(tmp_path / "alice"), "dev"),
        Target("bob", "https://h/org/bob.git", None),
    ]


def test_targets_keep_the_order_given(tmp_path: Path) -> None:
    """URLs were listed before every local path, whatever the order of the arguments; the grades come
    in the order the instructor gave."""
    zed, amy = tmp_path / "zed", tmp_path / "amy"
    for folder in (zed, amy):
        folder.mkdir()
        (folder / "README.md").write_text("not pushed yet\n")
    targets = expand([str(zed), "https://h/org/bob.git", str(amy)])
    assert [t.student for t in targets] == ["zed", "bob", "amy"]


def test_roster_bad_row_names_the_line(tmp_path: Path) -> None:
    roster = tmp_path / "r.csv"
    roster.write_text("alice,a\njust-a-name\n")
    with pytest.raises(UsageError, match=r"r\.csv:2: expected student,repo\[,branch\]"):
        read_roster(roster)


@pytest.mark.slow
def test_class_directory_expands_one_level_and_roster_names_win(tmp_path: Path) -> None:
    klass = tmp_path / "class"
    make_repo(klass / "alice")
    make_bare(klass / "bob.git")
    (klass / "notes").mkdir()
    (klass / ".cache").mkdir()
    targets = expand([str(klass)])
    assert [(t.student, Path(t.source).name) for t in targets] == [
        ("alice", "alice"),
        ("bob", "bob.git"),
        ("notes", "notes"),
    ]
    # A directory holding no repository at all is one (ungradable) student, not a class; an empty one
    # given as an argument names no student at all (a usage error, exit 2).
    with pytest.raises(UsageError, match="no repositories found in "):
        expand([str(klass / "notes")])
    (klass / "notes" / "todo.txt").write_text("x\n")
    assert [t.student for t in expand([str(klass / "notes")])] == ["notes"]
    roster = tmp_path / "roster.csv"
    roster.write_text("Alice A,class/alice\n")
    named = gather([str(klass)], roster)
    assert [t.student for t in named] == ["Alice A", "bob", "notes"]
    # A link to a student's folder is that student: graded once, and said (it vanished in silence).
    (klass / "alice-link").symlink_to("alice")
    same: list[tuple[str, str]] = []
    assert [t.student for t in gather([str(klass)], None, same)] == ["alice", "bob", "notes"]
    assert same == [(str(klass / "alice-link"), str(klass / "alice"))]


@pytest.mark.slow
def test_missing_and_non_git_paths_are_error_rows(tmp_path: Path) -> None:
    (tmp_path / "plain").mkdir()
    (tmp_path / "file.txt").write_text("x")
    for name, words in (
        ("plain", "is not a git repository"),
        ("nope", "does not exist"),
        ("file.txt", "is not a directory"),
    ):
        row = grade_one(Target(name, str(tmp_path / name)), offline=True)
        assert not row.graded and row.status == "error" and words in row.reason, row
        assert "\n" not in row.reason


@pytest.mark.slow
def test_empty_origin_is_graded_as_nothing_pushed(tmp_path: Path) -> None:
    bare = make_bare(tmp_path / "empty.git")
    row = grade_one(Target("empty", str(bare)), offline=True)
    assert row.graded and row.score == 0 and row.first_problem()[0] == "repo.files"


@pytest.mark.slow
def test_a_checker_bug_becomes_an_error_row(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*_a: object, **_k: object) -> None:
        raise RuntimeError("kaboom")

    monkeypatch.setattr("lab.services.check.run_checks", boom)
    repo = make_repo(tmp_path / "r")
    row = grade_one(Target("r", str(repo)), offline=True)
    assert row.reason == "internal error: RuntimeError: kaboom"


def test_timeout_gives_an_error_row_and_the_rest_finish(monkeypatch: pytest.MonkeyPatch) -> None:
    release = threading.Event()

    def fake(target: Target, **_kw: object) -> GradeRow:
        if target.student == "slow":
            release.wait(10)
        return GradeRow(target.student, target.source, None, _report(Status.PASS))

    monkeypatch.setattr(grade, "grade_one", fake)
    try:
        report = grade_class(
            [Target("slow", "s"), Target("fast", "f"), Target("also", "a")], jobs=2, timeout_s=0.5
        )
    finally:
        release.set()
    rows = {r.student: r for r in report.rows}
    assert (
        rows["slow"].status == "error"
        and rows["slow"].reason == "grading timed out after 0.5s - hint: raise --timeout"
    )
    assert rows["fast"].status == rows["also"].status == "pass"
    # In the order given, not the order they finished (slow last) nor by name.
    assert [r.student for r in report.rows] == ["slow", "fast", "also"]
    assert report.exit_code() == 1


def test_row_statuses() -> None:
    rows = (
        GradeRow("Alice", "a", report=_report(Status.PASS, Status.FAIL)),
        GradeRow("bob", "b", report=_report(Status.PASS, Status.ERROR)),
        GradeRow("carol", "c", reason="not a git repository"),
        GradeRow("dan", "d", report=_report(Status.PASS, Status.SKIPPED)),
    )
    assert [(r.student, r.status) for r in rows] == [
        ("Alice", "fail"),
        ("bob", "incomplete"),
        ("carol", "error"),
        ("dan", "pass"),
    ]
    assert rows[0].first_problem() == ("c.1", "message 1 second line")
    assert ClassReport("09b", rows).exit_code() == 1
    assert ClassReport("09b", (rows[0], rows[1], rows[3])).exit_code() == 0


def test_csv_neutralises_formulas_and_keeps_one_line() -> None:
    evil = GradeRow("=HYPERLINK(1)", "-repo", report=_report(Status.FAIL))
    text = render_csv(ClassReport("09b", (evil,)))
    (row,) = list(csv.DictReader(io.StringIO(text)))
    assert row["student"] == "'=HYPERLINK(1)" and row["repo"] == "'-repo"
    assert row["message"] == "message 0 second line"


def test_csv_shows_control_characters_of_every_cell_as_escapes() -> None:
    # `lab grade -f csv -o FILE` writes what render_csv returns, not through the terminal's escaping
    # stream: a roster's URL or branch reached the file (and `cat`) raw.
    evil = GradeRow(
        "st\x1b[2Jud\u202eent",
        "https://127.0.0.1:9/\x1b]0;pwn\x07/r.git",
        branch="ma\u2066in",
        reason="cannot clone \x1b[31mit",
    )
    text = render_csv(ClassReport("09b", (evil,)))
    assert is_safe(text), repr(text)
    (row,) = list(csv.DictReader(io.StringIO(text)))
    assert row["repo"] == "https://127.0.0.1:9/\\x1b]0;pwn\\x07/r.git"
    assert row["branch"] == "ma\\u2066in"


def test_table_aligns_and_summarises() -> None:
    rows = (
        GradeRow("a-very-long-student-name", "r1", report=_report(Status.PASS)),
        GradeRow("b", "r2", reason="cannot clone x"),
    )
    text = render_table(ClassReport("09b", rows, offline=True, duration_s=1.25))
    lines = text.splitlines()
    assert lines[1].index("r1") == lines[2].index("r2") == lines[0].index("REPO")
    assert lines[2].rstrip().endswith("cannot clone x")
    assert lines[-1] == "2 repositories (offline): 1 pass, 1 error in 1.2s"


def test_json_and_junit_shapes() -> None:
    rows = (
        GradeRow("a.b c", "r1", "main", report=_report(Status.PASS, Status.FAIL, Status.SKIPPED)),
        GradeRow("z", "r2", reason="bad \x01 repo"),
    )
    report = ClassReport("09b", rows)
    data = json.loads(render_json(report))
    assert data["task"] == "09b"
    first = data["repos"][0]
    assert {k: first[k] for k in ("student", "repo", "score", "max_score", "status")} == {
        "student": "a.b c",
        "repo": "r1",
        "score": 2,
        "max_score": 4,  # the skipped check was left out by a mode
        "status": "fail",
    }
    assert [c["id"] for c in first["checks"]] == ["c.0", "c.1", "c.2"]
    root = ET.fromstring(render_junit(report).encode())
    assert (root.get("tests"), root.get("failures"), root.get("errors"), root.get("skipped")) == (
        "4",
        "1",
        "1",
        None,  # junit-10.xsd allows `skipped` on a testsuite only
    )
    a, z = root.findall("testsuite")
    assert {c.get("classname") for c in a.iter("testcase")} == {"fluxlab.task09b_a_b_c"}
    err = z.find("testcase/error")
    assert err is not None and err.get("message") == r"bad \x01 repo"  # shown, not deleted


@pytest.mark.slow
def test_real_grade_of_a_repo_with_no_checks_passing(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "s")
    start = time.monotonic()
    row = grade_one(Target("s", str(repo)), offline=True)
    assert row.graded and row.status == "fail" and row.branch == "main"
    assert row.first_problem()[0] == "repo.files"
    assert 0 < row.duration_s <= time.monotonic() - start + 0.01


@pytest.fixture
def solved(tmp_path: Path) -> Path:
    from lab.services.solve import solve
    from tests.support.gitutil import practice

    repo = practice(tmp_path)
    solve(repo)
    return repo


@pytest.mark.slow
def test_online_grade_leaves_the_instructors_cluster_out(
    solved: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lab.sandbox.kubeapi.kubeconfig import write_kubeconfig
    from lab.sandbox.registry import EmbeddedRegistry

    # A cluster that answers nothing: were it asked, the cluster checks would be errors.
    monkeypatch.setenv("KUBECONFIG", str(write_kubeconfig(tmp_path / "kc", "http://127.0.0.1:9")))
    with EmbeddedRegistry() as reg:
        monkeypatch.setenv("LAB_REGISTRY_MIRROR", f"docker.io={reg.address}")
        row = grade_one(Target("s", str(solved)))
        assert row.report is not None
        by = {c.id: c for c in row.report.checks}
        assert [c.id for c in row.report.checks][:3] == [
            "repo.files",
            "image-repository.valid",
            "image-policy.valid",
        ]
        assert by["policy.resolves"].status is Status.PASS, by["policy.resolves"].message
        cluster = [c for c in row.report.checks if c.kind == "cluster"]
        assert len(cluster) == 4
        assert all(c.status is Status.SKIPPED and c.excluded for c in cluster)
        assert cluster[0].message == grade.CLUSTER_LEFT_OUT
        assert row.max_score == sum(c.max_points for c in row.report.checks if c.kind != "cluster")
        with_cluster = grade_one(Target("s", str(solved)), cluster=True)
    assert with_cluster.report is not None
    assert with_cluster.report.get("cluster.controllers").status is Status.ERROR


@pytest.mark.slow
def test_alias_bomb_in_a_student_repo_is_graded_not_fatal(tmp_path: Path) -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(20)
    )
    repo = make_repo(
        tmp_path / "bomb",
        {
            "clusters/dev/image-automation/image-repository.yaml": bomb,
            "clusters/dev/image-automation/image-policy.yaml": "kind: ImagePolicy\n",
            "clusters/dev/image-automation/image-update.yaml": "kind: ImageUpdateAutomation\n",
        },
    )
    row = grade_one(Target("bomb", str(repo)), offline=True)
    assert row.graded, row.reason
    assert row.report is not None
    files = row.report.get("repo.files")
    assert files.status is Status.FAIL and files.file == "clusters/dev/image-automation/image-repository.yaml"


def test_first_problem_prefers_a_failing_check() -> None:
    checks = (
        CheckResult("registry.tags", "Tags", Status.ERROR, 0, 6, "registry timed out"),
        CheckResult("cluster.x", "X", Status.PENDING, 0, 6, "not yet"),
        CheckResult("marker.valid", "Marker", Status.FAIL, 0, 7, "marker names nginx"),
    )
    row = GradeRow("s", "r", report=Report(task="09b", checks=checks))
    assert row.first_problem() == ("marker.valid", "marker names nginx")
    only_error = GradeRow("s", "r", report=Report(task="09b", checks=checks[:2]))
    assert only_error.first_problem() == ("registry.tags", "registry timed out")


@pytest.mark.slow
def test_a_class_of_another_task_is_named_not_graded_by_its_record(tmp_path: Path) -> None:
    """Repositories made for an exercise, graded as the course task: each row and the summary say so
    (and how to grade them as their own); the record never chooses the task, and an id the lab does not
    have is not repeated."""
    from lab.sandbox.practice import init_practice_repo
    from tests.support.gitutil import git

    klass = tmp_path / "class"
    for name in ("dora", "eve"):
        init_practice_repo(klass / name, task="09b-multi")
    odd = init_practice_repo(klass / "fay", task="09b-multi").path
    (odd / ".fluxlab" / "task.json").write_text('{"task": "\\u001b]2;x\\u0007nope"}\n')
    git(odd, "commit", "-qam", "record another task")
    git(odd, "push", "-q", "origin", "main")
    targets = gather([str(klass)], None)
    as_course = grade_class(targets, offline=True)
    assert as_course.task == "09b"
    assert {r.student: r.records_task for r in as_course.rows} == {
        "dora": "09b-multi",
        "eve": "09b-multi",
        "fay": "",
    }
    table = render_table(as_course)
    assert "; records task 09b-multi, graded as 09b" in table
    assert (
        "2 of 3 record task 09b-multi, graded as 09b: lab grade --task 09b-multi grades them as their own\n"
        in table
    )
    assert "nope" not in table
    assert json.loads(render_json(as_course))["repos"][0]["records_task"] == "09b-multi"
    assert "records task 09b-multi, graded as 09b" in render_csv(as_course)
    assert 'name="records_task" value="09b-multi"' in render_junit(as_course)

    as_own = grade_class(targets, task="09b-multi", offline=True)
    assert [r.records_task for r in as_own.rows] == ["", "", ""]
    assert "record task" not in render_table(as_own)


@pytest.mark.slow
def test_a_glob_of_a_class_pairs_each_origin_with_its_checkout(tmp_path: Path) -> None:
    from tests.support.gitutil import commit_files, practice

    klass = tmp_path / "class"
    klass.mkdir()
    practice(klass, "alice")
    bob = practice(klass, "bob")
    commit_files(bob, {"notes.txt": "mine\n"}, "never pushed")
    shutil.rmtree(
        practice(klass, "carol")
    )  # carol's origin alone: still carol's work, not a student "carol-origin"
    # What `lab grade */` or `lab grade alice* bob*` hands over: each checkout and its origin.
    globbed = sorted(str(p) for p in klass.iterdir())
    by_glob = expand(globbed)
    assert [(t.student, Path(t.source).name) for t in by_glob] == [
        ("alice", "alice"),
        ("bob", "bob"),
        ("carol", "carol-origin.git"),
    ]
    assert by_glob == expand([str(klass)])
    report = grade_class(by_glob, offline=True, jobs=2)
    assert [r.status for r in report.rows if not r.graded] == []
    bob_row = next(r for r in report.rows if r.student == "bob")
    assert bob_row.note.startswith("not pushed: 1 commit on local main"), bob_row.note


@pytest.mark.slow
def test_every_grade_format_names_the_file_and_line_of_a_yaml_error(tmp_path: Path) -> None:
    from tests.support.gitutil import commit_files, git, practice
    from tests.support.taskfiles import solution_manifests

    repo = practice(tmp_path, "frank")
    policy = "clusters/dev/image-automation/image-policy.yaml"
    files = {**solution_manifests(), policy: "kind: ImagePolicy\nmetadata:\n  name: 'nginx\n"}
    commit_files(repo, files, "broken policy")
    git(repo, "push", "-q")
    report = grade_class(expand([str(repo)]), offline=True)
    row = report.rows[0]
    assert row.graded and row.first_problem()[0] == "repo.files", row
    where = f"{policy}:3: "
    assert where in render_table(report)
    assert where in next(csv.DictReader(io.StringIO(render_csv(report))))["message"]
    assert json.loads(render_json(report))["repos"][0]["message"].startswith(where)


def test_one_repository_on_two_branches_is_two_roster_entries(tmp_path: Path) -> None:
    """Students sharing a repository hand in a branch each: that is no duplicate entry."""
    (tmp_path / "shared").mkdir()
    roster = tmp_path / "r.csv"
    roster.write_text("alice,shared,alice\nbob,shared,bob\n")
    assert [(t.student, t.branch) for t in read_roster(roster)] == [("alice", "alice"), ("bob", "bob")]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (
            "student,repo\nq,alice\nalice, alice/ \n",
            r"r\.csv:3: duplicate roster entry: alice/ is also on line 2",
        ),
        (
            "alice,alice,dev\nbob,alice,main\ncarol,alice,dev\n",
            r"r\.csv:3: duplicate roster entry: alice \(branch dev\) is also on line 1",
        ),
        ("alice,alice\nemptyrepo,\n", r"r\.csv:2: the repo cell of emptyrepo is empty"),
        ("Student;Repo\nalice;alice\n", r"r\.csv:1: .*separated by ';'.*"),
    ],
)
def test_roster_mistakes_are_named(tmp_path: Path, text: str, words: str) -> None:
    (tmp_path / "alice").mkdir()
    roster = tmp_path / "r.csv"
    roster.write_text(text)
    with pytest.raises(UsageError, match=words):
        read_roster(roster)


def test_a_hostile_student_name_reads_the_same_in_every_format() -> None:
    name = "eve\x1b]0;pwned\x07\x1b[2J\x1b[31m"
    shown = r"eve\x1b]0;pwned\x07\x1b[2J\x1b[31m"
    report = ClassReport("09b", (GradeRow(name, "class/eve", "main", _report(Status.FAIL)),))
    assert next(csv.DictReader(io.StringIO(render_csv(report))))["student"] == shown
    assert render_table(report).splitlines()[1].startswith(shown + "  ")
    suite = ET.fromstring(render_junit(report)).find("testsuite")
    assert suite is not None and suite.get("name") == shown
