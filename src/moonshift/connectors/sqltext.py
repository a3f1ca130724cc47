"""SQL text as tokens: enough to split a SQLite CREATE TABLE into its parts and to move an
expression (a check, a generated column, a default) from one engine's spelling to another's.
It is a lexer, not a parser: nothing here decides what an expression means."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

# identifiers: "x" `x` [x]; strings 'x' (doubled quotes; MySQL also backslash escapes)
_TOKEN = re.compile(
    r"""
    (?P<space>\s+|--[^\n]*|/\*.*?\*/)
  | (?P<string>(?:[xXnN]|_[a-zA-Z0-9]+)?'(?:[^'\\]|''|\\.)*')
  | (?P<quoted>"(?:[^"]|"")*"|`(?:[^`]|``)*`)
  | (?P<bracketed>\[[^\]]*\])
  | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<word>[A-Za-z_][A-Za-z0-9_$]*)
  | (?P<op>::|<>|!=|<=|>=|\|\||[-+*/%<>=(),.;~!&|^\[\]:])
    """,
    re.VERBOSE | re.DOTALL,
)


class SqlTextError(ValueError):
    """Text this lexer cannot read."""


@dataclass(frozen=True)
class Token:
    kind: str  # "string", "quoted", "number", "word", "op"
    text: str

    @property
    def upper(self) -> str:
        return self.text.upper()

    @property
    def name(self) -> str:
        """An identifier's name, unquoted."""
        if self.kind == "quoted":
            inner = self.text[1:-1]
            return inner if self.text[0] == "[" else inner.replace(self.text[0] * 2, self.text[0])
        return self.text

    def is_word(self, *words: str) -> bool:
        return self.kind == "word" and self.upper in words


def tokenize(sql: str, *, brackets: bool = False) -> list[Token]:
    """``brackets``: ``[name]`` is an identifier (SQLite), not an array subscript."""
    found, at = [], 0
    while at < len(sql):
        match = _TOKEN.match(sql, at)
        if match is None:
            raise SqlTextError(f"cannot read SQL at: {sql[at : at + 20]!r}")
        kind = match.lastgroup
        assert kind is not None
        if kind == "bracketed" and not brackets:
            found.append(Token("op", "["))
            at = match.start() + 1
            continue
        if kind == "bracketed":
            kind = "quoted"
        if kind != "space":
            found.append(Token(kind, match.group()))
        at = match.end()
    return found


def closing(tokens: Sequence[Token], start: int) -> int:
    """The index of the ``)`` that closes the ``(`` at ``start``."""
    depth = 0
    for index in range(start, len(tokens)):
        if tokens[index].text == "(":
            depth += 1
        elif tokens[index].text == ")":
            depth -= 1
            if depth == 0:
                return index
    raise SqlTextError("unbalanced parentheses")


def split(tokens: Sequence[Token], separator: str = ",") -> list[list[Token]]:
    """Split at top-level separators (not inside parentheses)."""
    parts: list[list[Token]] = [[]]
    depth = 0
    for token in tokens:
        if token.text == "(":
            depth += 1
        elif token.text == ")":
            depth -= 1
        if depth == 0 and token.text == separator:
            parts.append([])
        else:
            parts[-1].append(token)
    return [p for p in parts if p]


def join(tokens: Sequence[Token]) -> str:
    """Tokens back to text, spaced the usual way."""
    out = ""
    for index, token in enumerate(tokens):
        previous = tokens[index - 1] if index else None
        tight = (
            previous is None
            or previous.text in ("(", "::", ".")
            or token.text
            in (
                ")",
                ",",
                "::",
                ".",
            )
        )
        if token.text == "(" and previous is not None and previous.kind in ("word", "quoted"):
            tight = not previous.is_word("AND", "OR", "NOT", "IN", "IS", "BETWEEN", "LIKE")
        out += token.text if tight else " " + token.text
    return out
