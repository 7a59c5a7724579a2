"""Registry checks: the image has tags (`registry.tags`, the "no tags found" pitfall) and the policy picks
one of them (`policy.resolves`). Tags come from the registry (`lab.adapters.registry`, scanned like an
ImageRepository) or from `--tags-file`; the policy is evaluated by `lab.core.policy.evaluate` as Flux does."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace

from lab.checks import check
from lab.checks.context import (
    CheckContext,
    automation_files,
    deployment_file,
    graded_branch,
    task_images,
)
from lab.checks.manifests import automation_set, generated, is_task_tags_file
from lab.core.checks.model import OFFLINE_REASON, Evidence, Outcome, Status
from lab.core.deployed import is_older
from lab.core.imagename import spelling_hint
from lab.core.manifests.models import ImagePolicy, ImageRepository
from lab.core.policy.spec import PolicySpec
from lab.core.record import dataclass
from lab.core.tasks import LIVE_TAGS_HINT
from lab.errors import LabError, UsageError, registry_unreachable

NOT_FOUND_CODES = frozenset({"NAME_UNKNOWN", "ImageURLInvalid"})


@dataclass(frozen=True)
class Tags:
    repository: ImageRepository | None
    stored: tuple[str, ...] = ()
    source: str = ""
    outcome: Outcome | None = None  # set when the tags could not be had
    unreachable: str = ""  # the registry that could not be scanned, and why (the bundled tags stand in)
    error: str = ""  # that registry's error
    hint: str = ""  # what to do about it
    bundled: bool = False  # the task's own tags of the image (task.toml [[images]])
    refused_to_flux: str = ""  # what Flux's scan would fail with, where the lab read the tags all the same


def _repository(ctx: CheckContext) -> ImageRepository | None:
    from lab.core.scan import scanned_repository

    return scanned_repository(
        automation_set(ctx).repositories, automation_files(ctx), task_images(ctx).images
    )


def _from_file(ctx: CheckContext, repo: ImageRepository) -> Tags:
    from lab.adapters.tagsfile import read_tags
    from lab.core.scan import DEFAULT_EXCLUSION, store_tags

    path = ctx.tags_file
    assert path is not None
    try:
        tags = read_tags(path)
    except LabError as err:
        return Tags(repo, outcome=Outcome.errored(err.message, hint=err.hint))
    exclusions = repo.exclusion_list if repo.exclusion_list is not None else DEFAULT_EXCLUSION
    try:
        stored = store_tags(tags, exclusions)
    except LabError as err:
        return Tags(repo, outcome=Outcome.failed(err.message, file=repo.file, hint=err.hint))
    # The task's own snapshot given as the file is as dated as when the lab reads it itself.
    return Tags(repo, tuple(stored), f"tags file {path.name}", bundled=is_task_tags_file(ctx))


# A check run asks the registry once per ImageRepository. A registry that drips its answer a byte at a
# time passes every read timeout, so each scan has its seconds (LAB_REGISTRY_TIMEOUT, 20 by default:
# a large repository's tags come over several pages, and a learner's link may be slow). Once a scan on
# a host timed out, the run starts no other scan there: a run waits those seconds once per registry
# host, however many ImageRepositories it scans, not the client's minute per call.
REGISTRY_CALL_SECONDS = 20.0


def scan_seconds() -> float:
    """LAB_REGISTRY_TIMEOUT (a positive number of seconds), else the default when unset or empty.
    Anything else is a UsageError naming it: a learner who set it believes it."""
    value = os.environ.get(TIMEOUT_ENV, "").strip()
    if not value:
        return REGISTRY_CALL_SECONDS
    try:
        seconds = float(value)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds < float("inf"):
        raise UsageError(
            f"{TIMEOUT_ENV}={os.environ.get(TIMEOUT_ENV)} is not a positive number of seconds",
            hint=f"set it to seconds each registry scan may take, e.g. {TIMEOUT_ENV}=60 "
            f"(or 2.5), or unset it for {REGISTRY_CALL_SECONDS:g}",
        )
    return seconds


TIMEOUT_ENV = "LAB_REGISTRY_TIMEOUT"


def _from_registry(ctx: CheckContext, repo: ImageRepository) -> Tags:
    from lab.adapters.registry import RegistryAPIError, RegistryClient, ScanResult
    from lab.core.scan import DEFAULT_EXCLUSION

    exclusions = repo.exclusion_list if repo.exclusion_list is not None else DEFAULT_EXCLUSION
    per_call = scan_seconds()
    # host -> the image whose scan timed out there, this run
    slow: dict[str, str] = ctx.cached("registry:slow-hosts", dict)
    with RegistryClient(timeout=per_call, deadline=per_call) as client:
        try:
            name = client.parse(repo.image)
            where, host = name.where, name.wire_host
            mirror = f", asked at {name.where}" if name.mirrored else ""
        except LabError:
            where, host, mirror = "the registry", "", ""
        earlier = slow.get(host) if host else None
        if earlier is None:
            result = client.scan(repo.image, exclusions, check=False)
            if host and getattr(result.error, "timed_out", False):
                slow[host] = repo.image
        else:
            skipped = RegistryAPIError(
                f"did not answer within {per_call:g} s for {earlier} earlier in this run",
                timed_out=True,
            )
            result = ScanResult(
                canonical_name="",
                tags=(),
                tag_count=0,
                latest_tags=(),
                revision="",
                message=skipped.message,
                ready=False,
                reason="",
                error=skipped,
            )
    if result.ready:
        refused = ""
        if result.basic_auth_only and repo.secret_ref is None:
            # Flux reads no Docker config: without spec.secretRef its scan sends no credentials.
            refused = (
                f"{host} requires credentials (Basic auth) and ImageRepository {repo.name} has no "
                "spec.secretRef, so Flux scans anonymously and fails: GET /v2/: 401 Unauthorized; the "
                "lab listed the tags only with your Docker config's credentials, which Flux never reads"
            )
        return Tags(repo, result.tags, result.canonical_name or repo.image, refused_to_flux=refused)
    err = result.error
    message = err.message if err is not None else result.message
    if getattr(err, "timed_out", False) and earlier is None:
        message = f"the registry answered too slowly: {message}"
    if err is not None and registry_unreachable(err):
        # As `lab simulate` does: the task's bundled tags stand in (for the checks that read tags), and
        # registry.tags says it could not check.
        bundled = bundled_tags_of(ctx, repo, unreachable=(where, message, err.hint or ""))
        if bundled is not None:
            return bundled
    if earlier is not None:
        message = f"{where}: {message}"
    code = str(getattr(err, "code", "") or result.reason)
    status = int(getattr(err, "status", 0) or 0)
    hint = err.hint if err is not None else None
    file, line = repo.file, repo.line_of("spec.image")
    evidence = [Evidence("registry", repo.image, result.message)]
    if code in NOT_FOUND_CODES or status == 404 or message.startswith("image not found"):
        return Tags(
            repo,
            outcome=Outcome.failed(
                message,
                hint=hint or spelling_hint(repo.image),
                evidence=evidence,
                file=file,
                line=line,
            ),
        )
    if code == "UNAUTHORIZED":
        # The registry's refusal in the client's words (as `lab simulate` prints it), which tell a
        # request without credentials from one whose credentials (the Docker config's) were refused.
        # Docker Hub answers UNAUTHORIZED for a misspelt name as for a private one (F4). One rule for
        # a Basic and a Bearer challenge: Flux's scan fails on either, so the check fails.
        credentialed = bool(getattr(err, "credentialed", False))
        advice = hint or spelling_hint(repo.image)
        if repo.secret_ref is None:
            # Flux reads no Docker config: without spec.secretRef its scan is anonymous.
            advice += "; Flux scans anonymously without spec.secretRef: a private image needs one"
        whose = "with the Docker config's credentials" if credentialed else "anonymously"
        return Tags(
            repo,
            outcome=Outcome.failed(
                f"the registry refused to list {repo.image} {whose}{mirror}: {message}",
                hint=advice,
                evidence=evidence,
                file=file,
                line=line,
            ),
        )
    return Tags(
        repo,
        outcome=Outcome.errored(
            f"could not check: {message}",
            hint=hint or "check the network or the registry, then rerun (or use --tags-file)",
            evidence=evidence,
        ),
    )


def _tags(ctx: CheckContext) -> Tags:
    def compute() -> Tags:
        repo = _repository(ctx)
        if repo is None:
            return Tags(
                None, outcome=Outcome.failed("no ImageRepository to scan", hint="see image-repository.valid")
            )
        if ctx.tags_file is not None:
            return _from_file(ctx, repo)
        if not ctx.offline:
            return _from_registry(ctx, repo)
        # Offline the task's bundled tags are the data the lab has; an image it bundles nothing of is
        # left out, as the registry checks were before.
        bundled = bundled_tags_of(ctx, repo)
        if bundled is None:
            return Tags(
                repo,
                outcome=Outcome.make(
                    Status.SKIPPED,
                    f"{OFFLINE_REASON}: the registry is not asked offline, and task {ctx.task} bundles no "
                    f"tags of {repo.image}",
                    hint="run `lab check` without --offline, or pass the image's tags with --tags-file F",
                ),
            )
        return bundled

    return ctx.cached("registry:tags", compute)


def bundled_tags_of(
    ctx: CheckContext, repo: ImageRepository, *, unreachable: tuple[str, str, str] | None = None
) -> Tags | None:
    """The tags the task bundles for `repo`'s image (its registry/ list), or None when it has none.
    `unreachable`: (where, error, hint) of the registry that could not be scanned, which the tags then
    name."""
    from lab.adapters.tagsfile import read_tags
    from lab.core.scan import DEFAULT_EXCLUSION, store_tags
    from lab.core.tasks import snapshot_words

    task = task_images(ctx)
    image = task.find(repo.image)
    if image is None or not task.file(image.tags).is_file():
        return None
    exclusions = repo.exclusion_list if repo.exclusion_list is not None else DEFAULT_EXCLUSION
    path = task.file(image.tags)
    try:
        stored = store_tags(read_tags(path), exclusions)
    except LabError as err:
        return Tags(repo, outcome=Outcome.failed(err.message, file=repo.file, hint=err.hint))
    when = f", a {image.snapshot} snapshot" if image.snapshot else ""
    source = f"the tags bundled with task {ctx.task} ({path.name}{when})"
    if unreachable is None:
        return Tags(repo, tuple(stored), source, bundled=True)
    where, error, hint = unreachable
    # The registry's own words say what went wrong (refused, a redirect loop, too slow, too many tags):
    # "cannot be reached" would call all of them the same.
    note = (
        f"{where}: {error}; only {snapshot_words(image)} is known ({len(stored)} tags, {path.name}), "
        "which --offline grades on"
    )
    return Tags(repo, tuple(stored), source, unreachable=note, error=error, hint=hint, bundled=True)


def repository_tags(ctx: CheckContext, repo: ImageRepository) -> Tags | None:
    """The stored tags of `repo`, as its own scan stores them (None: not known). The task's repository's
    come from `_tags`; another ImageRepository's from the registry, or, with a tags file (which lists the
    task's image), from that file when it is the same image, else from the task's bundled list."""
    from lab.core.scan import tags_origin

    first = _repository(ctx)
    if first is not None and (first.namespace, first.name) == (repo.namespace, repo.name):
        return _tags(ctx)

    def compute() -> Tags | None:
        origin = tags_origin(
            repo.image, scanned=first.image if first else None, tags_file=ctx.tags_file is not None
        )
        if origin == "registry":
            return _from_registry(ctx, repo)
        return _from_file(ctx, repo) if origin == "tags file" else bundled_tags_of(ctx, repo)

    return ctx.cached(f"registry:tags:{repo.namespace}/{repo.name}", compute)


@check("registry.tags")
def registry_tags(ctx: CheckContext) -> Outcome:
    tags = _tags(ctx)
    if tags.outcome is not None:
        return tags.outcome
    repo = tags.repository
    assert repo is not None
    if not tags.stored:
        return Outcome.failed(
            f"no tags found for {repo.image} ({tags.source}): the policy has nothing to choose from",
            file=repo.file,
            line=repo.line_of("spec.image"),
            hint=f"{spelling_hint(repo.image)}; check spec.exclusionList too",
        )
    shown = ", ".join(tags.stored[:5])
    evidence = [Evidence("registry", tags.source, f"first stored: {shown}")]
    if tags.refused_to_flux:
        host = repo.image.split("/", 1)[0]
        return Outcome.failed(
            f"{tags.refused_to_flux} (with them: {len(tags.stored)} tags, {shown})",
            file=repo.file,
            line=repo.line_of("spec.image"),
            hint=(
                f"give Flux the credentials: `flux create secret oci regcred --url={host} --username=... "
                f"--password=...` (or `kubectl create secret docker-registry regcred --docker-server={host} "
                "...`) in the ImageRepository's namespace, then set spec.secretRef.name: regcred"
            ),
            evidence=evidence,
        )
    if tags.unreachable:
        # Not a pass: the registry's tags are not known, only the snapshot's (`lab grade` counts the row
        # incomplete, `lab check` exits 3). The checks that read tags are left to `--offline`.
        return Outcome.errored(
            f"could not check: {tags.unreachable}",
            hint=f"{tags.hint}; {LIVE_TAGS_HINT}" if tags.hint else LIVE_TAGS_HINT,
            evidence=[*evidence, Evidence("registry", repo.image, tags.error)],
        )
    return Outcome.passed(f"{len(tags.stored)} tags for {repo.image} from {tags.source}", evidence=evidence)


def _policies(ctx: CheckContext) -> list[ImagePolicy]:
    return [p for p in automation_set(ctx).policies if p.file in automation_files(ctx)]


def _policy(ctx: CheckContext, repo: ImageRepository) -> ImagePolicy | None:
    """The first policy that references `repo` (Flux: `spec.imageRepositoryRef`, its namespace defaulting
    to the policy's): a policy is evaluated against its own repository's tags, never another image's."""
    key = (repo.namespace, repo.name)
    return next((p for p in _policies(ctx) if p.repository_key == key), None)


def _other_policies(ctx: CheckContext, first: ImagePolicy) -> list[tuple[ImagePolicy, Tags]]:
    """The automation files' other policies, each with the tags of the ImageRepository it references
    (those whose repository is not found, or whose tags are not known, are left to the other checks)."""
    aset = automation_set(ctx)
    out: list[tuple[ImagePolicy, Tags]] = []
    for pol in _policies(ctx):
        if pol is first or pol.policy is None:
            continue
        repo = aset.repository(*pol.repository_key)
        tags = repository_tags(ctx, repo) if repo is not None else None
        if tags is not None:
            out.append((pol, tags))
    return out


def _resolve_other(ctx: CheckContext, pol: ImagePolicy, tags: Tags, expected: str | None) -> Outcome:
    """`pol` evaluated against its own repository's tags: a pass saying what it selects, else why not
    (nothing, or not the tag the task `expected`)."""
    from lab.core.policy.evaluate import resolve

    if tags.outcome is not None:
        return tags.outcome
    assert pol.policy is not None and tags.repository is not None
    repo = tags.repository
    outcome = resolve(pol.policy, tags.stored)
    if outcome.tag is not None:
        missed = _missed_pick(ctx, pol, tags, expected)
        if missed is not None:
            return missed
        return Outcome.passed(f"ImagePolicy {pol.name} selects {outcome.tag} from the tags of {repo.image}")
    return Outcome.failed(
        f"ImagePolicy {pol.name} selects nothing from the {len(tags.stored)} tags of {repo.image} "
        f"({tags.source}): {outcome.message}",
        hint=f"adjust spec.policy of ImagePolicy {pol.name} to match a tag of {repo.image}",
        evidence=[Evidence("policy", f"{pol.ref} {pol.policy.kind} {pol.policy.value}", tags.source)],
        file=pol.file,
        line=pol.line_of("spec.policy"),
    )


@check("policy.resolves", params=("expect_tag", "expect_tags"))
def policy_resolves(ctx: CheckContext) -> Outcome:
    from lab.core.policy.evaluate import resolve

    tags = _tags(ctx)
    if tags.outcome is not None or tags.repository is None:
        return tags.outcome or Outcome.failed("no ImageRepository")
    policy = _policy(ctx, tags.repository)
    if policy is None or policy.policy is None:
        repo = tags.repository
        return Outcome.failed(
            f"no ImagePolicy with a policy to evaluate references ImageRepository {repo.namespace}/{repo.name}",
            hint=f"spec.imageRepositoryRef.name: {repo.name} in an ImagePolicy; see image-policy.valid",
        )
    outcome = resolve(policy.policy, tags.stored)
    dropped = ", ".join(f"{n} {why}" for why, n in outcome.dropped.items())
    evidence = [Evidence("policy", f"{policy.ref} {policy.policy.kind} {policy.policy.value}", dropped)]
    if outcome.tag is None:
        from lab.checks.diagnosis import findings

        # diagnose() says which range, the nearest tags and what to write (-0, three-part tags).
        mine = {tags.repository.image: tags.stored}
        why = [f for f in findings(ctx, mine) if f.check == "policy.resolves" and f.breaking]
        if why:
            return Outcome.failed(
                f"ImagePolicy {policy.name} selects nothing from {len(tags.stored)} tags: {why[0].message}; "
                f"Flux: {why[0].flux}",
                hint=why[0].fix,
                evidence=evidence,
                file=why[0].file,
                line=why[0].line,
            )
        return Outcome.failed(
            f"ImagePolicy {policy.name} selects nothing from {len(tags.stored)} tags: {outcome.message}",
            hint=_nothing_hint(ctx),
            evidence=evidence,
            file=policy.file,
            line=policy.line_of("spec.policy"),
        )
    expect_tags = ctx.str_table_param("expect_tags")
    task_range = _expected_range(ctx)
    deployed = _deployed(ctx, policy, tags.repository.image)
    if deployed is not None and is_older(outcome.tag, deployed[0]) and deployed[0] in tags.stored:
        tag, where = deployed
        return Outcome.failed(
            f"ImagePolicy {policy.name} picks {outcome.tag}, older than {tag} already deployed ({where}): "
            f"Flux would commit a downgrade {tag} -> {outcome.tag}",
            hint=f"a policy must not go backwards: use the task's semver range {task_range}, which keeps "
            f"{tag} or picks a newer patch"
            if task_range
            else f"a policy must not go backwards: choose one that keeps {tag} or picks a newer tag",
            evidence=[*evidence, Evidence("file", where, f"deployed {tag}")],
            file=policy.file,
            line=policy.line_of("spec.policy"),
        )
    explicit = expect_tags.get(policy.name, ctx.optional_str_param("expect_tag"))
    derived = explicit is None and not expect_tags
    expected = _task_pick(ctx, tags) if derived else explicit
    live = _live_pick(ctx, policy, tags, outcome.tag, expected)
    wrong = (
        _missed_pick(ctx, policy, tags, expected)
        or _absent_policies(ctx, expect_tags)
        or (live if live.status != Status.PASS else None)
    )
    if wrong is not None and not derived:
        return wrong
    from lab.checks.diagnosis import merge

    others = _other_policies(ctx, policy)
    known: dict[str, tuple[str, ...]] = {tags.repository.image: tags.stored}
    for _, other in others:
        if other.outcome is None and other.repository is not None:
            known.setdefault(other.repository.image, other.stored)
    if wrong is not None:
        # Not the pick of the task's own policy: a diagnosis of the policy (a cosign tag getting
        # through, an unanchored pattern) says why better, when it has one.
        diagnosed = merge(ctx, "policy.resolves", Outcome.passed("", file=policy.file), known)
        if diagnosed.status != Status.PASS:
            return diagnosed
        if task_range and policy.policy.value.strip() != task_range:
            judged = tags if wrong is live else _judged(ctx, tags)
            return replace(wrong, hint=_range_hint(ctx, task_range, judged, tags))
        return wrong
    text = live.message
    future = _future_note(ctx, tags, policy, outcome.tag)
    if future:
        text += f"; {future}"
    merged = merge(ctx, "policy.resolves", Outcome.passed(text, evidence=evidence, file=policy.file), known)
    if merged.status != Status.PASS:
        return merged
    results = [_resolve_other(ctx, pol, other, expect_tags.get(pol.name)) for pol, other in others]
    failed = next((r for r in results if r.status != Status.PASS), None)
    if failed is not None:
        return failed
    if not results:
        return merged
    return replace(merged, message="; ".join([merged.message, *(r.message for r in results)]))


def _expected_range(ctx: CheckContext) -> str | None:
    """The task's semver range (task.toml `[generate]`, what `lab generate` writes); None when the task's
    policy is alphabetical or numerical, which has no range to point at."""
    policy = generated(ctx).policy
    return policy.value.strip() if policy.kind == "semver" else None


def _range_hint(ctx: CheckContext, task_range: str, judged: Tags, tags: Tags) -> str:
    """Use the task's range: what it selects from the tags the failure was `judged` on (the task's
    bundled ones, or the tags now), and from the other list too when it picks another tag there (a
    sandbox or registry that published newer builds)."""
    other = tags if judged is not tags else _judged(ctx, tags)
    mine, theirs = _task_pick_of(ctx, judged), _task_pick_of(ctx, other)
    hint = f"use the task's semver range {task_range}, which selects {mine or 'nothing'}"
    if theirs == mine:
        return hint
    return f"{hint} from {_tags_named(judged)} ({theirs or 'nothing'} from {_tags_named(other)})"


def _task_pick_of(ctx: CheckContext, tags: Tags) -> str | None:
    """What the task's own policy (`_task_policy`) selects from `tags`."""
    from lab.core.policy.evaluate import resolve

    try:
        return resolve(_task_policy(ctx), tags.stored).tag
    except LabError:
        return None


def _tags_named(tags: Tags) -> str:
    """`tags` as the failures name them: the task's bundled ones, or where the tags now come from."""
    return "the task's bundled tags" if tags.bundled else tags.source


def _nothing_hint(ctx: CheckContext) -> str | None:
    """What to write when the policy selects nothing: the task's semver range as the example (an `M.m.x`
    range said with the tags it matches); None for a task whose policy is no range (its own hint then)."""
    import re

    task_range = _expected_range(ctx)
    if task_range is None:
        return None
    xrange = re.fullmatch(r"(\d+)\.(\d+)\.x", task_range)
    if xrange is None:
        return f"adjust spec.policy (e.g. the task's semver range {task_range})"
    line = f"{xrange[1]}.{xrange[2]}"
    return f"adjust spec.policy (e.g. semver range {task_range} matches three-part tags {line}.0 .. {line}.n)"


def _missed_pick(ctx: CheckContext, policy: ImagePolicy, tags: Tags, expected: str | None) -> Outcome | None:
    """The failure when the task `expected` (checks.toml `expect_tag` / `expect_tags`) another tag than
    `policy` selects. Judged on the task's bundled tags of the image when it has them: the expectation
    is about the task's data, and a sandbox registry that replays newer tags moves the pick on. Else on
    the tags the check resolved with."""
    from lab.core.policy.expect import pick_mismatch

    repo = tags.repository
    if expected is None or policy.policy is None or repo is None:
        return None
    judged = _judged(ctx, tags)
    missed = pick_mismatch(policy.policy, judged.stored, expected)
    if missed is None:
        return None
    whose = f"task {ctx.task}'s bundled tags" if judged.bundled else f"the tags of {repo.image}"
    spec = policy.policy
    return Outcome.failed(
        f"ImagePolicy {policy.name} selects {missed.chosen or 'nothing'} from {whose}, the "
        f"task expects {expected}: {missed.why}",
        # A fix that only restates the goal gives way to the task's own hint for the check (the runner's).
        hint=missed.fix if missed.specific else None,
        evidence=[Evidence("policy", f"{policy.ref} {spec.kind} {spec.value}", judged.source)],
        file=policy.file,
        line=policy.line_of(
            missed.field or ("spec.filterTags.pattern" if spec.filter_pattern else "spec.policy")
        ),
    )


def _judged(ctx: CheckContext, tags: Tags) -> Tags:
    """The tags an expectation (`expect_tag`, `expect_tags`) is judged on: the task's bundled tags of the
    image when it has them (the author wrote the expectation for them), else `tags`."""
    if tags.repository is None:
        return tags
    bundled = bundled_tags_of(ctx, tags.repository)
    if bundled is None or bundled.outcome is not None or bundled.stored == tags.stored:
        return tags
    return bundled


def _task_policy(ctx: CheckContext) -> PolicySpec:
    """The task's own policy (task.toml `[generate]`, what `lab generate` writes), with its filter."""
    options = generated(ctx)
    return replace(
        options.policy, filter_pattern=options.filter_pattern, filter_extract=options.filter_extract
    )


def _task_pick(ctx: CheckContext, tags: Tags) -> str | None:
    """What the task's own policy (`_task_policy`) selects from the task's bundled tags of its image: the
    expectation of a task that names none (`expect_tag`), so a pinned or narrower range that Flux would
    never move on fails. None when the task bundles no tags of the image the policy scans."""
    from lab.core.imagename import canonical_or_written

    repo = tags.repository
    if repo is None or canonical_or_written(repo.image) != canonical_or_written(generated(ctx).image):
        return None
    bundled = bundled_tags_of(ctx, repo)
    if bundled is None or bundled.outcome is not None:
        return None
    return _task_pick_of(ctx, bundled)


def _live_pick(
    ctx: CheckContext, policy: ImagePolicy, tags: Tags, picked: str, expected: str | None
) -> Outcome:
    """What `policy` selects, said with the tags it was judged on. An expectation is judged on the task's
    bundled tags (`_missed_pick`); when the tags now (the registry, a sandbox that published newer builds,
    `--tags-file`) are others, the pick on them is reported too, and judged against what the task's own
    policy selects from them when that policy picks the expected tag from the bundled ones: "the highest
    build" is a rule, and the task's policy is its data."""
    from lab.core.policy.evaluate import resolve

    assert policy.policy is not None
    here = f"ImagePolicy {policy.name} selects {picked} from {tags.source}"
    if expected is None:
        return Outcome.passed(here)
    judged = _judged(ctx, tags)
    if judged is tags:
        return Outcome.passed(f"{here}, the tag the task expects")
    said = f"ImagePolicy {policy.name} selects {expected} from {judged.source}, as the task expects"
    reference = _task_policy(ctx)
    if resolve(reference, judged.stored).tag != expected:
        return Outcome.passed(f"{said}; from {tags.source} it selects {picked}")
    theirs = resolve(reference, tags.stored).tag
    if theirs == picked:
        return Outcome.passed(f"{said}; from {tags.source} it selects {picked}, as the task's policy does")
    words = f"{reference.kind} {reference.value}" + (
        f" on {reference.filter_pattern}" if reference.filter_pattern else ""
    )
    spec = policy.policy
    return Outcome.failed(
        f"ImagePolicy {policy.name} selects {picked} from {tags.source}, where the task's policy ({words}) "
        f"selects {theirs or 'nothing'} (from the task's bundled tags both select {expected})",
        evidence=[Evidence("policy", f"{policy.ref} {spec.kind} {spec.value}", tags.source)],
        file=policy.file,
        line=policy.line_of("spec.filterTags.pattern" if spec.filter_pattern else "spec.policy"),
    )


def _absent_policies(ctx: CheckContext, expect_tags: dict[str, str]) -> Outcome | None:
    """`expect_tags` names a policy the automation files do not have: what the task expects is not there."""
    names = {p.name for p in _policies(ctx)}
    absent = [name for name in expect_tags if name not in names]
    if not absent:
        return None
    return Outcome.failed(
        f"the task expects ImagePolicy {absent[0]} to select {expect_tags[absent[0]]}; the automation files "
        f"have no ImagePolicy {absent[0]} (policies: {', '.join(sorted(names)) or 'none'})",
        file=automation_files(ctx)[1],
    )


def _deployed(ctx: CheckContext, policy: ImagePolicy, image: str) -> tuple[str, str] | None:
    """The newest tag the marked image line, or any image line of `image`, has had: in the working
    tree, or in any commit of HEAD's or origin's history of the file (a downgrade Flux already committed
    does not hide what was there). What runs counts whether or not the marker is right yet."""
    from lab.core.deployed import image_tags, marked_tags, newest_version
    from lab.errors import GitError

    ref = f"{policy.namespace}:{policy.name}"

    def tags_in(text: str) -> list[str]:
        return marked_tags(text, ref) + image_tags(text, image)

    seen: list[tuple[str, str]] = []
    if ctx.exists(deployment_file(ctx)):
        try:
            seen += [
                (t, f"{deployment_file(ctx)} in your working tree")
                for t in tags_in(ctx.read_text(deployment_file(ctx)))
            ]
        except LabError:
            pass
    try:
        from lab.checks.gitrepo import workspace_repo

        # The git checks' repository and object reader: offline too this check runs with them.
        ws = workspace_repo(ctx)
        heads = [h for h in ("HEAD", f"refs/remotes/origin/{graded_branch(ctx)}") if ws.rev_parse(h)]
        for sha in ws.file_history(heads, deployment_file(ctx), n=60) if heads else []:
            raw = ws.show_file(sha, deployment_file(ctx))
            if raw is None:
                continue
            for tag in tags_in(raw.decode("utf-8", "replace")):
                seen.append((tag, f"{deployment_file(ctx)} at {sha[:7]}"))
    except (GitError, LabError):
        pass
    newest = newest_version([t for t, _ in seen])
    if newest is None:
        return None
    return next((t, where) for t, where in seen if t == newest.original)


def _future_note(ctx: CheckContext, tags: Tags, policy: ImagePolicy, picked: str) -> str:
    """For a semver range other than the task's: what it would pick as the image's newer releases arrive
    (the lab's dated Docker Hub history), where the task's range would stay on its line."""
    import json

    from lab.core.deployed import picks_over_time
    from lab.core.policy.evaluate import resolve
    from lab.core.policy.spec import PolicySpec
    from lab.core.scan import DEFAULT_EXCLUSION, store_tags

    spec = policy.policy
    repo = tags.repository
    expected = _expected_range(ctx)
    if (
        expected is None
        or spec is None
        or repo is None
        or spec.kind != "semver"
        or spec.value.strip() == expected
    ):
        return ""
    images = task_images(ctx)
    image = images.find(repo.image)
    if image is None or image.events is None:
        return ""  # the task bundles no dated history of this image
    try:
        raw = json.loads(images.file(image.events).read_text(encoding="utf-8"))
        events = [(str(e["date"])[:10], [str(t) for t in e["tags"]]) for e in raw]
    except (OSError, ValueError, KeyError, TypeError):
        return ""
    exclusions = repo.exclusion_list if repo.exclusion_list is not None else DEFAULT_EXCLUSION

    def chooser(chosen: PolicySpec) -> Callable[[list[str]], str | None]:
        def select(all_tags: list[str]) -> str | None:
            try:
                return resolve(chosen, store_tags(all_tags, exclusions)).tag
            except LabError:
                return None

        return select

    mine = picks_over_time(chooser(spec), list(tags.stored), events)
    task = picks_over_time(chooser(PolicySpec("semver", expected)), list(tags.stored), events)
    if [p.tag for p in mine] == [p.tag for p in task]:
        return ""
    shown = ", ".join(f"{p.tag} ({p.date})" for p in mine[:4])
    if len(mine) > 4:
        shown += f" ... {mine[-1].tag} ({mine[-1].date})"
    task_last = task[-1].tag if task else picked
    label = repo.image.rsplit("/", 1)[-1]
    if not mine:
        return f"note: as {label} releases arrive it would stay on {picked}, where {expected} moves to {task_last}"
    return (
        f"note: as {label} releases arrive, {spec.value} would pick {shown}, where the task's {expected} "
        f"stops at {task_last}"
    )
