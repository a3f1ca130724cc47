"""Bringing the state schema to the version this code knows, once, under a lock.

A store already at head (every start but the first) is checked by one query; an empty one
is created from the tables' definitions and marked at head, as Alembic's ``stamp`` does
(``tests/test_schema.py`` checks that the revisions build the same schema). Alembic is
loaded only to upgrade a store made by an older moonshift.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.exc import OperationalError

from moonshift.errors import Unavailable
from moonshift.store.engine import WRITE
from moonshift.store.schema import metadata

if TYPE_CHECKING:
    from alembic.config import Config

ALEMBIC_DIR = Path(__file__).with_name("alembic")
# Any fixed number: several daemons starting at once upgrade the schema one at a time.
_UPGRADE_LOCK_KEY = 7_466_311_020_261_122
# A store opened while another thread opens the same new SQLite file has met "database is
# locked" despite the busy timeout (the Python API's scheduler thread, under load).
_LOCKED_PATIENCE_SECONDS = 30.0


def alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(ALEMBIC_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest revision: each one is named by its number, which its file name begins
    with (``0012_copy_ranges.py`` is revision ``0012``, after ``0011``)."""
    return max(p.name.split("_", 1)[0] for p in (ALEMBIC_DIR / "versions").glob("[0-9]*.py"))


def current_revision(connection: Connection) -> str | None:
    """The store's revision, as Alembic records it; None for an empty store."""
    if not inspect(connection).has_table("alembic_version"):
        return None
    found = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    return None if found is None else str(found)


def ensure_schema(engine: Engine) -> None:
    """Upgrade the schema to head; refuse a schema newer than this code knows. An SQLite
    file that another opener holds locked is waited for, up to half a minute."""
    deadline = time.monotonic() + _LOCKED_PATIENCE_SECONDS
    while True:
        try:
            return _ensure_schema(engine)
        except OperationalError as exc:
            locked = engine.dialect.name == "sqlite" and "locked" in str(exc.orig)
            if not locked or time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _ensure_schema(engine: Engine) -> None:
    head = head_revision()
    with engine.connect() as connection:
        current = current_revision(connection)
        connection.rollback()
    if current == head:
        return
    with engine.connect().execution_options(**{WRITE: True}) as connection, connection.begin():
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_UPGRADE_LOCK_KEY})")
        current = current_revision(connection)
        if current == head:
            return
        if current is None:
            return _create(connection, head)
        _refuse_unknown(current, head)
        from alembic import command

        command.upgrade(alembic_config(connection), "head")


def _create(connection: Connection, head: str) -> None:
    """An empty store, at ``head``: the tables at once rather than revision by revision."""
    metadata.create_all(connection, checkfirst=False)
    connection.execute(
        text(
            "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, "
            "CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))"
        )
    )
    connection.execute(
        text("INSERT INTO alembic_version (version_num) VALUES (:head)"), {"head": head}
    )


def _refuse_unknown(current: str, head: str) -> None:
    from alembic.script import ScriptDirectory
    from alembic.util.exc import CommandError

    try:
        known = ScriptDirectory.from_config(alembic_config()).get_revision(current)
    except CommandError:
        known = None
    if known is None:
        raise Unavailable(
            f"the state store's schema is at revision {current}, newer than this moonshift "
            f"knows (its newest is {head}); upgrade moonshift before using this store"
        )
