"""`lab grade` on a class of 100 repositories (half solved, half starter), offline, `--jobs 2`, through the
real executable, against grading one repository 100 times sequentially in process.

The baseline is the per-repository cost with no parallelism and no process start; the ratio shows what
the class run costs on top of (or saves against) that: clone, check, temporary directory per student.
Goal: 100 repositories in under a minute on this machine.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lab.sandbox.practice import init_practice_repo
from lab.services.grade import Target, grade_one
from lab.services.solve import solve

N_REPOS = 100
JOBS = 2
ROOT = Path(__file__).resolve().parent.parent
TAGS = ROOT / "tasks" / "09b" / "registry" / "nginx-tags-2024-01-15.txt"
CLASS_ARGS = ("--jobs", str(JOBS), "--format", "json")


def _lab() -> list[str]:
    exe = Path(sys.executable).with_name("lab")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "lab"]


def make_class(tmp: Path) -> tuple[Path, Path]:
    """(class directory with N_REPOS checkouts, one solved template)."""
    templates = tmp / "templates"
    solved = init_practice_repo(templates / "solved").path
    solve(solved)
    starter = init_practice_repo(templates / "starter").path
    class_dir = tmp / "class"
    class_dir.mkdir()
    for i in range(N_REPOS):
        shutil.copytree(solved if i % 2 == 0 else starter, class_dir / f"student-{i:03d}", symlinks=True)
    return class_dir, solved


def main() -> None:
    env = dict(os.environ, NO_COLOR="1")
    env.setdefault("GIT_AUTHOR_NAME", "Bench")
    env.setdefault("GIT_AUTHOR_EMAIL", "bench@example.com")
    env.setdefault("GIT_COMMITTER_NAME", "Bench")
    env.setdefault("GIT_COMMITTER_EMAIL", "bench@example.com")
    os.environ.update({k: env[k] for k in env if k.startswith("GIT_")})
    with tempfile.TemporaryDirectory(prefix="bench-grade-") as tmp_name:
        tmp = Path(tmp_name)
        class_dir, solved = make_class(tmp)

        start = time.perf_counter()
        proc = subprocess.run(
            [*_lab(), "grade", str(class_dir), "--offline", "--tags-file", str(TAGS), *CLASS_ARGS],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        t_class = time.perf_counter() - start
        assert proc.returncode == 0, proc.stderr
        rows = json.loads(proc.stdout)["repos"]
        assert len(rows) == N_REPOS and all(r["graded"] for r in rows)

        target = Target("solo", str(solved))
        start = time.perf_counter()
        for _ in range(N_REPOS):
            row = grade_one(target, offline=True, tags_file=TAGS)
            assert row.graded, row.reason
        t_seq = time.perf_counter() - start

        scores = sorted({r["score"] for r in rows})
        print(f"repos: {N_REPOS} (solved and starter), jobs: {JOBS}, distinct scores: {scores}")
        print(
            f"lab grade (subprocess, --jobs {JOBS}): {t_class:.1f} s ({t_class / N_REPOS * 1000:.0f} ms/repo)"
        )
        print(f"grade_one x {N_REPOS}, sequential in process: {t_seq:.1f} s")
        print(f"ratio class/sequential: {t_class / t_seq:.2f}x (goal: class under 60 s)")


if __name__ == "__main__":
    main()
