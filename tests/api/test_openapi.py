"""The committed OpenAPI document is the app's: an API change shows in review as a diff of
docs/openapi.json (regenerate it with `python -m moonshift.api.openapi > docs/openapi.json`)."""

from __future__ import annotations

import json
from pathlib import Path

from moonshift.api.openapi import document

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


def test_the_committed_openapi_document_is_the_apps() -> None:
    assert json.loads(COMMITTED.read_text()) == document(), (
        "the API changed: python -m moonshift.api.openapi > docs/openapi.json, and review it"
    )


def test_every_operation_documents_its_problems_and_a_key_but_health() -> None:
    found = document()
    assert found["openapi"].startswith("3.1")
    for path, operations in found["paths"].items():
        for method, operation in operations.items():
            assert "422" in operation["responses"], (method, path)
            assert "application/problem+json" in operation["responses"]["422"]["content"]
            keyless = path in ("/healthz", "/readyz") or path.endswith("/trigger")
            assert bool(operation.get("security")) != keyless, (method, path)
