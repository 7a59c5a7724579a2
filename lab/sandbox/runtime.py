"""The sandbox world on disk and the supervisor process that runs it.

Layout of a sandbox directory (default `$XDG_DATA_HOME/fluxlab/sandbox`, or `--dir D`):

    gitops-lab/             the learner's working copy (the practice repo)
    gitops-lab-origin.git/  its bare origin, which every GitRepository is served from
    kubeapi.json            the API server's objects (atomic writes)
    kubeconfig              points kubectl and the kubernetes client at the API server
    registry.json           what the embedded registry has published beyond the snapshot
    apiserver-credentials.json  the API server's bearer token and TLS key (0600), kept across restarts
                            so an exported KUBECONFIG and a running client stay valid
    config.json             ports and options kept across restarts (so an exported KUBECONFIG stays valid)
                            and the Flux world (`--flux 2.8|2.9`), so a restart keeps it
    runtime.json            written once everything is ready: pid, URLs, control port and token
    supervisor.lock         held (flock) by the running supervisor: the OS drops it if the process dies
    supervisor.log          the detached supervisor's output
    cache/                  the controllers' clone of origin (rebuilt at every start)

Every state file is replaced atomically, so killing the supervisor at any moment leaves the previous or
the next version, never half of one; a restart resumes from them. The supervisor also serves a small
control API on 127.0.0.1 (bearer token in runtime.json, mode 0600) for `lab sandbox push-tag`,
`install-image-controllers` and `down`.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import shlex
import shutil
import signal
import ssl
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lab.adapters.cluster_silence import forget as forget_silence
from lab.adapters.files import write_atomic
from lab.core.imagename import DEFAULT_REGISTRY
from lab.errors import LabError

if TYPE_CHECKING:
    from lab.core.policy import PolicySpec
    from lab.sandbox.tls import ServerCertificate
from lab.sandbox.httpbase import LoopbackHandler, LoopbackServer, serve_in_thread
from lab.sandbox.layout import ORIGIN as ORIGIN
from lab.sandbox.layout import WORKSPACE as WORKSPACE
from lab.sandbox.layout import SandboxPaths as SandboxPaths
from lab.sandbox.layout import default_root as default_root
from lab.sandbox.layout import pushed_tags as pushed_tags
from lab.sandbox.layout import read_json as read_json
from lab.sandbox.registry import NGINX, EmbeddedRegistry

DEFAULT_SPEED = 100.0
# The Flux minor the sandbox emulates: 2.9 serves image.toolkit.fluxcd.io/v1 only; 2.8 still serves the
# course text's v1beta2 (deprecated), so its manifests can be applied as written.
FLUX_VERSIONS: dict[str, tuple[str, ...]] = {"2.8": ("v1", "v1beta2"), "2.9": ("v1",)}
DEFAULT_FLUX = "2.9"


def check_flux(flux: str) -> str:
    if flux not in FLUX_VERSIONS:
        raise LabError(
            f"Flux {flux!r} is not a sandbox world", hint=f"choose one of {', '.join(FLUX_VERSIONS)}"
        )
    return flux


def write_json_atomic(path: Path, data: Any, mode: int = 0o600) -> None:
    write_atomic(path, json.dumps(data, indent=1, sort_keys=True).encode("utf-8"), mode=mode)


def lock_holder_alive(paths: SandboxPaths) -> bool:
    """True while a supervisor holds the lock of this sandbox (a killed one releases it at once)."""
    if not paths.lock.exists():
        return False
    with open(paths.lock, "a+") as fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return True
        fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
        return False


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


PracticeMaker = Callable[[Path, Path, str | None], object]
"""Makes a practice repository (workspace, its bare origin, task): the services' `new_practice_repo`, which
adds what a learner's repository carries besides the starter (the Classroom workflow)."""


def _starter_only(workspace: Path, origin: Path, task: str | None) -> object:
    from lab.sandbox.practice import init_practice_repo

    return init_practice_repo(workspace, origin=origin, task=task)


def ensure_practice(
    paths: SandboxPaths, task: str | None = None, make: PracticeMaker = _starter_only
) -> None:
    """Create the practice repo and its origin on first use (with `make`); refuse a half-present pair."""
    ws_ok = (paths.workspace / ".git").exists()
    origin_ok = (paths.origin / "HEAD").is_file()
    if ws_ok and origin_ok:
        return
    if ws_ok != origin_ok:
        missing = paths.origin if ws_ok else paths.workspace
        raise LabError(
            f"sandbox {paths.root} is incomplete: {missing} is missing",
            hint=f"`lab sandbox reset --dir {paths.root}` starts it afresh (after saving your work)",
        )
    make(paths.workspace, paths.origin, task)


def served_task(paths: SandboxPaths, task: str | None = None) -> str:
    """The task the sandbox at `paths` is to serve: `task`, else the one it served (config.json), else the
    course's; refused (`require_task`) when this lab lacks it."""
    from lab.adapters.tasks import default_task_id

    wanted = task or str(read_json(paths.config).get("task") or "") or default_task_id()
    require_task(paths, wanted)
    return wanted


def require_task(paths: SandboxPaths, task_id: str) -> None:
    """Refuse a task this lab lacks before anything is started or moved: for the one the sandbox was made
    for (a course author's task, in a shell without its LAB_TASKS_PATH), say where it came from and how
    to go on; for any other, the catalogue's `no task` line."""
    from lab.adapters.tasks import recorded_task, task_folder, unknown_recorded_task

    try:
        task_folder(task_id)
    except LabError:
        try:
            made_for = recorded_task(paths.workspace)
        except LabError:
            made_for = None
        if made_for != task_id:
            raise
        flag = "" if paths.root == SandboxPaths.at().root else f" --dir {shlex.quote(str(paths.root))}"
        raise unknown_recorded_task(
            paths.workspace,
            task_id,
            made_for="the sandbox was made for",
            way_out=f"start it afresh on another task: lab sandbox reset{flag} --task ID",
        ) from None


def clear_stale_git_locks(repo: Path, older_than: float = 10.0) -> list[Path]:
    """Ref locks left by a git process killed mid-push would block every later push."""
    removed = []
    cutoff = time.time() - older_than
    for lock in [*repo.glob("refs/heads/**/*.lock"), *repo.glob("*.lock")]:
        with contextlib.suppress(OSError):
            if lock.stat().st_mtime < cutoff:
                lock.unlink()
                removed.append(lock)
    return removed


#: Where `flux bootstrap --path=./clusters/dev` writes them, for a task whose checks name no `sync_file`.
DEFAULT_SYNC_FILE = "clusters/dev/flux-system/gotk-sync.yaml"


def bootstrap_objects(task: str | None = None) -> list[dict[str, Any]]:
    """The flux-system GitRepository and Kustomization `flux bootstrap` leaves in a cluster: the task's
    starter's own (checks.toml `[params] sync_file`), so Flux syncs the path that task's repository has."""
    from lab.adapters.tasks import task_params
    from lab.core.yamlsafe import load_all
    from lab.sandbox.practice import starter_dir

    named = task_params(task).get("sync_file")
    path = starter_dir(task) / (named if isinstance(named, str) and named else DEFAULT_SYNC_FILE)
    if not path.is_file():
        raise LabError(
            f"the task's starter has no {path.name} for the sandbox to bootstrap Flux from",
            file=str(path),
            hint="set [params] sync_file in checks.toml to the starter's GitRepository/Kustomization file",
        )
    docs = load_all(path.read_text(encoding="utf-8"), str(path))
    return [json.loads(json.dumps(d.data, default=str)) for d in docs if isinstance(d.data, dict)]


class Supervisor:
    """API server + registry + controllers + control API for one sandbox directory."""

    def __init__(
        self,
        paths: SandboxPaths,
        *,
        speed: float = DEFAULT_SPEED,
        image_controllers: bool = True,
        flux: str | None = None,
        task: str | None = None,
        make_practice: PracticeMaker = _starter_only,
    ) -> None:
        self.paths = paths
        self.speed = speed
        self.make_practice = make_practice
        # The task whose starter and images this sandbox serves; None: what it served last, else the
        # course's current task.
        self.task = task
        # None: what this sandbox ran last (config.json), so a restart keeps its world.
        self.flux = check_flux(flux) if flux is not None else None
        self.image_controllers = image_controllers
        self.stopped = threading.Event()
        self.token = secrets.token_urlsafe(24)
        self._lock_fh: Any = None
        self.api: Any = None
        self.registry: EmbeddedRegistry | None = None
        self.controllers: Any = None
        self._control: LoopbackServer | None = None
        self._control_thread: threading.Thread | None = None
        self._state_lock = threading.Lock()
        self.mirror: dict[str, str] = {}

    # --- lifecycle ------------------------------------------------------------------------------------

    def _acquire(self) -> None:
        self.paths.root.mkdir(parents=True, exist_ok=True)
        fh = open(self.paths.lock, "a+")  # noqa: SIM115 - held for the supervisor's lifetime
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.close()
            raise LabError(
                f"the sandbox in {self.paths.root} is already running",
                hint="`lab sandbox status` shows it; `lab sandbox down` stops it",
            ) from None
        self._lock_fh = fh

    def start(self) -> dict[str, Any]:
        from lab.adapters.registry import RegistryClient
        from lab.sandbox.controllers import Clock, Controllers
        from lab.sandbox.kubeapi import KubeAPIServer
        from lab.sandbox.kubeapi.world import default_flux_version

        self._acquire()
        try:
            config = read_json(self.paths.config)
            self.task = self._choose_task(str(config.get("task") or "") or None)
            ensure_practice(self.paths, self.task, self.make_practice)
            clear_stale_git_locks(self.paths.origin)
            shutil.rmtree(self.paths.cache, ignore_errors=True)
            if self.flux is None:
                saved = str(config.get("flux") or DEFAULT_FLUX)
                self.flux = saved if saved in FLUX_VERSIONS else DEFAULT_FLUX
            image_api_versions = FLUX_VERSIONS[self.flux]
            state = read_json(self.paths.registry_state)
            self.registry = EmbeddedRegistry(self.task, as_of=state.get("as_of") or None)
            for repo, tags in pushed_tags(self.paths).items():
                self.registry.push_tags(repo, tags)
            registry_addr = self._start_registry(int(config.get("registry_port") or 0))
            token, certificate = self._credentials()
            self.api = KubeAPIServer(
                self.paths.kube_state,
                token=token,
                certificate=certificate,
                image_controllers=self.image_controllers,
                image_api_versions=image_api_versions,
                flux_version=default_flux_version(image_api_versions),
            )
            api_url = self._start_api(int(config.get("api_port") or 0))
            # It listens where it did before it stopped: what did not answer there now does.
            forget_silence(self.api.url)
            self.api.write_kubeconfig(self.paths.kubeconfig)
            for obj in bootstrap_objects(self.task):
                meta = obj.get("metadata") or {}
                if self.api.get(obj["kind"], meta["name"], meta.get("namespace") or "flux-system") is None:
                    self.api.put(obj)
            # Every registry host the task's images live on is served here (several hosts, one registry).
            self.mirror = {host: registry_addr for host in self._image_hosts()}
            mirror = self.mirror
            self.controllers = Controllers(
                self.api,
                origin=self.paths.origin,
                cache_dir=self.paths.cache,
                registry_client=lambda: RegistryClient(registry_mirror=mirror, retries=1, deadline=20),
                clock=Clock(speed=self.speed),
                registry_hosts=mirror,
            )
            self.controllers.start()
            control_port = self._start_control()
            write_json_atomic(
                self.paths.config,
                {
                    **config,
                    "api_port": int(api_url.rsplit(":", 1)[1]),
                    "registry_port": int(registry_addr.rsplit(":", 1)[1]),
                    "flux": self.flux,
                    "task": self.task,
                },
            )
            info = {
                "pid": os.getpid(),
                "api": api_url,
                "registry": registry_addr,
                "control": f"http://127.0.0.1:{control_port}",
                "token": self.token,
                "mirror": self.mirror,
                "task": self.task,
                "speed": self.speed,
                "image_controllers": self.image_controllers,
                "flux": self.flux,
                "flux_version": self.api.flux_version,
                "image_api_versions": list(image_api_versions),
                "workspace": str(self.paths.workspace),
                "kubeconfig": str(self.paths.kubeconfig),
                "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            }
            write_json_atomic(self.paths.runtime, info)
            return info
        except BaseException:
            self.stop()
            raise

    def _image_hosts(self) -> list[str]:
        """Docker Hub (what bare names mean), and the registry host of every image the task declares."""
        return sorted(self.registry.hosts if self.registry is not None else {DEFAULT_REGISTRY})

    def _choose_task(self, saved: str | None) -> str:
        """The task to serve: the one asked for, else the one this sandbox served, else the course's.

        A sandbox's practice repository is one task's starter: serving another task's images to it would
        grade nothing it holds, so a different task needs `lab sandbox reset` first."""
        wanted = served_task(self.paths, self.task)
        if saved and wanted != saved and (self.paths.workspace / ".git").exists():
            raise LabError(
                f"the sandbox in {self.paths.root} practises task {saved}, not {wanted}",
                hint=f"`lab sandbox reset --dir {self.paths.root}` (after saving your work), then "
                f"`lab sandbox up --task {wanted}`",
            )
        return wanted

    def _credentials(self) -> tuple[str, ServerCertificate]:
        """The API server's token and certificate: this sandbox's, or new ones on first start."""
        from lab.sandbox.tls import ServerCertificate, self_signed

        saved = read_json(self.paths.credentials)
        try:
            token = str(saved["token"])
            cert = ServerCertificate(str(saved["cert"]).encode("ascii"), str(saved["key"]).encode("ascii"))
            cert.server_context()  # a damaged file is replaced, not trusted
            if len(token) >= 32:
                return token, cert
        except (KeyError, ValueError, OSError, ssl.SSLError):
            pass
        token, cert = secrets.token_urlsafe(32), self_signed()
        write_json_atomic(
            self.paths.credentials,
            {"token": token, "cert": cert.cert_pem.decode("ascii"), "key": cert.key_pem.decode("ascii")},
        )
        return token, cert

    def _start_registry(self, port: int) -> str:
        assert self.registry is not None
        try:
            return self.registry.start(port)
        except OSError:
            return self.registry.start()

    def _start_api(self, port: int) -> str:
        self.api.port = port
        try:
            return str(self.api.start())
        except OSError:
            self.api.port = 0
            return str(self.api.start())

    def stop(self) -> None:
        """Stop everything this supervisor started; idempotent."""
        self.stopped.set()
        if self._control is not None:
            control, self._control = self._control, None
            control.shutdown()
            control.server_close()
            if self._control_thread is not None:
                self._control_thread.join(5)
        if self.controllers is not None:
            self.controllers.stop()
            self.controllers = None
        if self.api is not None:
            self.api.stop()
            self.api = None
        if self.registry is not None:
            self.registry.stop()
            self.registry = None
        if self._lock_fh is not None:
            info = read_json(self.paths.runtime)
            if info.get("pid") == os.getpid():
                with contextlib.suppress(OSError):
                    self.paths.runtime.unlink()
            with contextlib.suppress(OSError):
                fcntl.flock(self._lock_fh.fileno(), fcntl.LOCK_UN)
            self._lock_fh.close()
            self._lock_fh = None

    def serve_forever(self) -> None:
        """Block until SIGINT/SIGTERM or a control `stop`, then stop cleanly."""
        previous = {}
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            previous[sig] = signal.signal(sig, lambda *_: self.stopped.set())
        try:
            while not self.stopped.wait(0.5):
                pass
        finally:
            self.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    # --- operations (called by the control API) -------------------------------------------------------

    def served_repository(self, image: str | None) -> str:
        """The registry path `image` is served at (None: the task's first image); refuses other hosts."""
        from lab.core.imagename import ImageNameError, parse_image

        if not image:
            return self.primary_image
        try:
            parsed = parse_image(image)
        except ImageNameError as err:
            raise LabError(err.message, hint=err.hint) from None
        if parsed.registry not in self.mirror:
            served = ", ".join(sorted(h.replace("index.docker.io", "docker.io") for h in self.mirror))
            raise LabError(
                f"the sandbox registry serves {served}, not {parsed.registry}",
                hint=f"push to an image the task declares, e.g. lab sandbox push-tag {self.primary_image}:TAG",
            )
        declared = self.registry.task.meta.images if self.registry is not None else ()
        if declared and self.registry is not None and self.registry.task.image(image) is None:
            # A typo would publish where no ImageRepository of the task looks, and nothing would happen.
            raise LabError(
                f"{image} is not an image of task {self.registry.task.id}",
                hint=f"it declares {', '.join(i.name for i in declared)}; "
                f"e.g. lab sandbox push-tag {declared[0].name}:TAG",
            )
        return parsed.repository

    def _scanners(self, image: str | None) -> tuple[str, list[str]]:
        """The declared name of `image` (None: the task's first) and the ImageRepositories that scan it."""
        from lab.core.imagename import ImageNameError, parse_image

        task = self.registry.task if self.registry is not None else None
        found = task.image(image) if task is not None and image else None
        first = next(iter(task.meta.images), None) if task is not None else None
        name = found.name if found else (image or (first.name if first else NGINX))
        try:
            target = parse_image(name)
            repos = self.api.list("ImageRepository") if self.api is not None else []
        except (ImageNameError, LabError, KeyError, ValueError):
            return name, []
        scanners = []
        for obj in repos:
            try:
                scanned = parse_image(str((obj.get("spec") or {}).get("image") or ""))
            except ImageNameError:
                continue
            if (scanned.registry, scanned.repository) == (target.registry, target.repository):
                scanners.append(str((obj.get("metadata") or {}).get("name") or ""))
        return name, sorted(s for s in scanners if s)

    @property
    def primary_image(self) -> str:
        """The registry path of the task's first image: where a bare `push-tag TAG` goes."""
        return self.registry.primary if self.registry is not None else NGINX

    def push_tag(self, tag: str | None, image: str | None = None) -> dict[str, Any]:
        assert self.registry is not None
        named = image
        image = self.served_repository(image)
        with self._state_lock:
            pushed = pushed_tags(self.paths)
            event_date = None
            if image == self.primary_image:
                event_date = self._event_date(tag)
            picked = False
            if tag is None and event_date is None and not self._has_events():
                # No dated releases to replay: the next release is the tag the task's policy picks next,
                # as CI would push it (a learner's `t` means "a new release"; one by name is the same).
                # `--image` names another of the task's images: the next tag its own policy picks.
                tag, picked = self._next_pick_of(image), True
                if tag is None:
                    raise self._nothing_dated()
            if event_date is not None:
                added = self.registry.advance_to(event_date)
            elif tag is None:
                raise self._nothing_dated()
            else:
                try:
                    added = self.registry.push_tags(image, [tag])
                except ValueError as err:
                    raise LabError(str(err), hint="tags match [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}") from None
                if added:
                    pushed.setdefault(image, []).extend(added)
            # A task of several images: each image its policies track has a next release too (CI
            # releases them all), where only the first image's was published.
            also = self._publish_others(pushed) if picked and named is None else []
            write_json_atomic(
                self.paths.registry_state,
                {"as_of": self.registry.as_of.strftime("%Y-%m-%dT%H:%M:%SZ"), "pushed": pushed},
            )
            declared, scanners = self._scanners(named)
            return {
                "also": also,
                "image": image,
                "declared": declared,
                "image_repositories": scanners,
                "added": added,
                "as_of": self.registry.as_of.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "event": event_date,
                "picked": picked,
            }

    def _publish_others(self, pushed: dict[str, list[str]]) -> list[dict[str, Any]]:
        """Publish the next tag of each of the task's images but the first that a policy of the task's
        solution tracks (the one that policy picks next, as `_next_pick` does for the first); what each
        got, as {image, declared, added}. Recorded in `pushed`."""
        assert self.registry is not None
        out: list[dict[str, Any]] = []
        for name, _ in self._solution_policies():
            path = self.served_repository(name)
            if path == self.primary_image or path in {o["image"] for o in out}:
                continue
            tag = self._next_pick_of(path)
            if tag is None:
                continue
            added = self.registry.push_tags(path, [tag])
            pushed.setdefault(path, []).extend(added)
            out.append({"image": path, "declared": name, "added": added})
        return out

    def _next_pick_of(self, path: str) -> str | None:
        """`_next_pick` for the image served at `path`: the first image's by the task's `[generate]`,
        another's by the first policy of the task's solution that tracks it (None: none does)."""
        from lab.core.policy import next_pick

        assert self.registry is not None
        if path == self.primary_image:
            return self._next_pick()
        spec = next((s for n, s in self._solution_policies() if self.served_repository(n) == path), None)
        return next_pick(spec, self.registry.tags(path)) if spec is not None else None

    def _solution_policies(self) -> list[tuple[str, PolicySpec]]:
        """(declared image, policy) for each ImagePolicy of the task's solution whose ImageRepository
        scans one of the task's images, in the solution's order."""
        from lab.adapters.tasks import solution_files
        from lab.core.manifests.parse import find_automation

        assert self.registry is not None
        task = self.registry.task
        texts: dict[str, str] = {}
        for rel, path in solution_files(task).items():
            if rel.endswith((".yaml", ".yml")):
                try:
                    texts[rel] = path.read_text(encoding="utf-8")
                except (OSError, UnicodeDecodeError):
                    continue
        aset = find_automation(texts)
        found: list[tuple[str, PolicySpec]] = []
        for policy in aset.policies:
            repo = aset.repository(*policy.repository_key)
            image = task.image(repo.image) if repo is not None and repo.image else None
            if image is not None and policy.policy is not None:
                found.append((image.name, policy.policy))
        return found

    def _has_events(self) -> bool:
        assert self.registry is not None
        first = next(iter(self.registry.task.meta.images), None)
        return first is None or first.events is not None

    def _next_pick(self) -> str | None:
        """The tag the task's own policy (its `[generate]`, as `lab generate` writes it) picks next from
        what is served now: its number raised by one (1.4.2 -> 1.4.3)."""
        from lab.core.manifests.generate import options_from_mapping, selection
        from lab.core.policy import next_pick

        assert self.registry is not None
        served = self.registry.tags(self.primary_image)
        return next_pick(selection(options_from_mapping(self.registry.task.meta.generate)), served)

    def _nothing_dated(self) -> LabError:
        """Why a bare push-tag has nothing to publish, and a tag to push by name that the task's own
        policy would pick (`_next_pick`) when there is one."""
        assert self.registry is not None
        task = self.registry.task
        first = next(iter(task.meta.images), None)
        if not self._has_events() and first is not None:
            message = (
                f"task {task.id} has no events and its policy picks no next tag of {first.name} "
                "(an image's `events` in task.toml [[images]], a JSON list of {date, tags}, lists releases)"
            )
        else:
            message = "no dated tags left to publish: the task's events are all out"
        suggested = self._next_pick()
        if suggested is None:
            return LabError(message, hint="push a tag by name: lab sandbox push-tag TAG")
        return LabError(
            message,
            hint=f"push a tag by name, e.g. {suggested}, which the task's policy picks: "
            f"lab sandbox push-tag {suggested}",
        )

    def _event_date(self, tag: str | None) -> str | None:
        """The date of the next unpublished event (tag None), or of the event that publishes `tag`."""
        assert self.registry is not None
        nxt = self.registry.next_event()
        if tag is None:
            return nxt[0].strftime("%Y-%m-%dT%H:%M:%SZ") if nxt else None
        for when, tags in self.registry._events[self.registry._applied :]:
            if tag in tags:
                return when.strftime("%Y-%m-%dT%H:%M:%SZ")
        return None

    def install_image_controllers(self) -> dict[str, Any]:
        self.api.set_image_controllers(True)
        self.image_controllers = True
        info = read_json(self.paths.runtime)
        if info:
            info["image_controllers"] = True
            write_json_atomic(self.paths.runtime, info)
        return {"installed": True}

    def status(self) -> dict[str, Any]:
        assert self.registry is not None
        nxt = self.registry.next_event()
        return {
            "pid": os.getpid(),
            "as_of": self.registry.as_of.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "next_event": {"date": nxt[0].strftime("%Y-%m-%dT%H:%M:%SZ"), "tags": nxt[1][:5]}
            if nxt
            else None,
            "image_controllers": bool(self.api and self.api.image_controllers),
            "flux": self.flux,
            "flux_version": self.api.flux_version if self.api else None,
            "image_api_versions": list(self.api.image_api_versions) if self.api else [],
            "passes": self.controllers.passes if self.controllers else 0,
            "errors": list(self.controllers.errors) if self.controllers else [],
            "automation_runs": self.controllers.automation.runs if self.controllers else 0,
        }

    # --- control API ----------------------------------------------------------------------------------

    def _start_control(self) -> int:
        handler = type("Handler", (_ControlHandler,), {"supervisor": self})
        server = LoopbackServer(("127.0.0.1", 0), handler)
        self._control = server
        self._control_thread = serve_in_thread(server, "sandbox-control")
        return server.port


class _ControlHandler(LoopbackHandler):
    """The supervisor's control API: bearer token from runtime.json, local callers only."""

    supervisor: Supervisor

    def _handle(self, method: str) -> None:
        sup = self.supervisor
        refused = self.foreign_origin()
        if refused is not None:
            self.close_connection = True
            self.send_json(403, {"error": refused})
            return
        if not self.bearer_ok(sup.token):
            self.send_json(401, {"error": "unauthorized"})
            return
        length = self.content_length()
        if length > MAX_CONTROL_BODY:
            self.drain(length, 4 * MAX_CONTROL_BODY)
            self.send_json(413, {"error": "request too large"})
            return
        try:
            body = json.loads(self.rfile.read(length) or b"{}") if length else {}
        except ValueError:
            body = {}
        body = body if isinstance(body, dict) else {}
        route = _CONTROL_ROUTES.get((method, self.path))
        if route is None:
            self.send_json(404, {"error": f"no such operation {method} {self.path}"})
            return
        try:
            self.send_json(200, route(sup, body))
        except LabError as err:
            self.send_json(400, {"error": err.message, "hint": err.hint or ""})

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")


def _push_tag(sup: Supervisor, body: dict[str, Any]) -> dict[str, Any]:
    tag = body.get("tag")
    image = body.get("image")
    return sup.push_tag(str(tag) if tag else None, str(image) if image else None)


def _stop(sup: Supervisor, body: dict[str, Any]) -> dict[str, Any]:
    sup.stopped.set()
    return {"stopping": True}


MAX_CONTROL_BODY = 64 * 1024
_CONTROL_ROUTES: dict[tuple[str, str], Callable[[Supervisor, dict[str, Any]], dict[str, Any]]] = {
    ("GET", "/status"): lambda sup, body: sup.status(),
    ("POST", "/push-tag"): _push_tag,
    ("POST", "/install-image-controllers"): lambda sup, body: sup.install_image_controllers(),
    ("POST", "/stop"): _stop,
}
