"""Named connections: defined once (``connections:`` in a spec file, or over the API) and
named by migrations (``source: {connection: prod-db}``); tested by id, or as a one-off URL
that is used for the test and never kept, logged or shown."""

from __future__ import annotations

import builtins
import time
from collections.abc import Mapping

from moonshift.app import views
from moonshift.app.context import Family
from moonshift.connectors.probe import unreachable
from moonshift.domain.secrets import REDACTED
from moonshift.domain.spec import CONNECTION_TYPES, ConnectionSpec, MigrationSpec, backend_of
from moonshift.errors import Conflict, InvalidInput


class Connections(Family):
    def list(self) -> list[views.Connection]:
        return [views.Connection.of(c) for c in self.ctx.store.list_connections()]

    def get(self, connection_id: str) -> views.Connection:
        return views.Connection.of(self.ctx.store.get_connection(connection_id))

    def put(
        self, spec: ConnectionSpec, *, actor: str, source_file: str | None = None
    ) -> views.ConnectionApplied:
        _record, action = self.ctx.store.put_connection(
            connection_id=spec.id,
            type_=spec.type,
            url=spec.url,
            name=spec.name or spec.id,
            actor=actor,
            now=self.ctx.clock.now(),
            source_file=source_file,
        )
        return views.ConnectionApplied(id=spec.id, action=action)

    def users(self, connection_id: str) -> builtins.list[str]:
        """The migrations that name the connection."""
        return [
            m.id
            for m in self.store.list_migrations()
            if connection_id in MigrationSpec.model_validate(m.spec).connection_names().values()
        ]

    def delete(self, connection_id: str, *, actor: str) -> views.Deleted:
        users = self.users(connection_id)
        if users:
            raise Conflict(f'connection "{connection_id}" is used by {", ".join(users)}')
        self.ctx.store.delete_connection(connection_id, actor=actor, now=self.ctx.clock.now())
        return views.Deleted(deleted=connection_id, cancelled_runs=[])

    def test(self, connection_id: str) -> views.ConnectionTest:
        """Connect with the connection's URL, its ``${ENV}`` references resolved here."""
        record = self.ctx.store.get_connection(connection_id)
        return _probe(record.url, self.ctx.environ, connection=connection_id)

    def test_url(self, type_: str, connection_string: str) -> views.ConnectionTest:
        """A one-off test of a URL that may hold a literal password: it is used for this
        test only, and the answer never repeats it."""
        if type_ not in CONNECTION_TYPES:
            raise InvalidInput(
                "type", f'unsupported database "{type_}"; one of {", ".join(CONNECTION_TYPES)}'
            )
        backend = backend_of(connection_string)
        if backend is None:
            raise InvalidInput(
                "connection_string", f"must be a URL like {type_}://user:password@host/database"
            )
        if backend != type_ and {backend, type_} != {"mysql", "mariadb"}:
            raise InvalidInput("connection_string", f"is a {backend} URL, but type is {type_}")
        found = _probe(connection_string, {}, connection=None)
        if found.reason and connection_string in found.reason:
            return found.model_copy(
                update={"reason": found.reason.replace(connection_string, REDACTED)}
            )
        return found


def _probe(url: str, environ: Mapping[str, str], *, connection: str | None) -> views.ConnectionTest:
    started = time.monotonic()
    reason = unreachable(url, environ, must_exist=True)
    return views.ConnectionTest(
        ok=reason is None,
        reason=reason,
        seconds=round(time.monotonic() - started, 3),
        connection=connection,
    )
