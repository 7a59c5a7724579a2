"""Where the lab's files live: its data folders (`tasks/`) and the per-user data directory.

In a checkout (and an editable install) they sit next to the `lab` package, where course authors
edit them; a built wheel carries them inside the package as `lab/_data/<name>` (see pyproject.toml).
"""

from __future__ import annotations

import os
from pathlib import Path

import lab
from lab.errors import LabError


def data_dir(name: str) -> Path:
    package = Path(lab.__file__).resolve().parent
    for candidate in (package.parent / name, package / "_data" / name):
        if candidate.is_dir():
            return candidate
    raise LabError(
        f"the lab's {name}/ folder is missing next to {package}",
        hint="reinstall fluxlab (pip install -e . from the repository)",
    )


def data_home() -> Path:
    """The per-user data directory (`$XDG_DATA_HOME/fluxlab`): the default sandbox lives there."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "fluxlab"


SNAPSHOT_DATE = "2024-01-15"


def nginx_snapshot_files() -> tuple[Path, Path]:
    """The lab's Docker Hub `library/nginx` data: (tags as of SNAPSHOT_DATE, dated releases after it)."""
    folder = Path(lab.__file__).resolve().parent / "sandbox" / "data"
    return folder / f"nginx-tags-{SNAPSHOT_DATE}.txt", folder / "nginx-tags-events.json"
