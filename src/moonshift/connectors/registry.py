"""A connector for a database URL as written in a spec (``${ENV}`` references resolved)."""

from __future__ import annotations

from collections.abc import Mapping
from importlib import import_module

from moonshift.connectors.base import Connector
from moonshift.dburl import normalize
from moonshift.domain.secrets import substitute

# Each engine's module and class, imported when a URL names it: a copy between two SQLite
# files does not load the PostgreSQL and MySQL drivers.
CONNECTORS: dict[str, tuple[str, str]] = {
    "postgresql": ("moonshift.connectors.postgres", "PostgresConnector"),
    "mysql": ("moonshift.connectors.mysql", "MysqlConnector"),
    "mariadb": ("moonshift.connectors.mysql", "MysqlConnector"),
    "sqlite": ("moonshift.connectors.sqlite", "SqliteConnector"),
}


def connector_class(engine: str) -> type[Connector]:
    module, name = CONNECTORS[engine]
    found: type[Connector] = getattr(import_module(module), name)
    return found


def connector_for(url: str, environ: Mapping[str, str], field: str = "url") -> Connector:
    """Raises MissingVariableError or InvalidInput (naming ``field``) when it cannot."""
    resolved = normalize(substitute(url, environ), field)
    return connector_class(resolved.get_backend_name())(resolved)  # type: ignore[call-arg]
