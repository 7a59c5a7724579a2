"""What an ImageRepository scan stores: exclusions, stored order, revision, latestTags.

Mirrors image-reflector-controller `filterOutTags`, `sortTagsAndGetLatestTags` and the Badger
database's revision (Adler-32 of the JSON-encoded tag list).
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Collection, Iterable, Sequence
from typing import TYPE_CHECKING, Literal

from lab.core.imagename import OCI_TAG_RE
from lab.core.manifests import schema
from lab.core.manifests.models import SIG_EXCLUSION, ImageRepository
from lab.core.policy.regex import GoRegexp, RegexSyntaxError, compile_go
from lab.core.record import dataclass
from lab.core.text import escape_line
from lab.errors import LabError

if TYPE_CHECKING:
    from lab.core.tasks import TaskImage

DEFAULT_EXCLUSION: tuple[str, ...] = (SIG_EXCLUSION,)
LATEST_TAGS_COUNT = 10
MAX_EXCLUSIONS = schema.IMAGE_REPOSITORY.at("exclusionList").max_items or 25
"""The CRD's `maxItems` on ImageRepository's `spec.exclusionList`."""
MAX_TAG_LIST_BYTES = 8 * 1024 * 1024
"""The largest tags file the lab reads (Docker Hub's busiest repositories list well under 1 MiB)."""


class TagListLineError(ValueError):
    """A line of a tags file that is neither a tag, a `#` comment nor blank (`lineno` counts from 1)."""

    def __init__(self, lineno: int, line: str) -> None:
        super().__init__(f"line {lineno}: {line!r} is not an image tag")
        self.lineno = lineno
        self.line = line


def parse_tag_list(text: str) -> list[str]:
    """A tags file: one tag per line; blank lines and `#` comment lines are skipped.

    A tag can never start with `#` (OCI: `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`), so a comment is never a
    tag. Any other line raises TagListLineError: a table or prose taken for tags would be served as
    tags, and every policy would then resolve to nonsense far from the file that caused it.
    """
    tags: list[str] = []
    for lineno, raw in enumerate(text.splitlines(), start=1):
        tag = raw.strip()
        if not tag or tag[0] == "#":
            continue
        if not OCI_TAG_RE.fullmatch(tag):
            raise TagListLineError(lineno, tag)
        tags.append(tag)
    return tags


def tag_list_line(tag: str) -> str:
    """`tag` as a line of a tags file (`lab tags` writes them): a name a registry listed that is no
    image tag (control characters, a line break, too long) is a `#` comment, escaped to one line, so
    that what `lab tags` writes `parse_tag_list` reads; no image can be pulled by such a name."""
    if OCI_TAG_RE.fullmatch(tag):
        return tag
    return f"{NOT_A_TAG}{escape_line(tag)}"


NOT_A_TAG = "# not an image tag: "


class ScanError(LabError):
    """A scan that Flux would fail (Ready=False `ReadOperationFailed`, `scan failed: ...`)."""


def _compile_exclusion(pattern: str, index: int = 0) -> GoRegexp:
    try:
        return compile_go(pattern)
    except RegexSyntaxError as err:
        raise ScanError(
            f"failed to compile regex {pattern}: {err}",
            field=f"spec.exclusionList.{index}",
            hint="exclusionList entries are Go (RE2) regular expressions",
        ) from err


@dataclass(frozen=True)
class ExclusionProblem:
    """Why Flux cannot use a `spec.exclusionList` (`code` as `lab.core.manifests.validate` names it)."""

    code: str
    field: str
    message: str
    hint: str


def exclusion_problem(exclusion_list: Sequence[str]) -> ExclusionProblem | None:
    """More entries than the CRD allows (the API server refuses the object), else the first entry that
    is not a Go regexp (the scan fails, Ready=False `ReadOperationFailed`); None when Flux can use it.
    The count comes first: a list of thousands is refused before anything is compiled."""
    if len(exclusion_list) > MAX_EXCLUSIONS:
        return ExclusionProblem(
            "exclusion.too-many",
            "spec.exclusionList",
            f"spec.exclusionList has {len(exclusion_list)} entries; the CRD allows at most {MAX_EXCLUSIONS}",
            "merge entries into one regexp with |",
        )
    for index, pattern in enumerate(exclusion_list):
        try:
            _compile_exclusion(pattern, index)
        except ScanError as err:
            return ExclusionProblem(
                "exclusion.regex", err.field or "", f"scan failed: {err.message}", err.hint or ""
            )
    return None


def store_tags(tags: Iterable[str], exclusion_list: Sequence[str] = DEFAULT_EXCLUSION) -> list[str]:
    """The tags Flux stores: minus any matching an exclusion regexp, in descending byte order."""
    compiled = [_compile_exclusion(pattern, n) for n, pattern in enumerate(exclusion_list)]
    tags = list(tags)
    excluded = [False] * len(tags)
    for rx in compiled:
        excluded = [a or b for a, b in zip(excluded, rx.match_each(tags), strict=True)]
    kept = [tag for tag, out in zip(tags, excluded, strict=True) if not out]
    # Code point order of str equals the byte order of its UTF-8 encoding, which Go compares.
    kept.sort(reverse=True)
    return kept


# Text Go's encoder writes as it is: no quote, backslash, control character, <, >, &, U+2028/9.
_GO_JSON_PLAIN = re.compile('[^"\\\\\x00-\x1f<>&\u2028\u2029]*')


def _go_json_string(value: str) -> str:
    if _GO_JSON_PLAIN.fullmatch(value):
        return f'"{value}"'
    out = ['"']
    for ch in value:
        code = ord(ch)
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch in _GO_SHORT_ESCAPES:
            out.append(_GO_SHORT_ESCAPES[ch])
        elif code < 0x20 or ch in "<>&\u2028\u2029":
            # Go's encoder HTML-escapes <, > and & and escapes the JS line separators.
            out.append(f"\\u{code:04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


_GO_SHORT_ESCAPES = {"\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def go_json_tags(stored: Sequence[str]) -> bytes:
    """`json.Marshal([]string)` exactly as Go writes it (compact, HTML-safe)."""
    body = ",".join(_go_json_string(tag) for tag in stored)
    return f"[{body}]".encode("utf-8", "surrogatepass")


def scan_revision(stored: Sequence[str]) -> str:
    """`status.lastScanResult.revision` for the default (Badger) storage."""
    return str(zlib.adler32(go_json_tags(stored)))


def latest_tags(stored: Sequence[str]) -> list[str]:
    """`status.lastScanResult.latestTags`: the first ten in stored order, not the newest."""
    return list(stored[:LATEST_TAGS_COUNT])


TagsOrigin = Literal["tags file", "bundled", "registry"]


def scanned_repository(
    repositories: Iterable[ImageRepository],
    automation_files: Collection[str],
    images: Iterable[TaskImage] = (),
) -> ImageRepository | None:
    """The task's ImageRepository: the first one in the task's automation files (`[params]
    automation_files`) that scans one of the task's `images`, else the first there; the one
    `registry.tags` scans and a `--tags-file` lists the tags of. A repository for another image
    beside it (a second app's) is the learner's own, not the task's."""
    from lab.core.tasks import find_image

    mine = [r for r in repositories if r.file in automation_files]
    declared = tuple(images)
    return next((r for r in mine if r.image and find_image(declared, r.image)), mine[0] if mine else None)


def tags_origin(image: str, *, scanned: str | None, tags_file: bool) -> TagsOrigin:
    """Where the lab reads the tags of an ImageRepository scanning `image`, the same for `lab check` and
    `lab why`: without a tags file, the registry; with one, the file for the image it lists (`scanned`,
    the task's ImageRepository's image, however spelt: nginx = docker.io/library/nginx) and the task's
    bundled list (task.toml [[images]]) for every other image: one file never stands for two images."""
    from lab.core.imagename import canonical_or_written

    if not tags_file:
        return "registry"
    if scanned is not None and canonical_or_written(scanned) == canonical_or_written(image):
        return "tags file"
    return "bundled"
