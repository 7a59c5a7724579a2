"""ImageRepository `spec.image`: what Flux accepts and which repository it scans.

Mirrors image-reflector-controller `internal/registry/helper.go` (scheme and tag checks, Stalled with
reason `ImageURLInvalid`) on top of go-containerregistry `pkg/name` (parsing and the canonical name that
ends up in `status.canonicalImageName`). The ggcr rules followed are those of v0.19.1, the version
image-reflector-controller's go.mod pins: the first path segment is a registry only when it contains
`.` or `:` (so `localhost/foo` is Docker Hub's `localhost/foo`; later docker/distribution-style
parsers special-case `localhost`, this version does not), and a registry must survive Go's
`url.Parse("//" + name)` unchanged. The registry helper uses the same functions to know where to
send requests, so the lab never scans a different repository than Flux would.
"""

from __future__ import annotations

import re

from lab.core.record import dataclass
from lab.core.text import redact_url

DEFAULT_REGISTRY = "index.docker.io"
#: The only alias ggcr rewrites; `registry-1.docker.io` is left alone (and gets no `library/`).
COMPATIBLE_DEFAULT_REGISTRY = "docker.io"
REASON_INVALID = "ImageURLInvalid"

_REPOSITORY_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_-./")
_TAG_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.")
_DIGEST = r"sha256:[0-9a-f]{64}"  # compiled on first use (re's cache): few references have a digest
#: The OCI distribution spec's repository grammar; ggcr is laxer, registries are not.
OCI_REPOSITORY_RE = re.compile(
    r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*"
)
#: The OCI distribution spec's tag grammar (what the registry client and the sandbox registry accept).
OCI_TAG_RE = re.compile(r"^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$")


class ImageNameError(ValueError):
    """`spec.image` that Flux rejects; `str()` is the controller's condition message."""

    def __init__(self, message: str, *, hint: str) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.reason = REASON_INVALID


@dataclass(frozen=True)
class ImageName:
    """A parsed `spec.image`. `original` is what Flux writes into manifests (`latestRef.name`)."""

    original: str
    registry: str
    repository: str

    @property
    def canonical(self) -> str:
        """ggcr `Repository.String()`, Flux's `status.canonicalImageName`."""
        return f"{self.registry}/{self.repository}"

    @property
    def is_docker_hub(self) -> bool:
        return self.registry == DEFAULT_REGISTRY


def split_registry(name: str) -> tuple[str, str]:
    """ggcr v0.19.1 `NewRepository`: ("", name) unless the first segment holds `.` or `:`."""
    parts = name.split("/", 1)
    if len(parts) == 2 and ("." in parts[0] or ":" in parts[0]):
        return parts[0], parts[1]
    return "", name


#: ASCII bytes Go's `url.shouldEscape(c, encodeHost)` lets through unescaped (RFC 3986 host chars).
_HOST_ASCII = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!$&'()*+,;=:[]<>\"-_.~"
)


def _valid_port(colon_port: str) -> bool:
    # Go `validOptionalPort`: empty, or ':' followed by digits only (none is fine).
    return colon_port == "" or (colon_port[0] == ":" and all("0" <= c <= "9" for c in colon_port[1:]))


def _valid_registry(registry: str) -> bool:
    """ggcr `checkRegistry`: Go's `url.Parse("//" + name)` succeeds and its Host is `name` itself.

    Python's urlsplit is laxer (it keeps spaces, never checks the port), so Go's host rules are
    spelled out: no control bytes, nothing that starts a userinfo, path, query or fragment, no
    percent-escape (Go would decode it, so Host differs), a numeric port, only host characters.
    """
    if any(c < " " or c == "\x7f" or c in "@/?#%" for c in registry):
        return False
    host = registry
    if host.startswith("["):
        end = host.rfind("]")
        if end < 0 or not _valid_port(host[end + 1 :]):
            return False
    else:
        colon = host.rfind(":")
        if colon >= 0 and not _valid_port(host[colon:]):
            return False
    return all(c in _HOST_ASCII or not c.isascii() for c in host)


def registry_and_repository(name: str) -> tuple[str, str]:
    """ggcr's `RegistryStr()`/`RepositoryStr()` of a name, Docker Hub defaults applied, unvalidated."""
    registry, repo = split_registry(name)
    if registry in ("", COMPATIBLE_DEFAULT_REGISTRY):
        registry = DEFAULT_REGISTRY
    if registry == DEFAULT_REGISTRY and "/" not in repo:
        repo = "library/" + repo
    return registry, repo


def _new_repository(name: str) -> ImageName | None:
    if not name:
        return None
    registry, repo = split_registry(name)
    if len(repo) < 2 or len(repo) > 255 or any(c not in _REPOSITORY_CHARS for c in repo):
        return None
    if not _valid_registry(registry):
        return None
    registry, repo = registry_and_repository(name)
    return ImageName(original=name, registry=registry, repository=repo)


def _new_tag(name: str) -> ImageName | None:
    base = name
    parts = name.split(":")
    if len(parts) > 1 and "/" not in parts[-1]:
        base = ":".join(parts[:-1])
        tag = parts[-1]
        if not (1 <= len(tag) <= 128) or any(c not in _TAG_CHARS for c in tag):
            return None
    return _new_repository(base)


def _new_digest(name: str) -> ImageName | None:
    parts = name.split("@")
    if len(parts) != 2 or not re.fullmatch(_DIGEST, parts[1]):
        return None
    return _new_tag(parts[0])


def parse_reference(name: str) -> ImageName | None:
    """go-containerregistry's `name.ParseReference`: a tagged (or bare) name, else a digested one; None
    where it fails with `could not parse reference` (a tag outside [a-zA-Z0-9_.-]{1,128}, a bad name)."""
    return _new_tag(name) or _new_digest(name)


def parse_image(image: str) -> ImageName:
    """Parse `spec.image` as Flux does; raise ImageNameError with Flux's message when it would stall.

    >>> parse_image("nginx").canonical
    'index.docker.io/library/nginx'
    """
    if "://" in image:
        scheme, rest = image.split("://", 1)
        # Flux's message, but never the password of an `http://user:password@host/...`.
        host, slash, path = rest.partition("/")
        raise ImageNameError(
            f"image '{redact_url(image)}' should not include URL scheme; remove '{scheme}://'",
            hint=f"write spec.image as host/path without a scheme, e.g. {host.rpartition('@')[2]}{slash}{path}"
            + (" (credentials go in the ImageRepository's secretRef)" if "@" in host else ""),
        )
    ref = parse_reference(image)
    if ref is None:
        hint = "use lower-case registry/path without tag, e.g. library/nginx or ghcr.io/org/app"
        if image != image.lower():
            hint = f"image names are lower case: {image.lower()}"
        elif not image:
            hint = "set spec.image, e.g. library/nginx"
        raise ImageNameError(f"could not parse reference: {image}", hint=hint)
    registry, _ = split_registry(image)
    rest = image[len(registry) :] if registry else image
    pieces = rest.split(":")
    if len(pieces) > 1:
        untagged = image[: len(image) - len(rest)] + rest.split(":")[0].split("@")[0]
        raise ImageNameError(
            f"image '{image}' should not include a tag; remove ':{pieces[1]}'",
            hint=f"spec.image names the repository only ({untagged}); the ImagePolicy chooses the tag",
        )
    if "@" in rest:
        # ggcr accepts name@sha256:...; the tag check above catches it via the ':' in the digest.
        raise ImageNameError(
            f"image '{image}' should not include a tag; remove '@{rest.split('@', 1)[1]}'",
            hint="spec.image names the repository only; the ImagePolicy chooses the tag",
        )
    return ImageName(original=image, registry=ref.registry, repository=ref.repository)


def canonical_name(image: str) -> str:
    """`nginx` -> `index.docker.io/library/nginx`. Raises ImageNameError."""
    return parse_image(image).canonical


def canonical_or_written(image: str) -> str:
    """`canonical_name`, or `image` as written when it is no valid name (a key that must still compare)."""
    try:
        return canonical_name(image)
    except ImageNameError:
        return image


def spelling_hint(image: str) -> str:
    """What to check in `spec.image` when the registry lists no such image: the full name it was asked
    for, which shows a typo, and on Docker Hub that a bare `x` is `library/x` (what learners mix up)."""
    try:
        name = parse_image(image)
    except ImageNameError as err:
        return err.hint if image and err.hint else "check spec.image for a typo"
    if name.is_docker_hub and name.repository.startswith("library/"):
        short = name.repository.removeprefix("library/")
        return f"check spec.image for a typo: Docker Hub was asked for library/{short} (a bare {short} is the same)"
    return f"check spec.image for a typo: the registry was asked for {name.canonical}"


def image_warnings(image: str) -> list[str]:
    """Accepted by Flux but probably not what the learner means (each a one-line explanation)."""
    try:
        name = parse_image(image)
    except ImageNameError:
        return []
    out: list[str] = []
    if name.registry == "registry-1.docker.io" and "/" not in name.repository:
        out.append(
            f"'{image}' asks Docker Hub for a repository literally named '{name.repository}' "
            f"(no library/ is added for registry-1.docker.io); use library/{name.repository}"
        )
    if not OCI_REPOSITORY_RE.fullmatch(name.repository):
        out.append(
            f"repository '{name.repository}' does not follow the OCI name grammar; registries will refuse it"
        )
    return out
