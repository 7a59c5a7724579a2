"""The broken-repo corpus of issue 14's silent failures, shared by the diagnose, checks and `lab why` tests.

`solved_files()` is task 09b solved (its starter with its solution/ laid over it); each `Case` mutates it
with one mistake and names the finding id, the check that owns it and words its message must contain.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tests.support import taskfiles
from tests.support.taskfiles import DEPLOY, MARKER, POLICY, REPO, UPDATE, Files, task_dir


def _tags_file() -> Path:
    return task_dir() / "registry" / "nginx-tags-2024-01-15.txt"


def solved_files() -> Files:
    """Task 09b solved, read from the task folder: the starter with tasks/09b/solution/ laid over it."""
    files = taskfiles.solved_files()
    assert MARKER in files[DEPLOY] and {REPO, POLICY, UPDATE} <= files.keys()
    return files


def nginx_tags() -> list[str]:
    return [
        line.strip()
        for line in _tags_file().read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]


def edit(rel: str, old: str, new: str) -> Callable[[Files], None]:
    def apply(files: Files) -> None:
        assert old in files[rel], f"{old!r} not in {rel}"
        files[rel] = files[rel].replace(old, new, 1)

    return apply


def add(rel: str, text: str) -> Callable[[Files], None]:
    def apply(files: Files) -> None:
        files[rel] = text

    return apply


def move(src: str, dst: str) -> Callable[[Files], None]:
    def apply(files: Files) -> None:
        files[dst] = files.pop(src)

    return apply


def chain(*steps: Callable[[Files], None]) -> Callable[[Files], None]:
    def apply(files: Files) -> None:
        for step in steps:
            step(files)

    return apply


def unmark(files: Files) -> None:
    files[DEPLOY] = files[DEPLOY].replace(f" {MARKER}", "")


HELM_RELEASE = """\
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: web
  namespace: default
spec:
  interval: 10m
  chart:
    spec:
      chart: web
  values:
    image:
      repository: library/nginx {marker_name}
      tag: "1.25.0" {marker_tag}
      digest: "" {marker_digest}
"""


def helm_release(name: str = "", tag: str = "", digest: str = "") -> str:
    def m(suffix: str) -> str:
        return f'# {{"$imagepolicy": "flux-system:nginx{suffix}"}}' if suffix is not None else ""

    text = HELM_RELEASE.format(marker_name=name, marker_tag=tag, marker_digest=digest)
    return "\n".join(line.rstrip() for line in text.split("\n"))


def _m(suffix: str) -> str:
    return f'# {{"$imagepolicy": "flux-system:nginx{suffix}"}}'


SECOND_ENV = """\
apiVersion: image.toolkit.fluxcd.io/v1
kind: ImagePolicy
metadata:
  name: nginx
  namespace: flux-system
spec:
  imageRepositoryRef:
    name: nginx
  policy:
    semver:
      range: 1.24.x
---
apiVersion: image.toolkit.fluxcd.io/v1
kind: ImageUpdateAutomation
metadata:
  name: production
  namespace: flux-system
spec:
  interval: 10m0s
  sourceRef:
    kind: GitRepository
    name: flux-system
  git:
    checkout:
      ref:
        branch: main
    commit:
      author:
        email: flux@gitops-lab.local
        name: Flux
    push:
      branch: main
  update:
    path: ./apps/base
"""


@dataclass(frozen=True)
class Case:
    name: str
    mutate: Callable[[Files], None]
    finding: str
    check: str
    words: tuple[str, ...]
    severity: str = "breaking"
    needs_tags: bool = False
    tags: tuple[str, ...] | None = None
    """The registry's tags for this case (None: the bundled nginx history when `needs_tags`)."""

    def registry_tags(self) -> list[str] | None:
        if self.tags is not None:
            return list(self.tags)
        return nginx_tags() if self.needs_tags else None


def _unmarked_then(*steps: Callable[[Files], None]) -> Callable[[Files], None]:
    return chain(unmark, *steps)


CASES: tuple[Case, ...] = (
    Case(
        "tag-marker-on-full-image",
        edit(DEPLOY, MARKER, _m(":tag")),
        "marker.tag-on-image",
        "marker.valid",
        ("':tag' marker on a full image reference", "image: 1.25.3"),
        needs_tags=True,
    ),
    Case(
        "name-marker-on-tag-field",
        _unmarked_then(add("apps/base/nginx/helmrelease.yaml", helm_release(tag=_m(":name")))),
        "marker.name-on-tag",
        "marker.valid",
        ("':name' marker on a tag-only field", "tag: library/nginx"),
    ),
    Case(
        "digest-marker-without-reflection",
        _unmarked_then(
            add(
                "apps/base/nginx/helmrelease.yaml",
                helm_release(name=_m(":name"), tag=_m(":tag"), digest=_m(":digest")),
            )
        ),
        "marker.digest-not-reflected",
        "marker.valid",
        ("digest would be blanked", "digestReflectionPolicy"),
    ),
    Case(
        "policy-selector-misses-policy",
        edit(UPDATE, "spec:\n", "spec:\n  policySelector:\n    matchLabels:\n      env: staging\n"),
        "marker.selector",
        "image-update.valid",
        ("policySelector (env=staging)", "does not select ImagePolicy flux-system/nginx"),
    ),
    Case(
        "marker-namespace-not-automation",
        edit(DEPLOY, "flux-system:nginx", "apps:nginx"),
        "marker.namespace",
        "marker.valid",
        ("references apps:nginx", "only sees policies in flux-system"),
    ),
    Case(
        "marker-in-block-scalar",
        _unmarked_then(
            add(
                "apps/base/nginx/values.yaml",
                "extraInitContainers: |\n  - name: init\n    image: nginx:1.25.0 " + MARKER + "\n",
            )
        ),
        "marker.block-scalar",
        "marker.valid",
        ("inside a block scalar", "never sees it"),
    ),
    Case(
        "marker-in-templated-file",
        _unmarked_then(
            add(
                "apps/base/nginx/templated.yaml",
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Values.name }}\nspec:\n"
                "  template:\n    spec:\n      containers:\n        - name: web\n"
                f"          image: nginx:1.25.0 {MARKER}\n",
            )
        ),
        "marker.templated",
        "marker.valid",
        ("templated file", "mangles"),
    ),
    Case(
        "marked-file-outside-update-path",
        edit(UPDATE, "path: ./apps", "path: ./apps/dev"),
        "marker.outside-path",
        "marker.present",
        ("outside update.path ./apps/dev", DEPLOY),
    ),
    Case(
        "marker-in-file-reader-skips",
        _unmarked_then(
            add(
                "apps/base/nginx/values.yaml.tpl",
                f"image:\n  repository: library/nginx\n  tag: 1.25.0 {_m(':tag')}\n",
            )
        ),
        "marker.file-skipped",
        "marker.present",
        ("never reads", "values.yaml.tpl is skipped"),
    ),
    Case(
        "marker-in-unparsable-file",
        _unmarked_then(
            add("apps/base/nginx/broken.yaml", f"image: nginx:1.25.0 {MARKER}\n  bad: [unclosed\n")
        ),
        "marker.file-skipped",
        "marker.present",
        ("cannot parse",),
    ),
    Case(
        # kyaml decodes one document per piece: indented at its first line, the document ends at the
        # first line indented less, and Flux's commit writes the file without the rest.
        "marker-in-a-file-flux-reads-in-part",
        _unmarked_then(
            add(
                "apps/base/nginx/values.yaml",
                f"  image: nginx:1.25.0 {MARKER}\n  pull: Always\nextra: kept\n",
            )
        ),
        "marker.file-truncated",
        "marker.present",
        ("only up to line 2", "without line 3"),
    ),
    Case(
        "range-matches-nothing",
        edit(POLICY, "range: 1.25.x", "range: 1.99.x"),
        "policy.no-match",
        "policy.resolves",
        ("range '1.99.x' matches none of the", "nearest: "),
        needs_tags=True,
    ),
    Case(
        "range-only-prereleases",
        edit(POLICY, "range: 1.25.x", "range: 1.26.x"),
        "policy.prerelease-only",
        "policy.resolves",
        ("satisfied only by pre-releases (1.26.0-rc.2, 1.26.0-rc.1)", "-0"),
        tags=("1.25.3", "1.26.0-rc.1", "1.26.0-rc.2"),
    ),
    Case(
        "filter-matches-no-tag",
        edit(POLICY, "  policy:\n", "  filterTags:\n    pattern: '^release-.*$'\n  policy:\n"),
        "policy.filter-empty",
        "policy.resolves",
        ("filterTags.pattern '^release-.*$' matches none of the", "policy has nothing to choose from"),
        needs_tags=True,
    ),
    Case(
        "range-misses-the-tags-the-filter-keeps",
        chain(
            edit(POLICY, "  policy:\n", "  filterTags:\n    pattern: '^1\\.25\\.[0-9]+$'\n  policy:\n"),
            edit(POLICY, "range: 1.25.x", "range: 1.4.x"),
        ),
        "policy.no-match",
        "policy.resolves",
        ("matches none of the 4 tags filterTags.pattern keeps", "nearest: 1.25.3, 1.25.2, 1.25.1, 1.25.0"),
        needs_tags=True,
    ),
    Case(
        "non-strict-tags-never-match",
        edit(POLICY, "range: 1.25.x", "range: 1.26.x"),
        "policy.no-match",
        "policy.resolves",
        (
            "range '1.26.x' matches none of the 4 tags",
            "not strict semver, never considered: 1.26",
            "latest is not a version",
        ),
        tags=("1.25.3", "1.26", "1.26-alpine", "latest"),
    ),
    Case(
        "non-strict-tags-beside-a-match",
        lambda files: None,
        "policy.non-strict",
        "policy.resolves",
        ("tags 1.25", "not strict semver"),
        severity="advisory",
        needs_tags=True,
    ),
    Case(
        "alphabetical-policy-selects-cosign-tag",
        edit(POLICY, "    semver:\n      range: 1.25.x", "    alphabetical:\n      order: asc"),
        "cosign.selected",
        "policy.resolves",
        ("selects sha256-3fe1.att", "cosign"),
        tags=("1.25.3", "sha256-3fe1.sig", "sha256-3fe1.att"),
    ),
    Case(
        "unanchored-filter-pattern",
        edit(POLICY, "  policy:\n", "  filterTags:\n    pattern: '[0-9]+\\.[0-9]+\\.[0-9]+'\n  policy:\n"),
        "filter.unanchored",
        "image-policy.valid",
        ("is not anchored", "it also accepts"),
        severity="advisory",
        needs_tags=True,
    ),
    Case(
        "exclusion-list-drops-sig-default",
        edit(REPO, "interval: 5m0s", "interval: 5m0s\n  exclusionList:\n    - '^1\\.24\\..*$'"),
        "exclusion.sig",
        "image-repository.valid",
        ("replaces the default", ".sig"),
        severity="advisory",
    ),
    Case(
        "alphabetical-policy-reaches-cosign-tags",
        edit(POLICY, "    semver:\n      range: 1.25.x", "    alphabetical:\n      order: asc"),
        "cosign.reachable",
        "image-policy.valid",
        (".att", "not excluded by default"),
        severity="advisory",
    ),
    Case(
        "template-uses-updated",
        edit(UPDATE, "{{range .Changed.Changes}}", "{{range .Updated.Images}}"),
        "template.removed-field",
        "image-update.valid",
        ("uses .Updated", "removed in image.toolkit.fluxcd.io/v1"),
    ),
    Case(
        "template-uses-image-result",
        edit(UPDATE, "{{range .Changed.Changes}}", "{{range .Changed.ImageResult.Files}}"),
        "template.removed-field",
        "image-update.valid",
        ("uses .Changed.ImageResult",),
    ),
    Case(
        "push-branch-cannot-be-inferred",
        chain(
            edit(UPDATE, "    checkout:\n      ref:\n        branch: main\n", ""),
            edit(UPDATE, "    push:\n      branch: main\n", ""),
            edit("clusters/dev/flux-system/gotk-sync.yaml", "branch: main", "tag: v1.0.0"),
        ),
        "push.branch-unknown",
        "image-update.valid",
        ("no push branch", "pinned to tag v1.0.0"),
    ),
    Case(
        "source-ref-names-no-gitrepository",
        edit(UPDATE, "    name: flux-system\n  update", "    name: flux\n  update"),
        "source.missing",
        "image-update.valid",
        ("GitRepository flux-system/flux", "does not exist"),
    ),
    Case(
        "two-environments-overlap-one-policy",
        add("clusters/production/image-automation.yaml", SECOND_ENV),
        "paths.overlap",
        "image-update.valid",
        ("both write this marker", "defined 2 times"),
    ),
)
