"""Quiz: one question at a time; the result is recorded where `lab check` reads it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Footer, Header, Label, RadioButton, RadioSet, Static

if TYPE_CHECKING:
    from lab.tui.app import LabApp


class QuizScreen(Screen[None]):
    HELP = "Pick an answer with the arrow keys and Enter, then press Check."

    def __init__(self) -> None:
        super().__init__()
        self.index = 0
        self.answers: list[int | None] = []

    @property
    def lab(self) -> LabApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="quiz"):
            yield Label("", id="counter", classes="muted", markup=False)
            yield Label("", id="prompt", classes="question", markup=False)
            yield RadioSet(id="choices")
            yield Static("", id="feedback", markup=False)
            with Horizontal(id="quiz-actions"):
                yield Button("Check", id="check", variant="primary")
                yield Button("Next", id="next", disabled=True)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self._show_question()

    def _show_question(self) -> None:
        questions = self.lab.session.task.quiz.questions
        question = questions[self.index]
        self.query_one("#counter", Label).update(f"Question {self.index + 1} of {len(questions)}")
        self.query_one("#prompt", Label).update(question.prompt)
        choices = self.query_one("#choices", RadioSet)
        choices.remove_children()
        choices.mount_all(RadioButton(choice) for choice in question.choices)
        feedback = self.query_one("#feedback", Static)
        feedback.update("")
        feedback.set_classes("")
        self.query_one("#check", Button).disabled = False
        self.query_one("#next", Button).disabled = True
        choices.focus()

    @on(Button.Pressed, "#check")
    def check_answer(self) -> None:
        question = self.lab.session.task.quiz.questions[self.index]
        picked = self.query_one("#choices", RadioSet).pressed_index
        if picked < 0:
            self.notify("Pick an answer first.", severity="warning")
            return
        self.answers.append(picked)
        feedback = self.query_one("#feedback", Static)
        right = picked == question.answer
        feedback.update(("✔ Right. " if right else "✗ Not quite. ") + question.explain)
        feedback.set_classes("feedback-ok" if right else "feedback-bad")
        self.query_one("#check", Button).disabled = True
        next_button = self.query_one("#next", Button)
        next_button.disabled = False
        next_button.focus()

    @on(Button.Pressed, "#next")
    def next_question(self) -> None:
        if self.index + 1 < len(self.lab.session.task.quiz.questions):
            self.index += 1
            self._show_question()
            return
        self._finish()

    def _finish(self) -> None:
        from lab.core.quiz import grade
        from lab.services.tasks import record_quiz

        session = self.lab.session
        result = grade(session.task.id, session.task.quiz, self.answers)
        try:
            record_quiz(session.workspace, session.task, result)
        except OSError as err:
            self.notify(f"could not record the quiz: {err}", severity="error")
        verdict = "passed" if result.passed else f"not passed (need {session.task.quiz.pass_mark})"
        self.query_one("#counter", Label).update("Quiz finished")
        self.query_one("#prompt", Label).update(f"{result.score}/{result.total}: {verdict}")
        self.query_one("#choices", RadioSet).remove_children()
        opens = "\n".join(f"- {p}" for p in session.task.quiz.open_prompts)
        self.query_one("#feedback", Static).update(f"Think about:\n{opens}" if opens else "")
        self.query_one("#next", Button).disabled = True
