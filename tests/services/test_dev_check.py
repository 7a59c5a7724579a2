"""`lab dev check` over every task of the course, in CI: each task folder parses and renders, its
starter fails the checks it should and its solution passes every offline check (rustlings' `dev check`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lab.services.devcheck import Finding, check_task
from tests.support.paths import ROOT
from tests.support.taskfiles import copy_task, edited, line_no, without_practice_steps

pytestmark = pytest.mark.slow

TASKS = sorted(p.name for p in (ROOT / "tasks").iterdir() if (p / "task.toml").is_file())


def data_findings(task_id: str, monkeypatch: pytest.MonkeyPatch) -> list[Finding]:
    """What dev check finds wrong in `task_id` without its practice steps, for a test whose finding is
    about the task folder's files, which dev check reports before them: the first finding is the same."""
    with without_practice_steps(monkeypatch):
        return [f for f in check_task(task_id).findings if not f.ok]


@pytest.mark.parametrize("task_id", TASKS)
def test_every_task_passes_dev_check(task_id: str) -> None:
    report = check_task(task_id)
    failed = [f"{f.step}: {f.detail}" for f in report.findings if not f.ok]
    assert failed == []
    steps = {f.step for f in report.findings}
    assert {"starter fails its checks", "solution passes every offline check"} <= steps


def test_a_broken_solution_is_caught(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The proof can fail: a solution without the marker fails dev check, naming the check."""
    folder = copy_task(tmp_path, "t-broken")
    deployment = folder / "solution" / "apps" / "base" / "nginx" / "deployment.yaml"
    deployment.write_text(edited(deployment.read_text(), ' # {"$imagepolicy": "flux-system:nginx"}', ""))
    monkeypatch.setenv("LAB_TASKS_PATH", str(tmp_path))
    report = check_task("t-broken")
    assert not report.ok
    bad = next(f for f in report.findings if not f.ok)
    assert bad.step == "solution passes every offline check" and "marker.present" in bad.detail


def test_an_open_question_naming_a_missing_task_is_caught(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = copy_task(tmp_path, "t-open")
    quiz = folder / "quiz.toml"
    quiz.write_text(edited(quiz.read_text(), 'task = "09b-staging"', 'task = "09b-stagin"'))
    monkeypatch.setenv("LAB_TASKS_PATH", str(tmp_path))
    bad = data_findings("t-open", monkeypatch)[0]
    assert bad.step == "quiz answers are valid"
    assert "open question 2 names task 09b-stagin, which the lab does not have" in bad.detail


@pytest.mark.parametrize(
    ("file", "old", "new", "expected"),
    [
        (
            "task.toml",
            'quiz_record = ".fluxlab/quiz.json"',
            'quiz_recrod = ".fluxlab/quiz.json"',
            "unknown key 'quiz_recrod'",
        ),
        (
            "task.toml",
            'commit_message = "Add image automation"',
            'comit_message = "x"',
            "[solution]: unknown key 'comit_message'",
        ),
        ("task.toml", "prerequisites = []", 'prerequisites = ["09c"]', "prerequisite '09c' is no task"),
        ("task.toml", "prerequisites = []", 'prerequisites = ["t-data"]', "the task is its own prerequisite"),
        ("task.toml", '"flux", "quiz", "done"]', '"flux", "quizz", "done"]', "unknown area 'quizz'"),
        (
            "task.toml",
            "[[images]]",
            '[generate]\nnumerial = "asc"\n\n[[images]]',
            "[generate]: unknown key 'numerial'",
        ),
        (
            "task.toml",
            "[[images]]",
            '[generate]\nnumerical = "up"\n\n[[images]]',
            "[generate]: --numerical up: order must be asc or desc",
        ),
        (
            "task.toml",
            'snapshot = "2024-01-15"',
            'snapshot = "2024-01-15"\nsnapshots = "x"',
            "[[images]] 1: unknown key 'snapshots'",
        ),
        (
            "checks.toml",
            'id = "repo.files"',
            'id = "repo.files"\ndepend_on = ["x"]',
            "[[check]] repo.files: unknown key 'depend_on'",
        ),
        ("checks.toml", "points = 6", "points = 5", "the points sum to 99, not 100"),
        (
            "checks.toml",
            'title = "Image automation (FluxCD path)"',
            'title = "x"\n[dev]\nstarter_passes = ["nope"]',
            "starter_passes: no check 'nope'",
        ),
    ],
)
def test_dev_check_names_what_the_lab_would_pass_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, file: str, old: str, new: str, expected: str
) -> None:
    """An author's typo that the lab reads past (a misspelt key, a bad [generate], a prerequisite that
    is no task, points that do not sum to 100) fails dev check with the key named."""
    folder = copy_task(tmp_path, "t-data")
    path = folder / file
    path.write_text(edited(path.read_text(), old, new))
    monkeypatch.setenv("LAB_TASKS_PATH", str(tmp_path))
    bad = data_findings("t-data", monkeypatch)
    assert bad and bad[0].step == "task data names what the lab knows", bad
    assert expected in bad[0].detail


def test_dev_check_names_a_prerequisite_cycle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, prereq in (("t-a", "t-b"), ("t-b", "t-a")):
        meta = copy_task(tmp_path, name) / "task.toml"
        meta.write_text(edited(meta.read_text(), "prerequisites = []", f'prerequisites = ["{prereq}"]'))
    monkeypatch.setenv("LAB_TASKS_PATH", str(tmp_path))
    bad = data_findings("t-a", monkeypatch)
    assert bad and "prerequisites go round: t-a -> t-b -> t-a" in bad[0].detail


def test_points_that_are_not_a_whole_number_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    checks = copy_task(tmp_path, "t-points") / "checks.toml"
    checks.write_text(edited(checks.read_text(), "points = 6", 'points = "6"'))
    monkeypatch.setenv("LAB_TASKS_PATH", str(tmp_path))
    bad = data_findings("t-points", monkeypatch)
    assert bad and "check repo.files: points must be a whole number, not '6'" in bad[0].detail


def _broken_copy(
    root: Path, monkeypatch: pytest.MonkeyPatch, name: str, old: str, new: str
) -> tuple[Path, list[Finding]]:
    """A copy of the course task on LAB_TASKS_PATH with `old` in its file `name` written `new`: the
    file, and what dev check finds wrong."""
    path = copy_task(root, "t-broken") / name
    path.write_text(edited(path.read_text(), old, new))
    monkeypatch.setenv("LAB_TASKS_PATH", str(root))
    return path, data_findings("t-broken", monkeypatch)


@pytest.mark.parametrize(
    ("right", "typo"), [("points = 6", "pionts = 6"), ('title = "The three', 'titel = "The three')]
)
def test_a_misspelt_required_check_key_names_the_check_its_line_and_the_key_meant(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, right: str, typo: str
) -> None:
    """It said only "checks.toml: a check lacks points": no check, no line."""
    checks, bad = _broken_copy(tmp_path, monkeypatch, "checks.toml", right, typo)
    key, meant = typo.split(" ", 1)[0], right.split(" ", 1)[0]
    line = next(n for n, ln in enumerate(checks.read_text().splitlines(), 1) if ln.startswith(typo))
    assert bad and (
        f"checks.toml:{line}: [[check]] repo.files: unknown key {key!r}, did you mean {meant!r}?"
        in bad[0].detail
    ), bad


def test_a_misspelt_text_file_name_in_task_toml_names_the_field(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`quiz = "quizz.toml"` said "quizz.toml: missing task file - hint: ... reinstall fluxlab"."""
    toml, bad = _broken_copy(tmp_path, monkeypatch, "task.toml", 'quiz = "quiz.toml"', 'quiz = "quizz.toml"')
    line = line_no(toml.read_text(), 'quiz = "quizz.toml"')
    assert bad and (
        f"task.toml:{line}: quiz = 'quizz.toml': the task folder has no such file - hint: did you mean "
        'quiz = "quiz.toml"?' in bad[0].detail
    ), bad
    assert "reinstall" not in bad[0].detail


def test_a_progress_row_the_starter_lacks_names_the_starters_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It named the temporary practice repository's PROGRESS.md, gone once dev check ends."""
    folder = copy_task(tmp_path, "t-row", row="11")
    monkeypatch.setenv("LAB_TASKS_PATH", str(tmp_path))
    bad = [f for f in check_task("t-row").findings if not f.ok]
    assert bad and bad[0].detail.startswith(f"{folder / 'starter' / 'PROGRESS.md'}:"), bad
    assert "no row for task 11" in bad[0].detail


def test_a_starter_without_progress_md_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """It said "starter files not found" and advised reinstalling fluxlab."""
    folder = copy_task(tmp_path, "t-starter")
    (folder / "starter" / "PROGRESS.md").unlink()
    monkeypatch.setenv("LAB_TASKS_PATH", str(tmp_path))
    bad = [f for f in check_task("t-starter").findings if not f.ok]
    assert bad and bad[0].step == "starter fails its checks"
    assert "the task's starter has no PROGRESS.md" in bad[0].detail and "reinstall" not in bad[0].detail


def test_a_check_that_errors_on_the_starter_is_not_the_starter_failing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without [params] the library checks error ("needs the parameter"): that is the task's fault, and
    dev check said "starter fails its checks" with a tick."""
    checks = copy_task(tmp_path, "t-params") / "checks.toml"
    text = checks.read_text()
    start = text.index("\n[params]\n")
    checks.write_text(text[:start] + text[text.index("\n[[check]]\n", start) :])
    monkeypatch.setenv("LAB_TASKS_PATH", str(tmp_path))
    bad = [f for f in check_task("t-params").findings if not f.ok]
    assert bad and bad[0].step == "starter fails its checks"
    assert "checks that error: repo.files: " in bad[0].detail and "automation_files" in bad[0].detail


def test_a_params_file_the_starter_lacks_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = copy_task(tmp_path, "t-sync")
    (folder / "starter" / "clusters" / "dev" / "flux-system" / "gotk-sync.yaml").unlink()
    monkeypatch.setenv("LAB_TASKS_PATH", str(tmp_path))
    bad = data_findings("t-sync", monkeypatch)
    assert bad and bad[0].step == "task data names what the lab knows"
    assert "[params] sync_file: the starter has no clusters/dev/flux-system/gotk-sync.yaml" in bad[0].detail


@pytest.mark.parametrize(
    ("dev", "said"),
    [
        ("dev = 1", "[dev] must be a table"),
        ('[dev]\nstarter_passes = "repo.files"', "starter_passes must be a list"),
    ],
)
def test_a_dev_table_of_the_wrong_type_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dev: str, said: str
) -> None:
    """`dev = 1` was an internal error (AttributeError); a string was read letter by letter."""
    checks = copy_task(tmp_path, "t-dev") / "checks.toml"
    text = checks.read_text()
    checks.write_text(edited(text, 'title = "Image automation (FluxCD path)"', f'title = "x"\n{dev}'))
    monkeypatch.setenv("LAB_TASKS_PATH", str(tmp_path))
    bad = data_findings("t-dev", monkeypatch)
    assert bad and said in bad[0].detail


def test_one_file_named_twice_in_automation_files_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lab.core.manifests.generate import GenerateOptions
    from lab.errors import LabError
    from lab.services.generate import generate

    with pytest.raises(LabError, match="two of the three manifests would go to the same file"):
        generate(tmp_path, GenerateOptions(), files=("clusters/dev/all.yaml",) * 3)
    assert not (tmp_path / "clusters").exists()
    checks = copy_task(tmp_path / "authors", "t-twice") / "checks.toml"
    text = checks.read_text()
    checks.write_text(
        edited(
            text,
            '"clusters/dev/image-automation/image-policy.yaml",\n',
            '"clusters/dev/image-automation/image-repository.yaml",\n',
        )
    )
    monkeypatch.setenv("LAB_TASKS_PATH", str(tmp_path / "authors"))
    bad = data_findings("t-twice", monkeypatch)
    assert bad and "automation_files: a file named twice" in bad[0].detail


WEB_REPOSITORY = """---
apiVersion: image.toolkit.fluxcd.io/v1
kind: ImageRepository
metadata:
  name: web
  namespace: {namespace}
spec:
  image: ghcr.io/acme/web
  interval: 5m0s
  accessFrom:
    namespaceSelectors:
      - matchLabels:
          kubernetes.io/metadata.name: flux-system
"""

WEB_POLICY = """---
apiVersion: image.toolkit.fluxcd.io/v1
kind: ImagePolicy
metadata:
  name: web
  namespace: flux-system
spec:
  imageRepositoryRef:
    name: web
    namespace: {namespace}
  policy:
    semver:
      range: {range}
"""

# Another namespace's ImageRepository named like the policy's reference, scanning nginx: a lookup that
# ignored spec.imageRepositoryRef.namespace would judge web's policy by nginx's tags.
DECOY = """---
apiVersion: image.toolkit.fluxcd.io/v1
kind: ImageRepository
metadata:
  name: web
  namespace: flux-system
spec:
  image: library/nginx
  interval: 5m0s
"""


def _two_image_task(root: Path, task_id: str, *, web_range: str, namespace: str = "flux-system") -> Path:
    """A course author's task: 09b plus a second image (ghcr.io/acme/web, whose tags have no 1.25.x)
    with its own tags, ImageRepository and ImagePolicy."""
    folder = copy_task(root, task_id)
    (folder / "registry" / "web-tags.txt").write_text("# ghcr.io/acme/web\n2.0.0\n2.1.0\n2.1.1\nlatest\n")
    with (folder / "task.toml").open("a") as meta:
        meta.write('\n[[images]]\nname = "ghcr.io/acme/web"\ntags = "registry/web-tags.txt"\n')
    manifests = folder / "solution" / "clusters" / "dev" / "image-automation"
    with (manifests / "image-repository.yaml").open("a") as repos:
        repos.write(WEB_REPOSITORY.format(namespace=namespace))
        if namespace != "flux-system":
            repos.write(DECOY)
    with (manifests / "image-policy.yaml").open("a") as policies:
        policies.write(WEB_POLICY.format(namespace=namespace, range=web_range))
    return folder


@pytest.mark.parametrize("namespace", ["flux-system", "apps"])
def test_a_task_with_a_second_image_judges_each_policy_by_its_own_tags(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, namespace: str
) -> None:
    """policy.resolves judged web's 2.1.x by nginx's tags ('matches none of the 560 tags of
    ghcr.io/acme/web'), so a correct two-image task failed its own dev check. Flux resolves a policy
    against the ImageRepository its spec.imageRepositoryRef names (namespace defaulting to the policy's)."""
    _two_image_task(tmp_path, "t-two", web_range="2.1.x", namespace=namespace)
    monkeypatch.setenv("LAB_TASKS_PATH", str(tmp_path))
    report = check_task("t-two")
    assert [f"{f.step}: {f.detail}" for f in report.findings if not f.ok] == []


def test_a_second_image_policy_that_selects_nothing_fails_with_its_own_tags(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _two_image_task(tmp_path, "t-two-bad", web_range="3.x")
    monkeypatch.setenv("LAB_TASKS_PATH", str(tmp_path))
    report = check_task("t-two-bad")
    bad = next(f for f in report.findings if not f.ok)
    assert bad.step == "solution passes every offline check"
    assert "policy.resolves" in bad.detail
    assert "range '3.x' matches none of the 4 tags of ghcr.io/acme/web; nearest: 2.1.1" in bad.detail


def test_dev_check_names_a_misspelt_checks_toml_key_with_its_line_and_the_key_meant(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Top-level keys and tables of checks.toml were the task's settings, whatever their name: a typo
    (`exercse`, `[parms]`, the `policy_range` the library used to read) passed dev check in silence."""
    checks = copy_task(tmp_path, "t-keys") / "checks.toml"
    title = 'title = "Image automation (FluxCD path)"'
    text = edited(checks.read_text(), title, f'{title}\nexercse = 3\npolicy_range = "1.x"\n\n[parms]\nx = 1')
    checks.write_text(text + '\n[exercise.stagng]\npolicy = "shop-staging"\n')
    monkeypatch.setenv("LAB_TASKS_PATH", str(tmp_path))
    bad = data_findings("t-keys", monkeypatch)
    assert bad and bad[0].step == "task data names what the lab knows", bad
    lines = checks.read_text().splitlines()
    at = {line: n for n, line in enumerate(lines, 1)}
    detail = bad[0].detail
    range_key = 'policy_range = "1.x"'
    assert f"checks.toml:{at['exercse = 3']}: unknown key 'exercse', did you mean 'exercise'?" in detail
    assert f"checks.toml:{at['[parms]']}: unknown key 'parms', did you mean 'params'?" in detail
    assert f"checks.toml:{at[range_key]}: unknown key 'policy_range' (known: branch, check," in detail
    assert (
        f"checks.toml:{at['[exercise.stagng]']} [exercise]: unknown key 'stagng', did you mean 'staging'?"
        in detail
    )


def test_dev_check_names_a_check_param_its_function_never_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`expect_tga` under a check's [check.params] was ignored in silence: policy.resolves then passed any
    tag. A parameter the check's function does not read is named, with its line and the one meant."""
    checks = copy_task(tmp_path, "t-param") / "checks.toml"
    resolves = (
        'hint = "adjust spec.policy.semver.range so that it matches an existing three-part tag, e.g. 1.25.x"'
    )
    pushed = 'hint = "git add clusters apps && git commit -m \\"Add image automation\\" && git push"'
    text = edited(
        checks.read_text(encoding="utf-8"), resolves, f'{resolves}\n[check.params]\nexpect_tga = "1.25.3"'
    )
    checks.write_text(edited(text, pushed, f'{pushed}\n[check.params]\nmessage = "x"'), encoding="utf-8")
    monkeypatch.setenv("LAB_TASKS_PATH", str(tmp_path))
    bad = data_findings("t-param", monkeypatch)
    assert bad and bad[0].step == "task data names what the lab knows", bad
    typo = line_no(checks.read_text(encoding="utf-8"), 'expect_tga = "1.25.3"')
    assert (
        f"checks.toml:{typo} [[check]] policy.resolves [check.params]: unknown key 'expect_tga', did you "
        "mean 'expect_tag'?"
    ) in bad[0].detail
    assert "[[check]] git.pushed [check.params]: unknown key 'message'" in bad[0].detail
    # The task's paths, which every library check reads, are any check's to override.
    checks.write_text(edited(checks.read_text(), 'message = "x"', 'task_files = ["apps"]'), encoding="utf-8")
    bad = data_findings("t-param", monkeypatch)
    assert "expect_tga" in bad[0].detail and "git.pushed" not in bad[0].detail


def test_a_guard_for_an_environment_the_task_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The guard checks knew two environments, `prod` and `staging`, by name in the lab's code: a task
    with a third (a canary policy held like production) had no way to check it. The environment is the
    task's data: a guard check's `[check.params] guard` names its `[exercise.NAME]` table."""
    checks = copy_task(tmp_path, "t-canary", task="09b-guard") / "checks.toml"
    text = checks.read_text(encoding="utf-8")
    prod = text[text.index("[exercise.prod]\n") : text.index("[exercise.staging]\n")]
    text = edited(
        text,
        "[exercise.staging]\n",
        prod.replace("[exercise.prod]", "[exercise.canary]") + "[exercise.staging]\n",
    )
    text = edited(text, "points = 25", "points = 15")
    text += (
        '\n[[check]]\nid = "guard.canary-holds"\nrun = "guard.holds"\ntitle = "The canary holds too"\n'
        'points = 10\nkind = "git"\ndepends_on = ["git.pushed"]\n[check.params]\nguard = "canary"\n'
    )
    checks.write_text(text, encoding="utf-8")
    monkeypatch.setenv("LAB_TASKS_PATH", str(tmp_path))
    report = check_task("t-canary")
    assert [f"{f.step}: {f.detail}" for f in report.findings if not f.ok] == []
    solved = next(f for f in report.findings if f.step == "solution passes every offline check")
    assert solved.detail == "11 checks pass offline"
    # A guard naming no table of [exercise] is named, not run as a policy named "".
    checks.write_text(edited(text, 'guard = "canary"', 'guard = "canry"'), encoding="utf-8")
    bad = data_findings("t-canary", monkeypatch)
    assert bad and bad[0].step == "task data names what the lab knows", bad
    assert "[[check]] guard.canary-holds [check.params] guard: no [exercise.canry] table" in bad[0].detail


def test_an_id_that_is_not_its_folder_is_said_once_naming_the_id_line(
    tmp_path: Path, lab_env: dict[str, str]
) -> None:
    from tests.support.labrun import run_lab

    folder = copy_task(tmp_path, "t-id", task="09b")
    meta = folder / "task.toml"
    text = edited(meta.read_text(encoding="utf-8"), 'id = "t-id"', 'id = "t-id-helm"')
    meta.write_text(text, encoding="utf-8")
    line = text.splitlines().index('id = "t-id-helm"') + 1
    env = {**lab_env, "LAB_TASKS_PATH": str(tmp_path)}
    said = f"{meta}:{line}: id 't-id-helm' must equal the task's folder name 't-id'"
    listed = run_lab("tasks", env=env, cwd=tmp_path)
    assert listed.returncode == 1 and said in listed.stderr and "t-id" not in listed.stdout
    checked = run_lab("dev", "check", "--task", "t-id", env=env, cwd=tmp_path)
    assert checked.returncode == 1
    assert checked.stdout.count(said) == 1, checked.stdout
    assert "no task 't-id-helm'" not in checked.stdout + checked.stderr


def test_a_checks_py_that_does_not_load_is_the_authors_to_fix_in_dev_check(
    tmp_path: Path, lab_env: dict[str, str]
) -> None:
    from tests.support.labrun import run_lab

    folder = copy_task(tmp_path, "t-py")
    (folder / "checks.py").write_text("import lab.checks\n\nraise RuntimeError('half written')\n")
    env = {**lab_env, "LAB_TASKS_PATH": str(tmp_path)}
    checked = run_lab("dev", "check", "--task", "t-py", env=env, cwd=tmp_path)
    assert checked.returncode == 1
    assert f"{folder / 'checks.py'}:3: the task's checks.py does not load" in checked.stdout
    assert "tell its author" not in checked.stdout and "lab dev check --task" not in checked.stdout
