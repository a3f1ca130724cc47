"""Webhook signatures as Standard Webhooks defines them: HMAC-SHA256 over
``{id}.{timestamp}.{body}``, sent as ``v1,<base64>`` (several, space-separated, may be sent
while a secret rotates). A secret written ``whsec_<base64>`` is those bytes, as Standard
Webhooks libraries use it; any other secret is its UTF-8 bytes, as ``openssl dgst -hmac``
uses it."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timedelta

TOLERANCE = timedelta(minutes=5)


def secret_bytes(secret: str) -> bytes:
    if secret.startswith("whsec_"):
        try:
            return base64.b64decode(secret.removeprefix("whsec_"), validate=True)
        except ValueError:
            pass
    return secret.encode()


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_bytes(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def refusal(
    secret: str,
    message_id: str | None,
    timestamp: str | None,
    signature: str | None,
    body: bytes,
    now: datetime,
) -> str | None:
    """None when the request is signed with ``secret`` within the tolerance; else why not."""
    if not message_id or not timestamp or not signature:
        return "webhook-id, webhook-timestamp and webhook-signature headers are required"
    if not timestamp.isdigit():
        return "webhook-timestamp must be seconds since the epoch"
    sent = int(timestamp)
    if abs(now.timestamp() - sent) > TOLERANCE.total_seconds():
        return "webhook-timestamp is more than 5 minutes away from now"
    expected = sign(secret, message_id, sent, body)
    given = [s for s in signature.split(" ") if s.startswith("v1,")]
    if not any(hmac.compare_digest(expected, s) for s in given):
        return "the signature does not match"
    return None
