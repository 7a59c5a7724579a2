"""Which task the lab offers after a finished one: the next in the course's order, which course.toml
lists; a task it does not list (a course author's) comes after the course's own."""

from __future__ import annotations

from lab.adapters.tasks import catalogue
from lab.core.tasks import TaskMeta, course_order, next_in_lab


def _meta(task_id: str, order: int, *, after: tuple[str, ...] = (), next_task: str = "") -> TaskMeta:
    return TaskMeta(id=task_id, title=task_id.upper(), order=order, prerequisites=after, next_task=next_task)


def test_the_listed_order_wins_over_order_and_next_task() -> None:
    a, b, c = _meta("a", 3, next_task="c"), _meta("b", 2), _meta("c", 1)
    ordered = course_order([c, b, a], ["a", "b", "c"])
    assert [t.id for t in ordered] == ["a", "b", "c"]
    assert next_in_lab(a, ordered) == b


def test_an_unlisted_task_comes_after_the_listed_ones_whatever_its_order() -> None:
    own, later, author = _meta("own", 90), _meta("own-2", 91), _meta("author", 1)
    ordered = course_order([author, later, own], ["own", "own-2"])
    assert [t.id for t in ordered] == ["own", "own-2", "author"]
    # Unlisted ones among themselves: by order, then id.
    assert [t.id for t in course_order([_meta("y", 2), _meta("x", 2), _meta("z", 1)], [])] == ["z", "x", "y"]


def test_none_at_the_end_of_the_course_and_for_a_task_not_in_it() -> None:
    course = [_meta("a", 1, next_task="z"), _meta("b", 2)]
    assert next_in_lab(course[1], course) is None
    assert next_in_lab(_meta("gone", 5), course) is None


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
