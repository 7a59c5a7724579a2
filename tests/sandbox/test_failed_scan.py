"""A failed ImageRepository scan changes neither the tag database nor the status observations, as in Flux.

image-reflector-controller v1.2.0 (Flux 2.9; v1.1.2 the same), internal/controller/
imagerepository_controller.go: `scan` (:420-456) returns the registry's error before `Database.SetTags`
(:443), and `reconcile` returns on it (:312-316) before setting status.canonicalImageName and
status.observedExclusionList (:336-338). So the tags of the last successful scan stay, and the
ImagePolicies go on resolving from them (imagepolicy_controller.go :520 reads the database by the
repository and its status.canonicalImageName) while the registry is unreachable.

The controller runs against an in-process API server; one `tick()` is one reconcile of each object."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from lab.adapters.registry import ScanResult
from lab.sandbox.controllers.common import Clock
from lab.sandbox.controllers.reflector import ReflectorController
from lab.sandbox.kubeapi import KubeAPIServer
from tests.support.taskfiles import POLICY, REPO, solution_text

NS = "flux-system"
TAGS = ("1.25.0", "1.25.1", "1.25.3", "1.26.0")
SCAN_FAILED = "scan failed: GET https://index.docker.io/v2/library/nginx/tags/list: UNAUTHORIZED"


class Registry:
    """The registry client the reflector opens: `library/nginx` has TAGS while `up`; it counts scans."""

    up = True
    scans = 0

    def __enter__(self) -> Registry:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def scan(self, image: str, exclusion: Any, check: bool = False) -> ScanResult:
        Registry.scans += 1
        if Registry.up and image == "library/nginx":
            message = f"successful scan: found {len(TAGS)} tags with checksum 1234"
            return ScanResult("docker.io/library/nginx", TAGS, len(TAGS), TAGS, "1234", message)
        return ScanResult(f"docker.io/{image}", (), 0, (), "", SCAN_FAILED, False, "ReadOperationFailed")

    def digest(self, image: str, tag: str) -> str:
        return ""


@pytest.fixture
def reflector() -> Iterator[ReflectorController]:
    Registry.up, Registry.scans = True, 0
    with KubeAPIServer() as api:
        api.put(yaml.safe_load(solution_text(REPO)))
        api.put(yaml.safe_load(solution_text(POLICY)))
        yield ReflectorController(api, Registry, Clock(speed=1000.0))


def _obj(ctl: ReflectorController, kind: str) -> dict[str, Any]:
    obj = ctl.api.get(kind, "nginx", NS)
    assert obj is not None
    return obj


def _ready(ctl: ReflectorController, kind: str) -> tuple[str, str, str]:
    cond = next(c for c in _obj(ctl, kind)["status"]["conditions"] if c["type"] == "Ready")
    return cond["status"], cond["reason"], cond["message"]


def _run(ctl: ReflectorController) -> None:
    ctl.schedule.due.clear()  # due now, as after its interval
    ctl.tick()


def _edit(ctl: ReflectorController, kind: str, change: Any) -> None:
    body = copy.deepcopy(_obj(ctl, kind))
    body.pop("status", None)
    change(body["spec"])
    ctl.api.put(body)


def test_a_failed_scan_keeps_the_tags_and_the_policy_resolves_from_them(
    reflector: ReflectorController,
) -> None:
    _run(reflector)
    assert _obj(reflector, "ImagePolicy")["status"]["latestRef"] == {"name": "library/nginx", "tag": "1.25.3"}

    Registry.up = False
    for _ in range(2):
        _run(reflector)
        assert _ready(reflector, "ImageRepository") == ("False", "ReadOperationFailed", SCAN_FAILED)
        assert _ready(reflector, "ImagePolicy")[0] == "True"
    # The policy changes while the registry is down: it resolves from the tags of the last good scan.
    _edit(reflector, "ImagePolicy", lambda s: s["policy"]["semver"].update(range="1.26.x"))
    _run(reflector)
    pol = _obj(reflector, "ImagePolicy")
    assert _ready(reflector, "ImagePolicy")[:2] == ("True", "Succeeded")
    assert pol["status"]["latestRef"] == {"name": "library/nginx", "tag": "1.26.0"}

    # A restarted controller has an empty database: only then does the policy wait for tags.
    reflector.forget_tags()
    _run(reflector)
    assert _ready(reflector, "ImagePolicy")[:2] == ("False", "DependencyNotReady")


def test_a_failed_scan_sets_no_canonical_name_or_exclusion_list(reflector: ReflectorController) -> None:
    Registry.up = False
    _run(reflector)
    st = _obj(reflector, "ImageRepository")["status"]
    assert "canonicalImageName" not in st and "observedExclusionList" not in st, "a first scan failed"

    Registry.up = True
    _run(reflector)
    st = _obj(reflector, "ImageRepository")["status"]
    assert st["canonicalImageName"] == "docker.io/library/nginx"
    observed = st["observedExclusionList"]

    Registry.up = False
    _edit(reflector, "ImageRepository", lambda s: s.update(image="library/ngnix", exclusionList=["^v"]))
    _run(reflector)
    st = _obj(reflector, "ImageRepository")["status"]
    assert _ready(reflector, "ImageRepository")[1] == "ReadOperationFailed"
    assert st["canonicalImageName"] == "docker.io/library/nginx", "the last successful scan's"
    assert st["observedExclusionList"] == observed
    # The policy reads the tags stored under that name; its latestRef names spec.image (:406).
    _edit(reflector, "ImagePolicy", lambda s: s["policy"]["semver"].update(range="1.26.x"))
    _run(reflector)
    assert _obj(reflector, "ImagePolicy")["status"]["latestRef"] == {"name": "library/ngnix", "tag": "1.26.0"}


def test_a_failed_scan_of_a_new_exclusion_list_is_retried_with_backoff(
    reflector: ReflectorController,
) -> None:
    """The status keeps the old list, yet a retried failure waits for its backoff, not every tick."""
    _run(reflector)
    Registry.up = False
    _edit(reflector, "ImageRepository", lambda s: s.update(exclusionList=["^v"]))
    _run(reflector)
    scans = Registry.scans
    for _ in range(3):
        reflector.tick()
    assert Registry.scans == scans
