"""`lab tags` and the TUI's registry view: scan one image like an ImageRepository does."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lab.adapters.registry import DEFAULT_EXCLUSION, RegistryClient, ScanResult

__all__ = ["DEFAULT_EXCLUSION", "scan_image", "scan_json"]


def scan_image(
    image: str,
    *,
    registry_config: Path | None = None,
    exclusion_list: Sequence[str] | None = DEFAULT_EXCLUSION,
    client: RegistryClient | None = None,
    check: bool = True,
) -> ScanResult:
    """List `image`'s tags, apply `exclusion_list` (None: keep every tag) and sort them as Flux stores them.

    Raises RegistryError with a learner message unless `check=False`, which returns Ready=False instead.
    """
    exclusions: Sequence[str] = () if exclusion_list is None else exclusion_list
    if client is not None:
        return client.scan(image, exclusions, check=check)
    with RegistryClient(docker_config=registry_config) as own:
        return own.scan(image, exclusions, check=check)


def scan_json(image: str, result: ScanResult) -> dict[str, Any]:
    """The scan as ImageRepository status fields (camelCase), plus what it cost."""
    return {
        "image": image,
        "canonicalImageName": result.canonical_name,
        "ready": result.ready,
        "reason": result.reason,
        "message": result.message,
        "lastScanResult": {
            "revision": result.revision,
            "tagCount": result.tag_count,
            "latestTags": list(result.latest_tags),
        },
        "tags": list(result.tags),
        "listed": result.listed,
        "requests": result.request_count,
        "notes": list(result.notes),
    }
