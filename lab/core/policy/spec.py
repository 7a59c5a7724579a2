"""The policy part of an ImagePolicy spec, independent of API version and YAML."""

from __future__ import annotations

from typing import Literal

from lab.core.record import dataclass

PolicyKind = Literal["semver", "numerical", "alphabetical"]


@dataclass(frozen=True)
class PolicySpec:
    """`spec.policy` plus `spec.filterTags` of an ImagePolicy.

    `value` is the semver range for `semver`, the order (`asc`/`desc`) otherwise.
    """

    kind: PolicyKind
    value: str
    filter_pattern: str | None = None
    filter_extract: str | None = None
