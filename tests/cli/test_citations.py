"""Code, tests and data cite only documents the repository holds: a Markdown document cited with a
section number after its name must exist in the tree; reference notes kept outside the repository are
not there for a reader."""

from __future__ import annotations

import re
import subprocess

import pytest

from tests.support.paths import ROOT

pytestmark = pytest.mark.slow

CITED = re.compile(r"(?<![\w/.-])([A-Za-z0-9][\w-]*\.md),?\s+(?:sections?\s+)?F?\d")
SCANNED = ("lab", "tests", "bench", "checks", "tasks", ".github", ".ci", "docs", "Makefile", "pyproject.toml")


def _tracked() -> list[str]:
    out = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", *SCANNED],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [line for line in out.splitlines() if line]


def test_every_cited_markdown_file_exists() -> None:
    files = _tracked()
    present = {
        name.rsplit("/", 1)[-1]
        for name in [
            *files,
            *subprocess.run(
                ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=True,
            ).stdout.splitlines(),
        ]
    }
    missing: list[str] = []
    for rel in files:
        if (
            not rel.endswith((".py", ".toml", ".xsd", ".yml", ".yaml", ".json", ".md", ".tcss"))
            and "/" in rel
        ):
            continue
        if "fixtures/" in rel:  # third-party reference cases keep their own wording
            continue
        try:
            text = (ROOT / rel).read_text(encoding="utf-8")
        except (UnicodeDecodeError, IsADirectoryError, FileNotFoundError):
            continue
        for lineno, line in enumerate(text.splitlines(), 1):
            missing += [f"{rel}:{lineno}: {name}" for name in CITED.findall(line) if name not in present]
    assert missing == [], "\n".join(missing)
