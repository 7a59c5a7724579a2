"""`lab why` on the broken-repo corpus: offline (repository + a tags list) and live against the sandbox."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from lab.core.why import Report
from lab.services import why
from tests.support.diag_corpus import CASES, DEPLOY, Case, Files, solved_files
from tests.support.labrun import run_lab
from tests.support.sandbox_helpers import git, running_sandbox, wait_for

# Where `lab why` must stop for each breaking case (the link its finding belongs to, unless the
# manifest validator already names the mistake at an earlier link).
BREAKING = [c for c in CASES if c.severity == "breaking"]
LINK_OVERRIDE: dict[str, str] = {}
SANDBOX_CASES = (
    "tag-marker-on-full-image",
    "name-marker-on-tag-field",
    "digest-marker-without-reflection",
    "policy-selector-misses-policy",
    "marker-namespace-not-automation",
    "marker-in-block-scalar",
    "marker-in-templated-file",
    "marked-file-outside-update-path",
    "marker-in-file-reader-skips",
    "range-matches-nothing",
    "template-uses-updated",
    "source-ref-names-no-gitrepository",
)


def _expected_link(case: Case) -> str:
    from lab.core.diagnose import Finding  # noqa: F401  (the link names are Finding.link values)

    if case.name in LINK_OVERRIDE:
        return LINK_OVERRIDE[case.name]
    return {
        "marker.file-skipped": "path",
        "marker.templated": "path",
        "marker.outside-path": "path",
        "paths.overlap": "path",
        "policy.no-match": "policy",
        "policy.prerelease-only": "policy",
        "policy.filter-empty": "policy",
        "cosign.selected": "policy",
        "template.removed-field": "automation",
        "source.missing": "automation",
        "push.branch-unknown": "push",
    }.get(case.finding, "markers")


def _write(ws: Path, files: Files, previous: Files | None = None) -> None:
    for rel in set(previous or {}) - set(files):
        (ws / rel).unlink(missing_ok=True)
    for rel, text in files.items():
        target = ws / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")


def _commit_and_push(ws: Path, message: str) -> None:
    git(ws, "add", "-A")
    if git(ws, "status", "--porcelain"):
        git(ws, "commit", "-qm", message)
    git(ws, "push", "-q", "origin", "HEAD:main")


def _case_files(case: Case) -> Files:
    files = solved_files()
    case.mutate(files)
    return files


def _tags_file(tmp: Path, case: Case) -> Path | None:
    tags = case.registry_tags()
    if tags is None:
        return None
    path = tmp / "tags.txt"
    path.write_text("\n".join(tags) + "\n", encoding="utf-8")
    return path


def _assert_stops_at(report: Report, case: Case) -> None:
    broken = report.broken
    assert broken is not None, report.verdict()
    assert broken.name == _expected_link(case), (case.name, [(lnk.name, lnk.summary) for lnk in report.links])
    text = " ".join([broken.summary, *broken.evidence])
    assert case.words[0] in text, text


@pytest.fixture(scope="module")
def practice(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from lab.sandbox.practice import init_practice_repo

    base = tmp_path_factory.mktemp("why")
    init_practice_repo(base / "ws", origin=base / "origin.git")
    return base


@pytest.mark.slow
@pytest.mark.parametrize("case", BREAKING, ids=[c.name for c in BREAKING])
def test_offline_names_the_broken_link(case: Case, practice: Path, tmp_path: Path) -> None:
    import shutil

    ws, origin = tmp_path / "ws", tmp_path / "origin.git"
    shutil.copytree(practice / "ws", ws, symlinks=True)
    shutil.copytree(practice / "origin.git", origin, symlinks=True)
    git(ws, "remote", "set-url", "origin", str(origin))
    _write(ws, _case_files(case))
    _commit_and_push(ws, case.name)
    report = why.explain(ws, offline=True, tags_file=_tags_file(tmp_path, case))
    _assert_stops_at(report, case)
    assert report.mode.startswith("offline")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("how", "says"),
    [
        ("malformed", "invalid YAML"),
        ("binary", "binary (it holds NUL bytes)"),
        ("symlink", "a symlink (the lab does not follow links)"),
    ],
)
def test_a_policy_file_it_cannot_read_is_named(practice: Path, tmp_path: Path, how: str, says: str) -> None:
    """All three said 'no ImagePolicy in the repository: write kind: ImagePolicy ...'."""
    import shutil

    ws = tmp_path / "ws"
    shutil.copytree(practice / "ws", ws, symlinks=True)
    _write(ws, solved_files())
    policy = ws / "clusters/dev/image-automation/image-policy.yaml"
    if how == "symlink":
        policy.rename(policy.with_name("real.txt"))
        policy.symlink_to("real.txt")
    else:
        policy.write_bytes(b"kind: ImagePolicy\nmetadata: [\n" if how == "malformed" else b"kind: \0\n")
    link = next(link for link in why.explain(ws, offline=True).links if link.name == "policy")
    assert link.state == "broken" and link.summary.startswith("no ImagePolicy could be read: ")
    assert "image-policy.yaml" in link.summary and says in link.summary, link.summary


@pytest.mark.slow
def test_offline_solved_and_unpushed(practice: Path, tmp_path: Path, lab_env: dict[str, str]) -> None:
    import shutil

    ws, origin = tmp_path / "ws", tmp_path / "origin.git"
    shutil.copytree(practice / "ws", ws, symlinks=True)
    shutil.copytree(practice / "origin.git", origin, symlinks=True)
    git(ws, "remote", "set-url", "origin", str(origin))
    _write(ws, solved_files())
    # Not committed: Flux reads origin, so the chain breaks at origin.
    report = why.explain(ws, offline=True)
    assert report.broken is not None and report.broken.name == "origin"
    assert "Flux reads what is pushed" in report.broken.summary
    assert "clusters/dev/image-automation/image-policy.yaml" in " ".join(report.broken.evidence)
    assert all(e.endswith("(not committed)") for e in report.broken.evidence), report.broken.evidence
    assert report.broken.fix == "git add, git commit and git push"
    # Committed, not pushed: only the push is missing, as `lab check` says; the headline counts every file.
    git(ws, "add", "-A")
    git(ws, "commit", "-qm", "solved")
    report = why.explain(ws, offline=True)
    assert report.broken is not None and report.broken.name == "origin"
    files = [e.split(":", 1)[0] for e in report.broken.evidence]
    assert len(files) > 3, files
    assert all(e.endswith("(committed, not pushed)") for e in report.broken.evidence), report.broken.evidence
    assert report.broken.fix == "git push"
    assert f"{', '.join(files[:3])} and {len(files) - 3} more" in report.broken.summary, report.broken.summary
    _commit_and_push(ws, "solved")
    env = {**lab_env, "HOME": str(tmp_path)}
    env.pop("KUBECONFIG", None)
    proc = run_lab("why", "--offline", "--json", env=env, cwd=ws)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["broken"] is None
    links = {link["link"]: link for link in data["links"]}
    assert links["policy"]["summary"] == (
        "ImagePolicy flux-system/nginx selects 1.25.3 (bundled tags: library/nginx as of 2024-01-15)"
    )
    assert "nginx:1.25.0 -> library/nginx:1.25.3" in " ".join(links["origin"]["evidence"])
    text = run_lab("why", "--offline", env=env, cwd=ws)
    assert text.returncode == 0
    assert "✔ markers     1 marker(s): apps/base/nginx/deployment.yaml:18" in text.stdout


@pytest.mark.slow
def test_live_in_the_sandbox(tmp_path: Path) -> None:
    """The same corpus pushed to the sandbox's origin, judged with the live objects of its API server."""
    cases = {c.name: c for c in CASES}
    with running_sandbox(tmp_path) as sup:
        ws, kc = sup.paths.workspace, str(sup.paths.kubeconfig)
        previous: Files | None = None
        for name in SANDBOX_CASES:
            case = cases[name]
            files = _case_files(case)

            def push(files: Files = files, previous: Files | None = previous, name: str = name) -> bool:
                git(ws, "fetch", "-q", "origin")
                git(ws, "reset", "-q", "--hard", "origin/main")  # take Flux's commits; the case rewrites all
                _write(ws, files, previous)
                try:
                    _commit_and_push(ws, name)
                except AssertionError:
                    return False  # Flux pushed in between: start again from its commit
                return True

            wait_for(push, f"pushing {name}", timeout=60)
            previous = files

            def judged(case: Case = case) -> Report | None:
                report = why.explain(ws, kubeconfig=kc)
                broken = report.broken
                return report if broken is not None and broken.name == _expected_link(case) else None

            report = wait_for(judged, f"lab why to stop at {_expected_link(case)} for {name}", timeout=60)
            assert report.mode.startswith("live: the cluster of"), report.mode
            _assert_stops_at(report, case)
            controllers = report.links[0]
            assert controllers.state == "ok" and "image controllers ready" in controllers.summary
            scan = report.links[1]
            assert scan.state == "ok" and "(live): successful scan: found" in scan.summary, scan


@pytest.mark.slow
def test_live_without_image_controllers(tmp_path: Path) -> None:
    """The course's first pitfall: Flux installed without the image controllers. Only a live answer
    can name it; the repository itself is right."""
    with running_sandbox(tmp_path, image_controllers=False) as sup:
        ws = sup.paths.workspace
        _write(ws, solved_files())
        _commit_and_push(ws, "solved")
        report = why.explain(ws, kubeconfig=str(sup.paths.kubeconfig))
        broken = report.broken
        assert broken is not None and broken.name == "controllers", report.verdict()
        assert "image-reflector-controller and image-automation-controller not installed" in broken.summary
        assert "--components-extra=image-reflector-controller" in broken.fix
        assert DEPLOY in " ".join(next(lnk for lnk in report.links if lnk.name == "markers").summary.split())


def _ready(kind: str, ref: str, **condition: str) -> dict[str, object]:
    namespace, name = ref.split("/")
    return {
        "kind": kind,
        "metadata": {"name": name, "namespace": namespace},
        "status": {"conditions": [condition]},
    }


@pytest.mark.parametrize(
    ("kind", "link", "condition", "summary"),
    [
        (
            "ImageRepository",
            "scan",
            {"type": "Ready", "status": "False", "reason": "Auth"},
            ": Ready=False Auth: m",
        ),
        ("ImagePolicy", "policy", {"type": "Stalled", "status": "True", "reason": "Bad"}, ": Stalled Bad: m"),
        (
            "ImageUpdateAutomation",
            "automation",
            {"type": "Stalled", "status": "True", "reason": "X"},
            ": Stalled X: m",
        ),
    ],
)
def test_each_live_object_that_is_not_ready_breaks_its_link(
    kind: str, link: str, condition: dict[str, str], summary: str
) -> None:
    """One reading of live status for the three kinds: Stalled is named as such, not as 'Ready=Stalled'."""
    from lab.core.diagnose import Inputs, diagnose
    from lab.core.fluxget import ControllerStatus
    from lab.core.manifests.parse import find_automation
    from lab.core.why import Facts, Live, walk

    files = solved_files()
    aset = find_automation({p: t for p, t in files.items() if p.endswith((".yaml", ".yml"))})
    refs = {
        "ImageRepository": aset.repositories[0].ref,
        "ImagePolicy": aset.policies[0].ref,
        "ImageUpdateAutomation": aset.automations[0].ref,
    }
    objects = {
        k: [
            _ready(
                k,
                ref,
                **({**condition, "message": "m"} if k == kind else {"type": "Ready", "status": "True"}),
            )
        ]
        for k, ref in refs.items()
    }
    controllers = (
        ControllerStatus("image-reflector-controller", True),
        ControllerStatus("image-automation-controller", True),
    )
    live = Live("a cluster", controllers, "v1", objects)
    marked = {p: t for p, t in files.items() if "imagepolicy" in t}
    facts = Facts(aset, marked, (), diagnose(Inputs(aset, marked)), None, "no tags", live=live)
    broken = walk(facts, "live").broken
    assert broken is not None and broken.name == link
    assert broken.summary == f"{kind} {refs[kind]}{summary}"


def test_objects_missing_from_the_cluster_name_the_kustomization_that_fails_to_apply_them() -> None:
    """Pushed but not in the cluster: when the flux-system Kustomization is failing (a path origin does
    not have), waiting will not help, and why says so with the Kustomization's own message."""
    from lab.core.diagnose import Inputs, diagnose
    from lab.core.fluxget import ControllerStatus
    from lab.core.manifests.parse import find_automation
    from lab.core.why import Facts, Live, Origin, walk

    files = solved_files()
    aset = find_automation({p: t for p, t in files.items() if p.endswith((".yaml", ".yml"))})
    controllers = (
        ControllerStatus("image-reflector-controller", True),
        ControllerStatus("image-automation-controller", True),
    )
    failing = "kustomization path not found: stat clusters/dev: no such file or directory"
    kustomization = _ready(
        "Kustomization",
        "flux-system/flux-system",
        type="Ready",
        status="False",
        reason="BuildFailed",
        message=failing,
    )
    marked = {p: t for p, t in files.items() if "imagepolicy" in t}
    for objects, expected in (
        ({"Kustomization": [kustomization]}, f"the flux-system Kustomization fails (BuildFailed: {failing})"),
        ({}, "the flux-system Kustomization has not applied it yet"),
    ):
        live = Live("a cluster", controllers, "v1", objects)
        facts = Facts(
            aset,
            marked,
            (),
            diagnose(Inputs(aset, marked)),
            None,
            "no tags",
            live=live,
            origin=Origin("main"),
        )
        broken = walk(facts, "live").broken
        assert broken is not None and broken.name == "scan"
        assert broken.summary.endswith(expected), broken.summary


@pytest.mark.slow
def test_a_tags_file_lists_the_tags_of_the_task_image_alone(tmp_path: Path, lab_env: dict[str, str]) -> None:
    """09b-multi scans four images: --tags-file used to hand its one list to every ImageRepository, so
    with shop's tags nginx's 1.25.x 'matched none of the 7 tags of nginx', and with nginx's tags the
    three shop policies matched nothing. As `lab check --tags-file` reads it (lab.core.scan.tags_origin):
    the file lists the task's image (shop, its first ImageRepository), every other image the task's own
    bundled list."""
    from tests.support.taskfiles import task_dir

    env = {**lab_env, "HOME": str(tmp_path)}
    env.pop("KUBECONFIG", None)
    ws = tmp_path / "multi"
    run_lab("init", str(ws), "--task", "09b-multi", env=env, ok=True)
    run_lab("solve", str(ws), env=env, ok=True)
    registry = task_dir("09b-multi") / "registry"

    report = why.explain(ws, offline=True, tags_file=registry / "shop-tags.txt")
    assert report.broken is None, report.verdict()
    policy = next(link for link in report.links if link.name == "policy")
    assert policy.state == "ok" and "selects 1.4.2" in policy.summary

    report = why.explain(ws, offline=True, tags_file=registry / "nginx-tags.txt")
    said = " ".join(" ".join([link.summary, *link.evidence]) for link in report.links)
    for other in ("ghcr.io/acme/shop-worker", "ghcr.io/acme/shop-migrate", "of nginx"):
        assert f"tags of {other}" not in said and f"tags {other}" not in said, said
    assert "library/nginx" in report.mode.partition("bundled tags: ")[2].partition(", tags file")[0]

    # Four bundled lists are named in one list, "bundled tags" said once.
    mode = why.explain(ws, offline=True).mode
    assert mode.count("bundled tags") == 1, mode
    assert "ghcr.io/acme/shop, ghcr.io/acme/shop-migrate, ghcr.io/acme/shop-worker, library/nginx" in mode


def test_the_tags_published_last_are_said_picked_or_why_not() -> None:
    """`t` in the app publishes the next release (here 1.25.4-otel and 19 variants) and its toast says
    "no commit? `y` says why": the policy link names those tags and Flux's reason for leaving each out
    (a pre-release excluded by a range without a pre-release part, not semver...), whatever the link's
    state, from the tags the sandbox's registry serves and the task's dated publications."""
    from lab.core.diagnose import Inputs, diagnose
    from lab.core.manifests.parse import find_automation
    from lab.core.why import Facts, Origin, render, walk
    from lab.services.tasks import load_task
    from tests.support.diag_corpus import nginx_tags

    task = load_task("09b")
    published = json.loads((task.image_file(task.meta.images[0].events or "")).read_text(encoding="utf-8"))
    served = nginx_tags() + published[0]["tags"] + published[1]["tags"]
    tags = {"library/nginx": served}
    newest = why._newest(tags, task)
    assert newest == {"library/nginx": tuple(published[1]["tags"])}
    files = solved_files()
    aset = find_automation({p: t for p, t in files.items() if p.endswith((".yaml", ".yml"))})
    marked = {p: t for p, t in files.items() if "imagepolicy" in t}
    facts = Facts(
        aset,
        marked,
        (),
        diagnose(Inputs(aset, marked, tags)),
        tags,
        "the registry",
        origin=Origin("main"),
        newest=newest,
    )
    report = walk(facts, "offline")
    policy = next(link for link in report.links if link.name == "policy")
    assert policy.state == "ok" and "selects 1.25.4" in policy.summary
    text = render(report)
    assert "newest tags of library/nginx: 1.25.4-otel and 19 more; ImagePolicy flux-system/nginx:" in text
    assert (
        "1.25.4-otel, 1.25.4-bookworm-otel, 1.25.4-alpine-otel and 2 more: pre-releases in semver terms"
    ) in text
    assert (
        "range 1.25.x has no pre-release part: Flux's semver (Masterminds) then leaves every pre-release out"
        in text
    )
    assert "mainline-otel, 1-otel, 1.25-otel and 12 more: not semver versions" in text
    assert report.verdict().endswith(
        "; no policy picks the tags published last (1.25.4-otel and 19 more): the policy link says why"
    )
    # The publication before: the policy picks its release, and says why not the variants.
    earlier = replace(facts, newest={"library/nginx": tuple(published[0]["tags"])})
    earlier_report = walk(earlier, "offline")
    assert "      1.25.4: selected by the policy (semver 1.25.x)" in render(earlier_report)
    assert "published last" not in earlier_report.verdict()


@pytest.mark.slow
def test_no_marker_fix_names_the_tasks_policy_not_a_placeholder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no ImagePolicy yet, the fix named `flux-system:NAME`: the task's `[generate]` knows the name."""
    from lab.services import tasks
    from tests.support.gitutil import make_practice

    ws = make_practice(tmp_path)  # the starter: no ImagePolicy, no marker
    monkeypatch.setattr(tasks, "workspace_task", lambda *a, **k: tasks.load_task("09b-multi"))
    link = next(link for link in why.explain(ws, offline=True).links if link.name == "markers")
    assert link.state == "broken" and link.fix is not None
    assert link.fix.endswith('# {"$imagepolicy": "flux-system:shop"}'), link.fix


def test_the_newest_tags_are_the_sandboxs_only_when_its_registry_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sandbox runs and this is its repository, but a kubeconfig of the learner's kept its registry
    out of this process (no LAB_REGISTRY_MIRROR, or another one): the tags came from a real registry,
    and `lab why` must not say the sandbox just published them. The app's `sandbox_elsewhere` and the
    commands' `in_workspace` give the same answer about a directory in the repository."""
    from lab.services import sandbox
    from lab.services.session import Session, sandbox_elsewhere
    from lab.services.tasks import load_task

    ws = tmp_path / "gitops-lab"
    (ws / "apps").mkdir(parents=True)
    info = sandbox.SandboxInfo(workspace=ws, kubeconfig=tmp_path / "kc", registry="127.0.0.1:5999", pid=1)
    monkeypatch.setattr(sandbox, "running_info", lambda directory=None: info)
    monkeypatch.delenv("LAB_REGISTRY_MIRROR", raising=False)
    assert not why._in_sandbox(ws, info)
    monkeypatch.setenv("LAB_REGISTRY_MIRROR", "docker.io=registry.example.com")
    assert not why._in_sandbox(ws, info)
    monkeypatch.setenv("LAB_REGISTRY_MIRROR", info.mirror)
    assert why._in_sandbox(ws, info) and why._in_sandbox(ws / "apps", info)
    assert not why._in_sandbox(tmp_path, info)
    session = Session(ws / "apps", load_task("09b"), sandbox=True, kubeconfig=None)
    monkeypatch.setattr("lab.adapters.kubeconfig.kubeconfig_source", lambda kubeconfig=None: None)
    assert sandbox.in_workspace(ws / "apps") is info
    assert sandbox_elsewhere(session) is None


def test_the_newest_tags_of_every_policy_are_shown_whatever_the_links_state() -> None:
    """The policy link's own evidence is cut at six lines when it is broken or unknown; the lines on
    the tags published last come after it, one block per policy, and are all shown."""
    from lab.core.why import NEWEST, Link, State, render

    own = tuple(f"ImagePolicy flux-system/p{i}: not ready" for i in range(7))
    newest = (
        f"{NEWEST} of library/nginx: 1.25.4; ImagePolicy flux-system/nginx:",
        "  1.25.4: outside range 1.24.x",
        f"{NEWEST} of library/redis: 7.2.5; ImagePolicy flux-system/redis:",
        "  7.2.5: outside range 7.0.x",
    )
    states: tuple[State, ...] = ("broken", "unknown", "ok", "skipped")
    for state in states:
        link = Link("policy", state, "ImagePolicy objects", (*own, *newest), fix="see the message")
        origin = Link("origin", "unknown", "no Flux commit yet")
        text = render(Report((link, origin), "offline"))
        for line in newest:
            assert f"    {line}\n" in text, (state, text)
        assert "p6: not ready" not in text  # the link's own evidence: six lines at most


@pytest.mark.slow
def test_lab_why_reads_the_sandboxs_state_file_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """In the running sandbox's repository, `lab why` asks the sandbox three things - which cluster,
    whose registry serves the tags, whether it published them - from one read of its state file."""
    from lab.resources import data_home
    from lab.sandbox import runtime
    from lab.services import sandbox
    from lab.services.solve import solve

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.delenv("LAB_REGISTRY_MIRROR", raising=False)
    state = data_home() / "sandbox" / "runtime.json"
    reads: list[Path] = []

    def read_json(path: Path) -> dict[str, object]:
        if path == state:
            reads.append(path)
        return runtime.read_json(path)

    with running_sandbox(data_home() / "sandbox") as sup:
        ws = sup.paths.workspace
        solve(ws, task="09b", api_version="image.toolkit.fluxcd.io/v1")  # an ImageRepository: tags asked
        monkeypatch.setattr(sandbox, "read_json", read_json)
        report = why.explain(ws)
    assert report.mode.startswith("live: the sandbox; tags: the registry"), report.mode
    assert len(reads) == 1, reads


@pytest.mark.slow
def test_a_yaml_file_the_sync_cannot_decode_breaks_the_automation_link(
    practice: Path, tmp_path: Path
) -> None:
    """An undecodable .yaml beside the automation files fails the flux-system Kustomization's build, so
    none of them is applied: `lab why` said 'no broken link found'."""
    import shutil

    ws, origin = tmp_path / "ws", tmp_path / "origin.git"
    shutil.copytree(practice / "ws", ws, symlinks=True)
    shutil.copytree(practice / "origin.git", origin, symlinks=True)
    git(ws, "remote", "set-url", "origin", str(origin))
    _write(ws, {**solved_files(), "clusters/dev/extra.yaml": "apiVersion: v1\nkind: [\n"})
    _commit_and_push(ws, "extra")
    broken = why.explain(ws, offline=True).broken
    assert broken is not None and broken.name == "automation"
    assert "'failed to decode Kubernetes YAML from clusters/dev/extra.yaml: the [ opened" in broken.summary
    assert broken.evidence[0] == "clusters/dev/extra.yaml:2"
    assert "delete clusters/dev/extra.yaml" in broken.fix


def _solved_without_cluster(practice: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the practice repository with the solution written, no cluster and no sandbox."""
    import shutil

    ws = tmp_path / "ws"
    shutil.copytree(practice / "ws", ws, symlinks=True)
    _write(ws, solved_files())
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.delenv("LAB_SANDBOX_WORKSPACE", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    return ws


@pytest.mark.slow
@pytest.mark.parametrize(
    ("status", "says", "flux", "fix", "waits"),
    [
        (
            429,
            "rate-limited by 127.0.0.1:{port}, retry after 3600 s",
            "TOOMANYREQUESTS",
            "scan less often",
            [],  # a Retry-After over the client's 30 s is not waited for
        ),
        (
            401,
            "127.0.0.1:{port} requires credentials and none were found",
            "UNAUTHORIZED",
            "docker login",
            [],
        ),
        (500, "127.0.0.1:{port} answered 500 Internal Server Error", "UNKNOWN", "try again later", [1, 3, 9]),
    ],
)
def test_a_registry_that_refuses_breaks_the_scan_link_as_flux_fails_the_scan(
    practice: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    status: int,
    says: str,
    flux: str,
    fix: str,
    waits: list[float],
) -> None:
    """A registry that answers no (429, 401, 500) is no unreachable one: Flux's ImageRepository is
    Ready=False with `scan failed: ...`, so the scan link is broken, in the words `lab simulate` uses,
    with the controller's beside them. The bundled snapshot stands in only for a registry not reached.
    A 500 is retried after 1, 3 and 9 s, as the controller's registry client backs off: recorded, not
    slept (13 s of this test's run)."""
    from lab.adapters import registry as registry_adapter
    from tests.support.fake_registry import fake_registry

    slept: list[float] = []

    class Client(registry_adapter.RegistryClient):
        def __init__(self, **options: Any) -> None:
            super().__init__(**{"sleep": slept.append, **options})

    monkeypatch.setattr(registry_adapter, "RegistryClient", Client)
    ws = _solved_without_cluster(practice, tmp_path, monkeypatch)
    with fake_registry(status=status) as registry:
        monkeypatch.setenv("LAB_REGISTRY_MIRROR", registry.mirror)
        report = why.explain(ws)
        said = says.format(port=registry.port)
    scan = next(link for link in report.links if link.name == "scan")
    assert scan.state == "broken", scan
    assert scan.summary.startswith(f"scanning library/nginx fails: {said}"), scan.summary
    assert any(
        e.startswith("Flux: ImageRepository flux-system/nginx Ready=False: scan failed: GET ")
        for e in scan.evidence
    )
    assert flux in " ".join(scan.evidence) and fix in scan.fix, scan
    assert report.broken is not None and report.broken.name == "scan"
    assert slept == waits


@pytest.mark.slow
def test_a_registry_not_reached_from_here_is_not_checked_and_the_snapshot_judges_the_policy(
    practice: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A registry the lab cannot reach says nothing of Flux's cluster: a working solution led with
    "nothing happened at 'scan'" under a header saying the lab reasoned offline, for every learner
    outside the sandbox (ghcr.io/acme/* is fictional). The scan link could not be checked; it says what
    Flux reports if its cluster cannot reach the registry either, and the snapshot judges the policy."""
    import socket

    from lab.core.why import render

    ws = _solved_without_cluster(practice, tmp_path, monkeypatch)
    with socket.socket() as closed:  # a port nothing listens on: the connection is refused
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    monkeypatch.setenv("LAB_REGISTRY_MIRROR", f"docker.io=127.0.0.1:{port}")
    report = why.explain(ws)
    scan = next(link for link in report.links if link.name == "scan")
    assert scan.state == "unknown", scan
    assert scan.summary.startswith(
        f"could not check: scanning library/nginx fails here: cannot connect to 127.0.0.1:{port}"
    ), scan
    assert any(
        e.startswith(
            "Flux, if its cluster cannot reach it either: ImageRepository flux-system/nginx Ready=False: "
            "scan failed: GET "
        )
        for e in scan.evidence
    ), scan
    assert scan.fix.endswith("lab why --offline reasons on the task's bundled tags"), scan.fix
    assert report.broken is not None and report.broken.name == "origin", report.broken  # not pushed here
    text = render(report)
    assert text.startswith(
        "lab why (offline: the repository and bundled tags, the registry being unreachable)"
    )
    assert "nothing happened at 'scan'" not in text and "? scan        could not check" in text, text
    policy = next(link for link in report.links if link.name == "policy")
    assert any(
        "selects 1.25.3 (bundled tags, the registry being unreachable)" in e for e in policy.evidence
    ), policy


def test_the_verdict_does_not_say_every_link_holds_when_one_could_not_be_checked() -> None:
    from lab.core.why import Link, Report

    origin = Link("origin", "ok", "Flux's commit abc1234 'Automated image update' is on origin/main")
    scan = Link("scan", "unknown", "could not check: scanning ghcr.io/acme/shop fails here")
    assert Report((Link("scan", "ok", "3 tags"), origin), "offline").verdict().startswith("every link holds")
    assert Report((scan, origin), "offline").verdict() == (
        "no broken link found ('scan' could not be checked); Flux's commit abc1234 'Automated image update' "
        "is on origin/main"
    )


def test_a_live_failure_whose_message_names_its_cause_is_given_that_fix() -> None:
    """The automation cannot clone a branch origin lacks: why said "fix: see the message"."""
    from lab.core.diagnose import Inputs, diagnose
    from lab.core.fluxget import ControllerStatus
    from lab.core.manifests.parse import find_automation
    from lab.core.why import Facts, Live, walk

    files = solved_files()
    aset = find_automation({p: t for p, t in files.items() if p.endswith((".yaml", ".yml"))})
    failed = "failed to checkout source: unable to clone 'x': couldn't find remote ref \"refs/heads/master\""
    refs = {
        "ImageRepository": aset.repositories[0].ref,
        "ImagePolicy": aset.policies[0].ref,
        "ImageUpdateAutomation": aset.automations[0].ref,
    }
    objects = {k: [_ready(k, ref, type="Ready", status="True")] for k, ref in refs.items()}
    objects["ImageUpdateAutomation"] = [
        _ready(
            "ImageUpdateAutomation",
            refs["ImageUpdateAutomation"],
            type="Ready",
            status="False",
            reason="GitOperationFailed",
            message=failed,
        )
    ]
    controllers = (
        ControllerStatus("image-reflector-controller", True),
        ControllerStatus("image-automation-controller", True),
    )
    marked = {p: t for p, t in files.items() if "imagepolicy" in t}
    live = Live("a cluster", controllers, "v1", objects)
    facts = Facts(aset, marked, (), diagnose(Inputs(aset, marked)), None, "no tags", live=live)
    broken = walk(facts, "live").broken
    assert broken is not None and broken.name == "automation"
    assert broken.fix.startswith("origin has no branch master: set spec.git.checkout.ref.branch"), broken.fix


def test_push_and_origin_are_not_green_before_anything_can_be_committed() -> None:
    """No marker yet: why showed ✔ push and ✔ origin ("nothing to commit: every marked value is already
    the selected image"), judging links that have nothing to judge."""
    from lab.core.diagnose import Inputs, diagnose
    from lab.core.manifests.parse import find_automation
    from lab.core.why import Facts, Origin, walk

    files = solved_files()
    aset = find_automation({p: t for p, t in files.items() if p.endswith((".yaml", ".yml"))})
    tags = {aset.repositories[0].image: ["1.25.0", "1.25.3"]}
    facts = Facts(aset, {}, (), diagnose(Inputs(aset, {})), tags, "bundled", origin=Origin("main"))
    links = {link.name: link for link in walk(facts, "offline").links}
    assert links["push"].state == "unknown", links["push"]
    assert links["origin"].state == "unknown", links["origin"]
    assert (
        "nothing to commit" not in links["push"].summary and "none is needed" not in links["origin"].summary
    )
