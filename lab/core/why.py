"""`lab why`: walk Flux's chain and say at which link nothing happened, and why. Pure.

The chain is controllers -> scan -> policy -> automation -> markers -> path -> push -> origin. Each link
is judged from the facts a service gathered (the repository, the registry's or a bundled tag list, the
live objects of a cluster or the sandbox when there is one, git's view of origin) and the findings of
`lab.core.diagnose`. The verdict is the first broken link: the one a learner must fix first.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import field, replace
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from lab.core.diagnose import Finding, marker_sites, norm_path, resolved_tags, under
from lab.core.fluxsource import fix_for_message
from lab.core.imagename import spelling_hint
from lab.core.manifests.models import (
    IMAGE_CONTROLLERS,
    AutomationSet,
    FluxObject,
    ImagePolicy,
    ImageRepository,
    Problem,
)
from lab.core.marker import marker_for, policy_ref_for
from lab.core.record import dataclass

if TYPE_CHECKING:
    from lab.core.fluxget import ControllerStatus

_Obj = TypeVar("_Obj", bound=FluxObject)
LinkName = Literal["controllers", "scan", "policy", "automation", "markers", "path", "push", "origin"]
LINKS: tuple[LinkName, ...] = (
    "controllers",
    "scan",
    "policy",
    "automation",
    "markers",
    "path",
    "push",
    "origin",
)
State = Literal["ok", "broken", "unknown", "skipped"]


@dataclass(frozen=True)
class Link:
    name: LinkName
    state: State
    summary: str
    evidence: tuple[str, ...] = ()
    fix: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "link": self.name,
            "state": self.state,
            "summary": self.summary,
            "evidence": list(self.evidence),
            "fix": self.fix,
        }


@dataclass(frozen=True)
class Live:
    """A cluster's (or the sandbox's) answer; `error` when it could not be asked."""

    where: str
    controllers: tuple[ControllerStatus, ...] = ()
    served: str | None = None
    objects: Mapping[str, Sequence[Mapping[str, Any]]] = field(default_factory=dict)
    error: str | None = None


@dataclass(frozen=True)
class Origin:
    """git's view: the branch Flux pushes to on origin, what of the learner's work is not there, Flux's
    commits on it (newest first: (short sha, subject))."""

    branch: str
    reachable: bool = True
    error: str | None = None
    not_pushed: tuple[str, ...] = ()
    uncommitted: tuple[str, ...] = ()  # those of not_pushed that differ from the last commit too
    flux_commits: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ScanFailure:
    """Why an image's registry gave no tags: its error in the lab's words (as `lab simulate` and
    `lab check` say it), what to do, and the ImageRepository's message in Flux (`scan failed: ...`)."""

    message: str
    hint: str = ""
    flux: str = ""
    unreachable: bool = False
    """The lab could not reach the registry and the task's bundled tags stand in: whether Flux's cluster
    reaches it is not known from here."""


@dataclass(frozen=True)
class Facts:
    aset: AutomationSet
    files: Mapping[str, str]
    """Every file mentioning `imagepolicy` (the markers' files)."""
    problems: Sequence[Problem]
    """`lab.core.manifests.validate` problems of `aset`."""
    findings: Sequence[Finding]
    tags: Mapping[str, Sequence[str]] | None
    tags_source: str
    scan_errors: Mapping[str, ScanFailure] = field(default_factory=dict)
    missing_dirs: frozenset[str] = frozenset()
    """update.path values (normalised) that are not directories of the repository."""
    live: Live | None = None
    origin: Origin | None = None
    unread: Mapping[str, str] = field(default_factory=dict)
    """YAML files the lab could not read (path -> why: a symlink, not a regular file, too large, binary)."""
    newest: Mapping[str, Sequence[str]] = field(default_factory=dict)
    """image -> the tags published last (the sandbox's latest push), when known: the policy link says
    why the policy picks them or not, the question a new tag without a Flux commit raises."""
    generate: Mapping[str, str] = field(default_factory=dict)
    """The task's `[generate]` table: the policy a hint names when the repository has none yet."""
    update_path: str = "./apps"
    """The update.path of the task's solution, the one a hint offers as an example (./apps would also
    walk production in a task that keeps the automation out of it)."""
    sync_failure: Link | None = None
    """The flux-system Kustomization failing to build the path holding the automation objects (a file it
    cannot decode): they never reach the cluster, whatever they say."""


@dataclass(frozen=True)
class Report:
    links: tuple[Link, ...]
    mode: str

    @property
    def broken(self) -> Link | None:
        return next((link for link in self.links if link.state == "broken"), None)

    def verdict(self) -> str:
        first = self.broken
        if first is not None:
            return f"nothing happened at '{first.name}': {first.summary}"
        origin = next(link for link in self.links if link.name == "origin")
        unchecked = [
            f"'{link.name}'" for link in self.links if link.state == "unknown" and link is not origin
        ]
        said = (
            f"every link holds: {origin.summary}"
            if origin.state == "ok" and not unchecked
            else "no broken link found"
            + (f" ({', '.join(unchecked)} could not be checked)" if unchecked else "")
            + "; "
            + origin.summary
        )
        return said + self._newest_passed_over()

    def _newest_passed_over(self) -> str:
        """'; no policy picks the tags published last (...)': the question a new tag raises, answered."""
        policy = next((link for link in self.links if link.name == "policy"), None)
        evidence = policy.evidence if policy is not None else ()
        heads = [e for e in evidence if e.startswith(NEWEST)]
        if not heads or any(e.startswith("  ") and ": selected by the policy" in e for e in evidence):
            return ""
        tags = heads[0].partition(": ")[2].partition(";")[0]
        return f"; no policy picks the tags published last ({tags}): the policy link says why"

    def to_dict(self) -> dict[str, Any]:
        first = self.broken
        return {
            "mode": self.mode,
            "broken": first.name if first else None,
            "verdict": self.verdict(),
            "links": [link.to_dict() for link in self.links],
        }


# --- helpers -------------------------------------------------------------------------------------------


def _problem_text(p: Problem) -> str:
    return f"{p.location()}: {p.message}"


def _errors_of(facts: Facts, kind: str) -> list[Problem]:
    files_of_kind = {(o.file, o.line) for o in facts.aset.all_objects() if type(o).__name__ == kind}
    # A finding of diagnose() at the same place says it with Flux's words: do not say it twice.
    said = {(f.file, f.line) for f in facts.findings if f.breaking}
    out: list[Problem] = []
    for p in facts.problems:
        if p.severity != "error" or (p.file, p.line) in said or _other_environment(p):
            continue
        owner = _owner(facts.aset, p)
        if owner is not None and (owner.file, owner.line) in files_of_kind:
            out.append(p)
    return out


def _other_environment(p: Problem) -> bool:
    """A 'defined twice' whose other definition is another cluster's directory (clusters/<env>/...):
    two clusters, two objects."""
    m = re.search(r"\(also ([^:)]+):\d+\)", p.message)
    if p.code != "duplicate" or m is None:
        return False
    return p.file.split("/")[:2] != m.group(1).split("/")[:2]


def _owner(aset: AutomationSet, p: Problem) -> Any:
    same = sorted((o for o in aset.all_objects() if o.file == p.file), key=lambda o: o.line)
    before = [o for o in same if o.line <= (p.line or 0)]
    return before[-1] if before else (same[0] if same else None)


def _findings(facts: Facts, link: str) -> list[Finding]:
    return [f for f in facts.findings if f.link == link]


def _broken_by_findings(name: LinkName, found: Sequence[Finding]) -> Link | None:
    breaking = [f for f in found if f.breaking]
    if not breaking:
        return None
    first = breaking[0]
    evidence = [f"{f.location()}: {f.message}" for f in breaking] + [f"Flux: {first.flux}"]
    return Link(name, "broken", first.message, tuple(evidence), first.fix)


def _advice(found: Sequence[Finding]) -> tuple[str, ...]:
    return tuple(f"advisory {f.location()}: {f.message}" for f in found if not f.breaking)


def _condition(obj: Mapping[str, Any], type_: str) -> Mapping[str, Any] | None:
    status = obj.get("status")
    conds = status.get("conditions") if isinstance(status, Mapping) else None
    for c in conds if isinstance(conds, list) else []:
        if isinstance(c, Mapping) and c.get("type") == type_:
            return c
    return None


def _live_object(facts: Facts, kind: str, namespace: str, name: str) -> Mapping[str, Any] | None:
    if facts.live is None or facts.live.error:
        return None
    for obj in facts.live.objects.get(kind, ()):
        meta = obj.get("metadata") or {}
        if meta.get("name") == name and meta.get("namespace") == namespace:
            return obj
    return None


_LINK_OF: dict[str, LinkName] = {
    "ImageRepository": "scan",
    "ImagePolicy": "policy",
    "ImageUpdateAutomation": "automation",
}


def _live_state(
    facts: Facts, kind: str, namespace: str, name: str
) -> tuple[str, str, str] | Literal["missing"] | None:
    """(status, reason, message) of the live object's Ready condition; "missing" when the cluster does not
    have it; None when there is no cluster to ask."""
    if facts.live is None or facts.live.error:
        return None
    obj = _live_object(facts, kind, namespace, name)
    if obj is None:
        return "missing"
    stalled = _condition(obj, "Stalled")
    if stalled is not None and stalled.get("status") == "True":
        return "Stalled", str(stalled.get("reason", "")), str(stalled.get("message", ""))
    ready = _condition(obj, "Ready")
    if ready is None:
        return "Unknown", "", "waiting to be reconciled"
    return str(ready.get("status", "")), str(ready.get("reason", "")), str(ready.get("message", ""))


def _not_in_cluster(facts: Facts, kind: str, ref: str) -> Link:
    pushed = facts.origin is not None and not facts.origin.not_pushed
    evidence = (f"kubectl get {kind.lower()} -n {ref.split('/')[0]}: not found",)
    failing = _live_state(facts, "Kustomization", "flux-system", "flux-system") if pushed else None
    if isinstance(failing, tuple) and failing[0] in ("False", "Stalled"):
        _, reason, message = failing
        return Link(
            _LINK_OF[kind],
            "broken",
            f"{kind} {ref} is not in the cluster: the flux-system Kustomization fails ({reason}: {message})",
            (*evidence, f"kubectl get kustomization flux-system -n flux-system: {reason}: {message}"),
            "fix what the Kustomization says (its spec.path must be a folder on origin that holds your "
            "objects), then `lab reconcile`",
        )
    why = (
        "the flux-system Kustomization has not applied it yet"
        if pushed
        else "it is not pushed, and Flux applies what is on origin"
    )
    return Link(
        _LINK_OF[kind],
        "broken",
        f"{kind} {ref} is not in the cluster: {why}",
        evidence,
        "commit and push, then `lab reconcile` or wait for the flux-system Kustomization"
        if not pushed
        else "wait for the flux-system Kustomization, or check `kubectl get kustomization -n flux-system`",
    )


def _repository_breaks(
    facts: Facts, kind: str, declared: Sequence[FluxObject], absent: str, write: str
) -> Link | None:
    """Where the repository alone breaks the link of `kind`: no object of it, a diagnosis, a validation
    error."""
    name = _LINK_OF[kind]
    if not declared:
        unread = [
            *(f"{p.file}:{p.line}: {p.message}" for p in facts.problems if p.code == "yaml.invalid"),
            *(f"{path}: {why}" for path, why in sorted(facts.unread.items())),
        ]
        if unread:
            # The object may well be written; what is certain is that these files could not be read.
            return Link(
                name,
                "broken",
                f"no {kind} could be read: {unread[0]}",
                tuple(unread),
                "fix the file (or replace a link with the file itself), then ask again",
            )
        return Link(name, "broken", absent, (), write)
    found = _broken_by_findings(name, _findings(facts, name))
    if found is not None:
        return found
    errors = _errors_of(facts, kind)
    if errors:
        first = errors[0]
        return Link(name, "broken", first.message, tuple(_problem_text(p) for p in errors), first.hint)
    return None


def _live_word(
    facts: Facts, kind: str, obj: FluxObject, detail: str, fix: str, ready: str = "{message}"
) -> Link | str | None:
    """What the live cluster says of one object: a broken Link (not applied, Stalled or not Ready), the
    evidence line when it is Ready, or None with no cluster to ask (the repository is reasoned offline)."""
    state = _live_state(facts, kind, obj.namespace, obj.name)
    if state is None:
        return None
    if state == "missing":
        return _not_in_cluster(facts, kind, obj.ref)
    status, reason, message = state
    if status != "True":
        shown = "Stalled" if status == "Stalled" else f"Ready={status}"
        return Link(
            _LINK_OF[kind],
            "broken",
            f"{kind} {obj.ref}: {shown} {reason}: {message}",
            (detail,),
            fix_for_message(kind, message) or fix,
        )
    return f"{kind} {obj.ref} (live): " + ready.format(message=message)


# --- the links -----------------------------------------------------------------------------------------


def _controllers(facts: Facts) -> Link:
    live = facts.live
    if live is None:
        return Link("controllers", "skipped", "no cluster or sandbox to ask: reasoning from the repository")
    if live.error:
        return Link("controllers", "unknown", f"cannot ask {live.where}: {live.error}")
    names = {c.name: c for c in live.controllers}
    missing = [n for n in IMAGE_CONTROLLERS if n not in names]
    if missing:
        return Link(
            "controllers",
            "broken",
            f"{' and '.join(missing)} not installed in {live.where}: nothing scans or writes "
            "(flux check lists no image controllers, without an error)",
            tuple(f"deployment {c.name}: {'ready' if c.ready else 'not ready'}" for c in live.controllers),
            "install them: flux bootstrap ... --components-extra=image-reflector-controller,"
            "image-automation-controller (sandbox: lab sandbox install-image-controllers)",
        )
    down = [n for n in IMAGE_CONTROLLERS if not names[n].ready]
    if down:
        return Link(
            "controllers",
            "broken",
            f"{' and '.join(down)} not ready (scaled to 0 or crashing): the objects keep their last status",
            tuple(f"deployment {n}: not ready" for n in down),
            "kubectl -n flux-system scale deploy/" + down[0] + " --replicas=1, then check its logs",
        )
    if live.served is None:
        return Link(
            "controllers",
            "broken",
            "the image.toolkit.fluxcd.io CRDs are not served",
            (),
            "install the image automation CRDs (flux install --components-extra=...)",
        )
    return Link(
        "controllers",
        "ok",
        f"image controllers ready in {live.where}; image.toolkit.fluxcd.io/{live.served} served",
        tuple(f"deployment {c.name}: ready" for c in live.controllers if c.name in IMAGE_CONTROLLERS),
    )


def _objects_link(
    facts: Facts,
    kind: str,
    declared: Sequence[_Obj],
    detail: Callable[[_Obj], str],
    fix: str,
    offline: Callable[[_Obj], Link | str],
    judge: Callable[[Sequence[str]], State] = lambda evidence: "ok",
    ready: str = "{message}",
) -> Link:
    """The link of `kind` from the evidence line of each declared object (from the live cluster when
    there is one and from the repository, `offline`, when not) and the advisory findings; the first
    broken Link instead when one is. `judge` tells from the evidence whether the link holds."""
    evidence: list[str] = []
    for obj in declared:
        word = _live_word(facts, kind, obj, detail(obj), fix, ready)
        if word is None:
            word = offline(obj)
        if isinstance(word, Link):
            return word
        evidence.append(word)
    name = _LINK_OF[kind]
    summary = evidence[0] if evidence else "not checked"
    return Link(name, judge(evidence), summary, (*evidence, *_advice(_findings(facts, name))))


def _scan(facts: Facts) -> Link:
    repos = facts.aset.repositories
    early = _repository_breaks(
        facts,
        "ImageRepository",
        repos,
        "no ImageRepository in the repository: nothing scans a registry",
        "write kind: ImageRepository with spec.image (e.g. library/nginx) and spec.interval",
    )
    if early is not None:
        return early

    def offline(repo: ImageRepository) -> Link | str:
        failure = facts.scan_errors.get(repo.image)
        if failure is not None and failure.unreachable:
            # Not reached from here says nothing of Flux's cluster (the fictional ghcr.io/acme/* is
            # never reached): the link could not be checked, it is not where the chain broke.
            flux = (
                (
                    f"Flux, if its cluster cannot reach it either: ImageRepository {repo.ref} Ready=False: {failure.flux}",
                )
                if failure.flux
                else ()
            )
            return Link(
                "scan",
                "unknown",
                f"could not check: scanning {repo.image} fails here: {failure.message}",
                (f"{repo.file}:{repo.line_of('spec.image')}: spec.image: {repo.image}", *flux),
                failure.hint,
            )
        if failure is not None:
            flux = (f"Flux: ImageRepository {repo.ref} Ready=False: {failure.flux}",) if failure.flux else ()
            return Link(
                "scan",
                "broken",
                f"scanning {repo.image} fails: {failure.message}",
                (f"{repo.file}:{repo.line_of('spec.image')}: spec.image: {repo.image}", *flux),
                failure.hint or f"{spelling_hint(repo.image)}; check the credentials too",
            )
        if facts.tags is None or repo.image not in facts.tags:
            return f"ImageRepository {repo.ref}: {repo.image} (tags not read)"
        count = len(facts.tags[repo.image])
        if count == 0:
            return Link(
                "scan",
                "broken",
                f"{repo.image} has no tags ({facts.tags_source}): the policy reports "
                "'retrying in 30s error: no tags in database'",
                (),
                "check the repository name",
            )
        return f"ImageRepository {repo.ref}: {repo.image}, {count} tags ({facts.tags_source})"

    return _objects_link(
        facts,
        "ImageRepository",
        repos,
        lambda repo: f"kubectl describe imagerepository {repo.name} -n {repo.namespace}",
        "fix spec.image or the registry credentials; see the message",
        offline,
        lambda evidence: "ok" if evidence and not all("tags not read" in e for e in evidence) else "unknown",
    )


def _policy(facts: Facts) -> Link:
    policies = facts.aset.policies
    early = _repository_breaks(
        facts,
        "ImagePolicy",
        policies,
        "no ImagePolicy in the repository: no tag is ever selected",
        "write kind: ImagePolicy with spec.imageRepositoryRef.name and spec.policy.semver.range",
    )
    if early is not None:
        return early
    resolved = resolved_tags_for(facts)

    def offline(pol: ImagePolicy) -> str:
        selected = resolved.get(f"{pol.namespace}:{pol.name}")
        if selected is not None:
            return f"ImagePolicy {pol.ref} selects {selected} ({facts.tags_source})"
        return f"ImagePolicy {pol.ref}: not evaluated (no tags)"

    link = _objects_link(
        facts,
        "ImagePolicy",
        policies,
        lambda pol: f"{pol.file}:{pol.line_of('spec.policy')}",
        "see the message; `lab policy --semver RANGE --tags-file F` shows why each tag is dropped",
        offline,
        lambda evidence: "ok" if any("selects" in e or "(live)" in e for e in evidence) else "unknown",
    )
    newest = _newest_tags(facts)
    return replace(link, evidence=(*link.evidence, *newest)) if newest else link


NEWEST = "newest tags"


def _newest_tags(facts: Facts) -> list[str]:
    """For each policy, why it picks the tags published last or not (lab.core.policy.passed_over):
    a new tag and no Flux commit is the question; the policy's own rules are the answer."""
    from lab.core.diagnose import stored_tags
    from lab.core.policy import passed_over

    lines: list[str] = []
    for pol in facts.aset.policies:
        repo = facts.aset.repository(*pol.repository_key)
        if repo is None or pol.policy is None or facts.tags is None:
            continue
        newest = list(facts.newest.get(repo.image, ()))
        raw = facts.tags.get(repo.image)
        if not newest or raw is None:
            continue
        more = f" and {len(newest) - 1} more" if len(newest) > 1 else ""
        lines.append(f"{NEWEST} of {repo.image}: {newest[0]}{more}; ImagePolicy {pol.ref}:")
        lines.extend(f"  {line}" for line in passed_over(pol.policy, stored_tags(repo, raw), newest))
    return lines


def resolved_tags_for(facts: Facts) -> dict[str, str]:
    from lab.core.diagnose import Inputs

    return resolved_tags(Inputs(facts.aset, facts.files, facts.tags))


def _automation(facts: Facts) -> Link:
    aset = facts.aset
    early = _repository_breaks(
        facts,
        "ImageUpdateAutomation",
        aset.automations,
        "no ImageUpdateAutomation in the repository: nothing writes to Git",
        "write kind: ImageUpdateAutomation with sourceRef, git.commit.author, git.push.branch, update.path",
    )
    if early is not None:
        return early
    suspended = next((a for a in aset.automations if a.suspend), None)
    if suspended is not None:
        return Link(
            "automation",
            "broken",
            f"ImageUpdateAutomation {suspended.ref} is suspended (spec.suspend: true)",
            (f"{suspended.file}:{suspended.line_of('spec.suspend')}",),
            "remove spec.suspend or `flux resume image update " + suspended.name + "`",
        )
    return _objects_link(
        facts,
        "ImageUpdateAutomation",
        aset.automations,
        lambda a: f"kubectl describe imageupdateautomation {a.name} -n {a.namespace}",
        "see the message",
        lambda a: f"ImageUpdateAutomation {a.ref} ({a.file})",
        ready="Ready, '{message}'",
    )


def _markers(facts: Facts) -> Link:
    sites = marker_sites(facts.files)
    if not sites:
        return Link(
            "markers",
            "broken",
            "no $imagepolicy marker in any file: Flux has nothing to update (Ready stays "
            "'repository up-to-date')",
            (),
            f"end the image line with {marker_for(policy_ref_for(facts.aset, facts.generate))}",
        )
    found = _broken_by_findings("markers", _findings(facts, "markers"))
    good = [s for s in sites if s.marker.applies and s.readable]
    if found is not None and not good:
        return found
    evidence = [f"{s.marker.file}:{s.marker.line}: {s.marker.setter} on '{s.value}'" for s in good]
    if found is not None:
        # Some markers work: the others are still worth fixing, but something will be committed.
        return Link(
            "markers",
            "broken",
            found.summary,
            (*found.evidence, *evidence),
            found.fix,
        )
    return Link(
        "markers",
        "ok",
        f"{len(good)} marker(s): " + ", ".join(f"{s.marker.file}:{s.marker.line}" for s in good[:3]),
        (*evidence, *_advice(_findings(facts, "markers"))),
    )


def _path(facts: Facts) -> Link:
    for a in facts.aset.automations:
        path = norm_path(a.update_path)
        if path in facts.missing_dirs:
            return Link(
                "path",
                "broken",
                f"update.path {a.update_path} of {a.ref} does not exist: Flux fails with 'failed to apply "
                f"policies: walking path for files: lstat <clone>/{path}: no such file or directory'",
                (f"{a.file}:{a.line_of('spec.update.path')}",),
                f"a directory relative to the repository root, e.g. {facts.update_path}",
            )
    found = _broken_by_findings("path", _findings(facts, "path"))
    if found is not None:
        return found
    sites = [s for s in marker_sites(facts.files) if s.marker.applies and s.readable]
    paths = {a.ref: norm_path(a.update_path) for a in facts.aset.automations}
    covered = [
        f"{s.marker.file} under ./{p} ({ref})"
        for s in sites
        for ref, p in paths.items()
        if under(s.marker.file, p)
    ]
    if not covered:
        return Link("path", "unknown", "no applicable marker to place under an update.path")
    return Link("path", "ok", covered[0], (*covered, *_advice(_findings(facts, "path"))))


def _push(facts: Facts) -> Link:
    found = _broken_by_findings("push", _findings(facts, "push"))
    if found is not None:
        return found
    aset = facts.aset
    evidence: list[str] = []
    for a in aset.automations:
        git_repo = aset.git_repository(*a.source_key)
        branch = a.effective_push_branch(git_repo)
        synced = git_repo.branch if git_repo is not None else None
        also = a.refspec_branch
        evidence.append(
            f"{a.ref} pushes to branch {branch or '?'}"
            + (f" and with its refspec to {also}" if also and also != branch else "")
        )
        if branch and synced and synced not in (branch, also):
            evidence.append(
                f"the cluster syncs {synced}: commits on {branch} deploy nothing until they are merged"
            )
    pending = _pending_updates(facts)
    if pending is not None and not pending:
        return Link(
            "push",
            "ok",
            "nothing to commit: every marked value is already the selected image",
            tuple(evidence),
        )
    if pending:
        evidence.extend(pending)
    if not evidence:
        return Link("push", "unknown", "no ImageUpdateAutomation, so nothing pushes")
    if pending is None:
        # Where it would push is known; whether it has anything to push is not, until a marker Flux
        # applies names a policy that selects a tag.
        return Link(
            "push",
            "unknown",
            f"{evidence[0]}; nothing to judge yet: {_unjudged(facts)}",
            tuple(evidence),
        )
    return Link("push", "ok", evidence[0], tuple(evidence))


def _pending_updates(facts: Facts) -> list[str] | None:
    """'file:line: old -> new' for each applicable marker whose value would change (None: unknown, when
    no marker Flux applies names a policy that selects a tag: nothing can be judged yet)."""
    resolved = resolved_tags_for(facts)
    if not resolved:
        return None
    out: list[str] = []
    judged = 0
    for s in marker_sites(facts.files):
        m = s.marker
        if not (m.applies and s.readable) or s.value is None:
            continue
        key = m.policy_ref
        pol = facts.aset.policy(m.namespace, m.policy)
        repo = facts.aset.repository(*pol.repository_key) if pol is not None else None
        if key not in resolved or repo is None:
            continue
        judged += 1
        new = {"": f"{repo.image}:{resolved[key]}", "tag": resolved[key], "name": repo.image}.get(m.suffix)
        if new is not None and new != s.value:
            out.append(f"{m.file}:{m.line}: {s.value} -> {new}")
    return out if judged else None


def _unjudged(facts: Facts) -> str:
    """Why `_pending_updates` cannot tell what Flux would commit."""
    if facts.tags is None:
        return "the registry's tags are not known"
    return "no marker Flux applies names a policy that selects a tag"


def _origin(facts: Facts) -> Link:
    origin = facts.origin
    if origin is None:
        return Link("origin", "unknown", "no git repository to look at")
    if not origin.reachable:
        return Link("origin", "unknown", f"cannot read origin: {origin.error}")
    if origin.not_pushed:
        shown = ", ".join(origin.not_pushed[:3])
        if len(origin.not_pushed) > 3:
            shown += f" and {len(origin.not_pushed) - 3} more"
        return Link(
            "origin",
            "broken",
            f"origin/{origin.branch} does not have your latest {shown}: Flux reads "
            "what is pushed, not your working tree",
            tuple(
                f"{f}: differs from origin/{origin.branch} "
                + ("(not committed)" if f in origin.uncommitted else "(committed, not pushed)")
                for f in origin.not_pushed
            ),
            "git add, git commit and git push" if origin.uncommitted else "git push",
        )
    if origin.flux_commits:
        sha, subject = origin.flux_commits[0]
        return Link(
            "origin",
            "ok",
            f"Flux's commit {sha} '{subject}' is on origin/{origin.branch}",
            tuple(f"{s} {subj}" for s, subj in origin.flux_commits[:5]),
        )
    pending = _pending_updates(facts)
    if pending is None and facts.tags is not None and facts.aset.automations:
        # The tags are known, and still nothing tells what Flux would commit: no marker to set yet.
        return Link(
            "origin",
            "unknown",
            f"no Flux commit on origin/{origin.branch}: nothing to judge yet, {_unjudged(facts)}",
        )
    if pending == []:
        return Link(
            "origin",
            "ok",
            f"no Flux commit on origin/{origin.branch}, and none is needed: "
            "the marked values are already the selected images",
        )
    live = facts.live is not None and not facts.live.error
    if live and pending:
        return Link(
            "origin",
            "broken",
            f"no Flux commit on origin/{origin.branch} yet, though an update is due",
            tuple(pending or ()),
            "wait for the automation's interval, or `lab reconcile update flux-system`",
        )
    if live:
        return Link("origin", "unknown", f"no Flux commit on origin/{origin.branch} yet")
    return Link(
        "origin",
        "unknown",
        f"no Flux commit on origin/{origin.branch} yet (offline: nothing runs the controllers)",
        tuple(pending or ()),
        "run one reconcile offline with `lab simulate`, or start the sandbox with `lab sandbox up`",
    )


def walk(facts: Facts, mode: str) -> Report:
    """Judge every link; earlier broken links do not stop later ones from being judged."""
    links = (
        _controllers(facts),
        _scan(facts),
        _policy(facts),
        facts.sync_failure or _automation(facts),
        _markers(facts),
        _path(facts),
        _push(facts),
        _origin(facts),
    )
    return Report(links, mode)


def render(report: Report) -> str:
    """The text `lab why` prints."""
    marks = {"ok": "✔", "broken": "✗", "unknown": "?", "skipped": "-"}
    lines = [f"lab why ({report.mode})"]
    for link in report.links:
        lines.append(f"{marks[link.state]} {link.name:<11} {link.summary}")
        # The link's own evidence, then why the tags published last are picked or not (`_newest_tags`,
        # last): asked whatever the link's state, and never cut off with the evidence.
        start = next((i for i, e in enumerate(link.evidence) if e.startswith(NEWEST)), len(link.evidence))
        own, newest = link.evidence[:start], link.evidence[start:]
        if link.state in ("broken", "unknown"):
            lines.extend(f"    {e}" for e in own[:6])
            if link.fix:
                lines.append(f"    fix: {link.fix}")
        else:
            lines.extend(f"    {e}" for e in own if e.startswith("advisory"))
        lines.extend(f"    {e}" for e in newest)
    lines.append("")
    lines.append(report.verdict())
    return "\n".join(lines) + "\n"


__all__ = ["LINKS", "Facts", "Link", "Live", "Origin", "Report", "render", "walk"]
