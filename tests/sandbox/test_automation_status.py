"""The sandbox's image-automation-controller writes the ImageUpdateAutomation status as the controller does
(image-automation-controller v1.1.x / v1.2.x, internal/controller/imageupdateautomation_controller.go):
observedPolicies and observedSourceRevision only when a run succeeds, the checkout branch's revision when
Flux pushed to another branch, lastPushCommit/lastPushTime from the push, and the Ready condition's reason
and message in the controller's own words.

The controller runs against an in-process API server and a practice repository with a local origin; one
`tick()` is one reconcile of each automation."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from lab.sandbox.controllers.automation import AutomationController
from lab.sandbox.controllers.common import Clock
from lab.sandbox.kubeapi import KubeAPIServer
from tests.support.sandbox_helpers import git
from tests.support.taskfiles import DEPLOY, REPO, UPDATE, edited, solution_text, starter_files

pytestmark = pytest.mark.slow

NS = "flux-system"
IUA = "ImageUpdateAutomation"
NGINX_TAGS = ["1.25.0", "1.25.1", "1.25.2", "1.25.3", "1.26.0", "latest"]
STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


@dataclass
class Harness:
    api: KubeAPIServer
    ws: Path
    origin: Path
    controller: AutomationController

    def status(self) -> dict[str, Any]:
        obj = self.api.get(IUA, "flux-system", NS)
        assert obj is not None
        return dict(obj.get("status") or {})

    def ready(self) -> tuple[str, str, str]:
        cond = next(c for c in self.status()["conditions"] if c["type"] == "Ready")
        return cond["status"], cond["reason"], cond["message"]

    def conditions(self) -> dict[str, tuple[str, str, str]]:
        return {c["type"]: (c["status"], c["reason"], c["message"]) for c in self.status()["conditions"]}

    def head(self, branch: str = "main") -> str:
        return git(self.origin, "rev-parse", f"refs/heads/{branch}").strip()

    def push_update(self, text: str) -> None:
        """Commit image-update.yaml as `text` and push it; the cluster's object follows (what the
        Kustomization would apply)."""
        git(self.ws, "pull", "-q", "--rebase")
        (self.ws / UPDATE).write_text(text, encoding="utf-8")
        git(self.ws, "commit", "-qam", "change the automation")
        git(self.ws, "push", "-q")
        self.api.put(yaml.safe_load(text))

    def latest(self, tag: str) -> None:
        self.api.update_status(
            "ImagePolicy", "nginx", NS, {"latestRef": {"name": "library/nginx", "tag": tag}}
        )


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    from lab.adapters.git import open_workspace
    from lab.sandbox.practice import init_practice_repo
    from lab.services.solve import solve

    ws, origin = tmp_path / "ws", tmp_path / "origin.git"
    init_practice_repo(ws, origin=origin, task="09b")
    solve(ws, task="09b", api_version="image.toolkit.fluxcd.io/v1")
    sync = starter_files()["clusters/dev/flux-system/gotk-sync.yaml"]
    with KubeAPIServer() as api:
        for doc in yaml.safe_load_all(sync):
            if doc and doc["kind"] == "GitRepository":
                api.put(doc)
        for rel in ("image-repository.yaml", "image-policy.yaml", "image-update.yaml"):
            api.put(yaml.safe_load(solution_text(f"clusters/dev/image-automation/{rel}")))
        controller = AutomationController(
            api,
            lambda: open_workspace(ws),
            lambda: lambda image, exclusions: list(NGINX_TAGS),
            Clock(speed=1000.0),
        )
        h = Harness(api, ws, origin, controller)
        h.latest("1.25.3")
        yield h


def _run(h: Harness) -> None:
    h.controller.schedule.due.clear()  # due now, as after its interval
    h.controller.tick()


def test_a_push_records_the_commit_time_policies_and_revision(harness: Harness) -> None:
    _run(harness)
    status = harness.status()
    sha = harness.head()
    assert harness.ready() == ("True", "Succeeded", "repository up-to-date")
    assert status["lastPushCommit"] == sha and len(sha) == 40
    assert STAMP.match(status["lastPushTime"]), status["lastPushTime"]
    assert status["observedSourceRevision"] == f"main@sha1:{sha}"
    assert status["observedPolicies"] == {"nginx": {"name": "library/nginx", "tag": "1.25.3"}}


def test_the_run_writes_each_selected_policys_latest_ref_not_tags_worked_out_again(harness: Harness) -> None:
    """IAC writes what each selected ImagePolicy's status.latestRef says (getPolicies; setters.go
    :127-151). After a typo in spec.image (library/ngnix) the reflector's scan fails, yet the policy
    keeps its tag under the new name (latestRef.name is spec.image): the controller commits
    library/ngnix:1.25.3, where resolving the tags again (the registry has no library/ngnix) found
    nothing to write."""
    from lab.errors import RegistryError

    _run(harness)
    assert "library/nginx:1.25.3" in git(harness.origin, "show", f"main:{DEPLOY}")

    def registry(image: str, exclusions: object) -> list[str]:
        if "ngnix" in image:
            raise RegistryError("UNAUTHORIZED: authentication required")
        return list(NGINX_TAGS)

    harness.controller.tag_source = lambda: registry
    git(harness.ws, "pull", "-q", "--rebase")
    repo = harness.ws / REPO
    repo.write_text(repo.read_text().replace("image: library/nginx", "image: library/ngnix"))
    git(harness.ws, "commit", "-qam", "typo")
    git(harness.ws, "push", "-q")
    harness.api.put(yaml.safe_load(repo.read_text()))
    harness.api.update_status(
        "ImagePolicy", "nginx", NS, {"latestRef": {"name": "library/ngnix", "tag": "1.25.3"}}
    )
    _run(harness)
    deployed = git(harness.origin, "show", f"main:{DEPLOY}")
    assert 'image: library/ngnix:1.25.3 # {"$imagepolicy": "flux-system:nginx"}' in deployed
    assert harness.status()["observedPolicies"] == {"nginx": {"name": "library/ngnix", "tag": "1.25.3"}}


def test_a_failed_run_keeps_the_last_successful_observations(harness: Harness) -> None:
    """Flux persists observedPolicies (and observedSourceRevision) only when the run succeeds
    (controller :476-477, :520-521, :527-533): after a failure they still say what was last applied,
    so the next run sees the policies as changed and syncs in full."""
    _run(harness)
    before = harness.status()
    harness.latest("1.26.0")
    harness.api.delete("GitRepository", "flux-system", NS)
    _run(harness)
    after = harness.status()
    assert harness.ready() == (
        "False",
        "SourceManagerFailed",
        "failed configuring source manager: referenced git repository does not exist: "
        'GitRepository.source.toolkit.fluxcd.io "flux-system" not found',
    )
    assert after["observedPolicies"] == before["observedPolicies"]
    assert after["observedSourceRevision"] == before["observedSourceRevision"]
    assert after["lastPushCommit"] == before["lastPushCommit"]


def test_a_push_to_another_branch_observes_the_checkout_branch(harness: Harness) -> None:
    """With push.branch other than the checkout branch, observedSourceRevision is the checked-out
    commit (controller :527-532: `if pushResult.SwitchBranch() { ... = commit.String() }`), and every
    run is a full sync (:402-404)."""
    text = edited(
        solution_text(UPDATE), "    push:\n      branch: main\n", "    push:\n      branch: flux-updates\n"
    )
    harness.push_update(text)
    _run(harness)
    status = harness.status()
    assert status["lastPushCommit"] == harness.head("flux-updates")
    assert status["observedSourceRevision"] == f"main@sha1:{harness.head()}"
    runs = harness.controller.runs
    _run(harness)
    assert harness.controller.runs == runs + 1, "a switched branch is synced in full every time"


def test_a_tag_checkout_with_a_push_branch_switches_branch(harness: Harness) -> None:
    """configurePush (internal/source/git.go:148-151): `if checkoutRef != nil { if cfg.pushBranch !=
    checkoutRef.Branch { cfg.switchBranch = true } }`: a checkout.ref that pins a tag has branch "", so
    push.branch main switches, and every run is a full sync; the sandbox compared main with the
    GitRepository's branch and skipped the runs in between."""
    git(harness.origin, "tag", "v1.0.0", "main")
    checkout = "    checkout:\n      ref:\n        branch: main\n"
    harness.push_update(
        edited(solution_text(UPDATE), checkout, checkout.replace("branch: main", "tag: v1.0.0"))
    )
    _run(harness)
    assert harness.status()["lastPushCommit"] == harness.head("main")
    runs = harness.controller.runs
    _run(harness)
    assert harness.controller.runs == runs + 1, "a switched branch is synced in full every time"


def test_a_push_refspec_pushes_the_commit_a_second_time(harness: Harness) -> None:
    """IAC pushes its commit to the push branch, then again with spec.git.push.refspec (source.go
    :356-363): a refspec into main deploys Flux's commit from flux-updates, as git.flux-commit and
    `lab why` read it; the sandbox (and `lab simulate`) pushed to the push branch only."""
    push = "    push:\n      branch: flux-updates\n      refspec: refs/heads/flux-updates:refs/heads/main\n"
    text = edited(solution_text(UPDATE), "    push:\n      branch: main\n", push)
    harness.push_update(text)
    _run(harness)
    status = harness.status()
    assert harness.ready() == ("True", "Succeeded", "repository up-to-date")
    assert status["lastPushCommit"] == harness.head("flux-updates") == harness.head("main")
    assert "library/nginx:1.25.3" in git(harness.origin, "show", f"main:{DEPLOY}")
    events = [e["message"] for e in harness.api.list("Event", NS) if e["reason"] == "Succeeded"]
    assert events[-1].startswith(
        f"pushed commit '{status['lastPushCommit'][:7]}' to branch 'flux-updates' and refspecs "
        "'refs/heads/flux-updates:refs/heads/main'\nAutomated image update"
    ), events


def test_a_switched_branch_forces_the_refspec_push_too(harness: Harness) -> None:
    """IAC forces the push when it switches branch (imageupdateautomation_controller.go: `if
    r.features[features.GitForcePushBranch] && sm.SwitchBranch() { pushCfg = append(pushCfg,
    source.WithPushConfigForce()) }`), and the refspec push reuses that pushConfig, whose Force go-git
    applies to every refspec: a diverged refspec destination is overwritten, where the lab said
    'push rejected'."""
    diverged = git(harness.origin, "commit-tree", "main^{tree}", "-p", "main", "-m", "release only")
    git(harness.origin, "update-ref", "refs/heads/release", diverged)
    push = (
        "    push:\n      branch: flux-updates\n      refspec: refs/heads/flux-updates:refs/heads/release\n"
    )
    harness.push_update(edited(solution_text(UPDATE), "    push:\n      branch: main\n", push))
    _run(harness)
    assert harness.ready() == ("True", "Succeeded", "repository up-to-date")
    assert harness.status()["lastPushCommit"] == harness.head("flux-updates") == harness.head("release")


def test_the_push_branch_is_derived_from_the_clusters_object(harness: Harness) -> None:
    """IAC derives the push branch from the ImageUpdateAutomation it reconciles (configurePush), by the
    rule `lab simulate` uses: a checkout.ref that pins a tag, with no push.branch, names none, whatever
    branch the GitRepository follows (the controller pushed to the GitRepository's branch)."""
    checkout = "    checkout:\n      ref:\n        branch: main\n"
    text = edited(solution_text(UPDATE), checkout, checkout.replace("branch: main", "tag: v1.0.0"))
    harness.api.put(yaml.safe_load(edited(text, "    push:\n      branch: main\n", "")))
    before = harness.head()
    _run(harness)
    assert harness.ready() == (
        "False",
        "SourceManagerFailed",
        "failed configuring source manager: push spec not provided, and cannot be inferred from "
        ".spec.git.checkout.ref or GitRepository .spec.ref",
    )
    assert harness.head() == before


def test_nothing_changed_skips_the_sync_even_on_request(harness: Harness) -> None:
    """Flux short-circuits when the policies are unchanged and the checkout branch's head is the
    observed revision (:415-443); a reconcile request or a new generation does not force a full sync."""
    _run(harness)
    runs = harness.controller.runs
    obj = harness.api.get(IUA, "flux-system", NS)
    assert obj is not None
    requested = copy.deepcopy(obj)
    requested["metadata"].setdefault("annotations", {})["reconcile.fluxcd.io/requestedAt"] = "now"
    harness.api.put(requested)
    _run(harness)
    assert harness.controller.runs == runs
    assert harness.status()["lastHandledReconcileAt"] == "now"
    assert harness.ready() == ("True", "Succeeded", "repository up-to-date")


@pytest.mark.parametrize(
    ("template", "reason", "message", "stalled"),
    [
        (
            "{{range .Updated.Images}}{{println .}}{{end}}",
            "RemovedTemplateField",
            "template uses removed '.Updated' field. Please use '.Changed' instead. See: "
            "https://fluxcd.io/flux/components/image/imageupdateautomations/#message-template",
            True,
        ),
        (
            "{{ .Foo }}",
            "GitOperationFailed",
            'failed to update source: failed to run template from spec: template: commit message:1:3: executing "commit message" at <.Foo>: can\'t evaluate field Foo in type source.TemplateData',
            False,
        ),
    ],
    ids=["removed-field", "bad-field"],
)
def test_template_failures_in_the_controllers_words(
    harness: Harness, template: str, reason: str, message: str, stalled: bool
) -> None:
    """Ready's reason and message are the controller's (:494-507): a removed template field stalls
    with RemovedTemplateField and the RemovedTemplateFieldError text; another template error is
    GitOperationFailed 'failed to update source: ...'. The sandbox wrote GitOperationFailed with
    the lab's own 'RemovedTemplateField: ...' text for both."""
    text = solution_text(UPDATE)
    start = text.index("      messageTemplate: |")
    end = text.index("    push:")
    harness.push_update(text[:start] + f"      messageTemplate: '{template}'\n" + text[end:])
    _run(harness)
    conditions = harness.conditions()
    assert conditions["Ready"] == ("False", reason, message)
    if stalled:
        assert conditions["Stalled"] == ("True", reason, message)
        assert "Reconciling" not in conditions
    else:
        assert "Stalled" not in conditions
        assert conditions["Reconciling"][:2] == ("True", "ProgressingWithRetry")
    assert "observedPolicies" not in harness.status()


def test_observed_policies_are_the_ones_the_selector_picks(harness: Harness) -> None:
    """IAC getPolicies lists the namespace's ImagePolicies with spec.policySelector (:560-584); the
    sandbox recorded every policy of the namespace."""
    text = edited(
        solution_text(UPDATE),
        "  update:\n",
        "  policySelector:\n    matchLabels:\n      app: other\n  update:\n",
    )
    harness.push_update(text)
    _run(harness)
    assert harness.ready() == ("True", "Succeeded", "repository up-to-date")
    assert harness.status()["observedPolicies"] == {}


def test_an_unusable_policy_selector_stalls_in_the_controllers_words(harness: Harness) -> None:
    selector = "  policySelector:\n    matchExpressions:\n      - key: app\n        operator: In\n        values: []\n"
    harness.push_update(edited(solution_text(UPDATE), "  update:\n", selector + "  update:\n"))
    _run(harness)
    message = (
        "failed to parse policy selector: values: Invalid value: []string{}: "
        "for 'in', 'notin' operators, values set can't be empty"
    )
    assert harness.conditions()["Ready"] == ("False", "InvalidPolicySelector", message)
    assert harness.conditions()["Stalled"] == ("True", "InvalidPolicySelector", message)


def test_a_retried_failure_leaves_observed_generation_a_stall_moves_it(harness: Harness) -> None:
    """Flux writes status.observedGeneration only for a reconcile that succeeded or stalled (fluxcd/pkg
    runtime/reconcile AddPatchOptions, used by the controller's deferred patch at :217): a failure it
    retries keeps the last one, with Ready=False for the new generation; lastHandledReconcileAt is the
    request either way."""
    _run(harness)
    assert harness.status()["observedGeneration"] == 1
    text = solution_text(UPDATE)
    start, end = text.index("      messageTemplate: |"), text.index("    push:")
    # Something for Flux to commit again (the template is rendered only then): the learner sets 1.25.0.
    git(harness.ws, "pull", "-q", "--rebase")
    deploy = harness.ws / DEPLOY
    deploy.write_text(edited(deploy.read_text(), "nginx:1.25.3", "nginx:1.25.0"), encoding="utf-8")
    git(harness.ws, "commit", "-qam", "back to 1.25.0")
    harness.push_update(text[:start] + "      messageTemplate: '{{ .Foo }}'\n" + text[end:])
    obj = harness.api.get(IUA, "flux-system", NS)
    assert obj is not None and obj["metadata"]["generation"] == 2
    obj["metadata"].setdefault("annotations", {})["reconcile.fluxcd.io/requestedAt"] = "t1"
    harness.api.put(obj)
    _run(harness)
    status = harness.status()
    ready = next(c for c in status["conditions"] if c["type"] == "Ready")
    assert (ready["status"], ready["reason"], ready["observedGeneration"]) == (
        "False",
        "GitOperationFailed",
        2,
    )
    # The step's message stays (IAC v1.2.1 :308-310), the reason is the retry's (:282-289).
    retrying = ("True", "ProgressingWithRetry", "processing object: new generation 1 -> 2")
    assert harness.conditions()["Reconciling"] == retrying
    assert status["observedGeneration"] == 1
    assert status["lastHandledReconcileAt"] == "t1"
    _run(harness)
    assert harness.conditions()["Reconciling"] == retrying, "retried, the generation is still new"

    removed = "{{range .Updated.Images}}{{println .}}{{end}}"
    harness.push_update(text[:start] + f"      messageTemplate: '{removed}'\n" + text[end:])
    _run(harness)
    assert harness.conditions()["Stalled"][:2] == ("True", "RemovedTemplateField")
    assert harness.status()["observedGeneration"] == 3


def test_a_retried_failure_keeps_the_message_of_its_last_step(harness: Harness) -> None:
    """IAC v1.2.1 imageupdateautomation_controller.go: the reconcile sets Reconciling "reconciliation in
    progress" (:299), "processing object: new generation <observed> -> <generation>" when
    status.observedGeneration is behind (:308-310: 0 before the first settled reconcile), and a failure
    leaves that message with the reason ProgressingWithRetry (:282-289)."""
    harness.api.delete("GitRepository", "flux-system", NS)
    for _ in range(2):
        _run(harness)
        assert harness.ready()[:2] == ("False", "SourceManagerFailed")
        assert harness.conditions()["Reconciling"] == (
            "True",
            "ProgressingWithRetry",
            "processing object: new generation 0 -> 1",
        )


def test_a_failure_at_the_settled_generation_is_reconciliation_in_progress(harness: Harness) -> None:
    _run(harness)
    assert harness.status()["observedGeneration"] == 1
    harness.api.delete("GitRepository", "flux-system", NS)
    _run(harness)
    assert harness.ready()[:2] == ("False", "SourceManagerFailed")
    assert harness.conditions()["Reconciling"] == (
        "True",
        "ProgressingWithRetry",
        "reconciliation in progress",
    )
