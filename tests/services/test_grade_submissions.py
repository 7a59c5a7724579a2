"""What `lab grade` grades: what the student pushed, inside the submitted repository only.

A class directory made with `lab init` (checkouts with their NAME-origin.git next to them) holding:
alice (solved and pushed), bob (solved and committed, never pushed), three submissions that would be
graded as alice's work (a `gitdir:` file, a `.git` symlink, `objects/info/alternates`), one whose
origin is alice's, and a ~1000-directory-deep tree. Plus: stale temp clones of killed runs are removed,
and a clone that hangs is killed at --timeout.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from lab.adapters.scratch import remove_tree
from lab.core.checks.model import Status
from lab.core.report.grade_table import GradeRow
from lab.services.grade import expand, grade_class, read_roster
from lab.services.solve import solve
from tests.support.gitutil import commit_files, git, practice
from tests.support.labrun import run_lab
from tests.support.silent import silent_server as silent

# Every test here is slow, and must stay so: the module's `klass` fixture removes its 1000-level tree with
# `rm` when the module's last test on an xdist worker ends, and the process guard charges that to the test.
# One worker builds the module's submissions once (a module fixture is built again on every worker).
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("grade-submissions")]

DEEP = 1000


@pytest.fixture(scope="module")
def klass(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("submissions")
    class_dir = root / "class"
    class_dir.mkdir()
    alice = practice(class_dir, "alice")
    solve(alice)
    bob = practice(class_dir, "bob")
    solve(bob)
    # bob's solution is committed, but origin only ever got the starter.
    git(bob, "push", "-q", "--force", "origin", "HEAD~1:main")

    gitfile = class_dir / "mallory-gitfile"
    gitfile.mkdir()
    (gitfile / ".git").write_text("gitdir: ../alice/.git\n")
    symlinked = class_dir / "mallory-symlink"
    symlinked.mkdir()
    (symlinked / ".git").symlink_to("../alice/.git")
    # A repository of its own whose objects all come from alice's: alternates and a ref to her commit.
    borrowed = class_dir / "mallory-alternates"
    git(class_dir, "init", "-q", "--template=", "-b", "main", str(borrowed))
    alt = borrowed / ".git" / "objects" / "info"
    alt.mkdir(parents=True, exist_ok=True)
    (alt / "alternates").write_text(str(alice / ".git" / "objects") + "\n")
    git(borrowed, "update-ref", "refs/heads/main", git(alice, "rev-parse", "HEAD"))
    # An honest-looking checkout whose origin is alice's bare repository.
    pointed = practice(class_dir, "mallory-origin")
    git(pointed, "remote", "set-url", "origin", str(class_dir / "alice-origin.git"))

    deep = practice(class_dir, "deep")
    rel = "/".join(["d"] * DEEP)
    # pathlib's mkdir(parents=True) recurses once per level: deeper than Python allows.
    subprocess.run(["mkdir", "-p", rel], cwd=deep, check=True)
    subprocess.run(["sh", "-c", f"printf 'kind: ConfigMap\\n' > {rel}/f.yaml"], cwd=deep, check=True)
    git(deep, "add", "-A")
    git(deep, "commit", "-qm", "deep tree")
    git(deep, "push", "-q")
    yield class_dir
    # pytest's own clean-up of old temp directories recurses per level and would fail on this one.
    remove_tree(deep)


def _rows(klass: Path, workdir: Path) -> dict[str, GradeRow]:
    report = grade_class(expand([str(klass)]), offline=True, jobs=2, workdir=workdir, timeout_s=240)
    return {r.student: r for r in report.rows}


@pytest.fixture(scope="module")
def graded(klass: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, GradeRow], Path]:
    workdir = tmp_path_factory.mktemp("scratch")
    return _rows(klass, workdir), workdir


def test_one_row_per_student_no_origin_siblings(graded: tuple[dict[str, GradeRow], Path]) -> None:
    rows, _ = graded
    assert sorted(rows) == [
        "alice",
        "bob",
        "deep",
        "mallory-alternates",
        "mallory-gitfile",
        "mallory-origin",
        "mallory-symlink",
    ]


def test_impersonations_are_error_rows_naming_the_target(
    klass: Path, graded: tuple[dict[str, GradeRow], Path]
) -> None:
    rows, _ = graded
    alice = klass / "alice"
    expected = {
        "mallory-gitfile": f".git is a gitdir link to {alice / '.git'}, which is alice's submission",
        "mallory-symlink": f".git is a symlink to {alice / '.git'}, which is alice's submission",
        "mallory-alternates": f"objects/info/alternates borrows objects from {alice / '.git' / 'objects'}, "
        "which is alice's submission",
        "mallory-origin": f"origin is {klass / 'alice-origin.git'}, which is alice's submission",
    }
    for student, words in expected.items():
        row = rows[student]
        assert not row.graded and row.status == "error", row
        assert row.reason.startswith(f"not graded: {words}"), row.reason
    assert rows["alice"].status == "pass" or rows["alice"].score > 0
    passing = [r.student for r in rows.values() if r.status == "pass"]
    assert set(passing) <= {"alice"}, passing  # no false pass


def test_relative_alternates_name_the_directory_git_would_read(tmp_path: Path) -> None:
    # git reads a relative alternates entry from the objects directory (not objects/info): the row
    # must name that directory, and so the classmate it belongs to.
    alice = practice(tmp_path, "alice")
    borrowed = tmp_path / "mallory"
    git(tmp_path, "init", "-q", "--template=", "-b", "main", str(borrowed))
    (borrowed / ".git" / "objects" / "info").mkdir(parents=True, exist_ok=True)
    (borrowed / ".git" / "objects" / "info" / "alternates").write_text("../../../alice/.git/objects\n")
    git(borrowed, "update-ref", "refs/heads/main", git(alice, "rev-parse", "HEAD"))
    assert git(borrowed, "cat-file", "-t", "HEAD") == "commit"  # git does read alice's objects
    report = grade_class(expand([str(tmp_path)]), offline=True, workdir=tmp_path / "scratch")
    row = next(r for r in report.rows if r.student == "mallory")
    assert row.reason.startswith(
        f"not graded: objects/info/alternates borrows objects from {alice / '.git' / 'objects'}, "
        "which is alice's submission"
    ), row.reason


def test_unpushed_work_is_not_credited(graded: tuple[dict[str, GradeRow], Path]) -> None:
    rows, _ = graded
    alice, bob = rows["alice"], rows["bob"]
    assert alice.note == "" and alice.report is not None
    assert bob.graded and bob.report is not None
    assert bob.report.get("repo.files").status is Status.FAIL  # origin has only the starter
    assert bob.report.get("git.pushed").status is not Status.PASS
    assert bob.score < alice.score
    assert bob.note.startswith("not pushed: 1 commit on local main (")
    assert "bob-origin.git; graded origin" in bob.note


def test_deep_tree_is_graded_or_named_and_no_clone_is_left(
    graded: tuple[dict[str, GradeRow], Path],
) -> None:
    rows, workdir = graded
    deep = rows["deep"]
    assert deep.graded or deep.reason, deep
    assert deep.status != "pass"
    assert list(workdir.iterdir()) == []  # every temp clone removed, the deep one included


def test_stale_clones_of_killed_runs_are_removed(tmp_path: Path) -> None:
    workdir = tmp_path / "scratch"
    workdir.mkdir()
    dead = subprocess.Popen(["true"])
    dead.wait()
    alive = subprocess.Popen(["sleep", "60"])
    try:
        stale = workdir / f"lab-grade-{dead.pid}-abc123"
        busy = workdir / f"lab-grade-{alive.pid}-def456"
        other = workdir / f"lab-simulate-{dead.pid}-xyz"
        for d in (stale, busy, other):
            (d / "repo" / "a" / "b").mkdir(parents=True)
        repo = practice(tmp_path)
        report = grade_class(expand([str(repo)]), offline=True, workdir=workdir)
        assert report.rows[0].graded
        assert sorted(p.name for p in workdir.iterdir()) == sorted([busy.name, other.name])
    finally:
        alive.kill()
        alive.wait()


@pytest.fixture
def silent_server() -> Iterator[str]:
    """An HTTP "git server" on 127.0.0.1 that accepts connections and never answers."""
    with silent() as url:
        yield url


def test_timeout_kills_a_stuck_clone_and_exits_near_it(silent_server: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "LAB_DEBUG"}
    env.update(HOME=str(tmp_path), TMPDIR=str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    start = time.monotonic()
    proc = run_lab("grade", silent_server, "--timeout", "3", "--offline", "-f", "csv", env=env)
    elapsed = time.monotonic() - start
    assert proc.returncode == 1, proc.stderr
    assert f"the clone of {silent_server} timed out after 3s - hint: raise --timeout" in proc.stdout, (
        proc.stdout
    )
    assert elapsed < 3 + 12, elapsed  # the report at the timeout and the exit right after it
    assert [p.name for p in (tmp_path / "tmp").iterdir() if p.name.startswith("lab-grade-")] == []
    orphans = subprocess.run(["pgrep", "-f", silent_server], capture_output=True, text=True)
    assert orphans.stdout.strip() == "", "a git process of the stuck clone survived"


def test_gitdir_file_inside_the_submission_is_fine(tmp_path: Path) -> None:
    # A checkout whose .git is a gitdir file into its own directory is the student's own repository.
    repo = practice(tmp_path, "own")
    (repo / ".git").rename(repo / ".realgit")
    (repo / ".git").write_text("gitdir: .realgit\n")
    commit_files(repo, {"notes.txt": "x\n"}, "notes")
    git(repo, "push", "-q")
    report = grade_class(expand([str(repo)]), offline=True, workdir=tmp_path / "scratch")
    assert report.rows[0].graded, report.rows[0].reason


def test_unreachable_origin_is_an_error_row_not_a_grade_of_the_checkouts_refs(tmp_path: Path) -> None:
    # A class cloned from a forge, graded where the forge cannot be reached: the checkout's own
    # refs/remotes/origin/main is the student's to write, so it cannot say what was pushed.
    pushed = practice(tmp_path, "pushed")
    solve(pushed)
    ahead = practice(tmp_path, "ahead")
    solve(ahead, push=False)
    git(ahead, "update-ref", "refs/remotes/origin/main", "HEAD")
    for repo in (pushed, ahead):
        git(repo, "remote", "set-url", "origin", "http://127.0.0.1:9/class/repo.git")
    report = grade_class(expand([str(pushed), str(ahead)]), offline=True, workdir=tmp_path / "scratch")
    for row in report.rows:
        assert not row.graded and row.score is None, row
        assert row.reason.startswith("origin http://127.0.0.1:9/class/repo.git could not be read, so what ")
    assert report.exit_code() == 1
    assert list((tmp_path / "scratch").iterdir()) == []


def _default_master(repo: Path) -> Path:
    """`repo`'s origin with its default branch master: what a forge that defaults to master holds."""
    origin = repo.parent / f"{repo.name}-origin.git"
    git(origin, "branch", "-m", "main", "master")
    git(origin, "symbolic-ref", "HEAD", "refs/heads/master")
    git(repo, "branch", "-m", "main", "master")
    git(repo, "fetch", "-q", "--prune", "origin")
    git(repo, "branch", "-q", "--set-upstream-to=origin/master")
    return origin


def test_grade_reads_the_branch_flux_follows_not_origins_default(tmp_path: Path) -> None:
    # The repository's GitRepository follows main: with origin's default master and no main, source-
    # controller cannot fetch anything, whatever master holds; `lab check` says so, and so must grade.
    mia = practice(tmp_path, "mia")
    solve(mia)
    _default_master(mia)
    row = grade_class(expand([str(mia)]), offline=True, workdir=tmp_path / "scratch").rows[0]
    assert row.report is not None and row.branch == "main", row
    pushed = row.report.get("git.pushed")
    assert pushed.status is Status.FAIL, pushed.message
    assert pushed.message.startswith(
        "origin has no branch main, which GitRepository flux-system follows (spec.ref.branch)"
    ), pushed.message
    assert pushed.file == "clusters/dev/flux-system/gotk-sync.yaml" and pushed.line is not None
    assert row.status != "pass"
    # With main on origin too, main is graded (what Flux deploys), not master's starter.
    origin = tmp_path / "mia-origin.git"
    git(mia, "push", "-q", "origin", "master:main")
    git(origin, "update-ref", "refs/heads/master", git(mia, "rev-parse", "HEAD~1"))
    row = grade_class(expand([str(mia)]), offline=True, workdir=tmp_path / "scratch").rows[0]
    assert row.report is not None and row.branch == "main", row
    assert row.report.get("git.pushed").status is Status.PASS, row.report.get("git.pushed").message
    assert row.report.get("repo.files").status is Status.PASS


def test_a_classmates_origin_is_named_whoever_else_is_graded(klass: Path, tmp_path: Path) -> None:
    # mallory-origin's origin is alice-origin.git, the `lab init` origin next to alice, which alice
    # pushes to: refused whether alice is in the run or not.
    alone = grade_class(expand([str(klass / "mallory-origin")]), offline=True, workdir=tmp_path / "s1")
    with_bob = grade_class(
        expand([str(klass / "mallory-origin"), str(klass / "bob")]), offline=True, workdir=tmp_path / "s2"
    )
    for report in (alone, with_bob):
        row = next(r for r in report.rows if r.student == "mallory-origin")
        assert not row.graded and row.reason.startswith(
            f"not graded: origin is {klass / 'alice-origin.git'}, which is alice's submission"
        ), row.reason
    alice = grade_class(expand([str(klass / "alice")]), offline=True, workdir=tmp_path / "s3").rows[0]
    assert alice.graded, alice.reason  # her own origin is hers
    # Her own second clone of it, named for her in a roster, is hers too.
    laptop = tmp_path / "alice-laptop2"
    git(tmp_path, "clone", "-q", str(klass / "alice-origin.git"), str(laptop))
    roster = tmp_path / "roster.csv"
    roster.write_text(f"alice,{laptop}\n", encoding="utf-8")
    second = grade_class(read_roster(roster), offline=True, workdir=tmp_path / "s4").rows[0]
    assert second.student == "alice" and second.graded, second.reason
