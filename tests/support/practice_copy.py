"""Practice repositories made once and copied per test, for tests whose subject is what comes after.

`practice_template` + `copy_practice`: the real `lab init` (and `lab solve`) once per process, a copy per test.
`from_template`: a repository a helper makes (in-process `init_practice_repo`, or plain git) once per
process, a copy per test. A copy is the same repository and origin side by side, with `remote.origin.url`
pointed at the copied origin, the one absolute path in them. Tests that check `lab init`, `lab solve` or
`init_practice_repo` themselves still run them.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Callable
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


def practice_template(
    factory: pytest.TempPathFactory, name: str, *steps: str, task: str | None = None
) -> Path:
    """`lab init DIR` (`--task TASK` when given), then `lab STEP DIR` for each of `steps` (e.g. "solve"),
    in a directory of its own, with the environment a test's `lab_env` gives. Returns DIR; its origin is
    DIR-origin.git next to it. Made once per process for each name, task, steps (and commit identity and
    dates): every module that asks for the solved repository copies the same one instead of running `lab
    init` and `lab solve` again."""
    key = (name, f"task={task}", *steps, *(os.environ.get(var, "") for var in COMMIT_ENV))
    if key not in _practices:
        _practices[key] = _practice(factory, name, *steps, task=task)
    return _practices[key]


def _practice(factory: pytest.TempPathFactory, name: str, *steps: str, task: str | None) -> Path:
    root = factory.mktemp("practice-template")
    home = root / "home"
    home.mkdir()
    env = {**os.environ, **isolated_git_env(home), "NO_COLOR": "1"}
    env.pop("LAB_DEBUG", None)
    env.pop("KUBECONFIG", None)
    ws = root / name
    run_lab("init", str(ws), *(("--task", task) if task else ()), env=env, cwd=root, ok=True)
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


#: What a commit records of the environment: a template made under other values is not the same repository.
COMMIT_ENV = (
    "GIT_AUTHOR_NAME",
    "GIT_AUTHOR_EMAIL",
    "GIT_AUTHOR_DATE",
    "GIT_COMMITTER_NAME",
    "GIT_COMMITTER_EMAIL",
    "GIT_COMMITTER_DATE",
)
_templates: dict[tuple[str, ...], tuple[Path, Path]] = {}
_practices: dict[tuple[str, ...], Path] = {}


def from_template(key: tuple[str, ...], build: Callable[[Path], tuple[Path, Path]], into: Path) -> Path:
    """`build(root)` makes a repository and its origin, each directly in `root`, and returns both; it runs
    once per `key` (and commit identity and dates) in this process. Each call copies the two into `into`
    under the same names, points the copy's origin at the copied origin (as `build` named it: absolute,
    or as given), and returns the copied repository."""
    full = (*key, *(os.environ.get(name, "") for name in COMMIT_ENV))
    if full not in _templates:
        root = Path(tempfile.mkdtemp(prefix="repo-template-"))
        atexit.register(shutil.rmtree, root, ignore_errors=True)
        _templates[full] = build(root)
    ws, origin = _templates[full]
    root = ws.parent
    assert origin.parent == root, (ws, origin)
    copied_ws, copied_origin = into / ws.name, into / origin.name
    shutil.copytree(ws, copied_ws, symlinks=True)
    shutil.copytree(origin, copied_origin, symlinks=True)
    git(copied_ws, "remote", "set-url", "origin", str(copied_origin))
    return copied_ws
