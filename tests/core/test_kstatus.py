"""kstatus as `flux reconcile` computes it (fluxcd/cli-utils pkg/kstatus/status, generic.go and
status.go), and the line `flux reconcile` ends with (flux2 cmd/flux/reconcile.go)."""

from __future__ import annotations

from typing import Any

import pytest

from lab.core.kstatus import Waited, compute, reconcile_progress


def _obj(
    *conds: tuple[str, str, str], generation: int = 2, observed: int | None = 2, **status: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "ImageUpdateAutomation",
        "metadata": {"name": "flux-system", "generation": generation},
        "status": {
            "conditions": [{"type": t, "status": s, "reason": "R", "message": m} for t, s, m in conds],
            "lastHandledReconcileAt": "new",
            **status,
        },
    }
    if observed is not None:
        body["status"]["observedGeneration"] = observed
    return body


READY = ("Ready", "True", "repository up-to-date")
FAILING = ("Ready", "False", "failed to checkout source: unable to clone")
RETRYING = ("Reconciling", "True", "reconciliation in progress")
STALLED = ("Stalled", "True", "template uses removed '.Updated' field")


@pytest.mark.parametrize(
    ("obj", "status", "message"),
    [
        (_obj(READY), "Current", "Resource is Ready"),
        (_obj(), "Current", "Resource is current"),
        (_obj(FAILING, RETRYING), "InProgress", "reconciliation in progress"),
        (_obj(FAILING), "InProgress", "failed to checkout source: unable to clone"),
        (
            _obj(("Ready", "Unknown", "reconciliation in progress")),
            "InProgress",
            "reconciliation in progress",
        ),
        (_obj(("Ready", "False", "x"), STALLED), "Failed", "template uses removed '.Updated' field"),
        (
            _obj(READY, observed=1),
            "InProgress",
            "ImageUpdateAutomation generation is 2, but latest observed generation is 1",
        ),
        (_obj(READY, observed=None), "Current", "Resource is Ready"),
    ],
    ids=[
        "ready",
        "no-conditions",
        "retrying",
        "ready-false",
        "ready-unknown",
        "stalled",
        "old-gen",
        "no-observed",
    ],
)
def test_compute(obj: dict[str, Any], status: str, message: str) -> None:
    result = compute(obj)
    assert (result.status, result.message) == (status, message)


def test_terminating() -> None:
    obj = _obj(READY)
    obj["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    assert compute(obj).status == "Terminating"


def test_flux_reconcile_waits_for_a_handled_request_and_current_status() -> None:
    kind = "ImageUpdateAutomation"
    assert reconcile_progress(kind, _obj(READY), "new") is None, "the request is not handled yet"
    assert reconcile_progress(kind, _obj(FAILING, RETRYING), None) is None, "a failure retries: still waiting"
    assert reconcile_progress(kind, _obj(READY), None) == Waited(True, "repository up-to-date")
    assert reconcile_progress(kind, _obj(("Ready", "False", "x"), STALLED), None) == Waited(
        False, "template uses removed '.Updated' field"
    )
    assert reconcile_progress(kind, _obj(), None) == Waited(False, "status can't be determined")
    policy = _obj(READY, latestRef={"name": "library/nginx", "tag": "1.25.3", "digest": "sha256:ab"})
    assert reconcile_progress("ImagePolicy", policy, None) == Waited(
        True, "selected ref library/nginx:1.25.3@sha256:ab"
    )
    repo = _obj(READY, lastScanResult={"tagCount": 57})
    assert reconcile_progress("ImageRepository", repo, None) == Waited(True, "scan fetched 57 tags")
