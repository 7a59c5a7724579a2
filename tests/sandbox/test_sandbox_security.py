"""Issue 16: the sandbox serves its learner only, and objects never choose where the sandbox connects."""

from __future__ import annotations

import json
import socket
import threading
from pathlib import Path

import httpx
import pytest

from lab.sandbox.runtime import read_json
from tests.support.sandbox_helpers import client_for, running_sandbox, wait_for

pytestmark = pytest.mark.slow


class _Listener:
    """A port of the test's choosing that records whether anybody connected."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = int(self.sock.getsockname()[1])
        self.connections = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
        self.sock.close()


def test_objects_cannot_make_the_sandbox_connect_elsewhere(tmp_path: Path) -> None:
    listener = _Listener()
    try:
        with running_sandbox(tmp_path) as sup:
            client = client_for(tmp_path)
            for name, image in (
                ("probe", f"127.0.0.1:{listener.port}/team/app"),
                ("ghcr", "ghcr.io/example/app"),
            ):
                sup.api.put(
                    {
                        "apiVersion": "image.toolkit.fluxcd.io/v1",
                        "kind": "ImageRepository",
                        "metadata": {"name": name, "namespace": "flux-system"},
                        "spec": {"image": image, "interval": "1m"},
                    }
                )
            for name in ("probe", "ghcr"):
                cond = wait_for(
                    lambda n=name: ((client.get("ImageRepository", n) or {}).get("status") or {}).get(
                        "conditions"
                    ),  # type: ignore[misc]
                    f"the scan of {name}",
                )
                assert cond[0]["status"] == "False" and cond[0]["reason"] == "ReadOperationFailed"
                assert "is outside the sandbox" in cond[0]["message"]
            # the sandbox's own registry still serves Docker Hub names
            assert sup.registry is not None and sup.registry.tags()
    finally:
        listener.close()
    assert listener.connections == 0


def test_control_api_and_registry_refuse_web_pages(tmp_path: Path) -> None:
    with running_sandbox(tmp_path) as sup:
        info = read_json(sup.paths.runtime)
        control, token, registry = info["control"], info["token"], info["registry"]
        port = control.rsplit(":", 1)[1]
        auth = {"Authorization": f"Bearer {token}"}
        assert httpx.get(f"{control}/status", headers=auth).status_code == 200
        for headers in ({"Host": f"evil.example:{port}"}, {"Origin": "http://evil.example"}):
            r = httpx.post(f"{control}/stop", headers={**auth, **headers})
            assert r.status_code == 403, headers
        assert httpx.post(f"{control}/stop", content=b"{}").status_code == 401
        assert not sup.stopped.is_set()
        reg_port = registry.rsplit(":", 1)[1]
        tags = f"http://{registry}/v2/library/nginx/tags/list"
        assert httpx.get(tags).status_code == 200
        rebound = httpx.get(tags, headers={"Host": f"attacker.example:{reg_port}"})
        assert rebound.status_code == 403 and rebound.json()["errors"][0]["code"] == "DENIED"


def test_kubeconfig_token_and_certificate_survive_a_restart(tmp_path: Path) -> None:
    with running_sandbox(tmp_path):
        first = (tmp_path / "kubeconfig").read_text()
        assert "token:" in first and "certificate-authority-data:" in first and "https://" in first
        client = client_for(tmp_path)
        assert client.served_image_api() == "v1"
    creds = tmp_path / "apiserver-credentials.json"
    assert oct(creds.stat().st_mode & 0o777) == "0o600"
    with running_sandbox(tmp_path):
        assert (tmp_path / "kubeconfig").read_text() == first
        assert client.served_image_api() == "v1"  # a client made before the restart still works
    old_token = json.loads(creds.read_text())["token"]
    creds.write_text(json.dumps({"token": "short", "cert": "junk", "key": "junk"}))
    with running_sandbox(tmp_path):
        assert (tmp_path / "kubeconfig").read_text() != first  # a damaged file is replaced
        new_token = json.loads(creds.read_text())["token"]
        assert new_token != old_token and len(new_token) >= 32
        assert client_for(tmp_path).served_image_api() == "v1"


def test_push_tag_takes_image_colon_tag_for_served_hosts_only(tmp_path: Path) -> None:
    from lab.errors import LabError
    from lab.services.sandbox import split_image_tag

    assert split_image_tag("1.25.4") == (None, "1.25.4")
    assert split_image_tag("nginx:1.25.4") == ("nginx", "1.25.4")
    assert split_image_tag("ghcr.io/org/app:2.0.0") == ("ghcr.io/org/app", "2.0.0")
    assert split_image_tag("localhost:5000/app") == (None, "localhost:5000/app")
    assert split_image_tag("localhost:5000/app:1.0") == ("localhost:5000/app", "1.0")
    with running_sandbox(tmp_path) as sup:
        assert sup.push_tag("1.99.0", "nginx")["added"] == ["1.99.0"]
        assert sup.registry is not None and "1.99.0" in sup.registry.tags("library/nginx")
        assert sup.push_tag("1.99.1", "docker.io/library/nginx")["image"] == "library/nginx"
        try:
            sup.push_tag("2.0.0", "quay.io/org/app")
        except LabError as err:
            assert "serves docker.io, not quay.io" in err.message
        else:
            raise AssertionError("a host the sandbox does not serve was accepted")
        info = read_json(sup.paths.runtime)
        assert info["mirror"] == {"index.docker.io": info["registry"]}
