"""Acceptance of the sandbox through the real `lab` executable, as a learner drives it."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from lab.adapters.cluster import ClusterClient
from lab.services import sandbox as svc
from tests.support.labrun import run_lab
from tests.support.sandbox_helpers import flux_commits, git, ready, wait_for

pytestmark = pytest.mark.slow

SPEED = "3000"


def _exports(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        if line.startswith("export "):
            name, _, value = line[len("export ") :].partition("=")
            out[name] = shlex.split(value)[0]
    return out


def _port_closed(hostport: str) -> bool:
    host, port = hostport.replace("http://", "").replace("https://", "").rsplit(":", 1)
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, int(port))) != 0


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    return not stat.exists() or stat.read_text().rsplit(")", 1)[-1].split()[0] == "Z"


@pytest.fixture
def sandbox_dir(tmp_path: Path, lab_env: dict[str, str]) -> Iterator[Path]:
    d = tmp_path / "sb"
    yield d
    # a failing test must not leave a supervisor behind
    run_lab("sandbox", "down", "--dir", str(d), env=lab_env)


def test_learner_loop_push_tag_crash_and_down(sandbox_dir: Path, lab_env: dict[str, str]) -> None:
    d = sandbox_dir
    up = run_lab("sandbox", "up", "--dir", str(d), "--detach", "--speed", SPEED, env=lab_env)
    assert up.returncode == 0, up.stderr
    workspace = Path(up.stdout.strip())
    assert workspace == d / "gitops-lab" and (workspace / ".git").is_dir()

    env_out = run_lab("sandbox", "env", "--dir", str(d), env=lab_env)
    exports = _exports(env_out.stdout)
    assert exports["KUBECONFIG"] == str(d / "kubeconfig")
    assert exports["LAB_REGISTRY_MIRROR"].startswith("docker.io=127.0.0.1:")
    learner = {**lab_env, **exports}

    solved = run_lab("solve", str(workspace), env=learner)
    assert solved.returncode == 0, solved.stderr
    client = ClusterClient.from_kubeconfig(exports["KUBECONFIG"])
    origin = d / "gitops-lab-origin.git"
    first = wait_for(lambda: flux_commits(origin), "Flux's commit")[0]
    patch = git(origin, "show", "--format=%an <%ae>%n%s", first)
    assert patch.startswith("Flux <flux@gitops-lab.local>\nAutomated image update")
    assert re.search(r"^-\s+image: nginx:1\.25\.0 ", patch, re.M), patch
    assert re.search(r"^\+\s+image: library/nginx:1\.25\.3 ", patch, re.M), patch
    expected = {
        "ImageRepository": "nginx",
        "ImagePolicy": "nginx",
        "ImageUpdateAutomation": "flux-system",
    }
    states = {k: wait_for(lambda k=k, n=n: ready(client, k, n), k) for k, n in expected.items()}  # type: ignore[misc]
    assert states["ImageRepository"][2] == "successful scan: found 560 tags with checksum 3760061965"
    assert states["ImagePolicy"] == (
        "True",
        "Succeeded",
        "Latest image tag for library/nginx resolved to 1.25.3",
    )
    assert wait_for(
        lambda: (
            ready(client, "ImageUpdateAutomation", "flux-system")
            == ("True", "Succeeded", "repository up-to-date")
        ),
        "the automation status",
    )

    pushed = run_lab("sandbox", "push-tag", "1.25.4", "--dir", str(d), env=learner)
    assert pushed.returncode == 0 and "1.25.4" in pushed.stdout, pushed.stderr
    assert "`lab why` says why when it does not" in pushed.stdout  # a tag no policy picks is silent
    # Flux writes whatever the policy selects: an older tag too, when the pick changes to it.
    assert "a policy's pick changes to a different tag (an older one too)" in pushed.stdout
    assert "newer" not in pushed.stdout
    commits = wait_for(lambda: (c := flux_commits(origin)) and len(c) == 2 and c, "the second Flux commit")
    second = git(origin, "show", commits[0])
    assert re.search(r"^-\s+image: library/nginx:1\.25\.3 ", second, re.M), second
    assert re.search(r"^\+\s+image: library/nginx:1\.25\.4 ", second, re.M), second
    assert wait_for(
        lambda: (
            ready(client, "ImagePolicy", "nginx")
            == (
                "True",
                "Succeeded",
                "Latest image tag for library/nginx resolved to 1.25.4 (previously library/nginx:1.25.3)",
            )
        ),
        "the policy to move on",
    )

    # source/kustomize controllers apply the new revision: the Deployment runs the new tag
    assert wait_for(
        lambda: (
            (dep := client.get("Deployment", "nginx", "default"))
            and dep["spec"]["template"]["spec"]["containers"][0]["image"] == "library/nginx:1.25.4"
        ),
        "the Deployment to be updated",
    )

    # The learner wraps up; then every check passes online, cluster and registry ones included.
    from lab.services.tasks import load_task

    answers = ",".join(str(q.answer + 1) for q in load_task("09b").quiz.questions)
    assert run_lab("quiz", "--answers", answers, env=learner, cwd=workspace).returncode == 0
    assert run_lab("progress", "--done", "09", env=learner, cwd=workspace).returncode == 0
    check = run_lab("check", "--format", "json", env=learner, cwd=workspace)
    assert check.returncode == 0, check.stdout + check.stderr
    graded = json.loads(check.stdout)
    assert (graded["score"], graded["max_score"]) == (100, 100)
    assert {c["status"] for c in graded["checks"]} == {"pass"}

    # killed mid-flight: no cleanup ran, yet status sees it stopped and `up` resumes
    runtime = json.loads((d / "runtime.json").read_text())
    os.kill(runtime["pid"], signal.SIGKILL)
    wait_for(lambda: _gone(runtime["pid"]), "the supervisor to die")
    status = run_lab("sandbox", "status", "--dir", str(d), env=lab_env)
    assert status.returncode == 3 and "stopped" in status.stdout
    again = run_lab("sandbox", "up", "--dir", str(d), "--detach", "--speed", SPEED, env=lab_env)
    assert again.returncode == 0, again.stderr
    resumed = json.loads((d / "runtime.json").read_text())
    assert resumed["api"] == runtime["api"]
    assert ready(client, "ImagePolicy", "nginx")[0] == "True"
    git(workspace, "pull", "-q")
    assert "library/nginx:1.25.4" in (workspace / "apps/base/nginx/deployment.yaml").read_text()

    down = run_lab("sandbox", "down", "--dir", str(d), env=lab_env)
    assert down.returncode == 0 and "stopped" in down.stdout
    assert _gone(resumed["pid"])
    for address in (resumed["api"], resumed["registry"], resumed["control"]):
        assert _port_closed(address), address
    assert not (d / "runtime.json").exists()
    assert len(flux_commits(origin)) == 2


def test_foreground_ctrl_c_stops_cleanly(tmp_path: Path, lab_cmd: list[str], lab_env: dict[str, str]) -> None:
    d = tmp_path / "fg"
    proc = subprocess.Popen(
        [*lab_cmd, "sandbox", "up", "--dir", str(d), "--speed", SPEED, "--no-image-controllers"],
        env=lab_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    watchdog = threading.Timer(60, proc.kill)  # a hung start must fail the test, not hang it
    watchdog.start()
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith("sandbox ready: workspace "), first + (
            proc.stderr.read() if proc.stderr else ""
        )
        runtime = json.loads((d / "runtime.json").read_text())
        assert runtime["image_controllers"] is False
        # the TUI attaches to a running sandbox instead of starting a second one
        info = svc.ensure_running(d)
        assert (info.pid, info.workspace, info.kubeconfig) == (proc.pid, d / "gitops-lab", d / "kubeconfig")
        assert info.env()["LAB_REGISTRY_MIRROR"] == f"docker.io={runtime['registry']}"
        env = {**lab_env, "KUBECONFIG": str(d / "kubeconfig")}
        check = run_lab("flux", "check", env=env)
        assert check.returncode == 0 and "image-reflector-controller" not in check.stdout
        # flux skips kinds without a CRD; asking for one names the fix
        every = run_lab("flux", "get", "images", "all", env=env)
        assert (every.returncode, every.stdout, every.stderr) == (0, "", "")
        one = run_lab("flux", "get", "image", "policy", env=env)
        assert one.returncode == 1 and "image controllers are not installed" in one.stderr
        assert "lab sandbox install-image-controllers" in one.stderr
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=20)
        assert proc.returncode == 0 and "sandbox stopped" in out
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            proc.kill()
    for address in (runtime["api"], runtime["registry"], runtime["control"]):
        assert _port_closed(address), address
    assert not (d / "runtime.json").exists()


def test_commands_on_a_stopped_sandbox(tmp_path: Path, lab_env: dict[str, str]) -> None:
    d = str(tmp_path / "none")
    env = run_lab("sandbox", "env", "--dir", d, env=lab_env)
    assert env.returncode == 1 and env.stdout == ""
    assert "is not running" in env.stderr and f"lab sandbox up --dir {d} --detach" in env.stderr
    down = run_lab("sandbox", "down", "--dir", d, env=lab_env)
    assert down.returncode == 0 and "not running" in down.stdout
    status = run_lab("sandbox", "status", "--dir", d, "--json", env=lab_env)
    assert status.returncode == 3 and json.loads(status.stdout)["running"] is False
    push = run_lab("sandbox", "push-tag", "1.25.4", "--dir", d, env=lab_env)
    assert push.returncode == 1 and "Traceback" not in push.stderr


def test_push_tag_of_an_empty_tag_is_refused(tmp_path: Path, lab_env: dict[str, str]) -> None:
    """It published the next dated release, as if no tag had been given."""
    proc = run_lab("sandbox", "push-tag", "", "--dir", str(tmp_path), env=lab_env)
    assert proc.returncode == 2 and "an empty tag" in proc.stderr


def test_push_tag_from_another_tasks_repository_says_which_task_the_sandbox_serves(
    sandbox_dir: Path, lab_env: dict[str, str]
) -> None:
    """From a practice repository of another task (which the sandbox does not serve) push-tag refuses
    before publishing: it put a junk tag into the sandbox's image (a lesson said to run it there)."""
    d = sandbox_dir
    up = run_lab("sandbox", "up", "--dir", str(d), "--detach", "--speed", SPEED, env=lab_env)
    assert up.returncode == 0, up.stderr
    workspace = Path(up.stdout.strip())
    same = run_lab("sandbox", "push-tag", "1.26.0", "--dir", str(d), env=lab_env, cwd=workspace)
    assert same.returncode == 0 and "lab: note" not in same.stderr, same.stderr
    other = d.parent / "multi"
    assert run_lab("init", str(other), "--task", "09b-multi", env=lab_env).returncode == 0
    refused = run_lab("sandbox", "push-tag", "1.26.1", "--dir", str(d), env=lab_env, cwd=other)
    assert refused.returncode == 1 and "published" not in refused.stdout
    assert "the sandbox serves task 09b, not this repository (task 09b-multi)" in refused.stderr
    assert "nothing published" in refused.stderr and "lab sandbox reset --task 09b-multi" in refused.stderr
    listed = run_lab("sandbox", "push-tag", "1.26.1", "--dir", str(d), env=lab_env, cwd=d.parent)
    assert listed.returncode == 0 and "published library/nginx: " in listed.stdout


def test_push_tag_without_a_tag_on_a_task_without_events_publishes_the_tag_its_policy_picks_next(
    tmp_path: Path, sandbox_dir: Path, lab_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A task without dated releases had nothing for a bare push-tag (and the app's `t`) to publish: the
    learner had to find a tag to push by name (tex finding 15). They publish the next tag the task's own
    policy picks (its number raised by one), as a release CI pushed would be."""
    from lab.adapters.tagsfile import read_tags
    from lab.core.manifests.generate import options_from_mapping, selection
    from lab.core.policy import resolve
    from lab.services.tasks import load_task
    from tests.support.taskfiles import author_task, edited

    folder, env = author_task(tmp_path, "t-quiet", lab_env)
    meta = folder / "task.toml"
    text = meta.read_text(encoding="utf-8")
    events_line = next(line for line in text.splitlines() if line.startswith("events = "))
    meta.write_text(edited(text, events_line + "\n", ""), encoding="utf-8")
    d = str(sandbox_dir)
    run_lab("sandbox", "up", "--dir", d, "--detach", "--speed", SPEED, "--task", "t-quiet", env=env, ok=True)
    monkeypatch.setenv("LAB_TASKS_PATH", str(folder.parent))
    task = load_task("t-quiet")
    served = read_tags(task.image_file(task.meta.images[0].tags))
    policy = selection(options_from_mapping(task.meta.generate))
    for _ in range(2):
        bare = run_lab("sandbox", "push-tag", "--dir", d, env=env, ok=True)
        line = next(x for x in bare.stdout.splitlines() if x.startswith("published library/nginx: "))
        tag = line.removeprefix("published library/nginx: ").split(" ", 1)[0]
        assert "the next tag the task's policy picks" in line, line
        assert tag not in served and resolve(policy, [*served, tag]).tag == tag, (tag, served)
        served = [*served, tag]


def test_the_practice_repository_lab_sandbox_up_makes_carries_the_classroom_workflow(
    sandbox_dir: Path, lab_env: dict[str, str]
) -> None:
    """The supervisor makes the sandbox's repository on first use: as `lab init` does, with the Classroom
    workflow committed (tex finding 10)."""
    from lab.core.report.workflow import WORKFLOW_PATH

    d = str(sandbox_dir)
    run_lab("sandbox", "up", "--dir", d, "--detach", "--speed", SPEED, env=lab_env, ok=True)
    workspace = sandbox_dir / "gitops-lab"
    assert (workspace / WORKFLOW_PATH).is_file()
    tracked = subprocess.run(
        ["git", "-C", str(workspace), "ls-files", WORKFLOW_PATH], capture_output=True, text=True
    )
    assert tracked.stdout.strip() == WORKFLOW_PATH
