"""A check report with every status (and hostile text), shared by the report-format tests."""

from __future__ import annotations

from lab.core.checks import CheckDef, Outcome, Report, runner
from lab.core.checks.model import Evidence

DEFS = (
    CheckDef("repo.files", "Files exist", 6),
    CheckDef("image-policy.valid", "Policy valid", 7, ("repo.files",)),
    CheckDef("marker.valid", "Marker valid", 7, ("image-policy.valid",)),
    CheckDef("sync.included", "Sync", 5, ("repo.files",)),
    CheckDef("git.pushed", "Pushed", 6, ("marker.valid",), kind="git"),
    CheckDef("registry.tags", "Tags", 6, kind="registry"),
    CheckDef("cluster.controllers", "Controllers", 6, kind="cluster"),
    CheckDef("quiz.passed", "Quiz", 5, kind="quiz", hint="run `lab quiz`"),
)

HOSTILE = "bad # value\n::error::pwned %0A ##[error]x <b>|</b> \x07\x1b[31mred\x1b[0m"


def impls() -> dict[str, runner.CheckFn]:
    return {
        "repo.files": lambda _: Outcome.passed("all three files exist"),
        "image-policy.valid": lambda _: Outcome.passed("ok"),
        "marker.valid": lambda _: Outcome.failed(
            "marker names flux-system/nginx; use namespace:name",
            file="apps/base/nginx/deployment.yaml",
            line=17,
            hint='write # {"$imagepolicy": "flux-system:nginx"}',
            evidence=[Evidence("file", "apps/base/nginx/deployment.yaml:17", "image: nginx:1.25.0 # ...")],
        ),
        "sync.included": lambda _: Outcome.failed(HOSTILE, hint="h: a, b"),
        "registry.tags": lambda _: Outcome.errored("could not check: registry timed out after 20 s"),
        "cluster.controllers": lambda _: Outcome.pending("image-reflector-controller not ready yet"),
        "quiz.passed": lambda _: Outcome.failed(
            "no quiz result in .fluxlab/quiz.json", hint="run `lab quiz`"
        ),
    }


def sample_report(*, offline: bool = False) -> Report:
    excluded = {"registry", "cluster"} if offline else set()
    results = runner.run(DEFS, impls(), None, excluded_kinds=excluded)
    return Report(
        task="09b", checks=results, started_at="2026-11-27T10:00:00Z", duration_s=0.5, tool_version="0.1.0"
    )
