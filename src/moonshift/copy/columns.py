"""Planning one table's columns: what each source column becomes in the target (its type,
how it is read and converted, whether some values may not survive), and the per-column
options of the spec: exclude, rename, cast and expr."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Protocol

from moonshift.connectors.base import Column, Connector, Schema, Table, UserType
from moonshift.connectors.sqltext import tokenize
from moonshift.connectors.typemap import (
    CREATED_ENUM,
    Probe,
    conversion,
    incompatible,
    key_type,
    lossy,
    probe,
    target_type,
)
from moonshift.connectors.types import Family, SqlType, UnknownTypeError
from moonshift.copy.expressions import translate
from moonshift.domain.copy_spec import ColumnSpec, TableSpec
from moonshift.errors import first_line

F = Family
# Families whose defaults are moved to another engine (when the default is portable).
DEFAULT_FAMILIES = frozenset(
    {F.INT, F.DECIMAL, F.FLOAT, F.TEXT, F.BOOL, F.DATE, F.TIME, F.TIMESTAMP, F.TIMESTAMPTZ,
     F.ENUM, F.UUID}
)  # fmt: skip
_BOOLEANS = {"1": "TRUE", "0": "FALSE", "'1'": "TRUE", "'0'": "FALSE", "TRUE": "TRUE",
             "FALSE": "FALSE", "B'1'": "TRUE", "B'0'": "FALSE"}  # fmt: skip


@dataclass(frozen=True)
class ColumnPlan:
    """One target column of a copied table."""

    source: str | None  # the source column; None for a new column an expression fills
    target: str
    source_type: SqlType | None  # None: a type of the same engine, copied as it is
    target_type: SqlType | None
    source_spelled: str
    target_spelled: str
    read: str  # the SQL that reads it on the source
    conversion: str  # how values change, in words
    lossy: str | None = None  # why some values may not survive (allowed: a warning)
    nullable: bool = True
    default: str | None = None  # as the target spells it
    generated: str | None = None  # recreated as a generated column: never written
    stored: bool = True
    identity: str | None = None  # "always", "by default" or "auto_increment" in the target
    sequence: str | None = None  # the source's sequence (serial and identity columns)
    serial: bool = False  # numbered by a default on its own sequence (PostgreSQL)
    checks: tuple[str, ...] = ()  # CHECKs the target column needs (a domain's, an enum's)
    blank: bool = False  # values the source cannot hold elsewhere (zero dates) become NULL
    user_type: UserType | None = None  # the source's user-defined type, same engine

    @property
    def written(self) -> bool:
        return self.generated is None


class Planning(Protocol):
    """What column planning needs from the planner around it."""

    spec: Any
    source: Connector
    target: Connector
    source_schema: Schema
    target_schema: Schema
    created_types: dict[str, UserType]

    def fatal(self, table: str, column: str | None, message: str) -> None: ...

    def warn(self, table: str, column: str | None, message: str) -> None: ...

    def count(self, conn: Any, table: Table, condition: str, where: str | None) -> int: ...

    def count_each(
        self, conn: Any, table: Table, conditions: list[str], where: str | None, rows: int = 0
    ) -> list[int]: ...


@dataclass(frozen=True)
class _Probing:
    """A column's probe, waiting to be counted with the table's others."""

    column: str  # as the source names it (an expr's column: its target name)
    probe: Probe
    condition: str  # the probe's SQL on this column
    cast: bool  # the column has a cast (a lossy value is then a warning)


class ColumnMapper:
    def __init__(
        self,
        planning: Planning,
        table: Table,
        spec: TableSpec,
        existing: Table | None,
        key: tuple[str, ...],
        conn: Any,
        rows: int,
    ) -> None:
        self.p, self.table, self.ts, self.existing = planning, table, spec, existing
        self.key, self.conn, self.rows = key, conn, rows
        self.same = planning.source.engine == planning.target.engine
        self.renames = {
            c.name: spec.column(c.name).rename or c.name
            for c in table.columns
            if not spec.column(c.name).exclude
        }
        self.keyed = set(table.primary_key) | {c for u in table.unique_keys for c in u}
        self.key_probes: dict[str, Probe] = {}  # text keys MySQL holds only up to a length
        self._probes: dict[str, _Probing] = {}  # by target column, counted after the columns

    @property
    def name(self) -> str:
        return self.table.name

    def plan(self) -> list[ColumnPlan]:
        names = {c.name for c in self.table.columns}
        for name, option in (self.ts.columns or {}).items():
            if name not in names and not option.expr:
                self.p.fatal(self.name, name, "no such column in the source")
        found = []
        for column in self.table.columns:
            option = self.ts.column(column.name)
            if option.exclude:
                if column.name in self.key:
                    self.p.fatal(self.name, column.name, "the key column must be copied")
                continue
            planned = self._column(column, option)
            if planned is not None:
                found.append(planned)
        for name, option in (self.ts.columns or {}).items():
            if name not in names and option.expr:
                planned = self._column(Column(name, "", True), option)
                if planned is not None:
                    found.append(replace(planned, source=None))
        seen: set[str] = set()
        for planned in found:
            if planned.target in seen:
                self.p.fatal(self.name, planned.target, "two columns would have this name")
            seen.add(planned.target)
        return self._probed(found)

    # -- one column ---------------------------------------------------------------------------

    def _column(self, column: Column, option: ColumnSpec) -> ColumnPlan | None:
        q = self.p.source.quote
        target_name = option.rename or column.name
        if option.expr:
            if column.name in self.key:
                self.p.fatal(self.name, column.name, "expr: not on a key column")
                return None
            src = self._expression_type(column.name, option)
            read = f"({option.expr})"
            if src is None and not option.cast:
                return None
        else:
            src = self._parse(column, option)
            if src is None and not self.same:
                return None
            read = q(column.name)
            if src is not None and not self.same and src.read:
                read = src.read.format(read)
        src_spelled = src.raw if src is not None else column.type
        generated = None if option.expr else self._generated(column, target_name, option)
        dst, dst_spelled = self._target(column, option, src, target_name)
        if dst_spelled is None:
            return None
        plan = ColumnPlan(
            source=column.name,
            target=target_name,
            source_type=src,
            target_type=dst,
            source_spelled=src_spelled,
            target_spelled=dst_spelled,
            read=read,
            conversion="as is" if src is None or dst is None else "",
            nullable=column.nullable and column.name not in self.key,
            generated=generated,
            stored=column.stored,
            user_type=column.user_type if self.same else None,
        )
        if self.existing is None:
            plan = self._created(plan, column, src, dst)
        if src is not None and dst is not None:
            plan = replace(
                plan,
                conversion=conversion(src, dst, self.p.source.engine, self.p.target.engine)
                + (f"; cast to {dst_spelled}" if option.cast else ""),
            )
            if plan.written:
                plan = self._check_values(plan, column, src, dst, bool(option.cast))
        return plan

    def _parse(self, column: Column, option: ColumnSpec) -> SqlType | None:
        stored = None if self.same else self.p.source.stored_type(self.conn, self.name, column)
        try:
            if stored is not None:
                found = self.p.source.parse_type(replace(column, type=stored))
                return replace(
                    found, raw=column.type, note=f"no declared type: its values are {stored}"
                )
            return self.p.source.parse_type(column)
        except UnknownTypeError as exc:
            if self.same:
                return None  # the same engine copies the type as it is
            if option.cast:  # read as its text form; the cast says what it becomes
                return SqlType(F.TEXT, raw=column.type, note="text form")
            self.p.fatal(self.name, column.name, f"unmappable: {exc}")
            return None

    def _expression_type(self, name: str, option: ColumnSpec) -> SqlType | None:
        assert option.expr is not None
        source = self.p.source
        try:
            spelled = source.expression_type(
                self.conn, source.from_sql(self.table.name), option.expr
            )
        except Exception as exc:
            self.p.fatal(self.name, name, f"expr: the source refused it: {first_line(exc)}")
            return None
        try:
            found = source.parse_type(
                Column(name, spelled, True, user_type=self.p.source_schema.types.get(spelled))
            )
        except UnknownTypeError as exc:
            if option.cast:
                return SqlType(F.TEXT, raw=spelled)
            self.p.fatal(self.name, name, f"expr: its type: {exc}")
            return None
        if not spelled.strip():  # SQLite: an expression without affinity
            if option.cast:
                return SqlType(F.TEXT, raw=spelled)
            self.p.fatal(
                self.name, name, "expr: its type cannot be told; give it one with cast: TYPE"
            )
            return None
        return found

    def _generated(self, column: Column, target_name: str, option: ColumnSpec) -> str | None:
        """The target expression of a generated column that stays generated; None when it
        is copied as plain values (or is not generated)."""
        if column.generated is None:
            return None
        if self.existing is None and not self.same and not column.type.strip():
            self.p.warn(
                self.name,
                column.name,
                "generated column without a declared type: copied as plain values",
            )
            return None
        if self.existing is not None:
            found = next((c for c in self.existing.columns if c.name == target_name), None)
            return found.generated if found is not None else None
        expression = translate(
            column.generated,
            self.p.source.engine,
            self.p.target.engine,
            self.renames,
            self.p.target.quote,
        )
        if expression is None or option.cast:
            self.p.warn(
                self.name,
                column.name,
                f"generated column: its expression ({column.generated}) has no counterpart in "
                f"{self.p.target.engine}; copied as plain values",
            )
            return None
        return expression

    def _target(
        self, column: Column, option: ColumnSpec, src: SqlType | None, target_name: str
    ) -> tuple[SqlType | None, str | None]:
        if self.existing is not None:
            found = next((c for c in self.existing.columns if c.name == target_name), None)
            if found is None:
                self.p.fatal(
                    self.ts.target_name,
                    target_name,
                    "no such column in the target table; name its column with "
                    "columns: {name: {rename: ...}}, or see the plan's suggestions",
                )
                return None, None
            return self._parse_target(found.type, found.user_type, target_name), found.type
        if option.cast:
            user = self.p.target_schema.types.get(option.cast)
            return self._parse_target(option.cast, user, target_name), option.cast
        if self.same:  # a new column an expression fills has the expression's type
            return src, column.type or (src.raw if src is not None else "")
        assert src is not None
        try:
            spelled = target_type(src, self.p.source.engine, self.p.target.engine)
        except UnknownTypeError as exc:
            self.p.fatal(self.name, column.name, f"unmappable: {exc}")
            return None, None
        if CREATED_ENUM in spelled:
            return self._created_enum(src, target_name, spelled)
        if column.name in self.keyed:
            spelled, key_probe = key_type(spelled, self.p.target.engine, self.p.source.engine)
            if key_probe is not None:
                self.key_probes[column.name] = key_probe
        return self._parse_target(spelled, None, target_name), spelled

    def _created_enum(self, src: SqlType, target_name: str, spelled: str) -> tuple[SqlType, str]:
        """A MySQL ENUM or SET into PostgreSQL: an enum type made for the column."""
        name = f"{self.ts.target_name}_{target_name}"[:63]
        self.p.created_types[name] = UserType(name, "enum", labels=src.labels)
        spelled = spelled.replace(CREATED_ENUM, self.p.target.quote(name))
        enum = SqlType(F.ENUM, labels=src.labels, raw=self.p.target.quote(name))
        if src.family is F.SET:
            return SqlType(F.ARRAY, element=enum, raw=spelled), spelled
        return enum, spelled

    def _parse_target(
        self, spelled: str, user_type: UserType | None, column: str
    ) -> SqlType | None:
        try:
            return self.p.target.parse_type(Column(column, spelled, True, user_type=user_type))
        except UnknownTypeError as exc:
            if self.same:
                return None
            self.p.fatal(self.ts.target_name, column, f"target column: {exc}")
            return None

    # -- a column moonshift creates -----------------------------------------------------------

    def _created(
        self, plan: ColumnPlan, column: Column, src: SqlType | None, dst: SqlType | None
    ) -> ColumnPlan:
        """Identity, default and checks of a column in a table moonshift creates."""
        identity, serial = None, False
        if self.same:
            identity = column.identity if column.identity in ("always", "by default") else None
            identity = identity or (
                "auto_increment" if column.identity == "auto_increment" else None
            )
            serial = column.identity == "serial"
        elif column.identity and dst is not None and dst.family in (F.INT, F.DECIMAL):
            identity = self.p.target.identity_kind
            if identity == "auto_increment" and self.table.primary_key[:1] != (column.name,):
                identity = None  # MySQL numbers only a column that leads a key
        nullable = plan.nullable
        checks = list(self._value_checks(src, dst, plan.target))
        if src is not None and src.domain is not None and not self.same:
            nullable = nullable and not _domain_not_null(src.domain)
        default = None if identity else self._default(column, dst)
        return replace(
            plan,
            identity=identity,
            serial=serial,
            sequence=column.sequence if (identity or serial or column.identity) else None,
            nullable=nullable,
            default=default,
            checks=tuple(checks),
        )

    def _value_checks(
        self, src: SqlType | None, dst: SqlType | None, target_name: str
    ) -> list[str]:
        if src is None or dst is None or self.same:
            return []
        q = self.p.target.quote
        found = []
        if src.family is F.ENUM and dst.family is F.TEXT:
            labels = ", ".join("'" + v.replace("'", "''") + "'" for v in src.labels)
            found.append(f"{q(target_name)} IN ({labels})")
        domain = src.domain
        while domain is not None:
            for check in domain.checks:
                expression = translate(
                    check.expression,
                    self.p.source.engine,
                    self.p.target.engine,
                    {},
                    q,
                    value=target_name,
                )
                if expression is None:
                    self.p.warn(
                        self.name,
                        target_name,
                        f"domain {domain.name}: check {check.expression} has no counterpart in "
                        f"{self.p.target.engine}; not recreated",
                    )
                else:
                    found.append(expression)
            domain = domain.base_type
        return found

    def _default(self, column: Column, dst: SqlType | None) -> str | None:
        if column.default is None or column.generated is not None:
            return None
        if self.same:
            return column.default
        if dst is None or dst.family not in DEFAULT_FAMILIES:
            return None
        moved = translate(
            column.default,
            self.p.source.engine,
            self.p.target.engine,
            self.renames,
            self.p.target.quote,
        )
        if moved is None or not _literal(moved):
            return None  # only literals and the current time move between engines
        if dst.family is F.BOOL:
            return _BOOLEANS.get(moved.strip("()").upper())
        return moved

    # -- values that may not survive ----------------------------------------------------------

    def _check_values(
        self, plan: ColumnPlan, column: Column, src: SqlType, dst: SqlType, cast: bool
    ) -> ColumnPlan:
        reason = incompatible(src, dst, cast=cast)
        if reason:
            self.p.fatal(
                self.name, column.name, f"{reason}; give it a type with cast: TYPE, or exclude it"
            )
            return plan
        reason = lossy(src, dst)
        if reason is not None:
            self._lossy(column.name, f"lossy {src.raw} -> {dst.raw}: {reason}", cast)
            return replace(plan, lossy=reason)
        self._probe(plan, column, src, dst, cast)
        return plan

    def _probe(
        self, plan: ColumnPlan, column: Column, src: SqlType, dst: SqlType, cast: bool
    ) -> None:
        """Values only the data can tell about, counted on the source once every column is
        planned (``_probed``)."""
        if not self.rows or plan.source is None:
            return
        found = probe(src, dst, self.p.source.engine, self.p.target.engine)
        found = found or self.key_probes.get(column.name)
        if found is None:
            return
        condition = found.sql(plan.read if found.on_read else self.p.source.quote(column.name))
        self._probes[plan.target] = _Probing(column.name, found, condition, cast)

    def _probed(self, found: list[ColumnPlan]) -> list[ColumnPlan]:
        """The columns, with what the probes counted: a column whose values some rows do not
        survive is lossy (or blanked, where allowed). A range of a column an index leads
        is counted alone (the index answers it); the others share one scan of the table,
        which costs about what one of them costs alone."""
        if not self._probes:
            return found
        indexed = {i.columns[0] for i in self.table.indexes if i.columns and not i.where}
        indexed |= {k[0] for k in (self.table.primary_key, *self.table.unique_keys) if k}
        alone = [
            name
            for name, p in self._probes.items()
            if p.column in indexed and p.probe.ranged and not p.probe.on_read
        ]
        shared = [name for name in self._probes if name not in alone]
        counts = {
            name: self.p.count(self.conn, self.table, self._probes[name].condition, self.ts.where)
            for name in alone
        }
        if shared:
            conditions = [self._probes[name].condition for name in shared]
            each = self.p.count_each(self.conn, self.table, conditions, self.ts.where, self.rows)
            counts.update(zip(shared, each, strict=True))
        return [self._held(plan, counts.get(plan.target, 0)) for plan in found]

    def _held(self, plan: ColumnPlan, count: int) -> ColumnPlan:
        probing = self._probes.get(plan.target)
        if probing is None or not count:
            return plan
        held = f"{count} rows hold {probing.probe.what}"
        allowed = self.p.spec.lossy_allowed(self.name, probing.column)
        self._lossy(probing.column, f"lossy: {held}", probing.cast, blank=probing.probe.blank)
        blank = probing.probe.blank and allowed
        # values written as NULL: a column the copy creates takes them, NOT NULL or not (a
        # key column cannot: those rows go to the error queue)
        nullable = plan.nullable or (blank and plan.source not in self.key)
        return replace(plan, lossy=held, blank=blank, nullable=nullable)

    def _lossy(self, column: str, what: str, cast: bool, *, blank: bool = False) -> None:
        where = f"{self.name}.{column}"
        if cast:
            self.p.warn(self.name, column, f"{what} (your cast)")
        elif self.p.spec.lossy_allowed(self.name, column):
            written = " (written as NULL," if blank else " ("
            self.p.warn(self.name, column, f"{what}{written} allowed by copy.allow_lossy)")
        elif blank:
            self.p.fatal(
                self.name,
                column,
                f"{what}; fix them, or allow NULLs with copy.allow_lossy: [{where}]",
            )
        else:
            self.p.fatal(
                self.name,
                column,
                f"{what}; allow it with copy.allow_lossy: [{where}], or give the column a "
                "type with cast: TYPE",
            )


def _domain_not_null(domain: UserType | None) -> bool:
    while domain is not None:
        if domain.not_null:
            return True
        domain = domain.base_type
    return False


def _literal(sql: str) -> bool:
    """A number, a string, TRUE or FALSE, or the current date or time."""
    tokens = [t for t in tokenize(sql) if t.text not in ("(", ")")]
    if tokens and tokens[0].text == "-":
        tokens = tokens[1:]
    if len(tokens) != 1:
        return False
    token = tokens[0]
    return (
        token.kind in ("number", "string")
        or token.upper in _BOOLEANS
        or token.upper
        in (
            "CURRENT_TIMESTAMP",
            "CURRENT_DATE",
        )
    )
