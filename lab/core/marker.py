"""Put an image policy marker on a container's `image:` line, touching nothing else.

Flux reads the marker from the comment at the end of the line that holds the image value (a marker on
its own line above `image:` is silently ignored), so `mark` edits exactly that line: it appends
`# {"$imagepolicy": "ns:name"}`, or replaces whatever comment was there. Every other byte of the file,
line endings included, stays as it was; marking twice changes nothing.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from lab.core.dnsnames import DNS_SUBDOMAIN
from lab.core.imageshape import CONTAINER_LISTS
from lab.core.record import dataclass
from lab.core.yamlsafe import Doc, Path_, Pos, load_all
from lab.errors import LabError

if TYPE_CHECKING:
    from lab.core.manifests.models import AutomationSet

MARKER_TEMPLATE = '# {{"$imagepolicy": "{ref}"}}'


@dataclass(frozen=True)
class MarkResult:
    """The new text, the 1-based line that carries the marker, and whether anything changed."""

    text: str
    line: int
    changed: bool
    container: str = ""
    image: str = ""
    replaced_comment: str | None = None


@dataclass(frozen=True)
class ContainerImage:
    """A container's `image:` value in a manifest."""

    name: str
    image: Any
    doc: Doc
    path: Path_

    @property
    def line(self) -> int:
        """The line of the image value, where Flux reads the marker (normally the `image:` line)."""
        pos = self.doc.value_pos.get(self.path)
        return pos.line if pos is not None else self.doc.line_of(self.path)


def marker_for(policy_ref: str) -> str:
    return MARKER_TEMPLATE.format(ref=policy_ref)


def example_policy_ref(aset: AutomationSet) -> str:
    """The `namespace:name` a hint's marker shows: the learner's first ImagePolicy, else a placeholder."""
    first = next(iter(aset.policies), None)
    return f"{first.namespace or 'flux-system'}:{first.name}" if first is not None else "flux-system:NAME"


def check_policy_ref(policy_ref: str) -> tuple[str, str]:
    """(namespace, name) of a `namespace:name` policy reference; LabError naming the mistake otherwise."""
    ref = policy_ref.strip()
    example = "e.g. flux-system:nginx (the ImagePolicy's namespace and name)"
    if "/" in ref and ":" not in ref:
        ns, _, name = ref.partition("/")
        raise LabError(
            f"policy reference '{policy_ref}' uses '/'; use namespace:name",
            field="--policy",
            hint=f"write {ns}:{name} - Flux ignores markers with a '/' separator",
        )
    parts = ref.split(":")
    if len(parts) == 1:
        raise LabError(
            f"policy reference '{policy_ref}' has no namespace; use namespace:name",
            field="--policy",
            hint=f"e.g. flux-system:{ref or 'nginx'} - the namespace must be the ImageUpdateAutomation's",
        )
    if len(parts) > 2:
        raise LabError(
            f"policy reference '{policy_ref}' has more than namespace:name",
            field="--policy",
            hint="lab mark writes the full-image marker; for :tag or :name markers edit the file by hand",
        )
    ns, name = parts
    for label, value in (("namespace", ns), ("name", name)):
        if not value or not DNS_SUBDOMAIN.fullmatch(value):
            raise LabError(
                f"policy reference '{policy_ref}': {label} '{value}' is not a valid Kubernetes name",
                field="--policy",
                hint=f"lower-case letters, digits and '-'; {example}",
            )
    return ns, name


def find_container_images(docs: list[Doc]) -> list[ContainerImage]:
    """Every `containers[*].image` (and init/ephemeral containers) in any object of `docs`."""
    found: list[ContainerImage] = []

    def walk(doc: Doc, node: Any, path: Path_) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in CONTAINER_LISTS and isinstance(value, list):
                    for i, item in enumerate(value):
                        if isinstance(item, dict) and "image" in item:
                            name = item.get("name")
                            found.append(
                                ContainerImage(str(name or ""), item["image"], doc, (*path, key, i, "image"))
                            )
                walk(doc, value, (*path, key))
        elif isinstance(node, list):
            for i, item in enumerate(node):
                walk(doc, item, (*path, i))

    for doc in docs:
        walk(doc, doc.data, ())
    return found


def _describe(images: list[ContainerImage]) -> str:
    return ", ".join(f"{c.name or '(unnamed)'} (line {c.line})" for c in images)


def _repository(image: object) -> str:
    """The repository part of an image reference, canonical (`nginx:1` -> `docker.io/library/nginx`)."""
    from lab.core.imagename import canonical_or_written
    from lab.core.refs import split_reference

    return canonical_or_written(split_reference(str(image))[0])


def _choose(
    images: list[ContainerImage], container: str | None, file: str, image: str | None = None
) -> ContainerImage:
    if not images:
        raise LabError(
            "no container with an image: line found",
            file=file,
            field="containers",
            hint="mark the Deployment (or Pod template) whose containers[].image Flux should update",
        )
    if container is not None:
        chosen = [c for c in images if c.name == container]
        if not chosen:
            raise LabError(
                f"no container named '{container}'",
                file=file,
                field="--container",
                hint=f"containers here: {_describe(images)}",
            )
        images = chosen
    if len(images) > 1 and container is None and image:
        # Several containers: the one that runs the policy's image (its ImageRepository's spec.image).
        same = [c for c in images if _repository(c.image) == _repository(image)]
        if len(same) == 1:
            images = same
    if len(images) > 1:
        raise LabError(
            f"{len(images)} containers have an image: line: {_describe(images)}",
            file=file,
            field="--container",
            hint="pick one with --container NAME"
            if container is None
            else "several objects use this container name; split the file or mark it by hand",
        )
    return images[0]


# The line breaks of the YAML reader (libyaml, and go-yaml in Flux): besides \n, \r\n and \r, the
# YAML 1.1 breaks NEL (U+0085), LS (U+2028) and PS (U+2029) end a line too, so positions it reports
# count them. Python's str.splitlines() is no substitute: it also splits at \v, \f and \x1c-\x1e.
# Compiled on first use (re's cache): only writing a marker (`lab mark`) splits lines.
_EOL = "\r\n|[\n\r\x85\u2028\u2029]"


def split_lines(text: str) -> list[str]:
    """Lines with their own line endings, split where the YAML reader counts a new line."""
    out: list[str] = []
    start = 0
    for m in re.finditer(_EOL, text):
        out.append(text[start : m.end()])
        start = m.end()
    if start < len(text):
        out.append(text[start:])
    return out


def _body_and_eol(line: str) -> tuple[str, str]:
    m = re.search(_EOL, line)
    return (line[: m.start()], line[m.start() :]) if m else (line, "")


def mark(
    text: str,
    policy_ref: str,
    *,
    container: str | None = None,
    image: str | None = None,
    file: str = "deployment.yaml",
) -> MarkResult:
    """Add (or fix) the marker for `policy_ref` on the container's image line; of several containers,
    `container` names one, else the one whose image is `image` (the policy's). Raises LabError."""
    check_policy_ref(policy_ref)
    ref = policy_ref.strip()
    docs = load_all(text, file)
    chosen = _choose(find_container_images(docs), container, file, image)
    pos: Pos | None = chosen.doc.value_pos.get(chosen.path)
    style = chosen.doc.style_of(chosen.path)
    if pos is None or not isinstance(chosen.image, str) or not chosen.image:
        raise LabError(
            f"container '{chosen.name}' has an empty or non-text image value",
            file=file,
            line=chosen.line,
            hint="write the container's image as one text value: image: <repository>:<tag>",
        )
    if style in ("|", ">") or pos.end_line != pos.line:
        raise LabError(
            f"the image of container '{chosen.name}' spans several lines; "
            "Flux only reads a marker at the end of a one-line value",
            file=file,
            line=pos.line,
            hint=f"write the image on one line: image: {' '.join(chosen.image.split())}",
        )
    lines = split_lines(text)
    index = pos.line - 1
    body, eol = _body_and_eol(lines[index])
    # A BOM at the start of the file is dropped before parsing, so columns on line 1 are one short.
    shift = 1 if index == 0 and text.startswith("\ufeff") else 0
    end = pos.end_column + shift
    head, rest = body[:end], body[end:]
    value_text = body[pos.column + shift : end]
    if chosen.image not in value_text and style == "":
        raise LabError(
            f"could not locate the image value of container '{chosen.name}' on its line",
            file=file,
            line=pos.line,
            hint="mark this line by hand: image: <image> " + marker_for(ref),
        )
    stripped = rest.strip()
    replaced: str | None = None
    if stripped and not stripped.startswith("#"):
        raise LabError(
            f"the image of container '{chosen.name}' sits inside a flow collection ({{...}} or [...]); "
            "Flux ignores markers there",
            file=file,
            line=pos.line,
            hint="write the container in block style (one key per line), then run lab mark again",
        )
    marker = marker_for(ref)
    if stripped and flux_reads_marker(stripped) == ref:
        # Already a marker Flux resolves to this policy (spacing may differ): leave the learner's bytes.
        return MarkResult(text, pos.line, False, chosen.name, chosen.image, None)
    if stripped:
        replaced = stripped
    new_body = f"{head} {marker}"
    if new_body == body:
        return MarkResult(text, pos.line, False, chosen.name, chosen.image, None)
    lines[index] = new_body + eol
    return MarkResult("".join(lines), pos.line, True, chosen.name, chosen.image, replaced)


def flux_reads_marker(comment: str) -> str | None:
    """The `$imagepolicy` value Flux takes from a comment, or None if it would ignore the comment.

    Flux strips the leading `#`s and decodes a JSON object of strings with Go's rules (reference 4.3):
    the one reading of `lab.core.setters.markers`, so `lab mark` and the setters never disagree.
    """
    from lab.core.setters.markers import SHORTHAND_KEY, GoJsonError, go_json_string_map

    try:
        fields = go_json_string_map(comment.lstrip("#"))
    except GoJsonError:
        return None
    return fields.get(SHORTHAND_KEY) or None


@dataclass(frozen=True)
class MarkerDelta:
    """How a file's image policy markers changed between two versions of it (a commit's view):
    `added` / `removed` name each marker by the setter Flux reads (`ns:name`, `ns:name:tag`), or by its
    comment when Flux cannot read it; `other_lines` says whether anything besides them changed."""

    added: tuple[str, ...]
    removed: tuple[str, ...]
    other_lines: bool

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed)

    @property
    def images(self) -> tuple[str, ...]:
        """The policies (`ns:name`) of the added markers, each once: one per image marked (the
        `:name`/`:tag`/`:digest` markers of one image name the same policy)."""
        return tuple(dict.fromkeys(":".join(ref.split(":")[:2]) for ref in self.added))


def marker_delta(old: str, new: str) -> MarkerDelta:
    """The markers `new` has that `old` has not, and the reverse (as multisets: a second marker for the
    same policy counts), and whether the texts differ elsewhere than in the markers' comments."""
    old_refs, old_rest = _markers_and_rest(old)
    new_refs, new_rest = _markers_and_rest(new)
    return MarkerDelta(_beyond(new_refs, old_refs), _beyond(old_refs, new_refs), old_rest != new_rest)


def _beyond(refs: list[str], others: list[str]) -> tuple[str, ...]:
    """`refs` without one occurrence of each of `others`, in `refs`' order."""
    left = list(others)
    out: list[str] = []
    for ref in refs:
        if ref in left:
            left.remove(ref)
        else:
            out.append(ref)
    return tuple(out)


def _markers_and_rest(text: str) -> tuple[list[str], list[str]]:
    """Each marker-like comment of `text` (what Flux reads from it, else the comment), and the lines
    with those comments cut off."""
    from lab.core.setters.find import find_markers

    lines = text.replace("\r\n", "\n").split("\n")
    refs: list[str] = []
    for marker in find_markers(text):
        refs.append(marker.setter or marker.raw.strip())
        index = marker.line - 1
        if 0 <= index < len(lines):
            lines[index] = lines[index][: marker.column - 1].rstrip()
    return refs, lines
