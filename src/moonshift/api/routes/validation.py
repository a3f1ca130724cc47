"""Validation of a copied migration: run it, read the newest one and its divergences; its
certificate and summary report."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from moonshift.api.auth import App, Operator, Reader
from moonshift.api.params import MigrationId
from moonshift.app import views

router = APIRouter(prefix="/v1/migrations/{migration_id}", tags=["validation"])


@router.post("/validate")
def validate(migration_id: MigrationId, app: App, who: Operator) -> views.ValidationReport:
    """Validate the copy now (structural, row-level, referential). Its latest run, when
    completed, moves to validating and ends certified or failed. `passed` says whether
    every perspective passed."""
    return app.validation.run(migration_id, actor=who.actor)


@router.get("/validation")
def validation(migration_id: MigrationId, app: App, _: Reader) -> views.ValidationReport:
    """The newest validation: per perspective its result, counts and divergences found."""
    return app.validation.latest(migration_id)


@router.get("/validation/divergences")
def divergences(
    migration_id: MigrationId,
    app: App,
    _: Reader,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    after: Annotated[int | None, Query(ge=0, description="`next` of the previous page")] = None,
) -> views.Page[views.Divergence]:
    """The newest validation's divergences, in the order found, a page at a time; each
    with its key and both sides' values (redacted columns masked)."""
    return app.validation.divergences(migration_id, limit=limit, after=after)


@router.get("/certificate")
def certificate(migration_id: MigrationId, app: App, _: Reader) -> views.Certificate:
    """The certificate of the newest validation (it passed and certified its run): the DSSE
    envelope signed with the server's signing key (`moonshift keys init-signing` in its
    home), the statement inside it and the signers' key ids."""
    return app.certificates.issue(migration_id)


@router.get(
    "/report",
    response_class=Response,
    responses={
        200: {
            "content": {"text/markdown": {}, "text/html": {}},
            "description": "the certificate's summary report",
        }
    },
)
def report(
    migration_id: MigrationId,
    app: App,
    _: Reader,
    format: Annotated[Literal["markdown", "html"], Query(description="markdown or html")] = (
        "markdown"
    ),
) -> Response:
    """The summary report of the certificate, as Markdown or as a page of HTML."""
    body = app.certificates.report(migration_id, format)
    media = "text/html" if format == "html" else "text/markdown"
    return Response(content=body, media_type=f"{media}; charset=utf-8")
