"""The task TOML parse cache: the data tomllib gives, reused only while the file is unchanged, and never
a cause of an error or a file in the task folder."""

from __future__ import annotations

import marshal
import os
from pathlib import Path
from typing import Any

import pytest

from lab.adapters import tasks, tomlcache
from lab.adapters.tasks import read_task_toml
from lab.errors import LabError


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files actually parsed (the cache's misses); files count as settled at once."""
    monkeypatch.setattr(tomlcache, "SETTLED_NS", 0)
    seen: list[str] = []
    real = tasks.load_toml

    def counting(text: str, where: str) -> dict[str, Any]:
        seen.append(where)
        return real(text, where)

    monkeypatch.setattr(tasks, "load_toml", counting)
    return seen


def _write(path: Path, text: str, mtime_ns: int = 1_600_000_000_000_000_000) -> Path:
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(mtime_ns, mtime_ns))
    return path


def test_an_unchanged_file_is_parsed_once(tmp_path: Path, parses: list[str]) -> None:
    folder = tmp_path / "task"
    folder.mkdir()
    path = _write(folder / "checks.toml", 'title = "T"\n[[check]]\nid = "a"\npoints = 2\n')
    first = read_task_toml(path)
    assert read_task_toml(path) == first == {"title": "T", "check": [{"id": "a", "points": 2}]}
    assert parses == [str(path)]
    assert sorted(p.name for p in folder.iterdir()) == ["checks.toml"]  # nothing next to the file
    assert tomlcache.cache_file().is_file()
    assert tomlcache.cache_file().is_relative_to(os.environ["XDG_CACHE_HOME"])


def test_each_read_gets_its_own_data(tmp_path: Path, parses: list[str]) -> None:
    path = _write(tmp_path / "task.toml", "a = [1]\n")
    read_task_toml(path)["a"].append(2)
    assert read_task_toml(path) == {"a": [1]}


@pytest.mark.parametrize("change", ["content", "mtime"])
def test_a_changed_file_is_parsed_again(tmp_path: Path, parses: list[str], change: str) -> None:
    path = _write(tmp_path / "task.toml", "a = 1\n")
    assert read_task_toml(path) == {"a": 1}
    if change == "content":  # same size
        _write(path, "a = 2\n", mtime_ns=1_700_000_000_000_000_000)
        expected = {"a": 2}
    else:
        os.utime(path, ns=(1, 1))
        expected = {"a": 1}
    assert read_task_toml(path) == expected
    assert parses == [str(path), str(path)]


def test_a_file_changed_just_now_is_not_stored(
    tmp_path: Path, parses: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tomlcache, "SETTLED_NS", 3_600 * 10**9)
    path = tmp_path / "task.toml"
    path.write_text("a = 1\n", encoding="utf-8")
    assert read_task_toml(path) == read_task_toml(path) == {"a": 1}
    assert parses == [str(path), str(path)]
    assert not tomlcache.cache_file().exists()


def test_dates_are_parsed_every_time(tmp_path: Path, parses: list[str]) -> None:
    path = _write(tmp_path / "task.toml", "when = 1979-05-27\n")
    assert str(read_task_toml(path)["when"]) == str(read_task_toml(path)["when"]) == "1979-05-27"
    assert len(parses) == 2


def test_errors_are_the_files_and_never_stored(tmp_path: Path, parses: list[str]) -> None:
    path = _write(tmp_path / "task.toml", "a = \n")
    for _ in range(2):
        with pytest.raises(LabError, match="invalid TOML") as err:
            read_task_toml(path)
        assert err.value.file == str(path)
    with pytest.raises(LabError, match="missing task file"):
        read_task_toml(tmp_path / "absent.toml")
    assert len(parses) == 2


@pytest.mark.parametrize("damage", ["garbage", "wrong shape", "not writable"])
def test_a_damaged_cache_is_no_error(tmp_path: Path, parses: list[str], damage: str) -> None:
    cache = tomlcache.cache_file()
    cache.parent.mkdir(parents=True)
    if damage == "garbage":
        cache.write_bytes(b"\x00not marshal")
    elif damage == "wrong shape":
        cache.write_bytes(marshal.dumps({str(tmp_path / "task.toml"): "nonsense"}))
    else:
        cache.mkdir()  # a directory where the file should be: neither read nor replaced
    path = _write(tmp_path / "task.toml", "a = 1\n")
    assert read_task_toml(path) == read_task_toml(path) == {"a": 1}
    assert len(parses) == (2 if damage == "not writable" else 1)


def test_a_task_is_read_again_only_when_one_of_its_files_changed(
    tmp_path: Path, parses: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """load_task read and parsed every text of the task at each call: a check run of an exercise asks
    for its tags several times, and each time quiz.toml, hints.toml and pitfalls.toml were parsed again."""
    from lab.core import tasktexts
    from lab.core.quiz import Quiz
    from tests.support.taskfiles import copy_task

    quizzes: list[str] = []
    real = tasktexts.parse_quiz

    def counting(text: str, where: str) -> Quiz:
        quizzes.append(where)
        return real(text, where)

    monkeypatch.setattr(tasktexts, "parse_quiz", counting)
    folder = copy_task(tmp_path, "t-kept")
    monkeypatch.setenv("LAB_TASKS_PATH", str(tmp_path))
    first = tasks.load_task("t-kept")
    assert tasks.load_task("t-kept") is first and len(quizzes) == 1
    quiz = folder / first.meta.quiz
    quiz.write_text(quiz.read_text(encoding="utf-8") + "# changed\n", encoding="utf-8")
    again = tasks.load_task("t-kept")
    assert again is not first and again == first and len(quizzes) == 2
    lesson = folder / first.meta.lesson
    lesson.write_text("# Another lesson\n", encoding="utf-8")
    assert tasks.load_task("t-kept").lesson == "# Another lesson\n" and len(quizzes) == 3
    # Changed within SETTLED_NS, a file is read at every call: rewritten in the same clock tick, it
    # would keep the times it is known by.
    monkeypatch.setattr(tomlcache, "SETTLED_NS", 10**18)
    quiz.write_text(quiz.read_text(encoding="utf-8") + "# changed again\n", encoding="utf-8")
    tasks.load_task("t-kept")
    tasks.load_task("t-kept")
    assert len(quizzes) == 5
