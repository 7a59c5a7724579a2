"""`lab flux reconcile image ...` waits as flux2's `reconcile` does (cmd/flux/reconcile.go, v2.9): until the
controller has handled the request and kstatus says Current; a Stalled object ends it with the stalled
message; a failure the controller retries (Reconciling=True, Ready=False) keeps it waiting until --timeout,
which ends as Go's context: `✗ context deadline exceeded`.

The API server runs in this process; a stand-in controller answers each reconcile request by writing the
status the test gives it (as the real controller would after that reconcile)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lab.cli import main
from lab.sandbox.kubeapi import KubeAPIServer
from tests.support.kubeapi_helpers import IMAGE_POLICY, IMAGE_REPOSITORY

pytestmark = pytest.mark.slow

NS = "flux-system"
AUTOMATION: dict[str, Any] = {
    "apiVersion": "image.toolkit.fluxcd.io/v1",
    "kind": "ImageUpdateAutomation",
    "metadata": {"name": "flux-system", "namespace": NS},
    "spec": {
        "interval": "10m0s",
        "sourceRef": {"kind": "GitRepository", "name": "flux-system"},
        "git": {"commit": {"author": {"email": "flux@example.com", "name": "Flux"}}},
    },
}


def _cond(type_: str, status: str, reason: str, message: str) -> dict[str, Any]:
    return {
        "type": type_,
        "status": status,
        "reason": reason,
        "message": message,
        "lastTransitionTime": "2026-11-27T03:00:00Z",
    }


class Controller:
    """Answers a new reconcile.fluxcd.io/requestedAt of `kind` with `status` (+ lastHandledReconcileAt)."""

    def __init__(self, api: KubeAPIServer) -> None:
        self.api = api
        self.answers: dict[str, dict[str, Any]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            for kind, status in self.answers.items():
                for obj in self.api.list(kind, NS):
                    wanted = (obj["metadata"].get("annotations") or {}).get("reconcile.fluxcd.io/requestedAt")
                    if wanted and (obj.get("status") or {}).get("lastHandledReconcileAt") != wanted:
                        new = {**status, "lastHandledReconcileAt": wanted}
                        self.api.update_status(kind, obj["metadata"]["name"], NS, new)
            self._stop.wait(0.05)

    def __enter__(self) -> Controller:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[KubeAPIServer, Path, Controller]]:
    with KubeAPIServer() as api:
        for obj in (IMAGE_REPOSITORY, IMAGE_POLICY, AUTOMATION):
            api.put(obj)
        with Controller(api) as ctl:
            yield api, api.write_kubeconfig(tmp_path / "kc"), ctl


def _reconcile(capsys: pytest.CaptureFixture[str], kc: Path, *args: str) -> tuple[int, list[str]]:
    code = main(["flux", "reconcile", "image", *args, "--kubeconfig", str(kc)])
    return code, capsys.readouterr().err.splitlines()


HEAD = [
    "► annotating {k} {n} in flux-system namespace",
    "✔ {k} annotated",
    "◎ waiting for {k} reconciliation",
]


def _head(kind: str, name: str) -> list[str]:
    return [line.format(k=kind, n=name) for line in HEAD]


def test_a_ready_object_ends_with_flux_success_line(
    world: tuple[KubeAPIServer, Path, Controller], capsys: pytest.CaptureFixture[str]
) -> None:
    _, kc, ctl = world
    ctl.answers["ImagePolicy"] = {
        "observedGeneration": 1,
        "latestRef": {"name": "library/nginx", "tag": "1.25.3"},
        "conditions": [
            _cond("Ready", "True", "Succeeded", "Latest image tag for library/nginx resolved to 1.25.3")
        ],
    }
    code, lines = _reconcile(capsys, kc, "policy", "nginx", "--timeout", "20s")
    assert (code, lines) == (0, [*_head("ImagePolicy", "nginx"), "✔ selected ref library/nginx:1.25.3"])


@pytest.mark.parametrize("observed", [1, None], ids=["after-a-success", "never-settled"])
def test_a_failure_the_controller_retries_waits_until_the_timeout(
    world: tuple[KubeAPIServer, Path, Controller], capsys: pytest.CaptureFixture[str], observed: int | None
) -> None:
    """Ready=False with Reconciling=True (ProgressingWithRetry) is kstatus InProgress: flux keeps polling
    and ends with the context's error. The lab printed 'reconciliation failed' at once. A retried failure
    does not move status.observedGeneration (fluxcd/pkg runtime/reconcile AddPatchOptions): on an object
    that never settled there is none, and the lab still names the failure."""
    _, kc, ctl = world
    message = (
        "failed to checkout source: unable to clone 'ssh://git@github.com/x/y': couldn't find remote ref"
    )
    ctl.answers["ImageUpdateAutomation"] = {
        "conditions": [
            _cond("Ready", "False", "GitOperationFailed", message),
            _cond("Reconciling", "True", "ProgressingWithRetry", "reconciliation in progress"),
        ],
    }
    if observed is not None:
        ctl.answers["ImageUpdateAutomation"]["observedGeneration"] = observed
    code, lines = _reconcile(capsys, kc, "update", "flux-system", "--timeout", "1.5s")
    # flux's lines, and once (flux is silent here, which looks like a hang) the lab's note of why it waits
    note = (
        f"  lab: Ready=False, GitOperationFailed: {message}. The controller retries it and flux "
        "reconcile waits for it until --timeout; Ctrl-C stops waiting."
    )
    assert (code, lines) == (
        1,
        [*_head("ImageUpdateAutomation", "flux-system"), note, "✗ context deadline exceeded"],
    )


def test_a_stalled_object_ends_with_its_stalled_message(
    world: tuple[KubeAPIServer, Path, Controller], capsys: pytest.CaptureFixture[str]
) -> None:
    _, kc, ctl = world
    message = "template uses removed '.Updated' field. Please use '.Changed' instead."
    ctl.answers["ImageUpdateAutomation"] = {
        "observedGeneration": 1,
        "conditions": [
            _cond("Ready", "False", "RemovedTemplateField", message),
            _cond("Stalled", "True", "RemovedTemplateField", message),
        ],
    }
    code, lines = _reconcile(capsys, kc, "update", "flux-system", "--timeout", "20")
    assert (code, lines) == (1, [*_head("ImageUpdateAutomation", "flux-system"), f"✗ {message}"])


def test_an_older_observed_generation_is_not_done_yet(
    world: tuple[KubeAPIServer, Path, Controller], capsys: pytest.CaptureFixture[str]
) -> None:
    _, kc, ctl = world
    ctl.answers["ImageRepository"] = {
        "observedGeneration": 0,
        "lastScanResult": {"tagCount": 57},
        "conditions": [_cond("Ready", "True", "Succeeded", "successful scan: found 57 tags")],
    }
    code, lines = _reconcile(capsys, kc, "repository", "nginx", "--timeout", "1")
    assert (code, lines[-1]) == (1, "✗ context deadline exceeded")


def test_missing_object_and_name_in_flux_words(
    world: tuple[KubeAPIServer, Path, Controller], capsys: pytest.CaptureFixture[str]
) -> None:
    _, kc, _ = world
    assert _reconcile(capsys, kc, "policy", "nope") == (
        1,
        ['✗ imagepolicies.image.toolkit.fluxcd.io "nope" not found'],
    )
    assert _reconcile(capsys, kc, "policy") == (1, ["✗ ImagePolicy name is required"])
