"""Named connections in spec files, and the spec changes the REST API makes: refusals by
field, nothing written, and the spec as the one source of a migration's schedule."""

from __future__ import annotations

import pytest

from moonshift.app import Moonshift
from moonshift.app.migrations import merge_patch
from moonshift.errors import Conflict, InvalidInput, PreconditionFailed
from moonshift.specfile import SpecFileError

DOCUMENT = """\
connections:
  - {id: prod-db, type: postgresql, url: "postgresql://app:${PGPW}@db1/shop"}
migrations:
  - id: shop
    kind: copy
    source: {connection: prod-db}
    target: {url: "sqlite:///w.db"}
"""


def test_a_document_defines_connections_that_migrations_name(app: Moonshift) -> None:
    report = app.migrations.apply_document(DOCUMENT, actor="user:test")
    assert [(c.id, c.action) for c in report.connections] == [("prod-db", "created")]
    assert app.connections.get("prod-db").url == "postgresql://app:${PGPW}@db1/shop"
    assert app.migrations.get("shop").spec["source"] == {"connection": "prod-db"}
    with pytest.raises(Conflict, match="used by shop"):
        app.connections.delete("prod-db", actor="user:test")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            DOCUMENT.replace("connection: prod-db", "connection: nope"),
            'source.connection: no connection "nope"',
        ),
        (DOCUMENT.replace("${PGPW}", "hunter2"), "url: the password is written in plain text"),
        (
            DOCUMENT.replace("type: postgresql", "type: mysql"),
            "url: is a postgresql URL, but type is mysql",
        ),
        (DOCUMENT.replace("connections:", "conections:"), 'unknown key "conections"'),
    ],
)
def test_bad_connections_are_refused_by_field_and_nothing_is_written(
    app: Moonshift, text: str, problem: str
) -> None:
    with pytest.raises(SpecFileError) as refused:
        app.migrations.apply_document(text, actor="user:test")
    assert problem in str(refused.value)
    assert app.connections.list() == [] and app.migrations.list() == []


def test_a_patch_is_a_new_version_guarded_by_its_etag(app: Moonshift) -> None:
    app.migrations.apply_document("{id: job, kind: command, command: 'true'}", actor="user:test")
    etag = app.migrations.get("job").etag
    changed = app.migrations.patch("job", {"description": "x"}, actor="api:ci", if_match=etag)
    assert (changed.version, changed.changed) == (2, ["description"])
    with pytest.raises(PreconditionFailed):
        app.migrations.patch("job", {"description": "y"}, actor="api:ci", if_match=etag)
    with pytest.raises(InvalidInput, match="overlap"):
        app.migrations.patch("job", {"overlap": "sometimes"}, actor="api:ci", if_match=None)
    schedule = app.schedules.set("job", {"cron": "0 2 * * *"}, actor="api:ci")
    assert (schedule.kind, app.migrations.get("job").version) == ("cron", 3)
    moved = app.schedules.set(
        "job", {"start_at": "2099-01-01T00:00:00Z"}, actor="api:ci", merge=True
    )
    assert moved.schedule == {"start_at": "2099-01-01T00:00:00Z"}  # UTC, the default, unsaid


def test_merge_patch_follows_rfc_7396() -> None:
    assert merge_patch({"a": 1, "b": {"c": 2, "d": 3}}, {"b": {"c": None, "e": 4}, "f": [1]}) == {
        "a": 1,
        "b": {"d": 3, "e": 4},
        "f": [1],
    }
