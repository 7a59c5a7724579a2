"""Credentials from a Docker config file and from a Kubernetes `dockerconfigjson` Secret.

Two lookups, because the two tools differ:
- the Docker config file (`docker login`) is matched like docker/cli: exact key, else the key reduced
  to its host name; Docker Hub's key is `https://index.docker.io/v1/`;
- a Secret named by an ImageRepository's `secretRef` is matched like Flux (ggcr's Kubernetes keychain):
  per-label globs, same port, key path a prefix of the image path. A key `docker.io` does not match
  `index.docker.io/library/nginx`, which is why a Secret created that way is silently unused.

`credsStore`/`credHelpers` name programs that keep the secret in an OS keychain; the lab does not run
them, it says which one would have been needed.
"""

from __future__ import annotations

import base64
import binascii
import fnmatch
import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from lab.adapters.registry.auth import Credentials
from lab.adapters.registry.names import DOCKER_HUB
from lab.core.record import dataclass
from lab.errors import RegistryError

MAX_CONFIG_BYTES = 1 << 20
DOCKER_HUB_CONFIG_KEY = "https://index.docker.io/v1/"


@dataclass(frozen=True)
class CredentialLookup:
    """Result of a lookup: credentials, or the helper that holds them, or nothing."""

    credentials: Credentials | None = None
    helper: str = ""
    helper_field: str = ""  # "credHelpers" or "credsStore"
    source: str = ""
    near_miss: str = ""  # a key that looks meant for this host but is not used (e.g. `docker.io`)


def default_config_path() -> Path:
    base = os.environ.get("DOCKER_CONFIG")
    if base:
        return Path(base).expanduser() / "config.json"
    return Path.home() / ".docker" / "config.json"


def _decode_auth(value: str, where: str) -> tuple[str, str]:
    text = value.strip()
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), validate=False)
        decoded = raw.decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise RegistryError(
            f"{where}: field auth is not base64 of user:password",
            hint="regenerate it with `docker login` or `echo -n user:pass | base64`",
        ) from None
    user, sep, password = decoded.partition(":")
    if not sep:
        raise RegistryError(
            f"{where}: field auth decodes to text without ':' (expected user:password)",
            hint="regenerate it with `docker login` or `echo -n user:pass | base64`",
        )
    return user, password


def _entry_credentials(entry: Any, where: str) -> Credentials | None:
    if not isinstance(entry, dict):
        raise RegistryError(f"{where}: expected an object with auth or username/password")
    auth = entry.get("auth")
    if isinstance(auth, str) and auth:
        user, password = _decode_auth(auth, where)
        return Credentials(username=user, password=password, source=where)
    username = entry.get("username") or ""
    password = entry.get("password") or ""
    identity = entry.get("identitytoken") or ""
    registry_token = entry.get("registrytoken") or ""
    fields = (username, password, identity, registry_token)
    if not all(isinstance(v, str) for v in fields):
        raise RegistryError(f"{where}: username/password/identitytoken must be strings")
    creds = Credentials(
        username=str(username),
        password=str(password),
        identity_token=str(identity),
        registry_token=str(registry_token),
        source=where,
    )
    return None if creds.empty else creds


def _hostname_of_key(key: str) -> str:
    # docker/cli ConvertToHostname: strip scheme and any path.
    text = key
    for prefix in ("http://", "https://"):
        if text.startswith(prefix):
            text = text[len(prefix) :]
            break
    return text.split("/", 1)[0]


def _load_json(data: bytes, where: str) -> dict[str, Any]:
    if len(data) > MAX_CONFIG_BYTES:
        raise RegistryError(f"{where}: larger than {MAX_CONFIG_BYTES // 1024} KiB, not a Docker config")
    try:
        doc = json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError) as err:  # also too-deep nesting and over-long integers
        line = getattr(err, "lineno", None)
        where_line = f" (line {line})" if line else ""
        raise RegistryError(
            f"{where}: not valid JSON{where_line}", hint="check the file with `python -m json.tool FILE`"
        ) from None
    if not isinstance(doc, dict):
        raise RegistryError(f"{where}: expected a JSON object")
    return doc


class DockerConfig:
    """A parsed `config.json`; `lookup(host)` finds credentials as the Docker CLI does."""

    def __init__(self, doc: dict[str, Any], path: str) -> None:
        self.path = path
        auths = doc.get("auths") or {}
        if not isinstance(auths, dict):
            raise RegistryError(f"{path}: field auths must be an object")
        self._auths: dict[str, Any] = auths
        helpers = doc.get("credHelpers") or {}
        self._cred_helpers: dict[str, str] = (
            {str(k): str(v) for k, v in helpers.items()} if isinstance(helpers, dict) else {}
        )
        store = doc.get("credsStore") or ""
        self._creds_store = store if isinstance(store, str) else ""

    def __repr__(self) -> str:
        return f"DockerConfig({self.path!r}, {len(self._auths)} auths)"

    @classmethod
    def load(cls, path: Path | None) -> DockerConfig:
        """The file at `path` (a file or a directory holding config.json); default location if None."""
        explicit = path is not None
        target = path if path is not None else default_config_path()
        if target.is_dir():
            target = target / "config.json"
        try:
            data = target.read_bytes()
        except FileNotFoundError:
            if explicit:
                raise RegistryError(
                    f"registry config {target} does not exist",
                    hint="pass a Docker config.json written by `docker login`",
                ) from None
            return cls({}, str(target))
        except OSError as err:
            raise RegistryError(f"cannot read registry config {target}: {err.strerror}") from None
        return cls(_load_json(data, str(target)), str(target))

    def _find_entry(self, host: str) -> tuple[str, Any] | None:
        wanted = [DOCKER_HUB_CONFIG_KEY, DOCKER_HUB] if host == DOCKER_HUB else [host]
        for key in wanted:
            if key in self._auths:
                return key, self._auths[key]
        for key, entry in self._auths.items():
            if _hostname_of_key(key) == host:
                return key, entry
        return None

    def lookup(self, host: str) -> CredentialLookup:
        helper = self._cred_helpers.get(host, "")
        if not helper and host == DOCKER_HUB:
            helper = self._cred_helpers.get(DOCKER_HUB_CONFIG_KEY, "")
        if helper:
            return CredentialLookup(helper=helper, helper_field="credHelpers", source=self.path)
        found = self._find_entry(host)
        creds = None
        if found is not None:
            key, entry = found
            creds = _entry_credentials(entry, f"{self.path}: auths[{key!r}]")
        if creds is not None:
            return CredentialLookup(credentials=creds, source=self.path)
        if self._creds_store:
            return CredentialLookup(helper=self._creds_store, helper_field="credsStore", source=self.path)
        near = ""
        if host == DOCKER_HUB:
            for key in self._auths:
                if _hostname_of_key(key) in ("docker.io", "registry-1.docker.io"):
                    near = key
        return CredentialLookup(source=self.path, near_miss=near)


@dataclass(frozen=True)
class _KeyEntry:
    key: str
    host_labels: tuple[str, ...]
    port: str
    path: str
    credentials: Credentials


def _split_key(key: str) -> tuple[tuple[str, ...], str, str]:
    value = key if key.startswith(("http://", "https://")) else "https://" + key
    parts = urlsplit(value)
    path = parts.path
    if path.startswith(("/v1/", "/v2/")):
        path = path[3:]
    if path == "/":
        path = ""
    netloc = parts.netloc
    host, _, port = netloc.partition(":")
    return tuple(host.split(".")), port, path


class Keychain:
    """Credentials from `dockerconfigjson`/`dockercfg` Secrets, matched like Flux's Kubernetes keychain."""

    def __init__(self, entries: list[_KeyEntry], source: str) -> None:
        # Longer (more specific) keys first, as the Kubernetes keyring sorts them.
        self._entries = sorted(entries, key=lambda e: e.key, reverse=True)
        self.source = source

    def __repr__(self) -> str:
        return f"Keychain({self.source!r}, keys={[e.key for e in self._entries]})"

    @property
    def keys(self) -> list[str]:
        return [e.key for e in self._entries]

    def match(self, target: str) -> Credentials | None:
        """Credentials for `host[:port]/path` (e.g. `index.docker.io/library/nginx`), or None."""
        labels, port, path = _split_key(target)
        for entry in self._entries:
            if len(entry.host_labels) != len(labels) or entry.port != port:
                continue
            if not all(fnmatch.fnmatchcase(t, g) for g, t in zip(entry.host_labels, labels, strict=True)):
                continue
            if not path.startswith(entry.path):
                continue
            return entry.credentials
        return None

    def lookup(self, host: str, repository: str = "") -> CredentialLookup:
        creds = self.match(f"{host}/{repository}" if repository else host)
        return CredentialLookup(credentials=creds, source=self.source)


def credentials_from_dockerconfigjson(secret_data: bytes, *, source: str = "secret") -> Keychain:
    """Parse a Secret's `.dockerconfigjson` (`{"auths": {...}}`) or `.dockercfg` (bare map) value.

    `secret_data` is the decoded value (what `kubectl get secret -o jsonpath` + base64 -d prints).
    """
    doc = _load_json(secret_data, source)
    auths = doc.get("auths") if "auths" in doc else doc
    if not isinstance(auths, dict):
        raise RegistryError(f"{source}: field auths must be an object")
    entries: list[_KeyEntry] = []
    for key, entry in auths.items():
        creds = _entry_credentials(entry, f"{source}: auths[{key!r}]")
        if creds is None:
            continue
        labels, port, path = _split_key(str(key))
        entries.append(_KeyEntry(str(key), labels, port, path, creds))
    return Keychain(entries, source)
