"""Mapping suggestions for a plan: where the target already has a table under another
name, or a table whose columns are named otherwise, which target table and column each
unmapped source table and column most likely is (scored by ``domain.matching``, from names,
types and a sample of both sides' values).

A column is unmapped when its target name (its own, or the spec's rename) is not a column
of its target table; a table when its target name is not a table of the target and the spec
names none. Target tables and columns the spec already writes are never suggested again.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from moonshift.connectors.base import Connector, Schema, Table, connect
from moonshift.connectors.values import comparable
from moonshift.copy.estimate import profile
from moonshift.domain.copy_spec import CopySpec, CreateTarget, TableSpec, TargetPrep
from moonshift.domain.matching import (
    REVIEW_BELOW,
    TABLE_FLOOR,
    ColumnFacts,
    Match,
    Scored,
    assigned,
    match,
    suggestion_id,
    table_score,
)
from moonshift.domain.names import name_similarity, words

SAMPLE_ROWS = 1000  # per table and side: values enough to compare, cheap on a big table
MAX_VALUES = 500  # distinct values kept per column for the overlap
TABLE_CANDIDATES = 5  # target tables scored column by column per unmapped source table


@dataclass(frozen=True)
class _Pair:
    spec: TableSpec
    source: Table
    target: Table
    table: Scored | None  # the table's own suggestion; None when the target is its own


class Suggester:
    def __init__(
        self,
        spec: CopySpec,
        schemas: tuple[Schema, Schema],
        connectors: tuple[Connector, Connector],
    ) -> None:
        self.spec = spec
        self.source_schema, self.target_schema = schemas
        self.source, self.target = connectors
        self._types: dict[tuple[int, str], list[ColumnFacts]] = {}

    def suggestions(self) -> list[dict[str, Any]]:
        """Every suggestion, tables first, as plain data for the stored plan; none when the
        copy drops and creates every table (the target's names do not matter then)."""
        if (
            self.spec.create_target is CreateTarget.ALWAYS
            or self.spec.target_prep is TargetPrep.DROP_CREATE
        ):
            return []
        found: list[dict[str, Any]] = []
        for pair in self._pairs():
            if pair.table is not None:
                found.append(self._table_suggestion(pair))
            found += [self._column_suggestion(pair, m) for m in self._columns(pair)]
        return found

    # -- tables ---------------------------------------------------------------------------

    def _chosen(self) -> list[TableSpec]:
        hidden = self.spec.bookkeeping_table
        available = [
            n
            for n, t in self.source_schema.tables.items()
            if not n.startswith(hidden) and t.partition_of is None
        ]
        return [
            t for t in self.spec.table_specs(available) if t.source in self.source_schema.tables
        ]

    def _pairs(self) -> Iterator[_Pair]:
        chosen = self._chosen()
        targets = self.target_schema.tables
        unpaired = []
        for ts in chosen:
            if ts.target_name in targets:
                yield _Pair(ts, self.source_schema.tables[ts.source], targets[ts.target_name], None)
            elif ts.target is None:
                unpaired.append(ts)
        claimed = {ts.target_name for ts in chosen}
        hidden = self.spec.bookkeeping_table
        free = [
            t
            for n, t in targets.items()
            if n not in claimed and not n.startswith(hidden) and t.partition_of is None
        ]
        by_name = {ts.source: ts for ts in unpaired}
        table = [
            self._table_score(self.source_schema.tables[ts.source], t)
            for ts in unpaired
            for t in _likeliest(self.source_schema.tables[ts.source], free)
        ]
        for m in assigned(t for t in table if t.score >= TABLE_FLOOR):
            ts = by_name[m.chosen.source]
            source = self.source_schema.tables[ts.source]
            yield _Pair(ts, source, targets[m.chosen.target], m.chosen)

    def _table_score(self, source: Table, target: Table) -> Scored:
        """Names and columns by names and types: values are sampled only for the pairs
        suggested."""
        mine, theirs = self._typed(self.source, source), self._typed(self.target, target)
        return table_score(source.name, target.name, mine, theirs)

    def _table_suggestion(self, pair: _Pair) -> dict[str, Any]:
        assert pair.table is not None
        return _stored(pair.source.name, None, pair.target.name, None, pair.table, ())

    # -- columns --------------------------------------------------------------------------

    def _columns(self, pair: _Pair) -> list[Match]:
        target_names = {c.name for c in pair.target.columns}
        unmapped, mapped = [], set()
        for column in pair.source.columns:
            option = pair.spec.column(column.name)
            if option.exclude or option.expr:
                continue
            name = option.rename or column.name
            if name in target_names:
                mapped.add(name)
            else:
                unmapped.append(column.name)
        free = [
            c.name
            for c in pair.target.columns
            if c.name not in mapped and c.generated is None  # the target computes those
        ]
        if not unmapped or not free:
            return []
        sources = self._sampled(self.source, pair.source, unmapped)
        targets = self._sampled(self.target, pair.target, free)
        return match(sources, targets)

    def _column_suggestion(self, pair: _Pair, m: Match) -> dict[str, Any]:
        return _stored(
            pair.source.name, m.chosen.source, pair.target.name, m.chosen.target, m.chosen, m.ranked
        )

    def _typed(self, connector: Connector, table: Table) -> list[ColumnFacts]:
        """Every column of a table, by name and type (once per table)."""
        key = (id(connector), table.name)
        if key not in self._types:
            self._types[key] = [self._facts(connector, table, c.name) for c in table.columns]
        return self._types[key]

    def _facts(self, connector: Connector, table: Table, name: str) -> ColumnFacts:
        column = table.column(name)
        try:
            family: str | None = connector.parse_type(column).family.value
        except Exception:  # a type with no mapping: its name still counts
            family = None
        return ColumnFacts(name, family, column.type)

    def _sampled(self, connector: Connector, table: Table, names: list[str]) -> list[ColumnFacts]:
        rows = _sample(connector, table, names)
        profiled = profile(tuple(names), rows, len(rows))["columns"] if rows else {}
        found = []
        for index, name in enumerate(names):
            facts = self._facts(connector, table, name)
            values = {comparable(r[index]) for r in rows if r[index] is not None}
            found.append(
                ColumnFacts(
                    name,
                    facts.family,
                    facts.spelled,
                    profiled.get(name),
                    frozenset(sorted(values)[:MAX_VALUES]),
                )
            )
        return found


def _likeliest(source: Table, free: list[Table]) -> list[Table]:
    """The free target tables worth scoring for ``source``: those sharing the most column
    names (their words run together), then the most alike names. Bounds the work on a
    target with many tables."""
    if len(free) <= TABLE_CANDIDATES:
        return free
    mine = {"".join(words(c.name)) for c in source.columns}

    def likeness(t: Table) -> float:
        theirs = {"".join(words(c.name)) for c in t.columns}
        return len(mine & theirs) / len(mine | theirs) + name_similarity(source.name, t.name)

    return sorted(free, key=likeness, reverse=True)[:TABLE_CANDIDATES]


def _sample(connector: Connector, table: Table, names: list[str]) -> list[Any]:
    """The first rows of a table (none when it cannot be read: names and types still
    count)."""
    columns = ", ".join(connector.quote(n) for n in names)
    sql = f"SELECT {columns} FROM {connector.from_sql(table.name, table.only)} "
    try:
        conn = connect(connector, "sample")
    except Exception:
        return []
    try:
        cursor = conn.cursor()
        cursor.execute(sql + f"LIMIT {SAMPLE_ROWS}")
        return list(cursor.fetchall())
    except Exception:
        return []
    finally:
        conn.rollback()
        conn.close()


def _stored(
    source_table: str,
    source_column: str | None,
    target_table: str,
    target_column: str | None,
    chosen: Scored,
    ranked: tuple[Scored, ...],
) -> dict[str, Any]:
    return {
        "sid": suggestion_id(source_table, source_column, target_table, target_column),
        "source_table": source_table,
        "source_column": source_column,
        "target_table": target_table,
        "target_column": target_column,
        "score": chosen.score,
        "review": chosen.score < REVIEW_BELOW,
        "reasons": list(chosen.reasons),
        "candidates": [[s.target, s.score] for s in ranked],
    }
