"""Put an image policy marker on a container's `image:` line, touching nothing else.

Flux reads the marker from the comment at the end of the line that holds the image value (a marker on
its own line above `image:` is silently ignored), so `mark` edits exactly that line: it appends
`# {"$imagepolicy": "ns:name"}`, or replaces whatever comment was there. Every other byte of the file,
line endings included, stays as it was; marking twice changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from lab.core.dnsnames import DNS_SUBDOMAIN
from lab.core.imageshape import CONTAINER_LISTS, SHAPE_WORDS, Shape
from lab.core.record import dataclass
from lab.core.yamlsafe import Doc, Path_, Pos, load_all
from lab.errors import LabError

if TYPE_CHECKING:
    from lab.core.imagefields import ImageField
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
    #: what was marked, for people: "the image of container 'nginx'", "images[ghcr.io/acme/api].newTag"
    target: str = ""
    #: Lines (1-based, of the text before) of the same marker on a line of its own beside the image
    #: line, which Flux ignores: removed, the marker now ends the image line (moved, not doubled).
    moved_from: tuple[int, ...] = ()
    #: Lines (1-based) that ended with the same marker but hold no image (a container's `name:`): Flux
    #: would write the image into that value. The marker comment is taken off them, the line stays.
    taken_from: tuple[int, ...] = ()


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


def policy_ref_for(aset: AutomationSet, generate: Mapping[str, str], solution: str | None = None) -> str:
    """The `namespace:name` a hint's marker names: the learner's first ImagePolicy, else `solution` (the
    task solution's marker), else the one the task's `lab generate` writes (its `[generate]` table
    `generate` over the lab's defaults) - never a placeholder."""
    first = next(iter(aset.policies), None)
    if first is not None:
        return f"{first.namespace or 'flux-system'}:{first.name}"
    if solution:
        return solution
    from lab.core.manifests.generate import options_from_mapping

    options = options_from_mapping(generate)
    return f"{options.namespace}:{options.name}"


def image_line_beside(text: str, line: int) -> int | None:
    """The container image line next to `line` (1-based), only blank or comment lines between them:
    the value a comment on a line of its own there was meant for. None when there is none, or when
    the file does not load. For many lines of one text, `image_line_finder` parses it once."""
    return image_line_finder(text)(line)


def image_line_finder(text: str) -> Callable[[int], int | None]:
    """`image_line_beside` for any line of `text`, the file parsed once (an empty answer when it
    does not load)."""
    try:
        images = frozenset(c.line for c in find_container_images(load_all(text, "file")))
    except LabError:
        images = frozenset()
    return line_beside_finder(text, images)


def line_beside_finder(text: str, targets: Collection[int]) -> Callable[[int], int | None]:
    """For a line (1-based) of `text`: the nearest of the `targets` lines next to it, only blank or
    comment lines between them (None when there is none). `text` is split once, for every line asked."""
    lines = [_body_and_eol(ln)[0] for ln in split_lines(text)]
    wanted = frozenset(targets)

    def beside(line: int) -> int | None:
        found: list[int] = []
        for step in (-1, 1):
            n = line + step
            while 1 <= n <= len(lines) and n not in wanted and lines[n - 1].strip()[:1] in ("", "#"):
                n += step
            if n in wanted:
                found.append(n)
        return min(found, key=lambda n: abs(n - line)) if found else None

    return beside


def move_to_image_line(line: int, image_line: int | None) -> str:
    """The fix for a marker on line `line`, a line of its own: the end of the image line, by number."""
    if image_line is None:
        return "move the comment to the end of the line holding the value"
    side = "above" if image_line < line else "below"
    return f"move the comment to the end of the image: line, line {image_line} ({side} it)"


def check_policy_ref(policy_ref: str) -> tuple[str, str]:
    """(namespace, name) of a `namespace:name[:tag|:name|:digest]` policy reference (Flux's setter names);
    LabError naming the mistake otherwise."""
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
    from lab.core.setters.markers import SUFFIXES

    if len(parts) > 3 or (len(parts) == 3 and parts[2] not in SUFFIXES):
        raise LabError(
            f"policy reference '{policy_ref}' has more than namespace:name[:tag|:name|:digest]",
            field="--policy",
            hint="the full image: namespace:name (e.g. flux-system:nginx); one part of it: "
            "namespace:name:tag, :name or :digest (e.g. flux-system:api:tag on a newTag line)",
        )
    ns, name = parts[:2]
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
    """The one of `images` (never empty: `mark` says what a file without one takes, `_no_container`)
    to mark: `container`'s, else the one that runs `image`, else the only one."""
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
    keep_other: bool = False,
) -> MarkResult:
    """Add (or fix) the marker for `policy_ref` on the line Flux reads it from. `ns:name` marks a
    container's image line (of several, `container` names one, else the one whose image is `image`, the
    policy's); `ns:name:tag` (`:name`, `:digest`) marks the field that holds that part of the image: a
    kustomize `images[]` entry's newTag (newName, ...) or a Helm values `tag:` (`repository:`, `digest:`),
    of several the one for `image`. `keep_other`: a marker Flux reads there for another policy is
    not replaced (the app's `m`, whose policy is the form's, not one the learner typed). Raises LabError."""
    check_policy_ref(policy_ref)
    ref = policy_ref.strip()
    docs = load_all(text, file)
    suffix = ref.split(":")[2] if ref.count(":") == 2 else ""
    if suffix:
        if container is not None:
            full = ":".join(ref.split(":")[:2])
            raise LabError(
                f"--container picks a container's image: line; a :{suffix} marker goes on a field, "
                "chosen by the policy's image",
                file=file,
                field="--container",
                hint=f"drop --container to mark the {_KUSTOMIZE_FIELD[suffix]} (or Helm {_VALUES_FIELD[suffix]}:) "
                f"field, or mark the image: line of container '{container}' with --policy {full}",
            )
        field_ = _choose_part(docs, suffix, ref, file, image)
        doc = _doc_of(docs, field_)
        return _mark_value(
            text, docs, ref, doc, field_.path, field_.value, field_.label, "", file, keep_other
        )
    images = find_container_images(docs)
    if not images:
        raise _no_container(docs, ref, file)
    chosen = _choose(images, container, file, image)
    what = f"the image of container '{chosen.name}'"
    return _mark_value(
        text, docs, ref, chosen.doc, chosen.path, chosen.image, what, chosen.name, file, keep_other
    )


#: the setter suffix -> the shape of the field it writes (`lab.core.imageshape`)
_SUFFIX_SHAPES: dict[str, Shape] = {"tag": "tag", "name": "name", "digest": "digest"}


def _part_fields(docs: list[Doc], file: str, suffix: str) -> list[ImageField]:
    from lab.core.imagefields import find_image_fields

    shape = _SUFFIX_SHAPES[suffix]
    return [f for f in find_image_fields(file, docs) if f.shape == shape and f.path]


def _choose_part(docs: list[Doc], suffix: str, ref: str, file: str, image: str | None) -> ImageField:
    """The one field that holds the part `suffix` names (of several, the one for `image`)."""
    fields = _part_fields(docs, file, suffix)
    if not fields:
        full = ":".join(ref.split(":")[:2])
        on_image_line = bool(find_container_images(docs))
        raise LabError(
            f"no field holding {SHAPE_WORDS[_SUFFIX_SHAPES[suffix]]} for the :{suffix} marker "
            "(a kustomize images[] entry's "
            f"{_KUSTOMIZE_FIELD[suffix]}, or a Helm values {_VALUES_FIELD[suffix]}:)",
            file=file,
            field="--policy",
            hint=f"a container's image: line takes the full marker: --policy {full}"
            if on_image_line
            else f"add the field (e.g. {_KUSTOMIZE_FIELD[suffix]}: under the images: entry), then mark it, "
            f"or end the line that holds it with {marker_for(ref)}",
        )
    if len(fields) > 1 and image:
        same = [f for f in fields if _repository(f.image) == _repository(image)]
        if len(same) == 1:
            fields = same
    if len(fields) > 1:
        listed = ", ".join(f"{f.label} (line {f.line})" for f in fields)
        raise LabError(
            f"{len(fields)} fields hold {SHAPE_WORDS[_SUFFIX_SHAPES[suffix]]}: {listed}",
            file=file,
            field="--policy",
            hint=f"end the line of the one Flux should update with {marker_for(ref)} (e in the app edits it)",
        )
    return fields[0]


_KUSTOMIZE_FIELD = {"tag": "newTag", "name": "newName", "digest": "digest"}
_VALUES_FIELD = {"tag": "tag", "name": "repository", "digest": "digest"}


def _doc_of(docs: list[Doc], field_: ImageField) -> Doc:
    for doc in docs:
        pos = doc.value_pos.get(field_.path)
        if pos is not None and pos.line == field_.line:
            return doc
    return next(d for d in docs if field_.path in d.value_pos)


def _no_container(docs: list[Doc], ref: str, file: str) -> LabError:
    """No container image line to mark: name the part markers the file takes instead, if it has parts."""
    tags = _part_fields(docs, file, "tag")
    names = _part_fields(docs, file, "name")
    if tags:
        where = ", ".join(f"{f.label} (line {f.line})" for f in tags)
        return LabError(
            f"no container with an image: line found; this file sets the image's tag in {where}",
            file=file,
            field="containers",
            hint=f"mark the tag: lab mark {file} --policy {ref}:tag"
            + (f" (and the name, if Flux should write it: --policy {ref}:name)" if names else ""),
        )
    return LabError(
        "no container with an image: line found",
        file=file,
        field="containers",
        hint="mark the Deployment (or Pod template) whose containers[].image Flux should update; a tag "
        f"kept elsewhere (kustomize images[].newTag, Helm values tag:) takes {marker_for(ref + ':tag')}",
    )


def marker_ref_for(text: str, policy_ref: str, file: str) -> str | None:
    """The marker `lab mark` (and the app's `m`) would write into `text` for the policy `policy_ref`
    (`ns:name`): the full one on a container's image line, else `:tag` on the field that holds the tag
    (a kustomize images[] newTag, a Helm values tag:); None when the file has neither (or is no YAML)."""
    try:
        docs = load_all(text, file)
    except LabError:
        return None
    if find_container_images(docs):
        return policy_ref
    return f"{policy_ref}:tag" if _part_fields(docs, file, "tag") else None


def _mark_value(
    text: str,
    docs: list[Doc],
    ref: str,
    doc: Doc,
    path: Path_,
    value: Any,
    what: str,
    container: str,
    file: str,
    keep_other: bool = False,
) -> MarkResult:
    """The marker for `ref` at the end of the line of `doc`'s value at `path` (`what` names it in errors);
    `docs` are all of `text`'s documents, `doc` among them."""
    pos: Pos | None = doc.value_pos.get(path)
    style = doc.style_of(path)
    line = pos.line if pos is not None else doc.line_of(path)
    if pos is None or not isinstance(value, str) or not value:
        raise LabError(
            f"{what} is empty or not a text value",
            file=file,
            line=line,
            hint="write it as one text value, e.g. image: <repository>:<tag>",
        )
    if style in ("|", ">") or pos.end_line != pos.line:
        raise LabError(
            f"{what} spans several lines; Flux only reads a marker at the end of a one-line value",
            file=file,
            line=pos.line,
            hint=f"write {'the image' if container else 'it'} on one line: {path[-1]}: {' '.join(value.split())}",
        )
    lines = split_lines(text)
    index = pos.line - 1
    body, eol = _body_and_eol(lines[index])
    # A BOM at the start of the file is dropped before parsing, so columns on line 1 are one short.
    shift = 1 if index == 0 and text.startswith("\ufeff") else 0
    end = pos.end_column + shift
    head, rest = body[:end], body[end:]
    value_text = body[pos.column + shift : end]
    marker = marker_for(ref)
    if value not in value_text and style == "":
        raise LabError(
            f"could not locate {what} on its line",
            file=file,
            line=pos.line,
            hint=f"mark this line by hand: {path[-1]}: {value} {marker}",
        )
    stripped = rest.strip()
    replaced: str | None = None
    if stripped and not stripped.startswith("#"):
        raise LabError(
            f"{what} sits inside a flow collection ({{...}} or [...]); Flux ignores markers there",
            file=file,
            line=pos.line,
            hint="write it in block style (one key per line), then run lab mark again",
        )
    existing = flux_reads_marker(stripped) if stripped else None
    if existing and existing != ref and keep_other:
        raise LabError(
            f"{what} already carries the marker for {existing}",
            file=file,
            line=pos.line,
            hint=f"left as it is; to mark it for {ref} instead, edit the line",
        )
    strays = _strays(text, docs, lines, ref, pos.line)
    misplaced = _misplaced(text, docs, ref, pos.line, file, value)
    if existing == ref:
        # Already a marker Flux resolves to this policy (spacing may differ): leave the learner's bytes.
        new_body = body
    else:
        replaced = stripped or None
        new_body = f"{head} {marker}"
    if new_body == body and not strays and not misplaced:
        return MarkResult(text, pos.line, False, container, value, None, what)
    lines[index] = new_body + eol
    for at, column in misplaced:
        before, ending = _body_and_eol(lines[at - 1])
        lines[at - 1] = before[: column - 1].rstrip() + ending
    for stray in sorted(strays, reverse=True):
        if stray == len(lines) and not _body_and_eol(lines[stray - 1])[1]:
            # The last line, with no line break: the line before it now ends the file as it did.
            lines[stray - 2] = _body_and_eol(lines[stray - 2])[0]
        del lines[stray - 1]
    line = pos.line - sum(1 for stray in strays if stray < pos.line)
    taken = tuple(at for at, _ in misplaced)
    return MarkResult("".join(lines), line, True, container, value, replaced, what, strays, taken)


def moved_text(moved_from: Sequence[int], taken_from: Sequence[int] = ()) -> str:
    """What `mark` says of the markers it moved (`MarkResult.moved_from`, `taken_from`) rather than
    doubled: nothing of the learner's text goes without a word."""
    said: list[str] = []
    if moved_from:
        lines = ", ".join(map(str, moved_from))
        said.append(
            f"moved the marker from line{'s' if len(moved_from) > 1 else ''} {lines}: on a line of its own "
            "Flux ignores it, it reads the marker at the end of the image line"
        )
    if taken_from:
        lines = ", ".join(map(str, taken_from))
        said.append(
            f"moved the marker from the end of line{'s' if len(taken_from) > 1 else ''} {lines}: "
            "that line holds no image, and Flux would write the image into its value"
        )
    return "; ".join(said)


def _misplaced(
    text: str, docs: list[Doc], ref: str, value_line: int, file: str, image: str
) -> tuple[tuple[int, int], ...]:
    """(line, column) of each marker for `ref` that ends a line other than `value_line` holding a value
    that is no image field (a container's `name:`, a port): Flux reads it and sets that value. Flux's
    setters set any scalar the marker ends, so one whose value is a reference of `image`'s repository
    (an env `value: nginx:1.25.0`) is the learner's on purpose and stays."""
    from lab.core.imagefields import find_image_fields
    from lab.core.setters.find import find_markers

    holders = {f.line for f in find_image_fields(file, docs)} | {c.line for c in find_container_images(docs)}
    return tuple(
        (m.line, m.column)
        for m in find_markers(text)
        if m.setter == ref
        and m.value is not None
        and m.line != value_line
        and m.line not in holders
        and not _reference_of(m.value, image)
    )


def _reference_of(value: str, image: str) -> bool:
    """Whether `value` is a tagged (or digested) reference of `image`'s repository: `nginx:1.25.0` of
    `library/nginx:1.25.3`, not a container's `name: nginx`."""
    from lab.core.imagename import parse_reference
    from lab.core.refs import split_reference

    if not split_reference(value)[1] and "@" not in value:
        return False
    held, marked = parse_reference(value), parse_reference(image)
    return held is not None and marked is not None and held.canonical == marked.canonical


def _strays(text: str, docs: list[Doc], lines: list[str], ref: str, value_line: int) -> tuple[int, ...]:
    """The lines holding only a marker for `ref` on a line of their own beside `value_line` (a container's
    image line, or the field a part marker goes on: a newTag, a Helm tag), which Flux ignores (a head or
    foot comment of a key, never read as the value's line comment). A comment nearer another container's
    image line belongs to that one."""
    from lab.core.setters.find import find_markers

    out: list[int] = []
    beside: Callable[[int], int | None] | None = None
    for m in find_markers(text):
        if m.applies or m.setter != ref or not 1 <= m.line <= len(lines):
            continue
        if _body_and_eol(lines[m.line - 1])[0].strip() != m.raw.strip():
            continue  # not alone on its line: other learner content stays
        if beside is None:
            images = {c.line for c in find_container_images(docs)}
            beside = line_beside_finder(text, images | {value_line})
        if beside(m.line) == value_line:
            out.append(m.line)
    return tuple(out)


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
