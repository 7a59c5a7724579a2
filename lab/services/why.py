"""`lab why`: gather the facts `lab.core.why` judges - the repository, tags, a live cluster, origin.

Live status comes from the cluster --kubeconfig, $KUBECONFIG or ~/.kube/config names, or from the running
sandbox when the workspace is the sandbox's practice repository. Without one the chain is reasoned offline from the
repository and the registry's tags; `offline=True` (or an unreachable registry, for images the lab bundles)
uses the bundled tag list instead of the network.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from lab.core.diagnose import Inputs, diagnose, norm_path, under
from lab.core.manifests.models import AutomationSet
from lab.core.why import Facts, Link, Live, Origin, Report, ScanFailure, walk
from lab.errors import LabError, RegistryError, registry_unreachable

if TYPE_CHECKING:
    from lab.adapters.repotext import RepoText
    from lab.core.tasktexts import Task
    from lab.services.sandbox import SandboxInfo


def _bundled_tags(image: str, task: Task) -> list[str] | None:
    from lab.adapters.tagsfile import read_tags
    from lab.services.simulate import bundled_snapshot

    found = bundled_snapshot(image, task)
    return read_tags(found[0]) if found is not None else None


def _scanned_image(aset: AutomationSet, task: Task) -> str | None:
    """The image a tags file lists: the task's ImageRepository (`scanned_repository`, as `lab check
    --tags-file` reads it), else the repository's first ImageRepository."""
    from lab.core.scan import scanned_repository
    from lab.services.tasks import task_automation_files

    found = scanned_repository(aset.repositories, task_automation_files(task), task.meta.images)
    if found is None:
        found = next((r for r in aset.repositories if r.image), None)
    return found.image if found is not None else None


def _tags(
    aset: AutomationSet, *, offline: bool, tags_file: Path | None, task: Task
) -> tuple[dict[str, list[str]] | None, str, dict[str, ScanFailure]]:
    """(image -> raw tags, where they came from, image -> scan error). A tags file lists the tags of the
    task's image alone (`lab.core.scan.tags_origin`, as `lab check`): every other image is judged by the
    task's bundled list of it, or not at all when the task bundles none (never by another image's tags)."""
    from lab.adapters.tagsfile import read_tags
    from lab.core.scan import tags_origin

    images = sorted({r.image for r in aset.repositories if r.image})
    if not images:
        return None, "no ImageRepository", {}
    out: dict[str, list[str]] = {}
    errors: dict[str, ScanFailure] = {}
    sources: set[str] = set()
    bundled_names: list[str] = []  # said once, as one list
    scanned = _scanned_image(aset, task) if tags_file is not None else None
    for image in images:
        origin = tags_origin(image, scanned=scanned, tags_file=tags_file is not None)
        if origin == "tags file":
            assert tags_file is not None
            out[image] = read_tags(tags_file)
            sources.add(f"tags file {tags_file.name}")
            continue
        if origin == "registry" and not offline:
            try:
                from lab.adapters.registry import RegistryClient

                with RegistryClient() as client:
                    listed = list(client.list_tags(image).tags)
                    basic = client.answered_basic(image)
                if basic and any(r.secret_ref is None for r in aset.repositories if r.image == image):
                    # Read with the Docker config's credentials, which Flux never reads: its scan
                    # without spec.secretRef is anonymous, and refused.
                    errors[image] = ScanFailure(
                        f"the registry requires credentials (Basic auth) and the ImageRepository has no "
                        f"spec.secretRef: Flux's anonymous scan gets 401 Unauthorized (with your Docker "
                        f"config's credentials it lists {len(listed)} tags)",
                        "give Flux the credentials in a Secret (flux create secret oci, or kubectl create "
                        "secret docker-registry) and name it in spec.secretRef",
                    )
                    continue
                out[image] = listed
                sources.add("the registry")
                continue
            except LabError as err:
                from lab.adapters.registry.client import scan_failed

                # Flux's ImageRepository fails its scan whether the registry answered no (401, 429,
                # 500) or could not be reached: the scan link breaks either way. Only for the second
                # does the task's snapshot stand in, for the policy link.
                flux = scan_failed(err) if isinstance(err, RegistryError) else ""
                bundled = _bundled_tags(image, task)
                if bundled is None or not registry_unreachable(err):
                    errors[image] = ScanFailure(err.message, err.hint or "", flux)
                    continue
                hint = f"{err.hint}; " if err.hint else ""
                errors[image] = ScanFailure(
                    err.message,
                    f"{hint}lab why --offline reasons on the task's bundled tags",
                    flux,
                    unreachable=True,
                )
                out[image] = bundled
                sources.add("bundled tags, the registry being unreachable")
                continue
        bundled = _bundled_tags(image, task)
        if bundled is not None:
            out[image] = bundled
            found = task.image(image)
            when = f" as of {found.snapshot}" if found is not None and found.snapshot else ""
            bundled_names.append(f"{found.name if found else image}{when}")
    if bundled_names:
        sources.add("bundled tags: " + ", ".join(sorted(bundled_names)))
    return (out or None), ", ".join(sorted(sources)) or "no tags", errors


def _newest(tags: Mapping[str, Sequence[str]] | None, task: Task) -> dict[str, tuple[str, ...]]:
    """image -> the tags the sandbox published last: of the task's dated publications (its images'
    `events` file, which `lab sandbox push-tag` follows), the latest one the registry serves. Only for
    the sandbox's registry: a real one serves every publication, whatever the learner just saw."""
    import json

    out: dict[str, tuple[str, ...]] = {}
    for image, served in (tags or {}).items():
        found = task.image(image)
        if found is None or found.events is None:
            continue
        try:
            events = json.loads(task.image_file(found.events).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        present = set(served)
        for event in reversed(events if isinstance(events, list) else []):
            batch = [str(t) for t in (event.get("tags") or []) if str(t) in present]
            if batch:
                out[image] = tuple(batch)
                break
    return out


def _in_sandbox(workspace: Path, running: SandboxInfo | None) -> bool:
    """The tags came from the running sandbox's registry (this process asks it: not a real registry a
    kubeconfig of the learner's goes with), and the workspace is its practice repository: its registry
    follows the task's dated publications, so the latest one it serves is the tags it published last."""
    from lab.services import sandbox

    info = sandbox.serving(running)
    return info is not None and sandbox.holds(info, workspace)


def _live(kubeconfig: str | None, context: str | None, where: str) -> Live:
    from lab.adapters.cluster import ClusterClient

    try:
        with ClusterClient.from_kubeconfig(kubeconfig, context) as client:
            controllers = tuple(client.controllers())
            served = client.served_image_api()
            objects: dict[str, list[dict[str, object]]] = {}
            if served is not None:
                for kind in ("ImageRepository", "ImagePolicy", "ImageUpdateAutomation"):
                    objects[kind] = client.list(kind, None)
            try:
                # What applies the learner's objects: when it fails, that is why they are not there.
                objects["Kustomization"] = client.list("Kustomization", "flux-system")
            except LabError:
                pass  # a cluster without kustomize-controller: the image links say what they can
            return Live(where, controllers, served, objects)
    except LabError as err:
        return Live(where, error=err.message)


def _origin(workspace: Path, aset: AutomationSet, paths: Sequence[str], offline: bool) -> Origin:
    from lab.adapters.git import open_workspace

    try:
        ws = open_workspace(workspace)
    except LabError as err:
        return Origin("main", reachable=False, error=err.message)
    local = ws.branch() or "main"
    iua = aset.automations[0] if aset.automations else None
    git_repo = aset.git_repository(*iua.source_key) if iua is not None else None
    push_branch = (iua.effective_push_branch(git_repo) if iua is not None else None) or local
    if "origin" not in ws.remotes():
        return Origin(push_branch, reachable=False, error="the repository has no remote origin")
    url = ws.remote_url("origin")
    if not offline or url.startswith(("/", "file://", "./", "../")):
        try:
            ws.fetch("origin")
        except LabError as err:
            if ws.remote_sha(local) is None:
                return Origin(push_branch, reachable=False, error=err.message)
    uncommitted = set(ws.dirty_files(list(paths))) if paths else set()
    if ws.remote_sha(local) is None:
        return Origin(
            local, not_pushed=tuple(paths) or ("your branch",), uncommitted=tuple(sorted(uncommitted))
        )
    wanted = set(paths)
    not_pushed = set(uncommitted)
    for commit in ws.unpushed_commits(local):
        not_pushed.update(f for f in ws.commit_files(commit.sha) if f in wanted)
    flux: list[tuple[str, str]] = []
    author = (iua.author_name or iua.author_email) if iua is not None else None
    if author and ws.remote_sha(push_branch) is not None:
        for c in ws.log(f"refs/remotes/origin/{push_branch}", n=50, author=author):
            flux.append((c.short, c.subject))
    return Origin(
        push_branch,
        not_pushed=tuple(sorted(not_pushed)),
        uncommitted=tuple(sorted(uncommitted)),
        flux_commits=tuple(flux),
    )


def _kubeconfig(
    workspace: Path, kubeconfig: str | None, running: SandboxInfo | None
) -> tuple[str | None, str]:
    """Which cluster to ask: the lab's kubeconfig (--kubeconfig, $KUBECONFIG, ~/.kube/config), else the
    sandbox when this is its repo."""
    from lab.services import sandbox
    from lab.services.sync import cluster_of

    found = cluster_of(workspace, running, kubeconfig)
    # The registry mirror too: the sandbox serves the tags.
    sandbox.point_at(sandbox.sandbox_of(running, workspace, kubeconfig))
    if found is None:
        return None, ""
    return found.kubeconfig, found.where


def _sync_failure(repo: RepoText, aset: AutomationSet) -> Link | None:
    """The flux-system Kustomization's build failing on a file it cannot decode (its path generated):
    nothing under the path is applied, the image automation objects in it included."""
    from lab.core.kustomizegen import failure_fix, failure_message, first_undecodable
    from lab.core.yamlsafe import load_all

    for file, text in sorted(repo.yaml.items()):
        if "kustomize.toolkit.fluxcd.io" not in text:
            continue
        try:
            docs = load_all(text, file)
        except LabError:
            continue
        for doc in docs:
            if not isinstance(doc.data, dict) or doc.get("kind") != "Kustomization":
                continue
            if doc.get("metadata.name") != "flux-system":
                continue
            raw = doc.get("spec.path")
            root = norm_path(raw if isinstance(raw, str) else "")
            if not any(under(o.file, root) for o in aset.all_objects() if o.file):
                return None
            found = first_undecodable(repo.files, repo.yaml, root, load_all)
            if found is None:
                return None
            bad, err = found
            where = f"{bad}:{err.line}" if err.line else bad
            return Link(
                "automation",
                "broken",
                failure_message(bad, err, raw if isinstance(raw, str) else "(repository root)"),
                (where, f"{file}:{doc.line_of('spec.path')}: Kustomization flux-system spec.path: {raw}"),
                failure_fix(bad, err),
            )
    return None


def explain(
    workspace: Path,
    *,
    offline: bool = False,
    tags_file: Path | None = None,
    kubeconfig: str | None = None,
    context: str | None = None,
) -> Report:
    """Walk the chain for `workspace` (blocking: the TUI runs it in a worker)."""
    from lab.adapters.repotext import read_repo_text
    from lab.core.manifests.parse import find_automation
    from lab.core.manifests.validate import validate
    from lab.services import sandbox
    from lab.services.tasks import solution_update_path

    repo = read_repo_text(workspace)
    aset = find_automation(repo.yaml)
    live: Live | None = None
    mode_parts: list[str] = []
    # The sandbox's state file read once: which cluster to ask, whose registry serves the tags, and
    # whether it published them (offline asks neither).
    running = None if offline else sandbox.running_info(None)
    if not offline:
        config, where = _kubeconfig(workspace, kubeconfig, running)
        if config is not None:
            live = _live(config, context, where)
            mode_parts.append(f"live: {where}")
    from lab.services.tasks import workspace_task

    # The bundled tags are those of the task the repository practises (`lab init DIR --task ID`).
    task = workspace_task(workspace)
    tags, source, errors = _tags(aset, offline=offline, tags_file=tags_file, task=task)
    if live is None:
        mode_parts.append("offline: the repository and " + source)
    else:
        mode_parts.append("tags: " + source)
    findings = diagnose(Inputs(aset, repo.marked, tags, repo.dirs | repo.files))
    missing = frozenset(
        p
        for p in (norm_path(a.update_path) for a in aset.automations)
        if p and p not in repo.dirs and p not in repo.files
    )
    paths = sorted({o.file for o in aset.all_objects() if o.file} | set(repo.marked))
    origin = _origin(workspace, aset, paths, offline)
    sync_failure = _sync_failure(repo, aset)
    facts = Facts(
        aset=aset,
        files=repo.marked,
        problems=validate(aset),
        findings=findings,
        tags=tags,
        tags_source=source,
        scan_errors=errors,
        missing_dirs=missing,
        live=live,
        origin=origin,
        unread=repo.unread,
        newest=_newest(tags, task) if source == "the registry" and _in_sandbox(workspace, running) else {},
        generate=task.meta.generate,
        update_path=solution_update_path(task),
        sync_failure=sync_failure,
    )
    return walk(facts, "; ".join(mode_parts))


def report_json(report: Report) -> Mapping[str, object]:
    return report.to_dict()
