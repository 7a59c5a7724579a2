"""sync.included shows what the cluster says: a v1beta2 push on Flux 2.9 makes the flux-system
Kustomization fail, and the check fails with the cluster's message (the files alone look fine)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.support.labrun import run_lab
from tests.support.sandbox_helpers import client_for, git, ready, running_sandbox, wait_for

pytestmark = pytest.mark.slow

AUTOMATION = "clusters/dev/image-automation"


def _check(env: dict[str, str], ws: Path, *extra: str) -> dict[str, dict[str, str]]:
    proc = run_lab("check", "--format", "json", *extra, env=env, cwd=ws)
    assert proc.returncode in (0, 1, 3), proc.stderr
    return {c["id"]: c for c in json.loads(proc.stdout)["checks"]}


def test_a_v1beta2_push_failing_the_kustomization_fails_sync_included(
    tmp_path: Path, lab_env: dict[str, str]
) -> None:
    with running_sandbox(tmp_path) as sup:
        ws = sup.paths.workspace
        env = {**lab_env, "KUBECONFIG": str(sup.paths.kubeconfig)}
        made = run_lab("generate", "--api", "v1beta2", env=env, cwd=ws)
        assert made.returncode == 0, made.stderr
        git(ws, "add", AUTOMATION)
        git(ws, "commit", "-qm", "image automation in v1beta2")
        git(ws, "push", "-q")
        client = client_for(tmp_path)

        def failed() -> tuple[str, str, str] | None:
            r = ready(client, "Kustomization", "flux-system")
            return r if r and r[0] == "False" else None

        wait_for(failed, "the Kustomization to fail", timeout=60)
        graded = _check(env, ws)
        sync = graded["sync.included"]
        assert sync["status"] == "fail", sync
        assert sync["message"].startswith("the flux-system Kustomization fails on the cluster")
        assert re.search(
            r'no matches for kind "Image\w+" in version "image.toolkit.fluxcd.io/v1beta2"', sync["message"]
        )
        assert "image.toolkit.fluxcd.io/v1" in sync["hint"]
        # Offline, only the files speak: they are under the Kustomization's path.
        offline = _check(env, ws, "--offline")
        assert offline["sync.included"]["status"] == "pass", offline["sync.included"]

        # The fix: v1, pushed; the Kustomization recovers and so does the check.
        fixed = run_lab("generate", "--api", "v1", "--force", env=env, cwd=ws)
        assert fixed.returncode == 0, fixed.stderr
        # Fixed but not committed, then committed but not pushed: the hint says only what is left.
        hint = _check(env, ws, "--only", "sync.included")["sync.included"]["hint"]
        assert hint == "your files already write image.toolkit.fluxcd.io/v1: commit and push them", hint
        git(ws, "commit", "-qam", "image automation in v1")
        hint = _check(env, ws, "--only", "sync.included")["sync.included"]["hint"]
        assert hint == "your commit already writes image.toolkit.fluxcd.io/v1: git push", hint
        git(ws, "push", "-q")
        wait_for(
            lambda: (ready(client, "Kustomization", "flux-system") or ("",))[0] == "True",
            "the Kustomization to recover",
            timeout=60,
        )
        assert _check(env, ws)["sync.included"]["status"] == "pass"
