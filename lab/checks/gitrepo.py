"""Git checks: the work is committed and on origin (`git.pushed`), and Flux pushed a commit that updated a
marked image line (`git.flux-commit`). Git access goes through the hardened `lab.adapters.git`."""

from __future__ import annotations

import posixpath
import re
from dataclasses import replace
from typing import TYPE_CHECKING

from lab.adapters.git import PULL_AND_PUSH, CommitInfo, Workspace, by_author, count_commits, open_workspace
from lab.checks import check
from lab.checks.context import (
    CheckContext,
    automation_dir,
    automation_files,
    deployment_file,
    followed_branch,
    graded_branch,
    pinned_ref,
)
from lab.core.checks.model import Evidence, Outcome
from lab.core.checks.runner import Concluded
from lab.core.fluxsource import no_remote_branch
from lab.core.progress import PROGRESS_FILE
from lab.core.record import dataclass
from lab.core.setters.markers import TOKEN
from lab.errors import GitError, LabError

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from lab.core.manifests.models import AutomationSet, ImageRepository, ImageUpdateAutomation
    from lab.core.refs import Change, ImageRef
    from lab.core.yamlsafe import Doc

MARKER_KEY = TOKEN.decode()
FETCH_TIMEOUT_S = 8.0
"""How long `lab check` waits on origin's fetch: an origin that accepts and never answers held the
whole run for git's 120 s, silently, then graded the last fetch."""


@dataclass(frozen=True)
class Origin:
    ws: Workspace
    branch: str
    ref: str
    sha: str | None
    fetched: bool
    fetch_error: LabError | None

    def stale_note(self) -> str:
        """Said beside any grade of origin when this run's fetch failed: the grade is of an older origin."""
        if self.fetch_error is None:
            return ""
        when = self.ws.ref_updated(self.ref)
        return (
            f"origin could not be fetched: {self.fetch_error.message}; graded from origin/{self.branch} "
            f"as this clone last saw it{f' (it last moved {when})' if when else ''}"
        )


def _is_local(url: str) -> bool:
    return url.startswith(("/", "file://", "./", "../"))


def workspace_repo(ctx: CheckContext) -> Workspace:
    """The workspace's repository, opened once per run."""

    def compute() -> Workspace:
        ws = open_workspace(ctx.workspace, untrusted=ctx.untrusted)
        # The git checks read a dozen objects: one cat-file process answers them all, until the run ends.
        ws.keep_reader()
        ctx.on_close(ws.close)
        return ws

    return ctx.cached("git:workspace", compute)


def _dirty(ctx: CheckContext, ws: Workspace) -> tuple[list[str], list[str]]:
    """Uncommitted changes (one `git status`) to the task's files, and to the learner's records
    (PROGRESS.md, the quiz record), once per run."""
    quiz = str(ctx.settings.get("quiz_record", ".fluxlab/quiz.json"))
    # A task whose work is more than its automation folder names the rest (`[params] task_files`).
    extra = ctx.files_param("task_files") if "task_files" in ctx.params else ()
    groups = [[automation_dir(ctx), *extra], [PROGRESS_FILE, quiz]]

    def compute() -> tuple[list[str], list[str]]:
        files, records = ws.dirty_file_groups(groups)
        return files, records

    return ctx.cached(f"git:dirty:{groups!r}", compute)


def prefetch(ctx: CheckContext) -> None:
    """What git.pushed reads first and that changes nothing (no fetch): the repository's config, the
    object reader and the status. Started in the background before the other checks' modules load,
    so that git runs on another core meanwhile (`CheckContext.in_background`)."""
    ws = workspace_repo(ctx)
    ws.rev_parse("HEAD")
    _dirty(ctx, ws)


def prefetch_flux(ctx: CheckContext) -> None:
    """The search for Flux's commit (git.flux-commit), in the background like `prefetch`; offline only
    and when reading origin fetches nothing, so that it changes nothing the run would not."""
    if not ctx.offline:
        return
    ws = workspace_repo(ctx)
    if _is_local(ws.remote_url("origin")) and not ws.fetch_changes_nothing("origin"):
        return  # origin moved: the fetch stays with git.pushed, which runs only once the files exist
    origin = fetched_origin(ctx)
    name, email = _automation_author(ctx)
    if origin.sha is not None and (email or name):
        _flux_commits(ctx, origin, email or name)


def _flux_commits(ctx: CheckContext, origin: Origin, who: str) -> list[CommitInfo]:
    """The last 200 commits on origin's branch by `who` (name or email), once per run."""
    return ctx.cached(f"git:log:{origin.ref}:{who}", lambda: origin.ws.log(origin.ref, n=200, author=who))


def fetched_origin(ctx: CheckContext) -> Origin:
    """The workspace and origin's branch, fetched once per run (a local bare origin even offline)."""

    def compute() -> Origin:
        ws = workspace_repo(ctx)
        branch = graded_branch(ctx)
        if "origin" not in ws.remotes():
            raise GitError(
                f"{ctx.workspace.name} has no remote origin",
                hint="git remote add origin URL && git push -u origin main",
            )
        fetched, fetch_error = False, None
        if not ctx.offline or _is_local(ws.remote_url("origin")):
            try:
                ws.fetch("origin", timeout=FETCH_TIMEOUT_S)
                fetched = True
            except GitError as err:
                fetch_error = err
        ref = f"refs/remotes/origin/{branch}"
        return Origin(ws, branch, ref, ws.remote_sha(branch), fetched, fetch_error)

    return ctx.cached("git:origin", compute)


def _unusable(err: LabError) -> Outcome:
    return Outcome.failed(err.message, hint=err.hint or "run `git status` in your repository")


def _fetch_problem(origin: Origin) -> Outcome | None:
    if origin.fetch_error is not None and origin.sha is None:
        return Outcome.errored(
            f"could not fetch origin: {origin.fetch_error.message}",
            hint=origin.fetch_error.hint or "check your network and access to the remote",
        )
    return None


def pushed_origin(ctx: CheckContext) -> tuple[Origin, str]:
    """Origin and the sha of its branch; Concluded with the outcome that explains why it is not usable."""
    try:
        origin = fetched_origin(ctx)
    except GitError as err:
        raise Concluded(_unusable(err)) from None
    problem = _fetch_problem(origin)
    if problem is not None:
        raise Concluded(problem)
    if origin.sha is None:
        raise Concluded(_no_branch(ctx, origin))
    return origin, origin.sha


def _no_branch(ctx: CheckContext, origin: Origin) -> Outcome:
    """origin lacks the graded branch; when the learner's GitRepository named it, source-controller
    fails on it too, and says so in its words."""
    branch = origin.branch
    followed = followed_branch(ctx)
    if followed is None or followed.branch != branch:
        return Outcome.failed(f"origin has no branch {branch}", hint=f"git push -u origin {branch}")
    has_main = branch != "main" and origin.ws.remote_sha("main") is not None
    return Outcome.failed(
        f"origin has no branch {branch}, which GitRepository flux-system follows (spec.ref.branch): "
        "source-controller fails with: failed to checkout and determine revision: "
        + no_remote_branch(followed.url, branch),
        file=followed.file,
        line=followed.line,
        hint=f"git push -u origin {branch}, or set spec.ref.branch to a branch origin has"
        + (", e.g. main" if has_main else ""),
    )


@check("git.pushed")
def git_pushed(ctx: CheckContext) -> Outcome:
    origin, sha = pushed_origin(ctx)
    return _noting_stale(origin, _git_pushed(ctx, origin, sha))


def _noting_stale(origin: Origin, outcome: Outcome) -> Outcome:
    """`outcome` with the note that origin could not be fetched this run, when it could not: the
    verdict is of origin as this clone last saw it."""
    stale = origin.stale_note()
    if not stale:
        return outcome
    # A pass shows its notes under the check; a failure its whole message.
    return replace(outcome, message=f"{outcome.message}; note: {stale}")


def _git_pushed(ctx: CheckContext, origin: Origin, sha: str) -> Outcome:
    ws, branch = origin.ws, origin.branch
    # One `git status` for both questions: the task's files first, the learner's records at the end.
    dirty, dirty_records = _dirty(ctx, ws)
    if dirty:
        return Outcome.failed(
            f"not committed: {', '.join(dirty)}",
            file=dirty[0],
            hint=None,  # the task's own: its files and its commit message
        )
    remote_tree = ws.read_tree_at(origin.ref, automation_dir(ctx))
    head_tree = ws.read_tree_at("HEAD", automation_dir(ctx)) if ws.rev_parse("HEAD") else {}
    stale = [f for f in automation_files(ctx) if remote_tree.get(f) != head_tree.get(f)]
    evidence = [Evidence("git", f"origin/{branch}", sha)]
    if origin.fetch_error is not None:
        evidence.append(
            Evidence("git", "fetch", f"fetch failed, using the last fetched state: {origin.fetch_error}")
        )
    ahead, behind = _ahead_behind(ws, branch, origin.ref, sha)
    elsewhere = _other_branch(ws, branch)
    changed_there = ""
    if stale and behind and not ahead and elsewhere is None:
        # Behind, not ahead: everything the learner committed is on origin, and someone's later commit
        # changed (or added) the files there. Nothing to push (`git push` says "Everything up-to-date"): pull.
        changed_there, stale = f", which changed {', '.join(stale)}", []
    if stale:
        missing = [f for f in stale if f not in remote_tree]
        what = "missing on" if missing else "different on"
        committed = not missing or all(f in head_tree for f in missing)
        if elsewhere is not None and committed:
            # Pushed, maybe, but to a branch nothing grades: a `git push` there changes nothing here.
            return Outcome.failed(
                f"{', '.join(stale)} {what} origin/{branch}: you are on {elsewhere}, and the checks "
                f"read {branch} - merge {elsewhere} into it",
                file=stale[0],
                hint=_merge_hint(elsewhere, branch),
                evidence=evidence,
            )
        if committed and ahead and behind:
            return _diverged(branch, ahead, behind, evidence)
        # What a push brings besides them (the marked deployment, ...): every file that differs.
        others = (
            [f for f in ws.changed_files(origin.ref, "HEAD") if f not in stale]
            if ahead and not behind
            else []
        )
        also = f" (also different: {_listed(others)})" if others else ""
        return Outcome.failed(
            f"{', '.join(stale)} {what} origin/{branch}: "
            + ("committed, not pushed yet" if committed else "commit and push")
            + also,
            file=stale[0],
            hint="git push" if committed else None,
            evidence=evidence,
        )
    local_deploy = ctx.read_text(deployment_file(ctx)) if ctx.exists(deployment_file(ctx)) else ""
    remote_deploy = ws.show_file(origin.ref, deployment_file(ctx)) or b""
    if MARKER_KEY in local_deploy and TOKEN not in remote_deploy:
        where = f": you are on {elsewhere}, and the checks read {branch}" if elsewhere is not None else ""
        return Outcome.failed(
            f"the image policy marker in {deployment_file(ctx)} is not on origin/{branch}{where}",
            file=deployment_file(ctx),
            hint=_merge_hint(elsewhere, branch) if elsewhere is not None else None,
            evidence=evidence,
        )
    problem = _unpushed_work(ctx, ws, branch, ahead, behind, evidence)
    if problem is not None:
        return problem
    when = "" if origin.fetched else " (as of the last fetch)"
    pull = ""
    if dirty_records:
        then = PULL_AND_PUSH if behind else "git push"
        pull = (
            f"; note: not committed yet (graders read origin): {', '.join(dirty_records)} - "
            f'git add {" ".join(dirty_records)} && git commit -m "..." && {then}'
        )
    elif behind:
        pull = (
            f"; note: origin has {count_commits(len(behind))}{by_author(behind)} you don't have yet"
            f"{changed_there}: git pull --rebase (or lab sync)"
        )
    if elsewhere is not None:
        pull += _elsewhere_note(ws, elsewhere, branch, origin.ref)
    pinned = pinned_ref(ctx) if "branch" not in ctx.settings else None
    if pinned is not None:
        pull += (
            f"; note: the GitRepository Flux deploys from follows {pinned} (spec.ref), not a branch: "
            f"source-controller checks out that ref, so Flux deploys what it names, not origin/{branch}"
        )
    return Outcome.passed(
        f"origin/{branch} ({sha[:7]}) has the image automation files{when}{pull}", evidence=evidence
    )


def _other_branch(ws: Workspace, graded: str) -> str | None:
    """The branch checked out when it is not the one graded and holds other commits (None on it, at
    its commit, or detached). The commits are compared first: through the object reader already open,
    where naming the branch takes a git process of its own."""
    head = ws.rev_parse("HEAD")
    if head is None or head == ws.rev_parse(f"refs/heads/{graded}"):
        return None
    name = ws.branch()
    return name if name is not None and name != graded else None


def _merge_hint(branch: str, graded: str) -> str:
    return f"git switch {graded} && git merge {branch} && git push (or lab sync), or a pull request"


def _elsewhere_note(ws: Workspace, branch: str, graded: str, graded_ref: str) -> str:
    """What a pass on `graded` leaves out when the learner works on `branch`: its own commits."""
    own = ws.log("HEAD", n=1000, not_ref=graded_ref)
    if not own:
        return ""
    return (
        f"; note: you are on {branch}: its {count_commits(len(own))} not on origin/{graded} "
        f"{'is' if len(own) == 1 else 'are'} not graded until merged into {graded} - {_merge_hint(branch, graded)}"
    )


def _ahead_behind(
    ws: Workspace, branch: str, remote_ref: str, remote_sha: str
) -> tuple[list[CommitInfo], list[CommitInfo]]:
    local = f"refs/heads/{branch}"
    local_sha = ws.rev_parse(local)
    if local_sha is None or local_sha == remote_sha:
        return [], []  # in step with origin (the usual case): no history to walk
    return ws.ahead_behind(local, remote_ref)


def _listed(files: list[str]) -> str:
    return ", ".join(files[:5]) + (f" and {len(files) - 5} more" if len(files) > 5 else "")


def _subjects(commits: list[CommitInfo]) -> str:
    shown = ", ".join(f'{c.short} "{c.subject}"' for c in commits[:3])
    return shown + (f" and {len(commits) - 3} more" if len(commits) > 3 else "")


def _diverged(
    branch: str, ahead: list[CommitInfo], behind: list[CommitInfo], evidence: list[Evidence]
) -> Outcome:
    """Committed without pulling: a plain push is rejected, and the grader sees none of it."""
    return Outcome.failed(
        f"your {branch} and origin/{branch} have diverged: origin has {count_commits(len(behind))}"
        f"{by_author(behind)} you don't have, and your {count_commits(len(ahead))} "
        f"({_subjects(ahead)}) {'is' if len(ahead) == 1 else 'are'} not on origin - a plain git push is "
        "rejected",
        hint=f"{PULL_AND_PUSH} (or `lab sync`): replays your commits on top of origin's, then pushes",
        evidence=[*evidence, *(Evidence("git", c.sha, f"{c.author_name}: {c.subject}") for c in behind[:3])],
    )


def _unpushed_work(
    ctx: CheckContext,
    ws: Workspace,
    branch: str,
    ahead: list[CommitInfo],
    behind: list[CommitInfo],
    evidence: list[Evidence],
) -> Outcome | None:
    """The learner's work (PROGRESS.md, the quiz record, the marker...) committed but not pushed:
    graders and CI read origin, so it does not count yet. Uncommitted edits are only noted (`lab check
    --update-progress` writes PROGRESS.md itself; the learner commits it afterwards)."""
    quiz = str(ctx.settings.get("quiz_record", ".fluxlab/quiz.json"))
    task_files = {*automation_files(ctx), deployment_file(ctx), PROGRESS_FILE, quiz}
    mine = [c for c in ahead if task_files & set(ws.commit_files(c.sha))]
    if mine:
        if behind:
            return _diverged(branch, ahead, behind, evidence)
        return Outcome.failed(
            f"{count_commits(len(mine))} not pushed to origin/{branch}: {_subjects(mine)}",
            hint="git push",
            evidence=evidence,
        )
    return None


def _automation_doc(ctx: CheckContext) -> Doc | None:
    rel = automation_files(ctx)[2]
    docs = ctx.yaml_docs(rel)
    return next(
        (d for d in docs if isinstance(d.data, dict) and d.get("kind") == "ImageUpdateAutomation"), None
    )


def _automation_author(ctx: CheckContext) -> tuple[str, str]:
    doc = _automation_doc(ctx)
    if doc is None:
        return ("", "")
    name = doc.get("spec.git.commit.author.name")
    email = doc.get("spec.git.commit.author.email")
    return (str(name) if name else "", str(email) if email else "")


def _automation(ctx: CheckContext) -> ImageUpdateAutomation | None:
    """The task's ImageUpdateAutomation (the first of its file), from `automation_set`, which also
    holds the sync file's GitRepository it clones: what image-automation-controller reads to know where
    it pushes."""
    from lab.checks.manifests import automation_set

    rel = automation_files(ctx)[2]
    return next((a for a in automation_set(ctx).automations if a.file == rel), None)


def graded_push_branch(ctx: CheckContext, origin: Origin) -> str:
    """Where the automation pushes (`ImageUpdateAutomation.effective_push_branch`, image-automation-
    controller's rule); the graded branch when it derives none or it is not a branch name, and under
    `lab grade`. Of several automations in the task's file, one that pushes to the graded branch wins
    whatever the order of the documents (a gate: staging commits to main, production to a branch a pull
    request merges); else the first one's."""
    from lab.checks.manifests import automation_set
    from lab.core.manifests.validate import git_branch_error

    if "branch" in ctx.settings:
        return origin.branch  # the roster's branch: `lab grade` grades what was handed in
    aset = automation_set(ctx)
    rel = automation_files(ctx)[2]
    pushed = [
        a.effective_push_branch(aset.git_repository(*a.source_key)) for a in aset.automations if a.file == rel
    ]
    if not pushed or origin.branch in pushed:
        return origin.branch
    first = pushed[0]
    return first if first and git_branch_error(first) is None else origin.branch


@check("git.flux-commit")
def git_flux_commit(ctx: CheckContext, within: str | None = None) -> Outcome:
    """A commit of the automation's author on origin that marked lines changed as Flux writes them.
    `within` (a directory): only a commit whose diff changes a marked line under it counts, so that an
    exercise about one environment is not passed by a Flux commit that moved another. Said of origin
    as last fetched when this run could not fetch it (a Flux commit may be there already)."""
    origin, _sha = pushed_origin(ctx)
    return _noting_stale(origin, _git_flux_commit(ctx, origin, within))


def _git_flux_commit(ctx: CheckContext, origin: Origin, within: str | None) -> Outcome:
    name, email = _automation_author(ctx)
    who = email or name
    if not who:
        return Outcome.failed(
            f"{automation_files(ctx)[2]} sets no spec.git.commit.author",
            file=automation_files(ctx)[2],
            hint="set spec.git.commit.author.name: Flux and email: flux@gitops-lab.local",
        )
    commits = _flux_commits(ctx, origin, who)
    shown = f"{name} <{email}>" if name and email else who
    if not commits:
        return _undeployed(ctx, origin, who) or Outcome.failed(
            f"no commit by {shown} on origin/{origin.branch} yet",
            hint=None,  # the task's own: only it knows whether it has cluster checks to look at
        )
    forged: tuple[CommitInfo, str] | None = None
    unlisted_after: list[tuple[CommitInfo, str]] = []
    for commit in commits:  # newest first
        parent = commit.parents[0] if commit.parents else None
        if parent is None:
            continue
        added = [
            line[1:]
            for line in origin.ws.diff(parent, commit.sha, paths=[within] if within else None).splitlines()
            if line.startswith("+") and not line.startswith("+++") and MARKER_KEY in line
        ]
        if not added:
            continue
        same, compared, unlisted = _as_flux_writes(ctx, origin.ws, commit, parent, origin.branch)
        if same:
            return Outcome.passed(
                f"{commit.short} by {commit.author_name}: {commit.subject}",
                evidence=[
                    Evidence("git", commit.sha, added[0].strip()),
                    Evidence("git", "compared with Flux", compared),
                    *(Evidence("git", c.sha, f"{c.short}, later: {why}") for c, why in unlisted_after),
                ],
            )
        if unlisted:
            unlisted_after.append((commit, compared))
        forged = forged or (commit, compared)
        if not unlisted and _still_on(origin, commit, added):
            # The marked lines as they stand are judged: a real Flux commit before this one does not
            # vouch for one made by hand after it under Flux's name.
            break
        # Its lines are gone from origin's branch (reverted or overwritten), or it is the policies' pick
        # but for a tag the lab's list lacks (Flux's, when it saw a registry or tags file that has it):
        # the commit before is judged.
    if forged is not None:
        commit, compared = forged
        return Outcome.failed(
            f"{commit.short} by {commit.author_name} ({commit.subject!r}) is not the commit Flux writes: "
            f"{compared}",
            hint="let Flux make the commit: `lab simulate` runs one reconcile offline (or `lab sandbox up`); "
            "revert the hand-made commit first (git revert " + commit.short + " && git push)",
            evidence=[Evidence("git", commit.sha, commit.subject)],
        )
    if within:
        files = origin.ws.commit_files(commits[0].sha)
        return Outcome.failed(
            f"{len(commits)} commit(s) by {shown} on origin/{origin.branch}, but none changed a marked "
            f"line under {within}/: the last, {commits[0].short} ({commits[0].subject!r}), changed "
            f"{', '.join(files[:3]) or 'nothing'}{' and more' if len(files) > 3 else ''}",
            hint=None,  # the task's own: how Flux gets to move that directory
            evidence=[Evidence("git", c.sha, c.subject) for c in commits[:3]],
        )
    return Outcome.failed(
        f"{len(commits)} commit(s) by {shown} on origin/{origin.branch}, "
        "but none changed a marked image line",
        hint="the marker must sit at the end of the image line Flux should update",
        evidence=[Evidence("git", c.sha, c.subject) for c in commits[:3]],
    )


def _undeployed(ctx: CheckContext, origin: Origin, who: str) -> Outcome | None:
    """A failure naming Flux's commit on the branch spec.git pushes to when that is not the branch Flux
    deploys (the one graded): it deploys nothing until it is merged. None when there is none there."""
    pushed_to = graded_push_branch(ctx, origin)
    if pushed_to == origin.branch or origin.ws.remote_sha(pushed_to) is None:
        return None
    iua = _automation(ctx)
    if "branch" not in ctx.settings and iua is not None and iua.refspec_branch == origin.branch:
        return None  # the refspec pushes the same commit to the deployed branch too
    there = _flux_commits(ctx, replace(origin, branch=pushed_to, ref=f"refs/remotes/origin/{pushed_to}"), who)
    if not there:
        return None
    return Outcome.failed(
        f"Flux's commit {there[0].short} ({there[0].subject!r}) is on origin/{pushed_to}, where spec.git "
        f"pushes, not on origin/{origin.branch}, which Flux deploys: nothing changed in the cluster",
        hint=f"merge {pushed_to} into {origin.branch} (a PR flow: git fetch && git merge origin/{pushed_to} "
        f"&& git push), or set spec.git.push.branch: {origin.branch}",
        evidence=[Evidence("git", c.sha, c.subject) for c in there[:3]],
    )


def _still_on(origin: Origin, commit: CommitInfo, added: Sequence[str]) -> bool:
    """Whether a marked line `commit` added is still in one of the files it changed on origin's branch."""
    for path in origin.ws.commit_files(commit.sha):
        now = origin.ws.show_file(origin.ref, path)
        if now is not None and set(added) & set(now.decode("utf-8", "replace").splitlines()):
            return True
    return False


def _known_tags(ctx: CheckContext, repo: ImageRepository) -> tuple[list[str] | None, str, bool]:
    """The tags `repo`'s scan stores as the lab knows them (None: unknown), where they come from (the
    tags file, the registry, or offline or unreachable the task's bundled list), and whether they are
    that dated snapshot, which lacks what the registry published since."""
    from lab.checks.registry import bundled_tags_of, repository_tags

    bundled = ctx.offline and ctx.tags_file is None
    tags = bundled_tags_of(ctx, repo) if bundled else repository_tags(ctx, repo)
    if tags is None or tags.outcome is not None:
        return None, "", False
    return list(tags.stored), tags.source, tags.bundled


def _as_flux_writes(
    ctx: CheckContext, ws: Workspace, commit: CommitInfo, parent: str, branch: str
) -> tuple[bool, str, bool]:
    """Whether `commit`, on `branch`, is what image-automation-controller writes on `parent`: the marked
    values its policies select on the tags known, the files changed, and its messageTemplate rendered;
    with what was compared (or why it could not be: the tags or the template are not known to the lab),
    and whether a "no" rests only on tags the lab's list lacks (Flux's, had they been published).
    Several automations may share the author (one per environment): any of those that push to `branch`
    and walk a file the commit changes may have written it."""
    from lab.core.diagnose import norm_path, under
    from lab.core.manifests.parse import find_automation
    from lab.core.reconcile import author, yaml_texts

    try:
        tree = ws.read_tree_at(parent)
        aset = find_automation(yaml_texts(tree), ctx.load_yaml)  # its unchanged files: parsed already
    except LabError as err:
        return True, f"not compared with the policies ({err.message})", False
    mine = [a for a in aset.automations if author(a) == (commit.author_name, commit.author_email)]
    if not mine:
        return True, "not compared with the policies (no automation by this author before it)", False
    files = ws.commit_files(commit.sha)

    def pushes_here(a: ImageUpdateAutomation) -> bool:
        git_repository = aset.git_repository(*a.source_key)
        return branch in (a.effective_push_branch(git_repository), a.refspec_branch)

    def walks(a: ImageUpdateAutomation) -> bool:
        return any(under(p, norm_path(a.update_path)) for p in files)

    # Neither narrowing may leave none: the lab may not derive the branch (`lab grade`'s roster branch).
    mine = [a for a in mine if pushes_here(a)] or mine
    mine = [a for a in mine if walks(a)] or mine
    verdicts = [_as_written_by(ctx, ws, commit, parent, tree, aset, iua) for iua in mine]
    return next((v for v in verdicts if v[0]), verdicts[0])


def _as_written_by(
    ctx: CheckContext,
    ws: Workspace,
    commit: CommitInfo,
    parent: str,
    tree: Mapping[str, bytes],
    aset: AutomationSet,
    iua: ImageUpdateAutomation,
) -> tuple[bool, str, bool]:
    """`_as_flux_writes` for one automation."""
    from lab.core.diagnose import norm_path, under

    try:
        sources = {r.image: _known_tags(ctx, r) for r in aset.repositories}
        unknown = [image for image, (tags, _, _) in sources.items() if tags is None]
        if unknown:
            return True, f"values not compared: the tags of {', '.join(unknown)} are not known", False
        known = {image: list(tags or []) for image, (tags, _, _) in sources.items()}
        where = "; ".join(dict.fromkeys(source for _, source, _ in sources.values() if source))
        # Only a dated snapshot may lack a tag Flux wrote; a registry's or tags file's list is what
        # the scan stores, and Flux writes no tag its scan did not store.
        dated = {image for image, (_, _, snapshot) in sources.items() if snapshot}
        root = norm_path(iua.update_path)
        changed = sorted(p for p in ws.commit_files(commit.sha) if under(p, root))
        written = {p: ws.show_file(commit.sha, p) or b"" for p in changed}
        # A registry may have published tags since Flux committed: its pick then was the pick of the
        # tags without those. A tags file or the bundled list is the registry as of the lesson: exact.
        original, since, unpublished = known, [], []
        tries = 1 if ctx.offline or ctx.tags_file is not None else 4
        for _ in range(tries):
            setters, expected, changes = _flux_run(tree, aset, iua, known)
            if sorted(expected) == changed and all(written[p] == expected[p] for p in changed):
                break
            newer = [v.tag for v in setters.values() if v.tag in known.get(v.name, [])]
            since += newer
            known = {image: [t for t in tags if t not in newer] for image, tags in known.items()}
            if not newer or len(since) > 3 * len(setters):
                break

        def same() -> bool:
            return sorted(expected) == changed and all(written[p] == expected[p] for p in changed)

        if not same():
            # A tag the lab's list lacks (published since, e.g. by the sandbox's registry): Flux's
            # commit is the policies' pick once it is known, a forged one is not.
            written_tags = _written_tags(ws.diff(parent, commit.sha))
            lacking = [w for w in written_tags if not any(w in t for t in original.values())]
            unlisted = {i: [*t, *lacking] for i, t in original.items()}
            found = _flux_run(tree, aset, iua, unlisted)
            setters, expected, changes = found
            if lacking and same() and pushed_in_sandbox(ctx, original, lacking):
                # The sandbox's Flux scanned its registry, which serves what was pushed into it.
                listed = "the registry" if len(sources) > 1 else where
                where += (
                    f", with {', '.join(lacking)} it lacks (pushed into the sandbox's registry, which "
                    f"{listed} does not list)"
                )
                since = []
            elif lacking and same() and dated == set(original):
                where += (
                    f", with {', '.join(lacking)} it lacks (published since the snapshot, or never: "
                    "not checked with the registry)"
                )
                since = []
            else:
                # the policies' pick had these tags been published: not Flux's while they are not
                unpublished = lacking if lacking and same() else []
                setters, expected, changes = _flux_run(tree, aset, iua, known)
        if since and not same():
            since = []
            # no fewer tags explains it: say what the tags known now select
            setters, expected, changes = _flux_run(tree, aset, iua, original)
    except LabError as err:
        return True, f"not compared with the policies ({err.message})", False
    picks = (
        ", ".join(f"{k} selects {v.full()}" for k, v in sorted(setters.items())) or "no policy selects a tag"
    )
    if unpublished:
        listed = "the registry" if len(sources) > 1 else where
        return (
            False,
            f"it writes {', '.join(unpublished)}, which {listed} does not list: Flux writes only a tag its "
            f"scan stored ({picks})",
            True,
        )
    if since and sorted(expected) == changed:
        where += f", without {', '.join(since)} (published since)"
    if changed != sorted(expected):
        return (
            False,
            f"it changes {', '.join(changed) or 'nothing'} under ./{root}, where Flux, with the policies "
            f"selecting {picks} ({where}), changes {', '.join(sorted(expected)) or 'nothing'}",
            False,
        )
    for path in changed:
        if written[path] != expected[path]:
            difference = _first_difference(path, written[path], expected[path])
            return False, f"{difference}: {picks}, from {where}", False
    return (
        *_message_as_rendered(iua, changes, commit, f"values match the policies ({picks}, from {where})"),
        False,
    )


def pushed_in_sandbox(ctx: CheckContext, images: Iterable[str], tags: Sequence[str]) -> bool:
    """Every one of `tags` was pushed, as a tag of one of `images`, into the registry of the sandbox
    whose repository this is (`CheckContext.sandbox_pushed`)."""
    from lab.core.imagename import ImageNameError, parse_image

    pushed: set[str] = set()
    known = ctx.sandbox_pushed() if tags else {}
    for image in images:
        try:
            pushed.update(known.get(parse_image(image).repository, ()))
        except ImageNameError:
            continue
    return bool(tags) and all(t in pushed for t in tags)


def _flux_run(
    tree: Mapping[str, bytes], aset: AutomationSet, iua: ImageUpdateAutomation, tags: Mapping[str, list[str]]
) -> tuple[dict[str, ImageRef], dict[str, bytes], list[Change]]:
    """One reconcile of `iua` over `tree` with the registry's `tags` per image: its setters, the files
    it writes (new content by path) and its changes in Flux's walk order."""
    from lab.core.diagnose import norm_path, reader_skips, under
    from lab.core.reconcile import resolve_policies, setters_for
    from lab.core.setters.apply import rewrite

    _, resolved = resolve_policies(aset, iua.namespace, lambda image, _excl: tags.get(image, []))
    setters = setters_for(aset, iua, resolved)
    root = norm_path(iua.update_path)
    expected: dict[str, bytes] = {}
    changes: list[Change] = []
    files = (p for p in tree if under(p, root) and reader_skips(p) is None)
    for path in sorted(files, key=lambda p: p.split("/")):
        rel = posixpath.relpath(path, root) if root and path != root else posixpath.basename(path)
        fr = rewrite(tree[path], setters, iua.namespace, rel)
        if fr.content is not None:
            expected[path] = fr.content
            changes.extend(fr.changes)
    return setters, expected, changes


def _message_as_rendered(
    iua: ImageUpdateAutomation, changes: list[Change], commit: CommitInfo, values: str
) -> tuple[bool, str]:
    """The commit's message against the automation's messageTemplate rendered for `changes`."""
    from lab.core.commit_message import render_for

    try:
        message = render_for(iua, changes)
    except LabError:
        return True, f"{values}; message not compared (the lab cannot render its template)"
    if _cleaned(message) != _cleaned(commit.message):
        first = (_cleaned(message).splitlines() or [""])[0]
        return False, (
            f"{values}, but its message is not the automation's messageTemplate rendered for these "
            f"changes (Flux writes {first!r} ...)"
        )
    return True, f"{values} and the message its messageTemplate"


def _cleaned(message: str) -> str:
    """A commit message as `git commit` cleans it (trailing spaces, runs of blank lines, blank lines at
    the ends): Flux's verbatim message and the same text committed by `git commit -m` compare equal."""
    text = "\n".join(line.rstrip() for line in message.splitlines())
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n")


def _first_difference(path: str, written: bytes, expected: bytes) -> str:
    """The first line where the commit's `path` differs from what Flux writes, both quoted."""
    ours = written.decode("utf-8", "replace").splitlines()
    flux = expected.decode("utf-8", "replace").splitlines()
    for n, (a, b) in enumerate(zip(ours, flux, strict=False), 1):
        if a != b:
            return f"{path}:{n} reads '{_value_part(a)}', where Flux writes '{_value_part(b)}'"
    return f"{path} has {len(ours)} lines, where Flux writes {len(flux)}"


def _value_part(line: str) -> str:
    """A line without its marker comment, which both sides share."""
    head, sep, _ = line.partition(" # {")
    return (head if sep else line).strip()


def _written_tags(diff: str) -> list[str]:
    """The tags the marked lines a commit adds end with (`image: repo:TAG # {"$imagepolicy": ...}`)."""
    out: list[str] = []
    for line in diff.splitlines():
        if line.startswith("+") and not line.startswith("+++") and MARKER_KEY in line:
            value = _value_part(line[1:]).partition(":")[2].strip().strip("'\"")
            tag = value.rpartition("@")[0] if "@" in value else value
            tag = tag.rpartition(":")[2] if ":" in tag else tag
            if tag and tag not in out:
                out.append(tag)
    return out
