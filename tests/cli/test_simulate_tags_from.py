"""`lab simulate` always says where the tags came from: a tags file, a registry (the sandbox's through
LAB_REGISTRY_MIRROR), or, when the registry cannot be reached at all, the lab's bundled snapshot."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from lab.sandbox.registry import EmbeddedRegistry
from tests.support.gitutil import git
from tests.support.labrun import run_lab
from tests.support.paths import ROOT

pytestmark = pytest.mark.slow

TAGS = ROOT / "tasks" / "09b" / "registry" / "nginx-tags-2024-01-15.txt"


def _dead_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def solved(tmp_path: Path, lab_env: dict[str, str]) -> Path:
    ws = tmp_path / "ws"
    assert run_lab("init", str(ws), env=lab_env).returncode == 0
    assert run_lab("solve", str(ws), env=lab_env).returncode == 0
    return ws


def test_tags_file_is_named(solved: Path, lab_env: dict[str, str]) -> None:
    proc = run_lab("simulate", "-w", str(solved), "--tags-file", str(TAGS), "--dry-run", env=lab_env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"tags for library/nginx: tags file {TAGS} (")


def test_unreachable_registry_falls_back_to_the_snapshot_and_says_so(
    solved: Path, lab_env: dict[str, str]
) -> None:
    port = _dead_port()
    env = {**lab_env, "LAB_REGISTRY_MIRROR": f"docker.io=127.0.0.1:{port}"}
    proc = run_lab("simulate", "-w", str(solved), "--json", env=env)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)[0]
    where = result["tags_from"]["library/nginx"]
    assert where.startswith("the lab's snapshot of Docker Hub's library/nginx as of 2024-01-15 (")
    assert f"registry 127.0.0.1:{port}" in where and "cannot be reached" in where
    assert result["policies"][0]["tag"] == "1.25.3"
    assert result["pushed"] is True


def test_the_sandbox_registry_is_named_when_mirrored(solved: Path, lab_env: dict[str, str]) -> None:
    with EmbeddedRegistry() as reg:
        host = reg.url.removeprefix("http://")
        env = {**lab_env, "LAB_REGISTRY_MIRROR": f"docker.io={host}"}
        reg.push_tag("library/nginx", "1.25.9")
        proc = run_lab("simulate", "-w", str(solved), env=env)
    assert proc.returncode == 0, proc.stderr
    first = proc.stdout.splitlines()[0]
    assert first.startswith(
        f"tags for library/nginx: registry {host} (LAB_REGISTRY_MIRROR sends index.docker.io there)"
    )
    assert "scanned now" in first
    assert "resolved to 1.25.9" in proc.stdout


def test_a_registry_that_answers_no_is_not_masked_by_the_snapshot(
    solved: Path, lab_env: dict[str, str]
) -> None:
    policy = solved / "clusters/dev/image-automation/image-repository.yaml"
    policy.write_text(policy.read_text().replace("image: library/nginx", "image: library/no-such-image"))
    git(solved, "commit", "-qam", "scan another image")
    git(solved, "push", "-q")
    with EmbeddedRegistry() as reg:
        env = {**lab_env, "LAB_REGISTRY_MIRROR": f"docker.io={reg.url.removeprefix('http://')}"}
        proc = run_lab("simulate", "-w", str(solved), env=env)
    assert "snapshot" not in proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr


def test_check_and_simulate_agree_when_the_registry_cannot_be_reached(
    solved: Path, lab_env: dict[str, str]
) -> None:
    """One implementation for both: the task's bundled tags stand in, said in the same words, with
    where live tags come from (the sandbox serves the task's images, or --tags-file)."""
    port = _dead_port()
    env = {**lab_env, "LAB_REGISTRY_MIRROR": f"docker.io=127.0.0.1:{port}"}
    sim = run_lab("simulate", "-w", str(solved), "--json", "--dry-run", env=env)
    assert sim.returncode == 0, sim.stderr
    where = json.loads(sim.stdout)[0]["tags_from"]["library/nginx"]
    chk = run_lab("check", "-w", str(solved), "--only", "policy.resolves", "--format", "json", env=env)
    checks = {c["id"]: c for c in json.loads(chk.stdout)["checks"]}
    tags = checks["registry.tags"]
    assert tags["status"] == "pass", tags
    # The same words but simulate's error detail (the check keeps that in its evidence).
    before, after = tags["message"].split(" cannot be reached")
    assert before.startswith("the lab's snapshot of Docker Hub's library/nginx as of 2024-01-15 (")
    assert where.startswith(before + " cannot be reached") and where.endswith(after), (tags, where)
    assert "lab sandbox up serves the task's images" in after and "--tags-file F" in after
    assert checks["policy.resolves"]["status"] == "pass", checks["policy.resolves"]
