"""Mutation testing of an image policy: push tags into the registry data and watch the choice.

A guard is only as good as the tags it refuses. `mutation_test` resolves the policy on the base tag
list (as image-reflector-controller stores it: the ImageRepository's exclusion list applied, then the
policy's filter and sort), then adds each probe tag on its own and resolves again. A `hold` probe (a
trap: pre-release, debug build, feature branch, cosign artefact) must leave the choice unchanged; a
`move` probe (a good release) must become the choice. Pure: the learner's repository is not touched.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from lab.core.policy import resolve
from lab.core.policy.expect import pick_mismatch
from lab.core.policy.spec import PolicySpec
from lab.core.record import dataclass
from lab.core.scan import DEFAULT_EXCLUSION, ScanError, store_tags

Expect = Literal["hold", "move"]


@dataclass(frozen=True)
class Probe:
    tag: str
    expect: Expect
    why: str = ""


@dataclass(frozen=True)
class ProbeResult:
    probe: Probe
    chosen: str | None
    message: str

    @property
    def ok(self) -> bool:
        return self.message == ""


@dataclass(frozen=True)
class MutationReport:
    baseline: str | None
    baseline_problem: str
    results: tuple[ProbeResult, ...]

    @property
    def escaped(self) -> tuple[ProbeResult, ...]:
        return tuple(r for r in self.results if not r.ok)


def _choose(spec: PolicySpec, exclusion: Sequence[str], tags: Sequence[str]) -> tuple[str | None, str]:
    try:
        stored = store_tags(tags, exclusion)
    except ScanError as err:
        return None, err.message
    if not stored:
        return None, "retrying in 30s error: no tags in database"
    outcome = resolve(spec, stored)
    return outcome.tag, outcome.message


def mutation_test(
    spec: PolicySpec,
    exclusion: Sequence[str] | None,
    base_tags: Sequence[str],
    probes: Sequence[Probe],
    *,
    expected_baseline: str | None = None,
) -> MutationReport:
    """Resolve `spec` on `base_tags`, then on `base_tags` plus each probe alone.

    `exclusion` is the ImageRepository's `spec.exclusionList` (None: Flux's default `^.*\\.sig$`).
    """
    excl = DEFAULT_EXCLUSION if exclusion is None else tuple(exclusion)
    baseline, why = _choose(spec, excl, base_tags)
    if baseline is None:
        return MutationReport(None, f"the policy selects nothing: {why}", ())
    if expected_baseline is not None and pick_mismatch(spec, store_tags(base_tags, excl), expected_baseline):
        return MutationReport(
            baseline, f"the policy selects {baseline} from today's tags, not {expected_baseline}", ()
        )
    results: list[ProbeResult] = []
    for probe in probes:
        chosen, why = _choose(spec, excl, [*base_tags, probe.tag])
        message = ""
        if chosen is None:
            message = f"after pushing {probe.tag} the policy selects nothing ({why})"
        elif probe.expect == "hold" and chosen != baseline:
            message = f"trap {probe.tag} got through: the policy moved from {baseline} to {chosen}"
        elif probe.expect == "move" and chosen != probe.tag:
            message = f"good tag {probe.tag} was pushed but the policy stays on {chosen}"
        results.append(ProbeResult(probe, chosen, message))
    return MutationReport(baseline, "", tuple(results))


def excludes(exclusion: Sequence[str] | None, tag: str) -> bool:
    """Whether an ImageRepository with this `spec.exclusionList` drops `tag` before any policy sees it."""
    excl = DEFAULT_EXCLUSION if exclusion is None else tuple(exclusion)
    try:
        return not store_tags([tag], excl)
    except ScanError:
        return False


__all__ = ["Expect", "MutationReport", "Probe", "ProbeResult", "excludes", "mutation_test"]
