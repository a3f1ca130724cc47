"""The REST API's part of the state store: keys, named connections and request keys."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from moonshift.errors import Conflict, NotFound
from moonshift.store import schema as t
from moonshift.store.core import StoreCore
from moonshift.store.records import (
    ApiKeyRecord,
    ConnectionRecord,
    RequestKeyRecord,
    WebSessionRecord,
)


class AccessStore(StoreCore):
    # -- keys ---------------------------------------------------------------------------

    def add_api_key(
        self, *, name: str, scope: str, key_hash: str, prefix: str, actor: str, now: datetime
    ) -> ApiKeyRecord:
        with self._write() as conn:
            found = conn.execute(select(t.api_keys).where(t.api_keys.c.name == name)).first()
            if found is not None and found._mapping["revoked_at"] is None:
                raise Conflict(f'a key named "{name}" exists; revoke it first')
            conn.execute(delete(t.api_keys).where(t.api_keys.c.name == name))
            conn.execute(
                insert(t.api_keys).values(
                    name=name,
                    scope=scope,
                    key_hash=key_hash,
                    prefix=prefix,
                    created_by=actor,
                    created_at=now,
                )
            )
            self._audit(
                conn, now=now, actor=actor, action="key created", reason=f"{name} ({scope})"
            )
            return self._key_in(conn, name)

    def api_key_by_hash(self, key_hash: str) -> ApiKeyRecord | None:
        with self._read() as conn:
            row = conn.execute(select(t.api_keys).where(t.api_keys.c.key_hash == key_hash)).first()
        return None if row is None else ApiKeyRecord(**row._mapping)

    def api_keys(self) -> list[ApiKeyRecord]:
        with self._read() as conn:
            rows = conn.execute(select(t.api_keys).order_by(t.api_keys.c.name))
            return [ApiKeyRecord(**row._mapping) for row in rows]

    def revoke_api_key(self, name: str, *, actor: str, now: datetime) -> ApiKeyRecord:
        with self._write() as conn:
            record = self._key_in(conn, name)
            if record.revoked_at is None:
                conn.execute(
                    update(t.api_keys).where(t.api_keys.c.name == name).values(revoked_at=now)
                )
                self._audit(conn, now=now, actor=actor, action="key revoked", reason=name)
            return self._key_in(conn, name)

    def _key_in(self, conn: Any, name: str) -> ApiKeyRecord:
        row = conn.execute(select(t.api_keys).where(t.api_keys.c.name == name)).first()
        if row is None:
            raise NotFound(f'no key named "{name}"')
        return ApiKeyRecord(**row._mapping)

    # -- dashboard sessions -----------------------------------------------------------------

    def add_web_session(
        self, *, token_hash: str, key_hash: str, now: datetime, expires_at: datetime
    ) -> None:
        with self._write() as conn:
            conn.execute(delete(t.web_sessions).where(t.web_sessions.c.expires_at <= now))
            conn.execute(
                insert(t.web_sessions).values(
                    token_hash=token_hash, key_hash=key_hash, created_at=now, expires_at=expires_at
                )
            )

    def web_session(self, token_hash: str) -> WebSessionRecord | None:
        s, k = t.web_sessions, t.api_keys
        query = (
            select(k.c.name, k.c.scope, k.c.revoked_at, s.c.expires_at)
            .select_from(s.join(k, k.c.key_hash == s.c.key_hash))
            .where(s.c.token_hash == token_hash)
        )
        with self._read() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        return WebSessionRecord(
            key_name=row.name,
            scope=row.scope,
            revoked=row.revoked_at is not None,
            expires_at=row.expires_at,
        )

    def drop_web_session(self, token_hash: str) -> None:
        with self._write() as conn:
            conn.execute(delete(t.web_sessions).where(t.web_sessions.c.token_hash == token_hash))

    # -- named connections ----------------------------------------------------------------

    def put_connection(
        self,
        *,
        connection_id: str,
        type_: str,
        url: str,
        name: str,
        actor: str,
        now: datetime,
        source_file: str | None = None,
    ) -> tuple[ConnectionRecord, str]:
        values = {"type": type_, "url": url, "name": name, "source_file": source_file}
        row, action = self._put_named(
            t.connections, connection_id, values, what="connection", actor=actor, now=now
        )
        return ConnectionRecord(**row._mapping), action

    def get_connection(self, connection_id: str) -> ConnectionRecord:
        with self._read() as conn:
            row = conn.execute(
                select(t.connections).where(t.connections.c.id == connection_id)
            ).first()
        if row is None:
            raise NotFound(f'no connection "{connection_id}"')
        return ConnectionRecord(**row._mapping)

    def list_connections(self) -> list[ConnectionRecord]:
        with self._read() as conn:
            rows = conn.execute(select(t.connections).order_by(t.connections.c.id))
            return [ConnectionRecord(**row._mapping) for row in rows]

    def connection_urls(self, connection_ids: Sequence[str]) -> dict[str, str]:
        query = select(t.connections.c.id, t.connections.c.url).where(
            t.connections.c.id.in_(list(connection_ids))
        )
        with self._read() as conn:
            return {row.id: row.url for row in conn.execute(query)}

    def delete_connection(self, connection_id: str, *, actor: str, now: datetime) -> None:
        with self._write() as conn:
            done = conn.execute(delete(t.connections).where(t.connections.c.id == connection_id))
            if not done.rowcount:
                raise NotFound(f'no connection "{connection_id}"')
            self._audit(
                conn, now=now, actor=actor, action="connection deleted", reason=connection_id
            )

    # -- request keys ---------------------------------------------------------------------

    def claim_request_key(
        self, scope: str, key: str, fingerprint: str, *, now: datetime, forget_before: datetime
    ) -> RequestKeyRecord | None:
        with self._write() as conn:
            conn.execute(delete(t.request_keys).where(t.request_keys.c.created_at < forget_before))
        try:
            with self._write() as conn:
                conn.execute(
                    insert(t.request_keys).values(
                        scope=scope, key=key, fingerprint=fingerprint, created_at=now
                    )
                )
            return None
        except IntegrityError:
            return self._request_key(scope, key)

    def _request_key(self, scope: str, key: str) -> RequestKeyRecord:
        with self._read() as conn:
            row = conn.execute(
                select(t.request_keys).where(
                    t.request_keys.c.scope == scope, t.request_keys.c.key == key
                )
            ).one()
        values = dict(row._mapping)
        values.pop("id")
        return RequestKeyRecord(**values)

    def answer_request_key(
        self, scope: str, key: str, *, status_code: int, content_type: str | None, body: str
    ) -> None:
        with self._write() as conn:
            conn.execute(
                update(t.request_keys)
                .where(t.request_keys.c.scope == scope, t.request_keys.c.key == key)
                .values(status_code=status_code, content_type=content_type, body=body)
            )

    def release_request_key(self, scope: str, key: str) -> None:
        with self._write() as conn:
            conn.execute(
                delete(t.request_keys).where(
                    t.request_keys.c.scope == scope, t.request_keys.c.key == key
                )
            )
