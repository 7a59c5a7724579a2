"""image-automation-controller: `lab simulate`'s reconcile, on a schedule, with Flux's status.

The run itself is `lab.adapters.automation.run_automations` (as `lab simulate`) against the controllers' clone of origin: it reads
the automation objects pushed to origin, takes each selected ImagePolicy's `status.latestRef` from the
cluster (as IAC does; `lab simulate` resolves them from tags instead), rewrites marked fields in a fresh clone, commits as the automation's author and pushes to origin. This
module decides when to run (interval, spec changes, a policy's latestRef changing, a reconcile request,
Flux's short-circuit when nothing changed) and writes what happened into the ImageUpdateAutomation status.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lab.core.fluxsource import no_remote_branch
from lab.errors import GitError, LabError
from lab.sandbox.controllers.common import (
    JSON,
    Clock,
    Controller,
    as_models,
    generation,
    handled,
    key,
    now_rfc3339,
    progress_message,
    ready_conditions,
    requested_at,
    spec,
    status,
    stays_stalled,
)

if TYPE_CHECKING:
    from lab.adapters.git import Workspace
    from lab.core.manifests.models import ImageUpdateAutomation
    from lab.core.reconcile import TagSource
    from lab.core.refs import ImageRef
    from lab.sandbox.kubeapi import KubeAPIServer

IUA_KIND = "ImageUpdateAutomation"
POLICY_KIND = "ImagePolicy"
UP_TO_DATE = "repository up-to-date"
_STALLED = frozenset({"InvalidSourceConfiguration", "RemovedTemplateField", "InvalidPolicySelector"})


def classify_failure(err: LabError) -> tuple[str, str]:
    """(reason, message) Flux would report for a failed run."""
    from lab.core.commit_message import CommitTemplateError

    if isinstance(err, CommitTemplateError):
        # IAC :494-507: RemovedTemplateField (stalled) or GitOperationFailed 'failed to update source: ...'
        return err.reason, err.flux_message
    message = err.message
    if message.startswith("failed to parse policy selector"):
        return "InvalidPolicySelector", message  # IAC :323-328, stalled
    if message.startswith("failed configuring source manager"):
        return "SourceManagerFailed", message
    if "walking path" in message or message.startswith("failed to apply policies"):
        return "UpdateFailed", message
    if message.startswith("push of "):
        return (
            "GitOperationFailed",
            f"failed to update source: failed to push to remote: {_push_detail(message)}",
        )
    if message.startswith("cannot clone "):
        detail = message.split(": ", 1)[1] if ": " in message else message
        return "GitOperationFailed", f"failed to checkout source: {detail}"
    if "template" in message:
        return "GitOperationFailed", message
    if isinstance(err, GitError):
        return "GitOperationFailed", f"failed to update source: {message}"
    # The lab's own finding (a manifest on origin it cannot read): where it is, or `why` cannot say.
    where = f"{err.file}:{err.line}: " if err.file and err.line else f"{err.file}: " if err.file else ""
    return "UpdateFailed", where + message


def _push_detail(message: str) -> str:
    """git's rejection in go-git's words: `command error on refs/heads/main: <reason>`."""
    branch = message[len("push of ") :].split(" ", 1)[0]
    detail = message.split(": ", 1)[1] if ": " in message else message
    if "fetch first" in detail or "non-fast-forward" in detail:
        return f"non-fast-forward update: refs/heads/{branch}"
    found = re.search(r"\[(?:remote )?rejected\] \(([^)]*)\)", detail)
    if found:
        return f"command error on refs/heads/{branch}: {found.group(1)}"
    return detail


class AutomationController(Controller):
    def __init__(
        self,
        api: KubeAPIServer,
        workspace: Callable[[], Workspace],
        tag_source: Callable[[], TagSource],
        clock: Clock,
    ) -> None:
        super().__init__(api, clock)
        self.workspace = workspace
        self.tag_source = tag_source
        self.runs = 0

    def _observed_policies(self, iua: JSON) -> dict[str, JSON]:
        """IAC getPolicies: the ImagePolicies of the automation's namespace its `policySelector` selects
        that have a `latestRef`, by name (an unusable selector stalls the run before this matters)."""
        from lab.core.diagnose import selector_matches, selector_problem

        selector = spec(iua).get("policySelector")
        if not isinstance(selector, Mapping) or selector_problem(selector) is not None:
            selector = None
        out: dict[str, JSON] = {}
        for pol in self.api.list(POLICY_KIND, key(iua)[0]):
            labels = (pol.get("metadata") or {}).get("labels") or {}
            if selector is not None and not selector_matches(
                selector, {str(k): str(v) for k, v in labels.items()}
            ):
                continue
            ref = status(pol).get("latestRef")
            if isinstance(ref, Mapping) and ref.get("tag"):
                out[key(pol)[1]] = {"name": ref.get("name"), "tag": ref.get("tag")}
                if ref.get("digest"):
                    out[key(pol)[1]]["digest"] = ref.get("digest")
        return out

    def _latest_refs(self, automation: ImageUpdateAutomation) -> dict[str, ImageRef]:
        """What the run writes: the latestRef of each ImagePolicy the automation (as the cluster has it)
        selects, by "namespace:name", as IAC reads them (:335-345, setters.go :127-151). Never the tags
        worked out again: a policy whose image changed keeps its old latestRef's tag under the new name
        until a scan says otherwise, and the controller writes exactly that. An automation that is only
        in Git is not running in the cluster: it selects nothing."""
        from lab.core.refs import ImageRef

        iua = self.api.get(IUA_KIND, automation.name, automation.namespace)
        if iua is None:
            return {}
        return {
            f"{automation.namespace}:{name}": ImageRef(
                name=str(ref.get("name") or ""),
                tag=str(ref.get("tag") or ""),
                digest=str(ref.get("digest") or ""),
            )
            for name, ref in self._observed_policies(iua).items()
        }

    def tick(self) -> None:
        from lab.sandbox.kubeapi import ApiError

        try:
            automations = self.api.list(IUA_KIND)
        except ApiError:
            return
        now = self.clock.now()
        live = set()
        for iua in automations:
            live.add((IUA_KIND, *key(iua)))
            self._reconcile(iua, now)
        self.schedule.forget_except(live)

    def _source(self, iua: JSON) -> tuple[JSON | None, str, bool, str | None]:
        """(GitRepository, checkout branch, whether every run is a full sync, Flux's error when the
        source is unusable). The branches are `lab.core.reconcile.branches`, as `lab simulate` derives
        them; Flux syncs in full when it pushes to another branch than it checks out (the observed
        revision is then the checkout branch's) or with a push refspec (IAC configurePush, :398-402)."""
        from lab.core.reconcile import branches, switches_branch

        src = spec(iua).get("sourceRef") or {}
        src = src if isinstance(src, Mapping) else {}
        kind = str(src.get("kind") or "GitRepository")
        if kind != "GitRepository":
            return None, "", False, f"source kind '{kind}' not supported: invalid source configuration"
        git = spec(iua).get("git")
        if not isinstance(git, Mapping):
            return (
                None,
                "",
                False,
                ("source kind 'GitRepository' necessitates field .spec.git: invalid source configuration"),
            )
        name = str(src.get("name") or "")
        repo = self.api.get("GitRepository", name, str(src.get("namespace") or key(iua)[0]))
        aset = as_models([iua] if repo is None else [iua, repo])
        if not aset.automations:
            return repo, "master", False, None  # the parser refused what the API server took: run as is
        automation = aset.automations[0]
        try:
            checkout, _ = branches(aset, automation)
        except LabError as err:
            return repo, "", False, err.message
        return repo, checkout, switches_branch(aset, automation) or bool(automation.push_refspec), None

    def _reconcile(self, iua: JSON, now: float) -> None:
        ns, name = key(iua)
        ident = (IUA_KIND, ns, name)
        if spec(iua).get("suspend") is True:
            return
        policies = self._observed_policies(iua)
        inputs = (generation(iua), requested_at(iua), sorted((k, str(v)) for k, v in policies.items()))
        if not self.schedule.is_due(ident, inputs, now):
            return
        repo, branch, switch, source_error = self._source(iua)
        period = self.clock.seconds(spec(iua).get("interval"), "1m")
        if stays_stalled(iua, _STALLED):
            self.schedule.done(ident, inputs, now, period)
            return
        iua = self.starting(IUA_KIND, iua)
        # observedPolicies and observedSourceRevision are persisted only by a run that succeeds
        # (IAC :476-477, :520-521, :527-533): after a failure they still name what was last applied.
        new = dict(status(iua))
        new["lastAutomationRunTime"] = now_rfc3339()
        if source_error is not None:
            stalled = "invalid source configuration" in source_error
            reason = "InvalidSourceConfiguration" if stalled else "SourceManagerFailed"
            self._write(iua, new, False, reason, source_error, stalled=stalled)
            self.schedule.done(ident, inputs, now, min(period, self.clock.seconds("30s")))
            return
        try:
            ws = self.workspace()
            ws.fetch()
            head = ws.remote_sha(branch)
        except LabError as err:
            reason, message = classify_failure(err)
            self._write(iua, new, False, reason, message)
            self.schedule.done(ident, inputs, now, min(period, self.clock.seconds("30s")))
            return
        if head is None:
            url = str((repo or {}).get("spec", {}).get("url") or "")
            message = f"failed to checkout source: {no_remote_branch(url, branch)}"
            self._write(iua, new, False, "GitOperationFailed", message)
            self.schedule.done(ident, inputs, now, min(period, self.clock.seconds("30s")))
            return
        revision = f"{branch}@sha1:{head}"
        sync_needed = policies != (status(iua).get("observedPolicies") or {}) or switch
        if not sync_needed and revision == status(iua).get("observedSourceRevision"):
            # Flux's short-circuit (IAC :415-443): the same policies and the checkout branch still at
            # the observed commit: nothing is cloned, whatever the generation or a reconcile request.
            self._write(iua, new, True, "Succeeded", UP_TO_DATE)
            self.schedule.done(ident, inputs, now, period)
            return
        try:
            result = self._run(ws.root, branch, ns, name)
        except LabError as err:
            reason, message = classify_failure(err)
            self._write(iua, new, False, reason, message, stalled=reason in _STALLED)
            self.schedule.done(ident, inputs, now, min(period, self.clock.seconds("30s")))
            return
        self.runs += 1
        new["observedPolicies"] = policies
        if result is not None and result.pushed and result.commit_sha:
            new["lastPushCommit"] = result.commit_sha
            new["lastPushTime"] = now_rfc3339()
            # The pushed commit, or with another push branch the checked-out one (IAC :527-532).
            new["observedSourceRevision"] = (
                revision if switch else f"{result.branch}@sha1:{result.commit_sha}"
            )
            updated = self._write(iua, new, True, "Succeeded", UP_TO_DATE)
            text = f"{result.push_summary()}\n{result.message or ''}"
            self.api.record_event(updated, "Normal", "Succeeded", text, "image-automation-controller")
        else:
            new["observedSourceRevision"] = revision
            self._write(iua, new, True, "Succeeded", UP_TO_DATE)
        self.schedule.done(ident, inputs, now, period)

    def _run(self, root: Path, branch: str, ns: str, name: str) -> Any:
        from lab.adapters.automation import run_automations

        try:
            results = run_automations(
                root, tag_source=self.tag_source(), branch=branch, latest_refs=self._latest_refs
            )
        except LabError as err:
            if "has no ImageUpdateAutomation" in err.message:
                return None  # applied by hand, not from Git: nothing of it to run here
            raise
        mine = next((r for r in results if r.automation == f"{ns}/{name}"), None)
        if mine is not None and mine.error:
            raise mine.failure or LabError(mine.error)
        return mine

    def _write(
        self, iua: JSON, new: JSON, ok: bool, reason: str, message: str, *, stalled: bool = False
    ) -> JSON:
        new["conditions"] = ready_conditions(
            iua, ok, reason, message, stalled=stalled, progress=progress_message(iua)
        )
        ns, name = key(iua)
        return self.api.update_status(IUA_KIND, name, ns, handled(iua, new))
