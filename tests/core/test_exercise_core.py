"""The Flux logic behind the exercises, pure: marker variant per field shape, mutation testing of
policies (the oracle table of the exercises' shared registry), and where automations may write."""

from __future__ import annotations

from dataclasses import replace

import pytest

from lab.core.imagefields import Shape, find_image_fields, fits, judge, line_shape, repository_of
from lab.core.manifests.parse import find_automation
from lab.core.mutation import Probe, excludes, mutation_test
from lab.core.policy.spec import PolicySpec
from lab.core.reconcile import PolicyResolution, applies
from lab.core.refs import ImageRef
from lab.core.scope import app_environments, run_automations, shared_policies
from lab.core.setters.find import Marker
from lab.core.yamlsafe import load_all

SHOP = [
    "1.4.0",
    "1.4.1",
    "1.4.2",
    "1.5.0-rc.1",
    "1.5.0-rc.2",
    "2.0.0",
    "latest",
    "main-a1b2c3d-1717000000",
    "main-e4f5a6b-1717003600",
    "feat-login-9c8d7e6-1717007200",
    "sha256-3fe1.sig",
    "sha256-3fe1.att",
]
ANCHORED = PolicySpec("numerical", "asc", "^main-[a-f0-9]+-(?P<ts>[0-9]+)$", "$ts")


@pytest.mark.parametrize(
    ("spec", "chosen"),
    [
        (PolicySpec("semver", ">=1.4.0 <2.0.0"), "1.4.2"),
        (PolicySpec("semver", "1.4.x"), "1.4.2"),
        (PolicySpec("semver", ">=1.4.0-0 <2.0.0"), "1.5.0-rc.2"),
        (PolicySpec("alphabetical", "asc"), "sha256-3fe1.att"),
        (ANCHORED, "main-e4f5a6b-1717003600"),
        (PolicySpec("numerical", "asc", "[a-f0-9]+-(?P<ts>[0-9]+)", "$ts"), "feat-login-9c8d7e6-1717007200"),
    ],
)
def test_oracle_table(spec: PolicySpec, chosen: str) -> None:
    assert mutation_test(spec, None, SHOP, ()).baseline == chosen


def test_mutation_names_the_trap_that_got_through() -> None:
    probes = [Probe("1.6.0-rc.1", "hold"), Probe("2.1.0", "hold"), Probe("1.4.3", "move")]
    good = mutation_test(PolicySpec("semver", ">=1.4.0 <2.0.0"), None, SHOP, probes)
    assert good.baseline == "1.4.2" and good.escaped == ()
    open_range = mutation_test(PolicySpec("semver", ">=1.4.0"), None, SHOP, probes, expected_baseline="2.0.0")
    assert [r.message for r in open_range.escaped] == [
        "trap 2.1.0 got through: the policy moved from 2.0.0 to 2.1.0",
        "good tag 1.4.3 was pushed but the policy stays on 2.0.0",
    ]
    pinned = mutation_test(PolicySpec("semver", "1.4.2"), None, SHOP, probes)
    assert [r.probe.tag for r in pinned.escaped] == ["1.4.3"]


def test_mutation_reports_a_policy_that_selects_nothing() -> None:
    greedy = PolicySpec("numerical", "asc", "[a-f0-9]+-(?P<ts>.*)", "$ts")
    report = mutation_test(greedy, ["^1\\.3\\..*$"], SHOP, [Probe("main-0a1b2c3-1717099999", "move")])
    assert report.baseline is None and "failed to parse invalid numeric value" in report.baseline_problem


def test_custom_exclusion_list_replaces_the_default() -> None:
    assert excludes(None, "sha256-3fe1.sig") and not excludes(None, "sha256-3fe1.att")
    assert not excludes(["^1\\.3\\..*$"], "sha256-3fe1.sig")
    assert excludes(["^.*\\.sig$", "^1\\.3\\..*$"], "sha256-3fe1.sig")
    starter = mutation_test(PolicySpec("alphabetical", "asc"), ["^1\\.3\\..*$"], SHOP, ())
    assert starter.baseline == "sha256-3fe1.sig"


DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: shop
spec:
  template:
    spec:
      initContainers:
        - name: migrate
          image: ghcr.io/acme/shop-migrate
      containers:
        - name: shop
          image: ghcr.io/acme/shop:1.4.0 # {"$imagepolicy": "flux-system:shop:tag"}
        - name: proxy
          image: nginx:1.25.0
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: worker
spec:
  values:
    image:
      repository: ghcr.io/acme/shop-worker
      tag: "1.4.0"
      digest: sha256:0000
"""
KUSTOMIZATION = """images:
  - name: ghcr.io/acme/shop-migrate
    newTag: 1.4.0
"""


def _fields() -> list[object]:
    return [
        *find_image_fields("d.yaml", load_all(DEPLOYMENT, "d.yaml")),
        *find_image_fields("kustomization.yaml", load_all(KUSTOMIZATION, "kustomization.yaml")),
    ]


def test_image_fields_by_shape() -> None:
    shapes = {
        (f.file, f.line): (f.shape, f.label)
        for f in find_image_fields("d.yaml", load_all(DEPLOYMENT, "d.yaml"))
    }
    assert shapes == {
        ("d.yaml", 10): ("full", "initContainer migrate"),
        ("d.yaml", 13): ("full", "container shop"),
        ("d.yaml", 15): ("full", "container proxy"),
        ("d.yaml", 24): ("name", "spec.values.image.repository"),
        ("d.yaml", 25): ("tag", "spec.values.image.tag"),
        ("d.yaml", 26): ("digest", "spec.values.image.digest"),
    }
    assert repository_of("localhost:5000/a/b:1.0@sha256:x") == "localhost:5000/a/b"


@pytest.mark.parametrize(
    ("key", "value", "shape"),
    [
        ("image", "ghcr.io/acme/shop:1.4.0", "full"),
        ("imageTag", "ghcr.io/acme/shop:1.4.0", "tag"),
        ("newName", "shop", "name"),
        ("newDigest", "", "digest"),
        ("foo", "sha256:3fe1", "digest"),
        ("foo", "v1.4.0", "tag"),
        ("name", "ghcr.io/acme/shop", "matchkey"),
        ("foo", "nginx:1.25", "full"),
        ("foo", "localhost:5000/shop", "name"),
        ("foo", "hello", None),
    ],
)
def test_a_line_read_alone_gets_the_shape_its_key_or_value_shows(
    key: str, value: str, shape: str | None
) -> None:
    assert line_shape(key, value) == shape


def test_one_marker_variant_fits_each_shape() -> None:
    """The rule `judge` and the diagnosis share: the suffix names the part the field holds."""
    shapes: tuple[Shape, ...] = ("full", "name", "tag", "digest", "matchkey")
    fitting = {
        (suffix, shape) for suffix in ("", "name", "tag", "digest") for shape in shapes if fits(suffix, shape)
    }
    assert fitting == {("", "full"), ("name", "name"), ("tag", "tag"), ("digest", "digest")}


def _marker(file: str, line: int, namespace: str, policy: str, suffix: str) -> Marker:
    """A marker Flux reads, as `find_markers` reports it."""
    setter = f"{namespace}:{policy}:{suffix}" if suffix else f"{namespace}:{policy}"
    raw = f'# {{"$imagepolicy": "{setter}"}}'
    return Marker(file, line, 1, raw, namespace, policy, suffix, setter, True, None)


def test_judge_names_each_wrong_variant() -> None:
    fields = _fields()
    markers = [
        _marker("d.yaml", 13, "flux-system", "shop", "tag"),
        _marker("d.yaml", 15, "flux-system", "nginx", ""),
        _marker("d.yaml", 24, "flux-system", "worker", "name"),
        _marker("d.yaml", 25, "flux-system", "worker", ""),
        _marker("d.yaml", 26, "flux-system", "worker", "digest"),
        _marker("kustomization.yaml", 3, "flux-system", "migrate", "tag"),
    ]
    values = {"flux-system:shop": ImageRef("ghcr.io/acme/shop", "1.4.2")}
    verdicts = {(v.file, v.line): v for v in judge(fields, markers, values)}  # type: ignore[arg-type]
    assert "the line would read `image: 1.4.2`" in verdicts[("d.yaml", 13)].message
    assert (
        not verdicts[("d.yaml", 25)].ok
        and "`tag: ghcr.io/acme/shop-worker:1.4.2`" in verdicts[("d.yaml", 25)].message
    )
    assert verdicts[("d.yaml", 15)].ok and verdicts[("d.yaml", 24)].ok and verdicts[("d.yaml", 26)].ok
    # The base line of an image a marked kustomize override sets needs no marker of its own.
    assert verdicts[("d.yaml", 10)].ok and "kustomize override" in verdicts[("d.yaml", 10)].message


def test_judge_flags_missing_and_stray_markers() -> None:
    stray = _marker("d.yaml", 3, "flux-system", "shop", "")
    verdicts = judge(_fields(), [stray])  # type: ignore[arg-type]
    bad = [v.message for v in verdicts if not v.ok]
    assert any("container proxy (image: nginx:1.25.0) has no marker" in m for m in bad)
    # The override is not marked: it is the field to mark, not the base line it tags.
    assert any("images[ghcr.io/acme/shop-migrate].newTag (newTag: 1.4.0) has no marker" in m for m in bad)
    assert not any("initContainer migrate" in m for m in bad), bad
    assert any("is not on an image field" in m for m in bad)


def test_judge_says_a_marker_lacks_its_namespace() -> None:
    """Flux reads "NAMESPACE:NAME": a marker naming "nginx" alone is no setter, not a missing marker."""
    bare = Marker(
        "d.yaml", 15, 1, '# {"$imagepolicy": "nginx"}', "", "nginx", "", None, False, "no namespace"
    )
    verdict = next(
        v
        for v in judge(_fields(), [], policy_images=IMAGES, unread=[bare])  # type: ignore[arg-type]
        if v.line == 15
    )
    assert not verdict.ok and "has no marker" not in verdict.message
    assert 'names "nginx" without its namespace' in verdict.message and '"NAMESPACE:NAME"' in verdict.message
    assert verdict.hint == 'write # {"$imagepolicy": "flux-system:nginx"}'


TREE = {
    "clusters/dev/apps-staging.yaml": """apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: apps-staging, namespace: flux-system}
spec: {path: ./apps/staging, sourceRef: {kind: GitRepository, name: flux-system}}
""",
    "clusters/dev/apps-production.yaml": """apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: apps-production, namespace: flux-system}
spec: {path: ./apps/production, sourceRef: {kind: GitRepository, name: flux-system}}
""",
    "clusters/dev/auto.yaml": """apiVersion: image.toolkit.fluxcd.io/v1
kind: ImageRepository
metadata: {name: shop, namespace: flux-system}
spec: {image: ghcr.io/acme/shop, interval: 5m}
---
apiVersion: image.toolkit.fluxcd.io/v1
kind: ImagePolicy
metadata: {name: shop-staging, namespace: flux-system, labels: {env: staging}}
spec: {imageRepositoryRef: {name: shop}, policy: {semver: {range: 1.4.x}}}
---
apiVersion: image.toolkit.fluxcd.io/v1
kind: ImagePolicy
metadata: {name: shop-prod, namespace: flux-system, labels: {env: prod}}
spec: {imageRepositoryRef: {name: shop}, policy: {semver: {range: 1.4.x}}}
---
apiVersion: image.toolkit.fluxcd.io/v1
kind: ImageUpdateAutomation
metadata: {name: staging, namespace: flux-system}
spec:
  policySelector: {matchLabels: {env: staging}}
  sourceRef: {kind: GitRepository, name: flux-system}
  git: {commit: {author: {email: f@x}}, push: {branch: main}}
  update: {path: ./apps}
""",
    "apps/base/shop/kustomization.yaml": "resources:\n  - deployment.yaml\n",
    "apps/base/shop/deployment.yaml": "kind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n        - name: shop\n          image: ghcr.io/acme/shop:1.4.0\n",
    "apps/staging/kustomization.yaml": 'resources:\n  - ../base/shop\nimages:\n  - name: ghcr.io/acme/shop\n    newTag: 1.4.0 # {"$imagepolicy": "flux-system:shop-staging:tag"}\n',
    "apps/production/kustomization.yaml": 'resources:\n  - ../base/shop\nimages:\n  - name: ghcr.io/acme/shop\n    newTag: 1.4.0 # {"$imagepolicy": "flux-system:shop-prod:tag"}\n',
}


def _tags(image: str, exclusion: object) -> list[str]:
    return ["1.4.2", "1.4.0"]


def test_policy_selector_keeps_the_production_marker_out() -> None:
    aset = find_automation(TREE)
    iua = aset.automations[0]
    assert [p.name for p in aset.policies if applies(iua, p)] == ["shop-staging"]
    new, runs = run_automations({k: v.encode() for k, v in TREE.items()}, aset, _tags)
    assert [(path, c.new) for path, c in runs[0].changes] == [("apps/staging/kustomization.yaml", "1.4.2")]
    assert new["apps/production/kustomization.yaml"] == TREE["apps/production/kustomization.yaml"].encode()


def test_environments_follow_kustomize_resources_and_shared_names_are_found() -> None:
    aset = find_automation(TREE)
    envs = app_environments(aset.kustomizations, TREE)
    assert envs == {
        "apps-staging": {"apps/staging", "apps/base/shop"},
        "apps-production": {"apps/production", "apps/base/shop"},
    }
    assert shared_policies(TREE, envs) == []
    base_marked = dict(TREE)
    base_marked["apps/base/shop/deployment.yaml"] += '          # {"$imagepolicy": "flux-system:shop-prod"}\n'
    base_marked["apps/base/shop/deployment.yaml"] = base_marked["apps/base/shop/deployment.yaml"].replace(
        "image: ghcr.io/acme/shop:1.4.0\n          # ", "image: ghcr.io/acme/shop:1.4.0 # "
    )
    shared = shared_policies(base_marked, envs)
    assert [(s.policy, s.environments) for s in shared] == [
        ("flux-system:shop-prod", ("apps-production", "apps-staging"))
    ]


# -- digest reflection (IRC updateImageRefs) -------------------------------------------------------

_REFLECTING = """apiVersion: image.toolkit.fluxcd.io/v1
kind: ImageRepository
metadata: {name: worker, namespace: flux-system}
spec: {image: ghcr.io/acme/shop-worker}
---
apiVersion: image.toolkit.fluxcd.io/v1
kind: ImagePolicy
metadata: {name: worker, namespace: flux-system}
spec:
  imageRepositoryRef: {name: worker}
  %s
  policy: {semver: {range: 1.4.x}}
"""


def _resolve_worker(
    reflect: str, previous: ImageRef | None = None, digests: dict[str, str] | None = None
) -> tuple[PolicyResolution, list[str], ImageRef | None]:
    from lab.core.reconcile import resolve_policies
    from lab.errors import LabError

    asked: list[str] = []

    def digest_source(image: str, tag: str) -> str:
        asked.append(f"{image}:{tag}")
        if digests is None:
            raise LabError('failed fetching descriptor for "ghcr.io/acme/shop-worker:1.4.2": 404')
        return digests[tag]

    aset = find_automation({"p.yaml": _REFLECTING % reflect})
    resolutions, setters = resolve_policies(
        aset,
        "flux-system",
        lambda image, exclusion: ["1.4.0", "1.4.2"],
        digest_source,
        {"flux-system:worker": previous} if previous else None,
    )
    return resolutions[0], asked, setters.get("flux-system:worker")


def test_never_reflects_no_digest_and_asks_no_registry() -> None:
    res, asked, ref = _resolve_worker("digestReflectionPolicy: Never", digests={"1.4.2": "sha256:b"})
    assert asked == [] and ref == ImageRef("ghcr.io/acme/shop-worker", "1.4.2")
    assert res.digest == "" and "with digest" not in res.message
    _res, asked, ref = _resolve_worker("", digests={"1.4.2": "sha256:b"})
    assert asked == [] and ref is not None and ref.digest == ""


def test_if_not_present_asks_once_per_tag_and_keeps_what_it_has() -> None:
    res, asked, ref = _resolve_worker("digestReflectionPolicy: IfNotPresent", digests={"1.4.2": "sha256:b"})
    assert asked == ["ghcr.io/acme/shop-worker:1.4.2"] and ref is not None and ref.digest == "sha256:b"
    assert ref.full() == "ghcr.io/acme/shop-worker:1.4.2@sha256:b"
    assert (
        res.message == "Latest image tag for ghcr.io/acme/shop-worker resolved to 1.4.2 with digest sha256:b"
    )
    # Same name and tag with a digest: kept, even if the registry now says otherwise (a re-pushed tag).
    kept = ImageRef("ghcr.io/acme/shop-worker", "1.4.2", "sha256:old")
    res, asked, ref = _resolve_worker("digestReflectionPolicy: IfNotPresent", kept, {"1.4.2": "sha256:new"})
    assert asked == [] and ref is not None and ref.digest == "sha256:old"
    # A new tag asks again.
    moved = ImageRef("ghcr.io/acme/shop-worker", "1.4.0", "sha256:a")
    res, asked, ref = _resolve_worker("digestReflectionPolicy: IfNotPresent", moved, {"1.4.2": "sha256:new"})
    assert asked and ref is not None and ref.digest == "sha256:new"


def test_always_asks_every_time() -> None:
    kept = ImageRef("ghcr.io/acme/shop-worker", "1.4.2", "sha256:old")
    _res, asked, ref = _resolve_worker(
        "digestReflectionPolicy: Always\n  interval: 10m", kept, {"1.4.2": "sha256:new"}
    )
    assert asked and ref is not None and ref.digest == "sha256:new"


def test_a_failed_digest_request_fails_the_policy() -> None:
    res, _asked, ref = _resolve_worker("digestReflectionPolicy: IfNotPresent", digests=None)
    assert ref is None
    assert res.ready is False and res.reason == "Failure"
    assert res.message.startswith(
        "failed fetching digest of ghcr.io/acme/shop-worker:1.4.2: failed fetching descriptor for"
    )


def test_offline_digests_are_the_lab_registrys() -> None:
    """Without a digest source the rules use the digest the sandbox's registry serves for the tag."""
    from lab.core.oci import image_manifest, lab_digest
    from lab.core.reconcile import resolve_policies

    aset = find_automation({"p.yaml": _REFLECTING % "digestReflectionPolicy: IfNotPresent"})
    _, setters = resolve_policies(aset, "flux-system", lambda image, exclusion: ["1.4.2"])
    import hashlib

    served = "sha256:" + hashlib.sha256(image_manifest("acme/shop-worker", "1.4.2")[1]).hexdigest()
    assert setters["flux-system:worker"].digest == served == lab_digest("ghcr.io/acme/shop-worker", "1.4.2")


def test_what_each_marker_variant_writes() -> None:
    """One table of what `ns:name[:suffix]` writes, read by judge(), the exercise checks and the commit message."""
    ref = ImageRef("ghcr.io/acme/shop", "1.4.2", "sha256:3fe1")
    assert [ref.written(s) for s in ("", "name", "tag", "digest", "latest")] == [
        "ghcr.io/acme/shop:1.4.2@sha256:3fe1",
        "ghcr.io/acme/shop",
        "1.4.2",
        "sha256:3fe1",
        None,
    ]


IMAGES = {
    "flux-system:shop": "ghcr.io/acme/shop",
    "flux-system:migrate": "ghcr.io/acme/shop-migrate",
    "flux-system:nginx": "nginx",
}


def test_judge_names_a_marker_whose_policy_scans_another_image() -> None:
    """Flux never compares the line's image with the policy's: a full marker for the migrate policy on
    the shop container writes shop-migrate there. The verdict names both images and the policy to use."""
    markers = [
        _marker("d.yaml", 13, "flux-system", "migrate", ""),
        _marker("d.yaml", 15, "flux-system", "nginx", ""),
        _marker("kustomization.yaml", 3, "flux-system", "shop", "tag"),
    ]
    values = {"flux-system:migrate": ImageRef("ghcr.io/acme/shop-migrate", "1.4.2")}
    verdicts = {
        (v.file, v.line): v
        for v in judge(_fields(), markers, values, policy_images=IMAGES)  # type: ignore[arg-type]
    }
    shop = verdicts[("d.yaml", 13)]
    assert not shop.ok
    assert "container shop runs ghcr.io/acme/shop" in shop.message
    assert "flux-system:migrate, whose ImageRepository scans ghcr.io/acme/shop-migrate" in shop.message
    assert "`image: ghcr.io/acme/shop-migrate:1.4.2`" in shop.message
    assert shop.hint.startswith('use # {"$imagepolicy": "flux-system:shop"}')
    # A kustomize entry is judged by its `name`; `nginx` is docker.io/library/nginx either way.
    override = verdicts[("kustomization.yaml", 3)]
    assert not override.ok and "flux-system:migrate:tag" in override.hint
    assert verdicts[("d.yaml", 15)].ok


def test_judge_names_an_image_flux_already_swapped_by_the_starters() -> None:
    """After Flux ran, the line reads the policy's image: only what the field held before tells."""
    markers = [_marker("d.yaml", 13, "flux-system", "migrate", "")]
    rewritten = {"value": "ghcr.io/acme/shop-migrate:1.4.2", "image": "ghcr.io/acme/shop-migrate"}
    swapped = [f if f.line != 13 else replace(f, **rewritten) for f in _fields()]  # type: ignore[attr-defined]
    meant = {("d.yaml", "container shop"): "ghcr.io/acme/shop"}
    verdict = next(
        v
        for v in judge(swapped, markers, policy_images=IMAGES, meant=meant)  # type: ignore[arg-type]
        if v.line == 13
    )
    assert not verdict.ok and "container shop held ghcr.io/acme/shop" in verdict.message
    assert "wrote ghcr.io/acme/shop-migrate:1.4.2 here" in verdict.message
