"""`lab simulate`: one reconcile of the three image controllers against the learner's origin.

The rules are Flux's (`lab.core.reconcile`), the run is `lab.adapters.automation`; this module picks
where the tags come from: a tags file, the registry each ImageRepository names, or a task's bundled
snapshot when there is no network.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from lab.adapters.automation import run_automations
from lab.core.reconcile import PolicyResolution, SimulationResult, TagSource, resolve_policies

__all__ = [
    "PolicyResolution",
    "ProvenancedTags",
    "SimulationResult",
    "TagSource",
    "bundled_snapshot",
    "resolve_policies",
    "simulate",
    "tags_from_file",
    "tags_from_list",
    "tags_from_registry",
]

simulate = run_automations


def tags_from_list(tags: Sequence[str]) -> TagSource:
    """A tag source answering `tags` (stored as a scan would: exclusions, order), whatever the image."""
    fixed = list(tags)

    def source(image: str, exclusion: Sequence[str]) -> list[str]:
        from lab.core.scan import store_tags

        return store_tags(fixed, exclusion)

    return source


def tags_from_file(path: Path) -> TagSource:
    """A tag source reading one tag per line (as `lab policy --tags-file`), whatever the image."""
    from lab.adapters.tagsfile import read_tags

    return tags_from_list(read_tags(path))


def tags_from_registry(docker_config: Path | None = None) -> TagSource:
    """A tag source scanning the registry each ImageRepository names, like image-reflector does."""

    def source(image: str, exclusion: Sequence[str]) -> list[str]:
        from lab.adapters.registry import RegistryClient

        with RegistryClient(docker_config=docker_config) as client:
            return list(client.scan(image, exclusion).tags)

    return source


SNAPSHOT_DATE = "2024-01-15"


def bundled_snapshot(image: str) -> Path | None:
    """The tag list the lab ships for `image` (Docker Hub's library/nginx as of the snapshot date), or None.

    `nginx`, `library/nginx` and `docker.io/library/nginx` are one repository (Flux normalises them)."""
    from lab.core.imagename import ImageNameError, canonical_name

    try:
        canonical = canonical_name(image)
    except ImageNameError:
        return None
    if canonical != "index.docker.io/library/nginx":
        return None
    import lab.sandbox

    path = Path(lab.sandbox.__file__).parent / "data" / f"nginx-tags-{SNAPSHOT_DATE}.txt"
    return path if path.is_file() else None


def _unreachable(err: Exception) -> bool:
    """A registry that could not be reached at all (no network, DNS, refused, timeout), as opposed to
    one that answered no (401, 404, a bad name): only the first may fall back to the snapshot."""
    return getattr(err, "status", 0) == 0 and not getattr(err, "code", "")


class ProvenancedTags:
    """A tag source that scans the registry each ImageRepository names and says where every image's
    tags came from (`origins`): the registry host (the sandbox's, through LAB_REGISTRY_MIRROR), or,
    when that registry cannot be reached and the lab bundles a snapshot for the image, the snapshot.
    With `tags_file`, the file for every image. Never silent: the front ends print `origins`."""

    def __init__(
        self,
        *,
        tags_file: Path | None = None,
        docker_config: Path | None = None,
        fallback: bool = True,
    ) -> None:
        self.tags_file = tags_file
        self.docker_config = docker_config
        self.fallback = fallback
        self.origins: dict[str, str] = {}

    def __call__(self, image: str, exclusion: Sequence[str]) -> list[str]:
        from lab.adapters.registry import RegistryClient
        from lab.errors import RegistryError

        if self.tags_file is not None:
            tags = tags_from_file(self.tags_file)(image, exclusion)
            self.origins[image] = f"tags file {self.tags_file} ({len(tags)} tags after exclusions)"
            return tags
        with RegistryClient(docker_config=self.docker_config) as client:
            name = client.parse(image)
            if name.mirrored:
                where = f"registry {name.wire_host} (LAB_REGISTRY_MIRROR sends {name.host} there)"
            elif name.is_docker_hub:
                where = f"Docker Hub ({name.wire_host})"
            else:
                where = f"registry {name.wire_host}"
            try:
                tags = list(client.scan(image, exclusion).tags)
            except RegistryError as err:
                snapshot = bundled_snapshot(image) if self.fallback and _unreachable(err) else None
                if snapshot is None:
                    raise
                tags = tags_from_file(snapshot)(image, exclusion)
                self.origins[image] = (
                    f"the lab's snapshot of Docker Hub's library/nginx as of {SNAPSHOT_DATE} "
                    f"({len(tags)} tags, {snapshot.name}): {where} cannot be reached ({err.message}); "
                    'for a live registry: lab sandbox up --detach && eval "$(lab sandbox env)"'
                )
                return tags
        self.origins[image] = f"{where}, scanned now ({len(tags)} tags after exclusions)"
        return tags
