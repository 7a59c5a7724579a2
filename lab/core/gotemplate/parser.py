"""text/template's parser (parse.Tree), producing nodes whose String() forms match Go's for error messages."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import field

from lab.core.gotemplate.lexer import Item, T, lex
from lab.core.record import dataclass

MAX_STACK_DEPTH = 10000


class ParseError(Exception):
    """A parse failure, already worded like Go's (`template: NAME:LINE: ...`)."""


# --- nodes --------------------------------------------------------------------------------------------------


@dataclass(eq=False, repr=False)
class Node:
    """Any node of the tree; `pos` is its byte offset in the template (parse.Pos)."""

    pos: int

    def __str__(self) -> str:  # pragma: no cover - every node overrides
        return ""


@dataclass(eq=False, repr=False)
class TextNode(Node):
    """Plain text between actions (parse.TextNode)."""

    text: str = ""

    def __str__(self) -> str:
        return self.text


@dataclass(eq=False, repr=False)
class CommentNode(Node):
    """A `{{/* comment */}}` (parse.CommentNode)."""

    text: str = ""

    def __str__(self) -> str:
        return "{{" + self.text + "}}"


@dataclass(eq=False, repr=False)
class ListNode(Node):
    """A sequence of nodes (parse.ListNode)."""

    nodes: list[Node] = field(default_factory=list)

    def __str__(self) -> str:
        return "".join(str(n) for n in self.nodes)


@dataclass(eq=False, repr=False)
class VariableNode(Node):
    """A `$x` or `$x.Field` reference (parse.VariableNode)."""

    ident: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return ".".join(self.ident)


@dataclass(eq=False, repr=False)
class PipeNode(Node):
    """A pipeline with optional variable declarations (parse.PipeNode)."""

    line: int = 0
    is_assign: bool = False
    decl: list[VariableNode] = field(default_factory=list)
    cmds: list[CommandNode] = field(default_factory=list)

    def __str__(self) -> str:
        s = ""
        if self.decl:
            s = ", ".join(str(v) for v in self.decl) + (" = " if self.is_assign else " := ")
        return s + " | ".join(str(c) for c in self.cmds)


@dataclass(eq=False, repr=False)
class CommandNode(Node):
    """One command of a pipeline (parse.CommandNode)."""

    args: list[Node] = field(default_factory=list)

    def __str__(self) -> str:
        parts = []
        for a in self.args:
            parts.append(f"({a})" if isinstance(a, PipeNode) else str(a))
        return " ".join(parts)


@dataclass(eq=False, repr=False)
class ActionNode(Node):
    """A `{{pipeline}}` action (parse.ActionNode)."""

    line: int = 0
    pipe: PipeNode | None = None

    def __str__(self) -> str:
        return "{{" + str(self.pipe) + "}}"


@dataclass(eq=False, repr=False)
class IdentifierNode(Node):
    """A function name (parse.IdentifierNode)."""

    ident: str = ""

    def __str__(self) -> str:
        return self.ident


@dataclass(eq=False, repr=False)
class DotNode(Node):
    """The cursor, `.` (parse.DotNode)."""

    def __str__(self) -> str:
        return "."


@dataclass(eq=False, repr=False)
class NilNode(Node):
    """The untyped `nil` (parse.NilNode)."""

    def __str__(self) -> str:
        return "nil"


@dataclass(eq=False, repr=False)
class FieldNode(Node):
    """A `.Field.Chain` (parse.FieldNode)."""

    ident: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return "".join("." + i for i in self.ident)


@dataclass(eq=False, repr=False)
class ChainNode(Node):
    """A term followed by fields, `(pipe).Field` (parse.ChainNode)."""

    node: Node | None = None
    fields: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        s = f"({self.node})" if isinstance(self.node, PipeNode) else str(self.node)
        return s + "".join("." + f for f in self.fields)


@dataclass(eq=False, repr=False)
class BoolNode(Node):
    """`true` or `false` (parse.BoolNode)."""

    true: bool = False

    def __str__(self) -> str:
        return "true" if self.true else "false"


@dataclass(eq=False, repr=False)
class NumberNode(Node):
    """A numeric constant with every type it fits (parse.NumberNode)."""

    text: str = ""
    is_int: bool = False
    is_uint: bool = False
    is_float: bool = False
    is_complex: bool = False
    int_val: int = 0
    float_val: float = 0.0

    def __str__(self) -> str:
        return self.text


@dataclass(eq=False, repr=False)
class StringNode(Node):
    """A string constant, quoted and unquoted (parse.StringNode)."""

    quoted: str = ""
    text: str = ""

    def __str__(self) -> str:
        return self.quoted


@dataclass(eq=False, repr=False)
class EndNode(Node):
    """`{{end}}`, removed once its block is built (parse.endNode)."""

    def __str__(self) -> str:
        return "{{end}}"


@dataclass(eq=False, repr=False)
class ElseNode(Node):
    """`{{else}}`, removed once its block is built (parse.elseNode)."""

    line: int = 0

    def __str__(self) -> str:
        return "{{else}}"


@dataclass(eq=False, repr=False)
class BranchNode(Node):
    """The common shape of if, range and with (parse.BranchNode)."""

    keyword: str = ""
    line: int = 0
    pipe: PipeNode | None = None
    list: ListNode | None = None
    else_list: ListNode | None = None

    def __str__(self) -> str:
        s = "{{" + self.keyword + " " + str(self.pipe) + "}}" + str(self.list)
        if self.else_list is not None:
            s += "{{else}}" + str(self.else_list)
        return s + "{{end}}"


class IfNode(BranchNode):
    pass


class RangeNode(BranchNode):
    pass


class WithNode(BranchNode):
    pass


@dataclass(eq=False, repr=False)
class BreakNode(Node):
    """`{{break}}` inside a range (parse.BreakNode)."""

    line: int = 0

    def __str__(self) -> str:
        return "{{break}}"


@dataclass(eq=False, repr=False)
class ContinueNode(Node):
    """`{{continue}}` inside a range (parse.ContinueNode)."""

    line: int = 0

    def __str__(self) -> str:
        return "{{continue}}"


@dataclass(eq=False, repr=False)
class TemplateNode(Node):
    """`{{template "name" pipeline}}` (parse.TemplateNode)."""

    line: int = 0
    name: str = ""
    pipe: PipeNode | None = None

    def __str__(self) -> str:
        from lab.core.gostrconv import quote as go_quote

        if self.pipe is None:
            return "{{template " + go_quote(self.name) + "}}"
        return "{{template " + go_quote(self.name) + " " + str(self.pipe) + "}}"


# --- number literals ----------------------------------------------------------------------------------------


def _go_unquote(s: str) -> str:
    """strconv.Unquote for "..." and `...` (error text like Go's: invalid syntax)."""
    if s.startswith("`"):
        if len(s) < 2 or not s.endswith("`") or "`" in s[1:-1]:
            raise ValueError("invalid syntax")
        return s[1:-1].replace("\r", "")
    if len(s) < 2 or s[0] != s[-1] or s[0] not in "\"'":
        raise ValueError("invalid syntax")
    body = s[1:-1]
    out: list[str] = []
    i = 0
    simple = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\"}
    quote = s[0]
    raw_bytes: list[int] = []

    def flush() -> None:
        if raw_bytes:
            out.append(bytes(raw_bytes).decode("utf-8", "surrogateescape"))
            raw_bytes.clear()

    while i < len(body):
        c = body[i]
        if c == quote:
            raise ValueError("invalid syntax")
        if c != "\\":
            flush()
            out.append(c)
            i += 1
            continue
        i += 1
        if i >= len(body):
            raise ValueError("invalid syntax")
        c = body[i]
        if c in simple:
            flush()
            out.append(simple[c])
            i += 1
        elif c == quote:
            flush()
            out.append(c)
            i += 1
        elif c in "xuU":
            n = {"x": 2, "u": 4, "U": 8}[c]
            h = body[i + 1 : i + 1 + n]
            if len(h) != n or not re.fullmatch(r"[0-9a-fA-F]+", h):
                raise ValueError("invalid syntax")
            v = int(h, 16)
            if c == "x":
                raw_bytes.append(v)
            else:
                if v > 0x10FFFF or 0xD800 <= v <= 0xDFFF:
                    raise ValueError("invalid syntax")
                flush()
                out.append(chr(v))
            i += 1 + n
        elif c in "01234567":
            o = body[i : i + 3]
            if len(o) != 3 or not re.fullmatch(r"[0-7]{3}", o) or int(o, 8) > 255:
                raise ValueError("invalid syntax")
            raw_bytes.append(int(o, 8))
            i += 3
        else:
            raise ValueError("invalid syntax")
    flush()
    result = "".join(out)
    if quote == "'" and len(result) != 1:
        raise ValueError("invalid syntax")
    return result


def _parse_int_literal(text: str) -> int | None:
    t = text
    neg = False
    if t[:1] in "+-":
        neg = t[0] == "-"
        t = t[1:]
    if not t:
        return None
    if "_" in t:
        if not re.fullmatch(r"(0[xXoObB]_?)?[0-9a-fA-F]+(_[0-9a-fA-F]+)*", t):
            return None
        t = t.replace("_", "")
    try:
        if re.fullmatch(r"0[xX][0-9a-fA-F]+", t):
            v = int(t, 16)
        elif re.fullmatch(r"0[oO][0-7]+", t):
            v = int(t[2:], 8)
        elif re.fullmatch(r"0[bB][01]+", t):
            v = int(t[2:], 2)
        elif re.fullmatch(r"0[0-7]*", t):
            v = int(t, 8) if len(t) > 1 else 0
        elif re.fullmatch(r"[1-9][0-9]*", t):
            v = int(t)
        else:
            return None
    except ValueError:
        return None
    return -v if neg else v


def make_number(pos: int, text: str, typ: int) -> NumberNode:
    """parse.newNumber: integer parses first, then float; an integer-looking overflow is an error."""
    n = NumberNode(pos, text=text)
    if typ == T.CHAR_CONSTANT:
        r = _go_unquote(text)
        n.int_val = ord(r)
        n.float_val = float(n.int_val)
        n.is_int = n.is_uint = n.is_float = True
        return n
    if typ == T.COMPLEX or text.endswith("i"):
        raise ValueError(f"complex numbers are not supported by this emulation: {text}")
    iv = _parse_int_literal(text)
    if iv is not None:
        if text[:1] not in "+-" and 0 <= iv < 2**64:
            n.is_uint = True
        if -(2**63) <= iv < 2**63:
            n.is_int = True
        if iv == 0:
            n.is_uint = True
    if n.is_int or n.is_uint:
        n.int_val = iv if iv is not None else 0
        n.is_float = True
        n.float_val = float(n.int_val)
        return n
    t = text.replace("_", "")
    f: float | None = None
    try:
        if re.fullmatch(r"[+-]?0[xX][0-9a-fA-F]*\.?[0-9a-fA-F]*[pP][+-]?\d+", t):
            f = float.fromhex(t)
        elif re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", t):
            f = float(t)
    except (ValueError, OverflowError):
        f = None
    if f is not None:
        if not any(c in text for c in ".eEpP"):
            raise ValueError(f"integer overflow: {text}")
        n.is_float = True
        n.float_val = f
        if f == f and abs(f) != float("inf") and f == int(f):
            if -(2**63) <= int(f) < 2**63:
                n.is_int = True
                n.int_val = int(f)
            if 0 <= int(f) < 2**64:
                n.is_uint = True
                n.int_val = int(f)
    if not (n.is_int or n.is_uint or n.is_float):
        raise ValueError(f"illegal number syntax: {_q(text)}")
    return n


def _q(s: str) -> str:
    from lab.core.gostrconv import quote as go_quote

    return go_quote(s)


# --- parser -------------------------------------------------------------------------------------------------


class Parser:
    def __init__(self, name: str, text: str, has_function: Callable[[str], bool]) -> None:
        self.name = name
        self.text = text
        self.items = lex(text)
        self.i = 0
        self.furthest = 0
        self.has_function = has_function
        self.vars: list[str] = ["$"]
        self.action_line = 0
        self.range_depth = 0
        self.stack_depth = 0
        self.trees: dict[str, ListNode] = {}

    # token stream (Go's three-token look-ahead, expressed as an index into the eager item list)
    def next(self) -> Item:
        item = self.items[min(self.i, len(self.items) - 1)]
        self.i += 1
        self.furthest = max(self.furthest, self.i - 1)
        return item

    def backup(self, n: int = 1) -> None:
        self.i -= n

    def peek(self) -> Item:
        item = self.next()
        self.backup()
        return item

    def next_non_space(self) -> Item:
        while True:
            tok = self.next()
            if tok.typ != T.SPACE:
                return tok

    def peek_non_space(self) -> Item:
        tok = self.next_non_space()
        self.backup()
        return tok

    def errorf(self, msg: str) -> None:
        line = self.items[min(self.furthest, len(self.items) - 1)].line
        raise ParseError(f"template: {self.name}:{line}: {msg}")

    def expect(self, typ: int, context: str) -> Item:
        tok = self.next_non_space()
        if tok.typ != typ:
            self.unexpected(tok, context)
        return tok

    def unexpected(self, tok: Item, context: str) -> None:
        if tok.typ == T.ERROR:
            extra = ""
            if self.action_line != 0 and self.action_line != tok.line:
                extra = f" in action started at {self.name}:{self.action_line}"
                if tok.val.endswith(" action"):
                    extra = extra[len(" in action") :]
            self.errorf(f"{tok}{extra}")
        self.errorf(f"unexpected {tok} in {context}")

    # grammar
    def parse(self) -> ListNode:
        root = ListNode(self.peek().pos)
        while self.peek().typ != T.EOF:
            if self.peek().typ == T.LEFT_DELIM:
                self.next()
                if self.next_non_space().typ == T.DEFINE:
                    self.in_sub_tree(self.parse_definition)
                    continue
                # Go's backup2(delim): push back the delimiter and the keyword token.
                self.i = self._delim_index()
            n = self.text_or_action()
            if isinstance(n, EndNode | ElseNode):
                self.errorf(f"unexpected {n}")
            root.nodes.append(n)
        self.add(self.name, root)
        return root

    def in_sub_tree(self, fn: Callable[[], None]) -> None:
        """A {{define}}/{{block}} body is its own parse.Tree: fresh variables, not inside any range."""
        saved = (self.vars, self.range_depth, self.action_line)
        self.vars, self.range_depth = ["$"], 0
        try:
            fn()
        finally:
            self.vars, self.range_depth, self.action_line = saved

    def add(self, name: str, root: ListNode) -> None:
        existing = self.trees.get(name)
        if existing is None or is_empty_tree(existing):
            self.trees[name] = root
        elif not is_empty_tree(root):
            self.errorf(f"template: multiple definition of template {_q(name)}")

    def parse_definition(self) -> None:
        context = "define clause"
        name = self.template_name(self.next_non_space(), context)
        self.expect(T.RIGHT_DELIM, context)
        root, end = self.item_list()
        if not isinstance(end, EndNode):
            self.errorf(f"unexpected {end} in {context}")
        self.add(name, root)

    def template_name(self, tok: Item, context: str) -> str:
        """The quoted name after define, block or template (parse.parseTemplateName)."""
        if tok.typ not in (T.STRING, T.RAW_STRING):
            self.unexpected(tok, context)
        try:
            return _go_unquote(tok.val)
        except ValueError as exc:
            self.errorf(str(exc))
            raise

    def block_control(self) -> Node:
        context = "block clause"
        tok = self.next_non_space()
        name = self.template_name(tok, context)
        pipe = self.pipeline(context, T.RIGHT_DELIM)

        def body() -> None:
            root, end = self.item_list()
            if not isinstance(end, EndNode):
                self.errorf(f"unexpected {end} in {context}")
            self.add(name, root)

        self.in_sub_tree(body)
        return TemplateNode(tok.pos, line=tok.line, name=name, pipe=pipe)

    def _delim_index(self) -> int:
        j = self.i - 1
        while self.items[j].typ != T.LEFT_DELIM:
            j -= 1
        return j

    def item_list(self) -> tuple[ListNode, Node]:
        lst = ListNode(self.peek_non_space().pos)
        while self.peek_non_space().typ != T.EOF:
            n = self.text_or_action()
            if isinstance(n, EndNode | ElseNode):
                return lst, n
            lst.nodes.append(n)
        self.errorf("unexpected EOF")
        raise AssertionError

    def text_or_action(self) -> Node:
        tok = self.next_non_space()
        if tok.typ == T.TEXT:
            return TextNode(tok.pos, text=tok.val)
        if tok.typ == T.LEFT_DELIM:
            self.action_line = tok.line
            try:
                return self.action()
            finally:
                self.action_line = 0
        self.unexpected(tok, "input")
        raise AssertionError

    def action(self) -> Node:
        tok = self.next_non_space()
        if tok.typ == T.BLOCK:
            return self.block_control()
        if tok.typ == T.BREAK:
            return self.break_control(tok, "{{break}}", BreakNode)
        if tok.typ == T.CONTINUE:
            return self.break_control(tok, "{{continue}}", ContinueNode)
        if tok.typ == T.ELSE:
            return self.else_control()
        if tok.typ == T.END:
            return EndNode(self.expect(T.RIGHT_DELIM, "end").pos)
        if tok.typ == T.IF:
            return self.branch("if", IfNode)
        if tok.typ == T.RANGE:
            return self.branch("range", RangeNode)
        if tok.typ == T.TEMPLATE:
            return self.template_control()
        if tok.typ == T.WITH:
            return self.branch("with", WithNode)
        self.backup()
        tok = self.peek()
        pipe = self.pipeline("command", T.RIGHT_DELIM)
        return ActionNode(tok.pos, line=tok.line, pipe=pipe)

    def break_control(self, kw: Item, ctx: str, cls: type[BreakNode] | type[ContinueNode]) -> Node:
        tok = self.next_non_space()
        if tok.typ != T.RIGHT_DELIM:
            self.unexpected(tok, ctx)
        if self.range_depth == 0:
            self.errorf(f"{ctx} outside {{{{range}}}}")
        return cls(kw.pos, line=kw.line)

    def else_control(self) -> Node:
        peek = self.peek_non_space()
        if peek.typ in (T.IF, T.WITH):
            return ElseNode(peek.pos, line=peek.line)
        tok = self.expect(T.RIGHT_DELIM, "else")
        return ElseNode(tok.pos, line=tok.line)

    def template_control(self) -> Node:
        tok = self.next_non_space()
        name = self.template_name(tok, "template clause")
        pipe = None
        if self.next_non_space().typ != T.RIGHT_DELIM:
            self.backup()
            pipe = self.pipeline("template clause", T.RIGHT_DELIM)
        return TemplateNode(tok.pos, line=tok.line, name=name, pipe=pipe)

    def branch(self, context: str, cls: type[BranchNode]) -> Node:
        mark = len(self.vars)
        try:
            pipe = self.pipeline(context, T.RIGHT_DELIM)
            if context == "range":
                self.range_depth += 1
            lst, nxt = self.item_list()
            if context == "range":
                self.range_depth -= 1
            else_list: ListNode | None = None
            if isinstance(nxt, ElseNode):
                if context == "if" and self.peek().typ == T.IF:
                    self.next()
                    else_list = ListNode(nxt.pos, nodes=[self.branch("if", IfNode)])
                elif context == "with" and self.peek().typ == T.WITH:
                    self.next()
                    else_list = ListNode(nxt.pos, nodes=[self.branch("with", WithNode)])
                else:
                    else_list, nxt2 = self.item_list()
                    if not isinstance(nxt2, EndNode):
                        self.errorf(f"expected end; found {nxt2}")
            return cls(pipe.pos, keyword=context, line=pipe.line, pipe=pipe, list=lst, else_list=else_list)
        finally:
            del self.vars[mark:]

    def pipeline(self, context: str, end: int) -> PipeNode:
        tok = self.peek_non_space()
        pipe = PipeNode(tok.pos, line=tok.line)
        while True:  # decls
            v = self.peek_non_space()
            if v.typ != T.VARIABLE:
                break
            self.next_non_space()
            after = self.peek()
            nxt = self.peek_non_space()
            if nxt.typ in (T.ASSIGN, T.DECLARE):
                pipe.is_assign = nxt.typ == T.ASSIGN
                self.next_non_space()
                pipe.decl.append(VariableNode(v.pos, ident=[v.val]))
                self.vars.append(v.val)
                break
            if nxt.typ == T.CHAR and nxt.val == ",":
                self.next_non_space()
                pipe.decl.append(VariableNode(v.pos, ident=[v.val]))
                self.vars.append(v.val)
                if context == "range" and len(pipe.decl) < 2:
                    if self.peek_non_space().typ in (T.VARIABLE, T.RIGHT_DELIM, T.RIGHT_PAREN):
                        continue
                    self.errorf("range can only initialize variables")
                self.errorf(f"too many declarations in {context}")
            # Not a declaration: push the variable (and the space after it) back.
            self.i = self._index_of(v)
            del after
            break
        while True:
            tok = self.next_non_space()
            if tok.typ == end:
                self.check_pipeline(pipe, context)
                return pipe
            if tok.typ in (
                T.BOOL,
                T.CHAR_CONSTANT,
                T.COMPLEX,
                T.DOT,
                T.FIELD,
                T.IDENTIFIER,
                T.NUMBER,
                T.NIL,
                T.RAW_STRING,
                T.STRING,
                T.VARIABLE,
                T.LEFT_PAREN,
            ):
                self.backup()
                pipe.cmds.append(self.command())
            else:
                self.unexpected(tok, context)

    def _index_of(self, item: Item) -> int:
        j = self.i - 1
        while self.items[j] is not item:
            j -= 1
        return j

    def check_pipeline(self, pipe: PipeNode, context: str) -> None:
        if not pipe.cmds:
            self.errorf(f"missing value for {context}")
        for i, c in enumerate(pipe.cmds[1:]):
            if isinstance(c.args[0], BoolNode | DotNode | NilNode | NumberNode | StringNode):
                self.errorf(f"non executable command in pipeline stage {i + 2}")

    def command(self) -> CommandNode:
        cmd = CommandNode(self.peek_non_space().pos)
        while True:
            self.peek_non_space()
            operand = self.operand()
            if operand is not None:
                cmd.args.append(operand)
            tok = self.next()
            if tok.typ == T.SPACE:
                continue
            if tok.typ in (T.RIGHT_DELIM, T.RIGHT_PAREN):
                self.backup()
            elif tok.typ == T.PIPE:
                pass
            else:
                self.unexpected(tok, "operand")
            break
        if not cmd.args:
            self.errorf("empty command")
        return cmd

    def operand(self) -> Node | None:
        node = self.term()
        if node is None:
            return None
        if self.peek().typ == T.FIELD:
            chain = ChainNode(self.peek().pos, node=node)
            while self.peek().typ == T.FIELD:
                chain.fields.append(self.next().val[1:])
            if isinstance(node, FieldNode):
                return FieldNode(chain.pos, ident=node.ident + chain.fields)
            if isinstance(node, VariableNode):
                return VariableNode(chain.pos, ident=node.ident + chain.fields)
            if isinstance(node, BoolNode | StringNode | NumberNode | NilNode | DotNode):
                self.errorf(f"unexpected . after term {_q(str(node))}")
            return chain
        return node

    def term(self) -> Node | None:
        tok = self.next_non_space()
        if tok.typ == T.IDENTIFIER:
            if not self.has_function(tok.val):
                self.errorf(f"function {_q(tok.val)} not defined")
            return IdentifierNode(tok.pos, ident=tok.val)
        if tok.typ == T.DOT:
            return DotNode(tok.pos)
        if tok.typ == T.NIL:
            return NilNode(tok.pos)
        if tok.typ == T.VARIABLE:
            return self.use_var(tok.pos, tok.val)
        if tok.typ == T.FIELD:
            return FieldNode(tok.pos, ident=tok.val[1:].split("."))
        if tok.typ == T.BOOL:
            return BoolNode(tok.pos, true=tok.val == "true")
        if tok.typ in (T.CHAR_CONSTANT, T.COMPLEX, T.NUMBER):
            try:
                return make_number(tok.pos, tok.val, tok.typ)
            except ValueError as exc:
                self.errorf(str(exc))
        if tok.typ == T.LEFT_PAREN:
            if self.stack_depth >= MAX_STACK_DEPTH:
                self.errorf("max expression depth exceeded")
            self.stack_depth += 1
            try:
                return self.pipeline("parenthesized pipeline", T.RIGHT_PAREN)
            finally:
                self.stack_depth -= 1
        if tok.typ in (T.STRING, T.RAW_STRING):
            try:
                s = _go_unquote(tok.val)
            except ValueError as exc:
                self.errorf(str(exc))
                raise
            return StringNode(tok.pos, quoted=tok.val, text=s)
        self.backup()
        return None

    def use_var(self, pos: int, name: str) -> VariableNode:
        v = VariableNode(pos, ident=name.split("."))
        if v.ident[0] not in self.vars:
            self.errorf(f"undefined variable {_q(v.ident[0])}")
        return v


def is_empty_tree(n: Node) -> bool:
    """parse.IsEmptyTree: only whitespace text and comments."""
    if isinstance(n, ListNode):
        return all(is_empty_tree(x) for x in n.nodes)
    if isinstance(n, TextNode):
        return n.text.strip(" \t\r\n\v\f\x85\xa0") == ""
    return isinstance(n, CommentNode)


def parse_tree(name: str, text: str, has_function: Callable[[str], bool]) -> dict[str, ListNode]:
    """All trees of the text: the template itself under `name`, plus any {{define}}/{{block}}."""
    parser = Parser(name, text, has_function)
    parser.parse()
    return parser.trees


__all__ = ["ParseError", "parse_tree"]
