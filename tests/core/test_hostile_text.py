"""Control and bidi characters from a repository or a tags file never reach the terminal raw: every
`lab` subcommand writes through a stream that shows them as escapes (`\\x1b`, `\\u202e`)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from lab.core.text import escape_controls, is_safe
from tests.support.labrun import run_lab
from tests.support.paths import ROOT

STARTER = ROOT / "tasks" / "09b" / "starter"
EVIL = "\x1b]0;pwned\x07ev\x1b[2Jil\u202elmay.yaml"
RAW = ("\x1b", "\x07", "\u202e", "\x9b")


def assert_no_raw(*texts: str) -> None:
    for text in texts:
        for ch in RAW:
            assert ch not in text, repr(text[:400])


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("plain\ttext\n", "plain\ttext\n"),
        ("crlf\r\nok", "crlf\r\nok"),
        ("over\rwrite", "over\\x0dwrite"),
        ("\x1b[31mred", "\\x1b[31mred"),
        ("a\u202eb\u2066c\u200fd", "a\\u202eb\\u2066c\\u200fd"),
        ("csi\x9bz", "csi\\x9bz"),
        ("byte \udcff", "byte \\xff"),
        ("sep\u2028line", "sep\\u2028line"),
    ],
)
def test_escape_controls(text: str, shown: str) -> None:
    assert escape_controls(text) == shown
    assert is_safe(shown)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = tmp_path / "gitops-lab"
    shutil.copytree(STARTER, path)
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=path, check=True)
    marked = 'image: nginx:1.0 # {"$imagepolicy": "flux-system:nginx"}\n'
    (path / "apps" / EVIL).write_text(marked)
    return path


@pytest.mark.slow
def test_file_names_are_escaped_in_setters_mark_and_check(repo: Path, lab_env: dict[str, str]) -> None:
    setters = run_lab("setters", "apps", "--set", "flux-system:nginx=nginx:1.25.4", env=lab_env, cwd=repo)
    assert setters.returncode == 0, setters.stderr
    assert_no_raw(setters.stdout, setters.stderr)
    assert "\\x1b]0;pwned\\x07" in setters.stdout
    marked = run_lab("mark", f"apps/{EVIL}", "--policy", "flux-system:nginx", env=lab_env, cwd=repo)
    assert_no_raw(marked.stdout, marked.stderr)
    assert "\\u202e" in marked.stdout + marked.stderr
    for fmt in ("text", "json", "tap", "github", "junit"):
        checked = run_lab("check", "--offline", "--format", fmt, "--color", "always", env=lab_env, cwd=repo)
        assert checked.returncode in (0, 1), checked.stderr
        assert_no_raw(checked.stdout.replace("\x1b[", "<sgr>"), checked.stderr)


@pytest.mark.slow
def test_reports_written_with_output_or_as_json_are_escaped_too(repo: Path, lab_env: dict[str, str]) -> None:
    # `--output FILE` bypasses the terminal's escaping stream, and JSON must stay JSON: a C1 control
    # shown as `\x9b` on stdout made `lab check --format json` unparsable.
    name = "c1\x9bcsi\u202eevil.yaml"
    (repo / "apps" / EVIL).rename(repo / "apps" / name)
    out = repo.parent / "out"
    for fmt in ("text", "json", "tap", "github", "junit"):
        written = run_lab("check", "--offline", "--format", fmt, "--output", str(out), env=lab_env, cwd=repo)
        assert written.returncode in (0, 1), written.stderr
        assert_no_raw(out.read_text(encoding="utf-8"), written.stdout, written.stderr)
    shown = run_lab("check", "--offline", "--format", "json", env=lab_env, cwd=repo)
    files = [c["file"] for c in json.loads(shown.stdout)["checks"]]
    # `file` is written as every other field is: visible escapes, not JSON's \u009b (`jq -r` decodes it)
    visible = escape_controls(f"apps/{name}")
    assert visible in files and visible != f"apps/{name}", files
    commit = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "hostile"]
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    subprocess.run(commit, cwd=repo, check=True)
    graded = run_lab("grade", "--offline", "--format", "json", "--output", str(out), str(repo), env=lab_env)
    assert_no_raw(out.read_text(encoding="utf-8"), graded.stdout, graded.stderr)
    assert any(c["file"] == visible for c in json.loads(out.read_text())["repos"][0]["checks"])


@pytest.mark.slow
def test_tags_with_escapes_are_shown_escaped(tmp_path: Path, lab_env: dict[str, str]) -> None:
    tags = tmp_path / "tags.txt"
    tags.write_text("1.25.0\n1.25.1\x1b]0;x\x07\n1.25.2\u202e\n")
    result = run_lab(
        "policy", "--semver", ">=1.0.0", "--tags-file", str(tags), "--explain", env=lab_env, cwd=tmp_path
    )
    assert_no_raw(result.stdout, result.stderr)
    assert "\\x1b]0;x\\x07" in result.stdout + result.stderr


@pytest.mark.slow
def test_error_messages_are_escaped(tmp_path: Path, lab_env: dict[str, str]) -> None:
    missing = tmp_path / "no\x1b[2Jsuch\u202e.txt"
    result = run_lab("policy", "--semver", "1.x", "--tags-file", str(missing), env=lab_env, cwd=tmp_path)
    assert result.returncode == 1
    assert_no_raw(result.stderr)
    assert "\\x1b[2J" in result.stderr


def test_the_app_shows_repository_text_escaped() -> None:
    from lab.tui.diff import diff_content, yaml_content

    hostile = "image: nginx # \x1b]0;pwned\x07 \u202eevil\n"
    for content in (yaml_content(hostile), diff_content("+" + hostile)):
        assert_no_raw(content.plain)
        assert "\\x1b]0;pwned\\x07" in content.plain and "\\u202e" in content.plain


def test_first_unsafe_names_the_line_and_allows_a_leading_bom() -> None:
    from lab.core.text import first_unsafe

    assert first_unsafe("a\nb\x07\n") == (2, "\\x07")
    assert first_unsafe("\ufeffa: 1\n") is None
    assert first_unsafe("a: 1\r\nb: 2\r\n") is None
    assert first_unsafe("a\u202eb") == (1, "\\u202e")


def test_first_other_break_finds_what_a_text_area_would_split_at() -> None:
    from lab.core.text import first_other_break

    assert first_other_break("a: 1\r\nb: 2\n") is None
    assert first_other_break("a: 1\nb: x\x0by\n") == (2, "\\x0b")
    assert first_other_break("a: 'x\u2028y'\n") == (1, "\\u2028")
    assert first_other_break("a\rb") == (1, "\\x0d")


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("https://u:tok@h/x.git", "https://***@h/x.git"),
        ("https://127.0.0.1:9/x.git?access_token=SECRETQUERY", "https://127.0.0.1:9/x.git?access_token=***"),
        (
            "cannot clone https://h/x.git?a=1&token=S#frag: refused",
            "cannot clone https://h/x.git?a=***&token=***#***: refused",
        ),
        ("'https://u:p@h/x?S' and http://h/y#S2.", "'https://***@h/x?***' and http://h/y#***."),
        ("no URL? here#1 and /path?x=1", "no URL? here#1 and /path?x=1"),
    ],
)
def test_redact_url_hides_userinfo_query_strings_and_fragments(text: str, shown: str) -> None:
    """A roster row `https://host/x.git?access_token=SECRET` printed the token in every grade format."""
    from lab.core.text import redact_url

    assert redact_url(text) == shown


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["table", "csv", "json", "junit"])
def test_a_roster_token_in_a_query_string_is_not_printed(
    tmp_path: Path, lab_env: dict[str, str], fmt: str
) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text("student,repo\nt2,https://127.0.0.1:9/x.git?access_token=SECRETQUERY#SECRETFRAG\n")
    proc = run_lab(
        "grade", "--roster", str(roster), "--offline", "-f", fmt, env=lab_env, cwd=tmp_path, ok=False
    )
    assert proc.returncode == 1, proc.stderr
    assert "SECRET" not in proc.stdout + proc.stderr
    assert "https://127.0.0.1:9/x.git?access_token=***" in proc.stdout
