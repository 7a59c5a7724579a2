"""Startup to first paint: `lab` (LabApp on a practice repository) against a bare Textual app.

Both run in a fresh interpreter, headless, and exit from `on_ready` (after the first frame is
composed); each is timed from outside as the wall clock of the whole process, best of
N, interleaved so machine noise hits both alike. Textual's own import (~0.25 s) is in both; the ratio
shows what the lab adds on top. Target: <= 1.5x.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROUNDS = 7

BARE = """
from textual.app import App
from textual.widgets import Footer, Header, Label

class Bare(App[None]):
    def compose(self):
        yield Header()
        yield Label("Task 09b")
        yield Footer()

    def on_ready(self) -> None:
        self.exit("painted")

print(Bare().run(headless=True, size=(80, 24)))
"""

LAB = """
import sys
from pathlib import Path
from lab.services.session import open_session
from lab.tui.app import LabApp

class Timed(LabApp):
    def on_ready(self) -> None:
        self.exit("painted")

print(Timed(open_session(Path(sys.argv[1]))).run(headless=True, size=(80, 24)))
"""


def _once(script: Path, *args: str, env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, str(script), *args], env=env, capture_output=True, text=True)
    if proc.returncode != 0 or "painted" not in proc.stdout:
        raise RuntimeError(f"benchmark app failed: {proc.stderr.strip().splitlines()[-1:]}")
    return time.perf_counter() - start


def main() -> None:
    from lab.sandbox.practice import init_practice_repo

    with tempfile.TemporaryDirectory(prefix="fluxlab-bench-") as tmp:
        env = {**os.environ, "HOME": tmp, "XDG_DATA_HOME": str(Path(tmp) / "data")}
        env.pop("KUBECONFIG", None)
        # As installed for a user (and as bench_goals runs): bytecode is cached, the warm-up run writes
        # lab's own, so the lab does not compile its source on every start while Textual's is cached.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        workspace = init_practice_repo(Path(tmp) / "gitops-lab").path
        # Scripts, not `-c`: Textual locates CSS_PATH through the source file of the app class.
        bare_py, lab_py = Path(tmp) / "bare_app.py", Path(tmp) / "lab_app.py"
        bare_py.write_text(BARE)
        lab_py.write_text(LAB)
        bare: list[float] = []
        lab: list[float] = []
        _once(bare_py, env=env)  # warm the page cache and .pyc files for both
        _once(lab_py, str(workspace), env=env)
        for _ in range(ROUNDS):
            bare.append(_once(bare_py, env=env))
            lab.append(_once(lab_py, str(workspace), env=env))
    best_bare, best_lab = min(bare), min(lab)
    print(f"bare Textual app, first paint: {best_bare * 1000:.0f} ms (best of {ROUNDS})")
    print(f"lab (LabApp, home screen):     {best_lab * 1000:.0f} ms (best of {ROUNDS})")
    ratio = best_lab / best_bare
    print(f"ratio: {ratio:.2f}x (target <= 1.5x) {'ok' if ratio <= 1.5 else 'OVER TARGET'}")


if __name__ == "__main__":
    main()
