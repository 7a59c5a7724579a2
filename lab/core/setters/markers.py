"""The `$imagepolicy` marker grammar, as Flux reads it and as a learner needs it explained.

Flux (kyaml `fieldmeta`) strips every leading `#` from a comment and decodes the rest as a JSON
object of strings (Go `encoding/json` into `map[string]string`); the value of `$imagepolicy` names
a setter `<namespace>:<policy>[:tag|:name|:digest]`. Anything else is ignored without a word; this
module says why, so `lab mark` and the checks can tell the learner.
"""

from __future__ import annotations

import json
import re

from lab.core import jsontext
from lab.core.record import dataclass

SHORTHAND_KEY = "$imagepolicy"
TOKEN = f'"{SHORTHAND_KEY}"'.encode()
"""The key as a marker's JSON spells it: a file without these bytes has no marker (Flux screens files by them)."""
SUFFIXES = ("tag", "name", "digest")


@dataclass(frozen=True)
class MarkerSyntax:
    """What the comment text says, independent of where it sits."""

    setter: str | None  # the name Flux would look up, when the JSON is acceptable
    namespace: str
    policy: str
    suffix: str
    problem: str | None  # learner wording when Flux cannot use the comment at all


class GoJsonError(ValueError):
    pass


def go_json_string_map(text: str) -> dict[str, str]:
    """`json.Unmarshal(text, &map[string]string{})`: strict JSON, string (or null) values only."""
    try:
        value = jsontext.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as err:
        raise GoJsonError(jsontext.error_text(err)) from err
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise GoJsonError("not an object")
    out: dict[str, str] = {}
    for k, v in value.items():
        if v is None:
            out[k] = ""
        elif isinstance(v, str):
            out[k] = v
        else:
            raise GoJsonError(f"value of {k!r} is not a string")
    return out


def _reject_constant(name: str) -> object:
    raise GoJsonError(f"{name} is not JSON")


def parse_setter_name(name: str) -> tuple[str, str, str]:
    """Split `ns:policy[:suffix]` the way the setter names are built (namespace has no `:`)."""
    parts = name.split(":")
    if len(parts) >= 3:
        return parts[0], parts[1], ":".join(parts[2:])
    if len(parts) == 2:
        return parts[0], parts[1], ""
    return "", name, ""


def parse_marker_text(comment: str) -> MarkerSyntax:
    """Read one comment (with its `#`s) as Flux would, explaining what prevents it from working."""
    body = comment.lstrip("#")
    try:
        fields = go_json_string_map(body)
    except GoJsonError as err:
        return MarkerSyntax(None, "", "", "", _json_problem(body, str(err)))
    name = fields.get(SHORTHAND_KEY, "")
    if not name:
        lowered = {k.lower().lstrip("$"): k for k in fields}
        if "imagepolicy" in lowered:
            wrong = lowered["imagepolicy"]
            return MarkerSyntax(None, "", "", "", f'key "{wrong}" must be spelled exactly "$imagepolicy"')
        if SHORTHAND_KEY in fields:
            return MarkerSyntax(None, "", "", "", '"$imagepolicy" is empty: write "namespace:policy"')
        return MarkerSyntax(None, "", "", "", 'no "$imagepolicy" key in the JSON object')
    ns, policy, suffix = parse_setter_name(name)
    if "/" in name and ":" not in name:
        return MarkerSyntax(
            None,
            "",
            name,
            "",
            f"uses '/' ({name!r}) - write namespace:name, e.g. flux-system:{name.split('/')[-1]}",
        )
    if not ns and ":" not in name:
        return MarkerSyntax(None, "", name, "", f"no namespace in {name!r} - write <namespace>:{name}")
    if suffix and suffix not in SUFFIXES:
        if suffix.lower() in SUFFIXES:
            return MarkerSyntax(
                None, ns, policy, suffix, f"suffix ':{suffix}' must be lower case: ':{suffix.lower()}'"
            )
        return MarkerSyntax(
            None, ns, policy, suffix, f"unknown suffix ':{suffix}' - use :tag, :name or :digest"
        )
    if name != name.strip() or " " in name:
        return MarkerSyntax(
            None, ns, policy, suffix, f"spaces inside {name!r} are part of the name Flux looks up"
        )
    return MarkerSyntax(name, ns, policy, suffix, None)


_COMMENTED_FIELD = re.compile(r"^(?P<field>(?:-\s+)?[^\s#:][^#]*?:(?:\s[^#]*?)?)\s+(?P<marker>#.*)$")


def commented_out(comment: str) -> tuple[str, str] | None:
    """A comment that comments out a marked field (`# image: nginx:1.25.0 # {"$imagepolicy": ...}`):
    (the field as written, its marker); None for any other comment. YAML reads the whole line as one
    comment on no value (at most a head comment of the next key), and kyaml reads a comment as a setter
    only when all of it, `#`s stripped, is the JSON object: Flux passes it over."""
    found = _COMMENTED_FIELD.match(comment.lstrip("#").strip())
    if found is None or parse_marker_text(found["marker"]).problem is not None:
        return None
    return found["field"], found["marker"]


def _json_problem(body: str, detail: str) -> str:
    stripped = body.strip()
    if stripped.startswith("{'") or re.search(r"'\$?imagepolicy'", stripped):
        return "single quotes are not JSON - use double quotes"
    if stripped.startswith("{") and "}" in stripped and not stripped.endswith("}"):
        return "text after the JSON object - Flux ignores the whole comment; move it to another line"
    if "is not a string" in detail:
        return f"every JSON value must be a string ({detail})"
    if not stripped.startswith("{"):
        return "the comment must be a JSON object starting with '{'"
    return f"not valid JSON ({detail})"


__all__ = [
    "SHORTHAND_KEY",
    "TOKEN",
    "GoJsonError",
    "MarkerSyntax",
    "go_json_string_map",
    "parse_marker_text",
    "parse_setter_name",
]
