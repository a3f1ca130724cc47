"""The outbox: events written with their cause, routed by the migration's rules, delivered
to a real HTTP receiver, signed as Standard Webhooks, retried, in order per channel."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from pathlib import Path

import pytest
from standardwebhooks.webhooks import Webhook

from moonshift.app import Moonshift
from moonshift.domain.lifecycle import State
from moonshift.engine.outbox import Dispatcher
from moonshift.errors import InvalidInput
from moonshift.store.records import Trigger
from tests.helpers import FakeClock
from tests.notify.receiver import Receiver

SECRET = "whsec_" + base64.b64encode(b"a secret of thirty-two bytes!!!!").decode()
ENV = {"HOOK_SECRET": SECRET}


def spec(url: str, on: str = "[failed]") -> str:
    return f"""
channels:
  - {{id: hook, type: webhook, url: "{url}/hook", secret: "${{HOOK_SECRET}}"}}
  - {{id: chat, type: slack, url: "{url}/slack"}}
notify:
  - {{channel: hook, on: {on}}}
migrations:
  - id: job
    kind: steps
    steps: {{count: 1}}
  - id: quiet
    kind: steps
    steps: {{count: 1}}
    notify: []
"""


@pytest.fixture
def wired(app: Moonshift, hook: Receiver) -> Moonshift:
    app.ctx.environ = ENV
    app.migrations.apply_document(spec(hook.url), actor="user:test")
    return app


def dispatcher(app: Moonshift, environ: dict[str, str] | None = None) -> Dispatcher:
    return Dispatcher(app.store, app.clock, ENV if environ is None else environ)


def fail_a_run(app: Moonshift, migration: str = "job") -> int:
    now = app.clock.now()
    nominal = now + timedelta(microseconds=len(app.store.list_runs(migration)))
    run = app.store.create_run(
        migration, trigger=Trigger.MANUAL, nominal_time=nominal, actor="user:test", now=now
    )
    for state in (State.ANALYZING, State.FAILED):
        app.store.transition_run(run.id, state, actor="user:test", now=now, reason="exit code 3")
    return run.id


def test_every_transition_is_in_the_outbox_with_its_cause(wired: Moonshift) -> None:
    run_id = fail_a_run(wired)
    kinds = [e.kind for e in reversed(wired.store.events_of("job"))]
    assert kinds == ["created", "analyzing", "failed"]
    assert {e.run_id for e in wired.store.events_of("job")} == {run_id}
    steps = [h.action for h in wired.store.history("job", run_id=run_id) if h.to_state]
    assert len(steps) == len(kinds)  # one event per audited step, written together


def test_a_failed_run_sends_one_signed_webhook_that_verifies(
    wired: Moonshift, hook: Receiver
) -> None:
    run_id = fail_a_run(wired)
    fail_a_run(wired, "quiet")  # its own empty notify: [] overrides the file's default
    sender = dispatcher(wired)
    while sender.pass_once():
        pass
    [request] = hook.on("/hook")
    payload = Webhook(SECRET).verify(request.body, request.headers)
    assert payload["type"] == "failed"
    assert payload["data"]["run_id"] == run_id
    assert payload["data"]["summary"] == f"job: run {run_id} failed: exit code 3"
    assert request.headers["webhook-id"].startswith("msg_")
    log = wired.notifications.log("job")
    [failed] = [e for e in log if e.kind == "failed"]
    assert [(d.channel, d.status, d.attempts) for d in failed.deliveries] == [
        ("hook", "delivered", 1)
    ]
    assert all(not e.deliveries for e in log if e.kind != "failed")
    assert hook.on("/slack") == []


def test_429_with_retry_after_waits_and_never_drops(
    wired: Moonshift, hook: Receiver, clock: FakeClock
) -> None:
    hook.scripted["/hook"] = [(429, {"retry-after": "7"}), (429, {"retry-after": "7"})]
    fail_a_run(wired)
    fail_a_run(wired)
    sender = dispatcher(wired)
    sender.pass_once()
    assert hook.on("/hook") == []
    [pending] = [d for e in wired.notifications.log("job") for d in e.deliveries][-1:]
    assert pending.status == "pending" and pending.attempts == 0  # waiting is not failing
    sender.pass_once()
    assert hook.on("/hook") == []  # not before Retry-After
    clock.advance(8)
    sender.pass_once()
    assert hook.on("/hook") == []  # the second 429
    clock.advance(8)
    sender.pass_once()
    delivered = hook.on("/hook")
    assert [json.loads(r.body)["data"]["run_id"] for r in delivered] == sorted(
        json.loads(r.body)["data"]["run_id"] for r in delivered
    )
    assert len(delivered) == 2


def test_a_refusal_gives_up_and_a_server_error_backs_off(
    wired: Moonshift, hook: Receiver, clock: FakeClock
) -> None:
    hook.scripted["/hook"] = [(500, {}), (410, {})]
    fail_a_run(wired)
    sender = dispatcher(wired)
    sender.pass_once()
    clock.advance(4)
    sender.pass_once()
    [delivery] = [d for e in wired.notifications.log("job") for d in e.deliveries]
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert delivery.last_error == "the receiver answered 500: ok"
    clock.advance(2)
    sender.pass_once()
    [delivery] = [d for e in wired.notifications.log("job") for d in e.deliveries]
    assert (delivery.status, delivery.attempts) == ("failed", 2)
    assert hook.on("/hook") == []


def test_routing_happens_once_however_often_it_is_asked(wired: Moonshift, hook: Receiver) -> None:
    fail_a_run(wired)
    [event] = [e for e in wired.store.events_of("job") if e.kind == "failed"]
    assert event.id is not None
    assert wired.store.route_events({event.id: ["hook"]}, now=wired.clock.now()) == 1
    assert wired.store.route_events({event.id: ["hook", "chat"]}, now=wired.clock.now()) == 0
    assert len(wired.store.deliveries_of([event.id])) == 1


def test_spec_errors_name_the_field(app: Moonshift, tmp_path: Path) -> None:
    cases = {
        'channels: [{id: h, type: webhook, url: "http://127.0.0.1:9/x", secret: plain}]': "secret: must be an environment reference",
        'channels: [{id: s, type: slack, url: "https://hooks.slack.com/services/T0/B0/abc"}]': "url: holds the Slack webhook's token in plain text",
        "channels: [{id: e, type: email, host: smtp.example.com, to: [a@example.com]}]": "from: is required for a email channel",
        "notify: [{channel: x, on: [explode]}]\nmigrations: [{id: a, kind: steps, steps: {count: 1}}]": 'notify[0].on: unknown event "explode"',
        "migrations: [{id: a, kind: steps, steps: {count: 1}, notify: [{channel: nowhere}]}]": 'notify[0].channel: no channel "nowhere"',
    }
    for text, expected in cases.items():
        with pytest.raises(InvalidInput) as caught:
            app.migrations.apply_document(text, actor="user:test")
        assert expected in str(caught.value), text
    assert app.store.list_channels() == []
    assert app.store.list_migrations() == []


def test_skips_reach_every_channel_with_notify_on_skip(app: Moonshift, hook: Receiver) -> None:
    app.ctx.environ = ENV
    app.migrations.apply_document(
        f"""
channels: [{{id: hook, type: webhook, url: "{hook.url}/hook", secret: "${{HOOK_SECRET}}"}}]
migrations:
  - id: often
    kind: steps
    steps: {{count: 1}}
    notify_on_skip: true
    notify: [{{channel: hook, on: [failed]}}]
""",
        actor="user:test",
    )
    from moonshift.domain.notices import Notice

    app.store.emit(
        Notice(kind="skipped", at=app.clock.now(), migration_id="often", reason="still running")
    )
    assert dispatcher(app).targets(app.store.unrouted_events()[-1]) == ["hook"]
    assert app.store.unrouted_events()[-1].at <= app.clock.now() + timedelta(seconds=1)


def test_status_shows_window_ending_pauses_and_resumes(wired: Moonshift) -> None:
    now = wired.clock.now()
    run = wired.store.create_run(
        "job", trigger=Trigger.MANUAL, nominal_time=now, actor="t", now=now
    )
    path = (State.ANALYZING, State.PLANNING, State.AWAITING_APPROVAL, State.APPROVED, State.RUNNING)
    for state in path:
        wired.store.transition_run(run.id, state, actor="t", now=now, reason="job started")
    wired.store.record_event(
        now=now,
        migration_id="job",
        event_type="window_ending",
        outcome="warned",
        run_id=run.id,
        reason="window closes at 2026-01-05T13:00:00+00:00",
    )
    wired.store.transition_run(run.id, State.PAUSED, actor="t", now=now, reason="window_closed")
    wired.store.transition_run(run.id, State.RUNNING, actor="t", now=now, reason="window opened")
    status = wired.copies.status("job")
    assert [e.kind for e in reversed(status.events)] == [
        "started",
        "window_ending",
        "paused",
        "resumed",
    ]
    assert status.events[1].summary == f"job: run {run.id} paused: window_closed"
