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
