"""kstatus, as `flux reconcile` computes it (fluxcd/cli-utils pkg/kstatus/status `Compute`), for Flux's
custom resources, and what `flux reconcile` does with it while it waits (flux2 cmd/flux/reconcile.go).

`Compute` for a kind with no built-in rules: a deletionTimestamp is Terminating; a status.observedGeneration
other than metadata.generation is InProgress; Reconciling=True is InProgress; Stalled=True is Failed with
its message; then the Ready condition: True is Current, False or Unknown InProgress; no Ready condition
at all is Current ("Resource is current").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from lab.core.fluxget import conditions, ready_condition
from lab.core.record import dataclass

Status = Literal["Current", "InProgress", "Failed", "Terminating"]


@dataclass(frozen=True)
class Result:
    status: Status
    message: str


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def compute(obj: Mapping[str, Any]) -> Result:
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), Mapping) else {}
    status = obj.get("status") if isinstance(obj.get("status"), Mapping) else {}
    assert isinstance(meta, Mapping) and isinstance(status, Mapping)
    if meta.get("deletionTimestamp"):
        return Result("Terminating", "Resource scheduled for deletion")
    generation, observed = _int(meta.get("generation")), _int(status.get("observedGeneration"))
    if generation is not None and observed is not None and observed != generation:
        kind = str(obj.get("kind", ""))
        return Result(
            "InProgress", f"{kind} generation is {generation}, but latest observed generation is {observed}"
        )
    for cond in conditions(obj):
        if cond.type == "Reconciling" and cond.status == "True":
            return Result("InProgress", cond.message)
        if cond.type == "Stalled" and cond.status == "True":
            return Result("Failed", cond.message)
    for cond in conditions(obj):
        if cond.type != "Ready":
            continue
        if cond.status == "True":
            return Result("Current", "Resource is Ready")
        if cond.status in ("False", "Unknown"):
            return Result("InProgress", cond.message)
    return Result("Current", "Resource is current")


@dataclass(frozen=True)
class Waited:
    """What `flux reconcile` prints once the object is done: the ✔ or ✗ line (without the mark)."""

    ok: bool
    line: str


def success_message(kind: str, obj: Mapping[str, Any]) -> str:
    """The reconcilable's successMessage() (flux2 reconcile_image_*.go, image.go)."""
    status = obj.get("status") if isinstance(obj.get("status"), Mapping) else {}
    assert isinstance(status, Mapping)
    if kind == "ImageRepository":
        scan = status.get("lastScanResult") if isinstance(status.get("lastScanResult"), Mapping) else {}
        assert isinstance(scan, Mapping)
        return f"scan fetched {_int(scan.get('tagCount')) or 0} tags"
    if kind == "ImagePolicy":
        ref = status.get("latestRef")
        if isinstance(ref, Mapping) and ref.get("tag"):
            digest = f"@{ref['digest']}" if ref.get("digest") else ""
            return f"selected ref {ref.get('name', '')}:{ref.get('tag')}{digest}"
        return f"selected ref {status.get('latestImage', '')}"
    ready = ready_condition(obj)
    if ready is not None:
        return ready.message
    if status.get("lastAutomationRunTime"):
        return f"last run {status['lastAutomationRunTime']}"
    return "automation not yet run"


def _handled(obj: Mapping[str, Any], previous_handled: str | None) -> bool:
    """flux2 `reconciliationHandled`'s first test: status.lastHandledReconcileAt is no longer the one
    seen before annotating (the controller has taken the request)."""
    status = obj.get("status") if isinstance(obj.get("status"), Mapping) else {}
    assert isinstance(status, Mapping)
    handled = status.get("lastHandledReconcileAt")
    return (str(handled) if handled else None) != previous_handled


def reconcile_progress(kind: str, obj: Mapping[str, Any], previous_handled: str | None) -> Waited | None:
    """One poll of `flux reconcile` (reconciliationHandled, then run's end): None while it keeps
    waiting - the controller has not handled a new request (status.lastHandledReconcileAt still the one
    seen before annotating) or kstatus says InProgress; else the line it ends with."""
    if not _handled(obj, previous_handled):
        return None
    result = compute(obj)
    if result.status == "InProgress":
        return None
    if result.status != "Current":
        return Waited(False, result.message)
    ready = ready_condition(obj)
    if ready is None:
        return Waited(False, "status can't be determined")
    if not ready.is_true:
        return Waited(False, f"{kind} reconciliation failed: '{ready.message}'")
    return Waited(True, success_message(kind, obj))


def retried_failure(obj: Mapping[str, Any], previous_handled: str | None) -> str | None:
    """Where flux is silent: the controller handled the request, failed and will retry
    (Reconciling=True, Ready=False), so `flux reconcile` waits out its --timeout saying nothing. The
    Ready condition as one line (`GitOperationFailed: ...`), or None when that is not the case."""
    if not _handled(obj, previous_handled) or compute(obj).status != "InProgress":
        return None
    ready = ready_condition(obj)
    if ready is None or ready.status != "False":
        return None
    return f"{ready.reason}: {ready.message}" if ready.reason else ready.message
