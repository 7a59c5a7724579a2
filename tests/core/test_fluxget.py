"""`flux get image ...` tables byte for byte (flux2's tablewriter settings)."""

from __future__ import annotations

from typing import Any

import pytest

from lab.core.fluxget import (
    format_get_all,
    format_get_table,
    image_kind,
    ready_condition,
    render_table,
    rfc3339nano,
    status_and_message,
)


def obj(
    name: str, ns: str = "flux-system", spec: dict[str, Any] | None = None, **status: Any
) -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": ns}, "spec": spec or {}, "status": status}


def ready(message: str, status: str = "True", reason: str = "Succeeded") -> list[dict[str, str]]:
    return [
        {"type": "Reconciling", "status": "False", "reason": "x", "message": "other"},
        {"type": "Ready", "status": status, "reason": reason, "message": message},
    ]


POLICY = obj(
    "nginx",
    latestRef={"name": "library/nginx", "tag": "1.25.3"},
    conditions=ready("Latest image tag for library/nginx resolved to 1.25.3"),
)
REPO = obj(
    "nginx",
    lastScanResult={"scanTime": "2026-11-27T03:00:00.123456Z", "tagCount": 57},
    conditions=ready("successful scan: found 57 tags with checksum 3340372741"),
)
UPDATE = obj(
    "flux-system",
    spec={"suspend": True},
    lastAutomationRunTime="2026-11-27T03:01:02Z",
    conditions=ready("repository up-to-date"),
)


def test_policy_table_exact_bytes() -> None:
    pending = obj("web")
    assert format_get_table("policy", [POLICY, pending]) == (
        "NAME \tIMAGE        \tTAG   \tREADY\tMESSAGE                                               \n"
        "nginx\tlibrary/nginx\t1.25.3\tTrue \tLatest image tag for library/nginx resolved to 1.25.3\t\n"
        "web  \t             \t      \tFalse\twaiting to be reconciled                             \t\n"
    )


def test_repository_and_update_tables() -> None:
    assert format_get_table("ImageRepository", [REPO]) == (
        "NAME \tLAST SCAN           \tSUSPENDED\tREADY\t" + "MESSAGE".ljust(55) + " \n"
        "nginx\t2026-11-27T03:00:00Z\tFalse    \tTrue \tsuccessful scan: found 57 tags with checksum 3340372741\t\n"
    )
    assert format_get_table("update", [UPDATE]) == (
        "NAME       \tLAST RUN            \tSUSPENDED\tREADY\t" + "MESSAGE".ljust(21) + " \n"
        "flux-system\t2026-11-27T03:01:02Z\tTrue     \tTrue \trepository up-to-date\t\n"
    )


def test_times_print_in_the_given_zone_like_go() -> None:
    import datetime as dt

    cet = dt.timezone(dt.timedelta(hours=1))
    row = format_get_table("repository", [REPO], tz=cet).splitlines()[1]
    assert row.split("\t")[1] == "2026-11-27T04:00:00+01:00"


def test_all_namespaces_prepends_namespace_column() -> None:
    out = format_get_table("policy", [POLICY, obj("api", "apps")], all_namespaces=True)
    lines = out.splitlines()
    assert lines[0].split("\t")[0:2] == ["NAMESPACE  ", "NAME "]
    assert lines[2].startswith("apps       \tapi  \t")


def test_empty_and_missing_messages() -> None:
    assert format_get_table("policy", []) == '✗ no ImagePolicy objects found in "flux-system" namespace\n'
    assert format_get_table("repository", [], namespace="apps") == (
        '✗ no ImageRepository objects found in "apps" namespace\n'
    )
    assert format_get_table("update", [], all_namespaces=True) == (
        "✗ no ImageUpdateAutomation objects found in any namespace\n"
    )
    assert format_get_table("policy", [POLICY], name="ngnix") == (
        "✗ ImagePolicy object 'ngnix' not found in \"flux-system\" namespace\n"
    )


def test_images_all_uses_kind_names_blank_lines_and_skips_absent_kinds() -> None:
    out = format_get_all({"ImageRepository": [REPO], "ImagePolicy": [POLICY], "ImageUpdateAutomation": None})
    blocks = out.split("\n\n")
    assert blocks[0].splitlines()[1].startswith("imagerepository/nginx\t")
    assert blocks[1].splitlines()[1].startswith("imagepolicy/nginx\t")
    assert blocks[2] == ""
    assert "imageupdateautomation" not in out
    assert format_get_all({"ImagePolicy": []}) == ""


def test_legacy_policy_columns_match_the_seed_output() -> None:
    old = obj(
        "nginx",
        latestImage="library/nginx:1.25.3",
        conditions=ready("Latest image tag for 'library/nginx' resolved to 1.25.3"),
    )
    header, row = format_get_table("policy", [old], legacy=True).splitlines()
    assert header.split("\t")[1].strip() == "LATEST IMAGE"
    assert row.split("\t")[1].strip() == "library/nginx:1.25.3"


def test_no_header_and_multiline_cells() -> None:
    assert render_table([], [["a", "b"]]) == "a\tb\t\n"
    assert render_table(["x", "y"], [["1", "two\nlines"]]) == "X\tY     \n1\ttwo  \t\n  \tlines\t\n"


def test_status_helpers() -> None:
    cond = ready_condition(POLICY)
    assert cond is not None and cond.reason == "Succeeded" and cond.is_true
    assert status_and_message(obj("x")) == ("False", "waiting to be reconciled")
    assert ready_condition({"status": {"conditions": "garbage"}}) is None


@pytest.mark.parametrize(
    ("ns", "text"),
    [
        (1_795_749_615_123_456_789, "2026-11-27T03:20:15.123456789Z"),
        (1_795_749_615_120_000_000, "2026-11-27T03:20:15.12Z"),
        (1_795_749_615_000_000_000, "2026-11-27T03:20:15Z"),
    ],
)
def test_rfc3339nano_trims_zeros_like_go(ns: int, text: str) -> None:
    assert rfc3339nano(ns) == text


def test_kind_aliases() -> None:
    assert image_kind("imgpol") == image_kind("policy") == "ImagePolicy"
    assert image_kind("iua") == "ImageUpdateAutomation"
    with pytest.raises(ValueError, match="unknown image kind"):
        image_kind("helmrelease")


def test_status_selector_filters_rows_like_flux() -> None:
    from lab.core.fluxget import parse_status_selector, status_matches

    failing = obj("broken", conditions=ready("unable to determine latest version", "False", "Failure"))
    assert parse_status_selector("ready=false") == ("ready", "false")
    with pytest.raises(ValueError, match="expected status selector in type=status format, but found: ready"):
        parse_status_selector("ready")
    assert status_matches(failing, ("READY", "False")) and not status_matches(POLICY, ("ready", "false"))
    assert not status_matches(obj("new"), ("ready", "false")), "no condition matches nothing"
    out = format_get_table("policy", [POLICY, failing], status_selector=("ready", "false"))
    assert [line.split("\t")[0] for line in out.splitlines()] == ["NAME  ", "broken"]
    # every row filtered out: flux still prints the header (the list was not empty)
    only_header = format_get_table("policy", [POLICY], status_selector=("ready", "false"))
    assert only_header.splitlines()[0].split() == ["NAME", "IMAGE", "TAG", "READY", "MESSAGE"]
    assert len(only_header.splitlines()) == 1
    no_header = format_get_all(
        {"ImagePolicy": [POLICY, failing]}, no_header=True, status_selector=("ready", "true")
    )
    assert no_header.splitlines()[0].startswith("imagepolicy/nginx\t")
