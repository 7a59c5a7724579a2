"""Shared fixtures. Tests use real git, real servers on 127.0.0.1 and the real `lab` executable."""

from __future__ import annotations

import os

import pytest

from tests.support.paths import lab_executable


@pytest.fixture(autouse=True)
def _isolated_git_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Git in tests must not read the developer's ~/.gitconfig nor the system one."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Learner")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "learner@example.com")
    monkeypatch.setenv("GIT_COMMITTER_NAME", "Learner")
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "learner@example.com")
    monkeypatch.delenv("KUBECONFIG", raising=False)


@pytest.fixture
def lab_cmd() -> list[str]:
    return lab_executable()


@pytest.fixture
def lab_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("LAB_DEBUG", None)
    env["NO_COLOR"] = "1"
    return env
