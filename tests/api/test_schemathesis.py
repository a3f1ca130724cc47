"""schemathesis against the running server's OpenAPI document, stateful and bounded: no
server error, and every answer in the schema and media type its operation documents."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from tests.api.server import Server, running

CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("fuzz")
    with sqlite3.connect(folder / "shop.db") as db:
        db.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
        db.executemany("INSERT INTO customers VALUES (?, ?)", [(i, f"c{i}") for i in range(50)])
    document = {
        "connections": [{"id": "shop", "type": "sqlite", "url": f"sqlite:///{folder / 'shop.db'}"}],
        "migrations": [
            {
                "id": "nightly",
                "kind": "command",
                "command": "true",
                "schedule": {"cron": "0 2 * * *"},
            },
            {
                "id": "shop-copy",
                "kind": "copy",
                "source": {"connection": "shop"},
                "target": {"url": f"sqlite:///{folder / 'copy.db'}"},
            },
        ],
    }
    with running(folder) as found:
        with found.client() as admin:
            assert admin.post("/v1/migrations", json=document).status_code == 201
        yield found


@pytest.mark.slow
def test_the_api_answers_as_its_schema_says(server: Server) -> None:
    schema = schemathesis.openapi.from_url(f"{server.url}/v1/openapi.json")
    # a stream that follows a run until it ends, and keys the machine itself needs
    schema = schema.exclude(path_regex=r"(/progress/stream|/v1/keys.*)$")

    @schema.hook
    def filter_body(_ctx: Any, body: Any) -> bool:
        # no generated URL: nothing may make the server connect to an address off this host
        return "://" not in json.dumps(body, default=str)

    @schema.hook
    def filter_query(_ctx: Any, query: Any) -> bool:
        return "://" not in json.dumps(query, default=str)

    key = server.keys["admin"]

    class Machine(schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"headers": {"Authorization": f"Bearer {key}"}}

        def validate_response(self, response: Any, case: Any, **_kwargs: Any) -> None:
            case.validate_response(response, checks=CHECKS)

    Machine.run(
        settings=settings(
            max_examples=250,
            stateful_step_count=8,
            deadline=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
    )
    assert "Traceback" not in server.log.read_text()
