"""YAML syntax errors as a learner reads them: the parser's own problem, the line that helps, a fix.

One formatter (`lab.core.yamlerror`) serves every reader: the checks' loader (`yamlsafe.load_all`),
Flux's reader as the lab models it (`find_markers`, through the setters' parser) and the findings
built on it (`diagnose`).
"""

from __future__ import annotations

import pytest

from lab.core.diagnose import Inputs, diagnose
from lab.core.manifests.parse import find_automation
from lab.core.setters import find_markers
from lab.core.yamlerror import glued_hint, glued_key
from lab.core.yamlsafe import load_all
from lab.errors import LabError
from tests.support.taskfiles import DEPLOY, POLICY, REPO, solution_text, solved_files


def _tabbed_deployment() -> str:
    """The tester's edit: `sed -i '18s/^ *image:/\\t  image:/'` on the marked image line."""
    lines = solved_files()[DEPLOY].split("\n")
    assert lines[17].lstrip().startswith("image:")
    lines[17] = "\t  " + lines[17].lstrip()
    return "\n".join(lines)


def _load_error(text: str) -> LabError:
    with pytest.raises(LabError) as caught:
        load_all(text, "f.yaml")
    return caught.value


def test_a_tab_names_the_parsers_problem_on_its_own_line() -> None:
    err = _load_error(_tabbed_deployment())
    assert err.line == 18
    assert "found a tab character that violates indentation (line 18, column 1)" in err.message
    assert "<unicode string>" not in str(err) and "while scanning" not in err.message
    assert err.hint == "YAML indents with spaces, not tabs: replace the tab on line 18"


def test_a_tab_in_a_marked_file_says_why_flux_skips_it_and_the_fix() -> None:
    (marker,) = find_markers(_tabbed_deployment(), DEPLOY)
    why = marker.why_ignored or ""
    assert why.startswith("the file is not valid YAML, Flux skips it: found a tab character"), why
    assert "(line 18, column 1)" in why and "<unicode string>" not in why
    assert marker.fix == "YAML indents with spaces, not tabs: replace the tab on line 18"
    files = {**solved_files(), DEPLOY: _tabbed_deployment()}
    aset = find_automation({k: v for k, v in files.items() if k.endswith(".yaml")})
    (finding,) = [f for f in diagnose(Inputs(aset, {DEPLOY: files[DEPLOY]})) if f.id == "marker.file-skipped"]
    assert (finding.file, finding.line) == (DEPLOY, 18)
    assert finding.fix == "YAML indents with spaces, not tabs: replace the tab on line 18"


def test_a_marked_files_later_document_counts_lines_in_the_file() -> None:
    # Flux's reader parses each `---` document alone: its positions were the document's, not the file's.
    text = 'a: 1\n---\nb: 2\nc: [x # {"$imagepolicy": "flux-system:nginx"}\n'
    (marker,) = find_markers(text, "f.yaml")
    assert "the [ opened on line 4 is never closed" in (marker.why_ignored or ""), marker.why_ignored
    assert marker.fix is not None and "line 4" in marker.fix


def test_an_unclosed_bracket_points_at_the_line_it_opens_on() -> None:
    text = solution_text(POLICY).replace("range: 1.25.x", "range: [1.25.x")
    assert text.split("\n")[11].endswith("range: [1.25.x")
    err = _load_error(text)
    assert err.line == 12
    assert err.message.startswith(
        "invalid YAML: the [ opened on line 12 is never closed: did not find expected"
    )
    assert "(line 13, column 1)" in err.message
    assert err.hint is not None and err.hint.startswith("close it with ] on line 12")


@pytest.mark.parametrize("value", ["[", "[1.25.x,", "[1.25.x, [1.26.x],", "{"])
def test_an_unclosed_bracket_at_the_end_of_the_file_points_at_the_line_it_opens_on(value: str) -> None:
    # The parser misses a node where the text ends ("while parsing a flow node"): its marks are both
    # past the last line, and the `[` is on the last line, or before it.
    text = solution_text(POLICY).replace("range: 1.25.x", f"range: {value}")
    assert text.split("\n")[11].endswith(f"range: {value}") and text.endswith(f"{value}\n")
    opener = value[-1] if value[-1] in "[{" else value[0]
    if value.startswith("[1.25.x, ["):
        opener = "["  # the outer one: the inner is closed
    for broken in (text, text + "  # the end\n", text.rstrip("\n")):
        err = _load_error(broken)
        assert err.line == 12, (broken[-30:], err)
        assert err.message.startswith(f"invalid YAML: the {opener} opened on line 12 is never closed"), err
        assert err.hint is not None and err.hint.startswith(
            f"close it with {'}' if opener == '{' else ']'} on line 12"
        )
    # Flux's reader (ruamel, through the setters) says the same of a marked file.
    (marker,) = find_markers(text + '# {"$imagepolicy": "flux-system:nginx"}\n', "f.yaml")
    assert f"the {opener} opened on line 12 is never closed" in (marker.why_ignored or ""), marker.why_ignored


def test_a_quote_left_open_on_the_last_line_names_it() -> None:
    err = _load_error('a: 1\nb: "abc')
    assert (err.line, err.hint) == (2, 'close it with " on line 2'), err
    assert err.message.startswith("invalid YAML: the quote opened on line 2 is never closed")


@pytest.mark.parametrize(
    ("text", "line", "hint"),
    [
        ("a: 'abc\nb: 2\n", 1, "close it with ' on line 1"),
        ("a: {b: 1\nc: 2\n", 1, "close it with } on line 1"),
        ("a: {b: 1\nc: 2}\n", 2, "check indentation and quoting on that line"),  # closed: a comma is missing
    ],
)
def test_openers_that_are_never_closed(text: str, line: int, hint: str) -> None:
    err = _load_error(text)
    assert err.line == line and (err.hint or "").startswith(hint), (err.line, err.hint)


@pytest.mark.parametrize(
    ("rel", "old", "new", "line", "glued"),
    [
        (REPO, "  interval: 5m0s", "  interval:5m0s", 9, "interval:5m0s"),  # could not find expected ':'
        (REPO, "  image: library/nginx", "  image:library/nginx", 8, "image:library/nginx"),  # mapping values
        (POLICY, "  name: nginx\n  namespace", "  name:nginx\n  namespace", 5, "name:nginx"),
        (DEPLOY, "  image: nginx", "  image:nginx", 18, "image:nginx:1.25.0"),
    ],
)
def test_a_key_without_its_space_is_named_where_it_is(
    rel: str, old: str, new: str, line: int, glued: str
) -> None:
    text = solved_files()[rel]
    assert old in text
    err = _load_error(text.replace(old, new, 1))
    assert err.line == line, err
    assert err.hint == f"`{glued}` is one string to YAML: put a space after '{glued.split(':')[0]}:'"


def test_a_value_with_a_colon_is_not_taken_for_a_glued_key() -> None:
    assert glued_key("range:1.25.x") == ("range", "1.25.x")
    assert glued_key("image:nginx:1.25") == ("image", "nginx:1.25")
    for value in ("https://ghcr.io/x", "a: b", "nginx", ":x", "range:"):
        assert glued_key(value) is None, value
    assert glued_hint("plain") is None


def test_a_problem_without_glue_keeps_the_general_hint() -> None:
    err = _load_error("images:\n  - nginx:1.25\n  foo: bar: baz\n")
    assert err.hint != "`nginx:1.25` is one string to YAML: put a space after 'nginx:'"


@pytest.mark.parametrize(
    ("value", "suggested"),
    [
        ('"^.*\\.sig$"', "write the value in '^.*\\.sig$'"),
        ('"it\'s \\d"', "write the value in single quotes"),
    ],
)
def test_a_backslash_in_double_quotes_points_to_single_quotes(value: str, suggested: str) -> None:
    """A regex in double quotes (`"^.*\\.sig$"`): YAML reads `\\.` as an escape it does not know."""
    text = solution_text(REPO).replace("  interval:", f"  exclusionList:\n    - {value}\n  interval:", 1)
    assert value in text
    err = _load_error(text)
    assert "found unknown escape character" in err.message
    assert suggested in (err.hint or ""), err.hint
    assert "double each backslash" in (err.hint or "")


@pytest.mark.parametrize(
    "template",
    [
        "{{range .Changed.Changes}}{{.OldValue}} -> {{.NewValue}} {{end}}",
        "{{ .AutomationObject }} updated",
    ],
)
def test_an_unquoted_template_says_a_brace_starts_a_flow_mapping(template: str) -> None:
    """`messageTemplate: {{range ...}}` unquoted: YAML reads the `{` as the start of a mapping."""
    text = f"spec:\n  git:\n    commit:\n      messageTemplate: {template}\n    push:\n      branch: main\n"
    err = _load_error(text)
    assert err.line == 4
    assert err.hint is not None and "flow mapping" in err.hint and "|" in err.hint, err.hint


def _conflicted_deployment() -> str:
    """A rebase stopped on the image line: Flux's commit on origin and the learner's edit of that line."""
    lines = solved_files()[DEPLOY].split("\n")
    image = lines[17]
    assert image.lstrip().startswith("image:")
    theirs = image.replace(":1.25.0", ":1.25.2")
    lines[17:18] = ["<<<<<<< HEAD", image, "=======", theirs, ">>>>>>> 48e5c27 (mine)"]
    return "\n".join(lines)


def test_conflict_markers_are_named_not_the_indentation() -> None:
    err = _load_error(_conflicted_deployment())
    assert err.line == 18
    assert err.message.startswith("invalid YAML: conflict markers (<<<<<<< ======= >>>>>>>)"), err.message
    assert err.hint is not None and err.hint.startswith("keep one image: line and delete the marker lines")
    # Flux's reader (the marker checks) says the same.
    marker = find_markers(_conflicted_deployment(), DEPLOY)[0]
    assert "conflict markers (<<<<<<< ======= >>>>>>>)" in (marker.why_ignored or ""), marker.why_ignored
    assert marker.fix == err.hint
