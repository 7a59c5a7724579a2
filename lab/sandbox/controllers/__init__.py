"""The simulated Flux controllers of the sandbox, run by one background thread.

Each pass reconciles, in order, GitRepositories and Kustomizations (source/kustomize), ImageRepositories
and ImagePolicies (image-reflector) and ImageUpdateAutomations (image-automation), each object only when
it is due: its `interval` elapsed (scaled by `Clock.speed`), its spec changed, its inputs changed (a new
artifact revision, new tags, a policy's latestRef) or `reconcile.fluxcd.io/requestedAt` asks for it.
Between passes the thread sleeps until the API server changes or a short tick passes.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from lab.sandbox.controllers.automation import AutomationController
from lab.sandbox.controllers.common import Clock
from lab.sandbox.controllers.reflector import ReflectorController
from lab.sandbox.controllers.source import SourceControllers

if TYPE_CHECKING:
    from lab.adapters.registry import RegistryClient
    from lab.sandbox.kubeapi import KubeAPIServer

__all__ = ["Clock", "Controllers"]
log = logging.getLogger("fluxlab.sandbox")
TICK = 0.25
REFLECTOR = "image-reflector-controller"


class Controllers:
    def __init__(
        self,
        api: KubeAPIServer,
        *,
        origin: Path,
        cache_dir: Path,
        registry_client: Callable[[], RegistryClient],
        clock: Clock | None = None,
        registry_hosts: Mapping[str, str] | None = None,
    ) -> None:
        self.api = api
        self.clock = clock or Clock()
        self.source = SourceControllers(api, origin, cache_dir, self.clock)
        self.reflector = ReflectorController(api, registry_client, self.clock, registry_hosts=registry_hosts)
        self.automation = AutomationController(
            api, self.source.workspace, self.reflector._tag_source, self.clock
        )
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.passes = 0
        self.errors: list[str] = []
        self._was_running: dict[str, bool] = {}

    def image_controllers(self) -> bool:
        return bool(self.api.image_controllers) and self.api.image_group_served

    def running(self, component: str) -> bool:
        """A controller runs while its Deployment has replicas: `kubectl scale --replicas=0` stops it."""
        up = self.api.component_running(component)
        if up and not self._was_running.get(component, True) and component == REFLECTOR:
            # A new pod: the tag database lived on the old pod's emptyDir, so every repository rescans.
            self.reflector.forget_tags()
        self._was_running[component] = up
        return up

    def run_once(self) -> None:
        """One pass over every running controller; a failing controller is logged, the others still run.

        Whether a controller runs is decided right before its step, so a scale to zero that lands while
        an earlier step runs already holds for the later ones."""

        def source() -> None:
            git, kustomize = self.running("source-controller"), self.running("kustomize-controller")
            if git or kustomize:
                self.source.tick(git=git, kustomize=kustomize)

        def when_running(component: str, step: Callable[[], None]) -> Callable[[], None]:
            def run() -> None:
                if self.image_controllers() and self.running(component):
                    step()

            return run

        steps: list[tuple[str, Callable[[], None]]] = [
            ("source", source),
            ("image-reflector", when_running(REFLECTOR, self.reflector.tick)),
            ("image-automation", when_running("image-automation-controller", self.automation.tick)),
        ]
        for label, step in steps:
            if self._stop.is_set():
                return
            try:
                step()
            except Exception as err:
                text = f"{label}: {type(err).__name__}: {err}"
                log.exception("%s", text)
                self.errors = [*self.errors[-19:], text]
        self.passes += 1

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.run_once()
            since = self.api.resource_version
            if self._stop.is_set():
                return
            self.api.wait_for_change(since, TICK)
            # Writes by the learner come in bursts (kubectl apply of three objects): let them land.
            self._stop.wait(0.02)

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="flux-controllers", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 15.0) -> None:
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout)
