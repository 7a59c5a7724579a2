"""`lab progress` and lab.services.progress on real practice repositories."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from lab.errors import LabError
from lab.services.progress import mark_progress, show_progress
from lab.services.tasks import load_task
from tests.support.gitutil import git, make_repo, practice
from tests.support.labrun import run_lab

OLD_09 = "| 09-fluxcd-image-automation | ⬜ | |"
DEFAULT_NOTE = load_task("09b").meta.progress_note
NEW_09 = f"| 09-fluxcd-image-automation | ✅ | {DEFAULT_NOTE} |"


def test_seed_note_is_the_default() -> None:
    assert DEFAULT_NOTE == "Image automation working, commits appearing in Git"


@pytest.mark.slow
def test_show_lists_rows(tmp_path: Path, lab_env: dict[str, str]) -> None:
    repo = practice(tmp_path)
    proc = run_lab("progress", env=lab_env, cwd=repo / "apps")
    assert proc.returncode == 0, proc.stderr
    assert "09-fluxcd-image-automation" in proc.stdout and "kind cluster running" in proc.stdout
    data = json.loads(run_lab("progress", "--json", env=lab_env, cwd=repo).stdout)
    assert data["rows"][8] == {"task": "09-fluxcd-image-automation", "status": "⬜", "note": "", "line": 13}


@pytest.mark.slow
def test_done_edits_one_line_prints_diff_does_not_commit(tmp_path: Path, lab_env: dict[str, str]) -> None:
    repo = practice(tmp_path)
    before = (repo / "PROGRESS.md").read_bytes()
    head = git(repo, "rev-parse", "HEAD")
    proc = run_lab("progress", "--done", "09", env=lab_env, cwd=repo)
    assert proc.returncode == 0, proc.stderr
    assert f"-{OLD_09}\n+{NEW_09}\n" in proc.stdout
    after = (repo / "PROGRESS.md").read_bytes()
    assert after == before.replace(OLD_09.encode(), NEW_09.encode())
    assert git(repo, "rev-parse", "HEAD") == head
    assert git(repo, "status", "--porcelain") == "M PROGRESS.md"
    # The course's task done: the lab's first exercise on it is next, and how to start it.
    multi = load_task("09b-multi")
    # Where the app keeps the exercise (Done's `n`, Home's Enter): one repository for shell and app.
    assert proc.stdout.splitlines()[-1] == (
        f"next in this lab: Task 09b-multi - {multi.title}: "
        "lab init ~/.local/share/fluxlab/tasks/09b-multi/gitops-lab --task 09b-multi "
        "(the repository the app opens it in: Enter on it in Home)"
    )
    home = Path(lab_env["HOME"])
    run_lab(
        "init",
        home / ".local/share/fluxlab/tasks/09b-multi/gitops-lab",
        "--task",
        "09b-multi",
        env=lab_env,
        ok=True,
    )
    made = run_lab("progress", "--done", "09", "--dry-run", env=lab_env, cwd=repo)
    assert made.stdout.splitlines()[-1].endswith(
        ": cd ~/.local/share/fluxlab/tasks/09b-multi/gitops-lab (the repository the app opens it in: Enter on it in Home)"
    )
    again = run_lab("progress", "--done", "09", "--json", env=lab_env, cwd=repo)
    assert again.returncode == 0
    assert json.loads(again.stdout) | {"next_task": "09b-multi", "changed": False} == json.loads(again.stdout)
    assert (repo / "PROGRESS.md").read_bytes() == after
    todo = run_lab("progress", "--done", "09", "--status", "todo", "--dry-run", env=lab_env, cwd=repo)
    assert todo.returncode == 0 and "next in this lab" not in todo.stdout


@pytest.mark.slow
def test_crlf_file_byte_preserving_and_mode_kept(tmp_path: Path, lab_env: dict[str, str]) -> None:
    repo = practice(tmp_path)
    path = repo / "PROGRESS.md"
    crlf = path.read_bytes().replace(b"\n", b"\r\n")
    path.write_bytes(crlf)
    path.chmod(0o600)
    proc = run_lab(
        "progress", "--done", "09", "--note", "done | tested", "--status", "done", env=lab_env, cwd=repo
    )
    assert proc.returncode == 0, proc.stderr
    expected = crlf.replace(OLD_09.encode(), "| 09-fluxcd-image-automation | ✅ | done \\| tested |".encode())
    assert path.read_bytes() == expected
    assert path.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in repo.iterdir() if p.name.startswith(".PROGRESS")] == []


@pytest.mark.slow
def test_dry_run_writes_nothing(tmp_path: Path, lab_env: dict[str, str]) -> None:
    repo = practice(tmp_path)
    before = (repo / "PROGRESS.md").read_bytes()
    proc = run_lab("progress", "--done", "09", "--dry-run", env=lab_env, cwd=repo)
    assert proc.returncode == 0 and "would update" in proc.stdout and f"+{NEW_09}" in proc.stdout
    assert (repo / "PROGRESS.md").read_bytes() == before


@pytest.mark.slow
def test_usage_and_missing_file_errors(tmp_path: Path, lab_env: dict[str, str]) -> None:
    repo = make_repo(tmp_path / "r")
    usage = run_lab("progress", "--note", "x", env=lab_env, cwd=repo)
    assert usage.returncode == 2 and "--done" in usage.stderr
    missing = run_lab("progress", "--done", "09", env=lab_env, cwd=repo)
    assert missing.returncode == 1
    assert missing.stderr.count("\n") == 1 and "PROGRESS.md: not found" in missing.stderr
    (repo / "PROGRESS.md").write_text("# Progress\n\nnothing yet\n")
    notable = run_lab("progress", "--done", "09", env=lab_env, cwd=repo)
    assert notable.returncode == 1 and "no progress table" in notable.stderr and "hint:" in notable.stderr
    assert "Traceback" not in notable.stderr


@pytest.mark.slow
def test_symlinked_progress_is_refused(tmp_path: Path) -> None:
    repo = practice(tmp_path)
    outside = tmp_path / "outside.md"
    outside.write_bytes((repo / "PROGRESS.md").read_bytes())
    (repo / "PROGRESS.md").unlink()
    os.symlink(outside, repo / "PROGRESS.md")
    with pytest.raises(LabError) as err:
        mark_progress(repo, "09")
    assert "symbolic link" in str(err.value)
    with pytest.raises(LabError):
        show_progress(repo)
    assert OLD_09 in outside.read_text()


@pytest.mark.slow
def test_service_mark_and_show(tmp_path: Path) -> None:
    repo = practice(tmp_path)
    result = mark_progress(repo, "9", note="custom")
    assert result.written and result.edit.line == 13
    _, table = show_progress(repo)
    assert (table.rows[8].status, table.rows[8].note) == ("✅", "custom")
    assert not mark_progress(repo, "09", note="custom").written


@pytest.mark.slow
def test_workspace_option_and_status_todo_keeps_note(tmp_path: Path, lab_env: dict[str, str]) -> None:
    repo = practice(tmp_path)
    proc = run_lab(
        "progress", "--workspace", str(repo), "--done", "01", "--status", "todo", env=lab_env, cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    assert "+| 01-local-cluster | ⬜ | kind cluster running |" in proc.stdout


@pytest.mark.slow
def test_done_for_another_row_does_not_borrow_task_09s_note(tmp_path: Path, lab_env: dict[str, str]) -> None:
    repo = practice(tmp_path)
    proc = run_lab("progress", "--done", "10", env=lab_env, cwd=repo)
    assert proc.returncode == 0, proc.stderr
    text = (repo / "PROGRESS.md").read_text()
    assert "| 10-cleanup | ✅ | |" in text
    assert text.count(DEFAULT_NOTE) == 0
    assert "warning" not in proc.stderr  # no checks for a task the lab does not teach


@pytest.mark.slow
def test_an_authors_task_the_course_does_not_list_comes_after_the_courses_own(
    tmp_path: Path, lab_env: dict[str, str]
) -> None:
    from tests.support.taskfiles import author_task

    # A copy of the course task: its order ties with it, and the course's own next_task ("10") names it.
    folder, env = author_task(tmp_path, "10", lab_env, row="10-author")
    authors = folder.parent
    repo = practice(tmp_path)
    done = run_lab("progress", "--done", "09", "--dry-run", "--json", env=env, cwd=repo, ok=True)
    assert json.loads(done.stdout)["next_task"] == "09b-multi"
    listed = [t["id"] for t in json.loads(run_lab("tasks", "--json", env=env, cwd=repo, ok=True).stdout)]
    assert listed == ["09b", "09b-multi", "09b-staging", "09b-guard", "10"]
    # The author's own course.toml places it.
    (authors / "course.toml").write_text(
        '[course]\ncurrent_task = "09b"\ntasks = ["09b", "10", "09b-multi", "09b-staging", "09b-guard"]\n',
        encoding="utf-8",
    )
    placed = run_lab("progress", "--done", "09", "--dry-run", "--json", env=env, cwd=repo, ok=True)
    assert json.loads(placed.stdout)["next_task"] == "10"
    listed = [t["id"] for t in json.loads(run_lab("tasks", "--json", env=env, cwd=repo, ok=True).stdout)]
    assert listed == ["09b", "10", "09b-multi", "09b-staging", "09b-guard"]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("code", "says", "hint"),
    [
        (30, "read-only file system", "the file system is mounted read-only"),
        (28, "no space left on device", "the disk is full"),
    ],
)
def test_a_read_only_or_full_workspace_is_one_line_naming_the_file(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    code: int,
    says: str,
    hint: str,
) -> None:
    import tempfile

    from lab.cli import main

    repo = practice(tmp_path)
    before = (repo / "PROGRESS.md").read_bytes()

    def refuse(*_a: object, **_k: object) -> None:
        raise OSError(code, os.strerror(code), str(repo / ".PROGRESS.md.llc_8003.tmp"))

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    monkeypatch.delenv("LAB_DEBUG", raising=False)
    assert main(["progress", "--done", "09", "--note", "n", "--workspace", str(repo)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"lab: {repo / 'PROGRESS.md'}: cannot write it: {says} - hint: {hint}"), err
    assert "internal error" not in err and ".tmp" not in err
    assert (repo / "PROGRESS.md").read_bytes() == before


def test_an_environment_error_outside_the_write_helper_is_no_internal_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import lab.cli

    def full(_args: object) -> int:
        raise OSError(28, "No space left on device", "/w/.fluxlab/x")

    monkeypatch.setattr(lab.cli, "_run_command", full)
    monkeypatch.delenv("LAB_DEBUG", raising=False)
    assert lab.cli.main(["progress"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("lab: /w/.fluxlab/x: cannot write it: no space left on device - hint:"), err
    # A command that fails at its third write (lab solve: origin integrated, two files written) has
    # changed things: the hint must not say it did not.
    assert "nothing was changed" not in err, err


@pytest.mark.slow
def test_progress_md_as_a_directory_is_named_and_fixable_in_check_and_progress(
    tmp_path: Path, lab_env: dict[str, str]
) -> None:
    """`lab check` said "PROGRESS.md is missing" and suggested `lab progress --done`, which then failed
    "is not a regular file": both say it is a directory and how to put the file back."""
    repo = practice(tmp_path)
    (repo / "PROGRESS.md").unlink()
    (repo / "PROGRESS.md").mkdir()
    checked = run_lab("check", "--offline", "--format", "json", "--workspace", repo, env=lab_env)
    result = next(r for r in json.loads(checked.stdout)["checks"] if r["id"] == "progress.updated")
    assert result["message"] == "PROGRESS.md is a directory, not a file", result
    assert "mv PROGRESS.md" in result["hint"] and "lab progress" not in result["hint"], result
    marked = run_lab("progress", "--done", "09", "--workspace", repo, env=lab_env)
    assert marked.returncode == 1
    assert "PROGRESS.md: is a directory, not a file - hint: " in marked.stderr, marked.stderr
    assert result["hint"] in marked.stderr
