"""In the running sandbox's repository, with no cluster configured (no --kubeconfig, $KUBECONFIG or
~/.kube/config) and no `eval "$(lab sandbox env)"`, every command that asks a cluster or a registry asks
the sandbox's, as `lab why` and the app do, and says so in one line. Before, `lab simulate` fell back to
the lab's 2024 snapshot there and pushed a downgrade the sandbox's Flux then undid."""

from __future__ import annotations

from pathlib import Path

import pytest

from lab.sandbox.runtime import default_root
from lab.services.sandbox import IN_USE, point_env
from tests.support.diag_corpus import solved_files
from tests.support.labrun import run_lab
from tests.support.sandbox_helpers import git, running_sandbox, wait_for
from tests.support.taskfiles import DEPLOY

pytestmark = pytest.mark.slow


def _plain(lab_env: dict[str, str]) -> dict[str, str]:
    env = dict(lab_env)
    for name in ("KUBECONFIG", "LAB_REGISTRY_MIRROR", "LAB_SANDBOX_WORKSPACE"):
        env.pop(name, None)
    return env


def test_commands_in_the_sandbox_repository_use_its_cluster_and_registry(lab_env: dict[str, str]) -> None:
    env = _plain(lab_env)
    with running_sandbox(default_root()) as sup:
        ws, origin = sup.paths.workspace, sup.paths.origin
        for rel, text in solved_files().items():
            target = ws / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        git(ws, "add", "-A")
        git(ws, "commit", "-qm", "Add image automation")
        git(ws, "push", "-q", "origin", "HEAD:main")
        sup.push_tag("1.25.4")

        def deployed() -> bool:
            return "library/nginx:1.25.4" in git(origin, "show", f"main:{DEPLOY}")

        wait_for(deployed, "the sandbox's Flux to commit 1.25.4", timeout=90)
        head = git(origin, "rev-parse", "main")
        git(ws, "pull", "-q", "--rebase")

        sim = run_lab("simulate", env=env, cwd=ws, ok=True)
        assert IN_USE in sim.stderr
        assert "LAB_REGISTRY_MIRROR sends index.docker.io there), scanned now" in sim.stdout
        assert "resolved to 1.25.4" in sim.stdout and "repository up-to-date" in sim.stdout
        assert git(origin, "rev-parse", "main") == head, "no downgrade pushed"

        get = run_lab("flux", "get", "images", "policy", env=env, cwd=ws / "apps", ok=True)
        assert "1.25.4" in get.stdout and IN_USE in get.stderr
        tags = run_lab("tags", "nginx", env=env, cwd=ws, ok=True)
        assert "1.25.4" in tags.stdout.splitlines()
        check = run_lab("check", "--only", "cluster.image-repository", env=env, cwd=ws)
        assert "no kubeconfig" not in check.stdout + check.stderr, check.stdout

        # Elsewhere nothing changes: no sandbox is guessed for another repository.
        other = run_lab("flux", "get", "images", "policy", env=env, cwd=Path(sup.paths.root).parent)
        assert other.returncode != 0 and "no kubeconfig" in other.stderr


def test_an_exercise_beside_the_running_sandbox_says_why_it_uses_its_bundled_tags(
    lab_env: dict[str, str],
) -> None:
    """The sandbox serves one task in its own repository; an exercise opened in the app (Done's `n`,
    Home's Enter) has a repository of its own and no cluster. Its words said "no registry reachable"
    while the sandbox's registry ran, and its Simulate asked that registry (this process points at
    it) for library/nginx: the other task's tags, 1.25.4 pushed there included."""
    import os

    from lab.services.session import (
        Session,
        attach_sandbox,
        check_mode,
        open_task,
        sandbox_elsewhere,
        session_tags,
        tag_source,
    )
    from lab.services.tasks import load_task

    with running_sandbox(default_root()) as sup:
        sup.push_tag("1.25.4")
        course = attach_sandbox(Session(sup.paths.workspace, load_task(), sandbox=True, kubeconfig=None))
        assert course.kubeconfig is not None
        saved = dict(os.environ)
        point_env(dict(course.sandbox_env))  # what the app does once attached
        try:
            exercise = open_task(course, "09b-multi")
            assert exercise.workspace != sup.paths.workspace
            why = "the sandbox serves task 09b; `lab sandbox reset --task 09b-multi` makes it serve this one"
            assert sandbox_elsewhere(exercise) == why
            assert check_mode(exercise, elsewhere=why).describe().endswith(f"snapshot ({why})")
            assert why in tag_source(exercise, elsewhere=why).note
            tags = session_tags(exercise)
            nginx = tags("library/nginx", [])
            assert "1.25.4" not in nginx and "1.25.3" in nginx
            assert tags.used_snapshot and tags.origins["library/nginx"].endswith(f"({why})")
            # The course's own repository still reads the sandbox's registry.
            assert "1.25.4" in session_tags(course)("library/nginx", [])
        finally:
            os.environ.clear()
            os.environ.update(saved)
