"""Helpers for copy tests: make tables through the connectors, run copies, read rows back."""

from __future__ import annotations

from typing import Any

from moonshift.app import Moonshift
from moonshift.app.views import Run as RunRecord
from moonshift.connectors.registry import connector_for
from moonshift.connectors.sql import SqlConnector
from moonshift.connectors.values import canonical, decoder, encoder
from moonshift.domain.lifecycle import State
from moonshift.domain.spec import MigrationSpec


def connector(url: str) -> SqlConnector:
    found = connector_for(url, {})
    assert isinstance(found, SqlConnector)
    return found


def execute(conn: Any, *statements: str) -> None:
    cursor = conn.cursor()
    for statement in statements:
        cursor.execute(statement)
    conn.commit()


def create(url: str, ddl: str) -> None:
    c = connector(url)
    conn = c.connect()
    try:
        execute(conn, ddl)
    finally:
        conn.close()


def insert(url: str, table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    """Insert moonshift values, encoded for the engine by its own column types."""
    c = connector(url)
    schema = c.read_schema().tables[table]
    encoders = [encoder(c.engine, c.parse_type(schema.column(name))) for name in columns]
    values = [[e(v) if e else v for e, v in zip(encoders, row, strict=True)] for row in rows]
    conn = c.connect()
    try:
        c.begin(conn)
        conn.cursor().executemany(c.insert_sql(table, columns), values)
        conn.commit()
    finally:
        conn.close()


def read(url: str, table: str, columns: list[str], key: str = "id") -> list[list[str]]:
    """Rows as comparable text, by key."""
    c = connector(url)
    schema = c.read_schema().tables[table]
    types = [c.parse_type(schema.column(name)) for name in columns]
    decoders = [decoder(c.engine, t) for t in types]
    canons = [canonical(t.family) for t in types]
    conn = c.connect()
    try:
        cursor = conn.cursor()
        q = c.quote
        cursor.execute(f"SELECT {', '.join(map(q, columns))} FROM {q(table)} ORDER BY {q(key)}")
        rows = cursor.fetchall()
        conn.rollback()
    finally:
        conn.close()
    return [
        [k(d(v) if d else v) for d, k, v in zip(decoders, canons, row, strict=True)] for row in rows
    ]


def scalar(url: str, sql: str) -> Any:
    conn = connector(url).connect()
    try:
        cursor = conn.cursor()
        cursor.execute(sql)
        (value,) = cursor.fetchone()
        conn.rollback()
        return value
    finally:
        conn.close()


def count(url: str, table: str) -> int:
    return int(scalar(url, f"SELECT COUNT(*) FROM {connector(url).quote(table)}"))


def apply(app: Moonshift, spec: dict[str, Any]) -> None:
    app.migrations.apply_spec(MigrationSpec.model_validate(spec), actor="test")


def copy_spec(source: str, target: str, id_: str = "c", **copy: Any) -> dict[str, Any]:
    return {
        "id": id_,
        "kind": "copy",
        "source": {"url": source},
        "target": {"url": target},
        "copy": copy,
    }


def run_copy(app: Moonshift, migration_id: str = "c") -> RunRecord:
    run = app.runs.run_now(migration_id, actor="test")
    return app.runs.execute(run.id)


def completed(run: RunRecord) -> bool:
    return run.state is State.COMPLETED
