"""Where image-automation-controller pushes (internal/source/git.go `buildGitConfig`, `configurePush`):
push.branch, else the branch of the ref it checks out, which is spec.git.checkout.ref whole when set
and the GitRepository's spec.ref otherwise; a push refspec pushes the commit a second time. One rule
(`ImageUpdateAutomation.effective_push_branch`, `refspec_branch`, `lab.core.reconcile.branches`) for
`lab simulate`, the sandbox, the checks, validation, diagnosis and `lab why`."""

from __future__ import annotations

import pytest

from lab.core.manifests.models import AutomationSet
from lab.core.manifests.parse import find_automation
from lab.core.manifests.validate import validate
from lab.core.reconcile import branches, checkout_tag, switches_branch
from lab.errors import LabError

SOURCE = """apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: flux-system, namespace: flux-system}
spec:
  interval: 1m
  url: ssh://git@example.com/lab.git
  ref: {branch: main}
"""
AUTOMATION = """apiVersion: image.toolkit.fluxcd.io/v1
kind: ImageUpdateAutomation
metadata: {name: flux-system, namespace: flux-system}
spec:
  interval: 1m
  sourceRef: {kind: GitRepository, name: flux-system}
  git:
GIT
    commit:
      author: {name: Flux, email: flux@example.com}
  update: {path: ./apps, strategy: Setters}
"""


def _aset(git: str) -> AutomationSet:
    return find_automation({"sync.yaml": SOURCE, "update.yaml": AUTOMATION.replace("GIT\n", git)})


@pytest.mark.parametrize(
    ("git", "expected"),
    [
        ("    push: {branch: flux-updates}\n", ("main", "flux-updates")),
        ("    checkout: {ref: {branch: dev}}\n", ("dev", "dev")),
        ("", ("main", "main")),
        ("    checkout: {ref: {tag: v1.0.0}}\n    push: {branch: flux-updates}\n", ("main", "flux-updates")),
    ],
    ids=["push-branch", "checkout-branch", "source-branch", "tag-checkout-push-branch"],
)
def test_the_push_branch_in_iacs_order(git: str, expected: tuple[str, str]) -> None:
    aset = _aset(git)
    iua = aset.automations[0]
    assert branches(aset, iua) == expected
    assert iua.effective_push_branch(aset.git_repositories[0]) == expected[1]


@pytest.mark.parametrize(
    ("git", "source_ref", "tag"),
    [
        (
            "    checkout: {ref: {tag: v1.0.0}}\n    push: {branch: flux-updates}\n",
            "{branch: main}",
            "v1.0.0",
        ),
        ("    push: {branch: flux-updates}\n", "{tag: v2.0.0}", "v2.0.0"),
        ("    checkout: {ref: {branch: dev}}\n", "{tag: v2.0.0}", None),  # checkout.ref is taken whole
        ("    push: {branch: flux-updates}\n", "{branch: main}", None),
    ],
)
def test_the_tag_iac_clones_comes_from_the_same_ref_as_its_branch(
    git: str, source_ref: str, tag: str | None
) -> None:
    aset = find_automation(
        {
            "sync.yaml": SOURCE.replace("{branch: main}", source_ref),
            "update.yaml": AUTOMATION.replace("GIT\n", git),
        }
    )
    assert checkout_tag(aset, aset.automations[0]) == tag


@pytest.mark.parametrize(
    ("git", "switch"),
    [
        ("    push: {branch: flux-updates}\n", True),
        ("    push: {branch: main}\n", False),
        ("", False),
        ("    checkout: {ref: {branch: dev}}\n", False),
        ("    checkout: {ref: {tag: v1.0.0}}\n    push: {branch: main}\n", True),
        ("    checkout: {ref: {}}\n    push: {branch: main}\n", True),
    ],
    ids=["push-branch", "same-branch", "source-branch", "checkout-branch", "tag-checkout", "empty-ref"],
)
def test_the_branch_switch_as_configurepush_sets_it(git: str, switch: bool) -> None:
    """configurePush (internal/source/git.go): `if checkoutRef != nil { if cfg.pushBranch !=
    checkoutRef.Branch { cfg.switchBranch = true } }`. A checkout.ref that pins a tag has branch "", so
    push.branch main switches (full sync, forced push); the lab compared main with the GitRepository's
    branch and did not."""
    aset = _aset(git)
    assert switches_branch(aset, aset.automations[0]) is switch


def test_an_empty_checkout_ref_is_taken_whole() -> None:
    """`checkout: {ref: {}}` is a checkout ref with no branch (IAC takes &gitSpec.Checkout.Reference):
    without push.branch Flux fails 'push spec not provided'; the lab fell back to the GitRepository's."""
    aset = _aset("    checkout: {ref: {}}\n")
    iua = aset.automations[0]
    assert iua.effective_push_branch(aset.git_repositories[0]) is None
    with pytest.raises(LabError, match="push spec not provided"):
        branches(aset, iua)


def test_a_checkout_ref_without_a_branch_does_not_fall_back_to_the_sources() -> None:
    """IAC takes spec.git.checkout.ref whole: a tag there and no push.branch cannot name a push branch,
    whatever branch the GitRepository follows (the lab pushed to the GitRepository's)."""
    aset = _aset("    checkout: {ref: {tag: v1.0.0}}\n")
    iua = aset.automations[0]
    assert iua.effective_push_branch(aset.git_repositories[0]) is None
    with pytest.raises(LabError, match="push spec not provided, and cannot be inferred"):
        branches(aset, iua)
    problems = [p for p in validate(aset) if p.code == "push.branch"]
    assert problems and "push spec not provided" in problems[0].message


@pytest.mark.parametrize(
    ("refspec", "branch"),
    [
        ("refs/heads/flux-updates:refs/heads/main", "main"),
        ("+refs/heads/flux-updates:refs/heads/release", "release"),
        ("refs/heads/main", "main"),
        ("refs/heads/flux-updates:refs/tags/v1", None),
        (None, None),
    ],
)
def test_the_refspec_destination(refspec: str | None, branch: str | None) -> None:
    git = "    push:\n      branch: flux-updates\n" + (f"      refspec: {refspec}\n" if refspec else "")
    assert _aset(git).automations[0].refspec_branch == branch


def test_diagnosis_names_the_checkout_ref_that_pins_a_tag() -> None:
    """The finding blamed the GitRepository ('pinned to no branch') when the automation's own checkout.ref
    was what pinned a tag."""
    from lab.core.diagnose import Inputs, diagnose

    found = [
        f
        for f in diagnose(Inputs(_aset("    checkout: {ref: {tag: v1.0.0}}\n")))
        if f.id == "push.branch-unknown"
    ]
    assert [f.message for f in found] == [
        "no push branch: spec.git.push is not set, the checkout has no branch, and spec.git.checkout.ref "
        "is pinned to tag v1.0.0"
    ]


def test_why_says_a_refspec_into_the_synced_branch_deploys() -> None:
    """A refspec into the branch the cluster syncs deploys Flux's commit (IAC pushes it a second time):
    `lab why` said it waits on a merge."""
    from lab.core.diagnose import Inputs, diagnose
    from lab.core.why import Facts, walk

    aset = _aset(
        "    push:\n      branch: flux-updates\n      refspec: refs/heads/flux-updates:refs/heads/main\n"
    )
    facts = Facts(aset, {}, (), diagnose(Inputs(aset)), None, "no tags")
    push = next(link for link in walk(facts, "static").links if link.name == "push")
    assert (
        push.evidence[0]
        == "flux-system/flux-system pushes to branch flux-updates and with its refspec to main"
    )
    assert not any("until they are merged" in e for e in push.evidence)
