"""The session helpers the TUI calls (lab.services.session): tag fallback, check mode, diffs before
overwriting, the origin log, pushing the learner's work, the watch stamp, and import hygiene."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from lab.core.manifests.generate import GenerateOptions
from lab.errors import RegistryError
from lab.services import session as svc
from lab.services.simulate import ProvenancedTags
from tests.support.tui_helpers import TAGS_FILE, make_session, practice_session

OUT = "clusters/dev/image-automation"


def _tags(
    tmp_path: Path, *, sandbox: bool, task: str | None = None, tags_file: Path | None = None
) -> ProvenancedTags:
    """The app's tag source for a session (`session_tags`; no sandbox runs, so nothing is elsewhere)."""
    from lab.services.tasks import load_task

    return svc.session_tags(
        svc.Session(tmp_path, load_task(task), sandbox=sandbox, kubeconfig=None), tags_file
    )


def test_sandbox_falls_back_to_the_snapshot_when_no_registry_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Port 1 on loopback refuses at once: the "no registry reachable" case without the network.
    monkeypatch.setenv("LAB_REGISTRY_MIRROR", "docker.io=127.0.0.1:1,ghcr.io=127.0.0.1:1")
    tags = _tags(tmp_path, sandbox=True)
    got = tags("library/nginx", [])
    assert tags.used_snapshot
    assert "1.25.3" in got and len(got) == len(set(got))
    with pytest.raises(RegistryError, match=r"127\.0\.0\.1:1"):
        _tags(tmp_path, sandbox=False)("library/nginx", [])


def test_a_registry_that_answers_no_is_said_not_hidden_behind_the_snapshot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The app's tags fell back to the bundled snapshot on any registry error, where `lab simulate`
    falls back only when the registry cannot be reached: a 404 or 401 is the registry's answer, which
    the reflector reports (the scan fails), so the app says it too."""
    from lab.adapters.registry import RegistryClient
    from lab.adapters.registry.client import RegistryAPIError

    def not_found(self: RegistryClient, image: str, exclusion: object) -> object:
        raise RegistryAPIError("NAME_UNKNOWN: repository name not known to registry", status=404)

    monkeypatch.setattr(RegistryClient, "scan", not_found)
    tags = _tags(tmp_path, sandbox=True)
    with pytest.raises(RegistryError, match="NAME_UNKNOWN"):
        tags("library/nginx", [])
    assert not tags.used_snapshot


def test_each_image_falls_back_to_its_own_bundled_tags(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A task with several images bundles a list per image: the app's Flux commit used the first
    image's list for all of them, so nginx in 09b-multi never moved (shop's tags hold no 1.25.x)."""
    monkeypatch.setenv("LAB_REGISTRY_MIRROR", "docker.io=127.0.0.1:1,ghcr.io=127.0.0.1:1")
    tags = _tags(tmp_path, sandbox=True, task="09b-multi")
    assert "1.25.3" in tags("nginx", []) and "1.25.3" not in tags("ghcr.io/acme/shop", [])
    assert "1.4.2" in tags("ghcr.io/acme/shop", []) and "1.4.2" not in tags("nginx", [])


def test_an_explicit_tags_file_wins(tmp_path: Path) -> None:
    tags_file = tmp_path / "tags.txt"
    tags_file.write_text("1.0.0\n\n2.0.0\n")
    tags = _tags(tmp_path, sandbox=True, tags_file=tags_file)
    assert sorted(tags("127.0.0.1:1/x", [])) == ["1.0.0", "2.0.0"]
    assert not tags.used_snapshot


def test_where_the_tags_come_from_is_one_decision(tmp_path: Path) -> None:
    from dataclasses import replace

    from lab.services.tasks import load_task

    task = load_task()
    sandbox = svc.Session(tmp_path, task, sandbox=True, kubeconfig=None)
    assert svc.tag_source(sandbox, svc.snapshot_tags_file(task)) == svc.TagSource(
        "tags come from a 2024-01-15 snapshot", "a 2024-01-15 snapshot of nginx's tags"
    )
    assert svc.tag_source(sandbox).row == "the registry; a 2024-01-15 snapshot when it cannot be reached"
    assert svc.tag_source(sandbox, tmp_path / "mine.txt").note == "tags from mine.txt"
    # A task that bundles no tags, no tags file: the registry (the Flux screen once said "a snapshot").
    bare = replace(task, meta=replace(task.meta, images=()))
    real = svc.Session(tmp_path, bare, sandbox=False, kubeconfig="/k")
    assert svc.tag_source(real).note == "tags from the registry each ImageRepository names"


def test_a_mirror_of_the_learners_own_is_named_not_the_sandbox_registry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Attached to the sandbox, the lab keeps a LAB_REGISTRY_MIRROR the learner set, and asks it: the
    app said the tags came from the sandbox registry."""
    from lab.services.tasks import load_task

    monkeypatch.setenv("LAB_REGISTRY_MIRROR", "docker.io=mirror.example:5000")
    monkeypatch.delenv("LAB_SANDBOX_WORKSPACE", raising=False)
    attached = svc.Session(tmp_path, load_task("09b"), sandbox=True, kubeconfig="/k")
    assert svc.tag_source(attached) == svc.TagSource(
        "tags from your registry mirror LAB_REGISTRY_MIRROR=docker.io=mirror.example:5000, not the sandbox "
        "registry; if it cannot be reached, from a 2024-01-15 snapshot",
        "your mirror LAB_REGISTRY_MIRROR=docker.io=mirror.example:5000; a 2024-01-15 snapshot when it "
        "cannot be reached",
    )
    monkeypatch.setenv("LAB_SANDBOX_WORKSPACE", str(tmp_path))  # the sandbox's own mirror: its registry
    assert svc.tag_source(attached).note.startswith("tags from the sandbox registry (nginx as of 2024-01-15")


def test_the_tags_are_named_by_the_tasks_own_images(tmp_path: Path) -> None:
    from lab.services.tasks import load_task

    def sandbox_cluster(task_id: str) -> svc.TagSource:
        return svc.tag_source(svc.Session(tmp_path, load_task(task_id), sandbox=True, kubeconfig="/k"))

    assert (
        sandbox_cluster("09b").row
        == "the sandbox registry: nginx as of 2024-01-15, newer tags as you push them"
    )
    assert sandbox_cluster("09b-guard").note == "tags from the sandbox registry (shop, then what you push)"
    assert sandbox_cluster("09b-multi").row == (
        "the sandbox registry: shop and 3 other images, newer tags as you push them"
    )
    guard = load_task("09b-guard")
    assert (guard.image_label, load_task("09b-multi").image_label) == ("shop", "shop")
    snapshot = svc.tag_source(
        svc.Session(tmp_path, guard, sandbox=True, kubeconfig=None), svc.snapshot_tags_file(guard)
    )
    assert snapshot.row == "a bundled snapshot of shop's tags"
    # An exercise beside the running sandbox (which serves another task): its own bundled tags.
    beside = svc.Session(tmp_path, load_task("09b-multi"), sandbox=True, kubeconfig=None)
    elsewhere = "the sandbox serves task 09b"
    assert svc.tag_source(beside, elsewhere=elsewhere).row == (
        "the tags of shop and 3 other images bundled with this task"
    )
    # The Flux screen's line says "bundled" once, and "snapshot" only of a dated one.
    assert svc.tag_source(beside, elsewhere=elsewhere).note == (
        "tags come from the ones bundled with this task for shop and 3 other images "
        "(the sandbox serves task 09b)"
    )
    nginx = svc.Session(tmp_path, load_task("09b"), sandbox=True, kubeconfig=None)
    assert svc.tag_source(nginx, elsewhere=elsewhere).row == (
        "the tags of nginx bundled with this task (as of 2024-01-15)"
    )


def test_check_mode_describes_the_sessions_task(tmp_path: Path) -> None:
    from dataclasses import replace

    from lab.services.tasks import load_task

    task = load_task()
    dated = replace(task.meta.images[0], snapshot="2030-01-01")
    other = replace(task, meta=replace(task.meta, images=(dated,)))
    mode = svc.check_mode(svc.Session(tmp_path, other, sandbox=True, kubeconfig=None))
    assert mode.describe() == "practice repo: no cluster checks; tags come from a 2030-01-01 snapshot"


@pytest.mark.slow
def test_check_mode(tmp_path: Path) -> None:
    sandbox = practice_session(tmp_path)
    mode = svc.check_mode(sandbox)
    assert mode.offline and mode.tags_file == svc.snapshot_tags_file() == TAGS_FILE
    assert "2024-01-15 snapshot" in mode.describe()
    real = svc.Session(sandbox.workspace, sandbox.task, sandbox=False, kubeconfig="/k")
    assert svc.check_mode(real) == svc.CheckMode(offline=False, tags_file=None)


@pytest.mark.slow
def test_generate_diff_shows_only_files_that_would_change(tmp_path: Path) -> None:
    ws = practice_session(tmp_path).workspace
    opts = GenerateOptions()
    assert svc.generate_diff(ws, opts) == ""
    from lab.services.generate import generate

    generate(ws, opts)
    assert svc.generate_diff(ws, opts) == ""
    policy = ws / OUT / "image-policy.yaml"
    policy.write_text(policy.read_text().replace("1.25.x", "1.26.x"))
    diff = svc.generate_diff(ws, opts)
    assert diff.startswith(f"--- a/{OUT}/image-policy.yaml\n+++ b/{OUT}/image-policy.yaml\n")
    assert "-      range: 1.26.x\n+      range: 1.25.x\n" in diff
    assert "image-repository.yaml" not in diff


@pytest.mark.slow
def test_workspace_stamp_changes_on_save_and_push_not_on_fetch(tmp_path: Path) -> None:
    ws = practice_session(tmp_path).workspace
    first = svc.workspace_stamp(ws)
    assert first == svc.workspace_stamp(ws)
    svc.origin_log(ws)  # git fetch: must not look like a change, or watch would loop
    assert svc.workspace_stamp(ws) == first
    deployment = ws / "apps/base/nginx/deployment.yaml"
    deployment.write_text(deployment.read_text() + "# saved\n")
    assert svc.workspace_stamp(ws) != first


def test_workspace_stamp_ignores_the_personal_lab_state(tmp_path: Path) -> None:
    """An unfinished quiz answer or a revealed hint (.fluxlab/session.json) is read by no check: the
    checks must not look stale for it. The quiz record the checks grade is a change."""
    from lab.core.quiz import QuizResult
    from lab.services.quiz import record_attempt, reveal_hint, save_quiz_progress

    session = make_session(tmp_path / "ws")
    ws = session.workspace
    first = svc.workspace_stamp(ws)
    save_quiz_progress(ws, "09b", [1, None])
    reveal_hint(ws, "09b", 1)
    assert (ws / ".fluxlab" / "session.json").is_file()
    assert svc.workspace_stamp(ws) == first
    record_attempt(ws, session.task, QuizResult("09b", 3, 3, True, (0, 1, 2), ()))
    assert svc.workspace_stamp(ws) != first


@pytest.mark.slow
def test_services_and_launcher_do_not_import_textual() -> None:
    code = (
        "import sys, lab.services.session, lab.tui; "
        "bad = [m for m in ('textual', 'kubernetes', 'git') if m in sys.modules]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.slow
def test_first_frame_imports_no_screen_but_home(tmp_path: Path) -> None:
    # Every module imported before the first frame delays it: the other areas' screens (and the
    # editor, whose TextArea is the heaviest) and their widgets wait until the learner opens them.
    workspace = practice_session(tmp_path).workspace
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from lab.services.session import open_session\n"
        "from lab.tui.app import LabApp\n"
        "class Painted(LabApp):\n"
        "    def on_ready(self):\n"
        "        self.exit(sorted(m for m in sys.modules if m.startswith('lab.tui.screens.')\n"
        "                         or m == 'textual.widgets._tabbed_content'))\n"
        "print(Painted(open_session(Path(sys.argv[1]))).run(headless=True, size=(80, 24)))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(workspace)], capture_output=True, text=True, cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "['lab.tui.screens.base', 'lab.tui.screens.home']"


@pytest.mark.slow
def test_reading_the_state_reads_the_git_config_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A git process each: the state is read at start-up and after every change the watcher sees.
    from lab.adapters import git

    session = practice_session(tmp_path)
    assert svc.origin_dir(session.workspace) is not None  # a local origin: its refs are in the stamp
    real = git._run
    config_reads: list[Path] = []

    def counting(args: Sequence[str], **kwargs: Any) -> Any:
        if list(args[:2]) == ["config", "--list"]:
            config_reads.append(kwargs["cwd"])
        return real(args, **kwargs)

    monkeypatch.setattr(git, "_run", counting)
    state = svc.read_state(session, fetch=False)
    assert state.git is not None and state.git.branch == "main"
    assert state.stamp == svc.watch_stamp(session.workspace, svc.origin_dir(session.workspace))
    assert len(config_reads) == 2  # read_state's one, and the line above's origin_dir


@pytest.mark.slow
def test_a_state_read_beside_a_git_write_is_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # git writes a file by creating it empty, then filling it: a read in between saw "" for PROGRESS.md,
    # with a stamp taken after git finished, so the watcher never read the file again.
    session = practice_session(tmp_path)
    progress = session.workspace / "PROGRESS.md"
    final = progress.read_text(encoding="utf-8") + "\n<!-- git finished writing -->\n"
    from lab.adapters import files

    real = files.read_regular
    torn: list[Path] = []

    def read_during_git(path: Path, *args: Any, **kwargs: Any) -> bytes:
        if path == progress and not torn:
            torn.append(path)
            progress.write_text("", encoding="utf-8")  # git's empty file, seen by this read
            data = real(path, *args, **kwargs)
            progress.write_text(final, encoding="utf-8")  # git finishes after the read
            return data
        return real(path, *args, **kwargs)

    monkeypatch.setattr(files, "read_regular", read_during_git)
    state = svc.read_state(session, fetch=False)
    assert torn, "the read went through the torn file"
    assert state.files["PROGRESS.md"] == final
    assert state.stamp == svc.watch_stamp(session.workspace, svc.origin_dir(session.workspace))


@pytest.mark.slow
def test_odd_task_files_are_read_as_missing_never_waited_for(tmp_path: Path) -> None:
    """A FIFO at PROGRESS.md would block a plain read for ever, a huge file cost every refresh, and a
    link is not the learner's own file: the state has None for each, and the read returns."""
    import os

    session = practice_session(tmp_path)
    ws = session.workspace
    (ws / "PROGRESS.md").unlink()
    os.mkfifo(ws / "PROGRESS.md")
    deployment = ws / "apps/base/nginx/deployment.yaml"
    deployment.write_bytes(b"#" * (3 * 1024 * 1024))
    outside = tmp_path / "outside.yaml"
    outside.write_text("kind: Secret\n")
    (ws / "clusters/dev/image-automation").mkdir(parents=True, exist_ok=True)
    (ws / "clusters/dev/image-automation/image-policy.yaml").symlink_to(outside)
    state = svc.read_state(session, fetch=False)
    assert state.files["PROGRESS.md"] is None
    assert state.files["apps/base/nginx/deployment.yaml"] is None
    assert state.files["clusters/dev/image-automation/image-policy.yaml"] is None


@pytest.mark.slow
def test_a_state_read_while_git_holds_the_index_says_it_is_unsettled(tmp_path: Path) -> None:
    import os
    import time

    session = practice_session(tmp_path)
    lock = session.workspace / ".git" / "index.lock"
    lock.write_bytes(b"")
    state = svc.read_state(session, fetch=False)
    now = svc.watch_stamp(session.workspace, svc.origin_dir(session.workspace))
    assert state.stamp != now, "the watcher must read it again once git is done"
    # A lock a crashed git left behind long ago is not a command at work.
    old = time.time() - 3600
    os.utime(lock, (old, old))
    assert svc.read_state(session, fetch=False).stamp == now


@pytest.mark.slow
def test_a_push_to_origin_just_after_the_fetch_is_fetched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Flux pushing between the state's fetch and its stamp: the stamp saw origin's new ref, the state
    # did not, and the watcher (whose stamp then matched) never fetched it.
    from lab.services import sync

    session = practice_session(tmp_path)
    origin = svc.origin_dir(session.workspace)
    assert origin is not None
    other = tmp_path / "flux-clone"
    subprocess.run(["git", "clone", "-q", str(origin), str(other)], check=True)
    real = sync.origin_status
    pushed: list[bool] = []

    def flux_pushes_after(*args: Any, **kwargs: Any) -> Any:
        status = real(*args, **kwargs)
        if not pushed:
            pushed.append(True)
            ident = ["-c", "user.name=fluxcdbot", "-c", "user.email=flux@example.com"]
            subprocess.run(
                ["git", *ident, "commit", "-q", "--allow-empty", "-m", "flux"], cwd=other, check=True
            )
            subprocess.run(["git", "push", "-q", "origin", "HEAD"], cwd=other, check=True)
        return status

    monkeypatch.setattr(sync, "origin_status", flux_pushes_after)
    state = svc.read_state(session, fetch=True)
    assert pushed
    assert state.git is not None and len(state.git.behind) == 1
    assert state.stamp == svc.watch_stamp(session.workspace, origin)
