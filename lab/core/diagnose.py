"""Why Flux will silently do nothing (or the wrong thing): diagnosis rules as pure functions.

Flux's commonest failure is silent: the ImageUpdateAutomation stays `Ready=True`, `repository up-to-date`,
and nothing is committed. Each rule here reads what the learner wrote (and, when known, the registry's
tags) and returns `Finding`s: where (file:line), what Flux will do, and the fix. `breaking` findings make
the check that owns the field fail; `advisory` ones (the configuration works but is risky) are reported
without failing anything. The checks layer and `lab why` both call `diagnose()`.

Sources: image-reflector-controller and image-automation-controller (v1.2) and the flux CLI; the exact
controller strings are quoted where Flux has one.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping, Sequence
from dataclasses import field
from typing import Any, Literal

from lab.core.commit_message import REMOVED_IMAGE_RESULT, REMOVED_UPDATED
from lab.core.imagefields import policy_of
from lab.core.imagename import ImageNameError, canonical_name, canonical_or_written
from lab.core.imageshape import Shape, fits, line_shape
from lab.core.manifests.models import (
    SIG_EXCLUSION,
    AutomationSet,
    ImagePolicy,
    ImageRepository,
    ImageUpdateAutomation,
)
from lab.core.record import dataclass
from lab.core.refs import split_reference
from lab.core.setters.find import NOT_VALID_YAML, Marker, Unread, find_markers, unread_lines

Severity = Literal["advisory", "breaking"]

# The check (checks/<task>.toml id) that owns each finding's field.
CHECK_REPOSITORY = "image-repository.valid"
CHECK_POLICY = "image-policy.valid"
CHECK_UPDATE = "image-update.valid"
CHECK_MARKER = "marker.valid"
CHECK_PRESENT = "marker.present"
CHECK_RESOLVES = "policy.resolves"

COSIGN_SUFFIXES = (".sig", ".att", ".sbom")
UP_TO_DATE = "repository up-to-date"
NO_CHANGE = "no change since last reconciliation"
NO_PUSH = (
    "failed configuring source manager: push spec not provided, and cannot be inferred from "
    ".spec.git.checkout.ref or GitRepository .spec.ref"
)


@dataclass(frozen=True)
class Finding:
    """One diagnosis: `id` is stable (tests and reports use it), `flux` is what Flux will do."""

    id: str
    severity: Severity
    file: str
    line: int | None
    message: str
    fix: str
    flux: str = ""
    check: str = CHECK_MARKER
    link: str = "markers"
    """The link of `lab why`'s chain this is about: scan, policy, automation, markers, path, push."""

    @property
    def breaking(self) -> bool:
        return self.severity == "breaking"

    def location(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file

    def __str__(self) -> str:
        return f"{self.location()}: {self.message} - fix: {self.fix}"


@dataclass(frozen=True)
class MarkerSite:
    """A marker-looking comment, with the automation it is meant for (when one is in scope)."""

    marker: Marker
    key: str
    value: str | None
    readable: bool
    """False when Flux's file reader never looks at the file (extension, unparsable, templated)."""


@dataclass
class Inputs:
    """What the rules read. `files` holds every text file that mentions `imagepolicy` (any extension),
    `dirs` the repository's directories (to tell a missing update.path), `tags` the registry's tags per
    ImageRepository `spec.image` (None: unknown, the tag rules are skipped)."""

    aset: AutomationSet
    files: Mapping[str, str] = field(default_factory=dict)
    tags: Mapping[str, Sequence[str]] | None = None
    paths: frozenset[str] | None = None
    """Every directory and file of the repository (None: unknown). An update.path that is not among
    them is its own failure (Flux: 'walking path for files'), not a reason to call markers outside."""


# --- helpers -------------------------------------------------------------------------------------------


def norm_path(path: str | None) -> str:
    """A repository-relative path as Flux joins `update.path`: './apps/' -> 'apps', '' or '.' -> ''."""
    cleaned = posixpath.normpath("/" + (path or "").strip()).lstrip("/")
    return "" if cleaned == "." else cleaned


def under(file: str, root: str) -> bool:
    return not root or file == root or file.startswith(root + "/")


def reader_skips(file: str) -> str | None:
    """Why image-automation-controller's file reader never opens `file`, or None (IAC filereader.go:96)."""
    name = posixpath.basename(file)
    if file.endswith((".yaml", ".yml")) or name == "Kustomization":
        return None
    return f"Flux only reads files ending .yaml or .yml (or named Kustomization); {name} is skipped"


def _written(obj: Any, path: str) -> Any:
    doc = getattr(obj, "doc", None)
    return doc.get(path) if doc is not None else None


def _labels(pol: ImagePolicy) -> dict[str, str]:
    raw = _written(pol, "metadata.labels")
    return {str(k): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}


_SELECTOR_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


def _go_strings(values: Any) -> str:
    """A []string as Go's %#v prints it in apimachinery's field errors."""
    if not values:
        return "[]string(nil)" if values is None else "[]string{}"
    return "[]string{" + ", ".join(f'"{v}"' for v in values) + "}"


def selector_problem(selector: Any) -> str | None:
    """Why Flux cannot use this `spec.policySelector`: a shape the API server refuses, or what
    `metav1.LabelSelectorAsSelector` rejects (the automation stalls, `InvalidPolicySelector`); None
    when it is usable or absent."""
    if selector is None:
        return None
    if not isinstance(selector, Mapping):
        return "spec.policySelector must be a mapping (matchLabels, matchExpressions)"
    labels = selector.get("matchLabels")
    if labels is not None and not isinstance(labels, Mapping):
        return "spec.policySelector.matchLabels must be a mapping of label: value (the API server refuses it)"
    expressions = selector.get("matchExpressions")
    if expressions is not None and not isinstance(expressions, list):
        return "spec.policySelector.matchExpressions must be a list of {key, operator, values}"
    for expr in expressions or []:
        if not isinstance(expr, Mapping):
            return "each spec.policySelector.matchExpressions entry is a mapping {key, operator, values}"
        op, values = expr.get("operator"), expr.get("values")
        if op not in _SELECTOR_OPERATORS:
            return f'failed to parse policy selector: "{op}" is not a valid label selector operator'
        if op in ("In", "NotIn") and not values:
            return (
                f"failed to parse policy selector: values: Invalid value: {_go_strings(values)}: "
                "for 'in', 'notin' operators, values set can't be empty"
            )
        if op in ("Exists", "DoesNotExist") and values:
            return (
                f"failed to parse policy selector: values: Invalid value: {_go_strings(values)}: "
                "values set must be empty for exists and does not exist"
            )
    return None


def selector_matches(selector: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    """metav1.LabelSelector semantics: matchLabels AND every matchExpressions requirement."""
    match_labels = selector.get("matchLabels") or {}
    if isinstance(match_labels, Mapping):
        for k, v in match_labels.items():
            if labels.get(str(k)) != str(v):
                return False
    for expr in selector.get("matchExpressions") or []:
        if not isinstance(expr, Mapping):
            continue
        key = str(expr.get("key", ""))
        op = str(expr.get("operator", ""))
        values = [str(v) for v in expr.get("values") or []]
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def selector_text(selector: Mapping[str, Any]) -> str:
    parts = [f"{k}={v}" for k, v in (selector.get("matchLabels") or {}).items()]
    for expr in selector.get("matchExpressions") or []:
        if isinstance(expr, Mapping):
            vals = ",".join(str(v) for v in expr.get("values") or [])
            parts.append(
                f"{expr.get('key')} {expr.get('operator')} ({vals})"
                if vals
                else f"{expr.get('key')} {expr.get('operator')}"
            )
    return ", ".join(parts) or "{}"


_KEY = re.compile(r"^\s*(?:-\s+)*(?P<key>[A-Za-z0-9_.$-]+)\s*:")


def _site_key(line: str) -> str:
    m = _KEY.match(line)
    return m.group("key") if m else ""


def stored_tags(repo: ImageRepository, raw: Sequence[str]) -> list[str]:
    """What Flux stores after the exclusion list (the CRD default when none is written)."""
    from lab.core.scan import DEFAULT_EXCLUSION, ScanError, store_tags

    exclusion = DEFAULT_EXCLUSION if repo.exclusion_list is None else repo.exclusion_list
    try:
        return store_tags(raw, exclusion)
    except ScanError:
        return store_tags(raw, DEFAULT_EXCLUSION)


def resolved_tags(inputs: Inputs) -> dict[str, str]:
    """'ns:name' -> the tag each policy resolves to with the known tags (only the ones that resolve)."""
    out: dict[str, str] = {}
    if inputs.tags is None:
        return out
    from lab.core.policy import resolve  # only with the registry's tags

    for pol in inputs.aset.policies:
        repo = inputs.aset.repository(*pol.repository_key)
        if repo is None or pol.policy is None or repo.image not in inputs.tags:
            continue
        outcome = resolve(pol.policy, stored_tags(repo, inputs.tags[repo.image]))
        if outcome.tag is not None:
            out[f"{pol.namespace}:{pol.name}"] = outcome.tag
    return out


# --- markers -------------------------------------------------------------------------------------------


def marker_sites(files: Mapping[str, str]) -> list[MarkerSite]:
    """Every marker-like comment of every file, parsed as Flux's reader would (or would not) see it."""
    sites: list[MarkerSite] = []
    for file in sorted(files):
        text = files[file]
        lines = text.replace("\r\n", "\n").split("\n")
        for m in find_markers(text, file):
            if not _attempted(m.raw):
                continue  # prose such as "# One ImagePolicy per rule" is a comment, not a marker
            line = lines[m.line - 1] if 0 < m.line <= len(lines) else ""
            sites.append(MarkerSite(m, _site_key(line), m.value, reader_skips(file) is None))
    return sites


def _attempted(comment: str) -> bool:
    """Does the comment try to be a marker (a JSON-ish object or the `$imagepolicy` key)?"""
    body = comment.lstrip("#").strip()
    lowered = body.lower()
    return (
        body.startswith("{")
        or "$imagepolicy" in lowered
        or re.search(r"[\"']imagepolicy[\"']", lowered) is not None
    )


def _automations_for(aset: AutomationSet, namespace: str) -> list[ImageUpdateAutomation]:
    return [a for a in aset.automations if a.namespace == namespace]


def _unread_file(skipped: str | None, why: str, fix: str | None = None) -> tuple[str, str, str] | None:
    """Why Flux never reads the marker's file (`reader_skips`, or the marker's `why_ignored` and its
    `fix`): (message, fix, what Flux does), or None when it reads the file."""
    if skipped is not None:
        return (
            f"marker in a file Flux never reads: {skipped}",
            "move the marked value into a .yaml file (for Helm, into HelmRelease.spec.values)",
            f"the automation stays Ready '{UP_TO_DATE}' and commits nothing",
        )
    if why.startswith(NOT_VALID_YAML):
        return (
            f"marker in a file Flux cannot parse: {why}",
            fix or "fix the YAML syntax of the file",
            f"the file is skipped without an error; Ready stays '{UP_TO_DATE}'",
        )
    return None


def _ignored_marker(why: str) -> tuple[str, str, str]:
    """A marker Flux's reader sees but ignores (`why_ignored`): (finding id, message, fix)."""
    if why.startswith("not a YAML comment here"):
        return (
            "marker.block-scalar",
            "marker inside a block scalar (| or >) or a quoted string: it is text, not a YAML comment, so Flux "
            "never sees it",
            "mark a plain YAML field instead (e.g. move the value out of the multi-line string)",
        )
    return (
        "marker.ignored",
        f"Flux ignores this marker: {why}",
        'write # {"$imagepolicy": "<namespace>:<policy>"} at the end of the value\'s line',
    )


def _read_twin(m: Marker, sites: Sequence[MarkerSite], text: str) -> Marker | None:
    """For a marker Flux ignores on a line of its own (a head or foot comment, left there after the
    right one was written), the marker of the same file and setter Flux does read; None otherwise."""
    lines = text.split("\n")
    if m.setter is None or not 1 <= m.line <= len(lines) or not lines[m.line - 1].lstrip().startswith("#"):
        return None
    return next(
        (
            s.marker
            for s in sites
            if s.marker.applies and s.marker.file == m.file and s.marker.setter == m.setter
        ),
        None,
    )


def _marker_findings(
    inputs: Inputs, sites: Sequence[MarkerSite], resolved: Mapping[str, str]
) -> list[Finding]:
    aset = inputs.aset
    out: list[Finding] = []
    namespaces = sorted({a.namespace for a in aset.automations})
    #: per file, where Flux's reader stops before its end (None: it reads the whole file)
    cuts: dict[str, Unread | None] = {}
    for site in sites:
        m = site.marker
        why = m.why_ignored or ""
        skipped = reader_skips(m.file)
        text = inputs.files.get(m.file, "")
        if skipped is None and "{{" in text:
            out.append(
                Finding(
                    "marker.templated",
                    "breaking",
                    m.file,
                    m.line,
                    message="marker in a templated file ({{ ... }}): Flux's YAML reader skips it when it does not "
                    "parse, and mangles the template when it does",
                    fix="mark the value where Flux reads plain YAML: HelmRelease.spec.values or a kustomize "
                    "images: entry, not a Helm template",
                    flux=f"no commit ('{UP_TO_DATE}'), or a commit that rewrites '{{{{ .Values.x }}}}' into a map",
                    link="path",
                )
            )
            continue
        unread = _unread_file(skipped, why, m.fix)
        if unread is not None:
            message, fix, flux = unread
            out.append(
                Finding(
                    "marker.file-skipped",
                    "breaking",
                    m.file,
                    m.line,
                    message=message,
                    fix=fix,
                    flux=flux,
                    check=CHECK_PRESENT,
                    link="path",
                )
            )
            continue
        twin = _read_twin(m, sites, text) if why else None
        if twin is not None:
            out.append(
                Finding(
                    "marker.ignored",
                    "advisory",
                    m.file,
                    m.line,
                    f"this marker is on its own line, so Flux ignores it (it reads the same marker on line "
                    f"{twin.line}): delete it",
                    f"delete line {m.line} of {m.file}: it does nothing",
                    flux=f"sets the value by the marker on line {twin.line}",
                )
            )
            continue
        if why:
            id_, message, fix = _ignored_marker(why)
            out.append(
                Finding(
                    id_,
                    "breaking",
                    m.file,
                    m.line,
                    message,
                    fix,
                    flux=f"nothing is updated; Ready stays '{UP_TO_DATE}'",
                )
            )
            continue
        if m.file not in cuts:  # once a file: a file with several markers was read again for each
            cuts[m.file] = next(iter(unread_lines(text)), None)
        cut = cuts[m.file]
        if cut is not None:
            out.append(
                Finding(
                    "marker.file-truncated",
                    "breaking",
                    m.file,
                    cut.first,
                    message=f"Flux reads {m.file} only up to line {cut.first - 1} ({cut.reason}): its "
                    f"commit sets the marker's value and writes the file without {cut.lines}",
                    fix=cut.fix,
                    flux=f"a commit that deletes {cut.lines} of {m.file}",
                    check=CHECK_PRESENT,
                )
            )
        key = m.policy_ref
        pol = aset.policy(m.namespace, m.policy)
        if namespaces and m.namespace not in namespaces:
            names = ", ".join(f"{a.namespace}/{a.name}" for a in aset.automations)
            out.append(
                Finding(
                    "marker.namespace",
                    "breaking",
                    m.file,
                    m.line,
                    message=f"marker references {key} but ImageUpdateAutomation {names} only sees policies in "
                    f"{', '.join(namespaces)}",
                    fix=f"put the ImagePolicy in {namespaces[0]} and write {namespaces[0]}:{m.policy}",
                    flux=f"the marker is no setter; Ready stays '{UP_TO_DATE}', no commit",
                )
            )
            continue
        if pol is None and aset.policies:
            known = ", ".join(sorted(f"{p.namespace}:{p.name}" for p in aset.policies))
            # Flux builds its setters from the policies it has and skips a marker naming another: the
            # markers that name one are still set and committed, but the field this one sits on never
            # moves, silently, so it breaks either way; what Flux does differs.
            setters = [s.marker for s in sites if _names_policy(aset, s)]
            flux = f"the marker is no setter; Ready stays '{UP_TO_DATE}', no commit"
            if setters:
                flux = (
                    f"skips this marker silently (no setter named {key}) and still commits the value of the "
                    f"marker at {setters[0].file}:{setters[0].line}"
                )
            out.append(
                Finding(
                    "marker.unknown-policy",
                    "breaking",
                    m.file,
                    m.line,
                    message=f"marker references {key}, but there is no such ImagePolicy (policies: {known})",
                    fix="name an existing ImagePolicy as namespace:name, or delete the marker",
                    flux=flux,
                )
            )
            continue
        autos = _automations_for(aset, m.namespace)
        if pol is not None and autos:
            labels = _labels(pol)
            selecting = [a for a in autos if _selects(a, labels)]
            if not selecting:
                a = autos[0]
                selector = _written(a, "spec.policySelector")
                out.append(
                    Finding(
                        "marker.selector",
                        "breaking",
                        file=a.file,
                        line=a.line_of("spec.policySelector"),
                        message=f"spec.policySelector ({selector_text(selector)}) of ImageUpdateAutomation "
                        f"{a.ref} does not select ImagePolicy {pol.ref} (labels: "
                        f"{', '.join(f'{k}={v}' for k, v in labels.items()) or 'none'}), so the marker at "
                        f"{m.file}:{m.line} is never applied",
                        fix=f"add the selector's labels to ImagePolicy {pol.name} ({pol.file}:{pol.line}), or "
                        "widen the selector",
                        flux=f"the policy is no setter; Ready stays '{UP_TO_DATE}', no commit",
                        check=CHECK_UPDATE,
                    )
                )
                continue
            paths = [norm_path(a.update_path) for a in selecting]
            exists = inputs.paths is None or all(p in inputs.paths or not p for p in paths)
            if exists and not any(under(m.file, p) for p in paths):
                a = selecting[0]
                out.append(
                    Finding(
                        "marker.outside-path",
                        "breaking",
                        m.file,
                        m.line,
                        message=f"{m.file} is outside update.path ./{paths[0]} of ImageUpdateAutomation "
                        f"{a.ref}, so Flux never reads it",
                        fix=f"move the marked file under ./{paths[0]}, or set spec.update.path "
                        f"({a.file}:{a.line_of('spec.update.path')}) to a directory containing it",
                        flux=f"Ready stays '{UP_TO_DATE}', no commit",
                        check=CHECK_PRESENT,
                        link="path",
                    )
                )
                continue
        out.extend(_shape_findings(aset, site, pol, resolved))
    return out


def _names_policy(aset: AutomationSet, site: MarkerSite) -> bool:
    """`site` is a marker Flux reads that names a policy of the repository (a setter it applies)."""
    m = site.marker
    return site.readable and m.applies and aset.policy(m.namespace, m.policy) is not None


def _selects(a: ImageUpdateAutomation, labels: Mapping[str, str]) -> bool:
    selector = _written(a, "spec.policySelector")
    if not isinstance(selector, Mapping):
        return True
    return selector_matches(selector, labels)


_NEVER = "the kubelet then fails with ErrImagePull / ImagePullBackOff; Flux reports nothing"
_Misfit = tuple[str, Severity, str, str, str]
_TAG_ON_IMAGE: _Misfit = (
    "marker.tag-on-image",
    "breaking",
    "':tag' marker on a full image reference: after the update the line reads '{key}: {tag}'",
    'use the plain marker {{"$imagepolicy": "{ref}"}} on a full image reference; \':tag\' belongs on a '
    "tag-only field",
    "commits '{key}: {tag}', a reference to an image literally named {tag}; " + _NEVER,
)
_FULL_ON_TAG: _Misfit = (
    "marker.full-on-tag",
    "breaking",
    "full marker on a tag-only field: after the update the line reads '{key}: {name}:{tag}'",
    'use {{"$imagepolicy": "{ref}:tag"}} on a tag field',
    "commits '{name}:{tag}' as the tag; a chart then renders '{name}:{name}:{tag}'",
)
# (marker variant, field shape) that do not fit -> id, severity, message, fix, what Flux commits.
# {key} is the line's key, {name}/{tag} the image the policy writes, {ref} the policy's ns:name.
_MISFITS: dict[tuple[str, Shape], _Misfit] = {
    ("tag", "full"): _TAG_ON_IMAGE,
    ("tag", "name"): _TAG_ON_IMAGE,
    ("name", "tag"): (
        "marker.name-on-tag",
        "breaking",
        "':name' marker on a tag-only field: after the update the line reads '{key}: {name}'",
        'use {{"$imagepolicy": "{ref}:tag"}} on a tag field; ":name" belongs on repository/newName',
        "commits the repository name {name} where the tag belongs; " + _NEVER,
    ),
    ("name", "full"): (
        "marker.name-on-image",
        "breaking",
        "':name' marker on an image reference with a tag: after the update the line reads '{key}: {name}' "
        "and the tag is gone",
        'use the plain marker {{"$imagepolicy": "{ref}"}}',
        "commits '{key}: {name}' (no tag: the kubelet pulls :latest)",
    ),
    ("", "tag"): _FULL_ON_TAG,
    ("", "digest"): _FULL_ON_TAG,
    ("", "name"): (
        "marker.full-on-name",
        "breaking",
        "full marker on a repository field: after the update the line reads '{key}: {name}:{tag}'",
        'use {{"$imagepolicy": "{ref}:name"}} on a repository field',
        "commits '{name}:{tag}' as the repository; " + _NEVER,
    ),
    ("", "matchkey"): (
        "marker.kustomize-name",
        "advisory",
        "marker on a kustomize images[].name: that key is the match key; when Flux rewrites it the override "
        "stops matching the base's image",
        "mark newName (':name') and newTag (':tag') instead",
        "commits '{key}: {name}:{tag}'",
    ),
}


def _shape_findings(
    aset: AutomationSet, site: MarkerSite, pol: ImagePolicy | None, resolved: Mapping[str, str]
) -> list[Finding]:
    """A setter replaces the whole scalar: the suffix must fit the field (image-automation-controller setters.go)."""
    m = site.marker
    value = site.value or ""
    repo = aset.repository(*pol.repository_key) if pol is not None else None
    written_name, written_tag = split_reference(value)
    shape = line_shape(site.key, value)
    misfit = _MISFITS.get((m.suffix, shape)) if shape is not None and not fits(m.suffix, shape) else None
    if (m.suffix, shape) == ("name", "full") and not written_tag:
        misfit = None  # ':name' on a reference without a tag writes what is there already
    if misfit is not None:
        id_, severity, message, fix, flux = misfit
        words = {
            "key": site.key or "value",
            "name": repo.image if repo is not None else written_name or "<image>",
            "tag": resolved.get(m.policy_ref) or written_tag or "<tag>",
            "ref": m.policy_ref,
        }
        return [
            Finding(
                id_,
                severity,
                m.file,
                m.line,
                message.format(**words),
                fix.format(**words),
                flux=flux.format(**words),
            )
        ]
    other = _other_image(aset, site, repo, shape, resolved)
    if other is not None:
        return [other]
    if m.suffix == "digest" and pol is not None and (pol.digest_reflection_policy or "Never") == "Never":
        return [
            Finding(
                "marker.digest-not-reflected",
                "breaking",
                m.file,
                m.line,
                message=f"':digest' marker but ImagePolicy {pol.ref} does not reflect digests "
                "(digestReflectionPolicy Never): the digest would be blanked",
                fix=f"set spec.digestReflectionPolicy: IfNotPresent on ImagePolicy {pol.name} "
                f"({pol.file}:{pol.line})",
                flux=f"commits '{site.key or 'value'}: \"\"' (the :digest setter writes the empty latestRef.digest)",
                check=CHECK_MARKER,
            )
        ]
    return []


def _other_image(
    aset: AutomationSet,
    site: MarkerSite,
    repo: ImageRepository | None,
    shape: Shape | None,
    resolved: Mapping[str, str],
) -> Finding | None:
    """A full (or `:name`) marker whose policy's ImageRepository scans another image than the one its
    line names: the setters never compare the two, so Flux writes the other image on the line."""
    m = site.marker
    if repo is None or not repo.image or (m.suffix, shape) not in (("", "full"), ("name", "name")):
        return None
    written = split_reference(site.value or "")[0]
    try:
        scanned = canonical_name(repo.image)  # one Flux refuses is image-repository.valid's to name
    except ImageNameError:
        return None
    if not written or canonical_or_written(written) == scanned:
        return None
    images = {
        f"{p.namespace}:{p.name}": r.image
        for p in aset.policies
        if (r := aset.repository(*p.repository_key)) is not None
    }
    right = policy_of(images, written, m.namespace)
    suffix = f":{m.suffix}" if m.suffix else ""
    tag = resolved.get(m.policy_ref)
    writes = repo.image if m.suffix == "name" else f"{repo.image}:{tag or '<the tag it selects>'}"
    return Finding(
        "marker.other-image",
        "breaking",
        m.file,
        m.line,
        message=f"the line names {written}, but the marker's policy {m.policy_ref} follows ImageRepository "
        f"{repo.ref}, which scans {repo.image}",
        fix=f'use # {{"$imagepolicy": "{right}{suffix}"}}, the policy of {written}'
        if right is not None
        else f"add an ImageRepository for {written} and an ImagePolicy on it, and name that policy here",
        flux=f"writes {site.key or 'value'}: {writes} on this line without comparing the images",
    )


# --- policies and repositories -------------------------------------------------------------------------


# Compiled on first use (re's cache): only the findings that need the registry's tags use it.
_LENIENT = r"^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-([0-9A-Za-z.-]+))?$"


def _lenient(tag: str) -> tuple[int, int, int] | None:
    m = re.match(_LENIENT, tag)
    if not m:
        return None
    from lab.core.semver.version import InvalidVersion, segment

    # Each number as Go's semver reads it (a uint64): a longer one is no version, lenient or not.
    try:
        return segment(m.group(1)), segment(m.group(2) or "0"), segment(m.group(3) or "0")
    except InvalidVersion:
        return None


def _nearest(range_text: str, versions: Sequence[Any], limit: int = 4) -> list[str]:
    """The strict versions closest to the range's first bound."""
    from lab.core.semver import new_constraint

    try:
        anchor = new_constraint(range_text).groups[0][0].con
    except Exception:  # the range was checked by validate(); an odd one just shows the newest tags
        return [v.original for v in sorted(versions, key=lambda v: v.key, reverse=True)[:limit]]
    target = (anchor.major, anchor.minor, anchor.patch)

    def distance(v: Any) -> tuple[int, int, int, Any]:
        return (
            abs(v.major - target[0]),
            abs(v.minor - target[1]),
            abs(v.patch - target[2]),
            tuple(-x for x in (v.major, v.minor, v.patch)),
        )

    closest = sorted(versions, key=distance)[:limit]
    return [v.original for v in sorted(closest, key=lambda v: v.key, reverse=True)]


def _policy_findings(inputs: Inputs) -> list[Finding]:
    from lab.core.semver import new_constraint, try_parse_version
    from lab.core.semver.version import Version

    out: list[Finding] = []
    aset = inputs.aset
    for pol in aset.policies:
        spec = pol.policy
        if spec is None:
            continue
        out.extend(_filter_findings(inputs, pol))
        repo = aset.repository(*pol.repository_key)
        if repo is None or inputs.tags is None or repo.image not in inputs.tags:
            if spec.kind == "alphabetical" and spec.filter_pattern is None and repo is not None:
                out.extend(_cosign_static(pol, repo))
            continue
        from lab.core.policy import explain  # only with the registry's tags
        from lab.core.policy.evaluate import DROP_DUPLICATE, DROP_FILTER
        from lab.core.policy.semver import NO_MATCH

        stored = stored_tags(repo, inputs.tags[repo.image])
        try:
            outcome, verdicts = explain(spec, stored)
        except Exception:  # an invalid regex or range is validate()'s finding
            continue
        line = pol.line_of("spec.policy")
        # The range (or order) only ever sees what filterTags let through: judge it on those, and blame
        # the filter when it let nothing through (`resolve` counts them, `explain` names them).
        kept = [v for v in verdicts if v.verdict not in (DROP_FILTER, DROP_DUPLICATE)]
        if outcome.tag is None and outcome.considered == 0 and stored and spec.filter_pattern is not None:
            out.append(_filter_empty(pol, repo, stored, outcome.message))
            continue
        if spec.kind == "semver":
            try:
                constraints = new_constraint(spec.value)
            except Exception:
                continue
            rng = spec.value
            values = [(v.tag, v.value) for v in kept]
            strict = [try_parse_version(val) for _, val in values]
            releases = [v for v in strict if v is not None and not v.pre]
            pre_fit = [
                v
                for v in strict
                if v is not None and v.pre and constraints.check(Version(v.major, v.minor, v.patch))
            ]
            loose = [
                tag
                for tag, val in values
                if try_parse_version(val) is None
                and (lv := _lenient(val)) is not None
                and constraints.check(Version(*lv))
            ]
            range_line = pol.line_of("spec.policy.semver.range")
            if outcome.tag is None and pre_fit and outcome.reason == "Failure":
                shown = ", ".join(v.original for v in pre_fit[:4])
                first = min(pre_fit, key=lambda v: v.key)
                out.append(
                    Finding(
                        "policy.prerelease-only",
                        "breaking",
                        pol.file,
                        range_line,
                        f"range '{rng}' is satisfied only by pre-releases ({shown}); Flux ignores pre-releases "
                        f"unless the range names one: add -0, e.g. '>={first.major}.{first.minor}.{first.patch}-0'",
                        f"add -0 to the range, e.g. '>={first.major}.{first.minor}.{first.patch}-0', "
                        "or pick a released version",
                        flux=f"ImagePolicy Ready=False, reason Failure: '{NO_MATCH}'",
                        check=CHECK_RESOLVES,
                        link="policy",
                    )
                )
            elif outcome.tag is None and outcome.reason == "Failure":
                nearest = _nearest(rng, releases)
                extra = f"; not strict semver, never considered: {', '.join(loose[:4])}" if loose else ""
                words = [
                    v.value
                    for v in kept
                    if not v.value[:1].isdigit() and not v.value.startswith("v") and _lenient(v.value) is None
                ]
                of = (
                    f"the {len(kept)} tags filterTags.pattern keeps of {repo.image}"
                    if len(kept) < len(stored)
                    else f"the {len(stored)} tags of {repo.image}"
                )
                if words:
                    extra += f"; {', '.join(words[:3])} {'is' if len(words) == 1 else 'are'} not a version"
                out.append(
                    Finding(
                        "policy.no-match",
                        "breaking",
                        pol.file,
                        range_line,
                        f"range '{rng}' matches none of {of}; nearest: {', '.join(nearest) or 'none'}{extra}",
                        "change spec.policy.semver.range to one that covers an existing three-part tag"
                        + (f", e.g. {nearest[0]}" if nearest else ""),
                        flux=f"ImagePolicy Ready=False, reason Failure: '{NO_MATCH}'",
                        check=CHECK_RESOLVES,
                        link="policy",
                    )
                )
            elif loose:
                out.append(
                    Finding(
                        "policy.non-strict",
                        "advisory",
                        pol.file,
                        range_line,
                        f"tags {', '.join(loose[:4])} look like they fit '{rng}' but are not strict semver "
                        "(MAJOR.MINOR.PATCH): Flux never selects them",
                        "publish three-part tags, or use filterTags with extract to build them",
                        flux=f"selects {outcome.tag}" if outcome.tag else f"'{NO_MATCH}'",
                        check=CHECK_RESOLVES,
                        link="policy",
                    )
                )
        elif outcome.tag is not None and outcome.tag.endswith(COSIGN_SUFFIXES):
            out.append(
                Finding(
                    "cosign.selected",
                    "breaking",
                    pol.file,
                    line,
                    f"the {spec.kind} policy selects {outcome.tag}, a cosign signature/attestation tag, not an "
                    "image",
                    "constrain filterTags.pattern to your image tags (anchored ^...$) and keep "
                    r"'^.*\.sig$' plus '^.*\.(att|sbom)$' in spec.exclusionList",
                    flux=f"writes {repo.image}:{outcome.tag} into the manifest",
                    check=CHECK_RESOLVES,
                    link="policy",
                )
            )
        else:
            candidates = [v.tag for v in verdicts if v.verdict in ("candidate", "selected")]
            leaking = [t for t in candidates if t.endswith(COSIGN_SUFFIXES)]
            if leaking:
                out.append(
                    Finding(
                        "cosign.reachable",
                        "advisory",
                        pol.file,
                        line,
                        f"cosign tags {', '.join(leaking[:3])} are candidates of this {spec.kind} policy; a newer "
                        "one can win",
                        r"anchor filterTags.pattern and exclude '^.*\.(sig|att|sbom)$'",
                        flux=f"selects {outcome.tag} today",
                        check=CHECK_RESOLVES,
                        link="policy",
                    )
                )
    return out


def _filter_empty(pol: ImagePolicy, repo: ImageRepository, stored: Sequence[str], message: str) -> Finding:
    """filterTags.pattern matched none of the stored tags: the range or order never gets a candidate."""
    spec = pol.policy
    assert spec is not None and spec.filter_pattern is not None
    shown = ", ".join(stored[-3:])
    return Finding(
        "policy.filter-empty",
        "breaking",
        pol.file,
        pol.line_of("spec.filterTags.pattern"),
        f"filterTags.pattern '{spec.filter_pattern}' matches none of the {len(stored)} tags of {repo.image} "
        f"(e.g. {shown}): the {spec.kind} policy has nothing to choose from",
        "write filterTags.pattern as a regular expression the tags match (anchored ^...$), or remove "
        "filterTags; the range or order then chooses among what it keeps",
        flux=f"ImagePolicy Ready=False, reason Failure: '{message}'",
        check=CHECK_RESOLVES,
        link="policy",
    )


def _cosign_static(pol: ImagePolicy, repo: ImageRepository) -> list[Finding]:
    exclusion = repo.exclusion_list or (SIG_EXCLUSION,)
    probes = ("sha256-0000.att", "sha256-0000.sbom")
    from lab.core.policy.regex import RegexSyntaxError, compile_go

    leaking = []
    for probe in probes:
        try:
            if not any(compile_go(p).search(probe) for p in exclusion):
                leaking.append(probe.rsplit(".", 1)[1])
        except RegexSyntaxError:
            return []
    if not leaking:
        return []
    return [
        Finding(
            "cosign.reachable",
            "advisory",
            pol.file,
            pol.line_of("spec.policy"),
            f"alphabetical policy with no filterTags: cosign .{' and .'.join(leaking)} tags "
            "(sha256-<digest>.att) are not excluded by default and sort above version tags",
            r"add filterTags.pattern anchored on your tags, or exclude '^.*\.(att|sbom)$' in the ImageRepository",
            flux="may select a sha256-... .att tag once the image is signed with attestations",
            check=CHECK_POLICY,
            link="policy",
        )
    ]


def _filter_findings(inputs: Inputs, pol: ImagePolicy) -> list[Finding]:
    """An unanchored filterTags.pattern is a substring match (IRC filter.go FindStringSubmatchIndex)."""
    spec = pol.policy
    if spec is None or not spec.filter_pattern:
        return []
    from lab.core.policy.filter import InvalidFilter, compile_filter

    pattern = spec.filter_pattern
    starts, ends = pattern.startswith("^"), pattern.endswith("$") and not pattern.endswith("\\$")
    if starts and ends:
        return []
    try:
        loose = compile_filter(pattern)
        strict = compile_filter(f"^(?:{pattern.removeprefix('^').removesuffix('$')})$")
    except InvalidFilter:
        return []
    repo = inputs.aset.repository(*pol.repository_key)
    tags = list(inputs.tags.get(repo.image, ())) if inputs.tags is not None and repo is not None else []
    example = next((t for t in tags if loose.search(t) and not strict.search(t)), None)
    source = "in the registry" if example else ""
    if example is None:
        base = next((t for t in tags if strict.search(t)), None)
        seeds = [base] if base else []
        seeds += _pattern_samples(pattern)
        for seed in seeds:
            for candidate in (
                *(() if starts else (f"feature-x-{seed}",)),
                *(() if ends else (f"{seed}-debug",)),
            ):
                if loose.search(candidate) and not strict.search(candidate):
                    example = candidate
                    break
            if example:
                break
    missing = " and ".join(x for x, ok in (("^", starts), ("$", ends)) if not ok)
    shown = f"; it also accepts {example}" + (f" ({source})" if source else "") if example else ""
    return [
        Finding(
            "filter.unanchored",
            "advisory",
            pol.file,
            pol.line_of("spec.filterTags.pattern"),
            f"filterTags.pattern '{pattern}' is not anchored with {missing}: Flux matches it anywhere in the "
            f"tag{shown}",
            f"anchor it: '^{pattern.removeprefix('^').removesuffix('$')}$'",
            flux="a feature-branch or debug tag that contains a matching part can be selected and deployed",
            check=CHECK_POLICY,
            link="policy",
        )
    ]


def _pattern_samples(pattern: str) -> list[str]:
    """A few strings built from a pattern's literal skeleton, to show what it accepts."""
    body = pattern.removeprefix("^").removesuffix("$")
    sample = re.sub(r"\(\?P<[^>]+>", "(", body)
    for old, new in (
        (r"[0-9]+", "1717000000"),
        (r"\d+", "1717000000"),
        (r"[a-f0-9]+", "9c8d7e6"),
        (r"[a-fA-F0-9]+", "9c8d7e6"),
        (r"[0-9a-f]+", "9c8d7e6"),
        (r".*", "1"),
        (r".+", "1"),
        (r"\.", "."),
        (r"\-", "-"),
        ("(", ""),
        (")", ""),
    ):
        sample = sample.replace(old, new)
    return [sample] if re.fullmatch(r"[A-Za-z0-9._-]+", sample) else []


def _repository_findings(aset: AutomationSet) -> list[Finding]:
    out: list[Finding] = []
    for repo in aset.repositories:
        if repo.exclusion_list is not None and SIG_EXCLUSION not in repo.exclusion_list:
            out.append(
                Finding(
                    "exclusion.sig",
                    "advisory",
                    repo.file,
                    repo.line_of("spec.exclusionList"),
                    "custom exclusionList replaces the default, so cosign '.sig' tags are no longer excluded",
                    r'add "^.*\\.sig$" to spec.exclusionList (and "^.*\\.(att|sbom)$")',
                    flux="stores sha256-<digest>.sig tags; alphabetical or numerical policies may pick or fail on them",
                    check=CHECK_REPOSITORY,
                    link="scan",
                )
            )
    return out


# --- automations ---------------------------------------------------------------------------------------


def _automation_findings(aset: AutomationSet) -> list[Finding]:
    from lab.core.commit_message import V1, check_template

    out: list[Finding] = []
    for a in aset.automations:
        if a.message_template:
            for message in check_template(a.message_template, V1):
                if message in (REMOVED_UPDATED, REMOVED_IMAGE_RESULT):
                    removed = ".Updated" if message == REMOVED_UPDATED else ".Changed.ImageResult"
                    now = a.version == "v1"
                    out.append(
                        Finding(
                            "template.removed-field",
                            "breaking" if now else "advisory",
                            a.file,
                            a.line_of("spec.git.commit.messageTemplate"),
                            f"messageTemplate uses {removed}, removed in image.toolkit.fluxcd.io/v1"
                            + ("" if now else f" (this object is {a.version}; it stalls once migrated)"),
                            "use .Changed.Changes, e.g. {{range .Changed.Changes}}{{print .OldValue}} -> "
                            "{{println .NewValue}}{{end}}",
                            flux=f"Stalled=True, reason RemovedTemplateField: '{message}' (at the first update)",
                            check=CHECK_UPDATE,
                            link="automation",
                        )
                    )
        git_repo = aset.git_repository(*a.source_key) if a.source_name else None
        if a.source_name and git_repo is None and a.source_kind == "GitRepository":
            known = (
                ", ".join(f"{g.namespace}/{g.name}" for g in aset.git_repositories)
                or "none in the repository"
            )
            out.append(
                Finding(
                    "source.missing",
                    "breaking",
                    a.file,
                    a.line_of("spec.sourceRef.name"),
                    f"sourceRef names GitRepository {a.source_key[0]}/{a.source_key[1]}, which does not exist "
                    f"(GitRepositories: {known})",
                    "name the GitRepository bootstrap created: sourceRef.name: flux-system",
                    flux="Ready=False, reason SourceManagerFailed: 'failed configuring source manager: referenced "
                    f'git repository does not exist: GitRepository.source.toolkit.fluxcd.io "{a.source_name}" '
                    "not found'",
                    check=CHECK_UPDATE,
                    link="automation",
                )
            )
        if git_repo is not None and not a.push_branch and a.effective_push_branch(git_repo) is None:
            pins = (
                a.checkout_ref.items()
                if a.checkout_ref
                else (("tag", git_repo.tag), ("semver", git_repo.semver), ("commit", git_repo.commit))
            )
            pinned = next((f"{k} {v}" for k, v in pins if v), "no branch")
            # IAC checks out spec.git.checkout.ref whole when it is set: the GitRepository's branch is
            # not used then.
            where = "spec.git.checkout.ref" if a.checkout_ref else f"GitRepository {git_repo.ref}"
            out.append(
                Finding(
                    "push.branch-unknown",
                    "breaking",
                    a.file,
                    a.line_of("spec.git"),
                    f"no push branch: spec.git.push is not set, the checkout has no branch, and {where} "
                    f"is pinned to {pinned}",
                    "add spec.git.push.branch: main (and git.checkout.ref.branch)",
                    flux=f"Ready=False, reason SourceManagerFailed: '{NO_PUSH}'",
                    check=CHECK_UPDATE,
                    link="push",
                )
            )
    return out


def _overlap_findings(aset: AutomationSet, sites: Sequence[MarkerSite]) -> list[Finding]:
    """Two automations whose update paths overlap, writing one policy name: the commits flap (fluxcd/image-automation-controller#204)."""
    out: list[Finding] = []
    autos = aset.automations
    for i, a in enumerate(autos):
        for b in autos[i + 1 :]:
            if a.namespace != b.namespace:
                continue
            pa, pb = norm_path(a.update_path), norm_path(b.update_path)
            if not (under(pa, pb) or under(pb, pa)):
                continue
            inner = pa if len(pa) >= len(pb) else pb
            for site in sites:
                m = site.marker
                if m.why_ignored or m.namespace != a.namespace or not under(m.file, inner):
                    continue
                defs = [p for p in aset.policies if (p.namespace, p.name) == (m.namespace, m.policy)]
                flap = len({(p.file, p.line) for p in defs}) > 1
                env = (
                    f"ImagePolicy {m.policy_ref} is defined {len(defs)} times "
                    f"({', '.join(f'{p.file}:{p.line}' for p in defs)})"
                    if flap
                    else f"both resolve {m.policy_ref}"
                )
                out.append(
                    Finding(
                        "paths.overlap",
                        "breaking" if flap else "advisory",
                        m.file,
                        m.line,
                        f"ImageUpdateAutomations {a.ref} ({a.file}, path ./{pa}) and {b.ref} ({b.file}, path ./{pb}) "
                        f"both write this marker; {env}",
                        "give each environment its own policy name (e.g. "
                        f"{m.policy}-staging) and its own update.path",
                        flux="commits flap: each automation rewrites the other's value on every run"
                        if flap
                        else "two automations race to push the same change",
                        check=CHECK_UPDATE,
                        link="path",
                    )
                )
                break
    return out


# --- entry point ---------------------------------------------------------------------------------------


def diagnose(inputs: Inputs) -> list[Finding]:
    """Every finding, breaking first, then by file and line."""
    sites = marker_sites(inputs.files)
    resolved = resolved_tags(inputs)
    found = [
        *_repository_findings(inputs.aset),
        *_policy_findings(inputs),
        *_automation_findings(inputs.aset),
        *_marker_findings(inputs, sites, resolved),
        *_overlap_findings(inputs.aset, sites),
    ]
    unique: dict[tuple[str, str, int | None, str], Finding] = {}
    for f in found:
        unique.setdefault((f.id, f.file, f.line, f.message), f)
    return sorted(unique.values(), key=lambda f: (not f.breaking, f.file, f.line or 0, f.id))


def for_check(findings: Sequence[Finding], check_id: str) -> list[Finding]:
    return [f for f in findings if f.check == check_id]


__all__ = [
    "Finding",
    "Inputs",
    "MarkerSite",
    "diagnose",
    "for_check",
    "marker_sites",
    "norm_path",
    "reader_skips",
    "resolved_tags",
    "selector_matches",
    "selector_text",
    "stored_tags",
    "under",
]
