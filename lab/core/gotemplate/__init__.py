"""Go `text/template` with sprig's hermetic functions, as image-automation-controller renders commit messages.

    tmpl = parse("{{range .Changed.Changes}}{{.OldValue}}{{end}}")
    text = tmpl.execute(data)

Errors carry Go's own wording (`template: commit message:1: unexpected EOF`), so learners see what Flux shows.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from lab.core.gotemplate.exec import ExecError, State
from lab.core.gotemplate.parser import ListNode, ParseError, parse_tree
from lab.core.gotemplate.values import GoMethod


class TemplateError(Exception):
    """A parse or execution error; `str(err)` is Go's error text. `phase` is "parse" or "exec"."""

    def __init__(self, message: str, *, phase: str) -> None:
        super().__init__(message)
        self.message = message
        self.phase = phase


@contextmanager
def _template_errors(name: str, phase: str, go_error: type[Exception], part: str) -> Iterator[None]:
    """Go's error (or Python's recursion limit, which Go does not have) as a TemplateError of `phase`."""
    try:
        yield
    except go_error as exc:
        raise TemplateError(str(exc), phase=phase) from None
    except RecursionError:
        raise TemplateError(
            f"template: {name}: nesting too deep for fluxlab's template {part}", phase=phase
        ) from None


class Template:
    """A parsed template; `execute` may be called many times."""

    def __init__(self, name: str, text: str, trees: dict[str, ListNode]) -> None:
        self.name = name
        self.text = text
        self.trees = trees
        self.root = trees[name]

    def execute(self, data: Any) -> str:
        state = State(self.name, self.text, _find_function, self.trees)
        with _template_errors(self.name, "exec", ExecError, "engine"):
            return state.execute(self.root, _from_python(data))


# The template functions (builtins and sprig's, most of the engine's code) are imported when a template
# names one: the usual commit template, fields in a range, is parsed and run without them.
def _has_function(name: str) -> bool:
    from lab.core.gotemplate import funcs

    return funcs.has_function(name)


def _find_function(name: str) -> tuple[GoMethod, bool] | None:
    from lab.core.gotemplate import funcs

    return funcs.find_function(name)


def _from_python(v: Any) -> Any:
    """Plain Python containers as Go's []interface{} / map[string]interface{} (tuples become lists)."""
    if isinstance(v, tuple | list):
        return [_from_python(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _from_python(x) for k, x in v.items()}
    return v


def parse(text: str, name: str = "commit message") -> Template:
    with _template_errors(name, "parse", ParseError, "parser"):
        trees = parse_tree(name, text, _has_function)
    return Template(name, text, trees)


__all__ = ["Template", "TemplateError", "parse"]
