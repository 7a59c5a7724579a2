"""`lab policy` and the TUI's policy playground: evaluate an ImagePolicy against a list of tags."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lab.adapters.tagsfile import read_tags
from lab.core.policy import PolicyOutcome, PolicySpec, TagVerdict, explain, resolve
from lab.core.policy.evaluate import DROP_FILTER, DROP_NOT_SEMVER, DROP_OUT_OF_RANGE, DROP_PRERELEASE
from lab.core.record import dataclass
from lab.core.scan import DEFAULT_EXCLUSION, scan_revision, store_tags
from lab.errors import LabError

__all__ = [
    "DEFAULT_EXCLUSION",
    "PolicyRun",
    "evaluate",
    "explain_lines",
    "failure_error",
    "outcome_json",
    "read_tags",
]


@dataclass(frozen=True)
class PolicyRun:
    """The scan (stored tags, revision) and the policy outcome over it; `verdicts` when explained."""

    stored: list[str]
    outcome: PolicyOutcome
    verdicts: tuple[TagVerdict, ...] = ()

    @property
    def revision(self) -> str:
        # Computed on demand: JSON-encoding 100k tags costs more than resolving the policy.
        return scan_revision(self.stored)


def evaluate(
    spec: PolicySpec,
    tags: Sequence[str],
    exclusion_list: Sequence[str] = DEFAULT_EXCLUSION,
    *,
    with_verdicts: bool = False,
) -> PolicyRun:
    """Store the tags as a scan would (exclusions, order), then resolve the policy."""
    stored = store_tags(tags, exclusion_list)
    if with_verdicts:
        outcome, verdicts = explain(spec, stored)
        return PolicyRun(stored, outcome, tuple(verdicts))
    return PolicyRun(stored, resolve(spec, stored))


def explain_lines(run: PolicyRun) -> list[str]:
    """One line per stored tag, in stored order: verdict, tag, and the compared value if different."""
    width = max((len(v.verdict) for v in run.verdicts), default=0)
    return [
        f"{v.verdict:<{width}}  {v.tag}" + (f"  -> {v.value}" if v.value != v.tag else "")
        for v in run.verdicts
    ]


def outcome_json(outcome: PolicyOutcome, verdicts: Sequence[TagVerdict] | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "tag": outcome.tag,
        "considered": outcome.considered,
        "dropped": dict(outcome.dropped),
        "reason": outcome.reason,
        "message": outcome.message,
    }
    if verdicts is not None:
        data["tags"] = [{"tag": v.tag, "verdict": v.verdict, "value": v.value} for v in verdicts]
    return data


def _field(spec: PolicySpec, message: str) -> str:
    filtered = spec.filter_pattern is not None or bool(spec.filter_extract)
    if message.startswith("failed to filter tags") or (
        filtered and message == "version list argument cannot be empty"
    ):
        return "spec.filterTags.pattern"
    return f"spec.policy.{spec.kind}.{'range' if spec.kind == 'semver' else 'order'}"


def _pattern_fix(pattern: str) -> str:
    from lab.core.policy.filter import pattern_fix
    from lab.core.policy.regex import RegexSyntaxError, compile_go

    try:
        compile_go(pattern)
    except RegexSyntaxError as err:
        return pattern_fix(err.code, err.expr)
    return "filterTags.pattern is a Go (RE2) regular expression: no look-around, (?P<name>...) groups"


def _hint(spec: PolicySpec, outcome: PolicyOutcome, total: int) -> str:
    message, dropped = outcome.message, outcome.dropped
    if outcome.reason == "InvalidPolicy":
        if message.startswith("failed to filter tags"):
            return _pattern_fix(spec.filter_pattern or "")
        if spec.kind == "semver":
            return "write a Masterminds range such as 1.25.x, ~1.25 or >=1.25.0 <1.26.0"
        return "order is asc or desc"
    if message.startswith("failed to parse invalid numeric value"):
        return "every candidate must be a number: add a filter pattern such as ^[0-9]+$ (and an extract)"
    if message == "version list argument cannot be empty":
        if total == 0:
            return "there are no tags to choose from"
        return f"the filter pattern matched none of the {total} tags"
    parts = [
        f"{dropped[key]} {label}"
        for key, label in (
            (DROP_FILTER, "filtered out"),
            (DROP_NOT_SEMVER, "not X.Y.Z versions"),
            (DROP_PRERELEASE, "prereleases (add -0 to the range to admit them)"),
            (DROP_OUT_OF_RANGE, "outside the range"),
        )
        if dropped.get(key)
    ]
    return f"of {total} tags: " + ", ".join(parts) if parts else "no tag satisfies the policy"


def failure_error(spec: PolicySpec, run: PolicyRun) -> LabError:
    """A one-line LabError for an outcome that selected nothing."""
    outcome = run.outcome
    return LabError(
        f"{outcome.reason}: {outcome.message}",
        field=_field(spec, outcome.message),
        hint=_hint(spec, outcome, len(run.stored)),
    )
