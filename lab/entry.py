"""The `lab` executable's first code. From this module's first statement until the process ends,
Ctrl-C leaves quietly with the shell's 130, except while `lab.cli.main` runs: that puts Python's own
handler back, so that interrupted work (a rebase, a commit) still runs its clean-up, and turns the
KeyboardInterrupt into 130 itself.

Most of start-up is importing, and a traceback there tells a learner nothing; so does one from the
interpreter's shutdown (threading's clean-up) after the command is done. This module imports only
what the interpreter has already loaded (`os`, `sys`, the C modules `_signal` and `_thread`; not
even `__future__`): everything imported before the handler is set is a window where Ctrl-C prints a
traceback, and `signal` alone would import `enum` first. Importing this module sets the handler: only the
executable (and `python -m lab`) imports it.
"""

import _signal  # type: ignore[import-not-found]  # no stub: the C module behind `signal`
import _thread
import os
import sys


def _leave(signum: int, frame: object) -> None:
    os._exit(130)


_signal.signal(_signal.SIGINT, _leave)


def _unraisable(unraisable: object) -> None:
    # While `lab.cli.main` runs, Ctrl-C raises KeyboardInterrupt wherever the main thread is, and
    # where Python cannot pass an exception on (a weakref callback of importlib's module locks as a
    # command imports, a finaliser) it would print "Exception ignored in: ..." with a traceback and
    # go on: the Ctrl-C lost. Deliver it again from another thread, so that the main thread takes it
    # once out of here, where it can be raised (or, outside `lab.cli.main`, where `_leave` exits 130);
    # from this thread it would be raised in this hook, and ignored again.
    if isinstance(getattr(unraisable, "exc_value", None), KeyboardInterrupt):
        try:
            _thread.start_new_thread(_thread.interrupt_main, ())
        except RuntimeError:  # no new thread at the interpreter's shutdown: leave as `_leave` does
            os._exit(130)
        return
    sys.__unraisablehook__(unraisable)  # type: ignore[arg-type]


sys.unraisablehook = _unraisable


class _InspectOnDemand(type(os)):  # type: ignore[misc]  # ModuleType, without importing `types`
    """`inspect` until something asks it for a name, then the real module's names.

    `dataclasses` imports `inspect` and uses it only for the docstring of a class that has none
    (lab.core.record gives them theirs); importing it imports `ast`, `dis`, `tokenize` and
    `linecache`: ~30M instructions, 7% of `lab check --offline`, for nothing. So the executable's
    `sys.modules` holds this stand-in under the name until the first `inspect.name` (or `from inspect
    import name`) anywhere, which takes it out, imports the real module and answers from it; so does
    every later use of the stand-in by a module that imported it meanwhile."""

    def __getattr__(self, name: str) -> object:
        with _INSPECT_LOCK:
            if sys.modules.get("inspect") is self:
                del sys.modules["inspect"]
        import inspect

        return getattr(inspect, name)


_INSPECT_LOCK = _thread.allocate_lock()


def main() -> int:
    # Start-up imports make tens of thousands of objects that live as long as the process; the
    # collector's passes over them free nothing (8% of the instructions of `lab check --offline`).
    # `lab.cli.main` turns it back on once the command line is parsed. (`gc` is built in; imported
    # here, after the handler is set, as everything else.)
    import gc

    gc.disable()
    if "inspect" not in sys.modules:
        sys.modules["inspect"] = _InspectOnDemand("inspect")
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
