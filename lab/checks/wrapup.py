"""Wrap-up checks: the task's PROGRESS.md row marked done with a note, and the recorded quiz result."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lab.checks import check
from lab.checks.context import (
    CheckContext,
)
from lab.core import jsontext
from lab.core.checks.model import Evidence, Outcome
from lab.errors import LabError

if TYPE_CHECKING:
    from lab.core.quiz import Quiz


@check("progress.updated")
def progress_updated(ctx: CheckContext) -> Outcome:
    from lab.core.progress import DONE, PROGRESS_FILE, not_a_file, row_status, status_is_done

    row = str(ctx.settings.get("progress_row") or ctx.task)
    note = str(ctx.settings.get("progress_note") or "your note")
    note_hint = f'lab progress --done {row} --note "{note}"'
    if not ctx.exists(PROGRESS_FILE):
        kind = _not_a_file(ctx, PROGRESS_FILE)
        if kind is not None:
            message, hint = not_a_file(kind)
            return Outcome.failed(f"{PROGRESS_FILE} {message}", file=PROGRESS_FILE, hint=hint)
        return Outcome.failed(f"{PROGRESS_FILE} is missing", file=PROGRESS_FILE, hint=note_hint)
    try:
        text = ctx.read_text(PROGRESS_FILE)
    except LabError as err:
        return Outcome.failed(f"{PROGRESS_FILE}: {err.message}", file=PROGRESS_FILE, hint=err.hint)
    found = row_status(text, row)
    if found is None:
        return Outcome.failed(
            f"{PROGRESS_FILE} has no row for task {row}", file=PROGRESS_FILE, hint=note_hint
        )
    status, note = found
    line = _row_line(text, row)
    evidence = [Evidence("file", f"{PROGRESS_FILE}:{line}" if line else PROGRESS_FILE, f"{status} | {note}")]
    done = status_is_done(status)
    if not done or not note.strip():
        what = f"{DONE} but has no note" if done else f"{status.strip() or 'empty'}, not {DONE}"
        return Outcome.failed(
            f"{PROGRESS_FILE} row {row} is {what}",
            file=PROGRESS_FILE,
            line=line,
            hint=note_hint,
            evidence=evidence,
        )
    return Outcome.passed(f"row {row} is {DONE}: {note.strip()}", evidence=evidence, file=PROGRESS_FILE)


def _not_a_file(ctx: CheckContext, rel: str) -> str | None:
    """What is at `rel` in the workspace when it is there but no regular file ("a directory"), else None."""
    from lab.adapters.files import not_regular

    try:
        kind = not_regular(ctx.path(rel))
    except LabError:
        return None  # a link out of the workspace: read_text names it
    return None if kind in (None, "not found") else kind


def _row_line(text: str, row: str) -> int | None:
    for number, line in enumerate(text.splitlines(), start=1):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.lstrip().startswith("|") and cells and cells[0].startswith(row):
            return number
    return None


def _for_task(ctx: CheckContext, command: str) -> str:
    """`command` as the learner types it in this repository: `--task ID` unless the task is the one the
    repository records (`lab init DIR --task ID`) or, recording none, the course's."""
    from lab.adapters.tasks import task_for_workspace

    try:
        default = task_for_workspace(ctx.workspace)
    except LabError:
        default = ""
    return command if ctx.task == default else f"{command} --task {ctx.task}"


@check("quiz.passed")
def quiz_passed(ctx: CheckContext) -> Outcome:
    quiz = _for_task(ctx, "lab quiz")
    rel = str(ctx.settings.get("quiz_record", ".fluxlab/quiz.json"))
    if not ctx.exists(rel):
        return Outcome.failed(
            f"no quiz result in {rel}",
            file=rel,
            hint=f"run `{quiz}` (commit {rel} too when CI grades your fork)",
        )
    try:
        data = jsontext.loads(ctx.read_text(rel))
    except (LabError, ValueError) as err:
        return Outcome.failed(f"{rel} is not a quiz result ({err})", file=rel, hint=f"run `{quiz}` again")
    if not isinstance(data, dict):
        return Outcome.failed(f"{rel} is not a quiz result", file=rel, hint=f"run `{quiz}` again")
    if str(data.get("task", "")) != ctx.task:
        return Outcome.failed(
            f"{rel} records task {data.get('task')!s}, not {ctx.task}", file=rel, hint=f"run `{quiz}`"
        )
    score, total = data.get("score"), data.get("total")
    shown = f"{score}/{total}" if total is not None else f"{score}"
    evidence = [Evidence("file", rel, f"score {shown}, passed {data.get('passed')}")]
    if not isinstance(data.get("passed"), bool):
        return Outcome.failed(
            f"{rel} is not a quiz result: its 'passed' is {data.get('passed')!r}, not true or false",
            file=rel,
            hint=f"run `{quiz}` again (lab writes this file; an edited one does not count)",
            evidence=evidence,
        )
    from lab.core.quiz import rescore_record  # only this check grades a quiz: not every `lab check`

    result, disagreement = rescore_record(ctx.task, _task_quiz(ctx), data)
    if result is None or disagreement:
        return Outcome.failed(
            f"{rel} {disagreement}",
            file=rel,
            hint=f"take the quiz in the lab: `{quiz}` (it writes {rel}; an edited one does not count)",
            evidence=evidence,
        )
    if not result.passed:
        return Outcome.failed(
            f"quiz not passed yet (score {shown})",
            file=rel,
            hint=f"run `{quiz}` again; `{_for_task(ctx, 'lab lesson')}` explains it",
            evidence=evidence,
        )
    return Outcome.passed(f"quiz passed (score {shown})", evidence=evidence)


def _task_quiz(ctx: CheckContext) -> Quiz:
    """The task's quiz.toml, the key a record's answers are graded against."""
    from lab.adapters.tasks import load_task

    return ctx.cached("task:quiz", lambda: load_task(ctx.task).quiz)
