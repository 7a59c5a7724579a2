"""Which task the lab offers after a finished one: the course's next task when the lab has it, else the
exercises that build on the finished task, in course order."""

from __future__ import annotations

from lab.adapters.tasks import catalogue
from lab.core.tasks import TaskMeta, next_in_lab


def _meta(task_id: str, order: int, *, after: tuple[str, ...] = (), next_task: str = "") -> TaskMeta:
    return TaskMeta(id=task_id, title=task_id.upper(), order=order, prerequisites=after, next_task=next_task)


def test_the_named_next_task_wins_when_the_lab_has_it() -> None:
    course = [_meta("a", 1, next_task="c"), _meta("b", 2, after=("a",)), _meta("c", 3)]
    found = next_in_lab(course[0], course)
    assert found is not None and found.id == "c"


def test_else_the_first_exercise_on_the_task_in_course_order() -> None:
    # Listed out of order: the course order decides, not the listing.
    course = [_meta("a", 1, next_task="z"), _meta("x2", 3, after=("a",)), _meta("x1", 2, after=("a",))]
    found = next_in_lab(course[0], course)
    assert found is not None and found.id == "x1"


def test_none_when_the_course_goes_on_outside_the_lab() -> None:
    course = [_meta("a", 1, next_task="z"), _meta("b", 2, after=("other",))]
    assert next_in_lab(course[0], course) is None


def test_a_task_is_never_its_own_next() -> None:
    looped = _meta("a", 1, after=("a",), next_task="a")
    assert next_in_lab(looped, [looped]) is None


def test_the_course_task_leads_through_its_exercises_and_out_of_the_lab() -> None:
    tasks = [entry.meta for entry in catalogue()]
    by_id = {t.id: t for t in tasks}
    chain = []
    current: TaskMeta | None = by_id["09b"]
    while current is not None and len(chain) < 10:
        chain.append(current.id)
        current = next_in_lab(current, tasks)
    assert chain == ["09b", "09b-multi", "09b-staging", "09b-guard"]
    assert by_id["09b-guard"].next_task == "10"  # the course's own next task, outside the lab
