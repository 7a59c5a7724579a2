"""JUnit XML checked against the shape GitLab, Jenkins and the GitHub JUnit actions read."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from lab.core.report.junit import render_junit
from tests.support.reports import sample_report


def parsed() -> ET.Element:
    return ET.fromstring(render_junit(sample_report()).encode())


def test_document_is_testsuites_testsuite_testcase() -> None:
    text = render_junit(sample_report())
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites')
    root = parsed()
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert len(suites) == 1
    cases = suites[0].findall("testcase")
    assert [c.get("name") for c in cases] == [
        "repo.files",
        "image-policy.valid",
        "marker.valid",
        "sync.included",
        "git.pushed",
        "registry.tags",
        "cluster.controllers",
        "quiz.passed",
    ]


def test_counts_match_children() -> None:
    root = parsed()
    suite = root.find("testsuite")
    assert suite is not None
    cases = suite.findall("testcase")
    failures = sum(1 for c in cases if c.find("failure") is not None)
    errors = sum(1 for c in cases if c.find("error") is not None)
    skipped = sum(1 for c in cases if c.find("skipped") is not None)
    for element in (root, suite):
        assert element.get("tests") == str(len(cases))
        assert element.get("failures") == str(failures) == "3"
        assert element.get("errors") == str(errors) == "2"
        float(element.get("time", "x"))
    # Jenkins' xunit junit-10.xsd declares `skipped` on testsuite and refuses it on testsuites.
    assert suite.get("skipped") == str(skipped) == "1"
    assert root.get("skipped") is None


def test_testcase_attributes_jenkins_and_gitlab_read() -> None:
    for case in parsed().iter("testcase"):
        classname = case.get("classname", "")
        assert classname.count(".") == 1  # Jenkins: package.class; GitLab shows it as the suite
        assert re.fullmatch(r"\d+\.\d+", case.get("time", ""))
    marker = next(c for c in parsed().iter("testcase") if c.get("name") == "marker.valid")
    # junit-10.xsd refuses testcase/@file and @line: the location is in the failure text instead.
    assert set(marker.attrib) == {"classname", "name", "time"}
    failure = marker.find("failure")
    assert failure is not None and failure.get("type") == "fail"
    message = failure.get("message", "")
    assert message == "marker names flux-system/nginx; use namespace:name"
    body = failure.text or ""
    assert body.startswith(message)  # old GitLab reads only the body
    assert 'hint: write # {"$imagepolicy": "flux-system:nginx"}' in body
    assert "evidence: apps/base/nginx/deployment.yaml:17" in body
    assert "file: apps/base/nginx/deployment.yaml:17" in body


def test_error_pending_and_skipped_elements() -> None:
    cases = {c.get("name"): c for c in parsed().iter("testcase")}
    err = cases["registry.tags"].find("error")
    assert err is not None and err.get("type") == "error"
    pend = cases["cluster.controllers"].find("error")
    assert pend is not None and pend.get("type") == "pending"
    skipped = cases["git.pushed"].find("skipped")
    assert skipped is not None and skipped.get("message") == "blocked by marker.valid"
    assert len(cases["repo.files"]) == 1 and cases["repo.files"][0].tag == "system-out"


def test_hostile_text_is_stripped_of_ansi_and_illegal_characters() -> None:
    text = render_junit(sample_report())
    assert "\x1b" not in text and "\x07" not in text
    failure = next(c for c in parsed().iter("testcase") if c.get("name") == "sync.included").find("failure")
    assert failure is not None
    assert "redred" not in (failure.text or "") and "red" in (failure.text or "")
    assert "\n" not in failure.get("message", "")


def test_offline_excluded_are_skipped_with_reason() -> None:
    root = ET.fromstring(render_junit(sample_report(offline=True)).encode())
    cases = {c.get("name"): c for c in root.iter("testcase")}
    skipped = cases["registry.tags"].find("skipped")
    assert skipped is not None and (skipped.get("message") or "").startswith("offline")
    props = {p.get("name"): p.get("value") for p in root.iter("property")}
    assert props == {"score": "13", "max_score": "36"}
