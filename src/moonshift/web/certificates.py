"""A certified copy's certificate: download it (a signed DSSE envelope), read its summary
report, and verify a certificate offline against public keys."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, File, Request, Response, UploadFile

from moonshift.web.rendering import PageRoute, page
from moonshift.web.session import App, Reading, Viewer, acting

router = APIRouter(include_in_schema=False, route_class=PageRoute)
MAX_UPLOAD = 1 << 20
# Verifying reads nothing from the store and changes nothing: any reader may.
Verifying = Annotated[Viewer, Depends(acting("read"))]


@router.get("/migrations/{migration_id}/certificate")
def download(migration_id: str, app: App, _: Reading) -> Response:
    made = app.certificates.issue(migration_id)
    return Response(
        json.dumps(made.envelope, indent=2),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{migration_id}.certificate.json"'},
    )


@router.get("/migrations/{migration_id}/certificate/report")
def report(migration_id: str, app: App, _: Reading) -> Response:
    return Response(
        app.certificates.report(migration_id, "html"), media_type="text/html; charset=utf-8"
    )


@router.get("/verify")
def verify_form(request: Request, who: Reading) -> Response:
    return page(request, "verify.html", who, check=None)


@router.post("/verify")
async def verify(
    request: Request,
    app: App,
    who: Verifying,
    certificate: Annotated[UploadFile, File()],
    key: Annotated[UploadFile, File()],
) -> Response:
    check = app.certificates.verify(
        await certificate.read(MAX_UPLOAD), [await key.read(MAX_UPLOAD)]
    )
    return page(request, "verify.html", who, check=check)
