"""The Textual app. Imported lazily: `lab --help` must not pay for Textual.

`launch` decides between the app and plain text: plain when asked (`--plain`, `NO_TUI`), when
stdout is not a terminal, or when the terminal is too small to be useful.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

MIN_COLUMNS = 60
MIN_LINES = 16


def _wants_plain(plain: bool) -> bool:
    if plain or not sys.stdout.isatty() or not sys.stdin.isatty():
        return True
    size = shutil.get_terminal_size((80, 24))
    return size.columns < MIN_COLUMNS or size.lines < MIN_LINES or os.environ.get("TERM") == "dumb"


def launch(*, plain: bool = False, workspace: str | None = None, task: str | None = None) -> int:
    """`task`: --task, over the task the repository records, over the course's current task."""
    from lab.services.session import open_session

    session = open_session(Path(workspace) if workspace else None, task)
    if _wants_plain(plain):
        from lab.services.session import plain_overview

        print(plain_overview(session), end="")
        return 0
    from lab.tui.app import LabApp

    LabApp(session, start_sandbox=True).run()
    return 0
