"""A cluster that stopped answering is not asked again for a while: each request to an API server that
accepts connections and never answers (a paused sandbox, a dropped VPN) costs the client's timeout,
twice, and the app reads state every few seconds, a learner runs `lab flux get` again and again.

The failures are kept per user in `$XDG_CACHE_HOME/fluxlab/cluster-silence.json`, by API server
address (what does not answer, whichever kubeconfig or context names it), so that the next command,
not only the next read of one process, fails at once with what happened and when the cluster is asked
again. Only a timeout starts a silence: a refused connection (nothing listens there) costs nothing to
ask again. A restarted sandbox listens on the address it had before, so starting it ends the silence
of that address (`forget`).
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

from lab.errors import ClusterError, ClusterUnreachable

RETRY_AFTER_S = 20.0
"""How long a cluster that did not answer is not asked again."""

_LOCK = threading.Lock()


def silence_file() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "fluxlab" / "cluster-silence.json"


def _read() -> dict[str, dict[str, object]]:
    try:
        data = json.loads(silence_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write(entries: dict[str, dict[str, object]]) -> None:
    path = silence_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_text(json.dumps(entries), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        pass  # a cache: without it the cluster is asked, as before


def fail_fast(server: str, where: str = "") -> None:
    """Raise ClusterError at once when the API server at `server` did not answer within RETRY_AFTER_S:
    since when, why, and from when it is asked again (`where` names it: "the sandbox")."""
    with _LOCK:
        entry = _read().get(server)
    if not isinstance(entry, dict):
        return
    try:
        at, since = float(entry["at"]), float(entry["since"])  # type: ignore[arg-type]
        message, hint = str(entry["message"]), entry.get("hint")
    except (KeyError, TypeError, ValueError):
        return
    if not 0 <= time.time() - at < RETRY_AFTER_S:
        return
    started = datetime.fromtimestamp(since)
    due = datetime.fromtimestamp(at) + timedelta(seconds=RETRY_AFTER_S)
    said = f"{where}: {message}" if where else message
    raise ClusterError(
        f"cluster not answering since {started:%H:%M:%S} ({said}); asked again from {due:%H:%M:%S}",
        hint=str(hint) if hint else None,
    )


def _noted(server: str, err: ClusterUnreachable) -> None:
    with _LOCK:
        now = time.time()
        entries = _read()
        kept = entries.get(server)
        # The first failure of a silence is its start: a retry that fails again keeps it.
        since = kept.get("since") if isinstance(kept, dict) else None
        # Silences over long ago go (another sandbox's, another cluster's).
        entries = {k: e for k, e in entries.items() if _recent(e, now)}
        entries[server] = {
            "since": since if isinstance(since, float) else now,
            "at": now,
            "message": err.message,
            "hint": err.hint or "",
        }
        _write(entries)


def _recent(entry: object, now: float) -> bool:
    at = entry.get("at") if isinstance(entry, dict) else None
    return isinstance(at, float) and now - at < RETRY_AFTER_S


def forget(server: str) -> None:
    """End the silence of `server`: a sandbox (re)started there answers now."""
    _answered(server)


def _answered(server: str) -> None:
    with _LOCK:
        entries = _read()
        if server in entries:
            del entries[server]
            _write(entries)


@contextmanager
def asking(server: str, where: str = "") -> Iterator[None]:
    """Around requests to the API server at `server`: fails at once while it is silent (`fail_fast`);
    a request it does not answer starts or extends the silence, one it answers ends it."""
    fail_fast(server, where)
    try:
        yield
    except ClusterUnreachable as err:
        if err.timed_out:
            _noted(server, err)
        else:
            _answered(server)  # refused or unknown: asking again costs nothing
        raise
    except ClusterError:
        _answered(server)  # a refusal is an answer
        raise
    _answered(server)
