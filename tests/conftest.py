"""Shared fixtures. Tests use real git, real servers on 127.0.0.1 and the real `lab` executable."""

from __future__ import annotations

import gc
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import processguard
from tests.support.paths import lab_executable
from tests.support.practice_copy import isolated_git_env

processguard.install()

# Bytecode is cached as in any Python run (__pycache__ is git-ignored), even where the environment says
# PYTHONDONTWRITEBYTECODE=1: with it, every xdist worker rewrote and compiled every test module at
# collection (~10 CPU-s each), and every `lab` the tests start compiled lab's modules from source
# (`lab check --offline`: 0.5 CPU-s; 0.2 with them cached). For this process and the ones it starts.
sys.dont_write_bytecode = False
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)


_IN_MEMORY = os.path.join("/dev/shm", f"fluxlab-tests-{os.getuid()}")
#: TMPDIR as the suite was started with ("" when unset): a place the caller chose is kept. An xdist
#: worker inherits the controller's choice, this file's own.
CALLER_TMPDIR = "" if os.environ.get("TMPDIR") == _IN_MEMORY else os.environ.get("TMPDIR", "")


def memory_temp_usable(shm: str = "/dev/shm") -> bool:
    """Whether /dev/shm can take the suite's temporary files: Linux, writable, room for a run (~120 MB
    kept, more at a peak; a container's default /dev/shm is 64 MB) and not mounted noexec (tests run
    scripts they write there: hooks, fake programs, whose not running must mean something)."""
    if not sys.platform.startswith("linux") or not os.path.isdir(shm):
        return False
    if not os.access(shm, os.W_OK | os.X_OK):
        return False
    try:
        fs = os.statvfs(shm)
    except OSError:
        return False
    return fs.f_bavail * fs.f_frsize >= 1 << 30 and not fs.f_flag & os.ST_NOEXEC


def _temp_in_memory() -> None:
    """Temporary files in memory (/dev/shm) where Linux has it and TMPDIR names no other place: tmp_path,
    and the clones and scratch directories of git and of every `lab` started (they read TMPDIR). The
    suite makes and removes tens of thousands of small files and directories (repositories and their
    copies); on an ext4 /tmp each costs the kernel ~5x what it costs in tmpfs (test_dev_check: 13.3 ->
    7.7 s of system CPU)."""
    if CALLER_TMPDIR or not memory_temp_usable():
        return
    root = _IN_MEMORY
    try:
        os.makedirs(root, mode=0o700, exist_ok=True)
    except OSError:
        return
    os.environ["TMPDIR"] = root
    tempfile.tempdir = root


_temp_in_memory()

# The cyclic garbage collector's passes were a fifth of a Pilot test's CPU (4.6 of 29 CPU-s on 13 tests of
# test_tui_keys, 17 full passes): a worker's heap holds every module imported (Textual, Rich, Pygments'
# lexers, the lab) and the caches the tests fill, and Textual's frames allocate enough to start a pass
# every 700 new objects. A pass every 10,000, as the lab's own executable has (lab.cli.main): the app
# the tests drive runs as a learner's does. Cycles are still collected. This process and its xdist
# workers only: each `lab` the tests start sets its own.
gc.set_threshold(10_000)


def _guarded_phase(item: pytest.Item, phase: str) -> Iterator[None]:
    """A test not marked slow must not start a process (`make unit-fast` promises no process starts)."""
    if item.get_closest_marker("slow") is not None:
        yield
        return
    processguard.GUARD.begin()
    try:
        yield
    finally:
        started = processguard.GUARD.end()
    if started:
        pytest.fail(
            f"{item.nodeid} started {', '.join(sorted(set(started)))} during {phase} but is not marked slow: "
            "add @pytest.mark.slow (or pytestmark = pytest.mark.slow for the module)",
            pytrace=False,
        )


def pytest_collection_finish(session: pytest.Session) -> None:
    """What collection made (modules, test items) lives as long as the worker: frozen, the full passes
    left (and pytest's five at the session's end) need not walk it, as the lab's executable freezes
    its start-up."""
    gc.freeze()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Slow tests first: xdist hands tests out in collection order, and the keyboard walks (tests/tui,
    last alphabetically, up to half a minute each) otherwise start at the end, when the other workers
    have run out of tests and wait for them. Stable, so every worker sees the same order."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    return (yield from _guarded_phase(item, "setup"))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    return (yield from _guarded_phase(item, "call"))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Iterator[None]:
    return (yield from _guarded_phase(item, "teardown"))


@pytest.fixture(scope="session")
def _homes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("homes")


@pytest.fixture(autouse=True)
def _isolated_git_env(monkeypatch: pytest.MonkeyPatch, _homes: Path) -> None:
    """Git in tests must not read the developer's ~/.gitconfig nor the system one."""
    # A fresh HOME per test, made by mkdtemp in a directory of their own: tmp_path_factory.mktemp
    # lists the whole base directory to number each new one, which grows by one per test (and every
    # tmp_path's numbering listed the homes too): ~2.5 ms a test at 1000 tests, 5 ms at 3000.
    home = Path(tempfile.mkdtemp(prefix="home", dir=_homes))
    for name, value in isolated_git_env(home).items():
        monkeypatch.setenv(name, value)
    # What the app and the commands set in-process when they find the sandbox (`eval "$(lab sandbox
    # env)"`): set and deleted through monkeypatch, so that whatever a test leaves there is undone and
    # the next test on this worker does not talk to a sandbox's mirror it never started.
    for name in ("KUBECONFIG", "LAB_REGISTRY_MIRROR", "LAB_SANDBOX_WORKSPACE"):
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)


@pytest.fixture
def lab_cmd() -> list[str]:
    return lab_executable()


@pytest.fixture
def lab_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("LAB_DEBUG", None)
    env["NO_COLOR"] = "1"
    return env
