"""The two Flux worlds of the sandbox: 2.8 still serves the course text's v1beta2, 2.9 rejects it (F2).

The seed's manifests are used as written (Hints 2, 3 and 5 of task-09b, byte for byte).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from lab.errors import LabError
from lab.sandbox.runtime import SandboxPaths, Supervisor
from lab.services import sandbox as svc
from tests.support.labrun import run, run_lab
from tests.support.sandbox_helpers import client_for, flux_commits, git, ready, running_sandbox, wait_for
from tests.support.taskfiles import edited, solution_text

pytestmark = pytest.mark.slow

SPEED = "3000"
AUTOMATION = "clusters/dev/image-automation"
DEPLOYMENT = "apps/base/nginx/deployment.yaml"

# The course text's manifests: tasks/09b/solution-v1beta2, whose automation the text runs every 30m.
SEED = {
    name: solution_text(f"{AUTOMATION}/{name}", variant="solution-v1beta2")
    for name in ("image-repository.yaml", "image-policy.yaml", "image-update.yaml")
}
SEED["image-update.yaml"] = edited(SEED["image-update.yaml"], "  interval: 10m\n", "  interval: 30m\n")


def _apply_seed(ws: Path) -> None:
    """What a learner following the course text does: paste the hints, add the marker, push."""
    (ws / AUTOMATION).mkdir(parents=True, exist_ok=True)
    for name, text in SEED.items():
        (ws / AUTOMATION / name).write_text(text, encoding="utf-8")
    dep = ws / DEPLOYMENT
    text = dep.read_text(encoding="utf-8")
    marked = re.sub(
        r"^(\s+image: nginx:1\.25\.0)\s*$", r'\1 # {"$imagepolicy": "flux-system:nginx"}', text, flags=re.M
    )
    assert marked != text, text
    dep.write_text(marked, encoding="utf-8")
    git(ws, "add", AUTOMATION, DEPLOYMENT)
    git(ws, "commit", "-qm", "image automation, as the course text writes it")
    git(ws, "push", "-q")


@pytest.fixture
def sandbox_dir(tmp_path: Path, lab_env: dict[str, str]) -> Iterator[Path]:
    d = tmp_path / "sb"
    yield d
    run_lab("sandbox", "down", "--dir", str(d), env=lab_env)


def test_flux_28_runs_the_seed_as_written(sandbox_dir: Path, lab_env: dict[str, str]) -> None:
    d = sandbox_dir
    up = run_lab("sandbox", "up", "--dir", str(d), "--detach", "--speed", SPEED, "--flux", "2.8", env=lab_env)
    assert up.returncode == 0, up.stderr
    assert "Flux 2.8" in up.stderr
    status = run_lab("sandbox", "status", "--dir", str(d), "--json", env=lab_env)
    data = json.loads(status.stdout)
    assert (data["flux"], data["flux_version"], data["image_api_versions"]) == (
        "2.8",
        "v2.8.2",
        ["v1", "v1beta2"],
    )
    workspace = d / "gitops-lab"
    exports = {"KUBECONFIG": str(d / "kubeconfig"), "LAB_REGISTRY_MIRROR": f"docker.io={data['registry']}"}
    learner = {**lab_env, **exports}

    # `lab solve --api v1beta2` writes the seed's ImageRepository and ImagePolicy as the course text has them
    solved = run_lab("solve", "--api", "v1beta2", "--no-push", str(workspace), env=learner)
    assert solved.returncode == 0, solved.stderr
    for name in ("image-repository.yaml", "image-policy.yaml"):
        assert (workspace / AUTOMATION / name).read_text(encoding="utf-8") == SEED[name], name
    # kubectl prints the server's deprecation warning; the object is accepted. Run before anything is pushed, so
    # the sandbox's Flux cannot create the object between kubectl's GET and its POST (a 409 AlreadyExists race).
    applied = run(
        ["kubectl", "apply", "--dry-run=server", "-f", str(workspace / AUTOMATION / "image-repository.yaml")],
        learner,
    )
    assert applied.returncode == 0, applied.stderr
    assert "Warning: v1beta2 ImageRepository is deprecated, upgrade to v1" in applied.stderr
    git(workspace, "reset", "-q", "--hard", "HEAD~1")
    _apply_seed(workspace)

    origin = d / "gitops-lab-origin.git"
    first = wait_for(lambda: flux_commits(origin), "Flux's commit")[0]
    message = git(origin, "log", "-1", "--format=%B", first)
    # the seed's template under the v1beta2 data model: blank lines and all
    assert message == "Automated image update\n\n\n- nginx:1.25.0 -> library/nginx:1.25.3", repr(message)
    patch = git(origin, "show", first)
    assert re.search(r"^\+\s+image: library/nginx:1\.25\.3 ", patch, re.M), patch

    client = client_for(d)
    assert (ready(client, "Kustomization", "flux-system") or ("",))[0] == "True"
    # a v1beta2 reader sees the Flux 2.8 status: latestRef and the deprecated latestImage
    got = run(
        [
            "kubectl",
            "get",
            "imagepolicies.v1beta2.image.toolkit.fluxcd.io",
            "nginx",
            "-n",
            "flux-system",
            "-o",
            "json",
        ],
        learner,
    )
    policy = json.loads(got.stdout)
    assert policy["apiVersion"] == "image.toolkit.fluxcd.io/v1beta2"
    assert policy["status"]["latestRef"] == {"name": "library/nginx", "tag": "1.25.3"}
    assert policy["status"]["latestImage"] == "library/nginx:1.25.3"
    events = json.loads(run(["kubectl", "get", "events", "-n", "flux-system", "-o", "json"], learner).stdout)
    warned = [
        e["message"]
        for e in events["items"]
        if e["involvedObject"]["kind"] == "Kustomization" and e["type"] == "Warning"
    ]
    assert warned and "v1beta2 ImageUpdateAutomation is deprecated, upgrade to v1" in warned[0], warned
    assert wait_for(
        lambda: (
            ready(client, "ImageUpdateAutomation", "flux-system")
            == ("True", "Succeeded", "repository up-to-date")
        ),
        "the automation status",
    )

    # the checks validate against what the cluster serves: v1beta2 passes, with the deprecation noted
    check = run_lab("check", "--format", "json", env=learner, cwd=workspace)
    graded = {c["id"]: c for c in json.loads(check.stdout)["checks"]}
    for cid in ("image-repository.valid", "image-policy.valid", "image-update.valid"):
        assert graded[cid]["status"] == "pass", graded[cid]
        assert "deprecated" in json.dumps(graded[cid]), graded[cid]
    failing = {cid: c for cid, c in graded.items() if c["status"] != "pass"}
    assert set(failing) <= {"quiz.passed", "progress.updated"}, failing

    # a restart without --flux keeps the 2.8 world
    assert run_lab("sandbox", "down", "--dir", str(d), env=lab_env).returncode == 0
    again = run_lab("sandbox", "up", "--dir", str(d), "--detach", "--speed", SPEED, env=lab_env)
    assert again.returncode == 0 and "Flux 2.8" in again.stderr, again.stderr
    shown = run_lab("sandbox", "status", "--dir", str(d), env=lab_env)
    assert "Flux 2.8: image.toolkit.fluxcd.io v1 and v1beta2 (deprecated)" in shown.stdout, shown.stdout
    assert client_for(d).served_image_api_versions() == ["v1", "v1beta2"]
    assert len(flux_commits(origin)) == 1
    # asking for the other world while this one runs is refused, not a silent restart
    with pytest.raises(LabError, match=re.escape("running Flux 2.8, not 2.9")):
        svc.ensure_running(d, flux="2.9")
    other = run_lab("sandbox", "up", "--dir", str(d), "--detach", "--flux", "2.9", env=lab_env)
    assert other.returncode == 1 and "lab sandbox down" in other.stderr, other.stderr
    assert svc.ensure_running(d, flux="2.8").flux == "2.8"


def test_flux_29_rejects_the_seed_f2(tmp_path: Path, lab_env: dict[str, str]) -> None:
    with running_sandbox(tmp_path) as sup:
        assert sup.flux == "2.9"
        _apply_seed(sup.paths.workspace)
        client = client_for(tmp_path)
        assert client.served_image_api_versions() == ["v1"]

        def failed() -> tuple[str, str, str] | None:
            r = ready(client, "Kustomization", "flux-system")
            return r if r and r[0] == "False" else None

        state = wait_for(failed, "the Kustomization to fail")
        assert state[1] == "ReconciliationFailed"
        assert re.fullmatch(
            r'Image\w+/flux-system/\S+ dry-run failed: no matches for kind "Image\w+" '
            r'in version "image.toolkit.fluxcd.io/v1beta2"',
            state[2],
        ), state
        assert client.get("ImageRepository", "nginx") is None
        env = {
            **lab_env,
            "KUBECONFIG": str(sup.paths.kubeconfig),
            "LAB_REGISTRY_MIRROR": f"docker.io={sup.registry.address if sup.registry else ''}",
        }
        check = run_lab("check", "--format", "json", env=env, cwd=sup.paths.workspace)
        graded = {c["id"]: c for c in json.loads(check.stdout)["checks"]}
        repo = graded["image-repository.valid"]
        assert repo["status"] == "fail", repo
        assert (
            'no matches for kind "ImageRepository" in version "image.toolkit.fluxcd.io/v1beta2"'
            in repo["message"]
        )
        assert "apiVersion: image.toolkit.fluxcd.io/v1" in repo["hint"], repo
        assert flux_commits(sup.paths.origin) == []


def test_flux_choice_is_validated_and_persisted(tmp_path: Path) -> None:
    with pytest.raises(LabError, match="not a sandbox world"):
        Supervisor(SandboxPaths.at(tmp_path), flux="2.7")
    sup = Supervisor(SandboxPaths.at(tmp_path), speed=float(SPEED), flux="2.8")
    sup.start()
    try:
        assert sup.api is not None and sup.api.flux_version == "v2.8.2"
    finally:
        sup.stop()
    assert json.loads((tmp_path / "config.json").read_text())["flux"] == "2.8"


def test_a_failure_of_the_labs_own_finding_names_its_file() -> None:
    """`y` showed 'UpdateFailed: on origin/main: invalid YAML: ...' and 'fix: see the message',
    with no file to open."""
    from lab.errors import LabError
    from lab.sandbox.controllers.automation import classify_failure

    err = LabError(
        "on origin/main: invalid YAML: could not find expected ':'", file="apps/dev/k.yaml", line=7
    )
    assert classify_failure(err) == (
        "UpdateFailed",
        "apps/dev/k.yaml:7: on origin/main: invalid YAML: could not find expected ':'",
    )
    walking = LabError("failed to apply policies: walking path for files: lstat apps: no such file")
    assert classify_failure(walking) == ("UpdateFailed", walking.message)  # Flux's own words stay
