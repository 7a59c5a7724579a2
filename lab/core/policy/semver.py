"""The semver policy (IRC `policy/semver.go`)."""

from __future__ import annotations

from collections.abc import Sequence

from lab.core.policy.numerical import PolicyFailure
from lab.core.record import dataclass
from lab.core.semver import Constraints, Version, parse_unless_prerelease, try_parse_version

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
    # The hot loop of `lab policy` over a whole scan: names bound once, counts kept in locals.
    parse = try_parse_version if allows_pre else parse_unless_prerelease
    check = constraints.check
    not_semver = prerelease = out_of_range = 0
    best: Version | None = None
    best_key = None
    for tag in versions:
        v = parse(tag)
        if v is None:
            not_semver += 1
            continue
        if v is True:
            prerelease += 1  # no group admits a prerelease: check() would reject it
            continue
        if not check(v):
            if v.pre and not allows_pre:
                prerelease += 1
            else:
                out_of_range += 1
            continue
        key = v.key
        if best_key is None or key > best_key:
            best, best_key = v, key
    if tally is not None:
        tally.not_semver += not_semver
        tally.prerelease += prerelease
        tally.out_of_range += out_of_range
    if best is None:
        raise PolicyFailure(NO_MATCH)
    return best.original
