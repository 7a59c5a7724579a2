"""GitHub Actions output: annotation limits, escaping, points notice, step summary, Classroom result."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import pytest

from lab.core.checks import CheckDef, CheckResult, Outcome, Report, Status, runner
from lab.core.report.github import (
    classroom_output,
    classroom_runners,
    command,
    md_text,
    render_annotations,
    render_summary,
    runner_names,
)
from tests.support.reports import sample_report

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
    assert any(r.startswith("| ⏭️ | `git.pushed` |") and "blocked by marker\\.valid" in r for r in rows)
    sync = next(r for r in rows if "`sync.included`" in r)
    assert "\\|" in sync and "\\<b\\>" in sync and "\n" not in sync
    assert "<details><summary>marker.valid: how to fix</summary>" in md


def test_step_summary_is_capped() -> None:
    huge = "x " * 4000
    checks = tuple(
        CheckResult(f"c{i}", "t", Status.FAIL, 0, 1, message=huge[:300], hint=huge[:500]) for i in range(2000)
    )
    md = render_summary(Report(task="09b", checks=checks))
    assert len(md.encode()) < 1024 * 1024
    assert md.endswith("(summary truncated)\n")


def _decode_outputs(text: str) -> dict[str, dict[str, Any]]:
    runners: dict[str, dict[str, Any]] = {}
    for line in text.splitlines():
        name, _, value = line.partition("=")
        raw = base64.b64decode(value, validate=True).decode()
        data = json.loads(raw)
        assert raw == json.dumps(data, separators=(",", ":"), ensure_ascii=False)
        runners[name] = data
    return runners


def reporter_numbers(runners: dict[str, dict[str, Any]]) -> tuple[float, int, int]:
    """What classroom-resources/autograding-grading-reporter computes from the runners' results:
    the console's "Total points" (passed tests / tests x max_score, summed over runners) and the
    `Points X/Y` notice Classroom reads (sum of every test's score / sum of max_score)."""
    console = 0.0
    points = maximum = 0
    for result in runners.values():
        tests = result["tests"]
        passed = sum(t["status"] == "pass" for t in tests)
        console += passed / len(tests) * result["max_score"]
        if result["max_score"]:
            maximum += result["max_score"]
            points += sum(t["score"] for t in tests)
    return console, points, maximum


def test_classroom_runners_one_per_check() -> None:
    text = classroom_output(sample_report(offline=True))
    runners = _decode_outputs(text)
    assert "registryTags" not in runners and "clusterControllers" not in runners  # mode-excluded
    assert list(runners) == [
        "repoFiles",
        "imagePolicyValid",
        "markerValid",
        "syncIncluded",
        "gitPushed",
        "quizPassed",
    ]
    for data in runners.values():
        assert data["version"] == 1 and len(data["tests"]) == 1
        assert all(isinstance(t["score"], int) for t in data["tests"])
    assert runners["repoFiles"]["max_score"] == 6 and runners["repoFiles"]["status"] == "pass"
    blocked = runners["gitPushed"]
    assert blocked["status"] == "fail" and blocked["tests"][0]["score"] == 0
    assert reporter_numbers(runners) == (13.0, 13, 36)
    online = dict(classroom_runners(sample_report()))
    pend = online["clusterControllers"]["tests"][0]  # type: ignore[index]
    assert pend["status"] == "error" and pend["message"].startswith("pending: ")


def test_partial_credit_is_one_number_for_the_learner() -> None:
    defs = (CheckDef("a.part", "A", 7), CheckDef("b.part", "B", 6), CheckDef("c.full", "C", 5))
    impls: dict[str, runner.CheckFn] = {
        "a.part": lambda _: Outcome.failed("2 of 3 criteria", points=3),
        "b.part": lambda _: Outcome.failed("half", points=4),
        "c.full": lambda _: Outcome.passed(),
    }
    report = Report(task="09b", checks=runner.run(defs, impls, None))
    assert (report.score, report.max_score) == (12, 18)
    runners = _decode_outputs(classroom_output(report))
    assert reporter_numbers(runners) == (12.0, 12, 18)
    assert len(runners["aPart"]["tests"]) == 7 and len(runners["bPart"]["tests"]) == 3


def test_runner_names_are_valid_and_distinct() -> None:
    names = runner_names(["repo.files", "repo-files", "9lives", "Weird Id!"])
    assert names == ["repoFiles", "repoFiles2", "check9lives", "weirdId"]
    # The reporter's own check of its `runners` input: letters and digits, comma-separated.
    assert re.fullmatch(r"([a-zA-Z0-9]+,)*[a-zA-Z0-9]+", ",".join(names))


# --- the step summary read by a CommonMark/GFM renderer (markdown-it-py, pinned in the test extras) ------

HOSTILE_TEXTS = (
    "use `kubectl get` then **bold** and _under_ ~~gone~~",
    "&lt;b&gt; is not <b>bold</b> &amp; <script>alert(1)</script>",
    "a | b || c \\| d",
    "[click](https://evil.example) ![img](x.png) <https://auto.example> https://bare.example",
    "# heading\n- item\n> quote\n\n```\nfence\n```",
    "trailing backslash \\",
)


def _summary_cells(md: str) -> dict[str, list[Any]]:
    """Table rows by check id: the inline tokens of each cell, as the renderer parsed them."""
    from markdown_it import MarkdownIt

    parser = MarkdownIt("commonmark").enable(["table", "strikethrough"])
    tokens = parser.parse(md)
    rows: dict[str, list[Any]] = {}
    cells: list[Any] = []
    for token in tokens:
        if token.type == "tr_open":
            cells = []
        elif token.type == "inline" and cells is not None:
            cells.append(token)
        if token.type == "tr_close" and len(cells) == 4:
            ids = [c.content for c in cells[1].children or [] if c.type == "code_inline"]
            if ids:
                rows[ids[0]] = cells
    return rows


@pytest.mark.parametrize("text", HOSTILE_TEXTS)
def test_step_summary_shows_learner_text_literally(text: str) -> None:
    file = "apps/`x`/**y**|<z>.yaml"
    check = CheckResult("c.one", "T", Status.FAIL, 0, 2, message=text, hint=text, file=file, line=3)
    md = render_summary(Report(task="09b", checks=(check,)))
    rows = _summary_cells(md)
    assert list(rows) == ["c.one"], md
    result = rows["c.one"][3]
    kinds = {child.type for child in result.children or []}
    assert kinds <= {"text"}, (kinds, md)  # no code span, emphasis, link, image, html, strikethrough
    shown = "".join(child.content for child in result.children or [])
    assert shown == " ".join(text.split()) + f" ({file} line 3)"
    # The hint below the table: one paragraph of plain text inside <details>.
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").enable(["table", "strikethrough"]).parse(md)
    details = next(i for i, t in enumerate(tokens) if t.type == "html_block" and "<details>" in t.content)
    hint = next(t for t in tokens[details:] if t.type == "inline")
    assert {c.type for c in hint.children or []} <= {"text"}
    assert "".join(c.content for c in hint.children or []) == " ".join(text.split())
    assert not [t for t in tokens if t.type in ("fence", "code_block", "blockquote_open", "bullet_list_open")]
    assert [t.markup for t in tokens if t.type == "heading_open"] == ["##", "###"]  # ours only


def test_step_summary_carries_no_raw_control_or_bidi_character_from_a_repository() -> None:
    """`$GITHUB_STEP_SUMMARY` is a file people `cat` as well as a page GitHub renders: a file name
    holding an escape sequence or a bidi override reached it raw (the message beside it was escaped)."""
    name = "apps/base/nginx/\x1b[31mred\u202e\x07.yaml"
    check = CheckResult("c.one", "T", Status.FAIL, 0, 2, message=f"bad {name}", hint=name, file=name, line=1)
    md = render_summary(Report(task="09b", checks=(check,)))
    assert not [ch for ch in md if ch not in "\n" and (ord(ch) < 32 or ch in "\x7f\u202e")], md
    assert "\\\\x1b\\[31mred" in md  # shown, as an escape, not dropped


FILE = "clusters/dev/image-repository.yaml"


@pytest.mark.parametrize(
    ("message", "line", "after"),
    [
        # tex finding 14: the message names the file; the row printed it a second time
        (f"ImageRepository flux-system/nginx ({FILE}) is not ready", None, ""),
        (f"{FILE}:4: no spec.image", 4, ""),
        (f"bad spec in {FILE}", 4, " (line 4)"),
        ("no spec.image", 4, f" ({md_text(FILE)} line 4)"),
        ("no spec.image", None, f" ({md_text(FILE)})"),
    ],
)
def test_step_summary_names_each_path_once(message: str, line: int | None, after: str) -> None:
    check = CheckResult("c.one", "T", Status.FAIL, 0, 2, message=message, file=FILE, line=line)
    (row,) = [r for r in render_summary(Report(task="09b", checks=(check,))).splitlines() if "`c.one`" in r]
    assert row == f"| ❌ | `c.one` | 0/2 | {md_text(message)}{after} |"
