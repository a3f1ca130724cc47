"""What a daemon waits out (a state store it cannot reach) and what stops it (a store that
answers no)."""

from __future__ import annotations

import socket

import psycopg
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError, ProgrammingError

from moonshift.store.outage import unreachable


def _raised(url: str) -> BaseException:
    try:
        with psycopg.connect(url, connect_timeout=10):
            pass
    except Exception as exc:
        return exc
    raise AssertionError(f"{url} connected")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.postgres
def test_a_refused_connection_is_waited_out_a_missing_database_is_not() -> None:
    assert unreachable(_raised(f"postgresql://postgres@127.0.0.1:{_free_port()}/x"))
    assert not unreachable(_raised("postgresql://postgres@127.0.0.1:5432/moonshift_no_such_db"))


@pytest.mark.postgres
def test_through_sqlalchemy_too() -> None:
    engine = create_engine(f"postgresql+psycopg://postgres@127.0.0.1:{_free_port()}/x")
    with pytest.raises(OperationalError) as refused:
        engine.connect()
    assert unreachable(refused.value)
    engine = create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    with engine.connect() as conn, pytest.raises(ProgrammingError) as wrong:
        conn.execute(text("SELECT * FROM moonshift_no_such_table"))
    assert not unreachable(wrong.value)
    engine.dispose()


def test_sqlite_waits_for_a_lock_but_not_for_a_mistake(tmp_path: object) -> None:
    import sqlite3

    assert unreachable(sqlite3.OperationalError("database is locked"))
    assert not unreachable(sqlite3.OperationalError("no such table: runs"))
