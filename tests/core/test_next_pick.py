"""`next_pick`: a tag to publish that the policy would select, proved by the policy evaluation itself."""

from __future__ import annotations

from lab.core.policy import PolicySpec, next_pick

BUILDS = ["build-999", "build-1042", "build-1043-rc", "latest", "sha-abc1234"]


def test_a_filtered_numerical_policy_gets_the_next_build_number() -> None:
    spec = PolicySpec("numerical", "asc", "^build-(?P<num>[0-9]+)$", "$num")
    assert next_pick(spec, BUILDS) == "build-1043"


def test_a_semver_range_gets_the_next_patch_and_keeps_the_width_of_a_number() -> None:
    assert next_pick(PolicySpec("semver", "1.25.x"), ["1.24.0", "1.25.3", "1.26.0"]) == "1.25.4"
    assert next_pick(PolicySpec("alphabetical", "asc"), ["main-007", "main-009"]) == "main-010"


def test_nothing_when_the_policy_selects_nothing_or_no_step_is_picked() -> None:
    numerical = PolicySpec("numerical", "asc")
    assert next_pick(numerical, ["latest", "3"]) is None  # 'latest' fails the whole numerical policy
    assert next_pick(PolicySpec("semver", "1.25.3"), ["1.25.3"]) is None  # an exact range takes no other
    # Only steps up are tried: a descending order (the smallest wins) gets no suggestion.
    assert next_pick(PolicySpec("numerical", "desc"), ["3", "5"]) is None
