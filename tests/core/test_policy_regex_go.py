"""Go's regexp answers, derived from Go's own tests (regexp/find_test.go findTests, regexp/syntax
parse_test.go invalidRegexps, Go's size limits) and RE2's search cases, through the lab's
parser + RE2. Offsets are characters (Go's byte offsets converted for the non-ASCII rows).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lab.core.policy.regex import RegexSyntaxError, compile_go
from tests.support.labrun import run_lab

# (pattern, text, spans of the first match: group 0 then each group; None: no match)
GO_FIND = [
    ("", "", [0, 0]),
    ("^abcdefg", "abcdefg", [0, 7]),
    ("a+", "baaab", [1, 4]),
    ("abcd..", "abcdef", [0, 6]),
    ("x", "y", None),
    (".*", "abcdef", [0, 6]),
    ("^", "abcde", [0, 0]),
    ("$", "abcde", [5, 5]),
    ("^abcd$", "abcde", None),
    ("a*", "baaab", [0, 0]),
    ("[^a-z]+", "ab1234cd", [2, 6]),
    ("[a\\-\\]z]+", "az]-bcz", [0, 4]),
    ("[^\\n]+", "abcd\n", [0, 4]),
    ("[日本語]+", "日本語日本語", [0, 6]),
    ("日本語+", "日本語語語語", [0, 6]),
    ("()", "", [0, 0, 0, 0]),
    ("(.)(.)", "日a", [0, 2, 0, 1, 1, 2]),
    ("(.*)", "abcd", [0, 4, 0, 4]),
    ("(..)(..)", "abcd", [0, 4, 0, 2, 2, 4]),
    ("(([^xyz]*)(d))", "abcd", [0, 4, 0, 4, 0, 3, 3, 4]),
    ("((a|b|c)*(d))", "abcd", [0, 4, 0, 4, 2, 3, 3, 4]),
    ("(((a|b|c)*)(d))", "abcd", [0, 4, 0, 4, 0, 3, 2, 3, 3, 4]),
    ("\\a\\f\\n\\r\\t\\v", "\a\f\n\r\t\v", [0, 6]),
    ("[\\a\\f\\n\\r\\t\\v]+", "\a\f\n\r\t\v", [0, 6]),
    ("a*(|(b))c*", "abcd", [0, 1, 1, 1, -1, -1]),
    ("(.*).*", "ab", [0, 2, 0, 2]),
    ("[.]", ".", [0, 1]),
    ("/$", "/abc/", [4, 5]),
    ("/$", "/abc", None),
    ("ab$", "cab", [1, 3]),
    ("axxb$", "axxcb", None),
    ("da(.)a$", "daXY data", [5, 9, 7, 8]),
    ("zx+", "zzx", [1, 3]),
    ("(aa)*$", "a", [1, 1, -1, -1]),
    ("(?:.|(?:.a))", "", None),
    ("(?:A(?:A|a))", "Aa", [0, 2]),
    ("(?:A|(?:A|a))", "a", [0, 1]),
    ("(a){0}", "", [0, 0, -1, -1]),
    ("(?-s)(?:(?:^).)", "\n", None),
    ("(?s)(?:(?:^).)", "\n", [0, 1]),
    ("(?:(?:^).)", "\n", None),
    ("\\b", "x", [0, 0]),
    ("\\b", "xx yy", [0, 0]),
    ("\\B", "x", None),
    ("\\B", "xx", [1, 1]),
    ("\\B", "x y", None),
    ("(|a)*", "aa", [0, 0, 0, 0]),
    ("[a-c]*", "\u65e5", [0, 0]),
    ("[^\u65e5]", "abc\u65e5def", [0, 1]),
    ("[^\\S\\s]", "abcd", None),
    ("[^\\S[:space:]]", "abcd", None),
    ("[^\\D\\d]", "abcd", None),
    ("[^\\D[:digit:]]", "abcd", None),
    ("(?i)\\W", "x", None),
    ("(?i)\\W", "k", None),
    ("(?i)\\W", "s", None),
    (
        "\\!\\\"\\#\\$\\%\\&\\'\\(\\)\\*\\+\\,\\-\\.\\/\\:\\;\\<\\=\\>\\?\\@\\[\\\\\\]\\^\\_\\{\\|\\}\\~",
        "!\"#$%&'()*+,-./:;<=>?@[\\]^_{|}~",
        [0, 31],
    ),
    ("\\`", "`", [0, 1]),
    ("\ufffd", "hello\ufffdworld", [5, 6]),
    # Unicode scripts and categories, as Go 1.22 accepts them (RE2 knows the same names).
    ("\\p{Greek}+", "abc αβγ!", [4, 7]),
    ("\\P{Greek}+", "αβγabc", [3, 6]),
    ("\\p{^Greek}+", "αβγabc", [3, 6]),
    ("[\\p{Greek}\\d]+", "x1α2", [1, 4]),
    ("[^\\p{Greek}x]+", "xαyz", [2, 4]),
    ("\\P{Braille}", "\u2800a", [1, 2]),
    ("\\p{Han}+", "tag-日本", [4, 6]),
    ("\\pN+", "v١٢3", [1, 4]),
    ("(?i)\\p{Lu}", "a", [0, 1]),
    ("(?i)k", "\u212a", [0, 1]),  # Kelvin sign folds to k (Go's simple folding)
    ("(?i)ſ", "S", [0, 1]),
]


def _spans(pattern: str, text: str) -> list[int] | None:
    rx = compile_go(pattern)
    m = rx.search(text)
    if m is None:
        return None
    return [x for i in range(len(rx.group_names)) for x in m.span(i)]


@pytest.mark.parametrize(("pattern", "text", "spans"), GO_FIND)
def test_go_find(pattern: str, text: str, spans: list[int] | None) -> None:
    assert _spans(pattern, text) == spans
    assert compile_go(pattern).matches(text) is (spans is not None)


# Go's invalidRegexps (those expressible as Python text), each with Go's error.
GO_INVALID = [
    ("(", "missing closing ): `(`"),
    (")", "unexpected ): `)`"),
    ("(a", "missing closing ): `(a`"),
    ("(a|b|", "missing closing ): `(a|b|`"),
    ("a|b|)", "unexpected ): `a|b|)`"),
    ("[a-z", "missing closing ]: `[a-z`"),
    ("([a-z)", "missing closing ]: `[a-z)`"),
    ("x{1001}", "invalid repeat count: `{1001}`"),
    ("x{9876543210}", "invalid repeat count: `{9876543210}`"),
    ("x{2,1}", "invalid repeat count: `{2,1}`"),
    ("x{1,9876543210}", "invalid repeat count: `{1,9876543210}`"),
    ("(?P<name>a", "missing closing ): `(?P<name>a`"),
    ("(?P<name>", "missing closing ): `(?P<name>`"),
    ("(?P<name", "invalid named capture: `(?P<name`"),
    ("(?P<x y>a)", "invalid named capture: `(?P<x y>`"),
    ("(?P<>a)", "invalid named capture: `(?P<>`"),
    ("(?<x y>a)", "invalid named capture: `(?<x y>`"),
    ("[a-Z]", "invalid character class range: `a-Z`"),
    ("(?i)[a-Z]", "invalid character class range: `a-Z`"),
    ("\\Q\\E*", "missing argument to repetition operator: `*`"),
    ("a{100000}", "invalid repeat count: `{100000}`"),
    ("((((((((((x{2}){2}){2}){2}){2}){2}){2}){2}){2}){2})", "invalid repeat count: `{2}`"),
    ("\\C", "invalid escape sequence: `\\C`"),
    ("\\p{Klingon}", "invalid character class range: `\\p{Klingon}`"),
]


@pytest.mark.parametrize(("pattern", "error"), GO_INVALID)
def test_go_invalid(pattern: str, error: str) -> None:
    with pytest.raises(RegexSyntaxError) as err:
        compile_go(pattern)
    assert str(err.value) == f"error parsing regexp: {error}"


# Go's size and depth limits (parse_test.go "too deep", "too long", "too many runes").
GO_LIMITS = [
    ("(" * 1000 + ")" * 1000, "expression nests too deeply"),
    ("(?:" * 1000 + ")*" * 1000, "expression nests too deeply"),
    ("(" + "(xx?)" * 1000 + "){1000}", "expression too large"),
    ("(xx?){1000}" * 1000, "expression too large"),
    ("\\pL" * 27000, "expression too large"),
]


@pytest.mark.parametrize(("pattern", "code"), GO_LIMITS)
def test_go_limits(pattern: str, code: str) -> None:
    with pytest.raises(RegexSyntaxError) as err:
        compile_go(pattern)
    assert err.value.code == code
    assert err.value.expr == pattern  # Go names the whole pattern


def test_nesting_go_accepts() -> None:
    assert _spans("(" * 999 + "a" + ")" * 999, "a") == [0, 1] * 1000
    assert _spans("(?:" * 999 + "a" + ")*" * 999, "aa") == [0, 2]


# Hostile patterns, valid or not: each is accepted or rejected, and searched, in well under a second
# and the whole run stays under 100 MB. Run in a fresh interpreter so its peak memory is its own.
HOSTILE = [
    *(p for p, _ in GO_LIMITS),
    "(" * 20000 + "a" + ")" * 20000,
    "(?:" * 20000 + "a" + ")" * 20000,
    "[" * 100000,
    "\\pL" * 1000,
    "(?i)\\pL" * 200,
    "\\p{Common}" * 2000,
    "(?:x{1000})" * 400,
    "(?:(?:xx?){1000})" * 3,
    "(?:a{1000}){1000}",
    "^(a+)+$",
    "(x+x+)+y",
    ".*" * 2000 + "x",
    "a|" * 30000 + "b",
    "\\Q" + "x" * 200000,
    "(?P<n>a)" * 5000,
    "(?P<n>a)" * 256,
    "(a*)*(b|a)*" * 100,
]

_PROBE = """
import json, sys, time
from lab.core.policy.regex import RegexSyntaxError, compile_go
worst = 0.0
for pattern in json.load(sys.stdin):
    start = time.perf_counter()
    try:
        rx = compile_go(pattern)
        rx.search("a" * 2000 + "!")
        rx.matches("x" * 2000)
    except RegexSyntaxError:
        pass
    worst = max(worst, time.perf_counter() - start)
# VmHWM is this process image's own peak; ru_maxrss would carry over the forking parent's peak.
peak_kb = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:"))
print(json.dumps({"worst": worst, "rss_mb": peak_kb / 1024}))
"""


@pytest.mark.slow
def test_hostile_patterns_are_bounded_in_time_and_memory() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE], input=json.dumps(HOSTILE), capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""  # RE2 must not log to the terminal
    got = json.loads(proc.stdout)
    # Well under a second on an idle machine; 2 s leaves room for a loaded CI box.
    assert got["worst"] < 2.0, got
    assert got["rss_mb"] < 100, got


@pytest.mark.slow
def test_grading_a_class_whose_patterns_hit_gos_size_limits(tmp_path: Path, lab_env: dict[str, str]) -> None:
    solved = tmp_path / "solved"
    assert run_lab("init", str(solved), env=lab_env).returncode == 0
    assert run_lab("solve", str(solved), env=lab_env).returncode == 0
    policy = Path("clusters/dev/image-automation/image-policy.yaml")
    base = (solved / policy).read_text()
    line = base.count("\n") + 2  # the pattern line appended below
    for k, (pattern, _) in enumerate(GO_LIMITS[2:]):
        repo = tmp_path / "class" / f"student{k}"
        shutil.copytree(solved, repo)
        (repo / policy).write_text(base + f"  filterTags:\n    pattern: {json.dumps(pattern)}\n")
        subprocess.run(["git", "commit", "-qam", "filter"], cwd=repo, check=True, env=lab_env)
        # Graded as committed: the copies share the solved repo's origin, which has no pattern.
        subprocess.run(["git", "remote", "remove", "origin"], cwd=repo, check=True, env=lab_env)
    start = time.monotonic()
    proc = run_lab("grade", "--offline", "--format", "json", str(tmp_path / "class"), env=lab_env)
    elapsed = time.monotonic() - start
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)["repos"]
    assert len(rows) == 3
    for row in rows:
        failing = next(c for c in row["checks"] if c["id"] == "image-policy.valid")
        assert failing["status"] == "fail"
        assert (failing["file"], failing["line"]) == (str(policy), line)
        assert "error parsing regexp: expression too large" in failing["message"]
    assert elapsed < 120  # seconds on a loaded 2-core box; a hang or an 18 s compile per repo fails


def test_batch_matching_agrees_with_one_search_per_text() -> None:
    # store_tags joins a scan's tags into one text when no part of a pattern can match a newline;
    # seeded random lists must give the same answer as one search per tag.
    import random

    rng = random.Random(13)
    patterns = [
        r"^.*\.sig$", r"^v?\d+\.\d+", r"\d$", r"^$", "", r"a|^b", r"\b1\b", r"(?m)^1", r"[^a]$", "x*",
        r"\.sig\z", r"\A1", r"(?s).", r"\s", r"[\s\S]$", r"\p{L}$", r"[^\n]+$", r"(?m)$", r"\B", r"\b",
        "é", r"^é$", r"\bé",
    ]  # fmt: skip
    texts = [
        "",
        "1.2.3",
        "a.sig",
        "b",
        "v1.2",
        "1",
        "xx",
        "a b",
        "sig",
        ".sig",
        "21.3",
        "é\ud800",
        "a\nb",
        " ",
        "é",
        "aé",
    ]
    for _ in range(150):
        sample = [rng.choice(texts) for _ in range(rng.randrange(0, 12))]
        for pattern in patterns:
            rx = compile_go(pattern)
            assert rx.match_each(sample) == [rx.matches(t) for t in sample], (pattern, sample)
    assert compile_go(r"^.*\.sig$").lines is not None
    assert compile_go(r"(?s)^.*\.sig$").lines is None
