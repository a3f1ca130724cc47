"""The OpenAPI document of the API, printed: ``python -m moonshift.api.openapi``."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from moonshift.api.factory import create_app
from moonshift.app import Settings


def document() -> dict[str, Any]:
    """The document as the app serves it at /v1/openapi.json (no store is opened)."""
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(state_url=f"sqlite:///{folder}/unused.db", home=Path(folder))
        return create_app(settings).openapi()


if __name__ == "__main__":
    print(json.dumps(document(), indent=2, sort_keys=True))
