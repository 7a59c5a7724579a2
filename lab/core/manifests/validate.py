"""Check what a learner wrote against what Flux and the API server will do with it.

Every Problem names file, line and field and says how to fix it. Codes are stable (`image.tag`,
`policy.repository-ref`, ...) so checks and reports can refer to them; the `F<n>` in some messages are
the failure modes of the lab's Flux reference.
"""

from __future__ import annotations

import posixpath
import re
from collections import Counter
from collections.abc import Sequence

from lab.core.commit_message import REMOVED_IMAGE_RESULT, REMOVED_UPDATED, V1, _hint_for, check_template
from lab.core.diagnose import selector_problem
from lab.core.dnsnames import dns_label_error, dns_subdomain_error
from lab.core.duration import check_interval
from lab.core.imagename import ImageNameError, image_warnings, parse_image
from lab.core.manifests import schema
from lab.core.manifests.emit import yaml_value
from lab.core.manifests.models import (
    IMAGE_GROUP,
    SIG_EXCLUSION,
    AutomationSet,
    FluxObject,
    ImagePolicy,
    ImageRepository,
    ImageUpdateAutomation,
    Problem,
    Severity,
)
from lab.core.scan import exclusion_problem
from lab.core.yamlerror import key_in_string

__all__ = [
    "Problem",
    "dns_label_error",
    "dns_subdomain_error",
    "git_branch_error",
    "template_problems",
    "validate",
]

# Enums, limits and patterns come from the one Flux schema the sandbox API server enforces too.
_GIT_URL = re.compile(schema.GIT_REPOSITORY.at("url").pattern or "")
_PROVIDERS = schema.IMAGE_REPOSITORY.at("provider").enum
_DIGEST_POLICIES = schema.IMAGE_POLICY.at("digestReflectionPolicy").enum
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")


def git_branch_error(branch: str) -> str | None:
    """`git check-ref-format --branch` in short, or None if `branch` is a valid branch name."""
    if not branch:
        return "the branch name is empty"
    if branch.startswith("refs/"):
        return f"'{branch}' is a ref, not a branch name (write {branch.rsplit('/', 1)[-1]})"
    bad = re.search(r"[\x00-\x20\x7f~^:?*\[\\]", branch)
    if (
        bad
        or ".." in branch
        or "@{" in branch
        or "//" in branch
        or branch.startswith(("-", "/", "."))
        or branch.endswith(("/", ".", ".lock"))
        or branch == "@"
    ):
        return f"'{branch}' is not a valid git branch name"
    return None


def template_problems(template: str, version: str) -> list[tuple[str, str]]:
    """(message, hint) for a commit message template that stalls or fails on API `version` ("v1").

    Decided by the lab's Go text/template engine with Flux's data model (`check_template`): parse errors,
    unknown or removed fields (`.Updated`, `.Changed.ImageResult` in v1: F20; `.Changes` at the top level,
    a common typo for `.Changed.Changes`: F21), unknown functions, and failures of a trial render.
    """
    api_version = f"{IMAGE_GROUP}/{version}"
    see = "https://fluxcd.io/flux/components/image/imageupdateautomations/#message-template"
    out: list[tuple[str, str]] = []
    for flux_message in check_template(template, api_version):
        if flux_message == REMOVED_UPDATED:
            out.append(
                (
                    "template uses removed '.Updated' field; a v1 ImageUpdateAutomation stalls "
                    "(RemovedTemplateField) at its first update",
                    f"use '.Changed' instead, e.g. {{{{range .Changed.Changes}}}}...{{{{end}}}}; see {see}",
                )
            )
        elif flux_message == REMOVED_IMAGE_RESULT:
            out.append(
                (
                    "template uses removed '.Changed.ImageResult' field; a v1 ImageUpdateAutomation stalls",
                    f"use '.Changed.FileChanges' or '.Changed.Objects' instead; see {see}",
                )
            )
        else:
            go_error = flux_message.removeprefix("failed to update source: ")
            hint = _hint_for(go_error, api_version)
            if "can't evaluate field Changes in type source.TemplateData" in go_error:
                hint = "write .Changed.Changes"
            out.append((f"Flux cannot use this template: {go_error}".replace("\n", "\\n"), hint))
    return out


def _stalls_on_v1(template: str) -> bool:
    """The template works on v1beta2 but a v1 object would stall on `.Updated` (RemovedTemplateField)."""
    return REMOVED_UPDATED in check_template(template, V1)


class _Collector:
    def __init__(self) -> None:
        self.problems: list[Problem] = []
        # (document, field) an unknown field already stands for: `rang` reported with "did you mean
        # `range`?" is the fix of "range is missing" too, and Flux stops at the unknown field first.
        self.covered: set[tuple[int, str]] = set()

    def add(
        self,
        obj: FluxObject,
        code: str,
        field: str,
        message: str,
        hint: str = "",
        severity: Severity = "error",
    ) -> None:
        if (id(obj.doc), field) in self.covered:
            return
        self.problems.append(
            Problem(
                code=code,
                file=obj.file,
                line=obj.line_of(field) if field else obj.line,
                field=field,
                message=message,
                hint=hint,
                severity=severity,
            )
        )


def _written(obj: FluxObject, path: str) -> object:
    return obj.doc.get(path) if obj.doc is not None else None


def _names(items: Sequence[FluxObject]) -> str:
    return ", ".join(sorted(f"{o.name} ({o.namespace}, {o.file}:{o.line})" for o in items)) or "none"


def _check_unknown_fields(c: _Collector, obj: FluxObject) -> None:
    """Fields the Flux kind does not declare: kustomize-controller's server-side apply refuses the
    object ("field not declared in schema"), so nothing of the Kustomization's revision is applied."""
    kind = type(obj).__name__
    plural = kind.lower()[:-1] + "ies" if kind.endswith("y") else kind.lower() + "s"
    root = schema.object_schema(obj.api_version.rpartition("/")[0], plural)
    # Only the current version's fields are all known; older ones are reported as not served.
    if root is None or obj.doc is None or obj.version != "v1":
        return
    for path in schema.unknown_fields(root, obj.doc.data):
        meant, hint = schema.known_instead(root, path)
        where = schema.field_name(path)
        flux = schema.not_declared(kind, obj.namespace, obj.name, obj.api_version, [path])
        c.problems.append(
            Problem(
                code="field.unknown",
                file=obj.file,
                line=obj.doc.line_of(path),
                field=where,
                message=f"{where} is not a field of {kind}; Flux's apply fails: {flux}",
                hint=hint,
            )
        )
        if meant is not None and obj.doc.get(meant) is None:
            c.covered.add((id(obj.doc), ".".join(str(p) for p in meant)))


def _check_meta(c: _Collector, obj: FluxObject, kind: str) -> None:
    if not obj.name:
        c.add(
            obj,
            "metadata.name",
            "metadata.name",
            f"{kind} has no metadata.name",
            "add metadata.name: lower-case letters, digits and '-'",
        )
    else:
        reason = dns_subdomain_error(obj.name)
        if reason:
            # The name as Kubernetes would take it: lower case, other characters as '-'.
            fixed = re.sub(r"[^a-z0-9.-]+", "-", obj.name.lower()).strip("-.")[:253]
            hint = (
                f"e.g. {fixed}"
                if fixed and not dns_subdomain_error(fixed)
                else "lower-case letters, digits and '-'"
            )
            c.add(obj, "metadata.name", "metadata.name", f"{kind} metadata.name: {reason}", hint)
    if _written(obj, "metadata.namespace") is None:
        c.add(
            obj,
            "metadata.namespace",
            "metadata",
            f"{kind} {obj.name} has no metadata.namespace, so it lands in 'default'",
            "add namespace: flux-system (the image automation objects must share one namespace)",
            "warning",
        )
    else:
        reason = dns_label_error(obj.namespace)
        if reason:
            c.add(
                obj,
                "metadata.namespace",
                "metadata.namespace",
                f"{kind} metadata.namespace: {reason}",
                "flux-system",
            )


def _check_api(c: _Collector, obj: FluxObject, kind: str, served: Sequence[str]) -> None:
    version = obj.version
    if version in served:
        if version != "v1" and "v1" in served:
            c.add(
                obj,
                "api.deprecated",
                "apiVersion",
                f"{kind} {IMAGE_GROUP}/{version} is deprecated (Flux 2.7/2.8 warn; Flux 2.9 removed it)",
                f"write apiVersion: {IMAGE_GROUP}/v1 (the fields stay the same)",
                "warning",
            )
        return
    if version == "v1beta2":
        message = (
            f"{kind} uses {IMAGE_GROUP}/v1beta2, which this Flux does not serve (Flux 2.9 serves only v1): "
            f'apply fails with no matches for kind "{kind}" in version "{IMAGE_GROUP}/v1beta2"'
        )
        hint = f"write apiVersion: {IMAGE_GROUP}/v1; the course text predates Flux 2.7"
    elif version == "v1beta1":
        message = f"{kind} uses {IMAGE_GROUP}/v1beta1, removed in Flux 2.7"
        hint = f"write apiVersion: {IMAGE_GROUP}/v1"
    else:
        message = (
            f"{kind} uses {IMAGE_GROUP}/{version}, "
            f"which this cluster does not serve (serves {', '.join(served)})"
        )
        hint = f"write apiVersion: {IMAGE_GROUP}/{served[0] if served else 'v1'}"
    c.add(obj, "api.not-served", "apiVersion", message, hint)


def _check_interval(
    c: _Collector, obj: FluxObject, kind: str, path: str, value: str | None, *, required: bool
) -> None:
    if value is None or value == "":
        if required:
            c.add(
                obj, "interval.missing", path, f"{kind} {obj.name}: {path} is required", "e.g. interval: 5m"
            )
        return
    reason = check_interval(value, allow_hours=not path.endswith("timeout"))
    if reason:
        c.add(obj, "interval.invalid", path, f"{kind} {obj.name}: {path} {reason}", "e.g. 5m, 30s or 1h")


def _check_repository(c: _Collector, repo: ImageRepository) -> None:
    kind = "ImageRepository"
    if not repo.image:
        c.add(
            repo,
            "image.missing",
            "spec.image",
            f"ImageRepository {repo.name} has no spec.image",
            "e.g. image: library/nginx",
        )
    else:
        try:
            parse_image(repo.image)
        except ImageNameError as err:
            code = "image.tag" if "should not include a tag" in err.message else "image.invalid"
            c.add(
                repo,
                code,
                "spec.image",
                f"{err.message} (ImageRepository stalls: {err.reason})",
                err.hint,
            )
        for warning in image_warnings(repo.image):
            c.add(repo, "image.suspicious", "spec.image", warning, "check the image name", "warning")
    _check_interval(c, repo, kind, "spec.interval", repo.interval, required=True)
    _check_interval(c, repo, kind, "spec.timeout", repo.timeout, required=False)
    if repo.provider is not None and repo.provider not in _PROVIDERS:
        c.add(
            repo,
            "enum",
            "spec.provider",
            f"spec.provider '{repo.provider}' is not one of {', '.join(_PROVIDERS)}",
            "generic",
        )
    if repo.exclusion_list is not None:
        unusable = exclusion_problem(repo.exclusion_list)
        if unusable is not None:
            c.add(repo, unusable.code, unusable.field, unusable.message, unusable.hint)
        if SIG_EXCLUSION not in repo.exclusion_list:
            c.add(
                repo,
                "exclusion.sig",
                "spec.exclusionList",
                "spec.exclusionList replaces the default, so cosign '.sig' tags are no longer excluded",
                r"add '^.*\.sig$' to the list",
                "warning",
            )


def _check_policy(c: _Collector, pol: ImagePolicy, aset: AutomationSet) -> None:
    if not pol.repository_ref:
        c.add(
            pol,
            "policy.repository-ref",
            "spec.imageRepositoryRef.name",
            f"ImagePolicy {pol.name} has no spec.imageRepositoryRef.name",
            "name the ImageRepository, e.g. imageRepositoryRef: {name: "
            + (aset.repositories[0].name if aset.repositories else "<its metadata.name>")
            + "}",
        )
    else:
        ns, name = pol.repository_key
        if aset.repository(ns, name) is None:
            same_ns = [r for r in aset.repositories if r.namespace == ns]
            elsewhere = [r for r in aset.repositories if r.name == name]
            if elsewhere:
                c.add(
                    pol,
                    "policy.repository-namespace",
                    "spec.imageRepositoryRef",
                    f"ImagePolicy {pol.name} refers to ImageRepository {name} in {ns}, but it is in "
                    f"{elsewhere[0].namespace} ({elsewhere[0].file}:{elsewhere[0].line})",
                    "put both in the same namespace (flux-system)",
                )
            else:
                c.add(
                    pol,
                    "policy.repository-ref",
                    "spec.imageRepositoryRef.name",
                    f"imageRepositoryRef '{name}' matches no ImageRepository in {ns} "
                    f"(existing: {_names(same_ns or aset.repositories)})",
                    "set imageRepositoryRef.name to the ImageRepository's metadata.name"
                    + (f", e.g. {same_ns[0].name}" if same_ns else ""),
                )
        elif pol.repository_namespace and pol.repository_namespace != pol.namespace:
            c.add(
                pol,
                "policy.cross-namespace",
                "spec.imageRepositoryRef.namespace",
                f"ImagePolicy in {pol.namespace} uses an ImageRepository in {pol.repository_namespace}: "
                "denied unless the repository's spec.accessFrom admits this namespace",
                "keep both in one namespace, or add accessFrom.namespaceSelectors to the repository",
                "warning",
            )
    _check_policy_block(c, pol)
    drp = pol.digest_reflection_policy
    if drp is not None and drp not in _DIGEST_POLICIES:
        c.add(
            pol,
            "enum",
            "spec.digestReflectionPolicy",
            f"digestReflectionPolicy '{drp}' is not {', '.join(_DIGEST_POLICIES[:-1])} or {_DIGEST_POLICIES[-1]}",
            "Never",
        )
    if pol.interval is not None and drp != "Always":
        c.add(
            pol,
            "policy.interval",
            "spec.interval",
            "spec.interval is only accepted when spec.digestReflectionPolicy is set to 'Always'",
            "remove spec.interval (the policy follows its ImageRepository)",
        )
    elif drp == "Always" and pol.interval is None:
        c.add(
            pol,
            "policy.interval",
            "spec.digestReflectionPolicy",
            "spec.interval must be set when spec.digestReflectionPolicy is set to 'Always'",
            "add interval: 10m",
        )
    elif pol.interval is not None:
        _check_interval(c, pol, "ImagePolicy", "spec.interval", pol.interval, required=True)


def _check_policy_block(c: _Collector, pol: ImagePolicy) -> None:
    block = _written(pol, "spec.policy")
    kinds = [k for k in ("semver", "alphabetical", "numerical") if isinstance(block, dict) and k in block]
    if block is None:
        c.add(
            pol,
            "policy.missing",
            "spec.policy",
            f"ImagePolicy {pol.name} has no spec.policy",
            "e.g. policy: {semver: {range: 1.25.x}}",
        )
        return
    if not kinds:
        found = ", ".join(block) if isinstance(block, dict) else type(block).__name__
        c.add(
            pol,
            "policy.kind",
            "spec.policy",
            f"spec.policy names no policy kind (found: {found or 'nothing'})",
            "use exactly one of semver, numerical or alphabetical",
        )
        return
    if len(kinds) > 1:
        c.add(
            pol,
            "policy.several",
            f"spec.policy.{kinds[1]}",
            f"spec.policy sets {' and '.join(kinds)}; Flux uses only {kinds[0]}",
            "keep exactly one policy kind",
        )
    spec = pol.policy
    if spec is None:
        return
    if spec.kind == "semver":
        if not spec.value.strip():
            c.add(
                pol,
                "policy.range",
                "spec.policy.semver.range",
                "spec.policy.semver.range is empty or missing",
                "e.g. range: 1.25.x",
            )
        else:
            _check_range(c, pol, spec.value)
    else:
        order = _written(pol, f"spec.policy.{spec.kind}.order")
        if order is not None and spec.value not in ("asc", "desc"):
            c.add(
                pol,
                "policy.order",
                f"spec.policy.{spec.kind}.order",
                f"spec.policy.{spec.kind}.order '{spec.value}' is not asc or desc",
                _key_in_value_hint(spec.value, "order", ("order",))
                or "asc picks the highest value (newest), desc the lowest",
            )
    if spec.filter_pattern is not None:
        _check_filter(c, pol, spec.filter_pattern)
    elif spec.filter_extract:
        c.add(
            pol,
            "filter.extract",
            "spec.filterTags.extract",
            "spec.filterTags.extract without a pattern has nothing to extract from",
            "add filterTags.pattern with the named group",
        )


def _check_range(c: _Collector, pol: ImagePolicy, text: str) -> None:
    try:
        from lab.core.semver.constraints import ConstraintError, new_constraint
    except ImportError:  # pragma: no cover - the semver port is another part of the lab
        return
    try:
        new_constraint(text)
    except ConstraintError as err:
        c.add(
            pol,
            "policy.range",
            "spec.policy.semver.range",
            f"invalid semver range '{text}': {err} (ImagePolicy stalls: InvalidPolicy)",
            _key_in_value_hint(text, "range", ("range", "semver"))
            or "Masterminds syntax, e.g. 1.25.x, ~1.25 or '>=1.25.0 <1.26.0'",
        )


def _key_in_value_hint(text: str, key: str, names: tuple[str, ...]) -> str | None:
    """The fix for a value that names its field (`range: 'range:1.25.x'`, quoted or not: the field
    holds the string `range:1.25.x`), None for any other value."""
    written = key_in_string(text)
    if written is None or written[0] not in names:
        return None
    return f"'{written[0]}:' is not part of the {key}: write {key}: {yaml_value(written[1])}"


LAB_LIMIT_CODE = "filter.pattern.lab-limit"
"""A problem code for what the lab cannot check (its own limit), not something Flux rejects."""


def _check_filter(c: _Collector, pol: ImagePolicy, pattern: str) -> None:
    try:
        from lab.core.policy.regex import LAB_TOO_LARGE, RegexSyntaxError, compile_go
    except ImportError:  # pragma: no cover
        return
    try:
        compiled = compile_go(pattern)
    except RegexSyntaxError as err:
        if err.code == LAB_TOO_LARGE:
            # Go compiles it: the limit is the lab's, so nothing is known to be wrong (a warning, which
            # refuses no push; the check that reads it says it could not check).
            c.add(
                pol,
                LAB_LIMIT_CODE,
                "spec.filterTags.pattern",
                f"could not check spec.filterTags.pattern ({len(pattern)} characters): it is too large "
                "for the lab's matcher; Go's regexp compiles it, so Flux would use it",
                "a shorter pattern (a character class or a range instead of thousands of alternatives) "
                "lets the lab check it",
                severity="warning",
            )
            return
        from lab.core.policy.filter import pattern_fix
        from lab.core.text import abbreviate

        c.add(
            pol,
            "filter.pattern",
            "spec.filterTags.pattern",
            # A pattern of kilobytes is abbreviated, never Go's reason after it (Flux quotes it whole).
            f"spec.filterTags.pattern: Flux stalls (InvalidPolicy): failed to filter tags: invalid regular "
            f"expression pattern '{abbreviate(pattern)}': {err}",
            pattern_fix(err.code, err.expr),
        )
        return
    extract = pol.policy.filter_extract if pol.policy else None
    kind = pol.policy.kind if pol.policy else None
    for message, hint in extract_problems(
        extract or "", compiled.group_names, "spec.filterTags.extract", kind
    ):
        c.add(pol, "filter.extract", "spec.filterTags.extract", message, hint)


# What image-reflector-controller does when every tag extracts '' (all collapse into one candidate):
# the policy's own error, or for alphabetical no order at all (the CRD does not check extract, only
# `flux create image policy --filter-extract` does).
_EMPTY_EXTRACT = {
    "numerical": "the ImagePolicy fails: failed to parse invalid numeric value ''",
    "semver": "the ImagePolicy fails: unable to determine latest version from provided list",
    "alphabetical": "so the policy does not order them: it reports whichever matching tag is stored last",
}


def extract_problems(
    extract: str, group_names: Sequence[str], field: str, kind: str | None = None
) -> list[tuple[str, str]]:
    """(message, hint) for each group `extract` names that the pattern (its `group_names`) lacks: Go's
    Expand makes it an empty string. `field` is where the extract was written (the manifest's field,
    or `lab generate`'s flag), so the validator and the generator say the same. With the policy's `kind`
    (a manifest, which Flux's API accepts as it is) the message says what Flux then does."""
    out: list[tuple[str, str]] = []
    named = [g for g in group_names if g]
    for ref in re.findall(r"\$\{?([A-Za-z_][A-Za-z0-9_]*|[0-9]+)\}?", extract):
        if not ref.isdigit() and ref not in group_names:
            then = _EMPTY_EXTRACT.get(kind or "")
            happens = (
                f"Flux's API accepts it; every tag then extracts ''{' and' if kind != 'alphabetical' else ','} {then}"
                if then
                else "(it expands to an empty string)"
            )
            other = f", or extract ${named[0]}" if named else ""
            out.append(
                (
                    f"{field} uses ${ref}, but the pattern has no group named '{ref}'{':' if then else ''} {happens}",
                    f"name the group in the pattern: (?P<{ref}>...){other}",
                )
            )
    return out


def _check_automation(c: _Collector, iua: ImageUpdateAutomation, aset: AutomationSet) -> None:
    kind = "ImageUpdateAutomation"
    _check_interval(c, iua, kind, "spec.interval", iua.interval, required=True)
    if iua.source_kind != "GitRepository":
        c.add(
            iua,
            "source.kind",
            "spec.sourceRef.kind",
            f"sourceRef.kind '{iua.source_kind}' is not GitRepository",
            "kind: GitRepository",
        )
    if not isinstance(_written(iua, "spec.sourceRef"), dict):
        c.add(
            iua,
            "source.missing",
            "spec",
            f"{kind} {iua.name} has no spec.sourceRef: the API server refuses it (spec.sourceRef: Required "
            "value)",
            "spec.sourceRef: {kind: GitRepository, name: flux-system} (bootstrap's GitRepository; kind "
            "defaults to GitRepository)",
        )
    elif not iua.source_name:
        c.add(
            iua,
            "source.missing",
            "spec.sourceRef.name",
            f"{kind} {iua.name} has no spec.sourceRef.name",
            "name: flux-system (bootstrap's GitRepository)",
        )
    else:
        ns, name = iua.source_key
        elsewhere = [g for g in aset.git_repositories if g.name == name and g.namespace != ns]
        if aset.git_repository(ns, name) is None and elsewhere:
            there = elsewhere[0]
            c.add(
                iua,
                "source.namespace",
                "spec.sourceRef.namespace" if iua.source_namespace else "metadata.namespace",
                f"sourceRef GitRepository '{name}' is looked up in {ns}, but it is in {there.namespace} "
                f"({there.file}:{there.line})",
                f"put the {kind} in {there.namespace} (metadata.namespace: {there.namespace}), "
                f"or set spec.sourceRef.namespace: {there.namespace}",
            )
        elif aset.git_repository(ns, name) is None:
            known = aset.git_repositories
            c.add(
                iua,
                "source.ref",
                "spec.sourceRef.name",
                f"sourceRef GitRepository '{name}' in {ns} is not defined in these files "
                f"(existing: {_names(known)})",
                "use the GitRepository bootstrap created: name: flux-system"
                if known
                else "bootstrap's GitRepository flux-system is in clusters/<env>/flux-system/gotk-sync.yaml",
                "error" if known else "warning",
            )
    if _written(iua, "spec.git") is None:
        c.add(
            iua,
            "git.missing",
            "spec",
            "source kind 'GitRepository' necessitates field .spec.git: invalid source configuration",
            "add spec.git with checkout.ref.branch, commit.author and push.branch",
        )
        return
    email = iua.author_email
    if not email:
        c.add(
            iua,
            "author.email",
            "spec.git.commit.author.email",
            "spec.git.commit.author.email is required",
            "e.g. email: flux@gitops-lab.local",
        )
    elif not _EMAIL.fullmatch(email):
        c.add(
            iua,
            "author.email",
            "spec.git.commit.author.email",
            f"author email '{email}' is not an e-mail address",
            "e.g. flux@gitops-lab.local",
        )
    if not iua.author_name:
        c.add(
            iua,
            "author.name",
            "spec.git.commit.author",
            "spec.git.commit.author.name is not set, so `git log --author=Flux` finds nothing",
            "name: Flux",
            "warning",
        )
    git_repo = aset.git_repository(*iua.source_key) if iua.source_name else None
    if not iua.checkout_branch:
        if iua.checkout_ref:
            pass  # tag/semver/commit checkouts are valid; the push branch is checked below
        elif git_repo is not None and git_repo.branch:
            c.add(
                iua,
                "checkout.branch",
                "spec.git.checkout",
                f"spec.git.checkout.ref.branch is not set; Flux uses GitRepository {git_repo.name}'s "
                f"branch {git_repo.branch}",
                f"state it: checkout: {{ref: {{branch: {git_repo.branch}}}}}",
                "info",
            )
        else:
            c.add(
                iua,
                "checkout.branch",
                "spec.git.checkout.ref.branch",
                "spec.git.checkout.ref.branch is not set (a GitRepository without ref defaults to 'master')",
                "checkout: {ref: {branch: main}}",
                "warning",
            )
    else:
        reason = git_branch_error(iua.checkout_branch)
        if reason:
            c.add(iua, "checkout.branch", "spec.git.checkout.ref.branch", reason, "e.g. main")
    if iua.push_branch:
        reason = git_branch_error(iua.push_branch)
        if reason:
            c.add(iua, "push.branch", "spec.git.push.branch", reason, "e.g. main")
    elif iua.effective_push_branch(git_repo) is None and not (git_repo is None and not iua.checkout_ref):
        c.add(
            iua,
            "push.branch",
            "spec.git",
            "push spec not provided, and cannot be inferred from .spec.git.checkout.ref or "
            "GitRepository .spec.ref",
            "add git.push.branch: main",
        )
    _check_update(c, iua)
    if iua.message_template:
        for message, hint in template_problems(iua.message_template, iua.version):
            c.add(iua, "template", "spec.git.commit.messageTemplate", message, hint)
        if iua.version != "v1" and _stalls_on_v1(iua.message_template):
            c.add(
                iua,
                "template.deprecated",
                "spec.git.commit.messageTemplate",
                "'.Updated' is deprecated and stalls once the object is v1",
                "use .Changed.Changes",
                "warning",
            )


def _check_update(c: _Collector, iua: ImageUpdateAutomation) -> None:
    update = _written(iua, "spec.update")
    if update is None:
        # Every served version's CRD defaults it to {strategy: Setters}: accepted, with no path.
        c.add(
            iua,
            "update.missing",
            "spec",
            "spec.update is missing: Flux then scans the whole repository",
            "update: {path: ./apps, strategy: Setters}",
            "warning",
        )
        return
    if not iua.update_path:
        c.add(
            iua,
            "update.path",
            "spec.update",
            "spec.update.path is not set: Flux scans the whole repository for markers",
            "path: ./apps (relative to the repository root)",
            "warning",
        )
    elif posixpath.normpath(iua.update_path.replace("\\", "/").strip()).split("/")[0] == "..":
        # `./apps/../apps/staging` stays inside; only a path that climbs above the root is clamped
        c.add(
            iua,
            "update.path",
            "spec.update.path",
            f"update.path '{iua.update_path}' tries to leave the repository; "
            "Flux clamps it to the clone root",
            "a path relative to the repository root, e.g. ./apps",
        )
    selector = selector_problem(_written(iua, "spec.policySelector"))
    if selector is not None:
        c.add(
            iua,
            "selector.invalid",
            "spec.policySelector",
            selector,
            "matchLabels: {env: staging}, or matchExpressions with In, NotIn, Exists or DoesNotExist",
        )
    strategy = iua.update_strategy
    # No strategy is Setters in every version: the CRDs default it (and `update` itself) to Setters.
    if strategy is not None and strategy != "Setters":
        c.add(
            iua,
            "update.strategy",
            "spec.update.strategy",
            f"update.strategy '{strategy}' is not Setters",
            "strategy: Setters",
        )


def _check_cross(c: _Collector, aset: AutomationSet) -> None:
    seen: Counter[tuple[str, str, str]] = Counter()
    for obj in aset.all_objects():
        key = (type(obj).__name__, obj.namespace, obj.name)
        seen[key] += 1
        if seen[key] == 2:
            first = next(o for o in aset.all_objects() if (type(o).__name__, o.namespace, o.name) == key)
            c.add(
                obj,
                "duplicate",
                "metadata.name",
                f"{key[0]} {obj.namespace}/{obj.name} is defined twice (also {first.file}:{first.line})",
                "keep one definition; the later one overwrites the earlier",
            )
    iua_namespaces = {a.namespace for a in aset.automations}
    if aset.automations:
        for pol in aset.policies:
            if pol.namespace not in iua_namespaces:
                c.add(
                    pol,
                    "policy.namespace",
                    "metadata.namespace",
                    f"ImagePolicy {pol.name} is in {pol.namespace}, but ImageUpdateAutomations only use "
                    f"policies of their own namespace ({', '.join(sorted(iua_namespaces))}); "
                    "markers naming it do nothing",
                    f"namespace: {sorted(iua_namespaces)[0]}",
                )
    for git in aset.git_repositories:
        if git.url and not _GIT_URL.match(git.url):
            scp = re.fullmatch(r"([^@/:]+@)?([^:/]+):(.+)", git.url)
            hint = (
                f"ssh://{scp.group(1) or ''}{scp.group(2)}/{scp.group(3)}"
                if scp
                else "an http(s):// or ssh:// URL"
            )
            c.add(
                git,
                "git.url",
                "spec.url",
                f"GitRepository url '{git.url}' does not match ^(http|https|ssh)://.*$",
                hint,
            )


def validate(aset: AutomationSet, served_versions: Sequence[str] = ("v1",)) -> list[Problem]:
    """All problems of `aset` (parse problems first), in file/line order within each group."""
    c = _Collector()
    for obj in aset.all_objects():
        _check_unknown_fields(c, obj)
    for repo in aset.repositories:
        _check_api(c, repo, "ImageRepository", served_versions)
        _check_meta(c, repo, "ImageRepository")
        _check_repository(c, repo)
    for pol in aset.policies:
        _check_api(c, pol, "ImagePolicy", served_versions)
        _check_meta(c, pol, "ImagePolicy")
        _check_policy(c, pol, aset)
    for iua in aset.automations:
        _check_api(c, iua, "ImageUpdateAutomation", served_versions)
        _check_meta(c, iua, "ImageUpdateAutomation")
        _check_automation(c, iua, aset)
    _check_cross(c, aset)
    # A field already reported as the wrong type would only repeat itself as an invalid value.
    typed = {(p.file, p.field) for p in aset.problems if p.code == "field.type"}

    def repeats(p: Problem) -> bool:
        return any(p.file == file and (p.field == f or p.field.startswith(f + ".")) for file, f in typed)

    found = sorted((p for p in c.problems if not repeats(p)), key=lambda p: (p.file, p.line or 0))
    return [*aset.problems, *found]
