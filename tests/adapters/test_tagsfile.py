"""One tags-file format for `lab policy`, `lab simulate` and `lab check --tags-file`."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from lab.adapters.tagsfile import read_tags
from lab.checks.context import CheckContext
from lab.checks.registry import _from_file
from lab.core.manifests.models import ImageRepository
from lab.core.scan import parse_tag_list
from lab.errors import LabError
from lab.services.simulate import tags_from_file

TEXT = "# nginx, 2024-01-15\n\n1.25.3\n  1.25.2  \n#1.99.0\n1.24.0\n"


def test_comments_and_blank_lines_are_not_tags() -> None:
    assert parse_tag_list(TEXT) == ["1.25.3", "1.25.2", "1.24.0"]
    assert read_tags("-", io.StringIO(TEXT)) == ["1.25.3", "1.25.2", "1.24.0"]


def test_every_reader_agrees(tmp_path: Path) -> None:
    path = tmp_path / "tags.txt"
    path.write_text(TEXT)
    assert read_tags(path) == ["1.25.3", "1.25.2", "1.24.0"]
    assert tags_from_file(path)("library/nginx", ()) == ["1.25.3", "1.25.2", "1.24.0"]
    repo = ImageRepository("image.toolkit.fluxcd.io/v1", "nginx", "flux-system", image="library/nginx")
    got = _from_file(CheckContext(workspace=tmp_path, tags_file=path), repo)
    assert got.outcome is None and got.stored == ("1.25.3", "1.25.2", "1.24.0")


def test_unreadable_files_are_one_line_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"1.25.3\n\xff\n")
    with pytest.raises(LabError, match="not UTF-8"):
        read_tags(bad)
    with pytest.raises(LabError, match="not found"):
        read_tags(tmp_path / "missing.txt")
    repo = ImageRepository("image.toolkit.fluxcd.io/v1", "nginx", "flux-system", image="library/nginx")
    got = _from_file(CheckContext(workspace=tmp_path, tags_file=bad), repo)
    assert got.outcome is not None and "not UTF-8" in got.outcome.message
