"""Argument helpers shared by subcommands (stdlib only)."""

from __future__ import annotations

import argparse
from pathlib import Path

from lab.errors import UsageError


def add_workspace_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--workspace",
        "-w",
        metavar="W",
        # SUPPRESS: a subcommand without the flag must not overwrite `lab --workspace W cmd`.
        default=argparse.SUPPRESS,
        help="the learner's repository (default: the git root of the current directory)",
    )


def resolve_workspace(value: str | None) -> Path:
    """The workspace named on the command line, else the git root above the current directory."""
    if value:
        path = Path(value).expanduser()
        if not path.is_dir():
            raise UsageError(f"workspace {value} is not a directory", hint="pass an existing repository")
        return path.resolve()
    here = Path.cwd().resolve()
    for candidate in (here, *here.parents):
        if (candidate / ".git").exists():
            return candidate
    raise UsageError(
        f"{here} is not inside a git repository",
        hint="run from your gitops repository, pass --workspace, or create one with `lab init DIR`",
    )


def print_json(data: object) -> None:
    import json

    print(json.dumps(data, indent=2, sort_keys=False))
