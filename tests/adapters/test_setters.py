"""Flux's Setters strategy against the 14 recorded controller fixtures, byte for byte."""

from __future__ import annotations

import functools
import json
import shutil
from pathlib import Path

import pytest

from bench.bench_setters import cpu_best, flat_mapping, large_manifest, libyaml_floor
from lab.adapters.setters import apply_to_tree
from lab.core.refs import ImageRef
from lab.errors import LabError
from tests.support.labrun import run_lab
from tests.support.paths import FLUX_CASES

SETTERS_DIR = FLUX_CASES / "setters"
CASES = json.loads((SETTERS_DIR / "cases.json").read_text())
POLICIES = {k: ImageRef(v["name"], v["tag"], v["digest"]) for k, v in CASES["policies"].items()}
NAMESPACE = CASES["automation_namespace"]


def _files(base: Path) -> dict[str, bytes]:
    return {p.relative_to(base).as_posix(): p.read_bytes() for p in sorted(base.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("case", CASES["cases"], ids=[c["id"] for c in CASES["cases"]])
def test_fixture_tree_matches_controller_output(case: dict, tmp_path: Path) -> None:
    work = tmp_path / "repo"
    shutil.copytree(SETTERS_DIR / case["id"] / "input", work, symlinks=True)
    result = apply_to_tree(work, case["update_path"], POLICIES, NAMESPACE)

    assert _files(work) == _files(SETTERS_DIR / case["id"] / "expected")
    got = [
        {
            "file": c.file,
            "object": {
                "apiVersion": c.object.api_version,
                "kind": c.object.kind,
                "name": c.object.name,
                "namespace": c.object.namespace,
            },
            "setter": c.setter,
            "old": c.old,
            "new": c.new,
        }
        for c in result.changes
    ]
    assert got == case["changes"]
    prefix = (case["update_path"] or "").strip("./")
    written = sorted(f"{prefix}/{rel}" if prefix else rel for rel, _, _ in result.files)
    assert written == sorted(case["rewritten_files"])
    for rel in case.get("skipped_unparseable_files", []):
        assert rel.removeprefix("apps/") in {r.removeprefix("apps/") for r, _ in result.skipped}


def test_dry_run_writes_nothing_but_reports_the_same(tmp_path: Path) -> None:
    work = tmp_path / "repo"
    shutil.copytree(SETTERS_DIR / "01-seed-deployment" / "input", work)
    before = _files(work)
    result = apply_to_tree(work, None, POLICIES, NAMESPACE, dry_run=True)
    assert _files(work) == before
    assert [c.new for c in result.changes] == ["library/nginx:1.25.3"]
    ((rel, old, new),) = result.files
    assert rel == "apps/base/nginx/deployment.yaml" and old != new


def test_policies_of_other_namespaces_are_invisible(tmp_path: Path) -> None:
    work = tmp_path / "repo"
    shutil.copytree(SETTERS_DIR / "05-ignored-markers" / "input", work)
    result = apply_to_tree(work, None, {"apps:nginx": ImageRef("library/nginx", "1.27.0")}, NAMESPACE)
    assert result.changes == [] and result.files == []


def test_missing_update_path_uses_flux_wording(tmp_path: Path) -> None:
    with pytest.raises(LabError) as err:
        apply_to_tree(tmp_path, "./apps", POLICIES, NAMESPACE)
    assert str(err.value).startswith(
        f"failed to apply policies: walking path for files: lstat {tmp_path.resolve() / 'apps'}: "
        "no such file or directory"
    )


def test_update_path_cannot_escape_the_root(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    (root / "apps").mkdir(parents=True)
    outside = tmp_path / "outside.yaml"
    outside.write_text('image: nginx:1.25.0 # {"$imagepolicy": "flux-system:nginx"}\n')
    result = apply_to_tree(root, "../..", POLICIES, NAMESPACE)
    assert result.update_root == root.resolve()
    assert result.files == []
    assert "nginx:1.25.0" in outside.read_text()


def test_update_path_may_name_a_single_file_and_absolute_means_root(tmp_path: Path) -> None:
    work = tmp_path / "repo"
    shutil.copytree(SETTERS_DIR / "13-update-path-scope" / "input", work)
    result = apply_to_tree(work, "/apps/api.yaml", POLICIES, NAMESPACE, dry_run=True)
    assert [c.file for c in result.changes] == ["api.yaml"]


def test_symlink_escaping_the_workspace_is_not_followed(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    outside = tmp_path / "secret.yaml"
    outside.write_text('image: nginx:1.25.0 # {"$imagepolicy": "flux-system:nginx"}\n')
    (root / "link.yaml").symlink_to(outside)
    (root / "dangling.yaml").symlink_to(tmp_path / "nope.yaml")
    inside = root / "real.yml"
    inside.write_text('image: nginx:1.25.0 # {"$imagepolicy": "flux-system:nginx"}\n')
    (root / "alias.yaml").symlink_to(inside)
    (root / "dirlink").symlink_to(tmp_path, target_is_directory=True)
    result = apply_to_tree(root, None, POLICIES, NAMESPACE)
    assert outside.read_text().startswith("image: nginx:1.25.0")
    assert sorted(rel for rel, _, _ in result.files) == ["alias.yaml", "real.yml"]
    assert inside.read_text() == 'image: library/nginx:1.25.3 # {"$imagepolicy": "flux-system:nginx"}\n'


@pytest.mark.slow
def test_cli_prints_a_diff_and_writes(tmp_path: Path, lab_env: dict[str, str]) -> None:
    work = tmp_path / "repo"
    shutil.copytree(SETTERS_DIR / "01-seed-deployment" / "input", work)
    proc = run_lab("setters", str(work), "--set", "flux-system:nginx=library/nginx:1.25.3", env=lab_env)
    assert proc.returncode == 0, proc.stderr
    assert "-          image: nginx:1.25.0" in proc.stdout
    assert "+          image: library/nginx:1.25.3" in proc.stdout
    expected = SETTERS_DIR / "01-seed-deployment" / "expected" / "apps/base/nginx/deployment.yaml"
    assert (work / "apps/base/nginx/deployment.yaml").read_bytes() == expected.read_bytes()


@pytest.mark.slow
def test_cli_json_dry_run(tmp_path: Path, lab_env: dict[str, str]) -> None:
    work = tmp_path / "repo"
    shutil.copytree(SETTERS_DIR / "11-digest-pinning" / "input", work)
    digest = "sha256:" + "2" * 64
    proc = run_lab(
        "setters",
        str(work),
        "--set",
        f"flux-system:app-digest=ghcr.io/org/app:1.2.0@{digest}",
        "--dry-run",
        "--json",
        env=lab_env,
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert [c["new"] for c in data["changes"]] == [f"ghcr.io/org/app:1.2.0@{digest}"]
    assert data["written"] is False
    assert "1.0.0@sha256:1111" in (work / "apps/pinned.yaml").read_text()


@pytest.mark.slow
@pytest.mark.parametrize("bad", ["nginx=library/nginx:1", "flux-system/nginx=x:1", "flux-system:nginx"])
def test_cli_bad_set_is_a_usage_error(bad: str, tmp_path: Path, lab_env: dict[str, str]) -> None:
    proc = run_lab("setters", str(tmp_path), "--set", bad, env=lab_env)
    assert proc.returncode == 2
    assert "NS:NAME=IMAGE" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_pure_python_parser_fallback_gives_the_same_bytes(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Without libyaml the ruamel.yaml parser is used; the output must not change."""
    from lab.core.setters import document

    monkeypatch.setattr(document, "_events", document._ruamel_events)
    for case_id in ("06-comments-and-layout", "12-anchors-and-flow", "04-quoting-and-types"):
        work = tmp_path / case_id
        shutil.copytree(SETTERS_DIR / case_id / "input", work)
        apply_to_tree(work, None, POLICIES, NAMESPACE)
        assert _files(work) == _files(SETTERS_DIR / case_id / "expected")


def test_setters_time_is_linear_in_the_keys_of_one_mapping() -> None:
    import gc
    import time

    from lab.core.setters.apply import rewrite

    setters = {"flux-system:nginx": ImageRef("nginx", "1.25.3")}

    def best(keys: int) -> float:
        content = flat_mapping(keys)
        times = []
        for _ in range(3):
            gc.collect()  # the suite's heap would otherwise make each run pay for old garbage
            start = time.process_time()  # CPU of this process: a loaded machine distorts it least
            result = rewrite(content, setters, "flux-system")
            times.append(time.process_time() - start)
            assert result.content is not None and len(result.changes) == 1
        return min(times)

    small, large = best(2_000), best(16_000)
    # 8x the keys: linear costs ~8x, the old scan per key cost ~64x. 24x leaves room for a loaded machine.
    assert large < 24 * small, (small, large)


@functools.cache
def _rewrite_cpu(size: int) -> float:
    """Best CPU seconds of this process over two rewrites of a `size`-byte manifest (one per process)."""
    from lab.core.setters.apply import rewrite

    setters = {"flux-system:nginx": ImageRef("nginx", "1.25.3")}
    content = large_manifest(size)
    assert len(content) >= size
    return cpu_best(lambda: rewrite(content, setters, "flux-system"), runs=2)


def test_a_2mb_manifest_costs_a_bounded_multiple_of_parsing_it() -> None:
    spent = _rewrite_cpu(2_000_000)
    floor = libyaml_floor(large_manifest())
    # ~5.5x now, also with `make unit` running alongside (parse into nodes, place comments, encode
    # once); 40x with a second encode and the garbage collector walking the growing tree. Both sides
    # are CPU time of this process.
    assert spent < 8 * floor, (spent, floor)


def test_a_2mb_manifest_costs_four_times_a_half_mb_one() -> None:
    """Linear in the size of the file: 4x the bytes cost ~4x the time (quadratic would be 16x)."""
    small, large = _rewrite_cpu(500_000), _rewrite_cpu(2_000_000)
    # 3.9-4.2x measured, also with `make unit` running alongside.
    assert large < 6 * small, (small, large)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("sets", "says"),
    [
        (["flux-system:nginx=LIBRARY/NGINX:1"], "image names are lower case: library/nginx"),
        (
            ["flux-system:nginx=nginx:1", "flux-system:nginx=nginx:2"],
            "--set flux-system:nginx is given twice",
        ),
    ],
)
def test_cli_set_that_no_policy_could_select_is_refused(
    sets: list[str], says: str, tmp_path: Path, lab_env: dict[str, str]
) -> None:
    """An upper-case name was written into the manifest; a second --set for a policy silently won."""
    args = [arg for value in sets for arg in ("--set", value)]
    proc = run_lab("setters", str(tmp_path), *args, env=lab_env)
    assert proc.returncode == 2 and says in proc.stderr, proc.stderr
