"""`lab dev check`: prove a task folder is a working task, as rustlings' `dev check` does for exercises.

For each task: its files parse (task.toml, lesson, hints, pitfalls, quiz, checks.toml) and render; the
quiz's answers are valid and passing with them passes; every check names a function that exists and
every pitfall a check that exists; the bundled tags read. Then, offline in a temporary directory, the
starter fails the checks it should (all of them, unless checks.toml `[dev] starter_passes` lists some)
and the solution - written, committed, pushed, reconciled by the simulated Flux with the task's bundled
tags, PROGRESS.md marked and the quiz recorded - passes every check that runs offline.
"""

from __future__ import annotations

import io
import json
import tempfile
from collections.abc import Callable
from dataclasses import field
from pathlib import Path
from typing import TYPE_CHECKING

from lab.core.record import dataclass
from lab.errors import LabError

if TYPE_CHECKING:
    from lab.checks import Impl
    from lab.core.tasktexts import Task


@dataclass(frozen=True)
class Finding:
    step: str
    ok: bool
    detail: str


@dataclass
class TaskReport:
    task: str
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(f.ok for f in self.findings)

    def to_json(self) -> dict[str, object]:
        return {"task": self.task, "ok": self.ok, "findings": [f.__dict__ for f in self.findings]}


def dev_check(
    task_ids: list[str] | None = None, *, on_task: Callable[[TaskReport], None] | None = None
) -> list[TaskReport]:
    """Check the named tasks (default: every task on the search path)."""
    from lab.adapters.tasks import scan_catalogue

    reports = []
    if task_ids:
        ids = task_ids
    else:
        entries, problems = scan_catalogue()
        ids = [e.meta.id for e in entries]
        for problem in problems:  # a folder that is no task yet: its task.toml says why
            folder = Path(problem.file).parent.name if problem.file else "?"
            reports.append(TaskReport(folder, [Finding("task files parse", False, str(problem))]))
            if on_task is not None:
                on_task(reports[-1])
    for task_id in ids:
        report = check_task(task_id)
        reports.append(report)
        if on_task is not None:
            on_task(report)
    return reports


def check_task(task_id: str) -> TaskReport:
    report = TaskReport(task_id)

    def step(name: str, fn: Callable[[], str]) -> bool:
        try:
            detail = fn()
        except (LabError, OSError, ValueError, KeyError, TypeError) as err:
            report.findings.append(Finding(name, False, str(err)))
            return False
        report.findings.append(Finding(name, True, detail))
        return True

    from lab.adapters.tasks import load_task

    if not step("task files parse", lambda: f"{load_task(task_id).title}"):
        return report
    task = load_task(task_id)
    step("lesson and hints render", lambda: _render(task))
    step("quiz answers are valid", lambda: _quiz(task))
    if not step("checks.toml names existing functions", lambda: _checks(task)):
        return report
    step("pitfalls name existing checks", lambda: _pitfalls(task))
    step("task data names what the lab knows", lambda: _declared(task))
    step("bundled tags read", lambda: _images(task))
    with tempfile.TemporaryDirectory(prefix=f"fluxlab-dev-{task_id}-") as tmp:
        root = Path(tmp)
        if step("starter fails its checks", lambda: _starter(task, root / "starter" / "repo")):
            step("solution passes every offline check", lambda: _solution(task, root / "solution" / "repo"))
    return report


def _render(task: Task) -> str:
    from rich.console import Console
    from rich.markdown import Markdown

    if not task.lesson.strip():
        raise LabError("the lesson is empty", file=str(task.folder / task.meta.lesson))
    console = Console(file=io.StringIO(), width=80, color_system=None)
    console.print(Markdown(task.lesson))
    for number, hint in enumerate(task.hints, start=1):
        if not hint.title.strip() or not hint.body.strip():
            raise LabError(f"hint {number} has no title or no body", file=str(task.folder / task.meta.hints))
        console.print(Markdown(hint.body))
    return f"lesson ({len(task.lesson.splitlines())} lines) and {len(task.hints)} hints"


def _quiz(task: Task) -> str:
    from lab.core.quiz import grade
    from lab.services.tasks import list_tasks

    quiz = task.quiz
    where = str(task.folder / task.meta.quiz)
    if not quiz.questions:
        raise LabError("the quiz has no questions", file=where)
    if not 0 < quiz.pass_mark <= len(quiz.questions):
        raise LabError(f"pass mark {quiz.pass_mark} of {len(quiz.questions)} questions", file=where)
    if not grade(task.id, quiz, [q.answer for q in quiz.questions]).passed:
        raise LabError("the right answers do not pass the quiz", file=where)
    known = list_tasks()
    for number, opened in enumerate(quiz.open_prompts, start=1):
        if opened.task and opened.task not in known:
            raise LabError(
                f"open question {number} names task {opened.task}, which the lab does not have",
                file=where,
                hint="`lab tasks` lists the ids; add the task folder or drop `task`",
            )
    return f"{len(quiz.questions)} questions, pass mark {quiz.pass_mark}"


def _checks(task: Task) -> str:
    from lab.checks.loader import load_task_checks

    spec = load_task_checks(task.id)
    try:
        bound = spec.implementations()
    except LabError as err:
        # The learner's hint sends them to the author and here; the author is the one running this.
        raise LabError(err.message, file=err.file, line=err.line, hint="fix it there") from None
    missing = [f"{cid} (run = {spec.runs[cid][0]!r})" for cid in spec.runs if cid not in bound]
    if missing:
        raise LabError(f"no check function for {', '.join(missing)}", file=str(task.checks_file))
    return f"{len(spec.defs)} checks, {sum(d.points for d in spec.defs)} points"


def _pitfalls(task: Task) -> str:
    from lab.checks.loader import load_task_checks

    ids = {d.id for d in load_task_checks(task.id).defs}
    unknown = [p.check for p in task.pitfalls if p.check and p.check not in ids]
    if unknown:
        raise LabError(
            f"pitfalls name unknown checks: {', '.join(unknown)}", file=str(task.folder / task.meta.pitfalls)
        )
    return f"{len(task.pitfalls)} pitfall{'' if len(task.pitfalls) == 1 else 's'}"


def _declared(task: Task) -> str:
    """What task.toml and checks.toml say that the lab would pass over in silence: a misspelt key, a
    [check.params] key its check function never reads, a [generate] table the generator refuses,
    prerequisites that name no task or go round, points that do not sum to 100, [dev] and [solution]
    entries that name nothing."""
    from lab.adapters.tasks import catalogue, read_task_toml
    from lab.checks import params_of
    from lab.checks.loader import (
        CHECK_KEYS,
        CHECKS_TOML_KEYS,
        DEV_KEYS,
        EXERCISE_KEYS,
        GUARD_KEYS,
        TASK_PARAMS,
        load_task_checks,
    )
    from lab.core.manifests.generate import (
        POLICY_KINDS,
        generate_keys,
        options_from_mapping,
        render_manifests,
    )
    from lab.core.tasks import (
        DEFAULT_AREAS,
        IMAGE_KEYS,
        SOLUTION_KEYS,
        TASK_FILE,
        TASK_KEYS,
        did_you_mean,
        key_line,
        unknown_keys,
    )

    problems: list[str] = []
    texts = {
        name: (task.folder / name).read_text(encoding="utf-8") for name in (TASK_FILE, task.checks_file.name)
    }

    def unknown(
        data: object,
        known: frozenset[str],
        file: str,
        table: str = "",
        index: int | None = None,
        label: str = "",
    ) -> None:
        """Each key of `data` the lab does not read: file:line, the table, the key and the nearest known one."""
        for key in unknown_keys(data, known):
            line = key_line(texts[file], table, key, index)
            where = f"{file}:{line}" if line else file
            shown = label or (f"[{table}]" if table else "")
            problems.append(
                f"{where}{' ' + shown if shown else ''}: unknown key {key!r}{did_you_mean(key, known)}"
            )

    data = read_task_toml(task.folder / TASK_FILE)
    unknown(data, TASK_KEYS, TASK_FILE)
    unknown(data.get("solution"), SOLUTION_KEYS, TASK_FILE, "solution")
    for number, image in enumerate(data.get("images", []), 1):
        unknown(image, IMAGE_KEYS, TASK_FILE, "images", number - 1, f"[[images]] {number}")
    unknown(task.meta.generate, generate_keys(), TASK_FILE, "generate")
    kinds = [k for k in task.meta.generate if k in POLICY_KINDS]
    if len(kinds) > 1:
        problems.append(f"task.toml [generate]: one policy kind, not {' and '.join(kinds)}")
    try:
        render_manifests(options_from_mapping(task.meta.generate))
    except LabError as err:
        problems.append(f"task.toml [generate]: {err.message}")
    problems.extend(f"task.toml: unknown area {a!r}" for a in task.meta.areas if a not in DEFAULT_AREAS)
    metas = {entry.meta.id: entry.meta for entry in catalogue()}
    for prereq in task.meta.prerequisites:
        if prereq == task.id:
            problems.append("task.toml: the task is its own prerequisite")
        elif prereq not in metas:
            problems.append(f"task.toml: prerequisite {prereq!r} is no task (`lab tasks` lists them)")
    cycle = _prerequisite_cycle(task.id, {i: m.prerequisites for i, m in metas.items()})
    if cycle:
        problems.append(f"task.toml: prerequisites go round: {' -> '.join(cycle)}")

    raw = read_task_toml(task.checks_file)  # a top-level key outside CHECKS_TOML_KEYS is a typo: flagged
    checks = task.checks_file.name
    unknown(raw, CHECKS_TOML_KEYS, checks)
    functions = _functions(task)
    for number, entry in enumerate(raw.get("check", [])):
        label = f"[[check]] {entry.get('id', '?')}"
        unknown(entry, CHECK_KEYS, checks, "check", number, label)
        fn = functions.get(str(entry.get("run", entry.get("id"))))
        if fn is not None:  # a `run` that names nothing is _checks' to say
            read = TASK_PARAMS | params_of(fn)
            unknown(entry.get("params"), read, checks, "check.params", label=f"{label} [check.params]")
    unknown(raw.get("dev"), DEV_KEYS, checks, "dev")
    exercise = raw.get("exercise")
    # The guards' tables are the task's: each named by a guard check ([exercise] staging may also be a path).
    guards = {
        str(entry["params"]["guard"]): str(entry.get("id", "?"))
        for entry in raw.get("check", [])
        if isinstance(entry.get("params"), dict) and "guard" in entry["params"]
    }
    unknown(exercise, EXERCISE_KEYS | guards.keys(), checks, "exercise")
    for name, check_id in guards.items():
        table = exercise.get(name) if isinstance(exercise, dict) else None
        if isinstance(table, dict):
            unknown(table, GUARD_KEYS, checks, f"exercise.{name}")
        else:
            problems.append(
                f"checks.toml [[check]] {check_id} [check.params] guard: no [exercise.{name}] table"
            )
    spec = load_task_checks(task.id)
    ids = {d.id for d in spec.defs}
    total = sum(d.points for d in spec.defs)
    if total != 100:
        problems.append(f"checks.toml: the points sum to {total}, not 100")
    passes = _starter_passes(spec.settings, str(task.checks_file))
    problems.extend(f"checks.toml [dev] starter_passes: no check {c!r}" for c in passes if c not in ids)
    files = spec.params.get("automation_files")
    if isinstance(files, list) and len(set(map(str, files))) != len(files):
        problems.append(f"checks.toml [params] automation_files: a file named twice in {files}")
    starter = task.folder / task.meta.starter
    # The files the lab itself opens by these parameters (the sandbox's bootstrap, the Marker tab).
    for key in ("sync_file", "deployment"):
        rel = spec.params.get(key)
        if isinstance(rel, str) and not (starter / rel).is_file():
            problems.append(f"checks.toml [params] {key}: the starter has no {rel}")
    problems.extend(
        f"task.toml [solution] remove: the starter has no {rel}"
        for rel in task.meta.solution_remove
        if not (starter / rel).exists()
    )
    if problems:
        raise LabError("; ".join(problems), file=str(task.folder))
    return f"{len(data)} task.toml keys, {len(ids)} checks, {total} points"


def _functions(task: Task) -> dict[str, Impl]:
    """Check function name -> the function: the task's checks.py's over the library's."""
    from lab.checks import implementations, task_implementations
    from lab.checks.loader import load_task_checks

    spec = load_task_checks(task.id)
    own = task_implementations(spec.module) if spec.module is not None else {}
    return {**implementations(), **own}


def _starter_passes(settings: dict[str, object], where: str) -> list[str]:
    """checks.toml `[dev] starter_passes`, checked for types."""
    dev = settings.get("dev", {})
    if not isinstance(dev, dict):
        raise LabError("[dev] must be a table", file=where, field="dev")
    passes = dev.get("starter_passes", [])
    if not isinstance(passes, list) or not all(isinstance(p, str) for p in passes):
        raise LabError(
            "[dev] starter_passes must be a list of check ids", file=where, field="dev.starter_passes"
        )
    return passes


def _prerequisite_cycle(start: str, prerequisites: dict[str, tuple[str, ...]]) -> list[str]:
    """A path start -> ... -> start through the prerequisites, or [] when there is none."""
    path: list[str] = []
    seen: set[str] = set()

    def walk(task: str) -> bool:
        path.append(task)
        for prereq in prerequisites.get(task, ()):
            if prereq == start and len(path) > 1:
                path.append(start)
                return True
            if prereq not in seen and prereq != start:
                seen.add(prereq)
                if walk(prereq):
                    return True
        path.pop()
        return False

    return path if walk(start) else []


def _images(task: Task) -> str:
    from lab.adapters.tagsfile import read_tags

    parts = []
    for image in task.meta.images:
        tags = read_tags(task.image_file(image.tags))
        if not tags:
            raise LabError(f"no tags for {image.name}", file=str(task.image_file(image.tags)))
        if image.events is not None:
            events = json.loads(task.image_file(image.events).read_text(encoding="utf-8"))
            if not isinstance(events, list) or not all(
                isinstance(e, dict) and "date" in e and "tags" in e for e in events
            ):
                raise LabError(
                    "events must be a JSON list of {date, tags}", file=str(task.image_file(image.events))
                )
        parts.append(f"{image.name}: {len(tags)} tags")
    return "; ".join(parts) or "no images declared"


def _run(task: Task, ws: Path) -> tuple[list[str], list[str]]:
    """(passed, not passed) ids of the checks that ran offline (with the first image's bundled tags).
    A check that errors is the task's fault (a missing parameter, a check function that crashed), not
    the starter's: it is raised, never counted as the starter failing as it should."""
    from lab.core.checks.model import Status
    from lab.services.check import run_checks

    first = next(iter(task.meta.images), None)
    tags_file = task.image_file(first.tags) if first is not None else None
    report = run_checks(ws, task=task.id, offline=True, tags_file=tags_file)
    ran = [r for r in report.checks if not r.excluded]
    errors = [f"{r.id}: {r.message}" for r in ran if r.status is Status.ERROR]
    if errors:
        raise LabError(f"checks that error: {'; '.join(errors)}", file=str(task.checks_file))
    passed = [r.id for r in ran if r.status is Status.PASS]
    failed = [f"{r.id} ({r.status.value}: {r.message})" for r in ran if r.status is not Status.PASS]
    return passed, failed


def _starter(task: Task, dest: Path) -> str:
    from lab.checks.loader import load_task_checks
    from lab.sandbox.practice import init_practice_repo

    init_practice_repo(dest, task=task.id)
    allowed = set(_starter_passes(load_task_checks(task.id).settings, str(task.checks_file)))
    passed, failed = _run(task, dest)
    unexpected = [c for c in passed if c not in allowed]
    if unexpected:
        raise LabError(
            f"the starter already passes {', '.join(unexpected)}",
            file=str(task.checks_file),
            hint="make the starter need the work, or list the check in [dev] starter_passes",
        )
    return f"{len(failed)} checks fail on the starter" + (
        f", {len(passed)} pass as declared" if passed else ""
    )


def _from_task_folder(err: LabError, task: Task, dest: Path) -> LabError:
    """`err` about a file of the practice repository `dest` (a temporary copy) said of the task folder's
    file it came from: the solution's, else the starter's, which is the one the author edits."""
    if err.file is None or not Path(err.file).is_relative_to(dest):
        return err
    rel = Path(err.file).relative_to(dest)
    source = next(
        (f for f in (task.solution / rel, task.folder / task.meta.starter / rel) if f.is_file()), None
    )
    if source is None:
        return err
    return LabError(err.message, hint=err.hint, file=str(source), line=err.line, field=err.field)


def _solution(task: Task, dest: Path) -> str:
    from lab.core.quiz import grade
    from lab.sandbox.practice import init_practice_repo
    from lab.services.progress import mark_task_done
    from lab.services.simulate import BundledTags, simulate
    from lab.services.solve import solve
    from lab.services.tasks import record_quiz

    init_practice_repo(dest, task=task.id)
    solve(dest, task=task.id, api_version="image.toolkit.fluxcd.io/v1")
    if task.meta.images:
        simulate(dest, tag_source=BundledTags(task))
    try:
        mark_task_done(dest, task.meta)
    except LabError as err:
        raise _from_task_folder(err, task, dest) from None
    record_quiz(dest, task, grade(task.id, task.quiz, [q.answer for q in task.quiz.questions]))
    passed, failed = _run(task, dest)
    if failed:
        raise LabError(f"the solution fails {'; '.join(failed)}", file=str(task.solution))
    return f"{len(passed)} checks pass offline"
