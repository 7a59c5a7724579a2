"""sprig (HermeticTxtFuncMap) functions and Go fmt printing, as a commit template sees them."""

from __future__ import annotations

from typing import Any

import pytest

from lab.core.gotemplate import TemplateError, parse
from lab.core.gotemplate.values import GoMap


def run(src: str, data: Any = None) -> str:
    return parse(src).execute(data)


VALUES = {"Values": GoMap("map[string]string", {"env": "prod", "team": "web"}, elem_type="string")}

SPRIG = [
    ('{{ "hello world" | title }}', "Hello World"),
    ('{{ "Hello" | upper }} {{ "Hello" | lower }}', "HELLO hello"),
    ('{{ trunc 5 "hello world" }}|{{ trunc -5 "hello world" }}|{{ trunc 50 "hi" }}', "hello|world|hi"),
    ('{{ substr 0 5 "hello world" }}|{{ substr 6 -1 "hello world" }}', "hello|world"),
    ('{{ "a,b,c" | splitList "," | join "-" }}', "a-b-c"),
    ('{{ (split "/" "library/nginx")._1 }}', "nginx"),
    (
        '{{ default "x" "" }}|{{ default "x" "y" }}|{{ "" | default "x" }}|{{ default "d" .Missing }}',
        "x|y|x|d",
    ),
    ("{{ list 1 2 3 | last }} {{ list 1 2 3 | first }} {{ uniq (list 1 1 2) }}", "3 1 [1 2]"),
    ('{{ dict "b" 1 "a" "x<y" | toJson }}', '{"a":"x\\u003cy","b":1}'),
    ('{{ quote "a" 1 }} {{ squote "a" }}', '"a" "1" \'a\''),
    ('{{ indent 2 "a\\nb" }}|{{ nindent 2 "a" }}', "  a\n  b|\n  a"),
    ('{{ sha256sum "hello" }}', "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"),
    ('{{ sha256sum "hello" | trunc 7 }}', "2cf24db"),
    ('{{ b64enc "hello" }} {{ b64dec "aGVsbG8=" }}', "aGVsbG8= hello"),
    (
        "{{ add 1 2 3 }} {{ sub 5 2 }} {{ mul 2 3 }} {{ div 7 2 }} {{ mod 7 3 }} {{ max 1 5 3 }} {{ add1 1 }}",
        "6 3 6 3 1 5 2",
    ),
    ('{{ sortAlpha (list "b" "a" "C") }}', "[C a b]"),
    (
        '{{ replace "a" "b" "aaa" }} {{ contains "ell" "hello" }} {{ hasPrefix "he" "hello" }}',
        "bbb true true",
    ),
    (
        '{{ trimPrefix "v" "v1.2" }} {{ trimSuffix ".0" "1.0" }} {{ trim "  x " }} {{ trimAll "-" "--x--" }}',
        "1.2 1 x x",
    ),
    ('{{ regexReplaceAll "a(x*)b" "-ab-axxb-" "${1}W" }}', "-W-xxW-"),
    ('{{ regexFind "[a-zA-Z][1-9]" "abcd1234" }} {{ regexMatch "^[0-9.]+$" "1.25.3" }}', "d1 true"),
    ('{{ ternary "y" "n" true }} {{ empty "" }} {{ coalesce "" "b" }}', "y true b"),
    (
        '{{ toString 5 }} {{ kindOf "x" }} {{ typeOf 1 }} {{ typeOf .Values }}',
        "5 string int map[string]string",
    ),
    ("{{ until 3 }} {{ seq 3 }}", "[0 1 2] 1 2 3"),
    ('{{ keys (dict "b" 1 "a" 2) | sortAlpha }} {{ hasKey (dict "a" 1) "a" }}', "[a b] true"),
    ('{{ cat "a" nil "b" }}', "a b"),
    ('{{ repeat 3 "ab" }}', "ababab"),
    ('{{ "1.25.3" | splitList "." | first }}', "1"),
    (
        "{{ .Values.env }} {{ index .Values `team` }} {{ index .Values `nope` }}|{{ .Values.nope }}",
        "prod web |<no value>",
    ),
    ("{{ range $k, $v := .Values }}{{ $k }}={{ $v }};{{ end }}", "env=prod;team=web;"),
    ("{{ len .Values }}", "2"),
    ('{{ list "a" "b" | join ", " }}', "a, b"),
    ('{{ regexReplaceAll ":.*" "nginx:1.25.0" "" }}', "nginx"),
    # A piped value becomes the *last* argument (the replacement here), as in Go.
    ('{{ "nginx:1.25.0" | regexReplaceAll ":.*" "" }}', ""),
    ("{{ hello }}", "Hello!"),
    (
        '{{ toJson (list 1.0 0.5 1e21 1e20 0.0000001 "<a&b>" (dict "z" 1 "a" (list))) }}',
        '[1,0.5,1e+21,100000000000000000000,1e-7,"\\u003ca\\u0026b\\u003e",{"a":[],"z":1}]',
    ),
    ('{{ toPrettyJson (dict "a" (list 1 2) "b" (dict)) }}', '{\n  "a": [\n    1,\n    2\n  ],\n  "b": {}\n}'),
    ('{{ toRawJson "<x>" }}', '"<x>"'),
    ('{{ trimAll "" " x " }}|{{ trim "\\x1c x " }}', " x |\x1c x"),
]


@pytest.mark.parametrize(("src", "want"), SPRIG, ids=[s[0] for s in SPRIG])
def test_sprig_function(src: str, want: str) -> None:
    assert run(src, VALUES) == want


PRINTF = [
    (
        "{{print 1e21 100000000.0 123456.0 0.0001 0.00001 1234567.0 1.5 -2.25 0.1}}",
        "1e+21 1e+08 123456 0.0001 1e-05 1.234567e+06 1.5 -2.25 0.1",
    ),
    (
        '{{printf "%5.1f|%-5d|%+d|%x|%X|%o|%b|%c|%U|%q|%v|%t" 3.14159 42 5 "hi" 255 8 5 65 65 65 1.0 true}}',
        "  3.1|42   |+5|6869|FF|10|101|A|U+0041|'A'|1|true",
    ),
    ('{{printf "%e|%g|%08.3f|%x" 1234.5678 0.000012 -3.14159 -255}}', "1.234568e+03|1.2e-05|-003.142|-ff"),
    ('{{printf "%s %s" "a"}}', "a %!s(MISSING)"),
    ('{{printf "%s" "a" "b" 3}}', "a%!(EXTRA string=b, int=3)"),
    ('{{printf "%d" "x"}}', "%!d(string=x)"),
    ('{{printf "%5s|%-5s|%.2s|%05d|%%" "ab" "ab" "abc" -42}}', "   ab|ab   |ab|-0042|%"),
    ('{{printf "%q" "a\\"b\\n"}}', '"a\\"b\\n"'),
    ('{{printf "%v %s" (list 1 "a") (list "x" "y")}}', "[1 a] [x y]"),
    ('{{printf "%d" (list 1 2)}}', "[1 2]"),
    ('{{printf "%T %T %T %T" 1 "a" 1.5 (list)}}', "int string float64 []interface {}"),
]


@pytest.mark.parametrize(("src", "want"), PRINTF, ids=[s[0] for s in PRINTF])
def test_printf_like_go_fmt(src: str, want: str) -> None:
    assert run(src) == want


def test_non_hermetic_sprig_functions_are_not_defined() -> None:
    for fn in ("now", "date", "env", "uuidv4", "randAlphaNum", "expandenv", "getHostByName"):
        with pytest.raises(TemplateError) as err:
            parse("{{ " + fn + " }}")
        assert str(err.value) == f'template: commit message:1: function "{fn}" not defined'


def test_unemulated_sprig_function_parses_but_explains_at_execution() -> None:
    tmpl = parse('{{ toDate "2006-01-02" "2024-10-01" }}')
    with pytest.raises(TemplateError) as err:
        tmpl.execute(None)
    assert "error calling toDate: fluxlab does not emulate sprig's toDate" in str(err.value)


def test_semver_functions_use_masterminds_rules() -> None:
    src = (
        '{{ semver "v1.25" }} {{ (semver "1.25.3-rc.1+b").Minor }} {{ (semver "1.25.3-rc.1").Prerelease }}|'
        '{{ semverCompare "^1.25" "1.25.3" }} {{ semverCompare ">2" "1.0.0" }} '
        '{{ (semver "1.2.3").LessThan (semver "1.3.0") }} {{ eq (semver "2.0.0").Major 2 }}'
    )
    assert run(src) == "1.25.0 25 rc.1|true false true true"
    with pytest.raises(TemplateError) as err:
        run('{{ semver "abc" }}')
    assert str(err.value).endswith("error calling semver: invalid semantic version")


def test_dig() -> None:
    data = {"a": {"b": "c"}}
    assert run('{{ dig "a" "b" "none" . }}|{{ dig "a" "x" "none" . }}', data) == "c|none"


def test_sprig_slice_overrides_go_builtin_slice() -> None:
    # Flux adds sprig's map after the builtins, so `slice` is sprig's list slicer, which rejects strings.
    assert run("{{ slice (list 1 2 3) 1 }}") == "[2 3]"
    with pytest.raises(TemplateError) as err:
        run('{{ slice "abc" 1 }}')
    assert "error calling slice: list should be type of slice or array but string" in str(err.value)


def test_first_of_a_string_reports_sprig_panic_text() -> None:
    with pytest.raises(TemplateError) as err:
        run('{{ first "abc" }}')
    assert str(err.value).endswith("error calling first: Cannot find first on type string")
