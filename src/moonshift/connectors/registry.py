"""A connector for a database URL as written in a spec (``${ENV}`` references resolved)."""

from __future__ import annotations

from collections.abc import Mapping

from moonshift.connectors.base import Connector
from moonshift.connectors.mysql import MysqlConnector
from moonshift.connectors.postgres import PostgresConnector
from moonshift.connectors.sqlite import SqliteConnector
from moonshift.dburl import normalize
from moonshift.domain.secrets import substitute

CONNECTORS: dict[str, type[Connector]] = {
    "postgresql": PostgresConnector,
    "mysql": MysqlConnector,
    "mariadb": MysqlConnector,
    "sqlite": SqliteConnector,
}


def connector_for(url: str, environ: Mapping[str, str], field: str = "url") -> Connector:
    """Raises MissingVariableError or InvalidInput (naming ``field``) when it cannot."""
    resolved = normalize(substitute(url, environ), field)
    return CONNECTORS[resolved.get_backend_name()](resolved)  # type: ignore[call-arg]
