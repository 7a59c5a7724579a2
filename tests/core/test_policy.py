"""Policies, filterTags, Go regexp syntax and Ready messages."""

from __future__ import annotations

import json
import math
import time

import pytest

from lab.core.policy import PolicySpec, ready_message, resolve, validate_policy
from lab.core.policy.numerical import parse_go_float
from lab.core.policy.regex import RegexSyntaxError, compile_go
from lab.core.scan import store_tags
from tests.support.paths import ROOT

DATA = ROOT / "tasks" / "09b" / "registry"


def semver(rng: str, pattern: str | None = None, extract: str | None = None) -> PolicySpec:
    return PolicySpec("semver", rng, pattern, extract)


# -- real data ------------------------------------------------------------------------------------


def nginx_tags() -> list[str]:
    return (DATA / "nginx-tags-2024-01-15.txt").read_text().split()


def test_nginx_snapshot_resolves_1_25_3() -> None:
    outcome = resolve(semver("1.25.x"), store_tags(nginx_tags()))
    assert outcome.tag == "1.25.3"
    assert outcome.considered == 560
    assert outcome.dropped["prerelease"] > 0  # 1.25.3-alpine and friends


def test_nginx_events_replay() -> None:
    events = json.loads((DATA / "nginx-tags-events.json").read_text())
    tags = nginx_tags()
    picks: list[tuple[str, str]] = []
    last = "1.25.3"
    for event in events:
        tags += event["tags"]
        tag = resolve(semver("1.25.x"), store_tags(tags)).tag
        assert tag is not None
        if tag != last:
            picks.append((event["date"][:10], tag))
            last = tag
    assert picks == [("2024-02-14", "1.25.4"), ("2024-04-17", "1.25.5")]
    stored = store_tags(tags)
    assert resolve(semver("1.29.x"), stored).tag == "1.29.8"
    assert resolve(semver("1.31.x"), stored).tag == "1.31.4"


# -- outcome details ------------------------------------------------------------------------------


def test_dropped_counts_say_why() -> None:
    stored = store_tags(["1.25.0", "1.25.1-alpine", "1.26.0", "1.25", "latest"])
    outcome = resolve(semver("1.25.x"), stored)
    assert outcome.tag == "1.25.0"
    assert dict(outcome.dropped) == {"not semver": 2, "prerelease": 1, "out of range": 1}


def test_filter_counts_and_collapse_to_byte_smaller_tag() -> None:
    stored = store_tags(["build-1-a", "build-1-b", "build-2-a", "other"])
    spec = PolicySpec("numerical", "asc", r"^build-(\d+)-", "$1")
    outcome = resolve(spec, stored)
    assert outcome.tag == "build-2-a"
    assert outcome.considered == 2
    assert dict(outcome.dropped) == {"filter": 1, "same extracted value": 1}
    # Two tags extracting "1": the one seen last in stored (descending) order wins the slot.
    only_one = resolve(PolicySpec("numerical", "asc", r"^build-(1)-", "$1"), stored)
    assert only_one.tag == "build-1-a"


def test_extract_without_pattern_matches_everything() -> None:
    spec = PolicySpec("alphabetical", "asc", None, "x$0")
    assert resolve(spec, ["a", "b"]).tag == "b"


def test_failure_is_not_stalled_and_invalid_is() -> None:
    assert resolve(semver("1.24.x"), ["1.25.0"]).stalled is False
    bad = resolve(semver("latest"), ["1.25.0"])
    assert (bad.reason, bad.stalled) == ("InvalidPolicy", True)


def test_invalid_range_wins_over_invalid_pattern() -> None:
    spec = semver("latest", "[=")
    assert validate_policy(spec) == 'invalid policy: improper constraint: "latest"'
    assert validate_policy(semver("1.x", "[=")) == (
        "failed to filter tags: invalid regular expression pattern '[=': "
        "error parsing regexp: missing closing ]: `[=`"
    )
    assert validate_policy(semver("1.x", "^v(\\d+)")) is None


def test_semver_tie_keeps_first_in_stored_order() -> None:
    stored = store_tags(["1.2.3", "v1.2.3"])
    assert resolve(semver(">=1.0.0"), stored).tag == "v1.2.3"


def test_alphabetical_orders_and_case() -> None:
    tags = ["a", "B", "9", "10"]
    assert resolve(PolicySpec("alphabetical", "asc"), tags).tag == "a"
    assert resolve(PolicySpec("alphabetical", "desc"), tags).tag == "10"
    assert resolve(PolicySpec("alphabetical", "Desc"), tags).tag == "10"


# -- numerical: Go strconv.ParseFloat ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [("1", 1.0), ("01", 1.0), ("1e3", 1000.0), ("+7", 7.0), ("1_000", 1000.0), ("-5", -5.0), (".5", 0.5),
     ("5.", 5.0), ("0x1p4", 16.0), ("0x_1.8p1", 3.0), ("Inf", math.inf), ("-infinity", -math.inf),
     ("1e-400", 0.0), ("1e1_0", 1e10)],
)  # fmt: skip
def test_parse_go_float_accepts(text: str, value: float) -> None:
    assert parse_go_float(text) == value


@pytest.mark.parametrize(
    "text",
    ["", "0x10", "v1", "1.2.3", "+nan", "infin", "1__0", "_1", "1_", "1e", "0x", "1e400", "0x1p2000", " 1",
     "1.0.0-rc.1", "١"],
)  # fmt: skip
def test_parse_go_float_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_go_float(text)


def test_nan_parses() -> None:
    assert math.isnan(parse_go_float("NaN"))


def test_numerical_reports_first_bad_tag_in_stored_order() -> None:
    outcome = resolve(PolicySpec("numerical", "asc"), store_tags(["1", "b", "latest"]))
    assert (outcome.reason, outcome.message) == ("Failure", "failed to parse invalid numeric value 'latest'")


# -- Go regexp syntax and Expand -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "error"),
    [
        ("[=", "missing closing ]: `[=`"),
        ("^test-(.*", "missing closing ): `^test-(.*`"),
        ("a)", "unexpected ): `a)`"),
        ("a**", "invalid nested repetition operator: `**`"),
        ("a*?+", "invalid nested repetition operator: `*?+`"),
        ("*a", "missing argument to repetition operator: `*`"),
        ("a|+", "missing argument to repetition operator: `+`"),
        ("a{1001}", "invalid repeat count: `{1001}`"),
        ("a{3,2}", "invalid repeat count: `{3,2}`"),
        ("(a{100}){11}", "invalid repeat count: `{11}`"),
        ("\\q", "invalid escape sequence: `\\q`"),
        ("\\1", "invalid escape sequence: `\\1`"),
        ("\\C", "invalid escape sequence: `\\C`"),
        ("a\\", "trailing backslash at end of expression: ``"),
        ("(?=x)", "invalid or unsupported Perl syntax: `(?=`"),
        ("(?<=x)", "invalid named capture: `(?<=x)`"),
        ("(?P<a-b>x)", "invalid named capture: `(?P<a-b>`"),
        ("[z-a]", "invalid character class range: `z-a`"),
        ("[[:word2:]]", "invalid character class range: `[:word2:]`"),
        ("\\p{Nope}", "invalid character class range: `\\p{Nope}`"),
    ],
)
def test_go_regexp_errors(pattern: str, error: str) -> None:
    with pytest.raises(RegexSyntaxError) as err:
        compile_go(pattern)
    assert str(err.value) == f"error parsing regexp: {error}"


@pytest.mark.parametrize(
    ("pattern", "text", "matched"),
    [
        ("^v\\d+$", "v12", "v12"),
        ("^v\\d+$", "v12\n", None),  # `$` is end of text in Go
        ("(?m)^b$", "a\nb", "b"),
        ("x{,3}", "x{,3}", "x{,3}"),  # not a repeat in Go
        ("a(?i)b|c", "C", "C"),  # the flag reaches across `|`
        ("\\s+", "\v", None),  # Go's \s has no \v
        ("[[:^digit:]]+", "12ab", "ab"),
        ("\\Qa.b\\E", "axb a.b", "a.b"),
        ("(?U)a+", "aaa", "a"),
        ("\\x{41}\\101", "AA", "AA"),
        ("(?P<n>a)(?<n>b)", "ab", "ab"),  # duplicate names compile in Go
        ("\\pL+", "héllo1", "héllo"),
        ("(?i)[^a-z]+", "ABC1", "1"),  # folding happens before negation
        ("(?i)\\P{Lu}", "aA", None),
        ("\\bx\\b", "éxé", "x"),  # Go's word boundary is ASCII-only
        ("(?i)é", "É", "É"),
        ("\\B", "", ""),  # Python's own \B never matches an empty string; Go's does
    ],
)
def test_go_regexp_semantics(pattern: str, text: str, matched: str | None) -> None:
    m = compile_go(pattern).search(text)
    assert (m.group(0) if m else None) == matched


@pytest.mark.parametrize(
    ("template", "result"),
    [
        ("$1.$2.$3", "1.2.3"),
        ("$1_$2.$3.0", "2.3.0"),  # `$1_` names a group that does not exist
        ("${1}_$2", "1_2"),
        ("$$1", "$1"),
        ("${1", "${1"),
        ("$", "$"),
        ("$0", "x-1-2-3"),
        ("$9|$major|${major}x|$majorx", "|1|1x|"),
    ],
)
def test_expand(template: str, result: str) -> None:
    rx = compile_go("^x-(?P<major>\\d+)-(\\d+)-(\\d+)$")
    m = rx.search("x-1-2-3")
    assert m is not None
    assert rx.expand(template, m) == result


# -- Ready message -----------------------------------------------------------------------------------


def test_ready_messages() -> None:
    assert ready_message("library/nginx", "1.25.3") == "Latest image tag for library/nginx resolved to 1.25.3"
    assert ready_message("foo/bar", "1.0.0", "sha256:12") == (
        "Latest image tag for foo/bar resolved to 1.0.0 with digest sha256:12"
    )
    assert ready_message("foo/bar", "1.1.0", previous="foo/bar:1.0.0") == (
        "Latest image tag for foo/bar resolved to 1.1.0 (previously foo/bar:1.0.0)"
    )
    assert ready_message("foo/bar", "1.1.0", previous="foo/bar:1.1.0") == (
        "Latest image tag for foo/bar resolved to 1.1.0"
    )


def test_order_is_upper_cased_rune_by_rune() -> None:
    assert validate_policy(PolicySpec("alphabetical", "ßasc")) == (
        "invalid policy: invalid order argument provided: 'ßASC', must be one of: ASC, DESC"
    )


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        ("^(a+)+$", "a" * 30000 + "!", None),  # exponential for a backtracking engine
        ("(a|aa)*b", "a" * 30000, None),
        (".*.*.*.*.*x", "y" * 30000, None),  # O(n^5) when backtracking
        ("^(a+)+$", "aaaa", (0, 4)),
        ("((x?)y?)*z", "xyz", (0, 3)),
    ],
)
def test_patterns_that_backtrack_badly_run_in_linear_time(
    pattern: str, text: str, expected: tuple[int, int] | None
) -> None:
    rx = compile_go(pattern)
    start = time.perf_counter()
    m = rx.search(text)
    assert (m.span() if m else None) == expected
    assert time.perf_counter() - start < 2.0


def test_empty_loop_iteration_keeps_last_capture_like_go() -> None:
    # Go: (x*)* over "xx" ends with group 1 = "xx"; Python's re would report the final empty pass.
    rx = compile_go("(x*)*")
    m = rx.search("xx")
    assert m is not None and m.span(1) == (0, 2)


def test_nesting_limits_are_gos() -> None:
    # Go's parse tree may be 1000 levels high: 999 groups around a literal compile, 1000 do not.
    assert compile_go("(" * 999 + "a" + ")" * 999).search("a") is not None
    with pytest.raises(RegexSyntaxError) as err:
        compile_go("(" * 1000 + "a" + ")" * 1000)
    assert str(err.value).startswith("error parsing regexp: expression nests too deeply: `((((")
    with pytest.raises(RegexSyntaxError, match="expression nests too deeply"):
        compile_go("(" * 20000 + "a" + ")" * 20000)
    # Non-capturing groups make no node in Go's tree: any depth compiles.
    assert compile_go("(?:" * 5000 + "a" + ")" * 5000).search("a") is not None
    big = compile_go("(a+){1,1000}")
    m = big.search("aaa")
    assert m is not None and m.span() == (0, 3)


def test_explain_gives_every_stored_tag_a_verdict() -> None:
    from lab.core.policy import explain

    stored = store_tags(["1.25.0", "1.25.3", "1.25.3-alpine", "1.26.0", "latest", "1.25"])
    outcome, verdicts = explain(semver("1.25.x"), stored)
    assert outcome.tag == "1.25.3"
    assert [(v.tag, v.verdict) for v in verdicts] == [
        ("latest", "not semver"),
        ("1.26.0", "out of range"),
        ("1.25.3-alpine", "prerelease"),
        ("1.25.3", "selected"),
        ("1.25.0", "candidate"),
        ("1.25", "not semver"),
    ]
    counts: dict[str, int] = {}
    for v in verdicts:
        counts[v.verdict] = counts.get(v.verdict, 0) + 1
    assert {k: counts[k] for k in outcome.dropped} == dict(outcome.dropped)


def test_explain_with_filter_and_numbers() -> None:
    from lab.core.policy import explain

    stored = store_tags(["build-1-a", "build-1-b", "build-2-a", "other"])
    outcome, verdicts = explain(PolicySpec("numerical", "asc", r"^build-(\d+)-", "$1"), stored)
    assert outcome.tag == "build-2-a"
    assert [(v.tag, v.verdict, v.value) for v in verdicts] == [
        ("other", "filter", "other"),
        ("build-2-a", "selected", "2"),
        ("build-1-b", "same extracted value", "1"),
        ("build-1-a", "candidate", "1"),
    ]
    failed, why = explain(PolicySpec("numerical", "asc"), store_tags(["1", "latest"]))
    assert failed.tag is None
    assert [v.verdict for v in why] == ["not a number", "candidate"]
    invalid, none = explain(semver("latest"), ["1.0.0"])
    assert (invalid.reason, none) == ("InvalidPolicy", [])


def test_passed_over_says_the_policy_selects_nothing_when_it_fails() -> None:
    """A numerical policy with a tag that is no number fails as a whole in Flux: the other tags did not
    lose to a selected tag (there is none), and the lines say Flux's error, not "the selected None"."""
    from lab.core.policy import passed_over

    lines = passed_over(PolicySpec("numerical", "asc"), ["10", "x", "9"], ["10", "9"])
    assert lines == ["the policy selects none of them: failed to parse invalid numeric value 'x'"], lines
    assert not any("None" in line for line in lines)
