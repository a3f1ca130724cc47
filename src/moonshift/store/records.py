"""What the store returns: immutable records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from moonshift.domain.control import ControlRequest
from moonshift.domain.lifecycle import State
from moonshift.domain.progress import Progress


class Trigger(StrEnum):
    SCHEDULED = "SCHEDULED"
    EVENT = "EVENT"
    MANUAL = "MANUAL"
    BACKFILL = "BACKFILL"


@dataclass(frozen=True, kw_only=True)
class MigrationRecord:
    id: str
    name: str
    description: str
    kind: str
    enabled: bool
    tags: tuple[str, ...]
    spec: dict[str, Any]
    spec_hash: str
    version: int
    source_file: str | None
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None


@dataclass(frozen=True, kw_only=True)
class MigrationHeader:
    """A migration without its spec: what a list shows."""

    id: str
    name: str
    kind: str
    enabled: bool
    version: int
    tags: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class OverviewRecord:
    """A migration as the dashboard's overview lists it: its header and spec, its latest
    run's state and progress, its next fire, its open errors and alerts, read in one query."""

    id: str
    name: str
    kind: str
    enabled: bool
    tags: tuple[str, ...]
    spec: dict[str, Any]
    run_id: int | None
    state: State | None
    progress: Progress | None
    next_fire_at: datetime | None
    schedule_status: str | None
    open_errors: int
    open_alerts: int


@dataclass(frozen=True, kw_only=True)
class WebSessionRecord:
    key_name: str
    scope: str
    revoked: bool
    expires_at: datetime


@dataclass(frozen=True, kw_only=True)
class RunRecord:
    id: int
    migration_id: str
    spec_version: int
    trigger: Trigger
    nominal_time: datetime
    logical_date: datetime | None
    state: State
    reason: str | None
    exit_code: int | None
    error_tail: str | None
    attempt: int
    created_by: str
    created_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    updated_at: datetime
    lease_owner: str | None
    lease_expires_at: datetime | None
    heartbeat_at: datetime | None
    control: ControlRequest | None
    checkpoint: dict[str, Any] | None
    progress: Progress | None
    pool: str | None
    not_before: datetime | None
    waiting_for: str | None
    retry_of: int | None
    worker_pid: int | None
    warned_at: datetime | None
    backfill_id: int | None
    overrides: dict[str, Any] | None = None
    ignore_windows: bool = False


@dataclass(frozen=True, kw_only=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str
    migration_id: str | None
    run_id: int | None
    action: str
    from_state: str | None
    to_state: str | None
    reason: str | None
    details: dict[str, Any] | None


@dataclass(frozen=True, kw_only=True)
class TriggerEvent:
    id: int
    at: datetime
    migration_id: str | None
    event_type: str
    payload: dict[str, Any] | None
    outcome: str
    run_id: int | None
    reason: str | None


class ScheduleStatus(StrEnum):
    ACTIVE = "ACTIVE"  # fires are turned into runs
    PAUSED = "PAUSED"  # an operator paused it; fires while paused are dropped and recorded
    DISABLED = "DISABLED"  # the migration is disabled
    COMPLETED = "COMPLETED"  # a one-shot schedule that has fired


@dataclass(frozen=True, kw_only=True)
class ScheduleRecord:
    migration_id: str
    status: ScheduleStatus
    next_fire_at: datetime | None
    last_fire_at: datetime | None
    spec_version: int
    updated_at: datetime


@dataclass(frozen=True, kw_only=True)
class Glance:
    """What a daemon's wake-up reads first, in one statement: which of its questions have
    an answer worth reading."""

    schedules_changed_at: datetime | None  # the latest change of any schedule
    leases_expired: bool  # a worker's run whose lease ran out
    holding: bool  # runs that hold a worker, or are claimed for one
    runnable: bool  # queued runs whose time has come, or paused ones set to resume
    next_not_before: datetime | None  # the soonest a waiting run is looked at again
    help_wanted: bool  # another daemon's running copy has a key range nobody holds


@dataclass(frozen=True, kw_only=True)
class OutboxGlance:
    """What the notification dispatcher's pass reads first, in one statement."""

    open_alerts: bool  # alerts to remind of, each on its own schedule
    unrouted: bool  # events not yet routed to their channels
    deliveries_due: bool  # deliveries whose next attempt is due


@dataclass(frozen=True, kw_only=True)
class DaemonRecord:
    id: str
    host: str
    pid: int
    started_at: datetime
    heartbeat_at: datetime
    stopping: bool


@dataclass(frozen=True, kw_only=True)
class BackfillRecord:
    id: int
    migration_id: str
    start: datetime
    end: datetime
    reprocess: str
    parallel: int
    runs: int
    created_by: str
    created_at: datetime


@dataclass(frozen=True, kw_only=True)
class CopyErrorRecord:
    """A row the target refused, set aside in the error queue."""

    id: int
    migration_id: str
    run_id: int
    table_name: str
    row_key: str | None
    row_values: dict[str, Any]
    message: str
    status: str  # open, skipped, resolved
    resolution: str | None
    resolved_by: str | None
    resolved_at: datetime | None
    attempts: int
    created_at: datetime


@dataclass(frozen=True, kw_only=True)
class ValidationRecord:
    """One validation of a migration: running, then passed, failed or error."""

    id: int
    migration_id: str
    run_id: int | None
    state: str
    summary: str | None
    results: list[dict[str, Any]]  # per perspective, without its divergences
    created_by: str
    started_at: datetime
    ended_at: datetime | None


@dataclass(frozen=True, kw_only=True)
class DivergenceRecord:
    id: int
    validation_id: int
    perspective: str
    table_name: str
    kind: str
    what: str
    detail: dict[str, Any]  # key, source, target


@dataclass(frozen=True, kw_only=True)
class RollbackRecord:
    id: int
    migration_id: str
    strategy: str
    state: str  # running, completed, failed
    tables: list[dict[str, Any]]
    reason: str | None
    created_by: str
    started_at: datetime
    ended_at: datetime | None


@dataclass(frozen=True, kw_only=True)
class ApiKeyRecord:
    name: str
    scope: str
    key_hash: str
    prefix: str  # the key's first characters, to recognise it; not enough to use it
    created_by: str
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True, kw_only=True)
class ConnectionRecord:
    id: str
    type: str
    url: str  # as written: ${ENV} references, never a secret
    name: str
    source_file: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, kw_only=True)
class RequestKeyRecord:
    scope: str
    key: str
    fingerprint: str
    status_code: int | None  # None while the first request is still being answered
    content_type: str | None
    body: str | None
    created_at: datetime


@dataclass(frozen=True, kw_only=True)
class PlanRecord:
    id: int
    migration_id: str
    run_id: int | None
    version: int
    spec_version: int
    spec: dict[str, Any]
    digest: str
    content: dict[str, Any]
    author: str | None
    created_by: str
    created_at: datetime


@dataclass(frozen=True, kw_only=True)
class ApprovalRecord:
    id: int
    migration_id: str
    run_id: int
    plan_id: int
    digest: str
    actor: str
    decision: str  # approved, rejected
    note: str | None
    at: datetime
    void_at: datetime | None
    void_reason: str | None


@dataclass(frozen=True, kw_only=True)
class ChannelRecord:
    id: str
    type: str
    settings: dict[str, Any]  # as written: ${ENV} references, never a secret
    name: str
    source_file: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, kw_only=True)
class DeliveryRecord:
    """One event to one channel, and how its delivery went."""

    id: int
    event_id: int
    channel_id: str
    key: str
    status: str  # pending, delivered, failed
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


@dataclass(frozen=True, kw_only=True)
class AlertRecord:
    id: int
    migration_id: str | None
    run_id: int | None
    cause: str  # the kind of the event that opened it
    severity: str
    summary: str
    status: str  # open, acknowledged, closed
    opened_at: datetime
    event_id: int
    notified_at: datetime
    notifications: int
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    note: str | None
    closed_at: datetime | None
    closed_by: str | None
