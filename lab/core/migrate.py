"""`flux migrate -f`: rewrite image.toolkit.fluxcd.io v1beta1|v1beta2 manifests to v1, byte for byte. Pure.

flux2's FileSystemMigrator (cmd/flux/migrate.go) works on lines: a line containing `apiVersion: ` whose
group has a newer version for the `kind: ` found on the next line gets the old version string replaced on
that line only; every other byte of the file is kept. The lab does the same for the image kinds, and also
accepts `kind:` before `apiVersion:` within one document (flux misses that order; a learner should not have
to know). What flux does not do, the lab adds: the commit message template fields that v1 removed are
reported with the controller's own words, because the migrated object stalls on them at its first update.
"""

from __future__ import annotations

import re

from lab.core.commit_message import REMOVED_IMAGE_RESULT, REMOVED_UPDATED, V1, check_template
from lab.core.manifests.models import IMAGE_GROUP, IMAGE_KINDS
from lab.core.record import dataclass

OLD_VERSIONS = ("v1beta1", "v1beta2")
LATEST = "v1"
DEFAULT_EXTENSIONS = (".yaml", ".yml")

_API = re.compile(r"^(?P<indent>\s*)apiVersion:\s*['\"]?(?P<group>[^/\s'\"]+)/(?P<version>[^\s'\"#]+)")
_KIND = re.compile(r"^(?P<indent>\s*)kind:\s*['\"]?(?P<kind>[A-Za-z0-9]+)")


@dataclass(frozen=True)
class Upgrade:
    """One apiVersion line to rewrite (1-based `line`), as flux prints it: `file:line: Kind old -> new`."""

    line: int
    kind: str
    old_version: str
    new_version: str


@dataclass(frozen=True)
class TemplateWarning:
    """A messageTemplate field v1 removed; `message` is image-automation-controller's Stalled message."""

    line: int
    field: str
    message: str


@dataclass(frozen=True)
class FileMigration:
    upgrades: tuple[Upgrade, ...]
    template_warnings: tuple[TemplateWarning, ...]
    new_text: str

    @property
    def changed(self) -> bool:
        return bool(self.upgrades)


_DOC_SEPARATOR = re.compile(r"^---(\s|$)")


def _documents(lines: list[str]) -> list[tuple[int, int]]:
    """(start, end) line index ranges of the YAML documents (split on `---` lines)."""
    ranges: list[tuple[int, int]] = []
    start = 0
    for i, line in enumerate(lines):
        if _DOC_SEPARATOR.match(line.rstrip("\r")):
            ranges.append((start, i))
            start = i + 1
    ranges.append((start, len(lines)))
    return ranges


def detect_upgrades(text: str) -> list[Upgrade]:
    """The apiVersion lines of image kinds still on v1beta1/v1beta2 (top-level keys of each document)."""
    lines = text.split("\n")
    found: list[Upgrade] = []
    for start, end in _documents(lines):
        api: tuple[int, str, str] | None = None
        kind: str | None = None
        for i in range(start, end):
            # A UTF-8 BOM opens some editors' files; YAML decoders skip it, and so does flux.
            line = lines[i].rstrip("\r").removeprefix("\ufeff") if i == 0 else lines[i].rstrip("\r")
            m = _API.match(line)
            if m and not m.group("indent") and api is None:
                api = (i, m.group("group"), m.group("version"))
                continue
            k = _KIND.match(line)
            if k and not k.group("indent") and kind is None:
                kind = k.group("kind")
        if api is None or kind is None:
            continue
        index, group, version = api
        if group == IMAGE_GROUP and kind in IMAGE_KINDS and version in OLD_VERSIONS:
            found.append(Upgrade(index + 1, kind, version, LATEST))
    return found


def _template_warnings(text: str, file: str) -> list[TemplateWarning]:
    from lab.core import yamlsafe
    from lab.errors import LabError

    if "messageTemplate" not in text:
        return []
    try:
        docs = yamlsafe.load_all(text, file)
    except LabError:
        return []  # an unparsable file is reported by the checks, not by the migration
    out: list[TemplateWarning] = []
    for doc in docs:
        if not isinstance(doc.data, dict) or doc.get("kind") != "ImageUpdateAutomation":
            continue
        template = doc.get("spec.git.commit.messageTemplate")
        if not isinstance(template, str):
            continue
        line = doc.line_of("spec.git.commit.messageTemplate")
        for message in check_template(template, V1):
            if message == REMOVED_UPDATED:
                out.append(TemplateWarning(line, ".Updated", message))
            elif message == REMOVED_IMAGE_RESULT:
                out.append(TemplateWarning(line, ".Changed.ImageResult", message))
    return out


def migrate_text(text: str, file: str = "") -> FileMigration:
    """The file's text with every old image apiVersion set to v1; nothing else changes."""
    upgrades = detect_upgrades(text)
    lines = text.split("\n")
    for up in upgrades:
        # flux replaces the version string on that line (strings.ReplaceAll); the group keeps it unique.
        lines[up.line - 1] = lines[up.line - 1].replace(
            f"{IMAGE_GROUP}/{up.old_version}", f"{IMAGE_GROUP}/{up.new_version}"
        )
    return FileMigration(tuple(upgrades), tuple(_template_warnings(text, file)), "\n".join(lines))


def matches_extensions(name: str, extensions: tuple[str, ...] = DEFAULT_EXTENSIONS) -> bool:
    """flux's `strings.HasSuffix(file, ext)` for any of the extensions."""
    return any(name.endswith(ext) for ext in extensions)


__all__ = [
    "DEFAULT_EXTENSIONS",
    "FileMigration",
    "TemplateWarning",
    "Upgrade",
    "detect_upgrades",
    "matches_extensions",
    "migrate_text",
]
