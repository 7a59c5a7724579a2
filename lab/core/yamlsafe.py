"""Loading a learner's YAML without trusting it.

Learner repositories may hold anything: alias bombs ("billion laughs"), self-referencing aliases,
absurd nesting, huge files, or plain typos. Everything here is bounded, and every failure is a one-line
LabError naming the file and line. Values are typed the way Kubernetes reads manifests
(sigs.k8s.io/yaml -> go-yaml v2, YAML 1.1 scalars: `yes` is a bool, `1.25` a float), because that is what
decides whether the API server accepts a field. Positions of every key and value are kept so checks can
point at `file:line`.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterator
from dataclasses import field
from typing import Any

from lab.core.record import dataclass
from lab.core.yamlerror import explain_yaml_error, flow_brackets
from lab.errors import LabError

Path_ = tuple[str | int, ...]

MAX_BYTES = 2 * 1024 * 1024
MAX_NODES = 100_000
MAX_DOCUMENTS = 500
MAX_DEPTH = 100
#: Values produced by repeating anchors; real manifests stay far below, bombs far above.
MAX_ALIAS_NODES = 10_000


class ReaderLimitError(LabError):
    """A limit of the lab's own YAML reader (documents, values, bytes), not a YAML error: Flux's reader
    has none of these, so what the lab cannot read here says nothing about what Flux does with it."""


@dataclass(frozen=True)
class Pos:
    """1-based lines, 0-based columns (characters), end exclusive, as the YAML parser reports them."""

    line: int
    column: int
    end_line: int
    end_column: int


@dataclass
class Doc:
    """One YAML document of a file with the position of every key and value."""

    file: str
    index: int
    line: int
    data: Any
    value_pos: dict[Path_, Pos] = field(default_factory=dict, repr=False)
    key_pos: dict[Path_, Pos] = field(default_factory=dict, repr=False)
    styles: dict[Path_, str] = field(default_factory=dict, repr=False)

    @property
    def start_line(self) -> int:
        """The first line of the document's content (1-based)."""
        return self.line

    def line_of(self, path: str | Path_) -> int:
        """Line of the deepest existing prefix of `path` ("spec.policy.semver.range" or a tuple).

        A key's own line is preferred (that is where a learner looks); missing fields report the line
        of their nearest existing parent, and the document's first line as a last resort.
        """
        parts = split_path(path) if isinstance(path, str) else path
        for n in range(len(parts), 0, -1):
            prefix = parts[:n]
            if prefix in self.key_pos:
                return self.key_pos[prefix].line
            if prefix in self.value_pos:
                return self.value_pos[prefix].line
        return self.line

    def get(self, path: str | Path_, default: Any = None) -> Any:
        """The value at `path`, or `default` if any step is missing or of the wrong type."""
        parts = split_path(path) if isinstance(path, str) else path
        cur: Any = self.data
        for part in parts:
            cur = _step(cur, part)
            if cur is _MISSING:
                return default
        return cur

    def style_of(self, path: str | Path_) -> str:
        """The scalar's style: '' plain, '"', "'", '|' or '>' (empty for missing or non-scalars)."""
        parts = split_path(path) if isinstance(path, str) else path
        return self.styles.get(parts, "")


_MISSING = object()


def _step(cur: Any, part: str | int) -> Any:
    if isinstance(cur, list) and isinstance(part, int):
        return cur[part] if 0 <= part < len(cur) else _MISSING
    if isinstance(cur, dict) and isinstance(part, str):
        return cur.get(part, _MISSING)
    return _MISSING


def split_path(path: str) -> Path_:
    """'spec.containers.0.image' -> ('spec', 'containers', 0, 'image')."""
    out: list[str | int] = []
    for part in path.split(".") if path else []:
        out.append(int(part) if part.isdigit() else part)
    return tuple(out)


def join_path(path: Path_) -> str:
    return ".".join(str(p) for p in path)


# --- scalars, as go-yaml v2 resolves plain scalars -------------------------------------------------

_BOOL_TRUE = {"y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"}
_BOOL_FALSE = {"n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"}
_NULL = {"", "~", "null", "Null", "NULL"}
_SPECIAL_FLOAT = {
    ".nan": math.nan,
    ".NaN": math.nan,
    ".NAN": math.nan,
    ".inf": math.inf,
    ".Inf": math.inf,
    ".INF": math.inf,
    "+.inf": math.inf,
    "+.Inf": math.inf,
    "+.INF": math.inf,
    "-.inf": -math.inf,
    "-.Inf": -math.inf,
    "-.INF": -math.inf,
}
_FLOAT_RE = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
_INT_RE = re.compile(r"^[-+]?(0b[01]+|0o?[0-7]+|0x[0-9a-fA-F]+|[0-9]+)$")
_TIMESTAMP_RE = re.compile(
    r"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}"
    r"([Tt ][0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2}(\.[0-9]+)?(Z|[-+][0-9]{2}:[0-9]{2})?)?$"
)


def resolve_plain(text: str) -> Any:
    """The value go-yaml v2 gives an unquoted scalar: bool, None, int, float, or the string itself.

    Timestamps stay strings (Kubernetes converts them back to RFC 3339 text anyway).
    """
    if text in _BOOL_TRUE:
        return True
    if text in _BOOL_FALSE:
        return False
    if text in _NULL:
        return None
    if text in _SPECIAL_FLOAT:
        return _SPECIAL_FLOAT[text]
    if not text or text[0] not in "+-0123456789.":
        return text
    if _TIMESTAMP_RE.match(text):
        return text
    plain = text.replace("_", "")
    if _INT_RE.match(plain):
        sign = -1 if plain.startswith("-") else 1
        body = plain.lstrip("+-")
        try:
            if body.startswith("0b"):
                return sign * int(body[2:], 2)
            if body.startswith("0x"):
                return sign * int(body[2:], 16)
            if body.startswith("0o"):
                return sign * int(body[2:], 8)
            if len(body) > 1 and body.startswith("0"):
                return sign * int(body, 8)  # Go's ParseInt base 0: leading 0 means octal
            return sign * int(body)
        except ValueError:
            pass  # e.g. "08": not octal, but go-yaml then reads it as a float
    if _FLOAT_RE.match(plain):
        try:
            return float(plain)
        except ValueError:
            return text
    return text


def would_resolve_as_string(text: str) -> bool:
    """Whether `text` written unquoted stays a string for Kubernetes."""
    return isinstance(resolve_plain(text), str)


# --- loading -----------------------------------------------------------------------------------------


def _mark_pos(node: Any) -> Pos:
    start, end = node.start_mark, node.end_mark
    return Pos(start.line + 1, start.column, end.line + 1, end.column)


def _tag(node: Any) -> str:
    tag = node.tag
    value = getattr(tag, "value", tag)
    return str(value) if value is not None else ""


class _Builder:
    """Turns composed nodes into plain data with positions, counting every node it expands."""

    def __init__(self, file: str, max_nodes: int, max_depth: int, max_alias_nodes: int) -> None:
        self.file = file
        self.max_nodes = max_nodes
        self.max_depth = max_depth
        self.max_alias_nodes = max_alias_nodes
        self.count = 0
        self.alias_count = 0
        self.alias_level = 0
        self.active: set[int] = set()
        self.seen: set[int] = set()

    def _bomb(self, pos: Pos) -> LabError:
        return LabError(
            f"YAML aliases expand to more than {self.max_alias_nodes} values (an alias bomb?)",
            file=self.file,
            line=pos.line,
            hint="remove the repeated aliases (*name); manifests never need this many values",
        )

    def build(self, node: Any, doc: Doc, path: Path_, depth: int) -> Any:
        self.count += 1
        if self.alias_level:
            self.alias_count += 1
        pos = _mark_pos(node)
        if self.alias_count > self.max_alias_nodes:
            raise self._bomb(pos)
        if self.count > self.max_nodes:
            raise ReaderLimitError(
                f"YAML has more than {self.max_nodes} values",
                file=self.file,
                line=pos.line,
                hint="the lab reads manifests, not data dumps; split or shrink the file",
            )
        if depth > self.max_depth:
            raise LabError(
                f"YAML nested deeper than {self.max_depth} levels",
                file=self.file,
                line=pos.line,
                hint="flatten the document",
            )
        doc.value_pos.setdefault(path, pos)
        kind = type(node).__name__
        if kind == "ScalarNode":
            style = node.style or ""
            doc.styles.setdefault(path, style)
            tag = _tag(node)
            if style == "" and (tag == "" or tag.startswith("tag:yaml.org,2002:")):
                # ruamel resolves YAML 1.2; Kubernetes reads YAML 1.1 (`yes` is a bool), so re-resolve.
                return resolve_plain(node.value)
            return node.value
        if id(node) in self.active:
            raise LabError(
                "YAML alias refers to itself (a recursive anchor)",
                file=self.file,
                line=pos.line,
                hint="an alias (*name) cannot appear inside the anchor (&name) it refers to",
            )
        repeated = id(node) in self.seen
        self.alias_count += repeated
        if self.alias_count > self.max_alias_nodes:
            raise self._bomb(pos)
        self.seen.add(id(node))
        self.active.add(id(node))
        self.alias_level += repeated
        try:
            if kind == "SequenceNode":
                return [self.build(item, doc, (*path, i), depth + 1) for i, item in enumerate(node.value)]
            if kind == "MappingNode":
                return self._mapping(node, doc, path, depth)
        finally:
            self.active.discard(id(node))
            self.alias_level -= repeated
        raise LabError(f"unsupported YAML node {kind}", file=self.file, line=pos.line)

    def _mapping(self, node: Any, doc: Doc, path: Path_, depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        merged: list[dict[str, Any]] = []
        for key_node, value_node in node.value:
            key_pos = _mark_pos(key_node)
            if type(key_node).__name__ != "ScalarNode":
                raise LabError(
                    "YAML mapping key is not a plain value",
                    file=self.file,
                    line=key_pos.line,
                    hint="Kubernetes keys are strings; remove the '?' complex key",
                )
            if key_node.value == "<<" and not key_node.style:
                value = self.build(value_node, doc, (*path, "<<"), depth + 1)
                items = value if isinstance(value, list) else [value]
                merged.extend(item for item in items if isinstance(item, dict))
                continue
            raw = key_node.value if key_node.style else resolve_plain(key_node.value)
            key = raw if isinstance(raw, str) else str(key_node.value)
            if key in out:
                first = doc.key_pos[(*path, key)].line
                raise LabError(
                    f"key '{key}' appears twice in one mapping (first on line {first})",
                    file=self.file,
                    line=key_pos.line,
                    field=join_path((*path, key)),
                    hint="kubectl rejects duplicate keys; keep one",
                )
            doc.key_pos[(*path, key)] = key_pos
            out[key] = self.build(value_node, doc, (*path, key), depth + 1)
        for extra in merged:
            for key, value in extra.items():
                out.setdefault(key, value)
        return out


def _yaml_error(err: Exception, file: str, text: str) -> LabError:
    found = explain_yaml_error(err, text)
    return LabError(f"invalid YAML: {found.text()}", file=file, line=found.line, hint=found.hint)


def _compose_libyaml(text: str) -> Iterator[Any] | None:
    """Composed documents via PyYAML's libyaml binding (about 20x faster than pure Python), if present."""
    from lab.core.pyyaml import prepare_import

    prepare_import()
    try:
        import yaml
    except ImportError:  # pragma: no cover - PyYAML comes with the kubernetes client
        return None
    if not getattr(yaml, "__with_libyaml__", False):  # pragma: no cover
        return None
    return iter(yaml.compose_all(text, Loader=_composer()))


@functools.cache
def _composer() -> Any:
    """`yaml.CSafeLoader` as far as composing goes, with `BaseResolver`, which resolves no plain scalar
    (`str` for all): `_Builder` types plain scalars itself, as Kubernetes does, whatever tag PyYAML's
    resolver gives them, so its patterns need not compile (lab.core.pyyaml) nor run per scalar."""
    from yaml._yaml import CParser
    from yaml.resolver import BaseResolver

    class Composer(CParser, BaseResolver):
        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            BaseResolver.__init__(self)

    return Composer


def _iter_composed(text: str, file: str) -> Iterator[Any]:
    """Composed nodes (aliases are shared node objects, so composing is linear even for bombs)."""
    fast = _compose_libyaml(text)
    try:
        if fast is not None:
            import yaml

            try:
                yield from fast
            except yaml.YAMLError as err:
                raise _yaml_error(err, file, text) from None
            return
        from ruamel.yaml import YAML
        from ruamel.yaml.error import YAMLError

        loader = YAML(typ="safe", pure=True)
        try:
            yield from loader.compose_all(text)
        except YAMLError as err:
            raise _yaml_error(err, file, text) from None
    except RecursionError:
        raise LabError("YAML nested too deeply to read", file=file, hint="flatten the document") from None


def _flow_depth_line(text: str, limit: int) -> int | None:
    """The line where flow collections (`[`/`{`) nest deeper than `limit`, else None.

    The YAML scanner looks ahead across every open flow collection before it yields a token, which is
    quadratic in their depth, so hostile nesting must be refused before parsing. Quotes and comments
    are skipped roughly (`flow_brackets`); a miscount only matters beyond `limit` levels.
    """
    depth = 0
    for index, ch in flow_brackets(text):
        if ch in "[{":
            depth += 1
            if depth > limit:
                return text.count("\n", 0, index) + 1
        else:
            depth = max(0, depth - 1)
    return None


_BLOCK_NESTING = r"^[ \t]*(?:[-?][ \t]+){%d,}"


def _nesting_line(text: str, limit: int) -> int | None:
    """The line where collections nest deeper than `limit`, else None.

    Checked before parsing: libyaml composes recursively in C (no Python recursion limit protects
    it) and the scanner looks ahead across open flow collections, so `[[[[...` or `- - - - ...`
    a million levels deep must never reach the parser. Nesting by indentation is bounded by the
    line length and stays harmless.
    """
    block = re.compile(_BLOCK_NESTING % (limit + 1), re.MULTILINE).search(text)
    if block is not None:
        return text.count("\n", 0, block.start()) + 1
    return _flow_depth_line(text, limit)


def load_all(
    text: str,
    file: str,
    *,
    max_bytes: int = MAX_BYTES,
    max_nodes: int = MAX_NODES,
    max_documents: int = MAX_DOCUMENTS,
    max_depth: int = MAX_DEPTH,
    max_alias_nodes: int = MAX_ALIAS_NODES,
) -> list[Doc]:
    """All non-empty documents of `text` (`file` is only used in messages). Raises LabError."""
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise ReaderLimitError(
            f"file is {size} bytes; the lab reads YAML files up to {max_bytes} bytes",
            file=file,
            hint="manifests are small; is this really a Kubernetes manifest?",
        )
    if text.startswith("\ufeff"):
        text = text[1:]
    deep = _nesting_line(text, max_depth)
    if deep is not None:
        raise LabError(
            f"YAML nested deeper than {max_depth} levels",
            file=file,
            line=deep,
            hint="flatten the document",
        )
    builder = _Builder(file, max_nodes, max_depth, max_alias_nodes)
    docs: list[Doc] = []
    for index, node in enumerate(_iter_composed(text, file)):
        if index >= max_documents:
            raise ReaderLimitError(
                f"more than {max_documents} YAML documents",
                file=file,
                hint="split the file",
            )
        if node is None:
            continue
        pos = _mark_pos(node)
        doc = Doc(file=file, index=index, line=pos.line, data=None)
        doc.data = builder.build(node, doc, (), 0)
        if doc.data is None:
            continue
        docs.append(doc)
    return docs


def load_one(text: str, file: str) -> Doc | None:
    """The single document of `text` (None when empty). Raises LabError for several documents."""
    docs = load_all(text, file)
    if len(docs) > 1:
        raise LabError(f"expected one YAML document, found {len(docs)}", file=file, line=docs[1].line)
    return docs[0] if docs else None
