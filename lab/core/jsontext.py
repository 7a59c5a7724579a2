"""JSON from files a learner or a student controls (quiz records, `.fluxlab/task.json`, marker comments,
template input), parsed so that every malformed document fails the same way.

The standard parser recurses once per nesting level: `[[[[...` a hundred thousand deep, well inside any
size limit, raises RecursionError, which callers written for `json.JSONDecodeError` do not catch (the
quiz record crashed `lab quiz` and `lab check`). Here it is a JSONDecodeError like any other.
"""

from __future__ import annotations

import json
from typing import Any


def loads(text: str | bytes, **kwargs: Any) -> Any:
    """`json.loads`; nesting too deep for the parser raises JSONDecodeError (a ValueError) too."""
    try:
        return json.loads(text, **kwargs)
    except RecursionError:
        doc = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
        raise json.JSONDecodeError("nested too deeply", doc, 0) from None


def error_text(err: json.JSONDecodeError) -> str:
    """The decoder's complaint with where it is: `Invalid control character at column 29`. Its `msg`
    alone reads cut off ("Invalid control character at"), and `str(err)` adds `(char N)`."""
    where = f"line {err.lineno} column {err.colno}" if err.lineno > 1 else f"column {err.colno}"
    return f"{err.msg.removesuffix(' at')} at {where}"
