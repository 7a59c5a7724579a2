"""What `lab check` prints for the tester's broken edits: one line naming file:line, and a hint that fixes it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.gitutil import git, make_practice
from tests.support.gitutil import write_files as write
from tests.support.labrun import run_lab
from tests.support.taskfiles import DEPLOY, POLICY, REPO, solved_files

pytestmark = pytest.mark.slow


@pytest.fixture
def solved(tmp_path: Path) -> Path:
    ws = make_practice(tmp_path)
    write(ws, solved_files())
    return ws


def _check(ws: Path, env: dict[str, str], *args: str) -> str:
    proc = run_lab("check", "-w", str(ws), *args, env=env)
    assert proc.returncode in (1, 3), (proc.stdout, proc.stderr)
    return proc.stdout


def test_a_key_without_its_space_and_a_tab_and_an_open_bracket(lab_env: dict[str, str], solved: Path) -> None:
    policy = solved / POLICY
    good = policy.read_text()
    policy.write_text(good.replace("range: 1.25.x", "range:1.25.x"))
    out = _check(solved, lab_env, "--offline", "--only", "image-policy.valid")
    assert f"{POLICY}:12: ImagePolicy spec.policy.semver must be a mapping, found string" in out, out
    assert "hint: `range:1.25.x` is one string to YAML: put a space after 'range:'" in out, out

    policy.write_text(good.replace("range: 1.25.x", "range: [1.25.x"))
    out = _check(solved, lab_env, "--offline", "--only", "repo.files")
    assert f"{POLICY}:12: not readable YAML: the [ opened on line 12 is never closed" in out, out
    policy.write_text(good)

    deployment = solved / DEPLOY
    lines = deployment.read_text().split("\n")
    lines[17] = "\t  " + lines[17].lstrip()
    deployment.write_text("\n".join(lines))
    out = _check(solved, lab_env, "--offline", "--only", "marker.present")
    assert (
        f"{DEPLOY}:18: marker in a file Flux cannot parse: the file is not valid YAML, Flux skips it: "
        "found a tab character that violates indentation (line 18, column 1)"
    ) in out, out
    assert "<unicode string>" not in out
    assert "hint: YAML indents with spaces, not tabs: replace the tab on line 18" in out, out


def test_the_sandbox_registry_down_says_start_the_sandbox(
    lab_env: dict[str, str], solved: Path, tmp_path: Path
) -> None:
    """What `eval "$(lab sandbox env)"` leaves behind once the sandbox stopped: its mirror, refusing. The
    task bundles the image's tags, but they are no answer of the registry: registry.tags could not check
    (exit 3, `incomplete` for `lab grade`), says so in every format, and says to start the sandbox."""
    import json

    env = {
        **lab_env,
        "LAB_REGISTRY_MIRROR": "docker.io=127.0.0.1:1",
        "LAB_SANDBOX_WORKSPACE": str(tmp_path / "sandbox-ws"),
        "KUBECONFIG": str(tmp_path / "none"),
    }
    proc = run_lab("check", "-w", str(solved), "--only", "registry.tags", "-f", "json", env=env)
    assert proc.returncode == 3, proc.stderr
    (tags,) = [c for c in json.loads(proc.stdout)["checks"] if c["id"] == "registry.tags"]
    assert tags["status"] == "error", tags
    said = (
        "could not check: registry 127.0.0.1:1 (LAB_REGISTRY_MIRROR sends index.docker.io there): cannot "
        "connect to 127.0.0.1:1: connection refused; only the lab's snapshot of Docker Hub's library/nginx "
        "as of 2024-01-15 is known (560 tags, nginx-tags-2024-01-15.txt), which --offline grades on"
    )
    assert tags["message"] == said
    assert "lab sandbox up" in tags["hint"]
    assert tags["hint"].endswith("live tags: lab sandbox up serves the task's images, or --tags-file F")
    assert "host and port" not in proc.stdout
    for fmt, shown in (("text", f"      {said}"), ("tap", "not ok 3 - registry.tags")):
        out = run_lab("check", "-w", str(solved), "--only", "registry.tags", "-f", fmt, env=env).stdout
        assert shown in out, out


def test_a_registry_that_drips_its_answer_costs_seconds_not_a_minute(
    lab_env: dict[str, str], solved: Path, tmp_path: Path
) -> None:
    """Every read of a byte-a-second answer is quick, so no read timeout fires: the client's deadline
    (a minute a call) held lab check. A scan has a few seconds, a slow host is waited for once a run,
    then could not check, as when the registry cannot be reached."""
    import json
    import socket
    import threading
    import time

    server = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def drip(conn: socket.socket) -> None:
        with conn:
            conn.recv(65536)
            conn.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
            )
            while not stop.wait(0.5):
                try:
                    conn.sendall(b" ")
                except OSError:
                    return

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                return
            threading.Thread(target=drip, args=(conn,), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    port = server.getsockname()[1]
    env = {
        **lab_env,
        "LAB_REGISTRY_MIRROR": f"docker.io=127.0.0.1:{port}",
        "KUBECONFIG": str(tmp_path / "none"),
        "LAB_REGISTRY_TIMEOUT": "5",  # the default (20 s) is for real links; the test needs no more
    }
    started = time.monotonic()
    try:
        proc = run_lab("check", "-w", str(solved), "--only", "registry.tags", "-f", "json", env=env)
    finally:
        stop.set()
        server.close()
    assert time.monotonic() - started < 20
    assert proc.returncode == 3, proc.stderr
    (tags,) = [c for c in json.loads(proc.stdout)["checks"] if c["id"] == "registry.tags"]
    assert tags["status"] == "error", tags
    assert tags["message"].startswith(
        f"could not check: registry 127.0.0.1:{port} (LAB_REGISTRY_MIRROR sends index.docker.io there): "
        "the registry answered too slowly: timed out after 5 s"
    ), tags
    assert (
        "only the lab's snapshot of Docker Hub's library/nginx as of 2024-01-15 is known" in tags["message"]
    )


def test_unknown_fields_name_flux_apply_error_and_the_field_meant(
    lab_env: dict[str, str], solved: Path
) -> None:
    policy, repo = solved / POLICY, solved / REPO
    policy.write_text(policy.read_text().replace("range: 1.25.x", "rang: 1.25.x"))
    repo.write_text(repo.read_text().replace("interval: 5m0s", "interval: 5m0s\n  interval2: 1m"))
    out = _check(
        solved, lab_env, "--offline", "--only", "image-policy.valid", "--only", "image-repository.valid"
    )
    assert (
        f"{POLICY}:12: spec.policy.semver.rang is not a field of ImagePolicy; Flux's apply fails: "
        "ImagePolicy/flux-system/nginx dry-run failed: failed to create typed patch object "
        "(flux-system/nginx; image.toolkit.fluxcd.io/v1, Kind=ImagePolicy): "
        ".spec.policy.semver.rang: field not declared in schema\n      hint: did you mean `range`?"
    ) in out, out
    assert "range is empty or missing" not in out, out  # the misspelt field is that one
    assert f"{REPO}:10: spec.interval2 is not a field of ImageRepository" in out, out
    # one level too deep
    repo.write_text(
        repo.read_text().replace("  interval2: 1m", "  secretRef:\n    name: creds\n    interval: 1m")
    )
    out = _check(solved, lab_env, "--offline", "--only", "image-repository.valid")
    assert f"{REPO}:12: spec.secretRef.interval is not a field of ImageRepository" in out, out
    assert "hint: `interval` belongs one level up, beside `secretRef`" in out, out

    # `range` one level too high, beside `semver:`
    policy.write_text(
        policy.read_text().replace("      rang: 1.25.x", "    range: 1.25.x").replace("semver:", "semver: {}")
    )
    out = _check(solved, lab_env, "--offline", "--only", "image-policy.valid")
    assert f"{POLICY}:12: spec.policy.range is not a field of ImagePolicy" in out, out
    assert "hint: `range` goes one level down, under `semver`" in out, out

    # the push check refuses it too, before committing
    proc = run_lab("sync", "-w", str(solved), "--commit", env=lab_env)
    assert proc.returncode != 0, proc.stdout
    assert f"{POLICY}:12: spec.policy.range is not a field of ImagePolicy" in proc.stdout + proc.stderr
    assert git(solved, "status", "--porcelain").strip(), "nothing may be committed"
