"""`lab`: the headless front end. Thin: parse arguments, call a service, print, exit.

Subcommands live in `lab.commands.<name>` and are discovered, so adding one needs no edit here.
With no subcommand, `lab` opens the Textual app (or `--plain` text mode).
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import signal
import sys
import threading
from collections.abc import Sequence

from lab import __version__
from lab.core.text import escape_controls
from lab.errors import ENVIRONMENT_ERRNOS, LabError, WriteFailed

EPILOG = """\
Start here:  lab            open the lab (the Textual app) on the embedded sandbox
             lab init DIR   create a practice repository
             lab check      grade your repository
Set LAB_DEBUG=1 to see tracebacks of internal errors."""


def _command_modules() -> list[str]:
    import lab.commands as pkg
    from lab.adapters.packages import package_modules

    return sorted(name for name in package_modules(pkg.__path__) if not name.startswith("_"))


def _named_command(argv: Sequence[str], names: Sequence[str]) -> str | None:
    """The subcommand `argv` names, if it names one plainly (skipping `-w/--workspace VALUE`, `--task ID`)."""
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg in ("-w", "--workspace", "--task"):
            skip = True
        elif not arg.startswith("-"):
            return arg if arg in names else None
    return None


def _columns() -> int:
    """`shutil.get_terminal_size().columns`: $COLUMNS, else the terminal's width, else 80."""
    try:
        columns = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


class _Parser(argparse.ArgumentParser):
    """argparse's parser with the help text as wide as argparse makes it, but the width found without
    shutil: argparse makes a formatter for every argument added (to check its metavar), and the
    formatter's default width imports shutil (zlib, bz2, lzma and their C libraries) at every start.
    Subcommands' parsers are of this class too (`add_subparsers` makes them of the parent's class)."""

    def _get_formatter(self) -> argparse.HelpFormatter:
        return self.formatter_class(prog=self.prog, width=_columns() - 2)  # type: ignore[call-arg]


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser; given `argv` naming a subcommand, only that subcommand's module is imported and
    registered (each costs start-up time; `lab check` should not pay for twenty-odd others)."""
    parser = _Parser(
        prog="lab",
        description="fluxlab: learn and check Flux image automation, task by task (`lab tasks`).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"fluxlab {__version__}")
    parser.add_argument("--plain", action="store_true", help="text mode instead of the Textual app")
    parser.add_argument("--workspace", "-w", metavar="W", help=argparse.SUPPRESS)
    parser.add_argument(
        "--task",
        dest="app_task",
        metavar="ID",
        help="the task the app opens (default: the one the repository records, else the course's current task)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    names = _command_modules()
    only = _named_command(argv, names) if argv is not None else None
    for name in [only] if only else names:
        module = importlib.import_module(f"lab.commands.{name}")
        module.register(sub)
    return parser


def _run_app(args: argparse.Namespace) -> int:
    from lab.tui import launch

    return launch(
        plain=bool(args.plain) or bool(os.environ.get("NO_TUI")), workspace=args.workspace, task=args.app_task
    )


def _run_command(args: argparse.Namespace) -> int:
    from lab.commands._common import SafeStream

    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = SafeStream(sys.stdout), SafeStream(sys.stderr)
    try:
        result: int = args.func(args)
        return result
    finally:
        sys.stdout.flush()
        sys.stdout, sys.stderr = saved


def _terminated(signum: int, frame: object) -> None:
    """SIGTERM (a cancelled CI job, `kill`): the git commands `lab grade` runs have process groups of
    their own, which the signal does not reach; kill them, then end as the signal would have."""
    from lab.adapters.git import abort_running

    abort_running()
    os._exit(128 + signum)


def main(argv: Sequence[str] | None = None) -> int:
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.default_int_handler)  # lab.entry's quiet exit ends here
        if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
            signal.signal(signal.SIGTERM, _terminated)
    try:
        # Inside the try: most of start-up is importing the commands, and Ctrl-C there is common.
        if argv is None:
            argv = sys.argv[1:]
        parser = build_parser(argv)
        args = parser.parse_args(argv)
        if not gc.isenabled():
            # The executable starts without the collector (lab.entry): start-up is over, and what it
            # made stays; frozen, later collections need not walk it.
            gc.freeze()
            gc.enable()
            # Commands go on importing (`lab check` loads its checks' modules, the diagnosis, the
            # template engine), and what imports make lives as long as the process: a collection every
            # 700 new objects (Python's default) found nothing to free, ~1% of `lab check --offline`.
            # Cycles are still collected, every 10,000.
            gc.set_threshold(10_000)
        if args.command is None:
            return _run_app(args)
        return _run_command(args)
    except LabError as err:
        print(f"lab: {escape_controls(str(err))}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        return 130  # the shell shows ^C; nothing else to say
    except BrokenPipeError:
        # `lab ... | head`: the reader left. Point stdout at /dev/null so the exit flush is quiet too.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as err:
        if err.errno not in ENVIRONMENT_ERRNOS or os.environ.get("LAB_DEBUG"):
            return _internal_error(err)
        # A write outside lab.adapters.files.writing on a read-only or full file system: still the
        # environment's problem, said as one.
        failed = WriteFailed(str(err.filename or "a file"), err)
        print(f"lab: {escape_controls(str(failed))}", file=sys.stderr)
        return failed.exit_code
    except Exception as err:  # the last line of defence: never a traceback for a learner
        return _internal_error(err)


def _internal_error(err: Exception) -> int:
    """Called from `main`'s handler of `err`."""
    if isinstance(err.__cause__, KeyboardInterrupt):
        # Ctrl-C while a class body is set up (a dataclass field's __set_name__) arrives wrapped.
        return 130
    if os.environ.get("LAB_DEBUG"):
        raise err
    print(
        f"lab: internal error: {type(err).__name__}: {escape_controls(str(err))}"
        " - hint: rerun with LAB_DEBUG=1 and report it",
        file=sys.stderr,
    )
    return 70


if __name__ == "__main__":
    sys.exit(main())
