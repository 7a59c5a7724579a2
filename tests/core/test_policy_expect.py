"""`pick_mismatch` names the mistake that makes a policy miss the task's tag: a wrong kind or order is
said as such (with the kind/order that picks it), not as a filter that lets a valid build in."""

from __future__ import annotations

from lab.core.policy.expect import pick_mismatch
from lab.core.policy.spec import PolicySpec

BUILDS = ["build-998", "build-999", "build-1000", "build-1041", "build-1042", "build-1043-rc", "latest"]
PATTERN = "^build-(?P<num>[0-9]+)$"


def test_alphabetical_on_build_numbers_is_said_as_the_wrong_kind() -> None:
    missed = pick_mismatch(PolicySpec("alphabetical", "asc", PATTERN, "$num"), BUILDS, "build-1042")
    assert missed is not None and missed.chosen == "build-999"
    assert missed.why == (
        "alphabetical asc compares 999 and 1042 as text, so build-999 comes last; numerical asc selects "
        "build-1042"
    )
    assert missed.fix == "order the tags with policy: numerical: order: asc (not alphabetical asc)"
    assert missed.specific
    assert "tighten" not in missed.fix and "filterTags" not in missed.why


def test_numerical_desc_is_said_as_the_wrong_order() -> None:
    missed = pick_mismatch(PolicySpec("numerical", "desc", PATTERN, "$num"), BUILDS, "build-1042")
    assert missed is not None and missed.chosen == "build-998"
    assert (
        missed.why == "numerical desc selects the lowest value, build-998; numerical asc selects build-1042"
    )
    assert missed.fix == "order the tags with policy: numerical: order: asc (not numerical desc)"


def test_a_filter_that_lets_a_candidate_in_is_still_the_filters_fault() -> None:
    missed = pick_mismatch(
        PolicySpec("numerical", "asc", "build-(?P<num>[0-9]+)", "$num"), BUILDS, "build-1042"
    )
    assert missed is not None and missed.chosen == "build-1043-rc"
    assert missed.fix.startswith("anchor filterTags.pattern")


def test_a_diagnosis_that_only_restates_the_goal_is_not_specific() -> None:
    missed = pick_mismatch(
        PolicySpec("numerical", "asc", "^release-(?P<num>[0-9]+)$", "$num"), BUILDS, "build-1042"
    )
    assert missed is not None and missed.chosen is None
    assert not missed.specific
