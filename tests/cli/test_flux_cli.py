"""`lab flux ...` through the real executable against the sandbox's API server (a cluster to the client)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lab.cli import main
from lab.services.solve import solve
from tests.support.labrun import run_lab
from tests.support.sandbox_helpers import client_for, flux_commits, ready, running_sandbox, wait_for

pytestmark = pytest.mark.slow


def _flux_here(capsys: pytest.CaptureFixture[str], kubeconfig: Path, *args: str) -> tuple[int, str, str]:
    """`lab flux ...` through lab.cli.main in this process (the executable's startup costs ~0.5 s each)."""
    code = main(["flux", *args, "--kubeconfig", str(kubeconfig)])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_get_reconcile_and_check(
    tmp_path: Path, lab_env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    with running_sandbox(tmp_path) as sup:
        solve(sup.paths.workspace)
        client = client_for(tmp_path)
        wait_for(lambda: flux_commits(sup.paths.origin), "Flux's commit")
        wait_for(
            lambda: (r := ready(client, "ImageUpdateAutomation", "flux-system")) and r[0] == "True",
            "the automation",
        )
        env = {**lab_env, "KUBECONFIG": str(sup.paths.kubeconfig)}
        kc = sup.paths.kubeconfig

        policy = run_lab("flux", "get", "image", "policy", "nginx", env=env)
        assert policy.returncode == 0, policy.stderr
        assert policy.stdout.splitlines() == [
            "NAME \tIMAGE        \tTAG   \tREADY\tMESSAGE                                               ",
            "nginx\tlibrary/nginx\t1.25.3\tTrue \tLatest image tag for library/nginx resolved to 1.25.3\t",
        ]

        code, out, _ = _flux_here(capsys, kc, "get", "images", "all")
        lines = out.splitlines()
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

        code, out, _ = _flux_here(capsys, kc, "get", "image", "update", "-A")
        assert out.splitlines()[0].split()[:2] == ["NAMESPACE", "NAME"]

        code, out, err = _flux_here(capsys, kc, "get", "image", "repository", "nope")
        assert (code, out) == (0, ""), "flux logs the miss and returns nil"
        assert err == "✗ ImageRepository object 'nope' not found in \"flux-system\" namespace\n"

        # flux's command shape: `get image all` = `get images all`, `get images policy`, the get flags
        code, out_all, _ = _flux_here(capsys, kc, "get", "image", "all")
        # the controllers keep scanning meanwhile: LAST SCAN may have moved on by a second or so
        stamp = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
        assert code == 0 and stamp.sub("<t>", out_all) == stamp.sub("<t>", "\n".join(lines) + "\n")
        code, out, _ = _flux_here(capsys, kc, "get", "images", "policy", "--no-header")
        assert out.splitlines() == [
            "nginx\tlibrary/nginx\t1.25.3\tTrue\tLatest image tag for library/nginx resolved to 1.25.3\t"
        ]
        code, out, _ = _flux_here(capsys, kc, "get", "image", "policy", "--status-selector", "ready=false")
        assert [line.split() for line in out.splitlines()] == [["NAME", "IMAGE", "TAG", "READY", "MESSAGE"]]
        code, out, _ = _flux_here(capsys, kc, "get", "image", "policy", "--status-selector", "Ready=TRUE")
        assert len(out.splitlines()) == 2
        code, _, err = _flux_here(capsys, kc, "get", "image", "policy", "--status-selector", "ready")
        assert code == 2 and "expected status selector in type=status format, but found: ready" in err
        code, out, err = _flux_here(capsys, kc, "get", "image", "policy", "--watch", "--timeout", "2")
        assert out.splitlines()[0].split() == ["NAME", "IMAGE", "TAG", "READY", "MESSAGE"]
        assert out.splitlines()[1].startswith("nginx\tlibrary/nginx\t1.25.3\t")
        assert code == 1 and err.endswith("✗ timed out waiting for the condition\n")
        code, _, err = _flux_here(capsys, kc, "get", "images", "all", "--watch")
        assert code == 2 and "expected a single resource type, but found all" in err

        code, _, err = _flux_here(capsys, kc, "reconcile", "image", "policy", "nginx", "--timeout", "20")
        assert code == 0, err
        assert err.splitlines() == [
            "► annotating ImagePolicy nginx in flux-system namespace",
            "✔ ImagePolicy annotated",
            "◎ waiting for ImagePolicy reconciliation",
            "✔ selected ref library/nginx:1.25.3",
        ]
        code, _, err = _flux_here(capsys, kc, "reconcile", "image", "repository", "nginx", "--timeout", "20")
        assert err.splitlines()[-1] == "✔ scan fetched 560 tags", err
        # `lab reconcile` is the same request without the flux prefix
        code = main(["reconcile", "update", "flux-system", "--kubeconfig", str(kc), "--timeout", "20"])
        err = capsys.readouterr().err
        assert code == 0, err
        assert err.splitlines()[-1] == "✔ repository up-to-date", err

        code, text, _ = _flux_here(capsys, kc, "check")
        assert code == 0, text
        out = text.splitlines()
        assert out[:2] == ["► checking prerequisites", "✔ Kubernetes 1.33.1 >=1.33.0-0"]
        assert "✔ image-reflector-controller: deployment ready" in out
        assert "✔ imagepolicies.image.toolkit.fluxcd.io/v1" in out
        assert out[-1] == "✔ all checks passed"

        code, text, _ = _flux_here(capsys, kc, "check", "--pre")
        assert (code, text.splitlines()) == (
            0,
            ["► checking prerequisites", "✔ Kubernetes 1.33.1 >=1.33.0-0", "✔ prerequisites checks passed"],
        )


def test_without_a_cluster(lab_env: dict[str, str]) -> None:
    gone = run_lab("flux", "check", env=lab_env)
    assert gone.returncode == 1 and gone.stderr.startswith("lab: no kubeconfig")
    assert "lab sandbox up" in gone.stderr


def test_a_cluster_that_stopped_answering_fails_the_next_commands_at_once(
    tmp_path: Path, lab_env: dict[str, str]
) -> None:
    """A paused sandbox (kill -STOP) accepts connections and never answers: every `lab flux get` and
    `lab flux reconcile` waited the client's timeout, twice. After one such wait the next commands
    fail at once, as the app's reads do, saying since when and when the cluster is asked again."""
    import socket
    import time

    from lab.sandbox.kubeapi.kubeconfig import write_kubeconfig

    silent = socket.create_server(("127.0.0.1", 0))  # accepts connections, never answers
    server = f"https://127.0.0.1:{silent.getsockname()[1]}"
    kubeconfig = write_kubeconfig(tmp_path / "paused", server, token="t")
    env = {**lab_env, "KUBECONFIG": str(kubeconfig)}
    try:
        first = run_lab("flux", "get", "image", "policy", env=env)
        assert (
            first.returncode != 0
            and f"cannot reach the Kubernetes API at {server}: timed out" in first.stderr
        )
        for args in (("get", "images", "all"), ("reconcile", "image", "repository", "nginx")):
            start = time.monotonic()
            again = run_lab("flux", *args, env=env)
            spent = time.monotonic() - start
            assert again.returncode != 0
            assert re.search(
                rf"^lab: cluster not answering since \d\d:\d\d:\d\d \(cannot reach the Kubernetes API at "
                rf"{re.escape(server)}: timed out\); asked again from \d\d:\d\d:\d\d - hint: ",
                again.stderr,
            ), again.stderr
            assert spent < 5, spent  # the client's timeout is 5 s, taken twice
    finally:
        silent.close()
