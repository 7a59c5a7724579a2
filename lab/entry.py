"""The `lab` executable's first code. Until `lab.cli.main` is running, Ctrl-C leaves quietly with
the shell's 130: most of start-up is importing, and a traceback there tells a learner nothing.
`lab.cli.main` puts Python's own handler back, so that interrupted work (a rebase, a commit) still
runs its clean-up."""

from __future__ import annotations

import os
import signal
from types import FrameType


def _leave(signum: int, frame: FrameType | None) -> None:
    os._exit(130)


def main() -> int:
    signal.signal(signal.SIGINT, _leave)
    from lab.cli import main as cli_main

    return cli_main()
