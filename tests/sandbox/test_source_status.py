"""The sandbox's source-controller and kustomize-controller leave the Reconciling condition of a failed
reconcile as the controllers do: the message of the step that failed, reason ProgressingWithRetry.

- source-controller (gitrepository_controller.go): "reconciliation in progress", or "processing object:
  new generation A -> B" while the spec is newer than the last success; reconcileStorage says "building
  artifact" while there is no artifact yet, before the clone that fails.
- kustomize-controller (kustomization_controller.go `reconcile`): "Building manifests for revision R with a
  timeout of T" for a build that fails, "Detecting drift ..." for an apply that fails, T being
  `GetTimeout()` (spec.timeout, else the interval less 30s, at least 30s). A missing source or artifact
  fails before any step: no Reconciling condition of its own, only one an earlier failure left.

The controllers run against an in-process API server and a practice repository's bare origin; one
`tick()` is one reconcile of each object that is due."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from lab.sandbox.controllers.common import Clock
from lab.sandbox.controllers.source import SourceControllers
from lab.sandbox.kubeapi import KubeAPIServer
from tests.support.sandbox_helpers import git
from tests.support.taskfiles import starter_files

pytestmark = pytest.mark.slow

NS = "flux-system"


@dataclass
class Harness:
    api: KubeAPIServer
    ws: Path
    controllers: SourceControllers

    def tick(self) -> None:
        self.controllers.schedule.due.clear()  # due now, as after an interval
        self.controllers.tick()

    def conditions(self, kind: str) -> dict[str, tuple[str, str, str]]:
        obj = self.api.get(kind, "flux-system", NS)
        assert obj is not None
        return {c["type"]: (c["status"], c["reason"], c["message"]) for c in obj["status"]["conditions"]}

    def edit(self, kind: str, change: dict[str, Any]) -> None:
        obj = copy.deepcopy(self.api.get(kind, "flux-system", NS))
        assert obj is not None
        obj["spec"].update(change)
        obj.pop("status", None)
        self.api.put(obj)

    def revision(self) -> str:
        return "main@sha1:" + git(self.ws, "rev-parse", "HEAD").strip()


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    from lab.sandbox.practice import init_practice_repo

    ws, origin = tmp_path / "ws", tmp_path / "origin.git"
    init_practice_repo(ws, origin=origin, task="09b")
    sync = starter_files()["clusters/dev/flux-system/gotk-sync.yaml"]
    with KubeAPIServer() as api:
        for doc in yaml.safe_load_all(sync):
            if doc and doc["kind"] in ("GitRepository", "Kustomization"):
                api.put(doc)
        yield Harness(api, ws, SourceControllers(api, origin, tmp_path / "cache", Clock(speed=1000.0)))


def test_a_clone_that_fails_before_any_artifact_is_building_one(harness: Harness) -> None:
    harness.edit("GitRepository", {"ref": {"branch": "nope"}})
    harness.tick()
    conds = harness.conditions("GitRepository")
    assert conds["Ready"][:2] == ("False", "GitOperationFailed")
    assert 'couldn\'t find remote ref "refs/heads/nope"' in conds["Ready"][2]
    assert conds["Reconciling"] == ("True", "ProgressingWithRetry", "building artifact")


def test_a_clone_that_fails_after_a_spec_change_names_the_generations(harness: Harness) -> None:
    harness.tick()
    assert harness.conditions("GitRepository")["Ready"][:2] == ("True", "Succeeded")
    harness.edit("GitRepository", {"ref": {"branch": "nope"}})
    harness.tick()
    conds = harness.conditions("GitRepository")
    assert conds["Ready"][:2] == ("False", "GitOperationFailed")
    assert conds["Reconciling"] == (
        "True",
        "ProgressingWithRetry",
        "processing object: new generation 1 -> 2",
    )


def test_a_build_that_fails_names_the_step_revision_and_timeout(harness: Harness) -> None:
    (harness.ws / "clusters/dev/kustomization.yaml").write_text("resources: [\n")
    git(harness.ws, "add", "-A")
    git(harness.ws, "commit", "-qm", "break the build")
    git(harness.ws, "push", "-q")
    harness.tick()
    conds = harness.conditions("Kustomization")
    assert conds["Ready"][:2] == ("False", "BuildFailed"), conds
    timeout = "9m30s"  # the starter's interval, 10m0s, less 30s
    assert conds["Reconciling"] == (
        "True",
        "ProgressingWithRetry",
        f"Building manifests for revision {harness.revision()} with a timeout of {timeout}",
    )

    harness.edit("Kustomization", {"timeout": "2m"})
    harness.tick()
    assert harness.conditions("Kustomization")["Reconciling"][2].endswith("with a timeout of 2m0s")

    # A missing source fails before any step: the condition the build left stays, as Flux leaves it.
    harness.edit("Kustomization", {"sourceRef": {"kind": "GitRepository", "name": "gone"}})
    harness.tick()
    conds = harness.conditions("Kustomization")
    assert conds["Ready"] == ("False", "ArtifactFailed", "Source 'GitRepository/flux-system/gone' not found")
    assert conds["Reconciling"][:2] == ("True", "ProgressingWithRetry")
    assert conds["Reconciling"][2].startswith("Building manifests for revision")


def test_a_missing_source_on_a_first_reconcile_has_no_reconciling_condition(harness: Harness) -> None:
    harness.edit("Kustomization", {"sourceRef": {"kind": "GitRepository", "name": "gone"}})
    harness.tick()
    conds = harness.conditions("Kustomization")
    assert conds["Ready"][:2] == ("False", "ArtifactFailed")
    assert "Reconciling" not in conds


def test_an_apply_that_fails_names_the_drift_step(harness: Harness) -> None:
    (harness.ws / "clusters/dev/widget.yaml").write_text(
        "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n  namespace: default\n"
    )
    git(harness.ws, "add", "-A")
    git(harness.ws, "commit", "-qm", "a kind the cluster does not serve")
    git(harness.ws, "push", "-q")
    harness.tick()
    conds = harness.conditions("Kustomization")
    assert conds["Ready"][:2] == ("False", "ReconciliationFailed"), conds
    assert conds["Reconciling"] == (
        "True",
        "ProgressingWithRetry",
        f"Detecting drift for revision {harness.revision()} with a timeout of 9m30s",
    )


def test_an_unknown_field_fails_the_apply_as_server_side_apply_does(harness: Harness) -> None:
    from tests.support.taskfiles import POLICY, solved_files

    for rel, text in solved_files().items():
        (harness.ws / rel).parent.mkdir(parents=True, exist_ok=True)
        (harness.ws / rel).write_text(text.replace("range: 1.25.x", "rang: 1.25.x"))
    (harness.ws / POLICY).write_text((harness.ws / POLICY).read_text() + "  interval2: 1m\n")
    git(harness.ws, "add", "-A")
    git(harness.ws, "commit", "-qm", "a misspelt field")
    git(harness.ws, "push", "-q")
    harness.tick()
    conds = harness.conditions("Kustomization")
    assert conds["Ready"] == (
        "False",
        "ReconciliationFailed",
        "ImagePolicy/flux-system/nginx dry-run failed: failed to create typed patch object "
        "(flux-system/nginx; image.toolkit.fluxcd.io/v1, Kind=ImagePolicy): errors:\n"
        "  .spec.policy.semver.rang: field not declared in schema\n"
        "  .spec.interval2: field not declared in schema",
    ), conds
    assert harness.api.get("ImagePolicy", "nginx", NS) is None


def test_an_unknown_field_under_metadata_fails_the_apply_too(harness: Harness) -> None:
    """metadata is ObjectMeta to the API server: server-side apply's typed patch refuses `lables`."""
    from tests.support.taskfiles import POLICY, edited, solved_files

    for rel, text in solved_files().items():
        (harness.ws / rel).parent.mkdir(parents=True, exist_ok=True)
        (harness.ws / rel).write_text(text)
    policy = harness.ws / POLICY
    policy.write_text(
        edited(policy.read_text(), "  name: nginx\n", "  name: nginx\n  lables: {app: nginx}\n")
    )
    git(harness.ws, "add", "-A")
    git(harness.ws, "commit", "-qm", "a misspelt metadata field")
    git(harness.ws, "push", "-q")
    harness.tick()
    assert harness.conditions("Kustomization")["Ready"] == (
        "False",
        "ReconciliationFailed",
        "ImagePolicy/flux-system/nginx dry-run failed: failed to create typed patch object "
        "(flux-system/nginx; image.toolkit.fluxcd.io/v1, Kind=ImagePolicy): .metadata.lables: field not "
        "declared in schema",
    )


def test_a_new_revision_is_in_progress_for_a_watcher_before_it_is_stored_and_applied(
    harness: Harness,
) -> None:
    """What `kubectl get -w` shows between a reconcile's start and end: source-controller makes Ready
    Unknown, "building artifact: new upstream revision '<rev>'", until the artifact is stored;
    kustomize-controller patches Ready Unknown "Reconciliation in progress" and each step's Reconciling
    message before the step (fluxcd/pkg `ProgressiveStatus`, kustomization_controller.go `reconcile`)."""
    from tests.support.kubeapi_helpers import watched_ready

    harness.tick()
    (harness.ws / "apps/base/nginx/note.txt").write_text("a change\n")
    git(harness.ws, "add", "-A")
    git(harness.ws, "commit", "-qm", "a new revision")
    git(harness.ws, "push", "-q")
    revision, since = harness.revision(), harness.api.store.rv
    harness.tick()

    building = f"building artifact: new upstream revision '{revision}'"
    assert watched_ready(harness.api, "gitrepositories", "flux-system", since) == [
        ("Unknown", building, building),
        ("True", f"stored artifact for revision '{revision}'", ""),
    ]
    step = f"for revision {revision} with a timeout of 9m30s"
    assert watched_ready(harness.api, "kustomizations", "flux-system", since) == [
        ("Unknown", "Reconciliation in progress", f"Fetching manifests {step}"),
        ("Unknown", "Reconciliation in progress", f"Building manifests {step}"),
        ("Unknown", "Reconciliation in progress", f"Detecting drift {step}"),
        ("True", f"Applied revision: {revision}", ""),
    ]
