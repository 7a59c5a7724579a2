"""Flux's reconcile rules for the three image controllers, without any I/O.

What image-reflector-controller decides for an ImagePolicy from the tags its ImageRepository stored
(`resolve_policies`, with Flux's condition reasons and messages), and how image-automation-controller
derives the checkout and push branches and the commit author. `lab simulate` (through
`lab.adapters.automation`) and the sandbox's controllers both run these rules, so they live here once.
Tags reach the rules through a port, `TagSource`: a tags file, the bundled snapshot, a registry scan
or the sandbox's database are all one callable. Digests of policies that reflect them
(`digestReflectionPolicy` IfNotPresent or Always) come through another, `DigestSource`: a registry's
HEAD request, or offline the digest the lab's own registry serves (`lab.core.oci.lab_digest`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import field

from lab.core.manifests.models import (
    IMAGE_GROUP,
    AutomationSet,
    GitRepository,
    ImagePolicy,
    ImageRepository,
    ImageUpdateAutomation,
)
from lab.core.record import dataclass
from lab.core.refs import Change, ImageRef
from lab.errors import LabError

__all__ = [
    "IMAGE_GROUP",
    "DigestSource",
    "PolicyResolution",
    "SimulationResult",
    "TagSource",
    "applies",
    "author",
    "branches",
    "checkout_tag",
    "refuse_invalid_refs",
    "resolve_policies",
    "yaml_texts",
]

TagSource = Callable[[str, Sequence[str]], list[str]]
"""(image, exclusion list) -> the tags the ImageRepository stores, as the reflector would scan them."""

DigestSource = Callable[[str, str], str]
"""(ImageRepository spec.image, tag) -> the manifest digest `sha256:...` (remote.Head in the reflector);
raises LabError when the registry cannot say."""

REFLECTS_DIGEST = ("IfNotPresent", "Always")


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
    digest: str = ""
    """`status.latestRef.digest`: set only when the policy reflects digests."""


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
    error: str = ""  # this automation failed (the others still ran, as each reconciles on its own)
    failure: LabError | None = None
    """The failure behind `error`, with what Flux would report (a `CommitTemplateError`'s reason)."""
    refspecs: tuple[str, ...] = ()
    """spec.git.push.refspec, when the commit was pushed with it too."""

    def push_summary(self) -> str:
        """How IAC's PushResult.Summary() (its event and notification) starts: "pushed commit 'abc1234'
        to branch 'main'", and " and refspecs '...'" when it pushed with the refspec too."""
        said = f"pushed commit '{(self.commit_sha or '')[:7]}' to branch '{self.branch}'"
        joined = "', '".join(self.refspecs)
        return f"{said} and refspecs '{joined}'" if self.refspecs else said

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
            "refspecs": list(self.refspecs),
            "files": self.files,
            "error": self.error,
        }


def yaml_texts(tree: Mapping[str, bytes]) -> dict[str, str]:
    """The YAML files of a tree as text (what kustomize-controller would read; others are ignored)."""
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
    aset: AutomationSet,
    namespace: str,
    tag_source: TagSource,
    digest_source: DigestSource | None = None,
    previous: Mapping[str, ImageRef] | None = None,
) -> tuple[list[PolicyResolution], dict[str, ImageRef]]:
    """Evaluate every ImagePolicy of `namespace` as image-reflector-controller would.

    Returns each policy's outcome and the setters for the ready ones, keyed "namespace:name".
    Each ImageRepository is scanned once, however many policies use it. `digest_source` (default: the
    lab's registry, `lab.core.oci.lab_digest`) answers for policies that reflect digests; `previous`
    ("namespace:name" -> its last `latestRef`) lets IfNotPresent keep a digest it already has.
    """
    repos = {(r.namespace, r.name): r for r in aset.repositories}
    scanned: dict[tuple[str, str], list[str]] = {}
    resolutions: list[PolicyResolution] = []
    setters: dict[str, ImageRef] = {}
    for pol in aset.policies:
        if pol.namespace != namespace:
            continue
        resolution = _resolve_one(pol, repos, scanned, tag_source)
        key = f"{pol.namespace}:{pol.name}"
        if resolution.tag is not None and (pol.digest_reflection_policy or "Never") in REFLECTS_DIGEST:
            resolution = _with_digest(pol, resolution, digest_source, (previous or {}).get(key))
        resolutions.append(resolution)
        if resolution.tag is not None:
            setters[key] = ImageRef(name=resolution.image, tag=resolution.tag, digest=resolution.digest)
    return resolutions, setters


def _with_digest(
    pol: ImagePolicy, res: PolicyResolution, digest_source: DigestSource | None, previous: ImageRef | None
) -> PolicyResolution:
    """IRC `updateImageRefs`: IfNotPresent keeps the digest of an unchanged name and tag, Always (and
    IfNotPresent after a change) asks the registry; a failed request fails the policy."""
    from dataclasses import replace

    from lab.core.policy import ready_message

    assert res.tag is not None
    same = previous is not None and (previous.name, previous.tag) == (res.image, res.tag)
    if pol.digest_reflection_policy == "IfNotPresent" and same and previous is not None and previous.digest:
        digest = previous.digest
    else:
        if digest_source is None:
            from lab.core.oci import lab_digest

            digest_source = lab_digest
        try:
            digest = digest_source(res.image, res.tag)
        except LabError as err:
            return replace(
                res,
                tag=None,
                ready=False,
                reason="Failure",
                message=f"failed fetching digest of {res.image}:{res.tag}: {err.message}",
            )
    return replace(res, digest=digest, message=ready_message(res.image, res.tag, digest))


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

    repo = repos.get(pol.repository_key)
    if repo is None:
        return not_ready(
            "",
            "DependencyNotReady",
            "failed to get the referred ImageRepository: referenced ImageRepository does not "
            f'exist: ImageRepository.{IMAGE_GROUP} "{pol.repository_ref}" not found',
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


def _source_of(aset: AutomationSet, iua: ImageUpdateAutomation) -> GitRepository:
    repos = {(g.namespace, g.name): g for g in aset.git_repositories}
    git_repo = repos.get(iua.source_key)
    if git_repo is None:
        raise LabError(
            "failed configuring source manager: referenced git repository does not exist: "
            f'GitRepository.source.toolkit.fluxcd.io "{iua.source_name}" not found',
            hint="spec.sourceRef.name must name the GitRepository bootstrap created (flux-system)",
        )
    return git_repo


def switches_branch(aset: AutomationSet, iua: ImageUpdateAutomation) -> bool:
    """Whether image-automation-controller switches to the push branch (a full sync, a forced push):
    configurePush sets it when push.branch differs from the branch of the checkout ref ("" for a ref
    that pins a tag or commit), or from git.DefaultBranch ("master") with no ref at all."""
    if not iua.push_branch:
        return False  # the push branch is the checkout ref's own
    git_repo = _source_of(aset, iua)
    has_ref = iua.checkout_given or any((git_repo.branch, git_repo.tag, git_repo.semver, git_repo.commit))
    return iua.push_branch != ((iua.checkout_ref_branch(git_repo) or "") if has_ref else "master")


def branches(aset: AutomationSet, iua: ImageUpdateAutomation) -> tuple[str, str]:
    """Checkout and push branch as image-automation-controller derives them."""
    git_repo = _source_of(aset, iua)
    # A checkout.ref that pins a commit is cloned from the GitRepository's branch (Flux clones the
    # ref itself, then switches to the push branch); one that pins a tag is cloned (`checkout_tag`).
    checkout = iua.checkout_branch or git_repo.branch
    push = iua.effective_push_branch(git_repo)
    if not push:
        raise LabError(
            "failed configuring source manager: push spec not provided, and cannot be inferred from "
            ".spec.git.checkout.ref or GitRepository .spec.ref",
            hint="set spec.git.push.branch (e.g. main)",
        )
    return checkout or "master", push


def checkout_tag(aset: AutomationSet, iua: ImageUpdateAutomation) -> str | None:
    """The tag image-automation-controller clones when its checkout ref pins one (spec.git.checkout.ref,
    else the GitRepository's spec.ref): a push branch the remote lacks starts from that tag's commit,
    not from the GitRepository's branch."""
    return iua.checkout_ref_tag(_source_of(aset, iua))


def author(iua: ImageUpdateAutomation) -> tuple[str, str]:
    """Flux requires the email; git (unlike go-git) refuses an empty name, so fall back to the email."""
    if not iua.author_email:
        raise LabError(
            f"ImageUpdateAutomation {iua.namespace}/{iua.name} has no spec.git.commit.author.email",
            hint="set spec.git.commit.author.email (e.g. flux@gitops-lab.local)",
            file=iua.file or None,
            line=iua.line or None,
        )
    return iua.author_name or iua.author_email, iua.author_email


def applies(iua: ImageUpdateAutomation, policy: ImagePolicy) -> bool:
    """Whether the automation applies `policy`'s setters: it lists ImagePolicies in its own namespace
    only (IAC controller), narrowed by `spec.policySelector`, a Kubernetes label selector."""
    from lab.core.diagnose import selector_matches, selector_problem

    if policy.namespace != iua.namespace:
        return False
    selector = iua.doc.get("spec.policySelector") if iua.doc is not None else None
    if selector_problem(selector) is not None:
        return False  # the automation stalls: it applies nothing
    if not isinstance(selector, dict):
        return True
    raw = policy.doc.get("metadata.labels") if policy.doc is not None else None
    labels = {str(k): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}
    return selector_matches(selector, labels)


def setters_for(
    aset: AutomationSet, iua: ImageUpdateAutomation, setters: Mapping[str, ImageRef]
) -> dict[str, ImageRef]:
    """The resolved setters ("ns:name" -> ImageRef) this automation applies; LabError with Flux's
    message when its policySelector cannot be parsed (the automation stalls)."""
    from lab.core.diagnose import selector_problem

    unusable = selector_problem(iua.doc.get("spec.policySelector") if iua.doc is not None else None)
    if unusable is not None:
        raise LabError(
            unusable,
            hint="matchLabels: {env: staging}, or matchExpressions with In, NotIn, Exists or DoesNotExist",
            file=iua.file or None,
            line=iua.line_of("spec.policySelector") or None,
        )
    chosen = {f"{p.namespace}:{p.name}" for p in aset.policies if applies(iua, p)}
    return {k: v for k, v in setters.items() if k in chosen}


def refuse_invalid_refs(setters: Mapping[str, ImageRef]) -> None:
    """image-automation-controller's check before it rewrites anything (setters.go, UpdateV2WithSetters):
    each selected policy's latestRef must parse as an image reference, else the whole update fails
    with `encountered invalid image ref` and nothing is committed. A registry may list any string as
    a tag: the reflector stores and a policy may select it, so this is where Flux stops a tag such as
    `1.25.9\x1b[2J` (or one of 300 characters) from reaching Git."""
    from lab.core.gostrconv import quote
    from lab.core.imagename import parse_reference
    from lab.core.text import escape_controls

    for key, ref in setters.items():
        image = ref.full()
        if parse_reference(image) is None:
            raise LabError(
                f"encountered invalid image ref {quote(image)}: could not parse reference: "
                f"{escape_controls(image)}",
                hint=f"ImagePolicy {key.replace(':', '/', 1)} selected a tag that is not an OCI tag "
                "([a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}): narrow its spec.filterTags.pattern, or exclude "
                "the tag with the ImageRepository's spec.exclusionList",
            )
