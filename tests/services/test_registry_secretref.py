"""A private registry the lab reads with the learner's Docker credentials, which Flux never reads: without
spec.secretRef, Flux's scan is anonymous and refused, so registry.tags fails and says how to give Flux the
credentials (and which tags the registry has)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from lab.core.checks import Status
from lab.services.check import run_checks
from tests.support.fake_registry import fake_registry
from tests.support.gitutil import make_practice
from tests.support.gitutil import write_files as write
from tests.support.taskfiles import solution_manifests

pytestmark = pytest.mark.slow
REPOSITORY = "clusters/dev/image-automation/image-repository.yaml"


def _docker_login(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, host: str) -> None:
    """The learner's own `docker login` to `host`, which Flux never reads."""
    config = tmp_path / "docker"
    config.mkdir()
    auth = base64.b64encode(b"learner:s3cret").decode()
    (config / "config.json").write_text(json.dumps({"auths": {host: {"auth": auth}}}))
    monkeypatch.setenv("DOCKER_CONFIG", str(config))


@pytest.mark.parametrize("secret_ref", [False, True])
def test_tags_read_only_with_the_hosts_credentials_fail_without_a_secret_ref(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, secret_ref: bool
) -> None:
    ws = make_practice(tmp_path)
    with fake_registry(["1.25.0", "1.25.1"], basic="learner:s3cret") as reg:
        host = f"127.0.0.1:{reg.port}"
        _docker_login(tmp_path, monkeypatch, host)
        files = solution_manifests()
        text = files[REPOSITORY].replace("image: library/nginx", f"image: {host}/library/nginx")
        if secret_ref:
            text += "  secretRef:\n    name: regcred\n"
        write(ws, {**files, REPOSITORY: text})
        result = run_checks(ws, offline=False, only=["registry.tags"]).get("registry.tags")
    if secret_ref:
        assert result.status is Status.PASS, result.message
        return
    assert result.status is Status.FAIL, result.message
    assert "spec.secretRef" in result.message and "401" in result.message, result.message
    assert "1.25.1" in result.message, result.message
    assert "flux create secret oci" in (result.hint or "") and "docker-registry" in (result.hint or "")


@pytest.mark.parametrize("scheme", ["basic", "bearer"])
def test_a_401_is_a_fail_whatever_the_challenge_and_names_the_mirror(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scheme: str
) -> None:
    """Flux's anonymous scan fails on a 401 whether the registry asks for Basic auth or a Bearer token:
    registry.tags failed for Basic and could not check for Bearer."""
    ws = make_practice(tmp_path)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "no-docker"))
    with fake_registry(status=401, scheme=scheme) as reg:
        monkeypatch.setenv("LAB_REGISTRY_MIRROR", reg.mirror)
        write(ws, solution_manifests())
        result = run_checks(ws, offline=False, only=["registry.tags"]).get("registry.tags")
    assert result.status is Status.FAIL, result.message
    assert "LAB_REGISTRY_MIRROR" in result.message + (result.hint or ""), result


def test_lab_why_breaks_the_scan_link_flux_would_break(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`lab why` showed the scan ✔ where Flux's anonymous scan (no spec.secretRef) gets 401."""
    from lab.services.why import explain

    ws = make_practice(tmp_path)
    with fake_registry(["1.25.0", "1.25.1"], basic="learner:s3cret") as reg:
        host = f"127.0.0.1:{reg.port}"
        _docker_login(tmp_path, monkeypatch, host)
        files = solution_manifests()
        write(
            ws,
            {
                **files,
                REPOSITORY: files[REPOSITORY].replace("image: library/nginx", f"image: {host}/library/nginx"),
            },
        )
        broken = explain(ws, offline=False).broken
    assert broken is not None and "spec.secretRef" in broken.summary + str(broken), broken
