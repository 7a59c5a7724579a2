"""ImagePolicy evaluation: semver, numerical and alphabetical policies with filterTags."""

from typing import TYPE_CHECKING

from lab.core.lazy import exports
from lab.core.policy.spec import PolicyKind, PolicySpec

if TYPE_CHECKING:
    from lab.core.policy.evaluate import (
        PolicyOutcome,
        TagVerdict,
        explain,
        next_pick,
        passed_over,
        ready_message,
        resolve,
        validate_policy,
    )

__all__ = [
    "PolicyKind",
    "PolicyOutcome",
    "PolicySpec",
    "TagVerdict",
    "explain",
    "next_pick",
    "passed_over",
    "ready_message",
    "resolve",
    "validate_policy",
]

# The evaluation (the exported names not imported above) is imported on first use: the manifest model
# needs only `PolicySpec` (importing `lab.core.policy.spec` runs this file first), and `lab check
# --offline` never resolves a policy. The module is not named `resolve`: importing it would bind the
# package's `resolve` to the module, shadowing the function for every later
# `from lab.core.policy import resolve`.
__getattr__ = exports(
    __name__, dict.fromkeys((n for n in __all__ if n not in globals()), "lab.core.policy.evaluate")
)
