"""ImagePolicy evaluation: semver, numerical and alphabetical policies with filterTags."""

from lab.core.policy.resolve import (
    PolicyOutcome,
    TagVerdict,
    explain,
    ready_message,
    resolve,
    validate_policy,
)
from lab.core.policy.spec import PolicyKind, PolicySpec

__all__ = [
    "PolicyKind",
    "PolicyOutcome",
    "PolicySpec",
    "TagVerdict",
    "explain",
    "ready_message",
    "resolve",
    "validate_policy",
]
