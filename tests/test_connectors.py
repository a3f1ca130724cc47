"""The connector contract: the same schema read back alike from SQLite, PostgreSQL and
MariaDB, and tables ordered parents first."""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path

import pytest
from sqlalchemy import (
    Column,
    Engine,
    ForeignKey,
    ForeignKeyConstraint,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    UniqueConstraint,
    create_engine,
)

from moonshift.connectors.base import Connector, classified
from moonshift.connectors.base import ForeignKey as FK
from moonshift.connectors.base import Table as T
from moonshift.connectors.registry import connector_for
from moonshift.copy.order import load_order
from moonshift.dburl import (
    KEEPALIVE_IDLE_SECONDS,
    KEEPALIVE_INTERVAL_SECONDS,
    KEEPALIVE_PROBES,
    normalize,
)
from moonshift.errors import TerminalError
from moonshift.store import StateStore
from moonshift.store.listen import Waiter

SHOP_TABLES = {"customers", "products", "orders", "order_items", "employees", "tags", "a", "b"}


def shop() -> MetaData:
    meta = MetaData()
    Table(
        "customers",
        meta,
        Column("id", Integer, primary_key=True),
        Column("email", String(200), nullable=False),
        UniqueConstraint("email"),
    )
    Table(
        "products",
        meta,
        Column("sku", String(40), primary_key=True),
        Column("price", Numeric(38, 10)),
    )
    Table(
        "orders",
        meta,
        Column("id", Integer, primary_key=True),
        Column("customer_id", Integer, ForeignKey("customers.id"), nullable=False),
    )
    Table(
        "order_items",
        meta,
        Column("order_id", Integer, ForeignKey("orders.id"), primary_key=True),
        Column("line", Integer, primary_key=True),
        Column("sku", String(40), ForeignKey("products.sku")),
    )
    Table(
        "employees",
        meta,
        Column("id", Integer, primary_key=True),
        Column("manager_id", Integer, ForeignKey("employees.id")),
    )
    Table("tags", meta, Column("name", String(40), nullable=False), UniqueConstraint("name"))
    Table("a", meta, Column("id", Integer, primary_key=True), Column("b_id", Integer))
    Table(
        "b",
        meta,
        Column("id", Integer, primary_key=True),
        Column("a_id", Integer, ForeignKey("a.id")),
    )
    meta.tables["a"].append_constraint(
        ForeignKeyConstraint(["b_id"], ["b.id"], use_alter=True, name="fk_a_b")
    )
    return meta


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("mariadb", marks=pytest.mark.mariadb),
    ]
)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Connector:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'shop.db'}"
    elif request.param == "postgres":
        url = str(request.getfixturevalue("pg_database"))
    else:
        url = str(request.getfixturevalue("mariadb_database"))
    engine: Engine = create_engine(normalize(url))
    shop().create_all(engine)
    engine.dispose()
    return connector_for(url, {})


def test_every_engine_reads_back_the_same_tables_keys_and_foreign_keys(
    database: Connector,
) -> None:
    schema = database.read_schema()
    assert set(schema.tables) == SHOP_TABLES
    items = schema.tables["order_items"]
    assert items.primary_key == ("order_id", "line")
    assert {(fk.columns, fk.referred_table, fk.referred_columns) for fk in items.foreign_keys} == {
        (("order_id",), "orders", ("id",)),
        (("sku",), "products", ("sku",)),
    }
    assert schema.tables["customers"].unique_keys == (("email",),)
    assert schema.tables["tags"].primary_key == ()
    assert schema.tables["tags"].key == ("name",)
    assert schema.tables["customers"].column("email").nullable is False
    assert (
        "NUMERIC" in schema.tables["products"].column("price").type.upper()
        or "DECIMAL" in schema.tables["products"].column("price").type.upper()
    )
    assert database.capabilities.binary_copy is (database.engine == "postgresql")


def test_load_order_puts_parents_first_and_defers_cycles(database: Connector) -> None:
    order = load_order(database.read_schema().tables.values())
    position = {name: i for i, name in enumerate(order.tables)}
    assert position["customers"] < position["orders"] < position["order_items"]
    assert position["products"] < position["order_items"]
    assert set(order.tables) == SHOP_TABLES
    assert order.deferred == (("a", "b"),)  # the a <-> b cycle is broken once, at a


def test_load_order_is_pure_and_deterministic() -> None:
    tables = [
        T("child", (), ("id",), foreign_keys=(FK(("p",), "parent", ("id",)),)),
        T(
            "parent",
            (),
            ("id",),
            foreign_keys=(FK(("g",), "grand", ("id",)), FK(("x",), "elsewhere", ("id",))),
        ),
        T("grand", (), ("id",)),
        T("loop", (), ("id",), foreign_keys=(FK(("l",), "loop", ("id",)),)),
    ]
    order = load_order(tables)
    assert order.tables == ("grand", "loop", "parent", "child")
    assert order.deferred == ()


@pytest.mark.postgres
def test_postgres_commits_batches_and_builds_with_more_memory(
    pg_database: str,
) -> None:
    pg = connector_for(pg_database, {})
    conn = pg.connect()
    try:

        def shown(name: str) -> str:
            return str(conn.execute(f"SHOW {name}").fetchone()[0])

        conn.execute("CREATE TABLE t (x int)")
        conn.execute("INSERT INTO t VALUES (1)")
        pg.commit_batch(conn, durable=False)  # committed, without waiting for the disk
        conn.execute("INSERT INTO t VALUES (2)")
        pg.commit_batch(conn, durable=True)
        assert conn.execute("SELECT count(*) FROM t").fetchone()[0] == 2
        assert shown("synchronous_commit") == "on"  # the server's default again
        conn.rollback()
        pg.begin_build(conn)
        assert shown("maintenance_work_mem") == "512MB"
        conn.rollback()
        conn.execute("SET maintenance_work_mem = '2GB'")
        pg.begin_build(conn)
        assert shown("maintenance_work_mem") == "2GB"  # raised, never lowered
        conn.rollback()
    finally:
        conn.close()


def test_a_refusal_is_told_by_its_first_line_or_its_kind(database: Connector) -> None:
    conn = database.connect()
    try:
        with pytest.raises(Exception, match=r"no.such") as refused:
            conn.cursor().execute("SELECT no_such_column\nFROM no_such_table\nWHERE 1 = 1")
    finally:
        conn.rollback()
        conn.close()
    told = classified(refused.value, transient=False)
    assert isinstance(told, TerminalError)
    assert str(told) == str(refused.value).strip().splitlines()[0]
    assert "WHERE" not in str(told)
    assert str(classified(RuntimeError(" \n "), transient=True)) == "RuntimeError"


def _keepalives(fd: int) -> tuple[int, int, int, int]:
    sock = socket.socket(fileno=os.dup(fd))
    try:
        return (
            sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE),
            sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE),
            sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL),
            sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT),
        )
    finally:
        sock.close()


KEPT_ALIVE = (1, KEEPALIVE_IDLE_SECONDS, KEEPALIVE_INTERVAL_SECONDS, KEEPALIVE_PROBES)


@pytest.mark.postgres
@pytest.mark.mariadb
def test_every_database_connection_notices_a_peer_that_is_gone(
    pg_database: str, mariadb_database: str, pg_state: str
) -> None:
    pg = connector_for(pg_database, {}).connect()
    my = connector_for(mariadb_database, {}).connect()
    store = StateStore.open(pg_state)
    waiter = Waiter(store.engine, threading.Event())
    try:
        assert _keepalives(pg.fileno()) == KEPT_ALIVE
        assert _keepalives(my._sock.fileno()) == KEPT_ALIVE
        with store.engine.connect() as conn:
            assert _keepalives(conn.connection.dbapi_connection.fileno()) == KEPT_ALIVE
        assert waiter._conn is not None and _keepalives(waiter._conn.fileno()) == KEPT_ALIVE
    finally:
        pg.close()
        my.close()
        waiter.close()
        store.close()


def test_mysql_connections_build_their_shared_tls_context_only_when_a_server_offers_tls() -> None:
    """Where a connection sets no TLS option, PyMySQL prefers TLS: the context (17 ms of
    loading certificates) is made once, at the first server that offers TLS."""
    import ssl

    from moonshift.connectors import mysql

    made: list[ssl.SSLContext] = []

    def make() -> ssl.SSLContext:
        made.append(ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT))
        made[-1].check_hostname, made[-1].verify_mode = False, ssl.CERT_NONE
        return made[-1]

    saved, mysql._Connection._preferred = mysql._Connection._preferred, None
    try:
        contexts = [mysql._PreferredContext(make) for _ in range(2)]
        assert made == []  # the connections opened: no context yet
        for context in contexts:
            near, far = socket.socketpair()
            with near, far:
                wrapped = context.wrap_socket(near, do_handshake_on_connect=False)
                assert isinstance(wrapped, ssl.SSLSocket)
                wrapped.detach()
        assert len(made) == 1  # made once, for both
    finally:
        mysql._Connection._preferred = saved
