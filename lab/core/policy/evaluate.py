"""Evaluate an ImagePolicy against stored tags as image-reflector-controller's `applyPolicy` does."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import field
from functools import lru_cache
from types import MappingProxyType
from typing import Literal

from lab.core.policy.alphabetical import latest_alphabetical
from lab.core.policy.filter import InvalidFilter, apply_filter, compile_filter
from lab.core.policy.numerical import PolicyFailure, latest_numerical, normalize_order, parse_go_float
from lab.core.policy.semver import SemverTally, latest_semver
from lab.core.policy.spec import PolicySpec
from lab.core.record import dataclass
from lab.core.semver import ConstraintError, Constraints, new_constraint, try_parse_version

Reason = Literal["Succeeded", "Failure", "InvalidPolicy"]

# Keys of PolicyOutcome.dropped.
DROP_FILTER = "filter"
DROP_DUPLICATE = "same extracted value"
DROP_NOT_SEMVER = "not semver"
DROP_PRERELEASE = "prerelease"
DROP_OUT_OF_RANGE = "out of range"


@dataclass(frozen=True)
class PolicyOutcome:
    """What the policy selected, or why not.

    `reason`/`message` are the ImagePolicy Ready condition's on failure (`message` is "" on success);
    `stalled` marks spec errors Flux does not retry. `considered` counts candidates after filterTags;
    `dropped` counts tags that were not candidates or could not win, by cause.
    """

    tag: str | None
    reason: Reason
    message: str = ""
    stalled: bool = False
    considered: int = 0
    dropped: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def ok(self) -> bool:
        return self.tag is not None


@dataclass(frozen=True)
class _Policer:
    kind: str
    order: str = ""
    constraints: Constraints | None = None


@lru_cache(maxsize=256)
def _constraints(text: str) -> Constraints:
    # Parsed ranges are immutable; replays and the TUI evaluate the same range over and over.
    return new_constraint(text)


def _policer(spec: PolicySpec) -> _Policer:
    """IRC `PolicerFromSpec`; raises ValueError carrying the text after `invalid policy: `."""
    if spec.kind == "semver":
        try:
            return _Policer("semver", constraints=_constraints(spec.value))
        except ConstraintError as err:
            raise ValueError(str(err)) from None
    if spec.kind in ("alphabetical", "numerical"):
        return _Policer(spec.kind, order=normalize_order(spec.value))
    raise ValueError("given ImagePolicyChoice object is invalid")


def _has_filter(spec: PolicySpec) -> bool:
    return spec.filter_pattern is not None or bool(spec.filter_extract)


def validate_policy(spec: PolicySpec) -> str | None:
    """The InvalidPolicy message Flux would report for this spec, or None if it is valid."""
    try:
        _policer(spec)
    except ValueError as err:
        return f"invalid policy: {err}"
    if _has_filter(spec):
        try:
            compile_filter(spec.filter_pattern or "")
        except InvalidFilter as err:
            return f"failed to filter tags: {err}"
    return None


def _invalid(message: str) -> PolicyOutcome:
    return PolicyOutcome(None, "InvalidPolicy", message, stalled=True)


def resolve(spec: PolicySpec, stored_tags: Sequence[str]) -> PolicyOutcome:
    """Select a tag from `stored_tags` (already minus exclusions, in stored order)."""
    try:
        policer = _policer(spec)
    except ValueError as err:
        return _invalid(f"invalid policy: {err}")
    dropped: dict[str, int] = {}
    candidates: Sequence[str] = stored_tags
    original: Mapping[str, str] | None = None
    if _has_filter(spec):
        try:
            regexp = compile_filter(spec.filter_pattern or "")
        except InvalidFilter as err:
            return _invalid(f"failed to filter tags: {err}")
        result = apply_filter(regexp, spec.filter_extract or "", stored_tags)
        candidates, original = result.values, result.original
        dropped[DROP_FILTER] = result.unmatched
        dropped[DROP_DUPLICATE] = result.collapsed
    tally = SemverTally()
    outcome_tag: str | None = None
    reason: Reason = "Succeeded"
    message = ""
    try:
        if policer.constraints is not None:
            chosen = latest_semver(policer.constraints, candidates, tally)
        elif policer.kind == "numerical":
            chosen = latest_numerical(policer.order, candidates)
        else:
            chosen = latest_alphabetical(policer.order, candidates)
    except PolicyFailure as err:
        reason, message = "Failure", str(err)
    else:
        outcome_tag = original[chosen] if original is not None else chosen
    dropped[DROP_NOT_SEMVER] = tally.not_semver
    dropped[DROP_PRERELEASE] = tally.prerelease
    dropped[DROP_OUT_OF_RANGE] = tally.out_of_range
    kept = MappingProxyType({k: v for k, v in dropped.items() if v})
    return PolicyOutcome(outcome_tag, reason, message, False, len(candidates), kept)


@dataclass(frozen=True)
class TagVerdict:
    """Why one stored tag did or did not become the result (for explanations, not for Flux status).

    `verdict` is "selected", "candidate" (took part and lost), or a cause of PolicyOutcome.dropped,
    or "not a number" (which fails a numerical policy). `value` is what the policy compared: the
    filterTags extract, else the tag.
    """

    tag: str
    verdict: str
    value: str


def explain(spec: PolicySpec, stored_tags: Sequence[str]) -> tuple[PolicyOutcome, list[TagVerdict]]:
    """`resolve`, plus a verdict for every stored tag in stored order."""
    outcome = resolve(spec, stored_tags)
    if outcome.reason == "InvalidPolicy":
        return outcome, []
    values: dict[str, str] = {}
    verdicts: dict[str, str] = {}
    if _has_filter(spec):
        regexp = compile_filter(spec.filter_pattern or "")
        owner: dict[str, str] = {}
        for tag in stored_tags:
            m = regexp.search(tag)
            if m is None:
                verdicts[tag] = DROP_FILTER
                continue
            value = regexp.expand(spec.filter_extract, m) if spec.filter_extract else tag
            values[tag] = value
            if value in owner:  # the later tag takes the slot, as in Flux's map
                verdicts[owner[value]] = DROP_DUPLICATE
            owner[value] = tag
    constraints = _constraints(spec.value) if spec.kind == "semver" else None
    allows_pre = constraints is not None and any(constraints.group_has_pre)
    out: list[TagVerdict] = []
    for tag in stored_tags:
        value = values.get(tag, tag)
        verdict = verdicts.get(tag)
        if verdict is None:
            if tag == outcome.tag:
                verdict = "selected"
            elif constraints is not None:
                v = try_parse_version(value)
                if v is None:
                    verdict = DROP_NOT_SEMVER
                elif not constraints.check(v):
                    verdict = DROP_PRERELEASE if v.pre and not allows_pre else DROP_OUT_OF_RANGE
                else:
                    verdict = "candidate"
            elif spec.kind == "numerical" and not _is_number(value):
                verdict = "not a number"
            else:
                verdict = "candidate"
        out.append(TagVerdict(tag, verdict, value))
    return outcome, out


def _is_number(text: str) -> bool:
    try:
        parse_go_float(text)
    except ValueError:
        return False
    return True


def ready_message(image_name: str, tag: str, digest: str = "", previous: str | None = None) -> str:
    """ImagePolicy Ready message (Flux >= 2.6). `previous` is `name:tag[@digest]` of the last result."""
    message = f"Latest image tag for {image_name} resolved to {tag}"
    if digest:
        message += f" with digest {digest}"
    current = f"{image_name}:{tag}" + (f"@{digest}" if digest else "")
    if previous and previous != current:
        message += f" (previously {previous})"
    return message


def passed_over(spec: PolicySpec, stored_tags: Sequence[str], tags: Sequence[str]) -> list[str]:
    """Why the policy does not pick each of `tags` (e.g. the ones published last), in Flux's own terms:
    one line per cause, naming a few tags each, in the order of `tags`. A tag the policy selects gets a
    line of its own; a tag Flux does not store (the exclusion list) is not one of `stored_tags` and is
    said so. `stored_tags` is what the policy chooses from (as `explain` takes it)."""
    outcome, verdicts = explain(spec, stored_tags)
    if outcome.reason == "InvalidPolicy" or outcome.tag is None:
        # Nothing selected (a numerical policy with a tag that is no number fails as a whole): no tag
        # lost to a selected one, whatever each would be on its own. Flux's own message says why.
        return [f"the policy selects none of them: {outcome.message}"]
    by_tag = {v.tag: v for v in verdicts}
    groups: dict[str, list[TagVerdict]] = {}
    for tag in tags:
        found = by_tag.get(tag, TagVerdict(tag, "not stored", tag))
        groups.setdefault(found.verdict, []).append(found)
    return [f"{_some(found)}: {_why_not(spec, verdict, found, outcome)}" for verdict, found in groups.items()]


def next_pick(spec: PolicySpec, stored_tags: Sequence[str]) -> str | None:
    """A tag not among `stored_tags` that the policy would select once published: what it selects now
    with one of its numbers raised by one (the last first: 1.25.3 -> 1.25.4, build-1042 -> build-1043),
    proved by `resolve`. None when the policy selects nothing now, or no such step is picked."""
    current = resolve(spec, stored_tags).tag
    if current is None:
        return None
    for run in reversed(list(re.finditer(r"[0-9]+", current))):
        number = str(int(run.group()) + 1).zfill(len(run.group()))
        candidate = current[: run.start()] + number + current[run.end() :]
        if candidate not in stored_tags and resolve(spec, [*stored_tags, candidate]).tag == candidate:
            return candidate
    return None


def _some(found: Sequence[TagVerdict], shown: int = 3) -> str:
    names = ", ".join(v.tag for v in found[:shown])
    return names + (f" and {len(found) - shown} more" if len(found) > shown else "")


def _why_not(spec: PolicySpec, verdict: str, found: Sequence[TagVerdict], outcome: PolicyOutcome) -> str:
    one = len(found) == 1
    value = found[0].value
    if verdict == "selected":
        return f"selected by the policy ({spec.kind} {spec.value})"
    if verdict == "not stored":
        return "not stored by the ImageRepository: its exclusionList drops them before any policy sees them"
    if verdict == DROP_FILTER:
        return f"left out by filterTags: pattern {spec.filter_pattern!r} does not match {'it' if one else 'them'}"
    if verdict == DROP_DUPLICATE:
        return "filterTags extracts the same value from a later tag, which takes its place"
    if verdict == DROP_NOT_SEMVER:
        what = "not a semver version" if one else "not semver versions"
        return f"{what} ({value!r}): a semver policy ignores {'it' if one else 'them'}"
    if verdict == DROP_PRERELEASE:
        # Masterminds/semver, which Flux uses: a range without a pre-release part admits no pre-release.
        return (
            f"{'a pre-release' if one else 'pre-releases'} in semver terms (the '-…' after the version: "
            f"{value}), and range {spec.value} has no pre-release part: Flux's semver (Masterminds) then "
            f"leaves every pre-release out (a range such as {_with_pre(spec.value)} would admit them)"
        )
    if verdict == DROP_OUT_OF_RANGE:
        return f"outside range {spec.value}"
    if verdict == "not a number":
        return f"not a number ({value!r}): a numerical policy fails on it"
    # A candidate that lost: the policy's order puts the selected tag first.
    if spec.kind == "semver":
        return f"in range {spec.value} but lower than the selected {outcome.tag}"
    return f"in the {spec.kind} order ({spec.value}) the selected {outcome.tag} comes first"


def _with_pre(range_text: str) -> str:
    """The range with Masterminds' lowest pre-release suffix `-0` on its last bound (1.25.x -> 1.25.x-0)."""
    text = range_text.strip()
    single = text and not any(sep in text for sep in (" ", ",", "||"))
    return f"{text}-0" if single else "one with -0 on its bounds"
