"""Running programs from tests: `run_lab(*args)` for the installed `lab` executable, `run(cmd)` for any other.

Both capture text output, never wait on stdin (none is given unless `stdin` is), and stop a hung process after
`timeout` seconds (a guard against hangs only: every call returns long before it on 2 loaded cores).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from tests.support.paths import lab_executable

HANG = 300.0

Arg = str | os.PathLike[str]


def run(
    cmd: Sequence[Arg],
    env: Mapping[str, str] | None = None,
    cwd: Path | str | None = None,
    *,
    stdin: str | None = None,
    timeout: float = HANG,
) -> subprocess.CompletedProcess[str]:
    """Run `cmd` (in `cwd`, with exactly `env`, or this process's environment) and return what it did."""
    return subprocess.run(
        [os.fspath(arg) for arg in cmd],
        env=None if env is None else dict(env),
        cwd=cwd,
        input=stdin,
        stdin=subprocess.DEVNULL if stdin is None else None,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def run_lab(
    *args: Arg,
    env: Mapping[str, str] | None = None,
    cwd: Path | str | None = None,
    stdin: str | None = None,
    ok: bool = False,
    timeout: float = HANG,
) -> subprocess.CompletedProcess[str]:
    """`lab ARGS...` as a learner types it. A traceback on stderr fails the test (lab reports errors in
    words); `ok=True` also fails it unless lab exits 0, showing what lab said."""
    proc = run([*lab_executable(), *args], env, cwd, stdin=stdin, timeout=timeout)
    assert "Traceback" not in proc.stderr, f"lab {' '.join(map(str, args))}:\n{proc.stderr}"
    if ok:
        assert proc.returncode == 0, (
            f"lab {' '.join(map(str, args))} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}"
        )
    return proc
