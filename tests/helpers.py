"""Test helpers: a clock the test moves, and reachability checks for the real databases."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
MARIADB = {"host": "127.0.0.1", "port": 3306, "user": "root", "password": ""}


class FakeClock:
    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2026, 1, 5, 12, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current

    def sleep(self, seconds: float) -> None:
        self.advance(seconds)

    def advance(self, seconds: float) -> datetime:
        self.current += timedelta(seconds=seconds)
        return self.current


def unavailable(service: str, why: object) -> None:
    """Skip a test whose database is not running, except in CI, where that is a failure."""
    message = f"{service} is not reachable: {why}"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message} (CI must run every database test)")
    pytest.skip(message)


def moonshift(
    cwd: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("MOONSHIFT_")}
    full_env.update(env or {}, COLUMNS="200")
    return subprocess.run(
        [sys.executable, "-m", "moonshift.cli", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=300,  # a CLI process starts slowly on a loaded machine
    )
