"""What the store returns: immutable records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from moonshift.domain.lifecycle import State


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
    control: dict[str, Any] | None
    checkpoint: dict[str, Any] | None
    progress: dict[str, Any] | None


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
