"""The shape of an image field (a full reference, a repository, a tag, a digest, a kustomize match key)
and which marker variant fits it, read from a field's key and value alone.

Flux's four setters each replace the whole scalar they sit on, so a marker's suffix must name the part
the field holds. `lab.core.imagefields` finds the fields of whole documents; the diagnosis of a marked
line needs only these rules (and a check run only them).
"""

from __future__ import annotations

import re
from typing import Literal

from lab.core.refs import split_reference

Shape = Literal["full", "name", "tag", "digest", "matchkey"]

CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")
SUFFIX_FOR: dict[Shape, str] = {"full": "", "name": "name", "tag": "tag", "digest": "digest"}
# Keys that name one part of an image wherever they stand (Helm values conventions, kustomize overrides):
# a marker read line by line (the diagnosis) has only its key and value to tell the field's shape.
KEY_SHAPES: dict[str, Shape] = {
    "image": "full",
    **dict.fromkeys(("tag", "newTag", "imageTag", "version"), "tag"),
    **dict.fromkeys(("repository", "newName", "imageName", "registry"), "name"),
    **dict.fromkeys(("digest", "newDigest", "imageDigest"), "digest"),
}
# Compiled on first use (re's cache): only a marker on a value without `/` or `:` needs it.
_TAG_LIKE = r"^v?[0-9]+(\.[0-9A-Za-z_-]+)*([-+][0-9A-Za-z.+_-]*)?$"
SHAPE_WORDS: dict[Shape, str] = {
    "full": "a full image reference",
    "name": "an image name",
    "tag": "a tag",
    "digest": "a digest",
    "matchkey": "the kustomize match key",
}


def fits(suffix: str, shape: Shape) -> bool:
    """The marker-variant rule: a setter replaces the whole scalar, so its suffix must name the part the
    field holds (`ns:name` a full reference, `:name` a repository, `:tag` a tag, `:digest` a digest).
    No variant fits a kustomize match key: rewriting it makes the override stop matching."""
    return SUFFIX_FOR.get(shape) == suffix


def line_shape(key: str, value: str) -> Shape | None:
    """The shape of a marked scalar read without its document: by its key, else by its value."""
    if key in KEY_SHAPES:
        return KEY_SHAPES[key]
    if value.startswith("sha256:"):
        return "digest"
    if "/" not in value and ":" not in value and re.match(_TAG_LIKE, value):
        return "tag"
    if key == "name" and value and ":" not in value:
        return "matchkey"
    if split_reference(value)[1]:
        return "full"
    return "name" if "/" in value else None
