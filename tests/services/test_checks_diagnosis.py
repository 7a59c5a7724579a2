"""Issue 14's corpus through `lab check`: each silent failure fails (or, when advisory, annotates) the check
that owns its field, with file:line, what Flux will do and the fix."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from lab.core.checks import Status
from lab.errors import UsageError
from lab.services.check import run_checks
from tests.support.diag_corpus import CASES, Case, Files, solved_files
from tests.support.sandbox_helpers import git

pytestmark = pytest.mark.slow

REPO_CHECKS = (
    "repo.files",
    "image-repository.valid",
    "image-policy.valid",
    "image-update.valid",
    "marker.present",
    "marker.valid",
    "sync.included",
)


@pytest.fixture(scope="module")
def practice(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from lab.sandbox.practice import init_practice_repo

    base = tmp_path_factory.mktemp("diagchecks")
    init_practice_repo(base / "ws", origin=base / "origin.git")
    return base


def _repo(practice: Path, tmp: Path, files: Files) -> Path:
    ws = tmp / "ws"
    shutil.copytree(practice / "ws", ws, symlinks=True)
    for rel, text in files.items():
        (ws / rel).parent.mkdir(parents=True, exist_ok=True)
        (ws / rel).write_text(text, encoding="utf-8")
    git(ws, "add", "-A")
    git(ws, "commit", "-qm", "case")
    return ws


def _tags_file(tmp: Path, case: Case) -> Path:
    from tests.support.diag_corpus import nginx_tags

    path = tmp / "tags.txt"
    path.write_text("\n".join(case.registry_tags() or nginx_tags()) + "\n", encoding="utf-8")
    return path


def test_solved_repo_passes_every_diagnosed_check(practice: Path, tmp_path: Path) -> None:
    ws = _repo(practice, tmp_path, solved_files())
    only = [*REPO_CHECKS, "registry.tags", "policy.resolves"]
    report = run_checks(ws, offline=True, only=only, tags_file=_tags_file(tmp_path, CASES[0]))
    bad = [(r.id, r.message) for r in report.checks if r.status != Status.PASS]
    assert bad == []
    resolves = next(r for r in report.checks if r.id == "policy.resolves")
    assert "advisory:" in resolves.message and "not strict semver" in resolves.message


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case_lands_on_its_check(case: Case, practice: Path, tmp_path: Path) -> None:
    files = solved_files()
    case.mutate(files)
    ws = _repo(practice, tmp_path, files)
    only = [*REPO_CHECKS, "registry.tags", "policy.resolves"]
    report = run_checks(ws, offline=True, only=only, tags_file=_tags_file(tmp_path, case))
    result = next(r for r in report.checks if r.id == case.check)
    text = " ".join([result.message, *(e.text for e in result.evidence)])
    if case.severity == "breaking":
        assert result.status == Status.FAIL, (result.status, result.message)
        assert all(w in text for w in case.words[:1]), text
        assert result.file and result.hint, "file:line and the fix"
    else:
        assert result.status == Status.PASS, (result.status, result.message)
        assert "advisory:" in result.message
        assert all(w in result.message for w in case.words), result.message


def test_a_tag_over_4300_digits_is_refused_with_its_line_not_a_crash(practice: Path, tmp_path: Path) -> None:
    # Issue 16: `lab check --tags-file` with such a tag showed policy.resolves as "check crashed". No
    # registry serves a tag over 128 characters, so the file is refused up front, naming the line (the
    # policies' own handling of such numbers: tests/core/test_diagnose.py).
    ws = _repo(practice, tmp_path, solved_files())
    tags = tmp_path / "tags.txt"
    tags.write_text("1.25.3\n" + "9" * 5000 + "\n1.25." + "7" * 5000 + "\n", encoding="utf-8")
    with pytest.raises(UsageError, match=r"tags\.txt:2: \"9{60}"):
        run_checks(ws, offline=True, only=[*REPO_CHECKS, "registry.tags", "policy.resolves"], tags_file=tags)
