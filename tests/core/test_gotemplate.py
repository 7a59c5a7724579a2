"""Go text/template semantics, checked against cases from Go's own text/template tests (exec_test.go)."""

from __future__ import annotations

from typing import Any

import pytest

from lab.core.gotemplate import TemplateError, parse
from lab.core.gotemplate.values import GoMap, GoSlice

# Go's exec_test tVal, reduced to the parts a dict/list model can express.
T_VAL: dict[str, Any] = {
    "X": "x",
    "U": {"V": "v"},
    "I": 17,
    "SI": [3, 4, 5],
    "SIEmpty": [],
    "SB": [True, False],
    "MSI": GoMap("map[string]int", {"one": 1, "two": 2, "three": 3}, elem_type="int"),
    "MSIone": GoMap("map[string]int", {"one": 1}, elem_type="int"),
    "MSIEmpty": GoMap("map[string]int", {}, elem_type="int"),
    "MXI": {"one": 1},
    "SMSI": [GoMap("map[string]int", {"one": 1}, elem_type="int"), {"eleven": 11}],
    "True": True,
    "FloatZero": 0.0,
    "S": "xyz",
    "Empty3": [7, 8],
}


def run(src: str, data: Any = None) -> str:
    return parse(src, "test").execute(data)


EXEC_OK = [
    ("empty", "", "", None),
    ("text", "some text", "some text", None),
    ("ideal int", "{{printf `%T` 3}}", "int", 0),
    ("ideal float", "{{printf `%T` 1.0}}", "float64", 0),
    ("ideal exp float", "{{printf `%T` 1e1}}", "float64", 0),
    (".X", "-{{.X}}-", "-x-", T_VAL),
    (".U.V", "-{{.U.V}}-", "-v-", T_VAL),
    ("map .one", "{{.MSI.one}}", "1", T_VAL),
    ("map .NO", "{{.MSI.NO}}", "<no value>", T_VAL),
    ("map .one interface", "{{.MXI.one}}", "1", T_VAL),
    ("dot int", "<{{.}}>", "<13>", 13),
    ("dot float", "<{{.}}>", "<15.1>", 15.1),
    ("dot bool", "<{{.}}>", "<true>", True),
    ("dot string", "<{{.}}>", "<hello>", "hello"),
    ("dot slice", "<{{.}}>", "<[-1 -2 -3]>", GoSlice("[]int", [-1, -2, -3])),
    ("dot map", "<{{.}}>", "<map[two:22]>", GoMap("map[string]int", {"two": 22})),
    ("$ int", "{{$}}", "123", 123),
    ("$.I", "{{$.I}}", "17", T_VAL),
    ("$.U.V", "{{$.U.V}}", "v", T_VAL),
    ("declare in action", "{{$x := $.U.V}}{{$x}}", "v", T_VAL),
    ("simple assignment", "{{$x := 2}}{{$x = 3}}{{$x}}", "3", T_VAL),
    ("nested assignment", "{{$x := 2}}{{if true}}{{$x = 3}}{{end}}{{$x}}", "3", T_VAL),
    (
        "nested assignment changes the last declaration",
        "{{$x := 1}}{{if true}}{{$x := 2}}{{if true}}{{$x = 3}}{{end}}{{end}}{{$x}}",
        "1",
        T_VAL,
    ),
    ("field on interface", "{{.foo}}", "<no value>", None),
    ("field on parenthesized interface", "{{(.).foo}}", "<no value>", None),
    ("parenthesized non-function with no args", "{{(1)}}", "1", None),
    ("if true", "{{if true}}TRUE{{end}}", "TRUE", T_VAL),
    ("if false", "{{if false}}TRUE{{else}}FALSE{{end}}", "FALSE", T_VAL),
    ("if 1", "{{if 1}}NON-ZERO{{else}}ZERO{{end}}", "NON-ZERO", T_VAL),
    ("if 0", "{{if 0}}NON-ZERO{{else}}ZERO{{end}}", "ZERO", T_VAL),
    ("if 1.5", "{{if 1.5}}NON-ZERO{{else}}ZERO{{end}}", "NON-ZERO", T_VAL),
    ("if 0.0", "{{if .FloatZero}}NON-ZERO{{else}}ZERO{{end}}", "ZERO", T_VAL),
    ("if emptystring", "{{if ``}}NON-EMPTY{{else}}EMPTY{{end}}", "EMPTY", T_VAL),
    ("if string", "{{if `notempty`}}NON-EMPTY{{else}}EMPTY{{end}}", "NON-EMPTY", T_VAL),
    ("if emptyslice", "{{if .SIEmpty}}NON-EMPTY{{else}}EMPTY{{end}}", "EMPTY", T_VAL),
    ("if emptymap", "{{if .MSIEmpty}}NON-EMPTY{{else}}EMPTY{{end}}", "EMPTY", T_VAL),
    ("if map unset", "{{if .MXI.none}}NON-ZERO{{else}}ZERO{{end}}", "ZERO", T_VAL),
    ("if map not unset", "{{if not .MXI.none}}ZERO{{else}}NON-ZERO{{end}}", "ZERO", T_VAL),
    ("if $x with $y int", "{{if $x := true}}{{with $y := .I}}{{$x}},{{$y}}{{end}}{{end}}", "true,17", T_VAL),
    ("if $x with $x int", "{{if $x := true}}{{with $x := .I}}{{$x}},{{end}}{{$x}}{{end}}", "17,true", T_VAL),
    ("if else if", "{{if false}}FALSE{{else if true}}TRUE{{end}}", "TRUE", T_VAL),
    ("if else chain", "{{if eq 1 3}}1{{else if eq 2 3}}2{{else if eq 3 3}}3{{end}}", "3", T_VAL),
    ("print", '{{print "hello, print"}}', "hello, print", T_VAL),
    ("print 123", "{{print 1 2 3}}", "1 2 3", T_VAL),
    ("print nil", "{{print nil}}", "<nil>", T_VAL),
    ("println", "{{println 1 2 3}}", "1 2 3\n", T_VAL),
    ("printf int", '{{printf "%04x" 127}}', "007f", T_VAL),
    ("printf float", '{{printf "%g" 3.5}}', "3.5", T_VAL),
    ("printf string", '{{printf "%s" "hello"}}', "hello", T_VAL),
    ("printf field", '{{printf "%s" .U.V}}', "v", T_VAL),
    ("printf dot", '{{with .I}}{{printf "%d" .}}{{end}}', "17", T_VAL),
    ("printf var", '{{with $x := .I}}{{printf "%d" $x}}{{end}}', "17", T_VAL),
    (
        "html",
        '{{html "<script>alert(\\"XSS\\");</script>"}}',
        "&lt;script&gt;alert(&#34;XSS&#34;);&lt;/script&gt;",
        None,
    ),
    ("html untyped nil", "{{html .Empty0}}", "&lt;no value&gt;", {}),
    ("js", "{{js .}}", "It\\'d be nice.", "It'd be nice."),
    ("urlquery", '{{"http://www.example.org/"|urlquery}}', "http%3A%2F%2Fwww.example.org%2F", None),
    ("not", "{{not true}} {{not false}}", "false true", None),
    ("and", "{{and false 0}} {{and 1 0}} {{and 0 true}} {{and 1 1}}", "false 0 0 1", None),
    ("or", "{{or 0 0}} {{or 1 0}} {{or 0 true}} {{or 1 1}}", "0 1 true 1", None),
    ("or short-circuit", "{{or 0 1 (fail `die`)}}", "1", None),
    ("and short-circuit", "{{and 1 0 (fail `die`)}}", "0", None),
    ("and pipe-true", "{{1 | and 1}}", "1", None),
    ("and pipe-false", "{{0 | and 1}}", "0", None),
    ("or pipe-true", "{{1 | or 0}}", "1", None),
    ("or pipe-false", "{{0 | or 0}}", "0", None),
    ("and undef", "{{and 1 .Unknown}}", "<no value>", None),
    ("or undef", "{{or 0 .Unknown}}", "<no value>", None),
    ("boolean if", "{{if and true 1 `hi`}}TRUE{{else}}FALSE{{end}}", "TRUE", T_VAL),
    ("boolean if not", "{{if and true 1 `hi` | not}}TRUE{{else}}FALSE{{end}}", "FALSE", None),
    ("boolean if pipe", "{{if true | not | and 1}}TRUE{{else}}FALSE{{end}}", "FALSE", None),
    ("slice[0]", "{{index .SI 0}}", "3", T_VAL),
    ("map[one]", "{{index .MSI `one`}}", "1", T_VAL),
    ("map[NO]", "{{index .MSI `XXX`}}", "0", T_VAL),
    ("map[``]", "{{index .MSI ``}}", "0", T_VAL),
    ("double index", "{{index .SMSI 1 `eleven`}}", "11", T_VAL),
    ("index of an interface field", "{{index .Empty3 0}}", "7", T_VAL),
    ("len slice", "{{len .SI}}", "3", T_VAL),
    ("len map", "{{len .MSI }}", "3", T_VAL),
    ("with true", "{{with true}}{{.}}{{end}}", "true", T_VAL),
    ("with false", "{{with false}}{{.}}{{else}}FALSE{{end}}", "FALSE", T_VAL),
    ("with 1", "{{with 1}}{{.}}{{else}}ZERO{{end}}", "1", T_VAL),
    ("with 0", "{{with 0}}{{.}}{{else}}ZERO{{end}}", "ZERO", T_VAL),
    ("with 1.5", "{{with 1.5}}{{.}}{{else}}ZERO{{end}}", "1.5", T_VAL),
    ("with slice", "{{with .SI}}{{.}}{{else}}EMPTY{{end}}", "[3 4 5]", T_VAL),
    ("with map", "{{with .MSIone}}{{.}}{{else}}EMPTY{{end}}", "map[one:1]", T_VAL),
    ("with $x int", "{{with $x := .I}}{{$x}}{{end}}", "17", T_VAL),
    ("with $x struct.U.V", "{{with $x := $}}{{$x.U.V}}{{end}}", "v", T_VAL),
    ("with variable and action", "{{with $x := $}}{{$y := $.U.V}}{{$y}}{{end}}", "v", T_VAL),
    ("with else with", "{{with 0}}{{.}}{{else with true}}{{.}}{{end}}", "true", T_VAL),
    (
        "with else with chain",
        "{{with 0}}{{.}}{{else with false}}{{.}}{{else with `notempty`}}{{.}}{{end}}",
        "notempty",
        T_VAL,
    ),
    ("range []int", "{{range .SI}}-{{.}}-{{end}}", "-3--4--5-", T_VAL),
    ("range empty no else", "{{range .SIEmpty}}-{{.}}-{{end}}", "", T_VAL),
    ("range []int else", "{{range .SI}}-{{.}}-{{else}}EMPTY{{end}}", "-3--4--5-", T_VAL),
    ("range empty else", "{{range .SIEmpty}}-{{.}}-{{else}}EMPTY{{end}}", "EMPTY", T_VAL),
    ("range break else", "{{range .SI}}-{{.}}-{{break}}NOTREACHED{{else}}EMPTY{{end}}", "-3-", T_VAL),
    (
        "range continue else",
        "{{range .SI}}-{{.}}-{{continue}}NOTREACHED{{else}}EMPTY{{end}}",
        "-3--4--5-",
        T_VAL,
    ),
    ("range []bool", "{{range .SB}}-{{.}}-{{end}}", "-true--false-", T_VAL),
    ("range map", "{{range .MSI}}-{{.}}-{{end}}", "-1--3--2-", T_VAL),
    ("range empty map else", "{{range .MSIEmpty}}-{{.}}-{{else}}EMPTY{{end}}", "EMPTY", T_VAL),
    ("range empty nil", "{{range .Empty0}}-{{.}}-{{end}}", "", T_VAL),
    ("range $x SI", "{{range $x := .SI}}<{{$x}}>{{end}}", "<3><4><5>", T_VAL),
    ("range $x $y SI", "{{range $x, $y := .SI}}<{{$x}}={{$y}}>{{end}}", "<0=3><1=4><2=5>", T_VAL),
    ("range $x MSIone", "{{range $x := .MSIone}}<{{$x}}>{{end}}", "<1>", T_VAL),
    ("range $x $y MSIone", "{{range $x, $y := .MSIone}}<{{$x}}={{$y}}>{{end}}", "<one=1>", T_VAL),
    ("declare in range", "{{range $x := .SI}}<{{$foo:=$x}}{{$x}}>{{end}}", "<3><4><5>", T_VAL),
    ("range 5", '{{range $v := 5}}{{printf "%T%d" $v $v}}{{end}}', "int0int1int2int3int4", None),
    ("or as if true", '{{or .SI "slice is empty"}}', "[3 4 5]", T_VAL),
    ("or as if false", '{{or .SIEmpty "slice is empty"}}', "slice is empty", T_VAL),
    ("decimal", "{{print 1234}}", "1234", T_VAL),
    ("decimal _", "{{print 12_34}}", "1234", T_VAL),
    ("binary", "{{print 0b101}}", "5", T_VAL),
    ("binary _", "{{print 0b_1_0_1}}", "5", T_VAL),
    ("octal0", "{{print 0377}}", "255", T_VAL),
    ("octal", "{{print 0o377}}", "255", T_VAL),
    ("hex", "{{print 0x123}}", "291", T_VAL),
    ("HEX", "{{print 0X123ABC}}", "1194684", T_VAL),
    ("float", "{{print 123.4}}", "123.4", T_VAL),
    ("float _", "{{print 0_0_1_2_3.4}}", "123.4", T_VAL),
    ("hex float", "{{print +0x1.ep+2}}", "7.5", T_VAL),
    ("print multi", "{{print 1_2_3_4 7.5_00_00_00}}", "1234 7.5", T_VAL),
    ("bug9", "{{.cause}}", "neglect", GoMap("map[string]string", {"cause": "neglect"}, elem_type="string")),
    ("bug12xe", "{{printf `%T` 0xef}}", "int", None),
    ("bug16g", '{{"aaa" |printf "%s%s" "bbb"}}', "bbbaaa", None),
    ("bug16k", '{{"aaa"|printf }}', "aaa", None),
    ("bug18a", "{{eq . '.'}}", "true", ord(".")),
    ("issue56490", "{{$i := 0}}{{$x := 0}}{{range $i = .SI}}{{end}}{{$i}}", "5", T_VAL),
    (
        "issue60801",
        "{{$k := 0}}{{$v := 0}}{{range $k, $v = .SI}}{{$k}}={{$v}} {{end}}",
        "0=3 1=4 2=5 ",
        T_VAL,
    ),
    # Trim markers and comments.
    ("trim both", "a \n {{- 1 -}} \n b", "a1b", None),
    ("trim left only", "a \n {{- 1 }} \n b", "a1 \n b", None),
    ("no trim without space", "{{-3}}", "-3", None),
    ("comment", "a{{/* c */}}b", "ab", None),
    ("trimmed comment", "a \n{{- /* c */ -}}\n b", "ab", None),
    ("newline inside action", "{{ print\n 1\n 2 }}", "1 2", None),
    ("raw string", "{{`a\\nb`}}", "a\\nb", None),
    ("dangling pipe", "{{ 1 | }}", "1", None),
]


@pytest.mark.parametrize(("name", "src", "want", "data"), EXEC_OK, ids=[c[0] for c in EXEC_OK])
def test_exec_matches_go(name: str, src: str, want: str, data: Any) -> None:
    assert run(src, data) == want


EXEC_FAIL = [
    ("nil action", "{{nil}}", None),
    ("map .WRONG args", "{{.MSI.one 1}}", T_VAL),
    ("unparenthesized non-function", "{{1 2}}", None),
    ("parenthesized non-function", "{{(1) 2}}", None),
    ("if nil", "{{if nil}}TRUE{{end}}", T_VAL),
    ("or short-circuit2", "{{or 0 0 (fail `die`)}}", None),
    ("and short-circuit2", "{{and 1 1 (fail `die`)}}", None),
    ("slice[HUGE]", "{{index .SI 10}}", T_VAL),
    ("slice[WRONG]", "{{index .SI `hello`}}", T_VAL),
    ("slice[nil]", "{{index .SI nil}}", T_VAL),
    ("map[nil]", "{{index .MSI nil}}", T_VAL),
    ("map[WRONG]", "{{index .MSI 10}}", T_VAL),
    ("nil[1]", "{{index nil 1}}", T_VAL),
    ("len of int", "{{len 3}}", T_VAL),
    ("bug7a", "{{3 2}}", T_VAL),
    ("bug7b", "{{$x := 1}}{{$x 2}}", T_VAL),
    ("bug7c", "{{$x := 1}}{{3 | $x}}", T_VAL),
    ("bug14a", "{{(nil).True}}", T_VAL),
    ("bug14b", "{{$x := nil}}{{$x.anything}}", T_VAL),
    ("bug14c", '{{$x := (1.0)}}{{$y := ("hello")}}{{$x.anything}}{{$y.true}}', T_VAL),
    ("bug16a", "{{true|printf}}", T_VAL),
    ("bug16b", "{{1|printf}}", T_VAL),
    ("bug16c", "{{1.1|printf}}", T_VAL),
    ("bug16d", "{{'x'|printf}}", T_VAL),
    ("range over string", "{{range .X}}{{end}}", T_VAL),
]


@pytest.mark.parametrize(("name", "src", "data"), EXEC_FAIL, ids=[c[0] for c in EXEC_FAIL])
def test_exec_errors_like_go(name: str, src: str, data: Any) -> None:
    with pytest.raises(TemplateError) as err:
        run(src, data)
    assert err.value.phase == "exec"
    assert str(err.value).startswith("template: test:")


# Exact messages (Go text) for the failures a commit message author meets.
EXACT_ERRORS = [
    ("{{.Foo", "template: test:1: unclosed action"),
    ("{{end}}", "template: test:1: unexpected {{end}}"),
    ("{{else}}", "template: test:1: unexpected {{else}}"),
    ("{{range .X}}", "template: test:1: unexpected EOF"),
    ("a\n{{if .X}}\nb", "template: test:3: unexpected EOF"),
    ("{{now}}", 'template: test:1: function "now" not defined'),
    ("{{ env `HOME` }}", 'template: test:1: function "env" not defined'),
    ("{{}}", "template: test:1: missing value for command"),
    ("{{if}}{{end}}", "template: test:1: missing value for if"),
    ("{{range}}{{end}}", "template: test:1: missing value for range"),
    ("{{ $x }}", 'template: test:1: undefined variable "$x"'),
    ("{{ .A | 3 }}", "template: test:1: non executable command in pipeline stage 2"),
    ('{{ "a".B }}', 'template: test:1: unexpected . after term "\\"a\\""'),
    ("{{ .A }", 'template: test:1: unexpected "}" in operand'),
    ("{{ .A )}}", 'template: test:1: unexpected ")" in command'),
    ("{{ (.A }}", "template: test:1: unclosed left paren"),
    ("{{ 'ab' }}", "template: test:1: invalid syntax"),
    ('{{ "abc }}', "template: test:1: unterminated quoted string"),
    ("{{ .A# }}", "template: test:1: bad character U+0023 '#'"),
    ("{{/* x */ .A}}", "template: test:1: comment ends before closing delimiter"),
    ("{{/* x ", "template: test:1: unclosed comment"),
    ("{{break}}", "template: test:1: {{break}} outside {{range}}"),
    ("{{range .X}}{{else}}{{else}}{{end}}", "template: test:1: expected end; found {{else}}"),
    ("{{ .A :}}", "template: test:1: expected :="),
    ("{{range $a, $b, $c := .X}}{{end}}", "template: test:1: too many declarations in range"),
    ("{{range $a, 3}}{{end}}", "template: test:1: range can only initialize variables"),
    ("{{with $a, $b := 3}}{{end}}", "template: test:1: too many declarations in with"),
    ("{{ .A\n .B", "template: test:2: unclosed action started at test:1"),
    ('{{ .A\n "x }}', "template: test:2: unterminated quoted string in action started at test:1"),
    ("{{ 0xZ }}", 'template: test:1: bad number syntax: "0xZ"'),
    ("{{ .A | abcdefghijklmnop }}", 'template: test:1: function "abcdefghijklmnop" not defined'),
    ("{{ if .A }}{{ 1 ]}}", 'template: test:1: unexpected "]" in operand'),
    ("{{ with }}", "template: test:1: missing value for with"),
    (
        "{{ template `x` }}",
        'template: test:1:12: executing "test" at <{{template "x"}}>: template "x" not defined',
    ),
]


@pytest.mark.parametrize(("src", "want"), EXACT_ERRORS, ids=[e[0] for e in EXACT_ERRORS])
def test_exact_error_text(src: str, want: str) -> None:
    with pytest.raises(TemplateError) as err:
        run(src, {"X": [1], "A": "a"})
    assert str(err.value) == want


EXACT_EXEC_ERRORS = [
    # Go positions a field chain at its last element.
    (
        "{{ .A.B }}",
        {"A": "s"},
        'template: test:1:5: executing "test" at <.A.B>: can\'t evaluate field B in type string',
    ),
    (
        "x\n  {{.A 1}}",
        {"A": "s"},
        'template: test:2:4: executing "test" at <.A>: A is not a method but has arguments',
    ),
    (
        "{{ index .L 5 }}",
        {"L": [1]},
        'template: test:1:3: executing "test" at <index .L 5>: error calling index: index out of range: 5',
    ),
    (
        "{{ upper 3 }}",
        None,
        'template: test:1:9: executing "test" at <3>: expected string; found 3',
    ),
    (
        "{{ upper .N }}",
        {"N": 3},
        'template: test:1:9: executing "test" at <.N>: wrong type for value; expected string; got int',
    ),
    (
        "{{ upper }}",
        None,
        'template: test:1:3: executing "test" at <upper>: wrong number of args for upper: want 1 got 0',
    ),
    (
        "{{ repeat (add 1 2) `a` }}",
        None,
        'template: test:1:17: executing "test" at <2>: wrong type for value; expected int; got int64',
    ),
    (
        "{{ range .A }}{{ end }}",
        {"A": "s"},
        'template: test:1:9: executing "test" at <.A>: range can\'t iterate over s',
    ),
    (
        "{{ eq .A 1 }}",
        {"A": "s"},
        'template: test:1:3: executing "test" at <eq .A 1>: error calling eq: incompatible types for comparison',
    ),
    # Go checks that the kinds agree before it refuses bool (text/template funcs.go lt).
    (
        "{{ lt true 1 }}",
        None,
        'template: test:1:3: executing "test" at <lt true 1>: error calling lt: incompatible types for comparison',
    ),
    (
        "{{ lt false true }}",
        None,
        'template: test:1:3: executing "test" at <lt false true>: error calling lt: invalid type for comparison',
    ),
    (
        "{{ le 1 false }}",
        None,
        'template: test:1:3: executing "test" at <le 1 false>: error calling le: incompatible types for comparison',
    ),
    (
        "{{ gt nil 1 }}",
        None,
        'template: test:1:3: executing "test" at <gt nil 1>: error calling gt: invalid type for comparison',
    ),
    (
        "{{ fail `boom` }}",
        None,
        'template: test:1:3: executing "test" at <fail `boom`>: error calling fail: boom',
    ),
    ("{{ nil }}", None, 'template: test:1:3: executing "test" at <nil>: nil is not a command'),
    (
        "{{ hasKey .M `a` }}",
        {"M": GoMap("map[string]string", {}, elem_type="string")},
        'template: test:1:10: executing "test" at <.M>: wrong type for value; expected map[string]interface {}; '
        "got map[string]string",
    ),
    (
        "é{{ .A.B }}",
        {"A": 1},
        'template: test:1:7: executing "test" at <.A.B>: can\'t evaluate field B in type int',
    ),
]


@pytest.mark.parametrize(("src", "data", "want"), EXACT_EXEC_ERRORS, ids=[e[0] for e in EXACT_EXEC_ERRORS])
def test_exact_exec_error_text(src: str, data: Any, want: str) -> None:
    with pytest.raises(TemplateError) as err:
        run(src, data)
    assert str(err.value) == want


def test_template_is_reusable_and_variables_do_not_leak() -> None:
    tmpl = parse("{{range $i, $v := .}}{{$i}}{{end}}{{$x := 1}}{{$x}}")
    assert tmpl.execute([5, 6]) == "011"
    assert tmpl.execute([7]) == "01"


def test_deep_nesting_is_an_error_not_a_crash() -> None:
    src = "{{" + "(" * 3000 + "1" + ")" * 3000 + "}}"
    try:
        out = run(src)
    except TemplateError as err:
        assert "template: test" in str(err)
    else:
        assert out == "1"


def test_define_template_and_block() -> None:
    src = (
        '{{define "line"}}- {{.OldValue}} -> {{.NewValue}}\n{{end}}'
        '{{range .L}}{{template "line" .}}{{end}}{{block "tail" .N}}[{{.}}]{{end}}'
    )
    assert run(src, {"L": [{"OldValue": "a", "NewValue": "b"}], "N": 3}) == "- a -> b\n[3]"


def test_errors_inside_a_defined_template_name_it() -> None:
    with pytest.raises(TemplateError) as err:
        run('{{define "x"}}{{.Foo}}{{end}}{{template "x" 1}}')
    assert str(err.value) == (
        'template: test:1:16: executing "x" at <.Foo>: can\'t evaluate field Foo in type int'
    )


@pytest.mark.parametrize(
    ("src", "want"),
    [
        (
            '{{define "x"}}a{{end}}{{define "x"}}b{{end}}',
            'template: test:1: template: multiple definition of template "x"',
        ),
        ('{{ $a := 1 }}{{define "x"}}{{$a}}{{end}}', 'template: test:1: undefined variable "$a"'),
        ('{{define "x"}}a', "template: test:1: unexpected EOF"),
        ("{{define x}}{{end}}", 'template: test:1: unexpected "x" in define clause'),
        (
            '{{template "nope"}}',
            'template: test:1:11: executing "test" at <{{template "nope"}}>: template "nope" not defined',
        ),
    ],
)
def test_define_errors(src: str, want: str) -> None:
    with pytest.raises(TemplateError) as err:
        run(src)
    assert str(err.value) == want


def test_missing_map_value_passed_to_a_string_parameter() -> None:
    values = GoMap("map[string]string", {}, elem_type="string")
    with pytest.raises(TemplateError) as err:
        run("{{ upper .V.env }}", {"V": values})
    assert (
        str(err.value) == 'template: test:1:11: executing "test" at <.V.env>: invalid value; expected string'
    )
    assert run("{{ eq .V.env `prod` }} {{ .V.env | default `dev` | upper }}", {"V": values}) == "false DEV"


def test_random_templates_fail_only_with_template_errors() -> None:
    """Hostile or garbled templates must end in a Go-worded TemplateError, never a Python crash."""
    import random

    from lab.core.commit_message import build_template_data
    from lab.core.refs import Change, ImageRef, ObjectId

    changes = [
        Change("a.yaml", ObjectId("apps/v1", "Deployment", "d", "ns"), "flux-system:app", "o", "n"),
        Change("b.yaml", ObjectId(), "flux-system:app:tag", "1", "2"),
    ]
    datas = [
        build_template_data(
            changes,
            api_version=v,
            automation_namespace="flux-system",
            automation_name="a",
            values={"x": "y"},
            images=[ImageRef("app", "2")],
        )
        for v in ("image.toolkit.fluxcd.io/v1", "image.toolkit.fluxcd.io/v1beta2")
    ]
    funcs = ["printf `%v %d %q %5.2f`", "index", "len", "eq", "lt", "and", "not", "print", "upper", "default"]
    funcs += ["list", "dict", "first", "join `,`", "toJson", "trunc", "repeat", "add", "div", "slice", "keys"]
    funcs += ["hasKey", "regexFind", "uniq", "sortAlpha", "fromJson", "concat", "round", "substr", "fail"]
    args = [".", "$", ".Changed", ".Changed.Changes", ".Changed.FileChanges", ".Changed.Objects", ".Values"]
    args += [".AutomationObject", ".Values.x", ".Values.nope", ".Updated", ".Updated.Images", "1", "-3", "0"]
    args += [
        "2.5",
        '"a/b"',
        '""',
        "true",
        "nil",
        "'z'",
        "$v",
        "(list 1 2)",
        '(dict "k" 1)',
        ".OldValue",
        ".Kind",
    ]
    frags = ["{{", "}}", "{{- ", " -}}", "(", ")", "|", ":=", "=", ",", "range", "else", "end", "with", "if"]
    frags += ["define", "template", "break", "/*", "*/", "`", '"', "'", "\\", "é", "→", "#", "0x", "1e"]
    rng = random.Random(20261127)
    outcomes = {"ok": 0, "error": 0}
    for _ in range(400):
        call = rng.choice(funcs) + " " + " ".join(rng.choice(args) for _ in range(rng.randrange(0, 4)))
        shape = rng.randrange(4)
        if shape == 0:
            src = "{{ range $k, $v := " + rng.choice(args) + " }}{{ " + call + " }}{{ else }}E{{ end }}"
        elif shape == 1:
            src = "{{ with " + rng.choice(args) + " }}{{ " + call + " | " + rng.choice(funcs) + " }}{{ end }}"
        elif shape == 2:
            src = "{{ $v := 1 }}{{ if " + call + " }}T{{ else if " + rng.choice(args) + " }}U{{ end }}"
        else:
            src = "".join(rng.choice(frags + args + funcs) + rng.choice(["", " "]) for _ in range(12))
        try:
            tmpl = parse(src)
            for data in datas:
                tmpl.execute(data)
            outcomes["ok"] += 1
        except TemplateError as err:
            assert str(err).startswith("template: commit message"), src
            outcomes["error"] += 1
    assert outcomes["ok"] > 0 and outcomes["error"] > 0


@pytest.mark.parametrize(
    ("src", "fragment"),
    [
        ("{{ range 100000000 }}{{ end }}", "steps; fluxlab stops runaway templates"),
        ("{{ range 100000000 }}xxxxxxxxxxxxxxxx{{ end }}", "output exceeds"),
        ('{{ repeat 100000000 "ab" }}', "error calling repeat: fluxlab refuses"),
        (
            '{{ define "r" }}{{ template "r" . }}{{ end }}{{ template "r" . }}',
            "exceeded maximum template depth",
        ),
    ],
)
def test_runaway_templates_stop_with_an_error(src: str, fragment: str) -> None:
    with pytest.raises(TemplateError) as err:
        run(src)
    assert fragment in str(err.value)
