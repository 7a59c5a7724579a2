"""The registry client: list tags the way image-reflector-controller scans, read digests.

One scan costs what it costs Flux: `GET /v2/` (learns the auth scheme), a token request when the
registry asks for one, then `GET /v2/<name>/tags/list?n=1000` and one GET per `Link: <...>; rel="next"`.
So N tags take ceil(N / page) list requests plus the auth round trips; no manifest requests.

Robustness, from what real registries do (see the registry reference):
- follow `Link` until it is absent (a short page is not the end), resolve relative links, refuse a link
  to another host and a link that repeats; cap pages, tags and bytes so a hostile registry cannot
  exhaust memory;
- retry 408/5xx and connection errors with backoff (1 s, 3 s, 9 s ...), honour `Retry-After` on 429 up to
  `max_retry_after` seconds, and bound everything by a per-call deadline;
- 401/403/404/429 become one-line messages a learner can act on; the Flux-style text
  (`GET <url>: CODE: message`) is kept on the error as `flux_detail` for `scan failed: ...`.

Environment: `LAB_REGISTRY_MIRROR="docker.io=127.0.0.1:5000[,ghcr.io=127.0.0.1:5001]"` sends requests
for Docker Hub names (or another host) to a mirror while names and messages stay Flux's
(`index.docker.io/library/nginx`). The sandbox points it at its embedded registry. Loopback, `*.local`
and private addresses are spoken to over plain HTTP (ggcr would try HTTPS first).

Secrets (passwords, tokens, `Authorization`) never appear in messages, `repr` or logs.
"""

from __future__ import annotations

import contextlib
import email.utils
import hashlib
import json
import os
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from lab.adapters.registry.auth import Challenge, Credentials, TokenCache, pick_challenge
from lab.adapters.registry.deadline import Deadlines, deadline_transport
from lab.adapters.registry.dockerconfig import CredentialLookup, DockerConfig, Keychain
from lab.adapters.registry.names import (
    DOCKER_HUB,
    DOCKER_HUB_DAEMON_HOST,
    MIRROR_ENV,
    TAG_RE,
    ImageName,
    ImageNameError,
    parse_image,
    parse_mirror_spec,
)
from lab.core.record import dataclass
from lab.core.scan import DEFAULT_EXCLUSION, latest_tags, scan_revision, store_tags
from lab.errors import LabError, RegistryError
from lab.resources import SANDBOX_ENV

MANIFEST_ACCEPT = ", ".join(
    [
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.v1+prettyjws",
    ]
)
RETRY_STATUSES = frozenset({408, 499, 500, 502, 503, 504, 522})
_DIGEST_RE = re.compile(r"^sha256:[0-9a-f]{64}$")
_USER_AGENT = "fluxlab (image-reflector-like tag scanner)"


class RegistryAPIError(RegistryError):
    """A registry request failed; `flux_detail` is the text Flux would put after `scan failed: `."""

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        flux_detail: str = "",
        status: int = 0,
        code: str = "",
        retry_after: float | None = None,
        timed_out: bool = False,
    ) -> None:
        super().__init__(message, hint=hint)
        self.flux_detail = flux_detail or message
        self.status = status
        self.code = code
        self.retry_after = retry_after
        self.timed_out = timed_out
        """The registry answered too slowly (a timeout or the call's deadline), not that it refused."""
        self.credentialed = False
        """A refusal of credentials the lab sent (from the Docker config), not of an anonymous request."""


def scan_failed(err: RegistryError) -> str:
    """What Flux's ImageRepository says of a failed scan (Ready=False): `scan failed: GET ...: CODE: ...`,
    or a bad image's own message. The registry's refusal in the lab's words is `err.message` and
    `err.hint` (as `lab simulate` prints them); this is the controller's, shown beside them."""
    detail = getattr(err, "flux_detail", "") or err.message
    return detail if getattr(err, "code", "") == "ImageURLInvalid" else f"scan failed: {detail}"


@dataclass(frozen=True)
class TagList:
    """Tags as the registry listed them (server order), and what it cost."""

    canonical_name: str
    tags: tuple[str, ...]
    request_count: int
    pages: int = 0
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ScanResult:
    """An ImageRepository scan: stored tags (Flux order) and the status Flux would report."""

    canonical_name: str
    tags: tuple[str, ...]
    tag_count: int
    latest_tags: tuple[str, ...]
    revision: str
    message: str
    ready: bool = True
    reason: str = "Succeeded"
    request_count: int = 0
    listed: int = 0
    notes: tuple[str, ...] = ()
    error: RegistryError | None = field(default=None, compare=False)
    basic_auth_only: bool = False
    """The registry asked for Basic auth and the tags came only with the Docker config's credentials:
    a scan without them (Flux's, without spec.secretRef) gets 401 Unauthorized."""


def sandbox_serves(image: str) -> bool:
    """Whether a scan of `image` goes to the sandbox's registry, which serves only its task's images:
    `lab sandbox env` is in effect (SANDBOX_ENV) and its MIRROR_ENV takes the image's registry host.
    Another mirror, or a host the sandbox does not take, is a real registry."""
    if not os.environ.get(SANDBOX_ENV):
        return False
    try:
        mirrors = parse_mirror_spec(os.environ.get(MIRROR_ENV, ""))
        return parse_image(image, mirrors=mirrors).mirrored
    except (ValueError, ImageNameError):  # the scan says what is wrong with either
        return False


def tags_revision(stored: Sequence[str]) -> str:
    """Flux's `lastScanResult.revision` (Badger backend): Adler-32 of Go's JSON of the stored tags."""
    return scan_revision(stored)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` value (seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _ratelimit_window(headers: httpx.Headers) -> tuple[int | None, float | None]:
    """(remaining, window seconds) from Docker Hub's `ratelimit-remaining: 0;w=21600`."""
    for name in ("ratelimit-remaining", "x-ratelimit-remaining"):
        value = headers.get(name)
        if not value:
            continue
        count, _, rest = value.partition(";")
        window = None
        m = re.search(r"w=(\d+)", rest)
        if m:
            window = float(m.group(1))
        try:
            return int(count.strip()), window
        except ValueError:
            return None, window
    return None, None


def next_link(header_values: Iterable[str], current_url: str) -> str | None:
    """The `rel="next"` URL of `Link` headers, resolved against the request URL."""
    for value in header_values:
        for part in re.split(r",(?=\s*<)", value):
            m = re.match(r"\s*<([^>]*)>(.*)$", part)
            if not m:
                continue
            params = m.group(2)
            if re.search(r';\s*rel\s*=\s*"?([^";]*\s)?next(\s[^";]*)?"?', params):
                return str(urljoin(current_url, m.group(1).strip()))
    return None


_NOT_JSON = object()
# RFC 6750 b64token and JWTs fit in printable ASCII without spaces; anything else is not sent on.
_TOKEN_RE = re.compile(r"^[\x21-\x7e]+$")


def _json(body: bytes) -> Any:
    """The decoded body, or `_NOT_JSON`: invalid UTF-8 or JSON, nesting deep enough to exhaust the
    parser's stack, or integers past Python's 4,300-digit conversion limit are all "not JSON"."""
    try:
        return json.loads(body.decode("utf-8"))
    except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        return _NOT_JSON


def _error_list(body: bytes) -> list[dict[str, Any]]:
    doc = _json(body)
    errors = doc.get("errors") if isinstance(doc, dict) else None
    if not isinstance(errors, list):
        return []
    return [e for e in errors if isinstance(e, dict)]


def _error_entries(body: bytes) -> tuple[str, str]:
    """(code, message) of the first `errors` entry; ("", "") for non-JSON bodies."""
    errors = _error_list(body)
    if not errors:
        return "", ""
    code, message = errors[0].get("code"), errors[0].get("message")
    return (str(code) if code else "UNKNOWN"), (str(message) if message else "")


def go_value(value: Any) -> str:
    """Go's `%v` of a decoded JSON value (maps print sorted: `map[Name:x Type:repository]`)."""
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{go_value(value[k])}" for k in sorted(value)) + "]"
    if isinstance(value, list):
        return "[" + " ".join(go_value(v) for v in value) + "]"
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float | int):
        number = float(value)
        if number.is_integer() and abs(number) < 1e21:
            return str(int(number))
        return repr(number)
    return str(value)


def _flux_detail(method: str, url: str, status: int, reason: str, body: bytes) -> str:
    """ggcr's `transport.Error` text, which Flux puts after `scan failed: `."""
    prefix = f"{method} {url}: "
    diagnostics = []
    for entry in _error_list(body):
        text = f"{entry.get('code') or 'UNKNOWN'}: {entry.get('message') or ''}"
        if entry.get("detail") not in (None, "", [], {}):
            text += f"; {go_value(entry['detail'])}"
        diagnostics.append(text)
    if len(diagnostics) == 1:
        return prefix + diagnostics[0]
    if diagnostics:
        return prefix + "multiple errors returned: " + "; ".join(diagnostics)
    status_text = f"unexpected status code {status} {reason}".rstrip()
    if method == "HEAD":
        return prefix + status_text + " (HEAD responses have no body, use GET for details)"
    raw = body.decode("utf-8", "replace").strip()
    return prefix + (f"{status_text}: {raw[:200]}" if raw else status_text)


@dataclass
class _Call:
    """Bookkeeping for one public call: request count, attempts, deadline."""

    deadline: float
    requests: int = 0
    attempts: int = 0  # of the last request: 1 unless it was retried
    notes: list[str] = field(default_factory=list)


@dataclass
class _HostAuth:
    pinged: bool = False
    challenge: Challenge | None = None
    token: str = field(default="", repr=False)
    sent_basic: bool = False
    """Credentials (the Docker config's) answered a Basic challenge: an anonymous client is refused."""


class RegistryClient:
    """Talks the read side of the registry v2 API, with Flux's names and auth.

    `retries` is the number of extra attempts after a transient failure (5xx, 408, a connection reset
    or cut mid-response, 429 with a short `Retry-After`; not timeouts or refused connections); waits
    grow 1 s, 3 s, 9 s ... and go through `sleep`, which tests replace. `deadline` bounds a whole
    call (`list_tags`, `digest`, `scan`).
    `keychain` (from `credentials_from_dockerconfigjson`) replaces the Docker config file, as a
    `secretRef` does for Flux.
    """

    def __init__(
        self,
        *,
        docker_config: Path | None = None,
        timeout: float = 10.0,
        retries: int = 3,
        transport: httpx.BaseTransport | None = None,
        registry_mirror: Mapping[str, str] | None = None,
        keychain: Keychain | None = None,
        sleep: Callable[[float], None] = time.sleep,
        deadline: float = 60.0,
        max_retry_after: float = 30.0,
        backoff: float = 1.0,
        page_size: int = 1000,
        max_pages: int = 10_000,
        max_tags: int = 1_000_000,
        max_body: int = 32 << 20,
        insecure: bool = False,
        sandbox: bool | None = None,
    ) -> None:
        self._timeout = timeout
        # Whether the mirrors are the sandbox's registry (None: as the environment says), for the
        # hint when one refuses connections: the sandbox is down, not the learner's spec.image wrong.
        self._sandbox = bool(os.environ.get(SANDBOX_ENV)) if sandbox is None else sandbox
        self._retries = max(0, retries)
        self._sleep = sleep
        self._deadline = deadline
        self._max_retry_after = max_retry_after
        self._backoff = backoff
        self._page_size = page_size
        self._max_pages = max_pages
        self._max_tags = max_tags
        self._max_body = max_body
        self._insecure = insecure
        self._keychain = keychain
        self._config_path = docker_config
        self._config: DockerConfig | None = None
        if docker_config is not None and keychain is None:
            self._config = DockerConfig.load(docker_config)
        if registry_mirror is None:
            spec = os.environ.get(MIRROR_ENV, "")
            try:
                registry_mirror = parse_mirror_spec(spec) if spec else {}
            except ValueError as err:
                raise RegistryError(
                    f"{MIRROR_ENV}: {err}", hint="e.g. LAB_REGISTRY_MIRROR=docker.io=127.0.0.1:5000"
                ) from None
        self._mirrors = dict(registry_mirror)
        self._hosts: dict[str, _HostAuth] = {}
        self._tokens = TokenCache()
        # Our own transport bounds every read by the call's deadline; a given one (tests) is used as is.
        self._deadlines = Deadlines() if transport is None else None
        if self._deadlines is not None:
            transport = deadline_transport(self._deadlines)
        self._http = httpx.Client(
            transport=transport,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            follow_redirects=True,  # httpx drops Authorization when a redirect changes origin
            max_redirects=10,
            headers={"User-Agent": _USER_AGENT},
            trust_env=False,
        )

    def __repr__(self) -> str:
        return f"RegistryClient(mirrors={self._mirrors!r}, timeout={self._timeout})"

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # ---- names and credentials -------------------------------------------------------------

    def parse(self, image: str) -> ImageName:
        try:
            return parse_image(image, mirrors=self._mirrors, insecure=self._insecure)
        except ImageNameError as err:
            raise RegistryAPIError(err.message, hint=err.hint, code="ImageURLInvalid") from None

    def _lookup(self, name: ImageName) -> CredentialLookup:
        if self._keychain is not None:
            found = self._keychain.lookup(name.registry, name.repository)
            if found.credentials is None and name.mirrored:
                found = self._keychain.lookup(name.wire_host, name.repository)
            return found
        if self._config is None:
            self._config = DockerConfig.load(None)
        return self._config.lookup(name.wire_host)

    # ---- HTTP with retries -----------------------------------------------------------------

    def _new_call(self) -> _Call:
        return _Call(deadline=time.monotonic() + self._deadline)

    def _wait(self, call: _Call, seconds: float) -> None:
        remaining = call.deadline - time.monotonic()
        if seconds >= remaining:
            raise RegistryAPIError(
                f"gave up after {self._deadline:g} s: the registry kept failing",
                hint="try again later",
            )
        self._sleep(seconds)

    def _send(
        self,
        call: _Call,
        name: ImageName,
        method: str,
        url: str,
        headers: Mapping[str, str],
        data: Mapping[str, str] | None = None,
        *,
        who: str = "",
    ) -> tuple[httpx.Response, bytes]:
        """One request with retries. `who` names the server in messages (default: the registry)."""
        who = who or name.wire_host
        attempt = 0
        while True:
            call.attempts = attempt + 1
            remaining = call.deadline - time.monotonic()
            if remaining <= 0:
                raise RegistryAPIError(
                    f"timed out after {self._deadline:g} s talking to {who}",
                    hint="check that the registry is reachable; raise the timeout for slow links",
                    flux_detail=f"{method} {url}: context deadline exceeded",
                    timed_out=True,
                )
            per_request = min(self._timeout, remaining)
            request = self._http.build_request(
                method,
                url,
                headers=dict(headers),
                data=dict(data) if data is not None else None,
                timeout=httpx.Timeout(per_request, connect=min(per_request, 5.0)),
            )
            call.requests += 1
            encoding = "?"
            try:
                with self._deadlines.until(call.deadline) if self._deadlines else contextlib.nullcontext():
                    response = self._http.send(request, stream=True)
                    encoding = response.headers.get("content-encoding", "?")
                    try:
                        body = self._read_body(call, response, who, url)
                    finally:
                        response.close()
            except httpx.TimeoutException:
                # Not retried (ggcr neither): a slow registry would otherwise cost retries x timeout.
                if time.monotonic() >= call.deadline - 0.05:  # cut at the deadline, not one slow read
                    raise RegistryAPIError(
                        f"timed out after {self._deadline:g} s talking to {who}",
                        hint="the registry answers too slowly (a byte at a time?); try again later",
                        flux_detail=f"{method} {url}: context deadline exceeded",
                        timed_out=True,
                    ) from None
                raise RegistryAPIError(
                    f"timed out after {per_request:g} s waiting for {who}",
                    hint="the registry is slow or unreachable; try again, or raise the timeout",
                    flux_detail=f"{method} {url}: net/http: timeout awaiting response headers",
                    timed_out=True,
                ) from None
            except httpx.TooManyRedirects:
                raise RegistryAPIError(
                    f"{who} redirected {method} {url} more than 10 times (a redirect loop); gave up",
                    hint="the registry or a proxy in front of it is misconfigured",
                    flux_detail=f"{method} {url}: stopped after 10 redirects",
                ) from None
            except httpx.DecodingError:
                raise RegistryAPIError(
                    f"the response of {who} could not be decoded (Content-Encoding: {encoding}); refused",
                    hint="the registry or a proxy sent a corrupt compressed body; try again later",
                    flux_detail=f"{method} {url}: invalid {encoding} body",
                ) from None
            except httpx.ConnectError as err:
                raise RegistryAPIError(
                    f"cannot connect to {who}: {_transport_reason(err)}",
                    hint=self._unreachable_hint(name, who),
                    flux_detail=f"{method} {url}: {_transport_reason(err)}",
                ) from None
            except httpx.TransportError as err:
                # A connection reset or cut mid-response: temporary, retried like ggcr does.
                error = RegistryAPIError(
                    f"{who} broke the connection: {_transport_reason(err)}",
                    hint="the registry or a proxy dropped the connection; try again",
                    flux_detail=f"{method} {url}: {_transport_reason(err)}",
                )
            else:
                self._note_redirect(call, request, response, who)
                status = response.status_code
                if status in RETRY_STATUSES and attempt < self._retries:
                    self._wait(call, self._backoff * (3**attempt))
                    attempt += 1
                    continue
                if status == 429 and attempt < self._retries:
                    wait = parse_retry_after(response.headers.get("retry-after"))
                    if wait is not None and wait <= self._max_retry_after:
                        self._wait(call, wait)
                        attempt += 1
                        continue
                return response, body
            if attempt >= self._retries:
                raise error
            self._wait(call, self._backoff * (3**attempt))
            attempt += 1

    def _unreachable_hint(self, name: ImageName, who: str) -> str:
        """What to do when `who` refuses connections for `name`: a mirror is not in spec.image, so
        the learner's host and port are only worth checking when the request went to them."""
        if who == DOCKER_HUB:
            return (
                "no network to Docker Hub? the sandbox serves the task's images offline: "
                'lab sandbox up --detach && eval "$(lab sandbox env)"'
            )
        if name.mirrored and who == name.wire_host:
            served = "Docker Hub" if name.registry == DOCKER_HUB else name.registry
            if self._sandbox:
                return (
                    f"the sandbox is not running (its registry at {who} serves {served} images): "
                    'lab sandbox up --detach && eval "$(lab sandbox env)"'
                )
            return f"{MIRROR_ENV} sends {served} to {who}: start that registry, or unset {MIRROR_ENV}"
        return f"is a registry running at {who}? check the host and port in spec.image"

    def _read_body(self, call: _Call, response: httpx.Response, who: str, url: str) -> bytes:
        # The read timeout bounds each read, not the whole: a server trickling a byte at a time
        # is stopped by the call's deadline, checked after every chunk.
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > self._max_body:
                raise RegistryAPIError(
                    f"{who} sent more than {self._max_body >> 20} MiB in one response; refused",
                    flux_detail=f"GET {url}: response too large",
                )
            if time.monotonic() > call.deadline:
                raise RegistryAPIError(
                    f"timed out after {self._deadline:g} s reading the response of {who} "
                    f"({size} bytes arrived)",
                    hint="the registry is sending very slowly; try again, or raise the timeout",
                    flux_detail=f"GET {url}: context deadline exceeded",
                    timed_out=True,
                )
            chunks.append(chunk)
        return b"".join(chunks)

    @staticmethod
    def _note_redirect(call: _Call, request: httpx.Request, response: httpx.Response, who: str) -> None:
        if not response.history:
            return
        start, end = request.url, response.url
        if (start.scheme, start.host, start.port) == (end.scheme, end.host, end.port):
            return
        where = end.host if end.port is None else f"{end.host}:{end.port}"
        note = f"{who} redirected to {where}; followed without sending credentials there"
        if note not in call.notes:
            call.notes.append(note)

    # ---- auth --------------------------------------------------------------------------------

    def _host_state(self, name: ImageName) -> _HostAuth:
        key = f"{name.scheme}://{name.wire_host}"
        state = self._hosts.get(key)
        if state is None:
            state = self._hosts[key] = _HostAuth()
        return state

    def _ping(self, call: _Call, name: ImageName) -> _HostAuth:
        state = self._host_state(name)
        if state.pinged:
            return state
        url = f"{name.base_url}/v2/"
        response, body = self._send(call, name, "GET", url, {})
        if response.status_code == 401:
            state.challenge = pick_challenge(response.headers.get_list("www-authenticate"))
        elif response.status_code >= 400:
            raise self._error(call, name, "GET", url, response, body)
        state.pinged = True
        return state

    def _auth_headers(
        self, call: _Call, name: ImageName, scope: str, *, refresh: bool = False
    ) -> dict[str, str]:
        state = self._ping(call, name)
        challenge = state.challenge
        if challenge is None:
            return {}
        lookup = self._lookup(name)
        creds = lookup.credentials
        if challenge.scheme == "basic":
            if creds is None or not (creds.username or creds.password):
                raise self._credentials_missing(name, lookup)
            state.sent_basic = True
            return {"Authorization": creds.basic_header()}
        if creds is not None and creds.registry_token:
            if not _TOKEN_RE.match(creds.registry_token):
                raise RegistryAPIError(
                    f"the registrytoken for {name.wire_host} in {creds.source or 'the registry config'} "
                    "is malformed (not printable ASCII); refused",
                    hint="copy the token again, without spaces or line breaks",
                )
            return {"Authorization": f"Bearer {creds.registry_token}"}
        token = self._bearer_token(call, name, challenge, scope, creds, refresh=refresh)
        return {"Authorization": f"Bearer {token}"}

    def _bearer_token(
        self,
        call: _Call,
        name: ImageName,
        challenge: Challenge,
        scope: str,
        creds: Credentials | None,
        *,
        refresh: bool,
    ) -> str:
        realm = challenge.realm
        service = challenge.params.get("service", "")
        scopes = tuple(sorted(set(scope.split())))
        key = (realm, service, scopes)
        if not refresh:
            cached = self._tokens.get(key)
            if cached is not None:
                return cached
        parts = urlsplit(realm)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise RegistryAPIError(
                f"{name.wire_host} sent an unusable token realm {realm!r}",
                hint="the registry's auth configuration is broken",
            )
        server = f"token server {parts.netloc}" if parts.netloc != name.wire_host else name.wire_host
        params: list[tuple[str, str]] = []
        if service:
            params.append(("service", service))
        params.extend(("scope", s) for s in scopes)
        headers: dict[str, str] = {}
        used = creds is not None and not creds.empty
        response: httpx.Response | None = None
        body = b""
        if creds is not None and creds.identity_token:
            form = {
                "grant_type": "refresh_token",
                "refresh_token": creds.identity_token,
                "service": service,
                "client_id": "fluxlab",
                "scope": " ".join(scopes),
            }
            response, body = self._send(call, name, "POST", realm, {}, data=form, who=server)
            if response.status_code == 404:
                response = None
        if response is None:
            if creds is not None and (creds.username or creds.password):
                headers["Authorization"] = creds.basic_header()
            url = str(httpx.URL(realm, params=params))
            response, body = self._send(call, name, "GET", url, headers, who=server)
        if response.status_code in (401, 403):
            if used:
                raise self._credentials_rejected(name, creds)
            # What a Basic challenge without credentials is too: Flux's anonymous scan fails on it.
            raise RegistryAPIError(
                f"{name.wire_host} refused an anonymous token for {name.repository}",
                hint="this registry needs credentials: `docker login` and pass --registry-config",
                flux_detail=f"GET {realm}: UNAUTHORIZED",
                status=response.status_code,
                code="UNAUTHORIZED",
            )
        if response.status_code != 200:
            err = self._error(call, name, "GET", realm, response, body)
            err.message = err.message.replace(name.wire_host, server, 1)
            if not err.message.startswith(server):
                err.message = f"{server}: {err.message}"
            raise err
        doc = _json(body)
        token = ""
        expires_in: Any = 60
        if isinstance(doc, dict):
            token = str(doc.get("token") or doc.get("access_token") or "")
            expires_in = doc.get("expires_in") or 60
        if not token:
            raise RegistryAPIError(
                f"{server} of {name.wire_host} answered without a token",
                hint="the registry's auth configuration is broken",
                flux_detail=f"GET {realm}: no token in response",
            )
        if not _TOKEN_RE.match(token):
            # Never echo it: it is a secret, and it may carry header or terminal control bytes.
            raise RegistryAPIError(
                f"{server} of {name.wire_host} sent a malformed token ({len(token)} characters, "
                "not printable ASCII); refused",
                hint="the registry's auth configuration is broken",
                flux_detail=f"GET {realm}: malformed token",
            )
        try:
            lifetime = float(expires_in)
        except (TypeError, ValueError):
            lifetime = 60.0
        self._tokens.put(key, token, lifetime)
        return token

    def _get(
        self,
        call: _Call,
        name: ImageName,
        url: str,
        *,
        method: str = "GET",
        accept: str | None = None,
    ) -> tuple[httpx.Response, bytes]:
        """A repository request, authorised; on 401 the token is refreshed once."""
        scope = f"repository:{name.repository}:pull"
        extra = {"Accept": accept} if accept else {}
        headers = self._auth_headers(call, name, scope)
        response, body = self._send(call, name, method, url, {**headers, **extra})
        if response.status_code != 401:
            return response, body
        challenge = pick_challenge(response.headers.get_list("www-authenticate"))
        state = self._host_state(name)
        if challenge is None:
            return response, body
        expired = challenge.scheme == "bearer" and challenge.params.get("error") == "invalid_token"
        if not headers or expired:
            # Either `/v2/` was open but the repository is not, or our token went stale: once more.
            state.challenge = challenge
            wanted = challenge.params.get("scope") or scope
            headers = self._auth_headers(call, name, wanted, refresh=True)
            if headers:
                response, body = self._send(call, name, method, url, {**headers, **extra})
        return response, body

    # ---- errors -------------------------------------------------------------------------------

    def _credentials_missing(self, name: ImageName, lookup: CredentialLookup) -> RegistryAPIError:
        if lookup.helper:
            return self._helper_error(name, lookup)
        where = lookup.source or "the Docker config file"
        return _unauthorized(
            name,
            f"{name.wire_host} requires credentials and none were found for it in {where}",
            f"run `docker login {name.wire_host}` or pass --registry-config FILE",
        )

    def _helper_error(self, name: ImageName, lookup: CredentialLookup) -> RegistryAPIError:
        return RegistryAPIError(
            f"credentials for {name.wire_host} are kept by docker-credential-{lookup.helper} "
            f"({lookup.helper_field} in {lookup.source}), which lab does not run",
            hint='put {"auths": {"HOST": {"auth": "<base64 user:password>"}}} in a file and pass '
            "--registry-config FILE",
            status=401,
            code="UNAUTHORIZED",
        )

    def _credentials_rejected(self, name: ImageName, creds: Credentials | None) -> RegistryAPIError:
        source = creds.source if creds is not None and creds.source else "the registry config"
        err = _unauthorized(
            name,
            f"credentials rejected for {name.wire_host}",
            f"check the user and password/token in {source}",
        )
        err.credentialed = True
        return err

    def _not_found(self, name: ImageName, detail: str, status: int, code: str) -> RegistryAPIError:
        repo = name.repository
        if "/" not in repo:
            return RegistryAPIError(
                f"image not found: did you mean library/{repo}? {name.wire_host} has no repository {repo}",
                hint=f"official images live under library/, e.g. {name.registry}/library/{repo}",
                flux_detail=detail,
                status=status,
                code=code,
            )
        return RegistryAPIError(
            f"image not found: {name.canonical}",
            hint="check the spelling of spec.image",
            flux_detail=detail,
            status=status,
            code=code,
        )

    def _error(
        self,
        call: _Call,
        name: ImageName,
        method: str,
        url: str,
        response: httpx.Response,
        body: bytes,
    ) -> RegistryAPIError:
        status = response.status_code
        code, message = _error_entries(body)
        detail = _flux_detail(method, url, status, response.reason_phrase, body)

        def failed(
            message: str, hint: str | None, code_if_none: str = "", retry_after: float | None = None
        ) -> RegistryAPIError:
            """This response's error: Flux's detail, the status and the registry's code (else `code_if_none`)."""
            return RegistryAPIError(
                message,
                hint=hint,
                flux_detail=detail,
                status=status,
                code=code or code_if_none,
                retry_after=retry_after,
            )

        hub = name.talks_to_docker_hub
        registry = "Docker Hub" if hub else name.wire_host
        if status == 401:
            lookup = self._lookup(name)
            creds = lookup.credentials
            challenge = pick_challenge(response.headers.get_list("www-authenticate"))
            if challenge is not None and challenge.scheme == "basic" and creds is not None:
                return self._credentials_rejected(name, creds)
            if creds is None and lookup.helper:
                return self._helper_error(name, lookup)
            if creds is None and challenge is not None and challenge.scheme == "basic":
                return self._credentials_missing(name, lookup)
            if hub or (challenge is not None and challenge.params.get("error") == "insufficient_scope"):
                if "/" not in name.repository:
                    return self._not_found(name, detail, status, code or "UNAUTHORIZED")
                hint = "check the spelling of spec.image"
                if creds is None:
                    # Keyed by the image's registry (what the keychain looks up first), not by a mirror
                    # standing in for it: the sandbox's registry answers for docker.io as Docker Hub does.
                    key = "https://index.docker.io/v1/" if hub or name.is_docker_hub else name.registry
                    hint += f"; for a private image add credentials keyed {key}"
                    if lookup.near_miss:
                        hint += f" (the key {lookup.near_miss!r} in {lookup.source} is not used for it)"
                whose = " (with credentials)" if creds is not None else ""
                denied = failed(
                    f"image not found or access denied{whose}: {name.canonical}", hint, "UNAUTHORIZED"
                )
                denied.credentialed = creds is not None
                return denied
            if creds is not None:
                return self._credentials_rejected(name, creds)
            return failed(
                f"{name.wire_host} requires credentials for {name.repository}",
                f"run `docker login {name.wire_host}` or pass --registry-config FILE",
                "UNAUTHORIZED",
            )
        if status == 403:
            return failed(
                f"access denied to {name.canonical} by {registry}",
                "the credentials are valid but lack pull permission on this repository",
                "DENIED",
            )
        if status == 404:
            return self._not_found(name, detail, status, code or "NAME_UNKNOWN")
        if status == 429:
            wait = parse_retry_after(response.headers.get("retry-after"))
            if wait is None:
                remaining, window = _ratelimit_window(response.headers)
                if remaining == 0 and window is not None:
                    wait = window
            when = f"retry after {wait:.0f} s" if wait is not None else "retry later"
            hint = "authenticate (docker login) or scan less often" if hub else "scan less often"
            return failed(f"rate-limited by {registry}, {when}", hint, "TOOMANYREQUESTS", retry_after=wait)
        if status >= 500 or status in RETRY_STATUSES:
            tried = f" (gave up after {call.attempts} attempts)" if call.attempts > 1 else ""
            return failed(
                f"{name.wire_host} answered {status} {response.reason_phrase}{tried}",
                "the registry is having trouble; try again later",
            )
        return failed(
            f"{name.wire_host} answered {status} {response.reason_phrase}"
            + (f": {code}: {message}" if code else ""),
            None,
        )

    # ---- public calls -----------------------------------------------------------------------

    def list_tags(self, image: str) -> TagList:
        """Every tag of `image`, in the order the registry sent them."""
        name = self.parse(image)
        call = self._new_call()
        if name.wire_host == DOCKER_HUB_DAEMON_HOST and "/" not in name.repository:
            call.notes.append(
                f"{name.wire_host}/{name.repository} asks Docker Hub for a repository literally named "
                f"{name.repository!r}; write {name.repository} or docker.io/library/{name.repository}"
            )
        url: str | None = f"{name.base_url}/v2/{name.repository}/tags/list?n={self._page_size}"
        base = urlsplit(name.base_url)
        seen: set[str] = set()
        tags: list[str] = []
        pages = 0
        last_page = 0
        while url is not None:
            if url in seen:
                raise RegistryAPIError(
                    f"{name.wire_host} sent a next-page Link that loops back to page {url!r}",
                    hint="the registry's pagination is broken; report it to its operator",
                    flux_detail=f"GET {url}: pagination loop",
                )
            if pages >= self._max_pages:
                raise RegistryAPIError(
                    f"{name.wire_host} kept paginating past {self._max_pages} pages; stopped",
                    hint="the registry's pagination looks broken",
                    flux_detail=f"GET {url}: too many pages",
                )
            seen.add(url)
            pages += 1
            response, body = self._get(call, name, url)
            if response.status_code != 200:
                raise self._error(call, name, "GET", url, response, body)
            page = self._parse_tags(name, url, body)
            last_page = len(page)
            tags.extend(page)
            if len(tags) > self._max_tags:
                raise RegistryAPIError(
                    f"{name.canonical} has more than {self._max_tags} tags; refusing to hold them all",
                    flux_detail=f"GET {url}: too many tags",
                )
            nxt = next_link(response.headers.get_list("link"), url)
            if nxt is not None:
                parts = urlsplit(nxt)
                if (parts.scheme, parts.netloc) != (base.scheme, base.netloc):
                    raise RegistryAPIError(
                        f"{name.wire_host} sent a next-page Link to another host ({parts.netloc}); "
                        "refusing to follow it",
                        hint="a registry must paginate on its own host",
                        flux_detail=f"GET {url}: next link to another host",
                    )
            url = nxt
        if last_page == self._page_size:
            call.notes.append(
                f"the last page held exactly {self._page_size} tags and had no Link header; "
                "some registries cut lists short this way"
            )
        return TagList(name.canonical, tuple(tags), call.requests, pages, tuple(call.notes))

    def _parse_tags(self, name: ImageName, url: str, body: bytes) -> list[str]:
        doc = _json(body)
        if doc is _NOT_JSON:
            raise RegistryAPIError(
                f"malformed tag list from {name.wire_host}: the response is not JSON",
                hint="is this a container registry? check the host of spec.image",
                flux_detail=f"GET {url}: invalid character in response body",
            )
        if not isinstance(doc, dict):
            raise RegistryAPIError(
                f"malformed tag list from {name.wire_host}: expected a JSON object with tags",
                flux_detail=f"GET {url}: unexpected response shape",
            )
        raw = doc.get("tags")
        if raw is None:
            return []
        if not isinstance(raw, list) or not all(isinstance(t, str) for t in raw):
            raise RegistryAPIError(
                f"malformed tag list from {name.wire_host}: tags must be a list of strings",
                flux_detail=f"GET {url}: unexpected response shape",
            )
        return raw

    def digest(self, image: str, tag: str) -> str:
        """The manifest digest (`sha256:...`) that `image:tag` points at now."""
        name = self.parse(image)
        if not TAG_RE.match(tag):
            raise RegistryAPIError(
                f"invalid tag {tag!r}", hint="tags match [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}"
            )
        call = self._new_call()
        url = f"{name.base_url}/v2/{name.repository}/manifests/{tag}"
        response, body = self._get(call, name, url, method="HEAD", accept=MANIFEST_ACCEPT)
        if response.status_code == 200:
            value = response.headers.get("docker-content-digest", "")
            if _DIGEST_RE.match(value):
                return str(value)
            response, body = self._get(call, name, url, accept=MANIFEST_ACCEPT)
            if response.status_code == 200:
                return "sha256:" + hashlib.sha256(body).hexdigest()
        if response.status_code == 404:
            return self._tag_missing(call, name, tag, url, response, body)
        raise self._error(call, name, response.request.method, url, response, body)

    def _tag_missing(
        self, call: _Call, name: ImageName, tag: str, url: str, response: httpx.Response, body: bytes
    ) -> str:
        # HEAD has no body, so ask once more with GET to tell a missing tag from a missing repo.
        if response.request.method == "HEAD":
            response, body = self._get(call, name, url, accept=MANIFEST_ACCEPT)
            if response.status_code == 200:
                return "sha256:" + hashlib.sha256(body).hexdigest()
        code, _ = _error_entries(body)
        if code == "NAME_UNKNOWN":
            raise self._error(call, name, "GET", url, response, body)
        raise RegistryAPIError(
            f"tag not found: {name.canonical}:{tag}",
            hint=f"list the tags with `lab tags {name.original}`",
            flux_detail=_flux_detail("GET", url, 404, "Not Found", body),
            status=404,
            code=code or "MANIFEST_UNKNOWN",
        )

    def scan(
        self, image: str, exclusion_list: Sequence[str] = DEFAULT_EXCLUSION, *, check: bool = True
    ) -> ScanResult:
        """One ImageRepository scan. With `check=False` a failure is returned as Ready=False."""
        try:
            listed = self.list_tags(image)
            stored = store_tags(listed.tags, exclusion_list)
        except RegistryError as err:
            if check:
                raise
            return self._failed_scan(image, err)
        except LabError as err:  # a bad exclusion regexp, reported by lab.core.scan
            if check:
                raise RegistryAPIError(f"scan failed: {err.message}", hint=err.hint) from None
            return self._failed_scan(image, RegistryAPIError(str(err.message)))
        revision = tags_revision(stored)
        basic = self.answered_basic(image)
        return ScanResult(
            basic_auth_only=basic,
            canonical_name=listed.canonical_name,
            tags=tuple(stored),
            tag_count=len(stored),
            latest_tags=tuple(latest_tags(stored)),
            revision=revision,
            message=f"successful scan: found {len(stored)} tags with checksum {revision}",
            request_count=listed.request_count,
            listed=len(listed.tags),
            notes=listed.notes,
        )

    def answered_basic(self, image: str) -> bool:
        """This client answered `image`'s registry's Basic challenge with the Docker config's
        credentials: a client without them (Flux's scan without spec.secretRef) is refused (401)."""
        try:
            return self._host_state(self.parse(image)).sent_basic
        except RegistryError:
            return False

    def _failed_scan(self, image: str, err: RegistryError) -> ScanResult:
        code = getattr(err, "code", "")
        reason = "ImageURLInvalid" if code == "ImageURLInvalid" else "ReadOperationFailed"
        message = scan_failed(err)
        try:
            canonical = self.parse(image).canonical
        except RegistryError:
            canonical = ""
        return ScanResult(
            canonical_name=canonical,
            tags=(),
            tag_count=0,
            latest_tags=(),
            revision="",
            message=message,
            ready=False,
            reason=reason,
            error=err,
        )


def _transport_reason(err: httpx.TransportError) -> str:
    text = str(err) or type(err).__name__
    if "refused" in text.lower():
        return "connection refused"
    if isinstance(err, httpx.ConnectError):
        return f"connection failed ({text})"
    if isinstance(err, httpx.RemoteProtocolError):
        return f"the server broke the connection ({text})"
    return text


def _unauthorized(name: ImageName, message: str, hint: str) -> RegistryAPIError:
    """A 401 with what Flux's scan reports for it."""
    return RegistryAPIError(
        message,
        hint=hint,
        flux_detail=f"GET {name.base_url}/v2/: UNAUTHORIZED: authentication required",
        status=401,
        code="UNAUTHORIZED",
    )


__all__ = [
    "DEFAULT_EXCLUSION",
    "DOCKER_HUB",
    "MANIFEST_ACCEPT",
    "RegistryAPIError",
    "RegistryClient",
    "ScanResult",
    "TagList",
    "next_link",
    "parse_retry_after",
    "scan_failed",
    "tags_revision",
]
