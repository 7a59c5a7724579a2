"""The sandbox's image-reflector-controller against an in-process API server and a stub registry, with
the solution's ImageRepository and ImagePolicy (`nginx` in flux-system): `reconcile_now` is one
reconcile of each object."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import yaml

from lab.adapters.registry import ScanResult
from lab.sandbox.controllers.common import Clock
from lab.sandbox.controllers.reflector import ReflectorController
from lab.sandbox.kubeapi import KubeAPIServer
from tests.support.taskfiles import POLICY, REPO, solution_text

NS = "flux-system"
TAGS = ("1.25.0", "1.25.1", "1.25.3", "1.26.0")


class StubRegistry:
    """The registry client the reflector opens (a class: it makes one per scan, so the state is the
    class's): `library/nginx` has TAGS while `up`; any other image, or every image while down, fails
    with `failure`; `scans` counts the scans. A test module subclasses it with its own `failure`."""

    up = True
    scans = 0
    failure = "scan failed: UNAUTHORIZED"

    def __enter__(self) -> StubRegistry:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def scan(self, image: str, exclusion: Any, check: bool = False) -> ScanResult:
        from lab.adapters.registry.names import parse_image

        type(self).scans += 1
        canonical = parse_image(image, mirrors={}).canonical  # as the real client names it
        if type(self).up and image == "library/nginx":
            message = f"successful scan: found {len(TAGS)} tags with checksum 1234"
            return ScanResult(canonical, TAGS, len(TAGS), TAGS, "1234", message)
        return ScanResult(canonical, (), 0, (), "", self.failure, False, "ReadOperationFailed")

    def digest(self, image: str, tag: str) -> str:
        return ""


@contextmanager
def stub_reflector(registry: type[StubRegistry]) -> Iterator[ReflectorController]:
    """A reflector scanning through `registry` (up, no scans counted yet)."""
    registry.up, registry.scans = True, 0
    with KubeAPIServer() as api:
        api.put(yaml.safe_load(solution_text(REPO)))
        api.put(yaml.safe_load(solution_text(POLICY)))
        yield ReflectorController(api, registry, Clock(speed=1000.0))


def nginx_object(ctl: ReflectorController, kind: str) -> dict[str, Any]:
    obj = ctl.api.get(kind, "nginx", NS)
    assert obj is not None
    return obj


def reconcile_now(ctl: ReflectorController) -> None:
    ctl.schedule.due.clear()  # due now, as after its interval
    ctl.tick()


def edit_spec(ctl: ReflectorController, kind: str, change: Callable[[dict[str, Any]], object]) -> int:
    """Change the object's spec (the API server bumps its generation); the new generation."""
    body = copy.deepcopy(nginx_object(ctl, kind))
    body.pop("status", None)
    change(body["spec"])
    stored = ctl.api.put(body)
    return int(stored["metadata"]["generation"])
