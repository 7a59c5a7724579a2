"""The `$imagepolicy` grammar and `find_markers` explanations, checked against Flux's fixture 05."""

from __future__ import annotations

import pytest

from lab.core.setters import find_markers, unread_lines
from lab.core.setters.markers import parse_marker_text
from tests.support.paths import FLUX_CASES
from tests.support.taskfiles import own_line_marker

MARKERS_05 = (FLUX_CASES / "setters/05-ignored-markers/input/apps/markers.yaml").read_bytes()


@pytest.mark.parametrize(
    ("comment", "setter"),
    [
        ('# {"$imagepolicy": "flux-system:nginx"}', "flux-system:nginx"),
        ('#{"$imagepolicy":"flux-system:nginx:tag"}', "flux-system:nginx:tag"),
        ('## {"$imagepolicy": "flux-system:nginx:name"}', "flux-system:nginx:name"),
        ('# {"$imagepolicy": "flux-system:app", "why": "demo"}', "flux-system:app"),
        ('# {"$imagepolicy": "flux-system:app:digest"}', "flux-system:app:digest"),
    ],
)
def test_accepted_forms(comment: str, setter: str) -> None:
    syntax = parse_marker_text(comment)
    assert syntax.problem is None
    assert syntax.setter == setter


@pytest.mark.parametrize(
    ("comment", "wording"),
    [
        ('# {"$imagepolicy": "flux-system/nginx"}', "uses '/'"),
        ("# {'$imagepolicy': 'flux-system:nginx'}", "single quotes are not JSON"),
        ('# {"$imagepolicy": "flux-system:nginx"} keep me', "text after the JSON object"),
        ('# {"$imagepolicy": "flux-system:nginx", "n": 1}', "must be a string"),
        ('# {"$imagepolicy": "flux-system:nginx:Tag"}', "suffix ':Tag' must be lower case"),
        ('# {"imagepolicy": "flux-system:nginx"}', '"$imagepolicy"'),
        ('# {"$imagepolicy": "nginx"}', "no namespace"),
        ('# {"$imagepolicy": "flux-system:nginx:version"}', "unknown suffix"),
    ],
)
def test_rejected_forms_say_why(comment: str, wording: str) -> None:
    syntax = parse_marker_text(comment)
    assert syntax.setter is None
    assert syntax.problem is not None and wording in syntax.problem


def test_fixture_05_applies_exactly_where_flux_changed_values() -> None:
    markers = find_markers(
        MARKERS_05, "apps/markers.yaml", namespace="flux-system", policies={"flux-system:nginx"}
    )
    applied = sorted(m.line for m in markers if m.applies)
    # Flux changed exactly the ok-* keys (lines 7-9) of this file.
    assert applied == [7, 8, 9]
    by_line = {m.line: m for m in markers}
    assert "namespace 'apps'" in (by_line[10].why_ignored or "")
    assert "no ImagePolicy 'ngnix'" in (by_line[12].why_ignored or "")
    assert "above a mapping key" in (by_line[19].why_ignored or "")
    assert "block scalar" in (by_line[22].why_ignored or "")
    assert all(m.file == "apps/markers.yaml" for m in markers)
    assert by_line[7].value == "nginx:1.0.0" and by_line[7].column == 27


def test_find_markers_without_context_judges_grammar_and_place_only() -> None:
    markers = find_markers(MARKERS_05)
    assert {m.line for m in markers if m.applies} == {7, 8, 9, 10, 12}


def test_find_markers_on_unparsable_yaml_reports_it() -> None:
    (marker,) = find_markers('image: [x # {"$imagepolicy": "flux-system:nginx"}\n')
    assert not marker.applies and "not valid YAML" in (marker.why_ignored or "")


def test_head_marker_on_sequence_item_applies_and_multiline_head_does_not() -> None:
    text = (
        "args:\n"
        '  # {"$imagepolicy": "flux-system:app"}\n'
        "  - ghcr.io/org/app:1.0.0\n"
        "  # explain\n"
        '  # {"$imagepolicy": "flux-system:app"}\n'
        "  - ghcr.io/org/app:1.0.0\n"
        'key: # {"$imagepolicy": "flux-system:app"}\n'
        "  nested: 1\n"
    )
    by_line = {m.line: m for m in find_markers(text)}
    assert by_line[2].applies and by_line[2].value == "ghcr.io/org/app:1.0.0"
    assert not by_line[5].applies and "single comment line" in (by_line[5].why_ignored or "")
    assert not by_line[7].applies and "key whose value is not on that line" in (by_line[7].why_ignored or "")


def test_policy_manifests_and_prose_are_not_marker_candidates() -> None:
    text = (
        "kind: ImagePolicy\nspec:\n  imagePolicy: x # a comment\n"
        "  # The tag below is written by Flux (ImagePolicy shop-staging).\n"
        "  tag: 1.4.0 # $imagepolicy: flux-system:shop\n"
    )
    (only,) = find_markers(text)  # an attempt at a marker is still explained
    assert only.line == 5 and not only.applies


@pytest.mark.parametrize(
    ("comment", "attempt"),
    [
        ('# {"$imagepolicy": "flux-system:shop"}', True),
        ('# {"imagepolicy": "flux-system:shop"}', True),
        ("# {imagePolicy: flux-system:shop}", True),
        ("# $ImagePolicy flux-system:shop", True),
        ("# The tag below is written by Flux (ImagePolicy shop-staging).", False),
        ("# see the imagepolicy docs", False),
    ],
)
def test_what_counts_as_a_marker_attempt(comment: str, attempt: bool) -> None:
    from lab.core.setters.find import looks_like_marker

    assert looks_like_marker(comment) is attempt


_NGINX = '# {"$imagepolicy": "flux-system:nginx"}'


@pytest.mark.parametrize(
    ("text", "unread"),
    [
        (f"image: nginx:1.25.0 {_NGINX}\nkind: x\n", []),
        (f"  image: nginx:1.25.0 {_NGINX}\n  pull: Always\n# a comment is no loss\n\n", []),
        (f"  image: nginx:1.25.0 {_NGINX}\nkind: x\n", [(2, 2)]),
        ("  a: 1\n\n\nb: 2\nc: 3\n", [(4, 5)]),
        # A piece of its own after `---`: the lines are counted in the file.
        (f"kind: a\n---\n  image: nginx:1.25.0 {_NGINX}\nkind: x\nmore: y\n", [(4, 5)]),
        ("a: [unclosed\n", []),  # not read at all: Flux skips the file, nothing is cut
    ],
    ids=["flush", "indented-alike", "dedented-rest", "after-blank-lines", "second-piece", "unparsable"],
)
def test_unread_lines_are_what_kyamls_one_decode_per_piece_never_reaches(
    text: str, unread: list[tuple[int, int]]
) -> None:
    assert [(u.first, u.last) for u in unread_lines(text)] == unread


def test_a_document_ended_by_dots_is_cut_there_and_said_so() -> None:
    """`...` ends the document as well: nothing is indented, so the reason and the fix differ."""
    text = f"kind: D\nspec:\n  image: nginx:1.25.0 {_NGINX}\n...\nkind: S\nimage: x {_NGINX}\n"
    (cut,) = unread_lines(text)
    assert (cut.first, cut.last, cut.end_marker) == (5, 6, 4)
    assert cut.reason == "the document ends at the '...' on line 4" and "'---'" in cut.fix
    first, second = find_markers(text, "f.yaml")
    assert first.applies and not second.applies
    assert second.why_ignored is not None and "the '...' on line 4" in second.why_ignored


def test_a_marker_past_where_the_reader_stops_is_never_read() -> None:
    text = f"  image: nginx:1.25.0 {_NGINX}\nsidecar: busybox:1.36 {_NGINX}\n"
    first, second = find_markers(text, "values.yaml")
    assert first.applies and first.why_ignored is None
    assert not second.applies
    assert second.why_ignored is not None and second.why_ignored.startswith(
        "Flux's reader stops before line 2"
    )


@pytest.mark.parametrize(("where", "side"), [("before", "below"), ("after", "above")])
def test_a_marker_on_its_own_line_names_the_image_line_it_belongs_to(where: str, side: str) -> None:
    """The fix said 'the image: line below it' for a marker below the image line too."""
    text, image = own_line_marker(where)
    (marker,) = find_markers(text)
    assert not marker.applies
    assert (marker.why_ignored or "").endswith(
        f"move the comment to the end of the image: line, line {image} ({side} it)"
    ), marker.why_ignored


def _own_line_markers(containers: int) -> str:
    """A Deployment whose `containers` containers each carry their marker on a line of its own above
    `image:` (where Flux ignores it): every marker gets a fix naming its image line."""
    head = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n"
        "    spec:\n      containers:\n"
    )
    each = (
        "        - name: c{i}\n"
        '          # {{"$imagepolicy": "flux-system:nginx"}}\n'
        "          image: nginx:1.25.{i}\n"
    )
    return head + "".join(each.format(i=i) for i in range(containers))


def test_a_thousand_own_line_markers_cost_a_bounded_multiple_of_parsing_the_file() -> None:
    """Each marker's fix names its image line; finding that line re-parsed the whole file once per
    marker (1000 markers, 100 KB: 94 s)."""
    from bench.bench_setters import cpu_best, libyaml_floor

    text = _own_line_markers(1000)
    found: list[object] = []
    spent = cpu_best(lambda: found.append(find_markers(text)), runs=1)
    floor = libyaml_floor(text.encode())
    markers = found[0]
    assert isinstance(markers, list) and len(markers) == 1000
    assert markers[-1].why_ignored.endswith(f"line {text.count(chr(10))} (below it)")
    # ~17x measured (find_markers' own parse, then one load for the image lines); a load per marker
    # was ~20000x.
    assert spent < 60 * floor, (spent, floor)
