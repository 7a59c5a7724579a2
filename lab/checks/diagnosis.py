"""Issue 14's diagnoses in the checks: each `lab.core.diagnose` finding belongs to the check that owns its
field (`Finding.check`). A breaking finding fails that check with file:line, what Flux will do and the fix;
an advisory one (the configuration works but is risky) is reported on a passing check without failing it.

Repo checks see the static findings; `policy.resolves`, which has the registry's tags, also gets the
findings that need tags (ranges that match nothing, pre-releases, cosign tags).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from lab.checks.context import CheckContext, task_images
from lab.core.checks.model import DIAGNOSIS, Evidence, Outcome, Status, and_more
from lab.core.diagnose import CHECK_POLICY, CHECK_RESOLVES, Finding, Inputs, diagnose
from lab.core.manifests.parse import find_automation

if TYPE_CHECKING:
    from lab.adapters.repotext import RepoText
    from lab.core.manifests.models import AutomationSet


def repo_text(ctx: CheckContext) -> RepoText:
    """The workspace's YAML and marked files (`read_repo_text`), read once per run."""
    from lab.adapters.repotext import read_repo_text

    return ctx.cached("diagnosis:repo-text", lambda: read_repo_text(ctx.workspace))


def _inputs(ctx: CheckContext) -> Inputs:
    def compute() -> Inputs:
        text = repo_text(ctx)
        return Inputs(find_automation(text.yaml, ctx.load_yaml), text.marked, paths=text.dirs | text.files)

    return ctx.cached("diagnosis:inputs", compute)


def repository_set(ctx: CheckContext) -> AutomationSet:
    """The Flux objects of every YAML file of the workspace, read and parsed once per run."""
    return _inputs(ctx).aset


def _owned(finding: Finding, owners: Mapping[str, str] | None) -> Finding:
    owner = (owners or {}).get(finding.id)
    if owner is None:
        return finding
    return replace(finding, severity="advisory", message=f"{owner} grades this: {finding.message}")


def findings(ctx: CheckContext, tags: Mapping[str, Sequence[str]] | None = None) -> list[Finding]:
    """Every finding for the workspace; with `tags` (ImageRepository `spec.image` -> the tags its scan
    stored) also the findings that need the registry, for the policies of those images only: a policy
    is judged by the tags of the repository it references, never by another image's."""
    base = _inputs(ctx)
    if tags is None:
        return ctx.cached("diagnosis:static", lambda: diagnose(base))
    by_image = {image: list(stored) for image, stored in tags.items()}
    key = "diagnosis:tags:" + "\n".join(sorted(by_image))
    return ctx.cached(key, lambda: diagnose(Inputs(base.aset, base.files, by_image, base.paths)))


def _policies_on_bundled_tags(ctx: CheckContext) -> list[Finding]:
    """A task without `policy.resolves` (the exercises: several policies, no one expected tag) has its
    policy check judge every policy on the task's bundled tags, which are its registry: a policy that
    selects nothing there (a filter that keeps no tag, a range that matches none) fails with Flux's
    Ready condition, where it passed and only a reconcile said why."""
    from lab.adapters.tagsfile import read_tags
    from lab.checks.loader import load_task_checks

    runs = ctx.cached("diagnosis:runs", lambda: {run for run, _ in load_task_checks(ctx.task).runs.values()})
    if CHECK_RESOLVES in runs:
        return []
    task = task_images(ctx)
    bundled: dict[str, list[str]] = {}
    for repo in _inputs(ctx).aset.repositories:
        image = task.find(repo.image)
        if image is not None and task.file(image.tags).is_file():
            bundled[repo.image] = read_tags(task.file(image.tags))
    if not bundled:
        return []
    return [f for f in findings(ctx, bundled) if f.check == CHECK_RESOLVES and f.breaking]


def _evidence(f: Finding) -> Evidence:
    return Evidence(DIAGNOSIS, f"{f.location()} {f.id}", f"{f.severity}: {f.message} (Flux: {f.flux})")


def merge(
    ctx: CheckContext,
    check_id: str,
    outcome: Outcome,
    tags: Mapping[str, Sequence[str]] | None = None,
    *,
    owners: Mapping[str, str] | None = None,
) -> Outcome:
    """`outcome` of `check_id` with its findings: a pass turns into a fail on a breaking finding;
    advisories are added to a pass's message. A check that already fails keeps its own first cause.
    `owners` maps a finding's id to the task's check that grades it (one mistake, one penalty): such a
    finding is only noted here, naming that check."""
    mine = [_owned(f, owners) for f in findings(ctx, tags) if f.check == check_id]
    if check_id == CHECK_POLICY and tags is None:
        mine += _policies_on_bundled_tags(ctx)
    if not mine:
        return outcome
    evidence = (*outcome.evidence, *(_evidence(f) for f in mine))
    if outcome.status != Status.PASS:
        # The check's own first cause stays the message; the diagnosis adds Flux's side as evidence.
        return replace(outcome, evidence=evidence)
    breaking = [f for f in mine if f.breaking]
    if breaking:
        first, more = breaking[0], and_more(breaking)
        return Outcome.failed(
            f"{first.message}{more}; Flux: {first.flux}",
            hint=first.fix,
            evidence=evidence,
            file=first.file,
            line=first.line,
        )
    notes = "; ".join(f"advisory: {f.location()}: {f.message}" for f in mine)
    message = f"{outcome.message}; {notes}" if outcome.message else notes
    return Outcome.make(Status.PASS, message, evidence=evidence, file=outcome.file, line=outcome.line)
