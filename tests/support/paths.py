"""Where things are: the project root, the test fixtures, and the installed `lab` executable."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
FLUX_CASES = FIXTURES / "flux-cases"


def lab_executable() -> list[str]:
    """The installed `lab` console script next to this interpreter."""
    exe = Path(sys.executable).with_name("lab")
    if exe.exists():
        return [str(exe)]
    found = shutil.which("lab")
    return [found] if found else [sys.executable, "-m", "lab"]
