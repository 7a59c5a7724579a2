"""`dataclass`, as the standard library's, without compiling source text for every class at import.

On Python 3.11 `dataclasses.dataclass` writes each generated method (`__init__`, `__repr__`, `__eq__`,
`__hash__`, a frozen class's `__setattr__` and `__delattr__`) as source text and `exec`s it: about
0.1 ms per method, four to six per class, and a command's start-up defines a hundred classes. Here
the class gets the standard library's fields (`dataclasses.Field`s, defaults, `__match_args__`,
`__dataclass_params__`, so `fields()`, `replace()` and `asdict()` work as before) with its code
generation off: found by `_first_pass` as the standard library finds them when every annotation is
text naming no ClassVar, InitVar or KW_ONLY, else by the standard library itself; the methods are then:

- `__init__`: the same source the standard library writes (parameters in field order, defaults and
  `default_factory`, frozen fields set through `object.__setattr__`, `__post_init__`), compiled once the
  class has made a few instances - until then the same assignments are made from the fields, so a
  class a run instantiates once or never costs no compilation;
- `__repr__`, `__eq__`, `__hash__`, `__setattr__`, `__delattr__`, `order`'s `__lt__`/`__le__`/`__gt__`/
  `__ge__`, a frozen `slots` class's `__getstate__`/`__setstate__`: shared closures over the field
  names with the standard library's semantics (same text, same tuple comparison and hash, same
  `FrozenInstanceError` messages, `NotImplemented` for another class, the hash rules of `eq`/`frozen`/
  an explicit `__hash__`).

A method the class defines itself is kept, as the standard library keeps it (`order` refuses one, as it
does); `__dataclass_params__` tells the options given (a `dataclasses.dataclass` subclass checks frozen
against it); abstract methods the generated ones implement are cleared. `slots=True` is the standard
library's own (it makes the slotted class). What differs: until a class's `__init__` is compiled,
`inspect.signature` of the class shows `(*args, **kwargs)`, and the compiled one has no annotations
(`typing.get_type_hints(cls.__init__)`); rich's pretty printer takes the `__repr__` for a class's own;
assigning an attribute that is not a field to a frozen slotted instance raises `FrozenInstanceError`
(Python 3.11's own fails with a TypeError from `super()`). Options this module does not reproduce
(`unsafe_hash`, `kw_only`, `match_args=False`, `weakref_slot`, `init=False`, `InitVar` or `KW_ONLY`
fields) leave the class to `dataclasses.dataclass` unchanged; so do the subclasses of such a class.
Type checkers see `dataclasses.dataclass` itself.
"""

from __future__ import annotations

import abc
import dataclasses
import operator
import sys
import threading
import typing
from collections.abc import Callable
from operator import attrgetter
from types import FunctionType, MemberDescriptorType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dataclasses import dataclass as dataclass
else:

    def dataclass(cls: Any = None, /, **options: Any) -> Any:
        """`@dataclass`, `@dataclass(frozen=True, ...)`: see the module's docstring."""

        def wrap(c: type) -> type:
            return _process(c, **options)

        return wrap if cls is None else wrap(cls)


_HANDLED = frozenset({"init", "repr", "eq", "frozen", "order", "slots"})
_DEFAULTS = {"init": True, "repr": True, "eq": True, "frozen": False, "order": False, "slots": False}
_ORDER = {"__lt__": operator.lt, "__le__": operator.le, "__gt__": operator.gt, "__ge__": operator.ge}
_MISSING = dataclasses.MISSING


def _plain(cls: type, options: dict[str, Any]) -> bool:
    """Whether `cls` uses only what this module reproduces (and its dataclass bases are records)."""
    if any(k not in _HANDLED for k in options) or options.get("init", True) is not True:
        return False
    own = cls.__dict__
    if any("InitVar" in str(a) or "KW_ONLY" in str(a) for a in own.get("__annotations__", {}).values()):
        return False
    if any(isinstance(v, dataclasses.Field) and v.kw_only is True for v in own.values()):
        return False
    return all(
        "__record_frozen__" in base.__dict__
        for base in cls.__mro__[1:]
        if "__dataclass_fields__" in base.__dict__
    )


def _process(cls: type, **options: Any) -> type:
    if not _plain(cls, options):
        return dataclasses.dataclass(cls, **options)  # type: ignore[no-any-return, call-overload]
    opts = {**_DEFAULTS, **options}
    own = cls.__dict__
    class_hash = own.get("__hash__", _MISSING)
    has_explicit_hash = not (class_hash is _MISSING or (class_hash is None and "__eq__" in own))
    if opts["frozen"] and ("__setattr__" in own or "__delattr__" in own):
        name = "__setattr__" if "__setattr__" in own else "__delattr__"
        raise TypeError(f"Cannot overwrite attribute {name} in class {cls.__name__}")
    if opts["order"]:
        if not opts["eq"]:
            raise ValueError("eq must be true if order is true")
        for name in _ORDER:
            if name in own:
                raise TypeError(
                    f"Cannot overwrite attribute {name} in class {cls.__name__}. "
                    "Consider using functools.total_ordering"
                )
    defines = {name: name in own for name in ("__init__", "__repr__", "__eq__", "__match_args__")}
    doc = cls.__doc__
    if not doc:  # else the standard library reads a signature: of object.__init__, through ast
        cls.__doc__ = "-"
    bases = [b for b in cls.__mro__[1:] if "__dataclass_fields__" in b.__dict__]
    any_frozen_base = any(b.__dict__["__dataclass_params__"].frozen for b in bases)
    # Frozen only under frozen bases (the standard library refuses a non-frozen class under them,
    # with its own message), where its __setattr__ and __delattr__ are the class's.
    first_pass_frozen = any_frozen_base and opts["frozen"]
    original = cls
    if opts["slots"] or not _first_pass(cls, first_pass_frozen):
        # With slots=True this is a new class, made by the standard library.
        cls = dataclasses.dataclass(
            cls, init=False, repr=False, eq=False, frozen=first_pass_frozen, slots=opts["slots"]
        )
    fields_by_name: dict[str, dataclasses.Field[Any]] = cls.__dataclass_fields__  # type: ignore[attr-defined]
    if any(f._field_type is _INITVAR or f.kw_only is True for f in fields_by_name.values()):  # type: ignore[attr-defined]
        # an InitVar or KW_ONLY only the standard library recognises (a string annotation naming it by
        # another name): the class becomes the standard library's
        return _standard(original, options, doc, defines["__match_args__"], first_pass_frozen)
    if bases and not any_frozen_base and opts["frozen"]:
        raise TypeError("cannot inherit frozen dataclass from a non-frozen one")
    params = cls.__dataclass_params__  # type: ignore[attr-defined]
    params.init, params.repr, params.eq = True, opts["repr"], opts["eq"]
    params.order, params.frozen = opts["order"], opts["frozen"]
    cls.__record_frozen__ = opts["frozen"]  # type: ignore[attr-defined]
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    if not doc:
        cls.__doc__ = _doc(cls, fields, defines["__init__"])
    seen_default = False
    for f in fields:
        if f.init:
            if f.default is _MISSING and f.default_factory is _MISSING:
                if seen_default:
                    raise TypeError(f"non-default argument {f.name!r} follows default argument")
            else:
                seen_default = True
    if not defines["__init__"]:
        cls.__init__ = _lazy_init(cls, opts["frozen"])  # type: ignore[misc]
    if opts["repr"] and not defines["__repr__"]:
        cls.__repr__ = _repr_fn(tuple(f.name for f in fields if f.repr))  # type: ignore[assignment]
    compared = tuple(f.name for f in fields if f.compare)
    if opts["eq"] and not defines["__eq__"]:
        cls.__eq__ = _eq_fn(compared)  # type: ignore[assignment]
    if opts["order"]:
        for name, op in _ORDER.items():
            setattr(cls, name, _order_fn(name, compared, op))
    if opts["frozen"]:  # (also over the first pass's own, which a slotted class's super() would fail in)
        names = tuple(f.name for f in fields)
        cls.__setattr__ = _frozen_setattr(cls, names)  # type: ignore[assignment]
        cls.__delattr__ = _frozen_delattr(cls, names)  # type: ignore[assignment]
        if opts["slots"]:  # unpickling sets the slots past the frozen __setattr__
            if "__getstate__" not in own:
                cls.__getstate__ = _frozen_slots_getstate  # type: ignore[assignment]
            if "__setstate__" not in own:
                cls.__setstate__ = _frozen_slots_setstate  # type: ignore[attr-defined]
    if opts["eq"] and not has_explicit_hash:
        if opts["frozen"]:
            hashed = tuple(f.name for f in fields if (f.compare if f.hash is None else f.hash))
            cls.__hash__ = _hash_fn(hashed)  # type: ignore[assignment]
        else:
            cls.__hash__ = None  # type: ignore[assignment]
    generated = ("__init__", "__repr__", "__eq__", "__hash__", "__setattr__", "__delattr__", *_ORDER)
    for name in (*generated, "__getstate__", "__setstate__"):
        method = cls.__dict__.get(name)
        if method is not None and getattr(method, "__module__", None) == __name__:
            method.__qualname__ = f"{cls.__qualname__}.{name}"  # as the generated methods are named
    # as the standard library does last: a generated method may implement an abstract one
    abc.update_abstractmethods(cls)
    return cls


_INITVAR = dataclasses._FIELD_INITVAR  # type: ignore[attr-defined]
_CLASSVAR = dataclasses._FIELD_CLASSVAR  # type: ignore[attr-defined]
_FIELD = dataclasses._FIELD  # type: ignore[attr-defined]
_IDENTIFIER = dataclasses._MODULE_IDENTIFIER_RE  # type: ignore[attr-defined]


def _special(value: object) -> bool:
    """Whether an annotation naming `value` may make its field a ClassVar, an InitVar or the KW_ONLY
    marker, as `dataclasses` tells them (`_is_classvar`, `_is_initvar`, `_is_kw_only`)."""
    return (
        value is typing.ClassVar
        or (type(value) is typing._GenericAlias and value.__origin__ is typing.ClassVar)  # type: ignore[attr-defined]
        or value is dataclasses.InitVar
        or type(value) is dataclasses.InitVar
        or value is dataclasses.KW_ONLY
    )


def _first_pass(cls: type, frozen: bool) -> bool:
    """`dataclasses.dataclass(cls, init=False, repr=False, eq=False, frozen=frozen)` (fields, their class
    attributes, `__dataclass_params__`, `__match_args__`, the standard library's errors) without its
    per-annotation work, ~60% of a class's processing: done for a class whose annotations are all text
    (`from __future__ import annotations`) naming nothing the standard library could read as a
    ClassVar, an InitVar or KW_ONLY (it reads the first name of the text in the class's module, as
    here). False, with nothing done, for any other class: the standard library processes it. The
    methods the standard library would write (a frozen class's `__setattr__`) are `_process`'s."""
    own = cls.__dict__
    annotations: dict[str, Any] = own.get("__annotations__", {})
    module = sys.modules.get(cls.__module__)
    if module is None:
        return False
    namespace = module.__dict__
    for text in annotations.values():
        if not isinstance(text, str):
            return False
        match = _IDENTIFIER.match(text)
        if match is None:
            continue
        if match.group(1) and namespace.get(match.group(1)) not in (typing, dataclasses):
            continue
        if _special(namespace.get(match.group(2))):
            return False
    params = dataclasses._DataclassParams(False, False, False, False, False, frozen)  # type: ignore[attr-defined]
    cls.__dataclass_params__ = params  # type: ignore[attr-defined]
    fields: dict[str, dataclasses.Field[Any]] = {}
    any_frozen_base = has_dataclass_bases = False
    for base in cls.__mro__[-1:0:-1]:
        base_fields = getattr(base, "__dataclass_fields__", None)
        if base_fields is not None:
            has_dataclass_bases = True
            for f in base_fields.values():
                fields[f.name] = f
            if base.__dataclass_params__.frozen:  # type: ignore[attr-defined]
                any_frozen_base = True
    own_fields = []
    for name, text in annotations.items():
        default = getattr(cls, name, _MISSING)
        if isinstance(default, dataclasses.Field):
            f = default
        else:
            if isinstance(default, MemberDescriptorType):  # a __slots__ entry: no default
                default = _MISSING
            f = dataclasses.field(default=default)
        f.name, f.type = name, text
        f._field_type = _FIELD  # type: ignore[attr-defined]
        if f.kw_only is _MISSING:
            f.kw_only = False
        if f.default.__class__.__hash__ is None:
            raise ValueError(
                f"mutable default {type(f.default)} for field {f.name} is not allowed: use default_factory"
            )
        own_fields.append(f)
    for f in own_fields:
        fields[f.name] = f
        if isinstance(getattr(cls, f.name, None), dataclasses.Field):
            if f.default is _MISSING:
                delattr(cls, f.name)
            else:
                setattr(cls, f.name, f.default)
    for name, value in own.items():
        if isinstance(value, dataclasses.Field) and name not in annotations:
            raise TypeError(f"{name!r} is a field but has no type annotation")
    if has_dataclass_bases:
        if any_frozen_base and not frozen:
            raise TypeError("cannot inherit non-frozen dataclass from a frozen one")
        if not any_frozen_base and frozen:
            raise TypeError("cannot inherit frozen dataclass from a non-frozen one")
    cls.__dataclass_fields__ = fields  # type: ignore[attr-defined]
    if "__match_args__" not in own:
        init_fields = (f for f in fields.values() if f._field_type in (_FIELD, _INITVAR))  # type: ignore[attr-defined]
        cls.__match_args__ = tuple(f.name for f in init_fields if f.init and not f.kw_only)  # type: ignore[attr-defined, misc]
    return True


def _standard(
    cls: type, options: dict[str, Any], doc: str | None, had_match_args: bool, frozen: bool
) -> type:
    """`cls`, which a first pass with the code generation off has processed, processed again by
    `dataclasses.dataclass` as if it had had only that: its own fields' `Field`s back as class
    attributes (the first pass replaced them with their defaults), what the pass added removed."""
    import inspect  # only here and in `_doc`'s rare cases: importing it costs a command's start-up

    annotations = inspect.get_annotations(cls)
    for name, f in cls.__dataclass_fields__.items():  # type: ignore[attr-defined]
        if name in annotations and f._field_type is not _CLASSVAR:
            setattr(cls, name, f)
    added = ["__setattr__", "__delattr__"] if frozen else []
    if not had_match_args:
        added.append("__match_args__")
    for name in added:
        if name in cls.__dict__:
            delattr(cls, name)
    cls.__doc__ = doc
    return dataclasses.dataclass(cls, **options)  # type: ignore[no-any-return, call-overload]


def _doc(cls: type, fields: tuple[dataclasses.Field[Any], ...], own_init: bool) -> str:
    """`Name(a: 'int', b: 'str' = 'x')`: the docstring the standard library gives an undocumented class
    (`inspect.signature` of the class: its `__init__`'s, written from the fields, unless the class has
    its own `__init__`, a `__new__` or a metaclass `__call__`, which the signature is then of)."""
    if own_init or isinstance(cls.__new__, FunctionType) or isinstance(type(cls).__call__, FunctionType):
        import inspect

        return cls.__name__ + str(inspect.signature(cls)).replace(" -> None", "")
    params = []
    for f in fields:
        if not f.init:
            continue
        text = f"{f.name}: {_annotation_text(f.type)}"
        if f.default_factory is not _MISSING:
            text += " = <factory>"
        elif f.default is not _MISSING:
            text += f" = {f.default!r}"
        params.append(text)
    return f"{cls.__name__}({', '.join(params)})"


def _annotation_text(annotation: Any) -> str:
    """`inspect.formatannotation(annotation)`: a string annotation (every one under `from __future__
    import annotations`) is its repr, which needs no `inspect`."""
    if isinstance(annotation, str):
        return repr(annotation)
    import inspect

    return inspect.formatannotation(annotation)


def _getter(names: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    """The tuple `(obj.a, obj.b, ...)` of `names`, as the generated methods build it."""
    if not names:
        return lambda obj: ()
    if len(names) == 1:
        one = attrgetter(names[0])
        return lambda obj: (one(obj),)
    return attrgetter(*names)


def _eq_fn(names: tuple[str, ...]) -> Callable[[Any, Any], Any]:
    values = _getter(names)

    def __eq__(self: Any, other: Any) -> Any:
        if other.__class__ is self.__class__:
            return values(self) == values(other)
        return NotImplemented

    return __eq__


def _order_fn(name: str, names: tuple[str, ...], op: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    values = _getter(names)

    def compare(self: Any, other: Any) -> Any:
        if other.__class__ is self.__class__:
            return op(values(self), values(other))
        return NotImplemented

    compare.__name__ = name
    return compare


def _hash_fn(names: tuple[str, ...]) -> Callable[[Any], int]:
    values = _getter(names)

    def __hash__(self: Any) -> int:
        return hash(values(self))

    return __hash__


_REPR_RUNNING: set[tuple[int, int]] = set()


def _repr_fn(names: tuple[str, ...]) -> Callable[[Any], str]:
    def __repr__(self: Any) -> str:
        key = (id(self), threading.get_ident())
        if key in _REPR_RUNNING:
            return "..."
        _REPR_RUNNING.add(key)
        try:
            shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in names)
            return f"{self.__class__.__qualname__}({shown})"
        finally:
            _REPR_RUNNING.discard(key)

    return __repr__


def _frozen_setattr(cls: type, names: tuple[str, ...]) -> Callable[[Any, str, Any], None]:
    def __setattr__(self: Any, name: str, value: Any) -> None:
        if type(self) is cls or name in names:
            raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")
        super(cls, self).__setattr__(name, value)  # type: ignore[arg-type]

    return __setattr__


def _frozen_delattr(cls: type, names: tuple[str, ...]) -> Callable[[Any, str], None]:
    def __delattr__(self: Any, name: str) -> None:
        if type(self) is cls or name in names:
            raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")
        super(cls, self).__delattr__(name)  # type: ignore[arg-type]

    return __delattr__


def _frozen_slots_getstate(self: Any) -> list[Any]:
    """A frozen slotted class's `__getstate__`, the standard library's: the values of the fields of the
    instance's class (a subclass's too, which inherits it)."""
    return [getattr(self, f.name) for f in dataclasses.fields(self)]


def _frozen_slots_setstate(self: Any, state: list[Any]) -> None:
    for f, value in zip(dataclasses.fields(self), state, strict=False):
        object.__setattr__(self, f.name, value)


_HAS_DEFAULT_FACTORY = object()


_COMPILE_AFTER = 16
"""Instances a class makes through the generic `__init__` before its own is compiled."""


def _lazy_init(cls: type, frozen: bool) -> Callable[..., None]:
    """`cls.__init__`: its first instances are made by `_construct` from the fields (a class made once or
    twice needs no compiled `__init__`); then, or on any call `_construct` does not take, the real one
    is compiled, put on the class and called (so a wrong call raises Python's own TypeError)."""
    calls = 0
    plan: _Plan | None = None

    def __init__(self: Any, /, *args: Any, **kwargs: Any) -> None:  # a field may be called self
        nonlocal calls, plan
        calls += 1
        if calls <= _COMPILE_AFTER:
            if plan is None:
                plan = _plan(cls)
            if _construct(plan, self, args, kwargs, frozen):
                return
        real = _compile_init(cls, frozen)
        if cls.__dict__.get("__init__") is __init__:
            cls.__init__ = real  # type: ignore[misc]
        real(self, *args, **kwargs)

    return __init__


# (init parameter names, the same as a set, per field in order: (name, given as a parameter, default,
# default_factory), whether there is a __post_init__)
_Plan = tuple[tuple[str, ...], frozenset[str], tuple[tuple[str, bool, Any, Any], ...], bool]


def _plan(cls: type) -> _Plan:
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    names = tuple(f.name for f in fields if f.init)
    steps = tuple(
        (f.name, f.init, f.default, f.default_factory)
        for f in fields
        if f.init or f.default_factory is not _MISSING
    )
    return names, frozenset(names), steps, hasattr(cls, "__post_init__")


def _construct(plan: _Plan, self: Any, args: tuple[Any, ...], kwargs: dict[str, Any], frozen: bool) -> bool:
    """What the compiled `__init__` does, for a call it accepts; False (nothing done) for any other."""
    names, known, steps, post = plan
    if len(args) > len(names):
        return False
    given = dict(zip(names, args, strict=False))
    for key, value in kwargs.items():
        if key in given or key not in known:
            return False
        given[key] = value
    for name, is_param, default, factory in steps:
        if is_param and name not in given and default is _MISSING and factory is _MISSING:
            return False
    assign = object.__setattr__ if frozen else setattr
    for name, is_param, default, factory in steps:
        if is_param and name in given:
            value = given[name]
        elif factory is not _MISSING:
            value = factory()
        else:
            value = default
        assign(self, name, value)
    if post:
        self.__post_init__()
    return True


def _compile_init(cls: type, frozen: bool) -> Callable[..., None]:
    """The `__init__` `dataclasses.dataclass` writes for `cls` (without the annotations)."""
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    env: dict[str, Any] = {"__object_setattr": object.__setattr__, "__HDF": _HAS_DEFAULT_FACTORY}
    this = "__dataclass_self__" if any(f.name == "self" for f in fields) else "self"
    params, body = [this], []
    for f in fields:
        default = f"__default_{f.name}"
        if f.default_factory is not _MISSING:
            env[f"__factory_{f.name}"] = f.default_factory
            if f.init:
                params.append(f"{f.name}=__HDF")
                value = f"__factory_{f.name}() if {f.name} is __HDF else {f.name}"
            else:
                value = f"__factory_{f.name}()"
        elif f.init:
            if f.default is not _MISSING:
                env[default] = f.default
                params.append(f"{f.name}={default}")
            else:
                params.append(f.name)
            value = f.name
        else:
            continue  # init=False without a factory: the class attribute is the value
        body.append(
            f"__object_setattr({this}, {f.name!r}, {value})" if frozen else f"{this}.{f.name} = {value}"
        )
    if hasattr(cls, "__post_init__"):
        body.append(f"{this}.__post_init__()")
    source = f"def __init__({', '.join(params)}):\n" + "".join(f" {line}\n" for line in body or ["pass"])
    namespace: dict[str, Any] = {}
    exec(source, env, namespace)
    init: Callable[..., None] = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    return init
