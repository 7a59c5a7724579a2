"""text/template's executor (exec.go): walks the parse tree over Go-modelled values."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lab.core.gostrconv import quote as go_quote
from lab.core.gotemplate import parser as p
from lab.core.gotemplate.values import (
    GoMap,
    GoMethod,
    GoSlice,
    GoStruct,
    Int64,
    iter_range,
    sprint_value,
    truth,
    type_name,
)


class ExecError(Exception):
    """An execution failure worded like Go's ExecError."""


class GoFuncError(Exception):
    """A template function returned a non-nil error (or panicked); Go reports `error calling NAME: <text>`."""


# Flux would render any size; the lab refuses runaway output (e.g. `{{range 100000000}}`) to stay responsive.
MAX_OUTPUT = 1 << 20
# Go allows 100000 nested {{template}} calls; Python's stack allows far fewer, so stop earlier and say so.
MAX_EXEC_DEPTH = 100
# Node visits before the lab gives up on a template (`{{range 100000000}}{{end}}` writes nothing but never ends).
MAX_STEPS = 200_000


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


MISSING: Any = _Missing()

_GO_TYPE = {
    "string": "string",
    "int": "int",
    "int64": "int64",
    "float64": "float64",
    "bool": "bool",
    "any": "interface {}",
    "value": "reflect.Value",
    "map": "map[string]interface {}",
    "list": "[]interface {}",
}
_NILLABLE = {"any", "value", "map", "list"}


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


class State:
    def __init__(
        self,
        name: str,
        text: str,
        find_function: Callable[[str], tuple[GoMethod, bool] | None],
        templates: dict[str, p.ListNode] | None = None,
    ) -> None:
        # `name` is the template being executed (changes inside {{template}}); positions keep the parse name.
        self.name = name
        self.parse_name = name
        self.templates = templates or {}
        self.depth = 0
        self.steps = 0
        self.text = text
        self.find_function = find_function
        self.node: p.Node | None = None
        self.vars: list[list[Any]] = []
        self.out: list[str] = []
        self.size = 0

    # --- errors ---
    def at(self, node: p.Node) -> None:
        self.node = node

    def error_context(self, node: p.Node) -> tuple[str, str]:
        before = self.text[: node.pos]
        nl = before.rfind("\n")
        col_text = before if nl < 0 else before[nl + 1 :]
        byte_num = len(col_text.encode("utf-8", "surrogatepass"))
        line = 1 + before.count("\n")
        return f"{self.parse_name}:{line}:{byte_num}", str(node)

    def errorf(self, msg: str) -> None:
        if self.node is None:
            raise ExecError(f"template: {self.name}: {msg}")
        location, context = self.error_context(self.node)
        raise ExecError(f"template: {location}: executing {go_quote(self.name)} at <{context}>: {msg}")

    # --- variables ---
    def push(self, name: str, value: Any) -> None:
        self.vars.append([name, value])

    def mark(self) -> int:
        return len(self.vars)

    def pop(self, mark: int) -> None:
        del self.vars[mark:]

    def set_var(self, name: str, value: Any) -> None:
        for v in reversed(self.vars):
            if v[0] == name:
                v[1] = value
                return
        self.errorf(f"undefined variable: {name}")

    def set_top_var(self, n: int, value: Any) -> None:
        self.vars[len(self.vars) - n][1] = value

    def var_value(self, name: str) -> Any:
        for v in reversed(self.vars):
            if v[0] == name:
                return v[1]
        self.errorf(f"undefined variable: {name}")
        return None

    # --- walk ---
    def execute(self, root: p.ListNode, data: Any) -> str:
        self.vars = [["$", data]]
        self.walk(data, root)
        return "".join(self.out)

    def walk(self, dot: Any, node: p.Node) -> None:
        self.at(node)
        self.steps += 1
        if self.steps > MAX_STEPS:
            self.errorf(f"more than {MAX_STEPS} steps; fluxlab stops runaway templates here")
        if isinstance(node, p.ActionNode):
            assert node.pipe is not None
            val = self.eval_pipeline(dot, node.pipe)
            if not node.pipe.decl:
                self.print_value(node, val)
        elif isinstance(node, p.BreakNode):
            raise _Break
        elif isinstance(node, p.ContinueNode):
            raise _Continue
        elif isinstance(node, p.CommentNode):
            pass
        elif isinstance(node, p.RangeNode):
            self.walk_range(dot, node)
        elif isinstance(node, p.IfNode | p.WithNode):
            self.walk_if_or_with(isinstance(node, p.WithNode), dot, node)
        elif isinstance(node, p.ListNode):
            for n in node.nodes:
                self.walk(dot, n)
        elif isinstance(node, p.TemplateNode):
            self.walk_template(dot, node)
        elif isinstance(node, p.TextNode):
            self.write(node.text)
        else:
            self.errorf(f"unknown node: {node}")

    def walk_template(self, dot: Any, t: p.TemplateNode) -> None:
        self.at(t)
        tmpl = self.templates.get(t.name)
        if tmpl is None:
            self.errorf(f"template {go_quote(t.name)} not defined")
            return
        if self.depth >= MAX_EXEC_DEPTH:
            self.errorf(f"exceeded maximum template depth ({MAX_EXEC_DEPTH})")
        dot = self.eval_pipeline(dot, t.pipe)
        saved = (self.vars, self.name)
        # No dynamic scoping: the called template sees only $ (its dot).
        self.vars, self.name = [["$", dot]], t.name
        self.depth += 1
        try:
            self.walk(dot, tmpl)
        finally:
            self.depth -= 1
            self.vars, self.name = saved

    def walk_if_or_with(self, is_with: bool, dot: Any, node: p.BranchNode) -> None:
        mark = self.mark()
        try:
            assert node.pipe is not None and node.list is not None
            val = self.eval_pipeline(dot, node.pipe)
            if isinstance(val, GoMethod):
                self.errorf(f"if/with can't use {sprint_value(val)}")
            if truth(val):
                self.walk(val if is_with else dot, node.list)
            elif node.else_list is not None:
                self.walk(dot, node.else_list)
        finally:
            self.pop(mark)

    def walk_range(self, dot: Any, r: p.BranchNode) -> None:
        self.at(r)
        outer = self.mark()
        try:
            assert r.pipe is not None and r.list is not None
            pipe = r.pipe
            val = self.eval_pipeline(dot, pipe)
            mark = self.mark()

            def one_iteration(index: Any, elem: Any) -> None:
                if pipe.decl:
                    if pipe.is_assign:
                        if len(pipe.decl) > 1:
                            self.set_var(pipe.decl[0].ident[0], index)
                        else:
                            self.set_var(pipe.decl[0].ident[0], elem)
                    else:
                        self.set_top_var(1, elem)
                if len(pipe.decl) > 1:
                    if pipe.is_assign:
                        self.set_var(pipe.decl[1].ident[0], elem)
                    else:
                        self.set_top_var(2, index)
                try:
                    self.walk(elem, r.list)  # type: ignore[arg-type]
                except _Continue:
                    pass
                finally:
                    self.pop(mark)

            ran = False
            try:
                if isinstance(val, int) and not isinstance(val, bool):
                    if len(pipe.decl) > 1:
                        self.errorf(f"can't use {sprint_value(val)} to iterate over more than one variable")
                    for i in range(int(val)):
                        ran = True
                        one_iteration(None, i)
                elif isinstance(val, GoSlice | GoMap | list | dict):
                    for k, e in iter_range(val):
                        ran = True
                        one_iteration(k, e)
                elif val is None:
                    pass
                else:
                    self.errorf(f"range can't iterate over {sprint_value(val)}")
            except _Break:
                return
            if not ran and r.else_list is not None:
                self.walk(dot, r.else_list)
        finally:
            self.pop(outer)

    # --- evaluation ---
    def eval_pipeline(self, dot: Any, pipe: p.PipeNode | None) -> Any:
        if pipe is None:
            return None
        self.at(pipe)
        value: Any = MISSING
        for cmd in pipe.cmds:
            value = self.eval_command(dot, cmd, value)
        for var in pipe.decl:
            if pipe.is_assign:
                self.set_var(var.ident[0], value)
            else:
                self.push(var.ident[0], value)
        return value

    def not_a_function(self, args: list[p.Node] | None, final: Any) -> None:
        if (args is not None and len(args) > 1) or final is not MISSING:
            assert args is not None
            self.errorf(f"can't give argument to non-function {args[0]}")

    def eval_command(self, dot: Any, cmd: p.CommandNode, final: Any) -> Any:
        first = cmd.args[0]
        if isinstance(first, p.FieldNode):
            return self.eval_field_node(dot, first, cmd.args, final)
        if isinstance(first, p.ChainNode):
            return self.eval_chain_node(dot, first, cmd.args, final)
        if isinstance(first, p.IdentifierNode):
            return self.eval_function(dot, first, cmd, cmd.args, final)
        if isinstance(first, p.PipeNode):
            self.not_a_function(cmd.args, final)
            return self.eval_pipeline(dot, first)
        if isinstance(first, p.VariableNode):
            return self.eval_variable_node(dot, first, cmd.args, final)
        self.at(first)
        self.not_a_function(cmd.args, final)
        if isinstance(first, p.BoolNode):
            return first.true
        if isinstance(first, p.DotNode):
            return dot
        if isinstance(first, p.NilNode):
            self.errorf("nil is not a command")
        if isinstance(first, p.NumberNode):
            return self.ideal_constant(first)
        if isinstance(first, p.StringNode):
            return first.text
        self.errorf(f"can't evaluate command {go_quote(str(first))}")
        return None

    def ideal_constant(self, c: p.NumberNode) -> Any:
        self.at(c)
        is_hex_int = (
            len(c.text) > 2 and c.text[0] == "0" and c.text[1] in "xX" and not any(x in c.text for x in "pP")
        )
        is_rune = c.text.startswith("'")
        if c.is_float and not is_hex_int and not is_rune and any(x in c.text for x in ".eEpP"):
            return c.float_val
        if c.is_int:
            return c.int_val
        if c.is_uint:
            self.errorf(f"{c.text} overflows int")
        return None

    def eval_field_node(self, dot: Any, field: p.FieldNode, args: list[p.Node] | None, final: Any) -> Any:
        self.at(field)
        return self.eval_field_chain(dot, dot, field, field.ident, args, final)

    def eval_chain_node(self, dot: Any, chain: p.ChainNode, args: list[p.Node] | None, final: Any) -> Any:
        self.at(chain)
        if not chain.fields:
            self.errorf("internal error: no fields in evalChainNode")
        if isinstance(chain.node, p.NilNode):
            self.errorf(f"indirection through explicit nil in {chain}")
        assert chain.node is not None
        pipe = self.eval_arg(dot, "any", chain.node)
        return self.eval_field_chain(dot, pipe, chain, chain.fields, args, final)

    def eval_variable_node(self, dot: Any, v: p.VariableNode, args: list[p.Node] | None, final: Any) -> Any:
        self.at(v)
        value = self.var_value(v.ident[0])
        if len(v.ident) == 1:
            self.not_a_function(args, final)
            return value
        return self.eval_field_chain(dot, value, v, v.ident[1:], args, final)

    def eval_field_chain(
        self, dot: Any, receiver: Any, node: p.Node, ident: list[str], args: list[p.Node] | None, final: Any
    ) -> Any:
        for name in ident[:-1]:
            receiver = self.eval_field(dot, name, node, None, MISSING, receiver)
        return self.eval_field(dot, ident[-1], node, args, final, receiver)

    def eval_function(
        self, dot: Any, node: p.IdentifierNode, cmd: p.Node, args: list[p.Node] | None, final: Any
    ) -> Any:
        self.at(node)
        found = self.find_function(node.ident)
        if found is None:
            self.errorf(f"{go_quote(node.ident)} is not a defined function")
            return None
        fn, is_builtin = found
        return self.eval_call(dot, fn, is_builtin, cmd, node.ident, args, final)

    def eval_field(
        self, dot: Any, name: str, node: p.Node, args: list[p.Node] | None, final: Any, receiver: Any
    ) -> Any:
        if receiver is None:
            return None
        typ = type_name(receiver)
        if isinstance(receiver, GoStruct):
            method = receiver.lookup_method(name)
            if method is not None:
                return self.eval_call(dot, method, False, node, name, args, final)
        has_args = (args is not None and len(args) > 1) or final is not MISSING
        if isinstance(receiver, GoStruct):
            found, value = receiver.lookup_field(name)
            if found:
                if receiver.is_unexported(name):
                    self.errorf(f"{name} is an unexported field of struct type {typ}")
                if has_args:
                    self.errorf(f"{name} has arguments but cannot be invoked as function")
                return value
        elif isinstance(receiver, dict) or (isinstance(receiver, GoMap) and receiver.key_type == "string"):
            if has_args:
                self.errorf(f"{name} is not a method but has arguments")
            items = receiver if isinstance(receiver, dict) else receiver.items
            # A missing key is the invalid value, which prints as <no value> (missingkey=default).
            return items.get(name)
        self.errorf(f"can't evaluate field {name} in type {typ}")
        return None

    def eval_call(
        self,
        dot: Any,
        fn: GoMethod,
        is_builtin: bool,
        node: p.Node,
        name: str,
        args: list[p.Node] | None,
        final: Any,
    ) -> Any:
        argn = args[1:] if args is not None else []
        num_in = len(argn) + (0 if final is MISSING else 1)
        num_fixed = len(argn)
        if fn.variadic is not None:
            num_fixed = len(fn.params)
            if num_in < num_fixed:
                self.errorf(f"wrong number of args for {name}: want at least {num_fixed} got {len(argn)}")
        elif num_in != len(fn.params):
            self.errorf(f"wrong number of args for {name}: want {len(fn.params)} got {num_in}")

        if is_builtin and name in ("and", "or"):
            v: Any = None
            for a in argn:
                v = self.eval_arg(dot, "value", a)
                if truth(v) == (name == "or"):
                    return v
            if final is not MISSING:
                v = final
            return v

        argv: list[Any] = []
        i = 0
        while i < num_fixed and i < len(argn):
            argv.append(self.eval_arg(dot, fn.params[i], argn[i]))
            i += 1
        if fn.variadic is not None:
            while i < len(argn):
                argv.append(self.eval_arg(dot, fn.variadic, argn[i]))
                i += 1
        if final is not MISSING:
            if fn.variadic is not None:
                t = fn.params[num_in - 1] if num_in - 1 < num_fixed else fn.variadic
            else:
                t = fn.params[-1]
            argv.append(self.validate_type(final, t))
        try:
            result = fn.fn(*argv)
        except GoFuncError as exc:
            self.at(node)
            self.errorf(f"error calling {name}: {exc}")
        except ExecError:
            raise
        except Exception as exc:  # Go's safeCall turns any panic of a template function into an error.
            self.at(node)
            self.errorf(f"error calling {name}: {exc}")
        return result

    def validate_type(self, value: Any, typ: str) -> Any:
        if value is None:
            if typ in _NILLABLE:
                return None
            self.errorf(f"invalid value; expected {_GO_TYPE.get(typ, typ)}")
        if typ in ("any", "value"):
            return value
        ok = False
        if typ == "string":
            ok = isinstance(value, str)
        elif typ == "int":
            ok = isinstance(value, int) and not isinstance(value, bool | Int64)
        elif typ == "int64":
            ok = isinstance(value, Int64)
        elif typ == "float64":
            ok = isinstance(value, float)
        elif typ == "bool":
            ok = isinstance(value, bool)
        elif typ == "map":
            ok = isinstance(value, dict) or (
                isinstance(value, GoMap) and value.type_name == "map[string]interface {}"
            )
        elif typ == "list":
            ok = isinstance(value, list) or (
                isinstance(value, GoSlice) and value.type_name == "[]interface {}"
            )
        if not ok:
            self.errorf(f"wrong type for value; expected {_GO_TYPE.get(typ, typ)}; got {type_name(value)}")
        return value

    def eval_arg(self, dot: Any, typ: str, n: p.Node) -> Any:
        self.at(n)
        if isinstance(n, p.DotNode):
            return self.validate_type(dot, typ)
        if isinstance(n, p.NilNode):
            if typ in _NILLABLE:
                return None
            self.errorf(f"cannot assign nil to {_GO_TYPE.get(typ, typ)}")
        if isinstance(n, p.FieldNode):
            return self.validate_type(self.eval_field_node(dot, n, [n], MISSING), typ)
        if isinstance(n, p.VariableNode):
            return self.validate_type(self.eval_variable_node(dot, n, None, MISSING), typ)
        if isinstance(n, p.PipeNode):
            return self.validate_type(self.eval_pipeline(dot, n), typ)
        if isinstance(n, p.IdentifierNode):
            return self.validate_type(self.eval_function(dot, n, n, None, MISSING), typ)
        if isinstance(n, p.ChainNode):
            return self.validate_type(self.eval_chain_node(dot, n, None, MISSING), typ)
        if typ == "bool":
            if isinstance(n, p.BoolNode):
                return n.true
            self.errorf(f"expected bool; found {n}")
        if typ == "float64":
            if isinstance(n, p.NumberNode) and n.is_float:
                return n.float_val
            self.errorf(f"expected float; found {n}")
        if typ in ("int", "int64"):
            if isinstance(n, p.NumberNode) and n.is_int:
                return Int64(n.int_val) if typ == "int64" else n.int_val
            self.errorf(f"expected integer; found {n}")
        if typ in ("any", "value"):
            if isinstance(n, p.BoolNode):
                return n.true
            if isinstance(n, p.NumberNode):
                return self.ideal_constant(n)
            if isinstance(n, p.StringNode):
                return n.text
            self.errorf(f"can't handle assignment of {n} to empty interface argument")
        if typ == "string":
            if isinstance(n, p.StringNode):
                return n.text
            self.errorf(f"expected string; found {n}")
        self.errorf(f"can't handle {n} for arg of type {_GO_TYPE.get(typ, typ)}")
        return None

    def print_value(self, node: p.Node, v: Any) -> None:
        self.at(node)
        if v is None or v is MISSING:
            self.write("<no value>")
            return
        if isinstance(v, GoMethod):
            self.errorf(f"can't print {node} of type func")
        self.write(sprint_value(v))

    def write(self, text: str) -> None:
        self.size += len(text)
        if self.size > MAX_OUTPUT:
            self.errorf(f"output exceeds {MAX_OUTPUT} bytes; fluxlab stops runaway templates here")
        self.out.append(text)
