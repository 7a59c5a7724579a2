"""status.observedGeneration moves only when a reconcile settles, as in Flux.

fluxcd/pkg runtime/reconcile `AddPatchOptions` adds `WithStatusObservedGeneration` only when the object
is Stalled or Ready (`conditions.IsStalled(obj) || conditions.IsReady(obj)`); image-reflector-controller
(ImageRepository, ImagePolicy) and image-automation-controller patch their objects with it in every
reconcile's deferred patch. A failure the controller retries keeps the old observedGeneration, with
Ready=False (its condition of the new generation) and Reconciling=True ProgressingWithRetry; kstatus calls
that InProgress, and the lab must still say what is wrong (the Ready message) rather than "pending".

The controllers run against an in-process API server; one `tick()` is one reconcile of each object."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from lab.adapters.registry import ScanResult
from lab.core.kstatus import compute, reconcile_progress, retried_failure
from lab.sandbox.controllers.common import Clock
from lab.sandbox.controllers.reflector import ReflectorController
from lab.sandbox.kubeapi import KubeAPIServer
from tests.support.taskfiles import POLICY, REPO, solution_text

NS = "flux-system"
TAGS = ("1.25.0", "1.25.1", "1.25.3", "1.26.0")
BAD_IMAGE = "library/ngnix"
SCAN_FAILED = "scan failed: GET https://index.docker.io/v2/library/ngnix/tags/list: UNAUTHORIZED"


class FakeRegistry:
    """The registry client the reflector opens: `library/nginx` has TAGS, any other image fails."""

    def __enter__(self) -> FakeRegistry:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def scan(self, image: str, exclusion: Any, check: bool = False) -> ScanResult:
        if image == "library/nginx":
            message = f"successful scan: found {len(TAGS)} tags with checksum 1234"
            return ScanResult("docker.io/library/nginx", TAGS, len(TAGS), TAGS, "1234", message)
        return ScanResult(f"docker.io/{image}", (), 0, (), "", SCAN_FAILED, False, "ReadOperationFailed")

    def digest(self, image: str, tag: str) -> str:
        return ""


@pytest.fixture
def reflector() -> Iterator[ReflectorController]:
    with KubeAPIServer() as api:
        api.put(yaml.safe_load(solution_text(REPO)))
        api.put(yaml.safe_load(solution_text(POLICY)))
        yield ReflectorController(api, FakeRegistry, Clock(speed=1000.0))


def _obj(ctl: ReflectorController, kind: str) -> dict[str, Any]:
    obj = ctl.api.get(kind, "nginx", NS)
    assert obj is not None
    return obj


def _conditions(obj: dict[str, Any]) -> dict[str, tuple[str, str, str, int]]:
    return {
        c["type"]: (c["status"], c["reason"], c["message"], c["observedGeneration"])
        for c in obj["status"]["conditions"]
    }


def _run(ctl: ReflectorController) -> None:
    ctl.schedule.due.clear()  # due now, as after its interval
    ctl.tick()


def _edit(ctl: ReflectorController, kind: str, change: Any) -> int:
    """Change the object's spec (the API server bumps its generation); the new generation."""
    body = copy.deepcopy(_obj(ctl, kind))
    body.pop("status", None)
    change(body["spec"])
    stored = ctl.api.put(body)
    return int(stored["metadata"]["generation"])


def _request(ctl: ReflectorController, kind: str, stamp: str) -> None:
    body = copy.deepcopy(_obj(ctl, kind))
    body.pop("status", None)
    body["metadata"].setdefault("annotations", {})["reconcile.fluxcd.io/requestedAt"] = stamp
    ctl.api.put(body)


def test_a_failed_scan_keeps_the_observed_generation(reflector: ReflectorController) -> None:
    _run(reflector)
    repo = _obj(reflector, "ImageRepository")
    assert repo["status"]["observedGeneration"] == 1
    assert _conditions(repo)["Ready"][0] == "True"

    gen = _edit(reflector, "ImageRepository", lambda s: s.update(image=BAD_IMAGE))
    assert gen == 2
    _request(reflector, "ImageRepository", "t1")
    _run(reflector)
    repo = _obj(reflector, "ImageRepository")
    conds = _conditions(repo)
    assert conds["Ready"] == ("False", "ReadOperationFailed", SCAN_FAILED, gen)
    assert conds["Reconciling"][:2] == ("True", "ProgressingWithRetry")
    assert "Stalled" not in conds
    assert repo["status"]["observedGeneration"] == 1, "a retried failure leaves observedGeneration behind"
    assert repo["status"]["lastHandledReconcileAt"] == "t1", "the request is handled whatever the outcome"

    # What flux reconcile and the lab make of it: InProgress, yet the lab names the failure.
    assert compute(repo).status == "InProgress"
    assert "latest observed generation is 1" in compute(repo).message
    assert reconcile_progress("ImageRepository", repo, None) is None
    assert retried_failure(repo, None) == f"ReadOperationFailed: {SCAN_FAILED}"

    gen = _edit(reflector, "ImageRepository", lambda s: s.update(image="library/nginx"))
    _run(reflector)
    repo = _obj(reflector, "ImageRepository")
    assert repo["status"]["observedGeneration"] == gen == 3
    assert set(_conditions(repo)) == {"Ready"}
    assert compute(repo).status == "Current"


def test_a_first_scan_that_fails_sets_no_observed_generation(reflector: ReflectorController) -> None:
    _edit(reflector, "ImageRepository", lambda s: s.update(image=BAD_IMAGE))
    _run(reflector)
    repo = _obj(reflector, "ImageRepository")
    assert "observedGeneration" not in repo["status"]
    assert _conditions(repo)["Ready"][:2] == ("False", "ReadOperationFailed")


def test_a_policy_retried_or_stalled(reflector: ReflectorController) -> None:
    """A policy that selects nothing fails and is retried (observedGeneration stays); an invalid one
    stalls, which settles the generation (observedGeneration moves, kstatus Failed)."""
    _run(reflector)
    pol = _obj(reflector, "ImagePolicy")
    assert pol["status"]["observedGeneration"] == 1
    assert pol["status"]["latestRef"]["tag"] == "1.25.3"

    gen = _edit(reflector, "ImagePolicy", lambda s: s["policy"]["semver"].update(range="2.0.x"))
    _run(reflector)
    pol = _obj(reflector, "ImagePolicy")
    conds = _conditions(pol)
    assert conds["Ready"][0] == "False" and conds["Ready"][3] == gen
    assert conds["Reconciling"][:2] == ("True", "ProgressingWithRetry")
    assert pol["status"]["observedGeneration"] == 1
    assert compute(pol).status == "InProgress"

    gen = _edit(reflector, "ImagePolicy", lambda s: s.update(policy={"semver": {"range": "not a range"}}))
    _run(reflector)
    pol = _obj(reflector, "ImagePolicy")
    conds = _conditions(pol)
    assert conds["Stalled"][0] == "True" and conds["Ready"][0] == "False"
    assert "Reconciling" not in conds
    assert pol["status"]["observedGeneration"] == gen == 3
    assert compute(pol).status == "Failed"
