"""`lab check` judges the task's image: a second ImageRepository of the learner's own (another app's
image, which the task's registry does not serve) is no mistake in Flux. On a real practice repository
(`lab init` + `lab solve`), with the task's bundled tags standing in for its registry, as in the app."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.gitutil import git
from tests.support.labrun import run_lab
from tests.support.paths import ROOT
from tests.support.practice_copy import copy_practice, practice_template
from tests.support.taskfiles import PODINFO_REPOSITORY as PODINFO
from tests.support.taskfiles import REPO

pytestmark = pytest.mark.slow

TAGS = ROOT / "tasks" / "09b" / "registry" / "nginx-tags-2024-01-15.txt"


@pytest.fixture(scope="module")
def solved_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return practice_template(tmp_path_factory, "ws", "solve")


def _rows(ws: Path, env: dict[str, str]) -> str:
    proc = run_lab("check", "-w", str(ws), "--tags-file", str(TAGS), "--only", "policy.resolves", env=env)
    assert proc.returncode in (0, 1), (proc.stdout, proc.stderr)
    return proc.stdout


def test_another_apps_repository_beside_the_tasks_is_a_note(
    solved_template: Path, tmp_path: Path, lab_env: dict[str, str]
) -> None:
    ws = copy_practice(solved_template, tmp_path / "ws")
    # First in the file: the task's ImageRepository is not "the first one" any more.
    (ws / REPO).write_text(PODINFO + (ws / REPO).read_text())
    git(ws, "commit", "-qam", "Scan podinfo too")
    out = _rows(ws, lab_env)
    assert "✔ image-repository.valid" in out, out
    assert (
        "note: ImageRepository podinfo scans ghcr.io/stefanprodan/podinfo, which the task's registry does "
        "not serve: its scan fails there, and the task's automation of library/nginx does not depend on it"
    ) in out, out
    assert "✔ registry.tags" in out and "✔ policy.resolves" in out, out

    # A misspelling of the task's image, with nothing scanning the image itself, is still the mistake.
    (ws / REPO).write_text((ws / REPO).read_text().replace("image: library/nginx", "image: library/ngnix"))
    out = _rows(ws, lab_env)
    assert "✘ image-repository.valid" in out, out
    assert "ImageRepository nginx scans library/ngnix, which the task's registry does not serve" in out, out
