"""What a marked image line holds, and what a policy would pick as an image's history unfolds. Pure.

Used to grade a policy beyond "it selects something": a pick older than the tag already deployed is a
downgrade Flux would commit without a word, and a range broader than the task's picks differently as
new releases arrive (the lab's dated nginx history shows when).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from lab.core.marker import flux_reads_marker
from lab.core.record import dataclass
from lab.core.semver.version import Version, try_parse_version


def _split_comment(line: str) -> tuple[str, str] | None:
    index = line.find("#")
    while index != -1:
        if index == 0 or line[index - 1] in " \t":
            return line[:index], line[index:]
        index = line.find("#", index + 1)
    return None


def _scalar_value(body: str) -> str:
    value = body.split(":", 1)[1] if ":" in body else body
    return value.strip().strip("\"'")


def marked_tags(text: str, policy_ref: str) -> list[str]:
    """The tags on lines whose marker names `policy_ref` (`ns:name` full markers and `ns:name:tag`)."""
    found: list[str] = []
    for line in text.splitlines():
        if "$imagepolicy" not in line:
            continue
        parts = _split_comment(line)
        if parts is None:
            continue
        body, comment = parts
        value = flux_reads_marker(comment)
        if value == policy_ref:
            ref = _scalar_value(body).split("@", 1)[0]
            last = ref.rsplit("/", 1)[-1]
            if ":" in last:
                found.append(last.rsplit(":", 1)[1])
        elif value == f"{policy_ref}:tag":
            tag = _scalar_value(body)
            if tag:
                found.append(tag)
    return found


def image_tags(text: str, image: str) -> list[str]:
    """The tags of `image: REF` lines whose repository is `image` (`nginx` and `library/nginx` are one),
    marked or not: what runs does not depend on whether the marker is right yet."""
    from lab.core.imagename import canonical_or_written
    from lab.core.refs import split_reference

    want = canonical_or_written(image)
    found: list[str] = []
    for line in text.splitlines():
        body = line.split(" #", 1)[0].strip().removeprefix("- ").strip()
        if not body.startswith("image:"):
            continue
        name, tag = split_reference(_scalar_value(body))
        if tag and canonical_or_written(name) == want:
            found.append(tag)
    return found


def newest_version(tags: Sequence[str]) -> Version | None:
    versions = [v for v in (try_parse_version(t) for t in tags) if v is not None]
    return max(versions, key=lambda v: v.key) if versions else None


def is_older(tag: str, than: str) -> bool:
    a, b = try_parse_version(tag), try_parse_version(than)
    return a is not None and b is not None and a.key < b.key


@dataclass(frozen=True)
class Pick:
    date: str
    tag: str


def picks_over_time(
    select: Callable[[list[str]], str | None],
    tags: Sequence[str],
    events: Sequence[tuple[str, Sequence[str]]],
) -> list[Pick]:
    """Each time the pick changes as `events` (date, new tags) are added to `tags`, in date order.

    `select` is a function from a tag list to the chosen tag (or None)."""
    current = list(tags)
    picks: list[Pick] = []
    last = select(current)
    for date, new in sorted(events, key=lambda e: e[0]):
        current += list(new)
        chosen = select(current)
        if chosen is not None and chosen != last:
            picks.append(Pick(date, chosen))
            last = chosen
    return picks
