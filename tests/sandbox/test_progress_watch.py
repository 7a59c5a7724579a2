"""A watcher (`kubectl get -w`, `flux get --watch`) sees what Flux's controllers patch while they work,
not only each reconcile's end: fluxcd/pkg `ProgressiveStatus` + the patch before each step.

- source-controller: a new upstream revision makes Ready Unknown, "building artifact: new upstream
  revision '<rev>'", until the artifact is stored.
- kustomize-controller: Ready Unknown "Reconciliation in progress", Reconciling "Fetching manifests ...",
  "Building manifests ...", "Detecting drift ..." before each step, then Ready True.
- image-reflector-controller: a new ImageRepository is Ready Unknown, "processing object: new generation
  0 -> 1", then "scanning: first scan", before its first scan ends.

Against the in-process API server: its watch history is what a watch delivers, one event per write."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from lab.sandbox.controllers.common import Clock
from lab.sandbox.controllers.source import SourceControllers
from lab.sandbox.kubeapi import KubeAPIServer
from tests.support.reflector_stub import StubRegistry, reconcile_now, stub_reflector
from tests.support.sandbox_helpers import git
from tests.support.taskfiles import starter_files

pytestmark = pytest.mark.slow


def _seen(
    api: KubeAPIServer, plural: str, since: int, name: str = "flux-system"
) -> list[tuple[str, str, str]]:
    """(Ready status, Ready message, Reconciling message or "") of each watch event of the `plural`
    object `name` after `since`."""
    out = []
    for event in api.store.history:
        if event.rv <= since or event.plural != plural or event.object["metadata"]["name"] != name:
            continue
        conds = {c["type"]: c for c in (event.object.get("status") or {}).get("conditions") or []}
        ready = conds.get("Ready") or {}
        out.append(
            (
                ready.get("status", ""),
                ready.get("message", ""),
                (conds.get("Reconciling") or {}).get("message", ""),
            )
        )
    return out


@pytest.fixture
def sources(tmp_path: Path) -> Iterator[tuple[KubeAPIServer, SourceControllers, Path]]:
    from lab.sandbox.practice import init_practice_repo

    ws, origin = tmp_path / "ws", tmp_path / "origin.git"
    init_practice_repo(ws, origin=origin, task="09b")
    sync = starter_files()["clusters/dev/flux-system/gotk-sync.yaml"]
    with KubeAPIServer() as api:
        for doc in yaml.safe_load_all(sync):
            if doc and doc["kind"] in ("GitRepository", "Kustomization"):
                api.put(doc)
        yield api, SourceControllers(api, origin, tmp_path / "cache", Clock(speed=1000.0)), ws


def test_a_new_revision_is_in_progress_before_it_is_stored_and_applied(
    sources: tuple[KubeAPIServer, SourceControllers, Path],
) -> None:
    api, controllers, ws = sources
    controllers.tick()
    (ws / "apps/base/nginx/note.txt").write_text("a change\n")
    git(ws, "add", "-A")
    git(ws, "commit", "-qm", "a new revision")
    git(ws, "push", "-q")
    revision = "main@sha1:" + git(ws, "rev-parse", "HEAD").strip()
    since = api.store.rv
    controllers.schedule.due.clear()
    controllers.tick()

    building = f"building artifact: new upstream revision '{revision}'"
    assert _seen(api, "gitrepositories", since) == [
        ("Unknown", building, building),
        ("True", f"stored artifact for revision '{revision}'", ""),
    ]
    timeout = "with a timeout of 9m30s"
    assert _seen(api, "kustomizations", since) == [
        ("Unknown", "Reconciliation in progress", f"Fetching manifests for revision {revision} {timeout}"),
        ("Unknown", "Reconciliation in progress", f"Building manifests for revision {revision} {timeout}"),
        ("Unknown", "Reconciliation in progress", f"Detecting drift for revision {revision} {timeout}"),
        ("True", f"Applied revision: {revision}", ""),
    ]


def test_a_new_image_repository_is_in_progress_until_its_first_scan_ends() -> None:
    with stub_reflector(StubRegistry) as reflector:
        since = 0
        reconcile_now(reflector)
        seen = _seen(reflector.api, "imagerepositories", since, "nginx")
    assert seen[0] == ("", "", ""), seen  # as created: no status yet
    assert seen[1:3] == [
        ("Unknown", "processing object: new generation 0 -> 1", "processing object: new generation 0 -> 1"),
        ("Unknown", "scanning: first scan", "scanning: first scan"),
    ], seen
    assert len(seen) == 4 and seen[3][0] == "True" and seen[3][1].startswith("successful scan: found"), seen
