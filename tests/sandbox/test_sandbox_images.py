"""Issue 12: the sandbox serves every image a task declares, on every registry host, and push-tag reaches each."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from lab.adapters.registry import RegistryClient
from lab.adapters.tagsfile import read_tags
from lab.adapters.tasks import load_task
from lab.sandbox.runtime import SandboxPaths, Supervisor, read_json
from lab.services import sandbox as svc
from tests.support.sandbox_helpers import SPEED, wait_for

pytestmark = pytest.mark.slow

TASK = "09b-multi"


@contextmanager
def task_sandbox(root: Path, task: str) -> Iterator[Supervisor]:
    sup = Supervisor(SandboxPaths.at(root), speed=SPEED, task=task)
    sup.start()
    try:
        yield sup
    finally:
        sup.stop()


def test_every_declared_image_is_served_on_its_own_host(tmp_path: Path) -> None:
    with task_sandbox(tmp_path, TASK) as sup:
        info = read_json(sup.paths.runtime)
        registry = info["registry"]
        assert info["task"] == TASK
        assert info["mirror"] == {"index.docker.io": registry, "ghcr.io": registry}
        env = svc.running_info(tmp_path)
        assert (
            env is not None and env.env()["LAB_REGISTRY_MIRROR"] == f"docker.io={registry},ghcr.io={registry}"
        )
        task = load_task(TASK)
        assert len(task.meta.images) >= 3
        with RegistryClient(registry_mirror=info["mirror"], retries=0, deadline=20) as client:
            for image in task.meta.images:
                bundled = read_tags(task.image_file(image.tags))
                assert bundled and sorted(client.list_tags(image.name).tags) == sorted(set(bundled)), (
                    image.name
                )
        # push-tag reaches any declared image; a bare tag goes to the task's first image
        assert sup.push_tag("9.9.9", "ghcr.io/acme/shop-worker")["added"] == ["9.9.9"]
        first = sup.push_tag("9.9.8")
        assert first["image"] == "acme/shop" and first["added"] == ["9.9.8"]
        sup.api.put(
            {
                "apiVersion": "image.toolkit.fluxcd.io/v1",
                "kind": "ImageRepository",
                "metadata": {"name": "worker", "namespace": "flux-system"},
                "spec": {"image": "ghcr.io/acme/shop-worker", "interval": "1m"},
            }
        )
        scanned = wait_for(
            lambda: (sup.api.get("ImageRepository", "worker") or {}).get("status", {}).get("lastScanResult"),
            "the worker image's scan",
            timeout=60,
        )
        assert "9.9.9" in scanned["latestTags"]
        status = (sup.api.get("ImageRepository", "worker") or {})["status"]
        assert status["canonicalImageName"] == "ghcr.io/acme/shop-worker"


def test_a_sandbox_keeps_its_task_until_reset(tmp_path: Path) -> None:
    from lab.errors import LabError

    with task_sandbox(tmp_path, TASK):
        pass
    try:
        with task_sandbox(tmp_path, "09b"):
            raise AssertionError("a sandbox practising 09b-multi started for 09b")
    except LabError as err:
        assert "practises task 09b-multi, not 09b" in err.message and "reset" in (err.hint or "")
    workspace = svc.reset(tmp_path, force=True, task="09b").workspace
    assert (workspace / "apps/base/nginx/deployment.yaml").is_file()
    with task_sandbox(tmp_path, "09b") as sup:
        assert sup.primary_image == "library/nginx"
        assert read_json(sup.paths.runtime)["mirror"] == {
            "index.docker.io": read_json(sup.paths.runtime)["registry"]
        }


def test_a_digest_reflecting_policy_records_the_registrys_digest(tmp_path: Path) -> None:
    """image-reflector-controller's updateImageRefs: IfNotPresent asks the registry (a manifest HEAD)
    for the chosen tag's digest, records it in latestRef, says it in the Ready message and asks again
    when the tag changes; a policy without reflection records none."""
    from lab.core.oci import lab_digest

    worker = "ghcr.io/acme/shop-worker"
    with task_sandbox(tmp_path, TASK) as sup:
        info = read_json(sup.paths.runtime)
        sup.api.put(
            {
                "apiVersion": "image.toolkit.fluxcd.io/v1",
                "kind": "ImageRepository",
                "metadata": {"name": "worker", "namespace": "flux-system"},
                "spec": {"image": worker, "interval": "1m"},
            }
        )
        for name, reflect in (("pinned", {"digestReflectionPolicy": "IfNotPresent"}), ("plain", {})):
            sup.api.put(
                {
                    "apiVersion": "image.toolkit.fluxcd.io/v1",
                    "kind": "ImagePolicy",
                    "metadata": {"name": name, "namespace": "flux-system"},
                    "spec": {
                        "imageRepositoryRef": {"name": "worker"},
                        "policy": {"semver": {"range": "1.4.x"}},
                    }
                    | reflect,
                }
            )

        def latest(name: str, tag: str) -> dict[str, str] | None:
            ref = ((sup.api.get("ImagePolicy", name) or {}).get("status") or {}).get("latestRef") or {}
            return ref if ref.get("tag") == tag else None

        with RegistryClient(registry_mirror=info["mirror"], retries=0, deadline=20) as client:
            served = client.digest(worker, "1.4.2")
        assert served == lab_digest(worker, "1.4.2")
        ref = wait_for(lambda: latest("pinned", "1.4.2"), "the pinned policy's digest", timeout=60)
        assert ref == {"name": worker, "tag": "1.4.2", "digest": served}
        assert wait_for(lambda: latest("plain", "1.4.2"), "the plain policy", timeout=60) == {
            "name": worker,
            "tag": "1.4.2",
        }
        ready = (sup.api.get("ImagePolicy", "pinned") or {})["status"]["conditions"][0]["message"]
        assert ready == f"Latest image tag for {worker} resolved to 1.4.2 with digest {served}"

        sup.push_tag("1.4.3", worker)
        moved = wait_for(lambda: latest("pinned", "1.4.3"), "the digest of the new tag", timeout=90)
        assert moved["digest"] == lab_digest(worker, "1.4.3") != served
        status = (sup.api.get("ImagePolicy", "pinned") or {})["status"]
        assert status["observedPreviousRef"] == {"name": worker, "tag": "1.4.2", "digest": served}
        assert status["conditions"][0]["message"].endswith(f"(previously {worker}:1.4.2@{served})")


def test_the_sandboxs_flux_moves_the_pinned_digest(tmp_path: Path) -> None:
    """09b-multi solved in the sandbox: Flux's commit moves the worker's pinned digest to the one its
    registry serves for the new tag, exactly as `lab simulate` does offline."""
    from lab.core.oci import lab_digest
    from lab.services.solve import solve
    from tests.support.sandbox_helpers import flux_commits, git

    with task_sandbox(tmp_path, TASK) as sup:
        solve(sup.paths.workspace)
        origin = sup.paths.origin
        first = wait_for(lambda: flux_commits(origin), "Flux's commit", timeout=90)[0]
        worker = git(origin, "show", f"{first}:apps/base/shop/worker.yaml")
        digest = lab_digest("ghcr.io/acme/shop-worker", "1.4.2")
        assert f'digest: {digest} # {{"$imagepolicy": "flux-system:shop-worker:digest"}}' in worker
        assert f"-> {digest}" in git(origin, "log", "-1", "--format=%B", first)


def test_the_sandbox_speaks_of_the_images_its_task_declares(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`lab sandbox env`, `up` and `push-tag` name what this sandbox serves, not the course task's nginx:
    push-tag names the ImageRepository that scans the image it pushed to, and an image the task does not
    declare (a typo) is refused with the ones it does, instead of being published where nothing looks."""
    from lab.cli import main

    with task_sandbox(tmp_path, TASK) as sup:
        sup.api.put(
            {
                "apiVersion": "image.toolkit.fluxcd.io/v1",
                "kind": "ImageRepository",
                "metadata": {"name": "worker", "namespace": "flux-system"},
                "spec": {"image": "ghcr.io/acme/shop-worker", "interval": "1m"},
            }
        )
        comment = svc.env_lines(tmp_path)[-1]
        assert "ghcr.io/acme/shop-worker" in comment and "Docker Hub's library/nginx" in comment, comment
        assert svc.served_images(TASK) in comment

        assert main(["sandbox", "push-tag", "--dir", str(tmp_path), "ghcr.io/acme/shop-worker:9.9.9"]) == 0
        out = capsys.readouterr().out
        assert "published ghcr.io/acme/shop-worker: 9.9.9" in out
        assert "`lab flux reconcile image repository worker` scans now" in out, out
        assert main(["sandbox", "push-tag", "--dir", str(tmp_path), "ghcr.io/acme/shop-migrate:9.9.9"]) == 0
        out = capsys.readouterr().out
        assert "no ImageRepository scans ghcr.io/acme/shop-migrate yet" in out and "nginx" not in out, out

        assert main(["sandbox", "push-tag", "--dir", str(tmp_path), "ghcr.io/acme/shpo-worker:9.9.9"]) == 1
        err = capsys.readouterr().err
        assert "ghcr.io/acme/shpo-worker is not an image of task 09b-multi" in err, err
        assert "ghcr.io/acme/shop-worker" in err
        assert sup.registry is not None and not sup.registry.tags("acme/shpo-worker")

    with task_sandbox(tmp_path / "course", "09b"):
        comment = svc.env_lines(tmp_path / "course")[-1]
        assert comment == (
            "# the registry serves a snapshot of Docker Hub's library/nginx tags as of 2024-01-15"
            " (lab sandbox status)"
        )


def test_env_of_a_sandbox_serving_a_task_this_shell_cannot_find_still_gives_the_exports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A course author's task from LAB_TASKS_PATH, and `lab sandbox env` in a shell without it: the
    comment naming what the registry serves failed the command, and `eval "$(lab sandbox env)"` got
    no exports at all."""
    from tests.support.taskfiles import copy_task

    copy_task(tmp_path / "authors", "10-zz")
    monkeypatch.setenv("LAB_TASKS_PATH", str(tmp_path / "authors"))
    with task_sandbox(tmp_path / "sb", "10-zz"):
        monkeypatch.delenv("LAB_TASKS_PATH")
        lines = svc.env_lines(tmp_path / "sb")
    assert [line.split("=")[0] for line in lines[:3]] == [
        "export KUBECONFIG",
        "export LAB_REGISTRY_MIRROR",
        "export LAB_SANDBOX_WORKSPACE",
    ]
    assert lines[-1] == (
        "# the registry serves the images of task 10-zz (its folder is not on this shell's LAB_TASKS_PATH) "
        "(lab sandbox status)"
    )


def test_a_bare_push_tag_publishes_the_next_release_of_every_image_the_policies_track(tmp_path: Path) -> None:
    """`t` / `lab sandbox push-tag` in 09b-multi published only the first image's next tag: the other
    three images never had a release, so their markers never moved. Each image the task's policies
    track gets the tag its policy picks next (what the exercise's checks expect CI to push), and the
    result names each."""
    import tomllib

    from lab.core.imagename import canonical_name

    task = load_task(TASK)
    # The releases the exercise's checks push (in memory) to see every marked field move.
    expected = tomllib.loads((task.folder / "checks.toml").read_text())["exercise"]["next_tags"]
    expected = {canonical_name(name): tag for name, tag in expected.items()}
    with task_sandbox(tmp_path, TASK) as sup:
        result = sup.push_tag(None)
        published = {canonical_name(result["declared"]): result["added"]}
        published |= {canonical_name(o["declared"]): o["added"] for o in result["also"]}
        assert published == {name: [tag] for name, tag in expected.items()}, published
        assert result["picked"]
        with RegistryClient(registry_mirror=read_json(sup.paths.runtime)["mirror"], retries=0) as client:
            for image in task.meta.images:
                assert expected[canonical_name(image.name)] in client.list_tags(image.name).tags, image.name
        # Named, one image: only that one.
        again = sup.push_tag(None, "ghcr.io/acme/shop-worker")
        assert again["also"] == [] and again["declared"] == "ghcr.io/acme/shop-worker"
        assert (
            again["picked"]
            and again["added"]
            and again["added"] != published[canonical_name("ghcr.io/acme/shop-worker")]
        )
