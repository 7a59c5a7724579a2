"""policy.resolves grades what the policy does over time, not only that it selects something:
a pick older than the tag already deployed is a downgrade (fail, both tags named), and a range broader
than the task's passes with a note of what it would pick as newer nginx releases arrive."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.gitutil import git
from tests.support.labrun import run_lab
from tests.support.paths import ROOT
from tests.support.practice_copy import copy_practice, practice_template

pytestmark = pytest.mark.slow

TAGS = ROOT / "tasks" / "09b" / "registry" / "nginx-tags-2024-01-15.txt"
POLICY = "clusters/dev/image-automation/image-policy.yaml"
DEPLOY = "apps/base/nginx/deployment.yaml"


def _policy_check(env: dict[str, str], ws: Path, tags: Path = TAGS) -> dict[str, str]:
    proc = run_lab("check", "--offline", "--tags-file", str(tags), "--format", "json", env=env, cwd=ws)
    assert proc.returncode in (0, 1), proc.stderr
    return next(c for c in json.loads(proc.stdout)["checks"] if c["id"] == "policy.resolves")


def _set_range(ws: Path, value: str) -> None:
    path = ws / POLICY
    lines = [
        f"      range: '{value}'" if ln.strip().startswith("range:") else ln
        for ln in path.read_text().splitlines()
    ]
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture(scope="module")
def solved_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`lab init` + `lab solve`, once per process (tests/support/practice_copy): the tests are about grading."""
    return practice_template(tmp_path_factory, "ws", "solve")


@pytest.fixture
def solved(tmp_path: Path, solved_template: Path) -> Path:
    return copy_practice(solved_template, tmp_path / "ws")


def test_a_downgrade_fails_naming_both_tags_before_and_after_flux_commits_it(
    solved: Path, lab_env: dict[str, str]
) -> None:
    ws = solved
    assert run_lab("simulate", "--tags-file", str(TAGS), env=lab_env, cwd=ws).returncode == 0
    git(ws, "pull", "-q")
    assert "library/nginx:1.25.3" in (ws / DEPLOY).read_text()
    assert _policy_check(lab_env, ws)["status"] == "pass"

    _set_range(ws, "1.24.x")
    check = _policy_check(lab_env, ws)
    assert check["status"] == "fail", check
    assert "picks 1.24.0, older than 1.25.3 already deployed" in check["message"]
    assert "downgrade 1.25.3 -> 1.24.0" in check["message"]
    assert "1.25.x" in check["hint"]

    # Flux commits the downgrade; pulling it must not make the check pass.
    git(ws, "commit", "-qam", "Use 1.24.x")
    git(ws, "push", "-q")
    sim = run_lab("simulate", "--tags-file", str(TAGS), env=lab_env, cwd=ws)
    assert "library/nginx:1.25.3 -> library/nginx:1.24.0" in sim.stdout
    git(ws, "pull", "-q")
    assert "library/nginx:1.24.0" in (ws / DEPLOY).read_text()
    check = _policy_check(lab_env, ws)
    assert check["status"] == "fail", check
    assert "older than 1.25.3 already deployed (apps/base/nginx/deployment.yaml at " in check["message"]


def test_a_downgrade_from_the_starting_tag_fails_too(solved: Path, lab_env: dict[str, str]) -> None:
    _set_range(solved, "1.24.x")
    check = _policy_check(lab_env, solved)
    assert check["status"] == "fail"
    assert "picks 1.24.0, older than 1.25.0 already deployed" in check["message"]


def test_a_broader_range_passes_and_says_what_it_would_pick_later(
    solved: Path, lab_env: dict[str, str]
) -> None:
    _set_range(solved, ">=1.0.0")
    check = _policy_check(lab_env, solved)
    assert check["status"] == "pass", check
    assert "selects 1.25.3" in check["message"]
    assert "; note: as nginx releases arrive, >=1.0.0 would pick 1.25.4 (2024-02-14)" in check["message"]
    assert "1.26.0 (2024-04-23)" in check["message"]
    assert "where the task's 1.25.x stops at 1.25.5" in check["message"]
    text = run_lab("check", "--offline", "--tags-file", str(TAGS), env=lab_env, cwd=solved)
    assert "      note: as nginx releases arrive, >=1.0.0 would pick 1.25.4" in text.stdout

    _set_range(solved, "1.25.x")
    check = _policy_check(lab_env, solved)
    assert check["status"] == "pass" and "note:" not in check["message"]


def test_a_tag_list_older_than_what_is_deployed_is_no_downgrade(
    solved: Path, lab_env: dict[str, str], tmp_path: Path
) -> None:
    # The sandbox pushed 1.25.4 and Flux deployed it, but the checks read the 2024-01-15 snapshot.
    deploy = solved / DEPLOY
    deploy.write_text(deploy.read_text().replace("nginx:1.25.0", "library/nginx:1.25.4"))
    check = _policy_check(lab_env, solved)
    assert check["status"] == "pass", check


def test_a_pinned_range_fails_naming_the_pick_of_the_tasks_own_policy(
    solved: Path, lab_env: dict[str, str]
) -> None:
    # 1.25.0 selects a tag, but Flux would never move on from it: the task's 1.25.x selects 1.25.3.
    _set_range(solved, "1.25.0")
    check = _policy_check(lab_env, solved)
    assert check["status"] == "fail", check
    assert "selects 1.25.0" in check["message"] and "the task expects 1.25.3" in check["message"]
    assert check["hint"] == "use the task's semver range 1.25.x, which selects 1.25.3"


def test_the_range_hint_names_the_pick_on_the_tags_the_failure_was_judged_on(
    solved: Path, lab_env: dict[str, str], tmp_path: Path
) -> None:
    """Against newer tags (a sandbox that published 1.25.4) the task's 1.25.x selects 1.25.4, not the
    1.25.3 of its bundled tags: the hint said 1.25.3 where the message said 1.25.4."""
    newer = tmp_path / "tags.txt"
    newer.write_text(TAGS.read_text().rstrip("\n") + "\n1.25.4\n")
    bundled, live = "1.25.3 from the task's bundled tags", "1.25.4 from tags file tags.txt"
    cases = {
        # The task's range picks another tag from the tags now: judged on them.
        "<=1.25.3": ("where the task's policy (semver 1.25.x) selects 1.25.4", f"{live} ({bundled})"),
        # A pin is judged on the bundled tags, as its message says: the hint names that pick first.
        "1.25.0": ("from task 09b's bundled tags, the task expects 1.25.3", f"{bundled} ({live})"),
    }
    for value, (said, picks) in cases.items():
        _set_range(solved, value)
        check = _policy_check(lab_env, solved, newer)
        assert check["status"] == "fail" and said in check["message"], check
        assert check["hint"] == f"use the task's semver range 1.25.x, which selects {picks}", check


@pytest.mark.parametrize("marker", ["typo", "absent"])
def test_a_downgrade_is_judged_on_the_image_line_whatever_its_marker(
    solved: Path, lab_env: dict[str, str], marker: str
) -> None:
    deploy = solved / DEPLOY
    text = deploy.read_text()
    assert "$imagepolicy" in text
    if marker == "typo":
        text = text.replace("$imagepolicy", "$imagepolcy")
    else:
        text = "\n".join(ln.split(" #", 1)[0] if "image:" in ln else ln for ln in text.splitlines()) + "\n"
    deploy.write_text(text)
    git(solved, "commit", "-q", "--amend", "-a", "--no-edit")  # no commit ever had a marker Flux reads
    git(solved, "push", "-qf")
    _set_range(solved, "1.24.x")
    check = _policy_check(lab_env, solved)
    assert check["status"] == "fail", check
    assert "downgrade 1.25.0 -> 1.24.0" in check["message"]
