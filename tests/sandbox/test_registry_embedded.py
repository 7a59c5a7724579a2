"""The embedded registry: its v2 API on the wire, its dated nginx tags, token auth, and `lab tags` on it."""

from __future__ import annotations

import hashlib
import json
import math
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from lab.adapters.registry import RegistryAPIError, RegistryClient
from lab.sandbox.registry import NGINX, EmbeddedRegistry, RegistryAuth, manifest_digest
from tests.support.labrun import run_lab
from tests.support.paths import ROOT

DATA = ROOT / "tasks" / "09b" / "registry"


@pytest.fixture(scope="module")
def registry() -> Iterator[EmbeddedRegistry]:
    with EmbeddedRegistry() as reg:
        yield reg


def semver_125(tags: list[str] | tuple[str, ...]) -> list[str]:
    return sorted(
        (t for t in tags if t.startswith("1.25.") and t.count(".") == 2 and t.replace(".", "").isdigit()),
        key=lambda t: tuple(int(p) for p in t.split(".")),
    )


def test_serves_the_2024_01_15_snapshot(registry: EmbeddedRegistry) -> None:
    base = (DATA / "nginx-tags-2024-01-15.txt").read_text().split()
    tags = registry.tags(NGINX)
    assert len(tags) == 560
    assert sorted(base) == tags
    assert semver_125(tags)[-1] == "1.25.3"
    assert "1.25.4" not in tags


def test_tags_list_paginates_with_relative_link(registry: EmbeddedRegistry) -> None:
    with httpx.Client(base_url=registry.url) as http:
        first = http.get(f"/v2/{NGINX}/tags/list", params={"n": 100})
        assert first.status_code == 200
        doc = first.json()
        assert doc["name"] == NGINX
        assert doc["tags"] == registry.tags()[:100]
        last = doc["tags"][-1]
        assert first.headers["link"] == f'</v2/{NGINX}/tags/list?last={last}&n=100>; rel="next"'
        rest = http.get(f"/v2/{NGINX}/tags/list", params={"n": 1000, "last": last})
        assert rest.json()["tags"] == registry.tags()[100:]
        assert "link" not in rest.headers
        everything = http.get(f"/v2/{NGINX}/tags/list")
        assert len(everything.json()["tags"]) == 560
        assert "link" not in everything.headers
        zero = http.get(f"/v2/{NGINX}/tags/list", params={"n": 0})
        assert zero.json()["tags"] == []
        assert "link" not in zero.headers
        bad = http.get(f"/v2/{NGINX}/tags/list", params={"n": "x"})
        assert bad.status_code == 400
        assert bad.json()["errors"][0]["code"] == "PAGINATION_NUMBER_INVALID"


def test_manifests_have_stable_digests(registry: EmbeddedRegistry) -> None:
    accept = {"Accept": "application/vnd.oci.image.manifest.v1+json"}
    with httpx.Client(base_url=registry.url) as http:
        head = http.head(f"/v2/{NGINX}/manifests/1.25.3", headers=accept)
        assert head.status_code == 200
        digest = head.headers["docker-content-digest"]
        get = http.get(f"/v2/{NGINX}/manifests/1.25.3", headers=accept)
        assert get.headers["docker-content-digest"] == digest
        assert "sha256:" + hashlib.sha256(get.content).hexdigest() == digest
        assert int(head.headers["content-length"]) == len(get.content)
        assert digest == manifest_digest(NGINX, "1.25.3")
        by_digest = http.get(f"/v2/{NGINX}/manifests/{digest}")
        assert by_digest.content == get.content
        config = json.loads(get.content)["config"]
        blob = http.get(f"/v2/{NGINX}/blobs/{config['digest']}")
        assert blob.status_code == 200
        assert "sha256:" + hashlib.sha256(blob.content).hexdigest() == config["digest"]
        assert http.get(f"/v2/{NGINX}/manifests/latest").headers["docker-content-digest"] != digest


def test_errors_follow_the_spec(registry: EmbeddedRegistry) -> None:
    with httpx.Client(base_url=registry.url) as http:
        assert http.get("/v2/").json() == {}
        # A Docker Hub name it does not have: Docker Hub's answer to a repository that does not exist.
        missing = http.get("/v2/library/nope/tags/list")
        assert missing.status_code == 401
        assert missing.json()["errors"][0] == {
            "code": "UNAUTHORIZED",
            "message": "authentication required",
            "detail": [{"Type": "repository", "Class": "", "Name": "library/nope", "Action": "pull"}],
        }
        assert missing.headers["www-authenticate"].endswith(
            'service="registry.docker.io",scope="repository:library/nope:pull",error="insufficient_scope"'
        )
        tag = http.get(f"/v2/{NGINX}/manifests/9.9.9")
        assert tag.json()["errors"][0]["code"] == "MANIFEST_UNKNOWN"
        upper = http.get("/v2/Library/Nginx/tags/list")
        assert upper.status_code == 404
        assert upper.text == "404 page not found\n"
        assert http.post(f"/v2/{NGINX}/blobs/uploads/").status_code == 405


def test_an_unknown_repository_is_answered_as_its_registry_answers() -> None:
    """Docker Hub says 401 UNAUTHORIZED "authentication required" for a repository that does not exist,
    and Flux's scan shows that (the Pitfalls tab's words); another registry's names keep NAME_UNKNOWN."""
    with EmbeddedRegistry("09b-multi") as reg:
        host = reg.start()
        with httpx.Client(base_url=reg.url) as http:
            other = http.get("/v2/acme/shopp/tags/list")
            assert other.status_code == 404 and other.json()["errors"][0]["code"] == "NAME_UNKNOWN"
            assert http.get("/v2/acme/shop/tags/list").status_code == 200
        with RegistryClient(registry_mirror={"docker.io": host}, retries=0) as client:
            failed = client.scan("library/ngnix", check=False)
            assert failed.message.endswith(
                "/v2/library/ngnix/tags/list?n=1000: UNAUTHORIZED: authentication required; "
                "[map[Action:pull Class: Name:library/ngnix Type:repository]]"
            ), failed.message
            assert failed.message.startswith("scan failed: GET ")
            with pytest.raises(RegistryAPIError) as typo:
                client.list_tags("ngnix")
            assert typo.value.message == "image not found or access denied: index.docker.io/library/ngnix"
            assert client.list_tags("nginx").tags


def test_advance_to_publishes_dated_tags() -> None:
    with EmbeddedRegistry() as reg:
        event = reg.next_event()
        assert event is not None
        assert event[0].isoformat() == "2024-02-14T19:12:29+00:00"
        assert reg.advance_to("2024-02-14") == []
        added = reg.advance_to("2024-02-15")
        assert added[0] == "1.25.4"
        client = RegistryClient(registry_mirror={"docker.io": reg.address})
        assert semver_125(client.list_tags("nginx").tags)[-1] == "1.25.4"
        reg.advance_to("2024-04-18T00:00:00Z")
        assert semver_125(client.list_tags("nginx").tags)[-1] == "1.25.5"
        # Going back does not unpublish (Docker Hub keeps tags).
        assert reg.advance_to("2024-01-01") == []
    late = EmbeddedRegistry(as_of="2026-12-31")
    assert len(late.tags()) == 560 + 737


def test_push_tag_creates_repositories() -> None:
    with EmbeddedRegistry() as reg:
        digest = reg.push_tag("team/app", "1.0.0")
        reg.push_tags("team/app", ["1.1.0", "1.0.0", "0.9.0"])
        client = RegistryClient()
        image = f"{reg.address}/team/app"
        assert client.scan(image).tags == ("1.1.0", "1.0.0", "0.9.0")
        assert client.digest(image, "1.0.0") == digest
        with pytest.raises(ValueError, match="invalid tag"):
            reg.push_tag("team/app", "-bad")


def test_stop_frees_the_port() -> None:
    reg = EmbeddedRegistry()
    address = reg.start()
    assert address.startswith("127.0.0.1:")
    reg.stop()
    with socket.socket() as s, pytest.raises(OSError):
        s.settimeout(1)
        s.connect(("127.0.0.1", int(address.rsplit(":", 1)[1])))


@pytest.mark.parametrize("n_tags", [0, 1, 999, 1000, 1001, 2345])
@pytest.mark.parametrize("auth", [False, True])
def test_request_count_is_pages_plus_auth_round_trips(n_tags: int, auth: bool) -> None:
    creds = RegistryAuth("robot", "pw-123", anonymous_pull=("bench",)) if auth else None
    with EmbeddedRegistry(auth=creds) as reg:
        reg.push_tags("bench/app", [f"v{i:05d}" for i in range(n_tags)])
        before = reg.request_count
        client = RegistryClient()
        listed = client.list_tags(f"{reg.address}/bench/app")
        pages = max(1, math.ceil(n_tags / 1000))
        auth_round_trips = 2 if auth else 1  # GET /v2/ (+ token)
        assert len(listed.tags) == n_tags
        assert listed.pages == pages
        assert listed.request_count == pages + auth_round_trips
        assert reg.request_count - before == listed.request_count
        # The ping and the token are cached: a second scan costs only the pages.
        again = client.list_tags(f"{reg.address}/bench/app")
        assert again.request_count == pages


def test_docker_hub_like_page_cap_is_followed() -> None:
    with EmbeddedRegistry(page_cap=100) as reg:
        client = RegistryClient(registry_mirror={"docker.io": reg.address})
        listed = client.list_tags("nginx")
        assert listed.canonical_name == "index.docker.io/library/nginx"
        assert sorted(listed.tags) == reg.tags()
        assert listed.request_count == 1 + math.ceil(560 / 100)


@pytest.fixture(scope="module")
def private() -> Iterator[EmbeddedRegistry]:
    auth = RegistryAuth("alice", "s3cret-pass", anonymous_pull=("public",))
    with EmbeddedRegistry(auth=auth) as reg:
        reg.push_tags("public/app", ["1.0.0"])
        reg.push_tags("private/app", ["2.0.0", "2.1.0"])
        yield reg


def docker_config(tmp_path: Path, host: str, user: str, password: str) -> Path:
    import base64

    auth = base64.b64encode(f"{user}:{password}".encode()).decode()
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"auths": {host: {"auth": auth}}}))
    return path


def test_token_auth_anonymous_public_and_denied_private(private: EmbeddedRegistry) -> None:
    client = RegistryClient()
    assert client.list_tags(f"{private.address}/public/app").tags == ("1.0.0",)
    with pytest.raises(RegistryAPIError) as err:
        client.list_tags(f"{private.address}/private/app")
    assert err.value.message == f"image not found or access denied: {private.address}/private/app"
    assert f"add credentials keyed {private.address}" in str(err.value)


def test_token_auth_with_credentials(private: EmbeddedRegistry, tmp_path: Path) -> None:
    config = docker_config(tmp_path, private.address, "alice", "s3cret-pass")
    client = RegistryClient(docker_config=config)
    assert client.scan(f"{private.address}/private/app").tags == ("2.1.0", "2.0.0")
    assert "s3cret-pass" not in repr(client)


def test_token_auth_wrong_password(private: EmbeddedRegistry, tmp_path: Path) -> None:
    config = docker_config(tmp_path, private.address, "alice", "guessed-wrong")
    with pytest.raises(RegistryAPIError) as err:
        RegistryClient(docker_config=config).list_tags(f"{private.address}/private/app")
    assert err.value.message == f"credentials rejected for {private.address}"
    assert "guessed-wrong" not in str(err.value)


def test_creds_store_is_named_when_it_would_be_needed(private: EmbeddedRegistry, tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"auths": {private.address: {}}, "credsStore": "desktop"}))
    with pytest.raises(RegistryAPIError) as err:
        RegistryClient(docker_config=path).list_tags(f"{private.address}/private/app")
    assert err.value.message == (
        f"credentials for {private.address} are kept by docker-credential-desktop "
        f"(credsStore in {path}), which lab does not run"
    )
    path.write_text(json.dumps({"credHelpers": {private.address: "pass"}}))
    with pytest.raises(RegistryAPIError, match=r"kept by docker-credential-pass \(credHelpers in "):
        RegistryClient(docker_config=path).list_tags(f"{private.address}/private/app")


def test_dockerconfigjson_secret_as_keychain(private: EmbeddedRegistry) -> None:
    import base64

    from lab.adapters.registry import credentials_from_dockerconfigjson

    auth = base64.b64encode(b"alice:s3cret-pass").decode()
    secret = json.dumps({"auths": {private.address: {"auth": auth}}}).encode()
    client = RegistryClient(keychain=credentials_from_dockerconfigjson(secret))
    assert client.list_tags(f"{private.address}/private/app").tags == ("2.0.0", "2.1.0")


def test_basic_auth_mode() -> None:
    basic = RegistryAuth("bob", "pw", scheme="basic")
    with (
        EmbeddedRegistry(auth=basic) as reg,
        pytest.raises(RegistryAPIError, match=r"requires credentials and none were found"),
    ):
        RegistryClient().list_tags(f"{reg.address}/library/nginx")


@pytest.mark.slow
def test_lab_tags_through_the_mirror(lab_env: dict[str, str]) -> None:
    with EmbeddedRegistry() as reg:
        env = {**lab_env, "LAB_REGISTRY_MIRROR": f"docker.io={reg.address}"}
        run = run_lab("tags", "nginx", env=env)
        assert run.returncode == 0, run.stderr
        lines = run.stdout.splitlines()
        assert len(lines) == 560
        assert lines == sorted(lines, reverse=True)
        assert run.stderr.startswith(
            "index.docker.io/library/nginx: successful scan: found 560 tags with checksum "
        )
        bad = run_lab("tags", "nginx:1.25", env=env)
        assert bad.returncode == 1
        assert bad.stderr.splitlines() == [
            "lab: image 'nginx:1.25' should not include a tag; remove ':1.25' - hint: spec.image names the "
            "repository only (nginx); the ImagePolicy chooses the tag"
        ]
        typo = run_lab("tags", "ngnix", env=env)
        assert typo.returncode == 1
        assert typo.stderr.startswith("lab: image not found or access denied: index.docker.io/library/ngnix")
        assert len(typo.stderr.splitlines()) == 1
