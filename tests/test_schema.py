"""The schema built by Alembic equals the metadata; newer schemas are refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text

from moonshift.errors import Unavailable
from moonshift.store import StateStore
from moonshift.store.engine import make_engine
from moonshift.store.schema import metadata
from moonshift.store.upgrade import alembic_config, ensure_schema, head_revision


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'fresh.db'}"
    return str(request.getfixturevalue("pg_database"))


def test_alembic_head_equals_metadata(empty_url: str) -> None:
    engine = make_engine(empty_url)
    ensure_schema(engine)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []
        assert context.get_current_revision() == head_revision()
    engine.dispose()


def test_the_revisions_build_the_schema_a_new_store_gets(empty_url: str) -> None:
    """A new store is created from the metadata and stamped; an old one is upgraded by the
    revisions: both must end with the same schema."""
    engine = make_engine(empty_url)
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "head")
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []
        assert context.get_current_revision() == head_revision()
    engine.dispose()


def test_head_named_by_file_is_alembics_head() -> None:
    """The store is checked without loading Alembic, by its revision files' names."""
    assert head_revision() == ScriptDirectory.from_config(alembic_config()).get_current_head()


def test_upgrade_is_idempotent_and_keeps_data(empty_url: str) -> None:
    store = StateStore.open(empty_url)
    store.close()
    engine = make_engine(empty_url)
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO audit_log (at, actor, action) VALUES (CURRENT_TIMESTAMP, 'x', 'y')")
        )
    ensure_schema(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM audit_log")).scalar() == 1
    engine.dispose()


def test_a_newer_schema_is_refused(empty_url: str) -> None:
    StateStore.open(empty_url).close()
    engine = make_engine(empty_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
    with pytest.raises(Unavailable, match="9999_future, newer than this moonshift knows"):
        StateStore.open(empty_url)
    engine.dispose()


def test_sqlite_uses_wal(tmp_path: Path) -> None:
    store = StateStore.open(f"sqlite:///{tmp_path / 'nested' / 'state.db'}")
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
    store.close()


def test_unreachable_store_is_a_clear_error() -> None:
    with pytest.raises(
        Unavailable,
        match=r"cannot open the state store postgresql\+psycopg://u:\*\*\*@127.0.0.1:1/x",
    ):
        StateStore.open("postgresql://u:pw@127.0.0.1:1/x")
