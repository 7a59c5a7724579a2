"""Ctrl-C or SIGTERM during `lab sync --stash`, through the real `lab` executable: the learner's
uncommitted changes come back (or the lab says exactly where they are), never left silently in a stash."""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import pytest

from tests.support.gitutil import commit_files, git, make_repo_with_origin
from tests.support.labrun import run, run_lab

pytestmark = pytest.mark.slow

EDIT = "apps/base/nginx/deployment.yaml"
BASE = {EDIT: "spec:\n  replicas: 1\n", "README.md": "notes\n"}

# Runs the `lab` executable (argv[1]) and sends this process SIGNAL once the lab's git adapter method
# AFTER (`stash_push`, `push`) has returned: the moment a learner's Ctrl-C found the changes stashed.
_SIGNAL_AFTER = r"""
import os, runpy, signal, sys
after, sig = os.environ["AFTER"], getattr(signal, os.environ["SIGNAL"])

def profile(frame, event, arg):
    code = frame.f_code
    if event == "return" and code.co_name == after and code.co_filename.endswith(os.path.join("lab", "adapters", "git.py")):
        sys.setprofile(None)
        os.kill(os.getpid(), sig)

sys.setprofile(profile)
launcher = sys.argv.pop(1)
sys.argv[0] = launcher
runpy.run_path(launcher, run_name="__main__")
"""


@pytest.mark.parametrize(
    ("after", "sig"), [("stash_push", "SIGINT"), ("push", "SIGINT"), ("stash_push", "SIGTERM")]
)
def test_an_interrupted_sync_gives_the_uncommitted_changes_back(
    tmp_path: Path, lab_cmd: list[str], lab_env: dict[str, str], after: str, sig: str
) -> None:
    if len(lab_cmd) != 1:
        pytest.skip("needs the installed `lab` console script")
    work, _origin = make_repo_with_origin(tmp_path, BASE)
    commit_files(work, {"README.md": "notes\nmore\n"}, "More notes")
    edited = BASE[EDIT] + "# my precious edit\n"
    (work / EDIT).write_text(edited)
    proc = run(
        [sys.executable, "-c", _SIGNAL_AFTER, *lab_cmd, "sync", "--stash"],
        {**lab_env, "AFTER": after, "SIGNAL": sig},
        work,
    )
    assert proc.returncode == 128 + getattr(signal, sig), (proc.stdout, proc.stderr)
    assert (work / EDIT).read_text() == edited
    assert git(work, "stash", "list") == ""
    assert "interrupted" in proc.stderr and "your uncommitted changes are back" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_leftover_lab_sync_stash_is_named_with_the_command_to_restore_it(
    tmp_path: Path, lab_env: dict[str, str]
) -> None:
    work, _origin = make_repo_with_origin(tmp_path, BASE)
    (work / EDIT).write_text(BASE[EDIT] + "# my precious edit\n")
    git(work, "stash", "push", "-q", "-m", "lab sync: your uncommitted changes")
    status = run_lab("sync", "--status", env=lab_env, cwd=work)
    assert "stash@{0}" in status.stdout and "git stash pop" in status.stdout, status.stdout
