"""`lab check` through the real executable on a practice repository."""

from __future__ import annotations

import base64
import json
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.support.gitutil import make_practice
from tests.support.gitutil import write_files as write
from tests.support.labrun import run_lab
from tests.support.paths import ROOT
from tests.support.taskfiles import solution_manifests

pytestmark = pytest.mark.slow


@pytest.fixture
def practice(tmp_path: Path) -> Path:
    return make_practice(tmp_path)


def test_starter_text_offline(lab_env: dict[str, str], practice: Path) -> None:
    proc = run_lab("check", "--offline", env=lab_env, cwd=practice)
    assert proc.returncode == 1
    out = proc.stdout
    assert "\x1b[" not in out
    assert "Start with repo.files: missing in clusters/dev/image-automation/" in out
    assert "Score 0/79" in out
    assert "(blocked by repo.files)" in out and "(offline)" in out


def test_starter_json_reasons(lab_env: dict[str, str], practice: Path) -> None:
    proc = run_lab("check", "--workspace", str(practice), "--offline", "--format", "json", env=lab_env)
    assert proc.returncode == 1
    data = json.loads(proc.stdout)
    assert (data["task"], data["score"], data["max_score"]) == ("09b", 0, 79)
    checks = {c["id"]: c for c in data["checks"]}
    assert len(checks) == 17
    assert checks["repo.files"]["status"] == "fail"
    for cid in (
        "image-repository.valid",
        "image-policy.valid",
        "image-update.valid",
        "sync.included",
        "git.pushed",
        # Offline the registry checks grade on the task's bundled tags: counted, and blocked here.
        "registry.tags",
        "policy.resolves",
    ):
        assert checks[cid]["status"] == "skipped" and checks[cid]["blocked_by"] == "repo.files", cid
    for cid in ("cluster.controllers", "cluster.image-update"):
        assert checks[cid]["status"] == "skipped" and checks[cid]["blocked_by"] is None
        assert checks[cid]["message"].startswith("offline"), cid
    assert checks["progress.updated"]["status"] == "fail"
    assert checks["quiz.passed"]["status"] == "fail" and checks["quiz.passed"]["hint"].startswith(
        "run `lab quiz`"
    )
    assert checks["marker.present"]["status"] == "fail"
    assert checks["marker.valid"]["blocked_by"] == "marker.present"


def test_unreachable_cluster_is_error_exit_3(lab_env: dict[str, str], practice: Path, tmp_path: Path) -> None:
    from lab.sandbox.kubeapi.kubeconfig import write_kubeconfig

    env = {**lab_env, "KUBECONFIG": str(write_kubeconfig(tmp_path / "kc", "http://127.0.0.1:9"))}
    proc = run_lab("check", "-w", str(practice), "--only", "cluster.controllers", "-f", "json", env=env)
    assert proc.returncode == 3
    (only,) = json.loads(proc.stdout)["checks"]
    assert only["status"] == "error" and only["message"].startswith("could not check: cannot reach")


def test_only_and_output_file(lab_env: dict[str, str], practice: Path, tmp_path: Path) -> None:
    write(practice, solution_manifests())
    out = tmp_path / "report.json"
    proc = run_lab(
        "check",
        "-w",
        str(practice),
        "--only",
        "sync.included",
        "-f",
        "json",
        "--output",
        str(out),
        env=lab_env,
    )
    assert proc.returncode == 0 and proc.stdout == ""
    data = json.loads(out.read_text())
    assert [c["id"] for c in data["checks"]] == ["repo.files", "sync.included"]
    assert (data["score"], data["max_score"]) == (11, 11)


def test_junit_and_tap(lab_env: dict[str, str], practice: Path) -> None:
    junit = run_lab("check", "-w", str(practice), "--offline", "-f", "junit", env=lab_env)
    assert junit.returncode == 1
    root = ET.fromstring(junit.stdout.encode())
    assert root.tag == "testsuites" and root.get("tests") == "17"
    case = next(c for c in root.iter("testcase") if c.get("name") == "repo.files")
    assert case.find("failure") is not None
    tap = run_lab("check", "-w", str(practice), "--offline", "-f", "tap", env=lab_env)
    lines = tap.stdout.splitlines()
    assert lines[:2] == ["TAP version 13", "1..17"]
    assert (
        "ok 2 - image-repository.valid - ImageRepository scans a registry image without a tag "
        "# SKIP blocked by repo.files" in lines
    )


def test_github_format_writes_summary_and_reporter_output(
    lab_env: dict[str, str], practice: Path, tmp_path: Path
) -> None:
    summary, output = tmp_path / "summary.md", tmp_path / "output"
    env = {
        **lab_env,
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_OUTPUT": str(output),
        "GITHUB_ACTIONS": "true",
    }
    proc = run_lab("check", "-w", str(practice), "--offline", "--format", "github", env=env)
    assert proc.returncode == 1
    lines = proc.stdout.splitlines()
    assert lines[0] == "::notice title=Autograding complete::Points 0/79"
    assert any(
        line.startswith("::error file=clusters/dev/image-automation/image-repository.yaml,title=repo.files::")
        for line in lines
    )
    assert summary.read_text().startswith("## fluxlab: task 09b - 0/79 points")
    runners = dict(line.split("=", 1) for line in output.read_text().splitlines())
    assert "repoFiles" in runners and "clusterControllers" not in runners  # offline: left out
    data = [json.loads(base64.b64decode(v)) for v in runners.values()]
    assert sum(d["max_score"] for d in data) == 79 and {d["status"] for d in data} == {"fail"}


def test_classroom_format_exits_zero(lab_env: dict[str, str], practice: Path, tmp_path: Path) -> None:
    output = tmp_path / "output"
    proc = run_lab(
        "check",
        "-w",
        str(practice),
        "--offline",
        "-f",
        "classroom",
        env={**lab_env, "GITHUB_OUTPUT": str(output)},
    )
    assert proc.returncode == 0
    assert "Score 0/79" in proc.stdout
    assert output.read_text().startswith("repoFiles=")


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--only", "no.such-check"], "unknown check id no.such-check"),
        (["--tags-file", "/nonexistent/tags.txt"], "tags file"),
        (["--format", "xml"], "invalid choice"),
    ],
)
def test_usage_errors_exit_2(lab_env: dict[str, str], practice: Path, args: list[str], words: str) -> None:
    proc = run_lab("check", "-w", str(practice), *args, env=lab_env)
    assert proc.returncode == 2
    assert words in proc.stderr


def test_missing_workspace_is_usage_error(lab_env: dict[str, str], tmp_path: Path) -> None:
    proc = run_lab("check", "--workspace", str(tmp_path / "nope"), env=lab_env)
    assert proc.returncode == 2 and "is not a directory" in proc.stderr


@pytest.mark.parametrize("fmt", ["text", "json", "classroom"])
def test_an_unknown_task_or_a_folder_outside_git_is_a_usage_error_in_every_format(
    lab_env: dict[str, str], practice: Path, tmp_path: Path, fmt: str
) -> None:
    """`--help` says 2 for usage errors: `--task nosuch` exited 1 (classroom too, though `lab grade` exits
    2), and `-w` a folder outside git graded it (0/79) where `cd` there said "not inside a git repository"."""
    outside = tmp_path / "notgit"
    outside.mkdir()
    for args, words in (
        (["-w", str(practice), "--task", "nosuch"], "no task 'nosuch'"),
        (["-w", str(outside)], f"{outside} is not inside a git repository"),
    ):
        proc = run_lab("check", *args, "--offline", "-f", fmt, env=lab_env)
        assert proc.returncode == 2, (args, proc.stdout, proc.stderr)
        assert proc.stdout == "" and proc.stderr.count("\n") == 1 and words in proc.stderr, proc.stderr
        assert " - hint: " in proc.stderr


def test_watch_offline_settles_at_once(lab_env: dict[str, str], practice: Path) -> None:
    proc = run_lab(
        "check",
        "-w",
        str(practice),
        "--offline",
        "--watch",
        "--watch-timeout",
        "1",
        "--only",
        "quiz.passed",
        env=lab_env,
    )
    assert proc.returncode == 1 and "waiting" not in proc.stderr


def test_acceptance_solved_repo_passes_every_offline_check(lab_env: dict[str, str], tmp_path: Path) -> None:
    """The issue's acceptance path: init, solve, simulate, progress, quiz, then check --offline."""
    root = ROOT
    tags = root / "tasks" / "09b" / "registry" / "nginx-tags-2024-01-15.txt"
    ws = tmp_path / "gitops-lab"

    def step(*args: str) -> None:
        proc = run_lab(*args, env=lab_env, cwd=tmp_path)
        assert proc.returncode == 0, (args, proc.stdout, proc.stderr)

    step("init", str(ws))
    starter = run_lab(
        "check", "-w", str(ws), "--offline", "--tags-file", str(tags), "-f", "json", env=lab_env
    )
    assert starter.returncode == 1
    step("solve", str(ws))
    step("simulate", "-w", str(ws), "--tags-file", str(tags))
    step(
        "progress",
        "-w",
        str(ws),
        "--done",
        "09",
        "--note",
        "Image automation working, commits appearing in Git",
    )
    answers = ",".join(
        str(q["answer"] + 1) for q in tomllib.loads((root / "tasks/09b/quiz.toml").read_text())["question"]
    )
    step("quiz", "-w", str(ws), "--answers", answers)
    proc = run_lab("check", "-w", str(ws), "--offline", "--tags-file", str(tags), "-f", "json", env=lab_env)
    data = json.loads(proc.stdout)
    failing = [(c["id"], c["message"]) for c in data["checks"] if c["status"] not in ("pass", "skipped")]
    assert proc.returncode == 0 and not failing, failing
    assert data["score"] == data["max_score"] == 79
    skipped = {c["id"] for c in data["checks"] if c["status"] == "skipped"}
    assert skipped == {
        "cluster.controllers",
        "cluster.image-repository",
        "cluster.image-policy",
        "cluster.image-update",
    }


def test_workspace_from_global_option_or_cwd(lab_env: dict[str, str], practice: Path) -> None:
    glob = run_lab(
        "--workspace",
        str(practice),
        "check",
        "--offline",
        "--only",
        "quiz.passed",
        "-f",
        "json",
        env=lab_env,
        cwd=practice.parent,
    )
    assert glob.returncode == 1 and json.loads(glob.stdout)["checks"][0]["id"] == "quiz.passed"
    nested = run_lab(
        "check", "--offline", "--only", "quiz.passed", "-f", "json", env=lab_env, cwd=practice / "apps"
    )
    assert nested.returncode == 1 and json.loads(nested.stdout)["task"] == "09b"


@pytest.mark.slow
def test_an_unwritable_github_output_is_a_warning_and_classroom_still_exits_0(
    tmp_path: Path, practice: Path, lab_env: dict[str, str]
) -> None:
    env = {**lab_env, "GITHUB_OUTPUT": str(tmp_path / "missing/out.txt")}
    proc = run_lab("check", "-w", str(practice), "--offline", "-f", "classroom", env=env, ok=False)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr
    assert "lab: warning: cannot append to " in proc.stderr
    bad = run_lab(
        "check", "-w", str(practice), "--offline", "-o", str(tmp_path / "no/such.txt"), env=lab_env, ok=False
    )
    assert bad.returncode == 2 and "no folder" in bad.stderr


@pytest.mark.slow
def test_a_ci_run_on_another_branch_grades_the_branch_flux_follows(
    lab_env: dict[str, str], tmp_path: Path
) -> None:
    """Classroom on a pushed feature branch: Flux deploys main, so the run grades origin/main (what
    `lab grade` grades) and says so; the learner's own `lab check` still reads their working tree."""
    from lab.services.solve import solve
    from tests.support.gitutil import git, practice

    ws = practice(tmp_path, "fay")
    git(ws, "checkout", "-q", "-b", "feature")
    solve(ws, push=False)
    git(ws, "push", "-q", "-u", "origin", "feature")
    output = tmp_path / "output"
    env = {**lab_env, "GITHUB_OUTPUT": str(output), "GITHUB_ACTIONS": "true", "LAB_POINTS_NOTICE": "0"}
    args = ("check", "--task", "09b", "--format", "github", "--offline", "--workspace", str(ws))
    proc = run_lab(*args, env=env)
    runners = dict(line.split("=", 1) for line in output.read_text().splitlines())
    scores = [json.loads(base64.b64decode(v))["tests"][0]["score"] for v in runners.values()]
    assert sum(scores) == 0, proc.stdout  # main has the starter only, as `lab grade` finds
    assert "::notice title=Graded origin/main::" in proc.stdout, proc.stdout
    assert "you are on feature" not in proc.stdout  # graded main's commit, not the checkout
    assert git(ws, "worktree", "list", "--porcelain").count("worktree ") == 1  # nothing left behind
    local = run_lab("check", "--offline", "--workspace", str(ws), env=lab_env)
    assert "Score 57/79" in local.stdout, local.stdout  # feedback on the work before it is merged
    git(ws, "switch", "-q", "main")
    git(ws, "merge", "-q", "feature")
    git(ws, "push", "-q", "origin", "main")
    on_main = run_lab("check", "--offline", "--workspace", str(ws), env=lab_env).stdout
    git(ws, "switch", "-q", "feature")
    git(ws, "commit", "-q", "--allow-empty", "-m", "more work")
    output.write_text("")
    proc = run_lab(*args, env=env)
    runners = dict(line.split("=", 1) for line in output.read_text().splitlines())
    scores = [json.loads(base64.b64decode(v))["tests"][0]["score"] for v in runners.values()]
    assert f"Score {sum(scores)}/79 " in on_main and sum(scores) > 57, on_main  # merged: main's grade


@pytest.mark.slow
def test_a_ci_run_that_cannot_check_out_origins_branch_grades_the_checkout_and_warns(
    lab_env: dict[str, str], tmp_path: Path
) -> None:
    """Where origin's graded branch cannot be checked out beside the checkout (here .git/worktrees is a
    file; a read-only .git, a full disk), the run grades the checkout, says so in a ::warning::, and
    Classroom still gets its points and exit 0; the same for a shallow clone with no origin/main."""
    from lab.services.solve import solve
    from tests.support.gitutil import git, practice

    ws = practice(tmp_path, "fay")
    git(ws, "checkout", "-q", "-b", "feature")
    solve(ws, push=False)
    git(ws, "push", "-q", "-u", "origin", "feature")
    (ws / ".git/worktrees").write_text("not a folder")
    output = tmp_path / "output"
    env = {**lab_env, "GITHUB_OUTPUT": str(output), "GITHUB_ACTIONS": "true", "LAB_POINTS_NOTICE": "0"}
    args = ("check", "--task", "09b", "--format", "github", "--offline", "--workspace", str(ws))
    proc = run_lab(*args, env=env, ok=False)
    assert proc.returncode in (0, 1) and "Traceback" not in proc.stderr, proc.stderr
    assert "::warning title=Not the branch Flux deploys::graded feature, not origin/main: " in proc.stdout
    assert "counts once merged into main" in proc.stdout
    classroom = run_lab("check", "--offline", "-f", "classroom", "-w", str(ws), env=env, ok=False)
    assert classroom.returncode == 0, classroom.stderr
    (ws / ".git/worktrees").unlink()
    git(ws, "update-ref", "-d", "refs/remotes/origin/main")  # as a shallow actions/checkout of feature
    proc = run_lab(*args, env=env, ok=False)
    assert "graded feature, not origin/main: this checkout has no origin/main" in proc.stdout, proc.stdout
    assert "fetch-depth: 0" in proc.stdout


@pytest.mark.slow
def test_a_ci_run_reads_the_followed_branch_from_the_branch_flux_deploys(
    lab_env: dict[str, str], tmp_path: Path
) -> None:
    """A feature branch whose own gotk-sync.yaml and automation name the feature branch is not what Flux
    follows: main (what Flux deploys) says main, so the run grades origin/main, as lab grade does, not
    73/79 of unmerged work."""
    from lab.services.solve import solve
    from tests.support.gitutil import git, practice

    ws = practice(tmp_path, "bob")
    git(ws, "checkout", "-q", "-b", "feat")
    solve(ws, push=False)
    for rel in ("clusters/dev/flux-system/gotk-sync.yaml", "clusters/dev/image-automation/image-update.yaml"):
        path = ws / rel
        path.write_text(path.read_text().replace("branch: main", "branch: feat"))
    git(ws, "commit", "-qam", "follow feat")
    git(ws, "push", "-q", "-u", "origin", "feat")
    output = tmp_path / "output"
    env = {**lab_env, "GITHUB_OUTPUT": str(output), "GITHUB_ACTIONS": "true", "LAB_POINTS_NOTICE": "0"}
    proc = run_lab(
        "check", "--task", "09b", "--format", "github", "--offline", "--workspace", str(ws), env=env
    )
    runners = dict(line.split("=", 1) for line in output.read_text().splitlines())
    scores = [json.loads(base64.b64decode(v))["tests"][0]["score"] for v in runners.values()]
    assert sum(scores) == 0, proc.stdout  # origin/main: the starter
    assert "::notice title=Graded origin/main::" in proc.stdout, proc.stdout
    assert git(ws, "worktree", "list", "--porcelain").count("worktree ") == 1  # nothing left behind
