"""What a copy creates in the target besides rows, as steps: before the rows, the types,
sequences, tables and partitions; after them, as checkpointed phases, the primary keys
(where building them after the load is cheaper), unique constraints, indexes, checks,
foreign keys, and the numbering of identity columns set past the copied rows.

Between two PostgreSQL databases everything is recreated as the source has it (partitions,
inheritance, enums, domains, generated columns). Between different engines an object is
recreated where it has a counterpart, and the plan says what was left out and why."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from moonshift.connectors.base import Index, Partitioning, Table, UserType
from moonshift.connectors.ddl import ColumnDef, ForeignKeyDef, IndexDef, TableDef
from moonshift.connectors.typemap import incompatible, lossy
from moonshift.copy.expressions import translate
from moonshift.domain.copy_spec import Mode

if TYPE_CHECKING:
    from moonshift.copy.plan import Planner, TablePlan

# Where MySQL can index only a prefix of a column: how many characters (bytes for blobs).
_PREFIX = {"LONGTEXT": 191, "MEDIUMTEXT": 191, "TEXT": 191, "LONGBLOB": 255, "BLOB": 255}


@dataclass(frozen=True)
class Step:
    """One statement that creates something in the target."""

    kind: str  # "type", "sequence", "table", "partition", "primary key", "unique", ...
    table: str  # the target table it belongs to; "*" for a type
    name: str
    sql: str

    def __str__(self) -> str:
        return f"{self.kind} {self.name}"


class ObjectBuilder:
    def __init__(self, planner: Planner, tables: list[TablePlan]) -> None:
        self.p = planner
        self.src, self.tgt = planner.source, planner.target
        self.same = self.src.engine == self.tgt.engine
        self.tables = tables
        self.by_source = {t.source: t for t in tables}
        self.names: set[str] = set()
        self.notes: dict[str, list[str]] = defaultdict(list)

    def schema(self, name: str) -> Table:
        return self.p.source_schema.tables[name]

    # -- foreign keys whose columns must have one type ------------------------------------------

    def align_foreign_keys(self) -> list[TablePlan]:
        """Between engines a child column gets its parent's mapped type where that holds
        every value; otherwise the copy is refused now, not after the load."""
        if self.same:
            return self.tables
        aligned = {t.source: t for t in self.tables}
        for child in self.tables:
            if not child.create:
                continue
            for fk in self.schema(child.source).foreign_keys:
                parent = aligned.get(fk.referred_table)
                if parent is None or not parent.create:
                    continue
                for column, referred in zip(fk.columns, fk.referred_columns, strict=True):
                    aligned[child.source] = self._align(
                        aligned[child.source], column, parent, referred, fk.name
                    )
        self.tables = [aligned[t.source] for t in self.tables]
        self.by_source = {t.source: t for t in self.tables}
        return self.tables

    def _align(
        self, child: TablePlan, column: str, parent: TablePlan, referred: str, name: str | None
    ) -> TablePlan:
        mine = next((c for c in child.columns if c.source == column), None)
        theirs = next((c for c in parent.columns if c.source == referred), None)
        if mine is None or theirs is None or mine.target_spelled == theirs.target_spelled:
            return child
        src, dst = mine.source_type, theirs.target_type
        if (
            src is not None
            and dst is not None
            and not incompatible(src, dst)
            and not lossy(src, dst)
        ):
            moved = replace(
                mine,
                target_type=dst,
                target_spelled=theirs.target_spelled,
                conversion=f"{mine.conversion}; {theirs.target_spelled} like "
                f"{parent.source}.{referred}, for foreign key {name or ''}".rstrip(),
            )
            columns = tuple(moved if c is mine else c for c in child.columns)
            return replace(child, columns=columns)
        self.p.fatal(
            child.source,
            column,
            f"foreign key {name or ''} maps it to {mine.target_spelled} but "
            f"{parent.source}.{referred} to {theirs.target_spelled}, which cannot hold every "
            f"value; give both one type with cast: TYPE",
        )
        return child

    # -- every step -----------------------------------------------------------------------------

    def build(
        self, tables: list[TablePlan]
    ) -> tuple[
        tuple[Step, ...], tuple[Step, ...], dict[str, tuple[Step, ...]], dict[str, tuple[str, ...]]
    ]:
        before: list[Step] = [*self._types(tables)]
        phases: list[Step] = []
        foreign: list[Step] = []
        numbers: list[Step] = []
        for t in tables:
            if not t.create:
                continue
            table = self.schema(t.source)
            renames = {c.source: c.target for c in t.columns if c.source}
            fks = self._foreign_keys(t, table)
            checks = self._checks(t, table, renames)
            inline = not self.tgt.capabilities.alter_constraints
            before += self._sequences(t)
            before.append(self._create(t, table, checks if inline else [], fks if inline else []))
            if self.same and table.partitioning is not None:
                before += self._partitions(t.target, table.partitioning, renames)
            before += [
                Step(
                    "sequence",
                    t.target,
                    c.sequence,
                    self.tgt.own_sequence_sql(c.sequence, t.target, c.target),
                )
                for c in t.columns
                if c.serial and c.sequence
            ]
            key = self._deferred_key(t, table, renames)
            phases += [key] if key else []
            phases += self._indexes(t, table, renames)
            if not inline:
                phases += [
                    Step("check", t.target, name, self.tgt.add_check_sql(t.target, name, sql))
                    for name, sql in checks
                ]
                foreign += [
                    Step(
                        "foreign key", t.target, fk.name, self.tgt.add_foreign_key_sql(t.target, fk)
                    )
                    for fk in fks
                ]
            numbers += self._numbers(t)
        steps = [*before, *phases, *foreign, *numbers]
        by_table: dict[str, list[Step]] = defaultdict(list)
        for step in steps:
            by_table[step.table].append(step)
        return (
            tuple(before),
            (*phases, *foreign, *numbers),
            {k: tuple(v) for k, v in by_table.items()},
            {k: tuple(v) for k, v in self.notes.items()},
        )

    def _unique(self, name: str, table: str) -> str:
        """Index and constraint names are per schema in some engines: a clash gets the
        table's name in front."""
        if name in self.names:
            name = f"{table}_{name}"[:63]
        self.names.add(name)
        return name

    # -- before the rows ------------------------------------------------------------------------

    def _types(self, tables: list[TablePlan]) -> list[Step]:
        wanted: dict[str, UserType] = {}

        def need(user_type: UserType | None) -> None:
            if user_type is None or user_type.name in wanted:
                return
            need(user_type.base_type)
            for _name, spelled in user_type.attributes:
                need(self.p.source_schema.types.get(spelled.rstrip("[]")))
            wanted[user_type.name] = user_type

        for t in tables:
            if t.create:
                for c in t.columns:
                    need(c.user_type)
        if self.same and any(t.create for t in tables):  # the schema's other types too
            for user_type in self.p.source_schema.types.values():
                if user_type.kind in ("enum", "domain", "composite"):
                    need(user_type)
        used = {str(c.target_type.raw if c.target_type else "") for t in tables for c in t.columns}
        used |= {
            str(c.target_type.element.raw)
            for t in tables
            for c in t.columns
            if c.target_type is not None and c.target_type.element is not None
        }
        for name, created in self.p.created_types.items():
            if self.tgt.quote(name) in used:
                wanted.setdefault(name, created)
        steps = []
        for name, user_type in wanted.items():
            found = self.p.target_schema.types.get(name)
            if found is None and user_type.kind not in ("enum", "domain", "composite"):
                self.p.fatal(
                    name,
                    None,
                    f"type {name} does not exist in the target and moonshift does not create "
                    "it: create it there (CREATE EXTENSION ...), or give the columns another "
                    "type with cast: TYPE, or exclude them",
                )
                continue
            if found is not None:
                if found.kind == "enum" and found.labels != user_type.labels:
                    self.p.fatal(
                        name,
                        None,
                        f"type {name} exists in the target with other labels: "
                        + ", ".join(found.labels),
                    )
                continue
            steps.append(Step("type", "*", name, self.tgt.create_type_sql(name, user_type)))
        return steps

    def _sequences(self, t: TablePlan) -> list[Step]:
        found = []
        for c in t.columns:
            if not (c.serial and c.sequence):
                continue
            sequence = self.p.source_schema.sequences.get(c.sequence)
            if sequence is None or c.sequence in self.names:
                continue
            self.names.add(c.sequence)
            sql = self.tgt.create_sequence_sql(sequence)
            found.append(Step("sequence", t.target, c.sequence, sql))
        return found

    def _create(
        self,
        t: TablePlan,
        table: Table,
        checks: list[tuple[str, str]],
        fks: list[ForeignKeyDef],
    ) -> Step:
        inherits = (
            tuple(self.by_source[p].target for p in table.inherits if p in self.by_source)
            if self.same
            else ()
        )
        local = set(table.local_columns or ()) if inherits else None
        columns = tuple(
            ColumnDef(
                c.target,
                c.target_spelled,
                c.nullable,
                c.default,
                c.generated,
                c.stored,
                c.identity,
                self._identity_options(c.sequence) if self.same and c.identity else None,
            )
            for c in t.columns
            if local is None or c.source in local
        )
        key, key_name = self._key(t, table)
        inline = not self._defers_key(t, table)
        partition_by = None
        if table.partitioning is not None:
            if self.same:
                partition_by = self._renamed(table.partitioning.key, t)
            else:
                self.notes[t.target].append(
                    f"partitioned in the source ({table.partitioning.key}): one table here"
                )
        if table.inherits and not inherits:
            self.notes[t.target].append(
                f"inherits from {', '.join(table.inherits)} in the source: a table of its own here"
            )
        definition = TableDef(
            t.target,
            columns,
            key if inline else (),
            key_name if inline else None,
            tuple(checks),
            tuple(fks),
            inherits,
            partition_by,
        )
        return Step("table", t.target, t.target, self.tgt.create_table_sql(definition))

    def _identity_options(self, sequence: str | None) -> str | None:
        found = self.p.source_schema.sequences.get(sequence or "")
        return None if found is None else self.tgt.identity_options_sql(found)

    def _partitions(
        self, parent: str, partitioning: Partitioning, renames: dict[str, str]
    ) -> list[Step]:
        steps = []
        for part in partitioning.partitions:
            sub = part.partitioning
            sql = self.tgt.create_partition_sql(
                part.name,
                parent,
                part.bound,
                translate(sub.key, self.src.engine, self.tgt.engine, renames, self.tgt.quote)
                if sub
                else None,
            )
            steps.append(Step("partition", parent, part.name, sql))
            if sub is not None:
                steps += self._partitions(part.name, sub, renames)
        return steps

    # -- after the rows -------------------------------------------------------------------------

    def _key(self, t: TablePlan, table: Table) -> tuple[tuple[str, ...], str | None]:
        """The target's primary key: the source's, else the copy's key when it needs one."""
        names = {c.source: c.target for c in t.columns if c.source}
        source_key = table.primary_key or (
            t.key if self.p.spec.mode is Mode.INCREMENTAL or not table.unique_keys else ()
        )
        if not source_key or not all(k in names for k in source_key):
            return (), None
        name = table.primary_key_name if self.same and table.primary_key else None
        return tuple(names[k] for k in source_key), name or f"{t.target}_pkey"

    def _defers_key(self, t: TablePlan, table: Table) -> bool:
        return (
            self.tgt.capabilities.deferred_key
            and self.p.spec.mode is Mode.FULL
            and bool(self._key(t, table)[0])
        )

    def _deferred_key(self, t: TablePlan, table: Table, renames: dict[str, str]) -> Step | None:
        if not self._defers_key(t, table):
            return None
        key, name = self._key(t, table)
        name = self._unique(name or f"{t.target}_pkey", t.target)
        return Step(
            "primary key", t.target, name, self.tgt.add_primary_key_sql(t.target, name, key)
        )

    def _indexes(self, t: TablePlan, table: Table, renames: dict[str, str]) -> list[Step]:
        steps = []
        for index in table.indexes:
            missing = [c for c in index.columns if c is not None and c not in renames]
            if missing:
                self.notes[t.target].append(
                    f"index {index.name}: its column {missing[0]} is not copied"
                )
                continue
            plain = None not in index.columns and not index.where and not any(index.prefix)
            if index.constraint and index.unique and plain:
                name = self._unique(index.name, t.target)
                columns = [renames[str(c)] for c in index.columns]
                steps.append(
                    Step("unique", t.target, name, self.tgt.add_unique_sql(t.target, name, columns))
                )
                continue
            found = self._index(t, index, renames)
            if found is not None:
                steps.append(
                    Step("index", t.target, found.name, self.tgt.create_index_sql(t.target, found))
                )
        return steps

    def _index(self, t: TablePlan, index: Index, renames: dict[str, str]) -> IndexDef | None:
        q = self.tgt.quote
        name = self._unique(index.name, t.target)
        where = self._renamed(index.where, t) if index.where else None
        if self.same and index.definition:  # PostgreSQL's and SQLite's own key list
            return IndexDef(
                name, (), index.unique, index.method, where, self._renamed(index.definition, t)
            )
        skip = self._index_skip(index, where)
        if skip:
            self.notes[t.target].append(f"index {index.name}: {skip}; not recreated")
            return None
        keys = []
        for position, column in enumerate(index.columns):
            if column is None:
                moved = translate(
                    index.expressions[position], self.src.engine, self.tgt.engine, renames, q
                )
                if moved is None:
                    self.notes[t.target].append(
                        f"index {index.name}: its expression has no counterpart; not recreated"
                    )
                    return None
                keys.append(moved)
                continue
            keys.append(q(renames[column]) + self._prefix(t, renames[column], index, position))
        return IndexDef(name, tuple(keys), index.unique, index.method if self.same else None, where)

    def _index_skip(self, index: Index, where: str | None) -> str | None:
        caps = self.tgt.capabilities
        if index.method and not self.same:
            return f"{index.method} indexes are {self.src.engine}'s own"
        if index.where and (where is None or not caps.partial_indexes):
            return "a partial index, which has no counterpart here"
        if None in index.columns and not caps.expression_indexes:
            return "an expression index, which has no counterpart here"
        return None

    def _prefix(self, t: TablePlan, column: str, index: Index, position: int) -> str:
        """MySQL: the prefix an index keeps of a long column."""
        if self.same:
            prefix = index.prefix[position] if position < len(index.prefix) else None
            return f"({prefix})" if prefix else ""
        if not self.tgt.capabilities.prefix_keys:
            return ""
        spelled = next(c.target_spelled for c in t.columns if c.target == column).upper()
        prefix = _PREFIX.get(spelled)
        return f"({prefix})" if prefix else ""

    def _checks(self, t: TablePlan, table: Table, renames: dict[str, str]) -> list[tuple[str, str]]:
        found = []
        excluded = {c.name for c in table.columns if c.name not in renames}
        for number, check in enumerate(table.checks, 1):
            if excluded and any(name in check.expression for name in excluded):
                self.notes[t.target].append(
                    f"check {check.name or number}: uses a column not copied"
                )
                continue
            moved = translate(
                check.expression, self.src.engine, self.tgt.engine, renames, self.tgt.quote
            )
            if moved is None:
                self.notes[t.target].append(
                    f"check {check.name or number} {check.expression}: no counterpart in "
                    f"{self.tgt.engine}; not recreated"
                )
                continue
            found.append((check.name or f"{t.target}_check{number}", moved))
        for c in t.columns:
            for number, sql in enumerate(c.checks, 1):
                found.append(
                    (f"{t.target}_{c.target}_check" + (str(number) if number > 1 else ""), sql)
                )
        return found

    def _foreign_keys(self, t: TablePlan, table: Table) -> list[ForeignKeyDef]:
        found = []
        names = {c.source: c.target for c in t.columns if c.source}
        for fk in table.foreign_keys:
            parent = self.by_source.get(fk.referred_table)
            label = fk.name or f"-> {fk.referred_table}"
            if parent is None:
                self.notes[t.target].append(
                    f"foreign key {label}: {fk.referred_table} is not copied"
                )
                continue
            theirs = {c.source: c.target for c in parent.columns if c.source}
            if not all(c in names for c in fk.columns) or not all(
                c in theirs for c in fk.referred_columns
            ):
                self.notes[t.target].append(f"foreign key {label}: a column is not copied")
                continue
            name = fk.name or f"{t.target}_{'_'.join(fk.columns)}_fkey"
            found.append(
                ForeignKeyDef(
                    self._unique(name, t.target),
                    tuple(names[c] for c in fk.columns),
                    parent.target,
                    tuple(theirs[c] for c in fk.referred_columns),
                    fk.on_delete,
                    fk.on_update,
                )
            )
        return found

    def _numbers(self, t: TablePlan) -> list[Step]:
        steps = []
        for c in t.columns:
            if not (c.identity or c.serial):
                continue
            found = self.p.source_schema.sequences.get(c.sequence or "") if self.same else None
            at_least = found.next_value if found is not None else 1
            sql = self.tgt.next_number_sql(
                t.target, c.target, c.sequence if c.serial else None, at_least
            )
            if sql:
                steps.append(Step("next number", t.target, f"{t.target}.{c.target}", sql))
        return steps

    def _renamed(self, sql: str, t: TablePlan) -> str:
        renames = {c.source: c.target for c in t.columns if c.source}
        moved = translate(sql, self.src.engine, self.tgt.engine, renames, self.tgt.quote)
        return moved if moved is not None else sql
