from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pymysql
import pytest
from hypothesis import HealthCheck, settings

from moonshift.app import Moonshift, Settings
from moonshift.store import StateStore
from tests.copy.faults import SEED as FAULT_SEED
from tests.helpers import MARIADB, PG_ADMIN, FakeClock, unavailable

# CI runs every property test with 2,000 examples; a developer's run is quicker.
settings.register_profile(
    "ci", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", max_examples=200, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") == "true" else "dev")

_TEMPLATE = f"moonshift_tpl_{uuid.uuid4().hex[:8]}"


def pytest_report_header() -> str:
    return f"fault suite seed: MOONSHIFT_FAULT_SEED={FAULT_SEED} (set it to replay)"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    terminalreporter.write_line(
        f"fault suite seed: MOONSHIFT_FAULT_SEED={FAULT_SEED} (set it to replay)"
    )


def _admin() -> psycopg.Connection:
    try:
        return psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        unavailable("PostgreSQL", exc)
        raise


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    """A database with moonshift's schema, cloned for each test that needs PostgreSQL."""
    with _admin() as admin:
        admin.execute(f"CREATE DATABASE {_TEMPLATE}")
    StateStore.open(f"postgresql://postgres@127.0.0.1:5432/{_TEMPLATE}").close()
    yield _TEMPLATE
    with _admin() as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {_TEMPLATE} WITH (FORCE)")


def _fresh_database(template: str | None = None) -> Iterator[str]:
    name = f"moonshift_t_{uuid.uuid4().hex[:10]}"
    with _admin() as admin:
        admin.execute(f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else ""))
    yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    with _admin() as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def pg_database() -> Iterator[str]:
    """A fresh, empty PostgreSQL database; its URL."""
    yield from _fresh_database()


@pytest.fixture
def pg_state(pg_template: str) -> Iterator[str]:
    """A fresh PostgreSQL state store (schema already built); its URL."""
    yield from _fresh_database(pg_template)


@pytest.fixture
def pg_database_2() -> Iterator[str]:
    """A second fresh PostgreSQL database, for copies between two of them."""
    yield from _fresh_database()


@pytest.fixture
def mariadb_database() -> Iterator[str]:
    """A fresh, empty MariaDB database; its URL."""
    yield from _fresh_mariadb()


@pytest.fixture
def mariadb_database_2() -> Iterator[str]:
    yield from _fresh_mariadb()


def _fresh_mariadb() -> Iterator[str]:
    name = f"moonshift_t_{uuid.uuid4().hex[:10]}"
    try:
        admin = pymysql.connect(**MARIADB, connect_timeout=3, autocommit=True)
    except pymysql.err.OperationalError as exc:
        unavailable("MariaDB", exc)
        raise
    with admin:
        admin.cursor().execute(f"CREATE DATABASE {name}")
    yield f"mysql+pymysql://root@127.0.0.1:3306/{name}"
    with pymysql.connect(**MARIADB, autocommit=True) as admin:
        admin.cursor().execute(f"DROP DATABASE IF EXISTS {name}")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def state_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each contract test runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state.db'}"
    return str(request.getfixturevalue("pg_state"))


@pytest.fixture
def store(state_url: str) -> Iterator[StateStore]:
    opened = StateStore.open(state_url)
    yield opened
    opened.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def app(state_url: str, tmp_path: Path, clock: FakeClock) -> Iterator[Moonshift]:
    service = Moonshift(
        Settings(state_url=state_url, home=tmp_path / "home"),
        clock=clock,
        environ={"PATH": "/usr/bin:/bin"},
    )
    yield service
    service.close()


@pytest.fixture
def copy_app(tmp_path: Path) -> Iterator[Moonshift]:
    """Moonshift with its state in a SQLite file and the real clock: for copies and plans,
    which read real databases at real times."""
    app = Moonshift(
        Settings(state_url=f"sqlite:///{tmp_path / 'state.db'}", home=tmp_path / "home"),
        environ={"PATH": "/usr/bin:/bin"},
    )
    yield app
    app.close()
