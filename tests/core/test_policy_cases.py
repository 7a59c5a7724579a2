"""Every case of tests/fixtures/flux-cases/policy-cases.json, evaluated as Flux 2.9 would."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lab.core.policy import PolicySpec, resolve, validate_policy
from lab.core.scan import store_tags
from tests.support.paths import FLUX_CASES

CASES: list[dict[str, Any]] = json.loads((FLUX_CASES / "policy-cases.json").read_text())


def spec_of(policy: dict[str, Any]) -> PolicySpec:
    filter_tags = policy.get("filterTags")
    pattern = filter_tags.get("pattern", "") if filter_tags is not None else None
    extract = filter_tags.get("extract") if filter_tags is not None else None
    for kind, key in (("semver", "range"), ("alphabetical", "order"), ("numerical", "order")):
        if kind in policy:
            return PolicySpec(kind, policy[kind].get(key, ""), pattern, extract)  # type: ignore[arg-type]
    # An ImagePolicy with no policy at all: not representable as a PolicyKind, as in the CRD.
    return PolicySpec("", "", pattern, extract)  # type: ignore[arg-type]


def test_fixture_is_complete() -> None:
    assert len(CASES) == 240
    assert len({c["id"] for c in CASES}) == 240


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_policy_case(case: dict[str, Any]) -> None:
    spec = spec_of(case["policy"])
    # Stored order is what a scan produces: descending byte order (no exclusions in these cases).
    stored = store_tags(case["tags"], ())
    outcome = resolve(spec, stored)
    expect = case["expect"]
    if isinstance(expect, dict):
        assert (outcome.tag, outcome.reason, outcome.message) == (None, expect["reason"], expect["error"])
        assert outcome.stalled == (expect["reason"] == "InvalidPolicy")
        if expect["reason"] == "InvalidPolicy":
            assert validate_policy(spec) == expect["error"]
    elif expect is None:
        assert (outcome.tag, outcome.reason, outcome.message) == (None, "Failure", case["message"])
        assert not outcome.stalled
    else:
        assert (outcome.tag, outcome.reason, outcome.message) == (expect, "Succeeded", "")
        assert validate_policy(spec) is None
