"""Which branch Flux deploys: the cluster's GitRepository (what runs now) over the working tree's
sync file (what Flux applies once it is deployed), and what is said when the two differ."""

from __future__ import annotations

from typing import Any

from lab.core.fluxsource import FluxBranch, ref_branch, syncs_repository

SHA = "a" * 40
FILE = "clusters/dev/flux-system/gotk-sync.yaml"


def _repo(url: str, branch: str | None = "main", revision: str | None = None) -> dict[str, Any]:
    obj: dict[str, Any] = {"spec": {"url": url, "ref": {"branch": branch} if branch else {"tag": "v1"}}}
    if revision:
        obj["status"] = {"artifact": {"revision": revision}}
    return obj


def test_the_cluster_names_the_branch_and_the_file_is_the_fallback() -> None:
    assert FluxBranch().branch == "main" and FluxBranch().source == "default"
    from_file = FluxBranch("feature", FILE)
    assert (from_file.branch, from_file.source, from_file.mismatch()) == ("feature", "file", "")
    agree = FluxBranch("main", FILE, "main", "the sandbox")
    assert (agree.branch, agree.source, agree.mismatch()) == ("main", "cluster", "")


def test_a_difference_says_what_runs_now_and_what_the_file_will_apply() -> None:
    patched = FluxBranch("main", FILE, "feature", "the sandbox")
    assert patched.branch == "feature"
    assert patched.mismatch() == (
        "the cluster (the sandbox) deploys feature now (GitRepository flux-system/flux-system); your "
        f"{FILE} says main, which Flux applies when it next reconciles that file from feature"
    )
    unnamed = FluxBranch(None, FILE, "develop")
    assert f"your {FILE} names no branch (main)" in unnamed.mismatch()


def test_a_cluster_counts_only_when_it_follows_this_repository() -> None:
    never = lambda sha: False  # noqa: E731
    assert syncs_repository(
        _repo("ssh://git@github.com/Learner/lab"), "git@github.com:learner/lab.git", never
    )
    assert not syncs_repository(_repo("ssh://git@github.com/alice/lab"), "git@github.com:bob/lab.git", never)
    # A local origin (the sandbox serves it in place of the URL): the commit it fetched must be ours.
    local = "/home/me/lab-origin.git"
    assert syncs_repository(_repo("ssh://x/y", revision=f"main@sha1:{SHA}"), local, lambda sha: sha == SHA)
    assert not syncs_repository(_repo("ssh://x/y", revision=f"main@sha1:{SHA}"), local, never)
    assert not syncs_repository(_repo("ssh://x/y"), local, lambda sha: True)  # nothing fetched yet
    assert ref_branch(_repo("u", "feature")) == "feature" and ref_branch(_repo("u", None)) is None
