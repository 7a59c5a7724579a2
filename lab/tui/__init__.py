"""The Textual app. Imported lazily: `lab --help` must not pay for Textual."""

from __future__ import annotations


def launch(*, plain: bool = False, workspace: str | None = None) -> int:
    """Open the lab. Replaced by the real app; until then, say what to do instead."""
    print("The Textual app is not built yet. Try: lab init DIR, lab generate, lab check.")
    return 0
