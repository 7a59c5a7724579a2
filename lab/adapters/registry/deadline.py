"""An HTTP transport whose every socket operation also ends at the current call's deadline.

httpx's timeouts bound each read, not the whole response: a registry that sends its status line and
headers (or its body) one byte at a time never lets a read time out, and the client would wait for
ever. This transport's connections cut every read, write, connect and TLS handshake at what is left
of the deadline the client set for the calling thread (`Deadlines.until`), so the whole call ends on
time wherever the server stalls: the cut read is httpx's ordinary `ReadTimeout`.
"""

from __future__ import annotations

import contextlib
import ssl
import threading
import time
from collections.abc import Iterable, Iterator
from typing import Any

import httpcore
import httpx
from httpcore._backends.base import SOCKET_OPTION


class Deadlines(httpcore.NetworkBackend):
    """The sync backend, with timeouts shortened to the deadline set for this thread (if any)."""

    def __init__(self) -> None:
        self._inner = httpcore.SyncBackend()
        self._local = threading.local()

    @contextlib.contextmanager
    def until(self, deadline: float) -> Iterator[None]:
        """Bound every socket operation of this thread by `deadline` (time.monotonic) while inside."""
        self._local.deadline = deadline
        try:
            yield
        finally:
            self._local.deadline = None

    def clamp(self, timeout: float | None) -> float | None:
        deadline: float | None = getattr(self._local, "deadline", None)
        if deadline is None:
            return timeout
        left = max(deadline - time.monotonic(), 0.001)  # 0 would mean non-blocking, not "now"
        return left if timeout is None else min(timeout, left)

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        stream = self._inner.connect_tcp(host, port, self.clamp(timeout), local_address, socket_options)
        return _Stream(stream, self)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[SOCKET_OPTION] | None = None
    ) -> httpcore.NetworkStream:
        return _Stream(self._inner.connect_unix_socket(path, self.clamp(timeout), socket_options), self)

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class _Stream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream, deadlines: Deadlines) -> None:
        self._inner = inner
        self._deadlines = deadlines

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, self._deadlines.clamp(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, self._deadlines.clamp(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        inner = self._inner.start_tls(ssl_context, server_hostname, self._deadlines.clamp(timeout))
        return _Stream(inner, self._deadlines)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


def deadline_transport(deadlines: Deadlines) -> httpx.HTTPTransport:
    """httpx's default transport (no proxy from the environment, system CAs) on `deadlines`."""
    transport = httpx.HTTPTransport(trust_env=False)
    transport._pool = httpcore.ConnectionPool(
        ssl_context=httpx.create_ssl_context(trust_env=False),
        max_connections=100,  # httpx's default limits
        max_keepalive_connections=20,
        keepalive_expiry=5.0,
        network_backend=deadlines,
    )
    return transport
