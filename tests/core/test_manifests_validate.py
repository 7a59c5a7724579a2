"""parse + validate over a corpus of broken manifests: every problem names file, line and field."""

from __future__ import annotations

import pytest

from lab.core.manifests.parse import find_automation, load_documents
from lab.core.manifests.validate import Problem, validate
from lab.core.policy.spec import PolicySpec
from tests.support.taskfiles import POLICY, REPO, UPDATE, edited, line_no, solution_manifests, starter_files

SYNC_FILE = "clusters/dev/flux-system/gotk-sync.yaml"
SYNC = starter_files()[SYNC_FILE]
GOOD_REPO, GOOD_POLICY, GOOD_UPDATE = solution_manifests().values()
BASE = {SYNC_FILE: SYNC, **solution_manifests()}


def without_block(text: str, key: str) -> str:
    """`text` without the line `key:` and the blank or more indented lines under it (fails when `key` is missing)."""
    lines = text.splitlines(keepends=True)
    (start,) = [n for n, got in enumerate(lines) if got.strip() == f"{key}:"]
    indent = len(lines[start]) - len(lines[start].lstrip())
    end = start + 1
    while end < len(lines) and (
        not lines[end].strip() or len(lines[end]) - len(lines[end].lstrip()) > indent
    ):
        end += 1
    return "".join(lines[:start] + lines[end:])


def problems_for(**changes: str) -> list[Problem]:
    files = dict(BASE)
    for key, text in changes.items():
        files[{"repo": REPO, "policy": POLICY, "update": UPDATE, "sync": SYNC_FILE}[key]] = text
    return validate(find_automation(files))


def errors(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == "error"]


def test_the_good_set_has_no_problems() -> None:
    assert validate(find_automation(BASE)) == []


# (which file, replace what, by what, code, the line (of the edited file) the problem names, field, words in the
# message); the line's number is counted in the edited file, so the corpus follows edits of the task's solution.
CORPUS = [
    (
        "repo",
        "image: library/nginx",
        "image: nginx:1.25",
        "image.tag",
        "image: nginx:1.25",
        "spec.image",
        "remove ':1.25'",
    ),
    (
        "repo",
        "image: library/nginx",
        "image: https://ghcr.io/org/app",
        "image.invalid",
        "image: https://ghcr.io/org/app",
        "spec.image",
        "URL scheme",
    ),
    (
        "repo",
        "image: library/nginx",
        "image: Library/Nginx",
        "image.invalid",
        "image: Library/Nginx",
        "spec.image",
        "could not parse",
    ),
    ("repo", "  image: library/nginx\n", "", "image.missing", "spec:", "spec.image", "no spec.image"),
    (
        "repo",
        "interval: 5m0s",
        "interval: 1d",
        "interval.invalid",
        "interval: 1d",
        "spec.interval",
        "days are not a unit",
    ),
    (
        "repo",
        "interval: 5m0s",
        "interval: 5",
        "field.type",
        "interval: 5",
        "spec.interval",
        "must be a string",
    ),
    (
        "repo",
        "  interval: 5m0s\n",
        "  interval: 5m0s\n  timeout: 1h\n",
        "interval.invalid",
        "timeout: 1h",
        "spec.timeout",
        "no h",
    ),
    ("repo", "  interval: 5m0s\n", "", "interval.missing", "spec:", "spec.interval", "is required"),
    (
        "repo",
        "  name: nginx\n",
        "  name: Nginx_Repo\n",
        "metadata.name",
        "name: Nginx_Repo",
        "metadata.name",
        "not a valid name",
    ),
    (
        "repo",
        "kind: ImageRepository",
        "kind: imagerepository",
        "kind.spelling",
        "kind: imagerepository",
        "kind",
        "case-sensitive",
    ),
    (
        "repo",
        "image.toolkit.fluxcd.io/v1",
        "image.toolkit.fluxcd.io/v2",
        "api.unknown-version",
        "apiVersion: image.toolkit.fluxcd.io/v2",
        "apiVersion",
        "v2",
    ),
    (
        "repo",
        "image.toolkit.fluxcd.io/v1",
        "source.toolkit.fluxcd.io/v1",
        "api.group",
        "apiVersion: source.toolkit.fluxcd.io/v1",
        "apiVersion",
        "belongs",
    ),
    (
        "repo",
        "image.toolkit.fluxcd.io/v1",
        "image.toolkit.fluxcd.io/v1beta2",
        "api.not-served",
        "apiVersion: image.toolkit.fluxcd.io/v1beta2",
        "apiVersion",
        "no matches for kind",
    ),
    (
        "repo",
        "  interval: 5m0s\n",
        "  interval: 5m0s\n  exclusionList:\n    - '^.*-rc$'\n",
        "exclusion.sig",
        "exclusionList:",
        "spec.exclusionList",
        "no longer excluded",
    ),
    (
        "policy",
        "name: nginx\n  policy",
        "name: ngnix\n  policy",
        "policy.repository-ref",
        "name: ngnix",
        "spec.imageRepositoryRef.name",
        "existing: nginx",
    ),
    (
        "policy",
        "range: 1.25.x",
        "range: 1.25",
        "field.type",
        "range: 1.25",
        "spec.policy.semver.range",
        "quoted",
    ),
    (
        "policy",
        "    semver:\n      range: 1.25.x\n",
        "    semver: 1.25.x\n",
        "field.type",
        "semver: 1.25.x",
        "spec.policy.semver",
        "semver: {range: 1.25.x}",
    ),
    (
        "policy",
        "range: 1.25.x",
        "range: ''",
        "policy.range",
        "range: ''",
        "spec.policy.semver.range",
        "empty",
    ),
    (
        "policy",
        "range: 1.25.x",
        "range: 'one.two'",
        "policy.range",
        "range: 'one.two'",
        "spec.policy.semver.range",
        "improper constraint",
    ),
    (
        "policy",
        "    semver:\n      range: 1.25.x\n",
        "    numerical:\n      order: ascending\n",
        "policy.order",
        "order: ascending",
        "spec.policy.numerical.order",
        "asc or desc",
    ),
    (
        "policy",
        "      range: 1.25.x\n",
        "      range: 1.25.x\n    alphabetical:\n      order: asc\n",
        "policy.several",
        "alphabetical:",
        "spec.policy.alphabetical",
        "Flux uses only semver",
    ),
    (
        "policy",
        "    semver:\n      range: 1.25.x\n",
        "    latest: {}\n",
        "policy.kind",
        "policy:",
        "spec.policy",
        "latest",
    ),
    (
        "policy",
        "  policy:\n",
        "  filterTags:\n    pattern: '^(?P<ver>.*)-alpine$'\n    extract: '$version'\n  policy:\n",
        "filter.extract",
        "extract: '$version'",
        "spec.filterTags.extract",
        "no group named 'version'",
    ),
    (
        "policy",
        "  policy:\n",
        "  filterTags:\n    pattern: '(oops'\n  policy:\n",
        "filter.pattern",
        "pattern: '(oops'",
        "spec.filterTags.pattern",
        "regexp",
    ),
    (
        "policy",
        "  policy:\n",
        "  interval: 5m\n  policy:\n",
        "policy.interval",
        "interval: 5m",
        "spec.interval",
        "digestReflectionPolicy",
    ),
    (
        "policy",
        "  namespace: flux-system\n",
        "  namespace: apps\n",
        "policy.repository-namespace",
        "imageRepositoryRef:",
        "spec.imageRepositoryRef",
        "in flux-system",
    ),
    (
        "update",
        "interval: 10m0s",
        "interval: 10 minutes",
        "interval.invalid",
        "interval: 10 minutes",
        "spec.interval",
        "CRD pattern",
    ),
    (
        "update",
        "    kind: GitRepository\n    name: flux-system\n",
        "    kind: GitRepository\n    name: flux\n",
        "source.ref",
        "name: flux",
        "spec.sourceRef.name",
        "is not defined in these files",
    ),
    (
        "update",
        "    kind: GitRepository",
        "    kind: OCIRepository",
        "source.kind",
        "kind: OCIRepository",
        "spec.sourceRef.kind",
        "not GitRepository",
    ),
    (
        "update",
        "        email: flux@gitops-lab.local\n",
        "",
        "author.email",
        "author:",
        "spec.git.commit.author.email",
        "required",
    ),
    (
        "update",
        "email: flux@gitops-lab.local",
        "email: flux",
        "author.email",
        "email: flux",
        "spec.git.commit.author.email",
        "not an e-mail",
    ),
    (
        "update",
        "branch: main\n    commit",
        "branch: 'ma in'\n    commit",
        "checkout.branch",
        "branch: 'ma in'",
        "spec.git.checkout.ref.branch",
        "not a valid git branch",
    ),
    (
        "update",
        "{{range .Changed.Changes}}",
        "{{range .Updated.Images}}",
        "template",
        "messageTemplate: |",
        "spec.git.commit.messageTemplate",
        "RemovedTemplateField",
    ),
    (
        "update",
        "{{range .Changed.Changes}}",
        "{{range .Changed.ImageResult.Files}}",
        "template",
        "messageTemplate: |",
        "spec.git.commit.messageTemplate",
        "ImageResult",
    ),
    (
        "update",
        "{{range .Changed.Changes}}",
        "{{range .Changes}}",
        "template",
        "messageTemplate: |",
        "spec.git.commit.messageTemplate",
        "can't evaluate field Changes",
    ),
    (
        "update",
        "    strategy: Setters\n",
        "    strategy: Regex\n",
        "update.strategy",
        "strategy: Regex",
        "spec.update.strategy",
        "not Setters",
    ),
    (
        "update",
        "    path: ./apps\n",
        "    path: ../../elsewhere\n",
        "update.path",
        "path: ../../elsewhere",
        "spec.update.path",
        "leave the repository",
    ),
    (
        "update",
        "  git:\n    checkout:\n      ref:\n        branch: main\n",
        "  git:\n",
        "checkout.branch",
        "git:",
        "spec.git.checkout",
        "GitRepository flux-system",
    ),
    (
        "sync",
        "url: ssh://git@github.com/learner/gitops-lab",
        "url: git@github.com:learner/gitops-lab.git",
        "git.url",
        "url: git@github.com:learner/gitops-lab.git",
        "spec.url",
        "does not match",
    ),
]


@pytest.mark.parametrize(
    ("target", "old", "new", "code", "at", "field", "words"),
    CORPUS,
    ids=[c[3] + ":" + c[6] for c in CORPUS],
)
def test_corpus_problem_names_file_line_and_field(
    target: str, old: str, new: str, code: str, at: str, field: str, words: str
) -> None:
    original = {"repo": GOOD_REPO, "policy": GOOD_POLICY, "update": GOOD_UPDATE, "sync": SYNC}[target]
    broken = edited(original, old, new)
    line = line_no(broken, at)
    problems = problems_for(**{target: broken})
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
    repo = edited(GOOD_REPO, "namespace: flux-system", "namespace: apps")
    policy = edited(GOOD_POLICY, "namespace: flux-system", "namespace: apps")
    problems = problems_for(repo=repo, policy=policy)
    (p,) = [p for p in problems if p.code == "policy.namespace"]
    assert (p.file, p.line, p.field) == (POLICY, line_no(policy, "namespace: apps"), "metadata.namespace")
    assert "markers naming it do nothing" in p.message


def test_missing_push_and_no_branch_anywhere_is_f14() -> None:
    sync = edited(SYNC, "    branch: main", "    tag: v1.0.0")
    update = without_block(without_block(GOOD_UPDATE, "push"), "checkout")
    problems = problems_for(sync=sync, update=update)
    assert any(
        p.code == "push.branch" and "GitRepository .spec.ref" in p.message for p in errors(problems)
    ), problems


def test_duplicates_and_missing_namespace() -> None:
    files = dict(BASE)
    files["clusters/dev/copy.yaml"] = GOOD_REPO
    files["clusters/dev/nons.yaml"] = edited(
        edited(GOOD_POLICY, "  namespace: flux-system\n", ""), "name: nginx\n", "name: other\n"
    )
    problems = validate(find_automation(files))
    dup = [p for p in problems if p.code == "duplicate"]
    assert len(dup) == 1
    assert (dup[0].file, dup[0].line, dup[0].field) == (
        REPO,
        line_no(GOOD_REPO, "name: nginx"),
        "metadata.name",
    )
    assert (
        f"also clusters/dev/copy.yaml:{line_no(GOOD_REPO, 'apiVersion: image.toolkit.fluxcd.io/v1')}"
        in dup[0].message
    )
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
        + edited(GOOD_REPO, "/v1\n", "/v1beta1\n")
        + "---\n"
        + edited(GOOD_POLICY, "/v1\n", "/v1beta2\n")
    )
    aset = find_automation({"all.yaml": text})
    assert [r.api_version for r in aset.repositories] == ["image.toolkit.fluxcd.io/v1beta1"]
    policy_at = line_no(text, "apiVersion: image.toolkit.fluxcd.io/v1beta2")
    assert aset.repositories[0].line == line_no(text, "apiVersion: image.toolkit.fluxcd.io/v1beta1")
    assert aset.policies[0].line == policy_at > aset.repositories[0].line
    assert aset.policies[0].policy == PolicySpec("semver", "1.25.x")
    assert aset.policies[0].line_of("spec.policy.semver.range") == line_no(
        text, "range: 1.25.x", after=policy_at
    )


def test_load_documents_gives_field_lines() -> None:
    (doc,) = load_documents(GOOD_POLICY, "p.yaml")
    assert doc.line_of("spec.policy.semver.range") == line_no(GOOD_POLICY, "range: 1.25.x")
    assert doc.line_of("spec.policy.semver.nothing") == line_no(GOOD_POLICY, "semver:")
    assert doc.line_of("spec.missing") == line_no(GOOD_POLICY, "spec:")
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
    assert sorted(k.path for k in aset.kustomizations) == ["./apps/dev", "./clusters/dev"]
    assert aset.git_repositories[0].branch == "main"


def test_prefilter_skips_crd_definitions_but_keeps_objects_and_typos() -> None:
    from lab.core.manifests.parse import might_hold_automation

    crd = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nspec:\n  names:\n    kind: ImagePolicy\n"
    assert not might_hold_automation(crd)
    assert all(might_hold_automation(text) for text in BASE.values())
    assert might_hold_automation("---\nkind: imagepolicy\n")
    assert might_hold_automation('{"apiVersion": "image.toolkit.fluxcd.io/v1", "kind": "ImagePolicy"}')


def test_more_required_fields_and_enums() -> None:
    no_name = edited(
        edited(GOOD_REPO, "  name: nginx\n", ""),
        "  image: library/nginx\n",
        "  image: nginx\n  provider: docker\n",
    )
    problems = problems_for(repo=no_name)
    codes = {(p.code, p.field, p.line) for p in problems}
    assert ("metadata.name", "metadata.name", line_no(no_name, "metadata:")) in codes
    assert ("enum", "spec.provider", line_no(no_name, "provider: docker")) in codes
    no_update = without_block(GOOD_UPDATE, "update")
    (warning,) = [p for p in problems_for(update=no_update) if p.code == "update.missing"]
    assert warning.severity == "warning" and "whole repository" in warning.message
    beta = {
        k: v.replace("image.toolkit.fluxcd.io/v1\n", "image.toolkit.fluxcd.io/v1beta2\n")
        for k, v in BASE.items()
    }
    beta[UPDATE] = without_block(beta[UPDATE], "update")
    # v1beta2's CRD defaults spec.update to {strategy: Setters} as v1's does: the API server accepts it.
    problems = validate(find_automation(beta), ("v1beta2",))
    (beta_warning,) = [p for p in problems if p.code == "update.missing"]
    assert beta_warning.severity == "warning" and "whole repository" in beta_warning.message
    assert not [p for p in problems if p.code == "update.strategy"], problems


def test_what_the_crds_default_the_offline_check_accepts_as_the_api_server_does() -> None:
    """sourceRef without kind (the CRD defaults it to GitRepository): accepted by the offline check and
    by the sandbox's API server alike; a missing sourceRef is refused by both, hinted with the block."""
    no_kind = edited(
        GOOD_UPDATE, "    kind: GitRepository\n    name: flux-system\n", "    name: flux-system\n"
    )
    assert errors(problems_for(update=no_kind)) == []
    no_ref = without_block(GOOD_UPDATE, "sourceRef")
    (missing,) = [p for p in errors(problems_for(update=no_ref)) if p.code == "source.missing"]
    assert missing.field == "spec" and "has no spec.sourceRef" in missing.message
    assert missing.hint.startswith("spec.sourceRef: {kind: GitRepository, name: flux-system}"), missing.hint
    no_git = without_block(GOOD_UPDATE, "git")
    (git,) = [p for p in problems_for(update=no_git) if p.code == "git.missing"]
    assert "necessitates field .spec.git" in git.message and git.line == line_no(no_git, "spec:")


def test_source_ref_without_any_git_repository_in_files_is_only_a_warning() -> None:
    files = {k: v for k, v in BASE.items() if "gotk-sync" not in k}
    (p,) = validate(find_automation(files))
    assert (p.code, p.severity, p.field) == ("source.ref", "warning", "spec.sourceRef.name")
    assert "gotk-sync.yaml" in p.hint


def test_a_policy_without_a_repository_ref_is_shown_the_repository_written() -> None:
    shop_repo = GOOD_REPO.replace("name: nginx", "name: shop")
    no_ref = without_block(GOOD_POLICY, "imageRepositoryRef")
    (problem,) = [p for p in problems_for(repo=shop_repo, policy=no_ref) if p.code == "policy.repository-ref"]
    assert problem.hint == "name the ImageRepository, e.g. imageRepositoryRef: {name: shop}"
    (alone,) = [
        p
        for p in validate(find_automation({SYNC_FILE: SYNC, POLICY: no_ref}))
        if p.code == "policy.repository-ref"
    ]
    assert alone.hint == "name the ImageRepository, e.g. imageRepositoryRef: {name: <its metadata.name>}"


@pytest.mark.parametrize(
    ("entries", "code", "field", "says"),
    [
        (
            "    - '['\n    - '^.*\\.sig$'\n",
            "exclusion.regex",
            "spec.exclusionList.0",
            "failed to compile regex [",
        ),
        (
            "    - 5\n    - '^.*\\.sig$'\n",
            "field.type",
            "spec.exclusionList.0",
            "spec.exclusionList[0] must be a string",
        ),
        (
            "".join(f"    - '^x{n}$'\n" for n in range(26)),
            "exclusion.too-many",
            "spec.exclusionList",
            "26 entries",
        ),
    ],
    ids=["regex", "number", "too-many"],
)
def test_an_exclusion_list_flux_cannot_use_is_an_error(
    entries: str, code: str, field: str, says: str
) -> None:
    repo = GOOD_REPO.rstrip("\n") + "\n  exclusionList:\n" + entries
    (problem,) = [p for p in problems_for(repo=repo) if p.code == code]
    assert problem.severity == "error" and problem.field == field and says in problem.message, problem
    assert problem.line == line_no(repo, entries.splitlines()[0].strip()) or code == "exclusion.too-many"


@pytest.mark.parametrize(
    ("path", "leaves"),
    [("./apps/../apps/staging/", False), ("apps/..", False), ("./apps/../../x", True), ("../apps", True)],
)
def test_only_a_path_that_climbs_above_the_root_leaves_the_repository(path: str, leaves: bool) -> None:
    update = GOOD_UPDATE.replace("path: ./apps", f"path: {path}")
    assert update != GOOD_UPDATE
    left = [p for p in problems_for(update=update) if "tries to leave the repository" in p.message]
    assert bool(left) is leaves, left


@pytest.mark.parametrize(
    ("name", "hint"),
    [("Shop_Prod", "e.g. shop-prod"), ("-", "lower-case letters, digits and '-'")],
)
def test_an_invalid_name_is_shown_as_kubernetes_would_take_it(name: str, hint: str) -> None:
    """The hint was 'e.g. nginx' for every name, in exercises whose images are the shop's."""
    repo = GOOD_REPO.replace("name: nginx", f"name: '{name}'", 1)
    (problem,) = [p for p in problems_for(repo=repo) if p.code == "metadata.name"]
    assert problem.hint == hint


@pytest.mark.parametrize(
    ("old", "new", "field", "line", "hint"),
    [
        # The tester's case: the hint was `write semver: {range: range:1.25.x}`, the same mistake again.
        ("range: 1.25.x", "range:1.25.x", "spec.policy.semver", 12, "put a space after 'range:'"),
        (
            "    semver:\n      range: 1.25.x\n",
            "    semver:1.25.x\n",
            "spec.policy",
            11,
            "write semver: {range: 1.25.x} (a space after 'semver:', and the range goes one level down)",
        ),
        # Read through: `imageRepositoryRef` holding a string left `name` missing ('has no ...name').
        ("    name: nginx\n", "    name:nginx\n", "spec.imageRepositoryRef", 9, "put a space after 'name:'"),
    ],
)
def test_a_key_without_its_space_where_a_mapping_belongs(
    old: str, new: str, field: str, line: int, hint: str
) -> None:
    assert old in GOOD_POLICY
    (first, *_) = errors(problems_for(policy=GOOD_POLICY.replace(old, new, 1)))
    assert (first.code, first.field, first.line) == ("field.type", field, line), first
    glued = new.strip()
    assert first.hint.startswith(f"`{glued}` is one string to YAML: "), first.hint
    assert first.hint.endswith(hint), first.hint


def test_a_quoted_key_value_string_is_not_taken_for_a_missing_space() -> None:
    (first, *_) = errors(problems_for(policy=GOOD_POLICY.replace("range: 1.25.x", "'range:1.25.x'")))
    # Quoted, it is a string on purpose: a space inside the quotes would not make it a key.
    assert first.field == "spec.policy.semver" and "put a space" not in first.hint, first


_SEMVER_FIX = "write semver: {range: 1.25.x}, or range: 1.25.x on its own line under semver:"


@pytest.mark.parametrize(
    ("new", "field", "line", "hint"),
    [
        # The hint was "write semver: {range: range:1.25.x} - the range goes one level down".
        (
            "'range:1.25.x'",
            "spec.policy.semver",
            12,
            f"'range:1.25.x' is one string in quotes, not the range field: {_SEMVER_FIX}",
        ),
        (
            '"range: 1.25.x"',
            "spec.policy.semver",
            12,
            f'"range: 1.25.x" is one string in quotes, not the range field: {_SEMVER_FIX}',
        ),
        (
            "semver: 'range:1.25.x'",
            "spec.policy.semver",
            11,
            f"'range:1.25.x' is one string in quotes, not the range field: {_SEMVER_FIX}",
        ),
        # Unquoted on the key's line, "put a space after 'range:'" made `semver: range: 1.25.x`, which YAML refuses.
        (
            "semver: range:1.25.x",
            "spec.policy.semver",
            11,
            f"`range:1.25.x` is one string to YAML, not the range field: {_SEMVER_FIX}",
        ),
        # The range holds the key: the hint was the general "Masterminds syntax, e.g. 1.25.x, ...".
        (
            "range: 'range:1.25.x'",
            "spec.policy.semver.range",
            12,
            "'range:' is not part of the range: write range: 1.25.x",
        ),
        (
            "range: range:1.25.x",
            "spec.policy.semver.range",
            12,
            "'range:' is not part of the range: write range: 1.25.x",
        ),
        (
            "range: 'range: >=1.25.0 <1.26.0'",
            "spec.policy.semver.range",
            12,
            "'range:' is not part of the range: write range: '>=1.25.0 <1.26.0'",
        ),
        (
            'range: "semver:1.25.x"',
            "spec.policy.semver.range",
            12,
            "'semver:' is not part of the range: write range: 1.25.x",
        ),
    ],
)
def test_a_quoted_key_and_value_says_what_was_meant(new: str, field: str, line: int, hint: str) -> None:
    old = "    semver:\n      range: 1.25.x\n" if new.startswith("semver:") else "range: 1.25.x"
    policy = GOOD_POLICY.replace(old, f"    {new}\n" if new.startswith("semver:") else new, 1)
    assert policy != GOOD_POLICY
    (first, *_) = errors(problems_for(policy=policy))
    assert (first.field, first.line, first.hint) == (field, line, hint), first


def test_an_order_that_names_its_key_says_what_to_write() -> None:
    policy = GOOD_POLICY.replace(
        "    semver:\n      range: 1.25.x\n", "    numerical:\n      order: 'order:asc'\n", 1
    )
    (first, *_) = errors(problems_for(policy=policy))
    assert (first.field, first.hint) == (
        "spec.policy.numerical.order",
        "'order:' is not part of the order: write order: asc",
    ), first


@pytest.mark.parametrize(
    ("before", "after", "field"),
    [
        ("  namespace: flux-system\n", "  namespace: default\n", "metadata.namespace"),
        (
            "    name: flux-system\n",
            "    name: flux-system\n    namespace: default\n",
            "spec.sourceRef.namespace",
        ),
    ],
)
def test_a_source_ref_in_the_wrong_namespace_names_the_namespace_not_the_name(
    before: str, after: str, field: str
) -> None:
    """The GitRepository flux-system exists, in flux-system: the fix is the namespace (the learner's
    `lab generate --namespace default`), not the name the hint used to suggest again."""
    text = GOOD_UPDATE.replace(before, after, 1)
    assert text != GOOD_UPDATE
    problems = [p for p in problems_for(update=text) if p.code.startswith("source.")]
    assert [(p.code, p.field) for p in problems] == [("source.namespace", field)], problems
    (p,) = problems
    assert "looked up in default, but it is in flux-system" in p.message
    assert "metadata.namespace: flux-system" in p.hint and "spec.sourceRef.namespace: flux-system" in p.hint
    assert p.line == line_no(text, after.strip().split("\n")[-1].strip())


@pytest.mark.parametrize(
    ("policy", "flux"),
    [
        (
            "numerical:\n      order: asc",
            "Flux's API accepts it; every tag then extracts '' and the ImagePolicy fails: failed to parse "
            "invalid numeric value ''",
        ),
        (
            "semver:\n      range: '>=1.0.0'",
            "Flux's API accepts it; every tag then extracts '' and the ImagePolicy fails: unable to determine "
            "latest version from provided list",
        ),
        (
            "alphabetical:\n      order: asc",
            "Flux's API accepts it; every tag then extracts '', so the policy does not order them: it "
            "reports whichever matching tag is stored last",
        ),
    ],
)
def test_an_extract_naming_no_group_says_what_flux_does_with_it(policy: str, flux: str) -> None:
    """The CRD does not validate extract against the pattern (only `flux create image policy` does):
    the policy is applied, and fails or picks blindly when it is evaluated."""
    text = edited(
        GOOD_POLICY,
        "  policy:\n    semver:\n      range: 1.25.x",
        f"  filterTags:\n    pattern: '^build-(?P<num>[0-9]+)$'\n    extract: '$number'\n  policy:\n    {policy}",
    )
    (problem,) = [p for p in problems_for(policy=text) if p.code == "filter.extract"]
    assert problem.message == (
        f"spec.filterTags.extract uses $number, but the pattern has no group named 'number': {flux}"
    )
    assert problem.hint == "name the group in the pattern: (?P<number>...), or extract $num"


def test_an_unknown_field_under_metadata_fails_flux_s_apply() -> None:
    """A Flux object's metadata is ObjectMeta to the API server: server-side apply refuses `lables`
    as it refuses an unknown field under spec, and kustomize-controller applies nothing of the
    revision. The lab checked spec only."""
    text = edited(BASE[POLICY], "  name: nginx\n", "  name: nginx\n  lables:\n    app: nginx\n")
    found = [p for p in problems_for(policy=text) if p.code == "field.unknown"]
    assert [(p.field, p.line, p.hint) for p in found] == [
        ("metadata.lables", line_no(text, "lables:"), "did you mean `labels`?")
    ]
    assert found[0].message.endswith(
        "(flux-system/nginx; image.toolkit.fluxcd.io/v1, Kind=ImagePolicy): .metadata.lables: field not "
        "declared in schema"
    ), found[0].message
    # Every field ObjectMeta has is known.
    known = edited(
        BASE[POLICY], "  name: nginx\n", "  name: nginx\n  labels: {a: b}\n  annotations: {c: d}\n"
    )
    assert not [p for p in problems_for(policy=known) if p.code == "field.unknown"]


@pytest.mark.parametrize(
    ("pattern", "hint"),
    [
        ("^(1\\.25", "close the group with ')' (a literal parenthesis is written \\()"),
        ("^main-(?!fix)", "RE2 has no look-around or back-references (`(?!`)"),
        ("*-main", "`*` repeats nothing: escape it (\\*) to match it literally"),
    ],
)
def test_an_invalid_filter_pattern_is_said_in_fluxs_words_with_the_edit(pattern: str, hint: str) -> None:
    """The check said `error parsing regexp: missing closing ): ...` and "a Go (RE2) regular expression":
    Flux's ImagePolicy stalls with 'failed to filter tags: invalid regular expression pattern ...'."""
    from lab.core.policy.regex import RegexSyntaxError, compile_go

    policy = GOOD_POLICY + f"  filterTags:\n    pattern: '{pattern}'\n"
    (problem,) = [p for p in problems_for(policy=policy) if p.code == "filter.pattern"]
    with pytest.raises(RegexSyntaxError) as go:
        compile_go(pattern)
    assert problem.message == (
        "spec.filterTags.pattern: Flux stalls (InvalidPolicy): failed to filter tags: invalid regular "
        f"expression pattern '{pattern}': {go.value}"
    )
    assert problem.hint.startswith(hint), problem.hint
