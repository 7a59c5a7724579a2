"""The course's tasks for the CLI and the TUI: the catalogue, one task, the quiz record.

Tasks are data (`tasks/<id>/`, see CONTRIBUTING.md); `lab.adapters.tasks` reads them into the model of
`lab.core.tasks`. Nothing here knows a task by name: the default is the task the learner's repository
records (`lab init DIR --task ID`), else the course's current task (`task_for_workspace`).
"""

from __future__ import annotations

from pathlib import Path

from lab.adapters.tasks import catalogue, default_task_id, load_task, recorded_task, task_for_workspace
from lab.core.quiz import QuizResult
from lab.core.tasks import TaskMeta
from lab.core.tasktexts import Hint, Pitfall, Task

__all__ = [
    "Hint",
    "Pitfall",
    "Task",
    "TaskMeta",
    "default_task_id",
    "list_tasks",
    "load_task",
    "record_quiz",
    "recorded_task",
    "task_deployment",
    "task_for_row",
    "task_for_workspace",
    "workspace_task",
]


def list_tasks() -> list[str]:
    """Every task id on the search path, in course order."""
    return [entry.meta.id for entry in catalogue()]


def workspace_task(workspace: Path | None = None, task: str | None = None) -> Task:
    """The task a command (or the app) works on in `workspace`, loaded: --task > the repository's
    recorded task > the course's current task (`task_for_workspace`)."""
    return load_task(task_for_workspace(workspace, task))


def record_quiz(workspace: Path, task: Task, result: QuizResult) -> Path:
    """Write the quiz result where `lab check` (quiz.passed) and headless graders read it; the best
    attempt is kept and every attempt listed (`lab.services.quiz.record_attempt`)."""
    from lab.services.quiz import record_attempt

    return record_attempt(workspace, task, result).path


def task_for_row(row: str) -> Task | None:
    """The course task whose PROGRESS.md row `row` names (`09`, `9` or `09-fluxcd-...`), if the lab has it."""
    from lab.core.progress import task_matches

    entries = catalogue()
    exact = [e for e in entries if row in (e.meta.id, e.meta.progress_row, e.meta.progress_task)]
    found = exact or [e for e in entries if task_matches(e.meta.progress_task, row)]
    return load_task(found[0].meta.id) if found else None


def task_automation_files(task: Task | str) -> tuple[str, ...]:
    """Where the task keeps its ImageRepository, ImagePolicy and ImageUpdateAutomation (checks.toml
    `[params] automation_files`, in that order), for `lab generate` and the app's Generate; the course
    text's layout when the task names no three such files."""
    from lab.checks.loader import load_task_checks
    from lab.core.manifests.generate import DEFAULT_FILES

    value = load_task_checks(task if isinstance(task, str) else task.id).params.get("automation_files")
    if isinstance(value, list | tuple) and len(value) == 3 and all(isinstance(v, str) and v for v in value):
        return tuple(value)
    return DEFAULT_FILES


def solution_update_path(task: Task) -> str:
    """The update.path example for `task` (`lab why`): the same one image-update.valid's hint shows."""
    from lab.core.manifests.generate import options_from_mapping
    from lab.core.manifests.parse import solution_update_path as from_solution
    from lab.core.manifests.parse import update_path_example

    rel = task_automation_files(task)[2]
    path = task.solution / rel
    text = path.read_text(encoding="utf-8") if path.is_file() else None
    return update_path_example(from_solution(text, rel), options_from_mapping(task.meta.generate).update_path)


def task_deployment(task: Task | str) -> str | None:
    """The file the task's checks call its deployment (checks.toml `[params] deployment`): where the
    marker goes (`lab generate`'s next step, the app's Marker tab); None when the task names none."""
    from lab.checks.loader import load_task_checks

    value = load_task_checks(task if isinstance(task, str) else task.id).params.get("deployment")
    return value if isinstance(value, str) and value else None
