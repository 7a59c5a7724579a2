"""`lab policy` through the real executable."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.labrun import run_lab
from tests.support.paths import ROOT

pytestmark = pytest.mark.slow

DATA = ROOT / "tasks" / "09b" / "registry"


@pytest.fixture
def tags_file(tmp_path: Path) -> Path:
    path = tmp_path / "tags.txt"
    path.write_text("1.25.0\n1.25.3\n\n  1.26.0  \nlatest\n1.25.9.sig\n1.25.4-alpine\n")
    return path


def test_semver_prints_selected_tag(lab_env: dict[str, str]) -> None:
    result = run_lab(
        "policy", "--semver", "1.25.x", "--tags-file", str(DATA / "nginx-tags-2024-01-15.txt"), env=lab_env
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "1.25.3\n", "")


def test_stdin_json_and_default_exclusion(lab_env: dict[str, str], tags_file: Path) -> None:
    result = run_lab(
        "policy",
        "--semver",
        ">=1.25.0",
        "--json",
        "--tags-file",
        "-",
        env=lab_env,
        stdin=tags_file.read_text(),
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    # 1.25.9.sig is excluded by the default exclusionList, so 1.26.0 wins; blank line ignored.
    assert data == {
        "tag": "1.26.0",
        "considered": 5,
        "dropped": {"not semver": 1, "prerelease": 1},
        "reason": "Succeeded",
        "message": "",
    }


def test_exclude_replaces_default(lab_env: dict[str, str], tags_file: Path) -> None:
    result = run_lab(
        "policy", "--alphabetical", "asc", "--exclude", "^latest$", "--tags-file", str(tags_file), env=lab_env
    )
    assert (result.returncode, result.stdout) == (0, "1.26.0\n")
    with_default = run_lab("policy", "--alphabetical", "desc", "--tags-file", str(tags_file), env=lab_env)
    assert with_default.stdout == "1.25.0\n"


def test_filter_and_extract(lab_env: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    path.write_text("main-abc-100\nmain-def-99\nmain-fff-1000\nlatest\n")
    result = run_lab('policy', "--numerical", "asc", "--filter-pattern", "^main-[a-f0-9]+-(?P<ts>[0-9]+)", "--filter-extract", "$ts", "--tags-file", str(path), env=lab_env)  # fmt: skip
    assert (result.returncode, result.stdout) == (0, "main-fff-1000\n")


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--semver", "latest"], 'InvalidPolicy: invalid policy: improper constraint: "latest"'),
        (["--semver", "1.24.x"], "Failure: unable to determine latest version from provided list"),
        (["--numerical", "asc"], "Failure: failed to parse invalid numeric value 'latest'"),
        (
            ["--numerical", "sideways"],
            "invalid order argument provided: 'SIDEWAYS', must be one of: ASC, DESC",
        ),
        (["--semver", "1.x", "--filter-pattern", "[="], "missing closing ]: `[=`"),
        (["--semver", "1.x", "--filter-pattern", "^v"], "version list argument cannot be empty"),
        (["--semver", "1.x", "--exclude", "("], "failed to compile regex (: error parsing regexp"),
    ],
)
def test_failures_are_one_line_exit_1(
    lab_env: dict[str, str], tags_file: Path, args: list[str], needle: str
) -> None:
    result = run_lab("policy", *args, "--tags-file", str(tags_file), env=lab_env)
    assert result.returncode == 1
    assert result.stdout == ""
    assert needle in result.stderr
    assert result.stderr.startswith("lab: ") and result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


def test_json_failure_exit_1(lab_env: dict[str, str], tags_file: Path) -> None:
    result = run_lab("policy", "--semver", "1.24.x", "--json", "--tags-file", str(tags_file), env=lab_env)
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert (data["tag"], data["reason"]) == (None, "Failure")
    assert data["dropped"]["out of range"] == 3


def test_missing_tags_file_names_it(lab_env: dict[str, str], tmp_path: Path) -> None:
    missing = tmp_path / "nope.txt"
    result = run_lab("policy", "--semver", "1.x", "--tags-file", str(missing), env=lab_env)
    assert result.returncode == 1
    assert str(missing) in result.stderr and result.stderr.count("\n") == 1


def test_policy_kind_is_required(lab_env: dict[str, str], tags_file: Path) -> None:
    result = run_lab("policy", "--tags-file", str(tags_file), env=lab_env)
    assert result.returncode == 2
    both = run_lab(
        "policy", "--semver", "1.x", "--numerical", "asc", "--tags-file", str(tags_file), env=lab_env
    )
    assert both.returncode == 2


def test_explain_lists_verdicts(lab_env: dict[str, str], tags_file: Path) -> None:
    result = run_lab("policy", "--semver", "1.25.x", "--explain", "--tags-file", str(tags_file), env=lab_env)
    assert result.returncode == 0, result.stderr
    rows = [line.split() for line in result.stdout.splitlines()]
    assert ["selected", "1.25.3"] in rows
    assert ["prerelease", "1.25.4-alpine"] in rows
    assert len(rows) == 5  # 1.25.9.sig was excluded before the policy ran
    data = json.loads(
        run_lab(
            "policy", "--semver", "1.24.x", "--explain", "--json", "--tags-file", str(tags_file), env=lab_env
        ).stdout
    )
    assert {t["verdict"] for t in data["tags"]} == {"not semver", "prerelease", "out of range"}


def test_a_tag_longer_than_oci_allows_is_refused_naming_its_line(
    lab_env: dict[str, str], tmp_path: Path
) -> None:
    # No registry serves a 5000-digit tag (past Python's int() limit too: the policies' own handling of
    # such numbers is tests/core/test_diagnose.py's); a file holding one is not a tags file.
    huge = "1" * 5000
    tags = tmp_path / "tags.txt"
    tags.write_text(f"1.2.3\n{huge}.0.0\n")
    result = run_lab("policy", "--semver", ">=1.0.0", "--explain", "--tags-file", str(tags), env=lab_env)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert f'{tags}:2: "{huge[:60]}' in result.stderr, result.stderr


@pytest.mark.slow
def test_lab_tags_offline_answers_with_the_tags_the_task_bundles(
    tmp_path: Path, lab_env: dict[str, str]
) -> None:
    """The guard lesson's `lab tags ghcr.io/acme/shop > tags.txt` for `lab policy --tags-file`: offline
    it failed ("cannot connect"), while simulate and the checks used the bundled list. A registry that
    answers no, and --json, keep the error."""
    env = {**lab_env, "LAB_REGISTRY_MIRROR": "ghcr.io=127.0.0.1:1"}
    repo = tmp_path / "guard"
    assert run_lab("init", str(repo), "--task", "09b-guard", env=env).returncode == 0
    listed = run_lab("tags", "ghcr.io/acme/shop", env=env, cwd=repo)
    assert listed.returncode == 0, listed.stderr
    tags = listed.stdout.split()
    assert "1.4.1" in tags and "main-e4f5a6b-1717003600" in tags and "sha256-3fe1.att" in tags
    assert "sha256-3fe1.sig" not in tags  # the default exclusionList, as Flux stores them
    assert tags == sorted(tags, reverse=True)
    assert "task 09b-guard" in listed.stderr and "cannot be reached" in listed.stderr
    # Where live tags are, in the words lab simulate and lab check use for an image a task bundles.
    assert "live tags: lab sandbox up serves the task's images, or --tags-file F" in listed.stderr
    as_json = run_lab("tags", "ghcr.io/acme/shop", "--json", env=env, cwd=repo)
    assert as_json.returncode == 1 and as_json.stdout == ""
