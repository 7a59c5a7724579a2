"""The published JSON Schemas (docs/results.schema.json, docs/grades.schema.json) accept what `lab check
--format json` and `lab grade --format json` write, from the real executable on real repositories, and
refuse documents that break the contract (negative controls: the schemas can fail)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from lab.core.report.grade_table import ClassReport, GradeRow
from lab.core.report.grade_table import render_json as render_grades_json
from lab.core.report.json import render_json
from tests.support.labrun import run_lab
from tests.support.paths import ROOT
from tests.support.practice_copy import copy_practice, practice_template
from tests.support.reports import sample_report

DOCS = ROOT / "docs"
TAGS = ROOT / "tasks" / "09b" / "registry" / "nginx-tags-2024-01-15.txt"


def _validator(name: str) -> Any:
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource

    schemas = {p.name: json.loads(p.read_text(encoding="utf-8")) for p in DOCS.glob("*.schema.json")}
    registry: Registry[Any] = Registry().with_resources(
        (uri, Resource.from_contents(schema)) for n, schema in schemas.items() for uri in (schema["$id"], n)
    )
    Draft202012Validator.check_schema(schemas[name])
    return Draft202012Validator(schemas[name], registry=registry)


@pytest.fixture(scope="module")
def results() -> Any:
    return _validator("results.schema.json")


@pytest.fixture(scope="module")
def grades() -> Any:
    return _validator("grades.schema.json")


def errors(validator: Any, doc: Any) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(doc)]


@pytest.fixture(scope="module")
def repos(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, str]]:
    import os

    root = tmp_path_factory.mktemp("schemas")
    env = {k: v for k, v in os.environ.items() if k not in ("LAB_DEBUG", "GIT_DIR", "GIT_WORK_TREE")}
    env.update(
        HOME=str(root),
        XDG_CONFIG_HOME=str(root / ".config"),
        GIT_CONFIG_NOSYSTEM="1",
        GIT_AUTHOR_NAME="Learner",
        GIT_AUTHOR_EMAIL="learner@example.com",
        GIT_COMMITTER_NAME="Learner",
        GIT_COMMITTER_EMAIL="learner@example.com",
        NO_COLOR="1",
        KUBECONFIG=str(root / "no-kubeconfig"),
    )
    # `lab init` and `lab solve` once per process (tests/support/practice_copy), copied here.
    starter = copy_practice(practice_template(tmp_path_factory, "ws"), root / "class" / "starter")
    solved = copy_practice(practice_template(tmp_path_factory, "ws", "solve"), root / "class" / "solved")
    return starter, solved, env


@pytest.mark.slow
@pytest.mark.parametrize("which", ["starter", "solved"])
def test_lab_check_json_validates(results: Any, repos: tuple[Path, Path, dict[str, str]], which: str) -> None:
    starter, solved, env = repos
    repo = starter if which == "starter" else solved
    proc = run_lab(
        "check", "-w", str(repo), "--format", "json", "--offline", "--tags-file", str(TAGS), env=env, cwd=repo
    )
    assert proc.returncode in (1, 3), proc.stderr
    doc = json.loads(proc.stdout)
    assert errors(results, doc) == []
    assert {c["status"] for c in doc["checks"]} >= {"fail", "skipped"}


@pytest.mark.slow
def test_lab_grade_json_validates(grades: Any, repos: tuple[Path, Path, dict[str, str]]) -> None:
    starter, _solved, env = repos
    (starter.parent / "not-a-repo").mkdir(exist_ok=True)
    proc = run_lab("grade", str(starter.parent), "--offline", "--format", "json", env=env, cwd=starter.parent)
    assert proc.returncode == 1, proc.stderr  # not-a-repo could not be graded
    doc = json.loads(proc.stdout)
    assert errors(grades, doc) == []
    assert {r["status"] for r in doc["repos"]} == {"fail", "error"}


def test_every_status_validates(results: Any, grades: Any) -> None:
    doc = json.loads(render_json(sample_report()))
    assert errors(results, doc) == []
    rows = (
        GradeRow("a", "r", "main", sample_report(), note="not pushed", records_task="09b-multi"),
        GradeRow("b", "r2", reason="cannot clone"),
    )
    assert errors(grades, json.loads(render_grades_json(ClassReport("09b", rows)))) == []


def _mutations() -> dict[str, tuple[str, Any]]:
    def drop_score(d: dict[str, Any]) -> None:
        del d["score"]

    def bad_status(d: dict[str, Any]) -> None:
        d["checks"][0]["status"] = "passed"

    def extra_key(d: dict[str, Any]) -> None:
        d["checks"][0]["severity"] = "high"

    def line_zero(d: dict[str, Any]) -> None:
        d["checks"][0]["line"] = 0

    def float_points(d: dict[str, Any]) -> None:
        d["score"] = 7.5

    def wrong_schema(d: dict[str, Any]) -> None:
        d["schema"] = "fluxlab.results/2"

    def ungraded_with_status(d: dict[str, Any]) -> None:
        d["repos"][1]["status"] = "pass"

    def graded_without_max(d: dict[str, Any]) -> None:
        d["repos"][0]["max_score"] = None

    def graded_without_score(d: dict[str, Any]) -> None:
        d["repos"][0]["score"] = None

    def ungraded_with_a_score(d: dict[str, Any]) -> None:
        d["repos"][1]["score"] = 0

    def nested_check_bad(d: dict[str, Any]) -> None:
        d["repos"][0]["checks"][0]["evidence"] = [{"kind": "file"}]

    return {
        "no score": ("results", drop_score),
        "unknown status": ("results", bad_status),
        "unknown key": ("results", extra_key),
        "line 0": ("results", line_zero),
        "fractional score": ("results", float_points),
        "other schema id": ("results", wrong_schema),
        "ungraded row that passes": ("grades", ungraded_with_status),
        "graded row without max": ("grades", graded_without_max),
        "graded row without score": ("grades", graded_without_score),
        "ungraded row with a score": ("grades", ungraded_with_a_score),
        "check inside a row": ("grades", nested_check_bad),
    }


MUTATIONS = _mutations()


@pytest.mark.parametrize("name", list(MUTATIONS))
def test_schemas_refuse(results: Any, grades: Any, name: str) -> None:
    which, mutate = MUTATIONS[name]
    if which == "results":
        doc = json.loads(render_json(sample_report()))
        validator = results
    else:
        rows = (GradeRow("a", "r", "main", sample_report()), GradeRow("b", "r2", reason="cannot clone"))
        doc = json.loads(render_grades_json(ClassReport("09b", rows)))
        validator = grades
    assert errors(validator, doc) == []
    broken = copy.deepcopy(doc)
    mutate(broken)
    assert errors(validator, broken) != []
