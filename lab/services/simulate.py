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
from lab.core.tasks import Task

__all__ = [
    "BundledTags",
    "PolicyResolution",
    "RegistryOrBundled",
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


class BundledTags:
    """A tag source answering from a task's bundled registry data (`[[images]]` in task.toml): what
    `lab simulate`, `lab check` and the app use offline. `describe()` says where the tags came from."""

    def __init__(self, task: Task) -> None:
        self.task = task
        self.used: dict[str, str] = {}

    def __call__(self, image: str, exclusion: Sequence[str]) -> list[str]:
        from lab.adapters.tagsfile import read_tags
        from lab.core.scan import store_tags

        found = self.task.image(image)
        if found is None:
            self.used[image] = f"{image}: task {self.task.id} bundles no tags for it (no tags)"
            return []
        path = self.task.image_file(found.tags)
        tags = read_tags(path)
        when = f" (a {found.snapshot} snapshot)" if found.snapshot else ""
        self.used[image] = f"{image}: {len(tags)} tags bundled with task {self.task.id}{when}: {path}"
        return store_tags(tags, exclusion)

    def describe(self) -> list[str]:
        """One line per image asked for: which bundled file answered, or that none did."""
        return list(self.used.values())


class RegistryOrBundled:
    """The registry each ImageRepository names; when it cannot be reached (no network, no HTTP
    answer at all), the task's bundled tags, saying so in `describe()`: `lab simulate` works offline."""

    def __init__(self, task: Task, docker_config: Path | None = None) -> None:
        self.registry = tags_from_registry(docker_config)
        self.bundled = BundledTags(task)
        self.unreachable: dict[str, str] = {}

    def __call__(self, image: str, exclusion: Sequence[str]) -> list[str]:
        from lab.errors import RegistryError

        try:
            return self.registry(image, exclusion)
        except RegistryError as err:
            answered = int(getattr(err, "status", 0) or 0) != 0
            if answered or self.bundled.task.image(image) is None:
                raise
            self.unreachable[image] = err.message
            return self.bundled(image, exclusion)

    def describe(self) -> list[str]:
        return [
            f"registry unreachable ({why}); {self.bundled.used[image]}"
            for image, why in self.unreachable.items()
        ]
