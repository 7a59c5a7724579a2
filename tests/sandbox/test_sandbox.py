"""The sandbox world in-process: Flux's statuses for the broken variants, missing controllers, restarts.

Everything is observed the way checks observe a real cluster: through the kubernetes client against
the loopback API server, and through git against origin.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from lab.errors import LabError
from lab.sandbox.controllers.source import BuildError, build
from lab.sandbox.runtime import SandboxPaths, Supervisor, ensure_practice, lock_holder_alive
from lab.services import sandbox as svc
from lab.services.solve import solve
from tests.support.sandbox_helpers import (
    client_for,
    edit_and_push,
    flux_commits,
    git,
    push,
    ready,
    running_sandbox,
    wait_for,
)

DEPLOY = "apps/base/nginx/deployment.yaml"
POLICY = "clusters/dev/image-automation/image-policy.yaml"
REPO = "clusters/dev/image-automation/image-repository.yaml"
UPDATE = "clusters/dev/image-automation/image-update.yaml"


@pytest.mark.slow
def test_broken_variants_show_flux_conditions(tmp_path: Path) -> None:
    with running_sandbox(tmp_path) as sup:
        ws = sup.paths.workspace
        solve(ws)
        client = client_for(tmp_path)
        wait_for(lambda: flux_commits(sup.paths.origin), "the first Flux commit")

        # an invalid object fails the Kustomization and keeps the whole stage out of the cluster
        git(ws, "pull", "-q", "--rebase")
        for path, old, new in ((REPO, "interval: 5m0s", "interval: 1d"), (POLICY, "1.25.x", "1.24.x")):
            (ws / path).write_text((ws / path).read_text().replace(old, new))
        git(ws, "commit", "-qam", "bad interval")
        push(ws)  # the controllers may push in between: pull --rebase, push again
        state = wait_for(
            lambda: (r := ready(client, "Kustomization", "flux-system")) and r[0] == "False" and r,
            "the Kustomization to refuse the revision",
        )
        assert state[2].startswith(
            'ImageRepository/flux-system/nginx dry-run failed (Invalid): ImageRepository.image.toolkit.fluxcd.io "nginx" '
            'is invalid: spec.interval: Invalid value: "1d"'
        ), state
        assert client.get("ImagePolicy", "nginx")["spec"]["policy"]["semver"]["range"] == "1.25.x"
        git(ws, "revert", "--no-edit", "HEAD")
        push(ws)  # the controllers may have pushed meanwhile, as on a cluster

        edit_and_push(ws, POLICY, "range: 1.25.x", "range: 2.x")
        assert wait_for(
            lambda: (
                ready(client, "ImagePolicy", "nginx")
                == (
                    "False",
                    "Failure",
                    "unable to determine latest version from provided list",
                )
            ),
            "the policy to fail",
        )
        # latestRef is kept on failure (v1), as Flux does
        assert client.get("ImagePolicy", "nginx")["status"]["latestRef"]["tag"] == "1.25.3"

        edit_and_push(ws, POLICY, "range: 2.x", "range: 1.25.x")
        # origin refuses Flux's push (as a protected branch would)
        git(sup.paths.origin, "config", "receive.maxInputSize", "10")
        sup.push_tag("1.25.4")
        assert wait_for(
            lambda: (
                ready(client, "ImageUpdateAutomation", "flux-system")
                == (
                    "False",
                    "GitOperationFailed",
                    "failed to update source: failed to push to remote: "
                    "command error on refs/heads/main: unpacker error",
                )
            ),
            "the push to be refused",
        )
        git(sup.paths.origin, "config", "--unset", "receive.maxInputSize")
        wait_for(lambda: len(flux_commits(sup.paths.origin)) == 2, "the retried push")
        edit_and_push(ws, REPO, "image: library/nginx", "image: library/ngnix")
        state = wait_for(
            lambda: (r := ready(client, "ImageRepository", "nginx")) and r[1] == "ReadOperationFailed" and r,
            "the scan to fail",
        )
        assert state[2].startswith(
            "scan failed: GET https://index.docker.io/v2/library/ngnix/tags/list?n=1000: "
        ), state
        # A failed scan keeps the tags of the last good one and sets no observations (IRC v1.2.0
        # imagerepository_controller.go :312-316, :336-338, :443): the policy still resolves from them.
        repo_status = client.get("ImageRepository", "nginx")["status"]
        assert "ngnix" not in repo_status["canonicalImageName"], repo_status
        assert ready(client, "ImagePolicy", "nginx")[0] == "True"
        assert client.get("ImagePolicy", "nginx")["status"]["latestRef"]["tag"] == "1.25.4"
        # Docker Hub's answer to a repository that does not exist, as the Pitfalls tab says Flux shows it.
        assert "UNAUTHORIZED: authentication required" in state[2], state
        # The automation writes the policy's latestRef (the new name, the kept tag) as IAC does.
        wait_for(
            lambda: "image: library/ngnix:1.25.4 #" in git(sup.paths.origin, "show", f"main:{DEPLOY}"),
            "Flux to commit library/ngnix:1.25.4",
        )

        edit_and_push(ws, REPO, "image: library/ngnix", "image: library/nginx:1.25")
        obj = wait_for(
            lambda: (
                (o := client.get("ImageRepository", "nginx"))
                and (o["status"]["conditions"][0]["reason"] == "ImageURLInvalid")
                and o
            ),
            "the image to be refused",
        )
        conds = {c["type"]: c for c in obj["status"]["conditions"]}
        assert (
            conds["Ready"]["message"] == "image 'library/nginx:1.25' should not include a tag; remove ':1.25'"
        )
        assert conds["Stalled"]["status"] == "True"

        edit_and_push(ws, REPO, "image: library/nginx:1.25", "image: library/nginx")
        edit_and_push(ws, POLICY, "    name: nginx\n", "    name: ngnix\n")
        assert wait_for(
            lambda: (
                ready(client, "ImagePolicy", "nginx")
                == (
                    "False",
                    "DependencyNotReady",
                    "failed to get the referred ImageRepository: referenced ImageRepository does not "
                    'exist: ImageRepository.image.toolkit.fluxcd.io "ngnix" not found',
                )
            ),
            "the missing repository",
        )

        edit_and_push(ws, UPDATE, "    name: flux-system\n  update:", "    name: flux\n  update:")
        assert wait_for(
            lambda: (
                ready(client, "ImageUpdateAutomation", "flux-system")
                == (
                    "False",
                    "SourceManagerFailed",
                    "failed configuring source manager: referenced git repository does not exist: "
                    'GitRepository.source.toolkit.fluxcd.io "flux" not found',
                )
            ),
            "the missing GitRepository",
        )
        edit_and_push(ws, UPDATE, "    name: flux\n  update:", "    name: flux-system\n  update:")
        edit_and_push(ws, UPDATE, "        branch: main\n    commit:", "        branch: nope\n    commit:")
        assert wait_for(
            lambda: (
                ready(client, "ImageUpdateAutomation", "flux-system")
                == (
                    "False",
                    "GitOperationFailed",
                    "failed to checkout source: unable to clone 'ssh://git@github.com/learner/gitops-lab': "
                    'couldn\'t find remote ref "refs/heads/nope"',
                )
            ),
            "the missing checkout branch",
        )
        # removing a manifest from Git prunes it from the cluster
        git(ws, "pull", "-q", "--rebase")
        git(ws, "rm", "-q", POLICY)
        git(ws, "commit", "-qm", "drop the policy")
        push(ws)  # the controllers may push in between: pull --rebase, push again
        wait_for(lambda: client.get("ImagePolicy", "nginx") is None, "the policy to be pruned")
        assert sup.status()["errors"] == []


@pytest.mark.slow
def test_without_image_controllers_then_install(tmp_path: Path) -> None:
    with running_sandbox(tmp_path, image_controllers=False) as sup:
        solve(sup.paths.workspace)
        client = client_for(tmp_path)
        assert client.served_image_api() is None
        state = wait_for(
            lambda: (r := ready(client, "Kustomization", "flux-system")) and r[0] == "False" and r,
            "the Kustomization to fail",
        )
        assert state[1] == "ReconciliationFailed"
        assert re.fullmatch(
            r'Image\w+/flux-system/\S+ dry-run failed: no matches for kind "Image\w+" '
            r'in version "image.toolkit.fluxcd.io/v1"',
            state[2],
        ), state
        assert [c.name for c in client.controllers() if c.name.startswith("image")] == []
        assert flux_commits(sup.paths.origin) == []

        sup.install_image_controllers()
        client = client_for(tmp_path)
        wait_for(lambda: flux_commits(sup.paths.origin), "the Flux commit after installing")
        assert ready(client, "Kustomization", "flux-system")[0] == "True"
        assert wait_for(
            lambda: (
                ready(client, "ImageUpdateAutomation", "flux-system")
                == ("True", "Succeeded", "repository up-to-date")
            ),
            "the automation to report",
        )


@pytest.mark.slow
def test_restart_resumes_and_keeps_pushed_tags(tmp_path: Path) -> None:
    paths = SandboxPaths.at(tmp_path)
    with running_sandbox(tmp_path) as sup:
        solve(paths.workspace)
        wait_for(lambda: flux_commits(paths.origin), "the first Flux commit")
        api_port = sup.api.port or int(sup.api.url.rsplit(":", 1)[1])
        result = sup.push_tag("9.9.9")
        assert result["added"] == ["9.9.9"]
        with pytest.raises(LabError, match="already running"):
            Supervisor(paths).start()
    assert not lock_holder_alive(paths)
    assert not paths.runtime.exists()
    assert json.loads(paths.registry_state.read_text())["pushed"] == {"library/nginx": ["9.9.9"]}

    with running_sandbox(tmp_path) as sup:
        assert int(sup.api.url.rsplit(":", 1)[1]) == api_port  # an exported KUBECONFIG stays valid
        client = client_for(tmp_path)
        # status survived; the rescan (the tag store is in memory, like Flux's) sees the pushed tag
        assert client.get("ImageUpdateAutomation", "flux-system")["status"]["lastPushCommit"]
        assert "9.9.9" in sup.registry.tags()
        assert len(flux_commits(paths.origin)) == 1
        # the next dated event and an already published tag
        nxt = sup.push_tag(None)
        assert "1.25.4" in nxt["added"] and nxt["event"] == "2024-02-14T19:12:29Z"
        assert sup.push_tag("1.25.4")["added"] == []


@pytest.mark.slow
def test_reset_refuses_unsaved_work(tmp_path: Path) -> None:
    paths = SandboxPaths.at(tmp_path)
    ensure_practice(paths)
    (paths.workspace / "notes.txt").write_text("mine\n")
    with pytest.raises(LabError, match="uncommitted"):
        svc.reset(tmp_path)
    assert (paths.workspace / "notes.txt").exists()
    kept = svc.reset(tmp_path, force=True).kept
    assert not (paths.workspace / "notes.txt").exists()
    assert (paths.workspace / ".git").is_dir() and (paths.origin / "HEAD").is_file()
    assert kept is not None and (kept / paths.workspace.name / "notes.txt").read_text() == "mine\n"
    again = svc.reset(tmp_path, force=True).kept  # within the same second: a place of its own
    assert again is not None and again != kept and (again / paths.workspace.name / ".git").is_dir()


@pytest.mark.slow
@pytest.mark.parametrize("where", ["stash", "branch", "detached"])
def test_reset_refuses_work_only_this_clone_has(tmp_path: Path, where: str) -> None:
    """A stash, a commit on another branch or on a detached HEAD: reset deleted them, exit 0."""
    paths = SandboxPaths.at(tmp_path)
    ensure_practice(paths)
    ws = paths.workspace
    (ws / "notes.txt").write_text("mine\n")
    if where == "stash":
        git(ws, "stash", "push", "-u", "-q")
    else:
        git(ws, "checkout", "-q", "-b", "feature") if where == "branch" else git(
            ws, "checkout", "-q", "--detach"
        )
        git(ws, "add", "notes.txt")
        git(ws, "commit", "-qm", "notes")
        if where == "branch":
            git(ws, "checkout", "-q", "main")
    with pytest.raises(LabError, match="stash entry" if where == "stash" else "no remote has"):
        svc.reset(tmp_path)
    kept = svc.reset(tmp_path, force=True).kept
    assert kept is not None and (kept / ws.name / ".git").is_dir()  # set aside with everything in it


@pytest.mark.slow
def test_the_repository_a_reset_keeps_points_at_the_origin_kept_beside_it(tmp_path: Path) -> None:
    """The kept copy's origin was still the live sandbox's: after `reset --task`, its `git fetch` saw the
    new task's history ("diverged"), `git.pushed` failed, and a push went into the new exercise's origin
    (twalk finding 2)."""
    paths = SandboxPaths.at(tmp_path)
    ensure_practice(paths)
    kept = svc.reset(tmp_path, force=True, task="09b-staging").kept
    assert kept is not None
    copy = kept / paths.workspace.name
    url = git(copy, "remote", "get-url", "origin").strip()
    assert Path(url).resolve() == (kept / paths.origin.name).resolve(), url
    git(copy, "fetch", "-q", "origin")
    assert git(copy, "rev-parse", "HEAD") == git(copy, "rev-parse", "origin/main")  # in sync, as it was
    live = git(paths.workspace, "remote", "get-url", "origin").strip()
    assert Path(live).resolve() == paths.origin.resolve(), live


def test_build_follows_kustomize_rules() -> None:
    tree = {
        "clusters/dev/apps.yaml": b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
        "clusters/dev/sub/kustomization.yaml": b"resources: [one.yaml]\n",
        "clusters/dev/sub/one.yaml": b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: one}\n",
        "clusters/dev/sub/ignored.yaml": b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: no}\n",
        # Flux's generator decodes .yaml and .yml files only.
        "clusters/dev/extra.json": b'{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "json"}}',
    }
    names = [o["metadata"]["name"] for o in build(tree, "./clusters/dev")]
    assert names == ["a", "one"]
    with pytest.raises(BuildError, match="kustomization path not found"):
        build(tree, "./clusters/prod")
    # A file the generator cannot decode fails the build in kustomize-controller's words.
    broken = {**tree, "clusters/dev/extra.yaml": b"apiVersion: v1\nkind: [\n"}
    with pytest.raises(
        BuildError, match=r"^failed to decode Kubernetes YAML from clusters/dev/extra\.yaml: the \["
    ):
        build(broken, "./clusters/dev")
