"""Statements over thousands of rows at once, in the cheapest form each dialect offers.

PostgreSQL gets rows by COPY into a temporary table (psycopg writes them in C) and one
statement from there, and long lists as one array parameter (``= ANY``): a multi-row VALUES or
an IN list of thousands of placeholders costs more to build and parse than to run. SQLite runs
in the process and binds ``?`` in C, so plain ``executemany`` and IN lists are its cheapest.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from importlib import import_module
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    FromClause,
    Insert,
    Table,
    any_,
    bindparam,
    column,
    func,
    literal,
    select,
)
from sqlalchemy import table as sql_table
from sqlalchemy import update as sql_update


def dialect(conn: Connection) -> Any:
    """The connection's SQLAlchemy dialect module (``insert`` with ON CONFLICT, ``ARRAY``),
    which its engine has loaded already: the other store's is never imported."""
    return import_module(f"sqlalchemy.dialects.{conn.dialect.name}")


def one_of(conn: Connection, column: Any, values: Sequence[Any]) -> ColumnElement[bool]:
    """``column IN values`` (keep SQLite's lists to a few thousand values)."""
    if conn.dialect.name == "postgresql":
        array = dialect(conn).ARRAY(column.type)
        return column == any_(literal(list(values), array))  # type: ignore[no-any-return]
    return column.in_(list(values))  # type: ignore[no-any-return]


def insert_new(
    conn: Connection,
    table: Table,
    rows: list[dict[str, Any]],
    returning: Sequence[Any],
    follow: Callable[[FromClause], Sequence[Insert]] = lambda new: (),
) -> list[tuple[Any, ...]]:
    """Insert ``rows`` (all with the same keys), leaving alone those that a unique constraint
    says exist already; returns ``returning`` of the rows inserted. ``follow``: given the
    rows inserted (as a selectable with ``table``'s columns), inserts of rows made from them
    (on PostgreSQL in the same statement). ``table`` has an integer primary key ``id``."""
    if not rows:
        return []
    names = list(rows[0])
    if conn.dialect.name == "postgresql":
        staged = sql_table(_stage(conn, table, names, rows), *(column(n) for n in names))
        new = (
            dialect(conn)
            .insert(table)
            .from_select(names, select(*staged.c))
            .on_conflict_do_nothing()
            .returning(*table.c)
            .cte("new")
        )
        then = [statement.cte(f"then_{n}") for n, statement in enumerate(follow(new))]
        found = conn.execute(select(*(new.c[c.name] for c in returning)).add_cte(*then))
        return [tuple(row) for row in found]
    # One writer at a time (BEGIN IMMEDIATE): the rows past the highest id are these.
    before = conn.execute(select(func.max(table.c.id))).scalar() or 0
    conn.execute(dialect(conn).insert(table).on_conflict_do_nothing(), rows)
    for statement in follow(select(table).where(table.c.id > before).subquery()):
        conn.execute(statement)
    return [tuple(row) for row in conn.execute(select(*returning).where(table.c.id > before))]


def reserve_ids(conn: Connection, table: Table, count: int) -> list[int]:
    """``count`` new values of ``table``'s integer primary key ``id``, ascending, for rows this
    transaction inserts with them (some may stay unused: ids have gaps)."""
    if not count:
        return []
    if conn.dialect.name == "postgresql":
        found = conn.exec_driver_sql(
            f"SELECT nextval(pg_get_serial_sequence('{table.name}', 'id')) "
            "FROM generate_series(1, %(count)s)",
            {"count": count},
        )
        return sorted(row[0] for row in found)
    # One writer at a time (BEGIN IMMEDIATE): the ids past the highest are free.
    top = conn.execute(select(func.max(table.c.id))).scalar() or 0
    return list(range(top + 1, top + 1 + count))


def update_by_key(conn: Connection, table: Table, key: str, rows: list[dict[str, Any]]) -> None:
    """Set each row's other columns on the row of ``table`` whose ``key`` it names."""
    if not rows:
        return
    names = list(rows[0])
    if conn.dialect.name == "postgresql":
        staged = _stage(conn, table, names, rows)
        assigned = ", ".join(f"{n} = s.{n}" for n in names if n != key)
        conn.exec_driver_sql(
            f"UPDATE {table.name} SET {assigned} FROM {staged} s WHERE {table.name}.{key} = s.{key}"
        )
        return
    values: dict[str, Any] = {n: bindparam(f"b_{n}") for n in names if n != key}
    statement = sql_update(table).where(table.c[key] == bindparam(f"b_{key}")).values(values)
    conn.execute(statement, [{f"b_{n}": v for n, v in row.items()} for row in rows])


def _stage(conn: Connection, table: Table, names: list[str], rows: list[dict[str, Any]]) -> str:
    """COPY ``rows`` into this session's temporary copy of ``table``'s columns ``names``,
    emptied at commit; returns its name."""
    staged = f"staged_{table.name}_{zlib.crc32(','.join(names).encode()):08x}"
    listed = ", ".join(names)
    conn.exec_driver_sql(  # one round trip; emptied in case it was staged before
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {staged} ON COMMIT DELETE ROWS AS "
        f"SELECT {listed} FROM {table.name} WITH NO DATA; DELETE FROM {staged}"
    )
    driver = conn.connection.driver_connection
    assert driver is not None
    with driver.cursor() as cursor, cursor.copy(f"COPY {staged} ({listed}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([row[n] for n in names])
    return staged
