"""Patch formats and selectors, as the API server applies them.

Strategic merge patch is approximated: lists of objects merge by the merge key Kubernetes declares for the
common fields (containers by name, ports by containerPort, ...) and the `$patch`, `$retainKeys`,
`$setElementOrder` and `$deleteFromPrimitiveList` directives kubectl sends are honoured.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

JSON = dict[str, Any]

MERGE_KEYS: dict[str, str] = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "volumes": "name",
    "env": "name",
    "imagePullSecrets": "name",
    "ports": "containerPort",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "conditions": "type",
    "hostAliases": "ip",
    "topologySpreadConstraints": "topologyKey",
}


class PatchError(ValueError):
    """The patch cannot be applied (bad document, failed `test` op, missing path)."""


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def strategic_merge_patch(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if patch.get("$patch") == "replace":
        return _strip_directives({k: v for k, v in patch.items() if k != "$patch"})
    result: JSON = copy.deepcopy(target) if isinstance(target, dict) else {}
    orders: dict[str, list[Any]] = {}
    for key, value in patch.items():
        if key.startswith("$setElementOrder/"):
            if isinstance(value, list):
                orders[key.split("/", 1)[1]] = value
            continue
        if key.startswith("$deleteFromPrimitiveList/"):
            name = key.split("/", 1)[1]
            if isinstance(result.get(name), list) and isinstance(value, list):
                result[name] = [v for v in result[name] if v not in value]
            continue
        if key == "$retainKeys":
            if isinstance(value, list):
                result = {k: v for k, v in result.items() if k in value or k in patch}
            continue
        if key.startswith("$"):
            continue
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict):
            if value.get("$patch") == "delete":
                result.pop(key, None)
            else:
                result[key] = strategic_merge_patch(result.get(key), value)
        elif isinstance(value, list) and key in MERGE_KEYS and all(isinstance(v, dict) for v in value):
            result[key] = _merge_list(result.get(key), value, MERGE_KEYS[key])
        else:
            result[key] = _strip_directives(value)
    for name, order in orders.items():
        current = result.get(name)
        if isinstance(current, list):
            result[name] = _apply_order(current, order, MERGE_KEYS.get(name))
    return result


def _merge_list(current: Any, patch: list[Any], key: str) -> list[Any]:
    items: list[Any] = copy.deepcopy(current) if isinstance(current, list) else []
    for element in patch:
        ident = element.get(key)
        index = next(
            (
                i
                for i, it in enumerate(items)
                if isinstance(it, dict) and ident is not None and it.get(key) == ident
            ),
            None,
        )
        if element.get("$patch") == "delete":
            if index is not None:
                items.pop(index)
        elif index is not None:
            items[index] = strategic_merge_patch(items[index], element)
        else:
            items.append(strategic_merge_patch({}, element))
    return items


def _apply_order(items: list[Any], order: list[Any], key: str | None) -> list[Any]:
    def ident(item: Any) -> Any:
        return item.get(key) if key and isinstance(item, dict) else item

    wanted = [ident(o) for o in order]
    rank = {repr(w): i for i, w in enumerate(wanted)}
    return sorted(items, key=lambda it: rank.get(repr(ident(it)), len(rank)))


def _strip_directives(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_directives(v) for k, v in value.items() if not k.startswith("$") and v is not None}
    if isinstance(value, list):
        return [_strip_directives(v) for v in value]
    return copy.deepcopy(value)


def json_patch(target: Any, operations: Any) -> Any:
    """RFC 6902 JSON patch."""
    if not isinstance(operations, list):
        raise PatchError("a JSON patch must be a list of operations")
    doc = copy.deepcopy(target)
    for op in operations:
        if not isinstance(op, dict) or "op" not in op or "path" not in op:
            raise PatchError(f"invalid JSON patch operation: {op!r}")
        kind = op["op"]
        path = str(op["path"])
        if kind == "add":
            doc = _pointer_set(doc, path, copy.deepcopy(op.get("value")), insert=True)
        elif kind == "replace":
            _pointer_get(doc, path)
            doc = _pointer_set(doc, path, copy.deepcopy(op.get("value")), insert=False)
        elif kind == "remove":
            doc = _pointer_remove(doc, path)
        elif kind in ("move", "copy"):
            value = copy.deepcopy(_pointer_get(doc, str(op.get("from", ""))))
            if kind == "move":
                doc = _pointer_remove(doc, str(op["from"]))
            doc = _pointer_set(doc, path, value, insert=True)
        elif kind == "test":
            if _pointer_get(doc, path) != op.get("value"):
                raise PatchError(f"testing value {path} failed")
        else:
            raise PatchError(f"unknown JSON patch operation {kind!r}")
    return doc


def _tokens(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError(f"invalid JSON pointer {path!r}")
    return [t.replace("~1", "/").replace("~0", "~") for t in path[1:].split("/")]


def _pointer_get(doc: Any, path: str) -> Any:
    node = doc
    for token in _tokens(path):
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            raise PatchError(f"path {path} does not exist")
    return node


def _pointer_set(doc: Any, path: str, value: Any, *, insert: bool) -> Any:
    tokens = _tokens(path)
    if not tokens:
        return value
    parent = _pointer_get(doc, "/" + "/".join(t.replace("~", "~0").replace("/", "~1") for t in tokens[:-1]))
    last = tokens[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        if last == "-":
            parent.append(value)
        elif last.isdigit() and int(last) <= len(parent):
            if insert:
                parent.insert(int(last), value)
            else:
                parent[int(last)] = value
        else:
            raise PatchError(f"path {path} does not exist")
    else:
        raise PatchError(f"path {path} does not exist")
    return doc


def _pointer_remove(doc: Any, path: str) -> Any:
    tokens = _tokens(path)
    if not tokens:
        raise PatchError("cannot remove the whole document")
    parent = _pointer_get(doc, "/" + "/".join(t.replace("~", "~0").replace("/", "~1") for t in tokens[:-1]))
    last = tokens[-1]
    if isinstance(parent, dict) and last in parent:
        del parent[last]
    elif isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
        parent.pop(int(last))
    else:
        raise PatchError(f"path {path} does not exist")
    return doc


# --- selectors -------------------------------------------------------------------------------------------

_SET_RE = re.compile(
    r"^\s*(!?)([A-Za-z0-9_./-]+)\s*(?:(in|notin)\s*\(([^)]*)\)|(==|=|!=)\s*([A-Za-z0-9_.-]*))?\s*$"
)


def _split_top(text: str) -> list[str]:
    parts: list[str] = []
    depth = 0
    current = ""
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    return [p for p in parts if p.strip()]


def _label_test(key: str, op: str, values: frozenset[str]) -> Callable[[dict[str, str]], bool]:
    def test(labels: dict[str, str]) -> bool:
        if op == "in":
            return labels.get(key) in values
        if op == "notin":
            return labels.get(key) not in values
        if op == "exists":
            return key in labels
        return key not in labels  # "!"

    return test


def parse_label_selector(text: str) -> Callable[[dict[str, str]], bool]:
    """A predicate over labels: `a=b`, `a!=b`, `a`, `!a`, `a in (x,y)`, `a notin (x)`; ValueError if bad."""
    tests: list[Callable[[dict[str, str]], bool]] = []
    for part in _split_top(text):
        m = _SET_RE.match(part)
        if not m:
            raise ValueError(f"unable to parse requirement: {part.strip()!r}")
        neg, key, set_op, values, op, value = m.groups()
        if neg and (set_op or op):
            raise ValueError(f"unable to parse requirement: {part.strip()!r}")
        if set_op:
            options = frozenset(v.strip() for v in values.split(",") if v.strip())
            tests.append(_label_test(key, set_op, options))
        elif op in ("=", "=="):
            tests.append(_label_test(key, "in", frozenset({value})))
        elif op == "!=":
            tests.append(_label_test(key, "notin", frozenset({value})))
        else:
            tests.append(_label_test(key, "!" if neg else "exists", frozenset()))
    return lambda labels: all(t(labels) for t in tests)


def _field_test(path: str, value: str, equal: bool) -> Callable[[JSON], bool]:
    def test(obj: JSON) -> bool:
        return (_field(obj, path) == value) == equal

    return test


def parse_field_selector(text: str) -> Callable[[JSON], bool]:
    """A predicate over an object for `a.b=c`, `a.b==c`, `a.b!=c` on dotted field paths."""
    tests: list[Callable[[JSON], bool]] = []
    for part in (p.strip() for p in text.split(",") if p.strip()):
        m = re.match(r"^([A-Za-z0-9_.]+)\s*(==|=|!=)\s*(.*)$", part)
        if not m:
            raise ValueError(f"invalid field selector: {part!r}")
        path, op, value = m.groups()
        tests.append(_field_test(path, value, op != "!="))
    return lambda obj: all(t(obj) for t in tests)


def _field(obj: JSON, path: str) -> str:
    node: Any = obj
    for part in path.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    if node is None:
        return ""
    if isinstance(node, bool):
        return "true" if node else "false"
    return str(node)
