"""The git adapter's shortcuts give what the plain git commands give: the object reader (one
`cat-file --batch-command` for a run) against ls-tree/rev-parse, the remote list and URL from the config
already read, and the skipped no-op fetch from a local origin against a real fetch."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lab.adapters.git import Workspace, _ObjectReader, open_workspace
from tests.support.gitutil import git, make_repo, make_repo_with_origin, push_from_other_clone

pytestmark = pytest.mark.slow


def _both(work: Path) -> tuple[Workspace, Workspace]:
    """(plain, with the object reader) on the same repository."""
    reader = open_workspace(work)
    reader.keep_reader()
    return open_workspace(work), reader


def _hostile_tree(tmp_path: Path) -> Path:
    secret = tmp_path / "secret.txt"
    secret.write_text("outside\n")
    work = make_repo(
        tmp_path / "w",
        {
            "apps/a.yaml": "a: 1\n",
            "apps/deep/er/b.yaml": "b: 2\n",
            "apps/big.bin": b"x" * 5000,
            "apps/run.sh": "#!/bin/sh\n",
            "zz.txt": "last\n",
            "apps-other/c.yaml": "c: 3\n",
        },
    )
    (work / "apps" / "run.sh").chmod(0o755)
    os.symlink(secret, work / "apps" / "escape.yaml")
    os.symlink("a.yaml", work / "apps" / "inner.yaml")
    sub = make_repo(tmp_path / "sub", {"s.txt": "s\n"})
    git(work, "update-index", "--add", "--cacheinfo", f"160000,{git(sub, 'rev-parse', 'HEAD')},apps/module")
    git(work, "add", "-A")
    git(work, "commit", "-q", "-m", "hostile")
    return work


@pytest.mark.parametrize(
    "under", ["", "apps", "apps/", "apps/deep", "apps/a.yaml", "apps/module", "ap", "nope/x"]
)
def test_reader_reads_trees_as_ls_tree_does(tmp_path: Path, under: str) -> None:
    plain, reader = _both(_hostile_tree(tmp_path))
    try:
        for max_bytes in (100, 1 << 20):
            want = plain.read_tree_at("HEAD", under, max_bytes=max_bytes)
            got = reader.read_tree_at("HEAD", under, max_bytes=max_bytes)
            assert list(got.items()) == list(want.items())
            assert got.symlinks == want.symlinks
            assert got.skipped == want.skipped
        assert reader._reader is not None  # the shortcut answered, not the fallback
    finally:
        reader.close()


def test_reader_rev_parse_and_missing_refs(tmp_path: Path) -> None:
    work = make_repo(tmp_path / "w")
    git(work, "tag", "-a", "-m", "t", "v1")
    plain, reader = _both(work)
    try:
        for ref in (
            "HEAD",
            "main",
            "refs/heads/main",
            "v1",
            "refs/tags/v1",
            "nope",
            "refs/remotes/origin/main",
        ):
            assert reader.rev_parse(ref) == plain.rev_parse(ref), ref
        assert reader.show_file("HEAD", "README.md") == b"practice\n"
        # An unknown revision: ls-tree runs and its error is the one raised, as without the reader.
        with pytest.raises(Exception) as want:
            plain.read_tree_at("nope", "apps")
        with pytest.raises(type(want.value)) as got:
            reader.read_tree_at("nope", "apps")
        assert str(got.value) == str(want.value)
    finally:
        reader.close()
    # Closed: the workspace still works, one git per read again.
    assert reader.rev_parse("HEAD") == plain.rev_parse("HEAD")
    assert reader._reader is None


def test_reader_asks_git_once_per_object_id(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    work = _hostile_tree(tmp_path)
    plain, reader = _both(work)
    asked: list[tuple[str, str]] = []
    real = _ObjectReader._ask

    def counting(self: _ObjectReader, command: str, name: str, timeout: float) -> object:
        asked.append((command, name))
        return real(self, command, name, timeout)

    monkeypatch.setattr(_ObjectReader, "_ask", counting)
    try:
        first = reader.read_tree_at("HEAD", "apps")
        once = list(asked)
        git(work, "commit", "-q", "--allow-empty", "-m", "same tree")
        again = reader.read_tree_at("HEAD", "apps")  # a new commit, the same tree and files
        assert list(again.items()) == list(first.items()) == list(plain.read_tree_at("HEAD", "apps").items())
        # Names (refs, expressions) are asked again; object ids are answered from what git said.
        assert asked[len(once) :] == [("contents", "HEAD^{tree}")]
        assert [n for _, n in once if n != "HEAD^{tree}"]  # the first read did ask for objects by id
    finally:
        reader.close()


def test_remotes_and_url_from_the_config(tmp_path: Path) -> None:
    work, origin = make_repo_with_origin(tmp_path)
    ws = open_workspace(work)
    git(work, "remote", "add", "Upper.Case", "../elsewhere")
    git(work, "config", "remote.fetchonly.fetch", "+refs/heads/*:refs/remotes/fetchonly/*")
    assert ws.remotes() == git(work, "remote").split()
    assert ws.remote_url("origin") == str(origin)
    assert ws.remote_url("Upper.Case") == str((work / "../elsewhere").resolve())
    git(work, "remote", "set-url", "origin", str(tmp_path / "moved.git"))
    assert ws.remote_url("origin") == str(tmp_path / "moved.git")  # .git/config changed: read again


def test_fetch_shortcut_only_when_nothing_would_change(tmp_path: Path) -> None:
    work, origin = make_repo_with_origin(tmp_path, {"a.txt": "1\n"})
    ws = open_workspace(work)
    assert ws._fetch_changes_nothing("origin")
    ws.fetch()  # nothing to do, nothing done
    # origin moved on: a real fetch brings it.
    sha = push_from_other_clone(origin, tmp_path, {"a.txt": "2\n"})
    assert not ws._fetch_changes_nothing("origin")
    ws.fetch()
    assert ws.remote_sha("main") == sha
    assert ws._fetch_changes_nothing("origin")
    # A branch deleted on origin: the fetch prunes it (packed refs on our side, too).
    git(tmp_path / "other-clone", "push", "-q", "origin", "HEAD:refs/heads/topic")
    ws.fetch()
    assert ws.remote_sha("topic") == sha
    git(work, "pack-refs", "--all")
    git(origin, "branch", "-D", "topic")
    assert not ws._fetch_changes_nothing("origin")
    ws.fetch()
    assert ws.remote_sha("topic") is None
    assert ws._fetch_changes_nothing("origin")
    # origin/HEAD (a symbolic ref) is left alone by fetch --prune, and by the shortcut.
    git(work, "remote", "set-head", "origin", "main")
    assert ws._fetch_changes_nothing("origin")


def test_fetch_shortcut_never_for_untrusted_or_odd_origins(tmp_path: Path) -> None:
    work, origin = make_repo_with_origin(tmp_path)
    assert not open_workspace(work, untrusted=True)._fetch_changes_nothing("origin")
    ws = open_workspace(work)
    (origin / "refs" / "heads" / "main.lock").write_text("x\n")
    assert not ws._fetch_changes_nothing("origin")  # a ref being written: let git decide
    (origin / "refs" / "heads" / "main.lock").unlink()
    git(origin, "symbolic-ref", "refs/heads/alias", "refs/heads/main")
    assert not ws._fetch_changes_nothing("origin")
    git(origin, "symbolic-ref", "--delete", "refs/heads/alias")
    git(work, "remote", "set-url", "origin", "https://example.invalid/repo.git")
    assert not ws._fetch_changes_nothing("origin")
