"""The Flux CRD schemas, once: the learner-facing validator and the sandbox API server both read them.

`lab.core.manifests.validate` takes its enums, limits and patterns from here; the sandbox's API server
validates requests by walking these nodes, publishes them as the CRDs' `openAPIV3Schema`, and serves them
as OpenAPI v3 (what `kubectl explain imagepolicy.spec.policy` prints). The field descriptions follow the
Flux API reference. Only the fields a learner meets are spelled out; `open` objects accept the rest.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import field, replace
from typing import Any

from lab.core.duration import INTERVAL_PATTERN, TIMEOUT_PATTERN
from lab.core.manifests.models import IMAGE_GROUP, KUSTOMIZE_GROUP, SOURCE_GROUP
from lab.core.record import dataclass

GIT_URL = r"^(http|https|ssh)://.*$"
#: A field's place in an object as decoded: keys, and list indexes.
FieldPath = tuple[str | int, ...]


@dataclass(frozen=True)
class F:
    """A schema node: `type` is string/boolean/integer/object/array/map/any."""

    type: str = "string"
    props: Mapping[str, F] = field(default_factory=dict)
    required: tuple[str, ...] = ()
    items: F | None = None
    pattern: str | None = None
    enum: tuple[str, ...] = ()
    max_items: int | None = None
    max_length: int | None = None
    # Objects whose fields are not all known here are not checked for unknown fields.
    open: bool = False
    description: str = ""
    #: The CRD's `default` (`+kubebuilder:default`): the API server writes it where the field is absent
    #: or null, before it validates (structural-schema defaulting). None: no default.
    default: Any = None

    def at(self, path: str | FieldPath) -> F:
        """The node at a path below this one (`policy.semver.range`, or keys and list indexes as
        decoded); KeyError when unknown."""
        node = self
        for part in path.split(".") if isinstance(path, str) else path:
            found = node.items if isinstance(part, int) else node.props.get(part)
            if found is None:
                raise KeyError(part)
            node = found
        return node

    def described(self, text: str) -> F:
        return replace(self, description=text)

    def defaulting(self, value: Any) -> F:
        return replace(self, default=value)


STR = F()
BOOL = F("boolean")
MAP = F("map")
ANY = F("any")
INTERVAL = F(pattern=INTERVAL_PATTERN)
TIMEOUT = F(pattern=TIMEOUT_PATTERN)
_SUSPEND = BOOL.described(
    "This flag tells the controller to suspend subsequent reconciliations. "
    "It does not apply to already started reconciliations. Defaults to false."
)
NAME_REF = F("object", {"name": STR.described("Name of the referent.")}, required=("name",))
NS_NAME_REF = F(
    "object",
    {
        "name": STR.described("Name of the referent."),
        "namespace": STR.described(
            "Namespace of the referent, when not specified it acts as LocalObjectReference."
        ),
    },
    required=("name",),
)

IMAGE_REPOSITORY = F(
    "object",
    {
        "image": STR.described("Image is the name of the image repository"),
        "interval": INTERVAL.described(
            "Interval is the length of time to wait between scans of the image repository."
        ),
        "timeout": TIMEOUT.described("Timeout for image scanning. Defaults to 'Interval' duration."),
        "secretRef": NAME_REF.described(
            "SecretRef can be given the name of a secret containing credentials to use for the image registry. "
            "The secret should be created with `kubectl create secret docker-registry`, or the equivalent."
        ),
        "serviceAccountName": F(
            max_length=253,
            description="ServiceAccountName is the name of the Kubernetes ServiceAccount used to authenticate the image pull if the service account has attached pull secrets.",
        ),
        "certSecretRef": NAME_REF.described(
            "CertSecretRef can be given the name of a Secret containing either or both of a PEM-encoded client "
            "certificate (`tls.crt`) and private key (`tls.key`); and a PEM-encoded CA certificate (`ca.crt`)."
        ),
        "proxySecretRef": NAME_REF.described(
            "ProxySecretRef specifies the Secret containing the proxy configuration to use while communicating "
            "with the container registry."
        ),
        "suspend": _SUSPEND,
        "accessFrom": F(
            "object",
            {"namespaceSelectors": F("array", items=F("object", {"matchLabels": MAP}))},
            required=("namespaceSelectors",),
            description="AccessFrom defines an ACL for allowing cross-namespace references to the ImageRepository object based on the caller's namespace labels.",
        ),
        "exclusionList": F(
            "array",
            items=STR,
            max_items=25,
            description="ExclusionList is a list of regex strings used to exclude certain tags from being "
            'stored in the database. Defaults to ["^.*\\\\.sig$"].',
            default=["^.*\\.sig$"],
        ),
        "provider": F(
            enum=("generic", "aws", "azure", "gcp"),
            description="The provider used for authentication, can be 'aws', 'azure', 'gcp' or 'generic'. "
            "When not specified, defaults to 'generic'.",
            default="generic",
        ),
        "insecure": BOOL.described("Insecure allows connecting to a non-TLS HTTP container registry."),
    },
    required=("image", "interval"),
    description="ImageRepositorySpec defines the parameters for scanning an image repository, e.g., fluxcd/flux.",
)
_ORDER = F(enum=("asc", "desc"), default="asc")
IMAGE_POLICY = F(
    "object",
    {
        "imageRepositoryRef": NS_NAME_REF.described(
            "ImageRepositoryRef points at the object specifying the image being scanned"
        ),
        "policy": F(
            "object",
            {
                "semver": F(
                    "object",
                    {
                        "range": STR.described(
                            "Range gives a semver range for the image tag; the highest version within the "
                            "range that's a tag yields the latest image."
                        )
                    },
                    required=("range",),
                    description="SemVer gives a semantic version range to check against the tags available.",
                ),
                "alphabetical": F(
                    "object",
                    {
                        "order": _ORDER.described(
                            "Order specifies the sorting order of the tags. Given the letters of the alphabet "
                            "as tags, ascending order would select Z, and descending order would select A."
                        )
                    },
                    description="Alphabetical set of rules to use for alphabetical ordering of the tags.",
                ),
                "numerical": F(
                    "object",
                    {
                        "order": _ORDER.described(
                            "Order specifies the sorting order of the tags. Given the integer values from 0 "
                            "to 9 as tags, ascending order would select 9, and descending order would select 0."
                        )
                    },
                    description="Numerical set of rules to use for numerical ordering of the tags.",
                ),
            },
            description="Policy gives the particulars of the policy to be followed in selecting the most "
            "recent image",
        ),
        "filterTags": F(
            "object",
            {
                "pattern": STR.described(
                    "Pattern specifies a regular expression pattern used to filter for image tags."
                ),
                "extract": STR.described(
                    "Extract allows a capture group to be extracted from the specified regular expression "
                    "pattern, useful before tag evaluation."
                ),
            },
            description="FilterTags enables filtering for only a subset of tags based on a set of rules. If "
            "no rules are provided, all the tags from the repository will be ordered and compared.",
        ),
        "digestReflectionPolicy": F(
            enum=("Never", "IfNotPresent", "Always"),
            description="DigestReflectionPolicy governs the setting of the `.status.latestRef.digest` field.",
            default="Never",
        ),
        "interval": INTERVAL.described(
            "Interval is the length of time to wait between refreshing the digest of the latest "
            'tag when the reflection policy is set to "Always". Defaults to 10m.'
        ),
        "suspend": _SUSPEND,
    },
    required=("imageRepositoryRef", "policy"),
    description="ImagePolicySpec defines the parameters for calculating the ImagePolicy.",
)
IMAGE_UPDATE_AUTOMATION = F(
    "object",
    {
        "sourceRef": F(
            "object",
            {
                "kind": F(
                    enum=("GitRepository",), description="Kind of the referent.", default="GitRepository"
                ),
                "name": STR.described("Name of the referent."),
                "namespace": STR.described(
                    "Namespace of the referent, defaults to the namespace of the Kubernetes resource object that contains the reference."
                ),
                "apiVersion": STR.described("API version of the referent."),
            },
            required=("kind", "name"),
            description="SourceRef refers to the resource giving access details to a git repository.",
        ),
        "interval": INTERVAL.described(
            "Interval gives an lower bound for how often the automation run should be attempted."
        ),
        "git": F(
            "object",
            {
                "checkout": F(
                    "object",
                    {
                        "ref": F(
                            "object",
                            {"branch": STR, "tag": STR, "semver": STR, "name": STR, "commit": STR},
                            description="Reference gives a branch, tag or commit to clone from the Git repository.",
                        )
                    },
                    required=("ref",),
                    description="Checkout gives the parameters for cloning the git repository, ready to make changes. If not present, the `spec.ref` field from the referenced `GitRepository` or its default will be used.",
                ),
                "commit": F(
                    "object",
                    {
                        "author": F(
                            "object",
                            {"name": STR, "email": STR},
                            required=("email",),
                            description="Author gives the email and optionally the name to use as the author of commits.",
                        ),
                        "signingKey": F(
                            "object", {"secretRef": NAME_REF, "type": F(enum=("gpg", "ssh"))}, required=()
                        ),
                        "messageTemplate": STR.described(
                            "MessageTemplate provides a template for the commit message, into which will be "
                            "interpolated the details of the change made. Note: The `Updated` template field "
                            "has been removed. Use `Changed` instead."
                        ),
                        "messageTemplateValues": MAP,
                    },
                    required=("author",),
                    description="Commit specifies how to commit to the git repository.",
                ),
                "push": F(
                    "object",
                    {"branch": STR, "refspec": STR, "options": MAP},
                    description="Push specifies how and where to push commits made by the automation. If missing, commits are pushed (back) to `.spec.checkout.branch` or its default.",
                ),
            },
            required=("commit",),
            description="GitSpec contains all the git-specific definitions. This is technically optional, but in practice mandatory until there are other kinds of source allowed.",
        ),
        "update": F(
            "object",
            {
                "strategy": F(
                    enum=("Setters",),
                    description="Strategy names the strategy to be used.",
                    default="Setters",
                ),
                "path": STR.described(
                    "Path to the directory containing the manifests to be updated. Defaults to 'None', "
                    "which translates to the root path of the GitRepositoryRef."
                ),
            },
            description="Update gives the specification for how to update the files in the repository. This can be left empty, to use the default value.",
            default={"strategy": "Setters"},
        ),
        "policySelector": F(
            "object",
            {"matchLabels": MAP, "matchExpressions": F("array", items=ANY)},
            description="PolicySelector allows to filter applied policies based on labels. By default includes all policies in namespace.",
        ),
        "suspend": _SUSPEND,
    },
    required=("sourceRef", "interval"),
    description="ImageUpdateAutomationSpec defines the desired state of ImageUpdateAutomation",
)
GIT_REPOSITORY = F(
    "object",
    {
        "url": F(
            pattern=GIT_URL,
            description="URL specifies the Git repository URL, it can be an HTTP/S or SSH address.",
        ),
        "interval": INTERVAL.described("Interval at which the GitRepository URL is checked for updates."),
        "timeout": TIMEOUT.described("Timeout for Git operations like cloning, defaults to 60s.").defaulting(
            "60s"
        ),
    },
    required=("url", "interval"),
    open=True,
    description="GitRepositorySpec specifies the required configuration to produce an Artifact for a Git repository.",
)
KUSTOMIZATION = F(
    "object",
    {
        "interval": INTERVAL.described("The interval at which to reconcile the Kustomization."),
        "prune": BOOL.described("Prune enables garbage collection."),
        "sourceRef": F(
            "object",
            {},
            required=("kind", "name"),
            open=True,
            description="Reference of the source where the kustomization file is.",
        ),
    },
    required=("interval", "prune", "sourceRef"),
    open=True,
    description="KustomizationSpec defines the configuration to calculate the desired state from a Source using Kustomize.",
)

# (group, plural) -> the spec schema the API server enforces and the validator reads.
SPEC_SCHEMAS: dict[tuple[str, str], F] = {
    (IMAGE_GROUP, "imagerepositories"): IMAGE_REPOSITORY,
    (IMAGE_GROUP, "imagepolicies"): IMAGE_POLICY,
    (IMAGE_GROUP, "imageupdateautomations"): IMAGE_UPDATE_AUTOMATION,
    (SOURCE_GROUP, "gitrepositories"): GIT_REPOSITORY,
    (KUSTOMIZE_GROUP, "kustomizations"): KUSTOMIZATION,
}
_KIND_DOCS = {
    "imagerepositories": "ImageRepository is the Schema for the imagerepositories API",
    "imagepolicies": "ImagePolicy is the Schema for the imagepolicies API",
    "imageupdateautomations": "ImageUpdateAutomation is the Schema for the imageupdateautomations API",
    "gitrepositories": "GitRepository is the Schema for the gitrepositories API.",
    "kustomizations": "Kustomization is the Schema for the kustomizations API.",
}


def field_name(path: FieldPath) -> str:
    """`spec.exclusionList[0]`: a field as the API server and Flux write it."""
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")


#: metav1.ObjectMeta's fields (their values not checked here). A custom resource's metadata is
#: ObjectMeta to the API server: server-side apply's typed patch refuses another field under it
#: (`.metadata.lables: field not declared in schema`), as it does under spec.
OBJECT_META = F(
    "object",
    {
        name: F("any")
        for name in (
            "name",
            "generateName",
            "namespace",
            "selfLink",
            "uid",
            "resourceVersion",
            "generation",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "labels",
            "annotations",
            "ownerReferences",
            "finalizers",
            "managedFields",
        )
    },
)


def object_schema(group: str, plural: str) -> F | None:
    """The whole object of a modelled Flux kind, the fields `crd_schema` publishes at its top level
    (status is not checked here, metadata as ObjectMeta), or None for a kind the lab does not model."""
    spec = SPEC_SCHEMAS.get((group, plural))
    if spec is None:
        return None
    top = crd_schema(group, plural)["properties"]
    parts = {"spec": spec, "metadata": OBJECT_META}
    return F("object", {name: parts.get(name, F("any")) for name in top})


def unknown_fields(node: F, value: Any, path: FieldPath = ()) -> list[FieldPath]:
    """The fields of `value` that `node` does not declare, in document order (not below `open` objects).

    Server-side apply refuses each with "field not declared in schema"; kubectl's strict field
    validation with `unknown field`. Values of the wrong type are not descended into: that is a
    different error."""
    out: list[FieldPath] = []
    if node.type == "array" and node.items is not None and isinstance(value, list):
        for index, item in enumerate(value):
            out += unknown_fields(node.items, item, (*path, index))
    elif node.type == "object" and isinstance(value, dict):
        for name, child in value.items():
            sub = node.props.get(str(name))
            if sub is None:
                if not node.open:
                    out.append((*path, str(name)))
            elif child is not None:
                out += unknown_fields(sub, child, (*path, str(name)))
    return out


def not_declared(kind: str, namespace: str, name: str, api_version: str, paths: list[FieldPath]) -> str:
    """kustomize-controller's error for an object with unknown fields: fluxcd/pkg/ssa's dry-run error
    around the API server's typed-patch failure (structured-merge-diff lists several as `errors:`)."""
    each = [f".{field_name(p)}: field not declared in schema" for p in paths]
    listing = each[0] if len(each) == 1 else "\n".join(["errors:", *(f"  {e}" for e in each)])
    ident = f"{namespace}/{name}" if namespace else name
    return (
        f"{kind}/{ident} dry-run failed: failed to create typed patch object "
        f"({ident}; {api_version}, Kind={kind}): {listing}"
    )


def known_instead(root: F, path: FieldPath) -> tuple[FieldPath | None, str]:
    """For an unknown field at `path` below `root`: the known field it most likely was meant to be and
    how to say so ("did you mean `range`?", or a field written one level too high or too low)."""
    from lab.core.text import closest

    name, at = str(path[-1]), path[:-1]
    parent = root.at(at)
    close = closest(name, parent.props)
    if close is not None:
        return (*at, close), f"did you mean `{close}`?"
    below = [k for k, child in sorted(parent.props.items()) if name in child.props]
    if below:
        return (*at, below[0], name), f"`{name}` goes one level down, under `{below[0]}`"
    if len(at) > 1 and not isinstance(at[-1], int) and name in root.at(at[:-1]).props:
        return (*at[:-1], name), f"`{name}` belongs one level up, beside `{at[-1]}`"
    return None, "known fields here: " + (", ".join(sorted(parent.props)) or "none")


def openapi(node: F) -> dict[str, Any]:
    """The node as an OpenAPI v3 (structural) schema, as a CRD's `openAPIV3Schema` writes it."""
    out: dict[str, Any] = {}
    if node.description:
        out["description"] = node.description
    if node.type == "any":
        out["x-kubernetes-preserve-unknown-fields"] = True
        return out
    if node.type == "map":
        out.update({"type": "object", "additionalProperties": {"type": "string"}})
        return out
    out["type"] = node.type
    if node.enum:
        out["enum"] = list(node.enum)
    if node.pattern:
        out["pattern"] = node.pattern
    if node.max_length is not None:
        out["maxLength"] = node.max_length
    if node.max_items is not None:
        out["maxItems"] = node.max_items
    if node.items is not None:
        out["items"] = openapi(node.items)
    if node.props:
        out["properties"] = {name: openapi(child) for name, child in sorted(node.props.items())}
    if node.required:
        out["required"] = list(node.required)
    if node.open:
        out["x-kubernetes-preserve-unknown-fields"] = True
    if node.default is not None:
        out["default"] = copy.deepcopy(node.default)
    return out


def with_defaults(node: F, value: Any) -> Any:
    """`value` with the schema's defaults written in, as the API server does before it validates
    (apiextensions' structural defaulting): an object's absent or null field that has a default gets
    it, then every field is defaulted below, including a default just written. Values of the wrong
    type are left to validation. `value` is not changed."""
    if node.type == "object" and isinstance(value, dict):
        out = dict(value)
        for name, child in node.props.items():
            if out.get(name) is None and child.default is not None:
                out[name] = copy.deepcopy(child.default)
            if name in out:
                out[name] = with_defaults(child, out[name])
        return out
    if node.type == "array" and node.items is not None and isinstance(value, list):
        return [with_defaults(node.items, item) for item in value]
    return value


def crd_schema(group: str, plural: str) -> dict[str, Any]:
    """The whole object's `openAPIV3Schema` of a Flux kind (permissive for kinds the lab does not model)."""
    spec = SPEC_SCHEMAS.get((group, plural))
    if spec is None:
        return {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    return {
        "description": _KIND_DOCS.get(plural, ""),
        "type": "object",
        "properties": {
            "apiVersion": {
                "description": "APIVersion defines the versioned schema of this representation of an object.",
                "type": "string",
            },
            "kind": {
                "description": "Kind is a string value representing the REST resource this object represents.",
                "type": "string",
            },
            "metadata": {"type": "object"},
            "spec": openapi(spec),
            "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
        },
    }
