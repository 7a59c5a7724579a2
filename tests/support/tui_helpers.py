"""Helpers for driving the real Textual app in tests."""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from textual.pilot import Pilot

from lab.services.session import Session
from lab.services.tasks import load_task
from lab.tui.app import LabApp
from tests.support.paths import ROOT

TAGS_FILE = ROOT / "tasks" / "09b" / "registry" / "nginx-tags-2024-01-15.txt"


def practice_session(tmp_path: Path) -> Session:
    """A real practice repository (git, bare origin) as `lab init` makes it (`init_practice_repo` once per
    worker, a copy per test: tests.support.gitutil.practice)."""
    from tests.support.gitutil import practice

    return Session(workspace=practice(tmp_path), task=load_task("09b"), sandbox=True, kubeconfig=None)


def task_session(tmp_path: Path, task_id: str) -> Session:
    """A practice repository of the task `task_id` (`init_practice_repo`, at tmp_path/task_id)."""
    from lab.sandbox.practice import init_practice_repo

    task = load_task(task_id)
    repo = init_practice_repo(tmp_path / task_id, task=task.id)
    return Session(workspace=repo.path, task=task, sandbox=True, kubeconfig=None)


def lab_app(session: Session, *, tags_file: Path | None = TAGS_FILE) -> LabApp:
    """The app as the tests drive it: tags from the bundled snapshot, a fixed workspace label."""
    return LabApp(session, tags_file=tags_file, workspace_label="gitops-lab")


def notifications(seen: list[object]) -> list[tuple[str, str]]:
    from textual.notifications import Notify

    return [(m.notification.severity, m.notification.message) for m in seen if isinstance(m, Notify)]


def make_session(workspace: Path) -> Session:
    task = load_task("09b")
    if not (workspace / "PROGRESS.md").exists():
        shutil.copytree(task.starter, workspace, dirs_exist_ok=True)
    return Session(workspace=workspace, task=task, sandbox=True, kubeconfig=None)


async def wait_until(
    pilot: Pilot[None],
    predicate: Callable[[], bool],
    timeout: float = 20.0,
    *,
    describe: Callable[[], object] | None = None,
) -> None:
    """Pump the app until `predicate()` holds; on timeout say what was awaited and what there was instead.

    The failure names the predicate's source, the screen on top and `describe()` (e.g. a widget's text), so a
    CI log alone shows why. A predicate that raises (a widget not mounted yet) counts as not met; its last
    error is in the failure. Generous for 2 loaded cores: workers run in threads; a met condition returns at once.

    Between looks it sleeps, and the app runs on the same event loop meanwhile: `pilot.pause(delay)` on
    each look posted a callback to every widget of the screen and forced a layout pass, 0.07-0.14 CPU-s
    per second of waiting (0.01 asleep), and the waits for git and the checks are most of a Pilot test's
    time on a loaded machine. A condition met after a sleep is looked at again after one `pilot.pause()`:
    what made it true may have left the screen work to do (a widget just mounted composes its children),
    and the test reads the screen next.
    """
    deadline = time.monotonic() + timeout
    error: Exception | None = None
    slept = False
    while True:
        try:
            if predicate():
                if not slept:
                    return
                await pilot.pause()
                slept = False
                continue
            error = None
        except Exception as err:  # not met yet: reported on timeout
            error = err
        if time.monotonic() > deadline:
            raise AssertionError(_not_met(pilot, predicate, timeout, describe, error)) from error
        await asyncio.sleep(0.02)
        slept = True


def _not_met(
    pilot: Pilot[None],
    predicate: Callable[[], bool],
    timeout: float,
    describe: Callable[[], object] | None,
    error: Exception | None,
) -> str:
    lines = [f"not met within {timeout}s: {_source(predicate)}", f"screen: {type(pilot.app.screen).__name__}"]
    if error is not None:
        lines.append(f"the predicate raised {error!r}")
    if describe is not None:
        try:
            lines.append(f"instead: {describe()}")
        except Exception as err:  # the description must not hide the timeout
            lines.append(f"describe() raised {err!r}")
    return "\n".join(lines)


def _source(predicate: Callable[[], bool]) -> str:
    """The predicate's source text (for a lambda, the lines of the call it is written in)."""
    import inspect
    import textwrap

    try:
        return textwrap.dedent(inspect.getsource(predicate)).strip()
    except (OSError, TypeError):
        return repr(predicate)


async def type_keys(pilot: Pilot[None], text: str) -> None:
    """Type `text` one key press per character, as `pilot.press(*text)` does (see `fast_keys`)."""
    await fast_keys(pilot, *text)


async def fast_keys(pilot: Pilot[None], *keys: str) -> None:
    """Press `keys` (characters or key names: "down", "end", "backspace") as `pilot.press(*keys)` does, but
    without waiting for the app to go idle after every key: the same Key events reach the focused widget in
    the same order (a fast typist), then the app catches up. The lab's fields and editor run their own bound
    keys (arrows, backspace) in their place, and a form moves the focus on Tab as it comes (lab.tui.fields);
    a key bound elsewhere (a screen's key) still runs after the characters of the same batch: send it in a
    call of its own. `press` costs two idle waits per key, minutes for the exercises' typed YAML and arrow
    keys on a loaded machine."""
    import unicodedata

    from textual import events
    from textual.keys import REPLACED_KEYS, _character_to_key, _get_unicode_name_from_key

    app = pilot.app
    for name in keys:
        key = _character_to_key(name) if len(name) == 1 and not name.isalnum() else name
        original = REPLACED_KEYS.get(key, key)
        try:
            char: str | None = unicodedata.lookup(_get_unicode_name_from_key(original))
        except KeyError:
            char = key if len(key) == 1 else None
        event = events.Key(key, char)
        event.set_sender(app)
        await app._post_message(event)
    # The app forwards each key to the focused widget's queue: once the app's queue is through, every
    # key is queued there, and a second wait sees the widget through them.
    await pilot._wait_for_screen()
    await pilot._wait_for_screen()
    await pilot.pause()


class TmuxSession:
    """The real executable in a real pty: a private tmux server per session."""

    def __init__(
        self, command: str, width: int = 80, height: int = 24, env: dict[str, str] | None = None
    ) -> None:
        import os
        import uuid

        self.socket = f"lab-test-{uuid.uuid4().hex[:8]}"
        full_env = {**os.environ, **(env or {})}
        full_env.pop("TMUX", None)
        self._tmux(
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-s",
            "app",
            "-x",
            str(width),
            "-y",
            str(height),
            command,
            env=full_env,
        )
        self._tmux("set-option", "-t", "app", "remain-on-exit", "on")

    def _tmux(self, *args: str, env: dict[str, str] | None = None) -> str:
        import subprocess

        return subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, env=env, check=True
        ).stdout

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", "app")

    def send(self, *keys: str) -> None:
        self._tmux("send-keys", "-t", "app", *keys)

    def title(self) -> str:
        """The pane's title, which a raw `ESC ] 2 ; ... BEL` from the app would set."""
        return self._tmux("display-message", "-p", "-t", "app", "#{pane_title}").strip()

    def dead(self) -> bool:
        return self._tmux("display-message", "-p", "-t", "app", "#{pane_dead}").strip() == "1"

    def wait_for(self, text: str, timeout: float = 15.0, interval: float = 0.05) -> float:
        start = time.monotonic()
        while text not in (shown := self.screen()):
            if time.monotonic() - start > timeout:
                raise AssertionError(f"{text!r} not seen in {timeout}s:\n{shown}")
            time.sleep(interval)
        return time.monotonic() - start

    def close(self) -> None:
        import subprocess

        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, check=False)
