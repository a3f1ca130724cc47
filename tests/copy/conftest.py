"""Databases for copy tests: a URL per engine, fresh for each test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.copy.proxy import Proxy

ENGINES = [
    "sqlite",
    pytest.param("postgres", marks=pytest.mark.postgres),
    pytest.param("mariadb", marks=pytest.mark.mariadb),
]


def database_url(request: pytest.FixtureRequest, engine: str, tmp_path: Path, name: str) -> str:
    if engine == "sqlite":
        return f"sqlite:///{tmp_path / f'{name}.db'}"
    fixture = "pg_database" if engine == "postgres" else "mariadb_database"
    # a second database of the same engine comes from a second fixture instance
    return str(request.getfixturevalue(fixture if name == "source" else f"{fixture}_2"))


@pytest.fixture
def proxy() -> Iterator[Proxy]:
    """A TCP proxy to the PostgreSQL server, which a test can cut, hold or slow down."""
    found = Proxy(5432)
    found.start()
    yield found
    found.stop()
