"""Moving an SQL expression (a CHECK, a generated column, a default, an index key) from
one engine to another, or to a renamed column in the same engine.

Between engines only a small portable core is translated: column references, literals,
arithmetic and comparisons, AND/OR/NOT, IS NULL, IN lists, and a few functions every
engine has with the same meaning. PostgreSQL's casts become CAST(... AS ...) or disappear
on literals; ``x = ANY (ARRAY[...])`` becomes ``x IN (...)``. Anything else is not
portable: ``translate`` returns None and the planner says what it did instead.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from moonshift.connectors.sqltext import SqlTextError, Token, closing, join, tokenize

KEYWORDS = frozenset(
    {
        "AND", "OR", "NOT", "IS", "NULL", "IN", "TRUE", "FALSE", "BETWEEN", "LIKE", "CASE",
        "WHEN", "THEN", "ELSE", "END", "CURRENT_TIMESTAMP", "CURRENT_DATE", "CURRENT_TIME",
    }
)  # fmt: skip
FUNCTIONS: Mapping[str, Mapping[str, str]] = {
    # name -> its name per target engine (the same where missing)
    "lower": {},
    "upper": {},
    "abs": {},
    "coalesce": {},
    "nullif": {},
    "round": {},
    "trim": {},
    "replace": {},
    "substr": {},
    "length": {"mysql": "CHAR_LENGTH"},
    "char_length": {"sqlite": "length"},
}
# PostgreSQL cast targets with a counterpart everywhere: type -> the CAST type per engine
CASTS: Mapping[str, Mapping[str, str]] = {
    "numeric": {"postgresql": "numeric", "mysql": "DECIMAL(65,30)", "sqlite": "NUMERIC"},
    "integer": {"postgresql": "integer", "mysql": "SIGNED", "sqlite": "INTEGER"},
    "bigint": {"postgresql": "bigint", "mysql": "SIGNED", "sqlite": "INTEGER"},
    "smallint": {"postgresql": "smallint", "mysql": "SIGNED", "sqlite": "INTEGER"},
    "text": {"postgresql": "text", "mysql": "CHAR", "sqlite": "TEXT"},
    "character varying": {"postgresql": "text", "mysql": "CHAR", "sqlite": "TEXT"},
    "double precision": {"postgresql": "double precision", "mysql": "DOUBLE", "sqlite": "REAL"},
    "real": {"postgresql": "real", "mysql": "DOUBLE", "sqlite": "REAL"},
    "date": {"postgresql": "date", "mysql": "DATE", "sqlite": "TEXT"},
}
_NOW = {
    "NOW": "CURRENT_TIMESTAMP",
    "CURRENT_TIMESTAMP": "CURRENT_TIMESTAMP",
    "CURDATE": "CURRENT_DATE",
    "CURRENT_DATE": "CURRENT_DATE",
}
_OPERATORS = frozenset({"+", "-", "*", "/", "%", "<", ">", "<=", ">=", "=", "<>", "(", ")", ","})


class NotPortable(Exception):
    pass


def translate(
    expression: str,
    source_engine: str,
    target_engine: str,
    renames: Mapping[str, str],
    quote: Callable[[str], str],
    *,
    value: str | None = None,
) -> str | None:
    """``expression`` in the target's SQL, its columns renamed (``renames``: source name ->
    target name, quoted with ``quote``); a domain's VALUE becomes column ``value``. None
    when it cannot be moved whole."""
    try:
        tokens = tokenize(expression, brackets=source_engine == "sqlite")
    except SqlTextError:
        return None
    if source_engine == target_engine:
        if value is None and all(renames.get(n, n) == n for n in renames):
            return expression
        return join([_renamed(t, renames, quote, value) for t in tokens])
    try:
        return join(_Translator(target_engine, renames, quote, value).run(tokens))
    except NotPortable:
        return None


def _renamed(
    token: Token, renames: Mapping[str, str], quote: Callable[[str], str], value: str | None
) -> Token:
    if token.kind in ("word", "quoted"):
        if value is not None and token.kind == "word" and token.upper == "VALUE":
            return Token("quoted", quote(value))
        if token.name in renames:
            return Token("quoted", quote(renames[token.name]))
    return token


class _Translator:
    def __init__(
        self,
        target: str,
        renames: Mapping[str, str],
        quote: Callable[[str], str],
        value: str | None,
    ) -> None:
        self.target, self.renames, self.quote, self.value = target, renames, quote, value

    def run(self, tokens: list[Token]) -> list[Token]:
        out: list[Token] = []
        index = 0
        while index < len(tokens):
            token = tokens[index]
            following = tokens[index + 1] if index + 1 < len(tokens) else None
            if token.text == "::":
                index = self._cast(tokens, index + 1, out)
                continue
            if token.is_word("ANY") and out and out[-1].text == "=" and following:
                index = self._any(tokens, index + 1, out)
                continue
            if _empty_call(tokens, index) and token.upper in _NOW:
                out.append(Token("word", _NOW[token.upper]))  # now(), current_timestamp()
                index += 3
                continue
            out.append(self._one(token, following))
            index += 1
        return out

    def _one(self, token: Token, following: Token | None) -> Token:
        calls = following is not None and following.text == "("
        if token.kind == "number":
            return token
        if token.kind == "string":
            return Token("string", _plain_string(token.text))
        if token.kind == "op":
            if token.text == "!=":
                return Token("op", "<>")
            if token.text == "||" and self.target != "mysql":
                return token
            if token.text in _OPERATORS:
                return token
            raise NotPortable(token.text)
        if token.kind == "word" and calls and token.text.lower() in FUNCTIONS:
            name = token.text.lower()
            return Token("word", FUNCTIONS[name].get(self.target, name))
        if token.kind == "word" and token.upper == "VALUE" and self.value is not None:
            return Token("quoted", self.quote(self.value))
        if token.kind in ("word", "quoted") and token.name in self.renames and not calls:
            return Token("quoted", self.quote(self.renames[token.name]))
        if token.kind == "word" and token.upper in KEYWORDS:
            return Token("word", token.upper)
        raise NotPortable(token.text)

    def _cast(self, tokens: list[Token], index: int, out: list[Token]) -> int:
        """``operand::type``: the operand is already in ``out``."""
        words = []
        while index < len(tokens) and tokens[index].kind == "word":
            words.append(tokens[index].text.lower())
            index += 1
        if index < len(tokens) and tokens[index].text == "(":  # varchar(10): the size goes
            index = closing(tokens, index) + 1
        kind = " ".join(words)
        start = _operand_start(out)
        operand = out[start:]
        inner = [t for t in operand if t.text not in ("(", ")")]
        if len(inner) == 1 and inner[0].kind in ("number", "string"):
            return index  # a literal: its text is the value, in any type
        cast = CASTS.get(kind, {}).get(self.target)
        if cast is None:
            raise NotPortable(kind)
        del out[start:]
        out += [Token("word", "CAST"), Token("op", "("), *operand, Token("word", "AS")]
        out += [Token("word", cast), Token("op", ")")]
        return index

    def _any(self, tokens: list[Token], index: int, out: list[Token]) -> int:
        """``= ANY (ARRAY[a, b])`` (also wrapped in parentheses and casts, as PostgreSQL
        writes it back) -> ``IN (a, b)``."""
        if tokens[index].text != "(":
            raise NotPortable("ANY")
        end = closing(tokens, index)
        inner = tokens[index + 1 : end]
        at = next((i for i, t in enumerate(inner) if t.is_word("ARRAY")), None)
        if at is None or at + 1 >= len(inner) or inner[at + 1].text != "[":
            raise NotPortable("ANY")
        depth, stop = 0, None
        for i in range(at + 1, len(inner)):
            depth += {"[": 1, "]": -1}.get(inner[i].text, 0)
            if depth == 0:
                stop = i
                break
        if stop is None:
            raise NotPortable("ANY")
        rest = inner[:at] + inner[stop + 1 :]
        if any(
            t.kind not in ("word", "op")
            or (t.text not in ("(", ")", "::", "[", "]") and t.kind != "word")
            for t in rest
        ):
            raise NotPortable("ANY")
        out[-1] = Token("word", "IN")
        out += [Token("op", "("), *self.run(inner[at + 2 : stop]), Token("op", ")")]
        return end + 1


def _empty_call(tokens: list[Token], index: int) -> bool:
    return (
        tokens[index].kind == "word"
        and index + 2 < len(tokens)
        and tokens[index + 1].text == "("
        and tokens[index + 2].text == ")"
    )


def _operand_start(out: list[Token]) -> int:
    if not out:
        raise NotPortable("::")
    if out[-1].text != ")":
        return len(out) - 1
    depth = 0
    for index in range(len(out) - 1, -1, -1):
        if out[index].text == ")":
            depth += 1
        elif out[index].text == "(":
            depth -= 1
            if depth == 0:
                called = (
                    index > 0
                    and out[index - 1].kind == "word"
                    and out[index - 1].upper not in KEYWORDS
                )
                return index - 1 if called else index
    raise NotPortable("unbalanced")


def _plain_string(text: str) -> str:
    """A string literal in standard SQL: MySQL's charset introducer and backslash-escaped
    quotes go; anything else with a backslash is not portable."""
    if not text.startswith("'"):
        prefix, _quote, rest = text.partition("'")
        if not prefix.startswith("_"):
            raise NotPortable(text)
        text = "'" + rest
    body = text[1:-1].replace("\\'", "''")
    if "\\" in body:
        raise NotPortable(text)
    return "'" + body + "'"
