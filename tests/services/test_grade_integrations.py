"""Two integrations of the check engine outside `lab grade`:

- `lab progress --done 09` warns (one stderr line) while offline checks still fail, and still writes;
- manifest validation finds commit-template problems with the Go template engine (`check_template`)
  instead of a string test, located at file:line of spec.git.commit.messageTemplate.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from lab.core.manifests.parse import find_automation
from lab.core.manifests.validate import Problem, template_problems, validate
from lab.services.solve import solve
from tests.support.gitutil import practice
from tests.support.labrun import run_lab
from tests.support.taskfiles import UPDATE, edited, line_no, solution_manifests, starter_files

FIELD = "spec.git.commit.messageTemplate"
SYNC = "clusters/dev/flux-system/gotk-sync.yaml"
GOOD_UPDATE = solution_manifests()[UPDATE]
TEMPLATE_LINE = line_no(GOOD_UPDATE, "messageTemplate: |")
# The solution's range over the changes, from `{{range` to its `{{end}}`: what the tests replace.
GOOD_TEMPLATE = GOOD_UPDATE[
    GOOD_UPDATE.index("{{range") : GOOD_UPDATE.index("{{end}}", GOOD_UPDATE.index("{{range")) + len("{{end}}")
]


def problems_for(update: str) -> list[Problem]:
    """Every problem of the solution's automation with `update` as its ImageUpdateAutomation."""
    files = {SYNC: starter_files()[SYNC], **solution_manifests(), UPDATE: update}
    return validate(find_automation(files))


def _progress(env: dict[str, str], repo: Path) -> subprocess.CompletedProcess[str]:
    return run_lab("progress", "-w", str(repo), "--done", "09", env=env)


@pytest.mark.slow
def test_done_on_the_starter_warns_and_still_writes(tmp_path: Path, lab_env: dict[str, str]) -> None:
    repo = practice(tmp_path)
    proc = _progress(lab_env, repo)
    assert proc.returncode == 0, proc.stderr
    assert "| 09-fluxcd-image-automation | ✅ |" in (repo / "PROGRESS.md").read_text()
    warnings = [ln for ln in proc.stderr.splitlines() if "warning" in ln]
    assert len(warnings) == 1 and proc.stderr.count("\n") == 1
    (line,) = warnings
    assert line.startswith("lab: warning: task 09 marked done but offline checks still fail: repo.files, ")
    failing = line.split("still fail: ", 1)[1].split(" (see", 1)[0].split(", ")
    assert "marker.present" in failing and "quiz.passed" in failing
    assert "progress.updated" not in failing  # the row it just wrote is not a reason to warn
    assert "image-policy.valid" not in failing  # blocked by repo.files: one root cause, not ten


@pytest.mark.slow
def test_done_after_solving_lists_only_what_still_fails(tmp_path: Path, lab_env: dict[str, str]) -> None:
    repo = practice(tmp_path)
    solve(repo)
    proc = _progress(lab_env, repo)
    assert proc.returncode == 0, proc.stderr
    assert "offline checks still fail: git.flux-commit, quiz.passed (see" in proc.stderr


@pytest.mark.slow
def test_other_rows_and_undone_status_do_not_run_the_checks(tmp_path: Path, lab_env: dict[str, str]) -> None:
    repo = practice(tmp_path)
    for args in (["--done", "03"], ["--done", "09", "--status", "todo"]):
        proc = run_lab("progress", "-w", str(repo), *args, env=lab_env)
        assert proc.returncode == 0 and "warning" not in proc.stderr, (args, proc.stderr)


def _template_problem(template: str) -> list[Problem]:
    text = edited(GOOD_UPDATE, GOOD_TEMPLATE, template)
    return [p for p in problems_for(update=text) if p.field == FIELD]


@pytest.mark.parametrize(
    ("template", "words", "hint"),
    [
        (
            "{{.Changes}}",
            "can't evaluate field Changes in type source.TemplateData",
            "write .Changed.Changes",
        ),
        ("{{range .Changed.Changes}}{{.OldValue}}", "unexpected EOF", "Go text/template syntax"),
        ("{{.Changed.Changes", "unclosed action", "Go text/template syntax"),
        ("{{range .Changed.Changes}}{{.NewVal}}{{end}}", "can't evaluate field NewVal", ".NewValue"),
        ("{{now}}", 'function "now" not defined', "no now, date"),
    ],
)
def test_template_errors_name_file_line_and_field(template: str, words: str, hint: str) -> None:
    problems = _template_problem(template)
    assert len(problems) == 1, problems
    (p,) = problems
    assert p.code == "template" and p.severity == "error"
    assert (p.file, p.line) == (UPDATE, TEMPLATE_LINE)
    assert words in p.message and hint in p.hint
    text = str(p)
    assert text.startswith(f"{UPDATE}:{TEMPLATE_LINE}: error: ") and f"(field {FIELD})" in text
    assert "\n" not in text


def test_engine_not_string_test() -> None:
    # `.Updated` inside a template comment or a string never runs: a string test flagged it.
    assert _template_problem('{{/* .Updated was removed */}}{{range .Changed.Changes}}{{"x"}}{{end}}') == []
    assert template_problems('{{ ".Updated" }}', "v1") == []
    # ... and `.Updated` in a branch that does not run still stalls Flux (the engine checks statically).
    (p,) = _template_problem("{{if false}}{{.Updated.Images}}{{end}}")
    assert "RemovedTemplateField" in p.message


def test_v1beta2_updated_is_a_deprecation_warning_only() -> None:
    beta = edited(GOOD_UPDATE, "image.toolkit.fluxcd.io/v1\n", "image.toolkit.fluxcd.io/v1beta2\n")
    text = edited(beta, GOOD_TEMPLATE, "{{range .Updated.Images}}{{.}}{{end}}")
    problems = [p for p in problems_for(update=text) if p.field == FIELD]
    assert [(p.code, p.severity) for p in problems] == [("template.deprecated", "warning")]
    assert template_problems("{{range .Updated.Images}}{{.}}{{end}}", "v1beta2") == []
