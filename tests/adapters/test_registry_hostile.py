"""Registries that attack the client: trickled bytes, redirect loops, broken encodings, JSON bombs,
cross-host redirects, broken token servers and token material. Each answer is a one-line
RegistryAPIError (never an internal error), within the call's deadline, with no secret in it.

The server is a raw socket loop so that a test can write any bytes, at any pace.
"""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from lab.adapters.registry import RegistryAPIError, RegistryClient
from lab.core.text import is_safe
from tests.support.labrun import run_lab

# A handler gets the request head (method, path, headers) and the socket to write to.
Handler = Callable[[str, str, dict[str, str], socket.socket], None]


@dataclass
class Raw:
    handler: Handler
    sock: socket.socket = field(default_factory=lambda: socket.socket(socket.AF_INET, socket.SOCK_STREAM))
    stop: threading.Event = field(default_factory=threading.Event)
    seen: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.sock.getsockname()[1]}"

    def serve(self) -> None:
        self.sock.settimeout(0.1)
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        try:
            with conn:
                while not self.stop.is_set():
                    head = b""
                    while b"\r\n\r\n" not in head:
                        chunk = conn.recv(4096)
                        if not chunk:
                            return
                        head += chunk
                    lines = head.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
                    method, path, _ = lines[0].split(" ", 2)
                    headers = {}
                    for line in lines[1:]:
                        key, _, value = line.partition(":")
                        headers[key.strip().lower()] = value.strip()
                    self.seen.append((method, path, headers))
                    self.handler(method, path, headers, conn)
        except OSError:
            return


@pytest.fixture
def raw() -> Iterator[Callable[[Handler], Raw]]:
    started: list[Raw] = []

    def start(handler: Handler) -> Raw:
        server = Raw(handler)
        server.sock.bind(("127.0.0.1", 0))
        server.sock.listen(16)
        threading.Thread(target=server.serve, daemon=True).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop.set()
        server.sock.close()


def reply(
    conn: socket.socket, status: str, body: bytes = b"{}", headers: dict[str, str] | None = None
) -> None:
    head = [f"HTTP/1.1 {status}", f"Content-Length: {len(body)}", "Content-Type: application/json"]
    head += [f"{k}: {v}" for k, v in (headers or {}).items()]
    conn.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)


def client(**kwargs: object) -> RegistryClient:
    options: dict[str, object] = {"sleep": lambda s: None, "timeout": 2.0, "deadline": 3.0}
    options.update(kwargs)
    return RegistryClient(**options)  # type: ignore[arg-type]


def one_line(err: RegistryAPIError) -> str:
    text = f"{err.message} {err.hint or ''}"
    assert "\n" not in err.message
    return text


def test_trickled_body_is_bounded_by_the_deadline(raw: Callable[[Handler], Raw]) -> None:
    def handler(method: str, path: str, headers: dict[str, str], conn: socket.socket) -> None:
        if path == "/v2/":
            reply(conn, "200 OK")
            return
        body = json.dumps({"tags": ["1.0.0"] * 200}).encode()
        conn.sendall(f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n\r\n".encode())
        for byte in body:  # one byte every 50 ms: each read is quick, the whole is not
            conn.sendall(bytes([byte]))
            time.sleep(0.05)

    srv = raw(handler)
    started = time.monotonic()
    with pytest.raises(RegistryAPIError) as info, client(deadline=2.0) as c:
        c.list_tags(f"{srv.address}/app")
    assert time.monotonic() - started < 6
    assert "timed out" in one_line(info.value)


@pytest.mark.parametrize("endpoint", ["/v2/", "/v2/app/tags/list"])
def test_trickled_response_head_is_bounded_by_the_deadline(
    raw: Callable[[Handler], Raw], endpoint: str
) -> None:
    # The status line and headers a byte at a time: every read is quick, so a read timeout never
    # fires, and the deadline was checked only once the head was complete (it never was).
    def handler(method: str, path: str, headers: dict[str, str], conn: socket.socket) -> None:
        if path.split("?")[0] != endpoint:
            reply(conn, "200 OK")
            return
        head = b"HTTP/1.1 200 OK\r\n" + b"X-Pad: x\r\n" * 1000
        stop = time.monotonic() + 10
        for byte in head:
            if time.monotonic() > stop:
                return
            conn.sendall(bytes([byte]))
            time.sleep(0.02)

    srv = raw(handler)
    started = time.monotonic()
    with pytest.raises(RegistryAPIError) as info, client(deadline=2.0, retries=0) as c:
        c.list_tags(f"{srv.address}/app")
    assert time.monotonic() - started < 6
    assert "timed out" in one_line(info.value)


def test_redirect_loop_is_a_clear_error(raw: Callable[[Handler], Raw]) -> None:
    def handler(method: str, path: str, headers: dict[str, str], conn: socket.socket) -> None:
        reply(conn, "302 Found", b"", {"Location": path})

    srv = raw(handler)
    with pytest.raises(RegistryAPIError) as info, client() as c:
        c.list_tags(f"{srv.address}/app")
    assert "redirect" in one_line(info.value)


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_broken_content_encoding_is_a_clear_error(raw: Callable[[Handler], Raw], encoding: str) -> None:
    def handler(method: str, path: str, headers: dict[str, str], conn: socket.socket) -> None:
        reply(conn, "200 OK", b"\x00not compressed at all" * 4, {"Content-Encoding": encoding})

    srv = raw(handler)
    with pytest.raises(RegistryAPIError) as info, client() as c:
        c.list_tags(f"{srv.address}/app")
    assert "could not be decoded" in one_line(info.value)


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 200_000 + b"]" * 200_000,
        b'{"tags": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        b'{"tags": [' + b"9" * 5000 + b"]}",
        b'{"tags": ["1"], "n": ' + b"1" * 5000 + b"}",
    ],
    ids=["nested-array", "nested-tags", "huge-int-tag", "huge-int-field"],
)
def test_hostile_json_is_malformed_not_a_crash(raw: Callable[[Handler], Raw], body: bytes) -> None:
    def handler(method: str, path: str, headers: dict[str, str], conn: socket.socket) -> None:
        reply(conn, "200 OK", b"{}" if path == "/v2/" else body)

    srv = raw(handler)
    with pytest.raises(RegistryAPIError) as info, client() as c:
        c.list_tags(f"{srv.address}/app")
    assert "malformed tag list" in one_line(info.value)


def test_redirect_to_another_host_is_said_and_drops_credentials(
    raw: Callable[[Handler], Raw], tmp_path: Path
) -> None:
    other = raw(lambda m, p, h, conn: reply(conn, "200 OK", json.dumps({"tags": ["2.0.0"]}).encode()))
    other_port = other.address.split(":")[1]

    def handler(method: str, path: str, headers: dict[str, str], conn: socket.socket) -> None:
        if "authorization" not in headers:
            reply(conn, "401 Unauthorized", b"{}", {"WWW-Authenticate": 'Basic realm="r"'})
        elif path == "/v2/":
            reply(conn, "200 OK")
        else:  # `localhost` is another host to the client, though the same machine
            reply(conn, "307 Temporary Redirect", b"", {"Location": f"http://localhost:{other_port}{path}"})

    srv = raw(handler)
    auth = base64.b64encode(b"user:s3cret-pass").decode()
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"auths": {srv.address: {"auth": auth}}}))
    with client(docker_config=config) as c:
        listed = c.list_tags(f"{srv.address}/app")
    assert listed.tags == ("2.0.0",)
    assert any(f"redirected to localhost:{other_port}" in note for note in listed.notes)
    assert other.seen and all("authorization" not in h for _, _, h in other.seen)


def test_unretried_status_does_not_claim_retries(raw: Callable[[Handler], Raw]) -> None:
    def handler(method: str, path: str, headers: dict[str, str], conn: socket.socket) -> None:
        reply(conn, "200 OK" if path == "/v2/" else "501 Not Implemented")

    srv = raw(handler)
    with pytest.raises(RegistryAPIError) as info, client(retries=3) as c:
        c.list_tags(f"{srv.address}/app")
    text = one_line(info.value)
    assert "501" in text
    assert "attempts" not in text
    assert len([s for s in srv.seen if s[1] != "/v2/"]) == 1


def test_failing_token_server_is_named_not_the_registry(raw: Callable[[Handler], Raw]) -> None:
    tokens = raw(lambda m, p, h, conn: reply(conn, "500 Internal Server Error", b"boom"))

    def handler(method: str, path: str, headers: dict[str, str], conn: socket.socket) -> None:
        challenge = f'Bearer realm="http://localhost:{tokens.address.split(":")[1]}/token",service="reg"'
        reply(conn, "401 Unauthorized", b"{}", {"WWW-Authenticate": challenge})

    srv = raw(handler)
    with pytest.raises(RegistryAPIError) as info, client(retries=0) as c:
        c.list_tags(f"{srv.address}/app")
    text = one_line(info.value)
    assert "token server" in text
    assert f"localhost:{tokens.address.split(':')[1]}" in text


@pytest.mark.parametrize("token", ["abc\r\nX-Evil: 1", "tok en with spaces", "t\x1b[31mred"])
def test_malformed_token_is_refused_without_echoing_it(raw: Callable[[Handler], Raw], token: str) -> None:
    tokens = raw(lambda m, p, h, conn: reply(conn, "200 OK", json.dumps({"token": token}).encode()))

    def handler(method: str, path: str, headers: dict[str, str], conn: socket.socket) -> None:
        challenge = f'Bearer realm="http://{tokens.address}/token",service="reg"'
        reply(conn, "401 Unauthorized", b"{}", {"WWW-Authenticate": challenge})

    srv = raw(handler)
    with pytest.raises(RegistryAPIError) as info, client() as c:
        c.list_tags(f"{srv.address}/app")
    err = info.value
    text = f"{err.message} {err.hint} {err.flux_detail} {err!r}"
    assert "malformed token" in text
    for fragment in ("abc", "with spaces", "red", "\x1b"):
        assert fragment not in text


@pytest.mark.slow
def test_lab_tags_shows_hostile_tags_and_reason_phrases_escaped(
    raw: Callable[[Handler], Raw], lab_env: dict[str, str]
) -> None:
    def handler(method: str, path: str, headers: dict[str, str], conn: socket.socket) -> None:
        if path == "/v2/":
            reply(conn, "200 OK")
        elif path.startswith("/v2/teapot/"):
            conn.sendall(b"HTTP/1.1 418 I\x1b]0;pwned\x07m a teapot\r\nContent-Length: 0\r\n\r\n")
        else:
            tags = ["1.0.0", "1.0.1\x1b]0;x\x07", "2.0\u202eevil", "v\x9b31m"]
            reply(conn, "200 OK", json.dumps({"name": "app", "tags": tags}).encode())

    srv = raw(handler)
    listed = run_lab("tags", f"{srv.address}/app", env=lab_env)
    refused = run_lab("tags", f"{srv.address}/teapot", env=lab_env)
    assert listed.returncode == 0 and refused.returncode == 1, (listed.stderr, refused.stderr)
    for text in (listed.stdout, listed.stderr, refused.stdout, refused.stderr):
        assert is_safe(text), repr(text)
    assert "1.0.1\\x1b]0;x\\x07" in listed.stdout and "2.0\\u202eevil" in listed.stdout
    assert "418 I\\x1b]0;pwned\\x07m a teapot" in refused.stderr


@pytest.mark.slow
def test_lab_tags_writes_a_tags_file_lab_policy_reads(
    raw: Callable[[Handler], Raw], lab_env: dict[str, str], tmp_path: Path
) -> None:
    """A registry's "tag" with CR, LF or TAB is one escaped line, and what `lab tags` writes is a tags
    file `lab policy --tags-file` reads: a listed name that is no image tag is a comment line."""
    from lab.adapters.tagsfile import read_tags

    def handler(method: str, path: str, headers: dict[str, str], conn: socket.socket) -> None:
        if path == "/v2/":
            reply(conn, "200 OK")
        else:
            tags = ["1.25.6", "1.25.7\r\nX-Injected: 1", "1.25.8\tx", "1.25.9\x1b]0;T\x07"]
            reply(conn, "200 OK", json.dumps({"name": "app", "tags": tags}).encode())

    listed = run_lab("tags", f"{raw(handler).address}/app", env=lab_env)
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert "# not an image tag: 1.25.7\\x0d\\x0aX-Injected: 1" in lines, lines
    assert "# not an image tag: 1.25.8\\x09x" in lines and "X-Injected: 1" not in lines
    assert "\r" not in listed.stdout and "\t" not in listed.stdout
    (tmp_path / "tags.txt").write_text(listed.stdout, encoding="utf-8")
    assert read_tags(tmp_path / "tags.txt") == ["1.25.6"]
    chosen = run_lab("policy", "--semver", ">=1.0.0", "--tags-file", str(tmp_path / "tags.txt"), env=lab_env)
    assert chosen.returncode == 0 and "1.25.6" in chosen.stdout, chosen.stderr
