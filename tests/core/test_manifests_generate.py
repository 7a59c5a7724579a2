"""lab.core.manifests.generate: the seed reproduced byte for byte, and the v1 export shape."""

from __future__ import annotations

import pytest

from lab.core.manifests.emit import dump, scalar_style
from lab.core.manifests.generate import (
    SEED_MESSAGE_TEMPLATE,
    GenerateOptions,
    add_manifest,
    render_manifests,
)
from lab.core.manifests.parse import find_automation
from lab.core.manifests.validate import validate
from lab.core.policy.spec import PolicySpec
from lab.core.yamlsafe import load_all
from lab.errors import LabError
from tests.support.taskfiles import IA, solution_text

# The course text's manifests (Task 09b, steps 2, 3 and 5) byte for byte, including the indented blank
# line inside the block scalar: tasks/09b/solution-v1beta2 holds them.
SEED = {
    name: solution_text(f"{IA}/{name}", variant="solution-v1beta2")
    for name in ("image-repository.yaml", "image-policy.yaml", "image-update.yaml")
}
assert "        \n" in SEED["image-update.yaml"], "the course text's blank template line holds 8 spaces"

# `flux create image repository nginx --image=library/nginx --interval=5m --export` and
# `flux create image policy nginx --image-ref=nginx --select-semver='>=1.25.0' --export` (reference 5.1).
FLUX_EXPORT_REPOSITORY = """---
apiVersion: image.toolkit.fluxcd.io/v1
kind: ImageRepository
metadata:
  name: nginx
  namespace: flux-system
spec:
  image: library/nginx
  interval: 5m0s
"""
FLUX_EXPORT_POLICY = """---
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
      range: '>=1.25.0'
"""
# The golden `create_image_update/no-signing.yaml` shape with the seed's values, update and push added;
# go-yaml v2 writes blank lines inside a literal block without indentation.
V1_UPDATE = """---
apiVersion: image.toolkit.fluxcd.io/v1
kind: ImageUpdateAutomation
metadata:
  name: flux-system
  namespace: flux-system
spec:
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

        {{range .Changed.Changes}}
        - {{.OldValue}} -> {{.NewValue}}
        {{end}}
    push:
      branch: main
  interval: 10m0s
  sourceRef:
    kind: GitRepository
    name: flux-system
  update:
    path: ./apps
    strategy: Setters
"""


def test_v1beta2_with_defaults_reproduces_the_seed_byte_for_byte() -> None:
    out = render_manifests(GenerateOptions(api_version="v1beta2"))
    assert list(out) == ["image-repository.yaml", "image-policy.yaml", "image-update.yaml"]
    for name, text in SEED.items():
        assert out[name] == text, name


def test_full_api_version_string_is_accepted_too() -> None:
    out = render_manifests(GenerateOptions(api_version="image.toolkit.fluxcd.io/v1beta2"))
    assert out["image-policy.yaml"] == SEED["image-policy.yaml"]


def test_v1_default_has_the_flux_export_shape() -> None:
    out = render_manifests(GenerateOptions())
    assert out["image-repository.yaml"] == FLUX_EXPORT_REPOSITORY
    assert out["image-update.yaml"] == V1_UPDATE
    policy = render_manifests(GenerateOptions(policy=PolicySpec("semver", ">=1.25.0")))["image-policy.yaml"]
    assert policy == FLUX_EXPORT_POLICY


def test_v1_durations_are_go_strings_and_v1beta2_keeps_what_was_typed() -> None:
    v1 = render_manifests(GenerateOptions(interval="90s", automation_interval="1h"))
    assert "  interval: 1m30s\n" in v1["image-repository.yaml"]
    assert "  interval: 1h0m0s\n" in v1["image-update.yaml"]
    beta = render_manifests(GenerateOptions(api_version="v1beta2", interval="90s"))
    assert "  interval: 90s\n" in beta["image-repository.yaml"]


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        (PolicySpec("semver", "1.25.x"), "    semver:\n      range: 1.25.x\n"),
        (PolicySpec("semver", "*"), "    semver:\n      range: '*'\n"),
        (PolicySpec("semver", "1.25"), '    semver:\n      range: "1.25"\n'),
        (PolicySpec("semver", "~1.25"), "    semver:\n      range: ~1.25\n"),
        (PolicySpec("numerical", "asc"), "    numerical:\n      order: asc\n"),
        (PolicySpec("alphabetical", "desc"), "    alphabetical:\n      order: desc\n"),
    ],
)
def test_policy_kinds_and_quoting(policy: PolicySpec, expected: str) -> None:
    text = render_manifests(GenerateOptions(policy=policy))["image-policy.yaml"]
    assert text.endswith("  policy:\n" + expected)


def test_filter_tags_sorted_in_v1_and_after_policy_in_v1beta2() -> None:
    opts = GenerateOptions(filter_pattern="^(?P<v>[0-9.]+)-alpine$", filter_extract="$v")
    v1 = render_manifests(opts)["image-policy.yaml"]
    assert (
        "spec:\n  filterTags:\n    extract: $v\n    pattern: ^(?P<v>[0-9.]+)-alpine$\n  imageRepositoryRef:"
        in v1
    )
    beta = render_manifests(GenerateOptions(api_version="v1beta2", filter_pattern="^v"))["image-policy.yaml"]
    assert beta.endswith("      range: 1.25.x\n  filterTags:\n    pattern: ^v\n")


def test_generated_manifests_parse_back_without_problems() -> None:
    for api in ("v1", "v1beta2"):
        files = {
            f"clusters/dev/image-automation/{k}": v
            for k, v in render_manifests(GenerateOptions(api_version=api)).items()
        }
        files["clusters/dev/flux-system/gotk-sync.yaml"] = GOTK_SYNC
        aset = find_automation(files)
        problems = validate(aset, served_versions=("v1", "v1beta2"))
        assert [p for p in problems if p.severity == "error"] == []
        iua = aset.automations[0]
        assert iua.message_template == SEED_MESSAGE_TEMPLATE
        assert (iua.push_branch, iua.checkout_branch, iua.update_path) == ("main", "main", "./apps")
        assert aset.policies[0].policy == PolicySpec("semver", "1.25.x")


GOTK_SYNC = """---
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


@pytest.mark.parametrize(
    ("opts", "flag", "words"),
    [
        (GenerateOptions(interval="1d"), "--interval", "days are not a unit"),
        (GenerateOptions(interval="5"), "--interval", "bare number"),
        (GenerateOptions(automation_interval="-5m"), "--automation-interval", "CRD pattern"),
        (GenerateOptions(image="nginx:1.25"), "--image", "should not include a tag; remove ':1.25'"),
        (GenerateOptions(image="https://ghcr.io/org/app"), "--image", "remove 'https://'"),
        (GenerateOptions(image="Nginx"), "--image", "could not parse reference: Nginx"),
        (GenerateOptions(policy=PolicySpec("semver", "")), "--semver", "empty"),
        (GenerateOptions(policy=PolicySpec("semver", "1.25.x.y")), "--semver", "invalid semver range"),
        (
            GenerateOptions(policy=PolicySpec("semver", "range:1.25.x")),
            "--semver",
            "give the range alone: --semver 1.25.x",
        ),
        (
            GenerateOptions(policy=PolicySpec("semver", "range: >=1.25.0 <1.26.0")),
            "--semver",
            "give the range alone: --semver '>=1.25.0 <1.26.0'",
        ),
        (GenerateOptions(policy=PolicySpec("numerical", "up")), "--numerical", "asc or desc"),
        (GenerateOptions(policy=PolicySpec("alphabetical", "ASC")), "--alphabetical", "asc or desc"),
        (GenerateOptions(name="Nginx"), "--name", "not a valid name"),
        (GenerateOptions(namespace="flux.system"), "--namespace", "not a valid namespace"),
        (GenerateOptions(api_version="v1beta1"), "--api", "v1 or v1beta2"),
        (GenerateOptions(branch="my branch"), "--branch", "not a valid git branch"),
        (GenerateOptions(update_path="../other"), "--update-path", "leaves the repository"),
        (GenerateOptions(author_email="flux"), "--author-email", "not an e-mail"),
        (GenerateOptions(filter_extract="$v"), "--filter-extract", "needs a pattern"),
        (GenerateOptions(filter_pattern="(unclosed"), "--filter-pattern", "error parsing regexp"),
        (
            GenerateOptions(filter_pattern="^main-(?P<ts>[0-9]+)$", filter_extract="$nope"),
            "--filter-extract",
            "uses $nope, but the pattern has no group named 'nope': Flux's API accepts it; every tag then "
            "extracts '' and the ImagePolicy fails: unable to determine latest version from provided list "
            "- hint: name the group in the pattern: (?P<nope>...), or extract $ts",
        ),
        (
            GenerateOptions(filter_pattern="^main-(?P<ts>[0-9]+)$", filter_extract="${ts}-${nope}"),
            "--filter-extract",
            "no group named 'nope'",
        ),
        (
            GenerateOptions(message_template="{{range .Updated.Images}}{{println .}}{{end}}"),
            "--message-template",
            "removed '.Updated'",
        ),
    ],
)
def test_bad_options_name_the_flag(opts: GenerateOptions, flag: str, words: str) -> None:
    with pytest.raises(LabError) as info:
        render_manifests(opts)
    text = str(info.value)
    assert flag in text and words in text
    assert "\n" not in text


def test_updated_template_is_fine_for_v1beta2() -> None:
    opts = GenerateOptions(
        api_version="v1beta2", message_template="{{range .Updated.Images}}{{println .}}{{end}}"
    )
    assert (
        "messageTemplate: '{{range .Updated.Images}}{{println .}}{{end}}'"
        in render_manifests(opts)["image-update.yaml"]
    )


@pytest.mark.parametrize(
    ("value", "style"),
    [
        ("library/nginx", "plain"),
        (">=1.25.0", "single"),
        ("*", "single"),
        ("1.25", "double"),
        ("true", "double"),
        ("yes", "double"),
        ("", "double"),
        ("2024-01-15", "double"),
        ("it's", "plain"),
        ("- x", "single"),
        ("a: b", "single"),
        ("a #b", "single"),
        ("tab\there", "double"),
        ("one\ntwo\n", "literal"),
        ("trailing \nspace", "double"),
    ],
)
def test_scalar_styles_follow_go_yaml_v2(value: str, style: str) -> None:
    assert scalar_style(value) == style


def test_literal_block_hints_and_long_values_fold_like_go_yaml() -> None:
    assert dump({"m": "no final newline\nx"}) == "---\nm: |-\n  no final newline\n  x\n"
    assert dump({"m": "kept\n\n"}) == "---\nm: |+\n  kept\n\n"
    long = "word " * 20 + "end"
    folded = dump({"k": long}, explicit_start=False)
    first, second = folded.splitlines()
    assert len(first) > 80 and second.startswith("  ") and first.endswith("word")
    assert dump({"s": "it's >"}, explicit_start=False) == "s: it's >\n"
    assert dump({"s": "'q'"}, explicit_start=False) == "s: '''q'''\n"


TRICKY = [
    "plain",
    "",
    " leading space",
    "trailing space ",
    "it's 'quoted'",
    'say "hi"',
    "back\\slash",
    "tab\tinside",
    "ünïcödé ✓",
    "# not a comment",
    "key: value",
    "- item",
    "@at",
    "%percent",
    "{{.NewValue}}",
    "line one\nline two",
    "ends with two\n\n",
    "\nleading newline",
    "space before break \nnext",
    "Automated image update\n        \n{{range .Changed.Changes}}\n",
    "x" * 90,
    " ".join(["word"] * 40),
    " ".join(["it's"] * 40),
    '"' + " ".join(["q"] * 60) + '"',
    "  two  spaces  " * 10,
    "null",
    "~",
    "0x1F",
    "1e3",
    "12:30:45",
    "2024-01-15T10:30:00Z",
    "\x07bell",
]


@pytest.mark.parametrize("value", TRICKY)
def test_every_string_round_trips_through_the_emitter(value: str) -> None:
    from lab.core.yamlsafe import load_all

    for seed_style in (False, True):
        text = dump({"spec": {"value": value, "list": [value, {"k": value}]}}, seed_style=seed_style)
        (doc,) = load_all(text, "round.yaml")
        assert doc.data == {"spec": {"value": value, "list": [value, {"k": value}]}}, text


def test_keys_sort_like_go_yaml_v2() -> None:
    from lab.core.manifests.emit import sort_keys_like_go_yaml

    keys = ["b", "a10", "a9", "A", "_x", "a", "messageTemplateValues", "messageTemplate", "a09"]
    assert sort_keys_like_go_yaml(keys) == [
        "_x",
        "A",
        "a",
        "a9",
        "a09",
        "a10",
        "b",
        "messageTemplate",
        "messageTemplateValues",
    ]


def test_a_tasks_generate_table_over_the_defaults() -> None:
    from lab.core.manifests.generate import options_from_mapping

    assert options_from_mapping({}) == GenerateOptions()
    staging = options_from_mapping(
        {
            "name": "shop",
            "image": "ghcr.io/acme/shop",
            "numerical": "asc",
            "filter-pattern": "^main-(?P<ts>.*)$",
        }
    )
    assert (staging.name, staging.image, staging.filter_pattern) == (
        "shop",
        "ghcr.io/acme/shop",
        "^main-(?P<ts>.*)$",
    )
    assert staging.policy == PolicySpec("numerical", "asc")
    assert staging.namespace == GenerateOptions().namespace
    assert options_from_mapping({"no_such_option": "x", "policy": "x"}) == GenerateOptions()


# --- add_manifest: one more object in a file that holds others ----------------------------------------

_SHOP = render_manifests(GenerateOptions(name="shop", image="ghcr.io/acme/shop"))["image-policy.yaml"]
_WORKER = render_manifests(GenerateOptions(name="worker", image="ghcr.io/acme/worker"))["image-policy.yaml"]


def test_add_manifest_appends_a_document_and_changes_nothing_above_it() -> None:
    mine = "# the shop's policy, reviewed by Ann\n" + _SHOP.replace("range: 1.25.x", "range: 1.4.x  # pinned")
    added = add_manifest(mine, _WORKER, "image-policy.yaml")
    assert added.present == ""
    assert added.text == mine + _WORKER  # the rendered object starts with its own `---`
    names = [p.name for p in find_automation({"image-policy.yaml": added.text}).policies]
    assert names == ["shop", "worker"]


@pytest.mark.parametrize(
    ("current", "expected"),
    [
        ("", "{m}"),
        ("\n\n", "{m}"),
        ("kind: ConfigMap\nmetadata: {name: a}", "kind: ConfigMap\nmetadata: {{name: a}}\n---\n{b}"),
        ("kind: ConfigMap\nmetadata: {name: a}\n---\n", "kind: ConfigMap\nmetadata: {{name: a}}\n---\n{b}"),
    ],
    ids=["empty", "blank", "no-final-newline", "ends-with-marker"],
)
def test_add_manifest_joins_with_one_document_marker(current: str, expected: str) -> None:
    body = _WORKER.removeprefix("---\n")
    assert add_manifest(current, _WORKER, "f.yaml").text == expected.format(m=_WORKER, b=body)


def test_add_manifest_keeps_an_object_of_the_same_kind_and_name_as_the_learner_wrote_it() -> None:
    mine = _SHOP.replace("range: 1.25.x", "range: 1.4.x")
    kept = add_manifest(mine, _SHOP, "image-policy.yaml")
    assert (kept.text, kept.present, kept.differs) == (mine, "ImagePolicy flux-system/shop", True)
    assert not add_manifest(_SHOP, _SHOP, "f.yaml").differs  # the form's object itself
    # No namespace: the Kustomization that applies it may give it one - the same object still.
    bare = mine.replace("  namespace: flux-system\n", "")
    assert add_manifest(bare, _SHOP, "f.yaml").present == "ImagePolicy flux-system/shop"
    # Another namespace, or another kind of the same name, is another object.
    other = mine.replace("namespace: flux-system", "namespace: apps")
    assert add_manifest(other, _SHOP, "f.yaml").present == ""
    repository = render_manifests(GenerateOptions(name="shop"))["image-repository.yaml"]
    assert add_manifest(repository, _SHOP, "f.yaml").present == ""


def test_add_manifest_refuses_a_file_that_is_not_yaml_naming_its_line() -> None:
    with pytest.raises(LabError) as err:
        add_manifest("kind: ImagePolicy\nmetadata:\n  name: [shop\n", _SHOP, "image-policy.yaml")
    assert err.value.file == "image-policy.yaml" and err.value.line is not None


@pytest.mark.parametrize("api", ["v1", "v1beta2"])
def test_digest_reflection_is_written_as_flux_create_writes_it(api: str) -> None:
    def policy_spec(reflect: str) -> dict[str, object]:
        texts = render_manifests(GenerateOptions(api_version=api, reflect_digest=reflect))
        problems = [
            p for p in validate(find_automation(texts), served_versions=(api,)) if p.severity == "error"
        ]
        assert problems == [], f"the lab's own validator refuses {reflect}"
        docs = load_all(texts["image-policy.yaml"], "image-policy.yaml")
        return docs[0].data["spec"]  # type: ignore[no-any-return]

    assert "digestReflectionPolicy" not in policy_spec("Never")  # the default, not written
    pinned = policy_spec("IfNotPresent")
    assert pinned["digestReflectionPolicy"] == "IfNotPresent" and "interval" not in pinned
    always = policy_spec("Always")  # the API requires an interval with Always, and refuses it otherwise
    assert always["digestReflectionPolicy"] == "Always"
    assert always["interval"] == ("5m0s" if api == "v1" else "5m")
    with pytest.raises(LabError) as err:
        render_manifests(GenerateOptions(reflect_digest="always"))
    assert err.value.field == "--reflect-digest"


def test_add_manifest_keeps_a_files_windows_line_breaks() -> None:
    mine = _SHOP.replace("\n", "\r\n")
    added = add_manifest(mine, _WORKER, "image-policy.yaml").text
    assert added == mine + _WORKER.replace("\n", "\r\n")
    assert "\n" not in added.replace("\r\n", "")


def test_an_extract_the_pattern_cannot_fill_is_refused_as_the_policy_check_fails_it() -> None:
    """`lab generate --filter-extract '$nope'` wrote a policy that image-policy.valid then failed: the
    generator refuses it with the validator's own words (one function says it for both)."""
    opts = GenerateOptions(
        policy=PolicySpec("alphabetical", "asc"),
        filter_pattern="^main-(?P<ts>[0-9]+)$",
        filter_extract="$nope",
    )
    with pytest.raises(LabError) as info:
        render_manifests(opts)
    written = render_manifests(GenerateOptions(policy=opts.policy, filter_pattern=opts.filter_pattern))
    broken = written["image-policy.yaml"].replace("pattern:", "extract: $nope\n    pattern:")
    problems = validate(find_automation({"p.yaml": broken}))
    said = [p for p in problems if p.code == "filter.extract"]
    assert len(said) == 1
    assert info.value.message.replace("--filter-extract", "spec.filterTags.extract") == said[0].message
    assert info.value.hint == said[0].hint
