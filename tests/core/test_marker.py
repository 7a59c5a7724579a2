"""lab.core.marker: the marker lands at the end of the image line; every other byte is kept."""

from __future__ import annotations

import json

import pytest

from lab.core.marker import MARKER_TEMPLATE, check_policy_ref, mark, marker_ref_for
from lab.errors import LabError
from tests.support.paths import ROOT
from tests.support.taskfiles import edited, own_line_marker, solution_text

FLUX_CASES = ROOT / "tests" / "fixtures" / "flux-cases"
STARTER = (ROOT / "tasks/09b/starter/apps/base/nginx/deployment.yaml").read_text()
SEEDED = FLUX_CASES / "setters/01-seed-deployment/input/apps/base/nginx/deployment.yaml"


def test_marking_the_starter_gives_exactly_the_seed_deployment() -> None:
    result = mark(STARTER, "flux-system:nginx")
    assert result.changed and result.line == 18 and result.container == "nginx"
    assert result.text == SEEDED.read_text()


def test_marking_is_idempotent_and_keeps_all_other_lines() -> None:
    first = mark(STARTER, "flux-system:nginx")
    again = mark(first.text, "flux-system:nginx")
    assert not again.changed and again.text == first.text and again.line == 18
    before, after = STARTER.splitlines(keepends=True), first.text.splitlines(keepends=True)
    assert len(before) == len(after)
    assert [b for i, b in enumerate(before) if i != 17] == [a for i, a in enumerate(after) if i != 17]


def test_marker_comment_is_what_flux_parses() -> None:
    line = mark(STARTER, "apps:web").text.splitlines()[17]
    comment = line[line.index(" #") + 1 :]
    assert comment == MARKER_TEMPLATE.format(ref="apps:web")
    assert json.loads(comment.lstrip("#")) == {"$imagepolicy": "apps:web"}


def test_a_wrong_marker_or_other_comment_is_replaced() -> None:
    wrong = STARTER.replace(
        "image: nginx:1.25.0", "image: nginx:1.25.0   # {'$imagepolicy': 'flux-system/nginx'}"
    )
    result = mark(wrong, "flux-system:nginx")
    assert result.changed and result.replaced_comment == "# {'$imagepolicy': 'flux-system/nginx'}"
    assert result.text == SEEDED.read_text()


def test_crlf_line_endings_and_quoted_values_survive() -> None:
    crlf = STARTER.replace("\n", "\r\n").replace("image: nginx:1.25.0", 'image: "nginx:1.25.0"')
    result = mark(crlf, "flux-system:nginx")
    assert result.text.count("\r\n") == crlf.count("\r\n") and "\n" not in result.text.replace("\r\n", "")
    assert 'image: "nginx:1.25.0" # {"$imagepolicy": "flux-system:nginx"}\r\n' in result.text
    no_final_newline = STARTER.rstrip("\n").replace("          ports:\n            - containerPort: 80", "")
    assert mark(no_final_newline.rstrip(), "flux-system:nginx").text.endswith('"flux-system:nginx"}')


TWO = """\
apiVersion: v1
kind: Service
metadata:
  name: web
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      initContainers:
      - name: migrate
        image: ghcr.io/org/migrate:1.0.0
      containers:
      - image: ghcr.io/org/web:2.0.0
        name: web
      - {name: sidecar, image: envoy:1.0}
"""


def test_several_containers_need_container_and_errors_list_them() -> None:
    with pytest.raises(LabError) as info:
        mark(TWO, "flux-system:web", file="apps/web.yaml")
    text = str(info.value)
    assert "migrate (line 15)" in text and "web (line 17)" in text and "sidecar (line 19)" in text
    assert "--container" in text and text.startswith("apps/web.yaml")
    web = mark(TWO, "flux-system:web", container="web")
    assert web.line == 17
    assert '      - image: ghcr.io/org/web:2.0.0 # {"$imagepolicy": "flux-system:web"}\n' in web.text
    assert mark(TWO, "flux-system:migrate", container="migrate").line == 15
    with pytest.raises(LabError) as missing:
        mark(TWO, "flux-system:web", container="nginx")
    assert "no container named 'nginx'" in str(missing.value) and "web (line 17)" in str(missing.value)
    with pytest.raises(LabError) as flow:
        mark(TWO, "flux-system:envoy", container="sidecar")
    assert "flow collection" in str(flow.value)


def test_of_several_containers_the_one_running_the_policys_image_is_marked() -> None:
    """`lab mark --policy flux-system:web` with three containers: the policy's ImageRepository says
    ghcr.io/org/web, which one container runs (the app's Marker tab has no --container to give)."""
    web = mark(TWO, "flux-system:web", image="ghcr.io/org/web")
    assert web.line == 17 and web.container == "web"
    with pytest.raises(LabError, match="flow collection"):  # envoy:1.0 is docker.io/library/envoy: chosen
        mark(TWO, "flux-system:envoy", image="docker.io/library/envoy")
    assert mark(TWO, "flux-system:migrate", image="ghcr.io/org/migrate").line == 15
    with pytest.raises(LabError, match="3 containers have an image: line"):
        mark(TWO, "flux-system:web", image="ghcr.io/org/other")  # none runs it: still ambiguous
    # --container still decides.
    assert mark(TWO, "flux-system:web", container="migrate", image="ghcr.io/org/web").line == 15


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("apiVersion: v1\nkind: Service\nmetadata:\n  name: x\n", "no container with an image: line"),
        ("spec:\n  containers:\n    - name: a\n      image: |\n        nginx:1\n", "spans several lines"),
        ("spec:\n  containers:\n    - name: a\n      image:\n", "empty"),
        ("spec: [\n", "invalid YAML"),
    ],
)
def test_files_without_a_markable_image_line(text: str, words: str) -> None:
    with pytest.raises(LabError) as info:
        mark(text, "flux-system:nginx", file="x.yaml")
    assert words in str(info.value) and str(info.value).startswith("x.yaml")


def test_a_folded_image_is_shown_on_one_line_as_written() -> None:
    text = "spec:\n  containers:\n    - name: shop\n      image: >-\n        ghcr.io/acme/shop:1.4.0\n"
    with pytest.raises(LabError) as info:
        mark(text, "flux-system:shop", file="x.yaml")
    assert info.value.hint == "write the image on one line: image: ghcr.io/acme/shop:1.4.0"


@pytest.mark.parametrize(
    ("ref", "words"),
    [
        ("flux-system/nginx", "use namespace:name"),
        ("nginx", "has no namespace"),
        ("flux-system:nginx:version", "more than namespace:name[:tag|:name|:digest]"),
        ("flux-system:nginx:tag:x", "more than namespace:name[:tag|:name|:digest]"),
        ("Flux:nginx", "not a valid Kubernetes name"),
        (":nginx", "namespace '' is not"),
    ],
)
def test_policy_ref_must_be_namespace_colon_name(ref: str, words: str) -> None:
    with pytest.raises(LabError) as info:
        check_policy_ref(ref)
    assert words in str(info.value)
    with pytest.raises(LabError):
        mark(STARTER, ref)
    assert check_policy_ref(" flux-system:nginx ") == ("flux-system", "nginx")


def test_container_image_line_is_the_value_line() -> None:
    from lab.core.marker import find_container_images
    from lab.core.yamlsafe import load_all

    text = "spec:\n  containers:\n    - name: a\n      image:\n        nginx:1.25.0\n"
    (found,) = find_container_images(load_all(text, "x.yaml"))
    assert (found.name, found.image, found.line) == ("a", "nginx:1.25.0", 5)
    marked = mark(text, "flux-system:nginx")
    assert marked.line == 5
    assert marked.text.endswith('        nginx:1.25.0 # {"$imagepolicy": "flux-system:nginx"}\n')


def test_an_equivalent_marker_is_left_byte_for_byte() -> None:
    from lab.core.marker import flux_reads_marker

    spaced = STARTER.replace(
        "image: nginx:1.25.0", 'image: nginx:1.25.0   #  {"$imagepolicy":"flux-system:nginx", "x": "y"}'
    )
    result = mark(spaced, "flux-system:nginx")
    assert not result.changed and result.text == spaced
    assert flux_reads_marker('## {"$imagepolicy": "a:b"}') == "a:b"
    assert flux_reads_marker('# {"$imagepolicy": "a:b", "n": 1}') is None
    assert flux_reads_marker("# {'$imagepolicy': 'a:b'}") is None
    assert flux_reads_marker('# {"$imagepolicy": "a:b"} trailing') is None


def test_a_hints_marker_names_the_learners_first_policy_else_the_tasks() -> None:
    from lab.core.manifests.parse import find_automation
    from lab.core.marker import policy_ref_for

    policy = "apiVersion: image.toolkit.fluxcd.io/v1\nkind: ImagePolicy\nmetadata:\n  name: shop\n  namespace: apps\n"
    table = {"namespace": "team", "name": "web"}
    assert policy_ref_for(find_automation({"p.yaml": policy}), table, "x:y") == "apps:shop"
    assert policy_ref_for(find_automation({}), table, "x:y") == "x:y"
    assert policy_ref_for(find_automation({}), table) == "team:web"
    assert policy_ref_for(find_automation({}), {}) == "flux-system:nginx"  # `lab generate`'s defaults


def test_marker_delta_tells_markers_added_removed_and_other_edits_apart() -> None:
    """What a commit's message says about a file's markers (lab sync --commit)."""
    from lab.core.marker import marker_delta

    marked = mark(STARTER, "flux-system:nginx").text
    added = marker_delta(STARTER, marked)
    assert added.added == ("flux-system:nginx",) and not added.removed and not added.other_lines
    assert added.images == ("flux-system:nginx",)
    assert marker_delta(marked, STARTER).removed == ("flux-system:nginx",)
    moved = marker_delta(marked, marked.replace("flux-system:nginx", "flux-system:web"))
    assert (moved.added, moved.removed, moved.other_lines) == (
        ("flux-system:web",),
        ("flux-system:nginx",),
        False,
    )
    assert not marker_delta(marked, marked.replace('{"$imagepolicy"', '{ "$imagepolicy"')).changed
    edited = marker_delta(STARTER, marked.replace("replicas: 1", "replicas: 2"))
    assert edited.added and edited.other_lines
    assert not marker_delta(STARTER, STARTER.replace("replicas: 1", "replicas: 2")).changed
    fields = 'repository: x # {"$imagepolicy": "ns:w:name"}\ntag: "1" # {"$imagepolicy": "ns:w:tag"}\n'
    several = marker_delta('repository: x\ntag: "1"\n', fields)
    assert several.added == ("ns:w:name", "ns:w:tag") and several.images == ("ns:w",)


MULTI_DEV = "apps/dev/kustomization.yaml"
WORKER = "apps/base/shop/worker.yaml"


def test_a_tag_marker_goes_on_a_kustomize_overrides_new_tag_as_the_solution_has_it() -> None:
    """`lab mark --policy ns:name:tag` said to edit the file by hand: it marks the images[] entry's
    newTag, byte for byte as the exercise's solution, and again changes nothing."""
    solved = solution_text(MULTI_DEV, "09b-multi")
    starter = (ROOT / "tasks/09b-multi/starter" / MULTI_DEV).read_text()
    result = mark(starter, "flux-system:shop-migrate:tag", file=MULTI_DEV)
    assert result.changed and result.text == solved and result.line == 7
    assert result.target == "images[ghcr.io/acme/shop-migrate].newTag"
    again = mark(result.text, "flux-system:shop-migrate:tag", file=MULTI_DEV)
    assert not again.changed and again.text == solved
    assert marker_ref_for(starter, "flux-system:shop-migrate", MULTI_DEV) == "flux-system:shop-migrate:tag"
    assert marker_ref_for(STARTER, "flux-system:nginx", "d.yaml") == "flux-system:nginx"
    assert marker_ref_for("kind: Service\n", "flux-system:nginx", "s.yaml") is None


def test_helm_values_parts_take_their_markers() -> None:
    """A HelmRelease's values split the image: repository takes :name, tag :tag, digest :digest, each
    on its own line as Flux reads them (09b-multi's solution)."""
    solved = solution_text(WORKER, "09b-multi")
    text = (ROOT / "tasks/09b-multi/starter" / WORKER).read_text()
    for suffix in ("name", "tag", "digest"):
        text = mark(text, f"flux-system:shop-worker:{suffix}", file=WORKER).text
    marked = [line.strip() for line in text.splitlines() if "$imagepolicy" in line]
    assert marked == [line.strip() for line in solved.splitlines() if "$imagepolicy" in line]


def test_a_full_marker_on_a_tag_override_names_the_tag_marker_and_the_reverse() -> None:
    starter = (ROOT / "tasks/09b-multi/starter" / MULTI_DEV).read_text()
    with pytest.raises(LabError) as info:
        mark(starter, "flux-system:shop-migrate", file=MULTI_DEV)
    assert str(info.value) == (
        f"{MULTI_DEV}: no container with an image: line found; this file sets the image's tag in "
        "images[ghcr.io/acme/shop-migrate].newTag (line 7) (field containers) - hint: mark the tag: lab mark "
        f"{MULTI_DEV} --policy flux-system:shop-migrate:tag"
    )
    with_name = edited(starter, "    newTag:", "    newName: ghcr.io/acme/shop-migrate\n    newTag:")
    with pytest.raises(LabError) as info:
        mark(with_name, "flux-system:shop-migrate", file=MULTI_DEV)
    assert (info.value.hint or "").endswith(
        "(and the name, if Flux should write it: --policy flux-system:shop-migrate:name)"
    )
    with pytest.raises(LabError) as info:
        mark(STARTER, "flux-system:nginx:tag", file="d.yaml")
    assert "no field holding a tag for the :tag marker" in str(info.value)
    assert info.value.hint == "a container's image: line takes the full marker: --policy flux-system:nginx"
    with pytest.raises(LabError) as info:
        mark("kind: Service\n", "flux-system:nginx", file="s.yaml")
    assert "no container with an image: line found" in str(info.value)
    assert (
        '(kustomize images[].newTag, Helm values tag:) takes # {"$imagepolicy": "flux-system:nginx:tag"}'
        in (info.value.hint or "")
    )


def test_of_several_overrides_the_policys_image_decides() -> None:
    text = (ROOT / "tasks/09b-multi/starter" / MULTI_DEV).read_text() + (
        "  - name: ghcr.io/acme/api\n    newTag: main-0a1b2c3-20240102093000\n"
    )
    with pytest.raises(LabError, match="2 fields hold a tag"):
        mark(text, "flux-system:api:tag", file=MULTI_DEV)
    chosen = mark(text, "flux-system:api:tag", file=MULTI_DEV, image="ghcr.io/acme/api")
    assert chosen.line == 9
    assert chosen.text.endswith(
        'newTag: main-0a1b2c3-20240102093000 # {"$imagepolicy": "flux-system:api:tag"}\n'
    )


@pytest.mark.parametrize("where", ["before", "after"])
def test_mark_moves_a_marker_flux_ignores_on_its_own_line_beside_the_image(where: str) -> None:
    """`m` added a second marker and left the useless one on its own line."""
    from tests.support.taskfiles import DEPLOY, solution_text

    text, image = own_line_marker(where)
    result = mark(text, "flux-system:nginx")
    assert result.changed and result.text == solution_text(DEPLOY)
    assert result.moved_from == (image - 1 if where == "before" else image + 1,)
    assert result.line == 18 and result.replaced_comment is None
    # Once moved, nothing more to do.
    assert not mark(result.text, "flux-system:nginx").changed


def test_mark_moves_a_marker_off_the_container_name_line_and_says_so() -> None:
    """The marker on `- name: nginx` (line 17) stayed there after `m`: Flux would rewrite the name."""
    from lab.core.marker import moved_text
    from tests.support.taskfiles import DEPLOY

    marker = ' # {"$imagepolicy": "flux-system:nginx"}'
    text = edited(STARTER, "- name: nginx\n", f"- name: nginx{marker}\n")
    result = mark(text, "flux-system:nginx")
    assert result.changed and result.text == solution_text(DEPLOY)
    assert (result.line, result.taken_from, result.moved_from) == (18, (17,), ())
    assert "from the end of line 17: that line holds no image" in moved_text((), result.taken_from)
    # Already on the image line too: the one on the name line still goes, with the same word.
    again = mark(
        edited(solution_text(DEPLOY), "- name: nginx\n", f"- name: nginx{marker}\n"), "flux-system:nginx"
    )
    assert again.changed and again.taken_from == (17,) and again.text == solution_text(DEPLOY)


def test_mark_keeps_a_marker_on_an_env_value_that_holds_the_policys_image() -> None:
    """Flux's setters set any scalar the marker ends: a marked env `value: nginx:1.25.0` is the learner's
    on purpose. `m` took it off, saying 'that line holds no image'."""
    marker = ' # {"$imagepolicy": "flux-system:nginx"}'
    env = f"          env:\n            - name: IMAGE\n              value: nginx:1.25.0{marker}\n"
    text = edited(STARTER, "          ports:\n", env + "          ports:\n")
    result = mark(text, "flux-system:nginx")
    assert result.changed and result.taken_from == (), result
    assert f"value: nginx:1.25.0{marker}\n" in result.text
    assert f"image: nginx:1.25.0{marker}\n" in result.text
    # Another image's reference there is Flux writing the wrong image into it: it goes.
    other = mark(edited(text, "value: nginx:1.25.0", "value: redis:7.2"), "flux-system:nginx")
    assert other.taken_from == (21,) and f"redis:7.2{marker}" not in other.text


def test_mark_keeps_what_is_not_a_stray_marker_of_the_policy() -> None:
    from tests.support.taskfiles import edited

    text, _ = own_line_marker("after")
    other = edited(text, '"flux-system:nginx"}\n', '"flux-system:other"}\n')
    result = mark(other, "flux-system:nginx")
    assert result.moved_from == () and '"flux-system:other"' in result.text  # another policy's: kept
    noted = edited(text, '"flux-system:nginx"}\n', '"flux-system:nginx"} and a note\n')
    assert (
        mark(noted, "flux-system:nginx").moved_from == ()
        and "and a note" in mark(noted, "flux-system:nginx").text
    )
    apart = edited(text, "          ports:\n", "          ports:\n", count=1)
    far = edited(
        apart,
        '          # {"$imagepolicy": "flux-system:nginx"}\n          ports:\n',
        '          ports:\n          # {"$imagepolicy": "flux-system:nginx"}\n',
    )
    assert mark(far, "flux-system:nginx").moved_from == ()  # not beside the image line


def test_mark_moves_a_part_marker_flux_ignores_on_its_own_line_beside_its_field() -> None:
    """A `:tag` marker on its own line above newTag was doubled, not moved: only container image
    lines counted as the line a stray marker was meant for."""
    tag = '# {"$imagepolicy": "flux-system:nginx:tag"}'
    text = (
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - deployment.yaml\n"
        f"images:\n  - name: nginx\n    {tag}\n    newTag: 1.25.0\n"
    )
    result = mark(text, "flux-system:nginx:tag", file="kustomization.yaml")
    assert result.moved_from == (7,) and result.line == 7
    assert result.text.count(tag) == 1 and result.text.endswith(f"    newTag: 1.25.0 {tag}\n")
    assert not mark(result.text, "flux-system:nginx:tag", file="kustomization.yaml").changed
