"""`WWW-Authenticate` challenges, credentials and the bearer-token cache.

Secrets live only in `Credentials` fields excluded from `repr`; nothing here logs.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from dataclasses import field

from lab.core.record import dataclass


@dataclass(frozen=True)
class Credentials:
    """What a registry accepts: user + password, an identity (refresh) token, or a ready bearer token.

    `source` says where they came from (a file, a secret), for messages; it never holds the secret.
    """

    username: str = ""
    password: str = field(default="", repr=False)
    identity_token: str = field(default="", repr=False)
    registry_token: str = field(default="", repr=False)
    source: str = ""

    @property
    def empty(self) -> bool:
        return not (self.username or self.password or self.identity_token or self.registry_token)

    def basic_header(self) -> str:
        raw = f"{self.username}:{self.password}".encode()
        return "Basic " + base64.b64encode(raw).decode("ascii")


@dataclass(frozen=True)
class Challenge:
    scheme: str  # lower case: "bearer", "basic", ...
    params: dict[str, str]

    @property
    def realm(self) -> str:
        return self.params.get("realm", "")


def _skip_ws(text: str, i: int) -> int:
    while i < len(text) and text[i] in " \t":
        i += 1
    return i


def _token(text: str, i: int) -> tuple[str, int]:
    start = i
    while i < len(text) and text[i] not in ' \t,="':
        i += 1
    return text[start:i], i


def _quoted(text: str, i: int) -> tuple[str, int]:
    # text[i] is the opening quote; RFC 7230 quoted-string with backslash escapes.
    out: list[str] = []
    i += 1
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            out.append(text[i + 1])
            i += 2
            continue
        if ch == '"':
            return "".join(out), i + 1
        out.append(ch)
        i += 1
    return "".join(out), i


def parse_challenges(header: str) -> list[Challenge]:
    """All challenges in one `WWW-Authenticate` value (`Bearer realm="..",scope="a b", Basic realm=..`)."""
    challenges: list[Challenge] = []
    i, n = 0, len(header)
    current: Challenge | None = None
    while i < n:
        i = _skip_ws(header, i)
        if i < n and header[i] == ",":
            i += 1
            continue
        word, j = _token(header, i)
        if not word:
            i = j + 1
            continue
        k = _skip_ws(header, j)
        if k < n and header[k] == "=" and current is not None:
            k = _skip_ws(header, k + 1)
            if k < n and header[k] == '"':
                value, k = _quoted(header, k)
            else:
                value, k = _token(header, k)
            current.params[word.lower()] = value
            i = k
            continue
        # A new auth-scheme starts here.
        current = Challenge(word.lower(), {})
        challenges.append(current)
        i = j
    return challenges


def pick_challenge(header_values: list[str]) -> Challenge | None:
    """Bearer if offered, else Basic (like ggcr); None when neither."""
    found: list[Challenge] = []
    for value in header_values:
        found.extend(parse_challenges(value))
    for scheme in ("bearer", "basic"):
        for ch in found:
            if ch.scheme == scheme:
                return ch
    return None


@dataclass
class CachedToken:
    token: str = field(repr=False)
    expires_at: float


class TokenCache:
    """Bearer tokens per (realm, service, scopes), reused until 10 s before they expire."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._tokens: dict[tuple[str, str, tuple[str, ...]], CachedToken] = {}

    def __repr__(self) -> str:
        return f"TokenCache({len(self._tokens)} tokens)"

    def _now(self) -> float:
        return self._clock()

    def get(self, key: tuple[str, str, tuple[str, ...]]) -> str | None:
        entry = self._tokens.get(key)
        if entry is None or entry.expires_at <= self._now():
            return None
        return entry.token

    def put(self, key: tuple[str, str, tuple[str, ...]], token: str, expires_in: float) -> None:
        self._tokens[key] = CachedToken(token, self._now() + max(expires_in, 0.0) - 10.0)

    def drop(self, key: tuple[str, str, tuple[str, ...]]) -> None:
        self._tokens.pop(key, None)
