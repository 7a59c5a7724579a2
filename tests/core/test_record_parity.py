"""lab.core.record.dataclass against dataclasses.dataclass on what test_record.py does not cover: the options
it hands to the standard library on a record's subclass, `__dataclass_params__`, abstract methods, InitVar
and KW_ONLY (also under another name), a field called `self`, generics, inheritance with overridden
fields, pickling and copying, pattern matching and recursive reprs. Each scenario runs the same class
bodies under both decorators and compares what it gives, or the exception it raises."""

from __future__ import annotations

import abc
import copy
import dataclasses
import pickle
import typing
from collections.abc import Callable
from dataclasses import KW_ONLY, InitVar, field
from dataclasses import KW_ONLY as KwOnly  # the standard library resolves a string annotation's alias
from dataclasses import InitVar as Init
from typing import Any, ClassVar, Generic, TypeVar

import pytest

from lab.core import record
from tests.core.test_record import outcome

T = TypeVar("T")
Decorator = Callable[..., Any]


def short(text: str) -> str:
    """A repr without the qualname's `<locals>` path."""
    return text.replace("scenarios.<locals>.", "").replace("make.<locals>.", "")


def scenarios(deco: Decorator) -> dict[str, Callable[[], Any]]:
    """Each scenario defines its classes when it runs, so a class definition's error is its outcome."""

    @deco(frozen=True)
    class Base:
        a: int

    @deco
    class Mutable:
        a: int
        b: int = 1

    def subclass(options: dict[str, Any], base: type = Base) -> Callable[[], Any]:
        def run() -> Any:
            @deco(**options)
            class Child(base):  # type: ignore[valid-type, misc]
                b: int = 0

            c = Child(1, 2)
            return short(repr(c)), c == Child(1, 2), outcome(lambda: setattr(c, "a", 5))

        return lambda: outcome(run)

    def standard_child() -> Any:
        @dataclasses.dataclass(frozen=True)
        class Child(Base):
            b: int = 0

        return short(repr(Child(1, 2))), hash(Child(1, 2)) == hash((1, 2))

    def params() -> Any:
        @deco(repr=False)
        class NoRepr:
            a: int

        @deco(eq=False, frozen=True)
        class NoEq:
            a: int

        def tell(c: Any) -> tuple[bool, ...]:
            p = c.__dataclass_params__
            return p.init, p.repr, p.eq, p.order, p.unsafe_hash, p.frozen

        return [tell(c) for c in (Base, Mutable, NoRepr, NoEq)]

    def abstract(method: str, frozen: bool) -> Callable[[], Any]:
        def run() -> Any:
            Abstract = abc.ABCMeta("Abstract", (), {method: abc.abstractmethod(lambda self, *a: None)})

            @deco(frozen=frozen)
            class Concrete(Abstract):  # type: ignore[valid-type, misc]
                a: int

            c = Concrete(1)
            return sorted(Concrete.__abstractmethods__), short(repr(c)), c == Concrete(1)

        return run

    def initvar(alias: bool) -> Any:
        if alias:

            @deco
            class Scaled:
                a: int
                scale: Init[int] = 1

                def __post_init__(self, scale: int) -> None:
                    self.a *= scale

        else:

            @deco
            class Scaled:  # type: ignore[no-redef]
                a: int
                scale: InitVar[int] = 1

                def __post_init__(self, scale: int) -> None:
                    self.a *= scale

        return (
            short(repr(Scaled(2, 3))),
            Scaled.__doc__,
            [f.name for f in dataclasses.fields(Scaled)],
            short(repr(dataclasses.replace(Scaled(2, 3), a=5, scale=2))),
        )

    def kw_only(alias: bool) -> Any:
        if alias:

            @deco
            class Keywords:
                a: int = 0
                _: KwOnly
                b: int

        else:

            @deco
            class Keywords:  # type: ignore[no-redef]
                a: int = 0
                _: KW_ONLY
                b: int

        return short(repr(Keywords(b=2))), Keywords.__doc__, outcome(lambda: Keywords(1, 2))

    def field_called_self() -> Any:
        @deco(frozen=True)
        class Me:
            self: int
            other: int = 0

        return [short(repr(Me(self=i, other=i))) for i in range(20)] + [outcome(lambda: Me(1, self=2))]

    def own_init() -> Any:
        @deco
        class Custom:
            a: int

            def __init__(self, text: str) -> None:
                self.a = len(text)

        return Custom.__doc__, short(repr(Custom("abc")))

    def generic() -> Any:
        @deco(frozen=True)
        class Box(Generic[T]):
            item: T
            label: str = ""

        b = Box[int](1)
        return (
            short(repr(b)),
            b == Box(1),
            hash(b) == hash(Box(1)),
            Box.__doc__,
            typing.get_type_hints(Box),
            outcome(lambda: setattr(b, "item", 2)),
        )

    def overriding() -> Any:
        @deco
        class Parent:
            a: int
            b: list[int] = field(default_factory=list)
            c: str = field(default="c", repr=False)

        @deco
        class Kid(Parent):
            a: int = 5
            c: str = "k"
            d: float = 0.5

        k = Kid()
        return (
            short(repr(k)),
            Kid.__doc__,
            Kid.__match_args__,
            dataclasses.asdict(k),
            k == Kid(5, [], "k"),
            Kid(b=[1]) == Kid(b=[2]),
            Parent(1) == Kid(1),
        )

    def hashing() -> Any:
        @deco(frozen=True)
        class Keyed:
            a: int
            b: int = field(default=0, hash=False)
            c: int = field(default=0, compare=False, hash=True)
            d: int = field(default=0, compare=False)

        k = Keyed(1, 2, 3, 4)
        return hash(k) == hash((1, 3)), k == Keyed(1, 2, 9, 9), len({k, Keyed(1, 2, 3, 5), Keyed(1, 3, 3)})

    def nan_field() -> Any:
        @deco(frozen=True)
        class Measure:
            value: float

        nan = float("nan")
        return Measure(nan) == Measure(nan), Measure(nan) == Measure(float("nan"))

    def copies() -> Any:
        values: list[Any] = []
        for cls in PICKLED[deco]:
            for i in range(3):
                obj = cls(i)
                for clone in (pickle.loads(pickle.dumps(obj)), copy.copy(obj), copy.deepcopy(obj)):
                    values.append((repr(clone).partition("(")[2], clone == obj, clone is obj))
        frozen = PICKLED[deco][0]
        values.append(hash(copy.deepcopy(frozen(7))) == hash(pickle.loads(pickle.dumps(frozen(7)))))
        values.append(outcome(lambda: setattr(pickle.loads(pickle.dumps(frozen(7))), "a", 1)))
        return values

    def recursion() -> Any:
        @deco
        class Pair:
            left: Any = None
            right: Any = None

        a, b = Pair(), Pair()
        a.left, b.left, b.right = b, a, [a, b]
        return short(repr(a)), short(repr(b)), short(repr([a, {"k": b}]))

    def matching() -> Any:
        @deco(frozen=True)
        class Point:
            x: int
            y: int = 0
            tag: str = field(default="", init=False)

        def where(obj: object) -> str:
            match obj:
                case Point(0, y):
                    return f"on y at {y}"
                case Point(x, 0):
                    return f"on x at {x}"
                case Point(x=x, y=y):
                    return f"at {x},{y}"
            return "nowhere"

        return Point.__match_args__, [where(Point(*p)) for p in ((0, 3), (4, 0), (1, 2))]

    def plain_subclass() -> Any:
        @deco(frozen=True)
        class Rec:
            a: int

            def __post_init__(self) -> None:
                object.__setattr__(self, "seen", True)

        class Sub(Rec):
            extra = 1

        made = [Sub(i) for i in range(20)]
        s = made[-1]
        s_attr = outcome(lambda: setattr(s, "other", 1))
        return short(repr(s)), s.seen, s_attr, s == Rec(19), s == Sub(19), getattr(s, "other", None)

    def replace_and_fields() -> Any:
        @deco(frozen=True)
        class Spec:
            name: str
            items: tuple[str, ...] = ()
            note: str = field(default="n", init=False)
            cache: dict[str, int] = field(default_factory=dict, init=False, repr=False, compare=False)
            kind: ClassVar[str] = "spec"

        s = Spec("a", ("x",))
        return (
            short(repr(dataclasses.replace(s, items=("y",)))),
            outcome(lambda: dataclasses.replace(s, note="m")),
            dataclasses.astuple(s),
            [(f.name, f.init, f.repr, f.compare) for f in dataclasses.fields(Spec)],
            dataclasses.is_dataclass(s),
            dataclasses.is_dataclass(Spec),
            typing.get_type_hints(Spec, localns={"ClassVar": ClassVar}),
        )

    def fallbacks() -> Any:
        @deco(kw_only=True)
        class Named:
            a: int
            b: int = 0

        @deco(unsafe_hash=True)
        class Hashed:
            a: int

        return short(repr(Named(b=1, a=2))), outcome(lambda: Named(1)), hash(Hashed(1)) == hash((1,))

    def ordered_and_slotted() -> Any:
        @deco(order=True)
        class Ordered:
            a: int
            b: int = field(default=0, compare=False)

        @deco(slots=True, frozen=True)
        class Slotted:
            a: int
            b: list[int] = field(default_factory=list, compare=False)

        return (
            Ordered(1, 5) < Ordered(2),
            sorted([Ordered(3), Ordered(1, 9)]) == [Ordered(1), Ordered(3)],
            outcome(lambda: Ordered(1) < 2),  # type: ignore[operator]
            Slotted.__slots__,
            outcome(lambda: setattr(Slotted(1), "a", 2)),
            hash(Slotted(1, [2])) == hash((1,)),
            hasattr(Slotted(1), "__dict__"),
        )

    def slotted_pickles() -> Any:
        values: list[Any] = []
        for cls in SLOTTED[deco]:
            obj = cls(1, 2) if cls is not SLOTTED[deco][0] else cls(1)
            for clone in (pickle.loads(pickle.dumps(obj)), copy.copy(obj), copy.deepcopy(obj)):
                values.append((repr(clone).partition("(")[2], clone == obj, clone.__getstate__()))
        return values

    def initvar_slotted() -> Any:
        @deco(slots=True, frozen=True)
        class Scaled:
            a: int
            scale: Init[int] = 1

            def __post_init__(self, scale: int) -> None:
                object.__setattr__(self, "a", self.a * scale)

        return short(repr(Scaled(2, 3))), Scaled.__slots__, hasattr(Scaled(1), "__dict__"), hash(Scaled(2, 3))

    return {
        "order=True subclass of a frozen record": subclass({"frozen": True, "order": True}),
        "slots=True subclass of a frozen record": subclass({"frozen": True, "slots": True}),
        "non-frozen order=True subclass of a frozen record": subclass({"order": True}),
        "non-frozen slots=True subclass of a frozen record": subclass({"slots": True}),
        "frozen subclass of a frozen record": subclass({"frozen": True}),
        "non-frozen subclass of a frozen record": subclass({}),
        "frozen subclass of a non-frozen record": subclass({"frozen": True}, Mutable),
        "unsafe_hash subclass of a non-frozen record": subclass({"unsafe_hash": True}, Mutable),
        "dataclasses.dataclass subclass of a frozen record": standard_child,
        "__dataclass_params__": params,
        "abstract __repr__": abstract("__repr__", False),
        "abstract __eq__": abstract("__eq__", True),
        "abstract __hash__": abstract("__hash__", True),
        "InitVar": lambda: initvar(alias=False),
        "InitVar under another name": lambda: initvar(alias=True),
        "KW_ONLY": lambda: kw_only(alias=False),
        "KW_ONLY under another name": lambda: kw_only(alias=True),
        "a field called self": field_called_self,
        "own __init__": own_init,
        "Generic": generic,
        "overridden fields and added defaults": overriding,
        "hash=, compare=": hashing,
        "NaN field": nan_field,
        "pickle, copy, deepcopy": copies,
        "recursive reprs": recursion,
        "match": matching,
        "a plain subclass": plain_subclass,
        "replace, fields, astuple, ClassVar": replace_and_fields,
        "options left to the standard library": fallbacks,
        "order=True, slots=True": ordered_and_slotted,
        "pickling a frozen slotted record and its subclasses": slotted_pickles,
        "InitVar under another name, slots=True": initvar_slotted,
    }


def _picklable(deco: Decorator, prefix: str) -> dict[str, type]:
    """Classes pickle can find: each is made a global of this module under `prefix` + its name."""

    @deco(frozen=True)
    class Frozen:
        a: int
        b: tuple[int, ...] = ()

    @deco
    class Mutable:
        a: int
        b: list[int] = field(default_factory=list)

    @deco(frozen=True, slots=True)
    class Slotted:
        a: int

    @deco(frozen=True)
    class SlottedChild(Slotted):
        b: int = 0

    @deco(frozen=True, slots=True)
    class SlottedSlottedChild(Slotted):
        b: int = 0

    made: dict[str, type] = {}
    for cls in (Frozen, Mutable, Slotted, SlottedChild, SlottedSlottedChild):
        name = cls.__name__
        cls.__name__ = cls.__qualname__ = prefix + name
        globals()[prefix + name] = made[name] = cls
    return made


_STD, _RECORD = _picklable(dataclasses.dataclass, "_Std"), _picklable(record.dataclass, "_Record")
PICKLED: dict[Decorator, tuple[type, ...]] = {
    deco: (made["Frozen"], made["Mutable"])
    for deco, made in ((dataclasses.dataclass, _STD), (record.dataclass, _RECORD))
}
SLOTTED: dict[Decorator, tuple[type, ...]] = {
    deco: (made["Slotted"], made["SlottedChild"], made["SlottedSlottedChild"])
    for deco, made in ((dataclasses.dataclass, _STD), (record.dataclass, _RECORD))
}


@pytest.mark.parametrize("compile_after", [16, 0], ids=["fields", "compiled"])
@pytest.mark.parametrize("name", sorted(scenarios(dataclasses.dataclass)))
def test_record_behaves_as_the_standard_dataclass(
    name: str, compile_after: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(record, "_COMPILE_AFTER", compile_after)
    got = outcome(scenarios(record.dataclass)[name])
    assert got == outcome(scenarios(dataclasses.dataclass)[name])
    assert got[0] == "value"  # a scenario that expects an error returns it: an error in both proves nothing
