"""`lab quiz`: the three-CRD quiz as plain prompts, for terminals where a TUI is unwelcome."""

from __future__ import annotations

import argparse
import sys

from lab.commands._common import add_task_arg, add_workspace_arg, resolve_workspace
from lab.errors import UsageError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("quiz", help="answer the short quiz on the three CRDs (recorded for lab check)")
    add_workspace_arg(parser)
    add_task_arg(parser)
    parser.add_argument(
        "--answers",
        metavar="N,N,...",
        help="answer non-interactively: choice numbers (1-based) in question order",
    )
    parser.set_defaults(func=run)


def _parse_answers(text: str, choices: list[int]) -> list[int | None]:
    """`--answers 2,3,1`: one choice number per question; `choices` is how many each question has."""
    count = len(choices)
    try:
        picks = [int(part) - 1 for part in text.split(",") if part.strip()]
    except ValueError as err:
        raise UsageError(f"--answers {text!r}: use choice numbers like 2,3,1", hint="see `lab quiz`") from err
    if len(picks) != count:
        given = f"{len(picks)} answer" + ("" if len(picks) == 1 else "s")
        raise UsageError(
            f"--answers gives {given} for {count} questions",
            hint=f"give {count} choice numbers, one per question in order (e.g. --answers 2,1,3,...)",
        )
    for number, (pick, offered) in enumerate(zip(picks, choices, strict=True), start=1):
        if not 0 <= pick < offered:
            raise UsageError(
                f"--answers: question {number} has choices 1 to {offered}, not {pick + 1}",
                hint="`lab quiz` without --answers shows each question's choices",
            )
    return list(picks)


def _ask(prompt: str, n_choices: int) -> int | None:
    while True:
        print(f"answer [1-{n_choices}]: ", end="", flush=True)
        line = sys.stdin.readline()
        if not line:
            return None
        line = line.strip()
        if line.isdigit() and 1 <= int(line) <= n_choices:
            return int(line) - 1
        print(f"  type a number from 1 to {n_choices}")


def run(args: argparse.Namespace) -> int:
    from lab.core.quiz import grade
    from lab.services.quiz import record_attempt
    from lab.services.tasks import workspace_task

    workspace = resolve_workspace(args.workspace)
    task = workspace_task(workspace, args.task)
    questions = task.quiz.questions
    scripted = _parse_answers(args.answers, [len(q.choices) for q in questions]) if args.answers else None
    answers: list[int | None] = []
    for number, question in enumerate(questions, start=1):
        if scripted is None:
            print(f"\n{number}. {question.prompt}")
            for index, choice in enumerate(question.choices, start=1):
                print(f"   {index}) {choice}")
            answer = _ask(question.prompt, len(question.choices))
            if answer is None:
                # Input ended (ctrl+d, a script, stdin from /dev/null): recording the blanks as a
                # graded 0/N attempt would count against the learner, so nothing is written.
                raise UsageError(
                    f"quiz: input ended at question {number} of {len(questions)}; nothing recorded",
                    hint="answer at the prompt, or give every answer: lab quiz --answers 2,3,1,...",
                )
        else:
            answer = scripted[number - 1]
        answers.append(answer)
        if scripted is None and answer is not None:
            right = answer == question.answer
            print(("  ✔ right. " if right else "  ✗ not quite. ") + question.explain)
    result = grade(task.id, task.quiz, answers)
    record = record_attempt(workspace, task, result)
    verdict = "passed" if result.passed else f"not passed (need {task.quiz.pass_mark})"
    where = record.path.relative_to(workspace)
    gap = "\n" if scripted is None else ""  # a blank line after the questions, not before the only line
    if record.kept_earlier_best:
        print(f"{gap}quiz: {record.summary()}; in {where}")
    else:
        print(
            f"{gap}quiz: {result.score}/{result.total} {verdict}; recorded in {where} ({record.attempts_text})"
        )
    if task.quiz.open_prompts and scripted is None:
        print("\nThink about (no grade, discuss them with your group):")
        for opened in task.quiz.open_prompts:
            print(f"  - {opened.prompt}")
            if opened.task:
                from lab.services.session import task_start

                print(f"    the lab's exercise on it: {task_start(opened.task)}")
    return 0 if record.passed else 1
