"""A generic webhook: the event's JSON, signed as Standard Webhooks defines it."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from moonshift.domain.signatures import sign
from moonshift.notify.posting import encoded, send


class WebhookNotifier:
    def __init__(self, url: str, secret: str) -> None:
        self.url, self.secret = url, secret

    def deliver(self, event: Mapping[str, Any], *, key: str) -> None:
        body = encoded(event)
        stamp = int(time.time())
        headers = {
            "content-type": "application/json",
            "webhook-id": key,
            "webhook-timestamp": str(stamp),
            "webhook-signature": sign(self.secret, key, stamp, body),
        }
        send(self.url, body, headers=headers)
