"""The `lab` executable's first code. Until `lab.cli.main` is running, Ctrl-C leaves quietly with
the shell's 130: most of start-up is importing, and a traceback there tells a learner nothing.
`lab.cli.main` puts Python's own handler back, so that interrupted work (a rebase, a commit) still
runs its clean-up.

This module imports only what the interpreter has already loaded (`os`, the C module `_signal`; not
even `__future__`):
everything imported before the handler is set is a window where Ctrl-C prints a traceback, and
`signal` alone would import `enum` first.
"""

import _signal  # type: ignore[import-not-found]  # no stub: the C module behind `signal`
import os


def _leave(signum: int, frame: object) -> None:
    os._exit(130)


def main() -> int:
    _signal.signal(_signal.SIGINT, _leave)
    from lab.cli import main as cli_main

    return cli_main()
