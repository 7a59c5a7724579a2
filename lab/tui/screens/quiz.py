"""Quiz: one question at a time; the result is recorded where `lab check` reads it.

By keyboard: the arrows move through the choices, Enter chooses the highlighted one and shows
whether it was right, `n` (or Enter on Next) goes to the next question."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Label, OptionList, Static

from lab.tui.screens.base import LabScreen

if TYPE_CHECKING:
    from lab.core.quiz import QuizResult


class QuizScreen(LabScreen):
    HELP = (
        "Up/Down move through the choices, Enter chooses the highlighted one, n goes to the next "
        "question (after the last answer, n shows your result). The result is recorded for the quiz.passed check; r starts again."
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "next", "Next question"),
        # The same key after the last answer, named for what it does then (check_action picks one).
        Binding("n", "result", "Show result"),
        Binding("r", "restart", "Start again"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.index = 0
        self.answers: list[int] = []
        self.answered = False
        self.finished = False
        self.recorded = ""  # the record's summary once the last answer is saved

    def compose_area(self) -> ComposeResult:
        with VerticalScroll(id="quiz"):
            yield Label("", id="counter", classes="muted", markup=False)
            # Static wraps long questions at 80 columns; a Label would cut them.
            yield Static("", id="prompt", classes="question", markup=False)
            yield OptionList(id="choices", markup=False)
            yield Static("", id="feedback", markup=False)
            with Horizontal(id="quiz-actions"):
                yield Button("Choose (enter)", id="check", variant="primary", compact=True)
                yield Button("Next (n)", id="next", disabled=True, compact=True)

    def on_mount(self) -> None:
        self._show_question()
        self._resume()

    @work(
        thread=True,
        exclusive=True,
        group="quiz-progress",
        exit_on_error=False,
        description="reading the quiz",
    )
    def _resume(self) -> None:
        """An unfinished quiz goes on where the learner left it (lab.services.quiz keeps the answers)."""
        from lab.services.quiz import quiz_progress

        answers = quiz_progress(self.lab.session.workspace, self.lab.session.task.id)
        given = [a for a in answers if a is not None]
        if given and len(given) == len(answers):
            self.app.call_from_thread(self._resume_at, given)

    def _resume_at(self, answers: list[int]) -> None:
        questions = self.lab.session.task.quiz.questions
        if self.answers or self.index or len(answers) >= len(questions):
            return  # the learner has already started answering here
        self.answers = list(answers)
        self.index = len(answers)
        self._show_question()
        self.notify(f"Quiz resumed at question {self.index + 1}: your earlier answers are kept.")

    @work(thread=True, group="quiz-progress", exit_on_error=False, description="saving the quiz")
    def _save_progress(self, answers: list[int]) -> None:
        from lab.services.quiz import save_quiz_progress

        save_quiz_progress(self.lab.session.workspace, self.lab.session.task.id, answers)

    def _show_question(self) -> None:
        questions = self.lab.session.task.quiz.questions
        question = questions[self.index]
        self.answered = False
        self.query_one("#counter", Label).update(f"Question {self.index + 1} of {len(questions)}")
        self.query_one("#prompt", Static).update(question.prompt)
        choices = self.query_one("#choices", OptionList)
        choices.clear_options()
        choices.add_options(question.choices)
        choices.disabled = False
        choices.display = True
        choices.highlighted = 0
        self.query_one("#quiz-actions").display = True
        feedback = self.query_one("#feedback", Static)
        feedback.update("")
        feedback.set_classes("")
        self.query_one("#check", Button).disabled = False
        next_button = self.query_one("#next", Button)
        next_button.label, next_button.disabled = "Next (n)", True
        self.refresh_bindings()
        choices.focus()

    @on(OptionList.OptionSelected, "#choices")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self._answer(event.option_index)

    @on(Button.Pressed, "#check")
    def check_answer(self) -> None:
        highlighted = self.query_one("#choices", OptionList).highlighted
        if highlighted is None:
            self.notify("Pick an answer first.", severity="warning")
            return
        self._answer(highlighted)

    def _answer(self, picked: int) -> None:
        if self.answered or self.finished:
            return
        question = self.lab.session.task.quiz.questions[self.index]
        self.answered = True
        self.answers.append(picked)
        last = len(self.answers) >= len(self.lab.session.task.quiz.questions)
        if last:
            # Recorded now, not at the next key: Done and `lab check` see the whole quiz at once.
            self._record(self._grade())
        else:
            self._save_progress(list(self.answers))
        feedback = self.query_one("#feedback", Static)
        right = picked == question.answer
        feedback.update(
            ("✔ Right. " if right else "✗ Not quite. ")
            + question.explain
            + ("\n\nThat was the last question: n shows your result." if last else "")
        )
        feedback.set_classes("feedback-ok" if right else "feedback-bad")
        self.query_one("#check", Button).disabled = True
        self.query_one("#choices", OptionList).disabled = True
        next_button = self.query_one("#next", Button)
        next_button.label = "Result (n)" if last else "Next (n)"
        next_button.disabled = False
        next_button.focus()
        self.refresh_bindings()

    @on(Button.Pressed, "#next")
    def action_next(self) -> None:
        if not self.answered or self.finished:
            if not self.finished:
                self.notify("Choose an answer first (Enter on the highlighted one).", severity="warning")
            return
        if self.index + 1 < len(self.lab.session.task.quiz.questions):
            self.index += 1
            self._show_question()
            return
        self._finish()

    def action_result(self) -> None:
        self.action_next()

    def action_restart(self) -> None:
        self.index = 0
        self.answers = []
        self.finished = False
        self.recorded = ""
        self.refresh_bindings()
        self._show_question()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # A finished quiz has no next question: the footer must not offer one. After the last answer
        # n shows the result, and the footer says so, as the feedback above it does.
        if action in ("next", "result"):
            last = self.answered and len(self.answers) >= len(self.lab.session.task.quiz.questions)
            return not self.finished and (action == "result") == last
        return super().check_action(action, parameters)

    def _grade(self) -> QuizResult:
        from lab.core.quiz import grade

        session = self.lab.session
        return grade(session.task.id, session.task.quiz, self.answers)

    def _finish(self) -> None:
        session = self.lab.session
        result = self._grade()
        self.finished = True
        self.refresh_bindings()
        verdict = "passed" if result.passed else f"not passed (need {session.task.quiz.pass_mark})"
        self.query_one("#counter", Label).update(
            f"Quiz finished · recorded: {self.recorded}" if self.recorded else "Quiz finished"
        )
        self.query_one("#prompt", Static).update(f"{result.score}/{result.total}: {verdict}")
        self.query_one("#choices", OptionList).display = False
        opens = "\n".join(
            f"- {p.prompt}"
            + (f"\n  the lab's exercise on it: Task {p.task} (Home, 1: Enter opens it)" if p.task else "")
            for p in session.task.quiz.open_prompts
        )
        self.query_one("#feedback", Static).update(f"Think about:\n{opens}" if opens else "")
        self.query_one("#feedback", Static).set_classes("")
        self.query_one("#next", Button).disabled = True
        self.query_one("#check", Button).disabled = True
        self.query_one("#quiz-actions").display = False  # nothing left to choose: r starts again
        self.query_one("#quiz", VerticalScroll).focus()

    @work(thread=True, exclusive=True, group="quiz", exit_on_error=False, description="recording the quiz")
    def _record(self, result: QuizResult) -> None:
        from lab.services.quiz import record_attempt

        record = record_attempt(self.lab.session.workspace, self.lab.session.task, result)
        self.app.call_from_thread(self._recorded, record.summary())

    def _recorded(self, summary: str) -> None:
        questions = len(self.lab.session.task.quiz.questions)
        if len(self.answers) < questions:
            return  # started again meanwhile: the counter shows the new attempt
        self.recorded = summary
        shown = "Quiz finished" if self.finished else f"Question {questions} of {questions}"
        self.query_one("#counter", Label).update(f"{shown} · recorded: {summary}")
        self.lab.refresh_state(fetch=False)
