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
    "SimulationResult",
    "TagSource",
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
