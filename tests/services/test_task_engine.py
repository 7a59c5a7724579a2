"""A task is a folder: the catalogue, LAB_TASKS_PATH, the check library with per-task parameters and
per-task check functions, and the issue's acceptance - a copy of the course's task under another id
works end to end with no code change."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lab.adapters.tasks import catalogue, load_task, solution_files
from lab.checks.loader import load_task_checks
from lab.core.checks.model import CheckResult, Report, Status
from lab.core.tasktexts import parse_quiz
from lab.errors import LabError
from lab.services.check import run_checks
from tests.support.labrun import run_lab
from tests.support.taskfiles import IA, POLICY, REPO, UPDATE, copy_task, edited, without_practice_steps


def test_lab_tasks_path_adds_folders_and_wins_for_a_repeated_id(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    authors = tmp_path / "authors"
    copy_task(authors, "09z")
    monkeypatch.setenv("LAB_TASKS_PATH", f"{tmp_path / 'missing'}:{authors}")
    ids = [e.meta.id for e in catalogue()]
    assert "09z" in ids and "09b" in ids
    assert load_task("09z").folder == authors / "09z"
    with pytest.raises(LabError, match=r"no task 'nope'.*known tasks: .*09z"):
        load_task("nope")


@pytest.mark.slow
def test_a_task_folder_whose_id_disagrees_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """...and so is one whose task.toml does not parse; the other tasks are still listed (one author's
    broken folder on LAB_TASKS_PATH hid every task), and `lab tasks` and `lab dev check` say why."""
    from lab.adapters.tasks import scan_catalogue
    from lab.cli import main
    from lab.services.devcheck import dev_check

    folder = copy_task(tmp_path, "other")
    (folder / "task.toml").write_text((folder / "task.toml").read_text().replace('id = "other"', 'id = "x"'))
    broken = copy_task(tmp_path, "broken")
    (broken / "task.toml").write_text("id = [\n")
    copy_task(tmp_path, "fine")
    monkeypatch.setenv("LAB_TASKS_PATH", str(tmp_path))
    entries, problems = scan_catalogue()
    ids = [e.meta.id for e in entries]
    assert "fine" in ids and "09b" in ids and "other" not in ids and "broken" not in ids
    assert sorted(str(p) for p in problems)[0].startswith(f"{broken / 'task.toml'}: invalid TOML")
    assert any("must equal the task's folder name" in str(p) for p in problems)
    assert [e.meta.id for e in catalogue()] == ids
    assert main(["tasks"]) == 1
    out, err = capsys.readouterr()
    assert "fine" in out and "lab: left out: " in err and "invalid TOML" in err
    # A broken folder on the first root still shadows its id: a later root's good copy is not listed
    # (load_task would open the broken one).
    later = tmp_path / "later"
    copy_task(later, "broken")
    monkeypatch.setenv("LAB_TASKS_PATH", f"{tmp_path}:{later}")
    assert "broken" not in [e.meta.id for e in catalogue()]
    monkeypatch.setenv("LAB_TASKS_PATH", str(tmp_path))
    with without_practice_steps(monkeypatch):  # each other task's would be made: ~0.4 CPU-s apiece
        reports = {r.task: r for r in dev_check()}
    assert not reports["broken"].ok and "invalid TOML" in reports["broken"].findings[0].detail


def test_solution_paths_stay_inside_and_variants_replace_files() -> None:
    task = load_task("09b")
    plain = solution_files(task)
    beta = solution_files(task, "v1beta2")
    assert set(plain) == set(beta) and "apps/base/nginx/deployment.yaml" in plain
    assert beta["clusters/dev/image-automation/image-policy.yaml"].parent.parts[-4] == "solution-v1beta2"
    assert plain["apps/base/nginx/deployment.yaml"] == beta["apps/base/nginx/deployment.yaml"]


CHECKS_TOML = """
title = "two checks"
[params]
file = "README.md"

[[check]]
id = "repo.files"
run = "own.exists"
title = "the file exists"
points = 1

[[check]]
id = "other"
run = "own.exists"
title = "another file exists"
points = 1
[check.params]
file = "nope.txt"
"""

CHECKS_PY = """
from lab.checks import check
from lab.core.checks.model import Outcome


@check("own.exists")
def exists(ctx):
    rel = ctx.str_param("file")
    return Outcome.passed(f"{rel} {MARK}") if ctx.exists(rel) else Outcome.failed(f"no {rel} {MARK}")
"""


@pytest.mark.slow
def test_check_functions_and_ids_belong_to_their_task(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.support.gitutil import practice

    for name in ("t-one", "t-two"):
        folder = copy_task(tmp_path / "authors", name)
        (folder / "checks.toml").write_text(CHECKS_TOML)
        (folder / "checks.py").write_text(CHECKS_PY.replace("MARK", repr(name)))
        (folder / "pitfalls.toml").write_text("")
    monkeypatch.setenv("LAB_TASKS_PATH", str(tmp_path / "authors"))
    ws = practice(tmp_path)
    one = {r.id: r for r in run_checks(ws, task="t-one", offline=True).checks}
    two = {r.id: r for r in run_checks(ws, task="t-two", offline=True).checks}
    # The same id runs each task's own function: no global id space.
    assert one["repo.files"].message == "README.md t-one" and two["repo.files"].message == "README.md t-two"
    # [check.params] win over [params] for that check only.
    assert one["other"].status.value == "fail" and one["other"].message == "no nope.txt t-one"
    # The course's task still runs the library's repo.files, with its own params.
    course = run_checks(ws, task="09b", offline=True, only=["repo.files"]).checks[0]
    assert course.status.value == "fail" and "image-repository.yaml" in course.message
    assert load_task_checks("t-one").runs["other"] == ("own.exists", {"file": "nope.txt"})


@pytest.mark.slow
def test_a_faulty_checks_py_is_named_as_the_tasks_fault_not_the_labs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A task author's checks.py that does not import, or whose check raises: the file and line are
    named, the learner is not told it is a bug in fluxlab, and dev check reports it as a finding."""
    from lab.services.devcheck import check_task
    from tests.support.gitutil import practice

    authors = tmp_path / "authors"
    for name, code in (
        ("t-syntax", CHECKS_PY + "\ndef broken(:\n"),
        ("t-import", "import no_such_module_here\n" + CHECKS_PY),
        ("t-crash", CHECKS_PY.replace("    rel = ctx.str_param", "    1 / 0\n    rel = ctx.str_param")),
    ):
        folder = copy_task(authors, name)
        (folder / "checks.toml").write_text(CHECKS_TOML)
        (folder / "checks.py").write_text(code.replace("MARK", repr(name)))
        (folder / "pitfalls.toml").write_text("")
    monkeypatch.setenv("LAB_TASKS_PATH", str(authors))
    ws = practice(tmp_path)
    syntax_line = (CHECKS_PY + "\ndef broken(:\n").splitlines().index("def broken(:") + 1
    for name, line, what in (
        ("t-syntax", syntax_line, "SyntaxError"),
        ("t-import", 1, "ModuleNotFoundError"),
    ):
        with pytest.raises(LabError, match=f"checks.py does not load: {what}") as raised:
            run_checks(ws, task=name, offline=True)
        assert raised.value.file == str(authors / name / "checks.py") and raised.value.line == line
        report = check_task(name)
        assert not report.ok and any(f"does not load: {what}" in f.detail for f in report.findings)
    crashed = {r.id: r for r in run_checks(ws, task="t-crash", offline=True).checks}["repo.files"]
    assert crashed.status.value == "error"
    crash_line = (authors / "t-crash" / "checks.py").read_text().splitlines().index("    1 / 0") + 1
    assert (
        f"crashed in the task's checks.py ({authors / 't-crash' / 'checks.py'}:{crash_line}): ZeroDivisionError"
        in (crashed.message)
    )
    assert "bug in fluxlab" not in crashed.hint and "task's author" in crashed.hint


@pytest.mark.slow
def test_a_check_naming_no_function_is_an_error_not_a_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.support.gitutil import practice

    folder = copy_task(tmp_path / "authors", "t-bad")
    (folder / "checks.toml").write_text(CHECKS_TOML.replace('run = "own.exists"', 'run = "no.such"', 1))
    (folder / "pitfalls.toml").write_text("")
    monkeypatch.setenv("LAB_TASKS_PATH", str(tmp_path / "authors"))
    result = {r.id: r for r in run_checks(practice(tmp_path), task="t-bad", offline=True).checks}
    assert (
        result["repo.files"].status.value == "error" and "no implementation" in result["repo.files"].message
    )
    from lab.services.devcheck import check_task

    report = check_task("t-bad")
    assert not report.ok
    assert any("no check function for repo.files (run = 'no.such')" in f.detail for f in report.findings)


@pytest.mark.slow
def test_a_copy_of_the_course_task_works_with_no_code_change(tmp_path: Path, lab_env: dict[str, str]) -> None:
    """The issue's acceptance: listed, dev-checked, initialised, solved, simulated (offline: the
    registry refuses, the copy's bundled tags answer) and checked - all from data."""
    authors = tmp_path / "authors"
    folder = copy_task(authors, "09z", row="09z")
    env = {**lab_env, "LAB_TASKS_PATH": str(authors), "LAB_REGISTRY_MIRROR": "docker.io=127.0.0.1:1"}

    listed = run_lab("tasks", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    entry = next(e for e in json.loads(listed.stdout) if e["id"] == "09z")
    assert entry["folder"] == str(folder) and not entry["current"]

    dev = run_lab("dev", "check", "--task", "09z", env=env)
    assert dev.returncode == 0, dev.stdout + dev.stderr
    assert "✔ 09z" in dev.stdout and "solution passes every offline check" in dev.stdout

    repo = tmp_path / "repo"
    init = run_lab("init", str(repo), "--task", "09z", env=env)
    assert init.returncode == 0, init.stderr
    assert "task 09z" in init.stdout
    before = run_lab("check", "--task", "09z", "--offline", "--format", "json", env=env, cwd=repo)
    assert before.returncode == 1
    solved = run_lab("solve", str(repo), "--task", "09z", env=env)
    assert solved.returncode == 0, solved.stderr
    simulated = run_lab("simulate", "--task", "09z", env=env, cwd=repo)
    assert simulated.returncode == 0, simulated.stderr
    assert "the lab's snapshot of Docker Hub's library/nginx as of 2024-01-15" in simulated.stdout
    assert "pushed commit" in simulated.stdout
    quiz = parse_quiz((folder / "quiz.toml").read_text(encoding="utf-8"), "quiz.toml")
    answers = ",".join(str(q.answer + 1) for q in quiz.questions)
    assert run_lab("quiz", "--task", "09z", "--answers", answers, env=env, cwd=repo).returncode == 0
    progress = run_lab("progress", "--task", "09z", "--done", env=env, cwd=repo)
    assert progress.returncode == 0, progress.stderr
    assert "| 09z | ✅ |" in (repo / "PROGRESS.md").read_text()
    assert "| 09-fluxcd-image-automation | ⬜ | |" in (repo / "PROGRESS.md").read_text()
    tags = folder / "registry" / "nginx-tags-2024-01-15.txt"
    after = run_lab(
        "check", "--task", "09z", "--offline", "--tags-file", str(tags), "--format", "json", env=env, cwd=repo
    )
    report = json.loads(after.stdout)
    assert after.returncode == 0, after.stdout
    assert report["task"] == "09z"
    assert {c["status"] for c in report["checks"] if c["status"] != "skipped"} == {"pass"}


def test_generate_takes_the_tasks_form_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from lab.cli import main

    folder = copy_task(tmp_path / "authors", "t-gen")
    with (folder / "task.toml").open("a", encoding="utf-8") as fh:
        fh.write('\n[generate]\nimage = "ghcr.io/acme/app"\nsemver = "2.x"\nname = "app"\n')
    monkeypatch.setenv("LAB_TASKS_PATH", str(tmp_path / "authors"))
    monkeypatch.chdir(tmp_path)
    assert main(["generate", "--task", "t-gen", "--stdout", "--name", "mine"]) == 0
    out = capsys.readouterr().out
    assert "image: ghcr.io/acme/app" in out and "range: 2.x" in out
    assert "name: mine" in out and "name: app" not in out  # what the learner typed wins
    assert main(["generate", "--stdout"]) == 0
    assert "image: library/nginx" in capsys.readouterr().out  # the course's task: the course text


LAYOUT = (
    "clusters/prod/images/repo.yaml",
    "clusters/prod/images/policy.yaml",
    "clusters/prod/images/auto.yaml",
)


def _relocated_task(authors: Path, task_id: str) -> Path:
    """A copy of the course's task whose checks keep the three manifests elsewhere, under other names."""
    folder = copy_task(authors, task_id)
    checks = (folder / "checks.toml").read_text(encoding="utf-8")
    for old, new in zip((REPO, POLICY, UPDATE), LAYOUT, strict=True):
        checks = edited(checks, f'"{old}"', f'"{new}"')
    checks = edited(
        checks, 'automation_dir = "clusters/dev/image-automation"', 'automation_dir = "clusters/prod/images"'
    )
    (folder / "checks.toml").write_text(checks, encoding="utf-8")
    return folder


@pytest.mark.slow
def test_generate_writes_the_files_the_tasks_checks_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`lab generate` writes where the task's checks look ([params] automation_files), not the course
    text's folder; --out DIR keeps the task's names; --stdout names them too."""
    from lab.cli import main
    from tests.support.gitutil import practice

    _relocated_task(tmp_path / "authors", "t-layout")
    monkeypatch.setenv("LAB_TASKS_PATH", str(tmp_path / "authors"))
    ws = practice(tmp_path)
    monkeypatch.chdir(ws)
    assert main(["generate", "--task", "t-layout"]) == 0
    out = capsys.readouterr().out
    assert all(f"created     {name}" in out for name in LAYOUT), out
    assert "kind: ImagePolicy" in (ws / LAYOUT[1]).read_text() and not (ws / IA).exists()
    checked = {r.id: r for r in run_checks(ws, task="t-layout", offline=True, only=["repo.files"]).checks}
    assert checked["repo.files"].status.value == "pass", checked["repo.files"].message
    assert main(["generate", "--task", "t-layout", "--out", str(tmp_path / "elsewhere")]) == 0
    assert sorted(p.name for p in (tmp_path / "elsewhere").iterdir()) == [
        "auto.yaml",
        "policy.yaml",
        "repo.yaml",
    ]
    capsys.readouterr()
    assert main(["generate", "--task", "t-layout", "--stdout"]) == 0
    printed = capsys.readouterr().out
    assert "# repo.yaml" in printed and "# auto.yaml" in printed and "kind: ImageUpdateAutomation" in printed


def test_generate_refuses_a_task_folder_that_leads_out_of_the_workspace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lab.core.manifests.generate import GenerateOptions
    from lab.services.generate import generate

    ws = tmp_path / "ws"
    (ws / "clusters" / "prod").mkdir(parents=True)
    (tmp_path / "outside").mkdir()
    (ws / "clusters" / "prod" / "images").symlink_to(tmp_path / "outside")
    with pytest.raises(LabError, match="clusters/prod/images points outside the workspace"):
        generate(ws, GenerateOptions(), files=LAYOUT)
    assert not list((tmp_path / "outside").iterdir())


def _contributing_block(lang: str, containing: str) -> str:
    """The ```lang block of CONTRIBUTING.md that contains `containing`, verbatim."""
    import re

    from tests.support.paths import ROOT

    text = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    blocks = [b for b in re.findall(rf"```{lang}\n(.*?)```", text, re.S) if containing in b]
    assert len(blocks) == 1, f"CONTRIBUTING.md has {len(blocks)} {lang} blocks with {containing!r}"
    return blocks[0]


TOY_CHECKS = """title = "Cleanup"
[params]
automation_files = ["clusters/dev/image-automation/image-repository.yaml"]

[[check]]
id = "repo.files"
run = "repo.files"
title = "The ImageRepository is still there"
points = 20
kind = "repo"
hint = "keep it"

[[check]]
id = "cleanup.gone"
run = "cleanup.gone"
title = "The leftover file is gone"
points = 60
kind = "repo"
hint = "git rm apps/base/nginx/old-policy.yaml"
[check.params]
file = "apps/base/nginx/old-policy.yaml"

[[check]]
id = "progress.updated"
run = "progress.updated"
title = "PROGRESS.md marks 10-cleanup done"
points = 10
kind = "progress"
hint = "lab progress --done 10-cleanup"

[[check]]
id = "quiz.passed"
run = "quiz.passed"
title = "Quiz"
points = 10
kind = "quiz"
hint = "lab quiz"

[dev]
starter_passes = ["repo.files"]
"""


@pytest.mark.slow
def test_a_new_task_made_as_contributing_says(tmp_path: Path, lab_env: dict[str, str]) -> None:
    """CONTRIBUTING.md followed literally for a task unlike 09b: its own checks.py (the doc's example,
    verbatim), a solution that removes a starter file (`[solution] remove`), and no progress_* keys (the
    row is the id, added when missing; the note is the title). `lab dev check` proves it, and a learner's
    repository gets full marks through the commands."""
    authors = tmp_path / "course"
    folder = copy_task(authors, "10-cleanup")
    meta = folder / "task.toml"
    text = meta.read_text(encoding="utf-8")
    for key in ("progress_row", "progress_task", "progress_note", "quiz_record"):
        text = "\n".join(line for line in text.splitlines() if not line.startswith(f"{key} ="))
    text = text.replace('variants = { v1beta2 = "solution-v1beta2" }', "")
    text = text.replace(
        'commit_message = "Add image automation"',
        'commit_message = "Remove the leftover policy"\nremove = ["apps/base/nginx/old-policy.yaml"]',
    )
    # A top-level key, before the tables (appended at the end it would belong to the last [[images]]).
    text = edited(
        text, 'id = "10-cleanup"\n', 'id = "10-cleanup"\nquiz_record = ".fluxlab/quiz-10-cleanup.json"\n'
    )
    meta.write_text(text, encoding="utf-8")
    import shutil

    # The starter is 09b solved, plus the leftover; the solution only removes it.
    shutil.copytree(folder / "solution", folder / "starter", dirs_exist_ok=True)
    shutil.rmtree(folder / "solution")
    shutil.rmtree(folder / "solution-v1beta2")  # a solution that only removes needs no folder
    leftover = folder / "starter" / "apps" / "base" / "nginx" / "old-policy.yaml"
    leftover.write_text("apiVersion: image.toolkit.fluxcd.io/v1beta2\nkind: ImagePolicy\n", encoding="utf-8")
    (folder / "checks.toml").write_text(TOY_CHECKS, encoding="utf-8")
    (folder / "checks.py").write_text(_contributing_block("python", "@check("), encoding="utf-8")
    (folder / "pitfalls.toml").write_text(
        '[[pitfall]]\nissue = "It comes back"\ncause = "not committed"\nresolution = "git rm, push"\n'
        'check = "cleanup.gone"\n',
        encoding="utf-8",
    )
    env = {**lab_env, "LAB_TASKS_PATH": str(authors)}

    dev = run_lab("dev", "check", "--task", "10-cleanup", env=env)
    assert dev.returncode == 0, dev.stdout + dev.stderr

    repo = tmp_path / "repo"
    assert run_lab("init", str(repo), "--task", "10-cleanup", env=env).returncode == 0
    before = json.loads(run_lab("check", "--offline", "--format", "json", env=env, cwd=repo).stdout)
    gone = next(c for c in before["checks"] if c["id"] == "cleanup.gone")
    assert gone["status"] == "fail" and "old-policy.yaml still exists" in gone["message"]
    solved = run_lab("solve", ".", env=env, cwd=repo)
    assert solved.returncode == 0, solved.stderr
    assert not (repo / "apps/base/nginx/old-policy.yaml").exists()
    from tests.support.gitutil import git

    assert "apps/base/nginx/old-policy.yaml" not in git(repo, "ls-tree", "-r", "--name-only", "origin/main")
    quiz = parse_quiz((folder / "quiz.toml").read_text(encoding="utf-8"), "quiz.toml")
    answers = ",".join(str(q.answer + 1) for q in quiz.questions)
    assert run_lab("quiz", "--answers", answers, env=env, cwd=repo).returncode == 0
    done = run_lab("progress", "--done", env=env, cwd=repo)
    assert done.returncode == 0, done.stderr
    progress = (repo / "PROGRESS.md").read_text(encoding="utf-8")
    assert "| 10-cleanup | ✅ | Image Automation (FluxCD Path, Bonus) |" in progress
    assert "| 09-fluxcd-image-automation | ⬜ | |" in progress
    after = run_lab("check", "--offline", "--format", "json", env=env, cwd=repo)
    report = json.loads(after.stdout)
    assert after.returncode == 0, after.stdout
    assert report["task"] == "10-cleanup" and report["score"] == 100


def test_solution_remove_paths_are_checked() -> None:
    from lab.core.tasks import TaskMeta, load_toml, task_meta

    def parse(text: str) -> TaskMeta:
        return task_meta(load_toml(text, "task.toml"), "task.toml")

    meta = parse('id = "t"\ntitle = "T"\n[solution]\nremove = ["a/b.yaml"]\n')
    assert meta.solution_remove == ("a/b.yaml",) and meta.progress_note == "T"
    for bad in ('"../x"', '"/etc/x"', "1"):
        with pytest.raises(LabError, match="remove"):
            parse(f'id = "t"\ntitle = "T"\n[solution]\nremove = [{bad}]\n')


def _result(check_id: str, status: str, kind: str = "repo") -> CheckResult:
    return CheckResult(check_id, check_id, Status(status), 1 if status == "pass" else 0, 1, kind=kind)


@pytest.mark.parametrize(
    ("results", "progress", "done"),
    [
        # the course's ids
        ((("repo.files", "pass"), ("progress.updated", "fail", "progress")), True, True),
        ((("repo.files", "fail"), ("progress.updated", "fail", "progress")), False, False),
        ((("repo.files", "pass"), ("progress.updated", "pass", "progress")), False, True),
        # a task that calls its progress check otherwise: the kind says what it is
        ((("files", "pass"), ("row", "fail", "progress")), True, True),
        ((("files", "pass"), ("row", "pass", "progress")), False, True),
        # a task with no progress check: done when every check passes
        ((("files", "pass"), ("policy", "pass")), True, True),
        ((("files", "pass"), ("policy", "fail")), False, False),
    ],
)
def test_the_progress_check_is_the_one_of_kind_progress_whatever_its_id(
    results: tuple[tuple[str, ...], ...], progress: bool, done: bool
) -> None:
    """`lab check --update-progress` and the app's Done go by the check's kind: an author's task may
    name its PROGRESS.md check as it likes, or have none, and still be completed."""
    from lab.services.check import ready_for_progress
    from lab.tui.screens.checks import ready_for_done

    checks = tuple(_result(*r) for r in results)
    assert ready_for_progress(checks) is progress
    assert ready_for_done(Report("t", checks)) is done


def test_a_course_on_lab_tasks_path_names_its_own_current_task(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """course.toml was read from the lab's tasks/ only: an author's course on LAB_TASKS_PATH could not
    make its task the default. The first root that has a course.toml is the course; without one, the lab's."""
    from lab.adapters.tasks import course_file, default_task_id

    authors = tmp_path / "authors"
    copy_task(authors, "10-zz")
    monkeypatch.setenv("LAB_TASKS_PATH", f"{tmp_path / 'missing'}:{authors}")
    assert default_task_id() == "09b"
    (authors / "course.toml").write_text('[course]\ntitle = "Authors"\ncurrent_task = "10-zz"\n')
    assert course_file() == authors / "course.toml"
    assert default_task_id() == "10-zz" and load_task().meta.id == "10-zz"


@pytest.mark.slow
def test_classroom_init_of_a_task_outside_the_labs_tasks_warns_that_ci_cannot_find_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The workflow runs `lab check --task ID` in CI, where no LAB_TASKS_PATH is set: a task from an
    author's folder is said to fail there, in one line; the lab's own tasks are not."""
    from lab.cli import main

    copy_task(tmp_path / "authors", "10-zz")
    monkeypatch.setenv("LAB_TASKS_PATH", str(tmp_path / "authors"))
    spec = "fluxlab @ git+https://github.com/ORG/fluxlab@0123456789abcdef0123456789abcdef01234567"
    assert main(["classroom", "init", str(tmp_path / "t"), "--lab-spec", spec, "--task", "10-zz"]) == 0
    err = capsys.readouterr().err
    assert err == (
        f"lab: warning: task 10-zz is in {tmp_path / 'authors'} (LAB_TASKS_PATH), not in the lab's own "
        "tasks/: the workflow's `lab check --task 10-zz` fails in CI unless the lab it installs has the task "
        "in its tasks/ (add the folder to your fork, then pin that commit)\n"
    )
    assert main(["classroom", "workflow", "--task", "10-zz"]) == 0
    assert capsys.readouterr().err == err
    assert main(["classroom", "init", str(tmp_path / "u"), "--lab-spec", spec, "--task", "09b"]) == 0
    assert capsys.readouterr().err == ""
