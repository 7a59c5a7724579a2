"""Text from repositories, registries and rosters made safe to show on a terminal.

A file name, a tag, a commit subject or a registry's reason phrase can carry terminal escape
sequences (recolour, move the cursor, set the title, write OSC 8 links) or bidirectional overrides
that make `evil.yaml` read as `lmay.live`. Human-facing output shows such characters as visible
escapes (`\\x1b`, `\\u202e`) instead of passing them to the terminal. Newlines and tabs are kept; a
carriage return is kept only as part of CRLF (alone it rewrites the line).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# C0 and C1 controls but \t and \n, DEL, lone CR, bidi embeddings/overrides/isolates and marks,
# line and paragraph separators, BOM/zero-width no-break space, and surrogates (undecodable bytes).
_STEERING = "\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ufeff\ud800-\udfff"
_UNSAFE = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f{_STEERING}]|\r(?!\n)")
_UNSAFE_IN_LINE = re.compile(f"[\x00-\x1f{_STEERING}]")


def _visible(m: re.Match[str]) -> str:
    ch = m.group(0)
    code = ord(ch)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8 (surrogateescape)
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape_controls(text: str) -> str:
    """`text` with every character that could steer a terminal shown as an escape."""
    return _UNSAFE.sub(_visible, text)


def escape_line(text: str) -> str:
    """`escape_controls`, and newlines, tabs and carriage returns escaped too (`\\x0a`, `\\x09`,
    `\\x0d`): what must stay one line (a registry's tag in a list of tags)."""
    return _UNSAFE_IN_LINE.sub(_visible, text)


def _json_escape(m: re.Match[str]) -> str:
    return f"\\u{ord(m.group(0)):04x}"


def escape_json(text: str) -> str:
    """JSON text (as `json.dumps(..., ensure_ascii=False)` writes it) with every character that could
    steer a terminal written as a `\\uXXXX` escape: the same JSON value, safe to show, and unchanged
    by `escape_controls` (whose `\\x9b` would not be JSON)."""
    return _UNSAFE.sub(_json_escape, text)


def abbreviate(text: str, limit: int = 120) -> str:
    """`text` whole when at most `limit` characters, else its start and its end around `…`: a learner's
    path that long is still recognised, and the message it is quoted in keeps its reason."""
    if len(text) <= limit:
        return text
    head = (limit - 1) // 2
    return f"{text[:head]}…{text[len(text) - (limit - 1 - head) :]}"


def is_safe(text: str) -> bool:
    return _UNSAFE.search(text) is None


def _first(pattern: re.Pattern[str], text: str, start: int = 0) -> tuple[int, str] | None:
    """The 1-based line (counting \n) and the escape of the first match of `pattern`, or None."""
    found = pattern.search(text, start)
    if found is None:
        return None
    return text.count("\n", 0, found.start()) + 1, _visible(found)


def first_unsafe(text: str) -> tuple[int, str] | None:
    """The line and escape of the first character `escape_controls` would escape (a leading
    byte-order mark is allowed), or None: what an editor draws as nothing at all."""
    return _first(_UNSAFE, text, 1 if text.startswith("\ufeff") else 0)


# For text already laid out in terminal cells: every character above, and tab, newline and CR too, all
# of which take no cell, so taking them out moves nothing on the screen.
_ZERO_WIDTH_CONTROLS = re.compile(f"[\x00-\x1f{_STEERING}]")


def drop_controls(text: str) -> str:
    """`text` without any character that could steer a terminal (the last line of defence of a
    screen that was measured already: `escape_controls` would make it wider)."""
    return _ZERO_WIDTH_CONTROLS.sub("", text)


# What str.splitlines() (and so a text area) takes for a line break besides \n and \r\n: such a file
# cannot go through one unchanged.
_OTHER_BREAKS = re.compile("[\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]|\r(?!\n)")


def first_other_break(text: str) -> tuple[int, str] | None:
    """The line and escape of the first line break other than \n and \r\n, or None."""
    return _first(_OTHER_BREAKS, text)


__all__ = ["drop_controls", "escape_controls", "escape_json", "first_other_break", "first_unsafe", "is_safe"]


# Only error messages need them: compiled on first use (re's cache), not by every command's start-up.
_URL = r"(?i)\b[a-z][a-z0-9+.-]*://[^\s'\"<>]*"
_USERINFO = r"^([^:]+://)[^/@]+@"
_URL_END = ".,:;)]}"
"""Punctuation that ends the sentence a URL is quoted in, not the URL."""


def _redacted(m: re.Match[str]) -> str:
    url = m.group(0)
    cut = len(url.rstrip(_URL_END))
    url, after = url[:cut], url[cut:]
    url = re.sub(_USERINFO, r"\1***@", url)
    url, hash_, _fragment = url.partition("#")
    base, question, query = url.partition("?")
    if question:  # `?access_token=...`: the names stay, to say what was there
        base += "?" + "&".join(f"{p.partition('=')[0]}=***" if "=" in p else "***" for p in query.split("&"))
    return base + (f"{hash_}***" if hash_ else "") + after


def redact_url(text: str) -> str:
    """Credentials in URLs replaced by ***: user:token@ (https://user:token@host), every query value
    (`?access_token=***`, its name kept) and the fragment, where some hosts take a token too."""
    return re.sub(_URL, _redacted, text)


_FENCE = re.compile(r"^\s*(```|~~~)")


def indent_code_blocks(markdown: str, indent: str = "    ") -> str:
    """Markdown's fenced code blocks as a terminal shows commands: the fence lines (```bash) gone, the
    code indented and set off by a blank line on each side; each command line stays whole, to copy."""
    out: list[str] = []
    fence: str | None = None
    for line in markdown.splitlines():
        found = _FENCE.match(line)
        if fence is None and found:
            fence = found.group(1)
            if out and out[-1].strip():
                out.append("")
            continue
        if fence is not None and found and found.group(1) == fence and not line.strip().strip(fence):
            fence = None
            out.append("")
            continue
        if fence is not None:
            out.append(indent + line if line.strip() else "")
        elif line.strip() or (out and out[-1].strip()):
            out.append(line)
    return "\n".join(out).rstrip("\n") + ("\n" if markdown.endswith("\n") else "")


def closest(word: str, names: Iterable[str]) -> str | None:
    """The one of `names` that `word` is most likely a misspelling of (`rang`: `range`), or None."""
    import difflib

    found = difflib.get_close_matches(word, sorted(names), n=1, cutoff=0.6)
    return found[0] if found else None
