"""One reconcile of the three image controllers, as Flux runs it, against the learner's origin.

The lesson is "commit and push": the automation objects are read from what is on origin, not from
the working tree. Tags come from a tags file or from the registry the ImageRepository names. The
update is made in a fresh clone of origin (as image-automation-controller does), committed as the
automation's author (author = committer) and pushed; no change means no commit.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from lab.core.manifests.models import AutomationSet, ImagePolicy, ImageRepository, ImageUpdateAutomation
from lab.core.refs import Change, ImageRef
from lab.errors import LabError

if TYPE_CHECKING:
    from lab.adapters.git import Workspace

IMAGE_GROUP = "image.toolkit.fluxcd.io"
TagSource = Callable[[str, Sequence[str]], list[str]]


@dataclass(frozen=True)
class PolicyResolution:
    """What the simulated image-reflector-controller decided for one ImagePolicy."""

    namespace: str
    name: str
    image: str
    tag: str | None
    ready: bool
    reason: str
    message: str
    tag_count: int


@dataclass(frozen=True)
class SimulationResult:
    automation: str
    branch: str
    policies: list[PolicyResolution]
    changes: list[Change]
    message: str | None
    commit_sha: str | None
    pushed: bool
    diff: str
    files: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return {
            "automation": self.automation,
            "branch": self.branch,
            "policies": [p.__dict__ for p in self.policies],
            "changes": [
                {
                    "file": c.file,
                    "object": c.object.__dict__,
                    "setter": c.setter,
                    "old": c.old,
                    "new": c.new,
                }
                for c in self.changes
            ],
            "message": self.message,
            "commit": self.commit_sha,
            "pushed": self.pushed,
            "files": self.files,
        }


def tags_from_file(path: Path) -> TagSource:
    """A tag source reading one tag per line (as `lab policy --tags-file`), whatever the image."""
    from lab.services.policy import read_tags

    tags = read_tags(str(path))

    def source(image: str, exclusion: Sequence[str]) -> list[str]:
        from lab.core.scan import store_tags

        return store_tags(tags, exclusion)

    return source


def tags_from_registry(docker_config: Path | None = None) -> TagSource:
    """A tag source scanning the registry each ImageRepository names, like image-reflector does."""

    def source(image: str, exclusion: Sequence[str]) -> list[str]:
        from lab.adapters.registry import RegistryClient

        client = RegistryClient(docker_config=docker_config)
        return list(client.scan(image, exclusion).tags)

    return source


def _automation_files(tree: Mapping[str, bytes]) -> dict[str, str]:
    files: dict[str, str] = {}
    for path, data in tree.items():
        if not path.endswith((".yaml", ".yml")):
            continue
        try:
            files[path] = data.decode("utf-8")
        except UnicodeDecodeError:
            continue
    return files


def resolve_policies(
    aset: AutomationSet, namespace: str, tag_source: TagSource
) -> tuple[list[PolicyResolution], dict[str, ImageRef]]:
    """Evaluate every ImagePolicy of `namespace` as image-reflector-controller would.

    Returns each policy's outcome and the setters for the ready ones, keyed "namespace:name".
    Each ImageRepository is scanned once, however many policies use it.
    """
    repos = {(r.namespace, r.name): r for r in aset.repositories}
    scanned: dict[tuple[str, str], list[str]] = {}
    resolutions: list[PolicyResolution] = []
    setters: dict[str, ImageRef] = {}
    for pol in aset.policies:
        if pol.namespace != namespace:
            continue
        resolution = _resolve_one(pol, repos, scanned, tag_source)
        resolutions.append(resolution)
        if resolution.tag is not None:
            setters[f"{pol.namespace}:{pol.name}"] = ImageRef(name=resolution.image, tag=resolution.tag)
    return resolutions, setters


def _resolve_one(
    pol: ImagePolicy,
    repos: Mapping[tuple[str, str], ImageRepository],
    scanned: dict[tuple[str, str], list[str]],
    tag_source: TagSource,
) -> PolicyResolution:
    from lab.core.policy import ready_message, resolve
    from lab.core.scan import DEFAULT_EXCLUSION

    def not_ready(image: str, reason: str, message: str, count: int) -> PolicyResolution:
        return PolicyResolution(pol.namespace, pol.name, image, None, False, reason, message, count)

    repo = repos.get((pol.repository_namespace or pol.namespace, pol.repository_ref))
    if repo is None:
        return not_ready(
            "",
            "DependencyNotReady",
            "failed to get the referred ImageRepository: referenced ImageRepository does not "
            f'exist: ImageRepository.image.toolkit.fluxcd.io "{pol.repository_ref}" not found',
            0,
        )
    key = (repo.namespace, repo.name)
    if key not in scanned:
        exclusion = DEFAULT_EXCLUSION if repo.exclusion_list is None else repo.exclusion_list
        scanned[key] = tag_source(repo.image, tuple(exclusion))
    stored = scanned[key]
    if not stored:
        return not_ready(repo.image, "DependencyNotReady", "retrying in 30s error: no tags in database", 0)
    if pol.policy is None:
        return not_ready(
            repo.image,
            "InvalidPolicy",
            "invalid policy: given ImagePolicyChoice object is invalid",
            len(stored),
        )
    outcome = resolve(pol.policy, stored)
    if outcome.tag is None:
        return not_ready(repo.image, outcome.reason, outcome.message, len(stored))
    return PolicyResolution(
        pol.namespace,
        pol.name,
        repo.image,
        outcome.tag,
        True,
        "Succeeded",
        ready_message(repo.image, outcome.tag),
        len(stored),
    )


def unified_diff(files: Sequence[tuple[str, bytes, bytes]]) -> str:
    """A git-style unified diff of (path, old, new) triples."""
    import difflib

    out: list[str] = []
    for path, old, new in files:
        out.extend(
            difflib.unified_diff(
                old.decode("utf-8", "replace").splitlines(keepends=True),
                new.decode("utf-8", "replace").splitlines(keepends=True),
                fromfile=f"a/{path}",
                tofile=f"b/{path}",
            )
        )
    return "".join(line if line.endswith("\n") else line + "\n" for line in out)


def simulate(
    workspace: Path,
    *,
    tag_source: TagSource,
    dry_run: bool = False,
    branch: str | None = None,
) -> list[SimulationResult]:
    """Run every ImageUpdateAutomation pushed to origin once; return what each did."""
    from lab.adapters.git import open_workspace
    from lab.core.manifests.parse import find_automation

    ws = open_workspace(workspace)
    ws.fetch()
    branch = branch or ws.branch() or "main"
    if ws.remote_sha(branch) is None:
        raise LabError(
            f"origin has no branch {branch}",
            hint=f"push your work first: git push -u origin {branch}",
        )
    tree = ws.read_tree_at(f"origin/{branch}")
    aset = find_automation(_automation_files(tree))
    broken = [p for p in aset.problems if p.code == "yaml.invalid"]
    if broken:
        # kustomize-controller builds the whole path or nothing: one bad file stops every apply.
        first = broken[0]
        raise LabError(
            f"on origin/{branch}: {first.message}; the flux-system Kustomization cannot apply anything",
            file=first.file,
            line=first.line,
            hint=first.hint or "fix the YAML, commit and push",
        )
    automations = list(aset.automations)
    if not automations:
        local = "clusters/dev/image-automation/image-update.yaml"
        pending = " (it exists locally but is not pushed)" if (workspace / local).exists() else ""
        raise LabError(
            f"origin/{branch} has no ImageUpdateAutomation{pending}",
            hint="create it with `lab generate`, then git add, git commit and git push",
        )
    return [_run_automation(ws, aset, iua, tag_source, dry_run) for iua in automations]


def _run_automation(
    ws: Workspace, aset: AutomationSet, iua: ImageUpdateAutomation, tag_source: TagSource, dry_run: bool
) -> SimulationResult:
    from lab.adapters.git import clone_to_temp
    from lab.core.commit_message import render_commit_message
    from lab.services.setters import apply_to_tree

    ns = iua.namespace
    name = iua.name
    resolutions, setters = resolve_policies(aset, ns, tag_source)
    checkout_branch, push_branch = _branches(aset, iua)
    origin = ws.remote_url("origin")
    with tempfile.TemporaryDirectory(prefix="fluxlab-iac-") as tmp:
        # Flux (GitAllBranchReferences, on by default) commits on top of an existing push branch and
        # force-pushes it (GitForcePushBranch); a new push branch starts from the checkout branch.
        separate = push_branch != checkout_branch
        existing = separate and ws.remote_sha(push_branch) is not None
        clone = clone_to_temp(origin, push_branch if existing else checkout_branch, Path(tmp) / "repo")
        result = apply_to_tree(clone.root, iua.update_path, setters, ns, dry_run=dry_run)
        changes = list(result.changes)
        if not changes:
            return SimulationResult(f"{ns}/{name}", push_branch, resolutions, [], None, None, False, "", [])
        message = render_commit_message(
            iua.message_template,
            changes,
            api_version=iua.api_version,
            automation_namespace=ns,
            automation_name=name,
            values=iua.message_template_values,
        )
        # Setters report paths relative to update.path (as Flux does); git wants them from the root.
        diff_files = [
            (_repo_path(clone.root, result.update_root, rel), old, new) for rel, old, new in result.files
        ]
        diff = unified_diff(diff_files)
        paths = [path for path, _, _ in diff_files]
        if dry_run:
            return SimulationResult(
                f"{ns}/{name}", push_branch, resolutions, changes, message, None, False, diff, paths
            )
        author_name, author_email = _author(iua)
        sha = clone.commit(paths, message, author_name=author_name, author_email=author_email)
        clone.push(push_branch, force=separate)
    return SimulationResult(
        f"{ns}/{name}", push_branch, resolutions, changes, message, sha, True, diff, paths
    )


def _branches(aset: AutomationSet, iua: ImageUpdateAutomation) -> tuple[str, str]:
    """Checkout and push branch as image-automation-controller derives them (flux.md 4.2)."""
    src_ns = iua.source_namespace or iua.namespace
    src_name = iua.source_name
    repos = {(g.namespace, g.name): g for g in aset.git_repositories}
    git_repo = repos.get((src_ns, src_name))
    if git_repo is None:
        raise LabError(
            "failed configuring source manager: referenced git repository does not exist: "
            f'GitRepository.source.toolkit.fluxcd.io "{src_name}" not found',
            hint="spec.sourceRef.name must name the GitRepository bootstrap created (flux-system)",
        )
    checkout = iua.checkout_branch or git_repo.branch
    push = iua.push_branch or checkout
    if not push:
        raise LabError(
            "failed configuring source manager: push spec not provided, and cannot be inferred from "
            ".spec.git.checkout.ref or GitRepository .spec.ref",
            hint="set spec.git.push.branch (e.g. main)",
        )
    return checkout or "master", push


def _author(iua: ImageUpdateAutomation) -> tuple[str, str]:
    """Flux requires the email; git (unlike go-git) refuses an empty name, so fall back to the email."""
    if not iua.author_email:
        raise LabError(
            f"ImageUpdateAutomation {iua.namespace}/{iua.name} has no spec.git.commit.author.email",
            hint="set spec.git.commit.author.email (e.g. flux@gitops-lab.local)",
            file=iua.file or None,
            line=iua.line or None,
        )
    return iua.author_name or iua.author_email, iua.author_email


def _repo_path(root: Path, update_root: Path, rel: str) -> str:
    target = update_root if update_root.is_file() else update_root / rel
    return target.relative_to(root).as_posix()
