"""lab.services.edit: what the app's editor may open and how it saves."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lab.errors import LabError
from lab.services.edit import (
    MAX_EDIT_BYTES,
    FileChangedOnDisk,
    disk_diff,
    editable_files,
    open_file,
    save_file,
)
from tests.support.tui_helpers import practice_session


def test_open_and_save_round_trip_keeps_mode_and_is_atomic(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    (ws / "apps").mkdir(parents=True)
    target = ws / "apps" / "deploy.yaml"
    target.write_text("a: 1\n", encoding="utf-8")
    target.chmod(0o640)
    opened = open_file(ws, "./apps//deploy.yaml")
    assert (opened.rel, opened.text) == ("apps/deploy.yaml", "a: 1\n")
    saved = save_file(ws, opened, "a: 2\n")
    assert target.read_text(encoding="utf-8") == "a: 2\n"
    assert target.stat().st_mode & 0o777 == 0o640
    assert saved.digest != opened.digest and saved.text == "a: 2\n"
    assert [p.name for p in (ws / "apps").iterdir()] == ["deploy.yaml"]  # no temporary file left


def test_a_save_into_a_repository_that_now_works_on_another_task_is_refused(tmp_path: Path) -> None:
    """A buffer of task 09b, unsaved; in a shell `lab sandbox reset --task 09b-staging`: ctrl+s only said
    the file "was deleted since you opened it", and `y` wrote 09b's file into the 09b-staging repository
    (twalk finding 3). Refused, even when told to overwrite, saying which task the repository now works on;
    the file on disk is left as it is."""
    ws = tmp_path / "ws"
    (ws / ".fluxlab").mkdir(parents=True)
    (ws / ".fluxlab" / "task.json").write_text('{"task": "09b"}\n', encoding="utf-8")
    (ws / "deploy.yaml").write_text("replicas: 1\n", encoding="utf-8")
    opened = open_file(ws, "deploy.yaml")
    (ws / ".fluxlab" / "task.json").write_text('{"task": "09b-staging"}\n', encoding="utf-8")
    (ws / "deploy.yaml").unlink()
    for force in (False, True):
        with pytest.raises(LabError) as caught:
            save_file(ws, opened, "replicas: 2\n", force=force)
        said = str(caught.value)
        assert not isinstance(caught.value, FileChangedOnDisk), said
        assert "now works on task 09b-staging, not 09b" in said and "editor" in said, said
        assert not (ws / "deploy.yaml").exists()
    # The same task all along: saving works as before.
    (ws / ".fluxlab" / "task.json").write_text('{"task": "09b"}\n', encoding="utf-8")
    save_file(ws, opened, "replicas: 2\n", force=True)
    assert (ws / "deploy.yaml").read_text(encoding="utf-8") == "replicas: 2\n"


def test_a_new_path_opens_empty_and_the_first_save_creates_it(tmp_path: Path) -> None:
    opened = open_file(tmp_path, "clusters/dev/new.yaml")
    assert opened.text == "" and opened.digest is None
    save_file(tmp_path, opened, "kind: X\n")
    assert (tmp_path / "clusters/dev/new.yaml").read_text(encoding="utf-8") == "kind: X\n"


def test_a_change_on_disk_since_opening_is_not_overwritten_unless_forced(tmp_path: Path) -> None:
    path = tmp_path / "f.yaml"
    path.write_text("one\n", encoding="utf-8")
    opened = open_file(tmp_path, "f.yaml")
    path.write_text("someone else\n", encoding="utf-8")
    with pytest.raises(FileChangedOnDisk) as caught:
        save_file(tmp_path, opened, "mine\n")
    assert caught.value.current == "someone else\n"
    assert path.read_text(encoding="utf-8") == "someone else\n"
    assert "-someone else" in disk_diff(opened, "mine\n", caught.value.current)
    save_file(tmp_path, opened, "mine\n", force=True)
    assert path.read_text(encoding="utf-8") == "mine\n"
    # Created meanwhile (opened as new) and deleted meanwhile are changes too.
    new = open_file(tmp_path, "g.yaml")
    (tmp_path / "g.yaml").write_text("theirs\n", encoding="utf-8")
    with pytest.raises(FileChangedOnDisk):
        save_file(tmp_path, new, "mine\n")
    path.unlink()
    with pytest.raises(FileChangedOnDisk, match="was deleted"):
        save_file(tmp_path, opened, "x\n")


@pytest.mark.parametrize(
    ("rel", "message"),
    [
        ("../outside.yaml", "climbs out"),
        ("/etc/passwd", "not a path inside"),
        ("", "not a path inside"),
        (".git/config", "git's own file"),
        ("link-out.yaml", "leads out of the repository"),
        ("dir-out/passwd", "leads out of the repository"),
        ("link-git", "git's own files"),
        ("apps", "is a directory"),
        ("fifo.yaml", "not a regular file"),
        ("big.yaml", "too big to edit"),
        ("latin1.yaml", "not UTF-8"),
    ],
)
def test_refused_paths(tmp_path: Path, rel: str, message: str) -> None:
    ws = tmp_path / "ws"
    (ws / ".git").mkdir(parents=True)
    (ws / ".git" / "config").write_text("[core]\n", encoding="utf-8")
    (ws / "apps").mkdir()
    secret = tmp_path / "secret.yaml"
    secret.write_text("token: x\n", encoding="utf-8")
    (ws / "link-out.yaml").symlink_to(secret)
    (ws / "dir-out").symlink_to(tmp_path)
    (ws / "link-git").symlink_to(ws / ".git" / "config")
    os.mkfifo(ws / "fifo.yaml")
    (ws / "big.yaml").write_bytes(b"a" * (MAX_EDIT_BYTES + 1))
    (ws / "latin1.yaml").write_bytes("caf\xe9\n".encode("latin-1"))
    with pytest.raises(LabError, match=message):
        open_file(ws, rel)
    assert secret.read_text(encoding="utf-8") == "token: x\n"


def test_saving_through_a_link_swapped_out_of_the_workspace_is_refused(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "f.yaml").write_text("a\n", encoding="utf-8")
    opened = open_file(ws, "f.yaml")
    outside = tmp_path / "outside.yaml"
    outside.write_text("a\n", encoding="utf-8")
    (ws / "f.yaml").unlink()
    (ws / "f.yaml").symlink_to(outside)
    with pytest.raises(LabError, match="leads out"):
        save_file(ws, opened, "b\n", force=True)
    assert outside.read_text(encoding="utf-8") == "a\n"


def test_a_symlink_inside_the_workspace_is_followed_and_written_at_its_target(tmp_path: Path) -> None:
    (tmp_path / "real.yaml").write_text("a\n", encoding="utf-8")
    (tmp_path / "alias.yaml").symlink_to("real.yaml")
    opened = open_file(tmp_path, "alias.yaml")
    save_file(tmp_path, opened, "b\n")
    assert (tmp_path / "alias.yaml").is_symlink()
    assert (tmp_path / "real.yaml").read_text(encoding="utf-8") == "b\n"


def test_names_with_control_characters_are_shown_escaped(tmp_path: Path) -> None:
    opened = open_file(tmp_path, "evil\x1b[31m.yaml")
    assert opened.display == "evil\\x1b[31m.yaml"
    with pytest.raises(LabError) as caught:
        open_file(tmp_path, "../\x1b]0;title\x07")
    assert "\x1b" not in str(caught.value)


@pytest.mark.slow
def test_editable_files_lists_the_task_files_once_then_the_rest(tmp_path: Path) -> None:
    session = practice_session(tmp_path)
    files = editable_files(session.workspace, session.task.id)
    rels = [f.rel for f in files]
    assert len(rels) == len(set(rels))
    declared = [f.rel for f in files if f.declared]
    assert declared[0] == "PROGRESS.md" or "PROGRESS.md" in declared
    assert "clusters/dev/image-automation/image-policy.yaml" in declared
    assert session.task.meta.quiz_record not in declared
    assert rels[: len(declared)] == declared
    assert not any(r.startswith(".git/") for r in rels)
    assert "README.md" in rels
    assert not next(f for f in files if f.rel.endswith("image-policy.yaml")).exists
