"""Check engine: result model and DAG runner (pure: no I/O)."""

from lab.core.checks.model import (
    CHECK_KINDS,
    LIVE_KINDS,
    CheckDef,
    CheckKind,
    CheckResult,
    Evidence,
    Outcome,
    Report,
    Status,
)
from lab.core.checks.runner import CheckFn, DefinitionError, run, select, validate_defs, watch

__all__ = [
    "CHECK_KINDS",
    "LIVE_KINDS",
    "CheckDef",
    "CheckFn",
    "CheckKind",
    "CheckResult",
    "DefinitionError",
    "Evidence",
    "Outcome",
    "Report",
    "Status",
    "run",
    "select",
    "validate_defs",
    "watch",
]
