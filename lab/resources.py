"""Where the lab's files live: its data folders (`tasks/`) and the per-user data directory.

In a checkout (and an editable install) they sit next to the `lab` package, where course authors
edit them; a built wheel carries them inside the package as `lab/_data/<name>` (see setup.py).
"""

from __future__ import annotations

import os
from pathlib import Path

import lab
from lab.errors import LabError

#: The sandbox's practice repository, set with the registry mirror by `lab sandbox env` (and the app
#: attached to the sandbox): the mirror is the sandbox's.
SANDBOX_ENV = "LAB_SANDBOX_WORKSPACE"


def data_dir(name: str) -> Path:
    package = Path(lab.__file__).resolve().parent
    # A wheel's own copy first: in site-packages, the folder next to the package is not ours.
    for candidate in (package / "_data" / name, package.parent / name):
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
