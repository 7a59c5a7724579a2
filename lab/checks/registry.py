"""Registry checks: the image has tags (`registry.tags`, the "no tags found" pitfall) and the policy picks
one of them (`policy.resolves`). Tags come from the registry (`lab.adapters.registry`, scanned like an
ImageRepository) or from `--tags-file`; the policy is evaluated by `lab.core.policy.resolve` as Flux does."""

from __future__ import annotations

from dataclasses import dataclass

from lab.checks import check
from lab.checks.context import (
    CheckContext,
    automation_files,
)
from lab.checks.manifests import automation_set
from lab.core.checks.model import Evidence, Outcome
from lab.core.manifests.models import ImagePolicy, ImageRepository
from lab.errors import LabError

NOT_FOUND_CODES = frozenset({"NAME_UNKNOWN", "ImageURLInvalid"})


@dataclass(frozen=True)
class Tags:
    repository: ImageRepository | None
    stored: tuple[str, ...] = ()
    source: str = ""
    outcome: Outcome | None = None  # set when the tags could not be had


def _repository(ctx: CheckContext) -> ImageRepository | None:
    repos = [r for r in automation_set(ctx).repositories if r.file in automation_files(ctx)]
    return repos[0] if repos else None


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
    return Tags(repo, tuple(stored), f"tags file {path.name}")


def _from_registry(repo: ImageRepository) -> Tags:
    from lab.adapters.registry import RegistryClient
    from lab.core.scan import DEFAULT_EXCLUSION

    exclusions = repo.exclusion_list if repo.exclusion_list is not None else DEFAULT_EXCLUSION
    with RegistryClient() as client:
        result = client.scan(repo.image, exclusions, check=False)
    if result.ready:
        return Tags(repo, result.tags, result.canonical_name or repo.image)
    err = result.error
    code = str(getattr(err, "code", "") or result.reason)
    status = int(getattr(err, "status", 0) or 0)
    message = err.message if err is not None else result.message
    hint = err.hint if err is not None else None
    file, line = repo.file, repo.line_of("spec.image")
    evidence = [Evidence("registry", repo.image, result.message)]
    if code in NOT_FOUND_CODES or status == 404 or message.startswith("image not found"):
        return Tags(
            repo,
            outcome=Outcome.failed(
                message,
                hint=hint or "use the full path, e.g. library/nginx",
                evidence=evidence,
                file=file,
                line=line,
            ),
        )
    if code == "UNAUTHORIZED" and repo.secret_ref is None:
        # Docker Hub answers UNAUTHORIZED for a misspelt name as for a private one (F4).
        return Tags(
            repo,
            outcome=Outcome.failed(
                f"the registry refused to list {repo.image} anonymously: a misspelt or private image",
                hint="check spec.image (library/nginx on Docker Hub); a private image needs spec.secretRef",
                evidence=evidence,
                file=file,
                line=line,
            ),
        )
    return Tags(
        repo,
        outcome=Outcome.errored(
            f"could not check: {result.message}",
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
        return _from_file(ctx, repo) if ctx.tags_file is not None else _from_registry(repo)

    return ctx.cached("registry:tags", compute)


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
            hint="use the full repository path (library/nginx on Docker Hub) and check spec.exclusionList",
        )
    shown = ", ".join(tags.stored[:5])
    return Outcome.passed(
        f"{len(tags.stored)} tags for {repo.image} from {tags.source}",
        evidence=[Evidence("registry", tags.source, f"first stored: {shown}")],
    )


def _policy(ctx: CheckContext, repo: ImageRepository) -> ImagePolicy | None:
    policies = [p for p in automation_set(ctx).policies if p.file in automation_files(ctx)]
    matching = [p for p in policies if p.repository_key == (repo.namespace, repo.name)]
    found = matching or policies
    return found[0] if found else None


@check("policy.resolves")
def policy_resolves(ctx: CheckContext) -> Outcome:
    from lab.core.policy.resolve import resolve

    tags = _tags(ctx)
    if tags.outcome is not None or tags.repository is None:
        return tags.outcome or Outcome.failed("no ImageRepository")
    policy = _policy(ctx, tags.repository)
    if policy is None or policy.policy is None:
        return Outcome.failed("no ImagePolicy with a policy to evaluate", hint="see image-policy.valid")
    outcome = resolve(policy.policy, tags.stored)
    dropped = ", ".join(f"{n} {why}" for why, n in outcome.dropped.items())
    evidence = [Evidence("policy", f"{policy.ref} {policy.policy.kind} {policy.policy.value}", dropped)]
    if outcome.tag is None:
        return Outcome.failed(
            f"ImagePolicy {policy.name} selects nothing from {len(tags.stored)} tags: {outcome.message}",
            hint="adjust spec.policy (e.g. semver range 1.25.x matches three-part tags 1.25.0 .. 1.25.n)",
            evidence=evidence,
            file=policy.file,
            line=policy.line_of("spec.policy"),
        )
    return Outcome.passed(
        f"ImagePolicy {policy.name} selects {outcome.tag} from {outcome.considered} candidate tags",
        evidence=evidence,
        file=policy.file,
    )
