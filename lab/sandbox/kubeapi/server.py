"""A loopback Kubernetes API server: enough of the REST API for kubectl, client-go and the Python client.

HTTPS on 127.0.0.1 (a self-signed certificate per start, pinned by the kubeconfig) with a required bearer
token, as a real API server authenticates every client; `Host` and `Origin` must be its own. Discovery (legacy, not aggregated: kubectl falls back
to it), CRUD with the four patch formats, the status subresource, streaming watch, label and field
selectors, server-side Table output for `kubectl get`, deprecation warnings, and configurable RBAC denials
so error paths can be exercised.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
import secrets
import ssl
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from lab.core.manifests.models import IMAGE_CONTROLLERS, IMAGE_GROUP
from lab.core.record import dataclass
from lab.sandbox.httpbase import LoopbackHandler, LoopbackServer
from lab.sandbox.kubeapi import protobuf, tables, workloads
from lab.sandbox.kubeapi.logs import ControllerLogs, starting_line
from lab.sandbox.kubeapi.patch import PatchError, json_patch, merge_patch, strategic_merge_patch
from lab.sandbox.kubeapi.resources import JSON, ResourceType
from lab.sandbox.kubeapi.store import ApiError, Store, WriteOptions, bad_request, now_rfc3339
from lab.sandbox.kubeapi.world import CORE_COMPONENTS, FLUX_NAMESPACE, ensure_world
from lab.sandbox.tls import ServerCertificate, self_signed

KUBERNETES_VERSION = "v1.33.1"
MAX_BODY = 3 * 1024 * 1024  # the real API server's request size limit
_PATCH_TYPES = {
    "application/json-patch+json": "json",
    "application/merge-patch+json": "merge",
    "application/strategic-merge-patch+json": "strategic",
    "application/apply-patch+yaml": "apply",
    "application/apply-patch+json": "apply",
}
# What a create or update body may be (the API server's decoders); anything else is refused with 415.
_BODY_TYPES = (
    "application/json",
    "application/yaml",
    "application/vnd.kubernetes.protobuf",
    "application/cbor",
)
_GROUP_ORDER = ("", "apps", "authentication.k8s.io", "authorization.k8s.io", "apiextensions.k8s.io")


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
    """Apply-patch bodies may be YAML: read with the lab's bounded loader (aliases cannot blow up)."""
    from lab.core.yamlsafe import load_one
    from lab.errors import LabError

    try:
        doc = load_one(raw.decode("utf-8"), "request body")
    except (LabError, UnicodeDecodeError) as err:
        raise bad_request(f"error decoding YAML: {getattr(err, 'message', err)}") from err
    return None if doc is None else json.loads(json.dumps(doc.data, default=str))


def _warning_headers(warnings: list[str]) -> list[tuple[str, str]]:
    # RFC 7234 warn-code 299, the form kubectl prints as "Warning: <text>".
    return [("Warning", "299 - " + json.dumps(w)) for w in dict.fromkeys(warnings)]


def _not_found() -> ApiError:
    return ApiError(404, "NotFound", "the server could not find the requested resource")


@dataclass(frozen=True)
class Request:
    """One API request as the route handlers see it."""

    method: str
    params: dict[str, str]
    query: dict[str, str]
    body: Any
    user_agent: str = ""


RouteHandler = Callable[["_Handler", Request], None]


def _match(pattern: tuple[str, ...], segments: list[str]) -> dict[str, str] | None:
    """`{name}` binds one segment, `{name:a|b}` only one of the listed values; other segments are literal."""
    if len(pattern) != len(segments):
        return None
    params: dict[str, str] = {}
    for want, got in zip(pattern, segments, strict=True):
        if want.startswith("{"):
            name, _, choices = want[1:-1].partition(":")
            if choices and got not in choices.split("|"):
                return None
            params[name] = got
        elif want != got:
            return None
    return params


def _resource_patterns() -> list[tuple[str, ...]]:
    """Every URL shape of a resource, most specific first (core namespaces before namespaced lists)."""
    out: list[tuple[str, ...]] = [
        ("api", "{version}", "{plural:namespaces}", "{name}", "{sub:status|finalize}")
    ]
    for prefix in (("api", "{version}"), ("apis", "{group}", "{version}")):
        out += [
            (*prefix, "namespaces", "{namespace}", "{plural}", "{name}", "{sub}"),
            (*prefix, "namespaces", "{namespace}", "{plural}", "{name}"),
            (*prefix, "namespaces", "{namespace}", "{plural}"),
            (*prefix, "{plural}", "{name}", "{sub}"),
            (*prefix, "{plural}", "{name}"),
            (*prefix, "{plural}"),
        ]
    return out


_RESOURCE_PATTERNS = _resource_patterns()
# (method, named?) -> the verb RBAC and the handlers use.
_VERBS = {
    ("GET", False): "list",
    ("GET", True): "get",
    ("POST", False): "create",
    ("PUT", True): "update",
    ("PATCH", True): "patch",
    ("DELETE", True): "delete",
    ("DELETE", False): "deletecollection",
}


class _HTTPServer(LoopbackServer):
    def __init__(self, address: tuple[str, int], api: KubeAPIServer) -> None:
        self.api = api
        assert api.certificate is not None
        super().__init__(address, _Handler, join=True, tls=api.certificate.server_context())


class _Handler(LoopbackHandler):
    server_version = "fluxlab-kubeapi"
    timeout = 120
    server: _HTTPServer
    extra_headers = (("Cache-Control", "no-cache, private"),)

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
        # Logged before the answer goes out: a client that has its answer can rely on the log.
        self.server.api.request_log.append(f"{self.command} {self.path} {code}")
        self.send_body(code, payload, content_type, headers or [])

    def _send_json(self, code: int, body: Any, headers: list[tuple[str, str]] | None = None) -> None:
        self._send(code, json.dumps(body).encode(), "application/json", headers)

    def _read_body(self) -> Any:
        length = self.content_length()
        if length <= 0:
            return None
        if length > MAX_BODY:
            self.drain(length, 8 * MAX_BODY)
            raise ApiError(413, "RequestEntityTooLarge", f"Request entity too large: limit is {MAX_BODY}")
        raw = self.rfile.read(length)
        ctype = self.content_type()
        if self.command in ("POST", "PUT") and ctype and ctype not in _BODY_TYPES:
            # What the API server answers for a body it cannot decode, e.g. a browser's text/plain form POST
            # (no Content-Type at all means JSON, as there).
            raise ApiError(
                415,
                "UnsupportedMediaType",
                f"the body of the request was in an unknown format - accepted media types include: "
                f"{', '.join(_BODY_TYPES)}",
            )
        if ctype == protobuf.MEDIA_TYPE:
            return protobuf.ProtoBody(raw)  # only the review endpoints read it (see _review_body)
        if "protobuf" in ctype or "cbor" in ctype:
            raise ApiError(
                415, "UnsupportedMediaType", f"the fluxlab API server reads JSON and YAML, not {ctype}"
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
            refused = self.foreign_origin()
            if refused is not None:
                self.close_connection = True
                raise ApiError(403, "Forbidden", f"{refused}: the sandbox API serves local clients only")
            if segments in (["healthz"], ["livez"], ["readyz"]):
                self._send(200, b"ok", "text/plain; charset=utf-8")
                return
            if not self.bearer_ok(api.token):
                # Checked before the body is read: an unauthenticated caller gets nothing parsed.
                self.drain(self.content_length(), 8 * MAX_BODY)
                raise ApiError(401, "Unauthorized", "Unauthorized")
            body = self._read_body()
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
        for route_method, pattern, handler in ROUTES:
            if route_method != method:
                continue
            params = _match(pattern, seg)
            if params is not None:
                handler(self, Request(method, params, query, body, self.headers.get("User-Agent") or ""))
                return
        for pattern in _RESOURCE_PATTERNS:
            params = _match(pattern, seg)
            if params is not None:
                self._resource(Request(method, params, query, body, self.headers.get("User-Agent") or ""))
                return
        raise _not_found()

    # --- discovery and the non-resource endpoints --------------------------------------------------------

    def _root(self, req: Request) -> None:
        self._send_json(200, {"paths": ["/api", "/api/v1", "/apis", "/healthz", "/openapi/v3", "/version"]})

    def _version(self, req: Request) -> None:
        self._send_json(200, self.server.api.version_info())

    def _core_versions(self, req: Request) -> None:
        self._send_json(200, self.server.api.core_versions(self.headers.get("Host") or ""))

    def _group_list(self, req: Request) -> None:
        self._send_json(200, self.server.api.group_list())

    def _group(self, req: Request) -> None:
        self._send_json(200, _found(self.server.api.group(req.params["group"])))

    def _resource_list(self, req: Request) -> None:
        api = self.server.api
        self._send_json(200, _found(api.resource_list(req.params.get("group", ""), req.params["version"])))

    def _openapi_v2(self, req: Request) -> None:
        # An empty protobuf Document: kubectl's client-side validation then knows no schema and
        # lets the request through, so unknown kinds fail with kubectl's own "no matches for kind".
        self._send(200, b"", "application/com.github.proto-openapi.spec.v2.v1.0+protobuf")

    def _openapi_v3(self, req: Request) -> None:
        api = self.server.api
        if not req.params:
            self._send_json(200, api.openapi_v3_index())
            return
        self._send_json(200, _found(api.openapi_v3(req.params.get("group", ""), req.params["version"])))

    # --- resources ---------------------------------------------------------------------------------------

    def _resource(self, req: Request) -> None:
        if isinstance(req.body, protobuf.ProtoBody):
            raise ApiError(
                415,
                "UnsupportedMediaType",
                f"the fluxlab API server reads objects as JSON and YAML, not {protobuf.MEDIA_TYPE}",
            )
        api = self.server.api
        p = req.params
        group, version, namespace = p.get("group", ""), p["version"], p.get("namespace")
        name, sub = p.get("name"), p.get("sub")
        if p["plural"] == "namespaces" and group == "" and "namespace" in p:
            raise _not_found()  # namespaces/{ns}/namespaces/... names no resource
        rt = api.store.resolve(group, version, p["plural"])
        if rt is None or (namespace is not None and not rt.namespaced):
            raise _not_found()
        if sub is not None and not (
            (sub == "status" and rt.status_subresource) or (sub == "scale" and rt.scale_subresource)
        ):
            raise _not_found()
        verb = _VERBS.get((req.method, name is not None))
        if verb is None:
            raise ApiError(
                405, "MethodNotAllowed", "the server does not allow this method on the requested resource"
            )
        if verb == "list" and req.query.get("watch") in ("1", "true", "True"):
            verb = "watch"
        api.authorize(verb, rt, sub, namespace, name)
        warnings: list[str] = []
        deprecation = rt.deprecated_versions.get(version)
        if deprecation:
            warnings.append(deprecation)
        # The API server's default is Warn; kubectl sends Strict.
        validation = req.query.get("fieldValidation") or "Warn"
        if validation not in ("Ignore", "Warn", "Strict"):
            raise bad_request(f"fieldValidation must be one of Ignore, Warn, Strict, not {validation!r}")
        call = _Call(rt, version, namespace, name, sub, validation, warnings, req)
        if sub == "scale":
            self._scale(call, verb)
            return
        _VERB_HANDLERS[verb](self, call)

    def _want_table(self) -> bool:
        return "as=Table" in (self.headers.get("Accept") or "")

    def _reply(self, code: int, body: Any, call: _Call) -> None:
        self._send_json(code, body, _warning_headers(call.warnings))

    def _list(self, call: _Call) -> None:
        store, q = self.server.api.store, call.req.query
        items, rv = store.list(
            call.rt, call.namespace, call.version, q.get("labelSelector"), q.get("fieldSelector")
        )
        if self._want_table():
            self._reply(200, tables.table(call.rt, items, rv, q.get("includeObject", "Metadata")), call)
            return
        kind_list = {
            "kind": f"{call.rt.kind}List",
            "apiVersion": call.rt.api_version(call.version),
            "metadata": {"resourceVersion": rv},
            "items": items,
        }
        self._reply(200, kind_list, call)

    def _get(self, call: _Call) -> None:
        store = self.server.api.store
        obj = store.get(call.rt, call.ns, str(call.name), call.version)
        if self._want_table():
            rows = tables.table(
                call.rt, [obj], str(store.rv), call.req.query.get("includeObject", "Metadata")
            )
            self._reply(200, rows, call)
        else:
            self._reply(200, obj, call)

    def _create(self, call: _Call) -> None:
        created = self.server.api.store.create(
            call.rt, call.ns, call.req.body, call.version, options=call.options
        )
        self._reply(201, created, call)

    def _update(self, call: _Call) -> None:
        replaced = self.server.api.store.replace(
            call.rt,
            call.ns,
            str(call.name),
            call.req.body,
            call.version,
            subresource=call.sub,
            options=call.options,
        )
        self._reply(200, replaced, call)

    def _patch(self, call: _Call) -> None:
        patch_type = _PATCH_TYPES.get(self.content_type())
        if patch_type is None or (patch_type == "strategic" and call.rt.custom):
            # Custom resources have no patch strategy to merge by; the API server refuses it in these words.
            raise _unsupported_patch(custom=call.rt.custom)
        patched, was_created = self.server.api.store.patch(
            call.rt,
            call.ns,
            str(call.name),
            patch_type,
            call.req.body,
            call.version,
            subresource=call.sub,
            options=call.options,
        )
        self._reply(201 if was_created else 200, patched, call)

    def _scale(self, call: _Call, verb: str) -> None:
        """The autoscaling/v1 Scale subresource: what `kubectl scale` reads and patches."""
        store = self.server.api.store
        if verb not in ("get", "update", "patch"):
            raise ApiError(
                405, "MethodNotAllowed", "the server does not allow this method on the requested resource"
            )
        current = _scale_of(store.get(call.rt, call.ns, str(call.name)))
        if verb == "get":
            self._reply(200, current, call)
            return
        body = call.req.body
        if verb == "patch":
            kind = _PATCH_TYPES.get(self.content_type())
            patchers = {"json": json_patch, "merge": merge_patch, "strategic": strategic_merge_patch}
            if kind not in patchers:
                raise _unsupported_patch(custom=False)
            try:
                body = patchers[kind](current, body)
            except PatchError as err:
                raise ApiError(422, "Invalid", str(err)) from err
        wanted = ((body or {}).get("spec") or {}).get("replicas") if isinstance(body, dict) else None
        if not isinstance(wanted, int) or isinstance(wanted, bool) or wanted < 0:
            raise ApiError(
                422,
                "Invalid",
                f'Scale.autoscaling "{call.name}" is invalid: spec.replicas: Invalid value: {json.dumps(wanted)}: '
                "must be greater than or equal to 0",
            )
        store.patch(
            call.rt,
            call.ns,
            str(call.name),
            "merge",
            {"spec": {"replicas": wanted}},
            options=WriteOptions(dry_run=call.dry_run),
        )
        self._reply(200, _scale_of(store.get(call.rt, call.ns, str(call.name))), call)

    def _pod_log(self, req: Request) -> None:
        """GET .../pods/NAME/log: the simulated controller's lines since the pod started."""
        api = self.server.api
        rt = api.store.types()[("", "pods")]
        namespace, name = req.params["namespace"], req.params["name"]
        api.authorize("get", rt, "log", namespace, name)
        pod = api.store.get(rt, namespace, name)
        containers = [str(c.get("name")) for c in (pod.get("spec") or {}).get("containers") or []]
        wanted = req.query.get("container")
        if wanted and wanted not in containers:
            raise bad_request(f"container {wanted} is not valid for pod {name}")
        started = tables.parse_time(str(pod["metadata"].get("creationTimestamp", ""))) or dt.datetime.now(
            dt.UTC
        )
        component = workloads.deployment_of(pod) or ""
        tail = _int(req.query.get("tailLines"))
        stamps = req.query.get("timestamps") in ("1", "true")

        def render(lines: list[tuple[dt.datetime, str]]) -> bytes:
            shown = [
                f"{when.strftime('%Y-%m-%dT%H:%M:%S.%f')}000Z {line}" if stamps else line
                for when, line in lines
            ]
            return "".join(f"{line}\n" for line in shown).encode()

        history, serial = api.logs.since(component, started)
        lines = [starting_line(started), *history] if component in FLUX_COMPONENTS else []
        if tail is not None:
            lines = lines[-tail:] if tail > 0 else []
        if req.query.get("follow") not in ("1", "true"):
            self._send(200, render(lines), "text/plain")
            return
        self._follow(rt, namespace, name, component, started, serial, render(lines), render)

    def _follow(
        self,
        rt: ResourceType,
        namespace: str,
        name: str,
        component: str,
        started: dt.datetime,
        serial: int,
        first: bytes,
        render: Callable[[list[tuple[dt.datetime, str]]], bytes],
    ) -> None:
        api = self.server.api
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        if first:
            self._chunk(first)
        while not api.stopping.is_set():
            with api.logs.cond:
                api.logs.cond.wait(timeout=0.5)
            lines, serial = api.logs.since(component, started, serial)
            if lines:
                self._chunk(render(lines))
            try:
                api.store.get(rt, namespace, name)
            except ApiError:
                break  # the pod is gone: its log stream ends, as kubectl sees it
        self._chunk(b"")

    def _access_review(self, req: Request) -> None:
        """SelfSubjectAccessReview (`kubectl auth can-i`): allowed unless the sandbox was told to deny."""
        api = self.server.api
        body = _review_body(req.body)
        spec = _mapping(body.get("spec"))
        attrs = spec.get("resourceAttributes")
        attrs = attrs if isinstance(attrs, dict) else None
        allowed, reason = True, 'RBAC: allowed by ClusterRoleBinding "fluxlab" of ClusterRole "cluster-admin"'

        if attrs is not None:
            rt = _type_by_resource(api.store, str(attrs.get("group") or ""), str(attrs.get("resource") or ""))
            if rt is not None:
                try:
                    api.authorize(
                        str(attrs.get("verb") or ""),
                        rt,
                        attrs.get("subresource") or None,
                        attrs.get("namespace") or None,
                        attrs.get("name") or None,
                    )
                except ApiError:
                    allowed, reason = False, ""  # RBAC gives no reason for a denial
        status: JSON = {"allowed": allowed, "reason": reason}
        if not allowed:
            status["denied"] = True
        self._send_json(
            201,
            {
                **_review_head(body, "authorization.k8s.io/v1", "SelfSubjectAccessReview"),
                "spec": spec,
                "status": status,
            },
        )

    def _rules_review(self, req: Request) -> None:
        """SelfSubjectRulesReview (`kubectl auth can-i --list`)."""
        body = _review_body(req.body)
        status = {
            "resourceRules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}],
            "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}],
            "incomplete": bool(self.server.api.denied),
        }
        self._send_json(
            201,
            {
                **_review_head(body, "authorization.k8s.io/v1", "SelfSubjectRulesReview"),
                "spec": body.get("spec") or {},
                "status": status,
            },
        )

    def _whoami(self, req: Request) -> None:
        """SelfSubjectReview (`kubectl auth whoami`): the user the kubeconfig's token stands for."""
        api = self.server.api
        body = _review_body(req.body)
        version = req.params.get("version", "v1")
        user = {"username": api.user, "groups": list(USER_GROUPS)}
        self._send_json(
            201,
            {
                **_review_head(body, f"authentication.k8s.io/{version}", "SelfSubjectReview"),
                "status": {"userInfo": user},
            },
        )

    def _delete(self, call: _Call) -> None:
        store = self.server.api.store
        self._reply(
            200, store.delete(call.rt, call.ns, str(call.name), call.version, dry_run=call.dry_run), call
        )

    def _delete_collection(self, call: _Call) -> None:
        store, q = self.server.api.store, call.req.query
        items, _ = store.list(
            call.rt, call.namespace, call.version, q.get("labelSelector"), q.get("fieldSelector")
        )
        with store.batch():
            for item in items:
                meta = item["metadata"]
                store.delete(
                    call.rt, meta.get("namespace", ""), meta["name"], call.version, dry_run=call.dry_run
                )
        body = {
            "kind": f"{call.rt.kind}List",
            "apiVersion": call.rt.api_version(call.version),
            "metadata": {},
            "items": items,
        }
        self._reply(200, body, call)

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


@dataclass(frozen=True)
class _Call:
    """A resolved resource request: its type, version, scope and the write options it carries."""

    rt: ResourceType
    version: str
    namespace: str | None
    name: str | None
    sub: str | None
    validation: str
    warnings: list[str]
    req: Request

    @property
    def ns(self) -> str:
        return self.namespace or ""

    @property
    def dry_run(self) -> bool:
        return bool(self.req.query.get("dryRun"))

    @property
    def options(self) -> WriteOptions:
        return WriteOptions(self.dry_run, self.validation, self.warnings, self.manager)

    @property
    def manager(self) -> str:
        # The API server's default field manager: the client's User-Agent up to the first "/".
        return self.req.query.get("fieldManager") or self.req.user_agent.split("/", 1)[0] or "unknown"


USER_GROUPS = ("system:masters", "system:authenticated")
# The review APIs kubectl's `auth can-i` and `auth whoami` call (served, never stored).
_REVIEW_RESOURCES: dict[str, dict[str, str]] = {
    "authentication.k8s.io": {"selfsubjectreviews": "SelfSubjectReview"},
    "authorization.k8s.io": {
        "selfsubjectaccessreviews": "SelfSubjectAccessReview",
        "selfsubjectrulesreviews": "SelfSubjectRulesReview",
    },
}
FLUX_COMPONENTS = frozenset(CORE_COMPONENTS) | frozenset(IMAGE_CONTROLLERS)


def _unsupported_patch(*, custom: bool) -> ApiError:
    accepted = ["application/json-patch+json", "application/merge-patch+json"]
    if not custom:
        accepted.append("application/strategic-merge-patch+json")
    accepted.append("application/apply-patch+yaml")
    return ApiError(
        415,
        "UnsupportedMediaType",
        "the body of the request was in an unknown format - accepted media types include: "
        + ", ".join(accepted),
    )


def _scale_of(obj: JSON) -> JSON:
    meta = obj["metadata"]
    spec = obj.get("spec") or {}
    selector = (spec.get("selector") or {}).get("matchLabels") or {}
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            k: meta[k]
            for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
            if k in meta
        },
        "spec": {"replicas": workloads.replicas(obj)},
        "status": {
            "replicas": int((obj.get("status") or {}).get("replicas") or 0),
            "selector": ",".join(f"{k}={v}" for k, v in sorted(selector.items())),
        },
    }


def _schema_name(group: str, version: str, kind: str) -> str:
    """The API server's name for a CRD schema: the group reversed, `image.toolkit.fluxcd.io` -> io.fluxcd.toolkit.image."""
    return ".".join([*reversed(group.split(".")), version, kind])


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        raise bad_request(f"invalid integer {value!r}") from None


def _type_by_resource(store: Store, group: str, resource: str) -> ResourceType | None:
    for rt in store.types().values():
        if rt.group == group and resource in (rt.plural, rt.singular, *rt.short_names):
            return rt
    return None


def _review_body(body: Any) -> JSON:
    if isinstance(body, protobuf.ProtoBody):
        try:
            return protobuf.decode_review(body)
        except protobuf.ProtobufError as err:
            raise bad_request(f"the request body is not a valid protobuf message: {err}") from None
    return _mapping(body)


def _mapping(value: Any) -> JSON:
    return value if isinstance(value, dict) else {}


def _review_head(body: JSON, api_version: str, kind: str) -> JSON:
    meta = _mapping(body.get("metadata"))
    return {"kind": kind, "apiVersion": api_version, "metadata": {**meta, "creationTimestamp": now_rfc3339()}}


def _found(doc: JSON | None) -> JSON:
    if doc is None:
        raise _not_found()
    return doc


def _watch_call(handler: _Handler, call: _Call) -> None:
    handler._watch(
        call.rt,
        call.version,
        call.namespace,
        call.req.query,
        _warning_headers(call.warnings),
        handler._want_table(),
    )


ROUTES: list[tuple[str, tuple[str, ...], RouteHandler]] = [
    ("GET", (), _Handler._root),
    ("GET", ("version",), _Handler._version),
    ("GET", ("api",), _Handler._core_versions),
    ("GET", ("apis",), _Handler._group_list),
    ("GET", ("apis", "{group}"), _Handler._group),
    ("GET", ("api", "{version}"), _Handler._resource_list),
    ("GET", ("apis", "{group}", "{version}"), _Handler._resource_list),
    ("GET", ("openapi", "v2"), _Handler._openapi_v2),
    ("GET", ("openapi", "v3"), _Handler._openapi_v3),
    ("GET", ("openapi", "v3", "api", "{version}"), _Handler._openapi_v3),
    ("GET", ("openapi", "v3", "apis", "{group}", "{version}"), _Handler._openapi_v3),
    ("GET", ("api", "v1", "namespaces", "{namespace}", "pods", "{name}", "log"), _Handler._pod_log),
    ("POST", ("apis", "authorization.k8s.io", "v1", "selfsubjectaccessreviews"), _Handler._access_review),
    ("POST", ("apis", "authorization.k8s.io", "v1", "selfsubjectrulesreviews"), _Handler._rules_review),
    (
        "POST",
        ("apis", "authentication.k8s.io", "{version:v1|v1beta1}", "selfsubjectreviews"),
        _Handler._whoami,
    ),
]
_VERB_HANDLERS: dict[str, Callable[[_Handler, _Call], None]] = {
    "list": _Handler._list,
    "watch": _watch_call,
    "get": _Handler._get,
    "create": _Handler._create,
    "update": _Handler._update,
    "patch": _Handler._patch,
    "delete": _Handler._delete,
    "deletecollection": _Handler._delete_collection,
}


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
        certificate: ServerCertificate | None = None,
    ) -> None:
        self.store = Store(
            Path(state_path) if state_path is not None else None, simulate_workloads=simulate_workloads
        )
        self.image_api_versions = tuple(image_api_versions)
        self.image_controllers = image_controllers
        # Always a token, as a real API server always authenticates: the kubeconfig carries it.
        self.token = token or secrets.token_urlsafe(24)
        self.user = "fluxlab"
        self.denied: list[str] = list(deny)
        self.host = host
        self.port = port
        self.kubernetes_version = kubernetes_version
        self.flux_version = flux_version
        self.request_log: deque[str] = deque(maxlen=500)
        self.logs = ControllerLogs()
        self.stopping = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.url = ""
        self.certificate = certificate
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
        if self.certificate is None:
            self.certificate = self_signed()
        self._httpd = _HTTPServer((self.host, self.port), self)
        port = self._httpd.server_address[1]
        self.url = f"https://{self.host}:{port}"
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

    def write_kubeconfig(self, path: str | Path, **options: Any) -> Path:
        """A kubeconfig for this server (its URL and token): what kubectl and the clients need."""
        from lab.sandbox.kubeapi.kubeconfig import write_kubeconfig

        assert self.certificate is not None, "start() the server first"
        return write_kubeconfig(path, self.url, token=self.token, ca_pem=self.certificate.cert_pem, **options)

    def client_tls(self) -> ssl.SSLContext:
        """A client context trusting this server's certificate (raw HTTP clients in-process and in tests)."""
        assert self.certificate is not None, "start() the server first"
        return self.certificate.client_context()

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
        versions: dict[str, set[str]] = {g: {"v1"} for g in _REVIEW_RESOURCES}
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
        resources: list[JSON] = [
            {
                "name": plural,
                "singularName": plural[:-1],
                "namespaced": False,
                "kind": kind,
                "verbs": ["create"],
            }
            for plural, kind in _REVIEW_RESOURCES.get(group, {}).items()
            if version == "v1"
        ]
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
            if rt.plural == "pods" and rt.group == "":
                resources.append(
                    {
                        "name": "pods/log",
                        "singularName": "",
                        "namespaced": True,
                        "kind": "Pod",
                        "verbs": ["get"],
                    }
                )
            if rt.scale_subresource:
                resources.append(
                    {
                        "name": f"{rt.plural}/scale",
                        "singularName": "",
                        "namespaced": rt.namespaced,
                        "group": "autoscaling",
                        "version": "v1",
                        "kind": "Scale",
                        "verbs": ["get", "patch", "update"],
                    }
                )
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

    def _served_group_versions(self) -> list[tuple[str, str]]:
        return [("", "v1"), *((g, v) for g, versions in self._groups().items() for v in versions)]

    def openapi_v3_index(self) -> JSON:
        paths = {}
        for g, v in self._served_group_versions():
            key = f"apis/{g}/{v}" if g else "api/v1"
            digest = format(abs(hash((key, self.store.rv))) % (1 << 64), "016X")
            paths[key] = {"serverRelativeURL": f"/openapi/v3/{key}?hash={digest}"}
        return {"paths": paths}

    def openapi_v3(self, group: str, version: str) -> JSON | None:
        """OpenAPI v3 for one group version: PATCH operations and, for custom resources, their schemas.

        kubectl apply/create ask whether the PATCH operation of the object's kind declares the
        `fieldValidation` query parameter; when it does, they leave validation to the server. The schemas
        are the stored CRDs' `openAPIV3Schema`, as a real API server publishes them (`kubectl explain`).
        """
        if (group, version) not in self._served_group_versions():
            return None
        params = [
            {"name": n, "in": "query", "schema": {"type": "string", "uniqueItems": True}}
            for n in ("dryRun", "fieldManager", "fieldValidation", "force")
        ]
        prefix = f"/apis/{group}/{version}" if group else "/api/v1"
        doc_paths: JSON = {}
        schemas: JSON = {}
        for rt in self.store.types().values():
            if rt.group != group or version not in rt.versions:
                continue
            ns = "/namespaces/{namespace}" if rt.namespaced else ""
            gvk = {"group": group, "version": version, "kind": rt.kind}
            patch: JSON = {
                "operationId": f"patch{rt.kind}",
                "parameters": params,
                "responses": {"200": {"description": "OK"}},
                "x-kubernetes-action": "patch",
                "x-kubernetes-group-version-kind": gvk,
            }
            schema = self._crd_schema(rt, version) if rt.custom else None
            if schema is not None:
                ref = {"$ref": f"#/components/schemas/{_schema_name(group, version, rt.kind)}"}
                # What a custom resource accepts (no strategic merge), so kubectl never picks that patch.
                accepted = (
                    "application/json-patch+json",
                    "application/merge-patch+json",
                    "application/apply-patch+yaml",
                )
                patch["requestBody"] = {"content": {t: {"schema": {"type": "object"}} for t in accepted}}
                patch["responses"] = {
                    "200": {"description": "OK", "content": {"application/json": {"schema": ref}}}
                }
                schemas[_schema_name(group, version, rt.kind)] = {
                    **schema,
                    "x-kubernetes-group-version-kind": [gvk],
                }
            doc_paths[f"{prefix}{ns}/{rt.plural}/{{name}}"] = {"patch": patch}
        return {
            "openapi": "3.0.0",
            "info": {"title": "Kubernetes", "version": self.kubernetes_version},
            "paths": doc_paths,
            "components": {"schemas": schemas},
        }

    def _crd_schema(self, rt: ResourceType, version: str) -> JSON | None:
        crd_type = self.store.types()[("apiextensions.k8s.io", "customresourcedefinitions")]
        try:
            crd = self.store.get(crd_type, "", f"{rt.plural}.{rt.group}")
        except ApiError:
            return None
        for entry in (crd.get("spec") or {}).get("versions") or []:
            if isinstance(entry, dict) and entry.get("name") == version:
                schema = (entry.get("schema") or {}).get("openAPIV3Schema")
                return copy.deepcopy(schema) if isinstance(schema, dict) else None
        return None

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

    def _type_and_version(self, kind: str, api_version: str | None) -> tuple[ResourceType, str | None]:
        """`_type`, and the version `api_version` names (None: the type's storage version)."""
        return self._type(kind, api_version), api_version.rpartition("/")[2] if api_version else None

    @property
    def resource_version(self) -> int:
        return self.store.rv

    def wait_for_change(self, since: int, timeout: float) -> int:
        """Block until the store's resourceVersion passes `since` (or timeout); returns the current one."""
        return self.store.wait_for_change(since, timeout)

    def get(
        self, kind: str, name: str, namespace: str = "flux-system", api_version: str | None = None
    ) -> JSON | None:
        rt, version = self._type_and_version(kind, api_version)
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
        rt, version = self._type_and_version(kind, api_version)
        return self.store.list(rt, namespace, version, label_selector)[0]

    def put(self, obj: JSON) -> JSON:
        """Create or update from a manifest as `kubectl apply` would (status is left to update_status)."""
        kind = obj.get("kind")
        api_version = obj.get("apiVersion")
        if not isinstance(kind, str) or not isinstance(api_version, str):
            raise ApiError(400, "BadRequest", "object has no kind or apiVersion")
        rt, version = self._type_and_version(kind, api_version)
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
        rt, version = self._type_and_version(kind, api_version)
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
        # Flux's event recorder logs every event it records, so the controller's log tells the same story.
        self.logs.write(component, "info" if event_type == "Normal" else "error", message, obj)
        return created

    def component_running(self, component: str) -> bool:
        """Whether a Flux controller has replicas (`kubectl scale ... --replicas=0` stops it)."""
        deployment = self.get("Deployment", component, FLUX_NAMESPACE, "apps/v1")
        return deployment is not None and workloads.replicas(deployment) > 0
