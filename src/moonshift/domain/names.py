"""How alike two table or column names are: split into words (snake_case, camelCase,
kebab-case, digits), abbreviations expanded, plurals folded, then compared word by word
(a prefix or a consonant skeleton counts as an abbreviation) and as whole strings (edit
distance). Pure."""

from __future__ import annotations

import re
from difflib import SequenceMatcher
from functools import lru_cache

# Common abbreviations in schemas; a word not here may still match as a prefix
# ("cust" of "customer") or a skeleton ("cstmr", "nm" of "name").
ABBREVIATIONS = {
    "acct": "account", "addr": "address", "amt": "amount", "attr": "attribute",
    "avg": "average", "bal": "balance", "cat": "category", "cd": "code", "cnt": "count",
    "cre": "created", "ctry": "country", "cur": "currency", "curr": "currency",
    "cust": "customer", "del": "deleted", "dept": "department", "desc": "description",
    "descr": "description", "dob": "date of birth", "dt": "date", "dttm": "datetime",
    "emp": "employee", "fname": "first name", "grp": "group", "id": "id", "ident": "identifier",
    "img": "image", "inv": "invoice", "lname": "last name", "loc": "location", "max": "maximum",
    "min": "minimum", "mod": "modified", "msg": "message", "nbr": "number", "nm": "name",
    "no": "number", "num": "number", "ord": "order", "org": "organization", "pct": "percent",
    "ph": "phone", "pmt": "payment", "pos": "position", "prc": "price", "prod": "product",
    "qty": "quantity", "ref": "reference", "seq": "sequence", "src": "source", "stat": "status",
    "sts": "status", "tel": "telephone", "tm": "time", "ts": "timestamp", "txn": "transaction",
    "txt": "text", "upd": "updated", "usr": "user", "val": "value", "ver": "version",
    "wt": "weight", "yr": "year",
}  # fmt: skip
# Words that say what kind of object a name is, not what it holds.
NOISE = frozenset({"tbl", "tb", "tab", "col", "fld"})
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
_VOWELS = frozenset("aeiou")


@lru_cache(maxsize=4096)
def words(name: str) -> tuple[str, ...]:
    """``custNm`` -> (customer, name); ``tbl_Orders`` -> (order,)."""
    found = []
    for part in re.split(r"[^A-Za-z0-9]+", name):
        for word in _CAMEL.findall(part):
            lower = word.lower()
            if lower not in NOISE:
                found += [_singular(w) for w in ABBREVIATIONS.get(lower, lower).split()]
    return tuple(found) or (name.lower(),)


def _singular(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


@lru_cache(maxsize=65536)
def word_similarity(a: str, b: str) -> float:
    """1 for the same word; 0.9 when one is the other's prefix (3 letters or more); 0.8
    when one is the other's consonant skeleton from its first letter; else the edit
    similarity, when it is high (a typo)."""
    if a == b:
        return 1.0
    short, long = sorted((a, b), key=len)
    if len(short) >= 3 and long.startswith(short):
        return 0.9
    if len(short) >= 2 and short[0] == long[0] and _skeleton_of(short, long):
        return 0.8
    if 2 * len(short) < 0.8 * (len(short) + len(long)):
        return 0.0  # too unlike in length to be a typo
    matcher = SequenceMatcher(None, a, b)
    if matcher.quick_ratio() < 0.8:
        return 0.0
    ratio = matcher.ratio()
    return ratio if ratio >= 0.8 else 0.0


def _skeleton_of(short: str, long: str) -> bool:
    """``cstmr`` of ``customer``: the short word's letters in order, vowels of the long
    one left out, never a vowel the long word lacks."""
    if any(c.isdigit() for c in short) or len(short) * 2 < len(
        [c for c in long if c not in _VOWELS]
    ):
        return False
    rest = iter(long)
    return all(any(c == d for d in rest) for c in short)


def _paired(wa: tuple[str, ...], wb: tuple[str, ...]) -> float:
    """The summed similarity of word pairs, each word in one pair at most, best first."""
    pairs = sorted(
        ((word_similarity(x, y), i, j) for i, x in enumerate(wa) for j, y in enumerate(wb)),
        reverse=True,
    )
    used_a: set[int] = set()
    used_b: set[int] = set()
    total = 0.0
    for similarity, i, j in pairs:
        if similarity > 0 and i not in used_a and j not in used_b:
            used_a.add(i)
            used_b.add(j)
            total += similarity
    return total


@lru_cache(maxsize=65536)
def name_similarity(a: str, b: str) -> float:
    """In [0, 1]: how well the words of each name find a word in the other (both ways:
    a word either lacks costs), blended with the edit similarity of the normalized names;
    or that edit similarity alone, a little less, when it says more (words run together,
    ``orderstatus``, or cut short across a boundary)."""
    wa, wb = words(a), words(b)
    if wa == wb:
        return 1.0
    whole = SequenceMatcher(None, "".join(wa), "".join(wb)).ratio()
    by_words = 0.8 * 2 * _paired(wa, wb) / (len(wa) + len(wb)) + 0.2 * whole
    return round(max(by_words, 0.95 * whole), 4)
