"""``${ENV_VAR}`` references in spec values, and redaction of what is shown.

Specs keep the references; values are substituted only when a job runs, so the state
store never holds a secret. Substitution takes the environment as an argument.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

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


def without_secret(text: str, secret: object | None) -> str:
    """``text`` with ``secret`` (a password a driver may quote back) shown as ***."""
    return text.replace(str(secret), "***") if secret else text


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


def resolved_values(text: str, env: Mapping[str, str]) -> list[str]:
    """The values ``text`` takes from the environment: a secret may be among them (a
    default, written in the spec, is none)."""
    return [env[name] for name in references(text) if env.get(name)]


class Masker:
    """Replaces secret values in a stream of bytes by ``***``, also where a value is split
    between two chunks: the last bytes that could begin a secret wait for the next chunk.

    Values shorter than ``SHORTEST_MASKED`` are left alone: they would mask ordinary text,
    and no real secret is that short."""

    SHORTEST_MASKED = 4

    def __init__(self, secrets: Iterable[str]) -> None:
        values = sorted(
            {s.encode() for s in secrets if len(s) >= self.SHORTEST_MASKED}, key=len, reverse=True
        )
        self._pattern = re.compile(b"|".join(re.escape(v) for v in values)) if values else None
        self._keep = max((len(v) for v in values), default=1) - 1
        self._held = b""

    @property
    def active(self) -> bool:
        return self._pattern is not None

    def feed(self, chunk: bytes) -> bytes:
        """What of the stream so far can be written, masked."""
        if self._pattern is None:
            return chunk
        data = self._pattern.sub(REDACTED.encode(), self._held + chunk)
        cut = max(0, len(data) - self._keep)
        self._held = data[cut:]
        return data[:cut]

    def flush(self) -> bytes:
        """The rest, at the end of the stream."""
        rest, self._held = self._held, b""
        return rest
