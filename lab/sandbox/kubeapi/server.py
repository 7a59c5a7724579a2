"""A loopback Kubernetes API server: enough of the REST API for kubectl, client-go and the Python client.

Plain HTTP on 127.0.0.1 with an optional bearer token. Discovery (legacy, not aggregated: kubectl falls back
to it), CRUD with the four patch formats, the status subresource, streaming watch, label and field
selectors, server-side Table output for `kubectl get`, deprecation warnings, and configurable RBAC denials
so error paths can be exercised.
"""

from __future__ import annotations

import contextlib
import copy
import json
import re
import secrets
import socket
import threading
import time
from collections import deque
from collections.abc import Iterable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from lab.sandbox.kubeapi import tables
from lab.sandbox.kubeapi.resources import IMAGE_GROUP, JSON, ResourceType
from lab.sandbox.kubeapi.store import ApiError, Store, bad_request, now_rfc3339
from lab.sandbox.kubeapi.world import ensure_world

KUBERNETES_VERSION = "v1.33.1"
MAX_BODY = 3 * 1024 * 1024  # the real API server's request size limit
_PATCH_TYPES = {
    "application/json-patch+json": "json",
    "application/merge-patch+json": "merge",
    "application/strategic-merge-patch+json": "strategic",
    "application/apply-patch+yaml": "apply",
    "application/apply-patch+json": "apply",
}
_GROUP_ORDER = ("", "apps", "apiextensions.k8s.io")


def _version_rank(version: str) -> tuple[int, int, int]:
    """Kubernetes version priority: GA before beta before alpha, higher numbers first."""
    m = re.match(r"^v(\d+)(?:(alpha|beta)(\d+))?$", version)
    if not m:
        return (3, 0, 0)
    major, stage, minor = m.groups()
    stage_rank = {None: 0, "beta": 1, "alpha": 2}[stage]
    return (stage_rank, -int(major), -int(minor or 0))


def _rule_matches(rule: str, verb: str, rt: ResourceType, subresource: str | None) -> bool:
    rule_verb, _, rule_resource = rule.strip().partition(" ")
    if rule_verb not in ("*", verb):
        return False
    rule_resource = rule_resource.strip() or "*"
    resource = f"{rt.plural}/{subresource}" if subresource else rt.plural
    names = {
        resource,
        f"{rt.plural}.{rt.group}" if not subresource else f"{rt.plural}.{rt.group}/{subresource}",
    }
    return rule_resource == "*" or rule_resource in names


def _load_yaml(raw: bytes) -> Any:
    """Apply-patch bodies may be YAML. Aliases are refused: a small alias bomb would expand without bound."""
    from ruamel.yaml import YAML
    from ruamel.yaml.nodes import MappingNode, Node, SequenceNode

    yaml = YAML(typ="safe", pure=True)
    try:
        root = yaml.compose(raw.decode("utf-8"))
    except Exception as err:
        raise bad_request(f"error decoding YAML: {err}") from err
    seen: set[int] = set()
    stack: list[Node] = [root] if root is not None else []
    while stack:
        node = stack.pop()
        if id(node) in seen:
            raise bad_request("error decoding YAML: aliases are not supported")
        seen.add(id(node))
        if isinstance(node, MappingNode):
            for key, value in node.value:
                stack += [key, value]
        elif isinstance(node, SequenceNode):
            stack += list(node.value)
    try:
        return yaml.load(raw.decode("utf-8"))
    except Exception as err:
        raise bad_request(f"error decoding YAML: {err}") from err


def _warning_headers(warnings: list[str]) -> list[tuple[str, str]]:
    # RFC 7234 warn-code 299, the form kubectl prints as "Warning: <text>".
    return [("Warning", "299 - " + json.dumps(w)) for w in dict.fromkeys(warnings)]


class _HTTPServer(ThreadingHTTPServer):
    # Handler threads are joined on close (no leaked threads); open keep-alive sockets are shut down first.
    daemon_threads = False
    block_on_close = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], api: KubeAPIServer) -> None:
        self.api = api
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, addr = super().get_request()
        with self.connections_lock:
            self.connections.add(sock)
        return sock, addr

    def shutdown_request(self, request: Any) -> None:
        with self.connections_lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def drop_connections(self) -> None:
        with self.connections_lock:
            for sock in list(self.connections):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out as separate writes; with Nagle on, delayed ACKs stall each response ~40 ms.
    disable_nagle_algorithm = True
    server_version = "fluxlab-kubeapi"
    timeout = 120
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    # --- plumbing ----------------------------------------------------------------------------------------

    def _send(
        self, code: int, payload: bytes, content_type: str, headers: list[tuple[str, str]] | None = None
    ) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Cache-Control", "no-cache, private")
        for key, value in headers or []:
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)
        self.server.api.request_log.append(f"{self.command} {self.path} {code}")

    def _send_json(self, code: int, body: Any, headers: list[tuple[str, str]] | None = None) -> None:
        self._send(code, json.dumps(body).encode(), "application/json", headers)

    def _read_body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        if length <= 0:
            return None
        if length > MAX_BODY:
            # Drain what was sent (within reason) so the client reads the 413 instead of a reset.
            remaining = min(length, 8 * MAX_BODY)
            while remaining > 0:
                chunk = self.rfile.read(min(remaining, 1 << 16))
                if not chunk:
                    break
                remaining -= len(chunk)
            self.close_connection = True
            raise ApiError(413, "RequestEntityTooLarge", f"Request entity too large: limit is {MAX_BODY}")
        raw = self.rfile.read(length)
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip()
        if "protobuf" in ctype or "cbor" in ctype:
            raise ApiError(
                415,
                "UnsupportedMediaType",
                f"the fluxlab API server speaks JSON only, not {ctype}: use `kubectl apply -f FILE`",
            )
        try:
            return json.loads(raw)
        except ValueError:
            if ctype.endswith("yaml"):
                return _load_yaml(raw)
            raise bad_request("the request body is not valid JSON") from None

    def _dispatch(self, method: str) -> None:
        api = self.server.api
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        segments = [unquote(s) for s in url.path.split("/") if s]
        try:
            body = self._read_body()
            if segments in (["healthz"], ["livez"], ["readyz"]):
                self._send(200, b"ok", "text/plain; charset=utf-8")
                return
            if api.token is not None:
                auth = self.headers.get("Authorization") or ""
                if not secrets.compare_digest(auth.encode(), f"Bearer {api.token}".encode()):
                    raise ApiError(401, "Unauthorized", "Unauthorized")
            self._route(method, segments, query, body)
        except ApiError as err:
            self._send_json(err.code, err.status())
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as err:  # a bug in the emulator must not kill the connection thread silently
            self._send_json(
                500, ApiError(500, "InternalError", f"internal error: {type(err).__name__}: {err}").status()
            )

    # --- routing -----------------------------------------------------------------------------------------

    def _route(self, method: str, seg: list[str], query: dict[str, str], body: Any) -> None:
        api = self.server.api
        if method == "GET":
            if not seg:
                self._send_json(200, {"paths": ["/api", "/api/v1", "/apis", "/healthz", "/version"]})
                return
            if seg == ["version"]:
                self._send_json(200, api.version_info())
                return
            if seg == ["api"]:
                self._send_json(200, api.core_versions(self.headers.get("Host") or ""))
                return
            if seg == ["apis"]:
                self._send_json(200, api.group_list())
                return
            if len(seg) == 2 and seg[0] == "apis":
                group_doc = api.group(seg[1])
                if group_doc is None:
                    raise ApiError(404, "NotFound", "the server could not find the requested resource")
                self._send_json(200, group_doc)
                return
            if seg == ["openapi", "v2"]:
                # An empty protobuf Document: kubectl's client-side validation then knows no schema and
                # lets the request through, so unknown kinds fail with kubectl's own "no matches for kind".
                self._send(200, b"", "application/com.github.proto-openapi.spec.v2.v1.0+protobuf")
                return
            if seg[:2] == ["openapi", "v3"]:
                doc = api.openapi_v3(seg[2:])
                if doc is None:
                    raise ApiError(404, "NotFound", "the server could not find the requested resource")
                self._send_json(200, doc)
                return
            if seg == ["api", "v1"] or (len(seg) == 3 and seg[0] == "apis"):
                gv = ("", "v1") if seg[0] == "api" else (seg[1], seg[2])
                resources = api.resource_list(*gv)
                if resources is None:
                    raise ApiError(404, "NotFound", "the server could not find the requested resource")
                self._send_json(200, resources)
                return
        if len(seg) >= 3 and seg[0:2] == ["api", "v1"]:
            group, version, rest = "", "v1", seg[2:]
        elif len(seg) >= 4 and seg[0] == "apis":
            group, version, rest = seg[1], seg[2], seg[3:]
        else:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        namespace: str | None = None
        name: str | None
        sub: str | None
        if (
            group == ""
            and rest[0] == "namespaces"
            and len(rest) in (2, 3)
            and (len(rest) == 2 or rest[2] in ("status", "finalize"))
        ):
            plural, name, sub = "namespaces", rest[1], (rest[2] if len(rest) == 3 else None)
        elif rest[0] == "namespaces" and len(rest) >= 3:
            namespace, plural = rest[1], rest[2]
            name = rest[3] if len(rest) >= 4 else None
            sub = rest[4] if len(rest) >= 5 else None
            if len(rest) > 5:
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
        else:
            plural = rest[0]
            name = rest[1] if len(rest) >= 2 else None
            sub = rest[2] if len(rest) >= 3 else None
            if len(rest) > 3:
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
        rt = api.store.resolve(group, version, plural)
        if rt is None or (namespace is not None and not rt.namespaced):
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if sub is not None and not (sub == "status" and rt.status_subresource):
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        ns = namespace or ""
        watch = query.get("watch") in ("1", "true", "True")
        verb = {
            ("GET", False): "watch" if watch else "list",
            ("GET", True): "get",
            ("POST", False): "create",
            ("PUT", True): "update",
            ("PATCH", True): "patch",
            ("DELETE", True): "delete",
            ("DELETE", False): "deletecollection",
        }.get((method, name is not None))
        if verb is None:
            raise ApiError(
                405, "MethodNotAllowed", "the server does not allow this method on the requested resource"
            )
        api.authorize(verb, rt, sub, namespace, name)
        warnings: list[str] = []
        deprecation = rt.deprecated_versions.get(version)
        if deprecation:
            warnings.append(deprecation)
        # The API server's default is Warn; kubectl sends Strict.
        validation = query.get("fieldValidation") or "Warn"
        if validation not in ("Ignore", "Warn", "Strict"):
            raise bad_request(f"fieldValidation must be one of Ignore, Warn, Strict, not {validation!r}")
        checks: dict[str, Any] = {"field_validation": validation, "warnings": warnings}
        dry_run = "dryRun" in query and query["dryRun"] != ""
        store = api.store
        want_table = "as=Table" in (self.headers.get("Accept") or "")
        if verb == "watch":
            self._watch(rt, version, namespace, query, _warning_headers(warnings), want_table)
        elif verb == "list":
            items, rv = store.list(
                rt, namespace, version, query.get("labelSelector"), query.get("fieldSelector")
            )
            if want_table:
                self._send_json(
                    200,
                    tables.table(rt, items, rv, query.get("includeObject", "Metadata")),
                    _warning_headers(warnings),
                )
            else:
                kind_list = {
                    "kind": f"{rt.kind}List",
                    "apiVersion": rt.api_version(version),
                    "metadata": {"resourceVersion": rv},
                    "items": items,
                }
                self._send_json(200, kind_list, _warning_headers(warnings))
        elif verb == "get":
            assert name is not None
            obj = store.get(rt, ns, name, version)
            if want_table:
                self._send_json(
                    200,
                    tables.table(rt, [obj], str(store.rv), query.get("includeObject", "Metadata")),
                    _warning_headers(warnings),
                )
            else:
                self._send_json(200, obj, _warning_headers(warnings))
        elif verb == "create":
            created = store.create(rt, ns, body, version, dry_run=dry_run, **checks)
            self._send_json(201, created, _warning_headers(warnings))
        elif verb == "update":
            assert name is not None
            replaced = store.replace(rt, ns, name, body, version, subresource=sub, dry_run=dry_run, **checks)
            self._send_json(200, replaced, _warning_headers(warnings))
        elif verb == "patch":
            assert name is not None
            ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip()
            patch_type = _PATCH_TYPES.get(ctype)
            if patch_type is None:
                raise ApiError(
                    415,
                    "UnsupportedMediaType",
                    "the body of the request was in an unknown format - accepted media types include: "
                    + ", ".join(_PATCH_TYPES),
                )
            patched, was_created = store.patch(
                rt, ns, name, patch_type, body, version, subresource=sub, dry_run=dry_run, **checks
            )
            self._send_json(201 if was_created else 200, patched, _warning_headers(warnings))
        elif verb == "delete":
            assert name is not None
            self._send_json(
                200, store.delete(rt, ns, name, version, dry_run=dry_run), _warning_headers(warnings)
            )
        else:
            items, rv = store.list(
                rt, namespace, version, query.get("labelSelector"), query.get("fieldSelector")
            )
            with store.batch():
                for item in items:
                    meta = item["metadata"]
                    store.delete(rt, meta.get("namespace", ""), meta["name"], version, dry_run=dry_run)
            self._send_json(
                200,
                {
                    "kind": f"{rt.kind}List",
                    "apiVersion": rt.api_version(version),
                    "metadata": {},
                    "items": items,
                },
                _warning_headers(warnings),
            )

    # --- watch -------------------------------------------------------------------------------------------

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(b"%X\r\n%s\r\n" % (len(data), data))

    def _event(self, kind: str, obj: JSON) -> None:
        self._chunk(json.dumps({"type": kind, "object": obj}).encode() + b"\n")

    def _watch_object(self, rt: ResourceType, obj: JSON, as_table: bool, query: dict[str, str]) -> JSON:
        # `kubectl get -w` asks for Tables: every event then carries a one-row Table.
        if not as_table:
            return obj
        rv = str(obj["metadata"].get("resourceVersion", ""))
        return tables.table(rt, [obj], rv, query.get("includeObject", "Metadata"))

    def _watch(
        self,
        rt: ResourceType,
        version: str,
        namespace: str | None,
        query: dict[str, str],
        headers: list[tuple[str, str]],
        as_table: bool = False,
    ) -> None:
        api = self.server.api
        store = api.store
        match = store.matcher(query.get("labelSelector"), query.get("fieldSelector"))
        try:
            timeout = float(query.get("timeoutSeconds") or 1800)
        except ValueError:
            raise bad_request("timeoutSeconds must be a number") from None
        deadline = time.monotonic() + timeout
        bookmarks = query.get("allowWatchBookmarks") in ("1", "true")
        requested = query.get("resourceVersion") or ""
        initial: list[JSON] = []
        with store.lock:
            if requested in ("", "0"):
                initial, rv = store.list(
                    rt, namespace, version, query.get("labelSelector"), query.get("fieldSelector")
                )
                position = int(rv)
            else:
                try:
                    position = int(requested)
                except ValueError:
                    raise bad_request(f"invalid resource version {requested!r}") from None
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache, private")
        for key, value in headers:
            self.send_header(key, value)
        self.end_headers()
        api.request_log.append(f"{self.command} {self.path} 200")
        for obj in initial:
            self._event("ADDED", self._watch_object(rt, obj, as_table, query))
        while True:
            try:
                with store.lock:
                    events = store.events_after(position, rt, namespace, match)
                    position = max(position, store.rv)
            except ApiError as err:
                self._event("ERROR", err.status())
                break
            for event in events:
                shown = store.present(event.object, rt, version)
                self._event(event.type, self._watch_object(rt, shown, as_table, query))
            remaining = deadline - time.monotonic()
            if remaining <= 0 or store.closed or api.stopping.is_set():
                break
            with store.cond:
                store.cond.wait_for(
                    lambda p=position: store.rv > p or store.closed or api.stopping.is_set(),  # type: ignore[misc]
                    timeout=min(remaining, 0.5),
                )
        if bookmarks and not api.stopping.is_set():
            self._event(
                "BOOKMARK",
                {
                    "kind": rt.kind,
                    "apiVersion": rt.api_version(version),
                    "metadata": {"resourceVersion": str(position)},
                },
            )
        self._chunk(b"")


class KubeAPIServer:
    """The loopback API server, its store, and in-process helpers for the simulated controllers.

    `image_api_versions` are the served image.toolkit.fluxcd.io versions (("v1",) = Flux 2.9,
    ("v1", "v1beta2") = Flux 2.7/2.8); `image_controllers=False` leaves the image CRDs and controllers out
    (the seed's first pitfall). `deny` holds RBAC denials like "list imagepolicies" or "* deployments".
    """

    def __init__(
        self,
        state_path: Path | None = None,
        *,
        image_api_versions: Sequence[str] = ("v1",),
        image_controllers: bool = True,
        token: str | None = None,
        deny: Iterable[str] = (),
        host: str = "127.0.0.1",
        port: int = 0,
        flux_version: str | None = None,
        kubernetes_version: str = KUBERNETES_VERSION,
        simulate_workloads: bool = True,
    ) -> None:
        self.store = Store(
            Path(state_path) if state_path is not None else None, simulate_workloads=simulate_workloads
        )
        self.image_api_versions = tuple(image_api_versions)
        self.image_controllers = image_controllers
        self.token = token
        self.user = "fluxlab" if token else "system:anonymous"
        self.denied: list[str] = list(deny)
        self.host = host
        self.port = port
        self.kubernetes_version = kubernetes_version
        self.flux_version = flux_version
        self.request_log: deque[str] = deque(maxlen=500)
        self.stopping = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.url = ""
        self.flux_version = ensure_world(
            self.store,
            image_api_versions=self.image_api_versions,
            image_controllers=image_controllers,
            flux_version=flux_version,
        )

    # --- lifecycle ---------------------------------------------------------------------------------------

    def start(self) -> str:
        if self._httpd is not None:
            return self.url
        self.stopping.clear()
        self.store.closed = False
        self._httpd = _HTTPServer((self.host, self.port), self)
        port = self._httpd.server_address[1]
        self.url = f"http://{self.host}:{port}"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"kubeapi-{port}",
            daemon=True,
        )
        self._thread.start()
        return self.url

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        self.stopping.set()
        self.store.close()
        httpd.shutdown()
        httpd.drop_connections()
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> KubeAPIServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- configuration -----------------------------------------------------------------------------------

    def set_image_controllers(self, installed: bool, api_versions: Sequence[str] | None = None) -> None:
        """Install or remove the image controllers and CRDs (`flux install --components-extra=...`)."""
        if api_versions is not None:
            self.image_api_versions = tuple(api_versions)
        self.image_controllers = installed
        ensure_world(
            self.store,
            image_api_versions=self.image_api_versions,
            image_controllers=installed,
            flux_version=self.flux_version,
        )

    def deny(self, *rules: str) -> None:
        self.denied.extend(rules)

    def allow_all(self) -> None:
        self.denied.clear()

    def authorize(
        self, verb: str, rt: ResourceType, sub: str | None, namespace: str | None, name: str | None
    ) -> None:
        if not any(_rule_matches(rule, verb, rt, sub) for rule in self.denied):
            return
        resource = f"{rt.plural}/{sub}" if sub else rt.plural
        target = f'{rt.resource} "{name}"' if name else rt.resource
        scope = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
        message = (
            f'{target} is forbidden: User "{self.user}" cannot {verb} resource "{resource}" '
            f'in API group "{rt.group}" {scope}'
        )
        details: JSON = {"group": rt.group, "kind": rt.plural}
        if name:
            details["name"] = name
        raise ApiError(403, "Forbidden", message, details)

    # --- discovery ---------------------------------------------------------------------------------------

    def version_info(self) -> JSON:
        major, minor = self.kubernetes_version.lstrip("v").split(".")[:2]
        return {
            "major": major,
            "minor": minor,
            "gitVersion": self.kubernetes_version,
            "gitCommit": "0" * 40,
            "gitTreeState": "clean",
            "buildDate": "2026-01-01T00:00:00Z",
            "goVersion": "go1.24.0",
            "compiler": "gc",
            "platform": "linux/amd64",
        }

    def core_versions(self, host: str) -> JSON:
        return {
            "kind": "APIVersions",
            "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": host or self.url}],
        }

    def _groups(self) -> dict[str, list[str]]:
        versions: dict[str, set[str]] = {}
        for rt in self.store.types().values():
            if rt.group:
                versions.setdefault(rt.group, set()).update(rt.versions)
        ordered = sorted(versions, key=lambda g: (_GROUP_ORDER.index(g) if g in _GROUP_ORDER else 99, g))
        return {g: sorted(versions[g], key=_version_rank) for g in ordered}

    def _group_json(self, group: str, versions: list[str]) -> JSON:
        entries = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
        return {"name": group, "versions": entries, "preferredVersion": entries[0]}

    def group_list(self) -> JSON:
        groups = [self._group_json(g, v) for g, v in self._groups().items()]
        return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}

    def group(self, name: str) -> JSON | None:
        versions = self._groups().get(name)
        if not versions:
            return None
        return {"kind": "APIGroup", "apiVersion": "v1", **self._group_json(name, versions)}

    def resource_list(self, group: str, version: str) -> JSON | None:
        resources: list[JSON] = []
        for rt in sorted(self.store.types().values(), key=lambda t: t.plural):
            if rt.group != group or version not in rt.versions:
                continue
            entry: JSON = {
                "name": rt.plural,
                "singularName": rt.singular,
                "namespaced": rt.namespaced,
                "kind": rt.kind,
                "verbs": list(rt.verbs),
            }
            if rt.short_names:
                entry["shortNames"] = list(rt.short_names)
            if rt.categories:
                entry["categories"] = list(rt.categories)
            resources.append(entry)
            if rt.status_subresource:
                resources.append(
                    {
                        "name": f"{rt.plural}/status",
                        "singularName": "",
                        "namespaced": rt.namespaced,
                        "kind": rt.kind,
                        "verbs": ["get", "patch", "update"],
                    }
                )
        if not resources:
            return None
        gv = f"{group}/{version}" if group else version
        return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}

    def openapi_v3(self, rest: list[str]) -> JSON | None:
        """Just enough OpenAPI v3 for kubectl's field-validation probe.

        kubectl apply/create ask whether the PATCH operation of the object's kind declares the
        `fieldValidation` query parameter; when it does, they leave validation to the server instead of
        downloading full schemas. Schemas are not served, so kubectl falls back to its built-in patch logic.
        """
        gvs: list[tuple[str, str]] = [("", "v1")]
        gvs += [(g, v) for g, versions in self._groups().items() for v in versions]
        if not rest:
            paths = {}
            for g, v in gvs:
                key = f"apis/{g}/{v}" if g else "api/v1"
                digest = format(abs(hash((key, self.store.rv))) % (1 << 64), "016X")
                paths[key] = {"serverRelativeURL": f"/openapi/v3/{key}?hash={digest}"}
            return {"paths": paths}
        if rest == ["api", "v1"]:
            group, version = "", "v1"
        elif len(rest) == 3 and rest[0] == "apis":
            group, version = rest[1], rest[2]
        else:
            return None
        if (group, version) not in gvs:
            return None
        params = [
            {"name": n, "in": "query", "schema": {"type": "string", "uniqueItems": True}}
            for n in ("dryRun", "fieldManager", "fieldValidation", "force")
        ]
        prefix = f"/apis/{group}/{version}" if group else "/api/v1"
        doc_paths: JSON = {}
        for rt in self.store.types().values():
            if rt.group != group or version not in rt.versions:
                continue
            ns = "/namespaces/{namespace}" if rt.namespaced else ""
            gvk = {"group": group, "version": version, "kind": rt.kind}
            doc_paths[f"{prefix}{ns}/{rt.plural}/{{name}}"] = {
                "patch": {
                    "operationId": f"patch{rt.kind}",
                    "parameters": params,
                    "responses": {"200": {"description": "OK"}},
                    "x-kubernetes-action": "patch",
                    "x-kubernetes-group-version-kind": gvk,
                }
            }
        return {
            "openapi": "3.0.0",
            "info": {"title": "Kubernetes", "version": self.kubernetes_version},
            "paths": doc_paths,
            "components": {"schemas": {}},
        }

    @property
    def image_group_served(self) -> bool:
        return IMAGE_GROUP in self._groups()

    # --- in-process helpers for the simulated controllers ------------------------------------------------

    def _type(self, kind: str, api_version: str | None = None) -> ResourceType:
        rt = self.store.by_kind(kind, api_version)
        if rt is None:
            where = f' in version "{api_version}"' if api_version else ""
            raise ApiError(404, "NotFound", f'no matches for kind "{kind}"{where}')
        return rt

    @property
    def resource_version(self) -> int:
        return self.store.rv

    def wait_for_change(self, since: int, timeout: float) -> int:
        """Block until the store's resourceVersion passes `since` (or timeout); returns the current one."""
        return self.store.wait_for_change(since, timeout)

    def get(
        self, kind: str, name: str, namespace: str = "flux-system", api_version: str | None = None
    ) -> JSON | None:
        rt = self._type(kind, api_version)
        version = api_version.rpartition("/")[2] if api_version else None
        try:
            return self.store.get(rt, namespace, name, version)
        except ApiError as err:
            if err.code == 404:
                return None
            raise

    def list(
        self,
        kind: str,
        namespace: str | None = None,
        label_selector: str | None = None,
        api_version: str | None = None,
    ) -> list[JSON]:
        rt = self._type(kind, api_version)
        version = api_version.rpartition("/")[2] if api_version else None
        return self.store.list(rt, namespace, version, label_selector)[0]

    def put(self, obj: JSON) -> JSON:
        """Create or update from a manifest as `kubectl apply` would (status is left to update_status)."""
        kind = obj.get("kind")
        api_version = obj.get("apiVersion")
        if not isinstance(kind, str) or not isinstance(api_version, str):
            raise ApiError(400, "BadRequest", "object has no kind or apiVersion")
        rt = self._type(kind, api_version)
        version = api_version.rpartition("/")[2]
        meta = obj.get("metadata") or {}
        namespace = (meta.get("namespace") or "default") if rt.namespaced else ""
        body = copy.deepcopy(obj)
        body.setdefault("metadata", {}).pop("resourceVersion", None)
        with self.store.lock:
            try:
                self.store.get(rt, namespace, str(meta.get("name")))
            except ApiError:
                return self.store.create(rt, namespace, body, version)
            return self.store.replace(rt, namespace, str(meta["name"]), body, version)

    def update_status(
        self, kind: str, name: str, namespace: str, status: JSON, api_version: str | None = None
    ) -> JSON:
        rt = self._type(kind, api_version)
        version = api_version.rpartition("/")[2] if api_version else None
        return self.store.replace(rt, namespace, name, {"status": status}, version, subresource="status")

    def delete(
        self, kind: str, name: str, namespace: str = "flux-system", api_version: str | None = None
    ) -> bool:
        rt = self._type(kind, api_version)
        try:
            self.store.delete(rt, namespace, name)
        except ApiError as err:
            if err.code == 404:
                return False
            raise
        return True

    def record_event(
        self,
        obj: JSON,
        event_type: str,
        reason: str,
        message: str,
        component: str = "image-reflector-controller",
    ) -> JSON:
        """A core/v1 Event about `obj`, as `kubectl describe` lists them."""
        meta = obj["metadata"]
        namespace = meta.get("namespace") or "default"
        stamp = now_rfc3339()
        rt = self._type("Event", "v1")
        event = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {
                "name": f"{meta['name']}.{secrets.token_hex(8)}",  # client-go's event names: name.<hex>
                "namespace": namespace,
            },
            "involvedObject": {
                "apiVersion": obj.get("apiVersion", ""),
                "kind": obj.get("kind", ""),
                "name": meta["name"],
                "namespace": namespace,
                "uid": meta.get("uid", ""),
                "resourceVersion": meta.get("resourceVersion", ""),
            },
            "type": event_type,
            "reason": reason,
            "message": message,
            "source": {"component": component},
            "firstTimestamp": stamp,
            "lastTimestamp": stamp,
            "count": 1,
            "reportingComponent": component,
        }
        created = self.store.create(rt, namespace, event)
        self.store.trim_events()
        return created
