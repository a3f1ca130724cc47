"""Where moonshift keeps its state, and who is acting."""

from __future__ import annotations

import getpass
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    """Where state lives: ``home`` holds logs (and the SQLite file unless ``state_url`` says)."""

    state_url: str
    home: Path

    @classmethod
    def from_env(
        cls,
        state: str | None = None,
        home: str | Path | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> Settings:
        environ = os.environ if environ is None else environ
        home_path = Path(home or environ.get("MOONSHIFT_HOME") or ".moonshift").absolute()
        url = state or environ.get("MOONSHIFT_STATE") or f"sqlite:///{home_path / 'state.db'}"
        return cls(state_url=url, home=home_path)

    def child_env(self, environ: Mapping[str, str]) -> dict[str, str]:
        """The environment of a process moonshift starts: it finds the same state."""
        return {**environ, "MOONSHIFT_STATE": self.state_url, "MOONSHIFT_HOME": str(self.home)}


def current_user() -> str:
    """The actor of whoever runs this process, for the audit log."""
    try:
        return f"user:{getpass.getuser()}"
    except (KeyError, OSError):
        return f"user:uid-{os.getuid()}"
