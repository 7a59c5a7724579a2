"""A real registry for tests: Debian's `docker-registry` (distribution 2.8) on 127.0.0.1.

`start_docker_registry(tmp, auth="none"|"htpasswd")` runs the binary with its own config (temp storage,
free port, never the packaged config or port 5000) and waits until `/v2/` answers. `push_tags` uploads
one config blob and one small OCI manifest per tag over HTTP, as a `docker push` of an empty image
would, so no docker is needed. Outside CI a missing binary (or no bcrypt for htpasswd) skips with the
reason; with CI=true it fails, because `.ci/run` installs the package.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import httpx
import pytest

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
CONFIG_BYTES = b'{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]},"config":{}}'


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def unavailable(reason: str) -> None:
    """Skip with `reason` on a developer machine; fail in CI, where the dependency must exist."""
    if _in_ci():
        pytest.fail(f"{reason} (CI=true: .ci/run must install it)", pytrace=False)
    pytest.skip(reason)


def registry_binary() -> str:
    found = shutil.which("docker-registry") or (
        "/usr/bin/docker-registry" if os.access("/usr/bin/docker-registry", os.X_OK) else None
    )
    if found is None:
        unavailable("docker-registry is not installed (apt-get install docker-registry)")
        raise AssertionError("unreachable")
    return found


def bcrypt_hash(password: str) -> str:
    """A bcrypt hash for htpasswd (the only kind 2.8 accepts), low cost to keep fixtures fast."""
    try:
        import bcrypt  # type: ignore[import-not-found]

        hashed: bytes = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=5))
        return hashed.decode()
    except ImportError:
        pass
    # Python 3.11's deprecated `crypt` wraps libxcrypt, which does bcrypt ($2b$) on Debian.
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            import crypt

            method = getattr(crypt, "METHOD_BLOWFISH", None)
            if method is not None and method in crypt.methods:
                value = crypt.crypt(password, crypt.mksalt(method, rounds=32))
                if value and value.startswith("$2"):
                    return value
    except ImportError:
        pass
    unavailable("no bcrypt for htpasswd: install the Python package bcrypt")
    raise AssertionError("unreachable")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class RealRegistry:
    address: str  # 127.0.0.1:PORT
    process: subprocess.Popen[bytes]
    root: Path
    log: Path
    username: str = ""
    password: str = field(default="", repr=False)

    @property
    def port(self) -> int:
        return int(self.address.rsplit(":", 1)[1])

    @property
    def url(self) -> str:
        return f"http://{self.address}"

    @property
    def basic(self) -> tuple[str, str] | None:
        return (self.username, self.password) if self.username else None

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def docker_config(self, path: Path, *, host: str | None = None, password: str | None = None) -> Path:
        """A Docker config.json with `auths` for this registry (as `docker login` writes it)."""
        secret = self.password if password is None else password
        auth = base64.b64encode(f"{self.username}:{secret}".encode()).decode()
        path.write_text(json.dumps({"auths": {host or self.address: {"auth": auth}}}))
        return path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        shutil.rmtree(self.root, ignore_errors=True)


def _config(root: Path, port: int, auth: str) -> str:
    text = f"""version: 0.1
log:
  level: warn
  accesslog: {{disabled: true}}
storage:
  filesystem: {{rootdirectory: {root / "data"}}}
  delete: {{enabled: true}}
http:
  addr: 127.0.0.1:{port}
  secret: test-only-secret
"""
    if auth == "htpasswd":
        text += f"""auth:
  htpasswd:
    realm: lab-basic
    path: {root / "htpasswd"}
"""
    return text


def start_docker_registry(
    root: Path,
    *,
    auth: Literal["none", "htpasswd"] = "none",
    username: str = "learner",
    password: str = "correct horse battery staple",
) -> RealRegistry:
    binary = registry_binary()
    root.mkdir(parents=True, exist_ok=True)
    if auth == "htpasswd":
        # 2.8 invents a user with a random password when the file is missing: write it first.
        (root / "htpasswd").write_text(f"{username}:{bcrypt_hash(password)}\n")
    last_log = ""
    for _ in range(5):
        port = free_port()
        config = root / "config.yml"
        config.write_text(_config(root, port, auth))
        log = root / "registry.log"
        with log.open("wb") as sink:
            process = subprocess.Popen(
                [binary, "serve", str(config)], stdout=sink, stderr=subprocess.STDOUT, cwd=root
            )
        reg = RealRegistry(
            f"127.0.0.1:{port}",
            process,
            root,
            log,
            username if auth == "htpasswd" else "",
            password if auth == "htpasswd" else "",
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if process.poll() is not None:
                break
            with contextlib.suppress(httpx.HTTPError):
                status = httpx.get(f"{reg.url}/v2/", timeout=1).status_code
                if status in (200, 401):
                    return reg
            time.sleep(0.05)
        last_log = reg.log_tail()
        if process.poll() is None:
            process.kill()
            process.wait(timeout=5)
        if "address already in use" not in last_log:
            break
    pytest.fail(f"docker-registry did not become ready:\n{last_log}", pytrace=False)
    raise AssertionError("unreachable")


@contextlib.contextmanager
def docker_registry(root: Path, **kwargs: object) -> Iterator[RealRegistry]:
    reg = start_docker_registry(root, **kwargs)  # type: ignore[arg-type]
    try:
        yield reg
    finally:
        reg.stop()


def push_tags(
    base_url: str, repo: str, tags: Sequence[str], *, auth: tuple[str, str] | None = None
) -> dict[str, str]:
    """Push `tags` of `repo` (one shared config blob, a distinct OCI manifest per tag); tag -> digest."""
    digests: dict[str, str] = {}
    config_digest = "sha256:" + hashlib.sha256(CONFIG_BYTES).hexdigest()
    with httpx.Client(base_url=base_url, auth=auth, timeout=10) as http:
        head = http.head(f"/v2/{repo}/blobs/{config_digest}")
        if head.status_code != 200:
            start = http.post(f"/v2/{repo}/blobs/uploads/")
            assert start.status_code == 202, (start.status_code, start.text)
            # The Location carries a _state parameter that must be kept: append, do not rebuild.
            location = start.headers["location"]
            sep = "&" if "?" in location else "?"
            put = http.put(
                f"{location}{sep}digest={config_digest}",
                content=CONFIG_BYTES,
                headers={"Content-Type": "application/octet-stream"},
            )
            assert put.status_code == 201, (put.status_code, put.text)
        for tag in tags:
            manifest = {
                "schemaVersion": 2,
                "mediaType": OCI_MANIFEST,
                "config": {"mediaType": OCI_CONFIG, "size": len(CONFIG_BYTES), "digest": config_digest},
                "layers": [],
                "annotations": {"org.opencontainers.image.ref.name": tag},
            }
            body = json.dumps(manifest, separators=(",", ":")).encode()
            resp = http.put(
                f"/v2/{repo}/manifests/{tag}", content=body, headers={"Content-Type": OCI_MANIFEST}
            )
            assert resp.status_code == 201, (tag, resp.status_code, resp.text)
            digests[tag] = "sha256:" + hashlib.sha256(body).hexdigest()
            assert resp.headers.get("docker-content-digest") == digests[tag]
    return digests
