"""Manifest and marker checks, wired to the shared core: `lab.core.manifests` (parse + validate) for the
three `*.valid` checks, `lab.core.setters.markers` (Flux's marker grammar) and `lab.core.marker` (container
image lines) for `marker.present` / `marker.valid`. No validation rules live here, only the mapping of
problems to check ids and the workspace I/O (which files, does update.path exist)."""

from __future__ import annotations

import os
import posixpath
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from lab.adapters.tree import walk_entries
from lab.checks import check
from lab.checks.context import (
    CheckContext,
    automation_dir,
    automation_files,
    deployment_file,
    sync_file,
    task_images,
)
from lab.core.checks.model import Evidence, Outcome, Status
from lab.core.manifests.models import (
    AutomationSet,
    FluxObject,
    ImagePolicy,
    ImageRepository,
    ImageUpdateAutomation,
    Problem,
)
from lab.core.manifests.parse import solution_update_path, update_path_example
from lab.core.marker import marker_for, policy_ref_for
from lab.core.record import dataclass
from lab.core.setters.find import looks_like_marker
from lab.core.setters.markers import commented_out
from lab.core.yamlsafe import ReaderLimitError
from lab.errors import LabError

if TYPE_CHECKING:
    from lab.core.manifests.generate import GenerateOptions
    from lab.core.setters.find import Marker
    from lab.core.setters.markers import MarkerSyntax

MAX_SCANNED_FILES = 500
DEFAULT_UPDATE_PATH = "apps"


def automation_set(ctx: CheckContext) -> AutomationSet:
    from lab.core.manifests.parse import find_automation

    def compute() -> AutomationSet:
        files: dict[str, str] = {}
        # A task may run no check of the sync (repo.files validates the automation files all the same).
        synced = (sync_file(ctx),) if "sync_file" in ctx.params else ()
        for rel in (*automation_files(ctx), *synced):
            if ctx.exists(rel):
                try:
                    files[rel] = ctx.read_text(rel)
                except LabError:
                    continue  # repo.files reports unreadable files
        return find_automation(files, ctx.load_yaml)

    return ctx.cached("manifests:aset", compute)


def served_versions(ctx: CheckContext) -> tuple[str, ...] | None:
    """image.toolkit.fluxcd.io versions to validate against: configured, else what the cluster serves
    (online only), else None for the validator's default (current Flux: v1 only)."""
    configured = ctx.settings.get("served_versions")
    if isinstance(configured, list | tuple) and configured:
        return tuple(str(v) for v in configured)
    if ctx.offline:
        return None

    def discover() -> tuple[str, ...] | None:
        from lab.checks.cluster import client_for

        try:
            served = client_for(ctx).served_image_api_versions()
        except Exception:  # no cluster is not a manifest problem: fall back to the default
            return None
        return tuple(served) or None

    return ctx.cached("cluster:served", discover)


def validation_problems(ctx: CheckContext) -> list[Problem]:
    """`validate()` of the task's files, or with `ctx.whole_repository` of every YAML file of the
    workspace (read and parsed once per run, with the diagnosis), once per run."""
    from lab.core.manifests.validate import validate

    def compute() -> list[Problem]:
        from lab.checks.diagnosis import repository_set

        served = served_versions(ctx)
        aset = repository_set(ctx) if ctx.whole_repository else automation_set(ctx)
        return validate(aset, served) if served else validate(aset)

    return ctx.cached("manifests:problems", compute)


def _owner(problem: Problem, objects: Sequence[FluxObject]) -> FluxObject | None:
    """The object a problem is about: the last object of its file starting at or before its line."""
    same_file = sorted((o for o in objects if o.file == problem.file), key=lambda o: o.line)
    if not same_file:
        return None
    line = problem.line or same_file[0].line
    before = [o for o in same_file if o.line <= line]
    return before[-1] if before else same_file[0]


def _problem_evidence(problems: Sequence[Problem]) -> list[Evidence]:
    return [Evidence("problem", f"{p.location()} {p.code}", f"{p.severity}: {p.message}") for p in problems]


def problems_failure(problems: Sequence[Problem]) -> Outcome | None:
    """A failure led by the first error of `problems` (all listed as evidence); None without errors."""
    errors = [p for p in problems if p.severity == "error"]
    if not errors:
        return None
    return Outcome.first_failure(errors, _problem_evidence(problems))


KIND_CHECKS: dict[type[FluxObject], str] = {
    ImageRepository: "image-repository.valid",
    ImagePolicy: "image-policy.valid",
    ImageUpdateAutomation: "image-update.valid",
}
"""The check that reports an object's validation problems, by its kind."""


def unowned_problems(ctx: CheckContext) -> list[Problem]:
    """Validation problems of the automation files' objects whose kind's check the task does not run:
    Flux's API refuses them all the same, so repo.files reports them."""
    from lab.checks.loader import load_task_checks

    defined = ctx.cached("manifests:defined", lambda: {d.id for d in load_task_checks(ctx.task).defs})
    objects = automation_set(ctx).all_objects()
    unowned = []
    for p in validation_problems(ctx):
        owner = _owner(p, objects) if p.file in automation_files(ctx) else None
        if owner is not None and KIND_CHECKS.get(type(owner)) not in defined:
            unowned.append(p)
    return unowned


def _outcome_for(
    ctx: CheckContext, kind: type[FluxObject], kind_name: str, rel: str, example: Callable[[], str]
) -> Outcome:
    aset = automation_set(ctx)
    objects = [o for o in aset.all_objects() if isinstance(o, kind) and o.file in automation_files(ctx)]
    if not objects:
        elsewhere = sorted({o.file for o in aset.all_objects() if isinstance(o, kind)})
        return Outcome.failed(
            f"no {kind_name} in {automation_dir(ctx).rstrip('/')}/"
            + (f" (found one in {elsewhere[0]})" if elsewhere else ""),
            file=rel,
            hint=f"write kind: {kind_name} in {rel}, e.g. {example()}",
        )
    mine = [
        p
        for p in validation_problems(ctx)
        if p.file in automation_files(ctx) and isinstance(_owner(p, aset.all_objects()), kind)
    ]
    evidence = _problem_evidence(mine)
    failed = problems_failure(mine)
    if failed is not None:
        return failed
    from lab.core.manifests.validate import LAB_LIMIT_CODE

    unchecked = [p for p in mine if p.code == LAB_LIMIT_CODE]
    if unchecked:
        return Outcome.errored(
            f"{unchecked[0].file}:{unchecked[0].line}: {unchecked[0].message}",
            hint=unchecked[0].hint or None,
            evidence=evidence,
        )
    obj = objects[0]
    warnings = [p for p in mine if p.severity == "warning"]
    note = f"; warning: {warnings[0].message}" if warnings else ""
    return Outcome.passed(f"{kind_name} {obj.ref} ({obj.file}){note}", evidence=evidence, file=obj.file)


@check("image-repository.valid")
def image_repository_valid(ctx: CheckContext) -> Outcome:
    from lab.checks.diagnosis import merge

    def example() -> str:
        return f"spec.image: {generated(ctx).image}"

    outcome = _outcome_for(ctx, ImageRepository, "ImageRepository", automation_files(ctx)[0], example)
    if outcome.status is Status.PASS:
        outcome = _served(ctx, outcome)
    return merge(ctx, "image-repository.valid", outcome)


def _served(ctx: CheckContext, outcome: Outcome) -> Outcome:
    """A valid ImageRepository whose image the task's registry does not serve (`library/ngnix`) fails
    when the scan goes to that registry: the task's bundled tags or the sandbox's registry, which
    serve only the task's `[[images]]`. A real registry may serve any image: there it is a note, and
    `registry.tags` asks the registry itself."""
    task = task_images(ctx)
    served = [i.name for i in task.images]
    repos = [r for r in automation_set(ctx).repositories if r.file in automation_files(ctx)]
    unknown = [r for r in repos if r.image and task.find(r.image) is None]
    if not served or not unknown:
        return outcome
    # The task's images its repositories scan: another repository beside them (a second app's image)
    # is no mistake in Flux; one close to a task image nothing scans is that image misspelt.
    scanned = {found.name for r in repos if r.image and (found := task.find(r.image)) is not None}
    misspelt = [r for r in unknown if (_closest(r.image, served) or "") not in ("", *scanned)]
    repo = misspelt[0] if misspelt else unknown[0]
    names = ", ".join(served)
    if not _on_task_registry(ctx, repo.image):
        note = f"note: {repo.image} is not an image of the task ({names}); the registry it names decides"
        return replace(outcome, message=f"{outcome.message}; {note}")
    if scanned and not misspelt:
        note = (
            f"note: ImageRepository {repo.name} scans {repo.image}, which the task's registry does not "
            f"serve: its scan fails there, and the task's automation of {', '.join(sorted(scanned))} does not "
            "depend on it"
        )
        return replace(outcome, message=f"{outcome.message}; {note}")
    close = _closest(repo.image, served)
    return Outcome.failed(
        f"ImageRepository {repo.name} scans {repo.image}, which the task's registry does not serve: "
        f"it serves {names}",
        file=repo.file,
        line=repo.line_of("spec.image"),
        hint=(f"did you mean spec.image: {close}? " if close else "")
        + f"spec.image names one of the task's images ({names}), without a tag",
    )


def is_task_tags_file(ctx: CheckContext) -> bool:
    """Whether the run's `--tags-file` is one of the task's own tags files (task.toml `[[images]]`):
    the dated snapshot the lesson bundles, which the app's practice repository checks with."""
    if ctx.tags_file is None:
        return False
    task = task_images(ctx)
    return ctx.tags_file.resolve() in {task.file(i.tags).resolve() for i in task.images}


def _on_task_registry(ctx: CheckContext, image: str) -> bool:
    """Whether this run scans `image` in the task's registry: its bundled tags stand in for the registry
    (`--tags-file` of the task, the app's practice repository), or the sandbox's registry takes it."""
    if ctx.tags_file is not None:
        return is_task_tags_file(ctx)
    if ctx.offline:
        return False  # no registry at all: nothing known about the one Flux will scan
    from lab.adapters.registry.client import sandbox_serves

    return sandbox_serves(image)


def _closest(image: str, served: Sequence[str]) -> str | None:
    """The served image `image` is most likely a misspelling of (`library/ngnix`: `library/nginx`)."""
    import difflib

    from lab.core.imagename import canonical_or_written

    by_canonical = {canonical_or_written(name): name for name in served}
    found = difflib.get_close_matches(canonical_or_written(image), list(by_canonical), n=1, cutoff=0.8)
    return by_canonical[found[0]] if found else None


@check("image-policy.valid")
def image_policy_valid(ctx: CheckContext) -> Outcome:
    from lab.checks.diagnosis import merge

    def example() -> str:
        policy = generated(ctx).policy
        return f"spec.policy.{policy.kind}.{'range' if policy.kind == 'semver' else 'order'}: {policy.value}"

    outcome = _outcome_for(ctx, ImagePolicy, "ImagePolicy", automation_files(ctx)[1], example)
    return merge(ctx, "image-policy.valid", outcome)


def generated(ctx: CheckContext) -> GenerateOptions:
    """What `lab generate` writes for the task (its `[generate]`, a setting, over the lab's defaults):
    the examples in a hint name the task's own image and policy, not the course task's."""
    from lab.core.manifests.generate import options_from_mapping

    table = ctx.settings.get("generate")
    return options_from_mapping(table if isinstance(table, dict) else {})


@check("image-update.valid")
def image_update_valid(ctx: CheckContext) -> Outcome:
    from lab.checks.diagnosis import merge

    return merge(ctx, "image-update.valid", _image_update_valid(ctx))


def _image_update_valid(ctx: CheckContext) -> Outcome:
    outcome = _outcome_for(
        ctx,
        ImageUpdateAutomation,
        "ImageUpdateAutomation",
        automation_files(ctx)[2],
        lambda: f"spec.update.path: {generated(ctx).update_path}",
    )
    if outcome.status.value != "pass":
        return outcome
    iua = _automation(ctx)
    if iua is not None and iua.update_path:
        rel = _norm(iua.update_path)
        # Flux walks a file as well as a directory (filepath.Walk visits just that file)
        if rel and not (_is_dir(ctx, rel) or ctx.exists(rel)):
            return Outcome.failed(
                f"update.path {iua.update_path} does not exist in the repository: Flux fails with "
                "'walking path for files: lstat ... no such file or directory'",
                file=iua.file,
                line=iua.line_of("spec.update.path"),
                hint="a path relative to the repository root, e.g. "
                + update_path_example(_solution_update_path(ctx, iua.file), generated(ctx).update_path),
            )
    return _undeployed_pushes(ctx) or _checkout_missing(ctx) or outcome


def _checkout_missing(ctx: CheckContext) -> Outcome | None:
    """A failure in Flux's words when spec.git.checkout.ref.branch names a branch origin lacks: the
    automation fails every run ("couldn't find remote ref"). Judged only where origin's branches are
    known (fetched: a local origin offline, any online) and origin has the deployed branch."""
    from lab.checks.context import graded_branch
    from lab.checks.gitrepo import fetched_origin
    from lab.core.fluxsource import no_remote_branch

    aset = automation_set(ctx)
    written = [a for a in aset.automations if a.file == automation_files(ctx)[2] and a.checkout_branch]
    if not written:
        return None
    try:
        origin = fetched_origin(ctx)
        if not origin.fetched or origin.sha is None:
            return None
        for iua in written:
            branch = str(iua.checkout_branch)
            if origin.ws.remote_sha(branch) is not None:
                continue
            source = aset.git_repository(*iua.source_key)
            deployed = graded_branch(ctx)
            return Outcome.failed(
                f"origin has no branch {branch}, which spec.git.checkout.ref.branch names: Flux fails "
                f"with: failed to checkout source: {no_remote_branch(source.url if source else '', branch)}",
                file=iua.file,
                line=iua.line_of("spec.git.checkout.ref.branch"),
                hint=f"spec.git.checkout.ref.branch: {deployed} (the branch origin has and Flux deploys)",
            )
    except LabError:
        return None  # origin unusable or a branch name git refuses: git.pushed and the validation say so
    return None


def _undeployed_pushes(ctx: CheckContext) -> Outcome | None:
    """A failure when no automation of the task's file commits to the branch Flux deploys: its
    commits wait on a merge that nothing makes (a PR flow's production side is a second automation
    beside one that deploys). None when one does, or when the deployed branch is not known."""
    from lab.checks.context import followed_branch

    followed = followed_branch(ctx)
    aset = automation_set(ctx)
    mine = [a for a in aset.automations if a.file == automation_files(ctx)[2]]
    if followed is None or not mine:
        return None
    deployed = followed.branch
    pushes = [(a, a.effective_push_branch(aset.git_repository(*a.source_key))) for a in mine]
    if any(deployed in (branch, a.refspec_branch) for a, branch in pushes):
        return None
    iua, branch = next(((a, b) for a, b in pushes if b), (None, None))
    if iua is None or branch is None:
        return None  # no push branch at all: Flux's own error, reported by the validation
    field = "spec.git.push.branch" if iua.push_branch else "spec.git.checkout.ref.branch"
    return Outcome.failed(
        f"{field} {branch}: Flux commits its updates to origin/{branch}, but deploys {deployed} "
        f"({followed.file}:{followed.line} spec.ref.branch): they reach the cluster only "
        f"once {branch} is merged into {deployed}",
        file=iua.file,
        line=iua.line_of(field),
        # Not "or merge it": a merge deploys this update, and the automation still pushes the next elsewhere.
        hint=f"push.branch {deployed}, the branch Flux deploys (in a PR flow every update waits for a merge of {branch})",
    )


def _missing_update_path(ctx: CheckContext) -> Outcome | None:
    """A failure when the automation's update.path is not in the repository: no marker is under it,
    whatever other folders hold (Flux fails its walk). None when it exists or none is set."""
    iua = _automation(ctx)
    if iua is None or not iua.update_path:
        return None
    rel = _norm(iua.update_path)
    if not rel or _is_dir(ctx, rel) or ctx.exists(rel):
        return None
    return Outcome.failed(
        f"no marker under update.path {iua.update_path}: it does not exist in the repository",
        file=iua.file,
        line=iua.line_of("spec.update.path"),
        hint="set spec.update.path to the folder that holds the marked files, e.g. "
        + update_path_example(_solution_update_path(ctx, iua.file), generated(ctx).update_path),
    )


def _automation(ctx: CheckContext) -> ImageUpdateAutomation | None:
    return next((a for a in automation_set(ctx).automations if a.file in automation_files(ctx)), None)


def _norm(path: str) -> str:
    cleaned = posixpath.normpath("/" + path.strip()).lstrip("/")
    return "" if cleaned == "." else cleaned


def _is_dir(ctx: CheckContext, rel: str) -> bool:
    try:
        return ctx.path(rel).is_dir()
    except LabError:
        return False


@dataclass(frozen=True)
class MarkerLine:
    file: str
    line: int
    text: str
    comment: str


def _comment_of(line: str) -> str | None:
    """The comment part of a YAML line: from a '#' at the start or after a blank, outside quotes."""
    quote: str | None = None
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = None
            continue
        if ch in "'\"" and (i == 0 or line[i - 1] in " \t:[{,-"):
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1] in " \t"):
            return line[i:]
    return None


def _yaml_files(ctx: CheckContext, root: str, *, links: bool = False) -> list[str]:
    """YAML files under `root`, never following symlinks (`links`: listing them too), capped."""
    try:
        base = ctx.path(root) if root else ctx.workspace
    except LabError:
        return []
    found: list[str] = []
    for entry in walk_entries(base, skip_dirs=frozenset({".git"})):
        if (
            entry.name.endswith((".yaml", ".yml"))
            and (links or not entry.is_symlink())
            and not entry.is_dir()
        ):
            found.append(os.path.relpath(entry.path, ctx.workspace).replace(os.sep, "/"))
            if len(found) >= MAX_SCANNED_FILES:
                return found
    return found


def _scan_root(ctx: CheckContext) -> str:
    iua = _automation(ctx)
    if iua is not None and iua.update_path and _is_dir(ctx, _norm(iua.update_path)):
        return _norm(iua.update_path)
    return DEFAULT_UPDATE_PATH


def _markers(ctx: CheckContext, root: str | None = None) -> list[MarkerLine]:
    """The marker-like comments of the YAML files under `root` (None: the path Flux walks, `_scan_root`)."""
    scanned = _scan_root(ctx) if root is None else root

    def compute() -> list[MarkerLine]:
        return [m for m in _comments(ctx, scanned) if looks_like_marker(m.comment)]

    return ctx.cached("markers" if root is None else f"markers:{root}", compute)


def _comments(ctx: CheckContext, root: str) -> Iterator[MarkerLine]:
    """Every comment of the YAML files under `root`, with its file, line number and line."""
    for rel in _yaml_files(ctx, root):
        try:
            text = ctx.read_text(rel)
        except LabError:
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            comment = _comment_of(line)
            if comment is not None:
                yield MarkerLine(rel, number, line, comment)


@check("marker.present")
def marker_present(ctx: CheckContext) -> Outcome:
    from lab.checks.diagnosis import merge

    return merge(ctx, "marker.present", _marker_present(ctx))


def _marker_present(ctx: CheckContext) -> Outcome:
    missing = _missing_update_path(ctx)
    if missing is not None:
        return missing
    root = _scan_root(ctx)
    markers = _markers(ctx)
    outside = _outside_update_path(ctx, root) if not markers else None
    if outside is not None:
        return outside
    if not markers:
        example = _marker_example(ctx)
        misspelt = _misspelt_marker(ctx, root)
        if misspelt is None:
            # Only when no readable file comes close: a file that cannot be read may hold the marker.
            unreadable = _unreadable_file(ctx, root)
            if unreadable is not None:
                return unreadable
        else:
            rel, number, key = misspelt
            return Outcome.failed(
                f"no $imagepolicy marker under ./{root}: this comment's key is {key}, "
                "did you mean $imagepolicy? Flux reads no other key and passes the comment over in silence",
                file=rel,
                line=number,
                hint=f"write the key as $imagepolicy: {example.marker}"
                if example
                else "write the key as $imagepolicy",
            )
        return Outcome.failed(
            f"no $imagepolicy marker in any YAML file under ./{root}: Flux has nothing to update",
            file=deployment_file(ctx) if ctx.exists(deployment_file(ctx)) else None,
            # None: the task's own hint, when its solution marks no line of the deployment file
            hint=f"end the {example.field} line of {deployment_file(ctx)} with {example.marker}"
            if example
            else None,
        )
    first = markers[0]
    return Outcome.passed(
        f"{len(markers)} marker comment(s), first at {first.file}:{first.line}",
        evidence=[Evidence("file", f"{m.file}:{m.line}", m.text.strip()) for m in markers[:5]],
        file=first.file,
    )


def _unreadable_file(ctx: CheckContext, root: str) -> Outcome | None:
    """The first YAML file under `root` the lab cannot read, named with the reason: its marker, if it
    holds one, is lost to Flux too (its setters skip a file they cannot decode, and a link out of the
    repository leads nowhere in Flux's clone), so "no marker in any file" would send the learner to add
    one that is already there."""
    for rel in _yaml_files(ctx, root, links=True):
        try:
            ctx.read_text(rel)
        except LabError as err:
            return Outcome.failed(
                f"no $imagepolicy marker Flux can read under ./{root}: {rel} cannot be read: {err.message};"
                " Flux skips a file it cannot decode or find, in silence, and has nothing to update",
                file=rel,
                line=err.line,
                hint=err.hint,
            )
    return None


def _misspelt_marker(ctx: CheckContext, root: str) -> tuple[str, int, str] | None:
    """(file, line, key) of the first comment under `root` shaped like a marker whose key is a
    misspelling of $imagepolicy: what a learner meant as the marker, which Flux passes over."""
    from lab.core.setters.find import misspelt_marker_key

    for found in _comments(ctx, root):
        key = misspelt_marker_key(found.comment)
        if key is not None:
            return found.file, found.line, key
    return None


def _outside_update_path(ctx: CheckContext, root: str) -> Outcome | None:
    """No marker under the automation's update.path, but markers elsewhere in the repository: the path
    is what to change, not the markers (None when there is no automation or no marker anywhere)."""
    iua = _automation(ctx)
    if iua is None or not iua.update_path or root != _norm(iua.update_path):
        return None
    elsewhere = _markers(ctx, "")
    if not elsewhere:
        return None
    files = list(dict.fromkeys(m.file for m in elsewhere))
    tops = {f.split("/")[0] for f in files}
    # the closest folder holding them all: the top folder they share, else the repository's root
    wanted = f"./{tops.pop()}" if len(tops) == 1 and all("/" in f for f in files) else "./"
    where = ", ".join(f"{m.file}:{m.line}" for m in elsewhere[:3])
    where += f" (+{len(elsewhere) - 3} more)" if len(elsewhere) > 3 else ""
    path_line = iua.line_of("spec.update.path")
    widen = f"set spec.update.path: {wanted} in {iua.file} (line {path_line})"
    hint = f"{widen}, a folder that holds the marked files"
    # A path inside the folder that would hold the markers (or a task whose solution walks a narrower
    # one) was chosen narrow: widening it lets Flux rewrite files other folders build too (a shared
    # base), so the markers move instead.
    narrow = _solution_update_path(ctx, iua.file)
    keep = (
        root
        if _inside(root, _norm(wanted))
        else narrow
        if narrow and _inside(narrow, _norm(wanted))
        else None
    )
    if keep is not None:
        tag = marker_for(_policy_ref(ctx) + ":tag")
        move = (
            f"the markers belong under ./{keep}, the only files Flux should write: mark the value there "
            f"(e.g. a kustomize images: override in ./{keep}, newTag: <tag> {tag})"
        )
        if keep != root:
            move = f"set spec.update.path: ./{keep} in {iua.file} (line {path_line}); {move}"
        hint = (
            f"{move}; or, only if Flux should rewrite every file under {wanted} (files other folders "
            f"build too), {widen}"
        )
    return Outcome.failed(
        f"no $imagepolicy marker under ./{root}, the path Flux walks (spec.update.path: {iua.update_path}); "
        f"the marker{'s are' if len(elsewhere) > 1 else ' is'} outside it: {where}",
        file=iua.file,
        line=path_line,
        hint=hint,
        evidence=[Evidence("file", f"{m.file}:{m.line}", m.text.strip()) for m in elsewhere[:5]],
    )


def _inside(path: str, folder: str) -> bool:
    """Whether `path` (normalised, "" the root) is strictly inside `folder` (normalised)."""
    return path != folder and (folder == "" or path.startswith(folder + "/"))


def _solution_update_path(ctx: CheckContext, rel: str) -> str | None:
    """The normalised spec.update.path of the task solution's ImageUpdateAutomation in `rel`, if any."""
    return solution_update_path(task_images(ctx).solution_text(rel), rel)


@dataclass(frozen=True)
class MarkerExample:
    """The marker a hint shows: `field` is the key of the line it ends (`image`, `newTag`)."""

    field: str
    marker: str


def _policy_ref(ctx: CheckContext, fallback: str | None = None) -> str:
    """The `namespace:name` a hint's marker names: the learner's first ImagePolicy, else `fallback` (the
    task solution's), else the one the task's `lab generate` writes - never a placeholder."""
    table = ctx.settings.get("generate")
    return policy_ref_for(automation_set(ctx), table if isinstance(table, dict) else {}, fallback)


def _marker_example(ctx: CheckContext) -> MarkerExample | None:
    """The marker the task's solution puts in the deployment file (its line's key, its `:tag`/`:name`
    form), naming the learner's first ImagePolicy when there is one, else the solution's; None when the
    solution marks nothing there (the task's hint knows where its markers go)."""
    import re

    from lab.core.setters.find import find_markers

    def compute() -> MarkerExample | None:
        rel = deployment_file(ctx)
        text = task_images(ctx).solution_text(rel)
        if text is None:
            return None
        found = next((m for m in find_markers(text, rel) if m.setter is not None), None)
        if found is None:
            return None
        lines = text.splitlines()
        key = (
            re.match(r"\s*(?:-\s+)?([\w.-]+)\s*:", lines[found.line - 1])
            if found.line <= len(lines)
            else None
        )
        ref = _policy_ref(ctx, found.policy_ref)
        return MarkerExample(
            key[1] if key else "image", marker_for(ref + (f":{found.suffix}" if found.suffix else ""))
        )

    return ctx.cached("manifests:marker-example", compute)


def _image_lines(ctx: CheckContext, rel: str) -> frozenset[int]:
    """The lines of `rel`'s container image values, once per run (asked once per marker)."""
    from lab.core.marker import find_container_images

    def compute() -> frozenset[int]:
        try:
            docs = ctx.yaml_docs(rel)
        except LabError:
            return frozenset()
        return frozenset(c.line for c in find_container_images(docs))

    return ctx.cached(f"manifests:image-lines:{rel}", compute)


@check("marker.valid", params=["leave_to"])
def marker_valid(ctx: CheckContext) -> Outcome:
    """`leave_to = { "marker.other-image" = "multi.markers" }`: a finding another check of the task
    grades is only noted here, so that one mistake costs one check's points."""
    from lab.checks.diagnosis import merge

    return merge(ctx, "marker.valid", _marker_valid(ctx), owners=ctx.str_table_param("leave_to"))


def _read_in_part(ctx: CheckContext, m: MarkerLine) -> tuple[str, str] | None:
    """A file the lab cannot read whole that Flux reads in part: kyaml decodes one document per piece,
    and an indented first document ends at the first line indented less. (continuation, hint)"""
    from lab.core.setters.find import unread_lines

    try:
        # Once per file: a file with hundreds of markers was decoded again for each one.
        dropped = ctx.cached(f"unread-lines:{m.file}", lambda: unread_lines(ctx.read_text(m.file)))
    except LabError:
        return None
    if not dropped:
        return None
    cut = dropped[0]
    if m.line >= cut.first:
        return (
            f": Flux's reader stops before line {cut.first} ({cut.reason}), so it never reads this marker",
            cut.fix,
        )
    return (
        f": Flux sets it, but reads the file only up to line {cut.first - 1} ({cut.reason}), and its commit "
        f"writes the file without {cut.lines}",
        cut.fix,
    )


def _yaml_error(ctx: CheckContext, rel: str) -> LabError | None:
    """Why `rel` cannot be read as YAML, None when it can; once per file and run (a failed read is
    not cached by `ctx.yaml_docs`, and a file with 501 markers was parsed 501 times)."""

    def read() -> LabError | None:
        try:
            ctx.yaml_docs(rel)
        except LabError as err:
            return err
        return None

    return ctx.cached(f"yaml-error:{rel}", read)


def _marker_problem(
    ctx: CheckContext,
    m: MarkerLine,
    syntax: MarkerSyntax,
    policies: list[ImagePolicy],
) -> tuple[str, str] | None:
    """What is wrong with marker `m` for Flux (continuing "marker in FILE:LINE"), and the hint; None when fine."""
    known = ", ".join(f"{p.namespace}:{p.name}" for p in policies) or "none"
    err = _yaml_error(ctx, m.file)
    if err is not None:
        truncated = _read_in_part(ctx, m)
        if truncated is not None:
            return truncated
        # Flux's setters skip a file that does not parse, markers and all (trace log only).
        return (
            f": the file does not parse as YAML ({err.message}{f', line {err.line}' if err.line else ''}), "
            "so Flux skips it and the marker does nothing",
            err.hint or "fix the YAML (tabs are not indentation in YAML), commit and push",
        )
    disabled = commented_out(m.comment) if m.text.lstrip().startswith("#") else None
    if disabled is not None:
        from lab.core.marker import move_to_image_line

        field, marker = disabled
        _, beside = _found_markers(ctx, m.file)
        value_line = beside(m.line) if beside else None
        return (
            f" is inside a line that comments out `{field}`: the whole line is one comment, on no value, "
            "so Flux ignores the marker in it",
            f"{move_to_image_line(m.line, value_line)}, writing only {marker}"
            if value_line
            else f"uncomment the line: {field} {marker}",
        )
    if syntax.problem is not None:
        example = _marker_example(ctx)
        return (
            f": {syntax.problem}",
            f"write {example.marker} at the end of the {example.field} line"
            if example
            else f"write {marker_for(_policy_ref(ctx))} at the end of the image line",
        )
    ignored = _ignored_own_line(ctx, m)
    if ignored is not None:
        return (" is on its own line; Flux only reads it at the end of the line holding the value", ignored)
    outside = _outside_automations_namespace(ctx, m)
    if outside is not None:
        return outside
    if _names_unknown_policy(syntax, policies):
        return (
            f" names {syntax.namespace}:{syntax.policy}, but no such ImagePolicy exists (policies: {known})",
            f"name an existing policy as namespace:name, e.g. {known.split(', ')[0]}",
        )
    if syntax.suffix == "" and m.line not in _image_lines(ctx, m.file):
        return (
            " writes a full image reference, but that line is not a container image: line",
            "put full markers on image: lines; use :tag / :name markers for split fields",
        )
    return None


def _outside_automations_namespace(ctx: CheckContext, m: MarkerLine) -> tuple[str, str] | None:
    """`lab why`'s diagnosis of a marker naming a namespace no automation reads policies from (whether
    or not an ImagePolicy exists there), as this check words a marker's problem; None without one."""
    from lab.checks.diagnosis import findings

    found = next(
        (f for f in findings(ctx) if f.id == "marker.namespace" and (f.file, f.line) == (m.file, m.line)),
        None,
    )
    return None if found is None else (" " + found.message.removeprefix("marker "), found.fix)


def _names_unknown_policy(syntax: MarkerSyntax, policies: list[ImagePolicy]) -> bool:
    return syntax.problem is None and not any(
        p.namespace == syntax.namespace and p.name == syntax.policy for p in policies
    )


def _ignored_own_line(ctx: CheckContext, m: MarkerLine) -> str | None:
    """The fix for marker `m` when it is on a line of its own where Flux ignores it (a head or foot
    comment of a key, as `find_markers` reads it: the end of the image line beside it); None when it
    is not on a line of its own, or Flux reads it there (above a plain list item)."""
    from lab.core.marker import move_to_image_line

    if not m.text.lstrip().startswith("#"):
        return None
    found, beside = _found_markers(ctx, m.file)
    if m.line in found and found[m.line].applies:
        return None
    return move_to_image_line(m.line, beside(m.line) if beside else None)


def _found_markers(
    ctx: CheckContext, rel: str
) -> tuple[dict[int, Marker], Callable[[int], int | None] | None]:
    """`find_markers` of `rel` by line, and its image line beside a line (None: no text), once per run:
    every marker on a line of its own asks (twice), and each whole-file pass costs a parse."""
    from lab.core.marker import line_beside_finder
    from lab.core.setters.find import find_markers

    def compute() -> tuple[dict[int, Marker], Callable[[int], int | None] | None]:
        try:
            text = ctx.read_text(rel)
        except LabError:
            text = ""
        found = {f.line: f for f in find_markers(text, rel)}
        return found, line_beside_finder(text, _image_lines(ctx, rel)) if text else None

    return ctx.cached(f"manifests:find-markers:{rel}", compute)


def _marker_valid(ctx: CheckContext) -> Outcome:
    from lab.core.setters.markers import parse_marker_text

    aset = automation_set(ctx)
    policies = [p for p in aset.policies if p.file in automation_files(ctx)]
    good: list[MarkerLine] = []
    bad: list[tuple[MarkerLine, str, str]] = []
    unchecked: list[tuple[MarkerLine, ReaderLimitError]] = []
    for m in _markers(ctx):
        limit = _yaml_error(ctx, m.file)
        if isinstance(limit, ReaderLimitError):
            # The lab's own reader gave up, not Flux's: what Flux does with these markers is unknown.
            unchecked.append((m, limit))
            continue
        problem = _marker_problem(ctx, m, parse_marker_text(m.comment), policies)
        if problem is None:
            good.append(m)
        else:
            bad.append((m, *problem))
    # A marker Flux ignores on a line of its own, beside a marker it reads for the same policy in the
    # same file: it does nothing, so it fails nothing (following its hint would write a duplicate);
    # the diagnosis notes it (`marker.ignored`, advisory).
    setters = {(m.file, parse_marker_text(m.comment).setter) for m in good}
    idle = [
        (m, what, hint)
        for m, what, hint in bad
        if (m.file, parse_marker_text(m.comment).setter) in setters and _ignored_own_line(ctx, m) is not None
    ]
    failing = [b for b in bad if b not in idle]
    if failing:
        m, what, hint = failing[0]
        if good and _names_unknown_policy(parse_marker_text(m.comment), policies):
            # Flux still sets the markers that name a policy: this one it skips without a word, and the
            # field it sits on never moves (nothing in Flux's status says so).
            what += "; Flux skips it in silence, sets the other markers, and this field never moves"
        return Outcome.failed(
            f"marker in {m.file}:{m.line}{what}",
            file=m.file,
            line=m.line,
            hint=hint,
            evidence=[Evidence("file", f"{m.file}:{m.line}", m.text.strip())],
        )
    if unchecked:
        m, limit = unchecked[0]
        return Outcome.errored(
            f"could not check the marker in {m.file}:{m.line}: the lab reads no further ({limit.message}); "
            "that is the lab's limit, not Flux's, which reads the file",
            hint="split the file into smaller ones to have the lab check it",
            evidence=[Evidence("file", f"{m.file}:{m.line}", m.text.strip())],
        )
    if not good:
        # None: the task's own hint, which knows where its markers go (not every task has marker.present)
        return Outcome.failed("no marker found", hint=None)
    first = good[0]
    return Outcome.passed(
        f"{first.file}:{first.line} is marked for {parse_marker_text(first.comment).setter}",
        evidence=[
            Evidence("file", f"{m.file}:{m.line}", m.text.strip()) for m in (*good[:5], *(i[0] for i in idle))
        ],
        file=first.file,
    )
