"""Errors as RFC 9457 problem details (``application/problem+json``): moonshift's error kinds,
FastAPI's validation errors and routing errors each get their status, and the field and
reason when there is one. A client's mistake is never a 500."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from moonshift.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    MoonshiftError,
    NotFound,
    PreconditionFailed,
    TerminalError,
    TransientError,
    Unauthenticated,
    Unavailable,
)
from moonshift.specfile import SpecFileError

log = logging.getLogger("moonshift.api")
MEDIA_TYPE = "application/problem+json"

# Most specific first: PreconditionFailed is a Conflict.
STATUSES: Sequence[tuple[type[MoonshiftError], int]] = (
    (InvalidInput, 422),
    (NotFound, 404),
    (PreconditionFailed, 412),
    (Conflict, 409),
    (Unauthenticated, 401),
    (Forbidden, 403),
    (Unavailable, 503),
    (TransientError, 503),
    (TerminalError, 409),
)
TITLES: Mapping[int, str] = {
    400: "Bad request",
    401: "Unauthenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    412: "Precondition failed",
    413: "Request too large",
    415: "Unsupported media type",
    422: "Invalid input",
    428: "Precondition required",
    500: "Internal error",
    503: "Unavailable",
}


class MalformedBody(Exception):
    """A body that cannot be read at all (not JSON, not UTF-8): 400, naming the body."""


class FieldError(BaseModel):
    field: str | None
    reason: str
    line: int | None = None


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    field: str | None = None  # the field at fault, when there is one
    errors: list[FieldError] = []


def problem(
    status: int,
    detail: str,
    *,
    instance: str | None = None,
    errors: Sequence[FieldError] = (),
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    title = TITLES.get(status, "Error")
    body = Problem(
        type=f"urn:moonshift:problem:{title.lower().replace(' ', '-')}",
        title=title,
        status=status,
        detail=detail,
        instance=instance,
        field=errors[0].field if len(errors) == 1 else None,
        errors=list(errors),
    )
    return JSONResponse(
        body.model_dump(mode="json"), status_code=status, media_type=MEDIA_TYPE, headers=headers
    )


def status_of(exc: MoonshiftError) -> int:
    return next((code for kind, code in STATUSES if isinstance(exc, kind)), 500)


def _moonshift_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, MoonshiftError)
    status = status_of(exc)
    errors: list[FieldError] = []
    if isinstance(exc, SpecFileError):
        errors = [
            FieldError(field=p.path or None, reason=p.reason, line=p.line) for p in exc.problems
        ]
    elif isinstance(exc, InvalidInput):
        errors = [FieldError(field=exc.field, reason=exc.reason)]
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return problem(status, str(exc), instance=request.url.path, errors=errors, headers=headers)


def _malformed(request: Request, exc: Exception) -> JSONResponse:
    return problem(
        400,
        f"body: {exc}",
        instance=request.url.path,
        errors=[FieldError(field="body", reason=str(exc))],
    )


def _dotted(loc: Sequence[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    found = list(exc.errors())
    if any(e.get("type") == "json_invalid" for e in found):
        reason = next(e for e in found if e.get("type") == "json_invalid").get("ctx", {})
        why = reason.get("error", "not valid JSON") if isinstance(reason, dict) else reason
        return problem(
            400,
            f"body: not valid JSON ({why})",
            instance=request.url.path,
            errors=[FieldError(field="body", reason=f"not valid JSON ({why})")],
        )
    errors = [FieldError(field=_dotted(e.get("loc", ())), reason=_reason(e)) for e in found]
    detail = "; ".join(f"{e.field}: {e.reason}" for e in errors)
    return problem(422, detail, instance=request.url.path, errors=errors)


def _reason(error: Mapping[str, Any]) -> str:
    kind = error.get("type")
    if kind == "extra_forbidden":
        return "unknown field"
    if kind == "missing":
        return "is required"
    return str(error.get("msg", "is not valid")).removeprefix("Value error, ")


def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else TITLES.get(exc.status_code, "Error")
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"no such resource: {request.url.path}"
    return problem(exc.status_code, detail, instance=request.url.path, headers=exc.headers)


def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("%s %s failed", request.method, request.url.path)
    return problem(500, "internal error; the server log has the details", instance=request.url.path)


def install(app: FastAPI) -> None:
    app.add_exception_handler(MoonshiftError, _moonshift_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(MalformedBody, _malformed)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)


# What every route may answer besides its success: documented once, for the OpenAPI document.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": Problem, "content": {MEDIA_TYPE: {}}, "description": TITLES[code]}
    for code in (400, 401, 403, 404, 409, 412, 413, 422, 503)
}
