"""GitHub Actions output: annotation limits, escaping, points notice, step summary, Classroom result."""

from __future__ import annotations

import base64
import json

from test_report_common import sample_report

from lab.core.checks import CheckDef, CheckResult, Outcome, Report, Status, runner
from lab.core.report.github import (
    classroom_output,
    classroom_result,
    command,
    render_annotations,
    render_summary,
)

COMMANDS = ("::error ", "::warning ", "::notice ", "::group::", "::endgroup::", "::stop-commands::")


def big_report(fails: int, errors: int, *, with_file: bool = True) -> Report:
    defs = [CheckDef(f"f{i:02d}", f"F{i}", 1) for i in range(fails)]
    defs += [CheckDef(f"e{i:02d}", f"E{i}", 1, kind="cluster") for i in range(errors)]
    impls: dict[str, runner.CheckFn] = {}
    for i in range(fails):
        # odd ones point at a file: those must be annotated first
        file = f"f{i}.yaml" if with_file and i % 2 else None
        impls[f"f{i:02d}"] = lambda _, file=file: Outcome.failed("wrong", file=file, line=1 if file else None)
    for i in range(errors):
        impls[f"e{i:02d}"] = lambda _: Outcome.errored("unreachable")
    return Report(task="09b", checks=runner.run(defs, impls, None))


def commands_of(text: str) -> list[str]:
    """Lines the runner would interpret: everything outside the stop-commands fence."""
    out: list[str] = []
    token = None
    for line in text.splitlines():
        if token is not None:
            if line == f"::{token}::":
                token = None
            continue
        if line.startswith("::stop-commands::"):
            token = line.split("::")[2]
            continue
        out.append(line)
    return out


def test_points_notice_comes_first_exactly_like_the_reporter() -> None:
    lines = render_annotations(sample_report()).splitlines()
    assert lines[0] == "::notice title=Autograding complete::Points 13/48"
    assert lines[1] == '::notice title=Autograding report::{"totalPoints":13,"maxPoints":48}'
    assert not render_annotations(sample_report(), points=False).startswith("::notice title=Autograding")


def test_annotations_stay_within_per_step_limits() -> None:
    lines = commands_of(render_annotations(big_report(15, 12)))
    errors = [line for line in lines if line.startswith("::error ")]
    warnings = [line for line in lines if line.startswith("::warning ")]
    notices = [line for line in lines if line.startswith("::notice ")]
    assert len(errors) == 9 and len(warnings) == 9
    assert len(notices) == 3  # two points lines + one pointer to the summary
    assert notices[-1].endswith("::9 more findings: see the job summary")
    assert all("file=" in line for line in errors[:7])  # the 7 failures with a file come first
    assert "file=" not in errors[7]


def test_few_findings_need_no_pointer() -> None:
    lines = commands_of(render_annotations(big_report(2, 1)))
    assert not any("more findings" in line for line in lines)
    assert sum(line.startswith("::warning title=e00 could not be checked::") for line in lines) == 1


def test_fail_error_pending_mapping() -> None:
    lines = commands_of(render_annotations(sample_report()))
    assert (
        "::error file=apps/base/nginx/deployment.yaml,line=17,title=marker.valid::"
        "marker names flux-system/nginx; use namespace:name%0Ahint: write # "
        '{"$imagepolicy": "flux-system:nginx"}'
    ) in lines
    assert any(line.startswith("::warning title=registry.tags could not be checked::") for line in lines)
    assert any(line.startswith("::warning title=cluster.controllers pending::") for line in lines)
    assert not any("git.pushed" in line for line in lines if line.startswith("::"))  # skipped: summary only


def test_untrusted_text_cannot_inject_commands() -> None:
    text = render_annotations(sample_report())
    for line in commands_of(text):
        assert line.startswith(COMMANDS), line
    sync = next(line for line in commands_of(text) if "title=sync.included" in line)
    assert "%250A" in sync and "\x1b" not in sync and "\x07" not in sync
    assert "h: a, b" in sync  # message data keeps ':' and ','
    assert command("error", "m", title="a:b,c") == "::error title=a%3Ab%2Cc::m"
    assert "##[error]" not in "\n".join(commands_of(text))


def test_step_summary_table_and_hints() -> None:
    md = render_summary(sample_report())
    assert md.startswith("## fluxlab: task 09b - 13/48 points")
    rows = [line for line in md.splitlines() if line.startswith("| ") and "`" in line]
    assert len(rows) == 8
    assert any(r.startswith("| ❌ | `marker.valid` | 0/7 |") for r in rows)
    assert any(r.startswith("| ⏭️ | `git.pushed` |") and "blocked by marker.valid" in r for r in rows)
    sync = next(r for r in rows if "`sync.included`" in r)
    assert "\\|" in sync and "&lt;b&gt;" in sync and "\n" not in sync
    assert "<details><summary>marker.valid: how to fix</summary>" in md


def test_step_summary_is_capped() -> None:
    huge = "x " * 4000
    checks = tuple(
        CheckResult(f"c{i}", "t", Status.FAIL, 0, 1, message=huge[:300], hint=huge[:500]) for i in range(2000)
    )
    md = render_summary(Report(task="09b", checks=checks))
    assert len(md.encode()) < 1024 * 1024
    assert md.endswith("(summary truncated)\n")


def test_classroom_result_matches_reporter_contract() -> None:
    line = classroom_output(sample_report(offline=True))
    assert line.startswith("result=") and line.endswith("\n")
    raw = base64.b64decode(line[len("result=") :].strip(), validate=True).decode()
    data = json.loads(raw)
    assert raw == json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    assert data["version"] == 1 and data["status"] == "fail" and data["max_score"] == 36
    names = [t["name"] for t in data["tests"]]
    assert "registry.tags" not in names and "cluster.controllers" not in names  # mode-excluded
    assert all(isinstance(t["score"], int) for t in data["tests"])
    assert sum(t["score"] for t in data["tests"]) == 13
    blocked = next(t for t in data["tests"] if t["name"] == "git.pushed")
    assert blocked["status"] == "fail" and blocked["score"] == 0
    online = classroom_result(sample_report())
    pend = next(t for t in online["tests"] if t["name"] == "cluster.controllers")  # type: ignore[attr-defined]
    assert pend["status"] == "error" and pend["message"].startswith("pending: ")
