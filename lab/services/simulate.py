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
from lab.core.refs import Change, split_reference
from lab.core.tasks import LIVE_TAGS_HINT, unreachable_origin
from lab.core.tasktexts import Task
from lab.errors import LabError, registry_unreachable

__all__ = [
    "BundledTags",
    "PolicyResolution",
    "ProvenancedTags",
    "SimulationResult",
    "SnapshotGuard",
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


def bundled_snapshot(image: str, task: Task | None = None) -> tuple[Path, str] | None:
    """The tag list the task (default: the course's current) bundles for `image`, and what it is
    ("a snapshot of ... as of <date>"), or None. `nginx`, `library/nginx` and `docker.io/library/nginx`
    are one repository (Flux normalises them)."""
    from lab.adapters.tasks import load_task
    from lab.core.tasks import snapshot_words

    the_task = task or load_task()
    found = the_task.image(image)
    if found is None:
        return None
    path = the_task.image_file(found.tags)
    return (path, snapshot_words(found)) if path.is_file() else None


def snapshot_of_a_registry(image: str, task: Task | None = None) -> bool:
    """Whether the task bundles `image`'s tags as a dated snapshot of a real registry (task.toml
    `snapshot`), which has published since: older than what Flux may have written. Undated tags are the
    task's registry itself (what the sandbox serves): nothing newer exists, so they are never stale."""
    from lab.adapters.tasks import load_task

    found = (task or load_task()).image(image)
    return found is not None and found.snapshot is not None


class SnapshotGuard:
    """The images whose tags came from the lab's dated snapshot of a registry that could not be reached,
    and the downgrades only that snapshot chose: `lab simulate` refuses to push them and the app asks
    first, since the snapshot is older than what Flux may have written to origin. Flux has no such
    guard; it writes what the policy selects, which is why a task whose bundled tags are its registry
    (no `snapshot` date) is never guarded."""

    def __init__(self) -> None:
        # image -> the snapshot's tags and what it is ("the lab's snapshot of ... as of <date>").
        self.stale: dict[str, tuple[list[str], str]] = {}

    def note(self, image: str, tags: list[str], what: str, task: Task | None) -> None:
        """`image`'s tags were read from the task's bundled tags because its registry did not answer."""
        if snapshot_of_a_registry(image, task):
            self.stale[image] = (tags, what)

    def downgrades(self, changes: Sequence[Change]) -> list[Change]:
        """The changes that move a marked field to an older tag than origin has, chosen from a stale
        snapshot. Older: by semver when both tags are versions, else origin's tag is one the snapshot
        does not list."""
        if not self.stale:
            return []
        known = {tag for tags, _ in self.stale.values() for tag in tags}
        return [c for c in changes if _older(_tag_of(c.new), _tag_of(c.old), known)]

    def older(self, changes: Sequence[Change]) -> str:
        """ "A -> B: an older tag than origin has, chosen from <the snapshot>", or "" when none is."""
        found = self.downgrades(changes)
        if not found:
            return ""
        what = "; ".join(sorted({w for _, w in self.stale.values()}))
        return f"{found[0].old} -> {found[0].new}: an older tag than origin has, chosen from {what}"

    def refuse(self, changes: Sequence[Change]) -> None:
        """`run_automations`' `before_push`: no push of a downgrade that only a stale snapshot chose."""
        older = self.older(changes)
        if older:
            raise LabError(
                f"not pushing {older} because the registry could not be reached",
                hint="reach the registry (in the sandbox's repository with the sandbox running, or after "
                '`eval "$(lab sandbox env)"`), pass current tags with --tags-file F, or push it anyway '
                "with --allow-downgrade",
            )


class ProvenancedTags:
    """The tag source of `lab simulate` and the app: it scans the registry each ImageRepository names
    and says where every image's tags came from (`origins`): the registry host (the sandbox's, through
    LAB_REGISTRY_MIRROR), or, with `fallback`, when that registry cannot be reached at all and the task
    bundles tags for the image, those (a registry that answers no, 401 or 404, is reported, as the
    reflector reports it). With `tags_file`, the file for every image; with `elsewhere` (why the running
    sandbox serves another task's images, `session.sandbox_elsewhere`), the task's bundled tags for every
    image. Never silent: the front ends print `origins`, or say `used_snapshot`."""

    def __init__(
        self,
        *,
        tags_file: Path | None = None,
        docker_config: Path | None = None,
        fallback: bool = True,
        task: Task | None = None,
        elsewhere: str | None = None,
    ) -> None:
        from lab.adapters.tagsfile import read_tags

        self.task = task
        self.tags_file = tags_file
        # Read once, now: a line that is no tag is the command's usage error, not a failed automation.
        self._file_tags = tags_from_list(read_tags(tags_file)) if tags_file is not None else None
        self.docker_config = docker_config
        self.fallback = fallback
        self.elsewhere = elsewhere
        self.origins: dict[str, str] = {}
        self.used_snapshot = False
        """Some image's tags came from the task's bundled tags, not from a registry or the tags file."""
        self._scanned: set[str] = set()  # images whose tags a registry answered: it answers digests too
        self.guard = SnapshotGuard()

    def __call__(self, image: str, exclusion: Sequence[str]) -> list[str]:
        from lab.adapters.registry import RegistryClient
        from lab.errors import RegistryError

        if self._file_tags is not None:
            tags = self._file_tags(image, exclusion)
            self.origins[image] = f"tags file {self.tags_file} ({len(tags)} tags after exclusions)"
            return tags
        if self.elsewhere is not None:
            bundled = BundledTags(self._task())
            tags = bundled(image, exclusion)
            self.used_snapshot = True
            self.origins[image] = f"{bundled.used[image].removeprefix(f'{image}: ')} ({self.elsewhere})"
            return tags
        with RegistryClient(docker_config=self.docker_config) as client:
            where = client.parse(image).where
            try:
                tags = list(client.scan(image, exclusion).tags)
            except RegistryError as err:
                found = (
                    bundled_snapshot(image, self.task)
                    if self.fallback and registry_unreachable(err)
                    else None
                )
                if found is None:
                    raise
                snapshot, what = found
                tags = tags_from_file(snapshot)(image, exclusion)
                self.guard.note(image, tags, what, self.task)
                self.used_snapshot = True
                self.origins[image] = (
                    f"{unreachable_origin(what, len(tags), snapshot.name, where, err.message)}; {LIVE_TAGS_HINT}"
                )
                return tags
        self.origins[image] = f"{where}, scanned now ({len(tags)} tags after exclusions)"
        self._scanned.add(image)
        return tags

    def _task(self) -> Task:
        from lab.adapters.tasks import load_task

        return self.task or load_task()

    def digest(self, image: str, tag: str) -> str:
        """A `DigestSource` for policies that reflect digests: the registry that listed the tags, asked as
        the reflector asks (a manifest HEAD); for a tags file or the bundled snapshot, the digest the
        lab's registry serves for `image:tag`, and the origins line says so."""
        if image in self._scanned:
            from lab.adapters.registry import RegistryClient

            with RegistryClient(docker_config=self.docker_config) as client:
                return client.digest(image, tag)
        from lab.core.oci import lab_digest

        note = "; digests: the ones the lab's sandbox registry serves (no registry was asked)"
        if image in self.origins and not self.origins[image].endswith(note):
            self.origins[image] += note
        return lab_digest(image, tag)


def _tag_of(value: str) -> str:
    """The tag a marked field holds: `name:tag[@digest]` (a full marker) or a bare tag (`:tag`)."""
    if value.startswith("sha256:"):
        return ""
    if "/" in value or ":" in value or "@" in value:
        return split_reference(value)[1]
    return value


def _older(new: str, old: str, known: set[str]) -> bool:
    from lab.core.semver import try_parse_version

    if not new or not old or new == old:
        return False
    new_v, old_v = try_parse_version(new), try_parse_version(old)
    if new_v is not None and old_v is not None:
        return new_v.compare(old_v) < 0
    return old not in known
