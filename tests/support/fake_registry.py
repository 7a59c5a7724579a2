"""A registry that misbehaves on purpose, on 127.0.0.1 in a thread of the test: it lists any strings as
tags (hostile ones included), or answers every request with one status (429 with Retry-After, 401 with a
Basic challenge, 500). What a real registry (`registry_fixtures`) never does, and the lab must survive."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CODES = {401: "UNAUTHORIZED", 429: "TOOMANYREQUESTS", 500: "UNKNOWN"}


@dataclass
class FakeRegistry:
    port: int
    authorizations: list[str] = field(default_factory=list)
    """The Authorization header of each request ("" when none was sent)."""

    @property
    def mirror(self) -> str:
        """The LAB_REGISTRY_MIRROR value that sends Docker Hub names here."""
        return f"docker.io=127.0.0.1:{self.port}"


@contextmanager
def fake_registry(
    tags: Sequence[str] = (), status: int = 200, *, basic: str = "", scheme: str = "basic"
) -> Iterator[FakeRegistry]:
    """Serve `tags` for every repository, or answer `status` (not 200) to every request (307: to itself).
    `basic`: "user:password" a request must carry (Basic auth), else 401 with a Basic challenge.
    `scheme`: the challenge of `status` 401, "basic" or "bearer" (whose token server refuses too)."""
    import base64

    wanted = f"Basic {base64.b64encode(basic.encode()).decode()}" if basic else ""
    state = FakeRegistry(0)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            return

        def _send(self, code: int, body: bytes, headers: dict[str, str]) -> None:
            self.send_response(code)
            for key, value in {"Content-Type": "application/json", **headers}.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def do_GET(self) -> None:
            state.authorizations.append(self.headers.get("Authorization") or "")
            if wanted and self.headers.get("Authorization") != wanted:
                error = {"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]}
                self._send(401, json.dumps(error).encode(), {"WWW-Authenticate": 'Basic realm="fake"'})
            elif status == 307:  # a redirect loop: every request is sent back to itself
                self._send(307, b"", {"Location": self.path})
            elif status != 200:
                error = {"errors": [{"code": CODES.get(status, "UNKNOWN"), "message": "refused on purpose"}]}
                bearer = f'Bearer realm="http://127.0.0.1:{state.port}/token",service="fake"'
                challenge = bearer if scheme == "bearer" else 'Basic realm="fake"'
                headers = {429: {"Retry-After": "3600"}, 401: {"WWW-Authenticate": challenge}}
                self._send(status, json.dumps(error).encode(), headers.get(status, {}))
            elif self.path == "/v2/":
                self._send(200, b"{}", {})
            elif "/tags/list" in self.path:
                self._send(200, json.dumps({"name": "library/nginx", "tags": list(tags)}).encode(), {})
            else:
                self._send(404, b'{"errors": [{"code": "MANIFEST_UNKNOWN", "message": "unknown"}]}', {})

        do_HEAD = do_GET

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
