"""Container registry access for the lab: names, credentials and the tag-listing client.

`RegistryClient` lists tags the way Flux's image-reflector-controller scans a repository; see
`lab.adapters.registry.client` for behaviour and the `LAB_REGISTRY_MIRROR` environment variable
(`docker.io=127.0.0.1:5000` sends Docker Hub names to another registry, e.g. the sandbox's).
"""

from __future__ import annotations

from lab.adapters.registry.auth import Credentials
from lab.adapters.registry.client import (
    DEFAULT_EXCLUSION,
    RegistryAPIError,
    RegistryClient,
    ScanResult,
    TagList,
    tags_revision,
)
from lab.adapters.registry.dockerconfig import DockerConfig, Keychain, credentials_from_dockerconfigjson
from lab.adapters.registry.names import MIRROR_ENV, ImageName, ImageNameError, parse_image

__all__ = [
    "DEFAULT_EXCLUSION",
    "MIRROR_ENV",
    "Credentials",
    "DockerConfig",
    "ImageName",
    "ImageNameError",
    "Keychain",
    "RegistryAPIError",
    "RegistryClient",
    "ScanResult",
    "TagList",
    "credentials_from_dockerconfigjson",
    "parse_image",
    "tags_revision",
]
