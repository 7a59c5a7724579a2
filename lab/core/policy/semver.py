"""The semver policy (IRC `policy/semver.go`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lab.core.policy.numerical import PolicyFailure
from lab.core.semver import Constraints, Version, try_parse_version

NO_MATCH = "unable to determine latest version from provided list"


@dataclass
class SemverTally:
    """Why candidates lost: not a version, a prerelease the range does not admit, out of range."""

    not_semver: int = 0
    prerelease: int = 0
    out_of_range: int = 0


def latest_semver(constraints: Constraints, versions: Sequence[str], tally: SemverTally | None = None) -> str:
    """Highest precedence among parsable versions in range; ties keep the first seen."""
    if not versions:
        raise PolicyFailure("version list argument cannot be empty")
    allows_pre = any(constraints.group_has_pre)
    check = constraints.check
    best: Version | None = None
    best_key = None
    for tag in versions:
        v = try_parse_version(tag)
        if v is None:
            if tally is not None:
                tally.not_semver += 1
            continue
        if not check(v):
            if tally is not None:
                if v.pre and not allows_pre:
                    tally.prerelease += 1
                else:
                    tally.out_of_range += 1
            continue
        key = v.key
        if best_key is None or key > best_key:
            best, best_key = v, key
    if best is None:
        raise PolicyFailure(NO_MATCH)
    return best.original
