"""parse + validate over a corpus of broken manifests: every problem names file, line and field."""

from __future__ import annotations

import pytest

from lab.core.manifests.parse import find_automation, load_documents
from lab.core.manifests.validate import Problem, validate
from lab.core.policy.spec import PolicySpec

SYNC = """\
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: flux-system
  namespace: flux-system
spec:
  interval: 1m0s
  ref:
    branch: main
  url: ssh://git@github.com/learner/gitops-lab
"""

GOOD_REPO = """\
apiVersion: image.toolkit.fluxcd.io/v1
kind: ImageRepository
metadata:
  name: nginx
  namespace: flux-system
spec:
  image: library/nginx
  interval: 5m
"""

GOOD_POLICY = """\
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
      range: 1.25.x
"""

GOOD_UPDATE = """\
apiVersion: image.toolkit.fluxcd.io/v1
kind: ImageUpdateAutomation
metadata:
  name: flux-system
  namespace: flux-system
spec:
  interval: 10m
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
      messageTemplate: |
        Automated image update
        {{range .Changed.Changes}}- {{.OldValue}} -> {{.NewValue}}
        {{end}}
    push:
      branch: main
  update:
    path: ./apps
    strategy: Setters
"""

BASE = {
    "clusters/dev/flux-system/gotk-sync.yaml": SYNC,
    "clusters/dev/image-automation/image-repository.yaml": GOOD_REPO,
    "clusters/dev/image-automation/image-policy.yaml": GOOD_POLICY,
    "clusters/dev/image-automation/image-update.yaml": GOOD_UPDATE,
}
REPO = "clusters/dev/image-automation/image-repository.yaml"
POLICY = "clusters/dev/image-automation/image-policy.yaml"
UPDATE = "clusters/dev/image-automation/image-update.yaml"


def problems_for(**changes: str) -> list[Problem]:
    files = dict(BASE)
    for key, text in changes.items():
        files[
            {
                "repo": REPO,
                "policy": POLICY,
                "update": UPDATE,
                "sync": "clusters/dev/flux-system/gotk-sync.yaml",
            }[key]
        ] = text
    return validate(find_automation(files))


def errors(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == "error"]


def test_the_good_set_has_no_problems() -> None:
    assert validate(find_automation(BASE)) == []


# (which file, replace what, by what, code, line, field, words in the message)
CORPUS = [
    ("repo", "image: library/nginx", "image: nginx:1.25", "image.tag", 7, "spec.image", "remove ':1.25'"),
    (
        "repo",
        "image: library/nginx",
        "image: https://ghcr.io/org/app",
        "image.invalid",
        7,
        "spec.image",
        "URL scheme",
    ),
    (
        "repo",
        "image: library/nginx",
        "image: Library/Nginx",
        "image.invalid",
        7,
        "spec.image",
        "could not parse",
    ),
    ("repo", "  image: library/nginx\n", "", "image.missing", 6, "spec.image", "no spec.image"),
    ("repo", "interval: 5m", "interval: 1d", "interval.invalid", 8, "spec.interval", "days are not a unit"),
    ("repo", "interval: 5m", "interval: 5", "field.type", 8, "spec.interval", "must be a string"),
    (
        "repo",
        "  interval: 5m\n",
        "  interval: 5m\n  timeout: 1h\n",
        "interval.invalid",
        9,
        "spec.timeout",
        "no h",
    ),
    ("repo", "  interval: 5m\n", "", "interval.missing", 6, "spec.interval", "is required"),
    (
        "repo",
        "  name: nginx\n",
        "  name: Nginx_Repo\n",
        "metadata.name",
        4,
        "metadata.name",
        "not a valid name",
    ),
    ("repo", "kind: ImageRepository", "kind: imagerepository", "kind.spelling", 2, "kind", "case-sensitive"),
    (
        "repo",
        "image.toolkit.fluxcd.io/v1",
        "image.toolkit.fluxcd.io/v2",
        "api.unknown-version",
        1,
        "apiVersion",
        "v2",
    ),
    (
        "repo",
        "image.toolkit.fluxcd.io/v1",
        "source.toolkit.fluxcd.io/v1",
        "api.group",
        1,
        "apiVersion",
        "belongs",
    ),
    (
        "repo",
        "image.toolkit.fluxcd.io/v1",
        "image.toolkit.fluxcd.io/v1beta2",
        "api.not-served",
        1,
        "apiVersion",
        "no matches for kind",
    ),
    (
        "repo",
        "  interval: 5m\n",
        "  interval: 5m\n  exclusionList:\n    - '^.*-rc$'\n",
        "exclusion.sig",
        9,
        "spec.exclusionList",
        "no longer excluded",
    ),
    (
        "policy",
        "name: nginx\n  policy",
        "name: ngnix\n  policy",
        "policy.repository-ref",
        8,
        "spec.imageRepositoryRef.name",
        "existing: nginx",
    ),
    ("policy", "range: 1.25.x", "range: 1.25", "field.type", 11, "spec.policy.semver.range", "quoted"),
    (
        "policy",
        "    semver:\n      range: 1.25.x\n",
        "    semver: 1.25.x\n",
        "field.type",
        10,
        "spec.policy.semver",
        "semver: {range: 1.25.x}",
    ),
    ("policy", "range: 1.25.x", "range: ''", "policy.range", 11, "spec.policy.semver.range", "empty"),
    (
        "policy",
        "range: 1.25.x",
        "range: 'one.two'",
        "policy.range",
        11,
        "spec.policy.semver.range",
        "improper constraint",
    ),
    (
        "policy",
        "    semver:\n      range: 1.25.x\n",
        "    numerical:\n      order: ascending\n",
        "policy.order",
        11,
        "spec.policy.numerical.order",
        "asc or desc",
    ),
    (
        "policy",
        "      range: 1.25.x\n",
        "      range: 1.25.x\n    alphabetical:\n      order: asc\n",
        "policy.several",
        12,
        "spec.policy.alphabetical",
        "Flux uses only semver",
    ),
    (
        "policy",
        "    semver:\n      range: 1.25.x\n",
        "    latest: {}\n",
        "policy.kind",
        9,
        "spec.policy",
        "latest",
    ),
    (
        "policy",
        "  policy:\n",
        "  filterTags:\n    pattern: '^(?P<ver>.*)-alpine$'\n    extract: '$version'\n  policy:\n",
        "filter.extract",
        11,
        "spec.filterTags.extract",
        "no group named 'version'",
    ),
    (
        "policy",
        "  policy:\n",
        "  filterTags:\n    pattern: '(oops'\n  policy:\n",
        "filter.pattern",
        10,
        "spec.filterTags.pattern",
        "regexp",
    ),
    (
        "policy",
        "  policy:\n",
        "  interval: 5m\n  policy:\n",
        "policy.interval",
        9,
        "spec.interval",
        "digestReflectionPolicy",
    ),
    (
        "policy",
        "  namespace: flux-system\n",
        "  namespace: apps\n",
        "policy.repository-namespace",
        7,
        "spec.imageRepositoryRef",
        "in flux-system",
    ),
    (
        "update",
        "interval: 10m",
        "interval: 10 minutes",
        "interval.invalid",
        7,
        "spec.interval",
        "CRD pattern",
    ),
    (
        "update",
        "    name: flux-system\n  git",
        "    name: flux\n  git",
        "source.ref",
        10,
        "spec.sourceRef.name",
        "is not defined in these files",
    ),
    (
        "update",
        "    kind: GitRepository",
        "    kind: OCIRepository",
        "source.kind",
        9,
        "spec.sourceRef.kind",
        "not GitRepository",
    ),
    (
        "update",
        "        email: flux@gitops-lab.local\n",
        "",
        "author.email",
        16,
        "spec.git.commit.author.email",
        "required",
    ),
    (
        "update",
        "email: flux@gitops-lab.local",
        "email: flux",
        "author.email",
        17,
        "spec.git.commit.author.email",
        "not an e-mail",
    ),
    (
        "update",
        "branch: main\n    commit",
        "branch: 'ma in'\n    commit",
        "checkout.branch",
        14,
        "spec.git.checkout.ref.branch",
        "not a valid git branch",
    ),
    (
        "update",
        "{{range .Changed.Changes}}",
        "{{range .Updated.Images}}",
        "template",
        19,
        "spec.git.commit.messageTemplate",
        "RemovedTemplateField",
    ),
    (
        "update",
        "{{range .Changed.Changes}}",
        "{{range .Changed.ImageResult.Files}}",
        "template",
        19,
        "spec.git.commit.messageTemplate",
        "ImageResult",
    ),
    (
        "update",
        "{{range .Changed.Changes}}",
        "{{range .Changes}}",
        "template",
        19,
        "spec.git.commit.messageTemplate",
        "can't evaluate field Changes",
    ),
    (
        "update",
        "    strategy: Setters\n",
        "    strategy: Regex\n",
        "update.strategy",
        27,
        "spec.update.strategy",
        "not Setters",
    ),
    (
        "update",
        "    path: ./apps\n",
        "    path: ../../elsewhere\n",
        "update.path",
        26,
        "spec.update.path",
        "leave the repository",
    ),
    (
        "update",
        "  git:\n    checkout:\n      ref:\n        branch: main\n",
        "  git:\n",
        "checkout.branch",
        11,
        "spec.git.checkout",
        "GitRepository flux-system",
    ),
    (
        "sync",
        "url: ssh://git@github.com/learner/gitops-lab",
        "url: git@github.com:learner/gitops-lab.git",
        "git.url",
        10,
        "spec.url",
        "does not match",
    ),
]


@pytest.mark.parametrize(
    ("target", "old", "new", "code", "line", "field", "words"),
    CORPUS,
    ids=[c[3] + ":" + c[6] for c in CORPUS],
)
def test_corpus_problem_names_file_line_and_field(
    target: str, old: str, new: str, code: str, line: int, field: str, words: str
) -> None:
    original = {"repo": GOOD_REPO, "policy": GOOD_POLICY, "update": GOOD_UPDATE, "sync": SYNC}[target]
    assert old in original
    problems = problems_for(**{target: original.replace(old, new, 1)})
    matching = [p for p in problems if p.code == code]
    assert matching, problems
    p = matching[0]
    assert (p.line, p.field) == (line, field), p
    assert words in p.message + " " + p.hint
    assert p.file.endswith(".yaml")
    text = str(p)
    assert text.startswith(f"{p.file}:{line}: ")
    assert "\n" not in text
    assert p.hint, "every problem says how to fix it"
    assert len([q for q in problems if (q.file, q.field) == (p.file, p.field)]) == 1, "one problem per field"


def test_v1beta2_is_fine_where_served_but_deprecated() -> None:
    beta = {
        k: v.replace("image.toolkit.fluxcd.io/v1\n", "image.toolkit.fluxcd.io/v1beta2\n")
        for k, v in BASE.items()
    }
    aset = find_automation(beta)
    assert [p.code for p in validate(aset, served_versions=("v1beta2",))] == []
    deprecated = validate(aset, served_versions=("v1", "v1beta2"))
    assert {p.code for p in deprecated} == {"api.deprecated"} and all(
        p.severity == "warning" for p in deprecated
    )
    on_29 = errors(validate(aset))
    assert len(on_29) == 3 and all("no matches for kind" in p.message for p in on_29)


def test_policy_in_other_namespace_than_automation_is_reported() -> None:
    repo = GOOD_REPO.replace("namespace: flux-system", "namespace: apps")
    policy = GOOD_POLICY.replace("namespace: flux-system", "namespace: apps")
    problems = problems_for(repo=repo, policy=policy)
    (p,) = [p for p in problems if p.code == "policy.namespace"]
    assert (p.file, p.line, p.field) == (POLICY, 5, "metadata.namespace")
    assert "markers naming it do nothing" in p.message


def test_missing_push_and_no_branch_anywhere_is_f14() -> None:
    sync = SYNC.replace("    branch: main", "    tag: v1.0.0")
    update = GOOD_UPDATE.replace("    push:\n      branch: main\n", "").replace(
        "    checkout:\n      ref:\n        branch: main\n", ""
    )
    problems = problems_for(sync=sync, update=update)
    assert any(
        p.code == "push.branch" and "GitRepository .spec.ref" in p.message for p in errors(problems)
    ), problems


def test_duplicates_and_missing_namespace() -> None:
    files = dict(BASE)
    files["clusters/dev/copy.yaml"] = GOOD_REPO
    files["clusters/dev/nons.yaml"] = GOOD_POLICY.replace("  namespace: flux-system\n", "").replace(
        "name: nginx\n", "name: other\n", 1
    )
    problems = validate(find_automation(files))
    dup = [p for p in problems if p.code == "duplicate"]
    assert len(dup) == 1
    assert (dup[0].file, dup[0].line, dup[0].field) == (REPO, 4, "metadata.name")
    assert "also clusters/dev/copy.yaml:1" in dup[0].message
    ns = [p for p in problems if p.code == "metadata.namespace"]
    assert ns and ns[0].file == "clusters/dev/nons.yaml" and "default" in ns[0].message


def test_broken_yaml_becomes_a_problem_and_other_files_still_count() -> None:
    files = dict(BASE)
    files["clusters/dev/broken.yaml"] = "apiVersion: v1\nkind: ConfigMap\ndata:\n  a: b: c\n"
    aset = find_automation(files)
    assert len(aset.repositories) == 1 and len(aset.automations) == 1
    (p,) = validate(aset)
    assert (p.code, p.file, p.line) == ("yaml.invalid", "clusters/dev/broken.yaml", 4)
    assert "\n" not in str(p)


def test_all_image_api_versions_are_collected_with_lines() -> None:
    text = (
        "---\n"
        + GOOD_REPO.replace("/v1\n", "/v1beta1\n")
        + "---\n"
        + GOOD_POLICY.replace("/v1\n", "/v1beta2\n")
    )
    aset = find_automation({"all.yaml": text})
    assert [r.api_version for r in aset.repositories] == ["image.toolkit.fluxcd.io/v1beta1"]
    assert aset.repositories[0].line == 2 and aset.policies[0].line == 11
    assert aset.policies[0].policy == PolicySpec("semver", "1.25.x")
    assert aset.policies[0].line_of("spec.policy.semver.range") == 21


def test_load_documents_gives_field_lines() -> None:
    (doc,) = load_documents(GOOD_POLICY, "p.yaml")
    assert doc.line_of("spec.policy.semver.range") == 11
    assert doc.line_of("spec.policy.semver.nothing") == 10
    assert doc.line_of("spec.missing") == 6
    assert doc.get("spec.imageRepositoryRef.name") == "nginx"


def test_git_repository_and_kustomizations_are_collected() -> None:
    kust = """\
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: apps
  namespace: flux-system
spec:
  interval: 10m0s
  path: ./apps/dev
  sourceRef:
    kind: GitRepository
    name: flux-system
"""
    aset = find_automation(
        {
            **BASE,
            "clusters/dev/apps.yaml": kust,
            "k/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n",
        }
    )
    assert [k.path for k in aset.kustomizations] == ["./apps/dev"]
    assert aset.git_repositories[0].branch == "main"


def test_prefilter_skips_crd_definitions_but_keeps_objects_and_typos() -> None:
    from lab.core.manifests.parse import might_hold_automation

    crd = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nspec:\n  names:\n    kind: ImagePolicy\n"
    assert not might_hold_automation(crd)
    assert all(might_hold_automation(text) for text in BASE.values())
    assert might_hold_automation("---\nkind: imagepolicy\n")
    assert might_hold_automation('{"apiVersion": "image.toolkit.fluxcd.io/v1", "kind": "ImagePolicy"}')


def test_more_required_fields_and_enums() -> None:
    no_name = GOOD_REPO.replace("  name: nginx\n", "").replace(
        "  image: library/nginx\n", "  image: nginx\n  provider: docker\n"
    )
    problems = problems_for(repo=no_name)
    codes = {(p.code, p.field, p.line) for p in problems}
    assert ("metadata.name", "metadata.name", 3) in codes
    assert ("enum", "spec.provider", 7) in codes
    no_update = GOOD_UPDATE[: GOOD_UPDATE.index("  update:\n")]
    (warning,) = [p for p in problems_for(update=no_update) if p.code == "update.missing"]
    assert warning.severity == "warning" and "whole repository" in warning.message
    beta = {
        k: v.replace("image.toolkit.fluxcd.io/v1\n", "image.toolkit.fluxcd.io/v1beta2\n")
        for k, v in BASE.items()
    }
    beta[UPDATE] = beta[UPDATE][: beta[UPDATE].index("  update:\n")]
    (error,) = [p for p in validate(find_automation(beta), ("v1beta2",)) if p.code == "update.missing"]
    assert error.severity == "error" and "required before v1" in error.message
    no_git = GOOD_UPDATE[: GOOD_UPDATE.index("  git:\n")] + "  update:\n    path: ./apps\n"
    (git,) = [p for p in problems_for(update=no_git) if p.code == "git.missing"]
    assert "necessitates field .spec.git" in git.message and git.line == 6


def test_source_ref_without_any_git_repository_in_files_is_only_a_warning() -> None:
    files = {k: v for k, v in BASE.items() if "gotk-sync" not in k}
    (p,) = validate(find_automation(files))
    assert (p.code, p.severity, p.field) == ("source.ref", "warning", "spec.sourceRef.name")
    assert "gotk-sync.yaml" in p.hint
