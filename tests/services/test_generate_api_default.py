"""`lab generate` follows what the cluster serves (v1 vs v1beta2), and v1 without a cluster."""

from __future__ import annotations

from pathlib import Path

import pytest

from lab.sandbox.kubeapi import KubeAPIServer, write_kubeconfig
from lab.services.generate import default_api_version


def test_no_cluster_means_v1() -> None:
    assert default_api_version() == "image.toolkit.fluxcd.io/v1"


def test_unreachable_cluster_means_v1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    kubeconfig = tmp_path / "config"
    write_kubeconfig(kubeconfig, "http://127.0.0.1:9")
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    assert default_api_version() == "image.toolkit.fluxcd.io/v1"


@pytest.mark.parametrize(
    ("served", "expected"),
    [(("v1",), "image.toolkit.fluxcd.io/v1"), (("v1beta2",), "image.toolkit.fluxcd.io/v1beta2")],
)
def test_served_version_is_preferred(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, served: tuple[str, ...], expected: str
) -> None:
    with KubeAPIServer(image_api_versions=served) as server:
        server.start()
        kubeconfig = tmp_path / "config"
        server.write_kubeconfig(kubeconfig)
        monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
        assert default_api_version() == expected
