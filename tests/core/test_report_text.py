"""The text report for people: groups, icons, the first broken link, colour only when asked."""

from __future__ import annotations

from dataclasses import replace

from lab.core.report.text import render_text
from tests.support.reports import sample_report


def test_groups_and_first_broken_link() -> None:
    text = render_text(sample_report())
    assert "\x1b[" not in text
    for group in ("Repository", "Git", "Registry", "Cluster", "Wrap-up"):
        assert f"\n{group}\n" in text
    starts = [line for line in text.splitlines() if "<- start here" in line]
    assert len(starts) == 1 and "marker.valid" in starts[0]
    assert "Start with marker.valid: marker names flux-system/nginx" in text
    assert "Score 13/48" in text


def test_skipped_say_why_on_one_line() -> None:
    line = next(x for x in render_text(sample_report()).splitlines() if "git.pushed" in x)
    assert line.strip().startswith("-") and line.endswith("(blocked by marker.valid)")
    offline = render_text(sample_report(offline=True))
    assert any(x.endswith("(offline)") for x in offline.splitlines() if "registry.tags" in x)


def test_hint_and_location() -> None:
    text = render_text(sample_report())
    assert "      apps/base/nginx/deployment.yaml:17: marker names flux-system/nginx" in text
    assert '      hint: write # {"$imagepolicy": "flux-system:nginx"}' in text


def test_colour_only_when_asked() -> None:
    assert "\x1b[31m✘\x1b[0m" in render_text(sample_report(), color=True)


def test_checks_left_out_offline_show_no_lost_points() -> None:
    from lab.core.report.github import render_summary

    report = sample_report(offline=True)
    left_out = [c for c in report.checks if c.excluded]
    assert left_out
    text = render_text(report).splitlines()
    summary = render_summary(report).splitlines()
    for c in left_out:
        line = next(x for x in text if f" {c.id} " in x)
        assert f" –/{c.max_points} " in line and f" 0/{c.max_points} " not in line, line
        row = next(x for x in summary if f" {c.id} " in x or f"`{c.id}`" in x)
        assert f"| –/{c.max_points} offline |" in row, row


def test_checks_blocked_by_one_check_say_why_once() -> None:
    """Every exercise check waits for git.pushed: the first blocked line says why, the others name it."""
    from lab.core.checks import CheckDef, Outcome, Report, runner

    defs = (
        CheckDef("git.pushed", "Pushed", 5, kind="git"),
        *(CheckDef(f"guard.{n}", f"Guard {n}", 5, ("git.pushed",), kind="git") for n in ("a", "b", "c")),
    )
    impls: dict[str, runner.CheckFn] = {"git.pushed": lambda _: Outcome.failed("not committed: x.yaml")}
    report = Report(
        task="t", checks=runner.run(defs, impls, None), started_at="", duration_s=0, tool_version=""
    )
    lines = [x for x in render_text(report).splitlines() if "guard." in x]
    assert lines[0].endswith(
        "(blocked by git.pushed, as are the 2 below: they grade what is pushed to origin, "
        "not checked until it passes)"
    ), lines[0]
    assert [x.endswith("(blocked by git.pushed)") for x in lines[1:]] == [True, True]
    two = Report(
        task="t", checks=runner.run(defs[:3], impls, None), started_at="", duration_s=0, tool_version=""
    )
    assert "(blocked by git.pushed, as is the one below: they grade" in render_text(two)


def test_an_advisory_on_a_passing_check_is_a_warning_line() -> None:
    """An advisory finding costs no points; it was only at the end of the passing check's message,
    which a passing line does not show."""
    from lab.core.checks import Report
    from lab.core.checks.model import CheckResult, Evidence, Status

    advisory = Evidence(
        "diagnosis",
        "apps/stray.yaml:18 marker.unknown-policy",
        "advisory: marker references flux-system:nosuch, but there is no such ImagePolicy "
        "(Flux: skips this marker silently)",
    )
    passed = CheckResult(
        "marker.valid", "Markers", Status.PASS, 7, 7, "ok; advisory: apps/stray.yaml:18: ..."
    )
    report = Report("09b", (replace(passed, evidence=(advisory,)),))
    lines = render_text(report).splitlines()
    assert (
        "      warning: apps/stray.yaml:18: marker references flux-system:nosuch, but there is no such "
        "ImagePolicy (Flux: skips this marker silently)"
    ) in lines, lines
    failed = replace(passed, status=Status.FAIL, points=0, evidence=(advisory,))
    assert not any("warning:" in x for x in render_text(Report("09b", (failed,))).splitlines())


def test_the_report_and_titles_name_the_graded_branch() -> None:
    from lab.core.checks.model import graded_title

    # The files are read where the learner works, what is pushed from origin: "checks of origin/main"
    # alone passed for a report on an uncommitted edit (tex finding 12).
    assert render_text(replace(sample_report(), graded="dev")).startswith(
        "Task 09b checks of the working tree and of origin/dev (what is pushed)\n"
    )
    assert graded_title("The files are committed and on origin/main", "dev") == (
        "The files are committed and on origin/dev"
    )
    assert graded_title("on origin/mainline and origin/main", "dev") == "on origin/mainline and origin/dev"


def test_verbose_lists_every_problem_a_check_found() -> None:
    """The text report showed the first problem and "(+2 more)", with no way to see the others but JSON
    (tex finding 12): `verbose` lists what the check found under it, and without it the report says how."""
    from dataclasses import dataclass

    from lab.core.checks import CheckDef, Evidence, Outcome, Report, runner

    @dataclass(frozen=True)
    class Problem:
        message: str
        file: str
        line: int | None
        hint: str = ""

    problems = [Problem(f"problem number {n}", "apps/a.yaml", n) for n in (3, 7, 9)]
    evidence = [Evidence("problem", f"{p.file}:{p.line} code", f"error: {p.message}") for p in problems]
    defs = (CheckDef("image-policy.valid", "The policy is valid", 5), CheckDef("repo.files", "Files", 5))
    impls: dict[str, runner.CheckFn] = {
        "image-policy.valid": lambda _: Outcome.first_failure(problems, evidence),
        "repo.files": lambda _: Outcome.passed("all there", evidence=[Evidence("file", "x.yaml", "fine")]),
    }
    report = Report(task="09b", checks=runner.run(defs, impls, None))
    short = render_text(report)
    assert "problem number 3 (+2 more)" in short and "problem number 7" not in short
    assert "      (lab check --verbose lists all it found)" in short.splitlines()
    full = render_text(report, verbose=True).splitlines()
    for p in problems:
        assert f"        problem {p.file}:{p.line} code: error: {p.message}" in full, full
    assert not any("x.yaml" in line for line in full)  # a passing check's evidence is no problem
    assert not any("--verbose" in line for line in full)
