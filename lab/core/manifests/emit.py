"""A small YAML writer that picks scalar styles the way go-yaml v2 does.

`flux create ... --export` marshals through sigs.k8s.io/yaml, whose emitter is a fork of go-yaml v2.
To print byte-identical output we copy its decisions for the value types manifests use (strings,
bools, ints, nested mappings and sequences): `encoder.stringv` (plain unless the text would read back
as another type, literal block for multi-line text, else double quotes), `yaml_emitter_analyze_scalar`
and `select_scalar_style` (indicators force single quotes), the block-scalar hints, and the line
folding of long plain/quoted scalars at column 80.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import cmp_to_key
from typing import Any

from lab.core.yamlsafe import resolve_plain
from lab.core.yamlscalar import analyze_scalar, double_quoted, is_break

BEST_WIDTH = 80
BEST_INDENT = 2

_BASE60_FLOAT = re.compile(r"^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$")
_TIMESTAMP = re.compile(
    r"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}"
    r"(?:[Tt ][0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2}(?:\.[0-9]{1,9})?(?:Z|[-+][0-9]{2}:[0-9]{2})?)?$"
)


def can_use_plain(text: str) -> bool:
    """go-yaml v2 `stringv`: plain only if the text reads back as a string (and is no base-60 float)."""
    if not isinstance(resolve_plain(text), str) or text == "":
        return False
    if _TIMESTAMP.match(text):
        return False
    return not (_BASE60_FLOAT.match(text) and ":" in text)


def scalar_style(value: str, *, simple_key: bool = False) -> str:
    """'plain', 'single', 'double' or 'literal' for a string value in block context."""
    requested = "literal" if "\n" in value else ("plain" if can_use_plain(value) else "double")
    a = analyze_scalar(value, tabs_are_special=True)
    style = requested
    if simple_key and a.multiline:
        style = "double"
    if style == "plain":
        if not a.block_plain:
            style = "single"
        if not value and simple_key:
            style = "single"
    if style == "single" and not a.single_quoted:
        style = "double"
    if style == "literal" and (not a.block or simple_key):
        style = "double"
    return style


class _Out:
    def __init__(self) -> None:
        self.parts: list[str] = []
        self.column = 0

    def put(self, text: str) -> None:
        self.parts.append(text)
        self.column += len(text)

    def put_lines(self, text: str) -> None:
        """`text`, which may break lines."""
        self.parts.append(text)
        nl = text.rfind("\n")
        self.column = len(text) - nl - 1 if nl >= 0 else self.column + len(text)

    def newline(self) -> None:
        self.parts.append("\n")
        self.column = 0

    def indent_to(self, indent: int) -> None:
        self.newline()
        self.put(" " * indent)

    def text(self) -> str:
        return "".join(self.parts)


def _write_plain(out: _Out, value: str, indent: int) -> None:
    out.put(" ")
    _write_folding(out, value, indent, single_quoted=False)


def _write_single(out: _Out, value: str, indent: int) -> None:
    out.put(" '")
    _write_folding(out, value, indent, single_quoted=True)
    out.put("'")


def _write_folding(out: _Out, value: str, indent: int, *, single_quoted: bool) -> None:
    """A plain or single-quoted scalar's text, folded at a space past the width (go-yaml's two
    loops differ only in where a fold may go and in doubling `'`)."""
    spaces = False
    n = len(value)
    for i, ch in enumerate(value):
        if ch == " ":
            may_fold = 0 < i < n - 1 if single_quoted else i + 1 < n
            if not spaces and out.column > BEST_WIDTH and may_fold and value[i + 1] != " ":
                out.indent_to(indent)
            else:
                out.put(ch)
            spaces = True
        else:
            out.put("''" if single_quoted and ch == "'" else ch)
            spaces = False


def _write_double(out: _Out, value: str, indent: int) -> None:
    out.put(' "')
    out.put_lines(double_quoted(value, out.column, BEST_WIDTH, indent))
    out.put('"')


def _write_literal(out: _Out, value: str, indent: int, *, indent_blank_lines: bool) -> None:
    hints = ""
    if value[0] == " " or is_break(value[0]):
        hints += str(BEST_INDENT)
    if not is_break(value[-1]):
        hints += "-"
    elif len(value) == 1 or is_break(value[-2]):
        hints += "+"
    out.put(" |" + hints)
    lines = value.split("\n")
    # a trailing "\n" leaves one empty last element that is the final break, not a line
    body = lines[:-1] if value.endswith("\n") else lines
    for line in body:
        out.newline()
        if line or indent_blank_lines:
            out.put(" " * indent + line)
    if value.endswith("\n"):
        out.newline()


def yaml_value(text: str) -> str:
    """`text` written as a value the way a learner would type it: plain where go-yaml writes it plain
    (`1.25.x`), else single-quoted (`'>=1.25.0 <1.26.0'`)."""
    return text if scalar_style(text) == "plain" else "'" + text.replace("'", "''") + "'"


def _scalar_text(value: Any) -> tuple[str, bool]:
    """(text, is_string) for a scalar value."""
    if isinstance(value, bool):
        return ("true" if value else "false"), False
    if isinstance(value, int):
        return str(value), False
    if value is None:
        return "null", False
    return str(value), True


def _write_scalar(out: _Out, value: Any, indent: int, *, indent_blank_lines: bool) -> None:
    text, is_string = _scalar_text(value)
    if not is_string:
        out.put(" " + text)
        return
    style = scalar_style(text)
    if style == "plain":
        _write_plain(out, text, indent)
    elif style == "single":
        _write_single(out, text, indent)
    elif style == "double":
        _write_double(out, text, indent)
    else:
        _write_literal(out, text, indent, indent_blank_lines=indent_blank_lines)


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, Mapping | list | tuple) and len(value) == 0)


def _key_less(a: str, b: str) -> bool:
    """go-yaml v2 `keyList.Less`: letters after other characters, digit runs compared as numbers."""
    for i in range(min(len(a), len(b))):
        if a[i] == b[i]:
            continue
        al, bl = a[i].isalpha(), b[i].isalpha()
        if al and bl:
            return a[i] < b[i]
        if al or bl:
            return bl
        an = bn = 0
        if a[i] == "0" or b[i] == "0":
            j = i - 1
            while j >= 0 and a[j].isdigit():
                if a[j] != "0":
                    an = bn = 1
                    break
                j -= 1
        ai = i
        while ai < len(a) and a[ai].isdigit():
            an = an * 10 + int(a[ai])
            ai += 1
        bi = i
        while bi < len(b) and b[bi].isdigit():
            bn = bn * 10 + int(b[bi])
            bi += 1
        if an != bn:
            return an < bn
        if ai != bi:
            return ai < bi
        return a[i] < b[i]
    return len(a) < len(b)


def _key_cmp(a: str, b: str) -> int:
    if _key_less(a, b):
        return -1
    return 1 if _key_less(b, a) else 0


def sort_keys_like_go_yaml(keys: list[str]) -> list[str]:
    return sorted(keys, key=cmp_to_key(_key_cmp))


def _write_mapping(
    out: _Out, data: Mapping[str, Any], indent: int, *, sort_keys: bool, seed: bool, first_inline: bool
) -> None:
    keys = sort_keys_like_go_yaml(list(data)) if sort_keys else list(data)
    first = True
    for key in keys:
        value = data[key]
        if _is_empty(value):
            continue
        if not (first and first_inline):
            if out.column != 0:
                out.newline()
            out.put(" " * indent)
        first = False
        key_style = scalar_style(key, simple_key=True)
        if key_style == "plain":
            out.put(key)
        else:
            sub = _Out()
            (_write_single if key_style == "single" else _write_double)(sub, key, indent)
            out.put(sub.text()[1:])
        out.put(":")
        _write_value(out, value, indent, sort_keys=sort_keys, seed=seed)


def _write_value(out: _Out, value: Any, indent: int, *, sort_keys: bool, seed: bool) -> None:
    if isinstance(value, Mapping):
        out.newline()
        _write_mapping(out, value, indent + BEST_INDENT, sort_keys=sort_keys, seed=seed, first_inline=False)
    elif isinstance(value, list | tuple):
        # go-yaml v2 writes a sequence inside a mapping at the key's own column; the seed's style indents it
        seq_indent = indent + BEST_INDENT if seed else indent
        _write_sequence(out, value, seq_indent, sort_keys=sort_keys, seed=seed)
    else:
        _write_scalar(out, value, indent + BEST_INDENT, indent_blank_lines=seed)
        if out.column != 0:
            out.newline()


def _write_sequence(out: _Out, items: Sequence[Any], indent: int, *, sort_keys: bool, seed: bool) -> None:
    for item in items:
        if out.column != 0:
            out.newline()
        out.put(" " * indent + "-")
        if isinstance(item, Mapping) and item:
            out.put(" ")
            _write_mapping(out, item, indent + BEST_INDENT, sort_keys=sort_keys, seed=seed, first_inline=True)
        elif isinstance(item, list | tuple) and item:
            _write_sequence(out, item, indent + BEST_INDENT, sort_keys=sort_keys, seed=seed)
        else:
            _write_scalar(out, item, indent + BEST_INDENT, indent_blank_lines=seed)
    if out.column != 0:
        out.newline()


def dump(
    data: Mapping[str, Any], *, sort_keys: bool = True, explicit_start: bool = True, seed_style: bool = False
) -> str:
    """One YAML document. `sort_keys`/`explicit_start` give `flux create --export` output; `seed_style`
    keeps the caller's key order, indents sequences under their key and indents blank lines inside block
    scalars, as the course text's hand-written manifests do."""
    out = _Out()
    if explicit_start:
        out.put("---")
        out.newline()
    _write_mapping(out, data, 0, sort_keys=sort_keys, seed=seed_style, first_inline=False)
    if out.column != 0:
        out.newline()
    return out.text()
