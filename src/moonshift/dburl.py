"""Database URLs: the drivers moonshift uses for each engine, and how URLs are shown."""

from __future__ import annotations

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from moonshift.domain.secrets import redact_url
from moonshift.errors import InvalidInput

DEFAULT_DRIVERS = {
    "postgresql": "psycopg",
    "mysql": "pymysql",
    "mariadb": "pymysql",
    "sqlite": "pysqlite",
}


def normalize(url: str, field: str = "url") -> URL:
    """Parse a URL and pick moonshift's driver when the URL names none."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise InvalidInput(field, f"not a database URL: {redact_url(url)}") from None
    backend = parsed.get_backend_name()
    if backend not in DEFAULT_DRIVERS:
        raise InvalidInput(field, f'unsupported database "{backend}"')
    if "+" not in parsed.drivername:
        parsed = parsed.set(drivername=f"{backend}+{DEFAULT_DRIVERS[backend]}")
    return parsed


def shown(url: URL | str) -> str:
    """A URL safe to print: the password masked."""
    if isinstance(url, URL):
        return url.render_as_string(hide_password=True)
    return redact_url(url)
