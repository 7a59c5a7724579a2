"""Flux's commit message: the Go template data model of each ImageUpdateAutomation API version, and rendering.

image-automation-controller renders `spec.git.commit.messageTemplate` with Go text/template and sprig's
hermetic functions (internal/source/source.go `templateMsg`) over `TemplateData`, only when something is about
to be committed. The v1 model has `.AutomationObject`, `.Changed` and `.Values`; the v1beta1/v1beta2 era
(IAC <= 0.41, Flux <= 2.6) also had `.Updated` and `.Changed.ImageResult`, which v1 rejects by stalling the
object (`RemovedTemplateField`).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Unpack

from lab.core import gotemplate
from lab.core.gotemplate import parser as tparse
from lab.core.gotemplate.exec import State
from lab.core.gotemplate.values import GoMap, GoMethod, GoSlice, GoStruct
from lab.core.imagename import registry_and_repository
from lab.core.refs import Change, ImageRef, ObjectId, split_reference
from lab.errors import LabError

DEFAULT_MESSAGE = "Update from image update automation"
TEMPLATE_NAME = "commit message"
DOCS_URL = "https://fluxcd.io/flux/components/image/imageupdateautomations/#message-template"
V1 = "image.toolkit.fluxcd.io/v1"
V1BETA2 = "image.toolkit.fluxcd.io/v1beta2"
V1BETA1 = "image.toolkit.fluxcd.io/v1beta1"
API_VERSIONS = (V1, V1BETA2, V1BETA1)

REMOVED_UPDATED = f"template uses removed '.Updated' field. Please use '.Changed' instead. See: {DOCS_URL}"
REMOVED_IMAGE_RESULT = (
    "template uses removed '.Changed.ImageResult' field. Please use '.Changed.FileChanges' or "
    f"'.Changed.Objects' instead. See: {DOCS_URL}"
)
# checkRemovedTemplateField matches these substrings of the Go execution error.
_REMOVED_PATTERNS = (
    ("can't evaluate field Updated in type source.TemplateData", REMOVED_UPDATED, ".Updated"),
    ("can't evaluate field ImageResult in type update.Result", REMOVED_IMAGE_RESULT, ".Changed.ImageResult"),
)

REASON_REMOVED = "RemovedTemplateField"
REASON_GIT = "GitOperationFailed"
PARSE_FAILED = "failed to update source: unable to create commit message template from spec: {}"
RUN_FAILED = "failed to update source: failed to run template from spec: {}"
FIELD = "spec.git.commit.messageTemplate"


class CommitTemplateError(LabError):
    """The commit message template failed as it would in Flux.

    `reason` is the Ready condition reason (`RemovedTemplateField` also means Stalled); `flux_message` is the
    exact condition message the controller would write.
    """

    def __init__(self, reason: str, flux_message: str, *, hint: str, automation: str = "") -> None:
        where = f"ImageUpdateAutomation {automation}: " if automation else ""
        # LabError messages are one line; Go texts rarely hold newlines but node contexts can.
        super().__init__(
            f"{where}{reason}: {flux_message}".replace("\n", "\\n"),
            hint=hint,
            field=FIELD,
        )
        self.reason = reason
        self.flux_message = flux_message
        self.stalled = reason == REASON_REMOVED


# --- Go types of the data model -----------------------------------------------------------------------------


class NamespacedName(GoStruct):
    go_type = "types.NamespacedName"

    def __init__(self, namespace: str, name: str) -> None:
        self.namespace = namespace
        self.name = name

    def go_fields(self) -> list[tuple[str, Any]]:
        return [("Namespace", self.namespace), ("Name", self.name)]

    def go_string(self) -> str:
        return f"{self.namespace}/{self.name}"

    def go_methods(self) -> dict[str, GoMethod]:
        return {"String": GoMethod("String", self.go_string)}


class _StringFields(GoStruct):
    """yaml.TypeMeta and yaml.NameMeta: string fields only, each `json:"...,omitempty"`."""

    def __init__(self, go_type: str, *fields: tuple[str, str, str]) -> None:
        self.go_type = go_type
        self.fields = fields
        """(Go field name, JSON name, value) in declaration order."""

    def go_fields(self) -> list[tuple[str, Any]]:
        return [(go_name, value) for go_name, _json, value in self.fields]

    def go_json(self) -> Any:
        return {json_name: value for _go, json_name, value in self.fields if value}


class _ResourceIdentifier(GoStruct):
    go_type = "yaml.ResourceIdentifier"
    embedded = frozenset({"TypeMeta", "NameMeta"})

    def __init__(self, obj: ObjectId) -> None:
        self.type_meta = _StringFields(
            "yaml.TypeMeta", ("APIVersion", "apiVersion", obj.api_version), ("Kind", "kind", obj.kind)
        )
        self.name_meta = _StringFields(
            "yaml.NameMeta", ("Name", "name", obj.name), ("Namespace", "namespace", obj.namespace)
        )

    def go_fields(self) -> list[tuple[str, Any]]:
        return [("TypeMeta", self.type_meta), ("NameMeta", self.name_meta)]


class ObjectIdentifier(GoStruct):
    """update.ObjectIdentifier{yaml.ResourceIdentifier}: prints `{{{apps/v1 Deployment} {nginx default}}}`."""

    go_type = "update.ObjectIdentifier"
    embedded = frozenset({"ResourceIdentifier"})

    def __init__(self, obj: ObjectId) -> None:
        self.obj = obj
        self.rid = _ResourceIdentifier(obj)

    def go_fields(self) -> list[tuple[str, Any]]:
        return [("ResourceIdentifier", self.rid)]


class GoChange(GoStruct):
    go_type = "update.Change"

    def __init__(self, old: str, new: str, setter: str) -> None:
        self.old = old
        self.new = new
        self.setter = setter

    def go_fields(self) -> list[tuple[str, Any]]:
        return [("OldValue", self.old), ("NewValue", self.new), ("Setter", self.setter)]


class GoImageRef(GoStruct):
    """update.ImageRef (v1beta1/v1beta2 model): prints as the policy's image (`library/nginx:1.25.3`)"""

    go_type = "update.ImageRef"
    embedded = frozenset({"Reference"})
    unexported = frozenset({"policy"})

    def __init__(self, ref: ImageRef, policy: NamespacedName) -> None:
        self.ref = ref
        self.policy = policy

    def go_fields(self) -> list[tuple[str, Any]]:
        return [("Reference", self.ref.full()), ("policy", self.policy)]

    def go_string(self) -> str:
        return self.ref.full()

    def _name(self) -> str:
        registry, repo = registry_and_repository(self.ref.name)
        if self.ref.digest:
            return f"{registry}/{repo}@{self.ref.digest}"
        return f"{registry}/{repo}:{self.ref.tag}"

    def go_methods(self) -> dict[str, GoMethod]:
        registry, repo = registry_and_repository(self.ref.name)
        return {
            "String": GoMethod("String", self.go_string),
            "Identifier": GoMethod("Identifier", lambda: self.ref.digest or self.ref.tag),
            "Repository": GoMethod("Repository", lambda: repo),
            "Registry": GoMethod("Registry", lambda: registry),
            "Name": GoMethod("Name", self._name),
            "Policy": GoMethod("Policy", lambda: self.policy),
        }

    def go_json(self) -> Any:
        return {}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, GoImageRef):
            return NotImplemented
        return self.ref == other.ref and self.policy.go_fields() == other.policy.go_fields()

    def __hash__(self) -> int:
        return hash((self.ref, self.policy.namespace, self.policy.name))


_OBJ_CHANGES = "update.ObjectChanges"
_CHANGES = "[]update.Change"
_IMAGES = "[]update.ImageRef"
_OBJ_IMAGES = "map[update.ObjectIdentifier][]update.ImageRef"


def _obj_map(type_name: str, elem: str) -> GoMap:
    return GoMap(type_name, {}, key_type="update.ObjectIdentifier", elem_type=elem)


def _in_order(files: GoMap, objects_of: Callable[[Any], GoMap]) -> list[Any]:
    """Every item of a files -> objects -> items result: files in byte order, then objects in their
    sort order, then document order (Go ranges over maps; the lab fixes one order)."""
    out: list[Any] = []
    for file in sorted(files.items, key=lambda f: f.encode()):
        objs = objects_of(files.items[file])
        for oid in sorted(objs.items, key=lambda o: o.sort_key()):
            out.extend(objs.items[oid].items)
    return out


def _unique(items: list[Any], key: Callable[[Any], Hashable]) -> list[Any]:
    """The first of each `key`, in order (Flux drops repeated changes and images)."""
    seen: set[Hashable] = set()
    out: list[Any] = []
    for item in items:
        if key(item) not in seen:
            seen.add(key(item))
            out.append(item)
    return out


class _ChangesResult(GoStruct):
    """update.Result (v1) / update.ResultV2 (v1beta2): FileChanges plus the Changes() and Objects() methods.

    (v1beta2 also has the ImageResult field.)
    """

    def __init__(self, go_type: str, file_changes: GoMap, merge_objects: bool) -> None:
        self.go_type = go_type
        self.file_changes = file_changes
        self.merge_objects = merge_objects
        self.image_result: GoStruct | None = None

    def go_fields(self) -> list[tuple[str, Any]]:
        if self.image_result is not None:
            return [("ImageResult", self.image_result), ("FileChanges", self.file_changes)]
        return [("FileChanges", self.file_changes)]

    def changes(self) -> GoSlice:
        # Go ranges over two maps here, so Flux's order is random across files and objects. We use file
        # name order, then object order (APIVersion, Kind, Name, Namespace), then document order - the order
        # `range .Changed.FileChanges` shows - so the lab is deterministic. Duplicates of
        # (OldValue, NewValue, Setter) are dropped as in Flux.
        found = _in_order(self.file_changes, lambda objs: objs)
        return GoSlice(_CHANGES, _unique(found, lambda ch: (ch.old, ch.new, ch.setter)))

    def objects(self) -> GoMap:
        result = _obj_map(_OBJ_CHANGES, _CHANGES)
        for file in sorted(self.file_changes.items, key=lambda f: f.encode()):
            objs: GoMap = self.file_changes.items[file]
            for oid, changes in objs.items.items():
                if self.merge_objects and oid in result.items:
                    result.items[oid] = GoSlice(_CHANGES, result.items[oid].items + changes.items)
                else:
                    # IAC <= 1.1 overwrote an object seen in two files; Go's map order decides which file
                    # wins, we let the last file in name order win.
                    result.items[oid] = GoSlice(_CHANGES, list(changes.items))
        return result

    def go_methods(self) -> dict[str, GoMethod]:
        return {"Changes": GoMethod("Changes", self.changes), "Objects": GoMethod("Objects", self.objects)}


class _FileResult(GoStruct):
    go_type = "update.FileResult"

    def __init__(self) -> None:
        self.objects = _obj_map(_OBJ_IMAGES, _IMAGES)

    def go_fields(self) -> list[tuple[str, Any]]:
        return [("Objects", self.objects)]


class _ImageResult(GoStruct):
    """The old update.Result: Files -> Objects -> []ImageRef, with Images() and Objects()."""

    go_type = "update.Result"

    def __init__(self) -> None:
        self.files = GoMap("map[string]update.FileResult", {}, elem_type="update.FileResult")

    def go_fields(self) -> list[tuple[str, Any]]:
        return [("Files", self.files)]

    def images(self) -> GoSlice:
        return GoSlice(_IMAGES, _unique(_in_order(self.files, lambda fr: fr.objects), lambda ref: ref))

    def objects(self) -> GoMap:
        result = _obj_map(_OBJ_IMAGES, _IMAGES)
        for file in sorted(self.files.items, key=lambda f: f.encode()):
            fr: _FileResult = self.files.items[file]
            for oid, refs in fr.objects.items.items():
                prev = result.items[oid].items if oid in result.items else []
                result.items[oid] = GoSlice(_IMAGES, prev + refs.items)
        return result

    def go_methods(self) -> dict[str, GoMethod]:
        return {"Images": GoMethod("Images", self.images), "Objects": GoMethod("Objects", self.objects)}


class TemplateData(GoStruct):
    go_type = "source.TemplateData"

    def __init__(self, fields: list[tuple[str, Any]]) -> None:
        self._fields = fields

    def go_fields(self) -> list[tuple[str, Any]]:
        return self._fields

    def field_names(self) -> list[str]:
        return [n for n, _ in self._fields]


# --- building the model -------------------------------------------------------------------------------------


def _policy_of(setter: str) -> tuple[str, str]:
    parts = setter.split(":")
    return (parts[0], parts[1]) if len(parts) >= 2 else ("", setter)


def _image_for(change: Change, images: Sequence[ImageRef] | Mapping[str, ImageRef]) -> ImageRef | None:
    """The ImagePolicy result behind a change's setter (`ns:policy[:tag|:name|:digest]`)."""
    ns, policy = _policy_of(change.setter)
    if isinstance(images, Mapping):
        return images.get(f"{ns}:{policy}")
    suffix = change.setter.split(":")[2] if change.setter.count(":") >= 2 else ""
    for img in images:
        if img.written(suffix) == change.new:
            return img
    if not suffix:
        name, tag = split_reference(change.new)
        if tag:
            return ImageRef(name, tag, change.new.partition("@")[2])
    return None


if TYPE_CHECKING:  # only annotations name it: a TypedDict compiles each of its annotations at import
    from typing import NotRequired, TypedDict

    from lab.core.manifests.models import ImageUpdateAutomation

    class TemplateInputs(TypedDict):
        """What, besides the changes, Flux's template data is made of (keyword arguments of
        `build_template_data` and `render_commit_message`)."""

        api_version: str
        automation_namespace: str
        automation_name: str
        values: NotRequired[Mapping[str, str] | None]
        images: NotRequired[Sequence[ImageRef] | Mapping[str, ImageRef]]


def build_template_data(
    changes: Sequence[Change],
    *,
    api_version: str,
    automation_namespace: str,
    automation_name: str,
    values: Mapping[str, str] | None = None,
    images: Sequence[ImageRef] | Mapping[str, ImageRef] = (),
) -> TemplateData:
    """The value Flux passes to the template, for the IUA's API version."""
    if api_version not in API_VERSIONS:
        raise LabError(
            f"unknown ImageUpdateAutomation apiVersion {api_version!r}",
            hint=f"use one of {', '.join(API_VERSIONS)}",
            field="apiVersion",
        )
    v1 = api_version == V1
    file_changes = GoMap("map[string]update.ObjectChanges", {}, elem_type=_OBJ_CHANGES)
    for ch in changes:
        objs = file_changes.items.setdefault(ch.file, _obj_map(_OBJ_CHANGES, _CHANGES))
        oid = ObjectIdentifier(ch.object)
        lst = objs.items.setdefault(oid, GoSlice(_CHANGES, []))
        lst.items.append(GoChange(ch.old, ch.new, ch.setter))
    changed = _ChangesResult("update.Result" if v1 else "update.ResultV2", file_changes, merge_objects=v1)
    vals = GoMap("map[string]string", dict(values or {}), elem_type="string")
    auto = NamespacedName(automation_namespace, automation_name)
    if v1:
        return TemplateData([("AutomationObject", auto), ("Changed", changed), ("Values", vals)])
    # v1beta1 objects were served by the same controllers as v1beta2 until Flux 2.6 and got this model.
    image_result = _ImageResult()
    for ch in changes:
        img = _image_for(ch, images)
        if img is None:
            continue
        ns, policy = _policy_of(ch.setter)
        ref = GoImageRef(img, NamespacedName(ns, policy))
        fr = image_result.files.items.setdefault(ch.file, _FileResult())
        refs = fr.objects.items.setdefault(ObjectIdentifier(ch.object), GoSlice(_IMAGES, []))
        if ref not in refs.items:
            refs.items.append(ref)
    changed.image_result = image_result
    return TemplateData(
        [("AutomationObject", auto), ("Updated", image_result), ("Changed", changed), ("Values", vals)]
    )


# --- rendering ----------------------------------------------------------------------------------------------


def _hint_for(go_error: str, api_version: str) -> str:
    if "can't evaluate field" in go_error and "in type source.TemplateData" in go_error:
        top = (
            "AutomationObject, .Changed, .Values"
            if api_version == V1
            else "AutomationObject, .Updated, .Changed, .Values"
        )
        return (
            f"the top-level fields are .{top}; changes are listed by "
            "{{range .Changed.Changes}}{{.OldValue}} -> {{.NewValue}}{{end}}"
        )
    if "not defined" in go_error and "function" in go_error:
        return (
            "only Go template builtins and sprig's hermetic functions exist in Flux "
            "(no now, date, env, uuidv4 or rand*)"
        )
    if "can't evaluate field" in go_error:
        return (
            "check the field names: a change has .OldValue, .NewValue, .Setter; an object id has "
            ".APIVersion, .Kind, .Name, .Namespace"
        )
    return "fix the template (Go text/template syntax, see https://pkg.go.dev/text/template) and re-apply"


def _removed(go_error: str) -> tuple[str, str] | None:
    for pattern, message, field in _REMOVED_PATTERNS:
        if pattern in go_error:
            return message, field
    return None


def render_commit_message(
    template: str | None, changes: Sequence[Change], **inputs: Unpack[TemplateInputs]
) -> str:
    """Render the commit message exactly as image-automation-controller would, or raise CommitTemplateError.

    `images` feeds the v1beta1/v1beta2 `.Updated` model: either the policies' results keyed by `ns:policy`
    or a plain list (matched to each change by the value its setter wrote).
    """
    text = template or DEFAULT_MESSAGE
    api_version = inputs["api_version"]
    automation = f"{inputs['automation_namespace']}/{inputs['automation_name']}"
    data = build_template_data(changes, **inputs)
    try:
        tmpl = gotemplate.parse(text, TEMPLATE_NAME)
    except gotemplate.TemplateError as exc:
        raise _git_failure(PARSE_FAILED, exc, api_version, automation) from None
    return _execute(tmpl, data, api_version, automation)


def render_for(iua: ImageUpdateAutomation, changes: Sequence[Change]) -> str:
    """`render_commit_message` of `iua`'s messageTemplate (and its values) for its run's `changes`."""
    return render_commit_message(
        iua.message_template,
        changes,
        api_version=iua.api_version,
        automation_namespace=iua.namespace,
        automation_name=iua.name,
        values=iua.message_template_values,
    )


def _git_failure(what: str, exc: Exception, api_version: str, automation: str) -> CommitTemplateError:
    """The GitOperationFailed condition of a template that does not parse or run (`what`: its message)."""
    return CommitTemplateError(
        REASON_GIT, what.format(exc), hint=_hint_for(str(exc), api_version), automation=automation
    )


def _execute(tmpl: gotemplate.Template, data: TemplateData, api_version: str, automation: str) -> str:
    """Run a parsed message template on `data` as image-automation-controller does, or raise
    CommitTemplateError with its condition."""
    try:
        return tmpl.execute(data)
    except gotemplate.TemplateError as exc:
        removed = _removed(str(exc))
        if removed is not None:
            message, field = removed
            raise CommitTemplateError(
                REASON_REMOVED,
                message,
                hint=(
                    f"{field} is gone in {V1} and the object stays Stalled until the template changes; "
                    "list updates with {{range .Changed.Changes}}{{.OldValue}} -> {{.NewValue}} {{end}}"
                ),
                automation=automation,
            ) from None
        raise _git_failure(RUN_FAILED, exc, api_version, automation) from None


# --- static checks ------------------------------------------------------------------------------------------

_SAMPLE_CHANGE = Change(
    file="apps/deployment.yaml",
    object=ObjectId("apps/v1", "Deployment", "app", "default"),
    setter="flux-system:app",
    old="registry.example.com/app:1.0.0",
    new="registry.example.com/app:1.0.1",
)


def _walk_fields(node: tparse.Node, root_dot: bool, found: list[tuple[tparse.Node, list[str]]]) -> None:
    """Collect field paths that are evaluated against the template data itself (`.X` at top level, `$.X`)."""
    if isinstance(node, tparse.FieldNode):
        if root_dot:
            found.append((node, node.ident))
    elif isinstance(node, tparse.VariableNode):
        if node.ident[0] == "$" and len(node.ident) > 1:
            found.append((node, node.ident[1:]))
    elif isinstance(node, tparse.ChainNode | tparse.ActionNode | tparse.TemplateNode):
        inner = node.node if isinstance(node, tparse.ChainNode) else node.pipe
        if inner is not None:
            _walk_fields(inner, root_dot, found)
    elif isinstance(node, tparse.ListNode | tparse.PipeNode | tparse.CommandNode):
        inside = (
            node.nodes
            if isinstance(node, tparse.ListNode)
            else node.cmds
            if isinstance(node, tparse.PipeNode)
            else node.args
        )
        for child in inside:
            _walk_fields(child, root_dot, found)
    elif isinstance(node, tparse.BranchNode):
        if node.pipe is not None:
            _walk_fields(node.pipe, root_dot, found)
        changes_dot = isinstance(node, tparse.RangeNode | tparse.WithNode)
        if node.list is not None:
            _walk_fields(node.list, root_dot and not changes_dot, found)
        if node.else_list is not None:
            _walk_fields(node.else_list, root_dot, found)


def check_template(template: str | None, api_version: str) -> list[str]:
    """Problems Flux would report for this template, found without waiting for an image update.

    Each entry is the condition message Flux would set. Parse errors and removed or unknown top-level fields
    are found statically (even in branches that would not run); a trial render over one sample change
    catches the rest.
    """
    if not template:
        return []
    problems: list[str] = []
    try:
        tmpl = gotemplate.parse(template, TEMPLATE_NAME)
    except gotemplate.TemplateError as exc:
        return [PARSE_FAILED.format(exc)]
    data = build_template_data(
        [_SAMPLE_CHANGE],
        api_version=api_version,
        automation_namespace="flux-system",
        automation_name="flux-system",
        images={"flux-system:app": ImageRef("registry.example.com/app", "1.0.1")},
    )
    fields: list[tuple[tparse.Node, list[str]]] = []
    _walk_fields(tmpl.root, True, fields)
    state = State(TEMPLATE_NAME, template, lambda _n: None)
    top = data.field_names()
    for node, path in fields:
        location, context = state.error_context(node)
        prefix = f'template: {location}: executing "{TEMPLATE_NAME}" at <{context}>: '
        if path[0] not in top:
            err = prefix + f"can't evaluate field {path[0]} in type source.TemplateData"
        elif api_version == V1 and path[0] == "Changed" and len(path) > 1 and path[1] == "ImageResult":
            err = prefix + "can't evaluate field ImageResult in type update.Result"
        else:
            continue
        removed = _removed(err)
        msg = removed[0] if removed else RUN_FAILED.format(err)
        if msg not in problems:
            problems.append(msg)
    try:
        _execute(tmpl, data, api_version, "flux-system/flux-system")  # the trial render over the sample
    except CommitTemplateError as exc:
        if exc.flux_message not in problems:
            problems.append(exc.flux_message)
    return problems


__all__ = [
    "DEFAULT_MESSAGE",
    "CommitTemplateError",
    "build_template_data",
    "check_template",
    "render_commit_message",
]
