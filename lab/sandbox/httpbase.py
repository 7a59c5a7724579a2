"""The one HTTP stack of the sandbox: the kube API, the embedded registry and the control API all use it.

Everything listens on loopback, and loopback is not a security boundary against a web browser: any page
the learner opens can send requests to 127.0.0.1 (a `text/plain` POST needs no CORS preflight) or rebind a
DNS name to 127.0.0.1 and read the answers. So every handler here refuses a `Host` that is not this
server's loopback address (DNS rebinding) and an `Origin` other than its own (cross-site requests); the
kube API and the control API also require their bearer token.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import socket
import ssl
import threading
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")


class LoopbackServer(ThreadingHTTPServer):
    """A threading server that tracks its connections so `close()` can cut open keep-alive sockets."""

    allow_reuse_address = True

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        *,
        join: bool = False,
        tls: ssl.SSLContext | None = None,
    ):
        # join=True: handler threads are joined on close (no leaked threads), for servers stopped in tests.
        self.daemon_threads = not join
        self.block_on_close = join
        self.tls = tls
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, addr = super().get_request()
        if self.tls is not None:
            # The handshake runs in the handler thread (LoopbackHandler.setup), not in the accept loop,
            # so a client that stalls mid-handshake holds up nobody else.
            sock = self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        with self.connections_lock:
            self.connections.add(sock)
        return sock, addr

    def shutdown_request(self, request: Any) -> None:
        with self.connections_lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up mid-response (timeouts, size caps) is normal here, not worth a traceback.
        return

    def drop_connections(self) -> None:
        with self.connections_lock:
            for sock in list(self.connections):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def allowed_hosts(self) -> frozenset[str]:
        """`Host` values naming this server: its loopback names with its port."""
        return frozenset(f"{name}:{self.port}" for name in _LOOPBACK_NAMES)


def serve_in_thread(server: LoopbackServer, name: str) -> threading.Thread:
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.1}, name=name, daemon=True
    )
    thread.start()
    return thread


class LoopbackHandler(BaseHTTPRequestHandler):
    """Sending, body reading and the origin checks every sandbox endpoint shares."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out as separate writes; with Nagle on, delayed ACKs stall each response ~40 ms.
    disable_nagle_algorithm = True
    server: LoopbackServer
    extra_headers: tuple[tuple[str, str], ...] = ()

    def log_message(self, format: str, *args: Any) -> None:  # keep test and supervisor output clean
        return

    def setup(self) -> None:
        super().setup()
        if isinstance(self.request, ssl.SSLSocket):
            self.request.do_handshake()

    # --- sending ---------------------------------------------------------------------------------------

    def send_body(
        self,
        code: int,
        payload: bytes,
        content_type: str = "application/json",
        headers: Iterable[tuple[str, str]] = (),
    ) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for key, value in (*self.extra_headers, *headers):
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def send_json(self, code: int, body: Any, headers: Iterable[tuple[str, str]] = ()) -> None:
        self.send_body(code, json.dumps(body, separators=(",", ":")).encode(), "application/json", headers)

    # --- reading ---------------------------------------------------------------------------------------

    def content_length(self) -> int:
        try:
            return max(0, int(self.headers.get("Content-Length") or 0))
        except ValueError:
            return 0

    def drain(self, length: int, limit: int) -> None:
        """Read and drop what was sent (within `limit`) so the client reads our error, not a reset."""
        remaining = min(length, limit)
        while remaining > 0:
            chunk = self.rfile.read(min(remaining, 1 << 16))
            if not chunk:
                break
            remaining -= len(chunk)
        self.close_connection = True

    def content_type(self) -> str:
        return (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()

    # --- who is asking ---------------------------------------------------------------------------------

    def foreign_origin(self) -> str | None:
        """Why this request does not come from a local client of this server, or None when it does.

        A missing `Host` (HTTP/1.0 tools) is accepted; browsers always send one, and after a DNS
        rebinding it names the attacker's domain. Browsers add `Origin` to cross-site requests; local
        clients (kubectl, git, the lab) send none.
        """
        allowed = self.server.allowed_hosts()
        host = (self.headers.get("Host") or "").strip().lower()
        if host and host not in allowed:
            return f"Host {host!r} is not this sandbox's address"
        origin = (self.headers.get("Origin") or "").strip().lower()
        if origin and origin.removeprefix("http://").removeprefix("https://") not in allowed:
            return f"cross-origin requests are refused (Origin {origin!r})"
        return None

    def bearer_ok(self, token: str) -> bool:
        auth = self.headers.get("Authorization") or ""
        return secrets.compare_digest(auth.encode(), f"Bearer {token}".encode())
