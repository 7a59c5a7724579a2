"""lab.core.record.dataclass behaves as dataclasses.dataclass: the same class body under both decorators."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from collections.abc import Callable
from typing import Any, ClassVar

import pytest

from lab.core import record

Decorator = Callable[..., Any]


def make(deco: Decorator) -> dict[str, Any]:
    """A family of classes exercising what lab's dataclasses use, decorated with `deco`."""

    @deco
    class Plain:
        a: int
        b: str = "x"
        c: list[int] = dataclasses.field(default_factory=list)
        hidden: str = dataclasses.field(default="h", repr=False)
        ignored: int = dataclasses.field(default=0, compare=False)
        counter: ClassVar[int] = 0

    @deco(frozen=True)
    class Frozen:
        """Documented."""

        a: int
        b: tuple[str, ...] = ()
        later: list[str] = dataclasses.field(default_factory=list, init=False)
        fixed: int = dataclasses.field(default=7, init=False)

        @property
        def total(self) -> int:
            return self.a + len(self.b)

    @deco(frozen=True)
    class FrozenChild(Frozen):
        extra: str = "e"

    @deco(eq=False)
    class NoEq:
        a: int

    @deco(eq=False, repr=False)
    class Bare:
        a: int

    @deco
    class Post:
        a: int
        doubled: int = dataclasses.field(default=0, init=False)

        def __post_init__(self) -> None:
            self.doubled = self.a * 2

    @deco(frozen=True)
    class OwnEq:
        a: int

        def __eq__(self, other: object) -> bool:
            return True

    @deco(frozen=True)
    class OwnHash:
        a: int

        def __hash__(self) -> int:
            return 42

    @deco
    class OwnRepr:
        a: int

        def __repr__(self) -> str:
            return "mine"

    @deco(frozen=True)
    class Empty:
        pass

    @deco
    class Node:
        children: list[Any] = dataclasses.field(default_factory=list)

    @deco(frozen=True, order=True)
    class Ordered:
        a: int
        b: str = ""
        ignored: int = dataclasses.field(default=0, compare=False)

    @deco(eq=False, slots=True)
    class Slotted:
        a: int
        b: str = "x"
        c: list[int] = dataclasses.field(default_factory=list)

    @deco(slots=True)
    class SlottedEq:
        a: int
        b: str = "x"

    @deco(frozen=True, slots=True)
    class FrozenSlotted:
        a: int
        b: tuple[str, ...] = ()

    return {
        "Plain": Plain,
        "Frozen": Frozen,
        "FrozenChild": FrozenChild,
        "NoEq": NoEq,
        "Bare": Bare,
        "Post": Post,
        "OwnEq": OwnEq,
        "OwnHash": OwnHash,
        "OwnRepr": OwnRepr,
        "Empty": Empty,
        "Node": Node,
        "Ordered": Ordered,
        "Slotted": Slotted,
        "SlottedEq": SlottedEq,
        "FrozenSlotted": FrozenSlotted,
    }


STD = make(dataclasses.dataclass)


def outcome(fn: Callable[[], Any]) -> tuple[str, Any]:
    """What calling `fn` gives: its value, or its exception's type and message."""
    try:
        return "value", fn()
    except Exception as err:  # the exception is the behaviour under test
        return type(err).__name__, str(err)


def scenarios(k: dict[str, Any]) -> dict[str, Callable[[], Any]]:
    p = k["Plain"](1, "y", [2])
    f = k["Frozen"](3, ("u",))
    child = k["FrozenChild"](4, extra="z")
    node = k["Node"]()
    node.children.append(node)
    o1, o2 = k["Ordered"](1, "b"), k["Ordered"](1, "c", ignored=9)
    slotted, frozen_slotted = k["Slotted"](1), k["FrozenSlotted"](2, ("v",))
    return {
        "order lt": lambda: (o1 < o2, o2 < o1, o1 < o1),
        "order le ge gt": lambda: (o1 <= o2, o1 >= o2, o1 > o2, o1 <= k["Ordered"](1, "b", 5)),
        "order other class": lambda: o1 < child,
        "order other type": lambda: o1.__lt__(1),
        "order sorts": lambda: [repr(o) for o in sorted([o2, o1, k["Ordered"](0)])],
        "order hash": lambda: hash(o1) == hash(k["Ordered"](1, "b", 7)),
        "order method name": lambda: (k["Ordered"].__lt__.__name__, k["Ordered"].__ge__.__qualname__),
        "slots": lambda: (k["Slotted"].__slots__, k["FrozenSlotted"].__slots__),
        "slots no dict": lambda: hasattr(slotted, "__dict__"),
        "slots repr": lambda: (repr(slotted), repr(frozen_slotted), repr(k["SlottedEq"](3))),
        "slots eq=False is identity": lambda: slotted == k["Slotted"](1),
        "slots eq": lambda: (k["SlottedEq"](1) == k["SlottedEq"](1), k["SlottedEq"](1) == k["SlottedEq"](2)),
        "slots unknown attribute": lambda: setattr(slotted, "zzz", 1),
        "slots assign": lambda: (setattr(slotted, "a", 5), slotted.a),
        "slots factory": lambda: (slotted.c, k["Slotted"](1).c is k["Slotted"](1).c),
        "slots defaults are not class attributes": lambda: "b" in k["Slotted"].__dict__,
        "frozen slots assign": lambda: setattr(frozen_slotted, "a", 9),
        "frozen slots delete": lambda: delattr(frozen_slotted, "b"),
        "frozen slots hash": lambda: hash(frozen_slotted) == hash(k["FrozenSlotted"](2, ("v",))),
        "frozen slots pickle": lambda: repr(pickle.loads(pickle.dumps(frozen_slotted))),
        "frozen slots copy": lambda: repr(copy.deepcopy(frozen_slotted)),
        "slots replace": lambda: repr(dataclasses.replace(frozen_slotted, a=3)),
        "slots fields": lambda: [f.name for f in dataclasses.fields(slotted)],
        "repr plain": lambda: repr(p),
        "repr defaults": lambda: repr(k["Plain"](a=5)),
        "repr frozen": lambda: repr(f),
        "repr child": lambda: repr(child),
        "repr empty": lambda: repr(k["Empty"]()),
        "repr recursive": lambda: repr(node),
        "repr own": lambda: repr(k["OwnRepr"](1)),
        "repr no eq": lambda: repr(k["NoEq"](1)).split("(")[1],
        "bare repr is object's": lambda: repr(k["Bare"](1)).startswith("<"),
        "eq same": lambda: p == k["Plain"](1, "y", [2]),
        "eq ignores compare=False": lambda: p == k["Plain"](1, "y", [2], ignored=9),
        "eq differs": lambda: p == k["Plain"](2, "y", [2]),
        "eq other class": lambda: k["Frozen"](4, ()) == child,
        "eq other type": lambda: p.__eq__(1),
        "eq=False is identity": lambda: k["NoEq"](1) == k["NoEq"](1),
        "own eq kept": lambda: k["OwnEq"](1) == k["OwnEq"](2),
        "hash frozen": lambda: hash(f) == hash(k["Frozen"](3, ("u",))),
        "hash value": lambda: hash(k["Frozen"](3, ("u",))),
        "hash empty": lambda: hash(k["Empty"]()),
        "hash own kept": lambda: hash(k["OwnHash"](1)),
        "hash unhashable eq": lambda: hash(p),
        "hash eq=False is identity": lambda: type(k["NoEq"].__hash__).__name__,
        "frozen assign": lambda: setattr(f, "a", 9),
        "frozen assign other": lambda: setattr(f, "zzz", 9),
        "frozen delete": lambda: delattr(f, "a"),
        "frozen child assign": lambda: setattr(child, "extra", "q"),
        "init=False factory": lambda: f.later,
        "init=False default": lambda: f.fixed,
        "init=False refused": lambda: k["Frozen"](1, (), [1]),
        "missing argument": lambda: k["Plain"](),
        "too many arguments": lambda: k["Plain"](1, "b", [], "h", 0, 9),
        "unknown keyword": lambda: k["Plain"](1, nope=2),
        "twice": lambda: k["Plain"](1, a=2),
        "post init": lambda: k["Post"](4).doubled,
        "mutable default not shared": lambda: k["Plain"](1).c is k["Plain"](1).c,
        "vars order": lambda: list(vars(k["Plain"](1))),
        "fields": lambda: [f.name for f in dataclasses.fields(child)],
        "replace": lambda: repr(dataclasses.replace(child, a=8)),
        "asdict": lambda: dataclasses.asdict(p),
        "astuple": lambda: dataclasses.astuple(f),
        "is dataclass": lambda: dataclasses.is_dataclass(k["Frozen"]),
        "match args": lambda: k["FrozenChild"].__match_args__,
        "property": lambda: child.total,
        "classvar": lambda: k["Plain"].counter,
        "copy": lambda: repr(copy.deepcopy(child)),
        "doc kept": lambda: k["Frozen"].__doc__,
        "doc of an undocumented class": lambda: (
            k["Plain"].__doc__,
            k["FrozenChild"].__doc__,
            k["Empty"].__doc__,
        ),
    }


@pytest.mark.parametrize("compile_after", [16, 0], ids=["fields", "compiled"])
@pytest.mark.parametrize("name", sorted(scenarios(STD)))
def test_record_behaves_as_the_standard_dataclass(
    name: str, compile_after: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Both ways a record makes an instance: from its fields (its first ones), its compiled __init__.
    monkeypatch.setattr(record, "_COMPILE_AFTER", compile_after)
    assert outcome(scenarios(make(record.dataclass))[name]) == outcome(scenarios(STD)[name])


def test_the_init_is_compiled_after_a_few_instances() -> None:
    k = make(record.dataclass)
    first = k["Frozen"].__init__
    for i in range(record._COMPILE_AFTER + 1):
        assert k["Frozen"](i).a == i
    assert k["Frozen"].__init__ is not first
    assert repr(k["Frozen"](5, ("x",))) == repr(STD["Frozen"](5, ("x",)))


@record.dataclass(frozen=True)
class _Picklable:
    a: int
    b: str


def test_a_record_pickles() -> None:
    assert pickle.loads(pickle.dumps(_Picklable(1, "a"))) == _Picklable(1, "a")


def test_options_it_does_not_reproduce_are_the_standard_librarys() -> None:
    @record.dataclass(frozen=True, unsafe_hash=True)
    class Hashed:
        a: int

    assert hash(Hashed(1)) == hash(Hashed(1))
    assert "__record_frozen__" not in Hashed.__dict__


@pytest.mark.parametrize("deco", [dataclasses.dataclass, record.dataclass], ids=["std", "record"])
def test_order_refuses_what_the_standard_library_refuses(deco: Decorator) -> None:
    with pytest.raises(ValueError, match="eq must be true if order is true"):

        @deco(order=True, eq=False)
        class NoEq:
            a: int

    with pytest.raises(TypeError, match="Cannot overwrite attribute __lt__ in class Own"):

        @deco(order=True)
        class Own:
            a: int

            def __lt__(self, other: object) -> bool:
                return True


def test_frozen_and_non_frozen_do_not_mix() -> None:
    @record.dataclass(frozen=True)
    class Base:
        a: int

    with pytest.raises(TypeError, match="non-frozen dataclass from a frozen one"):

        @record.dataclass
        class Child(Base):
            b: int = 0


def test_a_non_default_field_after_a_default_one_is_refused_at_definition() -> None:
    with pytest.raises(TypeError, match="non-default argument 'b' follows default argument"):

        @record.dataclass
        class Bad:
            a: int = 0
            b: int  # type: ignore[misc]


def test_a_frozen_record_may_not_define_setattr() -> None:
    with pytest.raises(TypeError, match="Cannot overwrite attribute __setattr__"):

        @record.dataclass(frozen=True)
        class Bad:
            a: int

            def __setattr__(self, name: str, value: object) -> None:
                pass


CV = ClassVar  # an alias: the standard library reads `CV[int]` as a ClassVar through this module


def test_fields_are_found_without_the_standard_librarys_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    # Its per-annotation work is ~60% of a class's processing; record's own pass finds the same fields
    # (test_record_parity, test_record_inventory) for classes whose annotations name no ClassVar,
    # InitVar or KW_ONLY. Those go through the standard library's pass, aliases too.
    passes: list[str] = []
    real = dataclasses._process_class  # type: ignore[attr-defined]

    def counting(cls: type, *args: Any) -> Any:
        passes.append(cls.__name__)
        return real(cls, *args)

    monkeypatch.setattr(dataclasses, "_process_class", counting)

    @record.dataclass(frozen=True)
    class Own:
        a: int
        b: list[str] = dataclasses.field(default_factory=list)

    @record.dataclass
    class Aliased:
        a: int
        shared: CV[int] = 0

    @record.dataclass
    class Named:
        a: int
        shared: ClassVar[int] = 0

    assert passes == ["Aliased", "Named"]
    assert [f.name for f in dataclasses.fields(Own)] == ["a", "b"]  # type: ignore[arg-type]
    assert [f.name for f in dataclasses.fields(Aliased)] == ["a"]  # type: ignore[arg-type]
    assert [f.name for f in dataclasses.fields(Named)] == ["a"]  # type: ignore[arg-type]
    assert Own.__match_args__ == ("a", "b")  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="mutable default <class 'list'> for field b is not allowed"):

        @record.dataclass
        class Mutable:
            b: list[str] = []  # noqa: RUF012
