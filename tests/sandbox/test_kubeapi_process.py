"""The server as its own process: clean SIGTERM shutdown, and state that survives `kill -9` mid-writes."""

from __future__ import annotations

import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lab.adapters.cluster import ClusterClient
from tests.support.kubeapi_helpers import IMAGE_POLICY, bearer, kubeconfig_ca, manifest

pytestmark = pytest.mark.slow


def _start(tmp_path: Path, state: Path) -> tuple[subprocess.Popen[str], str, Path]:
    kc = tmp_path / "kubeconfig"
    proc = subprocess.Popen(
        [sys.executable, "-m", "lab.sandbox.kubeapi", "--state", str(state), "--kubeconfig", str(kc)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    url = proc.stdout.readline().strip()
    assert url.startswith("https://127.0.0.1:"), proc.stderr.read() if proc.stderr else ""
    return proc, url, kc


def _port_closed(url: str) -> bool:
    port = int(url.rsplit(":", 1)[1])
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return False
    except OSError:
        return True


def test_sigterm_stops_cleanly(tmp_path: Path) -> None:
    proc, url, kc = _start(tmp_path, tmp_path / "state.json")
    with ClusterClient.from_kubeconfig(str(kc)) as c:
        assert c.served_image_api() == "v1"
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 0
    assert _port_closed(url)


def test_state_survives_kill_9_during_writes(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    proc, url, kc = _start(tmp_path, state)
    import httpx

    headers = bearer(kc)
    ca = str(kubeconfig_ca(kc, tmp_path / "ca.pem"))
    base = f"{url}/apis/image.toolkit.fluxcd.io/v1/namespaces/flux-system/imagepolicies"
    with httpx.Client(headers=headers, verify=ssl.create_default_context(cafile=ca)) as http:
        for i in range(30):
            r = http.post(base, json=manifest(IMAGE_POLICY, name=f"p{i}"))
            assert r.status_code == 201
        # Kill while a writer is still hammering the store: the file must stay a complete document.
        writer = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import httpx,ssl,sys\n"
                f"tls = ssl.create_default_context(cafile={ca!r})\n"
                "for i in range(100000):\n"
                f"    httpx.patch('{base}/p0', json={{'metadata': {{'labels': {{'n': str(i)}}}}}},"
                f" headers={{'Content-Type': 'application/merge-patch+json', **{headers!r}}}, verify=tls)\n",
            ],
            stderr=subprocess.DEVNULL,
        )
        time.sleep(0.5)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)
        writer.kill()
        writer.wait(timeout=5)
    data = json.loads(state.read_text())
    names = {e["object"]["metadata"]["name"] for e in data["objects"] if e["plural"] == "imagepolicies"}
    assert names == {f"p{i}" for i in range(30)}
    proc2, _, kc2 = _start(tmp_path, state)
    try:
        with ClusterClient.from_kubeconfig(str(kc2)) as c:
            assert len(c.list("ImagePolicy")) == 30
        assert not [p for p in tmp_path.iterdir() if p.name.startswith(".state.json.")]  # leftovers removed
    finally:
        proc2.send_signal(signal.SIGTERM)
        assert proc2.wait(timeout=10) == 0
