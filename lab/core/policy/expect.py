"""Whether a policy selects the tag a task expects from the task's tags, and why not.

A policy can select *a* tag and still be wrong: an unanchored `main-[a-f0-9]+-(?P<ts>.*)` lets
`fix-main-5a4b3c2-20240229081500` in, and Flux deploys a fix branch. A task names the tag its policy
must select (checks.toml `expect_tag` / `expect_tags` of `policy.resolves`, `expect` of a guard's
`[exercise.<name>]` table); `pick_mismatch` is the one comparison both use, with the reason in the
policy's own terms (which tag got through the filter, which value sorts after which).
"""

from __future__ import annotations

from collections.abc import Sequence

from lab.core.policy.spec import PolicySpec
from lab.core.record import dataclass


@dataclass(frozen=True)
class PickMismatch:
    """`chosen` (None: nothing) where `expected` was due; `why` is a clause, `fix` what to change.
    `specific`: the fix names the change (a kind, an order, an anchor); False when it only restates the
    goal ("make the policy select ..."), where a task's own hint for the check says more."""

    chosen: str | None
    expected: str
    why: str
    fix: str
    specific: bool = True
    field: str | None = None
    """The ImagePolicy field at fault when the mismatch knows (`spec.policy` for a kind or order)."""


def _anchored(pattern: str) -> bool:
    return pattern.startswith("^") and pattern.endswith("$")


def _policy_words(spec: PolicySpec) -> str:
    return f"semver range {spec.value}" if spec.kind == "semver" else f"{spec.kind} {spec.value}"


def _reordered(spec: PolicySpec, stored_tags: Sequence[str], expected: str) -> PolicySpec | None:
    """The same filter with another order, then another kind (asc first), that selects `expected`: a
    kind or order mistake is the first thing to say, before blaming the filter for a valid tag."""
    from dataclasses import replace

    from lab.core.policy.evaluate import resolve

    tries: list[PolicySpec] = []
    if spec.kind != "semver":
        tries.append(replace(spec, value="desc" if spec.value.strip().lower() == "asc" else "asc"))
    for kind in ("numerical", "alphabetical"):
        if kind != spec.kind:
            tries += [replace(spec, kind=kind, value="asc"), replace(spec, kind=kind, value="desc")]
    return next((t for t in tries if resolve(t, stored_tags).tag == expected), None)


def _misordered(
    spec: PolicySpec, other: PolicySpec, chosen: str, chosen_value: str, expected: str, expected_value: str
) -> PickMismatch:
    mine, theirs = _policy_words(spec), _policy_words(other)
    if other.kind == spec.kind:
        end = "lowest" if spec.value.strip().lower() == "desc" else "highest"
        why = f"{mine} selects the {end} value, {chosen}; {theirs} selects {expected}"
    elif spec.kind == "alphabetical":
        place = "first" if spec.value.strip().lower() == "desc" else "last"
        why = (
            f"{mine} compares {chosen_value} and {expected_value} as text, so {chosen} comes {place}; "
            f"{theirs} selects {expected}"
        )
    else:
        why = f"{mine} selects {chosen}; {theirs} selects {expected}"
    fix = f"order the tags with policy: {other.kind}: order: {other.value} (not {mine})"
    return PickMismatch(chosen, expected, why, fix, field="spec.policy")


def _winner(
    spec: PolicySpec, chosen: str, chosen_value: str, expected: str, expected_value: str
) -> tuple[str, str, bool]:
    """(why, fix, specific) when `expected` took part and `chosen` beat it."""
    pattern = spec.filter_pattern
    if spec.kind == "semver":
        beat = f"{chosen_value} is a higher version than {expected_value} in {_policy_words(spec)}"
    else:
        beat = (
            f"its {chosen_value} sorts {'before' if spec.value.lower() == 'desc' else 'after'} "
            f"{expected_value} ({_policy_words(spec)})"
        )
    if pattern:
        why = f"{chosen} matches filterTags.pattern {pattern} too, and {beat}"
        if not _anchored(pattern):
            fix = (
                f"anchor filterTags.pattern with ^ and $ so that only tags shaped like {expected} match "
                f"({chosen} must not)"
            )
        else:
            fix = f"tighten filterTags.pattern so that {chosen} does not match and {expected} still does"
        return why, fix, True
    why = f"{chosen} takes part too, and {beat}"
    if spec.kind == "semver":
        return why, f"narrow the semver range so that {chosen} falls outside and {expected} stays in", False
    return why, f"add a filterTags.pattern that keeps only tags shaped like {expected}", False


def pick_mismatch(spec: PolicySpec, stored_tags: Sequence[str], expected: str) -> PickMismatch | None:
    """None when `spec` selects `expected` from `stored_tags` (as the image's scan stored them), else
    what it selects instead and why."""
    from lab.core.policy.evaluate import (
        DROP_DUPLICATE,
        DROP_FILTER,
        DROP_NOT_SEMVER,
        DROP_OUT_OF_RANGE,
        DROP_PRERELEASE,
        explain,
    )

    outcome, verdicts = explain(spec, stored_tags)
    chosen = outcome.tag
    if chosen == expected:
        return None
    if chosen is None:
        return PickMismatch(
            None,
            expected,
            f"it selects nothing ({outcome.message})",
            f"make the policy select {expected}",
            specific=False,
        )
    by_tag = {v.tag: v for v in verdicts}
    mine = by_tag.get(expected)
    if mine is None:
        return PickMismatch(
            chosen,
            expected,
            f"{expected} is not among the {len(stored_tags)} tags",
            f"the task's expectation names a tag its image does not have: list {expected} in its tags",
        )
    value = f" (extracted {mine.value})" if mine.value != expected else ""
    verdict = mine.verdict
    if verdict == DROP_FILTER:
        return PickMismatch(
            chosen,
            expected,
            f"filterTags.pattern {spec.filter_pattern} does not match {expected}",
            f"make filterTags.pattern match tags shaped like {expected}",
            specific=False,
        )
    if verdict == DROP_DUPLICATE:
        return PickMismatch(
            chosen,
            expected,
            f"{expected} extracts {mine.value}, as a later tag does, which takes its place",
            "extract a value that tells the tags apart",
            specific=False,
        )
    if verdict == DROP_NOT_SEMVER:
        return PickMismatch(
            chosen,
            expected,
            f"{expected}{value} is no semver version",
            "extract a semver version, or order the tags alphabetically or numerically",
        )
    if verdict in (DROP_PRERELEASE, DROP_OUT_OF_RANGE):
        what = "a pre-release, which" if verdict == DROP_PRERELEASE else "outside"
        return PickMismatch(
            chosen,
            expected,
            f"{expected}{value} is {what} {_policy_words(spec)}"
            + (" leaves out" if verdict == DROP_PRERELEASE else ""),
            f"a semver range that includes {mine.value}",
        )
    if verdict == "not a number":
        return PickMismatch(
            chosen,
            expected,
            f"{expected}{value} is not a number",
            "extract the digits only, e.g. (?P<ts>[0-9]+) with extract $ts",
        )
    winner = by_tag.get(chosen)
    chosen_value = winner.value if winner else chosen
    other = _reordered(spec, stored_tags, expected)
    if other is not None:
        return _misordered(spec, other, chosen, chosen_value, expected, mine.value)
    why, fix, specific = _winner(spec, chosen, chosen_value, expected, mine.value)
    return PickMismatch(chosen, expected, why, fix, specific=specific)


__all__ = ["PickMismatch", "pick_mismatch"]
