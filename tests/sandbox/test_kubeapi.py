"""The loopback API server driven by the real `kubernetes` Python client (no mocks)."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, watch
from kubernetes.client.exceptions import ApiException

from lab.sandbox.kubeapi import KubeAPIServer, write_kubeconfig
from tests.support.kubeapi_helpers import (
    IMAGE_POLICY,
    IMAGE_REPOSITORY,
    POLICY_READY_STATUS,
    api_client,
    auth,
    manifest,
)

G, V, NS = "image.toolkit.fluxcd.io", "v1", "flux-system"


@pytest.fixture
def server() -> Iterator[KubeAPIServer]:
    with KubeAPIServer() as srv:
        yield srv


@pytest.fixture
def api(server: KubeAPIServer, tmp_path: Path) -> Iterator[Any]:
    kc = server.write_kubeconfig(tmp_path / "kubeconfig")
    c = api_client(kc)
    yield c
    c.close()


def _custom(api: Any) -> Any:
    return client.CustomObjectsApi(api)


def _status(err: pytest.ExceptionInfo[ApiException]) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(err.value.body)
    return body


def test_discovery_lists_image_group_with_names_verbs_and_status_subresource(api: Any) -> None:
    groups = {g.name: g for g in client.ApisApi(api).get_api_versions().groups}
    assert [v.version for v in groups[G].versions] == ["v1"]
    assert groups[G].preferred_version.version == "v1"
    assert "apps" in groups and "apiextensions.k8s.io" in groups
    resources = client.CustomObjectsApi(api).get_api_resources(G, V).resources
    by_name = {r.name: r for r in resources}
    policies = by_name["imagepolicies"]
    assert policies.kind == "ImagePolicy" and policies.namespaced is True
    assert set(policies.short_names) == {"imgpol", "imagepol"}
    assert "fluxcd-images" in policies.categories
    assert {"get", "list", "watch", "create", "update", "patch", "delete"} <= set(policies.verbs)
    assert set(by_name["imageupdateautomations"].short_names) == {"iua", "imgupd", "imgauto"}
    assert by_name["imagerepositories/status"].verbs == ["get", "patch", "update"]
    core = {r.name for r in client.CoreV1Api(api).get_api_resources().resources}
    assert {"namespaces", "configmaps", "secrets", "events"} <= core


@pytest.mark.parametrize(
    ("versions", "controllers", "expected"),
    [(("v1",), True, ["v1"]), (("v1", "v1beta2"), True, ["v1", "v1beta2"]), (("v1",), False, None)],
)
def test_served_versions_follow_configuration(
    tmp_path: Path, versions: tuple[str, ...], controllers: bool, expected: list[str] | None
) -> None:
    with KubeAPIServer(image_api_versions=versions, image_controllers=controllers) as srv:
        c = api_client(srv.write_kubeconfig(tmp_path / "kc"))
        try:
            groups = {
                g.name: [v.version for v in g.versions] for g in client.ApisApi(c).get_api_versions().groups
            }
            assert groups.get(G) == expected
            crds = client.ApiextensionsV1Api(c).list_custom_resource_definition().items
            names = {crd.metadata.name for crd in crds}
            assert ("imagepolicies.image.toolkit.fluxcd.io" in names) is controllers
            assert "gitrepositories.source.toolkit.fluxcd.io" in names
        finally:
            c.close()


def test_create_get_list_replace_delete_with_generation_and_conflicts(api: Any) -> None:
    custom = _custom(api)
    created = custom.create_namespaced_custom_object(G, V, NS, "imagepolicies", manifest(IMAGE_POLICY))
    meta = created["metadata"]
    assert meta["generation"] == 1 and meta["uid"] and meta["resourceVersion"]
    with pytest.raises(ApiException) as dup:
        custom.create_namespaced_custom_object(G, V, NS, "imagepolicies", manifest(IMAGE_POLICY))
    assert dup.value.status == 409 and _status(dup)["reason"] == "AlreadyExists"

    other = manifest(IMAGE_POLICY, name="other", labels={"app": "db"})
    custom.create_namespaced_custom_object(G, V, NS, "imagepolicies", other)
    listed = custom.list_namespaced_custom_object(G, V, NS, "imagepolicies", label_selector="app=web")
    assert [i["metadata"]["name"] for i in listed["items"]] == ["nginx"]
    listed = custom.list_namespaced_custom_object(G, V, NS, "imagepolicies", label_selector="app in (db,x)")
    assert [i["metadata"]["name"] for i in listed["items"]] == ["other"]

    current = custom.get_namespaced_custom_object(G, V, NS, "imagepolicies", "nginx")
    current["metadata"]["labels"]["team"] = "a"  # metadata only: generation stays
    relabelled = custom.replace_namespaced_custom_object(G, V, NS, "imagepolicies", "nginx", current)
    assert relabelled["metadata"]["generation"] == 1
    relabelled["spec"]["policy"]["semver"]["range"] = "1.25.x"
    changed = custom.replace_namespaced_custom_object(G, V, NS, "imagepolicies", "nginx", relabelled)
    assert changed["metadata"]["generation"] == 2
    assert int(changed["metadata"]["resourceVersion"]) > int(relabelled["metadata"]["resourceVersion"])

    with pytest.raises(ApiException) as stale:
        custom.replace_namespaced_custom_object(G, V, NS, "imagepolicies", "nginx", relabelled)
    assert stale.value.status == 409 and "the object has been modified" in _status(stale)["message"]

    custom.delete_namespaced_custom_object(G, V, NS, "imagepolicies", "nginx")
    with pytest.raises(ApiException) as gone:
        custom.get_namespaced_custom_object(G, V, NS, "imagepolicies", "nginx")
    assert gone.value.status == 404
    assert _status(gone)["message"] == 'imagepolicies.image.toolkit.fluxcd.io "nginx" not found'
    for write in (
        lambda: custom.replace_namespaced_custom_object(G, V, NS, "imagepolicies", "nginx", relabelled),
        lambda: custom.delete_namespaced_custom_object(G, V, NS, "imagepolicies", "nginx"),
    ):
        with pytest.raises(ApiException) as missing:
            write()
        assert missing.value.status == 404
        assert _status(missing)["message"] == 'imagepolicies.image.toolkit.fluxcd.io "nginx" not found'


def test_status_subresource_is_separate_from_spec(api: Any) -> None:
    custom = _custom(api)
    body = manifest(IMAGE_POLICY)
    body["status"] = {"latestRef": {"name": "evil", "tag": "0"}}
    created = custom.create_namespaced_custom_object(G, V, NS, "imagepolicies", body)
    assert "status" not in created  # ignored on create, as for any CRD with a status subresource

    patched = custom.patch_namespaced_custom_object_status(
        G,
        V,
        NS,
        "imagepolicies",
        "nginx",
        {"status": POLICY_READY_STATUS},
        _content_type="application/merge-patch+json",
    )
    assert patched["status"]["latestRef"] == {"name": "library/nginx", "tag": "1.25.3"}
    assert patched["metadata"]["generation"] == 1

    patched["spec"]["policy"]["semver"]["range"] = "1.x"
    patched["status"] = {"latestRef": {"name": "ignored", "tag": "x"}}
    updated = custom.replace_namespaced_custom_object(G, V, NS, "imagepolicies", "nginx", patched)
    assert updated["metadata"]["generation"] == 2
    assert updated["status"]["latestRef"]["tag"] == "1.25.3"  # main resource writes keep status


def test_patch_formats(api: Any, server: KubeAPIServer) -> None:
    custom = _custom(api)
    custom.create_namespaced_custom_object(G, V, NS, "imagerepositories", manifest(IMAGE_REPOSITORY))
    merged = custom.patch_namespaced_custom_object(
        G,
        V,
        NS,
        "imagerepositories",
        "nginx",
        {"spec": {"interval": "10m", "suspend": True}},
        _content_type="application/merge-patch+json",
    )
    defaults = {"exclusionList": ["^.*\\.sig$"], "provider": "generic"}  # the CRD's, as the API server writes
    assert merged["spec"] == {"image": "library/nginx", "interval": "10m", "suspend": True, **defaults}
    removed = custom.patch_namespaced_custom_object(
        G,
        V,
        NS,
        "imagerepositories",
        "nginx",
        {"spec": {"suspend": None}},
        _content_type="application/merge-patch+json",
    )
    assert "suspend" not in removed["spec"]
    jp = custom.patch_namespaced_custom_object(
        G,
        V,
        NS,
        "imagerepositories",
        "nginx",
        [{"op": "replace", "path": "/spec/image", "value": "nginx"}],
        _content_type="application/json-patch+json",
    )
    assert jp["spec"]["image"] == "nginx"

    apps = client.AppsV1Api(api)
    dep = client.V1Deployment(
        metadata=client.V1ObjectMeta(name="web", namespace="default"),
        spec=client.V1DeploymentSpec(
            selector=client.V1LabelSelector(match_labels={"app": "web"}),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels={"app": "web"}),
                spec=client.V1PodSpec(
                    containers=[
                        client.V1Container(
                            name="web",
                            image="nginx:1.25.0",
                            ports=[client.V1ContainerPort(container_port=80)],
                        )
                    ]
                ),
            ),
        ),
    )
    apps.create_namespaced_deployment("default", dep)
    # Strategic merge: the container list merges by name, so the port survives an image-only patch.
    smp = {"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx:1.25.3"}]}}}}
    out = apps.patch_namespaced_deployment(
        "web", "default", smp, _content_type="application/strategic-merge-patch+json"
    )
    container = out.spec.template.spec.containers[0]
    assert container.image == "nginx:1.25.3" and container.ports[0].container_port == 80
    assert out.metadata.generation == 2 and out.status.ready_replicas == 1
    assert out.status.observed_generation == 2


def test_namespaces_scope_objects(api: Any) -> None:
    custom = _custom(api)
    with pytest.raises(ApiException) as missing:
        custom.create_namespaced_custom_object(
            G, V, "apps", "imagepolicies", manifest(IMAGE_POLICY, namespace="apps")
        )
    assert missing.value.status == 404 and 'namespaces "apps" not found' in _status(missing)["message"]
    core = client.CoreV1Api(api)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name="apps")))
    custom.create_namespaced_custom_object(
        G, V, "apps", "imagepolicies", manifest(IMAGE_POLICY, namespace="apps")
    )
    everywhere = custom.list_cluster_custom_object(G, V, "imagepolicies")["items"]
    assert [(i["metadata"]["namespace"]) for i in everywhere] == ["apps"]
    core.delete_namespace("apps")
    assert custom.list_cluster_custom_object(G, V, "imagepolicies")["items"] == []
    assert "apps" not in [n.metadata.name for n in core.list_namespace().items]


def test_invalid_name_is_rejected_like_the_api_server(api: Any) -> None:
    with pytest.raises(ApiException) as bad:
        _custom(api).create_namespaced_custom_object(
            G, V, NS, "imagepolicies", manifest(IMAGE_POLICY, name="Nginx")
        )
    assert bad.value.status == 422
    assert 'ImagePolicy "Nginx" is invalid: metadata.name' in _status(bad)["message"]


def _collect(stream: Iterator[dict[str, Any]], out: list[tuple[str, str, str]], stop_after: int) -> None:
    for event in stream:
        obj = event["object"]
        out.append(
            (
                event["type"],
                obj["metadata"]["name"],
                obj.get("status", {}).get("latestRef", {}).get("tag", ""),
            )
        )
        if len(out) >= stop_after:
            return


def test_watch_streams_added_and_modified_events(api: Any, server: KubeAPIServer) -> None:
    custom = _custom(api)
    rv = custom.list_namespaced_custom_object(G, V, NS, "imagepolicies")["metadata"]["resourceVersion"]
    w = watch.Watch()
    events: list[tuple[str, str, str]] = []
    stream = w.stream(
        custom.list_namespaced_custom_object,
        G,
        V,
        NS,
        "imagepolicies",
        resource_version=rv,
        timeout_seconds=10,
    )
    reader = threading.Thread(target=_collect, args=(stream, events, 2))
    reader.start()
    time.sleep(0.2)
    server.put(manifest(IMAGE_POLICY))
    server.update_status("ImagePolicy", "nginx", NS, POLICY_READY_STATUS)
    reader.join(timeout=10)
    w.stop()
    assert events == [("ADDED", "nginx", ""), ("MODIFIED", "nginx", "1.25.3")]


def test_watch_without_resource_version_starts_with_current_objects(api: Any, server: KubeAPIServer) -> None:
    server.put(manifest(IMAGE_POLICY))
    events: list[tuple[str, str, str]] = []
    w = watch.Watch()
    _collect(
        w.stream(_custom(api).list_namespaced_custom_object, G, V, NS, "imagepolicies", timeout_seconds=5),
        events,
        1,
    )
    w.stop()
    assert events == [("ADDED", "nginx", "")]


def test_state_file_survives_restart_and_old_watches_must_relist(tmp_path: Path) -> None:
    state = tmp_path / "state" / "kubeapi.json"
    with KubeAPIServer(state) as srv:
        first = srv.put(manifest(IMAGE_POLICY))
        srv.update_status("ImagePolicy", "nginx", NS, POLICY_READY_STATUS)
        old_rv = srv.resource_version
    assert json.loads(state.read_text())["resourceVersion"] == old_rv
    assert [p.name for p in state.parent.iterdir()] == ["kubeapi.json"]  # no temp files left behind
    with KubeAPIServer(state) as srv:
        again = srv.get("ImagePolicy", "nginx")
        assert again is not None
        assert again["metadata"]["uid"] == first["metadata"]["uid"]
        assert again["status"]["latestRef"]["tag"] == "1.25.3"
        c = api_client(srv.write_kubeconfig(tmp_path / "kc"))
        try:
            stream = watch.Watch().stream(
                _custom(c).list_namespaced_custom_object,
                G,
                V,
                NS,
                "imagepolicies",
                resource_version=str(old_rv - 3),
                timeout_seconds=5,
            )
            with pytest.raises(ApiException) as expired:
                next(iter(stream))
            assert expired.value.status == 410
        finally:
            c.close()
        srv.put(manifest(IMAGE_REPOSITORY))
        assert srv.resource_version > old_rv


def test_corrupt_state_file_is_set_aside(tmp_path: Path) -> None:
    state = tmp_path / "kubeapi.json"
    state.write_text("{not json")
    with KubeAPIServer(state) as srv:
        assert srv.get("ImagePolicy", "nginx") is None
        assert srv.get("Namespace", "flux-system", "") is not None
    assert (tmp_path / "kubeapi.json.corrupt").read_text() == "{not json"
    assert json.loads(state.read_text())["format"] == 1


def test_typed_clients_read_builtin_objects(api: Any) -> None:
    deps = client.AppsV1Api(api).list_namespaced_deployment(
        NS, label_selector="app.kubernetes.io/part-of=flux"
    )
    names = {d.metadata.name: d for d in deps.items}
    irc = names["image-reflector-controller"]
    assert irc.status.ready_replicas == 1
    assert irc.spec.template.spec.containers[0].image.startswith(
        "ghcr.io/fluxcd/image-reflector-controller:v"
    )
    ns = client.CoreV1Api(api).read_namespace(NS)
    assert ns.status.phase == "Active" and ns.metadata.labels["app.kubernetes.io/part-of"] == "flux"
    assert client.VersionApi(api).get_code().git_version.startswith("v1.")


def test_only_the_kubeconfig_token_is_served(tmp_path: Path) -> None:
    """Issue 16: the API requires the bearer token of the sandbox kubeconfig, as a real API server does."""
    with KubeAPIServer(token="s3cret") as srv:
        assert srv.certificate is not None and srv.url.startswith("https://127.0.0.1:")
        ca = srv.certificate.cert_pem
        bad = api_client(write_kubeconfig(tmp_path / "bad", srv.url, token="wrong", ca_pem=ca))
        anonymous = api_client(write_kubeconfig(tmp_path / "anon", srv.url, ca_pem=ca))
        good = api_client(srv.write_kubeconfig(tmp_path / "good"))
        try:
            for refused in (bad, anonymous):
                with pytest.raises(ApiException) as err:
                    client.CoreV1Api(refused).list_namespace()
                assert err.value.status == 401
            assert len(client.CoreV1Api(good).list_namespace().items) >= 5
        finally:
            for c in (bad, anonymous, good):
                c.close()
    assert "s3cret" in (tmp_path / "good").read_text()
    assert oct((tmp_path / "good").stat().st_mode & 0o777) == "0o600"
    with KubeAPIServer() as generated:
        assert generated.token and generated.token != "s3cret"  # no server runs without one


def test_web_pages_cannot_reach_the_api(server: KubeAPIServer) -> None:
    """Issue 16: what a browser can send to 127.0.0.1 is refused and creates nothing."""
    import httpx

    port = server.url.rsplit(":", 1)[1]
    url = f"{server.url}/apis/{G}/{V}/namespaces/{NS}/imagerepositories"
    body = json.dumps(manifest(IMAGE_REPOSITORY))
    tls = server.client_tls()
    # A cross-site form POST: text/plain, a foreign Origin, no credentials (no CORS preflight needed).
    form = httpx.post(
        url,
        content=body,
        headers={"Content-Type": "text/plain", "Origin": "https://evil.example"},
        verify=tls,
    )
    assert form.status_code == 403
    no_token = httpx.post(url, content=body, headers={"Content-Type": "application/json"}, verify=tls)
    assert no_token.status_code == 401 and no_token.json()["reason"] == "Unauthorized"
    # Even with the token: a foreign Origin, a rebound Host name, a body kubectl never sends.
    for headers, code in (
        ({"Origin": "http://evil.example"}, 403),
        ({"Host": f"evil.example:{port}"}, 403),
        ({"Host": "127.0.0.1.nip.io"}, 403),
        ({"Content-Type": "text/plain"}, 415),
    ):
        r = httpx.post(
            url,
            content=body,
            headers={"Content-Type": "application/json", **auth(server), **headers},
            verify=tls,
        )
        assert r.status_code == code, (headers, r.text)
    assert server.get("ImageRepository", "nginx") is None
    same_origin = {"Origin": f"https://127.0.0.1:{port}", "Host": f"localhost:{port}"}
    ok = httpx.post(
        url,
        content=body,
        headers={"Content-Type": "application/json", **auth(server), **same_origin},
        verify=tls,
    )
    assert ok.status_code == 201
    assert httpx.get(f"{server.url}/healthz", verify=tls).text == "ok"  # health stays open, as on a cluster


def test_table_output_uses_flux_printer_columns(server: KubeAPIServer) -> None:
    import httpx

    server.put(manifest(IMAGE_POLICY))
    server.update_status("ImagePolicy", "nginx", NS, POLICY_READY_STATUS)
    r = httpx.get(
        f"{server.url}/apis/{G}/{V}/namespaces/{NS}/imagepolicies",
        headers={**auth(server), "Accept": "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"},
        verify=server.client_tls(),
    )
    table = r.json()
    assert table["kind"] == "Table"
    assert [c["name"] for c in table["columnDefinitions"]] == [
        "Name",
        "Image",
        "Tag",
        "Ready",
        "Status",
        "Age",
    ]
    cells = table["rows"][0]["cells"]
    assert cells[:5] == [
        "nginx",
        "library/nginx",
        "1.25.3",
        "True",
        "Latest image tag for library/nginx resolved to 1.25.3",
    ]
    assert cells[5].endswith("s")


def test_stop_releases_port_and_threads_even_with_open_connections(tmp_path: Path) -> None:
    before = threading.active_count()
    srv = KubeAPIServer()
    url = srv.start()
    port = int(url.rsplit(":", 1)[1])
    c = api_client(srv.write_kubeconfig(tmp_path / "kc"))
    client.CoreV1Api(c).list_namespace()  # leaves a keep-alive connection open
    w = watch.Watch()
    stream = w.stream(_custom(c).list_namespaced_custom_object, G, V, NS, "imagepolicies", timeout_seconds=60)
    reader = threading.Thread(target=lambda: list(stream))
    reader.start()
    time.sleep(0.2)
    started = time.monotonic()
    srv.stop()
    assert time.monotonic() - started < 3
    reader.join(timeout=5)
    assert not reader.is_alive()
    c.close()
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass
    deadline = time.monotonic() + 2
    while threading.active_count() > before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert threading.active_count() <= before


def test_validation_mirrors_flux_crds(api: Any, server: KubeAPIServer) -> None:
    custom = _custom(api)
    repo = manifest(IMAGE_REPOSITORY)
    repo["spec"] = {"image": "library/nginx", "interval": "5m", "provider": "docker", "timeout": "1h"}
    with pytest.raises(ApiException) as bad:
        custom.create_namespaced_custom_object(G, V, NS, "imagerepositories", repo)
    message = _status(bad)["message"]
    assert bad.value.status == 422
    assert (
        'spec.provider: Unsupported value: "docker": supported values: "generic", "aws", "azure", "gcp"'
        in message
    )
    assert 'spec.timeout: Invalid value: "1h"' in message

    policy = manifest(IMAGE_POLICY)
    policy["spec"]["interval"] = "5m"
    with pytest.raises(ApiException) as cel:
        custom.create_namespaced_custom_object(G, V, NS, "imagepolicies", policy)
    assert (
        "spec.interval is only accepted when spec.digestReflectionPolicy is set to 'Always'"
        in _status(cel)["message"]
    )

    git = {
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "GitRepository",
        "metadata": {"name": "flux-system", "namespace": NS},
        "spec": {"url": "git@github.com:org/repo.git", "interval": "1m"},
    }
    with pytest.raises(ApiException) as scp:
        custom.create_namespaced_custom_object("source.toolkit.fluxcd.io", "v1", NS, "gitrepositories", git)
    assert "spec.url in body should match '^(http|https|ssh)://.*$'" in _status(scp)["message"]

    # Without fieldValidation the server warns about unknown fields and keeps going, like the real one.
    import httpx

    extra = manifest(IMAGE_POLICY)
    extra["spec"]["semver"] = {"range": "1.x"}
    r = httpx.post(
        f"{server.url}/apis/{G}/{V}/namespaces/{NS}/imagepolicies",
        json=extra,
        headers=auth(server),
        verify=server.client_tls(),
    )
    assert r.status_code == 201
    assert r.headers["Warning"] == '299 - "unknown field \\"spec.semver\\""'


def test_in_process_helpers_for_simulated_controllers(tmp_path: Path) -> None:
    from lab.sandbox.kubeapi import ApiError

    with KubeAPIServer() as srv:
        old = manifest(IMAGE_REPOSITORY)
        old["apiVersion"] = "image.toolkit.fluxcd.io/v1beta2"
        with pytest.raises(ApiError) as f2:
            srv.put(old)
        assert (
            f2.value.message
            == 'no matches for kind "ImageRepository" in version "image.toolkit.fluxcd.io/v1beta2"'
        )
        created = srv.put(manifest(IMAGE_REPOSITORY))
        same = srv.put(manifest(IMAGE_REPOSITORY))
        assert same["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]  # no-op write
        since = srv.resource_version
        srv.update_status(
            "ImageRepository", "nginx", NS, {"canonicalImageName": "index.docker.io/library/nginx"}
        )
        assert srv.wait_for_change(since, 1) > since
        assert (
            srv.list("ImageRepository", NS)[0]["status"]["canonicalImageName"]
            == "index.docker.io/library/nginx"
        )
        event = srv.record_event(created, "Normal", "Succeeded", "successful scan: found 3 tags")
        assert event["involvedObject"]["uid"] == created["metadata"]["uid"]
        srv.set_image_controllers(False)
        assert srv.get("Deployment", "image-reflector-controller") is None
        with pytest.raises(ApiError):
            srv.get("ImageRepository", "nginx")
        srv.set_image_controllers(True, ("v1", "v1beta2"))
        assert srv.list("ImageRepository") == []  # removing the CRDs removed their objects, as on a cluster
        assert srv.put(old)["apiVersion"] == "image.toolkit.fluxcd.io/v1beta2"


def test_apply_patch_yaml_creates_and_refuses_alias_bombs(server: KubeAPIServer) -> None:
    import httpx

    url = f"{server.url}/apis/{G}/{V}/namespaces/{NS}/imagerepositories/nginx?fieldManager=lab"
    yaml_body = (
        "apiVersion: image.toolkit.fluxcd.io/v1\nkind: ImageRepository\n"
        "metadata: {name: nginx, namespace: flux-system}\nspec: {image: library/nginx, interval: 5m}\n"
    )
    headers = {**auth(server), "Content-Type": "application/apply-patch+yaml"}
    created = httpx.patch(url, content=yaml_body, headers=headers, verify=server.client_tls())
    assert created.status_code == 201 and created.json()["spec"]["interval"] == "5m"
    # The lab's bounded YAML loader reads the body: an alias bomb is refused, not expanded.
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    levels += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    bomb = "\n".join(levels) + "\nspec: {image: *a8}\n"
    refused = httpx.patch(url, content=bomb, headers=headers, verify=server.client_tls())
    assert refused.status_code == 400 and "alias bomb" in refused.json()["message"]
    huge = httpx.post(
        f"{server.url}/api/v1/namespaces/{NS}/configmaps",
        content=b"{" + b" " * (3 * 1024 * 1024 + 1) + b"}",
        headers={**auth(server), "Content-Type": "application/json"},
        verify=server.client_tls(),
    )
    assert huge.status_code == 413


def test_services_get_defaults_that_survive_reapply(api: Any, server: KubeAPIServer) -> None:
    svc = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]},
    }
    created = client.CoreV1Api(api).create_namespaced_service("default", svc)
    assert created.spec.type == "ClusterIP" and created.spec.cluster_ip.startswith("10.96.")
    assert created.spec.ports[0].protocol == "TCP"
    again = server.put(svc)  # the manifest has no clusterIP: the same one is defaulted, nothing changes
    assert again["metadata"]["resourceVersion"] == created.metadata.resource_version
