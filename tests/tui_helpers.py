"""Helpers for driving the real Textual app in tests."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path

from textual.pilot import Pilot

from lab.services.session import Session
from lab.services.tasks import load_task


def make_session(workspace: Path) -> Session:
    task = load_task("09b")
    if not (workspace / "PROGRESS.md").exists():
        shutil.copytree(task.starter, workspace, dirs_exist_ok=True)
    return Session(workspace=workspace, task=task, sandbox=True, kubeconfig=None)


async def wait_until(pilot: Pilot[None], predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await pilot.pause(0.02)
