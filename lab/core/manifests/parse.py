"""Find the image-automation objects in a learner's files.

Input is file contents keyed by repository-relative path (the caller reads the files). Every object is
converted into a model from `models.py` with its file and line. Nothing here raises for bad input:
unreadable YAML and fields of the wrong type become Problems in the AutomationSet, so one broken file
never hides what is wrong elsewhere.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from lab.core.manifests.models import (
    IMAGE_GROUP,
    IMAGE_VERSIONS,
    KUSTOMIZE_GROUP,
    SOURCE_GROUP,
    AutomationSet,
    GitRepository,
    ImagePolicy,
    ImageRepository,
    ImageUpdateAutomation,
    Kustomization,
    Problem,
)
from lab.core.policy.spec import PolicyKind, PolicySpec
from lab.core.yamlsafe import Doc, load_all
from lab.errors import LabError

__all__ = ["Doc", "find_automation", "load_documents", "might_hold_automation"]

IMAGE_KINDS = ("ImageRepository", "ImagePolicy", "ImageUpdateAutomation")
POLICY_PRECEDENCE: tuple[PolicyKind, ...] = ("semver", "alphabetical", "numerical")


_RELEVANT_KIND = re.compile(
    r"""^kind:[ \t]*["']?(?:ImageRepository|ImagePolicy|ImageUpdateAutomation|GitRepository|Kustomization)\b"""
    r"""|"kind"\s*:\s*"(?:ImageRepository|ImagePolicy|ImageUpdateAutomation|GitRepository|Kustomization)\"""",
    re.MULTILINE | re.IGNORECASE,
)


def might_hold_automation(text: str) -> bool:
    """Cheap pre-filter before parsing a whole repository: a top-level `kind:` of interest.

    CRD definitions (gotk-components.yaml, hundreds of KB) only name these kinds indented under
    `names:`, so they are skipped; a misspelt kind (`imagepolicy`) still passes, to be reported.
    """
    return _RELEVANT_KIND.search(text) is not None


def load_documents(text: str, file: str) -> list[Doc]:
    """The YAML documents of one file with positions. Raises LabError (file:line) for unreadable YAML."""
    return load_all(text, file)


class _Reader:
    """Typed access to one document's fields; wrong types are recorded as Problems."""

    def __init__(self, doc: Doc, kind: str, problems: list[Problem]) -> None:
        self.doc = doc
        self.kind = kind
        self.problems = problems

    def _type_problem(self, path: str, expected: str, value: Any) -> None:
        names = {
            bool: "true/false",
            dict: "mapping",
            list: "list",
            str: "string",
            int: "number",
            float: "number",
        }
        shown = names.get(type(value), type(value).__name__)
        key = path.rsplit(".", 1)[-1]
        hint = f"make {path} a {expected}"
        if expected == "string" and not isinstance(value, dict | list):
            hint = f'write {key}: "{_plain(value)}" (quoted)'
            if isinstance(value, bool):
                hint += "; unquoted yes/no/on/off/true/false are booleans"
            else:
                hint += "; unquoted it is read as a number"
        elif expected == "mapping" and not isinstance(value, dict | list):
            inner = {"semver": "range", "numerical": "order", "alphabetical": "order"}.get(key)
            if inner:
                hint = f"write {key}: {{{inner}: {_plain(value)}}} - the {inner} goes one level down"
            else:
                hint = f"put the fields of {key} on their own lines, indented under it"
        self.problems.append(
            Problem(
                code="field.type",
                file=self.doc.file,
                line=self.doc.line_of(path),
                field=path,
                message=f"{self.kind} {path} must be a {expected}, found {shown}",
                hint=hint,
            )
        )

    def text(self, path: str) -> str | None:
        value = self.doc.get(path)
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
        value = self.doc.get(path)
        if value is None:
            return False
        if isinstance(value, bool):
            return value
        self._type_problem(path, "boolean", value)
        return False

    def mapping(self, path: str) -> dict[str, Any]:
        value = self.doc.get(path)
        if value is None:
            return {}
        if isinstance(value, dict):
            return value
        self._type_problem(path, "mapping", value)
        return {}

    def texts(self, path: str) -> tuple[str, ...] | None:
        value = self.doc.get(path)
        if value is None:
            return None
        if not isinstance(value, list):
            self._type_problem(path, "list of strings", value)
            return None
        return tuple(_plain(v) for v in value)

    def text_map(self, path: str) -> dict[str, str]:
        return {str(k): _plain(v) for k, v in self.mapping(path).items()}


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


def _source_ref(r: _Reader) -> dict[str, Any]:
    """`spec.sourceRef` (Flux's CrossNamespaceSourceReference) of an automation or a Kustomization."""
    return {
        "source_kind": r.text("spec.sourceRef.kind") or "GitRepository",
        "source_name": r.text("spec.sourceRef.name") or "",
        "source_namespace": r.text("spec.sourceRef.namespace"),
    }


def _repository(r: _Reader) -> ImageRepository:
    return ImageRepository(
        **_common(r),
        image=r.text("spec.image") or "",
        interval=r.text("spec.interval") or "",
        timeout=r.text("spec.timeout"),
        secret_ref=r.text("spec.secretRef.name"),
        cert_secret_ref=r.text("spec.certSecretRef.name"),
        proxy_secret_ref=r.text("spec.proxySecretRef.name"),
        service_account_name=r.text("spec.serviceAccountName"),
        exclusion_list=r.texts("spec.exclusionList"),
        provider=r.text("spec.provider"),
        insecure=r.flag("spec.insecure"),
        suspend=r.flag("spec.suspend"),
    )


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


def _policy(r: _Reader) -> ImagePolicy:
    return ImagePolicy(
        **_common(r),
        repository_ref=r.text("spec.imageRepositoryRef.name") or "",
        repository_namespace=r.text("spec.imageRepositoryRef.namespace"),
        policy=_policy_spec(r),
        digest_reflection_policy=r.text("spec.digestReflectionPolicy"),
        interval=r.text("spec.interval"),
        suspend=r.flag("spec.suspend"),
    )


def _automation(r: _Reader) -> ImageUpdateAutomation:
    ref = {k: v for k, v in r.text_map("spec.git.checkout.ref").items()}
    return ImageUpdateAutomation(
        **_common(r),
        interval=r.text("spec.interval") or "",
        **_source_ref(r),
        checkout_branch=r.text("spec.git.checkout.ref.branch"),
        checkout_ref=ref,
        author_name=r.text("spec.git.commit.author.name"),
        author_email=r.text("spec.git.commit.author.email"),
        message_template=r.text("spec.git.commit.messageTemplate"),
        message_template_values=r.text_map("spec.git.commit.messageTemplateValues"),
        push_branch=r.text("spec.git.push.branch"),
        push_refspec=r.text("spec.git.push.refspec"),
        update_path=r.text("spec.update.path"),
        update_strategy=r.text("spec.update.strategy"),
        suspend=r.flag("spec.suspend"),
    )


def _git_repository(r: _Reader) -> GitRepository:
    return GitRepository(
        **_common(r),
        url=r.text("spec.url") or "",
        branch=r.text("spec.ref.branch"),
        tag=r.text("spec.ref.tag"),
        semver=r.text("spec.ref.semver"),
        commit=r.text("spec.ref.commit"),
        secret_ref=r.text("spec.secretRef.name"),
    )


def _kustomization(r: _Reader) -> Kustomization:
    return Kustomization(
        **_common(r),
        path=r.text("spec.path") or "",
        **_source_ref(r),
    )


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
        aset.repositories.append(_repository(r))
    elif group == IMAGE_GROUP and kind == "ImagePolicy":
        aset.policies.append(_policy(r))
    elif group == IMAGE_GROUP and kind == "ImageUpdateAutomation":
        aset.automations.append(_automation(r))
    elif group == SOURCE_GROUP and kind == "GitRepository":
        aset.git_repositories.append(_git_repository(r))
    elif group == KUSTOMIZE_GROUP and kind == "Kustomization":
        aset.kustomizations.append(_kustomization(r))


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
