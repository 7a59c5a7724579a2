"""Which repository and branch Flux syncs: a GitRepository as the cluster has it, compared with the
learner's origin and with the GitRepository their working tree declares.

The working tree's GitRepository (`gotk-sync.yaml`) is what Flux will apply once the file reaches the
branch it deploys; the cluster's is what runs now. They differ after a `kubectl patch`, or while an
edit of the file is not deployed yet. Pure: the callers read the cluster and the repository.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlparse

from lab.core.record import dataclass

DEFAULT_BRANCH = "main"
"""The branch assumed when nothing names one (`flux bootstrap`'s default)."""


def repo_key(url: str) -> str | None:
    """host/path of a forge URL (scheme, user, `.git` and case dropped); None for a local path."""
    text = url.strip()
    scp = re.match(r"^(?:[\w.+-]+@)?([\w.-]+):(?!//)(.+)$", text)
    if scp and "/" not in scp.group(1):
        host, path = scp.group(1), scp.group(2)
    else:
        parsed = urlparse(text)
        if parsed.scheme not in ("http", "https", "ssh", "git") or not parsed.hostname:
            return None
        host, path = parsed.hostname, parsed.path
    path = path.strip("/").removesuffix(".git").strip("/")
    return f"{host.lower()}/{path.lower()}"


def synced_revision(obj: Mapping[str, Any]) -> tuple[str, str] | None:
    """(branch, sha) of the artifact a GitRepository fetched, from `main@sha1:<sha>`."""
    revision = str(((obj.get("status") or {}).get("artifact") or {}).get("revision") or "")
    match = re.match(r"^(?:refs/heads/)?(?P<branch>[^@]+)@sha1:(?P<sha>[0-9a-f]{40})$", revision)
    return (match.group("branch"), match.group("sha")) if match else None


def ref_branch(obj: Mapping[str, Any]) -> str | None:
    """A GitRepository object's `spec.ref.branch`, None when it names none (a tag, a commit...)."""
    spec = obj.get("spec")
    ref = spec.get("ref") if isinstance(spec, Mapping) else None
    branch = ref.get("branch") if isinstance(ref, Mapping) else None
    return branch if isinstance(branch, str) and branch else None


def syncs_repository(obj: Mapping[str, Any], origin_url: str, has_commit: Callable[[str], bool]) -> bool:
    """Whether a cluster's GitRepository follows the repository whose origin is `origin_url`: its URL
    names the same forge repository, or, for a local origin (which no GitRepository can name: the
    sandbox serves it in place of the URL), the commit it fetched is one this repository has."""
    spec = obj.get("spec")
    url = str(spec.get("url") or "") if isinstance(spec, Mapping) else ""
    mine = repo_key(origin_url)
    if mine is not None:
        return mine == repo_key(url)
    synced = synced_revision(obj)
    return synced is not None and has_commit(synced[1])


@dataclass(frozen=True)
class FluxBranch:
    """The branch Flux deploys, from the cluster when it was read, else from the working tree.

    `file_branch`: `spec.ref.branch` of the GitRepository in `file` (the task's sync file), None when
    the file names none or cannot be read. `cluster_branch`: the same field of the cluster's object
    (`name` in `namespace`, read from `cluster`, e.g. "the sandbox"), None when no cluster was read.
    """

    file_branch: str | None = None
    file: str = ""
    cluster_branch: str | None = None
    cluster: str = ""
    name: str = "flux-system"
    namespace: str = "flux-system"

    @property
    def branch(self) -> str:
        return self.cluster_branch or self.file_branch or DEFAULT_BRANCH

    @property
    def source(self) -> str:
        """Where `branch` comes from: "cluster", "file" or "default"."""
        if self.cluster_branch:
            return "cluster"
        return "file" if self.file_branch else "default"

    def mismatch(self) -> str:
        """ "" when the cluster and the working tree agree (or one was not read); else what each says:
        the cluster is what runs now, the file what Flux applies once it is on the deployed branch."""
        if not self.cluster_branch or self.cluster_branch == (self.file_branch or DEFAULT_BRANCH):
            return ""
        said = f"says {self.file_branch}" if self.file_branch else f"names no branch ({DEFAULT_BRANCH})"
        where = f" ({self.cluster})" if self.cluster else ""
        return (
            f"the cluster{where} deploys {self.cluster_branch} now (GitRepository {self.namespace}/{self.name}); "
            f"your {self.file or 'sync file'} {said}, which Flux applies when it next reconciles that file "
            f"from {self.cluster_branch}"
        )


__all__ = ["DEFAULT_BRANCH", "FluxBranch", "ref_branch", "repo_key", "synced_revision", "syncs_repository"]


def no_remote_branch(url: str, branch: str) -> str:
    """go-git's clone error for a branch the remote lacks, as Flux's controllers wrap it (source-controller:
    `failed to checkout and determine revision: ...`; image-automation-controller: `failed to checkout
    source: ...`)."""
    return f"unable to clone '{url}': couldn't find remote ref \"refs/heads/{branch}\""


_NO_REMOTE_REF = re.compile(r"couldn't find remote ref \"refs/heads/([^\"]+)\"")


def fix_for_message(kind: str, message: str) -> str | None:
    """The fix for a Flux object's failure message that names its own cause (a branch origin lacks),
    None for a message that needs reading: the cluster check and `lab why` say the same."""
    missing = _NO_REMOTE_REF.search(message)
    if missing is None:
        return None
    branch = missing.group(1)
    if kind == "ImageUpdateAutomation":
        field = "spec.git.checkout.ref.branch (or, without spec.git.checkout, the GitRepository's spec.ref.branch)"
    else:
        field = "spec.ref.branch"
    return f"origin has no branch {branch}: set {field} to a branch origin has, e.g. {DEFAULT_BRANCH}, or git push origin {branch}"
