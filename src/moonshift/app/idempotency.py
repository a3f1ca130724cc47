"""Requests that must take effect once: a POST retried with the same Idempotency-Key gets the
first answer again and starts nothing twice. The claim is a unique row in the state store,
so it holds across any number of API processes."""

from __future__ import annotations

from datetime import timedelta

from moonshift.app import views
from moonshift.app.context import Family
from moonshift.errors import Conflict, InvalidInput

KEPT = timedelta(hours=24)


class Idempotency(Family):
    def claim(self, scope: str, key: str, fingerprint: str) -> views.Replay | None:
        """None: go ahead (this request holds the key now); else the first answer to replay.
        Conflict while the first request is still being answered; InvalidInput when the key
        was used for a different request."""
        now = self.ctx.clock.now()
        found = self.ctx.store.claim_request_key(
            scope, key, fingerprint, now=now, forget_before=now - KEPT
        )
        if found is None:
            return None
        if found.fingerprint != fingerprint:
            raise InvalidInput("Idempotency-Key", "was used before for a different request")
        if found.status_code is None or found.body is None:
            raise Conflict("a request with this Idempotency-Key is still being answered")
        return views.Replay(
            status_code=found.status_code, content_type=found.content_type, body=found.body
        )

    def answer(
        self, scope: str, key: str, *, status_code: int, content_type: str | None, body: str
    ) -> None:
        self.ctx.store.answer_request_key(
            scope, key, status_code=status_code, content_type=content_type, body=body
        )

    def release(self, scope: str, key: str) -> None:
        """Let the key go (the request failed on our side): a retry may run it."""
        self.ctx.store.release_request_key(scope, key)
