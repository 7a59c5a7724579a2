"""Odd files in a learner's tree, through the real `lab`: FIFOs and devices are refused, not read
(a read would block or never end), trees ~1,100 directories deep are walked without overflowing
Python's stack, and a symlinked directory never leads a rewrite out of the repository."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from lab.adapters.files import read_regular
from tests.support.labrun import run_lab
from tests.support.paths import ROOT

STARTER = ROOT / "tasks" / "09b" / "starter"
DEPLOYMENT = "apps/base/nginx/deployment.yaml"
MARKED = 'image: nginx:1.0 # {"$imagepolicy": "flux-system:nginx"}\n'


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = tmp_path / "gitops-lab"
    shutil.copytree(STARTER, path)
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=path, check=True)
    return path


def remove_chain(top: Path) -> None:
    """Remove a `d/d/d/...` chain bottom-up without recursion (shutil.rmtree and pytest's temp-dir
    cleanup recurse and overflow on it)."""
    here = os.getcwd()
    os.chdir(top)
    depth = 0
    try:
        while os.path.isdir("d") and not os.path.islink("d"):
            os.chdir("d")
            depth += 1
        for _ in range(depth):
            for name in os.listdir("."):
                os.unlink(name)
            os.chdir("..")
            os.rmdir("d")
    finally:
        os.chdir(here)


def deep_dir(base: Path, depth: int = 1100) -> Path:
    """A chain of `depth` directories, made relative step by step (absolute paths get too long)."""
    here = os.getcwd()
    os.chdir(base)
    try:
        for _ in range(depth):
            os.mkdir("d")
            os.chdir("d")
        Path("x.yaml").write_text(MARKED)
        return Path(os.getcwd())
    finally:
        os.chdir(here)


def test_read_regular_refuses_what_is_not_a_regular_file(tmp_path: Path) -> None:
    fifo = tmp_path / "tags.yaml"
    os.mkfifo(fifo)
    for path, what in (
        (fifo, "a FIFO"),
        (Path("/dev/zero"), "a character device"),
        (tmp_path, "a directory"),
    ):
        with pytest.raises(OSError) as info:
            read_regular(path, 1024)
        assert info.value.strerror == what
    big = tmp_path / "big"
    big.write_bytes(b"x" * 2048)
    with pytest.raises(OSError, match="larger than 1024 bytes"):
        read_regular(big, 1024)
    assert read_regular(big, 2048) == b"x" * 2048
    # truncate: the head of a larger file, all of a smaller one; what is not a file is still refused.
    big.write_bytes(b"a" * 1000 + b"b" * 3 * (1 << 20))
    assert read_regular(big, 1002, truncate=True) == b"a" * 1000 + b"bb"
    assert read_regular(big, 4 << 20, truncate=True) == big.read_bytes()
    with pytest.raises(OSError, match="a FIFO"):
        read_regular(fifo, 1024, truncate=True)


@pytest.mark.slow
def test_fifo_in_the_tree_does_not_block_mark_or_check(repo: Path, lab_env: dict[str, str]) -> None:
    os.mkfifo(repo / "apps" / "pipe.yaml")
    marked = run_lab("mark", DEPLOYMENT, "--policy", "flux-system:nginx", env=lab_env, cwd=repo)
    assert marked.returncode == 0, marked.stderr
    assert "marked apps/base/nginx/deployment.yaml:18" in marked.stdout
    checked = run_lab("check", "--offline", "--format", "json", env=lab_env, cwd=repo)
    assert checked.returncode in (0, 1), checked.stderr
    assert "crashed" not in checked.stdout
    # Marking the FIFO itself: refused at once, saying what it is (it said "no such file").
    fifo = run_lab("mark", "apps/pipe.yaml", "--policy", "flux-system:nginx", env=lab_env, cwd=repo)
    assert fifo.returncode == 1
    assert fifo.stderr.startswith("lab: apps/pipe.yaml: is a FIFO, not a regular file - hint: "), fifo.stderr


@pytest.mark.slow
def test_fifos_where_the_lab_keeps_its_own_files_do_not_block(repo: Path, lab_env: dict[str, str]) -> None:
    """The quiz record and the `.git` link are the lab's and git's files, but they sit in the learner's
    tree: a FIFO there is read as no record / no repository, at once."""
    (repo / ".fluxlab").mkdir()
    os.mkfifo(repo / ".fluxlab" / "quiz.json")
    answers = ",".join(["1"] * 7)
    quiz = run_lab("quiz", "-w", repo, "--answers", answers, env=lab_env, cwd=repo, timeout=30)
    assert quiz.returncode == 1 and "recorded in .fluxlab/quiz.json" in quiz.stdout, quiz.stderr
    assert (repo / ".fluxlab" / "quiz.json").is_file()  # the FIFO was replaced by the record

    linked = repo.parent / "linked"
    linked.mkdir()
    os.mkfifo(linked / ".git")
    status = run_lab("sync", "--status", "-w", linked, env=lab_env, cwd=linked, timeout=30)
    assert status.returncode != 0
    assert status.stderr.endswith(
        "/linked/.git: a FIFO - hint: a repository's .git is a directory or a one-line gitdir: file; re-clone it\n"
    )
    assert status.stderr.count("\n") == 1, status.stderr


@pytest.mark.slow
@pytest.mark.parametrize("source", ["fifo", "/dev/zero"])
def test_tags_file_must_be_a_regular_file(
    tmp_path: Path, repo: Path, lab_env: dict[str, str], source: str
) -> None:
    path = source
    if source == "fifo":
        os.mkfifo(tmp_path / "tags.txt")
        path = str(tmp_path / "tags.txt")
    result = run_lab("policy", "--semver", "1.25.x", "--tags-file", path, env=lab_env, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith(f"lab: cannot read tags file {path}: a ")
    assert result.stderr.count("\n") == 1
    # check and grade refuse it before any work, saying what it is (they said "not found").
    what = "a FIFO" if source == "fifo" else "a character device"
    for command in (["check", "--offline"], ["grade", "--offline", str(repo)]):
        refused = run_lab(*command, "--tags-file", path, env=lab_env, cwd=repo)
        assert refused.returncode == 2, refused.stderr
        assert refused.stderr.startswith(f"lab: cannot read tags file {path}: {what} - hint: "), (
            refused.stderr
        )


@pytest.fixture
def deep_leaf(repo: Path) -> Iterator[Path]:
    leaf = deep_dir(repo / "apps")
    yield leaf
    remove_chain(repo / "apps")


@pytest.mark.slow
def test_a_tree_1100_directories_deep(repo: Path, deep_leaf: Path, lab_env: dict[str, str]) -> None:
    leaf = deep_leaf
    rel = os.path.relpath(leaf / "x.yaml", repo)
    setters = run_lab("setters", "apps", "--set", "flux-system:nginx=nginx:1.25.4", env=lab_env, cwd=repo)
    assert setters.returncode == 0, setters.stderr[-500:]
    assert "1.25.4" in (leaf / "x.yaml").read_text()
    marked = run_lab("mark", DEPLOYMENT, "--policy", "flux-system:nginx", env=lab_env, cwd=repo)
    assert marked.returncode == 0, marked.stderr[-500:]
    checked = run_lab("check", "--offline", "--format", "json", env=lab_env, cwd=repo)
    assert checked.returncode in (0, 1), checked.stderr[-500:]
    assert "crashed" not in checked.stdout
    migrated = run_lab("migrate", "-f", "apps", "--dry-run", env=lab_env, cwd=repo)
    assert migrated.returncode in (0, 1) and "internal error" not in migrated.stderr, migrated.stderr[-500:]
    from lab.services.session import workspace_stamp

    assert any(path.endswith("x.yaml") for path, _, _ in workspace_stamp(repo))
    assert rel.split("/")[0] == "apps"


@pytest.mark.slow
def test_symlinked_directory_cannot_lead_setters_or_mark_outside(
    repo: Path, tmp_path: Path, lab_env: dict[str, str]
) -> None:
    outside = tmp_path / "outside"
    (repo / "apps").rename(outside)
    (repo / "apps").symlink_to(outside)
    before = (outside / "base/nginx/deployment.yaml").read_bytes()
    (outside / "base/nginx/deployment.yaml").write_bytes(
        before.replace(b"image: nginx:1.25.0", b'image: nginx:1.25.0 # {"$imagepolicy": "flux-system:nginx"}')
    )
    marked = (outside / "base/nginx/deployment.yaml").read_bytes()
    for path in ("apps", "apps/base", str(repo / "apps")):
        result = run_lab("setters", path, "--set", "flux-system:nginx=nginx:1.25.9", env=lab_env, cwd=repo)
        assert result.returncode != 0, (path, result.stdout)
        assert (outside / "base/nginx/deployment.yaml").read_bytes() == marked, path
    whole = run_lab("setters", ".", "--set", "flux-system:nginx=nginx:1.25.9", env=lab_env, cwd=repo)
    assert whole.returncode == 0
    assert (outside / "base/nginx/deployment.yaml").read_bytes() == marked
    # `lab mark` on a file under the link: the file's real folder lies outside any repository, which
    # must not make that folder the workspace (it did, and the file outside was marked).
    (outside / "base/nginx/deployment.yaml").write_bytes(before)
    for cwd, target in (
        (repo, DEPLOYMENT),
        (tmp_path, str(repo / DEPLOYMENT)),
        (repo / "clusters", f"../{DEPLOYMENT}"),
    ):
        result = run_lab("mark", target, "--policy", "flux-system:nginx", env=lab_env, cwd=cwd)
        assert result.returncode == 1, (target, result.stdout)
        assert result.stderr.startswith(f"lab: {target}: is outside the workspace"), result.stderr
        assert (outside / "base/nginx/deployment.yaml").read_bytes() == before, target


@pytest.mark.slow
@pytest.mark.parametrize(
    "text",
    [
        "apiVersion: v1\nkind: [unclosed\n  - : :\n",
        "a: &x\n  b: *y\n",
        "a: 'unterminated\n",
        "\ttab: 1\n",
        "a: b: c\n",
    ],
)
def test_invalid_yaml_fails_the_check_that_reads_it_with_file_and_line(
    repo: Path, lab_env: dict[str, str], text: str
) -> None:
    import json

    assert run_lab("generate", env=lab_env, cwd=repo).returncode == 0
    assert run_lab("mark", DEPLOYMENT, "--policy", "flux-system:nginx", env=lab_env, cwd=repo).returncode == 0
    (repo / "clusters/dev/flux-system/gotk-sync.yaml").write_text(text)
    result = run_lab("check", "--offline", "--format", "json", env=lab_env, cwd=repo)
    assert result.returncode == 1, result.stderr
    checks = {c["id"]: c for c in json.loads(result.stdout)["checks"]}
    assert "crashed" not in result.stdout
    sync = checks["sync.included"]
    assert sync["status"] == "fail"
    assert sync["message"].startswith("clusters/dev/flux-system/gotk-sync.yaml:")
