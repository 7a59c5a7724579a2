"""Build hook: copy the course's `tasks/` into the wheel as `lab/_data/tasks` (no symlinks in the tree).

Course authors edit `tasks/` at the top of the repository; a source checkout and an editable install
read it there (`lab.resources.data_dir`), a built wheel carries a copy inside the package.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

DATA = ("tasks",)


class BuildWithData(build_py):
    def run(self) -> None:
        super().run()
        root = Path(__file__).resolve().parent
        for name in DATA:
            target = Path(self.build_lib) / "lab" / "_data" / name
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(root / name, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


setup(cmdclass={"build_py": BuildWithData})
