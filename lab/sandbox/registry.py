"""An embedded, read-only container registry for the sandbox (the read side of the v2 API).

It serves the images a task declares (`[[images]]` in tasks/<id>/task.toml) with their bundled tags -
for the course's task, `library/nginx` as Docker Hub had it on its snapshot date (when `1.25.x`
resolved to 1.25.3) - and replays the later dated tags of the first image (its `events` file) up to a
chosen date, so the sandbox can "publish" 1.25.4 and watch the automation react. Tags can also be
pushed one by one. The lab's `RegistryClient` talks to it like to any registry (point Docker Hub names
at it with `LAB_REGISTRY_MIRROR=docker.io=<address>`).

What it implements, as the OCI distribution spec and distribution v3 do:
- `GET /v2/` (200 `{}` or 401 with the challenge);
- `GET /v2/<name>/tags/list` with `n`/`last` pagination, lexical order, and a relative
  `Link: </v2/<name>/tags/list?last=..&n=..>; rel="next"` while more tags remain; `page_cap` makes it
  cut pages like Docker Hub (100) whatever `n` asks;
- `HEAD`/`GET /v2/<name>/manifests/<tag|digest>` serving a small OCI image manifest whose bytes, and so
  whose digest, depend only on the repository and tag (stable across runs), and `GET .../blobs/<digest>`;
- errors in the spec's JSON shape (`NAME_UNKNOWN`, `MANIFEST_UNKNOWN`, `UNAUTHORIZED`, ...); a Docker Hub
  repository it does not have (`library/ngnix`) is answered as Docker Hub answers one that does not
  exist: 401 `UNAUTHORIZED: authentication required` with an `insufficient_scope` Bearer challenge (its
  token server grants an anonymous token that reads nothing), which Flux shows as the scan's error;
  other registries' names keep `NAME_UNKNOWN`;
- optional auth: a token server at `/token` (Docker token flow, opaque tokens, anonymous pull allowed
  only under chosen prefixes) or plain Basic auth, to demonstrate a private registry and `secretRef`.

Listens on 127.0.0.1 at a random port, serves from a daemon thread; `start()`/`stop()` or `with`.
"""

from __future__ import annotations

import base64
import bisect
import hashlib
import hmac
import json
import re
import secrets
import threading
import time
from collections.abc import Iterable
from dataclasses import field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import parse_qs, quote, urlsplit

from lab.core.imagename import DEFAULT_REGISTRY, OCI_REPOSITORY_RE, OCI_TAG_RE
from lab.core.oci import OCI_MANIFEST, image_manifest, manifest_digest
from lab.core.record import dataclass
from lab.sandbox.httpbase import LoopbackHandler, LoopbackServer, serve_in_thread

NGINX = "library/nginx"

if TYPE_CHECKING:
    from lab.core.tasktexts import Task

_ROUTE = re.compile(
    rf"^/v2/(?P<name>{OCI_REPOSITORY_RE.pattern})/(?P<kind>tags/list|manifests|blobs)(?:/(?P<ref>[^/]+))?$"
)
_MAX_REQUEST_LOG = 10_000


@dataclass(frozen=True)
class RegistryAuth:
    """Credentials the embedded registry accepts.

    `scheme="bearer"`: Docker token flow via `/token`; anonymous tokens grant pull only on repositories
    under `anonymous_pull` prefixes (like a registry with public and private repositories).
    `scheme="basic"`: `Authorization: Basic` on every request (docker-registry's htpasswd mode).
    """

    username: str
    password: str = field(repr=False)
    scheme: Literal["bearer", "basic"] = "bearer"
    anonymous_pull: tuple[str, ...] = ()
    service: str = "lab-registry"
    expires_in: int = 300


def parse_date(value: str | datetime) -> datetime:
    """RFC 3339 (`2024-02-14T19:12:29Z`) or a date (`2024-02-15`, midnight UTC)."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    text = value.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        text += "T00:00:00Z"
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"not a date: {value!r} (use 2024-02-15 or 2024-02-15T00:00:00Z)") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass
class _Repo:
    sorted_tags: list[str] = field(default_factory=list)
    tag_set: set[str] = field(default_factory=set)

    def add(self, tags: Iterable[str]) -> list[str]:
        new = [t for t in dict.fromkeys(tags) if t not in self.tag_set]
        if not new:
            return []
        self.tag_set.update(new)
        if len(new) == 1:
            bisect.insort(self.sorted_tags, new[0])
        else:
            self.sorted_tags.extend(new)
            self.sorted_tags.sort()
        return new


class EmbeddedRegistry:
    """A loopback v2 registry serving `library/nginx` as of `as_of`, plus whatever is pushed."""

    def __init__(
        self,
        task: str | None = None,
        *,
        as_of: str | datetime | None = None,
        auth: RegistryAuth | None = None,
        page_cap: int | None = None,
    ) -> None:
        from lab.adapters.tasks import load_task

        self.task = load_task(task)
        self.auth = auth
        self.page_cap = page_cap
        self._lock = threading.Lock()
        self._repos: dict[str, _Repo] = {}
        self._blobs: dict[str, bytes] = {}
        self._manifests: dict[str, tuple[str, str]] = {}  # digest -> (repo, tag)
        self._tokens: dict[str, tuple[frozenset[str], float]] = {}
        # Registry hosts whose images live here (LAB_REGISTRY_MIRROR sends each of them to this registry).
        self.hosts: set[str] = {DEFAULT_REGISTRY}
        # First path segments of the images of other hosts (`acme` of ghcr.io/acme/shop): an unknown
        # repository under one of them is that registry's, else Docker Hub's.
        self._foreign_namespaces: set[str] = set()
        self._events = self._load_events()
        self._applied = 0
        self._server: LoopbackServer | None = None
        self._thread: threading.Thread | None = None
        self.request_count = 0
        self.requests: list[tuple[str, str]] = []
        self._load_base()
        self.as_of = parse_date(as_of or snapshot_start(self.task))
        self.advance_to(self.as_of)

    def __repr__(self) -> str:
        where = self.address if self._server else "stopped"
        return f"EmbeddedRegistry({where}, as_of={self.as_of.isoformat()}, auth={self.auth!r})"

    # ---- data ------------------------------------------------------------------------------

    def _load_base(self) -> None:
        from lab.adapters.tagsfile import read_tags

        for image in self.task.meta.images:
            self.serve(image.name, read_tags(self.task.image_file(image.tags)))

    def serve(self, image: str, tags: Iterable[str]) -> list[str]:
        """Publish `tags` of `image` (any registry host: `ghcr.io/acme/shop` is served at `acme/shop`)."""
        host, path = image_location(image)
        self.hosts.add(host)
        if host != DEFAULT_REGISTRY:
            self._foreign_namespaces.add(path.split("/", 1)[0])
        return self.push_tags(path, tags)

    def hub_unknown(self, repo: str) -> bool:
        """`repo` is a Docker Hub name this registry does not have: Docker Hub answers a repository
        that does not exist (or is private) with 401 UNAUTHORIZED "authentication required", never
        NAME_UNKNOWN (the lab's pitfalls tell learners Flux shows that)."""
        with self._lock:
            if repo in self._repos:
                return False
        return DEFAULT_REGISTRY in self.hosts and repo.split("/", 1)[0] not in self._foreign_namespaces

    def _load_events(self) -> list[tuple[datetime, list[str]]]:
        first = next(iter(self.task.meta.images), None)
        if first is None or first.events is None:
            return []
        raw = json.loads(self.task.image_file(first.events).read_text(encoding="utf-8"))
        events = [(parse_date(e["date"]), [str(t) for t in e["tags"]]) for e in raw]
        events.sort(key=lambda e: e[0])
        return events

    @property
    def primary(self) -> str:
        """The registry path of the image whose dated history is replayed: the task's first."""
        first = next((i.name for i in self.task.meta.images), None)
        return image_location(first)[1] if first else NGINX

    def _repo(self, name: str) -> _Repo:
        repo = self._repos.get(name)
        if repo is None:
            repo = self._repos[name] = _Repo()
        return repo

    def advance_to(self, date: str | datetime) -> list[str]:
        """Publish every dated `library/nginx` tag up to and including `date`; returns the new tags."""
        when = parse_date(date)
        added: list[str] = []
        with self._lock:
            while self._applied < len(self._events) and self._events[self._applied][0] <= when:
                added.extend(self._repo(self.primary).add(self._events[self._applied][1]))
                self._applied += 1
            self.as_of = max(self.as_of, when)
        return added

    def next_event(self) -> tuple[datetime, list[str]] | None:
        """The next dated publication not yet applied (date, tags), or None."""
        with self._lock:
            if self._applied < len(self._events):
                return self._events[self._applied]
        return None

    def push_tag(self, repo: str, tag: str) -> str:
        """Publish `repo:tag` (creating the repository); returns its manifest digest."""
        self.push_tags(repo, [tag])
        return manifest_digest(repo, tag)

    def push_tags(self, repo: str, tags: Iterable[str]) -> list[str]:
        """Publish many tags at once (sorted once, so 100k tags stay cheap); returns the new ones."""
        if not OCI_REPOSITORY_RE.fullmatch(repo):
            raise ValueError(f"invalid repository name {repo!r}")
        tags = list(tags)
        for tag in tags:
            if not OCI_TAG_RE.match(tag):
                raise ValueError(f"invalid tag {tag!r}")
        with self._lock:
            return self._repo(repo).add(tags)

    def tags(self, repo: str = NGINX) -> list[str]:
        """The tags of `repo` in lexical order (what the server lists)."""
        with self._lock:
            found = self._repos.get(repo)
            return list(found.sorted_tags) if found else []

    # ---- server lifecycle --------------------------------------------------------------------

    @property
    def address(self) -> str:
        if self._server is None:
            raise RuntimeError("the embedded registry is not running; call start()")
        return f"127.0.0.1:{self._server.server_port}"

    @property
    def url(self) -> str:
        return f"http://{self.address}"

    def start(self, port: int = 0) -> str:
        """Listen on 127.0.0.1 at `port` (0: a free one); returns "127.0.0.1:PORT"."""
        if self._server is not None:
            return self.address
        handler = type("Handler", (_Handler,), {"registry": self})
        server = LoopbackServer(("127.0.0.1", port), handler)
        self._server = server
        self._thread = serve_in_thread(server, "embedded-registry")
        return self.address

    def stop(self) -> None:
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> EmbeddedRegistry:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- request handling (called from handler threads) -----------------------------------------

    def _record(self, method: str, path: str) -> None:
        with self._lock:
            self.request_count += 1
            if len(self.requests) < _MAX_REQUEST_LOG:
                self.requests.append((method, path))

    def _issue_token(self, authorization: str, scopes: list[str]) -> tuple[int, dict[str, Any]]:
        auth = self.auth
        assert auth is not None
        user = ""
        if authorization:
            ok, user = self._check_basic(authorization)
            if not ok:
                return 401, _errors("UNAUTHORIZED", "authentication required")
        granted: set[str] = set()
        for scope in scopes:
            kind, _, rest = scope.partition(":")
            repo, _, actions = rest.rpartition(":")
            if kind != "repository" or "pull" not in actions.split(","):
                continue
            if user or any(repo == p or repo.startswith(p.rstrip("/") + "/") for p in auth.anonymous_pull):
                granted.add(repo)
        token = secrets.token_urlsafe(24)
        with self._lock:
            now = time.monotonic()
            self._tokens = {k: v for k, v in self._tokens.items() if v[1] > now}
            self._tokens[token] = (frozenset(granted), now + auth.expires_in)
        issued = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return 200, {
            "token": token,
            "access_token": token,
            "expires_in": auth.expires_in,
            "issued_at": issued,
        }

    def _check_basic(self, authorization: str) -> tuple[bool, str]:
        auth = self.auth
        assert auth is not None
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() != "basic":
            return False, ""
        try:
            user, _, password = base64.b64decode(value.strip()).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError):
            return False, ""
        ok = hmac.compare_digest(user.encode(), auth.username.encode()) and hmac.compare_digest(
            password.encode(), auth.password.encode()
        )
        return ok, user if ok else ""

    def _challenge(self, host: str, repo: str | None, error: str = "") -> str:
        auth = self.auth
        assert auth is not None
        if auth.scheme == "basic":
            return 'Basic realm="lab-registry"'
        text = f'Bearer realm="http://{host}/token",service="{auth.service}"'
        if repo is not None:
            text += f',scope="repository:{repo}:pull"'
        if error:
            text += f',error="{error}"'
        return text

    def _authorize(self, authorization: str, repo: str | None) -> tuple[bool, str]:
        """(allowed, error for the challenge)."""
        auth = self.auth
        if auth is None:
            return True, ""
        if auth.scheme == "basic":
            return self._check_basic(authorization)[0], ""
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return False, ""
        with self._lock:
            entry = self._tokens.get(token.strip())
        if entry is None or entry[1] <= time.monotonic():
            return False, "invalid_token"
        if repo is None or repo in entry[0]:
            return True, ""
        return False, "insufficient_scope"

    def _tags_page(self, repo: str, query: dict[str, list[str]]) -> tuple[int, Any, str]:
        with self._lock:
            found = self._repos.get(repo)
            if found is None:
                return (
                    404,
                    _errors("NAME_UNKNOWN", "repository name not known to registry", {"name": repo}),
                    "",
                )
            all_tags = found.sorted_tags
            n: int | None = None
            if "n" in query:
                try:
                    n = int(query["n"][0])
                except ValueError:
                    n = -1
                if n < 0:
                    return (
                        400,
                        _errors("PAGINATION_NUMBER_INVALID", "invalid number of results requested"),
                        "",
                    )
            if self.page_cap is not None:
                n = self.page_cap if n is None else min(n, self.page_cap)
            start = 0
            if "last" in query:
                start = bisect.bisect_right(all_tags, query["last"][0])
            end = len(all_tags) if n is None else min(len(all_tags), start + n)
            page = all_tags[start:end]
            more = end < len(all_tags)
        link = ""
        if n is not None and n > 0 and more and page:
            link = f'</v2/{repo}/tags/list?last={quote(page[-1], safe="")}&n={n}>; rel="next"'
        return 200, {"name": repo, "tags": page}, link

    def _manifest(self, repo: str, ref: str) -> tuple[int, bytes, dict[str, str]]:
        with self._lock:
            found = self._repos.get(repo)
            if found is None:
                body = _errors("NAME_UNKNOWN", "repository name not known to registry", {"name": repo})
                return 404, json.dumps(body).encode(), {}
            if ref.startswith("sha256:"):
                hit = self._manifests.get(ref)
                if hit is None or hit[0] != repo:
                    # Digests are derived, so generate this repository's manifests once to find it.
                    for tag in found.sorted_tags:
                        self._remember(repo, tag)
                    hit = self._manifests.get(ref)
                if hit is None or hit[0] != repo:
                    body = _errors("MANIFEST_UNKNOWN", "manifest unknown", {"Digest": ref})
                    return 404, json.dumps(body).encode(), {}
                tag = hit[1]
            else:
                tag = ref
                if tag not in found.tag_set:
                    body = _errors("MANIFEST_UNKNOWN", "manifest unknown", {"Tag": tag})
                    return 404, json.dumps(body).encode(), {}
            digest, manifest = self._remember(repo, tag)
        return 200, manifest, {"Content-Type": OCI_MANIFEST, "Docker-Content-Digest": digest}

    def _remember(self, repo: str, tag: str) -> tuple[str, bytes]:
        config, manifest = image_manifest(repo, tag)
        digest = "sha256:" + hashlib.sha256(manifest).hexdigest()
        if digest not in self._manifests:
            self._manifests[digest] = (repo, tag)
            self._blobs["sha256:" + hashlib.sha256(config).hexdigest()] = config
        return digest, manifest

    def _blob(self, repo: str, digest: str) -> tuple[int, bytes]:
        with self._lock:
            if repo not in self._repos:
                body = _errors("NAME_UNKNOWN", "repository name not known to registry", {"name": repo})
                return 404, json.dumps(body).encode()
            blob = self._blobs.get(digest)
        if blob is None:
            return 404, json.dumps(_errors("BLOB_UNKNOWN", "blob unknown to registry", digest)).encode()
        return 200, blob


def _errors(code: str, message: str, detail: Any = None) -> dict[str, Any]:
    entry: dict[str, Any] = {"code": code, "message": message}
    if detail is not None:
        entry["detail"] = detail
    return {"errors": [entry]}


class _Handler(LoopbackHandler):
    registry: EmbeddedRegistry
    server_version = "fluxlab-registry/1"
    extra_headers = (("Docker-Distribution-Api-Version", "registry/2.0"),)

    def _send(
        self, status: int, body: bytes, headers: dict[str, str] | None = None, *, head: bool = False
    ) -> None:
        merged = {"Content-Type": "application/json", **(headers or {})}
        ctype = merged.pop("Content-Type")
        self.send_body(status, body, ctype, merged.items())  # HEAD: the length, not the bytes

    def _json(
        self, status: int, doc: Any, headers: dict[str, str] | None = None, *, head: bool = False
    ) -> None:
        self._send(status, json.dumps(doc, separators=(",", ":")).encode(), headers, head=head)

    def do_GET(self) -> None:
        self._route(head=False)

    def do_HEAD(self) -> None:
        self._route(head=True)

    def _refuse(self) -> None:
        self._json(405, _errors("UNSUPPORTED", "the embedded registry is read-only"))

    do_POST = do_PUT = do_PATCH = do_DELETE = _refuse

    def _route(self, *, head: bool) -> None:
        reg = self.registry
        parts = urlsplit(self.path)
        reg._record(self.command, parts.path)
        refused = self.foreign_origin()
        if refused is not None:
            self.close_connection = True
            self._json(403, _errors("DENIED", f"{refused}: the sandbox registry serves local clients only"))
            return
        query = parse_qs(parts.query)
        host = self.headers.get("Host") or reg.address
        authorization = self.headers.get("Authorization", "")
        if parts.path == "/token" and reg.auth is not None and reg.auth.scheme == "bearer":
            status, doc = reg._issue_token(authorization, query.get("scope", []))
            self._json(status, doc, head=head)
            return
        if parts.path == "/token" and reg.auth is None:
            # Docker Hub's anonymous token for the challenge below: it opens nothing that was closed.
            token = secrets.token_urlsafe(24)
            self._json(200, {"token": token, "access_token": token, "expires_in": 300}, head=head)
            return
        if parts.path in ("/v2", "/v2/"):
            ok, _ = reg._authorize(authorization, None)
            if not ok:
                self._json(
                    401,
                    _errors("UNAUTHORIZED", "authentication required"),
                    {"WWW-Authenticate": reg._challenge(host, None)},
                    head=head,
                )
                return
            self._json(200, {}, head=head)
            return
        m = _ROUTE.match(parts.path)
        if m is None:
            self._send(404, b"404 page not found\n", {"Content-Type": "text/plain; charset=utf-8"}, head=head)
            return
        repo, kind, ref = m.group("name"), m.group("kind"), m.group("ref")
        ok, error = reg._authorize(authorization, repo)
        if not ok:
            self._json(
                401,
                _errors("UNAUTHORIZED", "authentication required", [{"Type": "repository", "Name": repo}]),
                {"WWW-Authenticate": reg._challenge(host, repo, error)},
                head=head,
            )
            return
        if reg.auth is None and reg.hub_unknown(repo):
            # Docker Hub, anonymous, on a repository that does not exist (what Flux's scan reports).
            detail = [{"Type": "repository", "Class": "", "Name": repo, "Action": "pull"}]
            challenge = (
                f'Bearer realm="http://{host}/token",service="registry.docker.io",'
                f'scope="repository:{repo}:pull",error="insufficient_scope"'
            )
            self._json(
                401,
                _errors("UNAUTHORIZED", "authentication required", detail),
                {"WWW-Authenticate": challenge},
                head=head,
            )
            return
        if kind == "tags/list":
            if ref is not None:
                self._send(404, b"404 page not found\n", {"Content-Type": "text/plain"}, head=head)
                return
            status, doc, link = reg._tags_page(repo, query)
            self._json(status, doc, {"Link": link} if link else None, head=head)
        elif kind == "manifests" and ref:
            status, body, headers = reg._manifest(repo, ref)
            self._send(status, body, headers, head=head)
        elif kind == "blobs" and ref:
            status, body = reg._blob(repo, ref)
            ctype = "application/octet-stream" if status == 200 else "application/json"
            digest = {"Docker-Content-Digest": ref} if status == 200 else {}
            self._send(status, body, {"Content-Type": ctype, **digest}, head=head)
        else:
            self._send(404, b"404 page not found\n", {"Content-Type": "text/plain"}, head=head)


def image_location(image: str) -> tuple[str, str]:
    """(registry host, repository path) of an image name as Flux reads it: `nginx` is Docker Hub's
    `library/nginx`, `ghcr.io/acme/shop` is ghcr.io's `acme/shop`."""
    from lab.core.imagename import parse_image

    parsed = parse_image(image)
    return parsed.registry, parsed.repository


def snapshot_start(task: Task) -> str:
    """Midnight UTC of the day the task's bundled tags were taken: the registry's default "now"."""
    date = task.snapshot_date
    return f"{date}T00:00:00Z" if date else datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


__all__ = ["NGINX", "EmbeddedRegistry", "RegistryAuth", "image_manifest", "manifest_digest", "parse_date"]
