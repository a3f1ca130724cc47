"""Reading a database's tables, keys and foreign keys, the same way for every engine."""

from __future__ import annotations

from sqlalchemy import Engine, inspect

from moonshift.connectors.base import Capabilities, Column, ForeignKey, Schema, Table

CAPABILITIES = {
    "postgresql": Capabilities(binary_copy=True, transactional_ddl=True, schemas=True),
    "mysql": Capabilities(load_data=True),
    "mariadb": Capabilities(load_data=True),
    "sqlite": Capabilities(transactional_ddl=True, parallel_writes=False),
}


def capabilities(engine: Engine) -> Capabilities:
    return CAPABILITIES[engine.dialect.name]


def read_schema(engine: Engine, *, schema: str | None = None) -> Schema:
    """Every table of the database (or of ``schema``), as engine-neutral records."""
    inspector = inspect(engine)
    tables = {}
    for name in inspector.get_table_names(schema=schema):
        columns = tuple(
            Column(
                c["name"],
                _spelled(c["type"]),
                bool(c["nullable"]),
                None if c.get("default") is None else str(c["default"]),
            )
            for c in inspector.get_columns(name, schema=schema)
        )
        primary = tuple(
            inspector.get_pk_constraint(name, schema=schema).get("constrained_columns") or ()
        )
        uniques = tuple(
            tuple(u["column_names"]) for u in inspector.get_unique_constraints(name, schema=schema)
        )
        for index in inspector.get_indexes(name, schema=schema):
            names = index["column_names"]
            if index.get("unique") and all(names):  # expression indexes are not keys
                key = tuple(str(n) for n in names)
                uniques += () if key in uniques else (key,)
        foreign = tuple(
            ForeignKey(
                tuple(f["constrained_columns"]),
                f["referred_table"],
                tuple(f["referred_columns"]),
                f.get("name"),
            )
            for f in inspector.get_foreign_keys(name, schema=schema)
        )
        tables[name] = Table(name, columns, primary, uniques, foreign)
    return Schema(tables)


def _spelled(kind: object) -> str:
    """The reflected type as SQL; a type SQLAlchemy cannot compile back keeps its class name
    (the connectors read the engine's own spelling anyway)."""
    try:
        return str(kind)
    except Exception:
        return type(kind).__name__
