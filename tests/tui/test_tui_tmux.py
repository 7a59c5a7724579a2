"""The installed `lab` executable in a real terminal (tmux): starts on a fresh HOME, creates the
default sandbox, shows the task, switches areas with keys and quits cleanly with ctrl+q; and on a
repository whose file names, values and PROGRESS.md hold terminal escapes, none reaches the terminal."""

from __future__ import annotations

import os
import shlex
import shutil
import time
from pathlib import Path

import pytest

from tests.support.labrun import run_lab
from tests.support.paths import lab_executable
from tests.support.tui_helpers import TmuxSession

pytestmark = pytest.mark.slow

if shutil.which("tmux") is None:
    if os.environ.get("CI"):
        raise RuntimeError("tmux is required in CI for the TUI smoke test")
    pytest.skip("tmux is not installed", allow_module_level=True)


def test_lab_starts_navigates_and_quits(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    data = home / ".local" / "share"
    env = {
        "HOME": str(home),
        "XDG_DATA_HOME": str(data),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "TERM": "xterm-256color",
        "TEXTUAL_ANIMATIONS": "none",
    }
    command = " ".join(shlex.quote(part) for part in lab_executable())
    # The shell records lab's exit status in a file: tmux can take seconds to notice a dead pane
    # on a loaded machine, the file is there as soon as lab has exited.
    status_file = tmp_path / "exit-status"
    script = f"cd {shlex.quote(str(tmp_path))} && {command}; echo $? > {shlex.quote(str(status_file))}"
    session = TmuxSession(f"sh -c {shlex.quote(script)}", 80, 24, env={**env, "KUBECONFIG": ""})
    try:
        session.wait_for("Task 09b: Image Automation", timeout=30)
        assert "sandbox" in session.screen()
        assert (data / "fluxlab" / "sandbox" / "gitops-lab" / ".git").is_dir()
        session.send("2")
        session.wait_for("Pitfalls", timeout=20)
        session.send("3")
        session.wait_for("API version", timeout=20)
        # lab starts the default sandbox in the background: the checks then run online (max 100).
        deadline = time.monotonic() + 30
        while not (data / "fluxlab" / "sandbox" / "runtime.json").exists():
            assert time.monotonic() < deadline, "lab did not start the sandbox"
            time.sleep(0.1)
        session.send("4")
        session.wait_for("/100 · ", timeout=30)
        assert "Image controllers installed and ready" in session.screen()
        session.send("C-q")
        deadline = time.monotonic() + 15
        while not status_file.exists() or not status_file.read_text().strip():
            assert time.monotonic() < deadline, f"lab did not exit after ctrl+q:\n{session.screen()}"
            time.sleep(0.05)
        assert status_file.read_text().strip() == "0", session.screen()
        assert "Traceback" not in session.screen()
    finally:
        session.close()
        run_lab("sandbox", "down", env={**os.environ, **env})


def test_escapes_in_the_repository_never_reach_the_terminal(tmp_path: Path) -> None:
    """A file name, a YAML value and a PROGRESS.md note that would retitle the terminal, recolour it or
    reverse the text: Home and the check's detail show them escaped, the editor shows the file's text
    without them (`lab.tui.terminal`), and the pane keeps its title."""
    home = tmp_path / "home"
    home.mkdir()
    env = {
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "TERM": "xterm-256color",
        "TEXTUAL_ANIMATIONS": "none",
        "KUBECONFIG": "",
    }
    repo = tmp_path / "repo"
    assert run_lab("init", str(repo), env={**os.environ, **env}).returncode == 0
    evil = repo / "apps" / "base" / "nginx" / "evil\x1b]2;PWNED\x07\u202exyz.yaml"
    evil.write_text(
        'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: "e\x1b[31mred\u202e"\nspec:\n'
        "  template:\n    spec:\n      containers:\n        - name: c\n"
        '          image: nginx:1.0 # {"$imagepolicy": "flux-system:nginx"}\n'
    )
    progress = repo / "PROGRESS.md"
    progress.write_text(
        progress.read_text().replace("kind cluster running", "kind\x1b]2;PWN2\x07 running", 1)
    )
    command = " ".join(shlex.quote(part) for part in lab_executable())
    session = TmuxSession(
        f"sh -c {shlex.quote(f'cd {shlex.quote(str(repo))} && {command}')}", 120, 40, env=env
    )
    try:
        session.wait_for("Task 09b: Image Automation", timeout=30)
        session.wait_for("kind\\x1b]2;PWN2\\x07 running", timeout=10)
        session.send("4")
        session.wait_for("checks 0/", timeout=30)
        for _ in range(12):  # down to the marker check, whose detail names the file
            if "[marker.present]" in session.screen():
                break
            session.send("Down")
            time.sleep(0.2)
        session.wait_for("at apps/base/nginx/evil\\x1b]2;PWNED\\x07\\u202exyz.yaml:10  (e: edit", timeout=10)
        session.send("e")
        session.wait_for('name: "e[31mred"', timeout=15)  # the editor: the text, less what would steer
        assert "PWN" not in session.title()
        assert not any(ch in session.screen() for ch in "\x1b\x07\u202e")
    finally:
        session.send("C-q")
        session.close()
        run_lab("sandbox", "down", env={**os.environ, **env})
