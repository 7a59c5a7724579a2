"""Issue 14: the real kubectl gets cluster answers to what troubleshooting guides type first."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from lab.sandbox.kubeapi import KubeAPIServer
from lab.services.solve import solve
from tests.support.kubeapi_helpers import IMAGE_POLICY, IMAGE_REPOSITORY, manifest
from tests.support.sandbox_helpers import flux_commits, git, running_sandbox, wait_for

KUBECTL = shutil.which("kubectl")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        KUBECTL is None and not os.environ.get("CI"),
        reason="kubectl is not installed (required when CI is set)",
    ),
]
NS = "flux-system"


def kubectl(kc: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert KUBECTL is not None, "kubectl is required when CI is set"
    env = {**os.environ, "HOME": str(kc.parent)}  # kubectl's discovery cache stays in the test's directory
    return subprocess.run(
        [KUBECTL, "--kubeconfig", str(kc), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )


def ok(kc: Path, *args: str) -> str:
    done = kubectl(kc, *args)
    assert done.returncode == 0, f"kubectl {' '.join(args)}: {done.stderr}"
    assert "kubectl apply" not in done.stderr  # no misleading hint
    return done.stdout


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[KubeAPIServer, Path]]:
    with KubeAPIServer() as srv:
        yield srv, srv.write_kubeconfig(tmp_path / "kubeconfig")


def test_controller_pods_logs_and_scale(world: tuple[KubeAPIServer, Path]) -> None:
    srv, kc = world
    pods = ok(kc, "get", "pods", "-n", NS).splitlines()
    assert pods[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    rows = {line.split()[0].rsplit("-", 2)[0]: line.split()[1:4] for line in pods[1:]}
    assert rows["image-reflector-controller"] == ["1/1", "Running", "0"]
    assert set(rows) >= {"source-controller", "kustomize-controller", "image-automation-controller"}

    repo = srv.put(manifest(IMAGE_REPOSITORY))
    srv.record_event(
        repo, "Normal", "Succeeded", "successful scan: found 3 tags", "image-reflector-controller"
    )
    lines = ok(kc, "logs", "-n", NS, "deploy/image-reflector-controller").splitlines()
    first, last = json.loads(lines[0]), json.loads(lines[-1])
    assert first["msg"] == "starting manager" and first["level"] == "info"
    assert last["msg"] == "successful scan: found 3 tags"
    assert (last["controllerKind"], last["controllerGroup"]) == ("ImageRepository", "image.toolkit.fluxcd.io")
    assert last["ImageRepository"] == {"name": "nginx", "namespace": NS} and last["ts"].endswith("Z")
    assert "successful scan" not in ok(kc, "logs", "-n", NS, "deploy/source-controller")

    assert "scaled" in ok(kc, "scale", "-n", NS, "deploy/image-automation-controller", "--replicas=0")
    assert "image-automation-controller" not in ok(kc, "get", "pods", "-n", NS)
    assert (
        ok(kc, "get", "deploy", "-n", NS, "image-automation-controller", "--no-headers").split()[1] == "0/0"
    )
    assert not srv.component_running("image-automation-controller")
    ok(kc, "scale", "-n", NS, "deploy/image-automation-controller", "--replicas=1")
    assert srv.component_running("image-automation-controller")
    assert "image-automation-controller-" in ok(kc, "get", "pods", "-n", NS)


def test_explain_auth_patch_and_server_side_apply(world: tuple[KubeAPIServer, Path], tmp_path: Path) -> None:
    srv, kc = world
    explained = ok(kc, "explain", "imagepolicy.spec.policy")
    assert "FIELD: policy <Object>" in explained
    assert "Policy gives the particulars of the policy" in explained
    assert "semver\t<Object>" in explained and "alphabetical\t<Object>" in explained
    assert "generic" in ok(kc, "explain", "imagerepository.spec.provider")

    assert ok(kc, "auth", "can-i", "create", "imagepolicies", "-n", NS).strip() == "yes"
    who = ok(kc, "auth", "whoami")
    assert "fluxlab" in who and "system:masters" in who
    srv.deny("delete imagepolicies")
    denied = kubectl(kc, "auth", "can-i", "delete", "imagepolicies", "-n", NS)
    assert denied.returncode == 1 and denied.stdout.strip() == "no"
    srv.allow_all()

    path = tmp_path / "policy.json"
    path.write_text(json.dumps(manifest(IMAGE_POLICY)))
    assert "serverside-applied" in ok(kc, "apply", "--server-side", "-f", str(path))
    shown = json.loads(ok(kc, "get", "imagepolicy", "nginx", "-n", NS, "-o", "json", "--show-managed-fields"))
    entry = shown["metadata"]["managedFields"][0]
    assert (entry["manager"], entry["operation"], entry["fieldsType"]) == ("kubectl", "Apply", "FieldsV1")
    assert "f:range" in entry["fieldsV1"]["f:spec"]["f:policy"]["f:semver"]

    patch = '{"spec":{"policy":{"semver":{"range":"1.26.x"}}}}'
    refused = kubectl(kc, "patch", "imagepolicy", "nginx", "-n", NS, "-p", patch)
    assert refused.returncode == 1
    assert (
        "the body of the request was in an unknown format - accepted media types include: "
        "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"
    ) in refused.stderr
    ok(kc, "patch", "imagepolicy", "nginx", "-n", NS, "--type", "merge", "-p", patch)
    updated = srv.get("ImagePolicy", "nginx")
    assert updated is not None and updated["spec"]["policy"]["semver"]["range"] == "1.26.x"
    managers = {(e["manager"], e["operation"]) for e in updated["metadata"]["managedFields"]}
    assert managers == {("kubectl", "Apply"), ("kubectl-patch", "Update")}
    # a built-in kind still takes kubectl's default (strategic) patch
    ok(kc, "patch", "deploy", "source-controller", "-n", NS, "-p", '{"spec":{"replicas":2}}')
    assert (
        len(ok(kc, "get", "pods", "-n", NS, "-l", "app=source-controller", "--no-headers").splitlines()) == 2
    )


def test_scaling_the_automation_controller_stops_and_resumes_it(tmp_path: Path) -> None:
    """The course's first pitfall by the learner's own hand: no automation controller, no Flux commit."""
    with running_sandbox(tmp_path) as sup:
        kc = sup.paths.kubeconfig
        ws, origin = sup.paths.workspace, sup.paths.origin
        solve(ws)
        wait_for(lambda: flux_commits(origin), "the first Flux commit", timeout=60)
        ok(kc, "scale", "-n", NS, "deploy/image-automation-controller", "--replicas=0")
        sup.push_tag("1.25.4")
        wait_for(
            lambda: (
                (sup.api.get("ImagePolicy", "nginx") or {}).get("status", {}).get("latestRef", {}).get("tag")
                == "1.25.4"
            ),
            "the policy to pick 1.25.4 (the reflector still runs)",
            timeout=60,
        )
        passes = sup.controllers.passes
        wait_for(lambda: sup.controllers.passes >= passes + 20, "twenty more controller passes", timeout=60)
        assert len(flux_commits(origin)) == 1  # nothing pushes the new tag
        logs = ok(kc, "logs", "-n", NS, "deploy/image-reflector-controller")
        assert "1.25.4" in logs
        ok(kc, "scale", "-n", NS, "deploy/image-automation-controller", "--replicas=1")
        wait_for(
            lambda: len(flux_commits(origin)) == 2, "the second Flux commit after scaling back", timeout=60
        )
        git(ws, "pull", "-q")
        assert "library/nginx:1.25.4" in (ws / "apps/base/nginx/deployment.yaml").read_text()
        # the new pod's log holds only what happened since it started: the second push, not the first
        pushed = [
            json.loads(line)["msg"]
            for line in ok(kc, "logs", "-n", NS, "deploy/image-automation-controller").splitlines()
            if "pushed commit" in line
        ]
        assert len(pushed) == 1 and pushed[0].startswith("pushed commit '"), pushed


def test_logs_follow_streams_until_the_pod_goes(world: tuple[KubeAPIServer, Path]) -> None:
    import queue
    import threading

    srv, kc = world
    assert KUBECTL is not None
    proc = subprocess.Popen(
        [KUBECTL, "--kubeconfig", str(kc), "logs", "-f", "-n", NS, "deploy/image-reflector-controller"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "HOME": str(kc.parent)},
    )
    lines: queue.Queue[str] = queue.Queue()
    assert proc.stdout is not None
    reader = threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True)  # type: ignore[union-attr]
    reader.start()
    try:
        assert json.loads(lines.get(timeout=30))["msg"] == "starting manager"
        repo = srv.put(manifest(IMAGE_REPOSITORY))
        srv.record_event(
            repo, "Warning", "ReadOperationFailed", "scan failed: boom", "image-reflector-controller"
        )
        followed = json.loads(lines.get(timeout=30))
        assert (followed["level"], followed["msg"]) == ("error", "scan failed: boom")
        srv.set_image_controllers(False)  # the Deployment and its pod go: the stream ends
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
