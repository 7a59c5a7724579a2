"""The silent failures of issue 14, diagnosed by `lab.core.diagnose` on the broken-repo corpus."""

from __future__ import annotations

import pytest

from lab.core.diagnose import Finding, Inputs, diagnose, selector_matches
from lab.core.manifests.parse import find_automation
from tests.support.diag_corpus import CASES, DEPLOY, MARKER, POLICY, Case, Files, solved_files


def _diagnose(files: Files, tags: list[str] | None) -> list[Finding]:
    aset = find_automation({k: v for k, v in files.items() if k.endswith((".yaml", ".yml"))})
    marked = {k: v for k, v in files.items() if "imagepolicy" in v.lower()}
    by_image = None if tags is None else {r.image: tags for r in aset.repositories}
    return diagnose(Inputs(aset, marked, by_image))


def test_the_solved_repo_has_no_breaking_finding() -> None:
    from tests.support.diag_corpus import nginx_tags

    findings = _diagnose(solved_files(), nginx_tags())
    assert [f for f in findings if f.breaking] == []
    # The bundled nginx history has two-part tags (1.25, 1.25-alpine): worth a word, not a failure.
    assert {f.id for f in findings} <= {"policy.non-strict"}


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_corpus_case(case: Case) -> None:
    files = solved_files()
    case.mutate(files)
    findings = _diagnose(files, case.registry_tags())
    hits = [f for f in findings if f.id == case.finding]
    assert hits, f"no {case.finding} in {[str(f) for f in findings]}"
    hit = next((f for f in hits if all(w in f.message for w in case.words)), None)
    assert hit is not None, [f.message for f in hits]
    assert hit.check == case.check
    assert hit.severity == case.severity
    assert hit.file and hit.line, "every finding says file:line"
    assert hit.fix and hit.flux, "every finding says what Flux does and the fix"


def test_every_issue_bullet_has_a_case() -> None:
    wanted = {
        "marker.tag-on-image",
        "marker.name-on-tag",
        "marker.digest-not-reflected",
        "marker.selector",
        "marker.namespace",
        "marker.block-scalar",
        "marker.templated",
        "marker.outside-path",
        "marker.file-skipped",
        "marker.file-truncated",
        "policy.no-match",
        "policy.prerelease-only",
        "filter.unanchored",
        "exclusion.sig",
        "cosign.reachable",
        "template.removed-field",
        "push.branch-unknown",
        "source.missing",
        "paths.overlap",
    }
    assert wanted <= {c.finding for c in CASES}


def test_tag_marker_without_tags_shows_the_current_tag() -> None:
    files = solved_files()
    files[DEPLOY] = files[DEPLOY].replace(MARKER, MARKER.replace('nginx"', 'nginx:tag"'))
    (hit,) = [f for f in _diagnose(files, None) if f.id == "marker.tag-on-image"]
    assert "'image: 1.25.0'" in hit.message


def test_one_automation_over_two_paths_of_the_same_policy_is_only_advisory() -> None:
    files = solved_files()
    second = files["clusters/dev/image-automation/image-update.yaml"].replace(
        "name: flux-system\n  namespace", "name: second\n  namespace"
    )
    files["clusters/dev/image-automation/second.yaml"] = second
    hits = [f for f in _diagnose(files, None) if f.id == "paths.overlap"]
    assert hits and all(f.severity == "advisory" for f in hits)
    assert "race" in hits[0].flux


def test_selector_semantics() -> None:
    labels = {"env": "staging", "tier": "web"}
    assert selector_matches({"matchLabels": {"env": "staging"}}, labels)
    assert not selector_matches({"matchLabels": {"env": "prod"}}, labels)
    assert selector_matches(
        {"matchExpressions": [{"key": "env", "operator": "In", "values": ["staging"]}]}, labels
    )
    assert not selector_matches(
        {"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["web"]}]}, labels
    )
    assert selector_matches({"matchExpressions": [{"key": "tier", "operator": "Exists"}]}, labels)
    assert not selector_matches({"matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]}, labels)
    assert selector_matches({}, {})


def test_selector_that_selects_the_labelled_policy_is_fine() -> None:
    files = solved_files()
    files["clusters/dev/image-automation/image-update.yaml"] = files[
        "clusters/dev/image-automation/image-update.yaml"
    ].replace("spec:\n", "spec:\n  policySelector:\n    matchLabels:\n      env: dev\n", 1)
    files[POLICY] = files[POLICY].replace(
        "  namespace: flux-system\n", "  namespace: flux-system\n  labels:\n    env: dev\n"
    )
    assert not [f for f in _diagnose(files, None) if f.id == "marker.selector"]


@pytest.mark.parametrize(
    ("markers", "finding", "words"),
    [
        (
            ("", "", ""),
            "marker.full-on-tag",
            "full marker on a tag-only field: after the update the line reads 'tag: library/nginx:",
        ),
        (
            ("", None, None),
            "marker.full-on-name",
            "full marker on a repository field: after the update the line reads 'repository: library/nginx:",
        ),
    ],
)
def test_full_marker_on_split_fields(markers: tuple[str | None, ...], finding: str, words: str) -> None:
    from tests.support.diag_corpus import helm_release

    def m(suffix: str | None) -> str:
        return "" if suffix is None else f'# {{"$imagepolicy": "flux-system:nginx{suffix}"}}'

    files = solved_files()
    files[DEPLOY] = files[DEPLOY].replace(f" {MARKER}", "")
    name, tag, digest = markers
    files["apps/base/nginx/helmrelease.yaml"] = helm_release(name=m(name), tag=m(tag), digest=m(digest))
    hits = [f for f in _diagnose(files, None) if f.id == finding]
    assert hits and words in hits[0].message, [str(f) for f in _diagnose(files, None)]


def test_name_marker_on_a_tagged_image_drops_the_tag() -> None:
    files = solved_files()
    files[DEPLOY] = files[DEPLOY].replace(MARKER, MARKER.replace('nginx"', 'nginx:name"'))
    (hit,) = [f for f in _diagnose(files, None) if f.id == "marker.name-on-image"]
    assert "after the update the line reads 'image: library/nginx' and the tag is gone" in hit.message


@pytest.mark.parametrize(
    "tags", [("9" * 5000,), ("1.25." + "7" * 5000,), ("1.25.0", "1." + "9" * 4301 + ".0")]
)
def test_tags_with_numbers_over_4300_digits_are_not_versions(tags: tuple[str, ...]) -> None:
    # Issue 16: int() of over 4,300 digits raises Python's conversion-limit error; `lab check
    # --tags-file` with such a tag showed "check crashed" for policy.resolves. Go's semver cannot read
    # a number over uint64 either: such a tag is no version, strict or lenient.
    files = solved_files()
    findings = _diagnose(files, [*tags, "1.25.3"])
    assert not any("not strict semver" in f.message and "9999" in f.message for f in findings)
    overflow = "1.25." + "7" * 25  # over uint64: not offered as a lenient version of the range either
    assert not any(overflow in f.message for f in _diagnose(files, ["1.26", overflow]))


@pytest.mark.parametrize(
    ("selector", "says"),
    [
        (None, None),
        ({"matchLabels": {"env": "staging"}}, None),
        ({"matchExpressions": [{"key": "env", "operator": "Exists"}]}, None),
        ({"matchLabels": "env=staging"}, "matchLabels must be a mapping"),
        (
            {"matchExpressions": [{"key": "env", "operator": "Bogus", "values": ["x"]}]},
            'failed to parse policy selector: "Bogus" is not a valid label selector operator',
        ),
        (
            {"matchExpressions": [{"key": "env", "operator": "In"}]},
            "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be empty",
        ),
        (
            {"matchExpressions": [{"key": "env", "operator": "Exists", "values": ["a", "b"]}]},
            'values: Invalid value: []string{"a", "b"}: values set must be empty for exists and does not exist',
        ),
    ],
)
def test_selector_problem_as_flux_parses_the_policy_selector(selector: object, says: str | None) -> None:
    from lab.core.diagnose import selector_problem

    got = selector_problem(selector)
    assert (got is None) if says is None else (got is not None and says in got), got


@pytest.mark.parametrize("range_", ["1.25.x", "1.4.x"])
def test_a_filter_that_keeps_no_tag_is_blamed_not_the_range(range_: str) -> None:
    from tests.support.diag_corpus import edit, nginx_tags

    files = solved_files()
    edit(POLICY, "  policy:\n", "  filterTags:\n    pattern: 1.25.x\n  policy:\n")(files)
    edit(POLICY, "range: 1.25.x", f"range: {range_}")(files)
    breaking = [f for f in _diagnose(files, nginx_tags()) if f.breaking]
    assert [f.id for f in breaking] == ["policy.filter-empty"], [str(f) for f in breaking]
    assert "'1.25.x' matches none of the" in breaking[0].message
    assert (
        breaking[0].flux == "ImagePolicy Ready=False, reason Failure: 'version list argument cannot be empty'"
    )
