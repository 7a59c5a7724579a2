"""The alphabetical policy (IRC `policy/alphabetical.go`): byte order, case-sensitive."""

from __future__ import annotations

from collections.abc import Sequence

from lab.core.policy.numerical import DESC, PolicyFailure


def latest_alphabetical(order: str, versions: Sequence[str]) -> str:
    """ASC picks the greatest string, DESC the least (Python's code point order = Go's byte order)."""
    if not versions:
        raise PolicyFailure("version list argument cannot be empty")
    return min(versions) if order == DESC else max(versions)
