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


def bundled_fallback(
    image: str, exclusion_list: Sequence[str] | None, err: Exception
) -> tuple[list[str], str] | None:
    """When `image`'s registry cannot be reached at all (not: answered no), the tags a task of this
    lab bundles for it, stored as Flux stores them, and a note saying so; None otherwise. The task is
    the one of the repository around the working directory, else the first in the course that
    bundles the image (what `lab simulate` and the checks use offline)."""
    from lab.adapters.tagsfile import read_tags
    from lab.adapters.tasks import catalogue, load_task
    from lab.core.scan import store_tags
    from lab.errors import LabError, registry_unreachable
    from lab.services.session import recorded_task_here
    from lab.services.simulate import bundled_snapshot

    if not registry_unreachable(err):
        return None
    own = recorded_task_here()
    ids = ([own] if own else []) + [e.meta.id for e in catalogue() if e.meta.id != own]
    for task_id in ids:
        try:
            found = bundled_snapshot(image, load_task(task_id))
        except LabError:
            continue  # a task folder that does not load bundles nothing to fall back on
        if found is not None:
            path, what = found
            tags = store_tags(read_tags(path), () if exclusion_list is None else exclusion_list)
            return tags, f"the registry cannot be reached: these are {what} ({path.name}, task {task_id})"
    return None


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
