"""ASGI middleware: a cap on request bodies, and Idempotency-Key on every POST."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from moonshift.api.problems import FieldError, problem, status_of
from moonshift.app import Moonshift
from moonshift.errors import MoonshiftError

MAX_BODY_BYTES = 1 << 20  # a spec document is far smaller
MAX_KEY_LENGTH = 255
FORM = "application/x-www-form-urlencoded"


class BodyTooLarge(Exception):
    pass


async def _read_body(receive: Receive, limit: int) -> bytes:
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise BodyTooLarge("the client went away")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(f"the body is larger than {limit} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replaying(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    return receive


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None


class RequestBodies:
    """413 for a body over MAX_BODY_BYTES, by its Content-Length or as it streams in; 400
    for JSON whose escapes make half a character (a lone surrogate), which no store keeps.
    A JSON body sent as ``curl -d`` sends it (as a form, which this API never takes) is
    read as the JSON it is."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        length = _header(scope, b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            await _too_large(scope, send, self.limit)
            return
        try:
            body = await _read_body(receive, self.limit)
        except BodyTooLarge:
            await _too_large(scope, send, self.limit)
            return
        if _lone_surrogate(body):
            await _problem(
                scope, send, 400, "body", "holds a \\ud800-\\udfff escape alone (half a character)"
            )
            return
        if _header(scope, b"content-type") in (None, FORM) and body.lstrip()[:1] in (b"{", b"["):
            headers = [(k, v) for k, v in scope["headers"] if k.lower() != b"content-type"]
            scope = {**scope, "headers": [*headers, (b"content-type", b"application/json")]}
        await self.app(scope, _replaying(body), send)


def _lone_surrogate(body: bytes) -> bool:
    if b"\\ud" not in body.lower():
        return False
    try:
        json.dumps(json.loads(body), ensure_ascii=False).encode()
    except UnicodeEncodeError:
        return True
    except ValueError:  # not JSON: the route says so
        return False
    return False


async def _too_large(scope: Scope, send: Send, limit: int) -> None:
    response = problem(
        413,
        f"the request body is larger than {limit} bytes",
        instance=scope["path"],
        errors=[FieldError(field="body", reason=f"larger than {limit} bytes")],
    )
    await response({"type": "http"}, _replaying(b""), send)


class IdempotencyKeys:
    """A POST with ``Idempotency-Key``: the first answer is kept (in the state store) and
    replayed to a retry with the same key and request, with ``Idempotent-Replayed: true``;
    nothing runs twice. Keys are per caller (per bearer key) and kept 24 hours."""

    def __init__(self, app: ASGIApp, moonshift: Moonshift) -> None:
        self.app, self.moonshift = app, moonshift

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = _header(scope, b"idempotency-key") if scope["type"] == "http" else None
        if key is None or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
            await _problem(
                scope, send, 400, "Idempotency-Key", "must be 1 to 255 printable characters"
            )
            return
        body = await _read_body(receive, MAX_BODY_BYTES)
        caller = hashlib.sha256((_header(scope, b"authorization") or "").encode()).hexdigest()
        where = f"{scope['path']}?{scope.get('query_string', b'').decode('latin-1')}"
        fingerprint = hashlib.sha256(where.encode() + b"\n" + body).hexdigest()
        owner = f"key:{caller[:32]}"
        try:
            replay = await anyio.to_thread.run_sync(
                self.moonshift.idempotency.claim, owner, key, fingerprint
            )
        except MoonshiftError as exc:
            field = "Idempotency-Key" if status_of(exc) == 422 else None
            await _problem(scope, send, status_of(exc), field, str(exc))
            return
        if replay is not None:
            headers = [(b"idempotent-replayed", b"true")]
            if replay.content_type:
                headers.append((b"content-type", replay.content_type.encode()))
            await send(
                {"type": "http.response.start", "status": replay.status_code, "headers": headers}
            )
            await send({"type": "http.response.body", "body": replay.body.encode()})
            return
        await self._first(scope, body, send, owner, key)

    async def _first(self, scope: Scope, body: bytes, send: Send, owner: str, key: str) -> None:
        """Answer the first request with a key. The answer is kept before the client gets
        it: a client that retries the moment it has its answer gets it replayed, not a
        conflict with a request still being answered."""
        started: dict[str, Any] = {}
        chunks: list[bytes] = []
        messages: list[Message] = []

        async def keep(message: Message) -> None:
            if message["type"] == "http.response.start":
                started.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            messages.append(message)

        try:
            await self.app(scope, _replaying(body), keep)
        except BaseException:
            await anyio.to_thread.run_sync(self.moonshift.idempotency.release, owner, key)
            raise
        status = int(started.get("status", 500))
        if status >= 500 or status in (401, 403):
            await anyio.to_thread.run_sync(self.moonshift.idempotency.release, owner, key)
        else:
            content_type = next(
                (v.decode() for k, v in started.get("headers", []) if k.lower() == b"content-type"),
                None,
            )
            await anyio.to_thread.run_sync(
                lambda: self.moonshift.idempotency.answer(
                    owner,
                    key,
                    status_code=status,
                    content_type=content_type,
                    body=b"".join(chunks).decode("utf-8", errors="replace"),
                )
            )
        for message in messages:
            await send(message)


async def _problem(scope: Scope, send: Send, status: int, field: str | None, reason: str) -> None:
    errors = [FieldError(field=field, reason=reason)] if field else []
    response = problem(
        status, reason if not field else f"{field}: {reason}", instance=scope["path"], errors=errors
    )
    await response({"type": "http"}, _replaying(b""), send)
