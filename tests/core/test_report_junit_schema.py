"""JUnit XML from `lab check` and `lab grade` validated against the schema its consumers read.

tests/fixtures/junit/junit-consumers.xsd encodes the Ant JUnit shape GitLab, Jenkins (junit and xunit's
junit-10.xsd) and the GitHub JUnit actions accept, narrowed to docs/formats.md. What XSD 1.0 cannot say
(counts equal to the children, @message repeated in the body, no XML-illegal character, the location in the
failure text) is checked by `assert_rules`.
Documents come from the real `lab` executable on practice repositories built with `lab init/solve/
simulate`, with the cluster and the registry unreachable, plus a Report built directly for `pending`.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from lab.core.checks import CheckResult, Report, Status
from lab.core.checks.model import Evidence
from lab.core.report.grade_table import ClassReport, GradeRow
from lab.core.report.grade_table import render_junit as render_grades_junit
from lab.core.report.junit import render_junit
from tests.support.labrun import run_lab
from tests.support.paths import FIXTURES, ROOT
from tests.support.practice_copy import copy_practice, practice_template
from tests.support.reports import sample_report

XSD = FIXTURES / "junit" / "junit-consumers.xsd"
TAGS = ROOT / "tasks" / "09b" / "registry" / "nginx-tags-2024-01-15.txt"
XMLSCHEMA_PIN = "xmlschema==4.3.2"
DEAD = "http://127.0.0.1:9"  # discard port: nothing listens, connections are refused at once

# Characters XML 1.0 forbids even as references; ESC among them, so no ANSI code can stand in a document
# (a learner's escape is shown as the text \x1b[31m).
ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@pytest.fixture(scope="module")
def schema() -> Any:
    try:
        import xmlschema
    except ImportError:
        reason = f"xmlschema is not installed ({XMLSCHEMA_PIN} in the test extras)"
        if _in_ci():
            pytest.fail(f"{reason}: CI must validate the JUnit output", pytrace=False)
        pytest.skip(f"{reason}: JUnit schema validation needs it")
    return xmlschema.XMLSchema10(str(XSD))


def schema_errors(schema: Any, text: str) -> list[str]:
    return [str(e.reason) for e in schema.iter_errors(text)]


def assert_valid(schema: Any, text: str) -> None:
    errors = schema_errors(schema, text)
    assert errors == [], errors[:3]


def _norm(text: str) -> str:
    return " ".join(text.split())


def assert_rules(text: str) -> ET.Element:
    """docs/formats.md rules that the XSD cannot express; returns the parsed root."""
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    assert not ILLEGAL.search(text), "XML-illegal character"
    root = ET.fromstring(text.encode("utf-8"))
    assert root.tag == "testsuites"
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    assert root.get("skipped") is None, "junit-10.xsd refuses testsuites/@skipped"
    seen: set[tuple[str, str]] = set()
    for suite in root.findall("testsuite"):
        cases = suite.findall("testcase")
        counts = {
            "tests": len(cases),
            "failures": sum(c.find("failure") is not None for c in cases),
            "errors": sum(c.find("error") is not None for c in cases),
            "skipped": sum(c.find("skipped") is not None for c in cases),
        }
        for key, value in counts.items():
            assert suite.get(key) == str(value), (suite.get("name"), key)
            totals[key] += value
        for case in cases:
            classname, name = case.get("classname", ""), case.get("name", "")
            assert classname.count(".") == 1, classname
            assert (classname, name) not in seen, (classname, name)
            seen.add((classname, name))
            assert case.get("file") is None and case.get("line") is None, "junit-10.xsd refuses them"
            outcomes = [e for e in case if e.tag in ("failure", "error", "skipped")]
            for outcome in outcomes:
                message = outcome.get("message")
                assert message, (name, outcome.tag)
                assert "\n" not in message and "\r" not in message, (name, message)
                # Older GitLab shows only the body: it must carry the message (a capped one minus its "…").
                assert _norm(message).rstrip("…") in _norm(outcome.text or ""), (name, message)
    for key, value in totals.items():
        if key != "skipped":
            assert root.get(key) == str(value), key
    return root


def statuses(root: ET.Element) -> set[str]:
    found = set()
    for case in root.iter("testcase"):
        outcome = next((e for e in case if e.tag in ("failure", "error", "skipped")), None)
        if outcome is None:
            found.add("pass")
        elif outcome.tag == "error":
            found.add(outcome.get("type", "error"))
        else:
            found.add({"failure": "fail"}.get(outcome.tag, outcome.tag))
    return found


# --- documents from the real executable -------------------------------------------------------------


@dataclass(frozen=True)
class Lab:
    root: Path
    env: dict[str, str]
    starter: Path
    solved: Path
    registry_down: Path

    def run(self, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        return run_lab(*args, env=self.env, cwd=cwd or self.root)


def _kubeconfig(path: Path) -> Path:
    path.write_text(
        "apiVersion: v1\nkind: Config\n"
        f"clusters:\n- name: dead\n  cluster: {{server: '{DEAD}'}}\n"
        "contexts:\n- name: dead\n  context: {cluster: dead, user: u}\n"
        "users:\n- name: u\n  user: {}\n"
        "current-context: dead\n"
    )
    return path


#: The tests of `lab`'s documents on one xdist worker: the fixture runs `lab init`, `lab solve` and `lab
#: simulate` (~2 CPU-s), which each worker a test of it lands on would run again.
ONE_LAB = pytest.mark.xdist_group("junit-schema-lab")


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Lab:
    root = tmp_path_factory.mktemp("junit-schema")
    home = root / "home"
    home.mkdir()
    env = dict(os.environ)
    for key in ("LAB_DEBUG", "GIT_DIR", "GIT_WORK_TREE"):
        env.pop(key, None)
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        GIT_CONFIG_NOSYSTEM="1",
        GIT_AUTHOR_NAME="Learner",
        GIT_AUTHOR_EMAIL="learner@example.com",
        GIT_COMMITTER_NAME="Learner",
        GIT_COMMITTER_EMAIL="learner@example.com",
        NO_COLOR="1",
        KUBECONFIG=str(_kubeconfig(root / "kubeconfig")),
    )
    k = Lab(root, env, root / "starter", root / "solved", root / "registry-down")
    # `lab init` and `lab solve` once per process (tests/support/practice_copy), copied here.
    copy_practice(practice_template(tmp_path_factory, "ws"), k.starter)
    copy_practice(practice_template(tmp_path_factory, "ws", "solve"), k.solved)
    proc = k.run("simulate", "-w", str(k.solved), "--tags-file", str(TAGS))
    assert proc.returncode == 0, proc.stderr
    # A solved repository whose ImageRepository names a registry nobody listens on.
    shutil.copytree(k.solved, k.registry_down, symlinks=True)
    manifest = k.registry_down / "clusters/dev/image-automation/image-repository.yaml"
    text = manifest.read_text()
    assert "image: library/nginx" in text
    manifest.write_text(text.replace("image: library/nginx", "image: 127.0.0.1:9/library/nginx"))
    return k


CHECK_CASES = {
    # name: (repo attribute, extra args, statuses the document must show)
    "starter-offline": ("starter", ["--offline"], {"fail", "skipped"}),
    "starter-cluster-down": ("starter", [], {"fail", "error", "skipped"}),
    "solved-offline": ("solved", ["--offline", "--tags-file", str(TAGS)], {"pass", "fail", "skipped"}),
    "solved-cluster-down": ("solved", ["--tags-file", str(TAGS)], {"pass", "fail", "error", "skipped"}),
    "solved-registry-down": ("registry_down", [], {"pass", "fail", "error", "skipped"}),
}


@pytest.mark.slow
@ONE_LAB
@pytest.mark.parametrize("case", list(CHECK_CASES))
def test_lab_check_junit_validates(lab: Lab, schema: Any, case: str) -> None:
    repo_attr, extra, expected = CHECK_CASES[case]
    repo: Path = getattr(lab, repo_attr)
    proc = lab.run("check", "-w", str(repo), "--format", "junit", *extra)
    assert proc.returncode in (1, 3), proc.stderr  # progress and quiz are never done here
    assert_valid(schema, proc.stdout)
    root = assert_rules(proc.stdout)
    assert statuses(root) == expected
    cases = {c.get("name"): c for c in root.iter("testcase")}
    if case.endswith("cluster-down"):
        error = cases["cluster.controllers"].find("error")
        assert error is not None and "127.0.0.1:9" in (error.get("message") or "")
    if case == "solved-registry-down":
        error = cases["registry.tags"].find("error")
        assert error is not None and "127.0.0.1:9" in (error.get("message") or "")
        blocked = cases["policy.resolves"].find("skipped")
        assert blocked is not None and blocked.get("message") == "blocked by registry.tags"


@pytest.mark.slow
@ONE_LAB
def test_lab_check_junit_output_file_validates(lab: Lab, schema: Any) -> None:
    out = lab.root / "report.xml"
    proc = lab.run("check", "-w", str(lab.solved), "-f", "junit", "--offline", "-o", str(out))
    assert proc.returncode in (1, 3), proc.stderr
    assert_valid(schema, out.read_text(encoding="utf-8"))
    assert_rules(out.read_text(encoding="utf-8"))


@pytest.mark.slow
@ONE_LAB
def test_lab_grade_junit_on_two_repos_validates(lab: Lab, schema: Any) -> None:
    proc = lab.run(
        "grade", str(lab.starter), str(lab.solved), "--offline", "--tags-file", str(TAGS), "-f", "junit"
    )
    assert proc.returncode == 0, proc.stderr
    assert_valid(schema, proc.stdout)
    root = assert_rules(proc.stdout)
    assert [s.get("name") for s in root.findall("testsuite")] == ["starter", "solved"]  # as given
    assert statuses(root) == {"pass", "fail", "skipped"}


@pytest.mark.slow
@ONE_LAB
def test_lab_grade_junit_keeps_colliding_students_apart(lab: Lab, schema: Any) -> None:
    # "a.b" and "a_b", and two folders both called alice, sanitise to the same classname; a folder that
    # is not a repository becomes one `error` case.
    klass = lab.root / "class"
    # Each with its own origin: copies sharing the template's would be refused as its submission.
    for rel, src in (("one/alice", lab.starter), ("two/alice", lab.solved), ("a.b", lab.starter)):
        (klass / rel).parent.mkdir(parents=True, exist_ok=True)
        copy_practice(src, klass / rel)
    copy_practice(lab.solved, klass / "a_b")
    (klass / "not-a-repo").mkdir()
    dirs = ["one/alice", "two/alice", "a.b", "a_b", "not-a-repo"]
    proc = lab.run("grade", *dirs, "--offline", "--tags-file", str(TAGS), "-f", "junit", cwd=klass)
    assert proc.returncode == 1, proc.stderr  # not-a-repo could not be graded
    assert_valid(schema, proc.stdout)
    root = assert_rules(proc.stdout)
    suites = root.findall("testsuite")
    assert len(suites) == 5
    classnames = {c.get("classname") for c in root.iter("testcase")}
    assert len(classnames) == 5, classnames
    assert statuses(root) == {"pass", "fail", "error", "skipped"}


# --- documents built directly: pending and hostile text ---------------------------------------------


def _every_status_report() -> Report:
    hostile = "line one\nline two \x1b[?25l\x1b[1;31mred\x1b[0m \x1b]0;title\x07\x00\udcff\ufffe end"
    checks = (
        CheckResult("a.pass", "Passes", Status.PASS, 3, 3, "fine", duration_s=0.25),
        CheckResult(
            "a.fail",
            "Fails",
            Status.FAIL,
            0,
            4,
            hostile,
            hint="fix \x1b[2Kit",
            file="apps/base/nginx/deployment.yaml",
            line=18,
            evidence=(Evidence("file", "apps/base/nginx/deployment.yaml:18", "image: x\x1b[0m"),),
            duration_s=1.5,
        ),
        CheckResult("a.error", "Errors", Status.ERROR, 0, 2, "could not check: " + "x" * 400),
        CheckResult("a.pending", "Pending", Status.PENDING, 0, 2, "controller not ready yet"),
        CheckResult("a.blocked", "Blocked", Status.SKIPPED, 0, 2, "blocked by a.fail", blocked_by="a.fail"),
        CheckResult("a.offline", "Offline", Status.SKIPPED, 0, 2, "offline: cluster checks are not run"),
    )
    return Report(task="09b", checks=checks, started_at="2026-11-27T10:00:00Z")


def test_every_status_with_hostile_text_validates(schema: Any) -> None:
    text = render_junit(_every_status_report())
    assert_valid(schema, text)
    root = assert_rules(text)
    assert statuses(root) == {"pass", "fail", "error", "pending", "skipped"}
    failure = next(c for c in root.iter("testcase") if c.get("name") == "a.fail").find("failure")
    assert failure is not None
    # Escapes are shown as text, as every other format shows them (OSC included); what XML cannot hold
    # even escaped (U+FFFE) dropped.
    assert (
        failure.get("message")
        == r"line one line two \x1b[?25l\x1b[1;31mred\x1b[0m \x1b]0;title\x07\x00\xff end"
    )
    assert (failure.text or "").startswith("line one\n" + r"line two \x1b[?25l")
    long_error = next(c for c in root.iter("testcase") if c.get("name") == "a.error").find("error")
    assert long_error is not None and "x" * 400 in (long_error.get("message") or "")
    assert "x" * 400 in (long_error.text or "")


def test_grade_rows_built_directly_validate(schema: Any) -> None:
    rows = (
        GradeRow("Zoë", "class/zoe", "main", _every_status_report(), duration_s=2.0),
        GradeRow("Zo_", "class/zo", "main", sample_report()),
        GradeRow("ghost", "https://***@127.0.0.1:9/g.git", reason="cannot clone\n\x1b[31mhttps://...\x1b[0m"),
    )
    text = render_grades_junit(ClassReport(task="09b", rows=rows, started_at="2026-11-27T10:00:00Z"))
    assert_valid(schema, text)
    assert statuses(assert_rules(text)) == {"pass", "fail", "error", "pending", "skipped"}


# --- negative controls: the schema and the rule checks can fail ---------------------------------------


def _first_case(root: ET.Element) -> ET.Element:
    case = root.find("testsuite/testcase")
    assert case is not None
    return case


def _case_named(root: ET.Element, name: str) -> ET.Element:
    return next(c for c in root.iter("testcase") if c.get("name") == name)


def _drop_name(root: ET.Element) -> None:
    del _first_case(root).attrib["name"]


def _drop_classname(root: ET.Element) -> None:
    del _first_case(root).attrib["classname"]


def _two_failures(root: ET.Element) -> None:
    case = _case_named(root, "marker.valid")
    case.insert(1, ET.Element("failure", {"message": "again"}))


def _failure_and_skipped(root: ET.Element) -> None:
    _case_named(root, "marker.valid").insert(0, ET.Element("skipped"))


def _decimal_comma(root: ET.Element) -> None:
    _first_case(root).set("time", "1,5")


def _exponent_time(root: ET.Element) -> None:
    _first_case(root).set("time", "1e3")


def _negative_time(root: ET.Element) -> None:
    _first_case(root).set("time", "-0.5")


def _testcase_line(root: ET.Element) -> None:
    _case_named(root, "marker.valid").set("line", "17")


def _root_skipped(root: ET.Element) -> None:
    root.set("skipped", "0")


def _classname_two_dots(root: ET.Element) -> None:
    _first_case(root).set("classname", "fluxlab.task.09b")


def _classname_no_dot(root: ET.Element) -> None:
    _first_case(root).set("classname", "fluxlab")


def _duplicate_case(root: ET.Element) -> None:
    suite = root.find("testsuite")
    assert suite is not None
    suite.insert(2, ET.Element("testcase", dict(_first_case(root).attrib)))


def _multiline_message(root: ET.Element) -> None:
    failure = _case_named(root, "marker.valid").find("failure")
    assert failure is not None
    failure.set("message", "first\nsecond")


def _testcase_file(root: ET.Element) -> None:
    _case_named(root, "marker.valid").set("file", "apps/base/nginx/deployment.yaml")


def _unknown_attribute(root: ET.Element) -> None:
    _first_case(root).set("status", "passed")


def _suite_without_counts(root: ET.Element) -> None:
    suite = root.find("testsuite")
    assert suite is not None
    del suite.attrib["failures"]


def _outcome_after_system_out(root: ET.Element) -> None:
    case = _first_case(root)
    case.append(ET.Element("failure", {"message": "late"}))


NOT_VALID: dict[str, Callable[[ET.Element], None]] = {
    "testcase without name": _drop_name,
    "testcase without classname": _drop_classname,
    "two failure children": _two_failures,
    "failure and skipped": _failure_and_skipped,
    "time 1,5": _decimal_comma,
    "time 1e3": _exponent_time,
    "negative time": _negative_time,
    "testcase/@line": _testcase_line,
    "testsuites/@skipped": _root_skipped,
    "classname with two dots": _classname_two_dots,
    "classname without a dot": _classname_no_dot,
    "duplicate classname and name": _duplicate_case,
    "message on two lines": _multiline_message,
    "testcase/@file": _testcase_file,
    "unknown attribute": _unknown_attribute,
    "testsuite without failures": _suite_without_counts,
    "failure after system-out": _outcome_after_system_out,
}


def _mutated(mutate: Callable[[ET.Element], None]) -> str:
    root = ET.fromstring(render_junit(sample_report()).encode())
    mutate(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def test_unmutated_control_document_validates(schema: Any) -> None:
    assert_valid(schema, _mutated(lambda _root: None))


@pytest.mark.parametrize("mutation", list(NOT_VALID))
def test_schema_rejects(schema: Any, mutation: str) -> None:
    assert schema_errors(schema, _mutated(NOT_VALID[mutation])) != []


def test_schema_rejects_a_bare_testsuite_root(schema: Any) -> None:
    root = ET.fromstring(render_junit(sample_report()).encode())
    suite = root.find("testsuite")
    assert suite is not None
    assert schema_errors(schema, ET.tostring(suite, encoding="unicode")) != []


def _wrong_count(root: ET.Element) -> None:
    suite = root.find("testsuite")
    assert suite is not None
    suite.set("failures", "2")


def _wrong_total(root: ET.Element) -> None:
    root.set("tests", "99")


def _message_not_in_body(root: ET.Element) -> None:
    failure = _case_named(root, "marker.valid").find("failure")
    assert failure is not None
    failure.text = "see the log"


def _raw_escape(root: ET.Element) -> None:
    failure = _case_named(root, "marker.valid").find("failure")
    assert failure is not None
    failure.text = (failure.text or "") + " \x1b[31mred\x1b[0m"


def _empty_message(root: ET.Element) -> None:
    skipped = _case_named(root, "git.pushed").find("skipped")
    assert skipped is not None
    del skipped.attrib["message"]


RULE_BREAKS: dict[str, Callable[[ET.Element], None]] = {
    "suite count off": _wrong_count,
    "root total off": _wrong_total,
    "message missing from the body": _message_not_in_body,
    "raw ESC": _raw_escape,
    "skipped without message": _empty_message,
    "duplicate classname and name": _duplicate_case,
    "classname with two dots": _classname_two_dots,
    "testcase/@file": _testcase_file,
    "testsuites/@skipped": _root_skipped,
}


def test_unmutated_control_document_keeps_the_rules() -> None:
    assert_rules(_mutated(lambda _root: None))


@pytest.mark.parametrize("mutation", list(RULE_BREAKS))
def test_rule_checks_catch(mutation: str) -> None:
    with pytest.raises(AssertionError):
        assert_rules(_mutated(RULE_BREAKS[mutation]))
