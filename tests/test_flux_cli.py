"""`lab flux ...` through the real executable against the sandbox's API server (a cluster to the client)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from sandbox_helpers import client_for, flux_commits, ready, running_sandbox, wait_for

from lab.services.solve import solve


def _flux(lab_cmd: list[str], env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*lab_cmd, "flux", *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_get_reconcile_and_check(tmp_path: Path, lab_cmd: list[str], lab_env: dict[str, str]) -> None:
    with running_sandbox(tmp_path) as sup:
        solve(sup.paths.workspace)
        client = client_for(tmp_path)
        wait_for(lambda: flux_commits(sup.paths.origin), "Flux's commit")
        wait_for(
            lambda: (r := ready(client, "ImageUpdateAutomation", "flux-system")) and r[0] == "True",
            "the automation",
        )
        env = {**lab_env, "KUBECONFIG": str(sup.paths.kubeconfig)}

        policy = _flux(lab_cmd, env, "get", "image", "policy", "nginx")
        assert policy.returncode == 0, policy.stderr
        assert policy.stdout.splitlines() == [
            "NAME \tIMAGE        \tTAG   \tREADY\tMESSAGE                                               ",
            "nginx\tlibrary/nginx\t1.25.3\tTrue \tLatest image tag for library/nginx resolved to 1.25.3\t",
        ]

        every = _flux(lab_cmd, env, "get", "images", "all")
        lines = every.stdout.splitlines()
        assert lines[0].split() == ["NAME", "LAST", "SCAN", "SUSPENDED", "READY", "MESSAGE"]
        assert lines[1].startswith("imagerepository/nginx\t")
        assert lines[1].split("\t")[2:5] == [
            "False    ",
            "True ",
            "successful scan: found 560 tags with checksum 3760061965",
        ]
        assert lines[2] == "" and lines[4].startswith("imagepolicy/nginx\t") and lines[5] == ""
        assert (
            lines[7].startswith("imageupdateautomation/flux-system\t") and "repository up-to-date" in lines[7]
        )

        wide = _flux(lab_cmd, env, "get", "image", "update", "-A")
        assert wide.stdout.splitlines()[0].split()[:2] == ["NAMESPACE", "NAME"]

        missing = _flux(lab_cmd, env, "get", "image", "repository", "nope")
        assert missing.returncode == 1 and missing.stdout == ""
        assert missing.stderr == "✗ ImageRepository object 'nope' not found in \"flux-system\" namespace\n"

        rec = _flux(lab_cmd, env, "reconcile", "image", "policy", "nginx", "--timeout", "20")
        assert rec.returncode == 0, rec.stderr
        assert rec.stderr.splitlines() == [
            "► annotating ImagePolicy nginx in flux-system namespace",
            "✔ ImagePolicy annotated",
            "◎ waiting for ImagePolicy reconciliation",
            "✔ selected ref library/nginx:1.25.3",
        ]
        rec = _flux(lab_cmd, env, "reconcile", "image", "repository", "nginx", "--timeout", "20")
        assert rec.stderr.splitlines()[-1] == "✔ scan fetched 560 tags", rec.stderr

        check = _flux(lab_cmd, env, "check")
        assert check.returncode == 0, check.stdout
        out = check.stdout.splitlines()
        assert out[:2] == ["► checking prerequisites", "✔ Kubernetes 1.33.1 >=1.33.0-0"]
        assert "✔ image-reflector-controller: deployment ready" in out
        assert "✔ imagepolicies.image.toolkit.fluxcd.io/v1" in out
        assert out[-1] == "✔ all checks passed"


def test_without_image_crds_and_without_cluster(
    tmp_path: Path, lab_cmd: list[str], lab_env: dict[str, str]
) -> None:
    with running_sandbox(tmp_path, image_controllers=False) as sup:
        env = {**lab_env, "KUBECONFIG": str(sup.paths.kubeconfig)}
        every = _flux(lab_cmd, env, "get", "images", "all")
        assert (every.returncode, every.stdout, every.stderr) == (0, "", "")
        one = _flux(lab_cmd, env, "get", "image", "policy")
        assert one.returncode == 1 and "image controllers are not installed" in one.stderr
        assert "lab sandbox install-image-controllers" in one.stderr
    gone = _flux(lab_cmd, lab_env, "check")
    assert gone.returncode == 1 and gone.stderr.startswith("lab: no kubeconfig")
