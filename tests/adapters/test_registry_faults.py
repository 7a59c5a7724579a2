"""Registries that misbehave, as loopback stubs: rate limits, 5xx, slowness, bad JSON, loops, huge lists.

Backoff waits go through an injected `sleep` that records them, so no test sleeps for a retry.
"""

from __future__ import annotations

import json
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from lab.adapters.registry import RegistryAPIError, RegistryClient

Reply = tuple[int, dict[str, str], bytes]


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes = b""


@dataclass
class Stub:
    """A loopback HTTP server whose answers come from `respond`; it records every request."""

    respond: Callable[[Request], Reply]
    requests: list[Request] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    server: ThreadingHTTPServer | None = None

    @property
    def address(self) -> str:
        assert self.server is not None
        return f"127.0.0.1:{self.server.server_port}"

    def list_paths(self) -> list[str]:
        return [r.path for r in self.requests if r.path.endswith("/tags/list")]


@pytest.fixture
def stub() -> Iterator[Callable[[Callable[[Request], Reply]], Stub]]:
    started: list[Stub] = []

    def start(respond: Callable[[Request], Reply]) -> Stub:
        state = Stub(respond)

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            wbufsize = 1 << 16  # one write per response: no Nagle/delayed-ACK stall per request

            def log_message(self, format: str, *args: object) -> None:
                return

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body_in = self.rfile.read(length) if length else b""
                headers_in = {k.lower(): v for k, v in self.headers.items()}
                req = Request(self.command, parts.path, parse_qs(parts.query), headers_in, body_in)
                state.requests.append(req)
                status, headers, body = state.respond(req)
                if status == 0:  # "slow": hold the response until the test ends
                    state.release.wait(10)
                    status = 200
                try:
                    self.send_response(status)
                    for key, value in {"Content-Type": "application/json", **headers}.items():
                        self.send_header(key, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass

            do_HEAD = do_POST = do_GET

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        server.handle_error = lambda request, client_address: None  # type: ignore[method-assign]
        state.server = server
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        started.append(state)
        return state

    yield start
    for state in started:
        state.release.set()
        assert state.server is not None
        state.server.shutdown()
        state.server.server_close()


def tags_body(tags: list[str], name: str = "app") -> bytes:
    return json.dumps({"name": name, "tags": tags}).encode()


def ok_v2(req: Request) -> Reply | None:
    if req.path == "/v2/":
        return 200, {}, b"{}"
    return None


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def make_client(**kwargs: object) -> tuple[RegistryClient, Sleeps]:
    sleeps = Sleeps()
    options: dict[str, object] = {"sleep": sleeps, "timeout": 5.0, "deadline": 20.0}
    options.update(kwargs)
    return RegistryClient(**options), sleeps  # type: ignore[arg-type]


def test_429_with_retry_after_within_limit_is_waited_out(stub: Callable[..., Stub]) -> None:
    calls = {"n": 0}

    def respond(req: Request) -> Reply:
        if (r := ok_v2(req)) is not None:
            return r
        calls["n"] += 1
        if calls["n"] == 1:
            return 429, {"Retry-After": "2"}, b'{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}'
        return 200, {}, tags_body(["1.0.0"])

    srv = stub(respond)
    client, sleeps = make_client()
    assert client.list_tags(f"{srv.address}/app").tags == ("1.0.0",)
    assert sleeps == [2.0]


def test_429_with_long_retry_after_reports_the_wait(stub: Callable[..., Stub]) -> None:
    def respond(req: Request) -> Reply:
        if (r := ok_v2(req)) is not None:
            return r
        return 429, {"Retry-After": "42"}, b'{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}'

    srv = stub(respond)
    client, sleeps = make_client(max_retry_after=30)
    with pytest.raises(RegistryAPIError) as err:
        client.list_tags(f"{srv.address}/app")
    assert err.value.message == f"rate-limited by {srv.address}, retry after 42 s"
    assert err.value.retry_after == 42
    assert sleeps == []
    assert len(srv.list_paths()) == 1


HUB_429 = "You have reached your pull rate limit."


def test_docker_hub_rate_limit_wording_from_ratelimit_headers() -> None:
    # Docker Hub itself is not reachable from tests; an httpx transport plays its 429.
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v2/":
            return httpx.Response(200, json={})
        return httpx.Response(
            429,
            headers={"ratelimit-limit": "100;w=21600", "ratelimit-remaining": "0;w=21600"},
            json={
                "errors": [{"code": "TOOMANYREQUESTS", "message": "You have reached your pull rate limit."}]
            },
        )

    client, _ = make_client(transport=httpx.MockTransport(handler), retries=0)
    with pytest.raises(RegistryAPIError) as err:
        client.list_tags("nginx")
    assert err.value.message == "rate-limited by Docker Hub, retry after 21600 s"
    result = client.scan("nginx", check=False)
    assert result.message == (
        "scan failed: GET https://index.docker.io/v2/library/nginx/tags/list?n=1000: "
        "TOOMANYREQUESTS: You have reached your pull rate limit."
    )


def test_500_then_success_is_retried_with_backoff(stub: Callable[..., Stub]) -> None:
    calls = {"n": 0}

    def respond(req: Request) -> Reply:
        if (r := ok_v2(req)) is not None:
            return r
        calls["n"] += 1
        if calls["n"] <= 2:
            return 500, {}, b"internal error"
        return 200, {}, tags_body(["a", "b"])

    srv = stub(respond)
    client, sleeps = make_client()
    listed = client.list_tags(f"{srv.address}/app")
    assert listed.tags == ("a", "b")
    assert sleeps == [1.0, 3.0]
    assert listed.request_count == 4  # ping + 3 attempts


def test_persistent_503_gives_up_after_the_retries(stub: Callable[..., Stub]) -> None:
    def respond(req: Request) -> Reply:
        if (r := ok_v2(req)) is not None:
            return r
        return 503, {}, b'{"errors":[{"code":"UNAVAILABLE","message":"maintenance"}]}'

    srv = stub(respond)
    client, sleeps = make_client(retries=2)
    with pytest.raises(RegistryAPIError) as err:
        client.list_tags(f"{srv.address}/app")
    assert err.value.message == f"{srv.address} answered 503 Service Unavailable (gave up after 3 attempts)"
    assert "UNAVAILABLE: maintenance" in err.value.flux_detail
    assert sleeps == [1.0, 3.0]
    assert len(srv.list_paths()) == 3


def test_no_retry_on_404(stub: Callable[..., Stub]) -> None:
    def respond(req: Request) -> Reply:
        if (r := ok_v2(req)) is not None:
            return r
        return 404, {"Content-Type": "text/plain"}, b"404 page not found\n"

    srv = stub(respond)
    client, sleeps = make_client()
    with pytest.raises(RegistryAPIError, match=r"^image not found: "):
        client.list_tags(f"{srv.address}/team/app")
    assert sleeps == []
    assert len(srv.list_paths()) == 1


def test_slow_registry_times_out(stub: Callable[..., Stub]) -> None:
    def respond(req: Request) -> Reply:
        if (r := ok_v2(req)) is not None:
            return r
        return 0, {}, tags_body(["late"])

    srv = stub(respond)
    client, _ = make_client(timeout=0.3)
    started = time.monotonic()
    with pytest.raises(RegistryAPIError) as err:
        client.list_tags(f"{srv.address}/app")
    assert err.value.message == f"timed out after 0.3 s waiting for {srv.address}"
    assert time.monotonic() - started < 5  # a hang would hold until the stub releases (10 s)


def test_connection_refused_is_not_retried() -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client, sleeps = make_client()
    with pytest.raises(
        RegistryAPIError, match=rf"^cannot connect to 127\.0\.0\.1:{port}: connection refused"
    ):
        client.list_tags(f"127.0.0.1:{port}/app")
    assert sleeps == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<html>not a registry</html>", "the response is not JSON"),
        (b'["a", "b"]', "expected a JSON object with tags"),
        (b'{"name": "app", "tags": [1, 2]}', "tags must be a list of strings"),
        (b'{"name": "app", "tags": "latest"}', "tags must be a list of strings"),
    ],
)
def test_malformed_tag_lists(stub: Callable[..., Stub], body: bytes, message: str) -> None:
    def respond(req: Request) -> Reply:
        return ok_v2(req) or (200, {}, body)

    srv = stub(respond)
    client, _ = make_client()
    with pytest.raises(RegistryAPIError) as err:
        client.list_tags(f"{srv.address}/app")
    assert err.value.message == f"malformed tag list from {srv.address}: {message}"


def test_null_or_missing_tags_mean_empty(stub: Callable[..., Stub]) -> None:
    def respond(req: Request) -> Reply:
        return ok_v2(req) or (200, {}, b'{"name": "app", "tags": null}')

    srv = stub(respond)
    client, _ = make_client()
    result = client.scan(f"{srv.address}/app")
    assert result.tags == ()
    assert result.message == "successful scan: found 0 tags with checksum 18153657"  # adler32("[]")


def test_looping_link_is_stopped(stub: Callable[..., Stub]) -> None:
    def respond(req: Request) -> Reply:
        if (r := ok_v2(req)) is not None:
            return r
        last = req.query.get("last", [""])[0]
        following = "b" if last != "b" else "a"
        link = f'</v2/app/tags/list?last={following}&n=1>; rel="next"'
        return 200, {"Link": link}, tags_body([following])

    srv = stub(respond)
    client, _ = make_client()
    with pytest.raises(RegistryAPIError, match=r"sent a next-page Link that loops"):
        client.list_tags(f"{srv.address}/app")
    assert len(srv.list_paths()) <= 4


def test_endless_distinct_links_stop_at_the_page_cap(stub: Callable[..., Stub]) -> None:
    def respond(req: Request) -> Reply:
        if (r := ok_v2(req)) is not None:
            return r
        page = int(req.query.get("last", ["0"])[0])
        return 200, {"Link": f'</v2/app/tags/list?last={page + 1}>; rel="next"'}, tags_body([str(page)])

    srv = stub(respond)
    client, _ = make_client(max_pages=25)
    with pytest.raises(RegistryAPIError, match=r"kept paginating past 25 pages"):
        client.list_tags(f"{srv.address}/app")
    assert len(srv.list_paths()) == 25


def test_link_to_another_host_is_refused(stub: Callable[..., Stub]) -> None:
    def respond(req: Request) -> Reply:
        if (r := ok_v2(req)) is not None:
            return r
        return 200, {"Link": '<http://169.254.169.254/latest/meta-data>; rel="next"'}, tags_body(["a"])

    srv = stub(respond)
    client, _ = make_client()
    with pytest.raises(RegistryAPIError, match=r"next-page Link to another host \(169\.254\.169\.254\)"):
        client.list_tags(f"{srv.address}/app")


def test_short_pages_with_links_are_followed_to_the_end(stub: Callable[..., Stub]) -> None:
    everything = [f"t{i:03d}" for i in range(10)]

    def respond(req: Request) -> Reply:
        if (r := ok_v2(req)) is not None:
            return r
        last = req.query.get("last", [""])[0]
        start = everything.index(last) + 1 if last else 0
        page = everything[start : start + 3]  # far fewer than the n=1000 asked for
        headers = {}
        if start + 3 < len(everything):
            headers["Link"] = f'<http://{srv.address}/v2/app/tags/list?last={page[-1]}&n=3>; rel="next"'
        return 200, headers, tags_body(page)

    srv = stub(respond)
    client, _ = make_client()
    listed = client.list_tags(f"{srv.address}/app")
    assert list(listed.tags) == everything
    assert listed.pages == 4


def test_100k_tags_in_bounded_time_and_memory(stub: Callable[..., Stub]) -> None:
    everything = [f"1.{i // 1000}.{i % 1000}" for i in range(100_000)]
    index = {tag: i for i, tag in enumerate(everything)}
    pages = {}
    for start in range(0, len(everything), 1000):
        page = everything[start : start + 1000]
        link = f'</v2/app/tags/list?last={page[-1]}&n=1000>; rel="next"' if start + 1000 < 100_000 else ""
        pages[start] = (tags_body(page), link)

    def respond(req: Request) -> Reply:
        if (r := ok_v2(req)) is not None:
            return r
        last = req.query.get("last", [""])[0]
        body, link = pages[index[last] + 1 if last else 0]
        return 200, ({"Link": link} if link else {}), body

    srv = stub(respond)
    client, _ = make_client(deadline=60.0)
    tracemalloc.start()
    try:
        listed = client.list_tags(f"{srv.address}/app")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(listed.tags) == 100_000
    assert listed.request_count == 1 + 100
    assert peak < 64 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"
    result = client.scan(f"{srv.address}/app")
    assert result.tag_count == 100_000
    assert result.request_count == 100  # the ping is cached per client
    assert result.latest_tags[0] == "1.99.999"


def test_tag_count_and_body_caps(stub: Callable[..., Stub]) -> None:
    big = [f"tag-{i}" for i in range(20_000)]

    def respond(req: Request) -> Reply:
        return ok_v2(req) or (200, {}, tags_body(big))

    srv = stub(respond)
    client, _ = make_client(max_tags=5_000)
    with pytest.raises(RegistryAPIError, match=r"has more than 5000 tags"):
        client.list_tags(f"{srv.address}/app")
    client, _ = make_client(max_body=64 * 1024)
    with pytest.raises(RegistryAPIError, match=r"sent more than 0 MiB in one response|sent more than"):
        client.list_tags(f"{srv.address}/app")


def bearer_registry(
    srv_address: Callable[[], str], token_for: Callable[[Request], Reply]
) -> Callable[..., Reply]:
    """A registry whose repository calls need `Bearer good-token`; `/token` answers via `token_for`."""

    def respond(req: Request) -> Reply:
        challenge = f'Bearer realm="http://{srv_address()}/token",service="stub"'
        if req.path == "/token":
            return token_for(req)
        auth = req.headers.get("authorization", "")
        if req.path == "/v2/":
            return 401, {"WWW-Authenticate": challenge}, b"{}"
        if auth == "Bearer stale-token":
            return 401, {"WWW-Authenticate": challenge + ',error="invalid_token"'}, b"{}"
        if auth != "Bearer good-token":
            return 401, {"WWW-Authenticate": challenge + ',scope="repository:app:pull"'}, b"{}"
        return 200, {}, tags_body(["1.0.0"])

    return respond


def test_identity_token_uses_the_oauth2_form(stub: Callable[..., Stub], tmp_path: Path) -> None:
    def token_for(req: Request) -> Reply:
        if req.method != "POST":
            return 405, {}, b""
        form = parse_qs(req.body.decode())
        assert form["grant_type"] == ["refresh_token"]
        assert form["service"] == ["stub"]
        assert form["scope"] == ["repository:app:pull"]
        if form["refresh_token"] != ["identity-123"]:
            return 401, {}, b"{}"
        return 200, {}, b'{"access_token": "good-token", "expires_in": 300}'

    holder: dict[str, Stub] = {}
    srv = holder["s"] = stub(bearer_registry(lambda: holder["s"].address, token_for))
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"auths": {srv.address: {"identitytoken": "identity-123"}}}))
    client, _ = make_client(docker_config=config)
    listed = client.list_tags(f"{srv.address}/app")
    assert listed.tags == ("1.0.0",)
    assert listed.request_count == 3  # ping, token POST, list
    assert "identity-123" not in repr(client)


def test_stale_token_is_refreshed_once(stub: Callable[..., Stub]) -> None:
    issued: list[str] = []

    def token_for(req: Request) -> Reply:
        token = "stale-token" if not issued else "good-token"
        issued.append(token)
        return 200, {}, json.dumps({"token": token}).encode()

    holder: dict[str, Stub] = {}
    srv = holder["s"] = stub(bearer_registry(lambda: holder["s"].address, token_for))
    client, _ = make_client()
    assert client.list_tags(f"{srv.address}/app").tags == ("1.0.0",)
    assert issued == ["stale-token", "good-token"]


def test_registry_token_is_sent_as_is(stub: Callable[..., Stub], tmp_path: Path) -> None:
    def token_for(req: Request) -> Reply:
        raise AssertionError("a registrytoken needs no token request")

    holder: dict[str, Stub] = {}
    srv = holder["s"] = stub(bearer_registry(lambda: holder["s"].address, token_for))
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"auths": {srv.address: {"registrytoken": "good-token"}}}))
    client, _ = make_client(docker_config=config)
    assert client.list_tags(f"{srv.address}/app").request_count == 2


def test_open_ping_but_protected_repository(stub: Callable[..., Stub]) -> None:
    def respond(req: Request) -> Reply:
        if req.path == "/v2/":
            return 200, {}, b"{}"
        if req.path == "/token":
            return 200, {}, b'{"token": "good-token"}'
        if req.headers.get("authorization") != "Bearer good-token":
            challenge = f'Bearer realm="http://{srv.address}/token",service="s",scope="repository:app:pull"'
            return 401, {"WWW-Authenticate": challenge}, b"{}"
        return 200, {}, tags_body(["x"])

    srv = stub(respond)
    client, _ = make_client()
    assert client.list_tags(f"{srv.address}/app").tags == ("x",)


def docker_hub_transport(public: set[str], seen: list[str]) -> httpx.MockTransport:
    """Docker Hub's observable auth behaviour: anonymous tokens always, 401 for missing or private."""

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.method} {request.url}")
        if request.url.host == "auth.docker.io":
            scope = request.url.params.get("scope", "")
            return httpx.Response(200, json={"token": f"anon:{scope}", "expires_in": 300})
        challenge = 'Bearer realm="https://auth.docker.io/token",service="registry.docker.io"'
        if request.url.path == "/v2/":
            return httpx.Response(401, headers={"WWW-Authenticate": challenge}, json={})
        repo = request.url.path.removeprefix("/v2/").removesuffix("/tags/list")
        if request.headers.get("authorization") == f"Bearer anon:repository:{repo}:pull" and repo in public:
            return httpx.Response(200, json={"name": repo, "tags": ["1.25.3", "1.25.3.sig"]})
        detail = [{"Type": "repository", "Class": "", "Name": repo, "Action": "pull"}]
        return httpx.Response(
            401,
            headers={
                "WWW-Authenticate": challenge + f',scope="repository:{repo}:pull",error="insufficient_scope"'
            },
            json={
                "errors": [{"code": "UNAUTHORIZED", "message": "authentication required", "detail": detail}]
            },
        )

    return httpx.MockTransport(handler)


def test_docker_hub_scan_and_its_misleading_401(tmp_path: Path) -> None:
    seen: list[str] = []
    client, _ = make_client(transport=docker_hub_transport({"library/nginx"}, seen), retries=0)
    result = client.scan("nginx")
    assert result.tags == ("1.25.3",)
    assert result.request_count == 3
    assert seen[1] == (
        "GET https://auth.docker.io/token?service=registry.docker.io&scope=repository%3Alibrary%2Fnginx%3Apull"
    )
    with pytest.raises(RegistryAPIError) as typo:
        client.list_tags("ngnix")
    assert typo.value.message == "image not found or access denied: index.docker.io/library/ngnix"
    assert "credentials keyed https://index.docker.io/v1/" in (typo.value.hint or "")
    failed = client.scan("ngnix", check=False)
    # Word for word what Flux reports (ggcr's error text, Go's %v of the detail).
    assert failed.message == (
        "scan failed: GET https://index.docker.io/v2/library/ngnix/tags/list?n=1000: UNAUTHORIZED: "
        "authentication required; [map[Action:pull Class: Name:library/ngnix Type:repository]]"
    )
    with pytest.raises(RegistryAPIError, match=r"^image not found: did you mean library/nginx\?"):
        client.list_tags("registry-1.docker.io/nginx")


def test_docker_hub_secret_keyed_docker_io_is_pointed_out(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"auths": {"docker.io": {"auth": "dTpw"}}}))
    client, _ = make_client(transport=docker_hub_transport(set(), []), retries=0, docker_config=config)
    with pytest.raises(RegistryAPIError) as err:
        client.list_tags("acme/private")
    assert "the key 'docker.io'" in str(err.value)
    assert "is not used for it" in str(err.value)
