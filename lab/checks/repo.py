"""Repository checks: the three files exist and parse (`repo.files`), and Flux will apply them
(`sync.included`: the flux-system Kustomization's path covers them and no kustomization.yaml leaves them out).
"""

from __future__ import annotations

import fnmatch
import posixpath
import time
from dataclasses import replace
from pathlib import PurePosixPath

from lab.checks import check
from lab.checks.context import (
    CheckContext,
    automation_dir,
    automation_files,
    sync_file,
)
from lab.core.checks.model import Evidence, Outcome, and_more
from lab.core.manifests.models import KUSTOMIZATION_NAMES
from lab.errors import LabError


@check("repo.files")
def repo_files(ctx: CheckContext) -> Outcome:
    missing = [f for f in automation_files(ctx) if not ctx.occupied(f)]
    if missing:
        names = ", ".join(PurePosixPath(f).name for f in missing)
        return Outcome.failed(
            f"missing in {automation_dir(ctx)}/: {names}",
            file=missing[0],
            # None: the task's own hint (checks.toml), which knows where its lesson says to write them
            hint=None,
        )
    evidence = []
    unreadable: list[Outcome] = []  # each of them: `lab check -v` lists them all, not only the first
    for rel in automation_files(ctx):
        try:
            docs = ctx.yaml_docs(rel)
        except LabError as err:
            # Not naming `rel` in the message: the report then leads with `rel:line`, which names the
            # line too (a message that names its file is printed without a location).
            unreadable.append(
                Outcome.failed(
                    f"not readable YAML: {err.message.removeprefix('invalid YAML: ')}",
                    file=rel,
                    line=err.line,
                    hint=err.hint or "fix the YAML syntax on that line",
                )
            )
            continue
        mappings = [d for d in docs if isinstance(d.data, dict)]
        if not mappings:
            unreadable.append(
                Outcome.failed(
                    f"{rel} holds no Kubernetes object (empty or not a mapping)",
                    file=rel,
                    hint="write one object with apiVersion, kind, metadata and spec",
                )
            )
            continue
        kinds = ", ".join(str(d.get("kind", "?")) for d in mappings)
        evidence.append(Evidence("file", rel, f"{len(mappings)} object(s): {kinds}"))
    if unreadable:
        first = unreadable[0]
        return replace(
            first,
            message=first.message + and_more(unreadable),
            evidence=tuple(
                Evidence("file", f"{u.file}:{u.line}" if u.line else str(u.file), u.message)
                for u in unreadable
            ),
        )
    from lab.checks.manifests import problems_failure, unowned_problems

    refused = problems_failure(unowned_problems(ctx))
    return refused or Outcome.passed("all three files exist and parse", evidence=evidence)


def _norm(path: str) -> str:
    """A repository-relative path the way Flux reads `spec.path`: './x/' -> 'x', '' or '.' -> ''."""
    cleaned = posixpath.normpath("/" + path.strip()).lstrip("/")
    return "" if cleaned == "." else cleaned


def _kustomization_file(ctx: CheckContext, directory: str) -> str | None:
    for name in KUSTOMIZATION_NAMES:
        rel = posixpath.join(directory, name) if directory else name
        if ctx.exists(rel):
            return rel
    return None


def _is_dir(ctx: CheckContext, rel: str) -> bool:
    try:
        return ctx.path(rel).is_dir() if rel else True
    except LabError:
        return False


class _Excluded(Exception):
    def __init__(self, file: str, line: int | None, message: str, hint: str) -> None:
        super().__init__(message)
        self.file, self.line, self.message, self.hint = file, line, message, hint


def _toward(ctx: CheckContext, directory: str, target: str, depth: int = 0) -> None:
    """Raise `_Excluded` unless kustomize building `directory` would include the file `target`.

    With a kustomization file its `resources` (and the older `bases`, and `components`) must lead to
    `target`; without one, Flux's kustomize-controller generates one over every YAML file below, and a
    sub-directory with its own kustomization file is included as a unit.
    """
    if depth > 20:
        raise _Excluded(target, None, "kustomization files nest too deeply to follow", "simplify the layout")
    kfile = _kustomization_file(ctx, directory)
    if kfile is None:
        rest = PurePosixPath(target).relative_to(directory) if directory else PurePosixPath(target)
        current = directory
        for part in rest.parts[:-1]:
            current = posixpath.join(current, part) if current else part
            if _kustomization_file(ctx, current) is not None:
                _toward(ctx, current, target, depth + 1)
                return
        return
    docs = ctx.yaml_docs(kfile)
    data = docs[0].data if docs and isinstance(docs[0].data, dict) else {}
    entries: list[str] = []
    for key in ("resources", "bases", "components"):
        value = data.get(key) or []
        if isinstance(value, list):
            entries.extend(str(v) for v in value)
    for entry in entries:
        if "://" in entry or entry.startswith(("github.com/", "git@")):
            continue
        resolved = _norm(posixpath.join(directory, entry))
        if resolved == target:
            return
        if resolved and (target.startswith(resolved + "/")) and _is_dir(ctx, resolved):
            if _kustomization_file(ctx, resolved) is None:
                raise _Excluded(
                    kfile,
                    docs[0].line_of("resources") if docs else None,
                    f"{kfile} lists {entry}, a directory without kustomization.yaml, so kustomize fails",
                    f"add {resolved}/kustomization.yaml listing its files",
                )
            _toward(ctx, resolved, target, depth + 1)
            return
    rel_dir = PurePosixPath(target).relative_to(directory) if directory else PurePosixPath(target)
    wanted = rel_dir.parts[0] if len(rel_dir.parts) > 1 else rel_dir.name
    raise _Excluded(
        kfile,
        docs[0].line_of("resources") if docs else None,
        f"{kfile} does not list {wanted} in its resources, so Flux will not apply {target}",
        f"add `- {wanted}` to resources in {kfile}",
    )


def _sourceignored(ctx: CheckContext, target: str) -> str | None:
    if not ctx.exists(".sourceignore"):
        return None
    for raw in ctx.read_text(".sourceignore").splitlines():
        pattern = raw.strip()
        if not pattern or pattern.startswith(("#", "!")):
            continue
        pat = pattern.strip("/")
        parts = PurePosixPath(target).parts
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        if any(fnmatch.fnmatch(p, pat) or fnmatch.fnmatch(PurePosixPath(p).name, pat) for p in prefixes):
            return pattern
    return None


@check("sync.included")
def sync_included(ctx: CheckContext) -> Outcome:
    if not ctx.exists(sync_file(ctx)):
        return Outcome.failed(
            f"{sync_file(ctx)} is missing, so nothing tells Flux what to apply",
            file=sync_file(ctx),
            hint=f"restore it from git (`git checkout -- {posixpath.dirname(sync_file(ctx))}`) "
            "or re-run flux bootstrap",
        )
    docs = ctx.yaml_docs(sync_file(ctx))
    sync = next(
        (
            d
            for d in docs
            if isinstance(d.data, dict)
            and d.get("kind") == "Kustomization"
            and str(d.get("apiVersion", "")).startswith("kustomize.toolkit.fluxcd.io/")
            and d.get("metadata.name") == "flux-system"
        ),
        None,
    )
    if sync is None:
        return Outcome.failed(
            f"{sync_file(ctx)} has no Kustomization named flux-system",
            file=sync_file(ctx),
            hint="restore the file generated by flux bootstrap",
        )
    raw_path = sync.get("spec.path")
    root = _norm(str(raw_path)) if isinstance(raw_path, str) else ""
    shown = raw_path if isinstance(raw_path, str) else "(repository root)"
    evidence = [Evidence("file", f"{sync_file(ctx)}:{sync.line_of('spec.path')}", f"spec.path: {shown}")]
    if root and not (root == automation_dir(ctx) or automation_dir(ctx).startswith(root + "/")):
        return Outcome.failed(
            f"{automation_dir(ctx)} is outside the flux-system Kustomization path {shown}, "
            "so Flux never applies it",
            file=sync_file(ctx),
            line=sync.line_of("spec.path"),
            hint=f"put the image automation files under {shown}",
            evidence=evidence,
        )
    ignored = _sourceignored(ctx, automation_dir(ctx))
    if ignored is not None:
        return Outcome.failed(
            f".sourceignore pattern {ignored} hides {automation_dir(ctx)} from Flux",
            file=".sourceignore",
            hint=f"remove {ignored} from .sourceignore",
            evidence=evidence,
        )
    for target in automation_files(ctx):
        try:
            _toward(ctx, root, target)
        except _Excluded as exc:
            return Outcome.failed(exc.message, file=exc.file, line=exc.line, hint=exc.hint, evidence=evidence)
    failing = _undecodable(ctx, root, shown, evidence) or _cluster_sync_failure(ctx)
    if failing is not None:
        return failing
    return Outcome.passed(
        f"the flux-system Kustomization (path {shown}) applies all three files", evidence=evidence
    )


def _undecodable(ctx: CheckContext, root: str, shown: str, evidence: list[Evidence]) -> Outcome | None:
    """A YAML file under the sync path that kustomize-controller cannot decode while it generates the
    path's kustomization: the build fails, and with it everything under the path, not only that file."""
    from lab.checks.diagnosis import repo_text
    from lab.core.kustomizegen import failure_fix, failure_message, first_undecodable

    text = repo_text(ctx)
    found = first_undecodable(
        text.files, text.yaml, root, ctx.load_yaml, lambda f: _sourceignored(ctx, f) is not None
    )
    if found is None:
        return None
    file, err = found
    return Outcome.failed(
        failure_message(file, err, shown),
        file=file,
        line=err.line,
        hint=failure_fix(file, err),
        evidence=evidence,
    )


SETTLE_SECONDS = 3.0
"""How long sync.included waits for a Kustomization in the middle of a reconcile to say how it ended."""
SETTLE_POLL_SECONDS = 0.2


def _cluster_sync_failure(ctx: CheckContext) -> Outcome | None:
    """What the files say is not all: when a cluster is configured (not --offline), the flux-system
    Kustomization may still fail to apply what was pushed (a v1beta2 object on Flux 2.9, a dry-run
    error) and then nothing of it reaches the cluster. That verdict is the cluster's, shown here."""
    if ctx.offline:
        return None
    from lab.adapters.kubeconfig import default_kubeconfig
    from lab.checks.cluster import PROGRESS_REASONS, client_for
    from lab.errors import ClusterError

    configured = ctx.settings.get("kubeconfig") or default_kubeconfig()
    if not configured:
        return None  # no cluster: the repository's word is all there is (cluster.* say why)
    # kustomize-controller sets Ready=Unknown ("Reconciliation in progress") at the start of every
    # reconcile, a failing one's included: the verdict is the one it writes at the end, a moment later.
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        try:
            obj = client_for(ctx).get("Kustomization", "flux-system")
        except (ClusterError, LabError):
            return None  # unreachable: cluster.controllers reports it
        if not obj:
            return None
        conditions = (obj.get("status") or {}).get("conditions") or []
        ready = next((c for c in conditions if isinstance(c, dict) and c.get("type") == "Ready"), None)
        if ready is None or ready.get("status") != "Unknown" or time.monotonic() >= deadline:
            break
        time.sleep(SETTLE_POLL_SECONDS)
    if ready is None or ready.get("status") != "False" or ready.get("reason") in PROGRESS_REASONS:
        return None
    message = str(ready.get("message") or ready.get("reason") or "not ready")
    revision = str((obj.get("status") or {}).get("lastAttemptedRevision") or "")
    hint = "fix what the message names, commit and push; Flux retries at its next interval"
    if "no matches for kind" in message and "v1beta2" in message:
        hint = _left_of_v1_fix(ctx) or (
            "this Flux serves only image.toolkit.fluxcd.io/v1: write apiVersion: image.toolkit.fluxcd.io/v1 "
            "in the three files (lab generate --api v1 --force), commit and push"
        )
    return Outcome.failed(
        "the flux-system Kustomization fails on the cluster, so none of the pushed files is applied: "
        f"{message}",
        hint=hint,
        evidence=[
            Evidence("cluster", "Kustomization/flux-system/flux-system", f"{ready.get('reason')}: {message}")
        ]
        + ([Evidence("cluster", "lastAttemptedRevision", revision)] if revision else []),
    )


_OLD_IMAGE_API = b"image.toolkit.fluxcd.io/v1beta"


def _left_of_v1_fix(ctx: CheckContext) -> str | None:
    """What is left to do when the working tree already writes the automation files in v1 (the cluster
    still fails on the v1beta2 origin had): commit and push, push, or let Flux fetch it. None while the
    working tree still has an older version, or git cannot say."""
    from lab.checks.gitrepo import fetched_origin

    files = automation_files(ctx)
    try:
        if any(_OLD_IMAGE_API in ctx.read_text(f).encode() for f in files if ctx.exists(f)):
            return None
        origin = fetched_origin(ctx)
        ws = origin.ws

        def old_at(ref: str) -> bool:
            return any(_OLD_IMAGE_API in (ws.show_file(ref, f) or b"") for f in files)

        if old_at("HEAD"):
            return "your files already write image.toolkit.fluxcd.io/v1: commit and push them"
        if origin.sha is None or old_at(origin.ref):
            return "your commit already writes image.toolkit.fluxcd.io/v1: git push"
    except LabError:
        return None
    return (
        f"origin/{origin.branch} already writes image.toolkit.fluxcd.io/v1: Flux applies it at its next "
        "fetch (flux reconcile kustomization flux-system --with-source)"
    )
