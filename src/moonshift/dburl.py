"""Database URLs: the drivers moonshift uses for each engine, how URLs are shown, and how
their connections notice a peer that is gone."""

from __future__ import annotations

import socket
from typing import Any

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from moonshift.domain.secrets import redact_url
from moonshift.errors import InvalidInput

# A database whose host vanished without a word (powered off, a route dropped, a firewall
# forgetting the connection) would leave a statement waiting for its answer forever, its
# lease renewed all the while by a side thread: TCP keepalives end such a connection after
# about 90 s of silence (30 s, then six probes 10 s apart), and the copy retries from its
# checkpoint. A live server answers the probes, however long its statement runs.
KEEPALIVE_IDLE_SECONDS = 30
KEEPALIVE_INTERVAL_SECONDS = 10
KEEPALIVE_PROBES = 6
# ... as libpq's connection parameters (it ignores them on a Unix socket)
PG_KEEPALIVES: dict[str, Any] = {
    "keepalives": 1,
    "keepalives_idle": KEEPALIVE_IDLE_SECONDS,
    "keepalives_interval": KEEPALIVE_INTERVAL_SECONDS,
    "keepalives_count": KEEPALIVE_PROBES,
}


def keep_alive(sock: socket.socket) -> None:
    """Keepalives on a driver's TCP socket (one on a Unix socket is left as it is)."""
    if sock.family not in (socket.AF_INET, socket.AF_INET6):
        return
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, KEEPALIVE_IDLE_SECONDS)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, KEEPALIVE_INTERVAL_SECONDS)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, KEEPALIVE_PROBES)


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
