"""One way to point this process at the sandbox (`lab.services.sandbox.point_env`): the commands and
`lab why` (`point_at`) and the app once attached (`Session.sandbox_env`) set the same environment by
the same rule, where the app overwrote a mirror the learner set and the commands kept a mirror an
earlier sandbox's environment had set (stale once the sandbox restarted on other ports)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lab.services import sandbox


def _info(tmp_path: Path, port: int) -> sandbox.SandboxInfo:
    return sandbox.SandboxInfo(
        workspace=tmp_path / "gitops-lab",
        kubeconfig=tmp_path / f"kc-{port}",
        registry=f"127.0.0.1:{port}",
        pid=1,
    )


def test_nothing_set_takes_the_whole_sandbox_environment(tmp_path: Path) -> None:
    import os

    info = _info(tmp_path, 5001)
    sandbox.point_env(info.env())
    assert {k: os.environ[k] for k in info.env()} == info.env()


def test_the_app_keeps_a_mirror_the_learner_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The app's attach (`dict(session.sandbox_env)`) overwrote it, where every command keeps it."""
    import os
    from dataclasses import replace

    from lab.services.session import Session
    from lab.services.tasks import load_task

    monkeypatch.setenv("LAB_REGISTRY_MIRROR", "docker.io=mirror.example.com")
    info = _info(tmp_path, 5001)
    session = Session(info.workspace, load_task(), sandbox=True, kubeconfig=str(info.kubeconfig))
    attached = replace(session, sandbox_env=tuple(sorted(info.env().items())))  # attach_sandbox's
    sandbox.point_env(dict(attached.sandbox_env))
    assert os.environ["LAB_REGISTRY_MIRROR"] == "docker.io=mirror.example.com"
    assert os.environ["KUBECONFIG"] == str(info.kubeconfig) and "LAB_SANDBOX_WORKSPACE" not in os.environ
    sandbox.point_env({})  # a detached session's: nothing changes
    assert os.environ["KUBECONFIG"] == str(info.kubeconfig)


def test_a_mirror_an_earlier_sandbox_set_is_replaced(tmp_path: Path) -> None:
    """`eval "$(lab sandbox env)"` of a sandbox since restarted on another port: its mirror is the
    sandbox's (LAB_SANDBOX_WORKSPACE beside it), not the learner's, and the commands kept asking the
    dead port."""
    import os

    os.environ.update(_info(tmp_path, 5001).env())  # what the shell's eval exported
    now = _info(tmp_path, 5002)
    assert sandbox.point_at(now) is now
    assert os.environ["LAB_REGISTRY_MIRROR"] == now.mirror and os.environ["KUBECONFIG"] == str(now.kubeconfig)


def test_following_the_sandbox_keeps_the_task_when_its_repository_records_one_this_lab_lacks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`lab sandbox reset --task X` run in a shell with LAB_TASKS_PATH, the app's shell without it: every
    `r` in the app failed ("records a task this lab does not have"), where it graded the open task."""
    import json

    from lab.services.session import Session, default_sandbox_workspace, followed_sandbox
    from lab.services.tasks import load_task

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.delenv("LAB_TASKS_PATH", raising=False)
    monkeypatch.setattr(sandbox, "running_info", lambda _where: None)
    ws = default_sandbox_workspace()
    (ws / ".fluxlab").mkdir(parents=True)
    (ws / ".fluxlab" / "task.json").write_text(json.dumps({"task": "authors-own-task"}))
    session = Session(ws, load_task("09b"), sandbox=True, kubeconfig=None)
    assert followed_sandbox(session) is session


def test_following_a_stopped_sandbox_detaches_from_its_cluster(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Attached, then `lab sandbox down` (or a reset that left it stopped): the session kept the dead
    kubeconfig, so Home said the sandbox "runs in the background"."""
    from dataclasses import replace

    from lab.services.session import Session, default_sandbox_workspace, followed_sandbox
    from lab.services.tasks import load_task

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setattr(sandbox, "running_info", lambda _where: None)
    info = _info(tmp_path, 5001)
    ws = default_sandbox_workspace()
    ws.mkdir(parents=True)
    detached = Session(ws, load_task("09b"), sandbox=True, kubeconfig=None)
    attached = replace(
        detached, kubeconfig=str(info.kubeconfig), sandbox_env=tuple(sorted(info.env().items()))
    )
    assert attached.mode == "sandbox cluster"
    followed = followed_sandbox(attached)
    assert followed == detached and "S on Flux" in followed.mode_detail[1]
    assert followed_sandbox(detached) is detached


def test_an_app_open_on_another_repository_never_follows_the_sandbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The app follows `lab sandbox reset --task X` (and the sandbox's start and stop) only when it is
    open on the sandbox's own repository. Open on another one (a `lab init` practice repository, or
    the learner's own with a real cluster), the sandbox's reset to another task, its running for
    this task or its stopping changes nothing: that repository is never switched, attached or
    detached."""
    import json
    from dataclasses import replace

    from lab.services.session import Session, default_sandbox_workspace, followed_sandbox
    from lab.services.tasks import load_task

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    sandbox_ws = default_sandbox_workspace()
    (sandbox_ws / ".fluxlab").mkdir(parents=True)
    (sandbox_ws / ".fluxlab" / "task.json").write_text(json.dumps({"task": "09b-staging"}))  # reset
    mine = tmp_path / "mine"
    (mine / ".fluxlab").mkdir(parents=True)
    (mine / ".fluxlab" / "task.json").write_text(json.dumps({"task": "09b"}))
    practice = Session(mine, load_task("09b"), sandbox=True, kubeconfig=None)
    real_cluster = replace(practice, sandbox=False, kubeconfig=str(tmp_path / "kubeconfig"))
    running = replace(_info(tmp_path, 5001), workspace=sandbox_ws, task="09b")
    for info in (running, replace(running, task="09b-staging"), None):
        monkeypatch.setattr(sandbox, "running_info", lambda _where, i=info: i)
        for session in (practice, real_cluster):
            assert followed_sandbox(session) is session, (info, session)
