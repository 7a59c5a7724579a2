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
