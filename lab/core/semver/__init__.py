"""Semantic versions and ranges exactly as Flux's semver policy evaluates them."""

from lab.core.semver.constraints import (
    Constraint,
    ConstraintError,
    Constraints,
    new_constraint,
    parse_constraint,
)
from lab.core.semver.version import (
    InvalidVersion,
    Version,
    new_version,
    parse_unless_prerelease,
    parse_version,
    try_parse_version,
)

__all__ = [
    "Constraint",
    "ConstraintError",
    "Constraints",
    "InvalidVersion",
    "Version",
    "new_constraint",
    "new_version",
    "parse_constraint",
    "parse_unless_prerelease",
    "parse_version",
    "try_parse_version",
]
