"""Find the image-automation objects in a learner's files.

Input is file contents keyed by repository-relative path (the caller reads the files). Every object is
converted into a model from `models.py` with its file and line. Nothing here raises for bad input:
unreadable YAML and fields of the wrong type become Problems in the AutomationSet, so one broken file
never hides what is wrong elsewhere.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import fields
from typing import Any, TypeVar

from lab.core.diagnose import norm_path
from lab.core.manifests.emit import yaml_value
from lab.core.manifests.models import (
    IMAGE_GROUP,
    IMAGE_KINDS,
    IMAGE_VERSIONS,
    KUSTOMIZE_GROUP,
    SOURCE_GROUP,
    AutomationSet,
    FluxObject,
    GitRepository,
    ImagePolicy,
    ImageRepository,
    ImageUpdateAutomation,
    Kustomization,
    Problem,
)
from lab.core.policy.spec import PolicyKind, PolicySpec
from lab.core.yamlerror import glued_hint, glued_key, key_in_string
from lab.core.yamlsafe import Doc, join_path, load_all, split_path
from lab.errors import LabError

__all__ = ["Doc", "find_automation", "load_documents", "might_hold_automation"]

POLICY_PRECEDENCE: tuple[PolicyKind, ...] = ("semver", "alphabetical", "numerical")


# Compiled on first use (re's cache): only `lab mark` pre-filters a repository's files with it.
_RELEVANT_KIND = (
    r"""(?im)^kind:[ \t]*["']?(?:ImageRepository|ImagePolicy|ImageUpdateAutomation|GitRepository|Kustomization)\b"""
    r"""|"kind"\s*:\s*"(?:ImageRepository|ImagePolicy|ImageUpdateAutomation|GitRepository|Kustomization)\""""
)


def might_hold_automation(text: str) -> bool:
    """Cheap pre-filter before parsing a whole repository: a top-level `kind:` of interest.

    CRD definitions (gotk-components.yaml, hundreds of KB) only name these kinds indented under
    `names:`, so they are skipped; a misspelt kind (`imagepolicy`) still passes, to be reported.
    """
    return re.search(_RELEVANT_KIND, text) is not None


def load_documents(text: str, file: str) -> list[Doc]:
    """The YAML documents of one file with positions. Raises LabError (file:line) for unreadable YAML."""
    return load_all(text, file)


class _Reader:
    """Typed access to one document's fields; wrong types are recorded as Problems."""

    def __init__(self, doc: Doc, kind: str, problems: list[Problem]) -> None:
        self.doc = doc
        self.kind = kind
        self.problems = problems
        self.reported: set[str] = set()  # paths with a type problem: several fields may read through one

    def _get(self, path: str) -> Any:
        """The value at `path`; None when missing, after reporting a parent that is not a mapping
        (`imageRepositoryRef: name:nginx` leaves no `name` to read: the API server refuses the string)."""
        value = self.doc.get(path)
        if value is None:
            parts = split_path(path)
            for n in range(1, len(parts)):
                parent = self.doc.get(parts[:n])
                if parent is None:
                    break
                if not isinstance(parent, dict | list):
                    self._type_problem(join_path(parts[:n]), "mapping", parent)
                    break
        return value

    def _type_problem(self, path: str, expected: str, value: Any) -> None:
        if path in self.reported:
            return
        self.reported.add(path)
        names = {
            bool: "true/false",
            dict: "mapping",
            list: "list",
            str: "string",
            int: "number",
            float: "number",
        }
        shown = "null" if value is None else names.get(type(value), type(value).__name__)
        key = path.rsplit(".", 1)[-1]
        hint = f"make {path} a {expected}"
        if key.isdigit():  # a list entry
            hint = (
                "remove the empty entry (a `-` alone is null)"
                if value is None
                else f'write the entry as a quoted string: - "{_plain(value)}"'
                if not isinstance(value, dict | list)
                else "write each entry as one string on its own `- ` line"
            )
        elif expected == "string" and not isinstance(value, dict | list):
            hint = f'write {key}: "{_plain(value)}" (quoted)'
            if isinstance(value, bool):
                hint += "; unquoted yes/no/on/off/true/false are booleans"
            else:
                hint += "; unquoted it is read as a number"
        elif expected == "mapping" and not isinstance(value, dict | list):
            hint = self._mapping_hint(path, key, value)
        self.problems.append(
            Problem(
                code="field.type",
                file=self.doc.file,
                line=self._line(path, value),
                field=path,
                message=f"{self.kind} {_indexed(path)} must be a {expected}, found {shown}",
                hint=hint,
            )
        )

    def _line(self, path: str, value: Any) -> int:
        """The key's line; a `key:value` string's own, where the fix goes (the line under the key when the
        space is missing there, or when the string is quoted there)."""
        pos = self.doc.value_pos.get(split_path(path))
        if pos is not None and isinstance(value, str) and self._written_key(path, value) is not None:
            return pos.line
        return self.doc.line_of(path)

    def _written_key(self, path: str, value: str) -> tuple[str, str] | None:
        """The field and value a string at `path` holds: `range:1.25.x` plain (a space missing), or
        `'range: 1.25.x'` quoted (a quoted string is never a key)."""
        if self.doc.style_of(path):
            return key_in_string(value)
        return glued_key(value)

    def _mapping_hint(self, path: str, key: str, value: Any) -> str:
        """How to turn the scalar `value` at `path` into the mapping `key` needs."""
        inner = _INNER.get(key)
        quote = self.doc.style_of(path)
        written = self._written_key(path, value) if isinstance(value, str) else None
        if written is not None:
            # `range:1.25.x`, or `'range:1.25.x'`: the learner wrote the field, but as one string.
            name, rest = written
            quoted = quote in ("'", '"')
            shown = (
                f"{quote}{value}{quote} is one string in quotes"
                if quoted
                else f"`{value}` is one string to YAML"
            )
            what = f"{shown}, not the {name} field"
            below = _INNER.get(name)
            if name != inner and below is not None and key_in_string(rest) is None:
                fix = f"write {name}: {{{below}: {yaml_value(rest)}}}"
                if quote:
                    return f"{what}: {fix}"
                return f"`{value}` is one string to YAML: {fix} (a space after '{name}:', and the {below} goes one level down)"
            pos = self.doc.value_pos.get(split_path(path))
            if not quote and pos is not None and pos.line != self.doc.line_of(path):
                return glued_hint(value) or ""  # on a line of its own: only the space is missing
            # On the key's line a space would make `semver: range: 1.25.x`, which YAML refuses.
            return (
                f"{what}: write {key}: {{{name}: {yaml_value(rest)}}}, "
                f"or {name}: {yaml_value(rest)} on its own line under {key}:"
            )
        if inner:
            return f"write {key}: {{{inner}: {_plain(value)}}} - the {inner} goes one level down"
        return f"put the fields of {key} on their own lines, indented under it"

    def text(self, path: str) -> str | None:
        value = self._get(path)
        if value is None:
            return None
        if isinstance(value, str):
            return value
        if isinstance(value, dict | list):
            self._type_problem(path, "string", value)
            return None
        self._type_problem(path, "string", value)
        return _plain(value)

    def flag(self, path: str) -> bool:
        value = self._get(path)
        if value is None:
            return False
        if isinstance(value, bool):
            return value
        self._type_problem(path, "boolean", value)
        return False

    def mapping(self, path: str) -> dict[str, Any]:
        value = self._get(path)
        if value is None:
            return {}
        if isinstance(value, dict):
            return value
        self._type_problem(path, "mapping", value)
        return {}

    def texts(self, path: str) -> tuple[str, ...] | None:
        value = self._get(path)
        if value is None:
            return None
        if not isinstance(value, list):
            self._type_problem(path, "list of strings", value)
            return None
        for index, item in enumerate(value):
            if not isinstance(item, str):  # the API server refuses the object: items must be strings
                self._type_problem(f"{path}.{index}", "string", item)
        return tuple(_plain(v) for v in value)

    def present(self, path: str) -> bool:
        """Whether the field is written, whatever its value (`checkout: {ref: {}}`)."""
        return self._get(path) is not None

    def text_map(self, path: str) -> dict[str, str]:
        return {str(k): _plain(v) for k, v in self.mapping(path).items()}


#: The one field a policy's block holds: `semver: 1.25.x` means `semver: {range: 1.25.x}`.
_INNER = {"semver": "range", "numerical": "order", "alphabetical": "order"}


def _indexed(path: str) -> str:
    """`spec.exclusionList.0` as the API server writes it: `spec.exclusionList[0]`."""
    return re.sub(r"\.(\d+)(?=\.|$)", r"[\1]", path)


def _plain(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(value)
    return str(value)


def _common(r: _Reader) -> dict[str, Any]:
    return {
        "api_version": r.text("apiVersion") or "",
        "name": r.text("metadata.name") or "",
        "namespace": r.text("metadata.namespace") or "default",
        "file": r.doc.file,
        "line": r.doc.line,
        "doc": r.doc,
    }


def _policy_spec(r: _Reader) -> PolicySpec | None:
    block = r.mapping("spec.policy")
    pattern = r.text("spec.filterTags.pattern")
    extract = r.text("spec.filterTags.extract")
    for kind in POLICY_PRECEDENCE:
        if kind not in block:
            continue
        r.mapping(f"spec.policy.{kind}")
        if kind == "semver":
            value = r.text("spec.policy.semver.range") or ""
        else:
            value = r.text(f"spec.policy.{kind}.order") or "asc"
        return PolicySpec(kind, value, pattern, extract)
    return None


#: Where each field of a model stands in the manifest. The field's type picks the reader (`str`: text, the
#: field's default when missing; `str | None`: text; `bool`: flag; a tuple: list of strings; a dict: string
#: map), so every field is read and type-checked one way; a function reads a field of its own kind. Fields
#: are read in this order, which is the order of their problems.
_SOURCE_REF = {  # Flux's CrossNamespaceSourceReference, of an automation and of a Kustomization
    "source_kind": "spec.sourceRef.kind",
    "source_name": "spec.sourceRef.name",
    "source_namespace": "spec.sourceRef.namespace",
}
_REPOSITORY_FIELDS = {
    "image": "spec.image",
    "interval": "spec.interval",
    "timeout": "spec.timeout",
    "secret_ref": "spec.secretRef.name",
    "cert_secret_ref": "spec.certSecretRef.name",
    "proxy_secret_ref": "spec.proxySecretRef.name",
    "service_account_name": "spec.serviceAccountName",
    "exclusion_list": "spec.exclusionList",
    "provider": "spec.provider",
    "insecure": "spec.insecure",
    "suspend": "spec.suspend",
}
_POLICY_FIELDS: dict[str, str | Callable[[_Reader], Any]] = {
    "repository_ref": "spec.imageRepositoryRef.name",
    "repository_namespace": "spec.imageRepositoryRef.namespace",
    "policy": _policy_spec,
    "digest_reflection_policy": "spec.digestReflectionPolicy",
    "interval": "spec.interval",
    "suspend": "spec.suspend",
}
_AUTOMATION_FIELDS = {
    "interval": "spec.interval",
    **_SOURCE_REF,
    "checkout_branch": "spec.git.checkout.ref.branch",
    "author_name": "spec.git.commit.author.name",
    "author_email": "spec.git.commit.author.email",
    "message_template": "spec.git.commit.messageTemplate",
    "message_template_values": "spec.git.commit.messageTemplateValues",
    "push_branch": "spec.git.push.branch",
    "push_refspec": "spec.git.push.refspec",
    "update_path": "spec.update.path",
    "update_strategy": "spec.update.strategy",
    "suspend": "spec.suspend",
}
_GIT_REPOSITORY_FIELDS = {
    "url": "spec.url",
    "branch": "spec.ref.branch",
    "tag": "spec.ref.tag",
    "semver": "spec.ref.semver",
    "commit": "spec.ref.commit",
    "secret_ref": "spec.secretRef.name",
}
_KUSTOMIZATION_FIELDS = {"path": "spec.path", **_SOURCE_REF}

_Model = TypeVar("_Model", bound=FluxObject)


def _field_value(r: _Reader, path: str, kind: str, default: Any) -> Any:
    """One field read by the reader its type calls for. `kind` is the annotation's text, as the models
    (`from __future__ import annotations`) keep it: evaluating them all with `typing.get_type_hints`
    cost 1.5% of `lab check --offline`."""
    if kind == "bool":
        return r.flag(path)
    if kind == "tuple[str, ...] | None":
        return r.texts(path)
    if kind == "dict[str, str]":
        return r.text_map(path)
    if kind == "str | None":
        return r.text(path)
    if kind == "str":
        return r.text(path) or default
    raise TypeError(f"no reader for a field of type {kind}")


def _field_types(model: type[FluxObject]) -> tuple[dict[str, str], dict[str, Any]]:
    """The type (the annotation's text) and the default of each field of `model`."""
    return {f.name: str(f.type) for f in fields(model)}, {f.name: f.default for f in fields(model)}


#: Evaluated once: a repository holds hundreds of objects.
_FIELD_TYPES: dict[type[FluxObject], tuple[dict[str, str], dict[str, Any]]] = {
    model: _field_types(model)
    for model in (ImageRepository, ImagePolicy, ImageUpdateAutomation, GitRepository, Kustomization)
}


def _read(
    model: type[_Model], r: _Reader, paths: Mapping[str, str | Callable[[_Reader], Any]], **read: Any
) -> _Model:
    """`model` from its common fields and the fields at `paths`; `read` holds fields read before."""
    types, defaults = _FIELD_TYPES[model]
    common = _common(r)
    values = {
        name: path(r) if callable(path) else _field_value(r, path, types[name], defaults[name])
        for name, path in paths.items()
    }
    return model(**read, **common, **values)


def _near_kind(kind: str) -> str | None:
    lowered = kind.lower().replace("-", "").replace("_", "")
    for known in IMAGE_KINDS:
        if lowered == known.lower():
            return known
    return None


def _rejection(kind: str, api_version: str) -> tuple[str, str, str, str] | None:
    """Why an object that looks like a Flux image object is not one: (code, field, message, hint)."""
    group, _, version = api_version.rpartition("/")
    near = _near_kind(kind)
    if near and near != kind:
        return (
            "kind.spelling",
            "kind",
            f"kind '{kind}' is not a Flux kind; kinds are case-sensitive",
            f"write kind: {near}",
        )
    if kind in IMAGE_KINDS and group != IMAGE_GROUP:
        return "api.group", "apiVersion", f"{kind} belongs to {IMAGE_GROUP}, not '{api_version}'", _WRITE_V1
    if group == IMAGE_GROUP and version not in IMAGE_VERSIONS:
        message = f"{api_version} is not an image automation API version (v1, v1beta2, v1beta1)"
        return "api.unknown-version", "apiVersion", message, _WRITE_V1
    if group == IMAGE_GROUP and kind not in IMAGE_KINDS:
        return (
            "kind.unknown",
            "kind",
            f"{IMAGE_GROUP} has no kind '{kind}'",
            "the kinds are ImageRepository, ImagePolicy and ImageUpdateAutomation",
        )
    return None


_WRITE_V1 = f"write apiVersion: {IMAGE_GROUP}/v1"


def _add_doc(doc: Doc, aset: AutomationSet) -> None:
    data = doc.data
    if not isinstance(data, dict):
        return
    api_version = data.get("apiVersion")
    kind = data.get("kind")
    if not isinstance(api_version, str) or not isinstance(kind, str):
        return
    rejected = _rejection(kind, api_version)
    if rejected is not None:
        code, field, message, hint = rejected
        aset.problems.append(
            Problem(
                code=code, file=doc.file, line=doc.line_of(field), field=field, message=message, hint=hint
            )
        )
        return
    group = api_version.rpartition("/")[0]
    r = _Reader(doc, kind, aset.problems)
    if group == IMAGE_GROUP and kind == "ImageRepository":
        aset.repositories.append(_read(ImageRepository, r, _REPOSITORY_FIELDS))
    elif group == IMAGE_GROUP and kind == "ImagePolicy":
        aset.policies.append(_read(ImagePolicy, r, _POLICY_FIELDS))
    elif group == IMAGE_GROUP and kind == "ImageUpdateAutomation":
        ref = r.text_map("spec.git.checkout.ref")
        given = r.present("spec.git.checkout")
        aset.automations.append(
            _read(ImageUpdateAutomation, r, _AUTOMATION_FIELDS, checkout_ref=ref, checkout_given=given)
        )
    elif group == SOURCE_GROUP and kind == "GitRepository":
        aset.git_repositories.append(_read(GitRepository, r, _GIT_REPOSITORY_FIELDS))
    elif group == KUSTOMIZE_GROUP and kind == "Kustomization":
        aset.kustomizations.append(_read(Kustomization, r, _KUSTOMIZATION_FIELDS))


def find_automation(
    files: Mapping[str, str], load: Callable[[str, str], list[Doc]] = load_documents
) -> AutomationSet:
    """Collect ImageRepository / ImagePolicy / ImageUpdateAutomation / GitRepository / Kustomization
    objects from `files` ({relative path: text}); problems reading them are recorded, not raised.
    `load(text, file)` parses one file (a check run passes its per-run cache: each file parsed once)."""
    aset = AutomationSet(files=tuple(sorted(files)))
    for file in aset.files:
        try:
            docs = load(files[file], file)
        except LabError as err:
            aset.problems.append(
                Problem(
                    code="yaml.invalid",
                    file=file,
                    line=err.line,
                    field=err.field or "",
                    message=err.message,
                    hint=err.hint or "",
                )
            )
            continue
        for doc in docs:
            _add_doc(doc, aset)
    return aset


def solution_update_path(text: str | None, file: str) -> str | None:
    """The normalised spec.update.path ('./apps/' -> 'apps') of the first ImageUpdateAutomation in a
    task solution's `file` (its `text`), None when it has none or the text does not parse."""
    if text is None:
        return None
    found = find_automation({file: text}).automations
    return norm_path(found[0].update_path) if found and found[0].update_path else None


def update_path_example(solution: str | None, generate_path: str) -> str:
    """The update.path a hint shows: the solution's (normalised), else the task's `lab generate` one,
    else ./apps - one example everywhere, so `lab why` and the check never name two different paths."""
    path = solution if solution is not None else norm_path(generate_path) or "apps"
    return f"./{path}"
