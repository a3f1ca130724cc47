"""The state store: the single source of truth (DESIGN.md, invariant 1)."""

from moonshift.store.records import AuditEntry, MigrationRecord, RunRecord, TriggerEvent
from moonshift.store.store import StateStore

__all__ = ["AuditEntry", "MigrationRecord", "RunRecord", "StateStore", "TriggerEvent"]
