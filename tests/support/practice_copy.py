"""Practice repositories made once and copied per test, for tests whose subject is what comes after.

`practice_template` + `copy_practice`: the real `lab init` (and `lab solve`) once per module, a copy per test.
A copy is the same repository and origin side by side, with `remote.origin.url` pointed at the copied
origin, the one absolute path in them. Tests that check `lab init` or `lab solve` themselves still run them.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.support.gitutil import git
from tests.support.labrun import run_lab


def isolated_git_env(home: Path) -> dict[str, str]:
    """What every test's environment sets (tests/conftest.py): git and lab read nothing of the developer's."""
    return {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "Learner",
        "GIT_AUTHOR_EMAIL": "learner@example.com",
        "GIT_COMMITTER_NAME": "Learner",
        "GIT_COMMITTER_EMAIL": "learner@example.com",
    }


def practice_template(factory: pytest.TempPathFactory, name: str, *steps: str) -> Path:
    """`lab init DIR`, then `lab STEP DIR` for each of `steps` (e.g. "solve"), in a directory of its own,
    with the environment a test's `lab_env` gives. Returns DIR; its origin is DIR-origin.git next to it."""
    root = factory.mktemp("practice-template")
    home = root / "home"
    home.mkdir()
    env = {**os.environ, **isolated_git_env(home), "NO_COLOR": "1"}
    env.pop("LAB_DEBUG", None)
    env.pop("KUBECONFIG", None)
    ws = root / name
    run_lab("init", str(ws), env=env, cwd=root, ok=True)
    for step in steps:
        run_lab(step, str(ws), env=env, cwd=root, ok=True)
    return ws


def copy_practice(template: Path, dest: Path) -> Path:
    """A copy of `template` and its origin at `dest` and `dest`-origin.git, origin pointing at the copy."""
    origin = dest.parent / f"{dest.name}-origin.git"
    shutil.copytree(template, dest, symlinks=True)
    shutil.copytree(template.parent / f"{template.name}-origin.git", origin, symlinks=True)
    git(dest, "remote", "set-url", "origin", str(origin))
    return dest
