"""lab.adapters.cluster against the loopback API server: real kubernetes client, real HTTP."""

from __future__ import annotations

import os
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import lab.adapters.cluster as cluster_module
from lab.adapters.cluster import ClusterClient
from lab.adapters.kubeconfig import kubeconfig_source
from lab.errors import ClusterError
from lab.sandbox.kubeapi import KubeAPIServer, write_kubeconfig
from tests.support.kubeapi_helpers import IMAGE_POLICY, POLICY_READY_STATUS, manifest


@pytest.fixture
def server() -> Iterator[KubeAPIServer]:
    with KubeAPIServer() as srv:
        yield srv


@pytest.fixture
def cluster(server: KubeAPIServer, tmp_path: Path) -> Iterator[ClusterClient]:
    kc = server.write_kubeconfig(tmp_path / "kubeconfig")
    with ClusterClient.from_kubeconfig(str(kc)) as c:
        yield c


@pytest.mark.parametrize(
    ("versions", "controllers", "served", "preferred"),
    [
        (("v1",), True, ["v1"], "v1"),  # Flux 2.9
        (("v1", "v1beta2"), True, ["v1", "v1beta2"], "v1"),  # Flux 2.7/2.8
        (("v1beta2",), True, ["v1beta2"], "v1beta2"),  # Flux 2.3-2.6
        (("v1",), False, [], None),  # image controllers not installed (F1)
    ],
)
def test_served_image_api(
    tmp_path: Path, versions: tuple[str, ...], controllers: bool, served: list[str], preferred: str | None
) -> None:
    with KubeAPIServer(image_api_versions=versions, image_controllers=controllers) as srv:
        kc = srv.write_kubeconfig(tmp_path / "kc")
        with ClusterClient.from_kubeconfig(str(kc)) as c:
            assert c.served_image_api_versions() == served
            assert c.served_image_api() == preferred


def test_get_and_list_flux_objects(server: KubeAPIServer, cluster: ClusterClient) -> None:
    assert cluster.get("ImagePolicy", "nginx") is None
    assert cluster.list("ImagePolicy") == []
    server.put(manifest(IMAGE_POLICY))
    server.update_status("ImagePolicy", "nginx", "flux-system", POLICY_READY_STATUS)
    obj = cluster.get("ImagePolicy", "nginx")
    assert obj is not None and obj["status"]["latestRef"]["tag"] == "1.25.3"
    ready = cluster.ready_condition(obj)
    assert ready is not None and ready.is_true and ready.reason == "Succeeded"
    assert [o["metadata"]["name"] for o in cluster.list("ImagePolicy", None, label_selector="app=web")] == [
        "nginx"
    ]
    assert cluster.list("ImagePolicy", label_selector="app=db") == []
    assert cluster.get("GitRepository", "flux-system") is None
    deps = cluster.list("Deployment")
    assert all(d["kind"] == "Deployment" and d["apiVersion"] == "apps/v1" for d in deps)


def test_controllers_and_crds_like_flux_check(server: KubeAPIServer, cluster: ClusterClient) -> None:
    controllers = {c.name: c for c in cluster.controllers()}
    assert {"image-reflector-controller", "image-automation-controller", "source-controller"} <= set(
        controllers
    )
    irc = controllers["image-reflector-controller"]
    assert irc.ready and irc.message == "deployment ready"
    assert irc.images[0].startswith("ghcr.io/fluxcd/image-reflector-controller:v1.2")
    assert "imagepolicies.image.toolkit.fluxcd.io/v1" in cluster.flux_crds()
    install = cluster.flux_install()
    assert install is not None and install.distribution == "flux-v2.9.4" and install.bootstrapped
    assert cluster.server_version() == "v1.33.1"

    server.update_status(
        "Deployment", "image-reflector-controller", "flux-system", {"replicas": 1, "readyReplicas": 0}
    )
    irc = {c.name: c for c in cluster.controllers()}["image-reflector-controller"]
    assert not irc.ready and "not ready" in irc.message


def test_controllers_without_image_components(tmp_path: Path) -> None:
    with KubeAPIServer(image_controllers=False) as srv:
        with ClusterClient.from_kubeconfig(str(srv.write_kubeconfig(tmp_path / "kc"))) as c:
            names = {ctl.name for ctl in c.controllers()}
            assert "source-controller" in names and "image-reflector-controller" not in names
            with pytest.raises(ClusterError) as err:
                c.list("ImagePolicy")
            assert "not installed" in str(err.value) and "--components-extra" in str(err.value)
        srv.set_image_controllers(True)
        with ClusterClient.from_kubeconfig(str(srv.write_kubeconfig(tmp_path / "kc"))) as c:
            assert c.served_image_api() == "v1"
            assert c.list("ImagePolicy") == []


def test_request_reconcile_annotates_like_flux(server: KubeAPIServer, cluster: ClusterClient) -> None:
    server.put(manifest(IMAGE_POLICY))
    stamp = cluster.request_reconcile("ImagePolicy", "nginx")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z", stamp)
    obj = server.get("ImagePolicy", "nginx")
    assert obj is not None
    assert obj["metadata"]["annotations"]["reconcile.fluxcd.io/requestedAt"] == stamp
    assert obj["metadata"]["generation"] == 1
    assert any(
        "PATCH" in line and "fieldManager=flux-client-side-apply" in line for line in server.request_log
    )
    with pytest.raises(ClusterError) as missing:
        cluster.request_reconcile("ImagePolicy", "nope")
    assert "ImagePolicy flux-system/nope not found" in str(missing.value)


def test_rbac_denial_names_verb_and_resource(server: KubeAPIServer, cluster: ClusterClient) -> None:
    server.deny("list imagepolicies")
    with pytest.raises(ClusterError) as err:
        cluster.list("ImagePolicy")
    text = str(err.value)
    assert text.startswith(
        "forbidden: cannot list imagepolicies.image.toolkit.fluxcd.io in namespace flux-system"
    )
    assert 'User "fluxlab" cannot list resource "imagepolicies"' in text
    assert "\n" not in text
    server.deny("patch imagerepositories")
    server.put(
        manifest({**IMAGE_POLICY, "kind": "ImageRepository", "spec": {"image": "nginx", "interval": "5m"}})
    )
    with pytest.raises(ClusterError) as patch_err:
        cluster.request_reconcile("ImageRepository", "nginx")
    assert "cannot patch imagerepositories.image.toolkit.fluxcd.io 'nginx'" in str(patch_err.value)


def test_wrong_token_is_a_401_error_without_the_token(tmp_path: Path) -> None:
    with KubeAPIServer(token="s3cret-token") as srv:
        assert srv.certificate is not None
        kc = write_kubeconfig(tmp_path / "kc", srv.url, token="wr0ng-token", ca_pem=srv.certificate.cert_pem)
        with ClusterClient.from_kubeconfig(str(kc)) as c, pytest.raises(ClusterError) as err:
            c.list("Deployment")
    assert "401 Unauthorized" in str(err.value) and "list deployments.apps" in str(err.value)
    assert "wr0ng-token" not in str(err.value) and "s3cret" not in str(err.value)


def test_a_password_in_the_server_url_is_never_shown(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    kc = write_kubeconfig(tmp_path / "kc", f"http://u:KCURLPW@127.0.0.1:{port}")
    with ClusterClient.from_kubeconfig(str(kc), timeout=2) as c, pytest.raises(ClusterError) as err:
        c.served_image_api()
    assert f"cannot reach the Kubernetes API at http://***@127.0.0.1:{port}" in str(err.value)
    assert "KCURLPW" not in str(err.value)


def test_server_down_is_a_quick_cluster_error(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    kc = write_kubeconfig(tmp_path / "kc", f"http://127.0.0.1:{port}")
    started = time.monotonic()
    with ClusterClient.from_kubeconfig(str(kc), timeout=2) as c, pytest.raises(ClusterError) as err:
        c.served_image_api()
    assert time.monotonic() - started < 5
    assert f"cannot reach the Kubernetes API at http://127.0.0.1:{port}: connection refused" in str(err.value)
    assert "lab sandbox up" in str(err.value)


def test_missing_kubeconfig_and_unknown_context(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    with pytest.raises(ClusterError) as none:
        ClusterClient.from_kubeconfig()
    assert "no kubeconfig" in str(none.value)
    with pytest.raises(ClusterError) as absent:
        ClusterClient.from_kubeconfig(str(tmp_path / "nope"))
    assert f"kubeconfig {tmp_path / 'nope'} does not exist" in str(absent.value)
    kc = write_kubeconfig(tmp_path / "kc", "http://127.0.0.1:1")
    with pytest.raises(ClusterError) as ctx:
        ClusterClient.from_kubeconfig(str(kc), context="prod")
    assert "context 'prod'" in str(ctx.value) and "--context" in str(ctx.value)
    monkeypatch.setenv("KUBECONFIG", str(kc))
    with ClusterClient.from_kubeconfig() as c:
        assert c.server == "http://127.0.0.1:1"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("root:x:0:0:root:/root:/bin/bash\n", " is not a kubeconfig"),
        ("- a\n- b\n", " is not a kubeconfig"),
        # The parser's problem and position: its context alone ('while parsing a flow node') said neither.
        ("a: [\n", " line 1: invalid YAML: the [ opened on line 1 is never closed"),
        # The lab's bounded loader: the client's own recursed until RecursionError (an internal error).
        ("a: " + "[" * 50000 + "]" * 50000 + "\n", " line 1: YAML nested deeper than 100 levels"),
    ],
    ids=["passwd", "list", "broken", "deep"],
)
def test_a_file_that_is_not_a_kubeconfig_is_named(tmp_path: Path, text: str, says: str) -> None:
    """The client failed deep inside with TypeError or a multi-line ParserError: an internal error."""
    kc = tmp_path / "kc"
    kc.write_text(text)
    with pytest.raises(ClusterError) as err:
        ClusterClient.from_kubeconfig(str(kc))
    assert str(err.value).startswith(f"kubeconfig {kc}{says}") and "\n" not in str(err.value)


def test_a_kubeconfig_that_is_a_fifo_or_names_a_device_is_a_quick_error(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(ClusterError) as err:
        ClusterClient.from_kubeconfig(str(fifo))
    assert str(err.value).startswith(f"cannot read kubeconfig {fifo}: a FIFO")
    kc = write_kubeconfig(tmp_path / "kc", "https://127.0.0.1:1")
    kc.write_text(kc.read_text().replace("server:", "certificate-authority: /dev/zero\n    server:"))
    with pytest.raises(ClusterError) as dev:
        ClusterClient.from_kubeconfig(str(kc))
    assert "/dev/zero is a character device, not a regular file" in str(dev.value)


def test_one_kubeconfig_choice_named_then_env_then_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("KUBECONFIG", raising=False)
    assert kubeconfig_source() is None
    home = tmp_path / ".kube" / "config"
    home.parent.mkdir()
    home.write_text("apiVersion: v1\n")
    assert kubeconfig_source() == (str(home), "~/.kube/config")
    monkeypatch.setenv("KUBECONFIG", "/k/env")
    assert kubeconfig_source() == ("/k/env", "$KUBECONFIG")
    assert kubeconfig_source("/k/named") == ("/k/named", "/k/named")


def test_core_kinds_secrets_configmaps_namespaces(server: KubeAPIServer, cluster: ClusterClient) -> None:
    server.put(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "regcred", "namespace": "flux-system"},
            "type": "kubernetes.io/dockerconfigjson",
            "data": {".dockerconfigjson": "e30="},
        }
    )
    secret = cluster.get("Secret", "regcred")
    assert secret is not None and secret["type"] == "kubernetes.io/dockerconfigjson"
    assert cluster.get("Secret", "missing") is None
    assert cluster.get("Namespace", "flux-system", "") is not None
    assert "flux-system" in [n["metadata"]["name"] for n in cluster.list("Namespace", None)]
    assert [s["metadata"]["name"] for s in cluster.list("Secret", None)] == ["regcred"]
    assert cluster.list("ConfigMap") == []


def test_wait_reconciled_sees_the_controller_answer(server: KubeAPIServer, cluster: ClusterClient) -> None:
    import threading

    server.put(manifest(IMAGE_POLICY))
    stamp = cluster.request_reconcile("ImagePolicy", "nginx")

    def controller() -> None:
        time.sleep(0.2)
        server.update_status(
            "ImagePolicy", "nginx", "flux-system", {**POLICY_READY_STATUS, "lastHandledReconcileAt": stamp}
        )

    t = threading.Thread(target=controller)
    t.start()
    obj = cluster.wait_reconciled("ImagePolicy", "nginx", "flux-system", stamp, timeout=5, poll=0.05)
    t.join()
    assert obj["status"]["latestRef"]["tag"] == "1.25.3"
    with pytest.raises(ClusterError) as late:
        cluster.wait_reconciled("ImagePolicy", "nginx", "flux-system", "never", timeout=0.2, poll=0.05)
    assert "was not reconciled within 0.2s" in str(late.value)


def test_in_cluster_config_without_service_account(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "1")
    if Path("/var/run/secrets/kubernetes.io/serviceaccount/token").exists():
        pytest.skip("running inside a pod with a service account")
    with pytest.raises(ClusterError) as err:
        ClusterClient.from_kubeconfig()
    assert "in-cluster service account config" in str(err.value) and "KUBECONFIG" in str(err.value)


def _credential_kubeconfig(tmp_path: Path, server: str, user: str, ca: str = "") -> Path:
    """A kubeconfig whose user `u` runs a credential program (`user` is its YAML)."""
    cluster = f"server: {server}" + (f"\n    certificate-authority: {ca}" if ca else "")
    kc = tmp_path / "kc.yaml"
    kc.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
        f"clusters:\n- name: c\n  cluster:\n    {cluster}\n"
        "contexts:\n- name: c\n  context: {cluster: c, user: u}\n"
        f"users:\n- name: u\n  user:\n{user}",
        encoding="utf-8",
    )
    return kc


def _program(tmp_path: Path, output: str, rc: int = 0) -> tuple[Path, Path]:
    """A credential program that notes each run in `runs` and prints `output`."""
    runs = tmp_path / "runs"
    prog = tmp_path / "cred.sh"
    prog.write_text(
        f"#!/bin/sh\necho run >> {runs}\ncat <<'OUT'\n{output}\nOUT\nexit {rc}\n", encoding="utf-8"
    )
    prog.chmod(0o755)
    return prog, runs


@pytest.mark.slow
def test_an_expired_gcp_credential_program_runs_once_per_client(tmp_path: Path) -> None:
    with KubeAPIServer() as srv:
        assert srv.certificate is not None
        ca = tmp_path / "ca.pem"
        ca.write_bytes(srv.certificate.cert_pem)
        out = f'{{"credential": {{"access_token": "{srv.token}", "token_expiry": "2000-01-01T00:00:00Z"}}}}'
        prog, runs = _program(tmp_path, out)
        user = f"    auth-provider:\n      name: gcp\n      config:\n        cmd-path: {prog}\n        cmd-args: x\n"
        kc = _credential_kubeconfig(tmp_path, srv.url, user, str(ca))
        with ClusterClient.from_kubeconfig(str(kc)) as c:
            c.list("Deployment")
            c.list("Deployment")
            assert runs.read_text().count("run") == 1
            # A watch that outlives the token (EKS: 15 minutes) gets a fresh one: once a minute at most.
            later = time.monotonic() + cluster_module.REFRESH_EVERY_S + 1
            with pytest.MonkeyPatch.context() as mp:
                mp.setattr(cluster_module, "_clock", lambda: later)
                c.list("Deployment")
                c.list("Deployment")
    assert runs.read_text().count("run") == 2


@pytest.mark.slow
@pytest.mark.parametrize(
    ("kind", "output", "rc", "says"),
    [
        ("exec", "not json", 0, "its output is not JSON"),
        ("exec", "", 3, "exited with 3"),
        ("gcp", "not json", 0, "its output is not JSON"),
        ("gcp", "{}", 0, "its output has no credential"),
        ("gcp", "", 3, "exited with 3"),
    ],
)
def test_a_failing_credential_program_names_the_kubeconfig_and_user(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], kind: str, output: str, rc: int, says: str
) -> None:
    prog, runs = _program(tmp_path, output, rc)
    if kind == "exec":
        user = f"    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: {prog}\n"
    else:
        user = f"    auth-provider:\n      name: gcp\n      config:\n        cmd-path: {prog}\n        cmd-args: x\n"
    kc = _credential_kubeconfig(tmp_path, "https://127.0.0.1:1", user)
    with pytest.raises(ClusterError) as err:
        ClusterClient.from_kubeconfig(str(kc)).close()
    text = str(err.value)
    assert text.startswith(f"the kubeconfig's user 'u' ({kc}): ")
    named = "exec credential plugin" if kind == "exec" else "gcp auth-provider cmd-path"
    assert f"its {named} {prog} failed: {says}" in text, text
    assert "\n" not in err.value.message
    assert "ERROR:root" not in capfd.readouterr().err
    assert runs.read_text().count("run") == 1


@pytest.mark.slow
def test_a_check_run_asks_a_failing_credential_program_once(tmp_path: Path) -> None:
    from lab.checks.cluster import client_for
    from lab.checks.context import CheckContext

    prog, runs = _program(tmp_path, "", 1)
    user = f"    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: {prog}\n"
    kc = _credential_kubeconfig(tmp_path, "https://127.0.0.1:1", user)
    ctx = CheckContext(workspace=tmp_path, settings={"kubeconfig": str(kc)})
    for _ in range(4):  # the cluster checks of one `lab check`
        with pytest.raises(ClusterError, match="exec credential plugin"):
            client_for(ctx)
    assert runs.read_text().count("run") == 1
