"""text/template's lexer (Go 1.22+ behaviour: trim markers, comments, newlines inside actions).

The Go lexer runs lazily and stops at its first error; producing the same items eagerly and ending the list
with that error item is equivalent, because the parser consumes items strictly in order.
"""

from __future__ import annotations

import bisect
import unicodedata

from lab.core.record import dataclass


class T:
    """Item types, as Go's itemType: plain ints (an IntEnum's class costs start-up; nothing needs names)."""

    ERROR = 0
    BOOL = 1
    CHAR = 2
    CHAR_CONSTANT = 3
    COMMENT = 4
    COMPLEX = 5
    ASSIGN = 6
    DECLARE = 7
    EOF = 8
    FIELD = 9
    IDENTIFIER = 10
    LEFT_DELIM = 11
    LEFT_PAREN = 12
    NUMBER = 13
    PIPE = 14
    RAW_STRING = 15
    RIGHT_DELIM = 16
    RIGHT_PAREN = 17
    SPACE = 18
    STRING = 19
    TEXT = 20
    VARIABLE = 21
    KEYWORD = 22  # everything above is a keyword
    BLOCK = 23
    BREAK = 24
    CONTINUE = 25
    DOT = 26
    DEFINE = 27
    ELSE = 28
    END = 29
    IF = 30
    NIL = 31
    RANGE = 32
    TEMPLATE = 33
    WITH = 34


KEYWORDS = {
    ".": T.DOT,
    "block": T.BLOCK,
    "break": T.BREAK,
    "continue": T.CONTINUE,
    "define": T.DEFINE,
    "else": T.ELSE,
    "end": T.END,
    "if": T.IF,
    "range": T.RANGE,
    "nil": T.NIL,
    "template": T.TEMPLATE,
    "with": T.WITH,
}

LEFT_DELIM = "{{"
RIGHT_DELIM = "}}"
LEFT_COMMENT = "/*"
RIGHT_COMMENT = "*/"
SPACE_CHARS = " \t\r\n"


@dataclass(frozen=True)
class Item:
    typ: int
    pos: int
    val: str
    line: int

    def __str__(self) -> str:
        from lab.core.gostrconv import quote as go_quote

        if self.typ == T.EOF:
            return "EOF"
        if self.typ == T.ERROR:
            return self.val
        if self.typ > T.KEYWORD:
            return f"<{self.val}>"
        if len(self.val.encode("utf-8", "surrogatepass")) > 10:
            # %.10q: quote the first ten runes.
            return go_quote(self.val[:10]) + "..."
        return go_quote(self.val)


def is_space(r: str) -> bool:
    return r in (" ", "\t", "\r", "\n")


def is_alnum(r: str) -> bool:
    if r == "":
        return False
    return r == "_" or r.isalpha() or unicodedata.category(r) == "Nd"


def _has_left_trim(s: str, at: int) -> bool:
    return len(s) >= at + 2 and s[at] == "-" and is_space(s[at + 1])


def _has_right_trim(s: str, at: int) -> bool:
    return len(s) >= at + 2 and is_space(s[at]) and s[at + 1] == "-"


def _skip_spaces(s: str, at: int) -> int:
    while at < len(s) and s[at] in SPACE_CHARS:
        at += 1
    return at


def _unicode_name(r: str) -> str:
    """Go's %#U: U+0023 '#'."""
    o = ord(r)
    code = f"U+{o:04X}"
    cat = unicodedata.category(r)
    if cat.startswith("C") or (cat.startswith("Z") and r != " "):
        return code
    return f"{code} '{r}'"


class LexError(Exception):
    pass


class Lexer:
    def __init__(self, text: str) -> None:
        self.input = text
        self.pos = 0
        self.start = 0
        self.paren_depth = 0
        self.items: list[Item] = []
        self._newlines = [i for i, c in enumerate(text) if c == "\n"]

    def line_at(self, pos: int) -> int:
        return 1 + bisect.bisect_left(self._newlines, pos)

    def emit(self, typ: int) -> None:
        self.items.append(Item(typ, self.start, self.input[self.start : self.pos], self.line_at(self.start)))
        self.start = self.pos

    def error(self, msg: str) -> None:
        self.items.append(Item(T.ERROR, self.start, msg, self.line_at(self.start)))
        raise LexError(msg)

    def peek(self) -> str:
        return self.input[self.pos] if self.pos < len(self.input) else ""

    def next(self) -> str:
        if self.pos >= len(self.input):
            return ""
        r = self.input[self.pos]
        self.pos += 1
        return r

    def accept(self, valid: str) -> bool:
        r = self.peek()
        if r != "" and r in valid:
            self.pos += 1
            return True
        return False

    def accept_run(self, valid: str) -> None:
        while self.accept(valid):
            pass

    def run(self) -> list[Item]:
        try:
            self._lex_text()
        except LexError:
            pass
        return self.items

    # --- states (each returns when the whole input is consumed or raises on error) ---

    def _lex_text(self) -> None:
        while True:
            x = self.input.find(LEFT_DELIM, self.pos)
            if x < 0:
                self.pos = len(self.input)
                if self.pos > self.start:
                    self.emit(T.TEXT)
                self.emit(T.EOF)
                return
            self.pos = x
            trim = 0
            if _has_left_trim(self.input, x + len(LEFT_DELIM)):
                seg = self.input[self.start : self.pos]
                trim = len(seg) - len(seg.rstrip(SPACE_CHARS))
            self.pos -= trim
            if self.pos > self.start:
                self.emit(T.TEXT)
            self.pos += trim
            self.start = self.pos
            self._lex_left_delim()

    def _at_right_delim(self) -> tuple[bool, bool]:
        if _has_right_trim(self.input, self.pos) and self.input.startswith(RIGHT_DELIM, self.pos + 2):
            return True, True
        if self.input.startswith(RIGHT_DELIM, self.pos):
            return True, False
        return False, False

    def _lex_left_delim(self) -> None:
        self.pos += len(LEFT_DELIM)
        trim = _has_left_trim(self.input, self.pos)
        after = 2 if trim else 0
        if self.input.startswith(LEFT_COMMENT, self.pos + after):
            self.pos += after
            self.start = self.pos
            self._lex_comment()
            return
        self.emit(T.LEFT_DELIM)
        self.pos += after
        self.start = self.pos
        self.paren_depth = 0
        self._lex_inside_action()

    def _lex_comment(self) -> None:
        self.pos += len(LEFT_COMMENT)
        i = self.input.find(RIGHT_COMMENT, self.pos)
        if i < 0:
            self.error("unclosed comment")
        self.pos = i + len(RIGHT_COMMENT)
        delim, trim = self._at_right_delim()
        if not delim:
            self.error("comment ends before closing delimiter")
        if trim:
            self.pos += 2
        self.pos += len(RIGHT_DELIM)
        if trim:
            self.pos = _skip_spaces(self.input, self.pos)
        self.start = self.pos

    def _lex_right_delim(self) -> None:
        _, trim = self._at_right_delim()
        if trim:
            self.pos += 2
            self.start = self.pos
        self.pos += len(RIGHT_DELIM)
        self.emit(T.RIGHT_DELIM)
        if trim:
            self.pos = _skip_spaces(self.input, self.pos)
            self.start = self.pos

    def _lex_inside_action(self) -> None:
        while True:
            delim, _ = self._at_right_delim()
            if delim:
                if self.paren_depth == 0:
                    self._lex_right_delim()
                    return
                self.error("unclosed left paren")
            r = self.next()
            if r == "":
                self.error("unclosed action")
            elif is_space(r):
                self.pos -= 1
                if self._lex_space():
                    self._lex_right_delim()
                    return
            elif r == "=":
                self.emit(T.ASSIGN)
            elif r == ":":
                if self.next() != "=":
                    self.error("expected :=")
                self.emit(T.DECLARE)
            elif r == "|":
                self.emit(T.PIPE)
            elif r == '"':
                self._lex_quoted('"', "quoted string", T.STRING)
            elif r == "`":
                self._lex_raw_quote()
            elif r == "$":
                self._lex_variable()
            elif r == "'":
                self._lex_quoted("'", "character constant", T.CHAR_CONSTANT)
            elif r == "." and self.pos < len(self.input) and not ("0" <= self.input[self.pos] <= "9"):
                self._lex_field_or_variable(T.FIELD)
            elif r in "+-." or "0" <= r <= "9":
                self.pos -= 1
                self._lex_number()
            elif is_alnum(r):
                self.pos -= 1
                self._lex_identifier()
            elif r == "(":
                self.emit(T.LEFT_PAREN)
                self.paren_depth += 1
            elif r == ")":
                self.emit(T.RIGHT_PAREN)
                self.paren_depth -= 1
                if self.paren_depth < 0:
                    self.error(f"unexpected right paren {_unicode_name(r)}")
            elif ord(r) <= 0x7F and r.isprintable():
                self.emit(T.CHAR)
            else:
                self.error(f"unrecognized character in action: {_unicode_name(r)}")

    def _lex_space(self) -> bool:
        """Scan spaces; True when they end at a trim-marked right delimiter reached with a single space."""
        n = 0
        while is_space(self.peek()):
            self.next()
            n += 1
        if _has_right_trim(self.input, self.pos - 1) and self.input.startswith(RIGHT_DELIM, self.pos + 1):
            self.pos -= 1
            if n == 1:
                return True
        self.emit(T.SPACE)
        return False

    def _at_terminator(self) -> bool:
        r = self.peek()
        if r == "" or is_space(r):
            return True
        return r in ".,|:)(" or r == RIGHT_DELIM[0]

    def _lex_identifier(self) -> None:
        while is_alnum(self.peek()):
            self.next()
        word = self.input[self.start : self.pos]
        if not self._at_terminator():
            self.error(f"bad character {_unicode_name(self.peek())}")
        kw = KEYWORDS.get(word)
        if kw is not None and kw > T.KEYWORD:
            self.emit(kw)
        elif word[0] == ".":
            self.emit(T.FIELD)
        elif word in ("true", "false"):
            self.emit(T.BOOL)
        else:
            self.emit(T.IDENTIFIER)

    def _lex_variable(self) -> None:
        if self._at_terminator():
            self.emit(T.VARIABLE)
            return
        self._lex_field_or_variable(T.VARIABLE)

    def _lex_field_or_variable(self, typ: int) -> None:
        if self._at_terminator():
            self.emit(T.VARIABLE if typ == T.VARIABLE else T.DOT)
            return
        while is_alnum(self.peek()):
            self.next()
        if not self._at_terminator():
            self.error(f"bad character {_unicode_name(self.peek())}")
        self.emit(typ)

    def _lex_number(self) -> None:
        if not self._scan_number():
            self.error(f"bad number syntax: {_q(self.input[self.start : self.pos])}")
        sign = self.peek()
        if sign in ("+", "-") and sign != "":
            if not self._scan_number() or self.input[self.pos - 1] != "i":
                self.error(f"bad number syntax: {_q(self.input[self.start : self.pos])}")
            self.emit(T.COMPLEX)
        else:
            self.emit(T.NUMBER)

    def _scan_number(self) -> bool:
        self.accept("+-")
        digits = "0123456789_"
        if self.accept("0"):
            if self.accept("xX"):
                digits = "0123456789abcdefABCDEF_"
            elif self.accept("oO"):
                digits = "01234567_"
            elif self.accept("bB"):
                digits = "01_"
        self.accept_run(digits)
        if self.accept("."):
            self.accept_run(digits)
        if len(digits) == 11 and self.accept("eE"):
            self.accept("+-")
            self.accept_run("0123456789_")
        if len(digits) == 23 and self.accept("pP"):
            self.accept("+-")
            self.accept_run("0123456789_")
        self.accept("i")
        if is_alnum(self.peek()):
            self.next()
            return False
        return True

    def _lex_quoted(self, close: str, what: str, typ: int) -> None:
        """Go's lexChar and lexQuote, one loop: up to the closing quote, a backslash escaping the next
        character, never across a newline."""
        while True:
            r = self.next()
            if r == "\\":
                r2 = self.next()
                if r2 not in ("", "\n"):
                    continue
                self.error(f"unterminated {what}")
            if r in ("", "\n"):
                self.error(f"unterminated {what}")
            if r == close:
                break
        self.emit(typ)

    def _lex_raw_quote(self) -> None:
        while True:
            r = self.next()
            if r == "":
                self.error("unterminated raw quoted string")
            if r == "`":
                break
        self.emit(T.RAW_STRING)


def _q(s: str) -> str:
    from lab.core.gostrconv import quote as go_quote

    return go_quote(s)


def lex(text: str) -> list[Item]:
    return Lexer(text).run()
