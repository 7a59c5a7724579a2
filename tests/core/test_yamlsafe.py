"""Untrusted YAML: bounded, one-line errors with file:line, Kubernetes' scalar types, positions."""

from __future__ import annotations

import pytest

from lab.core.yamlsafe import Pos, load_all, load_one, resolve_plain
from lab.errors import LabError


def billion_laughs(levels: int = 9) -> str:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels):
        refs = ",".join([f"*a{i - 1}"] * 9)
        lines.append(f"a{i}: &a{i} [{refs}]")
    return "\n".join(lines) + "\n"


def test_alias_bomb_is_bounded_and_named() -> None:
    with pytest.raises(LabError) as info:
        load_all(billion_laughs(), "clusters/dev/bomb.yaml")
    text = str(info.value)
    assert text.startswith("clusters/dev/bomb.yaml:")
    assert "alias bomb" in text and "\n" not in text


def test_small_alias_use_is_fine() -> None:
    (doc,) = load_all("base: &b {image: nginx}\ncopy: *b\nmerged:\n  <<: *b\n  tag: x\n", "a.yaml")
    assert doc.data["copy"] == {"image": "nginx"}
    assert doc.data["merged"] == {"image": "nginx", "tag": "x"}


def test_node_budgets_are_configurable() -> None:
    with pytest.raises(LabError) as info:
        load_all("a: [1, 2, 3, 4, 5]\n", "x.yaml", max_nodes=4)
    assert "more than 4 values" in str(info.value)
    assert load_all("a: [1, 2, 3, 4, 5]\n", "x.yaml", max_nodes=7)
    aliased = "a: &a [1, 2, 3]\nb: *a\nc: *a\n"
    assert load_all(aliased, "y.yaml", max_alias_nodes=8)
    with pytest.raises(LabError) as bomb:
        load_all(aliased, "y.yaml", max_alias_nodes=7)
    assert "alias bomb" in str(bomb.value) and bomb.value.line == 1


def test_recursive_alias_is_an_error_not_a_hang() -> None:
    with pytest.raises(LabError) as info:
        load_all("a: &a [1, *a]\n", "r.yaml")
    assert "refers to itself" in str(info.value) and str(info.value).startswith("r.yaml:1:")


def test_size_and_depth_limits() -> None:
    with pytest.raises(LabError) as info:
        load_all("a: " + "x" * 100 + "\n", "big.yaml", max_bytes=50)
    assert "big.yaml" in str(info.value) and "bytes" in str(info.value)
    with pytest.raises(LabError) as deep:
        load_all("a: " + "[" * 150 + "]" * 150 + "\n", "deep.yaml")
    assert "deep.yaml" in str(deep.value) and "nested" in str(deep.value)
    for hostile in ("[" * 20000, "[a, " * 20000, "{a: " * 20000):
        with pytest.raises(LabError) as flow:
            load_all(hostile, "deeper.yaml")
        assert "nested deeper than 100 levels" in str(flow.value) and flow.value.line == 1
    quoted = "a: '" + "[" * 500 + "'\nb: # " + "{" * 500 + "\n"
    assert load_all(quoted, "ok.yaml")[0].data["a"] == "[" * 500


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("a: b: c\n", 1, "mapping values are not allowed"),
        ("a: 1\nb:\n\t- x\n", 3, "tabs"),
        ("a: [1,\n", 1, "the [ opened on line 1 is never closed"),
        ('a: "unterminated\n', 1, "the quote opened on line 1 is never closed"),
        ("a: 1\nb: 2\na: 3\n", 3, "appears twice"),
        ("key: value\n  bad indent: x\n", 2, "invalid YAML"),
    ],
)
def test_malformed_yaml_is_one_line_with_file_and_line(text: str, line: int, words: str) -> None:
    with pytest.raises(LabError) as info:
        load_all(text, "apps/bad.yaml")
    err = info.value
    assert (err.file, err.line) == ("apps/bad.yaml", line)
    assert words in str(err)
    assert "\n" not in str(err) and "Traceback" not in str(err)


def test_scalars_are_typed_like_kubernetes_reads_them() -> None:
    (doc,) = load_all(
        "a: 1.25\nb: '1.25'\nc: yes\nd: on\ne: ~\nf: 010\ng: 0x1F\n"
        "h: 1.25.x\ni: 2024-01-15\nj: 5m\nk: .inf\n",
        "t.yaml",
    )
    d = doc.data
    assert d["a"] == 1.25 and d["b"] == "1.25" and d["c"] is True and d["d"] is True
    assert d["e"] is None and d["f"] == 8 and d["g"] == 31 and d["h"] == "1.25.x"
    assert d["i"] == "2024-01-15" and d["j"] == "5m" and d["k"] == float("inf")
    assert doc.style_of("b") == "'" and doc.style_of("a") == ""


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("true", True),
        ("No", False),
        ("NULL", None),
        ("-12", -12),
        ("1_000", 1000),
        ("08", 8.0),
        ("v1", "v1"),
        ("", None),
    ],
)
def test_resolve_plain(text: str, value: object) -> None:
    assert resolve_plain(text) == value


def test_positions_documents_and_lines() -> None:
    text = (
        "# comment\n---\napiVersion: v1\nkind: A\nspec:\n  list:\n    - name: x\n"
        "      image: nginx:1.25.0 # c\n---\n---\nkind: B\n"
    )
    docs = load_all(text, "m.yaml")
    assert [d.index for d in docs] == [0, 2] and [d.line for d in docs] == [3, 11]
    first = docs[0]
    assert first.line_of("spec.list.0.image") == 8
    assert first.value_pos[("spec", "list", 0, "image")] == Pos(8, 13, 8, 25)
    assert first.line_of(("spec", "list", 5)) == 6
    assert first.get("spec.list.0.name") == "x" and first.get("spec.nothing", "d") == "d"


def test_load_one() -> None:
    assert load_one("", "e.yaml") is None
    with pytest.raises(LabError):
        load_one("a: 1\n---\nb: 2\n", "two.yaml")


def test_bom_and_crlf() -> None:
    (doc,) = load_all("\ufeffa: 1\r\nb: x\r\n", "w.yaml")
    assert doc.data == {"a": 1, "b": "x"} and doc.line_of("b") == 2


def test_deep_block_sequences_are_refused_before_parsing() -> None:
    with pytest.raises(LabError) as info:
        load_all("a: 1\nb:\n" + "- " * 20000 + "x\n", "dash.yaml")
    assert info.value.line == 3 and "nested deeper" in str(info.value)
    assert load_all("- - - x\n", "ok.yaml")[0].data == [[["x"]]]


@pytest.fixture
def pure_python(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without libyaml the loader falls back to ruamel's pure-Python composer; same results."""
    import lab.core.yamlsafe as yamlsafe

    monkeypatch.setattr(yamlsafe, "_compose_libyaml", lambda text: None)


@pytest.mark.usefixtures("pure_python")
def test_pure_python_fallback_gives_the_same_documents_and_errors() -> None:
    text = "a: &x {b: [1, yes, '2']}\nc: *x\n---\nd: 1.25\n"
    docs = load_all(text, "f.yaml")
    assert [d.data for d in docs] == [{"a": {"b": [1, True, "2"]}, "c": {"b": [1, True, "2"]}}, {"d": 1.25}]
    assert docs[0].value_pos[("a", "b", 2)] == Pos(1, 19, 1, 22) and docs[1].line == 4
    with pytest.raises(LabError) as info:
        load_all("a: 1\nb: c: d\n", "bad.yaml")
    assert info.value.line == 2 and "mapping values are not allowed" in str(info.value)
    with pytest.raises(LabError) as bomb:
        load_all(billion_laughs(), "bomb.yaml")
    assert "alias bomb" in str(bomb.value)


_TYPED = """\
plain: [yes, No, on, OFF, y, n, true, ~, null, '', 0x1F, 0o17, 017, -0b101, 1_000, 190:20:30, 1.5e+3, .NaN, -.inf]
when: [2001-12-14, 2001-12-14t21:59:43.10-05:00, "2001-12-14"]
tagged: [!!str 1, !!int "2", !custom x, ! 3, !!binary aGk=, !!bool "yes"]
<<: {merged: 1}
other: [=, "<<", '~']
block: |
  text
folded: >-
  more
? plainkey
: 1
1: one
"""


def test_composing_without_pyyamls_resolver_gives_the_same_documents(monkeypatch: pytest.MonkeyPatch) -> None:
    # lab.core.yamlsafe composes with BaseResolver (its plain scalars are all tagged str) and types
    # plain scalars itself: the same documents as through CSafeLoader's resolver, to the position.
    import yaml

    import lab.core.yamlsafe as yamlsafe
    from tests.support.taskfiles import solution_manifests

    texts = {"typed.yaml": _TYPED, **{rel: text for rel, text in solution_manifests().items()}}
    ours = {rel: load_all(text, rel) for rel, text in texts.items()}
    monkeypatch.setattr(yamlsafe, "_composer", lambda: yaml.CSafeLoader)
    theirs = {rel: load_all(text, rel) for rel, text in texts.items()}
    assert ours == theirs
    for rel, docs in ours.items():
        for mine, other in zip(docs, theirs[rel], strict=True):
            assert (mine.value_pos, mine.key_pos, mine.styles) == (
                other.value_pos,
                other.key_pos,
                other.styles,
            )
    assert ours["typed.yaml"][0].data["plain"][:3] == [True, False, True]


@pytest.mark.parametrize("bad", ["\x1b[2J", "\x07", "\x00"])
def test_a_control_character_is_named_with_its_line(bad: str) -> None:
    """It said 'unacceptable character #x001b' with no line, and to check indentation and quoting."""
    with pytest.raises(LabError) as err:
        load_all(f"a: 1\nb: x{bad}\n", "f.yaml")
    assert err.value.line == 2 and f"U+{ord(bad[0]):04X} is not allowed" in err.value.message
    assert "indentation" not in (err.value.hint or "")
