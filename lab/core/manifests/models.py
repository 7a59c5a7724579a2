"""The objects of Task 09b as the lab sees them, independent of API version and YAML layout.

Each model keeps the file and line it came from (and its parsed document, for field positions), so
every check can say where to look. Field names follow the Flux API (`spec.imageRepositoryRef.name`
-> `repository_ref`).
"""

from __future__ import annotations

from dataclasses import field
from typing import Literal

from lab.core.policy.spec import PolicySpec
from lab.core.record import dataclass
from lab.core.yamlsafe import Doc
from lab.errors import LabError

IMAGE_GROUP = "image.toolkit.fluxcd.io"
SOURCE_GROUP = "source.toolkit.fluxcd.io"
KUSTOMIZE_GROUP = "kustomize.toolkit.fluxcd.io"
#: The controllers that serve IMAGE_GROUP (`flux install --components-extra`).
IMAGE_CONTROLLERS = ("image-reflector-controller", "image-automation-controller")
IMAGE_KINDS = ("ImageRepository", "ImagePolicy", "ImageUpdateAutomation")
#: The annotation `flux reconcile` sets to ask a controller for a reconcile now.
RECONCILE_ANNOTATION = "reconcile.fluxcd.io/requestedAt"
#: The entry of ImageRepository's default `spec.exclusionList`: cosign signature tags.
SIG_EXCLUSION = r"^.*\.sig$"
#: The file names kustomize reads a Kustomization from, in the order it looks for them.
KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
IMAGE_VERSIONS = ("v1", "v1beta2", "v1beta1")
API_V1 = f"{IMAGE_GROUP}/v1"
API_V1BETA2 = f"{IMAGE_GROUP}/v1beta2"

Severity = Literal["error", "warning", "info"]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with what the learner wrote, located at file:line and field."""

    code: str
    file: str
    line: int | None
    field: str
    message: str
    hint: str = ""
    severity: Severity = "error"

    def location(self) -> str:
        return f"{self.file}:{self.line}" if self.line is not None else self.file

    def __str__(self) -> str:
        text = f"{self.location()}: {self.severity}: {self.message}"
        if self.field and self.field not in self.message:
            text += f" (field {self.field})"
        if self.hint:
            text += f" - hint: {self.hint}"
        return text

    def as_error(self) -> LabError:
        return LabError(
            self.message, hint=self.hint or None, file=self.file, line=self.line, field=self.field
        )


@dataclass
class FluxObject:
    """What every parsed object shares: identity and where it was written."""

    api_version: str
    name: str
    namespace: str
    file: str = ""
    line: int = 0
    doc: Doc | None = field(default=None, repr=False, compare=False)

    @property
    def version(self) -> str:
        return self.api_version.rpartition("/")[2]

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.name}"

    def line_of(self, path: str) -> int:
        return self.doc.line_of(path) if self.doc is not None else self.line


@dataclass
class ImageRepository(FluxObject):
    image: str = ""
    interval: str = ""
    timeout: str | None = None
    secret_ref: str | None = None
    cert_secret_ref: str | None = None
    proxy_secret_ref: str | None = None
    service_account_name: str | None = None
    exclusion_list: tuple[str, ...] | None = None
    provider: str | None = None
    insecure: bool = False
    suspend: bool = False


@dataclass
class ImagePolicy(FluxObject):
    repository_ref: str = ""
    repository_namespace: str | None = None
    #: None when spec.policy is missing or names no known kind; validate() explains which.
    policy: PolicySpec | None = None
    digest_reflection_policy: str | None = None
    interval: str | None = None
    suspend: bool = False

    @property
    def repository_key(self) -> tuple[str, str]:
        return (self.repository_namespace or self.namespace, self.repository_ref)


@dataclass
class SourceRefObject(FluxObject):
    """An object that names a Flux source in `spec.sourceRef` (Flux's CrossNamespaceSourceReference):
    an ImageUpdateAutomation, a Kustomization. The source's namespace defaults to the object's."""

    source_kind: str = "GitRepository"
    source_name: str = ""
    source_namespace: str | None = None

    @property
    def source_key(self) -> tuple[str, str]:
        return (self.source_namespace or self.namespace, self.source_name)


@dataclass
class ImageUpdateAutomation(SourceRefObject):
    interval: str = ""
    checkout_branch: str | None = None
    checkout_ref: dict[str, str] = field(default_factory=dict)
    #: spec.git.checkout is set, even with an empty ref: IAC then takes that ref whole, never the
    #: GitRepository's.
    checkout_given: bool = False
    author_name: str | None = None
    author_email: str | None = None
    message_template: str | None = None
    message_template_values: dict[str, str] = field(default_factory=dict)
    push_branch: str | None = None
    push_refspec: str | None = None
    update_path: str | None = None
    update_strategy: str | None = None
    suspend: bool = False

    def checkout_ref_branch(self, git_repository: GitRepository | None = None) -> str | None:
        """The branch of the ref IAC checks out: spec.git.checkout.ref whole when it is set, else the
        GitRepository's spec.ref (buildGitConfig); None when that ref pins a tag, semver, name or commit
        only (a checkout.ref without a branch does not fall back to the GitRepository's)."""
        if self.checkout_given or self.checkout_ref or self.checkout_branch:
            return self.checkout_branch or None
        return git_repository.branch if git_repository is not None else None

    def checkout_ref_tag(self, git_repository: GitRepository | None = None) -> str | None:
        """The tag of the ref IAC checks out, from the ref `checkout_ref_branch` reads (None: it pins
        none)."""
        if self.checkout_given or self.checkout_ref or self.checkout_branch:
            return self.checkout_ref.get("tag") or None
        return git_repository.tag if git_repository is not None else None

    def effective_push_branch(self, git_repository: GitRepository | None = None) -> str | None:
        """Where IAC pushes its commit (configurePush): push.branch, else the checkout ref's branch; None
        when neither gives one (Flux then fails: push spec not provided)."""
        return self.push_branch or self.checkout_ref_branch(git_repository)

    @property
    def refspec_branch(self) -> str | None:
        """The branch spec.git.push.refspec pushes to (`SRC:refs/heads/DST`, or `refs/heads/DST` alone):
        IAC pushes its commit to the push branch, then again with this refspec. None without a refspec
        or when its destination is not a branch."""
        if not self.push_refspec:
            return None
        destination = self.push_refspec.lstrip("+").rpartition(":")[2]
        return destination.removeprefix("refs/heads/") if destination.startswith("refs/heads/") else None


@dataclass
class GitRepository(FluxObject):
    url: str = ""
    branch: str | None = None
    tag: str | None = None
    semver: str | None = None
    commit: str | None = None
    secret_ref: str | None = None


@dataclass
class Kustomization(SourceRefObject):
    """A Flux Kustomization (kustomize.toolkit.fluxcd.io), not a kustomize `kustomization.yaml`."""

    path: str = ""


#: The names the rest of the lab may use for the objects image automation refers to.
GitRepositoryRef = GitRepository
KustomizationRef = Kustomization


@dataclass
class AutomationSet:
    """Everything image-automation related found in a set of files, plus what could not be read."""

    repositories: list[ImageRepository] = field(default_factory=list)
    policies: list[ImagePolicy] = field(default_factory=list)
    automations: list[ImageUpdateAutomation] = field(default_factory=list)
    git_repositories: list[GitRepository] = field(default_factory=list)
    kustomizations: list[Kustomization] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    files: tuple[str, ...] = ()

    def repository(self, namespace: str, name: str) -> ImageRepository | None:
        return next((r for r in self.repositories if (r.namespace, r.name) == (namespace, name)), None)

    def policy(self, namespace: str, name: str) -> ImagePolicy | None:
        return next((p for p in self.policies if (p.namespace, p.name) == (namespace, name)), None)

    def git_repository(self, namespace: str, name: str) -> GitRepository | None:
        return next((g for g in self.git_repositories if (g.namespace, g.name) == (namespace, name)), None)

    def all_objects(self) -> list[FluxObject]:
        return [
            *self.repositories,
            *self.policies,
            *self.automations,
            *self.git_repositories,
            *self.kustomizations,
        ]
