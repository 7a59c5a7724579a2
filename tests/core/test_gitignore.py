"""Which folders the exclude-file walk may skip: only those git certainly ignores."""

from __future__ import annotations

import pytest

from lab.core.gitignore import folder_patterns, ignores_folder


@pytest.mark.parametrize(
    ("text", "name", "ignored"),
    [
        ("node_modules/\n", "node_modules", True),
        ("# a comment\n*.egg-info\n", "lab.egg-info", True),
        ("/dist\n", "dist", True),
        ("build\n!build/keep\n", "build", False),  # a `!` line can bring a folder back: walk it
        ("apps/build\n", "build", False),  # a pattern with a `/` inside is not followed: walk it
        ("**/cache\n", "cache", False),
        ("\\#notes\n", "#notes", False),
        ("node_modules/\n", "apps", False),
        ("build\r\n", "build", True),  # git drops one \r before the \n
        # git splits on \n alone: each is one pattern naming no folder `build` (splitlines made two)
        ("x\x0cbuild\n", "build", False),
        ("x\x1cbuild\n", "build", False),
        ("x\u2028build\n", "build", False),
        ("x\rbuild\n", "build", False),
    ],
)
def test_a_folder_is_skipped_only_when_git_certainly_ignores_it(text: str, name: str, ignored: bool) -> None:
    assert ignores_folder(name, (folder_patterns(text),), ()) is ignored


def test_an_anchored_pattern_holds_beside_its_file_and_a_bare_one_below_it_too() -> None:
    above = (folder_patterns("/dist\ncache\n"),)
    assert not ignores_folder("dist", (), above)
    assert ignores_folder("cache", (), above)
    assert not ignores_folder("cache", (folder_patterns("!x\n"),), above)  # a deeper `!` line wins


def test_an_exclude_file_read_only_in_part_skips_no_folder() -> None:
    """A `!` line past what was read may bring any folder back."""
    assert ignores_folder("build", (folder_patterns("build\n"),), ())
    assert not ignores_folder("build", (folder_patterns("build\n", whole=False),), ())
    assert not ignores_folder("build", (folder_patterns("x\n"),), (folder_patterns("build\n", whole=False),))
