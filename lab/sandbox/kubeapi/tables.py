"""Server-side `Table` output, so `kubectl get` shows Flux's printer columns."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from lab.sandbox.kubeapi.resources import JSON, Column, ResourceType

_SEGMENT = re.compile(
    r"\.([A-Za-z0-9_-]+)|\[\*\]|\[(\d+)\]|\[\?\(@\.([A-Za-z0-9_]+)\s*==\s*[\"']([^\"']*)[\"']\)\]"
)


def jsonpath(obj: Any, path: str) -> list[Any]:
    """All values at `path` for the subset CRD printer columns use (`.a.b`, `[0]`, `[*]`, `[?(@.k=="v")]`)."""
    nodes: list[Any] = [obj]
    pos = 0
    while pos < len(path):
        m = _SEGMENT.match(path, pos)
        if m is None:
            return []
        pos = m.end()
        key, index, fkey, fval = m.groups()
        nxt: list[Any] = []
        for node in nodes:
            if key is not None:
                if isinstance(node, dict) and key in node:
                    nxt.append(node[key])
            elif index is not None:
                if isinstance(node, list) and int(index) < len(node):
                    nxt.append(node[int(index)])
            elif fkey is not None:
                if isinstance(node, list):
                    nxt.extend(i for i in node if isinstance(i, dict) and str(i.get(fkey)) == fval)
            elif isinstance(node, list):
                nxt.extend(node)
        nodes = nxt
    return nodes


def parse_time(value: str) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def human_duration(seconds: float) -> str:
    """k8s.io/apimachinery `duration.HumanDuration`, the AGE column."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    hours = s // 3600
    days = hours // 24
    years = days // 365
    if minutes < 10:
        return _and_rest(minutes, "m", s % 60, "s")
    if minutes < 180:
        return f"{minutes}m"
    if hours < 8:
        return _and_rest(hours, "h", minutes % 60, "m")
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        return _and_rest(days, "d", hours % 24, "h")
    if hours < 24 * 365 * 2:
        return f"{days}d"
    if hours < 24 * 365 * 8:
        return _and_rest(years, "y", days % 365, "d")
    return f"{years}y"


def _and_rest(count: int, unit: str, rest: int, rest_unit: str) -> str:
    """`3h`, or `3h20m` when the smaller unit is not zero."""
    return f"{count}{unit}{rest}{rest_unit}" if rest else f"{count}{unit}"


def _cell(col: Column, obj: JSON, now: dt.datetime) -> Any:
    if col.type == "deployready":
        spec = obj.get("spec") or {}
        status = obj.get("status") or {}
        return f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 1)}"
    if col.type in ("podready", "restarts"):
        statuses = [
            c for c in (obj.get("status") or {}).get("containerStatuses") or [] if isinstance(c, dict)
        ]
        if col.type == "restarts":
            return sum(int(c.get("restartCount") or 0) for c in statuses)
        containers = ((obj.get("spec") or {}).get("containers")) or []
        return f"{sum(1 for c in statuses if c.get('ready'))}/{len(containers)}"
    values = jsonpath(obj, col.path)
    if col.type == "datacount":
        first = values[0] if values else None
        return len(first) if isinstance(first, dict) else 0
    if col.type == "ports":
        ports = values[0] if values and isinstance(values[0], list) else []
        shown = [f"{p.get('port')}/{p.get('protocol', 'TCP')}" for p in ports if isinstance(p, dict)]
        return ",".join(shown) or "<none>"
    if col.type == "objectref":
        ref = values[0] if values and isinstance(values[0], dict) else {}
        return f"{str(ref.get('kind', '')).lower()}/{ref.get('name', '')}"
    if not values:
        return "<unknown>" if col.type == "date" and col.path != ".metadata.creationTimestamp" else ""
    if col.type == "date":
        when = parse_time(str(values[0]))
        return human_duration((now - when).total_seconds()) if when else "<invalid>"
    if col.path.endswith("[*].name") or col.path.endswith("[*].image"):
        return ",".join(str(v) for v in values)
    value = values[0]
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        import json

        return json.dumps(value, separators=(",", ":"))
    return value if col.type == "integer" and isinstance(value, int) else str(value)


def _partial(obj: JSON) -> JSON:
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": obj.get("metadata", {}),
    }


def table(
    rt: ResourceType, objects: list[JSON], resource_version: str, include_object: str = "Metadata"
) -> JSON:
    now = dt.datetime.now(dt.UTC)
    columns = (
        Column("Name", ".metadata.name", description="Name must be unique within a namespace."),
        *rt.columns,
    )
    definitions = [
        {
            "name": c.name,
            "type": "string"
            if c.type in ("date", "deployready", "podready", "objectref", "timestamp", "ports")
            else c.type,
            "format": "name" if i == 0 else "",
            "description": c.description or c.name,
            "priority": c.priority,
        }
        for i, c in enumerate(columns)
    ]
    for d in definitions:
        if d["type"] in ("datacount", "restarts"):
            d["type"] = "integer"
    rows = []
    for obj in objects:
        row: JSON = {"cells": [_cell(c, obj, now) for c in columns]}
        if include_object == "Object":
            row["object"] = obj
        elif include_object != "None":
            row["object"] = _partial(obj)
        rows.append(row)
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": resource_version},
        "columnDefinitions": definitions,
        "rows": rows,
    }
