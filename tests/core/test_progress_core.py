"""lab.core.progress: parse the tracker table, change one row, keep every other byte."""

from __future__ import annotations

import pytest

from lab.core.progress import (
    DONE,
    TODO,
    parse_progress,
    row_status,
    set_status,
    status_is_done,
    task_matches,
)
from lab.errors import LabError
from tests.support.paths import ROOT

STARTER = (ROOT / "tasks/09b/starter/PROGRESS.md").read_text(encoding="utf-8")
DEFAULT_NOTE = "Image automation working, commits appearing in Git"
ROW_09_DONE = f"| 09-fluxcd-image-automation | ✅ | {DEFAULT_NOTE} |"


def _only_changed_line(old: str, new: str) -> list[tuple[str, str]]:
    a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
    assert len(a) == len(b)
    return [(x, y) for x, y in zip(a, b, strict=True) if x != y]


def test_parse_starter() -> None:
    table = parse_progress(STARTER)
    assert len(table.rows) == 10
    assert table.columns == {"task": 0, "status": 1, "notes": 2}
    row = table.rows[8]
    assert (row.task, row.status, row.note, row.line) == ("09-fluxcd-image-automation", TODO, "", 13)
    assert table.rows[0].note == "kind cluster running"


def test_set_status_changes_only_that_row() -> None:
    edit = set_status(STARTER, "09", DONE, DEFAULT_NOTE)
    assert edit.changed
    assert edit.old_row == "| 09-fluxcd-image-automation | ⬜ | |"
    assert edit.new_row == ROW_09_DONE
    assert _only_changed_line(STARTER, edit.text) == [(edit.old_row + "\n", edit.new_row + "\n")]
    assert row_status(edit.text, "09") == (DONE, DEFAULT_NOTE)


def test_set_status_is_idempotent() -> None:
    once = set_status(STARTER, "09", DONE, DEFAULT_NOTE)
    twice = set_status(once.text, "09", DONE, DEFAULT_NOTE)
    assert not twice.changed
    assert twice.text is once.text or twice.text == once.text


def test_note_none_keeps_existing_note() -> None:
    edit = set_status(STARTER, "01", TODO, None)
    assert edit.new_row == "| 01-local-cluster | ⬜ | kind cluster running |"


def test_crlf_and_no_final_newline_preserved() -> None:
    crlf = STARTER.replace("\n", "\r\n").rstrip("\r\n")
    edit = set_status(crlf, "09", DONE, DEFAULT_NOTE)
    assert edit.text == crlf.replace("| 09-fluxcd-image-automation | ⬜ | |", ROW_09_DONE)
    assert edit.text.count("\r\n") == crlf.count("\r\n")
    assert not edit.text.endswith("\n")


def test_padded_aligned_table_keeps_padding_style() -> None:
    text = (
        "| Task                       | Status | Notes                |\n"
        "|----------------------------|:------:|----------------------|\n"
        "| 08-secrets-management      | ✅     | sealed secrets       |\n"
        "| 09-fluxcd-image-automation | ⬜     |                      |\n"
    )
    edit = set_status(text, "09", DONE, "works")
    assert edit.new_row == "| 09-fluxcd-image-automation | ✅     | works                |"
    long = set_status(text, "09", DONE, "a note longer than the column is wide")
    assert long.new_row == "| 09-fluxcd-image-automation | ✅     | a note longer than the column is wide |"


def test_any_column_order_no_outer_pipes_and_extra_text() -> None:
    text = (
        "# Progress\r\n\r\nSome intro | with a pipe.\r\n\r\n"
        "Notes | **Status** | Task\r\n"
        "--- | --- | ---\r\n"
        "| | ⬜ | 09-fluxcd-image-automation |\r\n"
        "done | ✅ | 10-cleanup\r\n"
        "\r\nAfter the table.\r\n"
    )
    assert row_status(text, "09") == (TODO, "")
    edit = set_status(text, "09", DONE, "ok")
    assert edit.new_row == "| ok | ✅ | 09-fluxcd-image-automation |"
    assert edit.text == text.replace("| | ⬜ | 09-fluxcd-image-automation |", edit.new_row)
    assert row_status(text, "10") == (DONE, "done")


def test_row_missing_notes_cell_gets_one() -> None:
    text = "| Task | Status | Notes |\n|---|---|---|\n| 09-flux | ⬜ |\n"
    edit = set_status(text, "09", DONE, "n")
    assert edit.new_row == "| 09-flux | ✅ | n |"


def test_pipes_in_note_are_escaped_and_read_back() -> None:
    edit = set_status(STARTER, "09", DONE, "a | b")
    assert "a \\| b" in edit.new_row
    assert row_status(edit.text, "09") == (DONE, "a | b")


def test_task_matching() -> None:
    assert task_matches("09-fluxcd-image-automation", "09")
    assert task_matches("**09-fluxcd-image-automation**", "9")
    assert task_matches("Task 09: Flux", "09")
    assert not task_matches("090-other", "09")
    assert not task_matches("10-cleanup", "1")
    assert task_matches("09-fluxcd-image-automation", "09-fluxcd")


def test_errors_name_the_file_and_hint() -> None:
    with pytest.raises(LabError) as err:
        set_status("# nothing here\n", "09", DONE, None, file="repo/PROGRESS.md")
    assert str(err.value).startswith("repo/PROGRESS.md: no progress table")
    assert "hint:" in str(err.value)
    without = STARTER.replace("| 09-fluxcd-image-automation | ⬜ | |\n", "")
    with pytest.raises(LabError) as err:
        set_status(without, "09", DONE, None, file="P.md")
    assert "P.md:3: no row for task 09" in str(err.value)
    assert "add the row `| 09 | ⬜ | |`" in str(err.value)
    assert row_status(without, "09") is None
    assert row_status("no table", "09") is None


def test_ambiguous_rows_refused() -> None:
    text = "| Task | Status |\n|-|-|\n| 09a | ⬜ |\n| 09b | ⬜ |\n"
    with pytest.raises(LabError) as err:
        set_status(text, "09", DONE, None)
    assert "2 rows match" in str(err.value)
    assert set_status(text, "09b", DONE, None).new_row == "| 09b | ✅ |"


def test_status_is_done() -> None:
    assert status_is_done("✅")
    assert status_is_done("Done")
    assert not status_is_done("⬜")
    assert not status_is_done("")


def test_table_on_first_line_after_bom() -> None:
    text = "\ufeff| Task | Status | Notes |\n|---|---|---|\n| 09 | ⬜ | |\n"
    edit = set_status(text, "09", DONE, "n")
    assert edit.text == "\ufeff| Task | Status | Notes |\n|---|---|---|\n| 09 | ✅ | n |\n"


def test_an_exercise_row_is_added_without_touching_the_others() -> None:
    edit = set_status(STARTER, "09b-multi", DONE, "three images", add_missing=True)
    assert edit.changed and edit.new_row == "| 09b-multi | ✅ | three images |"
    assert edit.text.replace(edit.new_row + "\n", "") == STARTER
    again = set_status(edit.text, "09b-multi", DONE, "three images", add_missing=True)
    assert not again.changed
    # The course's row 09 and the exercise's row 09b-multi are told apart both ways.
    done_09 = set_status(edit.text, "09", DONE, "note")
    assert row_status(done_09.text, "09b-multi") == (DONE, "three images")
    assert row_status(done_09.text, "09") == (DONE, "note")
    with_09b = set_status(edit.text, "09b", TODO, None, add_missing=True)
    assert row_status(with_09b.text, "09b") == (TODO, "")
    assert row_status(with_09b.text, "09b-multi") == (DONE, "three images")


def test_a_row_is_added_to_a_table_without_a_final_newline() -> None:
    text = "| Task | Status | Notes |\r\n|---|---|---|\r\n| 01-intro | ✅ | |"
    edit = set_status(text, "extra", DONE, "n", add_missing=True)
    assert edit.text == text + "\r\n| extra | ✅ | n |"


def test_task_row_wins_over_exercise_rows() -> None:
    """`lab progress --done 09` in an exercise repository edits row 09, never an exercise's row."""
    text = "| Task | Status |\n|-|-|\n| 09-fluxcd-image-automation | ⬜ |\n| 09b-multi | ⬜ |\n| 09b-guard | ⬜ |\n"
    edit = set_status(text, "09", DONE, None)
    assert edit.new_row == "| 09-fluxcd-image-automation | ✅ |"
    multi = set_status(text, "09b-multi", DONE, None)
    assert multi.new_row == "| 09b-multi | ✅ |" and "| 09-fluxcd-image-automation | ⬜ |" in multi.text


def test_the_course_record_keeps_each_repository_under_one_task() -> None:
    from lab.core.progress_record import EMPTY, parse_record, render_record, with_repository

    record = with_repository(EMPTY, "09b-multi", "/r/multi", last=True)
    record = with_repository(record, "09b-multi", "/r/multi-2", last=False)
    assert record.repositories["09b-multi"] == ("/r/multi-2", "/r/multi") and record.last == "/r/multi"
    # Made again for another task (`lab sandbox reset --task`): it leaves the old task's list.
    record = with_repository(record, "09b-guard", "/r/multi", last=True)
    assert record.repositories == {"09b-multi": ("/r/multi-2",), "09b-guard": ("/r/multi",)}
    assert parse_record(render_record(record)) == record
    assert parse_record("{not json") == parse_record('{"repositories": [1]}') == EMPTY


@pytest.mark.parametrize("note", ["esc \x1b]0;PWN\x07\x1b[31m red", "bidi \u202eevil", "cr\ronly"])
def test_a_note_or_status_with_control_characters_is_refused(note: str) -> None:
    with pytest.raises(LabError, match=r"^PROGRESS.md: the note holds a control character \(\\"):
        set_status(STARTER, "09", DONE, note)
    with pytest.raises(LabError, match="the status holds a control character"):
        set_status(STARTER, "09", "\x1b[32m✅")
    assert "\t" not in set_status(STARTER, "09", DONE, "tabs\tand\nnewlines are spaces").text
