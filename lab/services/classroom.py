"""Use case: the GitHub Classroom workflow a practice repository carries, and the template repository an
instructor sets a class up with (`lab classroom init DIR --lab-spec SPEC`)."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

from lab import __version__
from lab.core import jsontext
from lab.core.report.workflow import (
    WORKFLOW_PATH,
    SpecError,
    check_lab_spec,
    counted_runners,
    render_workflow,
    written_pin,
)
from lab.errors import UsageError
from lab.sandbox.practice import Practice, init_practice_repo


def lab_spec_hint() -> str:
    return "e.g. --lab-spec 'fluxlab @ git+https://github.com/ORG/fluxlab@COMMIT' (a commit or tag)"


def validated_spec(spec: str) -> str:
    """The spec when it pins one lab; UsageError naming what is wrong otherwise."""
    try:
        return check_lab_spec(spec)
    except SpecError as err:
        raise UsageError(str(err), hint=lab_spec_hint()) from None


def running_lab_spec() -> str:
    """How to install exactly this lab when pip recorded a git commit for it (PEP 610), else ""."""
    try:
        raw = metadata.distribution("fluxlab").read_text("direct_url.json")
    except metadata.PackageNotFoundError:
        return ""
    if not raw:
        return ""
    try:
        data = jsontext.loads(raw)
    except ValueError:
        return ""
    vcs = data.get("vcs_info") if isinstance(data, dict) else None
    url = data.get("url") if isinstance(data, dict) else None
    if not isinstance(vcs, dict) or vcs.get("vcs") != "git" or not isinstance(url, str):
        return ""  # an editable or local install names no commit anyone else can install
    commit = vcs.get("commit_id")
    if not isinstance(commit, str) or not url.startswith("https://"):
        return ""
    try:
        return check_lab_spec(f"fluxlab @ git+{url}@{commit}")
    except SpecError:
        return ""


def workflow_for(task: str | None = None, lab_spec: str = "") -> str:
    """The task's Classroom workflow; `lab_spec` "" leaves the pin to the FLUXLAB_LAB_SPEC variable."""
    from lab.checks.loader import load_task_checks

    spec = load_task_checks(task)
    runners = counted_runners([(d.id, d.kind, d.points) for d in spec.defs], spec.runs_offline())
    pinned = validated_spec(lab_spec) if lab_spec else ""
    return render_workflow(spec.task, runners, lab_spec=pinned, version=__version__)


def repository_pin(here: Path) -> str:
    """The lab spec the Classroom workflow of the repository around `here` pins (a template `lab
    classroom init --lab-spec` made), "" when there is none: printing it again must not drop the pin."""
    from lab.adapters.git import find_git_root

    try:
        root = find_git_root(here)
        if root is None:
            return ""
        return written_pin((root / WORKFLOW_PATH).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return ""


def practice_files(task: str | None = None, lab_spec: str = "") -> dict[str, str]:
    """Files `lab init` adds to the starter: the Classroom workflow (pinned to this lab when known)."""
    return {WORKFLOW_PATH: workflow_for(task, lab_spec or running_lab_spec())}


def new_practice_repo(dest: Path, *, origin: Path | None = None, task: str | None = None) -> Practice:
    """A learner's practice repository for `task` (default: the course's) at `dest` with its bare origin,
    whoever makes it (`lab init`, the app's sandbox and a task's own, `lab sandbox reset`): the starter,
    the Classroom workflow (`practice_files`) and PROGRESS.md with the course's rows done elsewhere."""
    from lab.services.progress import starter_progress
    from lab.services.tasks import load_task

    task_id = load_task(task).meta.id
    files = {**practice_files(task_id), **starter_progress(task_id, Path(dest).expanduser().resolve())}
    return init_practice_repo(dest, origin=origin, task=task_id, extra_files=files)


def classroom_init(
    dest: Path, *, lab_spec: str, task: str | None = None, origin: Path | None = None
) -> Practice:
    """The class's template repository: `lab init` with the workflow pinned to `lab_spec`."""
    pinned = validated_spec(lab_spec)
    return init_practice_repo(
        dest, origin=origin, task=task, extra_files={WORKFLOW_PATH: workflow_for(task, pinned)}
    )


def outside_lab_warning(task: str | None) -> str | None:
    """One line when `task` comes from a LAB_TASKS_PATH folder, not the lab's own tasks/: the workflow
    runs `lab check --task ID` in CI, where only the installed lab's tasks/ are (no LAB_TASKS_PATH)."""
    from lab.adapters.tasks import bundled_task, default_task_id, task_folder

    task_id = task or default_task_id()
    if bundled_task(task_id):
        return None
    return (
        f"task {task_id} is in {task_folder(task_id).parent} (LAB_TASKS_PATH), not in the lab's own tasks/: "
        f"the workflow's `lab check --task {task_id}` fails in CI unless the lab it installs has the task "
        "in its tasks/ (add the folder to your fork, then pin that commit)"
    )
