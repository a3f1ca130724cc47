"""Notifications, as a spec writes them and as the outbox keeps them: the events anyone may
need to hear about, the channels that carry them, and the rules that route one to the other.

Pure: what an event is called and how severe it is, which channels a migration's rules name
for it, and what it says to people. The store writes events; ``notify/`` delivers them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from moonshift.domain.lifecycle import State
from moonshift.domain.secrets import is_reference, references
from moonshift.domain.spec_base import Duration, FieldProblem, Slug, SpecModel, Whole

# Every event a rule may name (``notify: [{channel, on: [...]}]``), and how loud it is.
EVENTS: Mapping[str, str] = {
    # a run's lifecycle
    "created": "info",
    "analyzing": "info",
    "planning": "info",
    "awaiting_approval": "info",
    "approved": "info",
    "started": "info",
    "paused": "warning",
    "resumed": "info",
    "completed": "info",
    "validating": "info",
    "certified": "info",
    "failed": "critical",
    "cancelled": "warning",
    # the scheduler
    "skipped": "warning",
    "missed": "warning",
    "window_ending": "warning",
    "preflight_ok": "info",
    "preflight_failed": "critical",
    "starting_soon": "info",
    # the work
    "approval_needed": "warning",
    "validated": "info",
    "error_escalated": "critical",
    "unavailable": "critical",
    "daemon_lost": "critical",
    "alert": "critical",
    "errors_cleared": "info",
    # ``moonshift notify test CHANNEL``
    "test": "info",
}
ALL = "all"
# What the daemon's log and ``status`` show of a migration, beside its state: not every
# step of a run, but what an operator watches for.
NOTABLE: frozenset[str] = frozenset(
    {
        "started",
        "paused",
        "resumed",
        "completed",
        "failed",
        "cancelled",
        "certified",
        "skipped",
        "missed",
        "window_ending",
        "preflight_failed",
        "starting_soon",
        "approval_needed",
        "unavailable",
        "error_escalated",
        "daemon_lost",
        "alert",
    }
)

# The step from one state to another, as an event; every transition has one.
_BY_STATE: Mapping[State, str] = {
    State.CREATED: "created",
    State.ANALYZING: "analyzing",
    State.PLANNING: "planning",
    State.AWAITING_APPROVAL: "awaiting_approval",
    State.APPROVED: "approved",
    State.RUNNING: "started",
    State.PAUSED: "paused",
    State.COMPLETED: "completed",
    State.VALIDATING: "validating",
    State.CERTIFIED: "certified",
    State.FAILED: "failed",
    State.CANCELLED: "cancelled",
}

# (trigger event type, outcome) -> event; ``None`` as outcome matches any.
_BY_TRIGGER_EVENT: Mapping[tuple[str, str | None], str] = {
    ("window_ending", None): "window_ending",
    ("preflight", "ok"): "preflight_ok",
    ("preflight", "failed"): "preflight_failed",
    ("preflight", "announced"): "preflight_failed",
    ("preflight", "notice"): "starting_soon",
    ("SCHEDULED", "skipped"): "skipped",
    ("SCHEDULED", "dropped"): "missed",
}


def transition_event(from_state: State | None, to_state: State) -> str:
    """The event a run's move to ``to_state`` is (a paused run running again resumed)."""
    if to_state is State.RUNNING and from_state is State.PAUSED:
        return "resumed"
    return _BY_STATE[to_state]


def trigger_event(event_type: str, outcome: str) -> str | None:
    """The event a scheduler's record is, or None when nobody needs to hear of it."""
    return _BY_TRIGGER_EVENT.get((event_type, outcome)) or _BY_TRIGGER_EVENT.get((event_type, None))


def side_event(to_state: State, reason: str | None) -> str | None:
    """The notable event a run's move also is, read from its reason: a copy paused for an
    unreachable database, for too many bad rows, a run whose daemon or worker died."""
    text = reason or ""
    if to_state is State.PAUSED and _UNAVAILABLE.match(text):
        return "unavailable"
    if to_state is State.PAUSED and text.startswith("error_policy:"):
        return "error_escalated"
    if to_state in (State.PAUSED, State.FAILED) and "lease expired" in text:
        return "daemon_lost"
    return None


_UNAVAILABLE = re.compile(r"^(source|target)[_ ]unavailable\b")

# -- alerts: what opens one, and what closes it ---------------------------------------------

# An event of these kinds opens an alert for its migration (one open alert per cause).
ALERTING: frozenset[str] = frozenset(
    {"failed", "unavailable", "error_escalated", "missed", "daemon_lost", "preflight_failed"}
)
# An event of the key's kind resolves the causes it names: their alerts close.
_RESOLVES: Mapping[str, frozenset[str]] = {
    "completed": frozenset({"failed", "unavailable", "missed", "daemon_lost", "preflight_failed"}),
    "certified": frozenset({"failed", "unavailable", "missed", "daemon_lost", "preflight_failed"}),
    "started": frozenset({"unavailable", "missed", "daemon_lost", "preflight_failed"}),
    "resumed": frozenset({"unavailable", "daemon_lost"}),
    "preflight_ok": frozenset({"preflight_failed"}),
    "errors_cleared": frozenset({"error_escalated"}),
}


def resolves(kind: str) -> frozenset[str]:
    """The alert causes an event of ``kind`` resolves."""
    return _RESOLVES.get(kind, frozenset())


def severity(kind: str) -> str:
    return EVENTS.get(kind, "info")


@dataclass(frozen=True)
class Notice:
    """One event in the outbox: what happened, to which migration and run, and why."""

    kind: str
    at: datetime
    migration_id: str | None = None
    run_id: int | None = None
    reason: str | None = None
    actor: str | None = None
    details: Mapping[str, Any] | None = None
    id: int | None = None

    @property
    def severity(self) -> str:
        return severity(self.kind)

    @property
    def summary(self) -> str:
        """One line for people: "nightly: run 12 failed: exit code 3"."""
        subject = self.migration_id or "moonshift"
        what = self.kind.replace("_", " ")
        run = f"run {self.run_id} " if self.run_id is not None else ""
        text = f"{subject}: {run}{what}"
        return f"{text}: {self.reason}" if self.reason else text

    def payload(self) -> dict[str, Any]:
        """The JSON every channel sends (a webhook's body, as Standard Webhooks shapes it)."""
        return {
            "type": self.kind,
            "timestamp": self.at.isoformat(),
            "data": {
                "event_id": self.id,
                "severity": self.severity,
                "migration_id": self.migration_id,
                "run_id": self.run_id,
                "summary": self.summary,
                "reason": self.reason,
                "actor": self.actor,
                **dict(self.details or {}),
            },
        }


# -- what a spec file writes ----------------------------------------------------------------

ChannelType = Literal["slack", "email", "webhook"]
_HTTP_URL = re.compile(r"^https?://[^/\s]+", re.IGNORECASE)


def _no_literal_token(url: str) -> str | None:
    """A Slack incoming webhook URL holds its token in the path: it must be a reference."""
    if "hooks.slack.com" in url.lower() and not references(url):
        return (
            "holds the Slack webhook's token in plain text; give it as an environment "
            "reference such as ${SLACK_WEBHOOK_URL} so that no secret is stored"
        )
    return None


class ChannelSpec(SpecModel):
    """``channels: [{id, type, ...}]`` in a spec file: where notifications go.

    - webhook: ``url`` and ``secret`` (a ``${ENV}`` reference; ``whsec_`` base64 or raw),
      signed like Standard Webhooks.
    - slack: ``url``, an incoming webhook (a ``${ENV}`` reference on hooks.slack.com).
    - email: ``host``, ``port``, ``security`` (starttls, tls or none), ``username``,
      ``password`` (a ``${ENV}`` reference), ``sender`` and ``to``.
    """

    id: Slug
    type: ChannelType
    name: str = ""
    url: str | None = None
    secret: str | None = None
    host: str | None = None
    port: Whole | None = Field(default=None, ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str | None = None
    password: str | None = None
    sender: str | None = Field(default=None, alias="from")
    to: tuple[str, ...] = ()

    @field_validator("secret", "password")
    @classmethod
    def _reference(cls, value: str | None) -> str | None:
        if value is not None and not is_reference(value):
            raise ValueError(
                "must be an environment reference such as ${NOTIFY_SECRET}, so that no "
                "secret is stored"
            )
        return value

    @field_validator("url")
    @classmethod
    def _url(cls, url: str | None) -> str | None:
        if url is None:
            return None
        if not (is_reference(url) or _HTTP_URL.match(url)):
            raise ValueError(f'must be an http(s) URL or a ${{NAME}} reference, got "{url}"')
        problem = _no_literal_token(url)
        if problem:
            raise ValueError(problem)
        return url

    @model_validator(mode="after")
    def _type_needs(self) -> ChannelSpec:
        needs = {
            "webhook": ("url", "secret"),
            "slack": ("url",),
            "email": ("host", "sender", "to"),
        }[self.type]
        for name in needs:
            if not getattr(self, name):
                raise FieldProblem(
                    "from" if name == "sender" else name, f"is required for a {self.type} channel"
                )
        if self.type != "email":
            for name in ("host", "username", "password", "sender"):
                if getattr(self, name) is not None:
                    key = "from" if name == "sender" else name
                    raise FieldProblem(key, "is only for email channels")
        if self.type == "email" and (self.url or self.secret):
            raise FieldProblem("url" if self.url else "secret", "is not for email channels")
        if self.username and not self.password:
            raise FieldProblem("password", "is required with username")
        return self

    def stored(self) -> dict[str, Any]:
        """The settings as kept in the store: references unresolved, defaults left out."""
        return self.model_dump(mode="json", exclude_defaults=True, by_alias=True)

    def environment_references(self) -> list[str]:
        return [
            name
            for value in (self.url, self.secret, self.password)
            if value
            for name in references(value)
        ]


class AlertSpec(SpecModel):
    """``alerts: {renotify: 30m}``: how often an open alert is sent again until someone
    acknowledges it."""

    renotify: Duration = timedelta(minutes=30)

    @field_validator("renotify")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value < timedelta(seconds=1):
            raise ValueError("must be at least 1s")
        return value


class NotifyRule(SpecModel):
    """``notify: [{channel: ops-slack, on: [failed, window_ending]}]`` on a migration (or
    at a file's top level, for every migration in it without its own)."""

    channel: Slug
    on: tuple[str, ...] = ("failed",)

    @model_validator(mode="before")
    @classmethod
    def _yaml_on(cls, data: Any) -> Any:
        # YAML 1.1 reads a bare ``on:`` key as the boolean true
        if isinstance(data, dict) and True in data and "on" not in data:
            data = {("on" if key is True else key): value for key, value in data.items()}
        return data

    @field_validator("on")
    @classmethod
    def _known(cls, on: tuple[str, ...]) -> tuple[str, ...]:
        if not on:
            raise ValueError("must name at least one event")
        for name in on:
            if name != ALL and name not in EVENTS:
                raise ValueError(
                    f'unknown event "{name}"; one of {ALL}, ' + ", ".join(sorted(EVENTS))
                )
        return on

    def wants(self, kind: str) -> bool:
        return ALL in self.on or kind in self.on


def targets(
    rules: Iterable[NotifyRule],
    kind: str,
    *,
    notify_on_skip: bool = False,
    cause: str | None = None,
) -> list[str]:
    """The channels an event of ``kind`` goes to, each once, in the order the rules name
    them; with ``notify_on_skip`` a skipped fire goes to every channel named. An alert's
    reminder (``cause``: the event that opened it) goes where that event went."""
    found: list[str] = []
    for rule in rules:
        wanted = rule.wants(kind) or (kind == "skipped" and notify_on_skip)
        wanted = wanted or (cause is not None and rule.wants(cause))
        if wanted and rule.channel not in found:
            found.append(rule.channel)
    return found
