"""Webhook triggers: a request signed with the migration's ``trigger.secret`` starts one run,
without an API key. A delivery id is kept, so a replayed one starts nothing."""

from __future__ import annotations

import hashlib

from moonshift.app import views
from moonshift.app.context import Context, Family
from moonshift.app.idempotency import KEPT
from moonshift.app.runs import Runs
from moonshift.domain.secrets import MissingVariableError, substitute
from moonshift.domain.signatures import refusal
from moonshift.errors import Conflict, NotFound, Unauthenticated, Unavailable
from moonshift.store.records import Trigger


class Webhooks(Family):
    def __init__(self, ctx: Context, runs: Runs) -> None:
        super().__init__(ctx)
        self.runs = runs

    def deliver(
        self,
        migration_id: str,
        *,
        message_id: str | None,
        timestamp: str | None,
        signature: str | None,
        body: bytes,
    ) -> views.Run:
        """Verify the signature (Unauthenticated if it fails), then queue one run for the
        daemon; Conflict for an id delivered before."""
        spec = self.ctx.spec_of(migration_id)
        webhook = spec.webhook
        if webhook is None or webhook.secret is None:
            raise NotFound(f'migration "{migration_id}" has no webhook trigger')
        try:
            secret = substitute(webhook.secret, self.ctx.environ)
        except MissingVariableError as exc:
            raise Unavailable(f"trigger.secret: {exc} where the API server runs") from None
        why = refusal(secret, message_id, timestamp, signature, body, self.ctx.clock.now())
        if why is not None:
            raise Unauthenticated(f"webhook refused: {why}")
        assert message_id is not None
        self.ctx.require_daemon("start it")
        scope = f"webhook:{migration_id}"
        fingerprint = hashlib.sha256(body).hexdigest()
        earlier = self.ctx.store.claim_request_key(
            scope,
            message_id[:255],
            fingerprint,
            now=self.ctx.clock.now(),
            forget_before=self.ctx.clock.now() - KEPT,
        )
        if earlier is not None:
            raise Conflict(
                f'webhook id "{message_id}" was delivered before ({earlier.body or "-"})'
            )
        run = self.runs.run_now(
            migration_id,
            actor=f"webhook:{migration_id}",
            trigger=Trigger.EVENT,
            reason=f"webhook {message_id}",
        )
        self.ctx.store.answer_request_key(
            scope, message_id[:255], status_code=202, content_type=None, body=f"run {run.id}"
        )
        self.ctx.store.announce()
        return run
