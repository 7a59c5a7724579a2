"""The broken-repo corpus: a solved practice repo (init, solve, simulate, progress, quiz) mutated one
mistake at a time. Each case names the one check that must fail and words of its message; every other
check must pass or be skipped (blocked by that check, or offline)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from lab.core.checks import Status
from lab.services.check import run_checks
from tests.support.labrun import run_lab
from tests.support.taskfiles import DEPLOY, MARKER, POLICY, REPO, UPDATE, task_dir

TAGS = task_dir() / "registry" / "nginx-tags-2024-01-15.txt"

# On one xdist worker: the `solved` fixture (lab init, solve, simulate, progress, quiz: ~2.5 CPU-s) is
# made once per worker that runs a test of this module.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("checks-corpus")]


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "LAB_"))}
    env.update(
        HOME=str(home),
        GIT_CONFIG_NOSYSTEM="1",
        GIT_AUTHOR_NAME="Learner",
        GIT_AUTHOR_EMAIL="learner@example.com",
        GIT_COMMITTER_NAME="Learner",
        GIT_COMMITTER_EMAIL="learner@example.com",
        NO_COLOR="1",
    )
    env.pop("KUBECONFIG", None)
    return env


@pytest.fixture(scope="session")
def solved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding `gitops-lab` (solved, Flux commit pulled) and its bare origin."""
    base = tmp_path_factory.mktemp("solved")
    env = _env(base / "home")
    (base / "home").mkdir()
    ws = base / "gitops-lab"

    def lab(*args: str) -> None:
        run_lab(*args, env=env, cwd=base, ok=True)

    lab("init", str(ws), "--origin", str(base / "origin.git"))
    lab("solve", str(ws))
    lab("simulate", "-w", str(ws), "--tags-file", str(TAGS))
    subprocess.run(["git", "pull", "-q", "--ff-only"], cwd=ws, env=env, check=True)
    lab(
        "progress",
        "-w",
        str(ws),
        "--done",
        "09",
        "--note",
        "Image automation working, commits appearing in Git",
    )
    quiz = tomllib.loads((task_dir() / "quiz.toml").read_text())["question"]
    lab("quiz", "-w", str(ws), "--answers", ",".join(str(q["answer"] + 1) for q in quiz))
    subprocess.run(["git", "add", "-A"], cwd=ws, env=env, check=True)
    subprocess.run(["git", "commit", "-qm", "progress and quiz"], cwd=ws, env=env, check=True)
    subprocess.run(["git", "push", "-q", "origin", "main"], cwd=ws, env=env, check=True)
    return base


def _edit(rel: str, old: str, new: str, count: int = 1) -> Callable[[Path], None]:
    def apply(ws: Path) -> None:
        path = ws / rel
        text = path.read_text()
        assert old in text, (rel, old)
        path.write_text(text.replace(old, new, count))

    return apply


def _write(rel: str, text: str) -> Callable[[Path], None]:
    def apply(ws: Path) -> None:
        (ws / rel).parent.mkdir(parents=True, exist_ok=True)
        (ws / rel).write_text(text)

    return apply


def _delete(rel: str) -> Callable[[Path], None]:
    return lambda ws: (ws / rel).unlink()


def _regex(rel: str, pattern: str, new: str) -> Callable[[Path], None]:
    def apply(ws: Path) -> None:
        path = ws / rel
        text, n = re.subn(pattern, new, path.read_text(), flags=re.M)
        assert n, (rel, pattern)
        path.write_text(text)

    return apply


@dataclass(frozen=True)
class Case:
    name: str
    mutate: Callable[[Path], None]
    check: str
    words: str
    commit: bool = True
    also: frozenset[str] = frozenset()  # checks that rightly fail too (one mistake, two symptoms)


CASES = [
    Case(
        "policy file missing",
        _delete(POLICY),
        "repo.files",
        "missing in clusters/dev/image-automation/: image-policy.yaml",
    ),
    Case("tab-indented YAML", _edit(UPDATE, "  interval:", "\tinterval:"), "repo.files", "not readable YAML"),
    Case("empty file", _write(REPO, "# nothing yet\n"), "repo.files", "holds no Kubernetes object"),
    Case(
        "tag in spec.image (F3)",
        _edit(REPO, "image: library/nginx", "image: nginx:1.25"),
        "image-repository.valid",
        "nginx:1.25",
    ),
    Case(
        "scheme in spec.image",
        _edit(REPO, "image: library/nginx", "image: https://index.docker.io/library/nginx"),
        "image-repository.valid",
        "https://",
    ),
    Case(
        "kind misspelt",
        _edit(REPO, "kind: ImageRepository", "kind: ImageRepo"),
        "image-repository.valid",
        "ImageRepo",
        also=frozenset({"image-policy.valid"}),
    ),
    Case(
        "repository interval missing",
        _regex(REPO, r"^  interval: .*\n", ""),
        "image-repository.valid",
        "interval",
    ),
    Case(
        "repository ref typo (F6)",
        _edit(POLICY, "    name: nginx", "    name: ngnix"),
        "image-policy.valid",
        "ngnix",
    ),
    Case(
        "invalid semver range",
        _edit(POLICY, "range: 1.25.x", "range: one-point-25"),
        "image-policy.valid",
        "one-point-25",
    ),
    Case("no policy kind", _regex(POLICY, r"^  policy:\n(    .*\n)+", ""), "image-policy.valid", "policy"),
    Case(
        "numerical order wrong",
        _regex(POLICY, r"^    semver:\n      range: .*\n", "    numerical:\n      order: up\n"),
        "image-policy.valid",
        "up",
    ),
    Case(
        "update.path missing dir (F12)",
        _edit(UPDATE, "path: ./apps", "path: ./app"),
        "image-update.valid",
        "update.path ./app does not exist",
        # No marker is under a path that does not exist, whatever ./apps holds.
        also=frozenset({"marker.present"}),
    ),
    Case(
        "sourceRef to missing GitRepository (F13)",
        _edit(UPDATE, "    name: flux-system\n  update", "    name: flux\n  update"),
        "image-update.valid",
        "flux",
    ),
    Case(
        "removed template field (F20)",
        _edit(UPDATE, ".Changed.Changes", ".Updated.Images"),
        "image-update.valid",
        ".Updated",
    ),
    Case(
        "strategy misspelt",
        _edit(UPDATE, "strategy: Setters", "strategy: Setter"),
        "image-update.valid",
        "Setter",
    ),
    Case("marker removed", _edit(DEPLOY, f" {MARKER}", ""), "marker.present", "no $imagepolicy marker"),
    Case(
        "marker with slash (F10)",
        _edit(DEPLOY, "flux-system:nginx", "flux-system/nginx"),
        "marker.valid",
        "namespace:name",
    ),
    Case(
        "marker names a missing policy",
        _edit(DEPLOY, "flux-system:nginx", "flux-system:ngnix"),
        "marker.valid",
        "no such ImagePolicy exists (policies: flux-system:nginx)",
    ),
    Case(
        "marker without namespace",
        _edit(DEPLOY, "flux-system:nginx", "nginx"),
        "marker.valid",
        "no namespace",
    ),
    Case(
        "marker in single quotes",
        _edit(DEPLOY, MARKER, "# {'$imagepolicy': 'flux-system:nginx'}"),
        "marker.valid",
        "single quotes",
    ),
    Case(
        "text after the marker",
        _edit(DEPLOY, MARKER, MARKER + " # bump me"),
        "marker.valid",
        "text after the JSON",
    ),
    Case(
        "marker key misspelt", _edit(DEPLOY, "$imagepolicy", "$imagePolicy"), "marker.valid", "$imagepolicy"
    ),
    Case(
        "marker on its own line (F11)",
        _regex(DEPLOY, r"^(\s+)(image: \S+) (# \{.*\})$", r"\1\3\n\1\2"),
        "marker.valid",
        "on its own line",
    ),
    Case(
        "kustomization leaves the dir out",
        _write("clusters/dev/kustomization.yaml", "resources:\n  - flux-system\n  - apps.yaml\n"),
        "sync.included",
        "does not list image-automation",
    ),
    Case(
        "sync path elsewhere",
        _edit("clusters/dev/flux-system/gotk-sync.yaml", "path: ./clusters/dev", "path: ./clusters/prod"),
        "sync.included",
        "outside the flux-system Kustomization path",
    ),
    Case(
        "sourceignore hides the dir",
        _write(".sourceignore", "clusters/dev/image-automation/\n"),
        "sync.included",
        ".sourceignore",
    ),
    Case(
        "change not committed",
        _edit(POLICY, "range: 1.25.x", "range: 1.25.x # wip"),
        "git.pushed",
        "not committed",
        commit=False,
    ),
    Case(
        "range that matches nothing (F16/wrong tag)",
        _edit(POLICY, "range: 1.25.x", "range: 2.0.x"),
        "policy.resolves",
        "selects nothing",
    ),
    Case(
        "progress row not done",
        _edit("PROGRESS.md", "| ✅ | Image automation working", "| ⬜ | Image automation working"),
        "progress.updated",
        "not ✅",
    ),
    Case(
        "progress note empty",
        _regex("PROGRESS.md", r"^(\| 09-fluxcd-image-automation \| ✅ \|).*$", r"\1 |"),
        "progress.updated",
        "no note",
    ),
    Case("quiz not taken", _delete(".fluxlab/quiz.json"), "quiz.passed", "no quiz result"),
    Case(
        "quiz failed",
        _regex(".fluxlab/quiz.json", r'"passed": ?true', '"passed": false'),
        "quiz.passed",
        "not passed",
    ),
]


def _ids(case: Case) -> str:
    return case.name


def test_the_corpus_is_big_enough() -> None:
    assert len(CASES) >= 25
    assert len({c.check for c in CASES}) >= 11


def test_the_solved_repo_passes(solved: Path, tmp_path: Path) -> None:
    ws = _copy(solved, tmp_path)
    rep = run_checks(ws, offline=True, tags_file=TAGS)
    assert [c.id for c in rep.checks if c.status not in (Status.PASS, Status.SKIPPED)] == []
    assert rep.score == rep.max_score == 79


def _copy(solved: Path, tmp_path: Path) -> Path:
    base = tmp_path / "case"
    shutil.copytree(solved, base, symlinks=True)
    ws = base / "gitops-lab"
    subprocess.run(["git", "remote", "set-url", "origin", str(base / "origin.git")], cwd=ws, check=True)
    subprocess.run(["git", "fetch", "-q", "origin"], cwd=ws, check=True)
    return ws


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_one_mistake_one_failing_check(solved: Path, tmp_path: Path, case: Case) -> None:
    ws = _copy(solved, tmp_path)
    case.mutate(ws)
    if case.commit:
        subprocess.run(["git", "add", "-A"], cwd=ws, check=True)
        subprocess.run(["git", "commit", "-qm", f"mistake: {case.name}"], cwd=ws, check=True)
        subprocess.run(["git", "push", "-q", "origin", "main"], cwd=ws, check=True)
    rep = run_checks(ws, offline=True, tags_file=TAGS)
    target = rep.get(case.check)
    assert target.status is Status.FAIL, (target.status, target.message)
    assert case.words in target.message, target.message
    others = [
        (c.id, c.status.value, c.message)
        for c in rep.checks
        if c.id != case.check and c.id not in case.also and c.status not in (Status.PASS, Status.SKIPPED)
    ]
    assert others == [], others
    roots = {None, case.check, *case.also}
    blocked_elsewhere = [c.id for c in rep.checks if c.blocked_by not in roots]
    assert blocked_elsewhere == []


def test_update_progress_marks_the_row_once_everything_else_passes(solved: Path, tmp_path: Path) -> None:
    ws = _copy(solved, tmp_path)
    progress = ws / "PROGRESS.md"
    _regex("PROGRESS.md", r"^\| 09-fluxcd-image-automation \|.*$", "| 09-fluxcd-image-automation | ⬜ | |")(
        ws
    )
    before = progress.read_text()
    (ws / ".fluxlab/quiz.json").rename(ws / "quiz.bak")
    rep = run_checks(ws, offline=True, tags_file=TAGS, update_progress=True)
    assert progress.read_text() == before  # quiz.passed fails: nothing written
    assert rep.get("progress.updated").status is Status.FAIL and "progress_updated" not in rep.extra
    (ws / "quiz.bak").rename(ws / ".fluxlab/quiz.json")
    rep = run_checks(ws, offline=True, tags_file=TAGS, update_progress=True)
    assert rep.extra["progress_updated"] == str(progress)
    assert rep.get("progress.updated").status is Status.PASS
    assert "| 09-fluxcd-image-automation | ✅ | Image automation working, commits appearing in Git |" in (
        progress.read_text()
    )
    assert rep.exit_code() == 0
