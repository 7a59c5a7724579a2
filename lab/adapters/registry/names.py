"""Image names as image-reflector-controller (go-containerregistry `pkg/name`) puts them on the wire.

`nginx` is Docker Hub's `index.docker.io/library/nginx`; `docker.io/x` becomes `index.docker.io/x`; the
first path segment is a registry only when it contains `.` or `:` (ggcr v0.19.1: `localhost/x` is Docker Hub). Docker's own CLI
prefers `docker.io` and talks to `registry-1.docker.io`; Flux keeps `index.docker.io`, and so do we.

Validation and the canonical name come from `lab.core.imagename` (the ImageURLInvalid checks `lab check`
uses), so the lab never scans another repository than it grades. This module adds what only the wire
needs: the scheme, mirrors, Docker Hub's host aliases.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping

from lab.core import imagename as core
from lab.core.imagename import OCI_TAG_RE, ImageNameError
from lab.core.record import dataclass

DOCKER_HUB = core.DEFAULT_REGISTRY
MIRROR_ENV = "LAB_REGISTRY_MIRROR"
DOCKER_HUB_ALIASES = frozenset({"docker.io", "index.docker.io"})
# Docker Hub's v2 endpoint as the Docker daemon uses it; Flux does not add `library/` for it.
DOCKER_HUB_DAEMON_HOST = "registry-1.docker.io"

_HOST_RE = re.compile(
    r"^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9-]+)*|\[[0-9a-fA-F:]+\])(?::\d{1,5})?$"
)
TAG_RE = OCI_TAG_RE


@dataclass(frozen=True)
class ImageName(core.ImageName):
    """Flux's name of one repository (`registry`, `repository`, `canonical`) and where its requests go:
    `wire_host` (the registry, or its mirror) over `scheme`."""

    wire_host: str
    scheme: str

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://{self.wire_host}"

    @property
    def talks_to_docker_hub(self) -> bool:
        """Requests go to Docker Hub (either of its hosts); a mirror of it is not Docker Hub."""
        return self.wire_host in (DOCKER_HUB, DOCKER_HUB_DAEMON_HOST)

    @property
    def mirrored(self) -> bool:
        return self.wire_host != self.registry

    @property
    def where(self) -> str:
        """Where the requests for this name go, for a learner: the registry, Docker Hub, or a mirror."""
        if self.mirrored:
            return f"registry {self.wire_host} ({MIRROR_ENV} sends {self.registry} there)"
        if self.talks_to_docker_hub:
            return f"Docker Hub ({self.wire_host})"
        return f"registry {self.wire_host}"


def is_insecure_host(host: str) -> bool:
    """Hosts ggcr talks plain HTTP to: loopback, `*.local`, RFC 1918 addresses."""
    bare = host
    if bare.startswith("["):
        bare = bare[1 : bare.find("]")]
    elif bare.count(":") == 1:
        bare = bare.split(":", 1)[0]
    if bare == "localhost" or bare.endswith(".localhost") or bare.endswith(".local"):
        return True
    try:
        addr = ipaddress.ip_address(bare)
    except ValueError:
        return False
    return addr.is_loopback or addr.is_private


def parse_mirror_spec(spec: str) -> dict[str, str]:
    """`docker.io=127.0.0.1:5000,ghcr.io=127.0.0.1:5001` -> {host: mirror host}."""
    result: dict[str, str] = {}
    for item in spec.split(","):
        item = item.strip()
        if not item:
            continue
        source, sep, target = item.partition("=")
        source, target = source.strip(), target.strip().removeprefix("http://").rstrip("/")
        if "@" in target:
            # user:password@host: the registry's credentials, which no message may show.
            shown = f"{source}=***@{target.rpartition('@')[2]}"
            raise ValueError(f"mirror entry {shown!r} carries credentials; write HOST=MIRROR_HOST[:PORT]")
        if not sep or not source or not target or not _HOST_RE.match(target):
            raise ValueError(f"mirror entry {item!r} is not HOST=MIRROR_HOST[:PORT]")
        result[DOCKER_HUB if source in DOCKER_HUB_ALIASES else source] = target
    return result


def parse_image(image: str, *, mirrors: Mapping[str, str] | None = None, insecure: bool = False) -> ImageName:
    """Normalise `image` (no tag) the way Flux does and decide where its requests go."""
    parsed = core.parse_image(image.strip())
    wire_host = parsed.registry
    for source, target in (mirrors or {}).items():
        key = DOCKER_HUB if source in DOCKER_HUB_ALIASES else source
        if key == parsed.registry:
            wire_host = target
            break
    scheme = "http" if insecure or is_insecure_host(wire_host) else "https"
    return ImageName(image, parsed.registry, parsed.repository, wire_host, scheme)


__all__ = [
    "DOCKER_HUB",
    "ImageName",
    "ImageNameError",
    "is_insecure_host",
    "parse_image",
    "parse_mirror_spec",
]
