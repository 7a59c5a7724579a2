"""A failed ImageRepository scan changes neither the tag database nor the status observations, as in Flux.

image-reflector-controller v1.2.0 (Flux 2.9; v1.1.2 the same), internal/controller/
imagerepository_controller.go: `scan` (:420-456) returns the registry's error before `Database.SetTags`
(:443), and `reconcile` returns on it (:312-316) before setting status.canonicalImageName and
status.observedExclusionList (:336-338). So the tags of the last successful scan stay, and the
ImagePolicies go on resolving from them (imagepolicy_controller.go :520 reads the database by the
repository and its status.canonicalImageName) while the registry is unreachable.

The controller runs against an in-process API server; one `tick()` is one reconcile of each object."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from lab.sandbox.controllers.reflector import ReflectorController
from tests.support.reflector_stub import (
    StubRegistry,
    edit_spec,
    nginx_object,
    reconcile_now,
    stub_reflector,
)

SCAN_FAILED = "scan failed: GET https://index.docker.io/v2/library/nginx/tags/list: UNAUTHORIZED"


class Registry(StubRegistry):
    failure = SCAN_FAILED


@pytest.fixture
def reflector() -> Iterator[ReflectorController]:
    with stub_reflector(Registry) as ctl:
        yield ctl


def _ready(ctl: ReflectorController, kind: str) -> tuple[str, str, str]:
    cond = next(c for c in nginx_object(ctl, kind)["status"]["conditions"] if c["type"] == "Ready")
    return cond["status"], cond["reason"], cond["message"]


def test_a_failed_scan_keeps_the_tags_and_the_policy_resolves_from_them(
    reflector: ReflectorController,
) -> None:
    reconcile_now(reflector)
    assert nginx_object(reflector, "ImagePolicy")["status"]["latestRef"] == {
        "name": "library/nginx",
        "tag": "1.25.3",
    }

    Registry.up = False
    for _ in range(2):
        reconcile_now(reflector)
        assert _ready(reflector, "ImageRepository") == ("False", "ReadOperationFailed", SCAN_FAILED)
        assert _ready(reflector, "ImagePolicy")[0] == "True"
    # The policy changes while the registry is down: it resolves from the tags of the last good scan.
    edit_spec(reflector, "ImagePolicy", lambda s: s["policy"]["semver"].update(range="1.26.x"))
    reconcile_now(reflector)
    pol = nginx_object(reflector, "ImagePolicy")
    assert _ready(reflector, "ImagePolicy")[:2] == ("True", "Succeeded")
    assert pol["status"]["latestRef"] == {"name": "library/nginx", "tag": "1.26.0"}

    # A restarted controller has an empty database: only then does the policy wait for tags.
    reflector.forget_tags()
    reconcile_now(reflector)
    assert _ready(reflector, "ImagePolicy")[:2] == ("False", "DependencyNotReady")


def test_a_failed_scan_sets_no_canonical_name_or_exclusion_list(reflector: ReflectorController) -> None:
    Registry.up = False
    reconcile_now(reflector)
    st = nginx_object(reflector, "ImageRepository")["status"]
    assert "canonicalImageName" not in st and "observedExclusionList" not in st, "a first scan failed"

    Registry.up = True
    reconcile_now(reflector)
    st = nginx_object(reflector, "ImageRepository")["status"]
    assert st["canonicalImageName"] == "index.docker.io/library/nginx"
    observed = st["observedExclusionList"]

    Registry.up = False
    edit_spec(reflector, "ImageRepository", lambda s: s.update(image="library/ngnix", exclusionList=["^v"]))
    reconcile_now(reflector)
    st = nginx_object(reflector, "ImageRepository")["status"]
    assert _ready(reflector, "ImageRepository")[1] == "ReadOperationFailed"
    assert st["canonicalImageName"] == "index.docker.io/library/nginx", "the last successful scan's"
    assert st["observedExclusionList"] == observed
    # The policy reads the tags stored under that name; its latestRef names spec.image (:406).
    edit_spec(reflector, "ImagePolicy", lambda s: s["policy"]["semver"].update(range="1.26.x"))
    reconcile_now(reflector)
    assert nginx_object(reflector, "ImagePolicy")["status"]["latestRef"] == {
        "name": "library/ngnix",
        "tag": "1.26.0",
    }


def test_a_failed_scan_of_a_new_exclusion_list_is_retried_with_backoff(
    reflector: ReflectorController,
) -> None:
    """The status keeps the old list, yet a retried failure waits for its backoff, not every tick."""
    reconcile_now(reflector)
    Registry.up = False
    edit_spec(reflector, "ImageRepository", lambda s: s.update(exclusionList=["^v"]))
    reconcile_now(reflector)
    scans = Registry.scans
    for _ in range(3):
        reflector.tick()
    assert Registry.scans == scans
