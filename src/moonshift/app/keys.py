"""API keys: made once and shown once, kept as a SHA-256 hash; who calls, and what they may do.

Scopes go up: ``feed`` reads the calendar feed, ``read`` every GET, ``operate`` runs and
controls migrations, ``admin`` defines them (and connections and keys). Every face that takes
a key (the REST API, the dashboard) asks ``authenticate`` here.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta

from moonshift.app import views
from moonshift.app.context import Family
from moonshift.errors import Forbidden, InvalidInput, Unauthenticated

SCOPES = ("feed", "read", "operate", "admin")
# A key in a URL (a calendar subscription) ends up in logs and histories: only read-only ones.
URL_SCOPES = ("feed", "read")
PREFIX = "ms_"
SESSION_LIFETIME = timedelta(hours=12)
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class Keys(Family):
    def create(self, name: str, scope: str, *, actor: str) -> views.KeyCreated:
        """A new key; the only time it is shown is in what this returns."""
        if not _NAME.match(name):
            raise InvalidInput("name", 'must be a slug (lowercase letters, digits, "-", "_")')
        if scope not in SCOPES:
            raise InvalidInput("scope", f'must be one of {", ".join(SCOPES)}, got "{scope}"')
        key = PREFIX + secrets.token_urlsafe(32)
        record = self.ctx.store.add_api_key(
            name=name,
            scope=scope,
            key_hash=key_hash(key),
            prefix=key[:8],
            actor=actor,
            now=self.ctx.clock.now(),
        )
        return views.KeyCreated(name=record.name, scope=record.scope, key=key)

    def list(self) -> list[views.ApiKey]:
        return [views.ApiKey.model_validate(k) for k in self.ctx.store.api_keys()]

    def revoke(self, name: str, *, actor: str) -> views.ApiKey:
        record = self.ctx.store.revoke_api_key(name, actor=actor, now=self.ctx.clock.now())
        return views.ApiKey.model_validate(record)

    def authenticate(self, key: str | None, *, needs: str, in_url: bool = False) -> views.Principal:
        """Who holds ``key``, if its scope covers ``needs``: Unauthenticated for a missing,
        unknown or revoked key, Forbidden for one whose scope is too small."""
        if not key:
            raise Unauthenticated("an API key is required: Authorization: Bearer KEY")
        record = self.ctx.store.api_key_by_hash(key_hash(key))
        if record is None or record.revoked_at is not None:
            raise Unauthenticated("unknown or revoked API key")
        if SCOPES.index(record.scope) < SCOPES.index(needs):
            raise Forbidden(f'key "{record.name}" has scope {record.scope}; this needs {needs}')
        if in_url and record.scope not in URL_SCOPES:
            raise Forbidden(
                f'key "{record.name}" has scope {record.scope}: a key in a URL must be '
                f"read-only ({' or '.join(URL_SCOPES)}); send this one in the Authorization header"
            )
        return views.Principal(name=record.name, scope=record.scope)

    # -- dashboard sessions ---------------------------------------------------------------

    def login(self, key: str | None) -> views.Session:
        """A dashboard session for ``key`` (any scope but ``feed``, which only reads the
        calendar): its token goes in a cookie; only the token's hash is kept."""
        principal = self.authenticate(key, needs="read")
        assert key is not None
        token = secrets.token_urlsafe(32)
        now = self.ctx.clock.now()
        expires = now + SESSION_LIFETIME
        self.ctx.store.add_web_session(
            token_hash=key_hash(token), key_hash=key_hash(key), now=now, expires_at=expires
        )
        return views.Session(token=token, principal=principal, expires_at=expires)

    def session(self, token: str | None, *, needs: str) -> views.Principal:
        """Who holds the session ``token``, as ``authenticate`` answers for a key: the key's
        scope and revocation count now, not as they were at login."""
        if not token:
            raise Unauthenticated("log in with an API key")
        found = self.ctx.store.web_session(key_hash(token))
        if found is None or found.revoked or found.expires_at <= self.ctx.clock.now():
            raise Unauthenticated("the session has ended; log in again")
        if SCOPES.index(found.scope) < SCOPES.index(needs):
            raise Forbidden(f'key "{found.key_name}" has scope {found.scope}; this needs {needs}')
        return views.Principal(name=found.key_name, scope=found.scope)

    def logout(self, token: str | None) -> None:
        if token:
            self.ctx.store.drop_web_session(key_hash(token))
