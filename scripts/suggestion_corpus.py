"""A corpus of generated schema pairs for mapping suggestions, in SQLite: a source schema
of one to three tables, and a target in which tables and columns are renamed (another case
style, abbreviated by a common short form, a prefix or a consonant skeleton, now and then a
synonym no list knows), types widened (INT to BIGINT, VARCHAR to TEXT, ...), columns dropped,
and decoy columns added (a like name, other values). Some targets hold rows (a part of the
source's), others none. Each pair knows its true mapping.

Shared by ``bench/suggestions.py`` and ``tests/plans/test_suggestion_corpus.py``; seeded, so
the same seed builds the same corpus.
"""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

Value = str | int | float | None
Make = Callable[[random.Random, int], Value]

FIRST = ["Ana", "Ben", "Chloe", "Dev", "Eva", "Farid", "Grace", "Hugo", "Ines", "Jun", "Kofi"]
LAST = ["Silva", "Okafor", "Novak", "Tanaka", "Moreau", "Larsen", "Ruiz", "Chen", "Haddad"]
CITIES = ["Lyon", "Osaka", "Lagos", "Quito", "Porto", "Graz", "Pune", "Perth", "Tartu"]
COUNTRIES = ["FR", "JP", "NG", "EC", "PT", "AT", "IN", "AU", "EE", "DE", "US"]
STATUSES = ["open", "paid", "shipped", "cancelled", "pending"]
WORDS = ["red", "small", "steel", "oak", "quiet", "rapid", "fresh", "round", "bright"]


def _name(r: random.Random, i: int) -> Value:
    return f"{r.choice(FIRST)} {r.choice(LAST)}"


def _day(r: random.Random, i: int) -> Value:
    return f"20{r.randint(18, 25)}-{r.randint(1, 12):02}-{r.randint(1, 28):02}"


def _moment(r: random.Random, i: int) -> Value:
    return f"{_day(r, i)} {r.randint(0, 23):02}:{r.randint(0, 59):02}:{r.randint(0, 59):02}"


# value makers: each its own distribution, so decoys of a like name hold other values
MAKERS: dict[str, Make] = {
    "seq": lambda r, i: i,
    "ref": lambda r, i: r.randint(1, 400),
    "person": _name,
    "first": lambda r, i: r.choice(FIRST),
    "last": lambda r, i: r.choice(LAST),
    "email": lambda r, i: f"{r.choice(FIRST).lower()}.{r.choice(LAST).lower()}{i}@example.org",
    "phone": lambda r, i: f"+1-555-{r.randint(1000, 9999)}",
    "money": lambda r, i: round(r.uniform(1, 5000), 2),
    "small": lambda r, i: r.randint(0, 40),
    "day": _day,
    "moment": _moment,
    "status": lambda r, i: r.choice(STATUSES),
    "country": lambda r, i: r.choice(COUNTRIES),
    "city": lambda r, i: r.choice(CITIES),
    "street": lambda r, i: f"{r.randint(1, 999)} {r.choice(WORDS).title()} Street",
    "text": lambda r, i: " ".join(r.choice(WORDS) for _ in range(r.randint(3, 9))),
    "sku": lambda r, i: f"SKU-{r.randint(0, 99999):05}",
    "flag": lambda r, i: r.randint(0, 1),
    "ratio": lambda r, i: round(r.random(), 4),
    "code": lambda r, i: f"{r.choice('ABCDEFGH')}{r.randint(100, 999)}",
    "weight": lambda r, i: round(r.uniform(0.1, 80), 3),
}
# the maker a decoy of a column of this maker uses: the same type, other values
DECOY_OF = {
    "seq": "small", "ref": "small", "person": "city", "first": "city", "last": "city",
    "email": "street", "phone": "code", "money": "weight", "small": "ref", "day": "moment",
    "moment": "day", "status": "country", "country": "status", "city": "first",
    "street": "text", "text": "street", "sku": "code", "flag": "small", "ratio": "money",
    "code": "sku", "weight": "money",
}  # fmt: skip


@dataclass(frozen=True)
class Col:
    words: tuple[str, ...]
    type: str
    make: str


def _c(name: str, sql: str, make: str) -> Col:
    return Col(tuple(name.split("_")), sql, make)


ENTITIES: dict[str, list[Col]] = {
    "customers": [
        _c("id", "INTEGER", "seq"), _c("first_name", "VARCHAR(40)", "first"),
        _c("last_name", "VARCHAR(40)", "last"), _c("email_address", "VARCHAR(120)", "email"),
        _c("phone_number", "VARCHAR(20)", "phone"), _c("country_code", "CHAR(2)", "country"),
        _c("created_at", "TIMESTAMP", "moment"), _c("credit_limit", "NUMERIC(10,2)", "money"),
    ],
    "orders": [
        _c("id", "INTEGER", "seq"), _c("customer_id", "INTEGER", "ref"),
        _c("order_date", "DATE", "day"), _c("total_amount", "NUMERIC(12,2)", "money"),
        _c("order_status", "VARCHAR(12)", "status"), _c("shipping_address", "TEXT", "street"),
        _c("item_count", "INTEGER", "small"),
    ],
    "products": [
        _c("id", "INTEGER", "seq"), _c("product_name", "VARCHAR(80)", "text"),
        _c("sku", "VARCHAR(12)", "sku"), _c("unit_price", "NUMERIC(10,2)", "money"),
        _c("stock_quantity", "INTEGER", "small"), _c("weight_kg", "REAL", "weight"),
        _c("is_active", "INTEGER", "flag"), _c("description", "TEXT", "text"),
    ],
    "employees": [
        _c("id", "INTEGER", "seq"), _c("full_name", "VARCHAR(80)", "person"),
        _c("department_code", "VARCHAR(8)", "code"), _c("hire_date", "DATE", "day"),
        _c("salary_amount", "NUMERIC(12,2)", "money"), _c("manager_id", "INTEGER", "ref"),
        _c("office_city", "VARCHAR(40)", "city"),
    ],
    "invoices": [
        _c("id", "INTEGER", "seq"), _c("invoice_number", "VARCHAR(12)", "code"),
        _c("customer_id", "INTEGER", "ref"), _c("issue_date", "DATE", "day"),
        _c("due_date", "DATE", "day"), _c("amount_due", "NUMERIC(12,2)", "money"),
        _c("tax_rate", "REAL", "ratio"), _c("payment_status", "VARCHAR(12)", "status"),
    ],
    "shipments": [
        _c("id", "INTEGER", "seq"), _c("order_id", "INTEGER", "ref"),
        _c("carrier_code", "VARCHAR(8)", "code"), _c("shipped_at", "TIMESTAMP", "moment"),
        _c("destination_city", "VARCHAR(40)", "city"),
        _c("destination_country", "CHAR(2)", "country"),
        _c("package_weight", "REAL", "weight"),
    ],
    "suppliers": [
        _c("id", "INTEGER", "seq"), _c("company_name", "VARCHAR(80)", "text"),
        _c("contact_name", "VARCHAR(80)", "person"), _c("contact_email", "VARCHAR(120)", "email"),
        _c("phone_number", "VARCHAR(20)", "phone"), _c("street_address", "TEXT", "street"),
        _c("country_code", "CHAR(2)", "country"),
    ],
    "payments": [
        _c("id", "INTEGER", "seq"), _c("invoice_id", "INTEGER", "ref"),
        _c("payment_date", "DATE", "day"), _c("payment_amount", "NUMERIC(12,2)", "money"),
        _c("payment_method", "VARCHAR(12)", "status"), _c("reference_number", "VARCHAR(12)", "sku"),
    ],
}  # fmt: skip

# short forms a schema writer reaches for (the matcher's own list is separate)
SHORT = {
    "customer": ["cust", "cstmr"], "number": ["num", "no", "nbr"], "amount": ["amt"],
    "quantity": ["qty"], "address": ["addr"], "description": ["desc", "descr"],
    "date": ["dt"], "department": ["dept"], "employee": ["emp"], "product": ["prod"],
    "name": ["nm"], "status": ["stat", "sts"], "reference": ["ref"], "payment": ["pmt", "pay"],
    "invoice": ["inv"], "count": ["cnt"], "country": ["ctry", "cntry"], "price": ["prc"],
    "company": ["co", "comp"], "contact": ["cntct"], "destination": ["dest", "dst"],
    "shipping": ["ship", "shp"], "salary": ["sal"], "manager": ["mgr"], "weight": ["wt"],
}  # fmt: skip
# synonyms no abbreviation list knows: the hard cases
SYNONYMS = {
    "customer": "client", "price": "cost", "amount": "sum", "description": "details",
    "city": "town", "company": "firm", "email": "mail", "salary": "pay", "carrier": "courier",
    "product": "article", "order": "purchase", "supplier": "vendor",
}  # fmt: skip
STYLES = ("snake", "camel", "pascal", "upper", "joined")


@dataclass
class Pair:
    """One schema pair: its files, and the truth (source -> target, None: dropped)."""

    name: str
    source: Path
    target: Path
    tables: dict[str, str] = field(default_factory=dict)
    columns: dict[tuple[str, str], tuple[str, str] | None] = field(default_factory=dict)
    target_rows: bool = False


def _abbreviated(word: str, r: random.Random) -> str:
    roll = r.random()
    if roll < 0.5 and word in SHORT:
        return r.choice(SHORT[word])
    if roll < 0.75 and len(word) > 5:
        return word[: r.randint(3, 4)]  # a prefix
    if len(word) > 5:  # a consonant skeleton
        return word[0] + "".join(c for c in word[1:] if c not in "aeiou")
    return word


def _styled(words: list[str], style: str) -> str:
    if style == "camel":
        return words[0] + "".join(w.title() for w in words[1:])
    if style == "pascal":
        return "".join(w.title() for w in words)
    if style == "upper":
        return "_".join(words).upper()
    if style == "joined" and len(words) == 2:
        return "".join(words)
    return "_".join(words)


def renamed(words: tuple[str, ...], r: random.Random, style: str) -> str:
    if words == ("id",):
        return "ID" if style == "upper" else "id"
    out = []
    for word in words:
        roll = r.random()
        if roll < 0.08 and word in SYNONYMS:
            out.append(SYNONYMS[word])
        elif roll < 0.45:
            out.append(_abbreviated(word, r))
        else:
            out.append(word)
    return _styled(out, style)


def _table_name(name: str, r: random.Random, style: str) -> str:
    roll = r.random()
    singular = name[:-1]
    if roll < 0.2:
        return f"tbl_{singular}"
    if roll < 0.4:
        return _styled([singular], "pascal")
    if roll < 0.55 and singular in SYNONYMS:
        return SYNONYMS[singular] + "s"
    if roll < 0.75:
        return _abbreviated(singular, r) + "s"
    return _styled([singular, "data"], style)


WIDER = {"INTEGER": "BIGINT", "VARCHAR": "TEXT", "CHAR(2)": "VARCHAR(2)", "REAL": "DOUBLE",
         "NUMERIC(10,2)": "NUMERIC(14,2)", "NUMERIC(12,2)": "NUMERIC(18,2)", "DATE": "DATE",
         "TIMESTAMP": "DATETIME", "TEXT": "TEXT"}  # fmt: skip


def _wider(sql: str, r: random.Random) -> str:
    if r.random() < 0.5:
        return sql
    return WIDER.get(sql.split("(")[0] if sql.startswith("VARCHAR") else sql, sql)


def _create(db: sqlite3.Connection, table: str, columns: list[tuple[str, str]]) -> None:
    defs = ", ".join(
        f'"{n}" {t}' + (" PRIMARY KEY" if i == 0 else "") for i, (n, t) in enumerate(columns)
    )
    db.execute(f'CREATE TABLE "{table}" ({defs})')


def _fill(db: sqlite3.Connection, table: str, rows: list[list[Value]]) -> None:
    if rows:
        marks = ", ".join("?" for _ in rows[0])
        db.executemany(f'INSERT INTO "{table}" VALUES ({marks})', rows)


def build_pair(folder: Path, index: int, seed: int, rows: int = 200) -> Pair:
    r = random.Random(seed * 1000 + index)
    pair = Pair(f"pair{index:02}", folder / f"s{index:02}.db", folder / f"t{index:02}.db")
    pair.target_rows = r.random() < 0.6
    style = r.choice(STYLES)
    chosen = r.sample(sorted(ENTITIES), r.randint(1, 3))
    with sqlite3.connect(pair.source) as src, sqlite3.connect(pair.target) as dst:
        for entity in chosen:
            _entity(src, dst, pair, entity, r, style, rows)
    src.close()
    dst.close()
    return pair


def _entity(
    src: sqlite3.Connection,
    dst: sqlite3.Connection,
    pair: Pair,
    entity: str,
    r: random.Random,
    style: str,
    rows: int,
) -> None:
    cols = ENTITIES[entity]
    table = entity if r.random() < 0.6 else _table_name(entity, r, style)
    pair.tables[entity] = table
    values = [[MAKERS[c.make](r, i) for c in cols] for i in range(1, rows + 1)]
    _create(src, entity, [("_".join(c.words), c.type) for c in cols])
    _fill(src, entity, values)
    target_cols: list[tuple[str, str, int | None, str | None]] = []  # name, type, from, decoy
    used: set[str] = set()
    for i, c in enumerate(cols):
        source_name = "_".join(c.words)
        if i > 0 and r.random() < 0.06:  # dropped in the target
            pair.columns[(entity, source_name)] = None
            continue
        name = source_name if r.random() < 0.25 else renamed(c.words, r, style)
        if name.lower() in used:
            name = source_name
        used.add(name.lower())
        pair.columns[(entity, source_name)] = (table, name)
        target_cols.append((name, _wider(c.type, r), i, None))
    for c in cols[1:]:
        if r.random() < 0.25:  # a decoy: a like name, other values
            base = "_".join(c.words)
            name = r.choice([f"{base}_old", f"{base}_code", f"prev_{base}", f"{base}2"])
            if name.lower() not in used:
                used.add(name.lower())
                target_cols.append((name, c.type, None, DECOY_OF[c.make]))
    r.shuffle(target_cols)
    key = next(t for t in target_cols if t[2] == 0)
    target_cols.remove(key)
    target_cols.insert(0, key)
    _create(dst, table, [(n, t) for n, t, _, _ in target_cols])
    if pair.target_rows:
        kept = values[: r.randint(rows // 4, rows * 3 // 4)]
        _fill(
            dst,
            table,
            [
                [
                    row[f] if f is not None else MAKERS[d or "small"](r, n)
                    for _, _, f, d in target_cols
                ]
                for n, row in enumerate(kept, 1)
            ],
        )


def build(folder: Path, pairs: int = 24, seed: int = 15) -> list[Pair]:
    folder.mkdir(parents=True, exist_ok=True)
    return [build_pair(folder, i, seed) for i in range(pairs)]


# -- scoring the suggestions against the truth ------------------------------------------

CONFIDENT = 0.8


@dataclass
class Tally:
    """Per matcher: confident suggestions and how many were right; items (tables and
    columns named otherwise in the target, or dropped) and how many had the truth first,
    or among the best three."""

    confident: int = 0
    right: int = 0
    items: int = 0
    first: int = 0
    top3: int = 0

    @property
    def precision(self) -> float:
        return self.right / self.confident if self.confident else 1.0

    @property
    def recall(self) -> float:
        return self.top3 / self.items if self.items else 1.0

    @property
    def accuracy(self) -> float:
        return self.first / self.items if self.items else 1.0


Guess = tuple[str, float]  # a target name and its score


def tally(
    pair: Pair,
    tables: dict[str, list[Guess]],
    columns: dict[tuple[str, str], list[Guess]],
    into: Tally,
) -> None:
    """Add a matcher's guesses for one pair: per renamed table and per column whose name
    differs (or that was dropped) its ranked guesses, best first."""
    for source, truth in pair.tables.items():
        if truth != source:
            _count(into, truth, tables.get(source, []))
    for (table, column), found in pair.columns.items():
        if found is not None and found[1] == column:
            continue  # the same name: nothing to suggest
        expected = None if found is None else found[1]
        guesses = columns.get((table, column), [])
        # a guess in the wrong table is wrong whatever its column
        if found is not None and pair.tables[table] != _guessed_table(tables, table, table):
            guesses = [(f"{name}?", score) for name, score in guesses]
        _count(into, expected, guesses)


def _guessed_table(tables: dict[str, list[Guess]], table: str, default: str) -> str:
    guesses = tables.get(table)
    return guesses[0][0] if guesses else default


def _count(into: Tally, truth: str | None, guesses: list[Guess]) -> None:
    if truth is not None:
        into.items += 1
        into.first += bool(guesses) and guesses[0][0] == truth
        into.top3 += truth in [name for name, _ in guesses[:3]]
    if guesses and guesses[0][1] >= CONFIDENT:
        into.confident += 1
        into.right += guesses[0][0] == truth


def from_suggestions(
    found: list[dict[str, object]],
) -> tuple[dict[str, list[Guess]], dict[tuple[str, str], list[Guess]]]:
    """moonshift's suggestions as ranked guesses: the chosen one first, then the other
    candidates."""
    tables: dict[str, list[Guess]] = {}
    columns: dict[tuple[str, str], list[Guess]] = {}
    for s in found:
        chosen = (str(s["target_column"] or s["target_table"]), float(s["score"]))  # type: ignore[arg-type]
        rest = [(str(n), float(v)) for n, v in s["candidates"] if n != chosen[0]]  # type: ignore[attr-defined]
        if s["source_column"] is None:
            tables[str(s["source_table"])] = [chosen, *rest]
        else:
            columns[(str(s["source_table"]), str(s["source_column"]))] = [chosen, *rest]
    return tables, columns


def suggested(pair: Pair) -> list[dict[str, object]]:
    """moonshift's suggestions for a pair, as a plan stores them (the planner's own
    suggester over both schemas, every table chosen)."""
    from moonshift.connectors.registry import connector_for
    from moonshift.copy.suggest import Suggester
    from moonshift.domain.copy_spec import CopySpec

    source = connector_for(f"sqlite:///{pair.source}", {})
    target = connector_for(f"sqlite:///{pair.target}", {})
    schemas = (source.read_schema(), target.read_schema())
    return Suggester(CopySpec(), schemas, (source, target)).suggestions()


def _schema(path: Path) -> dict[str, list[str]]:
    with sqlite3.connect(path) as db:
        names = [n for (n,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        found = {n: [c[1] for c in db.execute(f'PRAGMA table_info("{n}")')] for n in names}
    db.close()
    return found


def baseline(
    pair: Pair, similarity: Callable[[str, str], float]
) -> tuple[dict[str, list[Guess]], dict[tuple[str, str], list[Guess]]]:
    """A plain matcher for reference: tables, then the columns of each table pair, ranked
    by ``similarity`` of their names and assigned greedily (names only: no types, no
    values)."""
    source, target = _schema(pair.source), _schema(pair.target)
    tables = _ranked(list(source), [t for t in target if t not in source], similarity)
    columns: dict[tuple[str, str], list[Guess]] = {}
    for table, names in source.items():
        paired = table if table in target else (tables.get(table) or [("", 0.0)])[0][0]
        if paired not in target:
            continue
        free = [c for c in target[paired] if c not in names]
        open_ = [c for c in names if c not in target[paired]]
        for column, guesses in _ranked(open_, free, similarity).items():
            columns[(table, column)] = guesses
    return tables, columns


def _ranked(
    sources: list[str], targets: list[str], similarity: Callable[[str, str], float]
) -> dict[str, list[Guess]]:
    scored = sorted(
        ((similarity(s, t), s, t) for s in sources for t in targets if similarity(s, t) > 0),
        key=lambda x: (-x[0], x[1], x[2]),
    )
    ranked: dict[str, list[Guess]] = {}
    for score, s, t in scored:
        ranked.setdefault(s, []).append((t, score))
    taken: set[str] = set()
    found: dict[str, list[Guess]] = {}
    for score, s, t in scored:
        if s not in found and t not in taken:
            taken.add(t)
            found[s] = [(t, score)] + [g for g in ranked[s] if g[0] != t]
    return found


def exact(a: str, b: str) -> float:
    return 1.0 if a.lower() == b.lower() else 0.0


def fuzzy(a: str, b: str) -> float:
    from difflib import SequenceMatcher

    return SequenceMatcher(None, a.lower(), b.lower()).ratio()
