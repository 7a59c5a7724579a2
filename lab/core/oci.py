"""The image manifest the lab's registry serves for a repository and tag, and its digest. Pure.

The sandbox's registry answers `HEAD /v2/<repo>/manifests/<tag>` with these bytes, so their sha256 is the
`Docker-Content-Digest` a digest-reflecting ImagePolicy records there. Offline (`lab simulate` on bundled
tags, the exercise checks) the lab uses the same function: a digest-pinned field moves to exactly what
it would read after the sandbox's Flux ran.
"""

from __future__ import annotations

import hashlib
import json

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"

__all__ = ["OCI_CONFIG", "OCI_MANIFEST", "image_manifest", "lab_digest", "manifest_digest"]


def image_manifest(repo: str, tag: str) -> tuple[bytes, bytes]:
    """(config blob, manifest) for `repo:tag`; bytes depend only on the two names."""
    config = {
        "architecture": "amd64",
        "os": "linux",
        "config": {"Labels": {"org.opencontainers.image.ref.name": tag, "lab.fluxlab.repository": repo}},
        "rootfs": {"type": "layers", "diff_ids": []},
    }
    config_bytes = json.dumps(config, separators=(",", ":"), sort_keys=True).encode()
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {
            "mediaType": OCI_CONFIG,
            "size": len(config_bytes),
            "digest": "sha256:" + hashlib.sha256(config_bytes).hexdigest(),
        },
        "layers": [],
        "annotations": {"org.opencontainers.image.ref.name": tag},
    }
    return config_bytes, json.dumps(manifest, separators=(",", ":")).encode()


def manifest_digest(repo: str, tag: str) -> str:
    """The digest the lab's registry serves for `repo:tag` (`repo` the path on its host: `acme/shop`)."""
    return "sha256:" + hashlib.sha256(image_manifest(repo, tag)[1]).hexdigest()


def lab_digest(image: str, tag: str) -> str:
    """`manifest_digest` for an image named as an ImageRepository's `spec.image` (`nginx`,
    `ghcr.io/acme/shop`): the registry path Flux would ask for."""
    from lab.core.imagename import parse_image

    return manifest_digest(parse_image(image).repository, tag)
