"""Checks of the three "Think about" exercises (09b-multi, 09b-staging, 09b-guard).

The Flux logic lives in lab.core (`imagefields`: which marker variant fits which field; `scope`: what
automations write where; `mutation`: policies against trap tags); these functions only read the
learner's pushed repository and the task's data (its `[[images]]` tag lists, the `[exercise]` table of
its checks file) and map the findings to outcomes. Everything runs offline: tags come from the task's
bundled lists, pushes of new tags happen in memory.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from lab.checks import check
from lab.checks.context import CheckContext, automation_files, graded_branch
from lab.core.checks.model import Evidence, Outcome, Status, and_more
from lab.core.checks.runner import Concluded
from lab.core.imagename import canonical_or_written
from lab.core.manifests.models import AutomationSet, ImagePolicy, ImageRepository, ImageUpdateAutomation
from lab.core.reconcile import TagSource
from lab.core.refs import ImageRef, split_reference
from lab.errors import LabError

if TYPE_CHECKING:
    from lab.core.diagnose import Finding
    from lab.core.imagefields import ImageField, Verdict
    from lab.core.scope import AutomationRun

PUSH_HINT = "git add -A && git commit -m 'Image automation' && git push"


# -- task data ------------------------------------------------------------------------------------


def _params(ctx: CheckContext) -> dict[str, Any]:
    raw = ctx.settings.get("exercise")
    return raw if isinstance(raw, dict) else {}


def task_tags(task: str) -> dict[str, list[str]]:
    """The tags the task's registry serves, by canonical image name (tasks/<id>/task.toml [[images]])."""
    from lab.adapters.tagsfile import read_tags
    from lab.adapters.tasks import load_task

    the_task = load_task(task)
    return {
        canonical_or_written(i.name): read_tags(the_task.image_file(i.tags)) for i in the_task.meta.images
    }


def tag_source(task: str, extra: Mapping[str, Sequence[str]] | None = None) -> TagSource:
    """A TagSource over the task's bundled tags plus `extra` tags pushed in memory (by image name)."""
    return _source_over(task_tags(task), extra)


def _run_tags(ctx: CheckContext) -> dict[str, list[str]]:
    """`task_tags(ctx.task)`, read once per run: several checks replay Flux on them (each read parsed
    the task's texts and tags files again)."""
    return ctx.cached("exercises:task-tags", lambda: task_tags(ctx.task))


def _run_source(ctx: CheckContext, extra: Mapping[str, Sequence[str]] | None = None) -> TagSource:
    """`_run_source(ctx, extra)` over the run's `_run_tags`."""
    return _source_over(_run_tags(ctx), extra)


def _source_over(bundled: Mapping[str, list[str]], extra: Mapping[str, Sequence[str]] | None) -> TagSource:
    from lab.core.scan import store_tags

    pushed = {canonical_or_written(k): list(v) for k, v in (extra or {}).items()}

    def source(image: str, exclusion: Sequence[str]) -> list[str]:
        name = canonical_or_written(image)
        return store_tags([*bundled.get(name, []), *pushed.get(name, [])], exclusion)

    return source


def _tag_of(value: str) -> str:
    """The tag in a field's value: `ghcr.io/acme/shop:1.4.3@sha256:…` and `1.4.3` are `1.4.3`."""
    name, tag = split_reference(value)
    return tag or name


# -- the pushed repository ------------------------------------------------------------------------


def _origin_tree(ctx: CheckContext) -> dict[str, bytes]:
    """origin's branch as Flux clones it; Concluded when there is nothing pushed to read."""
    from lab.checks.gitrepo import pushed_origin

    origin, _sha = pushed_origin(ctx)

    def read() -> dict[str, bytes]:
        return dict(origin.ws.read_tree_at(origin.ref))

    return ctx.cached("exercises:origin-tree", read)


def _texts(tree: Mapping[str, bytes]) -> dict[str, str]:
    from lab.core.reconcile import yaml_texts

    texts = yaml_texts(tree)
    for path, data in tree.items():
        if posixpath.basename(path) == "Kustomization":
            texts[path] = data.decode("utf-8", "replace")
    return texts


def _aset(ctx: CheckContext, tree: Mapping[str, bytes]) -> AutomationSet:
    """The automation objects in `tree`, each file parsed once per run (`ctx.load_yaml`); origin's own
    set is read once per run, whichever check asks first (the sets are read, never changed)."""
    from lab.core.manifests.parse import find_automation

    def read() -> AutomationSet:
        return find_automation(_texts(tree), ctx.load_yaml)

    if tree is _origin_tree(ctx):
        return ctx.cached("exercises:origin-aset", read)
    return read()


def _main_automation(ctx: CheckContext, aset: AutomationSet) -> ImageUpdateAutomation:
    if not aset.automations:
        raise Concluded(
            Outcome.failed(
                "origin has no ImageUpdateAutomation",
                file=automation_files(ctx)[2],
                hint=PUSH_HINT,
            )
        )
    return aset.automations[0]


def _marked_fields(
    ctx: CheckContext, tree: Mapping[str, bytes], iua: ImageUpdateAutomation
) -> tuple[list[Any], list[Any], list[Any]]:
    """(image fields, markers Flux reads, markers it does not read) in the YAML files under the
    automation's update path."""
    from lab.core.imagefields import find_image_fields
    from lab.core.scope import norm_path, under
    from lab.core.setters import find_markers

    root = norm_path(iua.update_path)
    fields: list[Any] = []
    markers: list[Any] = []
    unread: list[Any] = []
    for path, text in sorted(_texts(tree).items()):
        if not under(path, root):
            continue
        try:
            docs = ctx.load_yaml(text, path)  # parsed once per run, whichever check asks first
        except LabError:
            continue
        fields.extend(find_image_fields(path, docs))
        for m in find_markers(text, path):
            (markers if m.setter is not None and m.why_ignored is None else unread).append(m)
    return fields, markers, unread


def _policy_values(aset: AutomationSet, iua: ImageUpdateAutomation, source: TagSource) -> dict[str, ImageRef]:
    from lab.core.reconcile import resolve_policies

    _, setters = resolve_policies(aset, iua.namespace, source)
    return setters


# -- 09b-multi ------------------------------------------------------------------------------------


def _starter_fields(ctx: CheckContext) -> dict[str, list[ImageField]]:
    """The image fields of each YAML file of the task's starter (files with none left out); a starter
    file origin still holds as it is is parsed once for both (`ctx.load_yaml`)."""
    from lab.adapters.tasks import load_task
    from lab.core.imagefields import find_image_fields

    def held(path: str, text: str) -> list[ImageField]:
        try:
            return find_image_fields(path, ctx.load_yaml(text, path))
        except LabError:
            return []

    starter = load_task(ctx.task).starter  # the task's own files: trusted, small
    return {
        rel: found
        for rel in (f.relative_to(starter).as_posix() for f in sorted(starter.rglob("*")) if f.is_file())
        if rel.endswith((".yaml", ".yml"))
        and (found := held(rel, (starter / rel).read_text(encoding="utf-8", errors="replace")))
    }


def _starter_images(ctx: CheckContext) -> dict[tuple[str, str], str]:
    """(file, label) -> the image each field of the task's starter refers to: what a field was for
    before Flux rewrote it with another image's policy."""
    starter = ctx.cached(f"exercises:starter-fields:{ctx.task}", lambda: _starter_fields(ctx))
    return {(f.file, f.label): f.image for found in starter.values() for f in found if f.image}


def _policy_images(aset: AutomationSet) -> dict[str, str]:
    """Each policy's `ns:name` -> the image its ImageRepository scans (policies whose repository is on origin)."""
    return {
        f"{p.namespace}:{p.name}": repo.image
        for p in aset.policies
        if (repo := _repository_for(aset, p)) is not None and repo.image
    }


def _fields_out_of_reach(
    ctx: CheckContext, tree: Mapping[str, bytes], iua: ImageUpdateAutomation
) -> Outcome | None:
    """Image fields Flux will never update, where it says nothing: a file under the update path that
    does not parse (the setters skip it, trace log only) while it carries a marker or held image fields
    in the starter, or a starter file with image fields that is gone from origin."""
    from lab.core.scope import norm_path, under

    expected = ctx.cached(f"exercises:starter-fields:{ctx.task}", lambda: _starter_fields(ctx))
    root = norm_path(iua.update_path)
    texts = _texts(tree)
    for path in sorted({*texts, *expected}):
        if not under(path, root) or (
            path in texts and path not in expected and '"$imagepolicy"' not in texts[path]
        ):
            continue
        if path not in texts:
            return Outcome.failed(
                f"{path} is gone from origin: its {len(expected[path])} image field(s) are no longer automated",
                file=path,
                hint=f"bring it back (`git log --oneline -- {path}` shows the commit that removed it)",
            )
        try:
            ctx.load_yaml(texts[path], path)
        except LabError as err:
            return Outcome.failed(
                f"{path} does not parse as YAML ({err.message}): Flux skips it without a word, so its "
                "image fields never move",
                file=path,
                line=err.line,
                hint="fix the YAML (lab check names the line), commit and push",
            )
    return None


@check("multi.markers")
def multi_markers(ctx: CheckContext) -> Outcome:
    from lab.core.imagefields import judge

    tree = _origin_tree(ctx)
    aset = _aset(ctx, tree)
    iua = _main_automation(ctx, aset)
    unreached = _fields_out_of_reach(ctx, tree, iua)
    if unreached is not None:
        return unreached
    fields, markers, unread = _marked_fields(ctx, tree, iua)
    values = _policy_values(aset, iua, _run_source(ctx))
    verdicts = judge(
        fields, markers, values, policy_images=_policy_images(aset), meant=_starter_images(ctx), unread=unread
    )
    bad = [v for v in verdicts if not v.ok]
    # The verdicts' messages open with file:line, which the evidence names already.
    evidence = [
        Evidence("file", f"{v.file}:{v.line}", v.message.removeprefix(f"{v.file}:{v.line}: "))
        for v in verdicts
    ]
    if bad:
        return Outcome.first_failure(bad, evidence)
    good = [v for v in verdicts if v.marker is not None]
    if not good:
        return Outcome.failed("no image field carries a marker", hint=f"see `lab lesson --task {ctx.task}`")
    return Outcome.passed(
        f"{len(good)} image field(s) marked, each with the variant of its shape", evidence=evidence
    )


def _bumped_run(
    ctx: CheckContext,
) -> tuple[dict[str, bytes], dict[str, bytes], list[Any], ImageUpdateAutomation]:
    """Every automation once over origin, after the task's `next_tags` were pushed (in memory): origin's
    tree, the tree after, the runs and the main automation; Concluded with the Outcome that says why not."""
    tree = _origin_tree(ctx)
    from lab.core.scope import run_automations

    params = _params(ctx)
    extra = {str(k): [str(v)] for k, v in dict(params.get("next_tags", {})).items()}
    aset = _aset(ctx, tree)
    iua = _main_automation(ctx, aset)
    new, runs = run_automations(tree, aset, _run_source(ctx, extra))
    return tree, new, runs, iua


def _no_such_policy(policy_ref: str, aset: AutomationSet) -> tuple[str, str] | None:
    """(what, hint) when a marker's `ns:name` names no ImagePolicy on origin: it selects no tag because
    it does not exist, which marker.valid names (image-policy.valid has nothing to say about it)."""
    namespace, _, name = policy_ref.partition(":")
    if aset.policy(namespace, name) is not None:
        return None
    known = ", ".join(sorted(f"{p.namespace}:{p.name}" for p in aset.policies)) or "none"
    return (
        f"the marker names {policy_ref}, but no such ImagePolicy exists (policies: {known}), so Flux skips "
        "it and never updates this field",
        "see marker.valid: name an existing policy as namespace:name",
    )


def _not_moved(
    verdict: Verdict, setters: Mapping[str, ImageRef], after: Any, aset: AutomationSet, *, moved: bool
) -> tuple[str, str] | None:
    """Why a well-marked field does not move to what its policy selects (what, hint); None when it does.
    `after` is the field after the new tags (None when gone), `moved` whether the reconcile changed it."""
    from lab.core.imagefields import SUFFIX_FOR

    marker = verdict.marker
    assert marker is not None
    ref = setters.get(marker.policy_ref)
    if ref is None:
        missing = _no_such_policy(marker.policy_ref, aset)
        if missing is not None:
            return missing
        return (
            f"policy {marker.policy_ref} selects no tag, so Flux never updates this field",
            f"lab simulate --dry-run shows why {marker.policy_ref} is not ready",
        )
    newest = f"the policy {marker.policy_ref} should select the newest release"
    wanted = ref.written(marker.suffix)
    if after is None or after.value != wanted:
        return f"after the new tags the field reads {after.value if after else '?'}, not {wanted}", newest
    moves = verdict.field is not None and SUFFIX_FOR.get(verdict.field.shape) in ("", "tag", "digest")
    if moves and not moved:
        return "the next release was pushed but this field did not move", newest
    return None


def _well_marked(
    ctx: CheckContext, tree: Mapping[str, bytes], iua: ImageUpdateAutomation
) -> dict[Any, Verdict]:
    """(file, line) -> the verdict of each image field under the update path that carries a fitting marker."""
    from lab.core.imagefields import judge

    fields, markers, _ = _marked_fields(ctx, tree, iua)
    verdicts = judge(
        fields, markers, policy_images=_policy_images(_aset(ctx, tree)), meant=_starter_images(ctx)
    )
    return {(v.file, v.line): v for v in verdicts if v.ok and v.marker is not None}


@check("multi.moves")
def multi_moves(ctx: CheckContext) -> Outcome:
    """After CI pushes the next release of every image, one reconcile moves every marked field (to
    exactly what its policy selects) and changes nothing else."""
    tree, new, runs, iua = _bumped_run(ctx)
    errors = [r.error for r in runs if r.error]
    if errors:
        return Outcome.failed(errors[0], file=iua.file, line=iua.line_of("spec.update.path"))
    good = _well_marked(ctx, tree, iua)
    changed = {(path, c.line): c for run in runs for path, c in run.changes}
    evidence = [Evidence("change", f"{p}:{n}", f"{c.old} -> {c.new}") for (p, n), c in changed.items()]
    stray = [(key, c) for key, c in changed.items() if key not in good]
    if stray:
        (path, line), c = stray[0]
        return Outcome.failed(
            f"{path}:{line}: Flux would also change {c.old} -> {c.new}, which is not a correctly marked "
            "image field",
            file=path,
            line=line,
            hint="see multi.markers: the marker on that line does not fit the field",
            evidence=evidence,
        )
    setters = {k: v for run in runs for k, v in run.setters.items()}
    new_fields = {(f.file, f.line): f for f in _marked_fields(ctx, new, iua)[0]}
    for (path, line), verdict in good.items():
        problem = _not_moved(
            verdict, setters, new_fields.get((path, line)), _aset(ctx, tree), moved=(path, line) in changed
        )
        if problem is not None:
            what, hint = problem
            return Outcome.failed(
                f"{path}:{line}: {what}", file=path, line=line, hint=hint, evidence=evidence
            )
    return Outcome.passed(
        f"one reconcile moves {len(changed)} marked field(s) and nothing else", evidence=evidence
    )


@check("multi.message")
def multi_message(ctx: CheckContext) -> Outcome:
    """The automation's commit message names every change of a reconcile that moves every field."""
    from lab.core.commit_message import CommitTemplateError, render_for

    tree, _new, runs, iua = _bumped_run(ctx)
    run = next((r for r in runs if r.automation is iua), None)
    changes = [c for _, c in run.changes] if run else []
    line = iua.line_of("spec.git.commit.messageTemplate")
    # A marked field whose policy selects nothing makes no change: the list the message is judged by
    # would lose it and still read "all of them".
    setters = run.setters if run else {}
    stuck = [
        v for v in _well_marked(ctx, tree, iua).values() if v.marker and v.marker.policy_ref not in setters
    ]
    if stuck:
        first = stuck[0]
        assert first.marker is not None
        absent = _no_such_policy(first.marker.policy_ref, _aset(ctx, tree))
        if absent is not None:
            what, hint = absent
            return Outcome.failed(
                f"{first.file}:{first.line}: {what}, so it is not among the {len(changes)} changes a commit "
                "message could list",
                file=first.file,
                line=first.line,
                hint=hint,
            )
        return Outcome.failed(
            f"{len(stuck) + len(changes)} marked fields should change, but policy {first.marker.policy_ref} "
            f"selects no tag, so {first.file}:{first.line} is not among the {len(changes)} changes a commit "
            "message could list",
            file=first.file,
            line=first.line,
            hint=f"see image-policy.valid and `lab why`: why {first.marker.policy_ref} selects nothing",
        )
    if not changes:
        return Outcome.failed(
            "no change to render a commit message for (see multi.moves)", file=iua.file, line=line
        )
    try:
        message = render_for(iua, changes)
    except CommitTemplateError as err:
        return Outcome.failed(str(err), file=iua.file, line=line, hint="use .Changed.Changes")
    evidence = [Evidence("message", "rendered", message)]
    missing = [c for c in changes if c.new not in message]
    if missing:
        return Outcome.failed(
            f"the commit message does not list {len(missing)} of {len(changes)} changes "
            f"(e.g. {missing[0].old} -> {missing[0].new})",
            file=iua.file,
            line=line,
            hint="range over .Changed.Changes: {{range .Changed.Changes}}- {{.OldValue}} -> {{.NewValue}}\n{{end}}",
            evidence=evidence,
        )
    return Outcome.passed(f"the commit message lists all {len(changes)} changes", evidence=evidence)


# -- 09b-staging ----------------------------------------------------------------------------------


def _push_branch(aset: AutomationSet, iua: ImageUpdateAutomation) -> str | None:
    from lab.core.reconcile import branches

    try:
        return branches(aset, iua)[1]
    except LabError:
        return None


@check("exercise.flux-settled", params=["moves"])
def flux_settled(ctx: CheckContext) -> Outcome:
    """Flux has run on the learner's last push: its commit is on origin (git.flux-commit) and one more
    reconcile with the task's tags changes nothing. A Flux commit made before the fix (the starter's
    trap tag, a base line moved before the overlay was marked) does not count for the fixed setup. A
    field that holds a tag the task does not bundle was set by a Flux that saw newer tags (the
    sandbox's registry, `lab simulate --tags-file`): that registry still has it, so it stays.
    `[check.params] moves` (a directory, e.g. the staging overlay): Flux's commit must have changed a
    marked line there, judged from its diff; a Flux commit that moved only other files does not count."""
    from dataclasses import replace

    from lab.checks.gitrepo import git_flux_commit
    from lab.core.checks.model import Status
    from lab.core.scope import norm_path, under

    moves = norm_path(str(ctx.params["moves"])) if ctx.params.get("moves") else None
    committed = git_flux_commit(ctx, within=moves)
    # Only a failure git_flux_commit leaves to the task (no hint: no Flux commit, or none that moved
    # `moves`) is judged by what a reconcile now does; a hand-made commit keeps its "revert" advice.
    left_to_us = moves is not None and committed.status is Status.FAIL and committed.hint is None
    if committed.status is not Status.PASS and not left_to_us:
        return committed
    tree = _origin_tree(ctx)
    runs = _graded_runs(ctx, tree, _run_source(ctx))
    errors = [r.error for r in runs if r.error]
    known = {tag for tags in _run_tags(ctx).values() for tag in tags}
    changes = [(path, c) for run in runs for path, c in run.changes if _tag_of(c.old) in known]
    unmoved = moves is not None and not any(under(path, moves) for path, _ in changes)
    if unmoved and moves is not None and not errors and committed.status is not Status.PASS:
        # Another `lab simulate` would not move that directory: either it already holds the newest
        # build, or Flux never moves it as set up. One more build published tells them apart.
        newest = _holds_the_newest(ctx, tree, moves)
        if newest is None:
            return replace(
                committed,
                hint=f"a reconcile now changes nothing under {moves}/ either, nor with one more build "
                "published: Flux applies no marker there (staging.isolated says why, `lab lesson` how "
                "to scope it)",
            )
        committed = newest
    if errors:
        return Outcome.failed(f"a reconcile of origin now fails: {errors[0]}", hint="lab simulate --dry-run")
    if changes:
        path, change = changes[0]
        return Outcome.failed(
            f"Flux has not run since your last push: a reconcile now would change {path}:{change.line} "
            f"{change.old} -> {change.new}",
            file=path,
            line=change.line,
            hint="lab simulate (in the app: 5, then c), then git pull",
            evidence=[Evidence("change", f"{p}:{c.line}", f"{c.old} -> {c.new}") for p, c in changes[:5]],
        )
    off = _off_the_expected_pick(ctx, tree, known)
    if off is not None:
        return off
    return Outcome.passed(
        f"{committed.message}; a reconcile now changes nothing", evidence=committed.evidence
    )


def _graded_runs(ctx: CheckContext, tree: Mapping[str, bytes], tags: TagSource) -> list[AutomationRun]:
    """One reconcile of every automation on origin's tree, keeping the runs that push to the branch
    git.flux-commit grades: another automation's commits (production's, to a branch a pull request
    merges) are not missing from that branch, however often Flux runs."""
    from lab.checks.gitrepo import graded_push_branch, pushed_origin
    from lab.core.scope import run_automations

    aset = _aset(ctx, tree)
    graded = graded_push_branch(ctx, pushed_origin(ctx)[0])
    _, runs = run_automations(tree, aset, tags)
    return [r for r in runs if _push_branch(aset, r.automation) in (graded, None)]


def _holds_the_newest(ctx: CheckContext, tree: Mapping[str, bytes], moves: str) -> Outcome | None:
    """A pass when no Flux commit had to move `moves`: origin's marked fields there already hold what
    their policies pick on the task's tags, and with the first round of `[exercise] rounds` published a
    reconcile moves them (staging.isolated's test). None when even that moves nothing there."""
    from lab.core.scope import under

    rounds = [dict(r) for r in _params(ctx).get("rounds", [])]
    if not rounds:
        return None
    pushed = {str(image): [str(t) for t in tags] for image, tags in rounds[0].items()}
    runs = _graded_runs(ctx, tree, _run_source(ctx, pushed))
    moved = [(path, c) for run in runs if not run.error for path, c in run.changes if under(path, moves)]
    if not moved:
        return None
    path, change = moved[0]
    return Outcome.passed(
        f"no Flux commit had to move {moves}/: {path}:{change.line} already holds {change.old}, what its "
        f"policy picks on the task's tags, and a newer build ({change.new}) would move it",
        evidence=[
            Evidence("change", f"{p}:{c.line}", f"{c.old} -> {c.new} (one more build)") for p, c in moved[:5]
        ],
    )


def _off_the_expected_pick(ctx: CheckContext, tree: Mapping[str, bytes], known: set[str]) -> Outcome | None:
    """A field of one of the exercise's guarded environments (`[exercise.prod]` and
    `[exercise.staging]`: `path`, `policy`, `expect`) that holds another of the task's tags than the one
    that environment's policy should pick: a field under `path` is judged by its table whatever policy it
    is marked with (swapped markers put staging's build in production), one elsewhere by the table of
    the policy its marker names. A settled reconcile only says Git agrees with the policy: a loose policy
    agrees with the trap tag it let through. A tag the task does not bundle came from a registry that has
    newer ones (the sandbox's) and is left to the guard checks."""
    from lab.core.imagefields import judge
    from lab.core.scope import norm_path, under

    tables = [
        table
        for table in _params(ctx).values()
        if isinstance(table, dict) and table.get("policy") and table.get("expect")
    ]
    if not tables:
        return None
    by_policy = {str(t["policy"]): t for t in tables}
    aset = _aset(ctx, tree)
    fields, markers, _ = _marked_fields(ctx, tree, _main_automation(ctx, aset))
    for v in judge(fields, markers):
        if v.field is None or v.marker is None:
            continue
        table = next(
            (t for t in tables if t.get("path") and under(v.file, norm_path(str(t["path"])))),
            by_policy.get(v.marker.policy),
        )
        if table is None:
            continue
        held, wanted = _tag_of(v.field.value), str(table["expect"])
        if held and held in known and held != wanted:
            mine = v.marker.policy == table["policy"]
            who = f"ImagePolicy {table['policy']}"
            fix = f"fix {who} (guard checks say how)" if mine else f"mark the line for {table['policy']}"
            return Outcome.failed(
                f"{v.file}:{v.line} holds {held}, not {wanted}, what {who} should select on the task's tags: "
                "Flux committed a tag the exercise keeps out",
                file=v.file,
                line=v.line,
                hint=f"{fix}, push, then lab simulate (in the app: 5, then c) and git pull",
            )
    return None


def _environments(ctx: CheckContext) -> tuple[str, str, str, dict[str, bytes]]:
    """(production's overlay, staging's, the branch production deploys from, origin's tree)."""
    from lab.core.scope import norm_path

    params = _params(ctx)
    production = norm_path(str(params.get("production", "apps/production")))
    staging = norm_path(str(params.get("staging", "apps/staging")))
    return production, staging, graded_branch(ctx), _origin_tree(ctx)


def _unmoved_cause(
    ctx: CheckContext, tree: Mapping[str, bytes], staging: str, staging_dirs: set[str], deploy_branch: str
) -> tuple[str, str, str, int | None]:
    """Why no automation moves a marker of the files staging builds, as (message, hint, file, line):
    the first broken link of the first marker, one cause only - the marker outside update.path, a policy
    that does not exist, a policySelector that leaves the policy out, an imageRepositoryRef naming no
    ImageRepository, or a policy that selects no tag."""
    from lab.core.reconcile import applies
    from lab.core.scope import file_in, norm_path, under
    from lab.core.setters import find_markers

    overlay = f"{staging}/kustomization.yaml"
    texts = _texts(tree)
    aset = _aset(ctx, tree)
    markers = [
        m
        for path, text in sorted(texts.items())
        if file_in(staging_dirs, path)
        for m in find_markers(text, path)
        if m.setter is not None and m.why_ignored is None
    ]
    autos = [
        a for a in aset.automations if _push_branch(aset, a) in (deploy_branch, None)
    ] or aset.automations
    if not markers or not autos:
        return (
            "no file staging builds carries a marker Flux reads",
            f'end the newTag line of {overlay} with # {{"$imagepolicy": "NAMESPACE:POLICY:tag"}}',
            overlay,
            None,
        )
    iua = autos[0]
    root = norm_path(iua.update_path)
    inside = [m for m in markers if under(m.file, root)]
    if not inside:
        m = markers[0]
        return (
            f"the marker at {m.file}:{m.line} lies outside update.path ./{root} of ImageUpdateAutomation "
            f"{iua.name}, so Flux never reads it",
            f"move the marker into a file under ./{root}, e.g. {overlay}"
            if under(staging, root)
            else f"set spec.update.path: ./{staging}",
            m.file,
            m.line,
        )
    m = inside[0]
    finding = _marker_finding(texts, aset, iua, inside)
    if finding is not None:
        return finding.message, finding.fix, finding.file, finding.line
    policy = aset.policy(m.namespace, m.policy)
    if policy is None or not applies(iua, policy):
        return _unseen(overlay, staging)
    ns, name = policy.repository_key
    if aset.repository(ns, name) is None:
        repos = ", ".join(sorted(r.name for r in aset.repositories)) or "none"
        return (
            f"ImagePolicy {policy.name}'s imageRepositoryRef names {name}, but there is no ImageRepository "
            f"{ns}/{name} (ImageRepositories: {repos}), so the policy selects no tag and the marker at "
            f"{m.file}:{m.line} never moves",
            f"set spec.imageRepositoryRef.name to the ImageRepository of the image ({repos})",
            policy.file,
            policy.line_of("spec.imageRepositoryRef.name"),
        )
    if f"{policy.namespace}:{policy.name}" not in _policy_values(aset, iua, _run_source(ctx)):
        return (
            f"ImagePolicy {policy.name} selects no tag of its ImageRepository, so the marker at "
            f"{m.file}:{m.line} never moves",
            f"see image-policy.valid and `lab why`: why {policy.name} selects nothing",
            policy.file,
            policy.line_of("spec.policy"),
        )
    return _unseen(overlay, staging)


def _unseen(overlay: str, staging: str) -> tuple[str, str, str, int | None]:
    return (
        "the automation sees no marker it can apply (a marker outside update.path, or a policy the "
        "policySelector leaves out, is silently ignored)",
        f"put the marker in a file under the automation's update.path, e.g. {overlay}",
        staging,
        None,
    )


def _marker_finding(
    texts: Mapping[str, str], aset: AutomationSet, iua: ImageUpdateAutomation, markers: Sequence[Any]
) -> Finding | None:
    """lab.core.diagnose's first breaking finding on `markers` as `iua` reads them (a policy that does
    not exist, a policySelector that leaves it out): the words and fix of the check that owns it."""
    from dataclasses import replace

    from lab.core.diagnose import Inputs, diagnose

    files = {path: texts[path] for path in sorted({m.file for m in markers})}
    found = diagnose(Inputs(replace(aset, automations=[iua]), files))
    return next((f for f in found if f.breaking and f.link == "markers"), None)


@check("staging.isolated")
def staging_isolated(ctx: CheckContext) -> Outcome:
    """CI pushes new tags, twice; every automation runs after each push. Nothing under production may
    change on the branch production deploys from, and staging must move."""
    from lab.core.scope import environment_dirs, file_in, run_automations, under

    production, staging, deploy_branch, tree = _environments(ctx)
    params = _params(ctx)
    texts = _texts(tree)
    prod_dirs = environment_dirs(texts, production)
    staging_dirs = environment_dirs(texts, staging)
    rounds = [dict(r) for r in params.get("rounds", [])]
    current = dict(tree)
    pushed: dict[str, list[str]] = {}
    staging_moved = False
    elsewhere: set[str] = set()  # push branches other than the deployed one where staging moved
    evidence: list[Evidence] = []
    for number, round_tags in enumerate(rounds, start=1):
        for image, tags in round_tags.items():
            pushed.setdefault(str(image), []).extend(str(t) for t in tags)
        aset = _aset(ctx, current)
        if not aset.automations:
            return Outcome.failed("origin has no ImageUpdateAutomation", hint=PUSH_HINT)
        current, runs = run_automations(current, aset, _run_source(ctx, pushed))
        for run in runs:
            if run.error:
                return Outcome.failed(
                    run.error, file=run.automation.file, line=run.automation.line_of("spec.update.path")
                )
            branch = _push_branch(aset, run.automation)
            for path, change in run.changes:
                evidence.append(
                    Evidence(
                        "change",
                        f"round {number}: {path}:{change.line}",
                        f"{change.old} -> {change.new} on {branch}",
                    )
                )
                if branch != deploy_branch:
                    if branch and file_in(staging_dirs, path):
                        elsewhere.add(branch)
                    continue  # a separate push branch is a pull request, not a deploy
                if file_in(prod_dirs, path) or under(path, production):
                    return Outcome.failed(
                        f"{path}:{change.line} changed on {deploy_branch} after CI pushed new tags "
                        f"({change.old} -> {change.new}); production must not be auto-updated",
                        file=path,
                        line=change.line,
                        hint="take markers out of files production builds (apps/base too) and scope the "
                        "automation: update.path ./apps/staging",
                        evidence=evidence,
                    )
                if file_in(staging_dirs, path):
                    staging_moved = True
    if not staging_moved and elsewhere:
        return Outcome.failed(
            f"staging moved only on branch {', '.join(sorted(elsewhere))}, which nothing deploys: the "
            f"cluster applies {deploy_branch}, so staging never gets the new tags",
            file=aset.automations[0].file if aset.automations else staging,
            hint=f"git.push.branch: {deploy_branch} for the staging automation (a separate branch is "
            "for changes a person merges)",
            evidence=evidence,
        )
    if not staging_moved:
        message, hint, file, line = _unmoved_cause(ctx, tree, staging, staging_dirs, deploy_branch)
        return Outcome.failed(
            f"CI pushed new tags twice and nothing in staging moved: {message}",
            file=file,
            line=line,
            hint=hint,
            evidence=evidence,
        )
    return Outcome.passed(
        f"{len(rounds)} rounds of new tags: staging moved, nothing under {production} changed",
        evidence=evidence,
    )


@check("staging.scoped")
def staging_scoped(ctx: CheckContext) -> Outcome:
    """The scoping the lesson teaches, on each automation that commits to the branch production deploys
    from: an update.path that reaches no directory production builds, and a policySelector that picks
    policies by label, none of them a policy production's files are marked with or another than
    staging's. Without them staging-only automation holds only while no marker sits in production's
    files; isolation alone cannot tell."""
    from lab.core.diagnose import selector_text
    from lab.core.reconcile import applies
    from lab.core.scope import environment_dirs, norm_path, under

    production, staging, deploy_branch, tree = _environments(ctx)
    aset = _aset(ctx, tree)
    iua = _main_automation(ctx, aset)
    texts = _texts(tree)
    prod_dirs = sorted(environment_dirs(texts, production))
    autos = [a for a in aset.automations if _push_branch(aset, a) in (deploy_branch, None)] or [iua]
    evidence = []
    for a in autos:
        root = norm_path(a.update_path)
        branch = _push_branch(aset, a) or deploy_branch
        reached = [d for d in prod_dirs if under(d, root) or under(root, d)]
        if reached:
            return Outcome.failed(
                f"ImageUpdateAutomation {a.name} commits to {branch} with update.path ./{root}, which "
                f"reaches {' and '.join(reached)}, built by production: without the scope Flux moves "
                "production too as soon as a marker there names a policy it applies",
                file=a.file,
                line=a.line_of("spec.update.path"),
                hint=f"spec.update.path: ./{staging}",
            )
        selector = a.doc.get("spec.policySelector") if a.doc is not None else None
        if not isinstance(selector, dict) or not (
            selector.get("matchLabels") or selector.get("matchExpressions")
        ):
            names = ", ".join(p.name for p in aset.policies if p.namespace == a.namespace) or "none yet"
            return Outcome.failed(
                f"ImageUpdateAutomation {a.name} has no policySelector: it applies every ImagePolicy of "
                f"{a.namespace} ({names}) to every marker under ./{root}, so a production policy marked there "
                "would move production too",
                file=a.file,
                line=a.line_of("spec.policySelector") or a.line_of("spec"),
                hint="spec.policySelector.matchLabels: {env: staging}, and that label on the staging ImagePolicy",
            )
        unscoped = _selects_beyond_staging(texts, aset, a, set(prod_dirs), environment_dirs(texts, staging))
        if unscoped is not None:
            return Outcome.failed(
                f"the policySelector ({selector_text(selector)}) of ImageUpdateAutomation {a.name} {unscoped}: "
                "it picks policies, but does not scope them to staging",
                file=a.file,
                line=a.line_of("spec.policySelector"),
                hint="spec.policySelector.matchLabels: {env: staging}, a label only the staging ImagePolicy has",
            )
        chosen = ", ".join(p.name for p in aset.policies if applies(a, p)) or "no policy"
        evidence.append(
            Evidence(
                "file", a.file, f"update.path ./{root}, policySelector {selector_text(selector)}: {chosen}"
            )
        )
    return Outcome.passed(
        f"automation scoped: update.path stays out of {production}, and a policySelector picks the policies",
        evidence=evidence,
    )


def _selects_beyond_staging(
    texts: Mapping[str, str],
    aset: AutomationSet,
    iua: ImageUpdateAutomation,
    prod_dirs: set[str],
    staging_dirs: set[str],
) -> str | None:
    """What `iua`'s policySelector picks beyond staging's policies: a policy a file production builds is
    marked with (first), or one no file staging builds is marked with (while staging has a marker)."""
    from lab.core.reconcile import applies
    from lab.core.scope import file_in, marker_places

    chosen = {f"{p.namespace}:{p.name}" for p in aset.policies if applies(iua, p)}
    places = marker_places(texts)
    for ref in sorted(chosen):
        prod = [f"{f}:{n}" for f, n in places.get(ref, []) if file_in(prod_dirs, f)]
        if prod:
            return f"picks {ref}, which {prod[0]} is marked with, in a file production builds"
    staging_refs = {ref for ref, at in places.items() if any(file_in(staging_dirs, f) for f, _ in at)}
    others = sorted(chosen - staging_refs)
    if staging_refs and others:
        return f"picks {', '.join(others)} besides staging's {', '.join(sorted(staging_refs))}"
    return None


@check("staging.no-flap")
def staging_no_flap(ctx: CheckContext) -> Outcome:
    """No policy is used by files of two environments, and no two automations apply one policy to the
    same files: the set-ups that make commits flap."""
    from lab.core.reconcile import applies as selects
    from lab.core.scope import app_environments, marker_places, norm_path, shared_policies, under

    tree = _origin_tree(ctx)
    texts = _texts(tree)
    aset = _aset(ctx, tree)
    envs = app_environments(aset.kustomizations, texts)
    shared = shared_policies(texts, envs)
    if shared:
        first = shared[0]
        file, _, line = first.places[0].rpartition(":")
        return Outcome.failed(
            f"{' and '.join(first.environments)} both build {first.places[0]}, which is marked for "
            f"{first.policy}: one policy name for two environments; with an automation per environment "
            "the commits flap",
            file=file,
            line=int(line),
            hint="one policy per environment (shop-staging), markers only in that environment's overlay",
        )
    places = marker_places(texts)
    autos = aset.automations
    for i, a in enumerate(autos):
        for b in autos[i + 1 :]:
            ra, rb = norm_path(a.update_path), norm_path(b.update_path)
            if not (under(ra, rb) or under(rb, ra)):
                continue
            inner = ra if under(ra, rb) else rb
            for policy in aset.policies:
                if not (selects(a, policy) and selects(b, policy)):
                    continue
                hits = [
                    f"{f}:{n}"
                    for f, n in places.get(f"{policy.namespace}:{policy.name}", [])
                    if under(f, inner)
                ]
                if hits:
                    return Outcome.failed(
                        f"automations {a.name} (path ./{ra}) and {b.name} (path ./{rb}) both apply "
                        f"{policy.namespace}:{policy.name} to {hits[0]}: their commits would flap",
                        file=a.file,
                        line=a.line_of("spec.update.path"),
                        hint="give each automation its own directory, or a policySelector that splits the policies",
                    )
    return Outcome.passed(f"{len(envs)} environment(s), {len(places)} policy name(s), none shared", file=None)


def _production_pins(ctx: CheckContext, tree: Mapping[str, bytes], production: str) -> Outcome | None:
    """Why origin's head does not pin production to a release: its overlay is gone, does not parse, or
    sets no image field (a commit that deletes the overlay changes production too, but promotes nothing)."""
    from lab.core.imagefields import find_image_fields

    overlay = {p: t for p, t in _texts(tree).items() if p.startswith(production + "/")}
    if not overlay:
        return Outcome.failed(
            f"origin has no {production}/ any more: production is removed, not promoted",
            file=f"{production}/kustomization.yaml",
        )
    fields = []
    for path, text in sorted(overlay.items()):
        try:
            fields += find_image_fields(path, ctx.load_yaml(text, path))
        except LabError as err:
            return Outcome.failed(
                f"{path} does not parse as YAML ({err.message}): production cannot be built",
                file=path,
                line=err.line,
            )
    if not fields:
        return Outcome.failed(
            f"{production}/ sets no image tag on origin: nothing pins production to the release you promoted",
            file=f"{production}/kustomization.yaml",
        )
    return None


def _deployed_tag(
    ctx: CheckContext, tree: Mapping[str, bytes], production: str, images: Sequence[str] = ()
) -> tuple[str, str, str, int] | None:
    """(image, tag, file, line) production deploys in `tree`: its overlay's image field (a kustomize
    `newTag` overrides the base), else the first field of a directory it builds; a field of one of
    `images` (canonical names: the task's) before another image's, a sidecar listed first; None when
    none is read."""
    from lab.core.imagefields import find_image_fields
    from lab.core.scope import environment_dirs

    texts = _texts(tree)
    fields = []
    for path in sorted(p for p in texts if posixpath.dirname(p) in environment_dirs(texts, production)):
        try:
            fields += find_image_fields(path, ctx.load_yaml(texts[path], path))
        except LabError:
            continue
    fields = [f for f in fields if f.shape in ("full", "tag")]
    fields.sort(
        key=lambda f: (
            canonical_or_written(f.image or f.value) not in images,
            not f.file.startswith(production + "/"),
        )
    )
    if not fields:
        return None
    first = fields[0]
    return canonical_or_written(first.image or first.value), _tag_of(first.value), first.file, first.line


def _promotion_problem(
    ctx: CheckContext, tree: Mapping[str, bytes], before: Mapping[str, bytes], production: str
) -> Outcome | None:
    """Why the tag production now runs is not a promotion: a tag its image's registry (the task's
    tags, and what was pushed into the sandbox's) lacks, a downgrade from what production ran before
    the learner's commit, or another release than the one the lesson promotes (`[check.params]
    expect_tag`)."""
    from lab.checks.gitrepo import pushed_in_sandbox
    from lab.core.semver.version import try_parse_version

    bundled = _run_tags(ctx)
    now = _deployed_tag(ctx, tree, production, list(bundled))
    if now is None:
        return None
    image, tag, file, line = now
    expect = str(ctx.params.get("expect_tag") or "")
    fix = f"set newTag: {expect} in {file}, commit and push" if expect else None
    published = bundled.get(image)
    if published is not None and tag not in published and not pushed_in_sandbox(ctx, [image], [tag]):
        return Outcome.failed(
            f"production is promoted to {tag}, a tag {image} does not have (its tags: "
            f"{', '.join(published)}): the kubelet cannot pull it (ErrImagePull)",
            file=file,
            line=line,
            hint=fix,
        )
    old = _deployed_tag(ctx, before, production, list(bundled))
    new_v, old_v = try_parse_version(tag), try_parse_version(old[1]) if old else None
    # The lesson's own release is never a downgrade to fix: a learner who overshot and came back to it
    # is right.
    if (
        tag != expect
        and old is not None
        and new_v is not None
        and old_v is not None
        and new_v.compare(old_v) < 0
    ):
        return Outcome.failed(
            f"production is set to {tag}, a downgrade from {old[1]}, what it ran before your commit: "
            "a promotion moves it forward",
            file=file,
            line=line,
            hint=fix,
        )
    if expect and tag != expect:
        return Outcome.failed(
            f"production is promoted to {tag}, not {expect}, the release the lesson promotes",
            file=file,
            line=line,
            hint=fix,
        )
    return None


@check("staging.promoted", params=["expect_tag"])
def staging_promoted(ctx: CheckContext) -> Outcome:
    """Production moved by a commit of the learner's, never by the automation's author, to the release
    the lesson promotes: one its registry has, not older than what production ran before."""
    from lab.checks.gitrepo import pushed_origin

    params = _params(ctx)
    production = str(params.get("production", "apps/production")).strip("./")
    expect = str(ctx.params.get("expect_tag") or "")
    origin, head = pushed_origin(ctx)
    tree = _origin_tree(ctx)
    flux_emails = {a.author_email for a in _aset(ctx, tree).automations if a.author_email}
    commits = {c.sha: c for c in origin.ws.log(origin.ref, n=500)}
    # Walk main's first-parent chain: what happened on the branch production deploys from. A Flux commit
    # on a side branch that a person merged (a pull request) is promoted by that merge, not by Flux.
    mine = []
    current = commits.get(head)
    while current is not None and current.parents:
        parent = current.parents[0]
        files = [f for f in origin.ws.changed_files(parent, current.sha) if f.startswith(production + "/")]
        if files and current.author_email in flux_emails:
            return Outcome.failed(
                f"commit {current.short} by {current.author_name} <{current.author_email}> (the automation) "
                f"changed {files[0]} on {origin.branch}: production must move only by your commit",
                file=files[0],
                hint="take the automation out of production (see staging.isolated) and revert that commit",
            )
        if files:
            mine.append((current, files))
        current = commits.get(parent)
    if not mine:
        return Outcome.failed(
            f"no commit of yours changes {production}/ yet: promotion is a commit",
            file=f"{production}/kustomization.yaml",
            hint=f"set images[].newTag: {expect} in {production}/kustomization.yaml, commit and push"
            if expect
            else None,
        )
    pinned = _production_pins(ctx, tree, production)
    if pinned is not None:
        return pinned
    # What production ran before the newest of those commits: an earlier promotion is the baseline.
    last = mine[0][0]
    before = dict(origin.ws.read_tree_at(last.parents[0])) if last.parents else {}
    wrong = _promotion_problem(ctx, tree, before, production)
    if wrong is not None:
        return wrong
    commit, files = mine[0]
    return Outcome.passed(
        f"promoted by {commit.author_name} in {commit.short}: {commit.subject}",
        evidence=[Evidence("git", commit.sha, ", ".join(files))],
    )


# -- 09b-guard ------------------------------------------------------------------------------------


def _repository_for(aset: AutomationSet, policy: ImagePolicy) -> ImageRepository | None:
    ns, name = policy.repository_key
    return aset.repository(ns, name)


@check("guard.exclusion")
def guard_exclusion(ctx: CheckContext) -> Outcome:
    """A custom exclusionList replaces the default `^.*\\.sig$`: it must still drop cosign signatures."""
    from lab.core.mutation import excludes

    params = _params(ctx)
    samples = [str(t) for t in params.get("cosign_tags", ["sha256-3fe1.sig"])]
    tree = _origin_tree(ctx)
    aset = _aset(ctx, tree)
    if not aset.repositories:
        return Outcome.failed("origin has no ImageRepository", hint=PUSH_HINT)
    evidence = []
    for repo in aset.repositories:
        refused = _unscannable(aset, repo)
        if refused is not None:
            return refused
        line = repo.line_of("spec.exclusionList")
        listed = "default" if repo.exclusion_list is None else ", ".join(repo.exclusion_list)
        evidence.append(Evidence("file", f"{repo.file}:{line}", f"exclusionList: {listed}"))
        kept = [t for t in samples if not excludes(repo.exclusion_list, t)]
        if kept:
            return Outcome.failed(
                f"ImageRepository {repo.ref}: the custom exclusionList replaces the default ^.*\\.sig$, "
                f"so {kept[0]} reaches the policies",
                file=repo.file,
                line=line,
                hint="add '^.*\\.sig$' (and '^.*\\.att$', '^.*\\.sbom$') to spec.exclusionList",
                evidence=evidence,
            )
    return Outcome.passed("every ImageRepository drops cosign artefacts", evidence=evidence)


def _unscannable(aset: AutomationSet, repo: ImageRepository) -> Outcome | None:
    """Why Flux scans nothing for `repo`: a `spec.image` that does not parse (the reflector stalls), or
    an exclusionList the API server refuses (too long, not strings) or the scan cannot compile. The
    trap tags mean nothing then."""
    from lab.core.imagename import ImageNameError, parse_image
    from lab.core.scan import exclusion_problem

    try:
        parse_image(repo.image)
    except ImageNameError as err:
        return Outcome.failed(
            f"ImageRepository {repo.ref}: {err}",
            file=repo.file,
            line=repo.line_of("spec.image"),
            hint=err.hint,
        )
    typed = next(
        (p for p in aset.problems if p.file == repo.file and p.field.startswith("spec.exclusionList")), None
    )
    if typed is not None:
        return Outcome.failed(typed.message, file=repo.file, line=typed.line, hint=typed.hint)
    unusable = exclusion_problem(repo.exclusion_list or ())
    if unusable is not None:
        return Outcome.failed(
            f"ImageRepository {repo.ref}: {unusable.message}",
            file=repo.file,
            line=repo.line_of(unusable.field),
            hint=unusable.hint,
        )
    return None


@check("guard.holds", params=["guard"])
def guard_holds(ctx: CheckContext) -> Outcome:
    """The policy of one environment holds through the trap tags and takes the good ones: the
    environment is the task's, `[check.params] guard` naming its `[exercise.NAME]` table."""
    from lab.errors import TaskDataError

    which = ctx.str_param("guard")
    table = _params(ctx).get(which)
    if not isinstance(table, dict):
        raise TaskDataError(
            f"task {ctx.task}: guard {which!r} has no [exercise.{which}] table",
            file="checks.toml",
            hint=f"add [exercise.{which}] with policy, expect, traps and good, or name another table",
        )
    return _guard(ctx, dict(table))


def _environment_markers(
    ctx: CheckContext, tree: Mapping[str, bytes], aset: AutomationSet, path: str
) -> list[Any]:
    """The markers Flux reads in the environment's folder `path` (under the automation's update path):
    they, not the policies' names, say which policy the environment follows."""
    from lab.core.scope import norm_path, under

    root = norm_path(path)
    _fields, markers, _ = _marked_fields(ctx, tree, _main_automation(ctx, aset))
    return [m for m in markers if under(m.file, root)]


def _guarded_policies(
    ctx: CheckContext, tree: Mapping[str, bytes], aset: AutomationSet, params: Mapping[str, Any]
) -> list[tuple[ImagePolicy, Any]] | Outcome:
    """The policies one guard judges, each with the marker that makes its environment follow it (None
    when the table names no `path`: its `policy` then): the policy the environment's fields are really
    marked with, whatever its name. An Outcome when there is none to judge."""
    policy_name = str(params.get("policy", ""))
    path = str(params.get("path", ""))
    if not path:
        named = next((p for p in aset.policies if p.name == policy_name), None)
        if named is None:
            return Outcome.failed(
                f"origin has no ImagePolicy {policy_name}",
                file=automation_files(ctx)[1],
                hint=f"keep the policy named {policy_name}",
            )
        return [(named, None)]
    markers = _environment_markers(ctx, tree, aset, path)
    if not markers:
        return Outcome.failed(
            f"no field under {path}/ carries a marker Flux applies: that environment follows no policy, so no "
            "guard holds it or takes the next good release",
            file=f"{path}/kustomization.yaml",
            hint=f'mark its newTag with # {{"$imagepolicy": "flux-system:{policy_name}:tag"}}',
        )
    found: list[tuple[ImagePolicy, Any]] = []
    for m in markers:
        policy = aset.policy(m.namespace, m.policy)
        if policy is None:
            return Outcome.failed(
                f"{m.file}:{m.line} names {m.policy_ref}, but origin has no such ImagePolicy",
                file=m.file,
                line=m.line,
                hint="see marker.valid",
            )
        if all(policy is not p for p, _ in found):
            found.append((policy, m))
    return found


def _guard(ctx: CheckContext, params: dict[str, Any]) -> Outcome:
    tree = _origin_tree(ctx)
    aset = _aset(ctx, tree)
    guarded = _guarded_policies(ctx, tree, aset, params)
    if isinstance(guarded, Outcome):
        return guarded
    passed: list[Outcome] = []
    for policy, marker in guarded:
        outcome = _guard_policy(ctx, aset, policy, marker, params)
        if outcome.status is not Status.PASS:
            return outcome
        passed.append(outcome)
    if len(passed) == 1:
        return passed[0]
    return Outcome.passed(
        "; ".join(o.message for o in passed), evidence=[e for o in passed for e in o.evidence]
    )


def _guard_policy(
    ctx: CheckContext, aset: AutomationSet, policy: ImagePolicy, marker: Any, params: Mapping[str, Any]
) -> Outcome:
    """One policy through the guard's trap and good tags; `marker` is the environment's field that
    follows it (None: the policy the guard names)."""
    from lab.core.mutation import Probe, mutation_test

    line = policy.line_of("spec.policy")
    if policy.policy is None:
        return Outcome.failed(
            f"ImagePolicy {policy.ref} has no valid spec.policy", file=policy.file, line=line
        )
    repo = _repository_for(aset, policy)
    if repo is None:
        return Outcome.failed(
            f"ImagePolicy {policy.ref} refers to no ImageRepository on origin", file=policy.file, line=line
        )
    refused = _unscannable(aset, repo)
    if refused is not None:
        return refused
    base = _run_tags(ctx).get(canonical_or_written(repo.image), [])
    probes = [Probe(str(t), "hold") for t in params.get("traps", [])]
    probes += [Probe(str(t), "move") for t in params.get("good", [])]
    expected = params.get("expect")
    report = mutation_test(
        policy.policy,
        repo.exclusion_list,
        base,
        probes,
        expected_baseline=str(expected) if expected else None,
    )
    evidence = [
        Evidence(
            "probe",
            r.probe.tag,
            f"{r.probe.expect}: {r.chosen or 'nothing'}" + (f" - {r.message}" if r.message else ""),
        )
        for r in report.results
    ]
    escaped = report.escaped
    problem = report.baseline_problem or (f"{escaped[0].message}{and_more(escaped)}" if escaped else "")
    if problem:
        named = str(params.get("policy", ""))
        intended = (
            aset.policy(policy.namespace, named) if marker is not None and named != policy.name else None
        )
        if intended is not None:
            # The field follows another environment's policy (markers swapped): the marker is the fix.
            return Outcome.failed(
                f"{marker.file}:{marker.line} is marked with ImagePolicy {policy.ref}, not {intended.ref}: "
                f"judged as this environment's policy, {problem}",
                file=marker.file,
                line=marker.line,
                hint=f'this environment\'s policy is {intended.ref}: end the line with # {{"$imagepolicy": '
                f'"{intended.namespace}:{intended.name}{":" + marker.suffix if marker.suffix else ""}"}}',
                evidence=evidence,
            )
        return Outcome.failed(
            f"ImagePolicy {policy.ref}: {problem}",
            file=policy.file,
            line=line,
            hint=str(params.get("hint", "")) or None,
            evidence=evidence,
        )
    holds = sum(1 for r in report.results if r.probe.expect == "hold")
    return Outcome.passed(
        f"ImagePolicy {policy.ref} stays on {report.baseline} through {holds} trap tag(s) and takes "
        f"{len(report.results) - holds} good one(s)",
        evidence=evidence,
    )
