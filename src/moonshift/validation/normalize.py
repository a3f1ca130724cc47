"""Type-aware normalization: the canonical text of a value (``connectors.values``), made
equal where two engines hold the same value differently.

``verify``'s canonical forms already put instants in UTC, decimals without trailing zeros
(decimal scale), JSON with sorted keys and numbers by value (JSON key order), booleans as
0 and 1, and SQLite's stored classes through its affinity. On top of them, per column,
from the types of both sides:

- floats: ``-0.0`` is ``0.0``; every NaN is one NaN; a 32-bit float on either side compares
  at 32 bits and at the 6 significant digits MySQL writes its FLOATs with, so ``0.1`` as
  REAL and as DOUBLE agree;
- decimals: ``-0`` is ``0``;
- CHAR(n) on either side: trailing blanks do not count (PostgreSQL pads, MySQL strips);
- times and timestamps: compared at the lower fractional precision of the two sides.

Collations never enter a comparison: rows are matched by the exact text of their keys in
moonshift, never by a database's ordering or equality, so a case-insensitive collation
on one side cannot pair or split rows differently.
"""

from __future__ import annotations

import contextlib
import re
import struct
from collections.abc import Callable

from moonshift.connectors.types import Family, SqlType

F = Family
Norm = Callable[[str], str]
NULL = "\\N"  # comparable()'s NULL
_FIXED_CHAR = re.compile(r"^\s*(n?char|character|bpchar)\b(?!\s+varying)", re.IGNORECASE)


def _float(bits32: bool) -> Norm:
    def norm(text: str) -> str:
        try:
            value = float(text)
        except ValueError:
            return text
        if value != value:
            return "NaN"
        if bits32:
            with contextlib.suppress(OverflowError):  # past 32 bits: compared as it is
                value = struct.unpack("f", struct.pack("f", value))[0]
            return format(value + 0.0, ".6g")
        return repr(value + 0.0)  # -0.0 + 0.0 is 0.0

    return norm


def _decimal(text: str) -> str:
    if text.lstrip("-").strip("0.") == "" and text.startswith("-"):
        return text[1:]
    return "NaN" if text.lower() == "nan" else text


def _fraction(digits: int) -> Norm:
    def norm(text: str) -> str:
        match = re.search(r"\.(\d+)", text)
        if not match:
            return text
        kept = match.group(1)[:digits].rstrip("0")
        head, tail = text[: match.start()], text[match.end() :]
        return f"{head}.{kept}{tail}" if kept else head + tail

    return norm


def fixed_char(sql_type: SqlType | None) -> bool:
    return sql_type is not None and bool(_FIXED_CHAR.match(sql_type.raw or ""))


def column_norm(source: SqlType | None, target: SqlType | None) -> Norm | None:
    """The normalization of one column's canonical texts; None when nothing is needed."""
    known = [t for t in (source, target) if t is not None]
    families = {t.family for t in known}
    if families & {F.FLOAT}:
        return _none_kept(_float(any(t.family is F.FLOAT and t.bits == 32 for t in known)))
    if families & {F.DECIMAL}:
        return _none_kept(_decimal)
    if families & {F.TEXT} and (fixed_char(source) or fixed_char(target)):
        return _none_kept(lambda text: text.rstrip(" "))
    if families & {F.TIME, F.TIMESTAMP, F.TIMESTAMPTZ}:
        precisions = [t.precision for t in known if t.precision is not None]
        if len(precisions) == 2 and precisions[0] != precisions[1]:
            return _none_kept(_fraction(min(precisions)))
    return None


def _none_kept(norm: Norm) -> Norm:
    return lambda text: text if text == NULL else norm(text)
