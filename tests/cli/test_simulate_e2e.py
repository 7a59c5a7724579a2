"""The seed's step 7 end to end with the real `lab` executable: init -> solve -> simulate."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.support.gitutil import git
from tests.support.labrun import run_lab
from tests.support.paths import ROOT
from tests.support.practice_copy import copy_practice, practice_template
from tests.support.taskfiles import edited

pytestmark = pytest.mark.slow

TAGS = ROOT / "tasks" / "09b" / "registry" / "nginx-tags-2024-01-15.txt"
SEED_MESSAGE = "Automated image update\n\n\n- nginx:1.25.0 -> library/nginx:1.25.3\n\n"


@pytest.fixture(scope="module")
def solved_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`lab init` + `lab solve`, run once per module (per xdist worker): the tests below are about simulate."""
    return practice_template(tmp_path_factory, "ws", "solve")


@pytest.fixture
def solved(tmp_path: Path, solved_template: Path) -> Path:
    return copy_practice(solved_template, tmp_path / "ws")


@pytest.fixture
def starter(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`lab init`'s repository (made once per process), copied: for tests about what comes after."""
    return copy_practice(practice_template(tmp_path_factory, "ws"), tmp_path / "ws")


def origin_log(ws: Path) -> list[str]:
    origin = git(ws, "config", "--get", "remote.origin.url").strip()
    return git(Path(origin), "log", "--format=%an <%ae>|%cn <%ce>|%s", "main").splitlines()


def test_simulate_commits_like_flux(solved: Path, lab_env: dict[str, str]) -> None:
    proc = run_lab("simulate", "-w", str(solved), "--tags-file", str(TAGS), env=lab_env, ok=True)
    assert "Latest image tag for library/nginx resolved to 1.25.3" in proc.stdout
    assert '+          image: library/nginx:1.25.3 # {"$imagepolicy": "flux-system:nginx"}' in proc.stdout
    log = origin_log(solved)
    assert log[0] == "Flux <flux@gitops-lab.local>|Flux <flux@gitops-lab.local>|Automated image update"
    origin = Path(git(solved, "config", "--get", "remote.origin.url").strip())
    raw = subprocess.run(
        ["git", "cat-file", "commit", "main"], cwd=origin, capture_output=True, text=True, check=True
    ).stdout
    assert raw.split("\n\n", 1)[1] == SEED_MESSAGE  # verbatim, as go-git writes it
    deployment = git(origin, "show", "main:apps/base/nginx/deployment.yaml")
    assert 'image: library/nginx:1.25.3 # {"$imagepolicy": "flux-system:nginx"}' in deployment
    # The learner's working copy is not touched: Flux works in its own clone.
    assert "nginx:1.25.0" in (solved / "apps/base/nginx/deployment.yaml").read_text()
    # A second reconcile finds nothing to do and makes no commit.
    again = run_lab("simulate", "-w", str(solved), "--tags-file", str(TAGS), env=lab_env, ok=True)
    assert "repository up-to-date" in again.stdout
    assert len(origin_log(solved)) == len(log)


def test_simulate_json_and_dry_run(solved: Path, lab_env: dict[str, str]) -> None:
    before = origin_log(solved)
    proc = run_lab(
        "simulate", "-w", str(solved), "--tags-file", str(TAGS), "--dry-run", "--json", env=lab_env, ok=True
    )
    data = json.loads(proc.stdout)
    assert data[0]["commit"] is None and data[0]["pushed"] is False
    assert data[0]["message"] == SEED_MESSAGE
    assert data[0]["changes"] == [
        {
            "file": "base/nginx/deployment.yaml",
            "object": {
                "api_version": "apps/v1",
                "kind": "Deployment",
                "name": "nginx",
                "namespace": "default",
            },
            "setter": "flux-system:nginx",
            "old": "nginx:1.25.0",
            "new": "library/nginx:1.25.3",
        }
    ]
    assert origin_log(solved) == before


def test_simulate_json_names_the_refspecs_it_pushed(solved: Path, lab_env: dict[str, str]) -> None:
    """The human output says "pushed commit ... and refspecs '...'": --json said nothing of them."""
    update = solved / "clusters/dev/image-automation/image-update.yaml"
    push = "    push:\n      branch: flux-updates\n      refspec: refs/heads/flux-updates:refs/heads/main\n"
    update.write_text(edited(update.read_text(), "    push:\n      branch: main\n", push))
    git(solved, "commit", "-qam", "push with a refspec")
    git(solved, "push", "-q", "origin", "main")
    proc = run_lab("simulate", "-w", str(solved), "--tags-file", str(TAGS), "--json", env=lab_env, ok=True)
    (result,) = json.loads(proc.stdout)
    assert result["pushed"] is True and result["branch"] == "flux-updates", result
    assert result["refspecs"] == ["refs/heads/flux-updates:refs/heads/main"], result


def test_a_checkout_ref_pinning_a_tag_starts_the_push_branch_from_that_tag(
    solved: Path, lab_env: dict[str, str]
) -> None:
    """image-automation-controller clones spec.git.checkout.ref (a tag) and switches to a push branch
    the remote lacks from there: simulate cloned the GitRepository's branch, whose head was a later
    commit, and Flux's commit carried it along."""
    update = solved / "clusters/dev/image-automation/image-update.yaml"
    text = edited(update.read_text(), "        branch: main\n", "        tag: v1\n")
    update.write_text(
        edited(text, "    push:\n      branch: main\n", "    push:\n      branch: flux-updates\n")
    )
    git(solved, "commit", "-qam", "check out the tag v1")
    git(solved, "tag", "v1")
    (solved / "notes.txt").write_text("after the tag\n")
    git(solved, "add", "notes.txt")
    git(solved, "commit", "-qm", "a commit after the tag")
    git(solved, "push", "-q", "origin", "main", "v1")
    proc = run_lab("simulate", "-w", str(solved), "--tags-file", str(TAGS), "--json", env=lab_env, ok=True)
    (result,) = json.loads(proc.stdout)
    assert result["pushed"] is True and result["branch"] == "flux-updates", result
    origin = Path(git(solved, "config", "--get", "remote.origin.url"))
    assert git(origin, "rev-parse", "flux-updates^") == git(solved, "rev-parse", "v1^{commit}")
    assert git(origin, "log", "-1", "--format=%an", "flux-updates") == "Flux"


def test_simulate_reads_origin_not_the_working_tree(starter: Path, lab_env: dict[str, str]) -> None:
    ws = starter
    run_lab("solve", str(ws), "--no-push", env=lab_env, ok=True)
    proc = run_lab("simulate", "-w", str(ws), "--tags-file", str(TAGS), env=lab_env, ok=False)
    assert proc.returncode == 1
    assert "origin/main has no ImageUpdateAutomation" in proc.stderr
    assert "git push" in proc.stderr


def test_simulate_with_a_range_matching_nothing_commits_nothing(
    solved: Path, lab_env: dict[str, str]
) -> None:
    policy = solved / "clusters/dev/image-automation/image-policy.yaml"
    policy.write_text(policy.read_text().replace("1.25.x", "1.99.x"))
    git(solved, "commit", "-qam", "narrow the range")
    git(solved, "push", "-q")
    before = origin_log(solved)
    proc = run_lab("simulate", "-w", str(solved), "--tags-file", str(TAGS), env=lab_env, ok=True)
    assert (
        "✗ ImagePolicy flux-system/nginx: unable to determine latest version from provided list"
        in proc.stdout
    )
    assert origin_log(solved) == before


def test_simulate_push_rejected_leaves_everything_intact(solved: Path, lab_env: dict[str, str]) -> None:
    origin = Path(git(solved, "config", "--get", "remote.origin.url").strip())
    hook = origin / "hooks" / "pre-receive"
    hook.parent.mkdir(exist_ok=True)
    hook.write_text("#!/bin/sh\necho 'protected branch hook declined' >&2\nexit 1\n")
    hook.chmod(0o755)
    before = origin_log(solved)
    proc = run_lab("simulate", "-w", str(solved), "--tags-file", str(TAGS), env=lab_env, ok=False)
    assert proc.returncode == 1
    assert "protected branch hook declined" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert origin_log(solved) == before


def test_simulate_missing_tags_file_is_one_line(
    solved: Path, lab_env: dict[str, str], tmp_path: Path
) -> None:
    proc = run_lab(
        "simulate", "-w", str(solved), "--tags-file", str(tmp_path / "nope"), env=lab_env, ok=False
    )
    assert proc.returncode == 1 and "tags file" in proc.stderr and "not found" in proc.stderr


def test_solve_refuses_to_overwrite_uncommitted_work(starter: Path, lab_env: dict[str, str]) -> None:
    ws = starter
    deployment = ws / "apps/base/nginx/deployment.yaml"
    deployment.write_text(deployment.read_text() + "# my note\n")
    proc = run_lab("solve", str(ws), env=lab_env, ok=False)
    assert proc.returncode == 1
    assert "apps/base/nginx/deployment.yaml" in proc.stderr
    assert deployment.read_text().endswith("# my note\n")


def test_simulate_scans_the_registry_the_repository_names(solved: Path, lab_env: dict[str, str]) -> None:
    from lab.sandbox.registry import EmbeddedRegistry

    with EmbeddedRegistry() as registry:
        host = registry.start()
        repo_file = solved / "clusters/dev/image-automation/image-repository.yaml"
        repo_file.write_text(
            repo_file.read_text().replace("image: library/nginx", f"image: {host}/library/nginx")
        )
        git(solved, "commit", "-qam", "scan the loopback registry")
        git(solved, "push", "-q")
        proc = run_lab("simulate", "-w", str(solved), env=lab_env, ok=True)
        assert f"Latest image tag for {host}/library/nginx resolved to 1.25.3" in proc.stdout
        assert f"- nginx:1.25.0 -> {host}/library/nginx:1.25.3" in proc.stdout


def test_simulate_through_a_docker_hub_mirror_sees_pushed_tags(solved: Path, lab_env: dict[str, str]) -> None:
    from lab.sandbox.registry import EmbeddedRegistry

    with EmbeddedRegistry() as registry:
        host = registry.start()
        env = {**lab_env, "LAB_REGISTRY_MIRROR": f"docker.io={host}"}
        first = run_lab("simulate", "-w", str(solved), env=env, ok=True)
        assert "- nginx:1.25.0 -> library/nginx:1.25.3" in first.stdout
        registry.push_tag("library/nginx", "1.25.4")
        second = run_lab("simulate", "-w", str(solved), env=env, ok=True)
        assert "- library/nginx:1.25.3 -> library/nginx:1.25.4" in second.stdout
    subjects = [line.split("|")[2] for line in origin_log(solved)[:3]]
    assert subjects == ["Automated image update", "Automated image update", "Add image automation"]


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (
            "apiVersion: image.toolkit.fluxcd.io/v1\nkind: ImagePolicy\nmetadata: {name: [\n",
            "image-policy.yaml",
        ),
        (
            'a: &a ["x","x","x","x","x","x","x","x","x"]\n'
            + "".join(
                f"{c}: &{c} [*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p}]\n"
                for p, c in zip("abcdefgh", "bcdefghi", strict=True)
            ),
            "image-policy.yaml",
        ),
    ],
    ids=["malformed", "alias-bomb"],
)
def test_simulate_refuses_broken_yaml_on_origin(
    solved: Path, lab_env: dict[str, str], content: str, words: str
) -> None:
    (solved / "clusters/dev/image-automation/image-policy.yaml").write_text(content)
    git(solved, "commit", "-qam", "break it")
    git(solved, "push", "-q")
    before = origin_log(solved)
    proc = run_lab("simulate", "-w", str(solved), "--tags-file", str(TAGS), env=lab_env, ok=False)
    assert proc.returncode == 1
    assert words in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert origin_log(solved) == before


@pytest.mark.parametrize(
    ("how", "words"),
    [
        ("latin-1", "image-policy.yaml: not UTF-8 text on origin/main (byte "),
        (
            "symlink",
            "image-policy.yaml: a symlink on origin/main (to policy.real.yaml): the lab does not follow",
        ),
    ],
)
def test_simulate_names_a_policy_file_it_cannot_read(
    solved: Path, lab_env: dict[str, str], how: str, words: str
) -> None:
    """Both ran as if the ImagePolicy did not exist: 'repository up-to-date', exit 0."""
    policy = solved / "clusters/dev/image-automation/image-policy.yaml"
    if how == "symlink":
        policy.rename(policy.with_name("policy.real.yaml"))
        policy.symlink_to("policy.real.yaml")
    else:
        policy.write_bytes(
            policy.read_text().replace("metadata:", "# caf\u00e9\nmetadata:").encode("latin-1")
        )
    git(solved, "add", "-A")
    git(solved, "commit", "-qm", "an unreadable policy")
    git(solved, "push", "-q")
    before = origin_log(solved)
    proc = run_lab("simulate", "-w", str(solved), "--tags-file", str(TAGS), env=lab_env, ok=False)
    assert proc.returncode == 1 and words in proc.stderr, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and origin_log(solved) == before


def test_simulate_outside_git_is_one_line(tmp_path: Path, lab_env: dict[str, str]) -> None:
    proc = run_lab("simulate", "-w", str(tmp_path), "--tags-file", str(TAGS), env=lab_env, ok=False)
    assert proc.returncode in (1, 2) and "lab init" in proc.stderr


def test_simulate_when_update_path_is_missing(solved: Path, lab_env: dict[str, str]) -> None:
    update = solved / "clusters/dev/image-automation/image-update.yaml"
    update.write_text(update.read_text().replace("path: ./apps", "path: ./applications"))
    git(solved, "commit", "-qam", "wrong path")
    git(solved, "push", "-q")
    proc = run_lab("simulate", "-w", str(solved), "--tags-file", str(TAGS), env=lab_env, ok=False)
    assert proc.returncode == 1
    assert "failed to apply policies: walking path for files: lstat" in proc.stderr


def test_simulate_refuses_a_tag_over_4300_digits(solved: Path, lab_env: dict[str, str]) -> None:
    tags = solved.parent / "huge-tags.txt"
    tags.write_text(TAGS.read_text() + "1" * 5000 + ".0.0\n1.25.1-" + "9" * 5000 + "\n")
    # No registry serves a tag over 128 characters: the file is refused up front, naming the line.
    proc = run_lab("simulate", "-w", str(solved), "--tags-file", str(tags), "--dry-run", env=lab_env)
    assert proc.returncode == 2, proc.stderr
    assert f'{tags}:{len(TAGS.read_text().splitlines()) + 1}: "{"1" * 60}' in proc.stderr, proc.stderr


def test_one_failing_automation_does_not_hide_anothers_push(solved: Path, lab_env: dict[str, str]) -> None:
    update = solved / "clusters/dev/image-automation/image-update.yaml"
    text = update.read_text()
    second = text.replace("name: flux-system\n", "name: broken\n", 1).replace(
        "path: ./apps", "path: ./nowhere"
    )
    assert second != text
    update.write_text(text + "---\n" + second)
    git(solved, "commit", "-qam", "a second automation with a missing path")
    git(solved, "push", "-q")
    proc = run_lab("simulate", "-w", str(solved), "--tags-file", str(TAGS), env=lab_env, ok=False)
    assert proc.returncode == 1
    assert "pushed commit '" in proc.stdout
    assert "ImageUpdateAutomation flux-system/broken\n  ✗ failed: " in proc.stdout
    assert "lstat" in proc.stdout
    assert proc.stderr.startswith("lab: 1 of 2 ImageUpdateAutomations failed; pushed anyway: flux-system/")
    assert origin_log(solved)[0].startswith("Flux <flux@gitops-lab.local>|")


def test_simulate_says_when_the_automation_is_only_in_the_working_tree(
    starter: Path, lab_env: dict[str, str]
) -> None:
    """Written but not committed: the error says so. The file is read only as far as its first MiB,
    so a 3 MB one with the automation at the top is still recognised."""
    ws = starter
    run_lab("generate", env=lab_env, cwd=ws, ok=True)
    update = ws / "clusters/dev/image-automation/image-update.yaml"
    update.write_text(update.read_text() + "#" * (3 * 1024 * 1024) + "\n")
    proc = run_lab("simulate", "-w", str(ws), "--tags-file", str(TAGS), env=lab_env)
    assert proc.returncode == 1
    assert (
        "origin/main has no ImageUpdateAutomation (it exists locally but is not committed and pushed)"
        in proc.stderr
    )


def test_simulate_says_only_the_push_is_left_when_the_automation_is_committed(
    starter: Path, lab_env: dict[str, str]
) -> None:
    ws = starter
    run_lab("generate", env=lab_env, cwd=ws, ok=True)
    git(ws, "add", "-A")
    git(ws, "commit", "-qm", "Add image automation")
    proc = run_lab("simulate", "-w", str(ws), "--tags-file", str(TAGS), env=lab_env)
    assert proc.returncode == 1
    assert "(it is committed but not pushed) - hint: git push (in the app: p)" in proc.stderr
    assert "lab generate" not in proc.stderr


def test_simulate_does_not_push_a_downgrade_only_a_stale_snapshot_chose(
    solved: Path, lab_env: dict[str, str]
) -> None:
    """Origin has library/nginx:1.25.4 (a tag newer than the lab's snapshot); the registry cannot be
    reached, so the tags are the snapshot's, whose newest is 1.25.3: that is the snapshot's age, not the
    policy's choice, and pushing it would fight the real Flux. Refused in one line; --allow-downgrade
    pushes it."""
    from tests.support.registry_fixtures import free_port

    deploy = solved / "apps/base/nginx/deployment.yaml"
    deploy.write_text(deploy.read_text().replace("image: nginx:1.25.0", "image: library/nginx:1.25.4"))
    git(solved, "commit", "-qam", "Flux's last update")
    git(solved, "push", "-q")
    env = {**lab_env, "LAB_REGISTRY_MIRROR": f"docker.io=127.0.0.1:{free_port()}"}
    env.pop("LAB_SANDBOX_WORKSPACE", None)
    before = origin_log(solved)
    dry = run_lab("simulate", "-w", str(solved), "--dry-run", env=env, ok=True)
    assert "- library/nginx:1.25.4 -> library/nginx:1.25.3" in dry.stdout
    assert "would not push it (--tags-file F with current tags, or --allow-downgrade)" in dry.stdout
    proc = run_lab("simulate", "-w", str(solved), env=env)
    assert proc.returncode == 1
    assert proc.stderr.startswith(
        "lab: not pushing library/nginx:1.25.4 -> library/nginx:1.25.3: an older tag"
    )
    assert "--allow-downgrade" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert origin_log(solved) == before
    forced = run_lab("simulate", "-w", str(solved), "--allow-downgrade", env=env, ok=True)
    assert "pushed commit" in forced.stdout
    assert len(origin_log(solved)) == len(before) + 1


def _checks(ws: Path, env: dict[str, str], *extra: str) -> dict[str, dict[str, object]]:
    proc = run_lab("check", "-w", str(ws), "--offline", "--format", "json", *extra, env=env)
    return {c["id"]: c for c in json.loads(proc.stdout)["checks"]}


def test_a_marker_naming_no_policy_beside_a_good_one_fails_saying_what_flux_does(
    solved: Path, lab_env: dict[str, str]
) -> None:
    """Flux's setters skip a marker naming a policy it does not have and set the others: the field the
    typo sits on never moves, so marker.valid fails as a lone typo does (it passed, "advisory", under a
    title saying every marker names an existing policy), and says that Flux still commits the others,
    never a false 'no commit'."""
    deploy = (solved / "apps/base/nginx/deployment.yaml").read_text()
    stray = deploy.replace("name: nginx\n", "name: nginx2\n").replace(
        "flux-system:nginx", "flux-system:nosuch"
    )
    (solved / "apps/base/nginx/stray.yaml").write_text(stray)
    git(solved, "add", "-A")
    git(solved, "commit", "-qm", "A second Deployment")
    git(solved, "push", "-q", "origin", "main")
    proc = run_lab("simulate", "-w", str(solved), "--tags-file", str(TAGS), env=lab_env, ok=True)
    assert "- nginx:1.25.0 -> library/nginx:1.25.3" in proc.stdout
    git(solved, "pull", "-q", "--rebase")
    checks = _checks(solved, lab_env)
    marker = checks["marker.valid"]
    assert marker["status"] == "fail", marker
    assert str(marker["message"]).startswith(
        "marker in apps/base/nginx/stray.yaml:18 names flux-system:nosuch, but no such ImagePolicy exists"
    ), marker
    assert "Flux skips it in silence, sets the other markers" in str(marker["message"])
    said = " ".join(str(e["text"]) for e in marker["evidence"])  # type: ignore[attr-defined]
    assert "still commits the value of the marker at apps/base/nginx/deployment.yaml:18" in said
    assert "no commit" not in said and "no commit" not in str(marker["message"])
    assert checks["git.flux-commit"]["blocked_by"] == "marker.valid", checks["git.flux-commit"]


def test_a_hand_made_commit_authored_flux_is_not_flux_s_commit(solved: Path, lab_env: dict[str, str]) -> None:
    """Flux writes what the policies select and its messageTemplate rendered: a commit by hand under
    Flux's name passed git.flux-commit (6/6), whatever tag and message it carried."""
    deploy = solved / "apps/base/nginx/deployment.yaml"
    deploy.write_text(deploy.read_text().replace("nginx:1.25.0", "nginx:9.9.9"))
    flux = {"GIT_AUTHOR_NAME": "Flux", "GIT_AUTHOR_EMAIL": "flux@gitops-lab.local"}
    git(solved, "commit", "-qam", "whatever", env=flux)
    git(solved, "push", "-q", "origin", "main")
    for extra in ((), ("--tags-file", str(TAGS))):
        row = _checks(solved, lab_env, *extra)["git.flux-commit"]
        assert row["status"] == "fail", row
        # Where the tags came from ends the message (cut, as every check message, at its length cap).
        source = f"tags file {TAGS.name}" if extra else "the tags bundled with task 09b (nginx-tags-"
        assert (
            "('whatever') is not the commit Flux writes: apps/base/nginx/deployment.yaml:18 reads "
            "'image: nginx:9.9.9', where Flux writes 'image: library/nginx:1.25.3': flux-system:nginx "
            f"selects library/nginx:1.25.3, from {source}"
        ) in str(row["message"]), row
        assert "lab simulate" in str(row["hint"])
    # The right value with a message of one's own is still not Flux's commit.
    git(solved, "revert", "--no-edit", "HEAD")
    deploy.write_text(deploy.read_text().replace("nginx:1.25.0", "library/nginx:1.25.3"))
    git(solved, "commit", "-qam", "whatever", env=flux)
    git(solved, "push", "-q", "origin", "main")
    row = _checks(solved, lab_env)["git.flux-commit"]
    assert row["status"] == "fail" and "its message is not the automation's messageTemplate" in str(
        row["message"]
    ), row
    # Flux's own commit passes, and says what was compared.
    git(solved, "revert", "--no-edit", "HEAD")
    git(solved, "push", "-q", "origin", "main")
    run_lab("simulate", "-w", str(solved), "--tags-file", str(TAGS), env=lab_env, ok=True)
    row = _checks(solved, lab_env)["git.flux-commit"]
    assert row["status"] == "pass", row
    compared = [e["text"] for e in row["evidence"] if e["ref"] == "compared with Flux"]  # type: ignore[attr-defined]
    assert compared == [
        "values match the policies (flux-system:nginx selects library/nginx:1.25.3, from the tags bundled "
        "with task 09b (nginx-tags-2024-01-15.txt, a 2024-01-15 snapshot)) and the message its messageTemplate"
    ], row


def test_a_hand_made_commit_after_flux_s_own_is_judged_not_the_one_before(
    solved: Path, lab_env: dict[str, str]
) -> None:
    """One real Flux commit was enough: a commit by hand under Flux's name on top of it passed. The
    latest commit that wrote the marked lines is judged; once it is reverted, Flux's before it is."""
    run_lab("simulate", "-w", str(solved), "--tags-file", str(TAGS), env=lab_env, ok=True)
    git(solved, "pull", "-q", "--rebase")
    assert _checks(solved, lab_env)["git.flux-commit"]["status"] == "pass"
    deploy = solved / "apps/base/nginx/deployment.yaml"
    deploy.write_text(deploy.read_text().replace("library/nginx:1.25.3", "library/nginx:9.9.9"))
    flux = {"GIT_AUTHOR_NAME": "Flux", "GIT_AUTHOR_EMAIL": "flux@gitops-lab.local"}
    git(solved, "commit", "-qam", "whatever", env=flux)
    git(solved, "push", "-q", "origin", "main")
    row = _checks(solved, lab_env)["git.flux-commit"]
    assert row["status"] == "fail", row
    assert (
        "('whatever') is not the commit Flux writes: it changes apps/base/nginx/deployment.yaml under ./apps"
    ) in str(row["message"]), row
    git(solved, "revert", "--no-edit", "HEAD")
    git(solved, "push", "-q", "origin", "main")
    row = _checks(solved, lab_env)["git.flux-commit"]
    assert row["status"] == "pass", row


def test_a_commit_of_a_tag_the_registry_has_not_published_is_not_flux_s(
    solved: Path, lab_env: dict[str, str], tmp_path: Path
) -> None:
    """Flux writes only a tag its scan stored: a hand-made commit of 1.25.99, which the policy would
    pick but no registry lists, passed git.flux-commit as Flux's whatever the tags' source."""
    from lab.sandbox.registry import EmbeddedRegistry

    deploy = solved / "apps/base/nginx/deployment.yaml"
    deploy.write_text(deploy.read_text().replace("nginx:1.25.0", "library/nginx:1.25.99"))
    flux = {"GIT_AUTHOR_NAME": "Flux", "GIT_AUTHOR_EMAIL": "flux@gitops-lab.local"}
    message = SEED_MESSAGE.replace("1.25.3", "1.25.99")
    git(solved, "commit", "-qa", "-m", message, env=flux)
    git(solved, "push", "-q", "origin", "main")
    with EmbeddedRegistry() as registry:
        env = {**lab_env, "LAB_REGISTRY_MIRROR": f"docker.io={registry.start()}"}
        proc = run_lab("check", "-w", str(solved), "--format", "json", env=env)
        row = {c["id"]: c for c in json.loads(proc.stdout)["checks"]}["git.flux-commit"]
        assert row["status"] == "fail", row
        assert (
            "it writes 1.25.99, which index.docker.io/library/nginx does not list: Flux writes only"
            in str(row["message"])
        ), row
        # Once the registry publishes it, the same commit is the one Flux writes.
        registry.push_tag("library/nginx", "1.25.99")
        proc = run_lab("check", "-w", str(solved), "--format", "json", env=env)
        row = {c["id"]: c for c in json.loads(proc.stdout)["checks"]}["git.flux-commit"]
        assert row["status"] == "pass", row
    # A tags file of one's own stands for the registry's list.
    own = tmp_path / "tags.txt"
    own.write_text(TAGS.read_text())
    row = _checks(solved, lab_env, "--tags-file", str(own))["git.flux-commit"]
    assert row["status"] == "fail" and "it writes 1.25.99, which tags file tags.txt does not list" in str(
        row["message"]
    ), row
    # Offline the bundled list is a dated snapshot: the tag may have been published since; it passes
    # and says it was not checked with the registry. So is the task's snapshot given as the tags file
    # (the app's Checks screen in a practice repository, or with the sandbox down), offline or not.
    for extra in ((), ("--tags-file", str(TAGS))):
        row = _checks(solved, lab_env, *extra)["git.flux-commit"]
        assert row["status"] == "pass", row
        compared = " ".join(str(e["text"]) for e in row["evidence"])  # type: ignore[attr-defined]
        assert (
            "with 1.25.99 it lacks (published since the snapshot, or never: not checked with the registry)"
            in (compared)
        ), row
    proc = run_lab("check", "-w", str(solved), "--format", "json", "--tags-file", str(TAGS), env=lab_env)
    row = {c["id"]: c for c in json.loads(proc.stdout)["checks"]}["git.flux-commit"]
    assert row["status"] == "pass", row


def test_a_commit_of_a_tag_pushed_into_the_sandbox_is_flux_s_against_docker_hub(
    solved_template: Path, lab_env: dict[str, str], tmp_path: Path
) -> None:
    """A tag pushed into the sandbox's registry (`lab sandbox push-tag`, the app's `t`) and written by
    the sandbox's Flux is Flux's commit, though Docker Hub does not list it: graded against Docker Hub
    (the sandbox down, or a kubeconfig of one's own), git.flux-commit called it forged. Only the
    sandbox's own repository is taken at its registry's word, from the sandbox's directory."""
    from lab.sandbox.registry import EmbeddedRegistry
    from lab.sandbox.runtime import SandboxPaths, write_json_atomic

    data = tmp_path / "data"
    sandbox = SandboxPaths(data / "fluxlab" / "sandbox")
    ws = copy_practice(solved_template, sandbox.workspace)
    elsewhere = copy_practice(solved_template, tmp_path / "elsewhere" / "gitops-lab")
    flux = {"GIT_AUTHOR_NAME": "Flux", "GIT_AUTHOR_EMAIL": "flux@gitops-lab.local"}
    for repo in (ws, elsewhere):
        deploy = repo / "apps/base/nginx/deployment.yaml"
        deploy.write_text(deploy.read_text().replace("nginx:1.25.0", "library/nginx:1.25.99"))
        git(repo, "commit", "-qa", "-m", SEED_MESSAGE.replace("1.25.3", "1.25.99"), env=flux)
        git(repo, "push", "-q", "origin", "main")
    pushed = {"as_of": "2024-01-15T00:00:00Z", "pushed": {"library/nginx": ["1.25.99"]}}
    write_json_atomic(sandbox.registry_state, pushed)
    # A repository cannot vouch for itself: the same file inside it (or beside it) is not the sandbox's.
    write_json_atomic(elsewhere / "registry.json", pushed)
    write_json_atomic(elsewhere.parent / "registry.json", pushed)
    with EmbeddedRegistry() as hub:  # Docker Hub, which never saw 1.25.99
        env = {**lab_env, "XDG_DATA_HOME": str(data), "LAB_REGISTRY_MIRROR": f"docker.io={hub.start()}"}
        env.pop("LAB_SANDBOX_WORKSPACE", None)
        rows = {}
        for repo in (ws, elsewhere):
            proc = run_lab("check", "-w", str(repo), "--format", "json", env=env)
            rows[repo] = {c["id"]: c for c in json.loads(proc.stdout)["checks"]}["git.flux-commit"]
    row = rows[ws]
    assert row["status"] == "pass", row
    compared = " ".join(str(e["text"]) for e in row["evidence"])  # type: ignore[attr-defined]
    assert (
        "with 1.25.99 it lacks (pushed into the sandbox's registry, which index.docker.io/library/nginx "
        "does not list)"
    ) in compared, row
    row = rows[elsewhere]
    assert row["status"] == "fail", row
    assert "it writes 1.25.99, which index.docker.io/library/nginx does not list" in str(row["message"]), row


def test_a_registry_tag_that_is_no_oci_tag_never_reaches_origin(
    solved: Path, lab_env: dict[str, str]
) -> None:
    """A registry may list any string as a tag. Flux's reflector stores it and a policy may select it;
    image-automation-controller then refuses the whole update (`encountered invalid image ref`), so the
    escape sequence (or a 300-character tag) is never written to Git. Said in one line, escaped."""
    from tests.support.fake_registry import fake_registry

    policy = solved / "clusters/dev/image-automation/image-policy.yaml"
    picks = {"'^1\\.25\\.99.*'": "1.25.99\x1b[2J", "'^1\\.25\\.9x.*'": "1.25.9" + "x" * 300}
    head = policy.read_text().split("  policy:")[0]
    for pattern, hostile in picks.items():
        policy.write_text(
            f"{head}  filterTags:\n    pattern: {pattern}\n  policy:\n    alphabetical:\n      order: asc\n"
        )
        git(solved, "commit", "-qam", f"pick {pattern}")
        git(solved, "push", "-q")
        before = origin_log(solved)
        with fake_registry(["1.25.3", "1.25.9", hostile]) as registry:
            env = {**lab_env, "LAB_REGISTRY_MIRROR": registry.mirror}
            env.pop("LAB_SANDBOX_WORKSPACE", None)
            proc = run_lab("simulate", "-w", str(solved), env=env)
        assert proc.returncode == 1, proc.stdout + proc.stderr
        assert "\x1b" not in proc.stdout + proc.stderr
        shown = hostile.replace("\x1b", "\\x1b")
        assert proc.stderr.startswith(
            f'lab: encountered invalid image ref "library/nginx:{shown}": could not parse reference: '
        ), proc.stderr
        assert "spec.filterTags.pattern" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
        assert origin_log(solved) == before


def test_flux_s_commit_of_a_tag_the_graded_list_lacks_does_not_hide_flux_s_commit_before(
    solved: Path, lab_env: dict[str, str], tmp_path: Path
) -> None:
    """`lab simulate --tags-file` with a newer tag than the list later graded against: the lab's own
    commit of it was called forged ("revert the hand-made commit") and ended the search, so Flux's
    commit before it no longer vouched. A verdict that rests only on a tag the list lacks looks further
    back; a hand-made commit after Flux's is still judged (test above)."""
    run_lab("simulate", "-w", str(solved), "--tags-file", str(TAGS), env=lab_env, ok=True)
    newer = tmp_path / "newer.txt"
    newer.write_text(TAGS.read_text() + "1.25.4\n")
    run_lab("simulate", "-w", str(solved), "--tags-file", str(newer), env=lab_env, ok=True)
    git(solved, "pull", "-q", "--rebase")
    assert "library/nginx:1.25.4" in (solved / "apps/base/nginx/deployment.yaml").read_text()
    own = tmp_path / "own.txt"  # a list of one's own is the registry's word (the bundled one is dated)
    own.write_text(TAGS.read_text())
    row = _checks(solved, lab_env, "--tags-file", str(own))["git.flux-commit"]
    assert row["status"] == "pass", (row["message"], row["hint"])
    texts = " ".join(str(e["text"]) for e in row["evidence"])  # type: ignore[attr-defined]
    assert "library/nginx:1.25.3 #" in texts and "selects library/nginx:1.25.3" in texts, row


def test_flux_s_commit_is_judged_by_the_automation_that_writes_it(
    solved: Path, lab_env: dict[str, str]
) -> None:
    """Automations with the same author: the commit was judged against the first of the file, whose
    path or push branch is not the commit's (its messageTemplate, not the one Flux rendered), and called
    forged. Any automation with that author, pushing to the graded branch and covering the files, may
    have written it."""
    decoys = (
        "---\napiVersion: image.toolkit.fluxcd.io/v1\nkind: ImageUpdateAutomation\nmetadata:\n"
        "  name: {name}\n  namespace: flux-system\nspec:\n  git:\n    checkout:\n      ref:\n"
        "        branch: main\n    commit:\n      author:\n        email: flux@gitops-lab.local\n"
        "        name: Flux\n      messageTemplate: Other\n    push:\n      branch: {branch}\n"
        "  interval: 10m0s\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n"
        "  update:\n    path: {path}\n    strategy: Setters\n"
    )
    update = solved / "clusters/dev/image-automation/image-update.yaml"
    task_s = update.read_text()
    others = decoys.format(name="clusters", branch="main", path="./clusters") + decoys.format(
        name="other", branch="other", path="./apps"
    )
    # The task's checks read the first automation of the file: the task's is first whenever it is graded.
    update.write_text(task_s + others)
    git(solved, "commit", "-qam", "two more automations")
    # What the automation pushing to another branch writes is not Flux's commit on main.
    deploy = solved / "apps/base/nginx/deployment.yaml"
    deploy.write_text(deploy.read_text().replace("nginx:1.25.0", "library/nginx:1.25.3"))
    flux = {"GIT_AUTHOR_NAME": "Flux", "GIT_AUTHOR_EMAIL": "flux@gitops-lab.local"}
    git(solved, "commit", "-qam", "Other", env=flux)
    git(solved, "push", "-q", "origin", "main")
    row = _checks(solved, lab_env, "--tags-file", str(TAGS))["git.flux-commit"]
    assert row["status"] == "fail" and "(Flux writes 'Automated image update' ...)" in str(row["message"]), (
        row
    )
    git(solved, "revert", "--no-edit", "HEAD")
    # Flux's commit on a tree with the others first, graded once the task's is first again.
    update.write_text(others + task_s)
    git(solved, "commit", "-qam", "the others first")
    git(solved, "push", "-q", "origin", "main")
    run_lab("simulate", "-w", str(solved), "--tags-file", str(TAGS), env=lab_env, ok=True)
    assert origin_log(solved)[0].endswith("|Automated image update"), origin_log(solved)
    git(solved, "pull", "-q", "--rebase")
    update.write_text(task_s + others)
    git(solved, "commit", "-qam", "the task's automation first")
    git(solved, "push", "-q", "origin", "main")
    rows = _checks(solved, lab_env, "--tags-file", str(TAGS))
    row = rows["git.flux-commit"]
    assert row["status"] == "pass", (row["message"], rows["marker.present"]["message"])
