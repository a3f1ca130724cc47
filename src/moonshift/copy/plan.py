"""Planning a copy: which tables, in which order, which columns and types; and every
problem found before a single row is written."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from moonshift.connectors.base import Connector, Schema, Table
from moonshift.connectors.types import Family, SqlType, UnknownTypeError, incompatible, lossy
from moonshift.connectors.types import target_type as mapped_type
from moonshift.connectors.values import Convert, converter, decoder, encoder
from moonshift.copy.order import load_order
from moonshift.domain.copy_spec import CopySpec, CreateTarget, Mode, TableSpec, TargetPrep
from moonshift.errors import TerminalError

ZERO_DATE_FAMILIES = (Family.DATE, Family.TIMESTAMP, Family.TIMESTAMPTZ)


@dataclass(frozen=True)
class Issue:
    table: str
    column: str | None
    message: str
    fatal: bool

    def __str__(self) -> str:
        where = f"{self.table}.{self.column}" if self.column else self.table
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class TablePlan:
    source: str
    target: str
    source_columns: tuple[str, ...]
    target_columns: tuple[str, ...]
    key: tuple[str, ...]  # source names; empty for a table without a key
    where: str | None
    converters: tuple[Convert | None, ...]
    binary: bool  # PostgreSQL to PostgreSQL: COPY BINARY
    casts: tuple[str | None, ...]  # binary: the target's type where the source's differs
    create_sql: str | None  # set when moonshift creates the table
    exists: bool
    rows: int
    cursor: str | None = None
    zero_dates: tuple[str, ...] = ()  # MySQL columns whose zero dates become NULL
    first_key_is_int: bool = False

    @property
    def key_index(self) -> tuple[int, ...]:
        return tuple(self.source_columns.index(k) for k in self.key)

    @property
    def target_key(self) -> tuple[str, ...]:
        return tuple(self.target_columns[i] for i in self.key_index)


@dataclass(frozen=True)
class CopyPlan:
    tables: tuple[TablePlan, ...]  # parents first
    issues: tuple[Issue, ...]
    foreign_keys: tuple[str, ...] = ()  # created after the load
    targets_to_clear: tuple[str, ...] = field(default=())  # children first

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.fatal]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if not i.fatal]


class Planner:
    def __init__(self, spec: CopySpec, source: Connector, target: Connector) -> None:
        self.spec, self.source, self.target = spec, source, target
        self.issues: list[Issue] = []

    def plan(self) -> CopyPlan:
        src_schema, tgt_schema = self.source.read_schema(), self.target.read_schema()
        hidden = self.spec.bookkeeping_table
        available = [n for n in src_schema.tables if not n.startswith(hidden)]
        chosen = self.spec.table_specs(available)
        plans = {}
        conn = self.source.connect()
        try:
            for table_spec in chosen:
                found = src_schema.tables.get(table_spec.source)
                if found is None:
                    self._fatal(table_spec.source, None, "no such table in the source")
                    continue
                plan = self._table(conn, table_spec, found, tgt_schema)
                if plan is not None:
                    plans[found.name] = plan
        finally:
            conn.close()
        order = load_order(src_schema.tables[n] for n in plans)
        ordered = tuple(plans[n] for n in order.tables)
        fks = self._foreign_keys(ordered, src_schema)
        return CopyPlan(
            ordered, tuple(self.issues), fks, tuple(t.target for t in reversed(ordered))
        )

    # -- one table ------------------------------------------------------------------------

    def _table(
        self, conn: Any, ts: TableSpec, table: Table, tgt_schema: Schema
    ) -> TablePlan | None:
        name = table.name
        mapping = ts.columns or {c.name: c.name for c in table.columns}
        missing = [c for c in mapping if c not in {col.name for col in table.columns}]
        for column in missing:
            self._fatal(name, column, "no such column in the source")
        if missing:
            return None
        key = ts.key or table.key or ()
        for column in key:
            if column not in mapping:
                self._fatal(name, column, "the key column must be copied (add it to columns)")
                return None
        cursor = self.spec.cursor if self.spec.mode is Mode.INCREMENTAL else None
        if cursor and cursor not in mapping:
            self._fatal(name, cursor, "the incremental cursor column is not copied")
            return None
        if cursor and not key:
            self._fatal(name, None, "an incremental copy needs a primary or unique key")
            return None
        src_cols = tuple(mapping)
        dst_cols = tuple(mapping[c] for c in src_cols)
        src_types = [self._parse(self.source, table, c) for c in src_cols]
        rows = self._count(conn, table.name, ts.where)
        if not key and rows > self.spec.keyless_max_rows:
            self._fatal(
                name,
                None,
                f"has no primary or unique key and {rows} rows, more than "
                f"copy.keyless_max_rows ({self.spec.keyless_max_rows}) copied in one "
                "transaction; give it a key: in copy.tables",
            )
            return None
        existing = tgt_schema.tables.get(ts.target_name)
        recreate = (
            self.spec.create_target is CreateTarget.ALWAYS
            or self.spec.target_prep is TargetPrep.DROP_CREATE
        )
        create_sql = None
        if existing is None or recreate:
            if self.spec.create_target is CreateTarget.NEVER:
                self._fatal(
                    ts.target_name, None, "no such table in the target (create_target: never)"
                )
                return None
            dst_types, create_sql = self._creation(ts, table, src_cols, dst_cols, src_types, key)
        else:
            dst_types = self._existing(ts.target_name, existing, dst_cols)
        for src_name, s, d in zip(src_cols, src_types, dst_types, strict=True):
            self._check_types(name, src_name, s, d)
        zero = self._zero_dates(conn, table.name, src_cols, src_types)
        converters = tuple(
            self._converter(s, d, c in zero)
            for c, s, d in zip(src_cols, src_types, dst_types, strict=True)
        )
        binary = self.source.capabilities.binary_copy and self.target.capabilities.binary_copy
        casts = tuple(
            None if s is None or d is None or s.raw == d.raw else d.raw
            for s, d in zip(src_types, dst_types, strict=True)
        )
        first = src_types[src_cols.index(key[0])] if key else None
        return TablePlan(
            source=name,
            target=ts.target_name,
            source_columns=src_cols,
            target_columns=dst_cols,
            key=tuple(key),
            where=ts.where,
            converters=converters,
            binary=binary,
            casts=casts,
            create_sql=create_sql,
            exists=existing is not None,
            rows=rows,
            cursor=cursor,
            zero_dates=zero,
            first_key_is_int=first is not None and first.family is Family.INT,
        )

    def _converter(
        self, src: SqlType | None, dst: SqlType | None, zero_dates: bool
    ) -> Convert | None:
        """Between two engines: decode the source's value, encode it for the target. Within
        one engine values pass as they are (psycopg's parsed JSON needs wrapping back)."""
        if self.source.engine == self.target.engine:
            if dst is not None and dst.family is Family.JSON:
                return encoder(self.target.engine, dst)
            return None
        blank_zero = (lambda v: None if v == "0000-00-00" else v) if zero_dates else None
        return converter(
            [blank_zero, decoder(self.source.engine, src), encoder(self.target.engine, dst)]
        )

    def _parse(self, connector: Connector, table: Table, column: str) -> SqlType | None:
        try:
            return connector.parse_type(table.column(column))
        except UnknownTypeError as exc:
            if self.source.engine != self.target.engine:
                self._fatal(table.name, column, f"unmappable: {exc}")
            return None  # the same engine copies the type as it is

    def _creation(
        self,
        ts: TableSpec,
        table: Table,
        src_cols: tuple[str, ...],
        dst_cols: tuple[str, ...],
        src_types: list[SqlType | None],
        key: tuple[str, ...],
    ) -> tuple[list[SqlType | None], str]:
        columns = []
        types: list[SqlType | None] = []
        for src, dst, parsed in zip(src_cols, dst_cols, src_types, strict=True):
            column = table.column(src)
            if parsed is None:
                spelled = column.type
                types.append(None)
            else:
                spelled = mapped_type(parsed, self.source.engine, self.target.engine)
                types.append(self.target.parse_type(column.__class__(dst, spelled, True)))
            columns.append((dst, spelled, column.nullable and src not in key))
        dst_key = [dst_cols[src_cols.index(k)] for k in key]
        return types, self.target.create_table_sql(ts.target_name, columns, dst_key)

    def _existing(
        self, name: str, existing: Table, dst_cols: tuple[str, ...]
    ) -> list[SqlType | None]:
        types: list[SqlType | None] = []
        for column in dst_cols:
            try:
                found = existing.column(column)
            except StopIteration:
                self._fatal(name, column, "no such column in the target table")
                types.append(None)
                continue
            try:
                types.append(self.target.parse_type(found))
            except UnknownTypeError as exc:
                self._fatal(name, column, f"target column: {exc}")
                types.append(None)
        return types

    def _check_types(
        self, table: str, column: str, src: SqlType | None, dst: SqlType | None
    ) -> None:
        if src is None or dst is None:
            return
        reason = incompatible(src, dst)
        if reason:
            self._fatal(table, column, reason)
            return
        reason = lossy(src, dst)
        if reason:
            allowed = self.spec.lossy_allowed(table, column)
            suffix = (
                " (allowed by copy.allow_lossy)"
                if allowed
                else (f"; allow it with copy.allow_lossy: [{table}.{column}]")
            )
            self.issues.append(
                Issue(table, column, f"lossy {src.raw} -> {dst.raw}: {reason}{suffix}", not allowed)
            )

    def _zero_dates(
        self, conn: Any, table: str, columns: tuple[str, ...], types: list[SqlType | None]
    ) -> tuple[str, ...]:
        """MySQL's zero dates have no counterpart elsewhere: count them before copying."""
        if self.source.engine != "mysql" or self.target.engine == "mysql":
            return ()
        found = []
        q = self.source.quote
        for column, kind in zip(columns, types, strict=True):
            if kind is None or kind.family not in ZERO_DATE_FAMILIES:
                continue
            with conn.cursor() as cursor:
                cursor.execute(
                    f"SELECT COUNT(*) FROM {q(table)} "
                    f"WHERE CAST({q(column)} AS CHAR) LIKE '0000-00-00%'"
                )
                count = int(cursor.fetchone()[0])
            conn.rollback()
            if count:
                allowed = self.spec.lossy_allowed(table, column)
                self.issues.append(
                    Issue(
                        table,
                        column,
                        f"lossy: {count} rows hold MySQL zero dates, which "
                        f"{self.target.engine} cannot store"
                        + (
                            " (written as NULL, allowed by copy.allow_lossy)"
                            if allowed
                            else "; fix them, or allow NULLs with "
                            f"copy.allow_lossy: [{table}.{column}]"
                        ),
                        not allowed,
                    )
                )
                found.append(column)
        return tuple(found)

    def _count(self, conn: Any, table: str, where: str | None) -> int:
        sql = f"SELECT COUNT(*) FROM {self.source.quote(table)}" + (
            f" WHERE {where}" if where else ""
        )
        cursor = conn.cursor()
        try:
            cursor.execute(sql)
            return int(cursor.fetchone()[0])
        except Exception as exc:
            if where and isinstance(self.source.translate(exc), TerminalError):
                self._fatal(
                    table, None, f"where: the source refused it: {str(exc).splitlines()[0]}"
                )
                return 0
            raise
        finally:
            conn.rollback()

    def _foreign_keys(self, tables: tuple[TablePlan, ...], schema: Schema) -> tuple[str, ...]:
        """ALTER TABLE statements for the foreign keys of the tables moonshift creates,
        between copied tables, run once every table is loaded (so cycles load too)."""
        if self.target.engine == "sqlite":
            return ()
        by_source = {t.source: t for t in tables}
        statements = []
        q = self.target.quote
        for plan in tables:
            if plan.create_sql is None:
                continue
            for index, fk in enumerate(schema.tables[plan.source].foreign_keys):
                parent = by_source.get(fk.referred_table)
                if parent is None or not all(c in plan.source_columns for c in fk.columns):
                    continue
                if not all(c in parent.source_columns for c in fk.referred_columns):
                    continue
                cols = [plan.target_columns[plan.source_columns.index(c)] for c in fk.columns]
                refs = [
                    parent.target_columns[parent.source_columns.index(c)]
                    for c in fk.referred_columns
                ]
                name = f"fk_{plan.target}_{index}"[:63]
                statements.append(
                    f"ALTER TABLE {q(plan.target)} ADD CONSTRAINT {q(name)} FOREIGN KEY "
                    f"({', '.join(map(q, cols))}) REFERENCES {q(parent.target)} "
                    f"({', '.join(map(q, refs))})"
                )
        return tuple(statements)

    def _fatal(self, table: str, column: str | None, message: str) -> None:
        self.issues.append(Issue(table, column, message, True))
