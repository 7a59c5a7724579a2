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
    """One account of an unreachable registry for both: simulate runs on the task's bundled tags and
    says so; the check cannot grade on a dated snapshot (lab grade would call the row a pass), so it
    could not check, naming the same snapshot, the same error and where live tags come from (the
    sandbox serves the task's images, or --tags-file), and --offline as the way to grade on it."""
    port = _dead_port()
    env = {**lab_env, "LAB_REGISTRY_MIRROR": f"docker.io=127.0.0.1:{port}"}
    sim = run_lab("simulate", "-w", str(solved), "--json", "--dry-run", env=env)
    assert sim.returncode == 0, sim.stderr
    where = json.loads(sim.stdout)[0]["tags_from"]["library/nginx"]
    chk = run_lab("check", "-w", str(solved), "--only", "policy.resolves", "--format", "json", env=env)
    assert chk.returncode == 3, chk.stderr
    checks = {c["id"]: c for c in json.loads(chk.stdout)["checks"]}
    tags = checks["registry.tags"]
    assert tags["status"] == "error", tags
    snapshot = "the lab's snapshot of Docker Hub's library/nginx as of 2024-01-15"
    error = f"cannot connect to 127.0.0.1:{port}: connection refused"
    live = "live tags: lab sandbox up serves the task's images, or --tags-file F"
    assert where.startswith(snapshot + " (") and error in where and where.endswith(live), where
    assert str(tags["message"]).startswith(f"could not check: registry 127.0.0.1:{port} "), tags
    assert error in str(tags["message"]) and snapshot in str(tags["message"]), tags
    assert "--offline grades on" in str(tags["message"]) and str(tags["hint"]).endswith(live), tags
    resolves = checks["policy.resolves"]
    assert resolves["status"] == "skipped" and resolves["blocked_by"] == "registry.tags", resolves
