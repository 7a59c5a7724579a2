"""Which tests start processes: every one must be marked `slow` (`make unit-fast` runs the others).

`install()` wraps the calls that start a program (subprocess's fork_exec, os.posix_spawn, os.fork). While
a test not marked slow runs (setup, call and teardown), a start from the test's own thread, or from a thread
it started, is recorded; tests/conftest.py then fails the test naming the program. Threads that were already
running when the test began (servers left by an earlier test, xdist's own) are not the test's doing.
"""

from __future__ import annotations

import _posixsubprocess
import os
import subprocess
import threading
from collections.abc import Callable
from typing import Any


class _Guard:
    def __init__(self) -> None:
        self.active = False
        self.before: set[int] = set()
        self.started: list[str] = []

    def begin(self) -> None:
        self.before = {t.ident for t in threading.enumerate() if t.ident is not None}
        self.before.discard(threading.main_thread().ident)
        self.started = []
        self.active = True

    def end(self) -> list[str]:
        self.active = False
        return self.started

    def record(self, program: object) -> None:
        if self.active and threading.get_ident() not in self.before:
            name = os.fsdecode(program) if isinstance(program, str | bytes) else repr(program)
            self.started.append(os.path.basename(name))


GUARD = _Guard()


def _program(args: tuple[Any, ...]) -> object:
    try:
        return args[0][0]  # fork_exec(args, executable_list, ...): argv first
    except (IndexError, TypeError):
        return "?"


def install() -> None:
    if getattr(_posixsubprocess.fork_exec, "_lab_guarded", False):
        return
    fork_exec: Callable[..., int] = _posixsubprocess.fork_exec
    posix_spawn = os.posix_spawn
    fork = os.fork

    def guarded_fork_exec(*args: Any, **kwargs: Any) -> int:
        GUARD.record(_program(args))
        return fork_exec(*args, **kwargs)

    def guarded_posix_spawn(path: Any, argv: Any, *args: Any, **kwargs: Any) -> int:
        GUARD.record(path)
        return posix_spawn(path, argv, *args, **kwargs)

    def guarded_fork() -> int:
        GUARD.record("fork")
        return fork()

    guarded_fork_exec._lab_guarded = True  # type: ignore[attr-defined]
    _posixsubprocess.fork_exec = guarded_fork_exec
    subprocess._fork_exec = guarded_fork_exec  # type: ignore[attr-defined]
    os.posix_spawn = guarded_posix_spawn
    os.fork = guarded_fork
