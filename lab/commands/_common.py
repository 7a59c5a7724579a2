"""Argument helpers shared by subcommands."""

from __future__ import annotations

import argparse

from lab.services.workspace import resolve_workspace

__all__ = ["add_task_arg", "add_workspace_arg", "print_json", "resolve_workspace"]


def add_task_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--task",
        metavar="ID",
        default=None,
        help="the course task (default: the course's current task; `lab tasks` lists them)",
    )


def add_workspace_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--workspace",
        "-w",
        metavar="W",
        # SUPPRESS: a subcommand without the flag must not overwrite `lab --workspace W cmd`.
        default=argparse.SUPPRESS,
        help="the learner's repository (default: the git root of the current directory)",
    )


def print_json(data: object) -> None:
    import json

    print(json.dumps(data, indent=2, sort_keys=False))
