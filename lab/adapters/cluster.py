"""The Kubernetes API through the real `kubernetes` client: Flux objects, controllers, served versions.

Every failure becomes a one-line `ClusterError` naming what was attempted (verb, resource, namespace) and a
hint: no kubeconfig, unreachable server, 401, RBAC 403, CRD not served. The client is imported lazily so
`lab --help` and the offline checks never pay for it. Checks treat a ClusterError as status `error`.
"""

from __future__ import annotations

import builtins
import json
import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from lab.adapters.files import not_regular
from lab.adapters.kubeconfig import credential_program, default_kubeconfig, read_kubeconfig
from lab.core.fluxget import Condition, ControllerStatus, rfc3339nano
from lab.core.fluxget import ready_condition as _ready_condition
from lab.core.manifests.models import IMAGE_GROUP, RECONCILE_ANNOTATION
from lab.core.record import dataclass
from lab.core.text import redact_url
from lab.core.yamlerror import explain_yaml_error
from lab.errors import ClusterError, ClusterUnreachable

FIELD_MANAGER = "flux-client-side-apply"
INSTALL_HINT = (
    "install the image controllers: flux install "
    "--components-extra=image-reflector-controller,image-automation-controller "
    "(sandbox: lab sandbox install-image-controllers)"
)


@dataclass(frozen=True)
class KindInfo:
    group: str
    version: str | None  # None: the image group's served version is discovered
    plural: str
    namespaced: bool = True
    core_name: str = (
        ""  # CoreV1Api method stem for the core group ("config_map" -> read_namespaced_config_map)
    )

    def resource(self) -> str:
        return f"{self.plural}.{self.group}" if self.group else self.plural


KINDS: dict[str, KindInfo] = {
    "ImageRepository": KindInfo(IMAGE_GROUP, None, "imagerepositories"),
    "ImagePolicy": KindInfo(IMAGE_GROUP, None, "imagepolicies"),
    "ImageUpdateAutomation": KindInfo(IMAGE_GROUP, None, "imageupdateautomations"),
    "GitRepository": KindInfo("source.toolkit.fluxcd.io", "v1", "gitrepositories"),
    "Kustomization": KindInfo("kustomize.toolkit.fluxcd.io", "v1", "kustomizations"),
    "Deployment": KindInfo("apps", "v1", "deployments"),
    "CustomResourceDefinition": KindInfo("apiextensions.k8s.io", "v1", "customresourcedefinitions", False),
    "Namespace": KindInfo("", "v1", "namespaces", False, "namespace"),
    "ConfigMap": KindInfo("", "v1", "configmaps", True, "config_map"),
    "Secret": KindInfo("", "v1", "secrets", True, "secret"),
    "Event": KindInfo("", "v1", "events", True, "event"),
}


@dataclass(frozen=True)
class FluxInstall:
    """What `flux check` reports under "checking version in cluster" (from the GitRepository CRD's labels)."""

    version: str
    bootstrapped: bool
    managed_by: str = ""

    @property
    def distribution(self) -> str:
        return f"flux-{self.version}" if self.version else ""


def ready_condition(obj: dict[str, Any]) -> Condition | None:
    return _ready_condition(obj)


def _kind_info(kind: str) -> KindInfo:
    info = KINDS.get(kind)
    if info is None:
        raise ClusterError(f"unsupported kind {kind!r}", hint=f"use one of {', '.join(KINDS)}")
    return info


class ClusterClient:
    """A connection to one cluster (one kubeconfig context)."""

    def __init__(
        self, api_client: Any, *, server: str, context: str | None = None, timeout: float = 5.0
    ) -> None:
        self.api_client = api_client
        # Only messages name it, and a kubeconfig's `server` may be https://user:password@host.
        self.server = redact_url(server)
        self.context = context
        self.timeout = timeout
        self._image_versions: list[str] | None = None

    # --- construction ------------------------------------------------------------------------------------

    @classmethod
    def from_kubeconfig(
        cls, path: str | None = None, context: str | None = None, timeout: float = 5.0
    ) -> ClusterClient:
        """From `path` (else $KUBECONFIG, else ~/.kube/config, else in-cluster service account config)."""
        from kubernetes import client, config
        from kubernetes.config.config_exception import ConfigException

        configuration = client.Configuration()
        # One retry: an unreachable cluster must fail within the timeout, not after urllib3's backoff.
        configuration.retries = 1
        source = path or default_kubeconfig()
        program: tuple[str, str, str] | None = None
        try:
            if source is None:
                if not os.environ.get("KUBERNETES_SERVICE_HOST"):
                    raise ClusterError(
                        "no kubeconfig: KUBECONFIG is not set and ~/.kube/config does not exist",
                        hint="start the sandbox with `lab sandbox up` and run `eval $(lab sandbox env)`, "
                        "or point KUBECONFIG at your cluster",
                    )
                try:
                    config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
                except ConfigException as err:
                    raise ClusterError(
                        f"cannot use the in-cluster service account config: {str(err).strip() or type(err).__name__}",
                        hint="run inside a pod with a mounted service account token, or set KUBECONFIG",
                    ) from err
                api_client = client.ApiClient(configuration)
                return cls(api_client, server=configuration.host, context="in-cluster", timeout=timeout)
            for single in source.split(os.pathsep):
                if single and not Path(single).expanduser().exists() and os.pathsep not in source:
                    raise ClusterError(
                        f"kubeconfig {single} does not exist",
                        hint="check KUBECONFIG / --kubeconfig (sandbox: `eval $(lab sandbox env)`)",
                    )
                if single and Path(single).expanduser().exists():
                    data = read_kubeconfig(single)  # what the client then reads: bounded, or a ClusterError
                    if single == source:
                        program = credential_program(data, context)
            with _plugin_errors() as logged:
                api_client = config.new_client_from_config(  # type: ignore[no-untyped-call]
                    config_file=source,
                    context=context,
                    persist_config=False,
                    client_configuration=configuration,
                )
            if logged:
                # The client logs a failed exec plugin and goes on without credentials.
                raise _program_failed(source, program, logged[0])
            # Credentials were fetched just now: a token that says it has expired already must not rerun
            # the program before every request; a watch that outlives a real token (EKS: 15 minutes)
            # still gets a fresh one.
            api_client.configuration.refresh_api_key_hook = _at_most_every(
                api_client.configuration.refresh_api_key_hook, REFRESH_EVERY_S
            )
        except ClusterError:
            raise
        except Exception as err:
            if program is not None and _in_credential_program(err):
                raise _program_failed(str(source), program, _exception_text(err)) from err
            mapped = _config_error(err, str(source), context)
            if mapped is None:
                raise
            raise mapped from err
        return cls(api_client, server=api_client.configuration.host, context=context, timeout=timeout)

    def close(self) -> None:
        self.api_client.close()

    def __enter__(self) -> ClusterClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- error mapping -----------------------------------------------------------------------------------

    def _error(
        self, err: Exception, verb: str, info: KindInfo | None, namespace: str | None, name: str | None = None
    ) -> ClusterError:
        from kubernetes.client.exceptions import ApiException

        resource = info.resource() if info else "the API"
        target = f"{resource} {name!r}" if name else resource
        where = f" in namespace {namespace}" if namespace else ""
        if not isinstance(err, ApiException) or not err.status:
            reason = _network_reason(err)
            return ClusterUnreachable(
                f"cannot reach the Kubernetes API at {self.server}: {reason}",
                hint="is the cluster running? start the sandbox with `lab sandbox up`, "
                "or check KUBECONFIG and --context",
                timed_out=reason == "timed out",
            )
        message = _status_message(err)
        if err.status == 401:
            return ClusterError(
                f"the Kubernetes API at {self.server} rejected the credentials (401 Unauthorized) "
                f"when trying to {verb} {target}{where}",
                hint="refresh the credentials (expired token?) or pick another context with --context",
            )
        if err.status == 403:
            return ClusterError(
                f"forbidden: cannot {verb} {target}{where}: {message}",
                hint=f"ask for RBAC permission to {verb} {resource}{where} "
                "(e.g. a RoleBinding to the flux-view ClusterRole)",
            )
        if err.status == 404 and info is not None:
            return ClusterError(
                f"{resource} is not served by the cluster at {self.server}: the CRD is not installed",
                hint=INSTALL_HINT
                if info.group == IMAGE_GROUP
                else "install Flux: flux install (or bootstrap)",
            )
        return ClusterError(f"cannot {verb} {target}{where}: {err.status} {err.reason}: {message}")

    def _call(
        self,
        verb: str,
        info: KindInfo | None,
        namespace: str | None,
        name: str | None,
        fn: Any,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        try:
            return fn(*args, _request_timeout=self.timeout, **kwargs)
        except ClusterError:
            raise
        except Exception as err:
            raise self._error(err, verb, info, namespace, name) from err

    # --- discovery ---------------------------------------------------------------------------------------

    def server_version(self) -> str:
        from kubernetes import client

        info = self._call("get", None, None, None, client.VersionApi(self.api_client).get_code)
        return str(info.git_version)

    def served_image_api_versions(self) -> list[str]:
        """image.toolkit.fluxcd.io versions served, preferred first; [] when the image CRDs are absent."""
        if self._image_versions is None:
            from kubernetes import client

            groups = self._call("get", None, None, None, client.ApisApi(self.api_client).get_api_versions)
            versions: list[str] = []
            for group in groups.groups or []:
                if group.name == IMAGE_GROUP:
                    preferred = group.preferred_version.version if group.preferred_version else None
                    versions = [v.version for v in group.versions or []]
                    if preferred in versions:
                        versions.remove(preferred)
                        versions.insert(0, preferred)
            self._image_versions = versions
        return list(self._image_versions)

    def served_image_api(self) -> str | None:
        """The version the lab should write: v1 when served, else v1beta2, else None (not installed)."""
        served = self.served_image_api_versions()
        for version in ("v1", "v1beta2"):
            if version in served:
                return version
        return None

    def _version(self, kind: str, info: KindInfo) -> str:
        if info.version is not None:
            return info.version
        version = self.served_image_api()
        if version is None:
            raise ClusterError(
                f"{kind} ({info.resource()}) is not served by the cluster at {self.server}: "
                "the image controllers are not installed",
                hint=INSTALL_HINT,
            )
        return version

    # --- objects -----------------------------------------------------------------------------------------

    def _custom(self) -> Any:
        from kubernetes import client

        return client.CustomObjectsApi(self.api_client)

    def _core_get(self, info: KindInfo, namespace: str, name: str) -> Any:
        from kubernetes import client

        core = client.CoreV1Api(self.api_client)
        if info.namespaced:
            fn = getattr(core, f"read_namespaced_{info.core_name}")
            resp = fn(name, namespace, _preload_content=False, _request_timeout=self.timeout)
        else:
            fn = getattr(core, f"read_{info.core_name}")
            resp = fn(name, _preload_content=False, _request_timeout=self.timeout)
        return json.loads(resp.data)

    def _core_list(self, info: KindInfo, namespace: str | None, **kwargs: Any) -> Any:
        from kubernetes import client

        core = client.CoreV1Api(self.api_client)
        if not info.namespaced:
            fn = getattr(core, f"list_{info.core_name}")
            resp = fn(_preload_content=False, **kwargs)
        elif namespace is None:
            fn = getattr(core, f"list_{info.core_name}_for_all_namespaces")
            resp = fn(_preload_content=False, **kwargs)
        else:
            fn = getattr(core, f"list_namespaced_{info.core_name}")
            resp = fn(namespace, _preload_content=False, **kwargs)
        return json.loads(resp.data)

    def wait_reconciled(
        self,
        kind: str,
        name: str,
        namespace: str,
        requested_at: str,
        timeout: float = 60.0,
        poll: float = 0.5,
    ) -> dict[str, Any]:
        """Poll until the object's `status.lastHandledReconcileAt` equals `requested_at` (like `flux reconcile`).

        Returns the object; ClusterError when it vanished or the controller did not answer within `timeout`.
        """
        deadline = time.monotonic() + timeout
        while True:
            obj = self.get(kind, name, namespace)
            if obj is None:
                raise ClusterError(f"{kind} {namespace}/{name} not found while waiting for reconciliation")
            if (obj.get("status") or {}).get("lastHandledReconcileAt") == requested_at:
                return obj
            if time.monotonic() >= deadline:
                raise ClusterError(
                    f"{kind} {namespace}/{name} was not reconciled within {timeout:g}s",
                    hint="is the controller running? check `lab flux check` / `kubectl get deploy -n flux-system`",
                )
            time.sleep(poll)

    def get(self, kind: str, name: str, namespace: str = "flux-system") -> dict[str, Any] | None:
        """The object as a dict, or None when it does not exist. ClusterError when the kind is not served."""
        from kubernetes.client.exceptions import ApiException

        info = _kind_info(kind)
        version = self._version(kind, info)
        api = self._custom()
        try:
            if info.group == "":
                obj = self._core_get(info, namespace, name)
            elif info.namespaced:
                obj = api.get_namespaced_custom_object(
                    info.group, version, namespace, info.plural, name, _request_timeout=self.timeout
                )
            else:
                obj = api.get_cluster_custom_object(
                    info.group, version, info.plural, name, _request_timeout=self.timeout
                )
        except ApiException as err:
            if err.status == 404 and _is_object_not_found(err, name):
                return None
            raise self._error(err, "get", info, namespace if info.namespaced else None, name) from err
        except Exception as err:
            raise self._error(err, "get", info, namespace if info.namespaced else None, name) from err
        return dict(obj)

    def list(
        self, kind: str, namespace: str | None = "flux-system", label_selector: str | None = None
    ) -> list[dict[str, Any]]:
        """Objects of `kind` in `namespace` (None: all namespaces), optionally filtered by labels."""
        info = _kind_info(kind)
        version = self._version(kind, info)
        api = self._custom()
        kwargs: dict[str, Any] = {}
        if label_selector:
            kwargs["label_selector"] = label_selector
        if info.group == "":
            result = self._call("list", info, namespace, None, self._core_list, info, namespace, **kwargs)
        elif info.namespaced and namespace is not None:
            result = self._call(
                "list",
                info,
                namespace,
                None,
                api.list_namespaced_custom_object,
                info.group,
                version,
                namespace,
                info.plural,
                **kwargs,
            )
        else:
            result = self._call(
                "list",
                info,
                None,
                None,
                api.list_cluster_custom_object,
                info.group,
                version,
                info.plural,
                **kwargs,
            )
        items = result.get("items") or []
        for item in items:
            # List items from built-in types omit apiVersion/kind; callers format and compare whole objects.
            item.setdefault("apiVersion", f"{info.group}/{version}")
            item.setdefault("kind", kind)
        return [dict(i) for i in items]

    def watch(
        self,
        kind: str,
        namespace: str | None = "flux-system",
        *,
        name: str | None = None,
        timeout: float = 300.0,
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        """(event type, object) of a watch on a custom kind: ADDED for what exists, then each change, until
        `timeout` seconds have passed (the server closes the stream). `name` narrows it like flux's
        `metadata.name` field selector."""
        import kubernetes.watch

        kwatch: Any = kubernetes.watch  # untyped library
        info = _kind_info(kind)
        version = self._version(kind, info)
        api = self._custom()
        kwargs: dict[str, Any] = {"timeout_seconds": max(1, int(timeout))}
        if name:
            kwargs["field_selector"] = f"metadata.name={name}"
        if info.namespaced and namespace is not None:
            fn: Any = api.list_namespaced_custom_object
            args: tuple[Any, ...] = (info.group, version, namespace, info.plural)
        else:
            fn = api.list_cluster_custom_object
            args = (info.group, version, info.plural)
        stream = kwatch.Watch()
        try:
            for event in stream.stream(fn, *args, **kwargs):
                obj = event.get("object")
                if isinstance(obj, dict):
                    yield str(event.get("type", "")), obj
        except Exception as err:
            raise self._error(err, "watch", info, namespace, name) from err
        finally:
            stream.stop()

    def controllers(self, namespace: str = "flux-system") -> builtins.list[ControllerStatus]:
        """Deployments labelled app.kubernetes.io/part-of=flux, as `flux check` lists them."""
        out = []
        for dep in self.list("Deployment", namespace, label_selector="app.kubernetes.io/part-of=flux"):
            spec = dep.get("spec") or {}
            status = dep.get("status") or {}
            meta = dep.get("metadata") or {}
            containers = ((spec.get("template") or {}).get("spec") or {}).get("containers") or []
            images = tuple(str(c.get("image", "")) for c in containers)
            wanted = int(spec.get("replicas", 1))
            ready = int(status.get("readyReplicas") or 0)
            updated = int(status.get("updatedReplicas") or 0)
            current_gen = int(status.get("observedGeneration") or 0) >= int(meta.get("generation") or 0)
            available = any(
                c.get("type") == "Available" and c.get("status") == "True"
                for c in status.get("conditions") or []
            )
            ok = current_gen and ready >= wanted and updated >= wanted and (available or wanted == 0)
            message = "deployment ready" if ok else f"deployment not ready ({ready}/{wanted} ready)"
            out.append(ControllerStatus(str(meta.get("name", "")), ok, images, message))
        return sorted(out, key=lambda c: c.name)

    def flux_crds(self) -> builtins.list[str]:
        """`<plural>.<group>/<last stored version>` for CRDs labelled part-of=flux (flux check's list)."""
        crds = self.list("CustomResourceDefinition", None, label_selector="app.kubernetes.io/part-of=flux")
        out = []
        for crd in crds:
            stored = (crd.get("status") or {}).get("storedVersions") or []
            name = (crd.get("metadata") or {}).get("name", "")
            out.append(f"{name}/{stored[-1]}" if stored else str(name))
        return sorted(out)

    def flux_install(self) -> FluxInstall | None:
        """Flux's version and bootstrap state as flux2 reads them; None when Flux is not installed."""
        crd = self.get("CustomResourceDefinition", "gitrepositories.source.toolkit.fluxcd.io", "")
        if crd is None:
            return None
        labels = (crd.get("metadata") or {}).get("labels") or {}
        return FluxInstall(
            version=str(labels.get("app.kubernetes.io/version", "")),
            bootstrapped="kustomize.toolkit.fluxcd.io/namespace" in labels,
            managed_by=str(labels.get("app.kubernetes.io/managed-by", "")),
        )

    @staticmethod
    def ready_condition(obj: dict[str, Any]) -> Condition | None:
        return _ready_condition(obj)

    def request_reconcile(self, kind: str, name: str, namespace: str = "flux-system") -> str:
        """Annotate like `flux reconcile`: reconcile.fluxcd.io/requestedAt=<RFC3339Nano now>; returns it."""
        info = _kind_info(kind)
        version = self._version(kind, info)
        stamp = rfc3339nano(time.time_ns())
        body = {"metadata": {"annotations": {RECONCILE_ANNOTATION: stamp}}}
        api = self._custom()
        try:
            api.patch_namespaced_custom_object(
                info.group,
                version,
                namespace,
                info.plural,
                name,
                body,
                field_manager=FIELD_MANAGER,
                _content_type="application/merge-patch+json",
                _request_timeout=self.timeout,
            )
        except Exception as err:
            from kubernetes.client.exceptions import ApiException

            if isinstance(err, ApiException) and err.status == 404 and _is_object_not_found(err, name):
                raise ClusterError(
                    f"{kind} {namespace}/{name} not found",
                    hint=f"list them with `kubectl get {info.plural} -n {namespace}`",
                ) from err
            raise self._error(err, "patch", info, namespace, name) from err
        return stamp


def _status_body(err: Any) -> dict[str, Any]:
    try:
        body = json.loads(err.body or "")
    except (TypeError, ValueError):
        return {}
    return body if isinstance(body, dict) else {}


def _status_message(err: Any) -> str:
    body = _status_body(err)
    message = body.get("message") or err.reason or ""
    return str(message).strip().splitlines()[0] if message else ""


def _is_object_not_found(err: Any, name: str) -> bool:
    """A 404 about the object (Status with details.name), not about the resource path (CRD not served)."""
    body = _status_body(err)
    details = body.get("details") or {}
    return body.get("reason") == "NotFound" and details.get("name") == name


#: How often a client may rerun its kubeconfig's credential program to refresh a token.
REFRESH_EVERY_S = 60.0
_clock = time.monotonic  # the refresh limit's (a test moves it on)


def _at_most_every(hook: Any, seconds: float) -> Any:
    """The client's token refresh `hook`, run at most once every `seconds` (the first time only after
    `seconds`: the client was made with fresh credentials); None stays None."""
    if hook is None:
        return None
    last = [_clock()]

    def limited(configuration: Any) -> None:
        if _clock() - last[0] >= seconds:
            last[0] = _clock()
            hook(configuration)
            # The client's hook sets itself again as it refreshes (kube_config._set_config): stay on top.
            configuration.refresh_api_key_hook = limited

    return limited


def _config_error(err: Exception, source: str, context: str | None) -> ClusterError | None:
    """The one-line ClusterError of a kubeconfig the client could not use; None for an error of another kind."""
    import yaml
    from kubernetes.config.config_exception import ConfigException

    if isinstance(err, ConfigException):
        what = f"context {context!r} in kubeconfig {source}" if context else f"kubeconfig {source}"
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        hint = "list contexts with `kubectl config get-contexts` and pass one with --context"
        named = first.removeprefix("File does not exist: ")
        if named != first and not_regular(Path(named)) not in (None, "not found"):
            # The client says "does not exist" of /dev/zero or a FIFO too.
            first = f"{named} is {not_regular(Path(named))}, not a regular file"
            hint = f"point the kubeconfig's field that names {named} at a regular file"
        return ClusterError(f"cannot use {what}: {first}", hint=hint)
    if isinstance(err, OSError | ValueError):
        return ClusterError(f"cannot read kubeconfig {source}: {err}", hint="check the file")
    if isinstance(err, TypeError | AttributeError | KeyError | IndexError | yaml.YAMLError):
        # The client assumes a mapping of lists: any other YAML (or none) fails deep inside it.
        what = "not a kubeconfig"
        if isinstance(err, yaml.YAMLError):
            # The client read the file itself: positions and the problem, without its text.
            what = f"not valid YAML: {explain_yaml_error(err, '').text()}"
        return ClusterError(
            f"kubeconfig {source} is {what}",
            hint="a kubeconfig is a YAML mapping with clusters, contexts and users (`kubectl config view`)",
        )
    return None


#: The kubernetes client's functions that run a kubeconfig's credential program (exec plugin, gcp cmd-path).
_PROGRAM_FRAMES = frozenset({"_load_from_exec_plugin", "_refresh_gcp_token"})
_LOGGING = threading.Lock()


def _in_credential_program(err: BaseException) -> bool:
    tb = err.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_name in _PROGRAM_FRAMES:
            return True
        tb = tb.tb_next
    return False


class _Collect(logging.Handler):
    def __init__(self, into: list[str]) -> None:
        super().__init__(logging.ERROR)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        if record.funcName in _PROGRAM_FRAMES:
            self.into.append(record.getMessage())


@contextmanager
def _plugin_errors() -> Iterator[list[str]]:
    """The errors the kubernetes client logs (to the root logger, which it would configure to print
    "ERROR:root:..." on stderr) while it runs an exec plugin: the plugin's failure, to report as one line."""
    logged: list[str] = []
    handler = _Collect(logged)
    root = logging.getLogger()
    with _LOGGING:
        root.addHandler(handler)
        try:
            yield logged
        finally:
            root.removeHandler(handler)


def _exception_text(err: Exception) -> str:
    if isinstance(err, KeyError | TypeError):
        return "its output has no credential (credential.access_token and credential.token_expiry)"
    return str(err)


def _program_failed(source: str, program: tuple[str, str, str] | None, reason: str) -> ClusterError:
    """A credential program's failure, naming the kubeconfig, its user and the program: the client's
    own words ("exec: failed to decode process output") name none of them."""
    user, kind, command = program if program is not None else ("?", "credential program", "")
    said = " ".join(reason.split())  # the client's messages span lines (Cmd:, Stderr:)
    said = said.removeprefix("exec: ").removeprefix("cmd-path: ")
    for theirs, ours in (
        ("failed to decode process output: ", "its output is not JSON: "),
        ("process returned ", "exited with "),
    ):
        said = said.replace(theirs, ours, 1) if said.startswith(theirs) else said
    said = said.split(" Cmd: ", 1)[0] + (f": {said.split(' Stderr: ', 1)[1]}" if " Stderr: " in said else "")
    return ClusterError(
        f"the kubeconfig's user {user!r} ({source}): its {kind}{' ' + command if command else ''} failed: "
        f"{said[:300]}",
        hint=f"run {command or 'the program'} yourself to see why (as kubectl would), or pick another "
        "context with --context",
    )


def _network_reason(err: Exception) -> str:
    text = str(err)
    for needle, reason in (
        ("Connection refused", "connection refused"),
        ("timed out", "timed out"),
        ("Name or service not known", "unknown host"),
        ("nodename nor servname", "unknown host"),
        ("CERTIFICATE_VERIFY_FAILED", "TLS certificate not trusted"),
    ):
        if needle in text:
            return reason
    return text.strip().splitlines()[0][:200] if text.strip() else type(err).__name__
