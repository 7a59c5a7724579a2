"""Render the three manifests of Task 09b from a handful of options.

Two output shapes:
- `image.toolkit.fluxcd.io/v1` (default, what current Flux serves): the shape `flux create image ...
  --export` prints - leading `---`, keys sorted, empty fields dropped, durations as Go prints them
  (`5m0s`), quoting by go-yaml v2's rules - plus `update`/`push` as the course text has them.
- `v1beta2`: the course text's own blocks (its key order, `5m`, its block scalar), so that with all
  defaults the files equal the seed's Step 2, 3 and 5 byte for byte.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import field, fields, replace
from typing import Any, cast, get_args

from lab.core.dnsnames import dns_label_error, dns_subdomain_error
from lab.core.duration import check_interval, normalize
from lab.core.imagename import ImageNameError, parse_image
from lab.core.manifests.emit import dump
from lab.core.manifests.models import API_V1, API_V1BETA2, IMAGE_GROUP
from lab.core.manifests.validate import extract_problems, git_branch_error, template_problems
from lab.core.policy.spec import PolicyKind, PolicySpec
from lab.core.record import dataclass
from lab.core.yamlerror import key_in_string
from lab.core.yamlsafe import load_all, load_one
from lab.errors import LabError

SEED_MESSAGE_TEMPLATE = (
    "Automated image update\n\n{{range .Changed.Changes}}\n- {{.OldValue}} -> {{.NewValue}}\n{{end}}\n"
)

FILE_REPOSITORY = "image-repository.yaml"
FILE_POLICY = "image-policy.yaml"
FILE_UPDATE = "image-update.yaml"
FILES = (FILE_REPOSITORY, FILE_POLICY, FILE_UPDATE)
#: Where the course text keeps them: for a task whose checks name no `automation_files`.
DEFAULT_DIR = "clusters/dev/image-automation"
DEFAULT_FILES = tuple(f"{DEFAULT_DIR}/{name}" for name in FILES)

SUPPORTED_API_VERSIONS = (API_V1, API_V1BETA2)

#: Which command-line flag sets which option, so errors name what the learner typed.
FLAGS = {
    "api_version": "--api",
    "name": "--name",
    "namespace": "--namespace",
    "image": "--image",
    "interval": "--interval",
    "filter_pattern": "--filter-pattern",
    "filter_extract": "--filter-extract",
    "git_source": "--git-source",
    "branch": "--branch",
    "push_branch": "--push-branch",
    "update_path": "--update-path",
    "author_name": "--author-name",
    "author_email": "--author-email",
    "automation_name": "--automation-name",
    "automation_interval": "--automation-interval",
    "message_template": "--message-template",
    "reflect_digest": "--reflect-digest",
}
#: ImagePolicy `spec.digestReflectionPolicy`; Never, the default, is not written (as flux create omits it).
REFLECT_DIGEST = ("Never", "IfNotPresent", "Always")


@dataclass(frozen=True)
class GenerateOptions:
    """Defaults reproduce the course text (Task 09b, steps 2, 3 and 5)."""

    api_version: str = API_V1
    name: str = "nginx"
    namespace: str = "flux-system"
    image: str = "library/nginx"
    interval: str = "5m"
    policy: PolicySpec = field(default_factory=lambda: PolicySpec("semver", "1.25.x"))
    filter_pattern: str | None = None
    filter_extract: str | None = None
    #: `Always` also writes the policy's `interval` (the scan interval): Flux's API requires one then.
    reflect_digest: str = "Never"
    git_source: str = "flux-system"
    branch: str = "main"
    push_branch: str = "main"
    update_path: str = "./apps"
    author_name: str = "Flux"
    author_email: str = "flux@gitops-lab.local"
    automation_name: str = "flux-system"
    automation_interval: str = "10m"
    message_template: str = SEED_MESSAGE_TEMPLATE


POLICY_KINDS: tuple[str, ...] = get_args(PolicyKind)


def selection(opts: GenerateOptions) -> PolicySpec:
    """The ImagePolicy these options write, as the policy evaluation takes it: policy and filterTags."""
    pattern, extract = _filters(opts)
    return replace(opts.policy, filter_pattern=pattern, filter_extract=extract)


def generate_keys() -> frozenset[str]:
    """What a task's `[generate]` table may set: each option, and one policy kind."""
    return frozenset({f.name for f in fields(GenerateOptions)} - {"policy"} | set(POLICY_KINDS))


def options_from_mapping(values: Mapping[str, str]) -> GenerateOptions:
    """The generator's defaults with a task's `[generate]` table over them (`image = "..."`, and one of
    `semver`/`numerical`/`alphabetical` for the policy); keys that name no option are left out."""
    defaults = GenerateOptions()
    named = {f.name for f in fields(GenerateOptions)} - {"policy"}
    changes: dict[str, Any] = {}
    for key, value in values.items():
        name = key.replace("-", "_")
        if name in POLICY_KINDS:
            changes["policy"] = PolicySpec(cast(PolicyKind, name), value)
        elif name in named:
            changes[name] = value
    return replace(defaults, **changes)


def normalize_api_version(value: str) -> str:
    """'v1' / 'v1beta2' / the full apiVersion -> the full apiVersion. Raises LabError for others."""
    full = value if "/" in value else f"{IMAGE_GROUP}/{value}"
    if full not in SUPPORTED_API_VERSIONS:
        raise LabError(
            f"--api {value}: the lab generates image.toolkit.fluxcd.io v1 or v1beta2",
            field="--api",
            hint="use --api v1 (Flux >= 2.7, the only version on Flux 2.9) "
            "or v1beta2 (Flux 2.3-2.8, the course text)",
        )
    return full


def _flag_error(option: str, message: str, hint: str) -> LabError:
    flag = FLAGS.get(option, option)
    return LabError(f"{flag}: {message}", field=flag, hint=hint)


def _filters(opts: GenerateOptions) -> tuple[str | None, str | None]:
    return (
        opts.filter_pattern if opts.filter_pattern is not None else opts.policy.filter_pattern,
        opts.filter_extract if opts.filter_extract is not None else opts.policy.filter_extract,
    )


def check_options(opts: GenerateOptions) -> GenerateOptions:
    """Validate every option (LabError naming the flag); return them with the full apiVersion."""
    opts = replace(opts, api_version=normalize_api_version(opts.api_version))
    for option in ("name", "automation_name", "git_source"):
        reason = dns_subdomain_error(getattr(opts, option))
        if reason:
            raise _flag_error(option, reason, "lower-case letters, digits, '-' and '.', e.g. nginx")
    reason = dns_label_error(opts.namespace)
    if reason:
        raise _flag_error("namespace", reason, "the namespace of the Flux objects, normally flux-system")
    try:
        parse_image(opts.image)
    except ImageNameError as err:
        raise _flag_error("image", err.message, err.hint) from None
    for option in ("interval", "automation_interval"):
        reason = check_interval(getattr(opts, option))
        if reason:
            raise _flag_error(option, reason, "e.g. 5m, 1h or 30s")
    _check_policy(opts.policy)
    if opts.reflect_digest not in REFLECT_DIGEST:
        raise _flag_error(
            "reflect_digest",
            f"'{opts.reflect_digest}' is not a digest reflection policy",
            "one of Never, IfNotPresent (pin the digest a tag had when first seen) or Always",
        )
    pattern, extract = _filters(opts)
    groups = _check_regex(pattern) if pattern is not None else None
    if extract is not None and not pattern:
        raise _flag_error(
            "filter_extract",
            "an extract needs a pattern",
            "add --filter-pattern with named groups, e.g. '^(?P<v>.*)-alpine$'",
        )
    if extract and groups is not None:
        # What the image-policy.valid check would fail the file for: refused before it is written.
        for message, hint in extract_problems(extract, groups, FLAGS["filter_extract"], opts.policy.kind):
            raise LabError(message, field=FLAGS["filter_extract"], hint=hint)
    for option in ("branch", "push_branch"):
        reason = git_branch_error(getattr(opts, option))
        if reason:
            raise _flag_error(option, reason, "a branch name such as main")
    path = opts.update_path.strip()
    if not path:
        raise _flag_error(
            "update_path", "the update path is empty", "a path relative to the repository root, e.g. ./apps"
        )
    if ".." in re.split(r"[\\/]", path):
        raise _flag_error(
            "update_path",
            f"'{opts.update_path}' leaves the repository (Flux clamps it to the clone root)",
            "a path inside the repository, e.g. ./apps",
        )
    if not re.fullmatch(r"[^@\s]+@[^@\s]+", opts.author_email):
        raise _flag_error(
            "author_email", f"'{opts.author_email}' is not an e-mail address", "e.g. flux@gitops-lab.local"
        )
    if not opts.author_name.strip():
        raise _flag_error(
            "author_name", "the author name is empty", "e.g. Flux (git log --author matches it)"
        )
    for problem in template_problems(opts.message_template, opts.api_version.rpartition("/")[2]):
        raise _flag_error("message_template", problem[0], problem[1])
    return opts


def _range_alone(value: str) -> str | None:
    """`--semver range:1.25.x` (the field's name typed with its value): give the range alone."""
    written = key_in_string(value)
    if written is None or written[0] not in ("range", "semver"):
        return None
    return f"give the range alone: --semver {shlex.quote(written[1])}"


def _check_policy(policy: PolicySpec) -> None:
    if policy.kind == "semver":
        if not policy.value.strip():
            raise LabError(
                "--semver: the range is empty", field="--semver", hint="e.g. --semver 1.25.x or '>=1.25.0'"
            )
        try:
            from lab.core.semver.constraints import ConstraintError, new_constraint
        except ImportError:  # pragma: no cover - the semver port is another part of the lab
            return
        try:
            new_constraint(policy.value)
        except ConstraintError as err:
            raise LabError(
                f"--semver {policy.value}: invalid semver range: {err}",
                field="--semver",
                hint=_range_alone(policy.value)
                or "Masterminds syntax, e.g. 1.25.x, ~1.25, '>=1.25.0 <1.26.0'",
            ) from None
    elif policy.kind in ("numerical", "alphabetical"):
        if policy.value not in ("asc", "desc"):
            raise LabError(
                f"--{policy.kind} {policy.value}: order must be asc or desc",
                field=f"--{policy.kind}",
                hint="asc picks the highest (newest) value; desc the lowest",
            )
    else:
        raise LabError(
            f"unknown policy kind {policy.kind!r}", hint="use --semver, --numerical or --alphabetical"
        )


def _check_regex(pattern: str) -> tuple[str, ...] | None:
    """The pattern's group names (None when the regex engine is not there); LabError if it is no Go regexp."""
    try:
        from lab.core.policy.regex import RegexSyntaxError, compile_go
    except ImportError:  # pragma: no cover
        return None
    try:
        return compile_go(pattern).group_names
    except RegexSyntaxError as err:
        from lab.core.policy.filter import pattern_fix

        raise LabError(
            f"--filter-pattern: {err}", field="--filter-pattern", hint=pattern_fix(err.code, err.expr)
        ) from None


def _policy_block(opts: GenerateOptions) -> dict[str, Any]:
    key = "range" if opts.policy.kind == "semver" else "order"
    return {opts.policy.kind: {key: opts.policy.value}}


def _objects(opts: GenerateOptions, *, export: bool) -> dict[str, dict[str, Any]]:
    def duration(text: str) -> str:
        return normalize(text) if export else text

    meta = {"name": opts.name, "namespace": opts.namespace}
    repository = {
        "apiVersion": opts.api_version,
        "kind": "ImageRepository",
        "metadata": meta,
        "spec": {"image": opts.image, "interval": duration(opts.interval)},
    }
    policy_spec: dict[str, Any] = {"imageRepositoryRef": {"name": opts.name}}
    if opts.reflect_digest != "Never":
        policy_spec["digestReflectionPolicy"] = opts.reflect_digest
    if opts.reflect_digest == "Always":
        # CEL on the API: "spec.interval must be set when spec.digestReflectionPolicy is set to 'Always'".
        policy_spec["interval"] = duration(opts.interval)
    policy_spec["policy"] = _policy_block(opts)
    pattern, extract = _filters(opts)
    if pattern is not None:
        policy_spec["filterTags"] = {"pattern": pattern, **({"extract": extract} if extract else {})}
    policy = {
        "apiVersion": opts.api_version,
        "kind": "ImagePolicy",
        "metadata": dict(meta),
        "spec": policy_spec,
    }
    commit: dict[str, Any] = {"author": {"email": opts.author_email, "name": opts.author_name}}
    if opts.message_template:
        commit["messageTemplate"] = opts.message_template
    update = {
        "apiVersion": opts.api_version,
        "kind": "ImageUpdateAutomation",
        "metadata": {"name": opts.automation_name, "namespace": opts.namespace},
        "spec": {
            "interval": duration(opts.automation_interval),
            "sourceRef": {"kind": "GitRepository", "name": opts.git_source},
            "git": {
                "checkout": {"ref": {"branch": opts.branch}},
                "commit": commit,
                "push": {"branch": opts.push_branch},
            },
            "update": {"path": opts.update_path, "strategy": "Setters"},
        },
    }
    return {FILE_REPOSITORY: repository, FILE_POLICY: policy, FILE_UPDATE: update}


def render_manifests(opts: GenerateOptions) -> dict[str, str]:
    """{file name: YAML text} for the three manifests. Raises LabError naming the offending flag."""
    opts = check_options(opts)
    export = opts.api_version == API_V1
    objects = _objects(opts, export=export)
    if export:
        return {name: dump(obj, sort_keys=True, explicit_start=True) for name, obj in objects.items()}
    return {
        name: dump(obj, sort_keys=False, explicit_start=False, seed_style=True)
        for name, obj in objects.items()
    }


@dataclass(frozen=True)
class Addition:
    """A file's text with one generated object added (`add_manifest`), or as it was: `present` then
    names the object of the same kind and name the file holds already, e.g. `ImagePolicy flux-system/shop`."""

    text: str
    present: str = ""
    #: with `present`: the object in the file is not the one the form would write (a typo to fix)
    differs: bool = False


def _identity(data: Any) -> tuple[str, str, str] | None:
    """(kind, namespace, name) of a manifest's object; None for a document that is no object."""
    if not isinstance(data, dict) or not isinstance(data.get("metadata"), dict):
        return None
    meta = data["metadata"]
    return str(data.get("kind") or ""), str(meta.get("namespace") or ""), str(meta.get("name") or "")


def add_manifest(current: str, manifest: str, file: str) -> Addition:
    """`current` (a file's text) with `manifest` (one rendered object) appended as a document of its
    own - unless the file holds an object of the same kind and name: that one is the learner's and is
    left as it is (a missing namespace matches any: Flux's Kustomization may give it one). Nothing
    already in the file changes, comments included. Raises LabError (file:line) when `current` is not
    YAML the lab can read: appending to it would bury the error under the new object."""
    generated = load_one(manifest, file)
    wanted = _identity(generated.data if generated is not None else None)
    if wanted is None:
        raise LabError("the generated manifest holds no object", file=file)  # a bug, not the learner's
    kind, namespace, name = wanted
    for doc in load_all(current, file):
        have = _identity(doc.data)
        if have is not None and have[0] == kind and have[2] == name and have[1] in ("", namespace):
            differs = generated is not None and doc.data != generated.data
            return Addition(current, present=f"{kind} {have[1] or namespace}/{name}", differs=differs)
    if not current.strip():
        return Addition(manifest)
    # A file with Windows line breaks keeps them: half CRLF, half LF would be a diff of every line
    # to the next editor that normalises them.
    newline = "\r\n" if "\r\n" in current else "\n"
    head = current if current.endswith("\n") else current + newline
    body = manifest.removeprefix("---\n").replace("\n", newline)
    # The file may end with a `---` of its own (an empty document next): one marker, not two.
    last = next((line for line in reversed(head.splitlines()) if line.strip()), "")
    return Addition(head + body if last.rstrip() == "---" else f"{head}---{newline}{body}")
