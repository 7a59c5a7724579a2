"""`lab generate` end to end: the real executable in a temporary git repository made from the starter."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from lab.core.manifests.generate import GenerateOptions, render_manifests
from lab.core.policy.spec import PolicySpec
from lab.core.yamlsafe import load_all
from tests.support.labrun import run_lab
from tests.support.paths import ROOT

pytestmark = pytest.mark.slow

STARTER = ROOT / "tasks" / "09b" / "starter"
OUT = Path("clusters/dev/image-automation")
NAMES = ("image-repository.yaml", "image-policy.yaml", "image-update.yaml")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = tmp_path / "gitops-lab"
    shutil.copytree(STARTER, path)
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=path, check=True)
    subprocess.run(["git", "add", "-A"], cwd=path, check=True)
    subprocess.run(["git", "commit", "-q", "-m", "starter"], cwd=path, check=True)
    return path


def test_generate_writes_v1_by_default_then_reports_unchanged(repo: Path, lab_env: dict[str, str]) -> None:
    first = run_lab("generate", env=lab_env, cwd=repo)
    assert first.returncode == 0, first.stderr
    expected = render_manifests(GenerateOptions())
    for name in NAMES:
        assert (repo / OUT / name).read_text() == expected[name]
        assert f"created     {OUT / name}" in first.stdout
    assert "lab mark apps/base/nginx/deployment.yaml --policy flux-system:nginx" in first.stdout
    status = subprocess.run(
        ["git", "status", "--porcelain"], cwd=repo, capture_output=True, text=True, check=True
    )
    assert status.stdout.strip() == "?? clusters/dev/image-automation/"
    second = run_lab("generate", env=lab_env, cwd=repo)
    assert second.returncode == 0 and second.stdout.count("unchanged") == 3


def test_switching_to_v1beta2_needs_force_and_then_equals_the_seed(
    repo: Path, lab_env: dict[str, str]
) -> None:
    assert run_lab("generate", env=lab_env, cwd=repo).returncode == 0
    refused = run_lab("generate", "--api", "v1beta2", env=lab_env, cwd=repo)
    assert refused.returncode == 1
    assert refused.stderr.startswith("lab: would overwrite 3 file(s)") and "--force" in refused.stderr
    assert (
        (repo / OUT / "image-policy.yaml")
        .read_text()
        .startswith("---\napiVersion: image.toolkit.fluxcd.io/v1\n")
    )
    forced = run_lab("generate", "--api", "v1beta2", "--force", env=lab_env, cwd=repo)
    assert forced.returncode == 0 and forced.stdout.count("overwritten") == 3
    assert "saved the previous versions in .git/lab-backups/" in forced.stdout
    (backup,) = (repo / ".git" / "lab-backups").iterdir()
    v1 = render_manifests(GenerateOptions())
    for name in NAMES:
        assert (backup / OUT / name).read_text() == v1[name]
    seed = render_manifests(GenerateOptions(api_version="v1beta2"))
    for name in NAMES:
        assert (repo / OUT / name).read_text() == seed[name]


def test_a_learners_edit_is_never_overwritten_without_force(repo: Path, lab_env: dict[str, str]) -> None:
    target = repo / OUT / "image-policy.yaml"
    target.parent.mkdir(parents=True)
    target.write_text("# my own policy, not committed yet\n")
    result = run_lab("generate", env=lab_env, cwd=repo)
    assert result.returncode == 1 and "clusters/dev/image-automation/image-policy.yaml" in result.stderr
    assert target.read_text() == "# my own policy, not committed yet\n"
    assert not (repo / OUT / "image-repository.yaml").exists(), "nothing is written when one file is refused"


def test_options_and_stdout(repo: Path, lab_env: dict[str, str]) -> None:
    result = run_lab(
        "generate",
        "--stdout",
        "--name",
        "podinfo",
        "--image",
        "ghcr.io/stefanprodan/podinfo",
        "--numerical",
        "asc",
        "--filter-pattern",
        "^main-[a-f0-9]+-(?P<ts>[0-9]+)",
        "--filter-extract",
        "$ts",
        "--interval",
        "1m",
        "--push-branch",
        "flux-updates",
        env=lab_env,
        cwd=repo,
    )
    assert result.returncode == 0, result.stderr
    assert not (repo / OUT).exists()
    docs = load_all(result.stdout, "stdout")
    assert [d.data["kind"] for d in docs] == ["ImageRepository", "ImagePolicy", "ImageUpdateAutomation"]
    assert docs[0].data["spec"] == {"image": "ghcr.io/stefanprodan/podinfo", "interval": "1m0s"}
    assert docs[1].data["spec"]["policy"] == {"numerical": {"order": "asc"}}
    assert docs[1].data["spec"]["filterTags"] == {
        "pattern": "^main-[a-f0-9]+-(?P<ts>[0-9]+)",
        "extract": "$ts",
    }
    assert docs[2].data["spec"]["git"]["push"] == {"branch": "flux-updates"}
    expected = render_manifests(
        GenerateOptions(
            name="podinfo",
            image="ghcr.io/stefanprodan/podinfo",
            interval="1m",
            policy=PolicySpec("numerical", "asc"),
            filter_pattern="^main-[a-f0-9]+-(?P<ts>[0-9]+)",
            filter_extract="$ts",
            push_branch="flux-updates",
        )
    )
    for name in NAMES:
        assert expected[name] in result.stdout


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (
            ("--image", "nginx:1.25"),
            "lab: --image: image 'nginx:1.25' should not include a tag; remove ':1.25'",
        ),
        (("--interval", "1d"), "lab: --interval: '1d' does not match the CRD pattern"),
        (("--semver", ""), "lab: --semver: the range is empty"),
        (("--semver", "1.x.y.z"), "lab: --semver 1.x.y.z: invalid semver range"),
        (("--namespace", "Flux"), "lab: --namespace:"),
        (("--author-email", "nobody"), "lab: --author-email:"),
    ],
)
def test_bad_values_fail_with_one_line_naming_the_flag(
    repo: Path, lab_env: dict[str, str], args: tuple[str, ...], words: str
) -> None:
    result = run_lab("generate", *args, env=lab_env, cwd=repo)
    assert result.returncode == 1
    assert result.stderr.startswith(words), result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert not (repo / OUT).exists()


def test_policy_flags_are_exclusive(repo: Path, lab_env: dict[str, str]) -> None:
    result = run_lab("generate", "--semver", "1.x", "--alphabetical", "asc", env=lab_env, cwd=repo)
    assert result.returncode == 2 and "not allowed with argument" in result.stderr


def test_out_dir_and_workspace_from_elsewhere(repo: Path, tmp_path: Path, lab_env: dict[str, str]) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = run_lab("generate", "--workspace", str(repo), "--out", "manifests", env=lab_env, cwd=elsewhere)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (elsewhere / "manifests").iterdir()) == sorted(NAMES)
    outside = run_lab("generate", env=lab_env, cwd=elsewhere)
    assert outside.returncode == 2 and "not inside a git repository" in outside.stderr


def test_symlinked_output_dir_escaping_the_workspace_is_refused(
    repo: Path, tmp_path: Path, lab_env: dict[str, str]
) -> None:
    victim = tmp_path / "victim"
    victim.mkdir()
    (repo / OUT).symlink_to(victim, target_is_directory=True)
    result = run_lab("generate", env=lab_env, cwd=repo)
    assert result.returncode == 1 and "points outside the workspace" in result.stderr
    # --out into the workspace through the same link is refused too, and is not what the hint offers.
    for out in (OUT, f"./{OUT}/sub", str(repo / OUT)):
        result = run_lab("generate", "--out", out, env=lab_env, cwd=repo)
        assert result.returncode == 1 and "points outside the workspace" in result.stderr, (
            out,
            result.stderr,
        )
        assert "pass another --out DIR" in result.stderr
    assert list(victim.iterdir()) == []
    # A folder outside the repository, named as such, is the learner's choice.
    result = run_lab("generate", "--out", str(victim), env=lab_env, cwd=repo)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in victim.iterdir()) == sorted(NAMES)


def test_symlinked_target_file_is_refused(repo: Path, tmp_path: Path, lab_env: dict[str, str]) -> None:
    (repo / OUT).mkdir(parents=True)
    secret = tmp_path / "secret.txt"
    secret.write_text("keep me\n")
    (repo / OUT / "image-policy.yaml").symlink_to(secret)
    result = run_lab("generate", "--force", env=lab_env, cwd=repo)
    assert result.returncode == 1 and "symlink" in result.stderr
    assert secret.read_text() == "keep me\n"


def test_odd_existing_files_are_compared_without_reading_them_whole(
    repo: Path, lab_env: dict[str, str]
) -> None:
    """A FIFO where the Deployment should be, and a 3 MB file where a manifest goes: generate neither
    blocks nor reads them whole; the big file differs from the manifest, so it is not overwritten."""
    import os

    deployment = repo / "apps/base/nginx/deployment.yaml"
    deployment.unlink()
    os.mkfifo(deployment)
    (repo / OUT).mkdir(parents=True)
    big = repo / OUT / "image-policy.yaml"
    big.write_bytes(b"#" * (3 * 1024 * 1024))
    refused = run_lab("generate", env=lab_env, cwd=repo, timeout=30)
    assert refused.returncode != 0
    assert (
        "would overwrite 1 file(s) that differ from the generated ones: clusters/dev/image-automation/image-policy.yaml"
        in refused.stderr
    )
    big.unlink()
    written = run_lab("generate", env=lab_env, cwd=repo, timeout=30)
    assert written.returncode == 0, written.stderr
    assert "mark your Deployment" not in written.stdout  # the FIFO is not read as the Deployment
    assert (
        'next: end each image field Flux should move with # {"$imagepolicy": "flux-system:nginx'
        in written.stdout
    )


def test_add_puts_one_more_image_next_to_the_learners_objects(repo: Path, lab_env: dict[str, str]) -> None:
    assert run_lab("generate", env=lab_env, cwd=repo).returncode == 0
    policy = repo / OUT / "image-policy.yaml"
    mine = policy.read_text().replace("range: 1.25.x", "range: 1.25.x  # as the course says")
    policy.write_text(mine)
    web = ("--name", "web", "--image", "ghcr.io/acme/web", "--semver", "2.x")

    added = run_lab("generate", "--add", *web, env=lab_env, cwd=repo)
    assert added.returncode == 0, added.stderr
    assert f"added       {OUT / 'image-repository.yaml'}" in added.stdout
    assert f"unchanged   {OUT / 'image-update.yaml'}" in added.stdout
    assert policy.read_text().startswith(mine), "the learner's file is kept as it was, comment included"
    docs = load_all(policy.read_text(), "image-policy.yaml")
    assert [(d.data["metadata"]["name"], d.data["spec"]["policy"]["semver"]["range"]) for d in docs] == [
        ("nginx", "1.25.x"),
        ("web", "2.x"),
    ]
    assert not list((repo / ".git").glob("lab-backups")), "nothing was replaced, so nothing to back up"

    again = run_lab("generate", "--add", *web, "--semver", "3.x", env=lab_env, cwd=repo)
    assert again.returncode == 0, again.stderr
    assert "(it has ImagePolicy flux-system/web already, unlike these options: left as it is;" in again.stdout
    assert "(it has ImageRepository flux-system/web already: left as it is)" in again.stdout  # the same
    assert load_all(policy.read_text(), "f")[1].data["spec"]["policy"]["semver"]["range"] == "2.x"

    both = run_lab("generate", "--add", "--force", env=lab_env, cwd=repo)
    assert both.returncode == 2 and "not allowed with argument" in both.stderr
    printed = run_lab("generate", "--add", "--stdout", env=lab_env, cwd=repo)
    assert printed.returncode == 2 and "--stdout prints them alone" in printed.stderr

    policy.write_text("kind: ImagePolicy\nmetadata:\n  name: [nginx\n")
    repositories = (repo / OUT / "image-repository.yaml").read_text()
    broken = run_lab(
        "generate", "--add", "--name", "api", "--image", "ghcr.io/acme/api", env=lab_env, cwd=repo
    )
    assert broken.returncode == 1 and "Traceback" not in broken.stderr
    assert broken.stderr.startswith(f"lab: {OUT / 'image-policy.yaml'}:"), broken.stderr
    assert policy.read_text() == "kind: ImagePolicy\nmetadata:\n  name: [nginx\n"
    assert (repo / OUT / "image-repository.yaml").read_text() == repositories, "a refusal writes no file"


def test_options_given_win_over_the_tasks_form_even_when_they_equal_the_course_defaults(
    tmp_path: Path, lab_env: dict[str, str]
) -> None:
    """09b-staging's form says `shop` and a numerical policy: `--name nginx` (the course text's default)
    was taken for "not given" and became shop, and `--semver` lost to the task's numerical policy."""
    init = run_lab("init", "--task", "09b-staging", str(tmp_path / "ws"), env=lab_env, cwd=tmp_path)
    assert init.returncode == 0, init.stderr
    ws = tmp_path / "ws"

    def printed(*args: str) -> list[dict[str, object]]:
        result = run_lab("generate", "--stdout", *args, env=lab_env, cwd=ws)
        assert result.returncode == 0, result.stderr
        return [d.data for d in load_all(result.stdout, "stdout")]

    repository, policy, _ = printed()
    assert repository["metadata"] == {"name": "shop", "namespace": "flux-system"}
    assert policy["spec"]["policy"] == {"numerical": {"order": "asc"}}  # type: ignore[index]
    repository, policy, _ = printed("--name", "nginx", "--image", "library/nginx", "--semver", "1.25.x")
    assert repository["metadata"] == {"name": "nginx", "namespace": "flux-system"}
    assert repository["spec"]["image"] == "library/nginx"  # type: ignore[index]
    assert policy["spec"]["policy"] == {"semver": {"range": "1.25.x"}}  # type: ignore[index]


def test_digest_reflection_on_v1beta2_says_which_flux_has_it(repo: Path, lab_env: dict[str, str]) -> None:
    note = "digestReflectionPolicy: IfNotPresent needs Flux 2.6 or later"
    old = run_lab("generate", "--api", "v1beta2", "--reflect-digest", "IfNotPresent", env=lab_env, cwd=repo)
    assert old.returncode == 0 and note in old.stdout, old.stdout
    current = run_lab("generate", "--force", "--reflect-digest", "IfNotPresent", env=lab_env, cwd=repo)
    assert current.returncode == 0 and "needs Flux" not in current.stdout


def test_a_policy_kind_other_than_the_tasks_leaves_out_the_tasks_tag_filter(
    tmp_path: Path, lab_env: dict[str, str]
) -> None:
    """09b-staging's form filters main-<sha>-<ts> tags and extracts `$ts` for its numerical policy:
    `--semver '>=1.0.0'` kept that filter silently. Another kind drops it (and says so on one line,
    beside the YAML of --stdout); the task's own kind keeps it; a filter given is written."""
    ws = tmp_path / "ws"
    init = run_lab("init", "--task", "09b-staging", str(ws), env=lab_env, cwd=tmp_path)
    assert init.returncode == 0, init.stderr

    def policy_spec(*args: str) -> tuple[dict[str, object], str]:
        result = run_lab("generate", "--stdout", *args, env=lab_env, cwd=ws)
        assert result.returncode == 0, result.stderr
        spec = [d.data for d in load_all(result.stdout, "stdout")][1]["spec"]
        return spec, result.stderr

    spec, note = policy_spec("--semver", ">=1.0.0")
    assert "filterTags" not in spec and spec["policy"] == {"semver": {"range": ">=1.0.0"}}
    assert note.count("\n") == 1
    assert note.startswith(
        "--semver replaces the task's numerical policy and its tag filter (--filter-pattern "
    )
    assert "--filter-extract '$ts'): not written; give --filter-pattern/--filter-extract" in note
    spec, note = policy_spec("--numerical", "desc")
    assert spec["filterTags"] == {"pattern": "^main-[a-f0-9]+-(?P<ts>[0-9]+)$", "extract": "$ts"} and not note
    spec, note = policy_spec(
        "--alphabetical", "asc", "--filter-pattern", "^(?P<v>.*)$", "--filter-extract", "$v"
    )
    assert spec["filterTags"] == {"pattern": "^(?P<v>.*)$", "extract": "$v"} and not note
    assert policy_spec()[0]["filterTags"] == {"pattern": "^main-[a-f0-9]+-(?P<ts>[0-9]+)$", "extract": "$ts"}
    # A pattern of the learner's: the task's extract (`$ts`, a group of the task's pattern) gives way too.
    spec, note = policy_spec("--numerical", "asc", "--filter-pattern", r"^x-(?P<n>\d+)$")
    assert spec["filterTags"] == {"pattern": r"^x-(?P<n>\d+)$"} and not note


def test_an_extract_naming_no_group_is_refused_before_anything_is_written(
    repo: Path, lab_env: dict[str, str]
) -> None:
    result = run_lab(
        "generate", "--filter-pattern", "^(?P<v>[0-9.]+)$", "--filter-extract", "$nope", env=lab_env, cwd=repo
    )
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr == (
        "lab: --filter-extract uses $nope, but the pattern has no group named 'nope': Flux's API accepts "
        "it; every tag then extracts '' and the ImagePolicy fails: unable to determine latest version from "
        "provided list - hint: name the group in the pattern: (?P<nope>...), or extract $v\n"
    )
    assert not (repo / OUT).exists()


def test_help_states_no_default_a_task_may_replace(repo: Path, lab_env: dict[str, str]) -> None:
    """`lab generate --help` said "(default: nginx)" and "(default: 1.25.x)" on a task whose [generate]
    writes api and an alphabetical policy: each default a task's form can replace is said to be the task's."""
    result = run_lab("generate", "--help", env=lab_env, cwd=repo)
    assert result.returncode == 0
    text = " ".join(result.stdout.replace("flux- system", "flux-system").split())
    for said in (
        "--name NAME ImageRepository/ImagePolicy name (default: the task's, else nginx)",
        "--image IMAGE image to scan, without tag (default: the task's, else library/nginx)",
        "--semver RANGE semver range (default policy: the task's, else --semver 1.25.x)",
        "(default: the task's, else ./apps)",
    ):
        assert said in text, text
    assert "default: nginx" not in text and "default: 1.25.x" not in text
