"""Go `regexp` answers recorded from a differential run (Go's regexp package vs lab.core.policy.regex).

Each row: pattern, then (text, FindStringSubmatchIndex, Expand of `$1`, `${n0}-$n1`, `$2x`). Texts
are ASCII, so Go's byte offsets equal Python's character offsets. Patterns that hit a case-folding bug
of the Go used for recording (1.19, fixed in later Go) were left out. Every row runs on RE2 through
the pattern the lab writes from Go's parse.
"""

from __future__ import annotations

import pytest

from lab.core.policy.regex import RegexSyntaxError, compile_go

TEMPLATES = ["$1", "${n0}-$n1", "$2x"]

GO_MATCHES = [
    (
        "(?i:_*?(?m)(?:[\\x00-\\x{10FFFF}]2)|.(?U){)",
        [("2b", None, []), ("a] 21A-1", [2, 4], ["", "-", ""]), ("ca", None, [])],
    ),
    ("(?U)\\b", [(" 1AB_", [1, 1], ["", "-", ""]), ("", None, []), ("2}_a1]1 B", [0, 0], ["", "-", ""])]),
    ("(?i)", [(" ", [0, 0], ["", "-", ""]), ("AB _", [0, 0], ["", "-", ""]), ("2]a", [0, 0], ["", "-", ""])]),
    (
        "[[:^alpha:]]\\.[\\x00-\\x{10FFFF}]",
        [("a", None, []), (" ]1. _A", [2, 5], ["", "-", ""]), ("bc _ A", None, [])],
    ),
    ("[]a](?m){1,3}.\\A*?", [("}c]ac21", [2, 5], ["", "-", ""]), ("cc", None, []), (" ", None, [])]),
    (
        "\\b??\\z",
        [("B }", [3, 3], ["", "-", ""]), ("", [0, 0], ["", "-", ""]), ("-b 2}a}}", [8, 8], ["", "-", ""])],
    ),
    (
        "[[:digit:]]*?(?s)?\\pL",
        [
            ("2}1aa-", [2, 4], ["", "-", ""]),
            ("]a}1a]a_", [1, 2], ["", "-", ""]),
            ("B -c", [0, 1], ["", "-", ""]),
        ],
    ),
    ("\\PN", [("-", [0, 1], ["", "-", ""]), ("B_", [0, 1], ["", "-", ""]), ("b ", [0, 1], ["", "-", ""])]),
    ("\\d", [(".", None, []), ("a", None, []), ("1}b", [0, 1], ["", "-", ""])]),
    (
        "[[:digit:]]",
        [(".aB.1bc", [4, 5], ["", "-", ""]), ("ab }a", None, []), ("c2b 1}A}A", [1, 2], ["", "-", ""])],
    ),
    (
        "(?i:\\n*[\\d.]|2\\n\\z{1,3}\\p{Lu}*?)\\PN\\D?",
        [
            ("_a.abb2B.", [2, 5], ["", "-", ""]),
            ("a221B22", [3, 5], ["", "-", ""]),
            ("1]_ c", [0, 3], ["", "-", ""]),
        ],
    ),
    (
        "\\z\\B??(?-i)",
        [
            ("_}]b}_. ]", [9, 9], ["", "-", ""]),
            ("b", [1, 1], ["", "-", ""]),
            (".2- _a", [6, 6], ["", "-", ""]),
        ],
    ),
    ("(?P<n2>c)\\w(?s)", [("2acB]", [2, 4, 2, 3], ["c", "-", ""]), (".2--c-_", None, []), ("", None, [])]),
    (
        "[[:^alpha:]]\\w",
        [("c-]BaA", [2, 4], ["", "-", ""]), ("}}1A", [1, 3], ["", "-", ""]), (" -a", [1, 3], ["", "-", ""])],
    ),
    ("\\x41", [(".B -2aB", None, []), (".]] aB ", None, []), ("Ab", [0, 1], ["", "-", ""])]),
    ("b", [("] A}]c_bc", [7, 8], ["", "-", ""]), ("", None, []), ("c", None, [])]),
    (
        "^",
        [(" 1", [0, 0], ["", "-", ""]), (".c_ b-_", [0, 0], ["", "-", ""]), ("c_bb", [0, 0], ["", "-", ""])],
    ),
    ("\\s", [("_]2_A2", None, []), ("B a", [1, 2], ["", "-", ""]), ("]1B", None, [])]),
    ("c", [("}b] ab_}", None, []), ("b-A]Ab2c", [7, 8], ["", "-", ""]), ("AA}", None, [])]),
    (
        "[[:^alpha:]]{1,3}",
        [
            ("BB-1._}", [2, 5], ["", "-", ""]),
            ("AaA_1a2.", [3, 5], ["", "-", ""]),
            ("_c.", [0, 1], ["", "-", ""]),
        ],
    ),
    (".\\W*?\\.\\w", [("_]A-a2.ab", [5, 8], ["", "-", ""]), ("b2", None, []), ("2}2", None, [])]),
    ("\\.{1,3}", [("_b-A_a]c.", [8, 9], ["", "-", ""]), ("-_", None, []), ("", None, [])]),
    (
        "(?i:\\p{Lu}\n)*",
        [("B", [0, 0], ["", "-", ""]), ("", [0, 0], ["", "-", ""]), ("a. ", [0, 0], ["", "-", ""])],
    ),
    ("^", [("", [0, 0], ["", "-", ""]), ("}]B B-", [0, 0], ["", "-", ""]), ("2.", [0, 0], ["", "-", ""])]),
    (
        "[a-c]",
        [
            ("B.1a1_", [3, 4], ["", "-", ""]),
            ("-Ba}_]", [2, 3], ["", "-", ""]),
            ("aA.a }", [0, 1], ["", "-", ""]),
        ],
    ),
    (
        "[[:^alpha:]]{0,1}?[[:^alpha:]]*|(?s)(?-i)",
        [
            ("BacB1", [0, 0], ["", "-", ""]),
            ("1", [0, 1], ["", "-", ""]),
            ("b-bB}__]1", [0, 0], ["", "-", ""]),
        ],
    ),
    (
        "\\PN[]a]",
        [("2 a-1_.]", [1, 3], ["", "-", ""]), (" Ac ]abb", [3, 5], ["", "-", ""]), ("} ", None, [])],
    ),
    (
        "[[:digit:]](?:\\s\\zb|{a)\\b([a-]a*?\\123|\\b\\D{,2}\\D)?|\\A(?-i)",
        [
            ("2.1-_._2", [0, 0, -1, -1], ["", "-", ""]),
            ("c1}_}].", [0, 0, -1, -1], ["", "-", ""]),
            ("}cac-ac-", [0, 0, -1, -1], ["", "-", ""]),
        ],
    ),
    ("(?i)\\Qa.\\E\\W", [(" 21.", None, []), ("cB_1acc_", None, []), ("a.-.", [0, 3], ["", "-", ""])]),
    ("\\p{Lu}\\D\\pL1", [("bAaa-1", None, []), ("1-aBaa1", [3, 7], ["", "-", ""]), (".A-] ", None, [])]),
    (
        "[^ab]",
        [
            ("}", [0, 1], ["", "-", ""]),
            ("]a.12 2", [0, 1], ["", "-", ""]),
            ("a_c1 a1B", [1, 2], ["", "-", ""]),
        ],
    ),
    (
        "\\PN\\W\n+|(?i)\\b",
        [("", None, []), ("a-bcb.", [0, 0], ["", "-", ""]), ("c.1A.", [0, 0], ["", "-", ""])],
    ),
    (
        "(?U)\\A|]\\s",
        [("", [0, 0], ["", "-", ""]), ("1}cA", [0, 0], ["", "-", ""]), ("aB2]2]]]", [0, 0], ["", "-", ""])],
    ),
    ("(?m)\\A(?i:[]a]+)", [(". _111c", None, []), ("}b}cA", None, []), ("a_cA].", [0, 1], ["", "-", ""])]),
    ("\\x41", [("cc", None, []), (" ABB", [1, 2], ["", "-", ""]), ("]A}", [1, 2], ["", "-", ""])]),
    (
        "^{0}\\A(?P<n0>(?s:_|^(?m))$){0,1}?",
        [
            (".-A2", [0, 0, -1, -1], ["", "-", ""]),
            ("b_]bbbBa_", [0, 0, -1, -1], ["", "-", ""]),
            ("-_", [0, 0, -1, -1], ["", "-", ""]),
        ],
    ),
    (
        "(?s:\\.)(?i:\\x41+?1)\\B+?|\\p{Lu}\\D",
        [("A", None, []), (" ", None, []), ("B.1}", [0, 2], ["", "-", ""])],
    ),
    (
        "^{0}]{0,1}?",
        [
            ("_ A Abc ", [0, 0], ["", "-", ""]),
            ("1AA11221-", [0, 0], ["", "-", ""]),
            ("", [0, 0], ["", "-", ""]),
        ],
    ),
    (
        "[^ab]",
        [
            ("bc.-", [1, 2], ["", "-", ""]),
            ("}__A.b_", [0, 1], ["", "-", ""]),
            (" } c ", [0, 1], ["", "-", ""]),
        ],
    ),
    (
        "[a-c]",
        [
            ("c-bab2aA", [0, 1], ["", "-", ""]),
            ("aa2", [0, 1], ["", "-", ""]),
            ("} cBa2", [2, 3], ["", "-", ""]),
        ],
    ),
    (".2", [("", None, []), ("2", None, []), (" 2a_}", [0, 2], ["", "-", ""])]),
    (
        ".",
        [(" __", [0, 1], ["", "-", ""]), ("A}c121B]", [0, 1], ["", "-", ""]), ("c.-", [0, 1], ["", "-", ""])],
    ),
    (
        "(?i:\\x{62}*?)+?(?s)b*?(?m)*",
        [
            ("2 }Ab", [0, 0], ["", "-", ""]),
            ("1-a2Bc}", [0, 0], ["", "-", ""]),
            ("a}.1", [0, 0], ["", "-", ""]),
        ],
    ),
    (
        "[[:digit:]]+?",
        [
            ("  A-B2", [5, 6], ["", "-", ""]),
            ("]-}B _1", [6, 7], ["", "-", ""]),
            ("}22b", [1, 2], ["", "-", ""]),
        ],
    ),
    ("]{1,3}", [("1a2.]b-", [4, 5], ["", "-", ""]), ("B1]a} ", [2, 3], ["", "-", ""]), ("", None, [])]),
    ("\\PN(?U)+?", [(" 2b", [0, 1], ["", "-", ""]), ("", None, []), ("1 c221", [1, 3], ["", "-", ""])]),
    ("\\x{62}", [("_a.]B1", None, []), ("_b1.", [1, 2], ["", "-", ""]), ("_1B", None, [])]),
    (
        "{\\PN{0,1}?(?s:\\.(?-i))-|(?m)(?U)",
        [("-]]-", [0, 0], ["", "-", ""]), ("12", [0, 0], ["", "-", ""]), ("a}", [0, 0], ["", "-", ""])],
    ),
    (
        "[\\d.]?",
        [
            ("a1.2 a2_", [0, 0], ["", "-", ""]),
            ("}.", [0, 0], ["", "-", ""]),
            ("_-.a ", [0, 0], ["", "-", ""]),
        ],
    ),
    (
        "{.|\\W[a-c]",
        [("  B}a", [3, 5], ["", "-", ""]), (" ]a}ccA] ", [1, 3], ["", "-", ""]), (" ", None, [])],
    ),
    (
        "\\B",
        [
            ("A}Bc.a}BA", [3, 3], ["", "-", ""]),
            ("] B", [0, 0], ["", "-", ""]),
            ("BB]2 }", [1, 1], ["", "-", ""]),
        ],
    ),
    ("[\\d.]", [("A2}cA ", [1, 2], ["", "-", ""]), ("bb.", [2, 3], ["", "-", ""]), ("_", None, [])]),
    ("\\A*?\\x{62}$", [("1-}caBb", [6, 7], ["", "-", ""]), (".1}A_}2.", None, []), ("b2", None, [])]),
    ("}", [("-a.-b]B", None, []), ("c-c}-Aba", [3, 4], ["", "-", ""]), ("-", None, [])]),
    (
        "A*\\W{0}",
        [("", [0, 0], ["", "-", ""]), ("cb_", [0, 0], ["", "-", ""]), ("}Ac1a]}]", [0, 0], ["", "-", ""])],
    ),
    (
        "\\B",
        [("._1--", [0, 0], ["", "-", ""]), (".]]]2", [0, 0], ["", "-", ""]), ("]2aA", [0, 0], ["", "-", ""])],
    ),
    (
        "(?s)[a-c]|[a-c]\\W",
        [
            ("}bA]a}2", [1, 2], ["", "-", ""]),
            (" .}cAc1", [3, 4], ["", "-", ""]),
            ("A.1a.]", [3, 4], ["", "-", ""]),
        ],
    ),
    (
        "[\\x00-\\x{10FFFF}]*?\\x41(?m)2|(?U)c",
        [("AcccAa1b]", [1, 2], ["", "-", ""]), ("B-_", None, []), ("]bBB1", None, [])],
    ),
    ("[\\d.].(?s)+|c}", [("", None, []), ("a", None, []), ("cc]1c-", [3, 6], ["", "-", ""])]),
    (
        "\\pL+|\\Ba",
        [
            ("c_ _ 2", [0, 1], ["", "-", ""]),
            ("}]1_].]c}", [7, 8], ["", "-", ""]),
            ("abb._A-", [0, 3], ["", "-", ""]),
        ],
    ),
]
GO_ERRORS = [
    (")?(?-i)_+?b", "error parsing regexp: unexpected ): `)?(?-i)_+?b`"),
    ("(?s)+\\123[[:nope:]]*?", "error parsing regexp: missing argument to repetition operator: `+`"),
    (
        "2b??[\\x00-\\x{10FFFF}]((?=\\D{2}(?-i)){2,}",
        "error parsing regexp: invalid or unsupported Perl syntax: `(?=`",
    ),
    ("\\z(?P<>*\\b\\pL+|\\n1", "error parsing regexp: invalid named capture: `(?P<>`"),
    (
        "[[:digit:]](?P<n2>(?:\\pL*?\\)??\\B(?s)\\B)[a-]",
        "error parsing regexp: missing closing ): `[[:digit:]](?P<n2>(?:\\pL*?\\)??\\B(?s)\\B)[a-]`",
    ),
    ("(?s){0,1}?", "error parsing regexp: missing argument to repetition operator: `{0,1}?`"),
    (
        "\\p{Lu}??(?P<x.{,2}[[:digit:]]",
        "error parsing regexp: invalid named capture: `(?P<x.{,2}[[:digit:]]`",
    ),
    ("(?i:(?i:\\x{62}[z-a])\\Qa.\\E)", "error parsing regexp: invalid character class range: `z-a`"),
    ("_**+?a|\\z\\z", "error parsing regexp: invalid nested repetition operator: `**`"),
    ("\\d\\q2", "error parsing regexp: invalid escape sequence: `\\q`"),
    ("(?:\\q(?m))[a-]", "error parsing regexp: invalid escape sequence: `\\q`"),
    ("((?i-)){2}\\A|]c", "error parsing regexp: invalid or unsupported Perl syntax: `(?i-)`"),
    ("**\\.(?s)", "error parsing regexp: missing argument to repetition operator: `*`"),
    ("(?-i)\n{0}(?P<x{0}b", "error parsing regexp: invalid named capture: `(?P<x{0}b`"),
    ("(?-i)*?", "error parsing regexp: missing argument to repetition operator: `*?`"),
    (
        "(?U)+?(?-i)\\123[\\x00-\\x{10FFFF}]",
        "error parsing regexp: missing argument to repetition operator: `+?`",
    ),
    ("\\8\\w\\s", "error parsing regexp: invalid escape sequence: `\\8`"),
    ("[a-c]\\8+?(?-i)", "error parsing regexp: invalid escape sequence: `\\8`"),
    ("\\W\\PN\\B(?s:(?s)(?i-)|[a-])??", "error parsing regexp: invalid or unsupported Perl syntax: `(?i-)`"),
    ("2(?=\\x{62}(?i:\\x{62}\\p{Lu})", "error parsing regexp: invalid or unsupported Perl syntax: `(?=`"),
    ("\\p{Nope}b[a-].", "error parsing regexp: invalid character class range: `\\p{Nope}`"),
    ("\\z\\8\\w\\d", "error parsing regexp: invalid escape sequence: `\\8`"),
    (
        "(?:(?s:(?-i)|[a-c](?s:_\\pL[a-]|[a-][\\d.])b**))+?{",
        "error parsing regexp: invalid nested repetition operator: `**`",
    ),
    (
        "\\pL1{,2}(?i:[\\x41\\.[^ab])[[:nope:]]",
        "error parsing regexp: invalid character class range: `[:nope:]`",
    ),
    ("[*", "error parsing regexp: missing closing ]: `[*`"),
    ("(?U){2}\\w+", "error parsing regexp: missing argument to repetition operator: `{2}`"),
    ("[z-a]\\PN[a-]a{2,}|c\\n", "error parsing regexp: invalid character class range: `z-a`"),
    ("(?i-)x{2}{3}", "error parsing regexp: invalid or unsupported Perl syntax: `(?i-)`"),
    ("\\d(?i)[", "error parsing regexp: missing closing ]: `[`"),
    ("**", "error parsing regexp: missing argument to repetition operator: `*`"),
    (
        "\\B\\d(?:\\.b{0,1}?)*?(?:(?:\\8+-[??)*))*?(?:])",
        "error parsing regexp: invalid escape sequence: `\\8`",
    ),
    ("(?U){1,3}\\Qa.\\E??\\\\pL", "error parsing regexp: missing argument to repetition operator: `{1,3}`"),
    (
        "\\B}x{2}{3}{0,1}?\\w|[a-c]\\x{62}",
        "error parsing regexp: invalid nested repetition operator: `{2}{3}`",
    ),
    ("(?-i)(?-i)?(?U){2}", "error parsing regexp: missing argument to repetition operator: `?`"),
    ("(?=|{2", "error parsing regexp: invalid or unsupported Perl syntax: `(?=`"),
    ("x{2}{3}{2}", "error parsing regexp: invalid nested repetition operator: `{2}{3}`"),
    ("[]a]\\w\\8|\\.a", "error parsing regexp: invalid escape sequence: `\\8`"),
    (
        "(?i:[^ab]?($\\w{1,3}|A{|\\n{2,}\\d{0}(?i)))\\q-",
        "error parsing regexp: invalid escape sequence: `\\q`",
    ),
    ("(?s)?(?P<>\\z}", "error parsing regexp: missing argument to repetition operator: `?`"),
    (")+?(?U)(?P<x(?i)+?", "error parsing regexp: unexpected ): `)+?(?U)(?P<x(?i)+?`"),
]


@pytest.mark.parametrize(("pattern", "rows"), GO_MATCHES)
def test_go_matches(pattern: str, rows: list[tuple[str, list[int] | None, list[str]]]) -> None:
    rx = compile_go(pattern)
    for text, spans, expanded in rows:
        m = rx.search(text)
        got = None if m is None else [x for i in range(len(rx.group_names)) for x in m.span(i)]
        assert got == spans, text
        if m is not None:
            assert [rx.expand(t, m) for t in TEMPLATES] == expanded, text


@pytest.mark.parametrize(("pattern", "error"), GO_ERRORS)
def test_go_errors(pattern: str, error: str) -> None:
    with pytest.raises(RegexSyntaxError) as err:
        compile_go(pattern)
    assert str(err.value) == error
