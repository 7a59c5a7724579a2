"""Which fields of a manifest hold an image (or part of one), and which marker variant fits each.

Flux's four setters each replace the whole scalar they sit on (`ns:name` writes `name:tag[@digest]`,
`:name` the repository, `:tag` the tag, `:digest` the digest), and the controller never checks the
fit: a `:tag` marker on `image: ghcr.io/acme/shop:1.4.0` writes `image: 1.4.2`. This module finds
the image fields by their shape - container `image:` lines, Helm-values style `repository`/`tag`/
`digest` siblings, kustomize `images[]` overrides - and judges each field's marker. Pure: text in,
verdicts out.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from lab.core.imagename import canonical_or_written
from lab.core.imageshape import CONTAINER_LISTS, SHAPE_WORDS, SUFFIX_FOR, Shape, fits, line_shape
from lab.core.manifests.models import KUSTOMIZATION_NAMES
from lab.core.record import dataclass
from lab.core.refs import ImageRef, split_reference
from lab.core.yamlsafe import Doc, Path_

if TYPE_CHECKING:
    from lab.core.setters.find import Marker

KUSTOMIZE_KEYS: dict[str, Shape] = {
    "newName": "name",
    "newTag": "tag",
    "newDigest": "digest",
    "name": "matchkey",
}
VALUES_KEYS: dict[str, Shape] = {"repository": "name", "tag": "tag", "digest": "digest"}


@dataclass(frozen=True)
class ImageField:
    """One field that holds an image or part of one. `image` is the repository it refers to when known
    (the reference without tag for full fields, the override's `name` for kustomize entries)."""

    file: str
    line: int
    key: str
    value: str
    shape: Shape
    label: str
    image: str = ""
    #: where the value sits in its document (`Doc.value_pos`): what `lab mark` edits
    path: Path_ = ()


@dataclass(frozen=True)
class Verdict:
    """How one field (or one stray marker) fares. `ok` False carries the learner's message."""

    field: ImageField | None
    marker: Marker | None
    ok: bool
    message: str
    hint: str = ""

    @property
    def file(self) -> str:
        return self.field.file if self.field else self.marker.file if self.marker else ""

    @property
    def line(self) -> int:
        return self.field.line if self.field else self.marker.line if self.marker else 0


def repository_of(reference: str) -> str:
    """`ghcr.io/acme/shop` of `ghcr.io/acme/shop:1.4.0@sha256:...` (a registry port is kept)."""
    return split_reference(reference)[0]


def _is_kustomization(file: str, doc: Doc) -> bool:
    if posixpath.basename(file) in KUSTOMIZATION_NAMES:
        return True
    data = doc.data
    return isinstance(data, dict) and str(data.get("apiVersion", "")).startswith("kustomize.config.k8s.io/")


def _line(doc: Doc, path: Path_) -> int:
    pos = doc.value_pos.get(path)
    return pos.line if pos is not None else doc.line_of(path)


def _scalar(value: Any) -> str | None:
    if isinstance(value, bool) or value is None or isinstance(value, dict | list):
        return None
    return str(value)


def find_image_fields(file: str, docs: Sequence[Doc]) -> list[ImageField]:
    """Every image-holding field of one file's documents, in document order."""
    found: list[ImageField] = []

    def add(doc: Doc, path: Path_, key: str, value: Any, shape: Shape, label: str, image: str = "") -> None:
        text = _scalar(value)
        if text is not None:
            found.append(ImageField(file, _line(doc, path), key, text, shape, label, image, path))

    def walk(doc: Doc, node: Any, path: Path_, in_values: bool) -> None:
        if isinstance(node, dict):
            keys = set(node)
            if {"repository", "tag"} <= keys or ("repository" in keys and "digest" in keys):
                where = ".".join(str(p) for p in path) or "(top level)"
                image = _scalar(node.get("repository")) or ""
                for key, shape in VALUES_KEYS.items():
                    if key in node:
                        add(doc, (*path, key), key, node[key], shape, f"{where}.{key}", image)
            for key, value in node.items():
                if key in CONTAINER_LISTS and isinstance(value, list):
                    for i, item in enumerate(value):
                        if isinstance(item, dict) and "image" in item:
                            name = str(item.get("name") or "(unnamed)")
                            text = _scalar(item["image"]) or ""
                            add(
                                doc,
                                (*path, key, i, "image"),
                                "image",
                                item["image"],
                                "full",
                                f"{key[:-1] if key.endswith('s') else key} {name}",
                                repository_of(text),
                            )
                    continue
                if key == "image" and in_values and isinstance(value, str):
                    add(
                        doc,
                        (*path, key),
                        key,
                        value,
                        "full",
                        ".".join((*map(str, path), key)),
                        repository_of(value),
                    )
                    continue
                walk(doc, value, (*path, key), in_values or key == "values")
        elif isinstance(node, list):
            for i, item in enumerate(node):
                walk(doc, item, (*path, i), in_values)

    for doc in docs:
        data = doc.data
        if not isinstance(data, dict):
            continue
        if _is_kustomization(file, doc):
            images = data.get("images")
            if isinstance(images, list):
                for i, entry in enumerate(images):
                    if not isinstance(entry, dict):
                        continue
                    target = _scalar(entry.get("name")) or ""
                    for key, shape in KUSTOMIZE_KEYS.items():
                        if key in entry:
                            add(
                                doc,
                                ("images", i, key),
                                key,
                                entry[key],
                                shape,
                                f"images[{target}].{key}",
                                target,
                            )
            continue
        # A file without apiVersion/kind is a plain values file: an `image:` string there is a field too.
        plain_values = "apiVersion" not in data and "kind" not in data
        walk(doc, data, (), plain_values)
    return found


def _after(fld: ImageField, marker: Marker, values: Mapping[str, ImageRef]) -> str:
    """What the field would read after Flux's next commit, with an example when the policy is unknown."""
    ref = values.get(marker.policy_ref) or ImageRef(fld.image or "ghcr.io/acme/app", "1.4.2")
    written = ref.written(marker.suffix)
    if written is None:
        return ref.full()
    return (written or '""') if marker.suffix == "digest" else written


def policy_of(images: Mapping[str, str], image: str, namespace: str) -> str | None:
    """The `ns:name` of a policy whose ImageRepository scans `image` (`images`: policy -> the image it
    follows), one in `namespace` first: the policy a marker on that image's line should name."""
    wanted = canonical_or_written(image)
    return next(
        (
            ref
            for ref, scanned in sorted(images.items(), key=lambda kv: kv[0].split(":")[0] != namespace)
            if canonical_or_written(scanned) == wanted
        ),
        None,
    )


def _other_image(
    fld: ImageField,
    marker: Marker,
    images: Mapping[str, str],
    meant: str,
    also: str,
    values: Mapping[str, ImageRef],
) -> Verdict | None:
    """A failing verdict when the marker's policy scans another image than the field's: Flux never
    compares the two, and writes the policy's image (or its tag) on the line. `meant` is the image the
    field refers to (before Flux ran), `also` a second spelling that counts (a kustomize entry's newName)."""
    scanned = images.get(marker.policy_ref)
    if not scanned or not meant:
        return None
    mine = canonical_or_written(scanned)
    if mine in {canonical_or_written(meant), canonical_or_written(also) if also else ""}:
        return None
    where = f"{fld.file}:{fld.line}"
    right = policy_of(images, meant, marker.namespace)
    suffix = f":{marker.suffix}" if marker.suffix else ""
    hint = (
        f'use # {{"$imagepolicy": "{right}{suffix}"}}, the policy of {meant}'
        if right
        else f"add an ImageRepository for {meant} and an ImagePolicy on it, and name that policy here"
    )
    whose = f"its marker names {marker.policy_ref}, whose ImageRepository scans {scanned}"
    if canonical_or_written(fld.image) != canonical_or_written(meant):
        return Verdict(
            fld,
            marker,
            False,
            f"{where}: {fld.label} held {meant}, but {whose}: Flux does not compare the two, so it wrote "
            f"{fld.value} here, and {fld.label} now runs another image",
            f"{hint}, and write {meant} back on the line",
        )
    return Verdict(
        fld,
        marker,
        False,
        f"{where}: {fld.label} runs {meant}, but {whose}: Flux does not compare the two and would write "
        f"`{fld.key}: {_after(fld, marker, values)}` here",
        hint,
    )


def _example(fld: ImageField) -> str:
    """The marker that fits `fld`'s shape, its policy left for the learner to name."""
    wanted = SUFFIX_FOR[fld.shape]
    return f'# {{"$imagepolicy": "flux-system:POLICY{":" + wanted if wanted else ""}"}}'


def _unread_marker(fld: ImageField, marker: Marker, images: Mapping[str, str]) -> Verdict:
    """The verdict on a field whose marker Flux does not read: why, and the marker it would read."""
    where = f"{fld.file}:{fld.line}"
    wanted = SUFFIX_FOR[fld.shape]
    if marker.setter is None and marker.policy and not marker.namespace:
        namespace = next((ref.split(":")[0] for ref in images if ref.split(":")[1:2] == [marker.policy]), "")
        right = f"{namespace or 'NAMESPACE'}:{marker.policy}{':' + wanted if wanted else ''}"
        return Verdict(
            fld,
            marker,
            False,
            f'{where}: the marker on {fld.label} names "{marker.policy}" without its namespace: Flux reads a '
            f'marker as "NAMESPACE:NAME" and has no policy "{marker.policy}", so it never updates this field',
            f'write # {{"$imagepolicy": "{right}"}}',
        )
    return Verdict(
        fld,
        marker,
        False,
        f"{where}: Flux does not read the marker on {fld.label} ({marker.why_ignored}), so it never updates it",
        marker.fix or f"end that line with {_example(fld)}",
    )


def judge(
    fields: Sequence[ImageField],
    markers: Sequence[Marker],
    values: Mapping[str, ImageRef] | None = None,
    *,
    policy_images: Mapping[str, str] | None = None,
    meant: Mapping[tuple[str, str], str] | None = None,
    unread: Sequence[Marker] = (),
) -> list[Verdict]:
    """A verdict for every field and every marker that sits on no image field. `markers` are those Flux
    reads (`find_markers` results with a setter and no reason to be ignored).

    A full `image:` field with no marker is covered when a kustomize `images[]` entry for the same
    repository carries a marker (kustomize replaces the field when it builds). `values` maps
    "ns:name" to the policy's latest image, to quote the exact line Flux would write.
    `policy_images` maps "ns:name" to the image its ImageRepository scans: a marker whose policy scans
    another image than its field's fails. `meant` maps (file, label) to the image a field held before
    Flux ran (a starter's), which tells a field Flux already rewrote to the wrong image. `unread` are
    the markers Flux does not read: an unmarked field carrying one is told why, not "has no marker".
    """
    values = values or {}
    images = policy_images or {}
    before = meant or {}
    new_names = {(f.file, f.image): f.value for f in fields if f.key == "newName"}
    by_line = {(m.file, m.line): m for m in markers}
    overrides = {
        f.image
        for f in fields
        if f.shape in ("name", "tag", "digest") and f.key.startswith("new") and (f.file, f.line) in by_line
    }
    # A marked newTag decides the tag at build time: a marker on the base line it overrides makes Flux
    # rewrite that line too, a change in Git that deploys nothing.
    tag_overrides = {
        f.image: f for f in fields if f.shape == "tag" and f.key == "newTag" and (f.file, f.line) in by_line
    }
    # Any newTag, marked or not, is the field Flux must update for its environment, not the base line:
    # an unmarked base line is told so, and the override's own verdict names what it lacks.
    unmarked_tags = {
        f.image: f
        for f in fields
        if f.shape == "tag" and f.key == "newTag" and (f.file, f.line) not in by_line
    }
    skipped = {(m.file, m.line): m for m in unread}
    verdicts: list[Verdict] = []
    used: set[tuple[str, int]] = set()
    for fld in fields:
        marker = by_line.get((fld.file, fld.line))
        where = f"{fld.file}:{fld.line}"
        if marker is not None:
            used.add((fld.file, fld.line))
            image = before.get((fld.file, fld.label)) or fld.image
            wrong = _other_image(fld, marker, images, image, new_names.get((fld.file, fld.image), ""), values)
            if wrong is not None:
                verdicts.append(wrong)
                continue
        override = tag_overrides.get(fld.image) if fld.shape == "full" else None
        if marker is not None and override is not None:
            verdicts.append(
                Verdict(
                    fld,
                    marker,
                    False,
                    f"{where}: marker on {fld.label}, whose tag the marked kustomize override "
                    f"{override.file}:{override.line} ({override.key}) sets when kustomize builds: Flux would "
                    "rewrite this base line too, a change in Git that deploys nothing",
                    f"remove this marker: the override's {override.key} is the field Flux must update",
                )
            )
            continue
        if fld.shape == "matchkey":
            if marker is None:
                continue
            verdicts.append(
                Verdict(
                    fld,
                    marker,
                    False,
                    f"{where}: marker on {fld.label}, the match key kustomize uses to find the image; once "
                    "Flux rewrites it to another spelling the override silently stops applying",
                    f"move the marker to newName (:name) or newTag (:tag) of that entry in {fld.file}",
                )
            )
            continue
        if marker is None:
            if fld.shape == "full" and fld.image in overrides:
                verdicts.append(
                    Verdict(fld, None, True, f"{where}: {fld.label} is set by a marked kustomize override")
                )
                continue
            if fld.shape == "full" and fld.image in unmarked_tags:
                tag = unmarked_tags[fld.image]
                verdicts.append(
                    Verdict(
                        fld,
                        None,
                        True,
                        f"{where}: {fld.label} gets its tag from the kustomize override {tag.file}:{tag.line}, "
                        "the field to mark",
                    )
                )
                continue
            ignored = skipped.get((fld.file, fld.line))
            if ignored is not None:
                verdicts.append(_unread_marker(fld, ignored, images))
                continue
            if fld.shape == "digest" and not fld.value:
                continue
            verdicts.append(
                Verdict(
                    fld,
                    None,
                    False,
                    f"{where}: {fld.label} ({fld.key}: {fld.value}) has no marker, so Flux never updates it",
                    f"end that line with {_example(fld)}",
                )
            )
            continue
        wanted = SUFFIX_FOR[fld.shape]
        if fits(marker.suffix, fld.shape):
            verdicts.append(Verdict(fld, marker, True, f"{where}: {fld.label} marked {marker.setter}"))
            continue
        after = _after(fld, marker, values)
        variant = f":{marker.suffix}" if marker.suffix else "plain (full reference)"
        right = f"{marker.policy_ref}:{wanted}" if wanted else marker.policy_ref
        verdicts.append(
            Verdict(
                fld,
                marker,
                False,
                f"{where}: {variant} marker on {SHAPE_WORDS[fld.shape]} ({fld.label}); after the update "
                f"the line would read `{fld.key}: {after}`",
                f'use # {{"$imagepolicy": "{right}"}} on this line',
            )
        )
    for marker in markers:
        if (marker.file, marker.line) in used:
            continue
        verdicts.append(
            Verdict(
                None,
                marker,
                False,
                f"{marker.file}:{marker.line}: marker {marker.setter} is not on an image field; Flux would "
                "overwrite that value with an image reference",
                "put markers only on image:, repository:/tag:/digest: or kustomize newName/newTag/newDigest",
            )
        )
    return verdicts


__all__ = [
    "CONTAINER_LISTS",
    "SUFFIX_FOR",
    "ImageField",
    "Shape",
    "Verdict",
    "find_image_fields",
    "fits",
    "judge",
    "line_shape",
    "policy_of",
    "repository_of",
]
