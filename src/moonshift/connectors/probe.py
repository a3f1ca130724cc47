"""Can we reach a database? The pre-flight check, with secret-free answers."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from moonshift.dburl import normalize
from moonshift.domain.secrets import MissingVariableError, substitute
from moonshift.errors import InvalidInput

CONNECT_TIMEOUT_SECONDS = 10


def unreachable(url: str, environ: Mapping[str, str], *, must_exist: bool = True) -> str | None:
    """None when the database answers ``SELECT 1``; otherwise why not (no secret in it)."""
    try:
        resolved = normalize(substitute(url, environ))
    except (MissingVariableError, InvalidInput) as exc:
        return str(exc)
    if resolved.get_backend_name() == "sqlite":
        path = Path(resolved.database or "")
        if must_exist and not path.exists():
            return f"no SQLite file at {path}"
        if not must_exist and not path.parent.is_dir():
            return f"no folder for the SQLite file at {path}"
    args = (
        {}
        if resolved.get_backend_name() == "sqlite"
        else {"connect_timeout": CONNECT_TIMEOUT_SECONDS}
    )
    engine = create_engine(resolved, poolclass=NullPool, connect_args=args)
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
        return None
    except Exception as exc:  # any failure to connect is an answer, not a crash
        message = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        if resolved.password:
            message = message.replace(str(resolved.password), "***")
        return f"{type(getattr(exc, 'orig', exc)).__name__}: {message}"
    finally:
        engine.dispose()
