"""The sandbox API server's validation of Flux objects in every version it serves, not only storage."""

from __future__ import annotations

import pytest

from lab.core.manifests.models import IMAGE_GROUP
from lab.sandbox.kubeapi.resources import ResourceType
from lab.sandbox.kubeapi.store import ApiError
from lab.sandbox.kubeapi.validation import validate

POLICIES = ResourceType(IMAGE_GROUP, ("v1", "v1beta2"), "imagepolicies", "imagepolicy", "ImagePolicy", True)
GIT = ResourceType(
    "source.toolkit.fluxcd.io", ("v1",), "gitrepositories", "gitrepository", "GitRepository", True
)


@pytest.mark.parametrize("version", ["v1", "v1beta2"])
def test_the_imagepolicy_cel_rules_hold_in_every_version(version: str) -> None:
    """image-reflector-controller's v1beta2 CRD carries the same XValidation rules as v1: a policy with
    spec.interval and no digestReflectionPolicy: Always is refused in both."""
    policy = {
        "metadata": {"name": "nginx"},
        "spec": {
            "imageRepositoryRef": {"name": "nginx"},
            "policy": {"semver": {"range": "1.x"}},
            "interval": "5m",
        },
    }
    with pytest.raises(ApiError) as refused:
        validate(POLICIES, version, policy, "Strict")
    assert "spec.interval is only accepted when spec.digestReflectionPolicy is set to 'Always'" in str(
        refused.value
    )


@pytest.mark.parametrize(
    ("rt", "version", "spec"),
    [
        (
            POLICIES,
            "v1beta2",
            {"imageRepositoryRef": {"name": "nginx"}, "policy": {"semver": {"range": "1.x"}}},
        ),
        (GIT, "v1", {"url": "https://example.com/repo.git", "interval": "1m"}),
    ],
)
def test_a_field_objectmeta_lacks_is_named_in_every_group_and_version(
    rt: ResourceType, version: str, spec: dict[str, object]
) -> None:
    obj = {"metadata": {"name": "x", "lables": {"a": "b"}}, "spec": spec}
    with pytest.raises(ApiError) as refused:
        validate(rt, version, obj, "Strict")
    assert 'strict decoding error: unknown field "metadata.lables"' in str(refused.value)
    assert validate(rt, version, obj, "Warn") == ['unknown field "metadata.lables"']


AUTOMATIONS = ResourceType(
    IMAGE_GROUP,
    ("v1", "v1beta2"),
    "imageupdateautomations",
    "imageupdateautomation",
    "ImageUpdateAutomation",
    True,
)
REPOSITORIES = ResourceType(
    IMAGE_GROUP, ("v1", "v1beta2"), "imagerepositories", "imagerepository", "ImageRepository", True
)


def _created(rt: ResourceType, spec: dict[str, object]) -> dict[str, object]:
    from lab.sandbox.kubeapi.resources import BUILTIN_TYPES
    from lab.sandbox.kubeapi.store import Store

    store = Store()
    namespaces = next(t for t in BUILTIN_TYPES if t.plural == "namespaces")
    store.create(namespaces, "", {"metadata": {"name": "flux-system"}})
    body = {"metadata": {"name": "x", "namespace": "flux-system"}, "spec": spec}
    stored = store.create(rt, "flux-system", body)
    return dict(stored["spec"])


def test_the_api_server_writes_the_crds_defaults_before_it_validates() -> None:
    """`sourceRef: {name: flux-system}` without kind: the CRD defaults kind to GitRepository
    (+kubebuilder:default), so the real API server accepts it; the sandbox refused it with
    "spec.sourceRef.kind: Required value". The other defaults of the schema are written the same way."""
    spec = _created(
        AUTOMATIONS,
        {
            "interval": "5m",
            "sourceRef": {"name": "flux-system"},
            "git": {"commit": {"author": {"email": "a@b"}}},
        },
    )
    assert spec["sourceRef"] == {"kind": "GitRepository", "name": "flux-system"}
    assert spec["update"] == {"strategy": "Setters"}
    repo = _created(REPOSITORIES, {"image": "library/nginx", "interval": "5m"})
    assert repo["exclusionList"] == ["^.*\\.sig$"] and repo["provider"] == "generic"
    policy = _created(POLICIES, {"imageRepositoryRef": {"name": "nginx"}, "policy": {"alphabetical": {}}})
    assert (
        policy["policy"] == {"alphabetical": {"order": "asc"}} and policy["digestReflectionPolicy"] == "Never"
    )


def test_the_published_crd_schema_carries_the_defaults() -> None:
    from lab.core.manifests.schema import crd_schema

    spec = crd_schema(IMAGE_GROUP, "imageupdateautomations")["properties"]["spec"]
    assert spec["properties"]["sourceRef"]["properties"]["kind"]["default"] == "GitRepository"
    assert spec["properties"]["update"]["default"] == {"strategy": "Setters"}
