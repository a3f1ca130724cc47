"""The REST API as a client sees it, against a real `moonshift serve --with-daemon`: keys and
scopes, bad input that changes nothing, Idempotency-Key, signed webhooks, ETags, schedules,
the calendar feed around a DST change, metrics, and a graceful stop."""

from __future__ import annotations

import json
import signal
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from icalendar import Calendar
from sqlalchemy import text
from standardwebhooks import Webhook

from moonshift.domain.signatures import sign
from tests.api.server import Server, running, wait_for

SECRET = "s3cret-trigger-value"
SPECS = {
    "migrations": [
        {"id": "quick", "kind": "command", "command": "true"},
        {"id": "slow", "kind": "command", "command": "sleep 60"},
        {
            "id": "hooked",
            "kind": "command",
            "command": "true",
            "trigger": {"type": "webhook", "secret": "${TRIGGER_SECRET}"},
        },
        {
            "id": "standard",
            "kind": "command",
            "command": "true",
            "trigger": {"type": "webhook", "secret": "${STANDARD_SECRET}"},
        },
        {
            "id": "weekly",
            "kind": "command",
            "command": "true",
            "schedule": {"cron": "0 9 * * 1", "timezone": "America/New_York"},
            "windows": [{"name": "mornings", "days": ["monday"], "start": "08:00", "end": "12:00"}],
        },
    ]
}
STANDARD_SECRET = "whsec_" + "c2VjcmV0LWJ5dGVzLWZvci1zdGFuZGFyZC13ZWJob29rcw=="


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("api")
    env = {"TRIGGER_SECRET": SECRET, "STANDARD_SECRET": STANDARD_SECRET}
    with running(folder, with_daemon=True, env=env) as found:
        with found.client() as admin:
            assert admin.post("/v1/migrations", json=SPECS).status_code == 201
        wait_for(lambda: _daemons(found), "the daemon of serve --with-daemon")
        yield found


def _daemons(server: Server) -> bool:
    with server.client("read") as c:
        return bool(c.get("/v1/daemons").json()["items"])


def _counts(server: Server) -> dict[str, int]:
    store = server.store()
    tables = ("migrations", "runs", "connections", "request_keys", "api_keys")
    with store.engine.connect() as conn:
        found = {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in tables}
        # the daemon goes on writing its runs' steps; what a request writes is by api:NAME
        query = "SELECT count(*) FROM audit_log WHERE actor LIKE 'api:%'"
        found["audit_log"] = conn.execute(text(query)).scalar_one()
    store.close()
    return found


def _runs(server: Server, migration: str) -> list[dict[str, object]]:
    with server.client("read") as c:
        items: list[dict[str, object]] = c.get(f"/v1/migrations/{migration}/runs").json()["items"]
        return items


def _start_when_idle(server: Server, client: httpx.Client, migration: str) -> httpx.Response:
    """A start once the migration's earlier runs have ended (a manual run runs alone)."""
    ended = ("completed", "failed", "cancelled", "certified")
    wait_for(lambda: all(r["state"] in ended for r in _runs(server, migration)), "an idle run")
    return client.post(f"/v1/migrations/{migration}/start")


def _problem(response: httpx.Response, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, object] = response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    return body


def test_keys_scopes_and_the_actor_in_the_audit_log(server: Server) -> None:
    with server.client(None) as anonymous:
        assert _problem(anonymous.get("/v1/migrations"), 401)["detail"].startswith("an API key")
        assert anonymous.get("/healthz").status_code == 200
        assert anonymous.get("/readyz").json() == {"status": "ok", "store": "sqlite"}
        wrong = anonymous.get("/v1/migrations", headers={"Authorization": "Bearer ms_nope"})
        assert _problem(wrong, 401)["detail"] == "unknown or revoked API key"
    with server.client("read") as reader:
        assert reader.get("/v1/migrations").status_code == 200
        refused = reader.post("/v1/migrations/quick/start")
        assert "has scope read; this needs operate" in str(_problem(refused, 403)["detail"])
    with server.client("feed") as feed:
        assert _problem(feed.get("/v1/migrations"), 403)
        assert feed.get("/v1/calendar/migrations.ics").status_code == 200
    with server.client("operate") as operator:
        run = _start_when_idle(server, operator, "quick")
        assert run.status_code == 202 and run.json()["created_by"] == "api:operate"
        assert _problem(operator.post("/v1/keys", json={"name": "x", "scope": "read"}), 403)
    with server.client("admin") as admin:
        made = admin.post("/v1/keys", json={"name": "ci", "scope": "operate"}).json()
        listed = admin.get("/v1/keys").json()["items"]
        assert made["key"] not in json.dumps(listed)
        ci = {"Authorization": f"Bearer {made['key']}"}
        with server.client(None) as as_ci:
            as_ci.headers.update(ci)
            assert _start_when_idle(server, as_ci, "quick").json()["created_by"] == "api:ci"
        assert admin.delete("/v1/keys/ci").json()["revoked_at"]
        assert _problem(admin.get("/v1/migrations", headers=ci), 401)
        history = admin.get("/v1/migrations/quick/history").json()["items"]
        assert {"api:ci", "api:operate"} <= {e["actor"] for e in history}


BAD_REQUESTS = [
    ("POST", "/v1/migrations", {"content": b'{"id": "x", "kind":'}, 400, "body"),
    ("POST", "/v1/migrations", {"content": b"\xff\xfe"}, 400, "body"),
    ("POST", "/v1/migrations/quick/pause", {"content": b'{"reason": "\\udb35"}'}, 400, "body"),
    (
        "POST",
        "/v1/migrations",
        {"json": {"id": "x", "kind": "command", "comand": "true"}},
        422,
        "comand",
    ),
    (
        "POST",
        "/v1/migrations",
        {"json": {"id": "../../etc/passwd", "kind": "command", "command": "true"}},
        422,
        "id",
    ),
    (
        "POST",
        "/v1/migrations",
        {"json": {"id": "x", "kind": "command", "command": "true", "enabled": "sometimes"}},
        422,
        "enabled",
    ),
    ("POST", "/v1/migrations", {"content": b"[" + b" " * (2 << 20) + b"]"}, 413, "body"),
    (
        "POST",
        "/v1/migrations/weekly/schedule",
        {"json": {"start_at": "2026-02-03T02:00:00Z", "bogus": 1}},
        422,
        "bogus",
    ),
    ("POST", "/v1/migrations/weekly/schedule", {"json": {"start_at": "tomorrow"}}, 422, "start_at"),
    (
        "POST",
        "/v1/migrations/weekly/schedule",
        {"json": {"start_at": "2026-02-03T02:00:00Z", "timezone": "Mars/Base"}},
        422,
        "schedule.timezone",
    ),
    ("PATCH", "/v1/migrations/weekly", {"json": {"overlap": "sometimes"}}, 422, "overlap"),
    ("PATCH", "/v1/migrations/weekly", {"json": {"id": "other"}}, 422, "id"),
    ("PATCH", "/v1/migrations/quick/config", {"json": {"batch_size": "lots"}}, 422, "batch_size"),
    ("POST", "/v1/migrations/quick/rollback", {"json": {"strategy": 5}}, 422, "strategy"),
    (
        "POST",
        "/v1/migrations/quick/errors/1/resolve",
        {"json": {"resolution": "skip"}},
        422,
        "reason",
    ),
    (
        "POST",
        "/v1/connections",
        {"json": {"id": "db", "type": "postgresql", "url": "postgresql://u:hunter2@h/d"}},
        422,
        "url",
    ),
    ("POST", "/v1/connections/test", {"json": {"type": "snowflake", "account": "x"}}, 422, None),
    ("POST", "/v1/events", {"json": {"type": ""}}, 422, "type"),
    ("GET", "/v1/migrations/%2E%2E", {}, 422, "migration_id"),
    ("GET", "/v1/migrations/..%2F..%2Fetc%2Fpasswd", {}, 404, None),
    ("GET", "/v1/runs/..%2F1/logs", {}, 404, None),
    ("GET", "/v1/runs/-1", {}, 422, "run_id"),
    ("DELETE", "/v1/connections/%2E%2E%2F%2E%2E", {}, 404, None),
    ("GET", "/v1/migrations?limit=0", {}, 422, "limit"),
    ("GET", "/v1/nowhere", {}, 404, None),
]


@pytest.mark.parametrize(
    ("method", "path", "send", "status", "field"),
    BAD_REQUESTS,
    ids=[f"{m} {p[:40]} {s}" for m, p, _, s, _ in BAD_REQUESTS],
)
def test_bad_input_is_a_4xx_problem_that_names_the_field_and_writes_nothing(
    server: Server, method: str, path: str, send: dict[str, object], status: int, field: str | None
) -> None:
    before = _counts(server)
    with server.client() as admin:
        response = admin.request(method, path, **send)  # type: ignore[arg-type]
    body = _problem(response, status)
    if field is not None:
        errors = body["errors"]
        assert isinstance(errors, list) and field in [e["field"] for e in errors], body
    assert "hunter2" not in response.text
    assert _counts(server) == before


def test_a_second_start_while_a_run_is_active_is_a_conflict_naming_it(server: Server) -> None:
    with server.client("operate") as operator:
        first = operator.post("/v1/migrations/slow/start")
        assert first.status_code == 202
        second = operator.post("/v1/migrations/slow/start")
        detail = str(_problem(second, 409)["detail"])
        assert f'"slow" already has run {first.json()["id"]}, ' in detail
        assert operator.post(f"/v1/runs/{first.json()['id']}/cancel").status_code == 200
    assert len(_runs(server, "slow")) == 1


def test_an_idempotent_post_retried_five_times_starts_one_run(server: Server) -> None:
    key = {"Idempotency-Key": str(uuid.uuid4())}
    before = len(_runs(server, "quick"))
    ended = ("completed", "failed", "cancelled")
    wait_for(lambda: all(r["state"] in ended for r in _runs(server, "quick")), "an idle run")
    with server.client("operate") as operator:
        answers = [operator.post("/v1/migrations/quick/start", headers=key) for _ in range(5)]
        assert [a.status_code for a in answers] == [202] * 5
        assert len({a.json()["id"] for a in answers}) == 1
        assert [a.headers.get("idempotent-replayed") for a in answers] == [None] + ["true"] * 4
        other = operator.post("/v1/migrations/hooked/start", headers=key)
        assert "different request" in str(_problem(other, 422)["detail"])
    assert len(_runs(server, "quick")) == before + 1


def _signed(
    secret: str, body: bytes, *, at: int | None = None, message_id: str | None = None
) -> dict[str, str]:
    at = int(time.time()) if at is None else at
    message_id = message_id or f"msg_{uuid.uuid4().hex}"
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(at),
        "webhook-signature": sign(secret, message_id, at, body),
        "content-type": "application/json",
    }


def test_webhooks_start_one_run_only_when_signed_fresh_and_new(server: Server) -> None:
    body = b'{"ref": "refs/heads/main"}'
    before = len(_runs(server, "hooked"))
    with server.client(None) as sender:
        trigger = "/v1/migrations/hooked/trigger"
        bad = _signed("wrong-secret", body)
        assert "does not match" in str(
            _problem(sender.post(trigger, content=body, headers=bad), 401)["detail"]
        )
        old = _signed(SECRET, body, at=int(time.time()) - 600)
        assert "5 minutes" in str(
            _problem(sender.post(trigger, content=body, headers=old), 401)["detail"]
        )
        tampered = _signed(SECRET, body)
        assert _problem(sender.post(trigger, content=body + b" ", headers=tampered), 401)
        assert _problem(sender.post(trigger, content=body), 401)
        good = _signed(SECRET, body)
        first = sender.post(trigger, content=body, headers=good)
        assert first.status_code == 202 and first.json()["trigger"] == "EVENT"
        assert "delivered before" in str(
            _problem(sender.post(trigger, content=body, headers=good), 409)["detail"]
        )
        assert _problem(
            sender.post("/v1/migrations/quick/trigger", content=body, headers=good), 404
        )
    assert len(_runs(server, "hooked")) == before + 1
    run = wait_for(
        lambda: next((r for r in _runs(server, "hooked") if r["state"] == "completed"), None),
        "the webhook's run",
    )
    assert isinstance(run, dict) and run["created_by"] == "webhook:hooked"


def test_a_standard_webhooks_library_sender_is_understood(server: Server) -> None:
    body = b'{"event": "deployed"}'
    message_id, now = f"msg_{uuid.uuid4().hex}", datetime.now(UTC)
    signature = Webhook(STANDARD_SECRET).sign(message_id, now, body.decode())
    headers = {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature,
    }
    with server.client(None) as sender:
        assert (
            sender.post(
                "/v1/migrations/standard/trigger", content=body, headers=headers
            ).status_code
            == 202
        )


def test_etag_guards_a_patch_and_schedules_follow_the_seed(server: Server) -> None:
    with server.client() as admin:
        shown = admin.get("/v1/migrations/weekly")
        etag = shown.headers["etag"]
        changed = admin.patch(
            "/v1/migrations/weekly", json={"description": "Mondays"}, headers={"If-Match": etag}
        )
        assert changed.status_code == 200 and changed.headers["etag"] != etag
        stale = admin.patch(
            "/v1/migrations/weekly", json={"description": "lost"}, headers={"If-Match": etag}
        )
        assert _problem(stale, 412)
        assert admin.get("/v1/migrations/weekly").json()["migration"]["description"] == "Mondays"
        assert (
            admin.post(
                "/v1/migrations/quick/schedule",
                json={"start_at": "2026-02-03T02:00:00Z", "timezone": "America/New_York"},
            ).json()["kind"]
            == "start_at"
        )
        moved = admin.patch(
            "/v1/migrations/quick/schedule", json={"start_at": "2099-02-04T02:00:00Z"}
        ).json()
        assert (moved["timezone"], moved["next_fire_at"]) == (
            "America/New_York",
            "2099-02-04T02:00:00+00:00",
        )
        assert admin.delete("/v1/migrations/quick/schedule").status_code == 200
        assert _problem(admin.get("/v1/migrations/quick/schedule"), 404)


def test_the_calendar_is_dst_correct_in_new_york_with_stable_uids(server: Server) -> None:
    with server.client("feed") as feed:
        first = feed.get("/v1/calendar/migrations.ics", params={"days": 366})
    with server.client(None) as app:
        again = app.get(
            "/v1/calendar/migrations.ics", params={"days": 366, "token": server.keys["read"]}
        )
        refused = app.get("/v1/calendar/migrations.ics", params={"token": server.keys["admin"]})
        assert "must be read-only" in str(_problem(refused, 403)["detail"])
    assert first.headers["content-type"].startswith("text/calendar")
    calendar = Calendar.from_ical(first.content)
    assert [z["TZID"] for z in calendar.walk("VTIMEZONE")] == ["America/New_York"]
    runs = [e for e in calendar.walk("VEVENT") if str(e["UID"]).startswith("weekly.run.")]
    starts = [e.decoded("DTSTART") for e in runs]
    assert len(starts) >= 40
    assert {(s.hour, s.minute, s.weekday()) for s in starts} == {(9, 0, 0)}
    assert {s.utcoffset() for s in starts} == {timedelta(hours=-5), timedelta(hours=-4)}
    assert {str(s.tzinfo) for s in starts} == {"America/New_York"}
    uids = lambda ics: sorted(str(e["UID"]) for e in Calendar.from_ical(ics).walk("VEVENT"))  # noqa: E731
    assert uids(first.content) == uids(again.content)
    assert any(str(e["UID"]).startswith("weekly.window.") for e in calendar.walk("VEVENT"))


def test_metrics_come_from_the_store(server: Server) -> None:
    # a completed run of its own: the tests that complete others may run in another process
    with server.client("operate") as operator:
        started = _start_when_idle(server, operator, "quick")
        assert started.status_code in (200, 201, 202), started.text
    run = started.json()["id"]
    wait_for(
        lambda: any(r["id"] == run and r["state"] == "completed" for r in _runs(server, "quick")),
        "the quick run to complete",
    )
    with server.client("read") as reader:
        text_ = reader.get("/metrics").text
    assert 'moonshift_runs{state="completed"}' in text_
    assert "moonshift_daemons 1.0" in text_
    assert 'moonshift_window_open{migration="weekly"}' in text_


def test_serve_stops_gracefully_on_sigterm(tmp_path: Path) -> None:
    with running(tmp_path, with_daemon=True) as server:
        wait_for(lambda: _daemons(server), "the daemon")
        # uvicorn re-raises the signal once it has shut down, as servers under systemd do
        assert server.stop() in (0, -signal.SIGTERM)
    assert "Application shutdown complete" in server.log.read_text()
    store = server.store()
    assert store.live_daemons(datetime.now(UTC)) == []  # the scheduler thread left cleanly
    store.close()
