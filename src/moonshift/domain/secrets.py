"""``${ENV_VAR}`` references in spec values, and redaction of what is shown.

Specs keep the references; values are substituted only when a job runs, so the state
store never holds a secret. Substitution takes the environment as an argument.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_REFERENCE = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_SECRET_QUERY_KEYS = ("password", "passwd", "pwd", "secret", "token", "sslpassword")
REDACTED = "***"


class MissingVariableError(KeyError):
    """A ``${NAME}`` reference names a variable that is not set and has no default."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name

    def __str__(self) -> str:
        return f"environment variable {self.name} is not set"


def references(text: str) -> list[str]:
    """The variable names a value refers to, in order."""
    return [m.group(1) for m in _REFERENCE.finditer(text) if m.group(1)]


def substitute(text: str, env: Mapping[str, str]) -> str:
    """Replace ``${NAME}`` and ``${NAME:-default}``; ``$$`` stands for a literal ``$``."""

    def replace(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name is None:
            return "$"
        if name in env:
            return env[name]
        if default is not None:
            return default
        raise MissingVariableError(name)

    return _REFERENCE.sub(replace, text)


def is_reference(text: str) -> bool:
    """True when the whole text is one ``${NAME}`` reference (a safe way to give a secret)."""
    match = _REFERENCE.fullmatch(text)
    return bool(match and match.group(1))


def redact_url(url: str) -> str:
    """Mask a literal password in ``scheme://user:password@host`` and in secret query keys."""
    masked = re.sub(r"(://[^:/@?#]*:)([^@/?#]*)(@)", _mask_password, url)
    for key in _SECRET_QUERY_KEYS:
        masked = re.sub(rf"([?&]{key}=)([^&#]*)", _mask_password, masked, flags=re.IGNORECASE)
    return masked


def literal_secret_in_url(url: str) -> str | None:
    """Where a URL holds a literal secret, say where; None when it holds none."""
    match = re.search(r"://[^:/@?#]*:([^@/?#]*)@", url)
    if match and match.group(1) and not is_reference(match.group(1)):
        return "the password"
    for key in _SECRET_QUERY_KEYS:
        found = re.search(rf"[?&]{key}=([^&#]*)", url, flags=re.IGNORECASE)
        if found and found.group(1) and not is_reference(found.group(1)):
            return f"the {key} parameter"
    return None


def _mask_password(match: re.Match[str]) -> str:
    value = match.group(2)
    if not value or is_reference(value):
        return match.group(0)
    return match.group(1) + REDACTED + (match.group(3) if match.lastindex == 3 else "")
