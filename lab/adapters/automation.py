"""One run of every ImageUpdateAutomation pushed to origin, as image-automation-controller does it.

The I/O half of `lab.core.reconcile`: read the automation objects from what is on origin (not from the
working tree: the lesson is "commit and push"), resolve the policies through the given `TagSource`,
rewrite the marked fields in a fresh clone of origin, commit as the automation's author
(author = committer) and push; no change means no commit. `lab simulate` and the sandbox's
image-automation-controller both run it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from lab.adapters.files import read_regular
from lab.adapters.git import TreeFiles, Workspace, clone_to_temp, open_workspace
from lab.adapters.scratch import scratch_dir, sweep_stale
from lab.adapters.setters import apply_to_tree
from lab.core.commit_message import render_for
from lab.core.diff import unified_diff
from lab.core.manifests.models import AutomationSet, ImageUpdateAutomation
from lab.core.manifests.parse import find_automation
from lab.core.reconcile import (
    DigestSource,
    PolicyResolution,
    SimulationResult,
    TagSource,
    author,
    branches,
    checkout_tag,
    refuse_invalid_refs,
    resolve_policies,
    setters_for,
    switches_branch,
    yaml_texts,
)
from lab.core.refs import Change, ImageRef
from lab.errors import LabError

SCRATCH_PREFIX = "lab-simulate"

__all__ = ["BeforePush", "LatestRefs", "run_automations"]

#: The cluster's answer to "which image does each policy pick": for an ImageUpdateAutomation, the
#: `status.latestRef` of every ImagePolicy its policySelector selects, by "namespace:name".
LatestRefs = Callable[[ImageUpdateAutomation], Mapping[str, ImageRef]]
#: Called with an automation's changes before its commit is pushed; raises LabError to stop the push.
BeforePush = Callable[[Sequence[Change]], None]


def run_automations(
    workspace: Path,
    *,
    tag_source: TagSource,
    dry_run: bool = False,
    branch: str | None = None,
    digest_source: DigestSource | None = None,
    latest_refs: LatestRefs | None = None,
    before_push: BeforePush | None = None,
) -> list[SimulationResult]:
    """Run every ImageUpdateAutomation pushed to origin once; return what each did. `digest_source`
    answers for digest-reflecting policies (default: the digests the lab's registry serves).

    Where each policy's latestRef comes from: with `latest_refs`, the cluster's ImagePolicy status, as
    image-automation-controller reads it (IAC getPolicies: every selected policy with a latestRef, read
    as written, whatever the Git copy says); without, resolved here from `tag_source` (`lab simulate`,
    which has no cluster). The setters, commit and push are the same either way. `before_push` sees
    an automation's changes before its commit and may refuse it (a LabError fails that automation)."""
    if digest_source is None:
        # A tag source that asks registries (services.simulate.ProvenancedTags) asks them for digests too.
        digest_source = getattr(tag_source, "digest", None)
    ws = open_workspace(workspace)
    ws.fetch()
    branch = branch or ws.branch() or "main"
    if ws.remote_sha(branch) is None:
        raise LabError(
            f"origin has no branch {branch}",
            hint=f"push your work first: git push -u origin {branch}",
        )
    tree = ws.read_tree_at(f"origin/{branch}")
    _refuse_unreadable(tree, branch)
    aset = find_automation(yaml_texts(tree))
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
        why, hint = _pending(ws)
        raise LabError(f"origin/{branch} has no ImageUpdateAutomation{why}", hint=hint)
    # Each automation reconciles on its own, as in the controller: one failing does not stop (or hide)
    # another's push. Only when every one fails is the first failure the answer.
    results: list[SimulationResult] = []
    failures: list[LabError] = []
    for iua in automations:
        try:
            results.append(
                _run_one(ws, aset, iua, tag_source, dry_run, digest_source, latest_refs, before_push)
            )
        except LabError as err:
            failures.append(err)
            name = f"{iua.namespace}/{iua.name}"
            results.append(
                SimulationResult(name, "", [], [], None, None, False, "", error=str(err), failure=err)
            )
    if failures and len(failures) == len(automations):
        raise failures[0]
    return results


def _pending(ws: Workspace) -> tuple[str, str]:
    """Why origin lacks the automation when the learner has one (not committed, or not pushed), and
    the step that is left: only the push for a committed one."""
    try:
        if find_automation(yaml_texts(ws.read_tree_at("HEAD"))).automations:
            return " (it is committed but not pushed)", "git push (in the app: p)"
        for rel in ws.dirty_files():
            path = ws.root / rel
            local = rel.endswith((".yaml", ".yml")) and path.is_file() and not path.is_symlink()
            head = read_regular(path, 1 << 20, follow_symlinks=False, truncate=True) if local else b""
            if b"ImageUpdateAutomation" in head:
                return (
                    " (it exists locally but is not committed and pushed)",
                    "git add, git commit and git push (in the app: p)",
                )
    except (LabError, OSError):
        pass  # only a better message is lost
    return "", "create it with `lab generate`, then git add, git commit and git push"


def _refuse_unreadable(tree: TreeFiles, branch: str) -> None:
    """Manifests on origin the lab cannot read: their objects would silently be missing from the run."""
    yaml = (".yaml", ".yml")
    for path, target in sorted(tree.symlinks.items()):
        if path.endswith(yaml):
            raise LabError(
                f"a symlink on origin/{branch} (to {target}): the lab does not follow links in a "
                "repository, so the objects in it are not simulated",
                file=path,
                hint="commit the file itself in place of the link",
            )
    for path, data in sorted(tree.items()):
        if path.endswith(yaml):
            try:
                data.decode("utf-8")
            except UnicodeDecodeError as err:
                raise LabError(
                    f"not UTF-8 text on origin/{branch} (byte {err.start}): kustomize cannot build it, "
                    "so the flux-system Kustomization cannot apply anything",
                    file=path,
                    hint="save the file as UTF-8 YAML, commit and push",
                ) from None


def _run_one(
    ws: Workspace,
    aset: AutomationSet,
    iua: ImageUpdateAutomation,
    tag_source: TagSource,
    dry_run: bool,
    digest_source: DigestSource | None = None,
    latest_refs: LatestRefs | None = None,
    before_push: BeforePush | None = None,
) -> SimulationResult:
    ns = iua.namespace
    name = iua.name
    resolutions: list[PolicyResolution]
    if latest_refs is None:
        resolutions, all_setters = resolve_policies(aset, ns, tag_source, digest_source)
        setters = setters_for(aset, iua, all_setters)
    else:
        setters_for(aset, iua, {})  # an unusable policySelector still stalls the run
        setters = dict(latest_refs(iua))
        resolutions = []
    refuse_invalid_refs(setters)
    checkout_branch, push_branch = branches(aset, iua)
    origin = ws.remote_url("origin")
    # A run killed mid-clone (SIGKILL) leaves its directory behind: the next run removes it.
    sweep_stale(SCRATCH_PREFIX)
    with scratch_dir(SCRATCH_PREFIX) as tmp:
        # Flux (GitAllBranchReferences, on by default) commits on top of an existing push branch and
        # force-pushes it (GitForcePushBranch); a new push branch starts from the checkout branch.
        separate = switches_branch(aset, iua)
        existing = separate and ws.remote_sha(push_branch) is not None
        tag = None if existing else checkout_tag(aset, iua)
        clone = clone_to_temp(origin, push_branch if existing else tag or checkout_branch, Path(tmp) / "repo")
        if tag is not None:
            clone.start_branch(push_branch)
        result = apply_to_tree(clone.root, iua.update_path, setters, ns, dry_run=dry_run)
        changes = list(result.changes)
        if not changes:
            return SimulationResult(f"{ns}/{name}", push_branch, resolutions, [], None, None, False, "", [])
        message = render_for(iua, changes)
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
        if before_push is not None:
            before_push(changes)
        author_name, author_email = author(iua)
        sha = clone.commit(paths, message, author_name=author_name, author_email=author_email)
        clone.push(push_branch, force=separate)
        if iua.push_refspec:
            # IAC pushes the commit again with spec.git.push.refspec; its source names the clone's
            # refs, where the push branch is a local branch at the commit (as after Flux's SwitchBranch).
            clone.set_ref(f"refs/heads/{push_branch}", sha)
            # With the same push options: forced when it switched branch (GitForcePushBranch).
            clone.push(iua.refspec_branch or push_branch, refspec=iua.push_refspec, force=separate)
    return SimulationResult(
        f"{ns}/{name}",
        push_branch,
        resolutions,
        changes,
        message,
        sha,
        True,
        diff,
        paths,
        refspecs=(iua.push_refspec,) if iua.push_refspec else (),
    )


def _repo_path(root: Path, update_root: Path, rel: str) -> str:
    target = update_root if update_root.is_file() else update_root / rel
    return target.relative_to(root).as_posix()
