"""OpenAPI-style validation of the Flux kinds, worded as the API server words it.

The schemas are `lab.core.manifests.schema`'s (the ones `lab check` reads and the CRDs publish); this walks
them the way the API server does, where a learner can trip over them: required fields, duration and URL
patterns, enums, list limits, the ImagePolicy CEL rules, and unknown fields (rejected under `fieldValidation=Strict`, which kubectl sends, or warned about otherwise).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from lab.core.manifests.models import IMAGE_GROUP
from lab.core.manifests.schema import OBJECT_META, SPEC_SCHEMAS, F, field_name, unknown_fields, with_defaults
from lab.sandbox.kubeapi.resources import ResourceType
from lab.sandbox.kubeapi.store import ApiError

# The Flux schemas live in core, shared with the learner-facing validator (lab.core.manifests.validate).
SCHEMAS = SPEC_SCHEMAS


# JSON Schema's type names of decoded JSON values, bool first (a Python bool is an int).
_JSON_TYPES: tuple[tuple[type, str], ...] = (
    (bool, "boolean"),
    (int, "integer"),
    (float, "number"),
    (str, "string"),
    (list, "array"),
    (dict, "object"),
)


def _type_name(value: Any) -> str:
    return next((name for t, name in _JSON_TYPES if isinstance(value, t)), "null")


def _shown(value: Any) -> str:
    return json.dumps(value) if isinstance(value, str) else json.dumps(_type_name(value))


def _walk(node: F, value: Any, path: str, errors: list[str]) -> None:
    if node.type == "any":
        return
    expected = {"map": "object"}.get(node.type, node.type)
    if _type_name(value) != expected:
        errors.append(
            f"{path}: Invalid value: {_shown(value)}: {path} in body must be of type {expected}: "
            f"{json.dumps(_type_name(value))}"
        )
        return
    if node.type == "string":
        if node.enum and value not in node.enum:
            supported = ", ".join(json.dumps(e) for e in node.enum)
            errors.append(f"{path}: Unsupported value: {json.dumps(value)}: supported values: {supported}")
        if node.pattern and not re.search(node.pattern, value):
            errors.append(
                f"{path}: Invalid value: {json.dumps(value)}: {path} in body should match '{node.pattern}'"
            )
        if node.max_length is not None and len(value) > node.max_length:
            errors.append(f"{path}: Too long: may not be more than {node.max_length} bytes")
    elif node.type == "array":
        if node.max_items is not None and len(value) > node.max_items:
            errors.append(f"{path}: Too many: {len(value)}: must have at most {node.max_items} items")
        if node.items is not None:
            for i, item in enumerate(value):
                _walk(node.items, item, f"{path}[{i}]", errors)
    elif node.type == "object":
        for name in node.required:
            if name not in value:
                errors.append(f"{path}.{name}: Required value")
        for name, child in value.items():
            sub = node.props.get(name)
            if sub is not None and child is not None:
                _walk(sub, child, f"{path}.{name}", errors)


def default(rt: ResourceType, obj: dict[str, Any]) -> None:
    """Write the CRD's defaults into `obj`'s spec, as the API server does before it validates: a
    sourceRef without `kind` is a GitRepository's, an `update` left out is `{strategy: Setters}`. The
    storage version's (every version is read back from etcd with them)."""
    schema = SCHEMAS.get((rt.group, rt.plural))
    if schema is not None and isinstance(obj.get("spec"), dict):
        obj["spec"] = with_defaults(schema, obj["spec"])


def _cel(rt: ResourceType, spec: Mapping[str, Any]) -> list[str]:
    if (rt.group, rt.plural) != (IMAGE_GROUP, "imagepolicies"):
        return []
    always = spec.get("digestReflectionPolicy") == "Always"
    if "interval" in spec and not always:
        return [
            "spec: Invalid value: \"object\": spec.interval is only accepted when spec.digestReflectionPolicy is set to 'Always'"
        ]
    if always and "interval" not in spec:
        return [
            "spec: Invalid value: \"object\": spec.interval must be set when spec.digestReflectionPolicy is set to 'Always'"
        ]
    return []


_REASONS = (
    ("Required value", "FieldValueRequired"),
    ("Unsupported value", "FieldValueNotSupported"),
    ("Too many", "FieldValueTooMany"),
    ("Too long", "FieldValueTooLong"),
)


def _cause(error: str) -> dict[str, str]:
    # kubectl prints `The <Kind> "<name>" is invalid: <field>: <message>` from these causes.
    path, _, message = error.partition(": ")
    reason = next((r for prefix, r in _REASONS if message.startswith(prefix)), "FieldValueInvalid")
    return {"reason": reason, "message": message, "field": path}


def validate(rt: ResourceType, version: str, obj: Mapping[str, Any], field_validation: str) -> list[str]:
    """Raise ApiError 422 (schema) or 400 (unknown field, Strict); return warnings for `Warn`."""
    schema = SCHEMAS.get((rt.group, rt.plural))
    if schema is None:
        return []
    name = str((obj.get("metadata") or {}).get("name", ""))
    spec = obj.get("spec")
    errors: list[str] = []
    unknown: list[str] = []
    # Only the storage version's fields are fully known here; older versions are checked for errors only.
    strict_fields = version == rt.storage_version and rt.group == IMAGE_GROUP
    if spec is None:
        errors.append("spec: Required value")
    else:
        _walk(schema, spec, "spec", errors)
        if strict_fields:
            unknown = [field_name(("spec", *p)) for p in unknown_fields(schema, spec)]
        # The CRD's CEL rules are in every served version (v1beta2's ImagePolicy has the same two).
        if isinstance(spec, dict) and not errors:
            errors += _cel(rt, spec)
    # A custom resource's metadata is ObjectMeta, the same in every group and version: strict decoding
    # names a field it lacks too.
    unknown = [
        field_name(("metadata", *p)) for p in unknown_fields(OBJECT_META, obj.get("metadata"))
    ] + unknown
    words = [f'unknown field "{u}"' for u in unknown]
    if words and field_validation == "Strict":
        # Strict decoding happens before schema validation, so it is the error the client sees first.
        raise ApiError(
            400,
            "BadRequest",
            f'{rt.kind} in version "{version}" cannot be handled as a {rt.kind}: strict decoding error: '
            + ", ".join(words),
        )
    if errors:
        listing = errors[0] if len(errors) == 1 else "[" + ", ".join(errors) + "]"
        raise ApiError(
            422,
            "Invalid",
            f'{rt.kind}.{rt.group} "{name}" is invalid: {listing}',
            {"name": name, "group": rt.group, "kind": rt.kind, "causes": [_cause(e) for e in errors]},
        )
    return [] if field_validation == "Ignore" else words
