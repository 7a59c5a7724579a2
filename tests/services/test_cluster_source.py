"""Cluster checks grade only the cluster that syncs this workspace: the flux-system GitRepository (URL and
branch) is compared with the workspace's origin; another repository's cluster gives `skipped` rows that
name both and count nothing. Against the loopback Kubernetes API with real git repositories."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lab.core.checks.model import Status
from lab.core.fluxsource import repo_key
from lab.services.check import run_checks
from lab.services.solve import solve
from tests.support.gitutil import git, practice

CLUSTER = ("cluster.controllers", "cluster.image-repository", "cluster.image-policy", "cluster.image-update")


@pytest.fixture
def kube(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    from lab.sandbox.kubeapi.server import KubeAPIServer

    # A fetch from a forge URL must fail at once, not reach the network.
    monkeypatch.setenv("GIT_SSH_COMMAND", "false")
    with KubeAPIServer() as server:
        monkeypatch.setenv("KUBECONFIG", str(server.write_kubeconfig(tmp_path / "kubeconfig")))
        yield server


def _git_repository(server: Any, url: str, branch: str = "main", revision: str | None = None) -> None:
    rt = server.store.by_kind("GitRepository", "source.toolkit.fluxcd.io/v1")
    body: dict[str, Any] = {
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "GitRepository",
        "metadata": {"name": "flux-system", "namespace": "flux-system"},
        "spec": {"interval": "1m", "url": url, "ref": {"branch": branch}},
    }
    if revision:
        body["status"] = {"artifact": {"revision": revision}}
    server.store.create(rt, "flux-system", body, keep_status=True)


def _cluster_rows(repo: Path) -> dict[str, Any]:
    report = run_checks(repo, only=list(CLUSTER), tags_file=None)
    return {c.id: c for c in report.checks if c.id in CLUSTER} | {"_report": report}


def test_forge_url_forms_are_one_repository() -> None:
    same = {
        repo_key("ssh://git@github.com/Learner/gitops-lab"),
        repo_key("git@github.com:learner/gitops-lab.git"),
        repo_key("https://github.com/learner/gitops-lab.git/"),
        repo_key("https://token@github.com/learner/gitops-lab"),
    }
    assert same == {"github.com/learner/gitops-lab"}
    assert repo_key("https://github.com/alice/gitops-lab") != repo_key("https://github.com/bob/gitops-lab")
    assert repo_key("/srv/git/gitops-lab-origin.git") is None
    assert repo_key("file:///srv/git/x.git") is None


@pytest.mark.slow
def test_another_repositorys_cluster_is_skipped_naming_both(tmp_path: Path, kube: Any) -> None:
    repo = practice(tmp_path, "bob")
    solve(repo)  # nothing blocks the cluster checks: they run, and are left out
    git(repo, "remote", "set-url", "origin", "git@github.com:bob/gitops-lab.git")
    _git_repository(kube, "ssh://git@github.com/alice/gitops-lab")
    rows = _cluster_rows(repo)
    for check_id in CLUSTER:
        row = rows[check_id]
        assert row.status is Status.SKIPPED and row.excluded, (check_id, row.message)
        assert row.points == 0
    head = rows["cluster.controllers"].message
    assert "ssh://git@github.com/alice/gitops-lab (branch main)" in head
    assert "git@github.com:bob/gitops-lab.git (branch main)" in head
    report = rows["_report"]
    assert all(c.id not in CLUSTER for c in report.checks if not c.excluded)  # count nothing


@pytest.mark.slow
def test_same_repository_other_branch_is_skipped(tmp_path: Path, kube: Any) -> None:
    repo = practice(tmp_path, "bob")
    git(repo, "remote", "set-url", "origin", "https://github.com/bob/gitops-lab.git")
    _git_repository(kube, "ssh://git@github.com/bob/gitops-lab", branch="staging")
    row = _cluster_rows(repo)["cluster.controllers"]
    assert row.status is Status.SKIPPED and "(branch staging)" in row.message


@pytest.mark.slow
def test_the_cluster_syncing_this_origin_is_checked(tmp_path: Path, kube: Any) -> None:
    repo = practice(tmp_path, "bob")
    git(repo, "remote", "set-url", "origin", "git@github.com:bob/gitops-lab.git")
    _git_repository(kube, "ssh://git@github.com/bob/gitops-lab")
    row = _cluster_rows(repo)["cluster.controllers"]
    assert row.status is Status.PASS, row.message


@pytest.mark.slow
def test_local_origin_is_matched_by_the_fetched_revision(tmp_path: Path, kube: Any) -> None:
    # The sandbox serves a local bare origin in place of gotk-sync.yaml's URL: the revision decides.
    repo = practice(tmp_path, "bob")
    sha = git(repo, "rev-parse", "HEAD")
    _git_repository(kube, "ssh://git@github.com/learner/gitops-lab", revision=f"main@sha1:{sha}")
    assert _cluster_rows(repo)["cluster.controllers"].status is Status.PASS


@pytest.mark.slow
def test_local_origin_without_the_clusters_revision_is_skipped(tmp_path: Path, kube: Any) -> None:
    repo = practice(tmp_path, "bob")
    other = practice(tmp_path, "alice")
    git(other, "commit", "-q", "--allow-empty", "-m", "alice's own history")
    sha = git(other, "rev-parse", "HEAD")
    _git_repository(kube, "ssh://git@github.com/learner/gitops-lab", revision=f"main@sha1:{sha}")
    row = _cluster_rows(repo)["cluster.controllers"]
    assert row.status is Status.SKIPPED, row.message
    assert f"at main@{sha[:7]}, which is not on your origin {tmp_path / 'bob-origin.git'}" in row.message


@pytest.mark.slow
def test_a_commit_flux_pushed_after_the_run_fetched_is_this_origins(tmp_path: Path, kube: Any) -> None:
    # The run fetches origin once, first; the sandbox's automation pushes seconds after a new tag and
    # source-controller fetches it at once: the cluster then runs a commit the run has not seen yet,
    # and it is this origin's, not "another repository's cluster".
    from lab.checks.cluster import source_mismatch
    from lab.checks.context import CheckContext
    from lab.checks.gitrepo import fetched_origin

    repo = practice(tmp_path, "bob")
    ctx = CheckContext(workspace=repo, task="09b")
    assert fetched_origin(ctx).fetched
    flux = tmp_path / "flux-clone"
    git(tmp_path, "clone", "-q", str(tmp_path / "bob-origin.git"), str(flux))
    git(flux, "commit", "-q", "--allow-empty", "-m", "Flux's commit after the run fetched")
    git(flux, "push", "-q", "origin", "HEAD:main")
    sha = git(flux, "rev-parse", "HEAD")
    _git_repository(kube, "ssh://git@github.com/learner/gitops-lab", revision=f"main@sha1:{sha}")
    assert source_mismatch(ctx) is None


# The branch Flux deploys was read from the working tree's gotk-sync.yaml only: a cluster whose
# GitRepository was patched (or runs what an older sync file said) deploys another one.


@pytest.mark.slow
def test_the_branch_flux_deploys_is_the_clusters_and_a_difference_is_said(tmp_path: Path, kube: Any) -> None:
    import json

    from lab.services.sync import flux_branch, origin_status, workspace_cluster
    from tests.support.labrun import run_lab

    repo = practice(tmp_path, "bob")
    sha = git(repo, "rev-parse", "HEAD")
    _git_repository(kube, "ssh://git@github.com/learner/gitops-lab", "feature", f"main@sha1:{sha}")
    cluster = workspace_cluster(repo)
    assert cluster is not None and cluster.where == "the cluster of $KUBECONFIG"
    found = flux_branch(repo, cluster=cluster)
    assert (found.branch, found.source, found.file_branch) == ("feature", "cluster", "main")
    said = (
        "the cluster (the cluster of $KUBECONFIG) deploys feature now (GitRepository flux-system/flux-system); "
        "your clusters/dev/flux-system/gotk-sync.yaml says main, which Flux applies when it next reconciles "
        "that file from feature"
    )
    status = origin_status(repo, fetch=False, cluster=cluster)
    assert status.watched == "feature"
    assert status.summary() == f"main is in sync with origin/main; Flux deploys feature, not main; {said}"
    from lab.tui.screens.base import git_parts

    assert "Flux deploys feature (cluster; gotk-sync.yaml: main)" in git_parts(status)  # the app's state line

    proc = run_lab("sync", "--status", "--json", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["flux_branch"] == {
        "branch": "feature",
        "from": "cluster",
        "file": "clusters/dev/flux-system/gotk-sync.yaml",
        "file_branch": "main",
        "cluster": "the cluster of $KUBECONFIG",
        "cluster_branch": "feature",
    }
    git(repo, "commit", "-q", "--allow-empty", "-m", "mine")
    proc = run_lab("sync", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    assert "Flux deploys feature, not main: what is on origin/main is not deployed" in proc.stdout
    assert proc.stdout.rstrip().endswith(said), proc.stdout


@pytest.mark.slow
def test_the_sync_file_decides_without_a_cluster_of_this_repository(tmp_path: Path, kube: Any) -> None:
    from lab.adapters.git import open_workspace
    from lab.sandbox.kubeapi.server import KubeAPIServer
    from lab.services.sync import ClusterSource, flux_branch, workspace_cluster

    repo = practice(tmp_path, "bob")
    other = practice(tmp_path, "alice")
    git(other, "commit", "-q", "--allow-empty", "-m", "alice's own history")
    revision = f"main@sha1:{git(other, 'rev-parse', 'HEAD')}"
    _git_repository(kube, "ssh://git@github.com/learner/gitops-lab", "feature", revision)
    # Another repository's cluster says nothing of this one.
    found = flux_branch(repo, cluster=workspace_cluster(repo))
    assert (found.branch, found.source, found.mismatch()) == ("main", "file", "")
    # A cluster that does not answer: the file, at once.
    with KubeAPIServer() as gone:
        kubeconfig = gone.write_kubeconfig(tmp_path / "gone")
    found = flux_branch(open_workspace(repo), cluster=ClusterSource(str(kubeconfig), "the sandbox"))
    assert (found.branch, found.source) == ("main", "file")


def test_one_cluster_source_asks_the_cluster_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The app's state read runs its git reads again until the tree settles (up to four rounds), each
    asking which branch Flux deploys: a cluster that does not answer cost its timeout every round. One
    ClusterSource (one command, one state read) asks once; its answer, or its error, stands."""
    from lab.adapters.cluster import ClusterClient
    from lab.errors import LabError
    from lab.sandbox.kubeapi.server import KubeAPIServer
    from lab.services.sync import ClusterSource

    with KubeAPIServer() as gone:
        kubeconfig = gone.write_kubeconfig(tmp_path / "gone")
    opened: list[str] = []
    real = ClusterClient.from_kubeconfig

    def counting(*args: Any, **kwargs: Any) -> Any:
        opened.append(str(args[0]))
        return real(*args, **kwargs)

    monkeypatch.setattr(ClusterClient, "from_kubeconfig", staticmethod(counting))
    source = ClusterSource(str(kubeconfig), "the sandbox")
    for _ in range(3):
        with pytest.raises(LabError):
            source.git_repository("flux-system", "flux-system")
    assert opened == [str(kubeconfig)]
    # Another source (the next command or state read) asks again, once a retry is due.
    from lab.adapters import cluster_silence

    monkeypatch.setattr(cluster_silence, "RETRY_AFTER_S", 0.0)
    with pytest.raises(LabError):
        ClusterSource(str(kubeconfig), "the sandbox").git_repository("flux-system", "flux-system")
    assert len(opened) == 2


def test_the_sandboxs_own_kubeconfig_given_by_name_is_called_the_sandbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The app passes the sandbox's kubeconfig by name; `lab why` then headed its walk "live: the cluster
    of /home/.../sandbox/kubeconfig" where, run in the sandbox's repository without it, it says "the
    sandbox". Another kubeconfig keeps its name."""
    from types import SimpleNamespace

    from lab.services import sandbox
    from lab.services.sync import SANDBOX_WHERE, workspace_cluster

    own, other = tmp_path / "sandbox-kubeconfig", tmp_path / "kind-kubeconfig"
    own.write_text("apiVersion: v1\nkind: Config\n")
    other.write_text("apiVersion: v1\nkind: Config\n")
    monkeypatch.setattr(sandbox, "running_info", lambda directory=None: SimpleNamespace(kubeconfig=own))
    named = workspace_cluster(tmp_path, str(own))
    assert named is not None and (named.kubeconfig, named.where) == (str(own), SANDBOX_WHERE)
    elsewhere = workspace_cluster(tmp_path, str(other))
    assert elsewhere is not None and elsewhere.where == f"the cluster of {other}"


@pytest.mark.slow
def test_the_cluster_checks_judge_the_tasks_repository_not_another_apps_before_it(
    tmp_path: Path, kube: Any
) -> None:
    from tests.support.taskfiles import PODINFO_REPOSITORY, REPO

    repo = practice(tmp_path, "bob")
    solve(repo, push=False)
    (repo / REPO).write_text(PODINFO_REPOSITORY + (repo / REPO).read_text())
    git(repo, "commit", "-qam", "Scan podinfo too")
    git(repo, "push", "-q")
    sha = git(repo, "rev-parse", "HEAD")
    _git_repository(kube, "ssh://git@github.com/learner/gitops-lab", revision=f"main@sha1:{sha}")
    rt = kube.store.by_kind("ImageRepository", "image.toolkit.fluxcd.io/v1")
    for name, image, ready in (
        (
            "podinfo",
            "ghcr.io/stefanprodan/podinfo",
            ("False", "ReadOperationFailed", "scan failed: not found"),
        ),
        ("nginx", "library/nginx", ("True", "Succeeded", "successful scan: found 3 tags with checksum 1")),
    ):
        status, reason, message = ready
        cond = {
            "type": "Ready",
            "status": status,
            "reason": reason,
            "message": message,
            "observedGeneration": 1,
        }
        body = {
            "apiVersion": "image.toolkit.fluxcd.io/v1",
            "kind": "ImageRepository",
            "metadata": {"name": name, "namespace": "flux-system"},
            "spec": {"image": image, "interval": "5m"},
            "status": {"conditions": [cond], "observedGeneration": 1, "lastScanResult": {"tagCount": 3}},
        }
        kube.store.create(rt, "flux-system", body, keep_status=True)
    row = _cluster_rows(repo)["cluster.image-repository"]
    assert row.status is Status.PASS, row.message
    assert "podinfo" not in row.message, row.message


def test_a_cluster_that_stopped_answering_fails_fast_until_a_retry_is_due(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cluster whose connection dropped (it takes the request and never answers) cost its timeout,
    twice with the client's retry, on every state read: the app's header and Flux tab read it every
    few seconds. After one failure the next reads say so at once, until a retry is due."""
    import re
    import socket
    import time

    from lab.adapters import cluster_silence
    from lab.errors import LabError
    from lab.sandbox.kubeapi.kubeconfig import write_kubeconfig
    from lab.sandbox.kubeapi.server import KubeAPIServer
    from lab.services import sync
    from lab.services.sync import ClusterSource

    silent = socket.create_server(("127.0.0.1", 0))  # accepts connections, never answers
    kubeconfig = write_kubeconfig(tmp_path / "dropped", f"https://127.0.0.1:{silent.getsockname()[1]}")

    def read() -> tuple[float, str]:
        start = time.monotonic()
        with pytest.raises(LabError) as caught:
            ClusterSource(str(kubeconfig), "the sandbox").git_repository("flux-system", "flux-system")
        return time.monotonic() - start, str(caught.value)

    first, said = read()
    assert first >= sync.CLUSTER_TIMEOUT_S, (first, said)
    assert "timed out" in said
    again, said = read()
    assert again < 0.5, (again, said)
    assert re.search(r"^cluster not answering since \d\d:\d\d:\d\d \(the sandbox: cannot reach", said), said
    assert " - hint: " in said
    # A retry due: the cluster is asked again, and once it answers its answer stands.
    silent.close()
    monkeypatch.setattr(cluster_silence, "RETRY_AFTER_S", 0.0)
    assert "not answering since" not in read()[1]
    with KubeAPIServer() as back:
        back.write_kubeconfig(kubeconfig)
        assert (
            ClusterSource(str(kubeconfig), "the sandbox").git_repository("flux-system", "flux-system") is None
        )
        monkeypatch.setattr(cluster_silence, "RETRY_AFTER_S", 60.0)
        assert (
            ClusterSource(str(kubeconfig), "the sandbox").git_repository("flux-system", "flux-system") is None
        )


def test_a_refused_connection_is_no_silence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing listening refuses at once, so asking again costs nothing: a sandbox started on that port
    right after (`lab sandbox up` reuses its port) was refused for 20 s as 'not answering since'."""
    import socket

    from lab.errors import LabError
    from lab.sandbox.kubeapi.server import KubeAPIServer
    from lab.services.sync import ClusterSource

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
    with KubeAPIServer() as back:
        kubeconfig = back.write_kubeconfig(tmp_path / "kubeconfig")
    text = kubeconfig.read_text()
    kubeconfig.write_text(text.replace(back.url, f"https://127.0.0.1:{port}"))
    with pytest.raises(LabError, match="connection refused"):
        ClusterSource(str(kubeconfig), "the sandbox").git_repository("flux-system", "flux-system")
    with KubeAPIServer(token=back.token, certificate=back.certificate, port=port):
        assert (
            ClusterSource(str(kubeconfig), "the sandbox").git_repository("flux-system", "flux-system") is None
        )


@pytest.mark.slow
def test_a_restarted_sandbox_ends_the_silence_of_its_address(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sandbox listens where it did before it stopped: what timed out there (a paused sandbox) is
    asked at once once `lab sandbox up` (or the app's S) has started it again."""
    import socket

    from lab.errors import LabError
    from lab.sandbox.runtime import SandboxPaths
    from lab.services.sync import ClusterSource
    from tests.support.sandbox_helpers import running_sandbox

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    with running_sandbox(tmp_path, image_controllers=False) as sup:
        url = sup.api.url
    kubeconfig = str(SandboxPaths.at(tmp_path).kubeconfig)
    # Paused where it listened: it takes the connection and never answers.
    with (
        socket.create_server(("127.0.0.1", int(url.rsplit(":", 1)[1]))),
        pytest.raises(LabError, match="timed out"),
    ):
        ClusterSource(kubeconfig, "the sandbox").git_repository("flux-system", "flux-system")
    with pytest.raises(LabError, match="not answering since"):
        ClusterSource(kubeconfig, "the sandbox").git_repository("flux-system", "flux-system")
    with running_sandbox(tmp_path, image_controllers=False) as sup:
        assert sup.api.url == url
        assert ClusterSource(kubeconfig, "the sandbox").git_repository("flux-system", "flux-system")


def test_the_sandbox_cluster_is_its_own_kubeconfig_never_one_its_state_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sandbox's workspace is a repository (a learner pulls into it): a kubeconfig there with an exec
    plugin, named by the sandbox's state file, is never the one the lab's cluster clients load."""
    import json

    from lab.sandbox.runtime import SandboxPaths
    from lab.services import sandbox

    p = SandboxPaths.at(tmp_path)
    p.workspace.mkdir(parents=True)
    planted = p.workspace / "kubeconfig"
    planted.write_text("users: [{name: u, user: {exec: {command: /bin/touch}}}]\n", encoding="utf-8")
    p.runtime.write_text(json.dumps({"pid": 1, "kubeconfig": str(planted)}), encoding="utf-8")
    monkeypatch.setattr(sandbox, "lock_holder_alive", lambda _p: True)
    monkeypatch.setattr(sandbox, "pid_alive", lambda _pid: True)
    info = sandbox.running_info(tmp_path)
    assert info is not None and info.kubeconfig == p.kubeconfig
    assert info.env()["KUBECONFIG"] == str(p.kubeconfig)
