"""A task's files as the tests use them, read from the task folder (tasks/<id>/starter, solution, ...).

Tests never keep their own copy of a solution: they read it here and break it with `edited`, which
fails when the text to replace is not there (a breakage test must not pass because it changed nothing).
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.paths import ROOT

TASKS = ROOT / "tasks"
COURSE_TASK = "09b"
IA = "clusters/dev/image-automation"
REPO, POLICY, UPDATE = f"{IA}/image-repository.yaml", f"{IA}/image-policy.yaml", f"{IA}/image-update.yaml"
DEPLOY = "apps/base/nginx/deployment.yaml"
MARKER = '# {"$imagepolicy": "flux-system:nginx"}'
#: A second app's ImageRepository beside the task's: an image the task's registry does not serve.
PODINFO_REPOSITORY = """---
apiVersion: image.toolkit.fluxcd.io/v1
kind: ImageRepository
metadata:
  name: podinfo
  namespace: flux-system
spec:
  image: ghcr.io/stefanprodan/podinfo
  interval: 5m0s
"""

Files = dict[str, str]


def task_dir(task: str = COURSE_TASK) -> Path:
    return TASKS / task


def tree(folder: Path) -> Files:
    """Every file under `folder`, by POSIX path relative to it."""
    return {
        path.relative_to(folder).as_posix(): path.read_text(encoding="utf-8")
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def starter_files(task: str = COURSE_TASK) -> Files:
    return tree(task_dir(task) / "starter")


def solution_files(task: str = COURSE_TASK, variant: str = "solution") -> Files:
    """Only the files the solution adds or changes (`variant`: solution, solution-v1beta2)."""
    return tree(task_dir(task) / variant)


def solution_manifests(task: str = COURSE_TASK) -> Files:
    """The solution's ImageRepository, ImagePolicy and ImageUpdateAutomation files, in that order."""
    return {rel: solution_text(rel, task) for rel in (REPO, POLICY, UPDATE)}


def solved_files(task: str = COURSE_TASK) -> Files:
    """The whole solved tree: the starter with the solution laid over it."""
    return {**starter_files(task), **solution_files(task)}


def solution_text(rel: str, task: str = COURSE_TASK, variant: str = "solution") -> str:
    return (task_dir(task) / variant / rel).read_text(encoding="utf-8")


def edited(text: str, old: str, new: str, *, count: int = 1) -> str:
    """`text` with `old` replaced by `new` (`count` times, -1: all); fails when `old` is missing."""
    assert old in text, f"{old!r} is not in the text to edit:\n{text}"
    return text.replace(old, new, count)


def line_no(text: str, line: str, *, after: int = 0) -> int:
    """The 1-based number of the one line of `text` (past line `after`) that reads `line`, indentation aside."""
    found = [n for n, got in enumerate(text.splitlines(), 1) if n > after and got.strip() == line]
    assert len(found) == 1, (
        f"{line!r} should be on exactly one line (past line {after}), found {found}:\n{text}"
    )
    return found[0]


def own_line_marker(where: str, task: str = COURSE_TASK) -> tuple[str, int]:
    """The solution's Deployment with its marker on a line of its own `before` or `after` the image
    line (where Flux ignores it), and the image line's number."""
    text = edited(solution_text(DEPLOY, task), f" {MARKER}", "")
    image = "          image: nginx:1.25.0\n"
    moved = f"          {MARKER}\n{image}" if where == "before" else f"{image}          {MARKER}\n"
    text = edited(text, image, moved)
    return text, line_no(text, "image: nginx:1.25.0")


def write_files(root: Path, files: Files) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def copy_task(dest_root: Path, new_id: str, *, row: str | None = None, task: str = COURSE_TASK) -> Path:
    """tasks/<task> copied to dest_root/new_id with only its id (and, if given, its progress row) changed."""
    folder = dest_root / new_id
    shutil.copytree(task_dir(task), folder)
    meta = folder / "task.toml"
    text = edited(meta.read_text(encoding="utf-8"), f'id = "{task}"', f'id = "{new_id}"')
    if row is not None:
        text = edited(text, 'progress_row = "09"', f'progress_row = "{row}"')
        text = edited(text, 'progress_task = "09-fluxcd-image-automation"', f'progress_task = "{row}"')
    meta.write_text(text, encoding="utf-8")
    return folder


def author_task(
    root: Path, new_id: str, env: dict[str, str], *, row: str | None = None
) -> tuple[Path, dict[str, str]]:
    """A course author's copy of the course task as `new_id` in root/authors (`copy_task`), and `env`
    with LAB_TASKS_PATH naming that folder, as the author's shell has it."""
    authors = root / "authors"
    return copy_task(authors, new_id, row=row), {**env, "LAB_TASKS_PATH": str(authors)}


@contextlib.contextmanager
def without_practice_steps(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """`lab dev check` (lab.services.devcheck) with its two practice steps not run: a starter repository
    made and checked, a solved one made, simulated and checked (~0.4 CPU-s a task). For a test whose
    findings dev check reports before them (the task folder's files); test_every_task_passes_dev_check
    and the tests of those steps' own findings run them."""
    from lab.services import devcheck

    with monkeypatch.context() as m:
        for name in ("_starter", "_solution"):
            m.setattr(devcheck, name, lambda task, dest: "not made in this test")
        yield
