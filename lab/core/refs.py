"""Values that flow between policies, setters and the commit message.

These mirror Flux's own types: `ImageRef` is an ImagePolicy's `status.latestRef`; `ObjectId` and
`Change` are image-automation-controller's `update.ObjectIdentifier` and `update.Change`.
"""

from __future__ import annotations

from lab.core.record import dataclass


@dataclass(frozen=True)
class ImageRef:
    """An ImagePolicy result: `name` is ImageRepository `spec.image` exactly as written."""

    name: str
    tag: str
    digest: str = ""

    def full(self) -> str:
        """What a full `ns:name` marker writes: `name:tag`, plus `@digest` when reflected.

        A digest-only reference (no tag) is `name@digest`, as go-containerregistry's `Digest.String()`
        prints it; never `name:@digest`.
        """
        ref = f"{self.name}:{self.tag}" if self.tag else self.name
        return f"{ref}@{self.digest}" if self.digest else ref

    def written(self, suffix: str) -> str | None:
        """What a marker of this variant writes: `ns:name` the full reference, `:name`, `:tag` and
        `:digest` their part (None for a variant Flux does not know)."""
        return {"": self.full(), "name": self.name, "tag": self.tag, "digest": self.digest}.get(suffix)


@dataclass(frozen=True, order=True)
class ObjectId:
    """A Kubernetes object in a changed file (empty strings for non-Kubernetes YAML)."""

    api_version: str = ""
    kind: str = ""
    name: str = ""
    namespace: str = ""


@dataclass(frozen=True)
class Change:
    """One value a setter changed. `file` is relative to `update.path`, as in Flux's result."""

    file: str
    object: ObjectId
    setter: str
    old: str
    new: str
    line: int = 0


def split_reference(reference: str) -> tuple[str, str]:
    """(`ghcr.io/acme/shop`, `1.4.0`) of `ghcr.io/acme/shop:1.4.0@sha256:...` (a registry port is kept)."""
    ref = reference.split("@", 1)[0]
    slash = ref.rfind("/")
    colon = ref.rfind(":")
    return (ref[:colon], ref[colon + 1 :]) if colon > slash else (ref, "")
