"""Helpers for the sandbox tests: an in-process supervisor and polling through the kubernetes client."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from lab.adapters.cluster import ClusterClient
from lab.sandbox.runtime import SandboxPaths, Supervisor

T = TypeVar("T")
SPEED = 3000.0


# Generous: on 2 shared cores a reconcile (clone, rewrite, push) can take seconds; a pass returns at once.
def wait_for(probe: Callable[[], T | None], what: str, timeout: float = 60.0) -> T:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = probe()
        except AssertionError as err:
            last = err
        if last and not isinstance(last, AssertionError):
            return last
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}; last: {last!r}")


@contextmanager
def running_sandbox(root: Path, *, image_controllers: bool = True) -> Iterator[Supervisor]:
    sup = Supervisor(SandboxPaths.at(root), speed=SPEED, image_controllers=image_controllers)
    sup.start()
    try:
        yield sup
    finally:
        sup.stop()


def client_for(root: Path) -> ClusterClient:
    return ClusterClient.from_kubeconfig(str(SandboxPaths.at(root).kubeconfig))


def ready(client: ClusterClient, kind: str, name: str) -> tuple[str, str, str] | None:
    obj = client.get(kind, name)
    if not obj:
        return None
    conds = (obj.get("status") or {}).get("conditions") or []
    if not conds:
        return None
    return str(conds[0]["status"]), str(conds[0]["reason"]), str(conds[0]["message"])


def git(cwd: Path, *args: str) -> str:
    proc = subprocess.run(
        ["git", "-c", "core.hooksPath=/dev/null", *args], cwd=cwd, capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)}: {proc.stderr}")
    return proc.stdout.strip()


def edit_and_push(ws: Path, path: str, old: str, new: str) -> None:
    """What a learner does: pull Flux's commits, change a file, commit, push."""
    git(ws, "pull", "-q", "--rebase")
    target = ws / path
    text = target.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    target.write_text(text.replace(old, new), encoding="utf-8")
    git(ws, "commit", "-qam", f"edit {path}")
    push(ws)


def push(ws: Path, attempts: int = 5) -> None:
    """Push as a learner does when the controllers push in between: pull --rebase, push again."""
    for _ in range(attempts - 1):
        try:
            git(ws, "push", "-q")
            return
        except AssertionError as err:
            if "rejected" not in str(err):
                raise
            git(ws, "pull", "-q", "--rebase")
    git(ws, "push", "-q")


def flux_commits(origin: Path) -> list[str]:
    out = git(origin, "log", "--format=%H %an", "main")
    return [line.split()[0] for line in out.splitlines() if line.endswith(" Flux")]
