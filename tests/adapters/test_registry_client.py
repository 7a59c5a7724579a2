"""Pieces of the registry client: names on the wire, challenges, links, credentials, secrets."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from lab.adapters.registry import (
    Credentials,
    DockerConfig,
    RegistryAPIError,
    RegistryClient,
    credentials_from_dockerconfigjson,
    parse_image,
)
from lab.adapters.registry.auth import TokenCache, parse_challenges, pick_challenge
from lab.adapters.registry.client import next_link, parse_retry_after
from lab.adapters.registry.names import is_insecure_host, parse_mirror_spec
from lab.errors import RegistryError


@pytest.mark.parametrize(
    ("image", "host", "repository", "scheme"),
    [
        ("nginx", "index.docker.io", "library/nginx", "https"),
        ("docker.io/nginx", "index.docker.io", "library/nginx", "https"),
        ("index.docker.io/nginx", "index.docker.io", "library/nginx", "https"),
        ("registry-1.docker.io/nginx", "registry-1.docker.io", "nginx", "https"),
        ("bitnami/nginx", "index.docker.io", "bitnami/nginx", "https"),
        ("library/nginx", "index.docker.io", "library/nginx", "https"),
        ("localhost:5000/app", "localhost:5000", "app", "http"),
        # ggcr v0.19.1 (pinned by image-reflector-controller): no registry without "." or ":".
        ("localhost/app", "index.docker.io", "localhost/app", "https"),
        ("127.0.0.1:5000/team/app", "127.0.0.1:5000", "team/app", "http"),
        ("ghcr.io/org/app", "ghcr.io", "org/app", "https"),
        ("registry.local/app", "registry.local", "app", "http"),
        ("10.0.0.5:5000/app", "10.0.0.5:5000", "app", "http"),
    ],
)
def test_names_as_flux_puts_them_on_the_wire(image: str, host: str, repository: str, scheme: str) -> None:
    name = parse_image(image)
    assert (name.registry, name.repository, name.scheme) == (host, repository, scheme)
    assert name.canonical == f"{host}/{repository}"
    assert name.wire_host == host


@pytest.mark.parametrize(
    ("image", "message"),
    [
        (
            "https://ghcr.io/org/app",
            "image 'https://ghcr.io/org/app' should not include URL scheme; remove 'https://'",
        ),
        ("nginx:1.25", "image 'nginx:1.25' should not include a tag; remove ':1.25'"),
        ("Nginx", "could not parse reference: Nginx"),
    ],
)
def test_invalid_images_fail_before_any_request(image: str, message: str) -> None:
    client = RegistryClient(registry_mirror={})
    with pytest.raises(RegistryAPIError) as err:
        client.list_tags(image)
    assert err.value.message == message
    assert err.value.code == "ImageURLInvalid"
    failed = client.scan(image, check=False)
    assert (failed.ready, failed.reason, failed.message) == (False, "ImageURLInvalid", message)


def test_mirror_keeps_flux_names_and_changes_the_wire() -> None:
    mirrors = parse_mirror_spec("docker.io=127.0.0.1:5000, ghcr.io=127.0.0.1:5001")
    assert mirrors == {"index.docker.io": "127.0.0.1:5000", "ghcr.io": "127.0.0.1:5001"}
    name = parse_image("nginx", mirrors=mirrors)
    assert name.canonical == "index.docker.io/library/nginx"
    assert name.base_url == "http://127.0.0.1:5000"
    assert parse_image("ghcr.io/org/app", mirrors=mirrors).base_url == "http://127.0.0.1:5001"
    assert parse_image("quay.io/org/app", mirrors=mirrors).base_url == "https://quay.io"
    with pytest.raises(ValueError):
        parse_mirror_spec("docker.io")


def test_a_mirror_entry_with_credentials_is_refused_without_showing_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LAB_REGISTRY_MIRROR", "docker.io=bob:MIRRORPW@127.0.0.1:5500")
    with pytest.raises(RegistryError) as err:
        RegistryClient()
    assert "'docker.io=***@127.0.0.1:5500' carries credentials" in str(err.value)
    assert "MIRRORPW" not in str(err.value)


def test_bad_mirror_env_is_a_one_line_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAB_REGISTRY_MIRROR", "nonsense")
    with pytest.raises(RegistryError, match=r"^LAB_REGISTRY_MIRROR: mirror entry 'nonsense'"):
        RegistryClient()


def test_insecure_hosts() -> None:
    assert is_insecure_host("localhost:5000")
    assert is_insecure_host("[::1]:5000")
    assert is_insecure_host("192.168.1.10")
    assert not is_insecure_host("ghcr.io")
    assert not is_insecure_host("8.8.8.8:443")


def test_challenges_are_tokenised_not_split_on_commas() -> None:
    header = (
        'Bearer realm="https://auth.example/token",service="registry.example",'
        'scope="repository:a/b:pull repository:c/d:pull",error="insufficient_scope", '
        'Basic realm="say \\"hi\\", please"'
    )
    bearer, basic = parse_challenges(header)
    assert bearer.scheme == "bearer"
    assert bearer.realm == "https://auth.example/token"
    assert bearer.params["scope"] == "repository:a/b:pull repository:c/d:pull"
    assert bearer.params["error"] == "insufficient_scope"
    assert basic.scheme == "basic"
    assert basic.realm == 'say "hi", please'
    picked = pick_challenge(["Negotiate abc", 'Basic realm="x"'])
    assert picked is not None and picked.scheme == "basic"
    assert pick_challenge(["Negotiate"]) is None


def test_next_link_parsing() -> None:
    base = "http://r.example/v2/app/tags/list?n=2"
    assert next_link(['</v2/app/tags/list?last=b&n=2>; rel="next"'], base) == (
        "http://r.example/v2/app/tags/list?last=b&n=2"
    )
    both = (
        '<https://r.example/v2/app/tags/list?x=1>; rel="prev", '
        "<https://r.example/v2/app/tags/list?x=3>; rel=next"
    )
    assert next_link([both], base) == "https://r.example/v2/app/tags/list?x=3"
    assert next_link(['<https://r.example/a>; rel="prev"'], base) is None
    assert next_link([], base) is None


def test_retry_after_forms() -> None:
    assert parse_retry_after("42") == 42.0
    when = datetime.now(UTC) + timedelta(seconds=120)
    value = parse_retry_after(format_datetime(when, usegmt=True))
    assert value is not None and 100 < value <= 121
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_token_cache_expiry() -> None:
    now = [1000.0]
    cache = TokenCache(clock=lambda: now[0])
    key = ("https://auth", "svc", ("repository:a:pull",))
    cache.put(key, "bearer-secret", 60)
    assert cache.get(key) == "bearer-secret"
    now[0] += 49
    assert cache.get(key) == "bearer-secret"
    assert "bearer-secret" not in repr(cache)
    now[0] += 2  # within 10 s of expiry: fetch a new one
    assert cache.get(key) is None


def write_config(tmp_path: Path, doc: object) -> Path:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(doc))
    return path


def b64(text: str, pad: bool = True) -> str:
    value = base64.b64encode(text.encode()).decode()
    return value if pad else value.rstrip("=")


def test_docker_config_lookup_like_the_docker_cli(tmp_path: Path) -> None:
    config = DockerConfig.load(
        write_config(
            tmp_path,
            {
                "auths": {
                    "https://index.docker.io/v1/": {"auth": b64("hubuser:hubpass:with:colons", pad=False)},
                    "https://ghcr.io": {"username": "gh", "password": "ghp_x"},
                    "registry.example:5000": {"identitytoken": "refresh-me"},
                }
            },
        )
    )
    hub = config.lookup("index.docker.io").credentials
    assert hub is not None and (hub.username, hub.password) == ("hubuser", "hubpass:with:colons")
    gh = config.lookup("ghcr.io").credentials
    assert gh is not None and (gh.username, gh.password) == ("gh", "ghp_x")
    reg = config.lookup("registry.example:5000").credentials
    assert reg is not None and reg.identity_token == "refresh-me"
    assert config.lookup("quay.io").credentials is None
    for creds in (hub, gh, reg):
        assert "hubpass" not in repr(creds) and "ghp_x" not in repr(creds) and "refresh-me" not in repr(creds)


def test_docker_hub_key_docker_io_is_a_near_miss(tmp_path: Path) -> None:
    config = DockerConfig.load(write_config(tmp_path, {"auths": {"docker.io": {"auth": b64("u:p")}}}))
    found = config.lookup("index.docker.io")
    assert found.credentials is None
    assert found.near_miss == "docker.io"


def test_docker_config_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match=r"registry config .*missing\.json does not exist"):
        DockerConfig.load(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(RegistryError, match=r"bad\.json: not valid JSON \(line 1\)"):
        DockerConfig.load(bad)
    nocolon = write_config(tmp_path, {"auths": {"ghcr.io": {"auth": b64("justuser")}}})
    with pytest.raises(RegistryError, match=r"auths\['ghcr.io'\]: field auth decodes to text without ':'"):
        DockerConfig.load(nocolon).lookup("ghcr.io")
    # The default location may be absent: anonymous, no error.
    assert DockerConfig.load(None).lookup("ghcr.io").credentials is None


def test_dockerconfigjson_matching_like_flux() -> None:
    secret = json.dumps(
        {
            "auths": {
                "https://index.docker.io/v1/": {"auth": b64("hub:1")},
                "*.example.com": {"auth": b64("glob:2")},
                "registry.local:5000/team": {"auth": b64("team:3")},
            }
        }
    ).encode()
    keys = credentials_from_dockerconfigjson(secret)
    hub = keys.match("index.docker.io/library/nginx")
    assert hub is not None and hub.username == "hub"
    glob = keys.match("eu.example.com/app")
    assert glob is not None and glob.username == "glob"
    assert keys.match("a.b.example.com/app") is None  # label count differs
    team = keys.match("registry.local:5000/team/app")
    assert team is not None and team.username == "team"
    assert keys.match("registry.local:5000/other/app") is None
    assert keys.match("registry.local/team/app") is None  # port differs
    assert b64("hub:1") not in repr(keys)
    assert "glob" not in repr(keys).replace("*.example.com", "")


def test_dockerconfigjson_keyed_docker_io_does_not_match_docker_hub() -> None:
    keys = credentials_from_dockerconfigjson(
        json.dumps({"auths": {"docker.io": {"auth": b64("u:p")}}}).encode()
    )
    assert keys.match("index.docker.io/library/nginx") is None
    legacy = credentials_from_dockerconfigjson(json.dumps({"index.docker.io": {"auth": b64("u:p")}}).encode())
    assert legacy.match("index.docker.io/library/nginx") is not None


def test_secrets_stay_out_of_reprs() -> None:
    creds = Credentials(username="me", password="hunter2", identity_token="id-tok", registry_token="reg-tok")
    text = repr(creds)
    assert "me" in text
    for secret in ("hunter2", "id-tok", "reg-tok"):
        assert secret not in text


def test_go_value_formats_like_fmt_v() -> None:
    from lab.adapters.registry.client import go_value

    detail = [{"Type": "repository", "Name": "library/x", "Action": "pull", "Class": ""}]
    assert go_value(detail) == "[map[Action:pull Class: Name:library/x Type:repository]]"
    assert go_value({"n": 3, "f": 1.5, "b": True, "z": None}) == "map[b:true f:1.5 n:3 z:<nil>]"


@pytest.mark.parametrize(
    ("image", "words"),
    [("nginx", "lab sandbox up --detach"), ("127.0.0.1:9/library/nginx", "check the host and port")],
)
def test_unreachable_registry_hint_points_offline_learners_to_the_sandbox(image: str, words: str) -> None:
    import httpx

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("Name or service not known", request=request)

    client = RegistryClient(transport=httpx.MockTransport(refuse), retries=0, sleep=lambda _s: None)
    with pytest.raises(RegistryError) as caught:
        client.list_tags(image)
    assert words in (caught.value.hint or "")


@pytest.mark.parametrize(
    ("image", "sandbox", "hint"),
    [
        # `library/nginx` names no host or port: the sandbox's registry serves it, and it is down.
        (
            "library/nginx",
            True,
            "the sandbox is not running (its registry at 127.0.0.1:5999 serves Docker Hub images): "
            'lab sandbox up --detach && eval "$(lab sandbox env)"',
        ),
        (
            "library/nginx",
            False,
            "LAB_REGISTRY_MIRROR sends Docker Hub to 127.0.0.1:5999: start that registry, "
            "or unset LAB_REGISTRY_MIRROR",
        ),
        (
            "127.0.0.1:9/nginx",
            True,
            "is a registry running at 127.0.0.1:9? check the host and port in spec.image",
        ),
    ],
)
def test_unreachable_mirror_hint_names_what_was_tried(image: str, sandbox: bool, hint: str) -> None:
    import httpx

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    client = RegistryClient(
        transport=httpx.MockTransport(refuse),
        retries=0,
        sleep=lambda _s: None,
        registry_mirror={"docker.io": "127.0.0.1:5999"},
        sandbox=sandbox,
    )
    with pytest.raises(RegistryError) as caught:
        client.list_tags(image)
    assert caught.value.hint == hint
