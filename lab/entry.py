"""The `lab` executable's first code. From this module's first statement until the process ends,
Ctrl-C leaves quietly with the shell's 130, except while `lab.cli.main` runs: that puts Python's own
handler back, so that interrupted work (a rebase, a commit) still runs its clean-up, and turns the
KeyboardInterrupt into 130 itself.

Most of start-up is importing, and a traceback there tells a learner nothing; so does one from the
interpreter's shutdown (threading's clean-up) after the command is done. This module imports only
what the interpreter has already loaded (`os`, the C module `_signal`; not even `__future__`):
everything imported before the handler is set is a window where Ctrl-C prints a traceback, and
`signal` alone would import `enum` first. Importing this module sets the handler: only the
executable (and `python -m lab`) imports it.
"""

import _signal  # type: ignore[import-not-found]  # no stub: the C module behind `signal`
import os


def _leave(signum: int, frame: object) -> None:
    os._exit(130)


_signal.signal(_signal.SIGINT, _leave)


def main() -> int:
    # Start-up imports make tens of thousands of objects that live as long as the process; the
    # collector's passes over them free nothing (8% of the instructions of `lab check --offline`).
    # `lab.cli.main` turns it back on once the command line is parsed. (`gc` is built in; imported
    # here, after the handler is set, as everything else.)
    import gc

    gc.disable()
    try:
        try:
            from lab.cli import main as cli_main

            return cli_main()
        finally:
            # What is left after the command (the executable's `sys.exit`, the interpreter's
            # shutdown) is quiet too.
            _signal.signal(_signal.SIGINT, _leave)
            # And cheaper: the shutdown's collections need not walk what the process made.
            gc.freeze()
    except KeyboardInterrupt:
        # Between `lab.cli.main` restoring Python's handler and its own `try`, or in the `finally`
        # above before the quiet handler is back (e.g. while `--help`'s SystemExit passes through).
        return 130
