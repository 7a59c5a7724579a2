"""Go's `strconv.Quote` and `strconv.QuoteRune`: how Go error messages quote what the learner wrote.

Flux's messages (`improper constraint: "1.x"`, `time: invalid duration "5 m"`, template errors) quote
the offending text with `%q`; the lab quotes it the same way everywhere, from this one port.
"""

from __future__ import annotations

import unicodedata

_SHORT = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v"}


def _printable(ch: str) -> bool:
    # Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space.
    if ch == " ":
        return True
    cat = unicodedata.category(ch)
    return not (cat.startswith("C") or cat.startswith("Z"))


def quote(s: str) -> str:
    """strconv.Quote. A surrogateescape'd byte (invalid UTF-8 read with errors="surrogateescape") is
    written `\\xNN`, as Go writes the invalid byte itself."""
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch in '"\\':
            out.append("\\" + ch)
        elif 0xDC80 <= o <= 0xDCFF:
            out.append(f"\\x{o - 0xDC00:02x}")
        elif _printable(ch):
            out.append(ch)
        elif ch in _SHORT:
            out.append(_SHORT[ch])
        elif o < 0x20 or o == 0x7F:
            out.append(f"\\x{o:02x}")
        elif o < 0x10000:
            out.append(f"\\u{o:04x}")
        else:
            out.append(f"\\U{o:08x}")
    out.append('"')
    return "".join(out)


def quote_rune(r: int) -> str:
    """strconv.QuoteRune."""
    if r == ord("'"):
        return "'\\''"
    if r == ord('"'):
        return "'\"'"
    return "'" + quote(chr(r))[1:-1] + "'"


__all__ = ["quote", "quote_rune"]
