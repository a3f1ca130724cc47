"""Can we reach a database? The pre-flight check, with secret-free answers."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from pathlib import Path

from moonshift.connectors.registry import connector_class
from moonshift.dburl import normalize
from moonshift.domain.secrets import MissingVariableError, substitute, without_secret
from moonshift.errors import InvalidInput


def unreachable(url: str, environ: Mapping[str, str], *, must_exist: bool = True) -> str | None:
    """None when the database answers ``SELECT 1``; otherwise why not (no secret in it).
    Asked through the connector the job uses (its driver and its connect timeout)."""
    try:
        resolved = normalize(substitute(url, environ))
    except (MissingVariableError, InvalidInput) as exc:
        return str(exc)
    try:
        if resolved.get_backend_name() == "sqlite":
            memory = resolved.database in (None, "", ":memory:")
            return None if memory else _sqlite(Path(str(resolved.database)), must_exist)
        connector = connector_class(resolved.get_backend_name())(resolved)  # type: ignore[call-arg]
        conn = connector.connect()
        try:
            conn.cursor().execute("SELECT 1")
        finally:
            conn.close()
        return None
    except Exception as exc:  # any failure to connect is an answer, not a crash
        lines = str(exc).strip().splitlines()
        message = without_secret(lines[0] if lines else "", resolved.password)
        return f"{type(exc).__name__}: {message}"


def _sqlite(path: Path, must_exist: bool) -> str | None:
    """A SQLite file read, never written (a check must not change the file's journal
    mode, nor create it)."""
    if not path.exists():
        if must_exist:
            return f"no SQLite file at {path}"
        return None if path.parent.is_dir() else f"no folder for the SQLite file at {path}"
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    finally:
        conn.close()
    return None
