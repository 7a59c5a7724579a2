"""Argument helpers shared by subcommands."""

from __future__ import annotations

import argparse
import io
import math
import os
import sys
from pathlib import Path
from typing import TextIO

from lab.errors import LabError, UsageError

__all__ = [
    "SafeStream",
    "add_exclude_arg",
    "add_kubeconfig_args",
    "add_offline_args",
    "add_registry_config_arg",
    "add_task_arg",
    "add_workspace_arg",
    "check_output",
    "positive",
    "print_json",
    "print_usage",
    "require_task",
    "resolve_workspace",
    "use_sandbox_here",
    "write_file",
    "write_report",
    "write_trusted",
]


def positive(value: str) -> float:
    """An argparse type: a positive, finite number (seconds, a speed). `nan` and `inf` are floats to
    Python, and a NaN timeout never expires."""
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
    if not math.isfinite(number) or number <= 0:
        raise argparse.ArgumentTypeError(f"{value} is not a positive number")
    return number


def _task_id(value: str) -> str:
    if not value.strip():
        raise argparse.ArgumentTypeError("an empty task id; `lab tasks` lists them")
    return value.strip()


def add_task_arg(parser: argparse.ArgumentParser, help: str | None = None) -> None:
    parser.add_argument(
        "--task",
        metavar="ID",
        type=_task_id,
        default=None,
        help=help
        or (
            "the course task (default: the one the repository was made for by `lab init --task`, "
            "else the course's current task; `lab tasks` lists them)"
        ),
    )


def add_exclude_arg(parser: argparse.ArgumentParser) -> None:
    """ImageRepository `spec.exclusionList`, for the commands that scan or filter tags."""
    parser.add_argument(
        "--exclude",
        action="append",
        metavar="REGEX",
        help="an exclusionList entry (repeatable; replaces the default ^.*\\.sig$, as in Flux)",
    )


def add_offline_args(parser: argparse.ArgumentParser) -> None:
    """Where the checks' tags come from: the registry, or a file; --offline contacts nothing."""
    parser.add_argument(
        "--offline",
        action="store_true",
        help="do not contact the registry or the cluster (the registry checks use the task's bundled tags)",
    )
    parser.add_argument(
        "--tags-file", metavar="F", help="read the image's tags from F instead of the registry"
    )


def add_registry_config_arg(parser: argparse.ArgumentParser) -> None:
    """Credentials for the commands that ask a registry: `args.registry_config`, a Path or None."""
    parser.add_argument(
        "--registry-config",
        metavar="FILE",
        type=lambda value: Path(value).expanduser(),
        help="Docker config.json with credentials (default: $DOCKER_CONFIG or ~/.docker/config.json)",
    )


def add_kubeconfig_args(parser: argparse.ArgumentParser) -> None:
    """The cluster to ask, for the commands that read one: `args.kubeconfig`, `args.context`."""
    parser.add_argument("--kubeconfig", metavar="FILE", help="kubeconfig file (default: $KUBECONFIG)")
    parser.add_argument("--context", help="kubeconfig context")


def use_sandbox_here(workspace: Path | None = None, kubeconfig: str | None = None) -> bool:
    """Run in the running sandbox's repository with no cluster configured (no --kubeconfig, $KUBECONFIG
    or ~/.kube/config), a command asks the sandbox's cluster and registry, as `lab why` and the app do,
    and says so in one line on stderr. `workspace`: the repository (default: the current directory)."""
    from lab.services.sandbox import IN_USE, use_in_workspace

    if use_in_workspace(workspace, kubeconfig) is None:
        return False
    print(f"lab: {IN_USE}", file=sys.stderr)
    return True


def resolve_workspace(value: str | None, *, repository: bool = False) -> Path:
    """`lab.services.workspace.resolve_workspace`, imported when a command needs it: the git adapter
    behind it is a third of the start-up of commands that never touch a repository (`lab policy`)."""
    from lab.services.workspace import resolve_workspace as resolve

    return resolve(value, repository=repository)


def require_task(task_id: str | None) -> None:
    """A `--task` that names no task of the lab is a usage error (exit 2, one line), refused before any
    repository is read: not a failed check (exit 1), nor one error row per student."""
    if task_id is None:
        return
    from lab.services.tasks import load_task

    try:
        load_task(task_id)
    except LabError as err:
        raise UsageError(err.message, hint=err.hint) from None


def add_workspace_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--workspace",
        "-w",
        metavar="W",
        # SUPPRESS: a subcommand without the flag must not overwrite `lab --workspace W cmd`.
        default=argparse.SUPPRESS,
        help="the learner's repository (default: the git root of the current directory)",
    )


def print_usage(parser: argparse.ArgumentParser) -> int:
    """A command group run without its subcommand: its help, and argparse's usage-error status."""
    parser.print_help()
    return 2


def print_json(data: object) -> None:
    import json

    print(json.dumps(data, indent=2, sort_keys=False))


class SafeStream(io.TextIOBase):
    """A text stream that shows control and bidi characters as escapes (lab.core.text) before they
    reach the terminal. `lab` puts one over stdout and stderr for every subcommand, so no path from
    a repository, a registry or a roster to the screen is left out. Text the lab itself colours is
    written with `write_trusted`."""

    def __init__(self, inner: TextIO) -> None:
        self.inner = inner

    def write(self, text: str) -> int:
        from lab.core.text import escape_controls

        self.inner.write(escape_controls(text))
        return len(text)

    def write_trusted(self, text: str) -> None:
        self.inner.write(text)

    def flush(self) -> None:
        self.inner.flush()

    def isatty(self) -> bool:
        return self.inner.isatty()

    def fileno(self) -> int:
        return self.inner.fileno()

    def writable(self) -> bool:
        return True

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self.inner.encoding


def write_trusted(text: str, *, err: bool = False) -> None:
    """Write the lab's own formatting (colour codes, a progress line's carriage return) to stdout, or
    stderr with `err`, past the SafeStream, if there is one. Everything learner-controlled inside `text`
    must already be escaped."""
    stream = sys.stderr if err else sys.stdout
    if isinstance(stream, SafeStream):
        stream.write_trusted(text)
    else:
        stream.write(text)


def check_output(path: str | None, option: str = "--output") -> None:
    """Refuse an output file that cannot be written before any work is done (grading a class takes
    minutes): its folder must exist and it must not be a directory."""
    if not path:
        return
    target = Path(path).expanduser()
    if target.is_dir():
        raise UsageError(f"{option} {path}: is a directory", hint="name a file, e.g. report.txt")
    folder = target.parent
    if not folder.is_dir():
        raise UsageError(
            f"{option} {path}: no folder {folder}", hint="create the folder first, or name another file"
        )
    if not os.access(folder, os.W_OK) or (target.exists() and not os.access(target, os.W_OK)):
        raise UsageError(f"{option} {path}: not writable", hint="name a file you can write")


def write_file(path: str, text: str, what: str = "--output") -> None:
    """Write `text` to `path`; an OSError is a one-line LabError naming the file."""
    try:
        Path(path).expanduser().write_text(text, encoding="utf-8")
    except OSError as err:
        raise LabError(
            f"cannot write {what} {path}: {err.strerror or err}", hint="name a file you can write"
        ) from None


def write_report(path: str, text: str) -> None:
    """Write a report to the file `--output` names. It does not pass the terminal's escaping stream and
    is read on one all the same (`cat`, a browser), so control characters from repositories are escaped."""
    from lab.core.text import escape_controls

    write_file(path, escape_controls(text))
