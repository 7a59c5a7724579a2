"""Real kubectl against the loopback API server: apply, get, describe, annotate, and Flux's F1/F2 errors."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from lab.sandbox.kubeapi import KubeAPIServer
from tests.support.kubeapi_helpers import POLICY_READY_STATUS

KUBECTL = shutil.which("kubectl")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        KUBECTL is None and not os.environ.get("CI"),
        reason="kubectl is not installed (required when CI is set)",
    ),
]

MANIFEST = """\
apiVersion: image.toolkit.fluxcd.io/{v}
kind: ImageRepository
metadata:
  name: nginx
  namespace: flux-system
spec:
  image: library/nginx
  interval: {interval}
---
apiVersion: image.toolkit.fluxcd.io/{v}
kind: ImagePolicy
metadata:
  name: nginx
  namespace: flux-system
spec:
  imageRepositoryRef:
    name: nginx
  policy:
    semver:
      range: '>=1.25.0'
"""


def kubectl(kc: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert KUBECTL is not None, "kubectl is required when CI is set"
    return subprocess.run(
        [KUBECTL, "--kubeconfig", str(kc), *args], capture_output=True, text=True, timeout=60, check=False
    )


def write_manifest(tmp_path: Path, version: str = "v1", interval: str = "5m0s") -> Path:
    path = tmp_path / "image-policy.yaml"
    path.write_text(MANIFEST.format(v=version, interval=interval))
    return path


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[KubeAPIServer, Path]]:
    with KubeAPIServer() as srv:
        yield srv, srv.write_kubeconfig(tmp_path / "kubeconfig")


def test_apply_get_describe_annotate(world: tuple[KubeAPIServer, Path], tmp_path: Path) -> None:
    srv, kc = world
    manifest = write_manifest(tmp_path)
    applied = kubectl(kc, "apply", "-f", str(manifest))
    assert applied.returncode == 0, applied.stderr
    assert "imagerepository.image.toolkit.fluxcd.io/nginx created" in applied.stdout
    assert "imagepolicy.image.toolkit.fluxcd.io/nginx created" in applied.stdout
    again = kubectl(kc, "apply", "-f", str(manifest))
    assert "imagepolicy.image.toolkit.fluxcd.io/nginx unchanged" in again.stdout

    pending = kubectl(kc, "get", "imagepolicies", "-n", "flux-system")
    assert pending.returncode == 0, pending.stderr
    assert pending.stdout.split("\n")[0].split() == ["NAME", "IMAGE", "TAG", "READY", "STATUS", "AGE"]

    srv.update_status("ImagePolicy", "nginx", "flux-system", POLICY_READY_STATUS)
    ready = kubectl(kc, "get", "imgpol", "-n", "flux-system")
    row = ready.stdout.splitlines()[1]
    assert row.split()[:4] == ["nginx", "library/nginx", "1.25.3", "True"]
    assert "Latest image tag for library/nginx resolved to 1.25.3" in row

    changed = kubectl(kc, "apply", "-f", str(write_manifest(tmp_path, interval="10m")))
    assert "imagerepository.image.toolkit.fluxcd.io/nginx configured" in changed.stdout
    repo = srv.get("ImageRepository", "nginx")
    assert repo is not None and repo["spec"]["interval"] == "10m" and repo["metadata"]["generation"] == 2

    srv.record_event(repo, "Normal", "Succeeded", "successful scan: found 57 tags with checksum 3340372741")
    described = kubectl(kc, "describe", "imagerepository", "nginx", "-n", "flux-system")
    assert described.returncode == 0, described.stderr
    assert "Image:     library/nginx" in described.stdout
    assert "successful scan: found 57 tags with checksum 3340372741" in described.stdout

    annotated = kubectl(
        kc,
        "annotate",
        "--field-manager=flux-client-side-apply",
        "--overwrite",
        "imagerepository/nginx",
        "-n",
        "flux-system",
        "reconcile.fluxcd.io/requestedAt=1795750000",
    )
    assert annotated.returncode == 0, annotated.stderr
    repo = srv.get("ImageRepository", "nginx")
    assert (
        repo is not None
        and repo["metadata"]["annotations"]["reconcile.fluxcd.io/requestedAt"] == "1795750000"
    )

    deployments = kubectl(kc, "get", "deployments", "-n", "flux-system")
    rows = {line.split()[0]: line.split()[1] for line in deployments.stdout.splitlines()[1:]}
    assert rows["image-reflector-controller"] == "1/1"


def test_v1beta2_manifests_on_flux_2_9_are_rejected(
    world: tuple[KubeAPIServer, Path], tmp_path: Path
) -> None:
    _, kc = world
    result = kubectl(kc, "apply", "-f", str(write_manifest(tmp_path, "v1beta2")))
    assert result.returncode != 0
    assert (
        'no matches for kind "ImageRepository" in version "image.toolkit.fluxcd.io/v1beta2"' in result.stderr
    )


def test_v1beta2_on_flux_2_8_is_served_with_deprecation_warning(tmp_path: Path) -> None:
    with KubeAPIServer(image_api_versions=("v1", "v1beta2")) as srv:
        kc = srv.write_kubeconfig(tmp_path / "kc")
        result = kubectl(kc, "apply", "-f", str(write_manifest(tmp_path, "v1beta2")))
        assert result.returncode == 0, result.stderr
        assert "Warning: v1beta2 ImageRepository is deprecated, upgrade to v1" in result.stderr
        assert srv.get("ImagePolicy", "nginx", api_version="image.toolkit.fluxcd.io/v1") is not None


def test_missing_image_controllers_reject_v1(tmp_path: Path) -> None:
    with KubeAPIServer(image_controllers=False) as srv:
        kc = srv.write_kubeconfig(tmp_path / "kc")
        result = kubectl(kc, "apply", "-f", str(write_manifest(tmp_path)))
        assert result.returncode != 0
        assert (
            'no matches for kind "ImageRepository" in version "image.toolkit.fluxcd.io/v1"' in result.stderr
        )


def test_schema_errors_and_unknown_fields_as_the_api_server_reports_them(
    world: tuple[KubeAPIServer, Path], tmp_path: Path
) -> None:
    _, kc = world
    bad_interval = kubectl(kc, "apply", "-f", str(write_manifest(tmp_path, interval="1d")))
    assert bad_interval.returncode != 0
    assert (
        'The ImageRepository "nginx" is invalid: spec.interval: Invalid value: "1d": '
        "spec.interval in body should match '^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$'"
    ) in bad_interval.stderr
    typo = tmp_path / "typo.yaml"
    typo.write_text(MANIFEST.format(v="v1", interval="5m").replace("imageRepositoryRef:", "imageRepository:"))
    strict = kubectl(kc, "apply", "-f", str(typo))
    assert strict.returncode != 0
    assert 'strict decoding error: unknown field "spec.imageRepository"' in strict.stderr
    meta = tmp_path / "meta.yaml"
    meta.write_text(
        MANIFEST.format(v="v1", interval="5m").replace("  name: nginx\n", "  name: nginx\n  lables: {a: b}\n")
    )
    assert "lables" in meta.read_text()
    strict = kubectl(kc, "apply", "-f", str(meta))
    assert strict.returncode != 0
    assert 'strict decoding error: unknown field "metadata.lables"' in strict.stderr


def test_kubectl_watch_shows_status_changes(world: tuple[KubeAPIServer, Path], tmp_path: Path) -> None:
    srv, kc = world
    assert kubectl(kc, "apply", "-f", str(write_manifest(tmp_path))).returncode == 0
    assert KUBECTL is not None
    proc = subprocess.Popen(
        [KUBECTL, "--kubeconfig", str(kc), "get", "imagepolicies", "-n", "flux-system", "-w"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    import threading

    watchdog = threading.Timer(20, proc.kill)  # a regression must fail the test, not hang it
    watchdog.start()
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().split()[:3] == ["NAME", "IMAGE", "TAG"]
        assert proc.stdout.readline().split()[0] == "nginx"  # first row: not reconciled yet
        srv.update_status("ImagePolicy", "nginx", "flux-system", POLICY_READY_STATUS)
        line = proc.stdout.readline()
        assert line.split()[:4] == ["nginx", "library/nginx", "1.25.3", "True"]
    finally:
        watchdog.cancel()
        proc.terminate()
        proc.wait(timeout=10)


AUTOMATION = """\
apiVersion: image.toolkit.fluxcd.io/{v}
kind: ImageUpdateAutomation
metadata:
  name: flux-system
  namespace: flux-system
spec:
  interval: 10m0s
  sourceRef:
    kind: GitRepository
    name: flux-system
  git:
    commit:
      author:
        email: flux@example.com
        name: Flux
"""

# The CRDs' additionalPrinterColumns (image-reflector-controller v1.1.x and v1.2.x, image-automation-
# controller v1.1.x and v1.2.x config/crd/bases: the same for v1 and v1beta2), as kubectl prints them;
# `-o wide` adds the priority-1 columns in their place.
PRINTER_COLUMNS = {
    "imagerepositories": (["NAME", "IMAGE", "TAGS", "READY", "STATUS", "AGE"], "LAST SCAN", 5),
    "imagepolicies": (["NAME", "IMAGE", "TAG", "READY", "STATUS", "AGE"], None, 0),
    "imageupdateautomations": (["NAME", "READY", "STATUS", "AGE"], "LAST RUN", 3),
}


def _headers(line: str) -> list[str]:
    # kubectl separates columns by at least three spaces; header names have single spaces (LAST RUN)
    return [h.strip() for h in line.split("   ") if h.strip()]


@pytest.mark.parametrize("versions", [("v1",), ("v1", "v1beta2")], ids=["flux-2.9", "flux-2.8"])
def test_kubectl_get_prints_each_image_crd_printer_columns(tmp_path: Path, versions: tuple[str, ...]) -> None:
    """`kubectl get` (and `-o wide`) prints the columns of Flux's CRDs in their order, for every served
    version: the sandbox listed ImageUpdateAutomation's LAST RUN before READY (the CRD has it after
    STATUS)."""
    with KubeAPIServer(image_api_versions=versions) as srv:
        kc = srv.write_kubeconfig(tmp_path / "kc")
        for version in versions:
            path = tmp_path / f"objects-{version}.yaml"
            path.write_text(
                MANIFEST.format(v=version, interval="5m0s") + "---\n" + AUTOMATION.format(v=version)
            )
            applied = kubectl(kc, "apply", "-f", str(path))
            assert applied.returncode == 0, applied.stderr
            for plural, (columns, wide, at) in PRINTER_COLUMNS.items():
                resource = f"{plural}.{version}.image.toolkit.fluxcd.io"
                got = kubectl(kc, "get", resource, "-n", "flux-system")
                assert got.returncode == 0, got.stderr
                assert _headers(got.stdout.splitlines()[0]) == columns, (version, plural)
                expected = [*columns[:at], wide, *columns[at:]] if wide else columns
                got = kubectl(kc, "get", resource, "-n", "flux-system", "-o", "wide")
                assert _headers(got.stdout.splitlines()[0]) == expected, (version, plural)


@pytest.mark.parametrize("versions", [("v1",), ("v1", "v1beta2")], ids=["flux-2.9", "flux-2.8"])
def test_image_crd_categories_as_the_flux_release_has_them(tmp_path: Path, versions: tuple[str, ...]) -> None:
    """The image CRDs joined the kubectl categories all, fluxcd and fluxcd-images in Flux 2.9
    (image-automation-controller v1.2.1, its CHANGELOG: 'Add categories to ImageUpdateAutomation CRD';
    image-reflector-controller the same week): on Flux 2.8 `kubectl get fluxcd-images` knows no such
    resource and `kubectl get all` lists no image objects."""
    with KubeAPIServer(image_api_versions=versions) as srv:
        kc = srv.write_kubeconfig(tmp_path / "kc")
        applied = kubectl(kc, "apply", "-f", str(write_manifest(tmp_path)))
        assert applied.returncode == 0, applied.stderr
        images = kubectl(kc, "get", "fluxcd-images", "-n", "flux-system", "-o", "name")
        everything = kubectl(kc, "get", "all", "-n", "flux-system", "-o", "name")
        if versions == ("v1",):
            assert images.returncode == 0, images.stderr
            assert "imagepolicy.image.toolkit.fluxcd.io/nginx" in images.stdout.splitlines()
            assert "imagepolicy.image.toolkit.fluxcd.io/nginx" in everything.stdout.splitlines()
        else:
            assert images.returncode != 0
            assert 'the server doesn\'t have a resource type "fluxcd-images"' in images.stderr
            assert not [n for n in everything.stdout.splitlines() if "image.toolkit.fluxcd.io" in n]
