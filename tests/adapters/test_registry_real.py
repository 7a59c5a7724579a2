"""The client and `lab tags` against Debian's docker-registry 2.8 on 127.0.0.1 (no auth and htpasswd)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from lab.adapters.registry import RegistryAPIError, RegistryClient
from tests.support.labrun import run_lab
from tests.support.registry_fixtures import RealRegistry, push_tags, start_docker_registry

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("docker-registry")]

PUSHED = ["1.25.0", "1.25.3", "latest", "1.25-alpine", "1.24.0", "1.25.3.sig"]


@pytest.fixture(scope="module")
def open_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RealRegistry, dict[str, str]]]:
    reg = start_docker_registry(tmp_path_factory.mktemp("open-registry"))
    try:
        digests = push_tags(reg.url, "library/nginx", PUSHED)
        yield reg, digests
    finally:
        reg.stop()


@pytest.fixture(scope="module")
def basic_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealRegistry]:
    reg = start_docker_registry(tmp_path_factory.mktemp("basic-registry"), auth="htpasswd")
    try:
        push_tags(reg.url, "team/app", ["1.0.0", "1.1.0", "2.0.0-rc.1"], auth=reg.basic)
        yield reg
    finally:
        reg.stop()


def test_lab_tags_lists_exactly_the_pushed_tags(
    open_registry: tuple[RealRegistry, dict[str, str]], lab_env: dict[str, str]
) -> None:
    reg, _ = open_registry
    result = run_lab("tags", "--all", f"localhost:{reg.port}/library/nginx", env=lab_env)
    assert result.returncode == 0, result.stderr
    # Stored order is descending byte order, whatever order 2.8 listed them in.
    assert result.stdout.splitlines() == sorted(PUSHED, reverse=True)
    summary = result.stderr.strip().splitlines()
    assert len(summary) == 1
    assert summary[0].startswith(
        f"localhost:{reg.port}/library/nginx: successful scan: found 6 tags with checksum "
    )


def test_lab_tags_applies_the_default_exclusion_list(
    open_registry: tuple[RealRegistry, dict[str, str]], lab_env: dict[str, str]
) -> None:
    reg, _ = open_registry
    result = run_lab("tags", "--json", f"{reg.address}/library/nginx", env=lab_env)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    expected = sorted((t for t in PUSHED if not t.endswith(".sig")), reverse=True)
    assert doc["tags"] == expected
    assert doc["lastScanResult"]["tagCount"] == 5
    assert doc["listed"] == 6
    assert doc["canonicalImageName"] == f"{reg.address}/library/nginx"
    assert (
        doc["message"] == f"successful scan: found 5 tags with checksum {doc['lastScanResult']['revision']}"
    )
    # No auth: one ping and one list call; 2.8 ignores `n` and sends no Link.
    assert doc["requests"] == 2


def test_client_lists_server_order_and_reads_digests(
    open_registry: tuple[RealRegistry, dict[str, str]],
) -> None:
    reg, digests = open_registry
    with RegistryClient() as client:
        listed = client.list_tags(f"{reg.address}/library/nginx")
        assert sorted(listed.tags) == sorted(PUSHED)
        assert listed.pages == 1
        for tag in ("1.25.3", "latest"):
            assert client.digest(f"{reg.address}/library/nginx", tag) == digests[tag]
        assert digests["1.25.3"] != digests["latest"]


def test_missing_repository_and_tag(open_registry: tuple[RealRegistry, dict[str, str]]) -> None:
    reg, _ = open_registry
    with RegistryClient() as client:
        with pytest.raises(RegistryAPIError) as missing:
            client.list_tags(f"{reg.address}/library/ngnix")
        assert missing.value.message == f"image not found: {reg.address}/library/ngnix"
        assert missing.value.code == "NAME_UNKNOWN"
        with pytest.raises(RegistryAPIError, match=r"image not found: did you mean library/nginx\?"):
            client.list_tags(f"{reg.address}/nginx")
        with pytest.raises(RegistryAPIError, match=r"tag not found: .*/library/nginx:1\.99\.0"):
            client.digest(f"{reg.address}/library/nginx", "1.99.0")
        failed = client.scan(f"{reg.address}/library/ngnix", check=False)
    assert not failed.ready
    assert failed.reason == "ReadOperationFailed"
    url = f"http://{reg.address}/v2/library/ngnix/tags/list?n=1000"
    assert failed.message == (
        f"scan failed: GET {url}: NAME_UNKNOWN: repository name not known to registry; "
        "map[name:library/ngnix]"
    )


def test_basic_auth_from_docker_config_succeeds(
    basic_registry: RealRegistry, tmp_path: Path, lab_env: dict[str, str]
) -> None:
    config = basic_registry.docker_config(tmp_path / "config.json", host=f"localhost:{basic_registry.port}")
    image = f"localhost:{basic_registry.port}/team/app"
    result = run_lab("tags", image, "--registry-config", str(config), env=lab_env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["2.0.0-rc.1", "1.1.0", "1.0.0"]
    assert basic_registry.password not in result.stdout + result.stderr


def test_basic_auth_config_found_through_docker_config_env(
    basic_registry: RealRegistry, tmp_path: Path, lab_env: dict[str, str]
) -> None:
    basic_registry.docker_config(tmp_path / "config.json")
    env = {**lab_env, "DOCKER_CONFIG": str(tmp_path)}
    result = run_lab("tags", f"{basic_registry.address}/team/app", env=env)
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 3


def test_without_credentials_fails_with_one_line(
    basic_registry: RealRegistry, lab_env: dict[str, str]
) -> None:
    result = run_lab("tags", f"{basic_registry.address}/team/app", env=lab_env)
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(
        f"lab: {basic_registry.address} requires credentials and none were found for it"
    )
    assert "--registry-config" in lines[0]


def test_wrong_password_is_rejected_without_leaking_it(
    basic_registry: RealRegistry, tmp_path: Path, lab_env: dict[str, str]
) -> None:
    wrong = "not-the-password-4711"
    config = basic_registry.docker_config(tmp_path / "config.json", password=wrong)
    result = run_lab(
        "tags", f"{basic_registry.address}/team/app", "--registry-config", str(config), env=lab_env
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"lab: credentials rejected for {basic_registry.address}")
    assert wrong not in result.stderr
    assert basic_registry.password not in result.stderr


def test_missing_binary_skips_locally_and_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    import os
    import shutil

    from tests.support import registry_fixtures

    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="docker-registry is not installed"):
        registry_fixtures.registry_binary()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=r"CI=true: \.ci/run must install it"):
        registry_fixtures.registry_binary()


def test_htpasswd_hash_is_bcrypt() -> None:
    from tests.support import registry_fixtures

    assert registry_fixtures.bcrypt_hash("pw").startswith(("$2b$", "$2y$", "$2a$"))
