"""The simulated controllers' logs, in the JSON lines Flux's controllers write (zap, controller-runtime keys).

`kubectl logs -n flux-system deploy/image-reflector-controller` shows what the controller did: every event it
records is also logged, as Flux's event recorder logs it, with controller-runtime's keys (`controller`,
`controllerGroup`, `controllerKind`, the object, `reconcileID`). A pod shows the lines written since it
started, like a fresh container's log.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import uuid
from collections import deque
from collections.abc import Mapping
from typing import Any

MAX_LINES = 2000


def _ts(when: dt.datetime) -> str:
    # zap's ISO8601 time encoder, as Flux's controllers configure it: millisecond precision, UTC.
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


class ControllerLogs:
    def __init__(self) -> None:
        self._lines: dict[str, deque[tuple[int, dt.datetime, str]]] = {}
        self.cond = threading.Condition()
        self.serial = 0

    def write(
        self,
        component: str,
        level: str,
        message: str,
        obj: Mapping[str, Any] | None = None,
        **fields: Any,
    ) -> str:
        now = dt.datetime.now(dt.UTC)
        entry: dict[str, Any] = {"level": level, "ts": _ts(now), "msg": message}
        if obj is not None:
            kind = str(obj.get("kind") or "")
            group = str(obj.get("apiVersion") or "").rpartition("/")[0]
            meta = obj.get("metadata") if isinstance(obj.get("metadata"), Mapping) else {}
            assert isinstance(meta, Mapping)
            ref = {"name": str(meta.get("name") or ""), "namespace": str(meta.get("namespace") or "")}
            entry.update(
                {
                    "controller": kind.lower(),
                    "controllerGroup": group,
                    "controllerKind": kind,
                    kind: ref,
                    "namespace": ref["namespace"],
                    "name": ref["name"],
                    "reconcileID": str(uuid.uuid4()),
                }
            )
        entry.update(fields)
        line = json.dumps(entry, separators=(",", ":"))
        with self.cond:
            self.serial += 1
            self._lines.setdefault(component, deque(maxlen=MAX_LINES)).append((self.serial, now, line))
            self.cond.notify_all()
        return line

    def since(
        self, component: str, started: dt.datetime, after: int = 0
    ) -> tuple[list[tuple[dt.datetime, str]], int]:
        """The lines `component` wrote from `started` on (a pod's own log) and after serial `after`,
        with their times, and the serial to ask from next (for `kubectl logs -f`)."""
        with self.cond:
            entries = list(self._lines.get(component, ()))
            serial = self.serial
        return [(when, line) for n, when, line in entries if when >= started and n > after], serial


def starting_line(started: dt.datetime) -> tuple[dt.datetime, str]:
    """The first line every Flux controller writes when its manager starts."""
    entry = {"level": "info", "ts": _ts(started), "logger": "setup", "msg": "starting manager"}
    return started, json.dumps(entry, separators=(",", ":"))
