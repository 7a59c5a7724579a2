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

from lab.adapters.registry import ScanResult
from lab.core.kstatus import compute, reconcile_progress, retried_failure
from lab.sandbox.controllers.reflector import ReflectorController
from tests.support.reflector_stub import (
    StubRegistry,
    edit_spec,
    nginx_object,
    reconcile_now,
    stub_reflector,
)

BAD_IMAGE = "library/ngnix"
SCAN_FAILED = "scan failed: GET https://index.docker.io/v2/library/ngnix/tags/list: UNAUTHORIZED"


class FakeRegistry(StubRegistry):
    """`library/nginx` has TAGS, any other image fails."""

    failure = SCAN_FAILED


@pytest.fixture
def reflector() -> Iterator[ReflectorController]:
    with stub_reflector(FakeRegistry) as ctl:
        yield ctl


def _conditions(obj: dict[str, Any]) -> dict[str, tuple[str, str, str, int]]:
    return {
        c["type"]: (c["status"], c["reason"], c["message"], c["observedGeneration"])
        for c in obj["status"]["conditions"]
    }


def _request(ctl: ReflectorController, kind: str, stamp: str) -> None:
    body = copy.deepcopy(nginx_object(ctl, kind))
    body.pop("status", None)
    body["metadata"].setdefault("annotations", {})["reconcile.fluxcd.io/requestedAt"] = stamp
    ctl.api.put(body)


def test_a_failed_scan_keeps_the_observed_generation(reflector: ReflectorController) -> None:
    reconcile_now(reflector)
    repo = nginx_object(reflector, "ImageRepository")
    assert repo["status"]["observedGeneration"] == 1
    assert _conditions(repo)["Ready"][0] == "True"

    gen = edit_spec(reflector, "ImageRepository", lambda s: s.update(image=BAD_IMAGE))
    assert gen == 2
    _request(reflector, "ImageRepository", "t1")
    reconcile_now(reflector)
    repo = nginx_object(reflector, "ImageRepository")
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

    gen = edit_spec(reflector, "ImageRepository", lambda s: s.update(image="library/nginx"))
    reconcile_now(reflector)
    repo = nginx_object(reflector, "ImageRepository")
    assert repo["status"]["observedGeneration"] == gen == 3
    assert set(_conditions(repo)) == {"Ready"}
    assert compute(repo).status == "Current"


def test_a_first_scan_that_fails_sets_no_observed_generation(reflector: ReflectorController) -> None:
    edit_spec(reflector, "ImageRepository", lambda s: s.update(image=BAD_IMAGE))
    reconcile_now(reflector)
    repo = nginx_object(reflector, "ImageRepository")
    assert "observedGeneration" not in repo["status"]
    assert _conditions(repo)["Ready"][:2] == ("False", "ReadOperationFailed")


def test_a_policy_retried_or_stalled(reflector: ReflectorController) -> None:
    """A policy that selects nothing fails and is retried (observedGeneration stays); an invalid one
    stalls, which settles the generation (observedGeneration moves, kstatus Failed)."""
    reconcile_now(reflector)
    pol = nginx_object(reflector, "ImagePolicy")
    assert pol["status"]["observedGeneration"] == 1
    assert pol["status"]["latestRef"]["tag"] == "1.25.3"

    gen = edit_spec(reflector, "ImagePolicy", lambda s: s["policy"]["semver"].update(range="2.0.x"))
    reconcile_now(reflector)
    pol = nginx_object(reflector, "ImagePolicy")
    conds = _conditions(pol)
    assert conds["Ready"][0] == "False" and conds["Ready"][3] == gen
    assert conds["Reconciling"][:2] == ("True", "ProgressingWithRetry")
    assert pol["status"]["observedGeneration"] == 1
    assert compute(pol).status == "InProgress"

    gen = edit_spec(reflector, "ImagePolicy", lambda s: s.update(policy={"semver": {"range": "not a range"}}))
    reconcile_now(reflector)
    pol = nginx_object(reflector, "ImagePolicy")
    conds = _conditions(pol)
    assert conds["Stalled"][0] == "True" and conds["Ready"][0] == "False"
    assert "Reconciling" not in conds
    assert pol["status"]["observedGeneration"] == gen == 3
    assert compute(pol).status == "Failed"


# The Reconciling condition a retried failure leaves: the message of the reconcile's last step and the
# reason ProgressingWithRetry. image-reflector-controller v1.2.0 internal/controller/: the
# ImageRepository sets "reconciliation in progress" (imagerepository_controller.go :243), then
# "processing object: new generation <observed> -> <generation>" when they differ (:252-253), then
# "scanning: <shouldScan reason>" (:306); the ImagePolicy the first two (imagepolicy_controller.go
# :306, :309-311). The deferred function turns the reason ProgressingWithRetry (:221-228, :285-292).


def _reconciling(obj: dict[str, Any]) -> tuple[str, str, str, int]:
    return _conditions(obj)["Reconciling"]


def test_a_failed_first_scan_is_retried_as_a_first_scan(reflector: ReflectorController) -> None:
    gen = edit_spec(reflector, "ImageRepository", lambda s: s.update(image=BAD_IMAGE))
    reconcile_now(reflector)
    first = _reconciling(nginx_object(reflector, "ImageRepository"))
    assert first == ("True", "ProgressingWithRetry", "scanning: first scan", gen)
    stamp = next(
        c["lastTransitionTime"]
        for c in nginx_object(reflector, "ImageRepository")["status"]["conditions"]
        if c["type"] == "Reconciling"
    )
    # The retry: lastScanResult is still unset, so shouldScan (:367-369) says "first scan" again.
    reconcile_now(reflector)
    repo = nginx_object(reflector, "ImageRepository")
    assert _reconciling(repo) == first
    assert (
        next(c for c in repo["status"]["conditions"] if c["type"] == "Reconciling")["lastTransitionTime"]
        == stamp
    )


def test_a_failed_scan_of_a_new_image_says_why_it_scanned(reflector: ReflectorController) -> None:
    reconcile_now(reflector)
    assert "Reconciling" not in _conditions(nginx_object(reflector, "ImageRepository"))
    gen = edit_spec(reflector, "ImageRepository", lambda s: s.update(image=BAD_IMAGE))
    _request(reflector, "ImageRepository", "t1")
    reconcile_now(reflector)
    repo = nginx_object(reflector, "ImageRepository")
    assert _reconciling(repo) == ("True", "ProgressingWithRetry", "scanning: reconcile requested", gen)
    # Retried: the request is handled; status.canonicalImageName as Flux keeps it (set only by a
    # successful scan, :336) still names nginx, so the reason is the new image name (:383-389).
    reconcile_now(reflector)
    repo = nginx_object(reflector, "ImageRepository")
    assert _reconciling(repo) == ("True", "ProgressingWithRetry", "scanning: new image name", gen)


class DownRegistry(FakeRegistry):
    """The registry went away: every scan fails."""

    def scan(self, image: str, exclusion: Any, check: bool = False) -> ScanResult:
        return ScanResult(f"docker.io/{image}", (), 0, (), "", SCAN_FAILED, False, "ReadOperationFailed")


def test_a_failed_rescan_says_why_it_scanned(reflector: ReflectorController) -> None:
    """Nothing changed since the last good scan: the interval triggered it, and a retry finds the tags
    of that scan still in Flux's database (a failure deletes none); after a restart the database is
    empty (:403-409), and the scan says so."""
    reconcile_now(reflector)
    reflector.client_factory = DownRegistry
    for _ in range(2):
        reconcile_now(reflector)
        assert _reconciling(nginx_object(reflector, "ImageRepository")) == (
            "True",
            "ProgressingWithRetry",
            "scanning: triggered by interval",
            1,
        )
    reflector.forget_tags()
    reconcile_now(reflector)
    assert _reconciling(nginx_object(reflector, "ImageRepository")) == (
        "True",
        "ProgressingWithRetry",
        "scanning: no tags in database",
        1,
    )


def test_a_retried_policy_failure_names_the_generation(reflector: ReflectorController) -> None:
    """A policy that failed before it ever settled: 0 -> 1; one whose spec changed: 1 -> 2, kept
    while retried (observedGeneration stays); one failing at its settled generation: the first
    message, "reconciliation in progress" (:306)."""
    edit_spec(reflector, "ImageRepository", lambda s: s.update(image=BAD_IMAGE))
    reconcile_now(reflector)
    pol = nginx_object(reflector, "ImagePolicy")
    assert _reconciling(pol) == (
        "True",
        "ProgressingWithRetry",
        "processing object: new generation 0 -> 1",
        1,
    )

    edit_spec(reflector, "ImageRepository", lambda s: s.update(image="library/nginx"))
    reconcile_now(reflector)
    pol = nginx_object(reflector, "ImagePolicy")
    assert pol["status"]["observedGeneration"] == 1
    assert "Reconciling" not in _conditions(pol)

    gen = edit_spec(reflector, "ImagePolicy", lambda s: s["policy"]["semver"].update(range="2.0.x"))
    for _ in range(2):
        reconcile_now(reflector)
        assert _reconciling(nginx_object(reflector, "ImagePolicy")) == (
            "True",
            "ProgressingWithRetry",
            "processing object: new generation 1 -> 2",
            gen,
        )

    edit_spec(reflector, "ImagePolicy", lambda s: s["policy"]["semver"].update(range="1.25.x"))
    reconcile_now(reflector)
    pol = nginx_object(reflector, "ImagePolicy")
    assert pol["status"]["observedGeneration"] == 3
    # A failed scan keeps the tags (:443 is not reached): the policy fails once a restarted
    # controller has none.
    reflector.forget_tags()
    edit_spec(reflector, "ImageRepository", lambda s: s.update(image=BAD_IMAGE))
    reconcile_now(reflector)
    pol = nginx_object(reflector, "ImagePolicy")
    assert _conditions(pol)["Ready"][0] == "False"
    assert _reconciling(pol) == ("True", "ProgressingWithRetry", "reconciliation in progress", 3)


def test_a_new_repository_is_in_progress_for_a_watcher_until_its_first_scan_ends(
    reflector: ReflectorController,
) -> None:
    """image-reflector-controller patches "processing object: new generation 0 -> 1", then
    "scanning: first scan" (Ready Unknown: there is no Ready yet) before the scan's result."""
    from tests.support.kubeapi_helpers import watched_ready

    reconcile_now(reflector)
    seen = watched_ready(reflector.api, "imagerepositories", "nginx")
    assert seen[0] == ("", "", ""), seen  # as created: no status yet
    first = "processing object: new generation 0 -> 1"
    assert seen[1:3] == [
        ("Unknown", first, first),
        ("Unknown", "scanning: first scan", "scanning: first scan"),
    ]
    assert len(seen) == 4 and seen[3][0] == "True" and seen[3][1].startswith("successful scan: found"), seen
