"""The quiz record (best attempt kept, every attempt listed) and what the learner revealed or answered
so far, kept in the workspace so it survives quitting the app.

`.fluxlab/quiz.json` is the record graders read; it is committed with the learner's work.
`.fluxlab/session.json` holds revealed hints and unfinished quiz answers: personal, so
`.fluxlab/.gitignore` keeps it (and itself) out of `git add .`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lab.adapters.files import read_regular, write_atomic, writing
from lab.core import jsontext
from lab.core.quiz import QuizResult, merge_record, quiz_key
from lab.core.record import dataclass

if TYPE_CHECKING:
    from lab.services.tasks import Task

STATE_DIR = ".fluxlab"
SESSION_FILE = "session.json"
_IGNORE = "# personal lab state (hints revealed, unfinished quiz); quiz.json is committed\nsession.json\n.gitignore\n"


@dataclass(frozen=True)
class QuizRecord:
    path: Path
    data: dict[str, Any]
    this_attempt: QuizResult
    at: str

    @property
    def best_score(self) -> int:
        score = self.data.get("score")
        return score if isinstance(score, int) else 0

    @property
    def passed(self) -> bool:
        return self.data.get("passed") is True

    @property
    def attempts(self) -> int:
        raw = self.data.get("attempts")
        return len(raw) if isinstance(raw, list) else 1

    @property
    def attempts_text(self) -> str:
        return f"{self.attempts} attempt{'' if self.attempts == 1 else 's'}"

    @property
    def kept_earlier_best(self) -> bool:
        """This attempt was not better than an earlier one, which stays the record."""
        return self.data.get("best_at") != self.at

    def summary(self) -> str:
        mine = f"{self.this_attempt.score}/{self.this_attempt.total}"
        if self.kept_earlier_best:
            verdict = "passed" if self.passed else "not passed"
            return (
                f"this attempt: {mine}; your best, {self.best_score}/{self.data.get('total')} ({verdict}), "
                f"stays recorded ({self.attempts_text})"
            )
        return f"{mine} {'passed' if self.this_attempt.passed else 'not passed'} ({self.attempts_text})"


# A record keeps at most MAX_ATTEMPTS_KEPT attempts: kilobytes. Anything larger, or not a regular
# file (a FIFO would block the read), is not a record the lab wrote.
MAX_RECORD_BYTES = 1 << 20


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = jsontext.loads(read_regular(path, MAX_RECORD_BYTES, follow_symlinks=False).decode("utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def record_attempt(workspace: Path, task: Task, result: QuizResult, *, at: str | None = None) -> QuizRecord:
    """Add an attempt to the task's quiz record, keeping the best one on top; clears unfinished answers."""
    path = Path(workspace) / task.meta.quiz_record
    if path.is_symlink():
        from lab.errors import LabError

        raise LabError("is a symbolic link; lab writes only a regular file", file=str(path))
    when = at or _now()
    data = merge_record(_read_json(path), result, when, quiz_key(task.quiz))
    write_atomic(path, (json.dumps(data, indent=2) + "\n").encode("utf-8"))
    save_quiz_progress(workspace, task.id, [])
    return QuizRecord(path, data, result, when)


def load_record(workspace: Path, task: Task) -> dict[str, Any] | None:
    return _read_json(Path(workspace) / task.meta.quiz_record)


# -- personal state: hints revealed, unfinished quiz answers -----------------------------------------


def _session_path(workspace: Path) -> Path:
    return Path(workspace) / STATE_DIR / SESSION_FILE


def _load_session(workspace: Path) -> dict[str, Any]:
    return _read_json(_session_path(workspace)) or {}


def _save_session(workspace: Path, data: dict[str, Any]) -> None:
    folder = Path(workspace) / STATE_DIR
    if folder.is_symlink():
        return  # never write through a link the repository carries
    with writing(folder):
        folder.mkdir(parents=True, exist_ok=True)
    ignore = folder / ".gitignore"
    if not ignore.exists():
        write_atomic(ignore, _IGNORE.encode("utf-8"))
    write_atomic(folder / SESSION_FILE, (json.dumps(data, indent=2, sort_keys=True) + "\n").encode("utf-8"))


def _task_state(data: dict[str, Any], task_id: str) -> dict[str, Any]:
    tasks = data.setdefault("tasks", {})
    if not isinstance(tasks, dict):
        tasks = data["tasks"] = {}
    state = tasks.setdefault(task_id, {})
    if not isinstance(state, dict):
        state = tasks[task_id] = {}
    return state


def revealed_hints(workspace: Path, task_id: str) -> int:
    """How many hints of the task the learner has revealed (they are revealed in order)."""
    state = _task_state(_load_session(workspace), task_id)
    value = state.get("hints_revealed", 0)
    return value if isinstance(value, int) and value >= 0 else 0


def reveal_hint(workspace: Path, task_id: str, count: int) -> int:
    """Remember that hints 1..count are revealed (never fewer than before); returns the new count."""
    data = _load_session(workspace)
    state = _task_state(data, task_id)
    current = state.get("hints_revealed", 0)
    new = max(count, current if isinstance(current, int) else 0)
    if new != current:
        state["hints_revealed"] = new
        _save_session(workspace, data)
    return new


def quiz_progress(workspace: Path, task_id: str) -> list[int | None]:
    """The answers given so far in an unfinished quiz (0-based choices, None = not answered)."""
    raw = _task_state(_load_session(workspace), task_id).get("quiz_answers", [])
    if not isinstance(raw, list):
        return []
    return [a if isinstance(a, int) and not isinstance(a, bool) else None for a in raw]


def save_quiz_progress(workspace: Path, task_id: str, answers: Sequence[int | None]) -> None:
    data = _load_session(workspace)
    state = _task_state(data, task_id)
    if not answers and "quiz_answers" not in state:
        return
    if answers:
        state["quiz_answers"] = list(answers)
    else:
        state.pop("quiz_answers", None)
    _save_session(workspace, data)
