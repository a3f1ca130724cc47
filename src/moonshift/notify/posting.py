"""What the HTTP channels share: one POST, its answer read as delivered, try again later
(after ``Retry-After`` when the receiver gives one), or give up."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from moonshift.errors import TerminalError, TransientError

TIMEOUT_SECONDS = 10.0
# Statuses worth trying again: the receiver is busy, down or asks us to wait.
RETRY_STATUSES = frozenset({408, 409, 425, 429, 500, 502, 503, 504})


class RetryAfter(TransientError):
    """The receiver asked to wait ``seconds`` before the next try (429 or 503)."""

    def __init__(self, message: str, seconds: float) -> None:
        super().__init__(message)
        self.seconds = seconds


def post_json(
    url: str, body: Mapping[str, Any], *, headers: Mapping[str, str] | None = None
) -> bytes:
    """POST ``body``; returns the bytes sent. Raises RetryAfter, TransientError or
    TerminalError from the answer; a message never repeats the URL (it may hold a token)."""
    content = encoded(body)
    send(url, content, headers={"content-type": "application/json", **(headers or {})})
    return content


def encoded(body: Mapping[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":"), sort_keys=True).encode()


def send(url: str, content: bytes, *, headers: Mapping[str, str]) -> None:
    import httpx  # here, not at the top: a process that sends nothing does not load it

    try:
        answer = httpx.post(url, content=content, headers=dict(headers), timeout=TIMEOUT_SECONDS)
    except httpx.HTTPError as exc:
        raise TransientError(f"could not reach the receiver: {type(exc).__name__}") from None
    if answer.is_success:
        return
    said = f"the receiver answered {answer.status_code}"
    detail = answer.text.strip()[:200]
    if detail:
        said += f": {detail}"
    wait = retry_after(answer.headers.get("retry-after"))
    if answer.status_code in (429, 503) and wait is not None:
        raise RetryAfter(said, wait)
    if answer.status_code in RETRY_STATUSES:
        raise TransientError(said)
    raise TerminalError(said)


def retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds, or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
