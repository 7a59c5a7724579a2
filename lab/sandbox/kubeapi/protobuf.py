"""The Kubernetes protobuf envelope, read far enough for the review requests kubectl sends as protobuf.

kubectl's typed clients (`auth can-i`, `auth whoami`) post `application/vnd.kubernetes.protobuf`: the magic
`k8s\\x00`, then a `runtime.Unknown` {typeMeta{apiVersion, kind}, raw, ...} whose `raw` is the object's own
message. The sandbox answers in JSON (the clients accept it); objects are otherwise read as JSON only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lab.core.record import dataclass

MAGIC = b"k8s\x00"
MEDIA_TYPE = "application/vnd.kubernetes.protobuf"


class ProtobufError(ValueError):
    pass


@dataclass(frozen=True)
class ProtoBody:
    """A protobuf request body, decoded only by the endpoints that know its message."""

    raw: bytes


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise ProtobufError("truncated varint")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7


def fields(data: bytes) -> dict[int, list[Any]]:
    """Field number -> values (ints for varints, bytes for length-delimited); other wire types skipped."""
    out: dict[int, list[Any]] = {}
    pos = 0
    while pos < len(data):
        tag, pos = _varint(data, pos)
        number, wire = tag >> 3, tag & 7
        value: Any
        if wire == 0:
            value, pos = _varint(data, pos)
        elif wire == 2:
            length, pos = _varint(data, pos)
            if pos + length > len(data):
                raise ProtobufError("truncated field")
            value, pos = data[pos : pos + length], pos + length
        elif wire == 1:
            value, pos = data[pos : pos + 8], pos + 8
        elif wire == 5:
            value, pos = data[pos : pos + 4], pos + 4
        else:
            raise ProtobufError(f"unsupported wire type {wire}")
        out.setdefault(number, []).append(value)
    return out


def unwrap(body: bytes) -> tuple[str, str, bytes]:
    """(apiVersion, kind, object message) of an enveloped body."""
    if not body.startswith(MAGIC):
        raise ProtobufError("not a Kubernetes protobuf message")
    unknown = fields(body[len(MAGIC) :])
    type_meta = fields(_first(unknown, 1, b""))
    return (
        _first(type_meta, 1, b"").decode("utf-8", "replace"),
        _first(type_meta, 2, b"").decode("utf-8", "replace"),
        _first(unknown, 2, b""),
    )


def _first(found: Mapping[int, list[Any]], number: int, default: Any) -> Any:
    values = found.get(number)
    return values[0] if values else default


def _strings(message: bytes, names: Mapping[int, str]) -> dict[str, str]:
    found = fields(message)
    return {
        name: _first(found, number, b"").decode("utf-8", "replace")
        for number, name in names.items()
        if number in found
    }


_RESOURCE_ATTRIBUTES = {
    1: "namespace",
    2: "verb",
    3: "group",
    4: "version",
    5: "resource",
    6: "subresource",
    7: "name",
}
_NON_RESOURCE_ATTRIBUTES = {1: "path", 2: "verb"}


def review_spec(kind: str, message: bytes) -> dict[str, Any]:
    """The `spec` of a SelfSubjectAccessReview or SelfSubjectRulesReview message, as its JSON form."""
    spec = fields(_first(fields(message), 2, b""))
    if kind == "SelfSubjectAccessReview":
        out: dict[str, Any] = {}
        if 1 in spec:
            out["resourceAttributes"] = _strings(spec[1][0], _RESOURCE_ATTRIBUTES)
        if 2 in spec:
            out["nonResourceAttributes"] = _strings(spec[2][0], _NON_RESOURCE_ATTRIBUTES)
        return out
    if kind == "SelfSubjectRulesReview":
        return {"namespace": _first(spec, 1, b"").decode("utf-8", "replace")}
    return {}


def decode_review(body: ProtoBody) -> dict[str, Any]:
    """A review request in its JSON form."""
    api_version, kind, message = unwrap(body.raw)
    return {"apiVersion": api_version, "kind": kind, "spec": review_spec(kind, message)}
