"""The sandbox world on disk and the supervisor process that runs it.

Layout of a sandbox directory (default `$XDG_DATA_HOME/fluxlab/sandbox`, or `--dir D`):

    gitops-lab/             the learner's working copy (the practice repo)
    gitops-lab-origin.git/  its bare origin, which every GitRepository is served from
    kubeapi.json            the API server's objects (atomic writes)
    kubeconfig              points kubectl and the kubernetes client at the API server
    registry.json           what the embedded registry has published beyond the snapshot
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
import shutil
import signal
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from lab.adapters.files import write_atomic
from lab.errors import LabError
from lab.sandbox.registry import NGINX, EmbeddedRegistry

WORKSPACE = "gitops-lab"
ORIGIN = "gitops-lab-origin.git"
DEFAULT_SPEED = 100.0
# The Flux minor the sandbox emulates: 2.9 serves image.toolkit.fluxcd.io/v1 only; 2.8 still serves the
# course text's v1beta2 (deprecated), so its manifests can be applied as written (flux.md 1.1).
FLUX_VERSIONS: dict[str, tuple[str, ...]] = {"2.8": ("v1", "v1beta2"), "2.9": ("v1",)}
DEFAULT_FLUX = "2.9"


def check_flux(flux: str) -> str:
    if flux not in FLUX_VERSIONS:
        raise LabError(
            f"Flux {flux!r} is not a sandbox world", hint=f"choose one of {', '.join(FLUX_VERSIONS)}"
        )
    return flux


def default_root() -> Path:
    """The same place `lab` (lab.services.session) keeps its default sandbox workspace."""
    from lab.resources import data_home

    return data_home() / "sandbox"


@dataclass(frozen=True)
class SandboxPaths:
    root: Path

    @classmethod
    def at(cls, directory: str | Path | None = None) -> SandboxPaths:
        root = Path(directory).expanduser() if directory else default_root()
        return cls(root.absolute())

    @property
    def workspace(self) -> Path:
        return self.root / WORKSPACE

    @property
    def origin(self) -> Path:
        return self.root / ORIGIN

    @property
    def kube_state(self) -> Path:
        return self.root / "kubeapi.json"

    @property
    def kubeconfig(self) -> Path:
        return self.root / "kubeconfig"

    @property
    def registry_state(self) -> Path:
        return self.root / "registry.json"

    @property
    def config(self) -> Path:
        return self.root / "config.json"

    @property
    def runtime(self) -> Path:
        return self.root / "runtime.json"

    @property
    def lock(self) -> Path:
        return self.root / "supervisor.lock"

    @property
    def log(self) -> Path:
        return self.root / "supervisor.log"

    @property
    def cache(self) -> Path:
        return self.root / "cache"


def write_json_atomic(path: Path, data: Any, mode: int = 0o600) -> None:
    write_atomic(path, json.dumps(data, indent=1, sort_keys=True).encode("utf-8"), mode=mode)


def read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


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


def ensure_practice(paths: SandboxPaths) -> None:
    """Create the practice repo and its origin on first use; refuse a half-present pair."""
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
    from lab.sandbox.practice import init_practice_repo

    init_practice_repo(paths.workspace, origin=paths.origin)


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


class SandboxRegistry(EmbeddedRegistry):
    """The embedded registry on a chosen port (its `start` always takes a free one)."""

    def start_on(self, port: int) -> str:
        from lab.sandbox import registry as reg

        if port <= 0:
            return self.start()
        handler = type("Handler", (reg._Handler,), {"registry": self})
        server = reg._Server(("127.0.0.1", port), handler)
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="embedded-registry", daemon=True
        )
        self._thread.start()
        return self.address


def bootstrap_objects() -> list[dict[str, Any]]:
    """The flux-system GitRepository and Kustomization `flux bootstrap` leaves in a cluster."""
    from lab.core.yamlsafe import load_all
    from lab.sandbox.practice import starter_dir

    path = starter_dir() / "clusters" / "dev" / "flux-system" / "gotk-sync.yaml"
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
    ) -> None:
        self.paths = paths
        self.speed = speed
        # None: what this sandbox ran last (config.json), so a restart keeps its world.
        self.flux = check_flux(flux) if flux is not None else None
        self.image_controllers = image_controllers
        self.stopped = threading.Event()
        self.token = secrets.token_urlsafe(24)
        self._lock_fh: Any = None
        self.api: Any = None
        self.registry: SandboxRegistry | None = None
        self.controllers: Any = None
        self._control: ThreadingHTTPServer | None = None
        self._control_thread: threading.Thread | None = None
        self._state_lock = threading.Lock()

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
        from lab.sandbox.kubeapi import KubeAPIServer, write_kubeconfig
        from lab.sandbox.kubeapi.world import default_flux_version

        self._acquire()
        try:
            ensure_practice(self.paths)
            clear_stale_git_locks(self.paths.origin)
            shutil.rmtree(self.paths.cache, ignore_errors=True)
            config = read_json(self.paths.config)
            if self.flux is None:
                saved = str(config.get("flux") or DEFAULT_FLUX)
                self.flux = saved if saved in FLUX_VERSIONS else DEFAULT_FLUX
            image_api_versions = FLUX_VERSIONS[self.flux]
            state = read_json(self.paths.registry_state)
            self.registry = SandboxRegistry(as_of=state.get("as_of") or None)
            for repo, tags in (state.get("pushed") or {}).items():
                self.registry.push_tags(str(repo), [str(t) for t in tags])
            registry_addr = self._start_registry(int(config.get("registry_port") or 0))
            self.api = KubeAPIServer(
                self.paths.kube_state,
                image_controllers=self.image_controllers,
                image_api_versions=image_api_versions,
                flux_version=default_flux_version(image_api_versions),
            )
            api_url = self._start_api(int(config.get("api_port") or 0))
            write_kubeconfig(self.paths.kubeconfig, api_url)
            for obj in bootstrap_objects():
                meta = obj.get("metadata") or {}
                if self.api.get(obj["kind"], meta["name"], meta.get("namespace") or "flux-system") is None:
                    self.api.put(obj)
            mirror = {"docker.io": registry_addr}
            self.controllers = Controllers(
                self.api,
                origin=self.paths.origin,
                cache_dir=self.paths.cache,
                registry_client=lambda: RegistryClient(registry_mirror=mirror, retries=1, deadline=20),
                clock=Clock(speed=self.speed),
                message_hosts={f"http://{registry_addr}": "https://index.docker.io"},
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
                },
            )
            info = {
                "pid": os.getpid(),
                "api": api_url,
                "registry": registry_addr,
                "control": f"http://127.0.0.1:{control_port}",
                "token": self.token,
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

    def _start_registry(self, port: int) -> str:
        assert self.registry is not None
        try:
            return self.registry.start_on(port)
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

    def push_tag(self, tag: str | None, image: str = NGINX) -> dict[str, Any]:
        assert self.registry is not None
        with self._state_lock:
            state = read_json(self.paths.registry_state)
            pushed: dict[str, list[str]] = {
                str(k): [str(t) for t in v] for k, v in (state.get("pushed") or {}).items()
            }
            event_date = None
            if image == NGINX:
                event_date = self._event_date(tag)
            if event_date is not None:
                added = self.registry.advance_to(event_date)
            elif tag is None:
                raise LabError(
                    "no dated tags left to publish: the snapshot's events are all out",
                    hint="push any tag by name: lab sandbox push-tag 1.99.0",
                )
            else:
                try:
                    added = self.registry.push_tags(image, [tag])
                except ValueError as err:
                    raise LabError(str(err), hint="tags match [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}") from None
                if added:
                    pushed.setdefault(image, []).extend(added)
            write_json_atomic(
                self.paths.registry_state,
                {"as_of": self.registry.as_of.strftime("%Y-%m-%dT%H:%M:%SZ"), "pushed": pushed},
            )
            return {
                "image": image,
                "added": added,
                "as_of": self.registry.as_of.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "event": event_date,
            }

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
        supervisor = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def _reply(self, code: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _handle(self, method: str) -> None:
                auth = self.headers.get("Authorization") or ""
                if not secrets.compare_digest(auth.encode(), f"Bearer {supervisor.token}".encode()):
                    self._reply(401, {"error": "unauthorized"})
                    return
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    body = json.loads(self.rfile.read(length) or b"{}") if length else {}
                except ValueError:
                    body = {}
                try:
                    if method == "GET" and self.path == "/status":
                        self._reply(200, supervisor.status())
                    elif method == "POST" and self.path == "/push-tag":
                        tag = body.get("tag")
                        result = supervisor.push_tag(
                            str(tag) if tag else None, str(body.get("image") or NGINX)
                        )
                        self._reply(200, result)
                    elif method == "POST" and self.path == "/install-image-controllers":
                        self._reply(200, supervisor.install_image_controllers())
                    elif method == "POST" and self.path == "/stop":
                        self._reply(200, {"stopping": True})
                        supervisor.stopped.set()
                    else:
                        self._reply(404, {"error": f"no such operation {method} {self.path}"})
                except LabError as err:
                    self._reply(400, {"error": err.message, "hint": err.hint or ""})

            def do_GET(self) -> None:
                self._handle("GET")

            def do_POST(self) -> None:
                self._handle("POST")

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        self._control = server
        self._control_thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="sandbox-control", daemon=True
        )
        self._control_thread.start()
        return int(server.server_address[1])
