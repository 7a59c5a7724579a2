"""`lab mark` end to end: the real executable in a temporary git repository made from the starter."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.labrun import run_lab
from tests.support.paths import ROOT

pytestmark = pytest.mark.slow

STARTER = ROOT / "tasks" / "09b" / "starter"
SEEDED = ROOT / "tests/fixtures/flux-cases/setters/01-seed-deployment/input/apps/base/nginx/deployment.yaml"
DEPLOYMENT = Path("apps/base/nginx/deployment.yaml")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = tmp_path / "gitops-lab"
    shutil.copytree(STARTER, path)
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=path, check=True)
    subprocess.run(["git", "add", "-A"], cwd=path, check=True)
    subprocess.run(["git", "commit", "-q", "-m", "starter"], cwd=path, check=True)
    return path


def test_mark_then_mark_again(repo: Path, lab_env: dict[str, str]) -> None:
    assert run_lab("generate", env=lab_env, cwd=repo).returncode == 0
    first = run_lab("mark", str(DEPLOYMENT), "--policy", "flux-system:nginx", env=lab_env, cwd=repo)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("marked apps/base/nginx/deployment.yaml:18 (container nginx): ")
    assert 'image: nginx:1.25.0 # {"$imagepolicy": "flux-system:nginx"}' in first.stdout
    assert (repo / DEPLOYMENT).read_bytes() == SEEDED.read_bytes()
    assert "warning" not in first.stdout
    diff = subprocess.run(["git", "diff", "--numstat"], cwd=repo, capture_output=True, text=True, check=True)
    assert diff.stdout.split() == ["1", "1", str(DEPLOYMENT)]
    stat = (repo / DEPLOYMENT).stat()
    second = run_lab("mark", str(DEPLOYMENT), "--policy", "flux-system:nginx", env=lab_env, cwd=repo)
    assert second.returncode == 0
    assert (
        second.stdout
        == "already marked apps/base/nginx/deployment.yaml:18 (container nginx); nothing changed\n"
    )
    assert (repo / DEPLOYMENT).stat().st_mtime_ns == stat.st_mtime_ns, "an unchanged file is not rewritten"


def test_a_file_of_another_repository_is_named_as_given(
    repo: Path, tmp_path: Path, lab_env: dict[str, str]
) -> None:
    here = tmp_path / "m1"
    here.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=here, check=True)
    other = f"../{repo.name}/{DEPLOYMENT}"
    result = run_lab("mark", other, "--policy", "flux-system:nginx", env=lab_env, cwd=here)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"marked {other}:18 (container nginx): ")
    assert 'flux-system:nginx"}' in (repo / DEPLOYMENT).read_text()


def test_slash_reference_is_refused_and_file_untouched(repo: Path, lab_env: dict[str, str]) -> None:
    before = (repo / DEPLOYMENT).read_bytes()
    result = run_lab("mark", str(DEPLOYMENT), "--policy", "flux-system/nginx", env=lab_env, cwd=repo)
    assert result.returncode == 1
    assert "use namespace:name" in result.stderr and result.stderr.count("\n") == 1
    assert (repo / DEPLOYMENT).read_bytes() == before


def test_relative_path_from_a_subdirectory_and_replacing_a_wrong_marker(
    repo: Path, lab_env: dict[str, str]
) -> None:
    path = repo / DEPLOYMENT
    path.write_text(
        path.read_text().replace("nginx:1.25.0", 'nginx:1.25.0 # {"$imagepolicy": "default:nginx"}')
    )
    result = run_lab("mark", "deployment.yaml", "--policy", "flux-system:nginx", env=lab_env, cwd=path.parent)
    assert result.returncode == 0, result.stderr
    assert 'replaced the comment that was there: # {"$imagepolicy": "default:nginx"}' in result.stdout
    assert path.read_bytes() == SEEDED.read_bytes()


def test_container_choice(repo: Path, lab_env: dict[str, str]) -> None:
    path = repo / DEPLOYMENT
    path.write_text(
        path.read_text().replace(
            "          ports:\n",
            "          ports:\n            - containerPort: 81\n"
            "        - name: proxy\n          image: envoyproxy/envoy:v1.30.0\n          ports:\n",
            1,
        )
    )
    ambiguous = run_lab("mark", str(DEPLOYMENT), "--policy", "flux-system:nginx", env=lab_env, cwd=repo)
    assert ambiguous.returncode == 1
    assert "nginx (line 18)" in ambiguous.stderr and "proxy (line 22)" in ambiguous.stderr
    assert "--container" in ambiguous.stderr
    chosen = run_lab(
        "mark",
        str(DEPLOYMENT),
        "--policy",
        "flux-system:envoy",
        "--container",
        "proxy",
        env=lab_env,
        cwd=repo,
    )
    assert chosen.returncode == 0 and ":22 (container proxy)" in chosen.stdout
    assert 'image: envoyproxy/envoy:v1.30.0 # {"$imagepolicy": "flux-system:envoy"}\n' in path.read_text()


def test_files_outside_or_symlinked_or_missing(repo: Path, tmp_path: Path, lab_env: dict[str, str]) -> None:
    outside = tmp_path / "outside.yaml"
    outside.write_text((repo / DEPLOYMENT).read_text())
    result = run_lab(
        "mark", str(outside), "--policy", "flux-system:nginx", "--workspace", str(repo), env=lab_env, cwd=repo
    )
    assert result.returncode == 1 and "outside the workspace" in result.stderr
    link = repo / "apps" / "link.yaml"
    link.symlink_to(outside)
    linked = run_lab("mark", "apps/link.yaml", "--policy", "flux-system:nginx", env=lab_env, cwd=repo)
    assert linked.returncode == 1 and "symlink" in linked.stderr
    assert outside.read_text() == (repo / DEPLOYMENT).read_text()
    missing = run_lab("mark", "apps/nope.yaml", "--policy", "flux-system:nginx", env=lab_env, cwd=repo)
    assert missing.returncode == 1 and "no such file" in missing.stderr


def test_broken_yaml_is_one_line(repo: Path, lab_env: dict[str, str]) -> None:
    (repo / "apps" / "bad.yaml").write_text("spec:\n  containers:\n    - name: a\n      image: x: y\n")
    result = run_lab("mark", "apps/bad.yaml", "--policy", "flux-system:nginx", env=lab_env, cwd=repo)
    assert result.returncode == 1 and result.stderr.startswith("lab: apps/bad.yaml:4: invalid YAML")
    assert result.stderr.count("\n") == 1


def test_markers_flux_would_ignore_are_warned_about(repo: Path, lab_env: dict[str, str]) -> None:
    alone = run_lab("mark", str(DEPLOYMENT), "--policy", "flux-system:nginx", env=lab_env, cwd=repo)
    assert alone.returncode == 0 and "warning: no ImagePolicy in this repository yet" in alone.stdout
    assert run_lab("generate", "--update-path", "./apps/dev", env=lab_env, cwd=repo).returncode == 0
    typo = run_lab("mark", str(DEPLOYMENT), "--policy", "flux-system:ngnix", env=lab_env, cwd=repo)
    assert typo.returncode == 0
    assert (
        "warning: no ImagePolicy flux-system:ngnix in this repository (found: flux-system:nginx)"
        in typo.stdout
    )
    assert "outside update.path (./apps/dev)" in typo.stdout
    other_ns = run_lab("mark", str(DEPLOYMENT), "--policy", "default:nginx", env=lab_env, cwd=repo)
    assert "the ImageUpdateAutomation is in flux-system, not default" in other_ns.stdout


def test_service_prefers_the_workspace_file_over_a_same_named_file_elsewhere(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lab.services.mark import mark_file

    other = tmp_path / "other"
    (other / DEPLOYMENT).parent.mkdir(parents=True)
    (other / DEPLOYMENT).write_text((repo / DEPLOYMENT).read_text())
    monkeypatch.chdir(other)
    done = mark_file(repo, DEPLOYMENT, "flux-system:nginx")
    assert done.display == DEPLOYMENT.as_posix() and done.result.changed
    assert (repo / DEPLOYMENT).read_bytes() == SEEDED.read_bytes()
    assert "$imagepolicy" not in (other / DEPLOYMENT).read_text()


@pytest.mark.parametrize("brk", ["\u0085", "\u2028", "\u2029"])
def test_yaml_line_breaks_beyond_newline(repo: Path, lab_env: dict[str, str], brk: str) -> None:
    # The YAML reader counts NEL/LS/PS as line breaks (as go-yaml does); the marker must land on the
    # image line all the same, and the report must quote that line, not crash on a short line list.
    path = repo / DEPLOYMENT
    text = path.read_text().replace(
        "  namespace: default\n", f'  namespace: default\n  annotations: {{a: "x{brk}y"}}\n'
    )
    path.write_text(text, encoding="utf-8")
    result = run_lab("mark", str(DEPLOYMENT), "--policy", "flux-system:nginx", env=lab_env, cwd=repo)
    assert result.returncode == 0, result.stderr
    assert 'image: nginx:1.25.0 # {"$imagepolicy": "flux-system:nginx"}' in result.stdout
    marked = path.read_text(encoding="utf-8")
    assert marked == text.replace(
        "image: nginx:1.25.0\n", 'image: nginx:1.25.0 # {"$imagepolicy": "flux-system:nginx"}\n'
    )


def test_of_several_containers_the_policys_image_decides(tmp_path: Path, lab_env: dict[str, str]) -> None:
    """09b-multi's Deployment runs three containers; the policy flux-system:shop reads the repository
    ghcr.io/acme/shop, so `lab mark --policy flux-system:shop` marks the shop container, no --container."""
    repo = tmp_path / "multi"
    assert run_lab("init", str(repo), "--task", "09b-multi", env=lab_env).returncode == 0
    assert run_lab("generate", "--force", env=lab_env, cwd=repo).returncode == 0
    marked = run_lab(
        "mark", "apps/base/shop/deployment.yaml", "--policy", "flux-system:shop", env=lab_env, cwd=repo
    )
    assert marked.returncode == 0, marked.stderr
    assert "(container shop)" in marked.stdout
    text = (repo / "apps/base/shop/deployment.yaml").read_text()
    assert 'image: ghcr.io/acme/shop:1.4.0 # {"$imagepolicy": "flux-system:shop"}' in text
    assert text.count('"$imagepolicy"') == 1


def test_a_tag_marker_on_a_kustomize_override_from_a_task_that_marks_one(
    tmp_path: Path, lab_env: dict[str, str]
) -> None:
    """A task whose file to mark is a kustomize images override (09b-guard's, unmarked, on
    LAB_TASKS_PATH): `lab generate` names the `lab mark ... :tag` command, which marks newTag; the full
    marker there is refused naming that command."""
    from tests.support.taskfiles import copy_task, edited

    folder = copy_task(tmp_path / "authors", "10-tagged", task="09b-guard")
    override = folder / "starter/apps/production/kustomization.yaml"
    override.write_text(edited(override.read_text(), ' # {"$imagepolicy": "flux-system:shop-prod:tag"}', ""))
    env = {**lab_env, "LAB_TASKS_PATH": str(tmp_path / "authors")}
    ws = tmp_path / "ws"
    assert run_lab("init", str(ws), "--task", "10-tagged", env=env, cwd=tmp_path).returncode == 0
    generated = run_lab("generate", "--force", env=env, cwd=ws)  # its starter has the three files
    rel = "apps/production/kustomization.yaml"
    assert generated.stdout.splitlines()[-1] == (
        f"next: mark the tag Flux should move: lab mark {rel} --policy flux-system:shop:tag"
    ), generated.stdout
    full = run_lab("mark", rel, "--policy", "flux-system:shop", env=env, cwd=ws)
    assert full.returncode == 1 and full.stderr.count("\n") == 1
    assert f"hint: mark the tag: lab mark {rel} --policy flux-system:shop:tag" in full.stderr
    marked = run_lab("mark", rel, "--policy", "flux-system:shop:tag", env=env, cwd=ws)
    assert marked.returncode == 0, marked.stderr
    assert marked.stdout.splitlines()[0] == (
        f'marked {rel}:9 (images[ghcr.io/acme/shop].newTag): newTag: 1.4.1 # {{"$imagepolicy": "flux-system:shop:tag"}}'
    )
    assert (ws / rel).read_text() == edited(
        (folder / "starter" / rel).read_text(),
        "newTag: 1.4.1",
        'newTag: 1.4.1 # {"$imagepolicy": "flux-system:shop:tag"}',
    )


def test_a_marker_on_its_own_line_is_moved_not_doubled(repo: Path, lab_env: dict[str, str]) -> None:
    """`lab mark` after a marker written on the line below `image:` left both: 'markers on lines 18, 19'."""
    from tests.support.taskfiles import own_line_marker

    assert run_lab("generate", env=lab_env, cwd=repo).returncode == 0
    text, _ = own_line_marker("after")
    (repo / DEPLOYMENT).write_text(text, encoding="utf-8")
    done = run_lab("mark", str(DEPLOYMENT), "--policy", "flux-system:nginx", env=lab_env, cwd=repo)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[:2] == [
        'marked apps/base/nginx/deployment.yaml:18 (container nginx): image: nginx:1.25.0 # {"$imagepolicy": '
        '"flux-system:nginx"}',
        "moved the marker from line 19: on a line of its own Flux ignores it, it reads the marker at the end "
        "of the image line",
    ]
    assert (repo / DEPLOYMENT).read_bytes() == SEEDED.read_bytes()


def test_a_marker_on_the_container_name_line_is_moved_and_said(repo: Path, lab_env: dict[str, str]) -> None:
    """A marker at the end of `- name: nginx` stayed after `lab mark`: 'markers on lines 17, 18'."""
    from tests.support.taskfiles import edited

    assert run_lab("generate", env=lab_env, cwd=repo).returncode == 0
    path = repo / DEPLOYMENT
    path.write_text(
        edited(path.read_text(), "- name: nginx\n", '- name: nginx # {"$imagepolicy": "flux-system:nginx"}\n')
    )
    done = run_lab("mark", str(DEPLOYMENT), "--policy", "flux-system:nginx", env=lab_env, cwd=repo)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[1] == (
        "moved the marker from the end of line 17: that line holds no image, and Flux would write the image "
        "into its value"
    )
    assert path.read_bytes() == SEEDED.read_bytes()


def test_container_with_a_part_marker_is_refused(repo: Path, lab_env: dict[str, str]) -> None:
    """--container was ignored silently for ns:name:tag: the newTag was marked, exit 0."""
    kustomization = repo / "apps" / "kustomization.yaml"
    kustomization.write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n"
        "  - base/nginx/deployment.yaml\nimages:\n  - name: nginx\n    newTag: 1.25.0\n"
    )
    before = kustomization.read_bytes()
    args = ("mark", "apps/kustomization.yaml", "--policy", "flux-system:nginx:tag", "--container", "nosuch")
    result = run_lab(*args, env=lab_env, cwd=repo)
    assert result.returncode == 1 and result.stderr.count("\n") == 1, result.stderr
    assert (
        "--container picks a container's image: line; a :tag marker goes on a field, chosen by the "
        "policy's image" in result.stderr
    )
    assert "hint: drop --container" in result.stderr
    assert kustomization.read_bytes() == before
