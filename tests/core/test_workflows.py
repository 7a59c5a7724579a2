"""The two GitHub workflows, checked structurally (actionlint is a Go binary this project cannot install
from its registries): the learner's Classroom workflow that `lab init` / `lab classroom init` put into the
practice repository, and the project's own CI workflow. Besides the shape, the learner's install step is
run as a shell script: missing or unpinned specs fail with an `::error::` naming the variable."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest

from lab.core.report.workflow import (
    CHECKOUT,
    REPORTER,
    SETUP_PYTHON,
    SPEC_VARIABLE,
    WORKFLOW_PATH,
    SpecError,
    check_lab_spec,
)
from tests.support.gitutil import git
from tests.support.labrun import run_lab
from tests.support.paths import ROOT

PINNED = "fluxlab @ git+https://github.com/org/fluxlab@0123456789abcdef0123456789abcdef01234567"
# Majors current today: node20 actions are forced onto node24; @v6 of both run there natively.
CURRENT = {
    "actions/checkout": "v6",
    "actions/setup-python": "v6",
    "classroom-resources/autograding-grading-reporter": "v1",
}
EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}")
ALLOWED_CONTEXT = re.compile(
    r"^\s*(?:vars\.FLUXLAB_LAB_SPEC(?:\s*\|\|\s*'[^']*')?|steps\.lab\.outputs\.[A-Za-z0-9]+|github\.actor)\s*$"
)


def load(text: str) -> Any:
    from ruamel.yaml import YAML

    # YAML 1.2 (as GitHub reads it): `on` stays a string key, not the boolean YAML 1.1 makes of it.
    return YAML(typ="safe", pure=True).load(text)


def _lab(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if k != "LAB_DEBUG"}
    full.update(env or {})
    return run_lab(*args, env=full, cwd=cwd)


def common_shape(wf: dict[str, Any]) -> None:
    assert isinstance(wf["on"], dict), "on: must be a mapping (older actionlint rejects the list form)"
    for job in wf["jobs"].values():
        ids = [s["id"] for s in job["steps"] if "id" in s]
        assert len(ids) == len(set(ids))
        for step in job["steps"]:
            assert ("uses" in step) != ("run" in step), step
            if "uses" in step:
                action, _, major = step["uses"].partition("@")
                assert CURRENT.get(action) == major, step["uses"]


def expressions(text: str) -> list[str]:
    found = EXPRESSION.findall(text)
    assert text.count("${{") == len(found), "unbalanced ${{ }}"
    return found


def learner_checks(wf: dict[str, Any]) -> None:
    common_shape(wf)
    assert wf["name"] == "Autograding Tests"
    assert list(wf["jobs"]) == ["run-autograding-tests"]
    assert {"push", "repository_dispatch"} <= set(wf["on"])
    job = wf["jobs"]["run-autograding-tests"]
    assert job["if"] == "github.actor != 'github-classroom[bot]'"
    steps = job["steps"]
    assert [s.get("uses", "").split("@")[0] for s in steps[:2]] == [
        "actions/checkout",
        "actions/setup-python",
    ]
    assert steps[0]["with"]["fetch-depth"] == 0
    install = steps[2]
    assert SPEC_VARIABLE in install["env"] and "pip install" in install["run"]
    assert '"$spec"' in install["run"] and 'fluxlab"' not in install["run"]  # never a bare name
    lab = next(s for s in steps if s.get("id") == "lab")
    assert lab["run"].startswith("lab check --task 09b --format github --offline")
    reporter = steps[-1]
    assert reporter["uses"] == REPORTER and reporter["if"] == "always()"
    # The reporter's own pattern for its input (its error path rejects anything else).
    assert re.fullmatch(r"([a-zA-Z0-9]+,)*[a-zA-Z0-9]+", reporter["with"]["runners"])
    runners = reporter["with"]["runners"].split(",")
    assert len(runners) == len(set(runners))
    assert reporter["env"] == {f"{r.upper()}_RESULTS": f"${{{{ steps.lab.outputs.{r} }}}}" for r in runners}


def _practice_workflow(tmp_path: Path, *args: str) -> tuple[Path, str]:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = {"HOME": str(home), "GIT_CONFIG_NOSYSTEM": "1"}
    proc = _lab(*args, cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr
    repo = tmp_path / args[-1] if args[0] == "init" else tmp_path / args[2]
    committed = git(repo, "show", f"origin/main:{WORKFLOW_PATH}")
    assert committed + "\n" == (repo / WORKFLOW_PATH).read_text()
    return repo, (repo / WORKFLOW_PATH).read_text()


@pytest.mark.slow
def test_lab_init_commits_the_learner_workflow(tmp_path: Path) -> None:
    repo, text = _practice_workflow(tmp_path, "init", "lab")
    wf = load(text)
    learner_checks(wf)
    for expr in expressions(text):
        assert ALLOWED_CONTEXT.match(expr), expr
    # An editable install names no commit: the pin is left to the variable, and the step says so.
    assert (
        wf["jobs"]["run-autograding-tests"]["steps"][2]["env"][SPEC_VARIABLE]
        == "${{ vars.FLUXLAB_LAB_SPEC }}"
    )
    # The runners are exactly the outputs `lab check --format classroom` writes offline.
    out = tmp_path / "outputs"
    proc = _lab("check", "-w", str(repo), "--offline", "-f", "classroom", "-o", str(out), cwd=repo)
    assert proc.returncode == 0, proc.stderr
    written = [line.split("=", 1)[0] for line in out.read_text().splitlines()]
    reporter = wf["jobs"]["run-autograding-tests"]["steps"][-1]
    assert reporter["with"]["runners"].split(",") == written
    total = sum(
        json.loads(base64.b64decode(v.split("=", 1)[1]))["max_score"] for v in out.read_text().splitlines()
    )
    assert f"{total}" in proc.stdout  # the text report's "Score 0/N" is the same maximum


@pytest.mark.slow
def test_classroom_init_pins_the_spec_and_refuses_unpinned(tmp_path: Path) -> None:
    _repo, text = _practice_workflow(tmp_path, "classroom", "init", "tpl", "--lab-spec", PINNED)
    wf = load(text)
    learner_checks(wf)
    env = wf["jobs"]["run-autograding-tests"]["steps"][2]["env"][SPEC_VARIABLE]
    assert env == f"${{{{ vars.FLUXLAB_LAB_SPEC || '{PINNED}' }}}}"
    for spec, words in (
        ("fluxlab", "does not pin one lab"),
        ("fluxlab>=0.1", "does not pin one lab"),
        ("", "empty"),
    ):
        proc = _lab("classroom", "init", str(tmp_path / "bad"), "--lab-spec", spec, cwd=tmp_path)
        assert proc.returncode == 2 and words in proc.stderr, proc.stderr
        assert not (tmp_path / "bad").exists()


ACCEPTED = [
    PINNED,
    "fluxlab @ git+https://gitlab.example/course/fluxlab@v0.1.0",
    "fluxlab @ git+ssh://git@github.com/org/fluxlab@v0.1.0",  # ssh's user name is no secret
    "fluxlab==0.1.0",
    "fluxlab @ https://example.org/dist/fluxlab-0.1.0-py3-none-any.whl#sha256=" + "a" * 64,
    "https://example.org/dist/fluxlab-0.1.0-py3-none-any.whl",
    "https://example.org/dist/fluxlab-0.1.0.tar.gz",
    "https://example.org/dist/fluxlab-0.1.0.tar.gz#sha256=" + "b" * 64,
    "https://example.org/dist/fluxlab-0.1.0.zip#sha256=" + "c" * 64,
]


@pytest.mark.parametrize("spec", ACCEPTED)
def test_pinned_specs_are_accepted(spec: str) -> None:
    assert check_lab_spec(spec) == spec


@pytest.mark.parametrize(
    "spec",
    [
        "fluxlab @ git+https://user:s3cr3t@github.com/org/fluxlab@" + "0" * 40,
        "fluxlab @ git+https://s3cr3t@github.com/org/fluxlab@v0.1.0",  # a token as the user name
        "https://user:s3cr3t@example.org/dist/fluxlab-0.1.0-py3-none-any.whl",
    ],
)
def test_a_spec_with_a_credential_is_refused_without_printing_it(spec: str) -> None:
    """The workflow is committed into the template, so into every student's repository."""
    with pytest.raises(SpecError) as err:
        check_lab_spec(spec)
    assert "credential" in str(err.value) and "s3cr3t" not in str(err.value)


UNPINNED = [
    "fluxlab",
    "fluxlab>=0.1",
    "fluxlab @ git+https://github.com/org/fluxlab",  # PEP 508 ` @ `: still the default branch
    "fluxlab @ git+https://github.com/org/fluxlab@main",  # a branch moves with every push
    "fluxlab @ git+https://github.com/org/fluxlab@release/next",
    "fluxlab @ https://example.org/dist/fluxlab",
    "x'; rm -rf /",
]


@pytest.mark.parametrize("spec", [*UNPINNED, "a ${{ secrets.X }}@1"])
def test_unpinned_or_odd_specs_are_refused(spec: str) -> None:
    with pytest.raises(SpecError):
        check_lab_spec(spec)


def _install_script(text: str) -> str:
    steps = load(text)["jobs"]["run-autograding-tests"]["steps"]
    return str(steps[2]["run"])


@pytest.mark.slow
@pytest.mark.parametrize(
    ("spec", "code", "words"),
    [
        ("", 1, f"::error title=fluxlab is not pinned::{SPEC_VARIABLE} is not set"),
        ("fluxlab", 1, f"::error title=fluxlab is not pinned::{SPEC_VARIABLE}=fluxlab pins no version"),
        # The shell guard and `lab classroom init --lab-spec` tell pins alike.
        *((spec, 1, "pins no version or commit") for spec in UNPINNED[1:]),
        *((spec, 0, f"pip install --quiet --disable-pip-version-check {spec}") for spec in ACCEPTED),
    ],
)
def test_install_step_runs_as_a_shell_script(tmp_path: Path, spec: str, code: int, words: str) -> None:
    from lab.services.classroom import workflow_for

    script = _install_script(workflow_for("09b"))
    bindir = tmp_path / "bin"
    bindir.mkdir()
    fake = bindir / "python"
    fake.write_text('#!/bin/sh\necho "python $*"\n')  # records what would be installed
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    bash = shutil.which("bash") or "/bin/bash"
    proc = subprocess.run(
        [bash, "-e", "-c", script],
        capture_output=True,
        text=True,
        env={"PATH": f"{bindir}:{os.environ['PATH']}", SPEC_VARIABLE: spec},
        timeout=30,
    )
    assert proc.returncode == code, proc.stdout + proc.stderr
    assert words in proc.stdout, proc.stdout


@pytest.mark.slow
def test_every_run_script_is_valid_bash() -> None:
    from lab.services.classroom import workflow_for

    bash = shutil.which("bash") or "/bin/bash"
    docs = [load(workflow_for("09b", PINNED)), load((ROOT / ".github/workflows/ci.yml").read_text())]
    for wf in docs:
        for job in wf["jobs"].values():
            for step in job["steps"]:
                if "run" in step:
                    proc = subprocess.run([bash, "-n", "-c", step["run"]], capture_output=True, text=True)
                    assert proc.returncode == 0, (step["run"], proc.stderr)


def test_project_ci_runs_ci_run_and_grades_nothing() -> None:
    workflows = sorted(p.name for p in (ROOT / ".github" / "workflows").iterdir())
    assert workflows == ["ci.yml"]  # no Classroom workflow grading the tool's own tree
    text = (ROOT / ".github/workflows/ci.yml").read_text()
    wf = load(text)
    common_shape(wf)
    assert {"push", "pull_request"} <= set(wf["on"])
    steps = [s for job in wf["jobs"].values() for s in job["steps"]]
    assert any(s.get("run") == "bash .ci/run" for s in steps)
    assert [s["uses"] for s in steps if "uses" in s] == [CHECKOUT, SETUP_PYTHON]
    assert "lab check" not in text and "autograding" not in text
    assert (ROOT / ".ci" / "run").is_file()


@pytest.mark.slow
def test_classroom_workflow_in_a_pinned_template_keeps_its_pin(tmp_path: Path) -> None:
    repo, text = _practice_workflow(tmp_path, "classroom", "init", "tpl", "--lab-spec", PINNED)
    env = {"HOME": str(tmp_path / "home"), "GIT_CONFIG_NOSYSTEM": "1"}
    proc = _lab("classroom", "workflow", cwd=repo / "apps", env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == text
    # A --lab-spec given still wins over the file's.
    other = "fluxlab==0.2.0"
    proc = _lab("classroom", "workflow", "--lab-spec", other, cwd=repo, env=env)
    assert f"|| '{other}'" in proc.stdout and PINNED not in proc.stdout
