"""The sandbox use cases for the CLI and the TUI: start (foreground or detached), stop, inspect, drive.

`ensure_running()` is what the TUI calls: it returns the running default sandbox or starts one in the
background and waits until its API server, registry and controllers are ready.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lab.core.record import dataclass
from lab.errors import LabError
from lab.sandbox.runtime import (
    DEFAULT_FLUX,
    DEFAULT_SPEED,
    SandboxPaths,
    Supervisor,
    check_flux,
    ensure_practice,
    lock_holder_alive,
    pid_alive,
    read_json,
    served_task,
)

if TYPE_CHECKING:
    from lab.core.tasks import TaskImage

START_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0


@dataclass(frozen=True)
class SandboxInfo:
    workspace: Path
    kubeconfig: Path
    registry: str
    pid: int
    api: str = ""
    root: Path = Path()
    speed: float = DEFAULT_SPEED
    image_controllers: bool = True
    flux: str = DEFAULT_FLUX
    task: str = ""

    mirror_hosts: tuple[str, ...] = ("docker.io",)

    @property
    def mirror(self) -> str:
        """LAB_REGISTRY_MIRROR: every registry host the sandbox serves, all pointing at its registry."""
        return ",".join(f"{host}={self.registry}" for host in self.mirror_hosts)

    def serves(self, task: str) -> bool:
        """Whether this sandbox serves `task`'s images: started for it, or recording no task (one started
        before sandboxes recorded theirs)."""
        return not self.task or self.task == task

    def env(self) -> dict[str, str]:
        """What `eval "$(lab sandbox env)"` exports."""
        return {
            "KUBECONFIG": str(self.kubeconfig),
            "LAB_REGISTRY_MIRROR": self.mirror,
            "LAB_SANDBOX_WORKSPACE": str(self.workspace),
        }


#: What a published tag leads to (push-tag, the app's `t`): Flux writes whatever the policy selects, so
#: a tag that changes its pick to an older one (a rebuilt patch, a smaller build number) moves it too.
FLUX_COMMITS_WHEN = "Flux commits when a policy's pick changes to a different tag (an older one too)"

#: What a command run in the sandbox's repository with no cluster configured says (stderr, one line).
IN_USE = 'using the sandbox\'s cluster and registry (`eval "$(lab sandbox env)"` sets them for other shells)'


def in_workspace(workspace: Path | None = None, kubeconfig: str | None = None) -> SandboxInfo | None:
    """The running sandbox when `workspace` (default: the current directory) is in its practice
    repository and nothing names a cluster (`kubeconfig` from --kubeconfig, $KUBECONFIG,
    ~/.kube/config: see `lab.adapters.kubeconfig.kubeconfig_source`); else None. Changes nothing. The
    one answer to "is this the sandbox's world?" for every command that asks a cluster or a registry."""
    from lab.adapters.kubeconfig import kubeconfig_source

    if kubeconfig_source(kubeconfig) is not None:
        return None  # not even the state file to read
    return sandbox_of(running_info(None), workspace, kubeconfig)


def sandbox_of(
    running: SandboxInfo | None, workspace: Path | None = None, kubeconfig: str | None = None
) -> SandboxInfo | None:
    """`in_workspace` with the running sandbox (`running_info`) read already: a command that asks
    several questions of it reads the state file once."""
    from lab.adapters.kubeconfig import kubeconfig_source

    if running is None or kubeconfig_source(kubeconfig) is not None:
        return None
    return running if holds(running, workspace if workspace is not None else Path.cwd()) else None


def holds(info: SandboxInfo, workspace: Path) -> bool:
    """`workspace` is the sandbox's practice repository, or a directory in it: the one test of "is this
    the sandbox's repository?" (`in_workspace`, the app's `sandbox_elsewhere`, `lab why`)."""
    return workspace.resolve().is_relative_to(info.workspace.resolve())


def serving_registry() -> SandboxInfo | None:
    """The running sandbox when this process's registry clients ask its registry (LAB_REGISTRY_MIRROR
    is the sandbox's, as `use_in_workspace` or `eval "$(lab sandbox env)"` set it); else None: the
    tags come from another registry, whatever repository this is."""
    if not os.environ.get("LAB_REGISTRY_MIRROR"):
        return None
    return serving(running_info(None))


def serving(running: SandboxInfo | None) -> SandboxInfo | None:
    """`serving_registry` of the sandbox `running_info` read already."""
    mirror = os.environ.get("LAB_REGISTRY_MIRROR")
    return running if running is not None and mirror and mirror == running.mirror else None


def use_in_workspace(workspace: Path | None = None, kubeconfig: str | None = None) -> SandboxInfo | None:
    """`in_workspace`, and when it is the sandbox, this process's kubernetes and registry clients
    pointed at it as `eval "$(lab sandbox env)"` does (a registry mirror already set stays)."""
    return point_at(in_workspace(workspace, kubeconfig))


def point_at(info: SandboxInfo | None) -> SandboxInfo | None:
    """`use_in_workspace` of the sandbox `in_workspace` (or `sandbox_of`) found: None changes nothing."""
    if info is not None:
        point_env(info.env())
    return info


def point_env(env: Mapping[str, str]) -> None:
    """Point this process's kubernetes and registry clients at a sandbox: its `SandboxInfo.env()`, what
    `eval "$(lab sandbox env)"` exports (the commands, `lab why`, the app once attached; {} changes
    nothing). A registry mirror the learner set stays theirs: only the cluster changes, and without
    LAB_SANDBOX_WORKSPACE nothing takes the tags for the sandbox's. A mirror a sandbox's environment set
    (LAB_SANDBOX_WORKSPACE beside it: an earlier `eval`, or this process before the sandbox restarted on
    other ports) is replaced. Process-wide: call it from the main thread only."""
    if not env:
        return
    if learners_mirror() is not None:
        env = {"KUBECONFIG": env["KUBECONFIG"]}
    os.environ.update(env)


def learners_mirror() -> str | None:
    """LAB_REGISTRY_MIRROR when the learner set it (no sandbox's environment beside it): `point_env`
    keeps it, so the lab's registry clients ask that mirror, not the sandbox's registry."""
    mirror = os.environ.get("LAB_REGISTRY_MIRROR")
    return mirror if mirror and not os.environ.get("LAB_SANDBOX_WORKSPACE") else None


def paths(directory: str | Path | None = None) -> SandboxPaths:
    return SandboxPaths.at(directory)


def _info(p: SandboxPaths, data: dict[str, Any]) -> SandboxInfo:
    return SandboxInfo(
        workspace=Path(str(data.get("workspace") or p.workspace)),
        # Its own file, whatever the state file says: a kubeconfig runs programs (exec plugins).
        kubeconfig=p.kubeconfig,
        registry=str(data.get("registry") or ""),
        pid=int(data.get("pid") or 0),
        api=str(data.get("api") or ""),
        root=p.root,
        speed=float(data.get("speed") or DEFAULT_SPEED),
        image_controllers=bool(data.get("image_controllers", True)),
        flux=str(data.get("flux") or DEFAULT_FLUX),
        task=str(data.get("task") or ""),
        mirror_hosts=_mirror_hosts(data.get("mirror")),
    )


def _mirror_hosts(mirror: Any) -> tuple[str, ...]:
    if not isinstance(mirror, dict) or not mirror:
        return ("docker.io",)
    return tuple(sorted(str(h).replace("index.docker.io", "docker.io") for h in mirror))


def running_info(directory: str | Path | None = None) -> SandboxInfo | None:
    """The running sandbox of `directory`, or None (a crashed one's leftovers count as not running)."""
    p = paths(directory)
    data = read_json(p.runtime)
    if not data or not lock_holder_alive(p) or not pid_alive(int(data.get("pid") or 0)):
        return None
    return _info(p, data)


def _require_running(directory: str | Path | None) -> tuple[SandboxInfo, dict[str, Any]]:
    p = paths(directory)
    info = running_info(directory)
    if info is None:
        flag = f" --dir {shlex.quote(str(p.root))}" if directory else ""
        raise LabError(
            f"the sandbox in {p.root} is not running",
            hint=f"start it with `lab sandbox up{flag} --detach`",
        )
    return info, read_json(p.runtime)


def control(directory: str | Path | None, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    """Call the running supervisor's control API."""
    _, data = _require_running(directory)
    url = f"{data['control']}{path}"
    payload = json.dumps(body or {}).encode() if method == "POST" else None
    request = urllib.request.Request(url, data=payload, method=method)
    request.add_header("Authorization", f"Bearer {data['token']}")
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as err:
        try:
            detail = json.loads(err.read() or b"{}")
        except ValueError:
            detail = {}
        raise LabError(
            str(detail.get("error") or f"sandbox control {path}: HTTP {err.code}"),
            hint=str(detail.get("hint") or "") or None,
        ) from None
    except (urllib.error.URLError, OSError) as err:
        raise LabError(
            f"cannot reach the sandbox supervisor at {data['control']}: {err}",
            hint="`lab sandbox status`; restart it with `lab sandbox down` and `lab sandbox up --detach`",
        ) from None


# --- start / stop --------------------------------------------------------------------------------------


def _new_practice(workspace: Path, origin: Path, task: str | None) -> object:
    from lab.services.classroom import new_practice_repo

    return new_practice_repo(workspace, origin=origin, task=task)


def run_foreground(
    directory: str | Path | None,
    *,
    speed: float = DEFAULT_SPEED,
    image_controllers: bool = True,
    on_ready: Callable[[SandboxInfo], None] | None = None,
    flux: str | None = None,
    task: str | None = None,
) -> None:
    """Run the supervisor in this process until Ctrl-C, SIGTERM or `lab sandbox down`.

    `flux` "2.8" or "2.9" picks the world (None: what this sandbox ran last, else 2.9)."""
    p = paths(directory)
    supervisor = Supervisor(
        p, speed=speed, image_controllers=image_controllers, flux=flux, task=task, make_practice=_new_practice
    )
    data = supervisor.start()
    if on_ready is not None:
        try:
            on_ready(_info(p, data))
        except BaseException:
            supervisor.stop()
            raise
    supervisor.serve_forever()


def start_detached(
    directory: str | Path | None,
    *,
    speed: float = DEFAULT_SPEED,
    image_controllers: bool = True,
    timeout: float = START_TIMEOUT,
    flux: str | None = None,
    task: str | None = None,
) -> SandboxInfo:
    """Start the supervisor as a background process and return once it is ready.

    `flux` as for run_foreground; a sandbox already running another Flux is refused, not restarted
    (restarting would drop whatever the learner is watching)."""
    p = paths(directory)
    if flux is not None:
        check_flux(flux)
    running = running_info(directory)
    if running is not None:
        _same_flux(running, flux)
        _same_task(running, task)
        return running
    served_task(p, task)  # here, not only in the child: its refusal would come back as a log's last line
    p.root.mkdir(parents=True, exist_ok=True)
    args = [sys.executable, "-m", "lab", "sandbox", "up", "--dir", str(p.root), "--speed", str(speed)]
    if not image_controllers:
        args.append("--no-image-controllers")
    if flux is not None:
        args += ["--flux", flux]
    if task is not None:
        args += ["--task", task]
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"
    with open(p.log, "ab") as log, open(os.devnull, "rb") as devnull:
        child = subprocess.Popen(
            args,
            stdin=devnull,
            stdout=log,
            stderr=log,
            start_new_session=True,
            close_fds=True,
            env=env,
            cwd=str(p.root),
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        code = child.poll()
        data = read_json(p.runtime)
        if data.get("pid") == child.pid and code is None:
            # A long-lived caller (the TUI) reaps the supervisor when it exits: no zombie after `down`.
            threading.Thread(target=child.wait, name="sandbox-reaper", daemon=True).start()
            return _info(p, data)
        if code is not None:
            raise LabError(
                f"the sandbox supervisor exited with status {code} before it was ready: {_log_tail(p)}",
                hint=f"see {p.log}",
            )
        time.sleep(0.05)
    child.terminate()
    raise LabError(f"the sandbox did not become ready within {timeout:.0f}s", hint=f"see {p.log}")


def _log_tail(p: SandboxPaths) -> str:
    try:
        lines = [ln for ln in p.log.read_text(encoding="utf-8", errors="replace").splitlines() if ln.strip()]
    except OSError:
        return "(no log)"
    return lines[-1][:300] if lines else "(empty log)"


def ensure_running(
    dir: str | Path | None = None,
    *,
    speed: float = DEFAULT_SPEED,
    image_controllers: bool = True,
    flux: str | None = None,
    task: str | None = None,
) -> SandboxInfo:
    """The running sandbox of `dir` (default: the per-user one), started in the background if needed.

    `flux` "2.8"/"2.9" asks for that world; None accepts the running one (or what it ran last)."""
    running = running_info(dir)
    if running is not None:
        _same_flux(running, flux)
        _same_task(running, task)
        return running
    return start_detached(dir, speed=speed, image_controllers=image_controllers, flux=flux, task=task)


def _same_task(info: SandboxInfo, task: str | None) -> None:
    if task is not None and not info.serves(task):
        raise LabError(
            f"the sandbox in {info.root} serves task {info.task}, not {task}",
            hint=f"`lab sandbox reset` (after saving your work), then `lab sandbox up --task {task}`",
        )


def _same_flux(info: SandboxInfo, flux: str | None) -> None:
    if flux is not None and info.flux != flux:
        raise LabError(
            f"the sandbox in {info.root} is running Flux {info.flux}, not {flux}",
            hint=f"`lab sandbox down` first, then `lab sandbox up --flux {flux}`",
        )


def down(directory: str | Path | None = None, timeout: float = STOP_TIMEOUT) -> bool:
    """Stop the sandbox; False when it was not running. Waits until its process and ports are gone."""
    import signal

    p = paths(directory)
    info = running_info(directory)
    if info is None:
        return False
    try:
        control(directory, "POST", "/stop")
    except LabError:
        os.kill(info.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not lock_holder_alive(p) and not pid_alive(info.pid):
            return True
        if not lock_holder_alive(p) and _is_zombie(info.pid):
            return True
        time.sleep(0.05)
    os.kill(info.pid, signal.SIGKILL)
    return True


def _is_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] == "Z"


# --- inspect and drive ---------------------------------------------------------------------------------


def status(directory: str | Path | None = None) -> dict[str, Any]:
    p = paths(directory)
    info = running_info(directory)
    out: dict[str, Any] = {
        "running": info is not None,
        "dir": str(p.root),
        "workspace": str(p.workspace),
        "kubeconfig": str(p.kubeconfig),
        # what the next `up` without --flux starts (what it ran last)
        "flux": str(read_json(p.config).get("flux") or DEFAULT_FLUX),
    }
    if info is not None:
        out.update(
            {
                "pid": info.pid,
                "api": info.api,
                "registry": info.registry,
                "speed": info.speed,
                "flux": info.flux,
            }
        )
        try:
            out.update(control(directory, "GET", "/status"))
        except LabError as err:
            out["error"] = err.message
    return out


def env_lines(directory: str | Path | None = None) -> list[str]:
    info, _ = _require_running(directory)
    lines = [f"export {k}={shlex.quote(v)}" for k, v in info.env().items()]
    lines.append(f"# workspace: cd {shlex.quote(str(info.workspace))}")
    try:
        served = served_images(info.task or None)
    except LabError:
        # A course author's task from LAB_TASKS_PATH, in a shell without it: the exports still matter.
        served = f"the images of task {info.task} (its folder is not on this shell's LAB_TASKS_PATH)"
    lines.append(f"# the registry serves {served} (lab sandbox status)")
    return lines


def served_images(task_id: str | None = None) -> str:
    """What the sandbox registry of `task_id` (default: the course's) serves, for people: "a snapshot of
    Docker Hub's library/nginx tags as of 2024-01-15", or "snapshots of ghcr.io/acme/shop, ... tags"."""
    from lab.core.imagename import ImageNameError, parse_image
    from lab.services.tasks import load_task

    def name(image: TaskImage) -> str:
        try:
            hub = parse_image(image.name).is_docker_hub
        except ImageNameError:
            hub = False
        return f"Docker Hub's {image.name}" if hub else image.name

    images = load_task(task_id).meta.images
    if not images:
        return "no tags (the task declares no images)"
    if len(images) == 1:
        when = f" as of {images[0].snapshot}" if images[0].snapshot else ""
        return f"a snapshot of {name(images[0])} tags{when}"
    names = [name(image) for image in images]
    return f"snapshots of {', '.join(names[:-1])} and {names[-1]} tags"


def split_image_tag(text: str | None) -> tuple[str | None, str | None]:
    """`[IMAGE:]TAG` -> (image or None, tag): `1.25.4`, `nginx:1.25.4`, `ghcr.io/org/app:2.0.0`,
    `localhost:5000/app:1.0` (a colon in the host is not a tag)."""
    if not text:
        return None, None
    image, colon, tag = text.rpartition(":")
    if not colon or "/" in tag:
        return None, text
    return image or None, tag


def push_tag(directory: str | Path | None, tag: str | None, image: str | None = None) -> dict[str, Any]:
    """Publish `tag` (or `IMAGE:TAG`) to the sandbox registry; no image: the task's first."""
    named, tag = split_image_tag(tag)
    if named and image and named != image:
        raise LabError(f"two images given: {named} and --image {image}", hint="give the image once")
    result = control(directory, "POST", "/push-tag", {"tag": tag, "image": named or image})
    return dict(result)


def install_image_controllers(directory: str | Path | None = None) -> dict[str, Any]:
    return dict(control(directory, "POST", "/install-image-controllers"))


_STATE_ENTRIES = (
    "apiserver-credentials.json",
    "kubeapi.json",
    "kubeapi.json.corrupt",
    "kubeconfig",
    "registry.json",
    "runtime.json",
    "supervisor.log",
    "cache",
)


@dataclass(frozen=True)
class ResetResult:
    workspace: Path
    kept: Path | None
    """Where the previous practice repository and its origin were moved (None: there was none)."""


def reset(
    directory: str | Path | None = None, *, force: bool = False, task: str | None = None
) -> ResetResult:
    """Stop the sandbox and start its world afresh (for `task`, default: the one it served, else the
    course's). Refuses when the practice repository holds work that exists nowhere else unless `force`;
    either way the previous repository and origin are moved aside, never deleted."""
    import shutil
    from datetime import UTC, datetime

    from lab.sandbox.runtime import write_json_atomic

    p = paths(directory)
    chosen = served_task(p, task)  # before anything stops or moves: an unknown task leaves it as it was
    if (p.workspace / ".git").exists() and not force:
        _refuse_unsaved(p.workspace)
    down(directory)
    kept: Path | None = None
    kept_task: str | None = None
    old = [d for d in (p.workspace, p.origin) if d.exists() or d.is_symlink()]
    recorded_as = p.workspace.resolve()  # as the course record names it (before it moves)
    if old:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        kept = p.root / "previous" / stamp
        n = 1
        while kept.exists():  # two resets within a second
            n += 1
            kept = p.root / "previous" / f"{stamp}-{n}"
        kept.mkdir(parents=True)
        for d in old:
            d.rename(kept / d.name)
        _follow_kept_origin(kept / p.workspace.name, p.origin, kept / p.origin.name)
        kept_task = _follow_kept_record(recorded_as, kept / p.workspace.name)
    for name in _STATE_ENTRIES:
        target = p.root / name
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        elif target.exists() or target.is_symlink():
            target.unlink()
    config = read_json(p.config)
    ensure_practice(p, chosen, _new_practice)
    config.pop("kept", None)
    kept_copy = {"kept": str(kept / p.workspace.name)} if kept is not None else {}
    write_json_atomic(p.config, {**config, "task": chosen, **kept_copy})
    if kept is not None and kept_task == chosen:  # afresh on the same task: the fresh one is what opens
        from lab.services.progress_record import remember_repository

        remember_repository(p.workspace, chosen, last=False)
    return ResetResult(p.workspace, kept)


def last_kept(directory: str | Path | None = None) -> Path | None:
    """Where the last `lab sandbox reset` kept the repository it replaced (None: none kept, or gone)."""
    kept = str(read_json(paths(directory).config).get("kept") or "")
    return Path(kept) if kept and Path(kept).exists() else None


def _follow_kept_origin(copy: Path, live: Path, kept: Path) -> None:
    """Point the kept copy's `origin` at the origin kept beside it: left on the live path, it would fetch
    the new task's history, no longer grade (`git.pushed`), and push into the new exercise's origin."""
    from lab.adapters.git import open_workspace

    if not kept.exists():
        return
    try:
        ws = open_workspace(copy)
        if Path(ws.remote_url("origin")).resolve() == live.resolve():
            ws.set_remote_url("origin", str(kept))
    except LabError:  # not a repository, or an origin of the learner's own: theirs to keep
        return


def _follow_kept_record(recorded_as: Path, copy: Path) -> str | None:
    """The course record follows the repository to previous/: a task done there stays done in Home and
    `lab tasks`, and opening it opens that copy instead of making an empty repository. Returns the task
    the copy works on (None: unknown)."""
    from lab.services.progress_record import repository_moved
    from lab.services.tasks import task_for_workspace

    if not (copy / ".git").exists():
        return None
    try:
        task: str | None = task_for_workspace(copy)
    except LabError:  # it records a task this lab does not have: where it is listed, it moves all the same
        task = None
    repository_moved(recorded_as, copy, task)
    return task


def _refuse_unsaved(workspace: Path) -> None:
    from lab.adapters.git import open_workspace

    try:
        ws = open_workspace(workspace)
        dirty = ws.dirty_files()
        branch = ws.branch() or "main"
        unpushed = ws.unpushed_commits(branch) if ws.remote_sha(branch) else []
        elsewhere = ws.local_only_work()
    except LabError:
        return
    found = [f"{len(dirty)} uncommitted file(s)"] if dirty else []
    found += [f"{len(unpushed)} unpushed commit(s) on {branch}"] if unpushed and not elsewhere else []
    found += elsewhere
    if found:
        raise LabError(
            f"{workspace} has {' and '.join(found)}; reset would set them aside",
            hint="commit and push (or copy) your work first, or pass --force "
            "(the old repository is kept under previous/ either way)",
        )
