from __future__ import annotations

import json

import pytest

from lab.core import jsontext


@pytest.mark.parametrize("text", ["[" * 100_000, b'{"a":' * 100_000], ids=["list", "object-bytes"])
def test_nesting_too_deep_is_a_decode_error(text: str | bytes) -> None:
    with pytest.raises(json.JSONDecodeError, match="nested too deeply"):
        jsontext.loads(text)


def test_documents_parse_as_json_loads_does() -> None:
    assert jsontext.loads('{"task": "09b", "n": [1, 2.5, null]}') == {"task": "09b", "n": [1, 2.5, None]}
    with pytest.raises(json.JSONDecodeError):
        jsontext.loads('{"task": ')


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ('{"task": "09b\x07"}', "Invalid control character at column 14"),
        ('{"task":\n  "09b",}', "Expecting property name enclosed in double quotes at line 2 column 9"),
    ],
)
def test_error_text_says_where_not_cut_off(text: str, said: str) -> None:
    with pytest.raises(json.JSONDecodeError) as info:
        jsontext.loads(text)
    assert jsontext.error_text(info.value) == said


def test_a_marker_with_a_control_character_is_named_with_its_column() -> None:
    from lab.core.setters.markers import parse_marker_text

    problem = parse_marker_text('# {"$imagepolicy": "flux-system:sh\x07op"}').problem
    assert problem is not None and problem.endswith("(Invalid control character at column 34)")
