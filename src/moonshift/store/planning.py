"""Planning and approval in the state store: stored plans, approvals, notes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from moonshift.domain.lifecycle import State
from moonshift.domain.notices import Notice
from moonshift.store import schema as t
from moonshift.store.core import StoreCore
from moonshift.store.records import ApprovalRecord, PlanRecord, RunRecord

APPROVED = "approved"
REJECTED = "rejected"
# The audit actions that write a spec version; their actor is its author.
SPEC_WRITES = ("created", "updated", "restored")


class PlanStore(StoreCore):
    def add_plan(
        self,
        migration_id: str,
        *,
        run_id: int | None,
        spec_version: int,
        spec: dict[str, Any],
        digest: str,
        content: dict[str, Any],
        actor: str,
        now: datetime,
    ) -> PlanRecord:
        with self._write() as conn:
            self._migration_in(conn, migration_id, lock=True)
            version = conn.execute(
                select(func.coalesce(func.max(t.plans.c.version), 0)).where(
                    t.plans.c.migration_id == migration_id
                )
            ).scalar_one()
            plan_id = conn.execute(
                insert(t.plans)
                .values(
                    migration_id=migration_id,
                    run_id=run_id,
                    version=int(version) + 1,
                    spec_version=spec_version,
                    spec=spec,
                    digest=digest,
                    content=content,
                    author=self._author_in(conn, migration_id),
                    created_by=actor,
                    created_at=now,
                )
                .returning(t.plans.c.id)
            ).scalar_one()
            if run_id is not None:
                conn.execute(
                    update(t.runs).where(t.runs.c.id == run_id).values(spec_version=spec_version)
                )
            self._audit(
                conn,
                now=now,
                actor=actor,
                action="planned",
                migration_id=migration_id,
                run_id=run_id,
                reason=f"plan version {int(version) + 1} of spec version {spec_version}, "
                f"digest {digest[:12]}",
                details={"plan_version": int(version) + 1, "digest": digest},
            )
            return self._plan_in(conn, int(plan_id))

    def _author_in(self, conn: Connection, migration_id: str) -> str | None:
        return conn.execute(
            select(t.audit_log.c.actor)
            .where(
                t.audit_log.c.migration_id == migration_id,
                t.audit_log.c.action.in_(SPEC_WRITES),
            )
            .order_by(t.audit_log.c.id.desc())
            .limit(1)
        ).scalar()

    def _plan_in(self, conn: Connection, plan_id: int) -> PlanRecord:
        row = conn.execute(select(t.plans).where(t.plans.c.id == plan_id)).one()
        return PlanRecord(**row._mapping)

    def latest_plan(self, migration_id: str, *, run_id: int | None = None) -> PlanRecord | None:
        query = select(t.plans).where(t.plans.c.migration_id == migration_id)
        if run_id is not None:
            query = query.where(t.plans.c.run_id == run_id)
        with self._read() as conn:
            row = conn.execute(query.order_by(t.plans.c.id.desc()).limit(1)).first()
            return PlanRecord(**row._mapping) if row else None

    def run_plan(self, run_id: int) -> PlanRecord | None:
        query = select(t.plans).where(t.plans.c.run_id == run_id).order_by(t.plans.c.id.desc())
        with self._read() as conn:
            row = conn.execute(query.limit(1)).first()
            return PlanRecord(**row._mapping) if row else None

    def approvals(
        self, *, migration_id: str | None = None, run_id: int | None = None
    ) -> list[ApprovalRecord]:
        query = select(t.approvals).order_by(t.approvals.c.id)
        if migration_id is not None:
            query = query.where(t.approvals.c.migration_id == migration_id)
        if run_id is not None:
            query = query.where(t.approvals.c.run_id == run_id)
        with self._read() as conn:
            return [ApprovalRecord(**row._mapping) for row in conn.execute(query)]

    def decide(
        self,
        plan: PlanRecord,
        run_id: int,
        *,
        actor: str,
        decision: str,
        note: str | None,
        required: int,
        now: datetime,
    ) -> tuple[RunRecord, list[str]]:
        """Record an approval (or a rejection) of ``plan`` for a run awaiting approval; with
        ``required`` valid approvals of its digest the run is approved, in the same
        transaction. Returns the run and who has approved this digest so far."""
        with self._write() as conn:
            run = self._run_in(conn, run_id, lock=True)
            conn.execute(
                insert(t.approvals).values(
                    migration_id=plan.migration_id,
                    run_id=run_id,
                    plan_id=plan.id,
                    digest=plan.digest,
                    actor=actor,
                    decision=decision,
                    note=note,
                    at=now,
                )
            )
            approved_by = self._approvers_in(conn, run_id, plan.digest)
            details = {"digest": plan.digest, "plan_version": plan.version, "note": note}
            what = f"{len(approved_by)} of {required}" if decision == APPROVED else note
            self._audit(
                conn,
                now=now,
                actor=actor,
                action="approval" if decision == APPROVED else "rejection",
                migration_id=plan.migration_id,
                run_id=run_id,
                reason=f"{decision} plan {plan.digest[:12]} ({what})",
                details=details,
            )
            if decision == REJECTED:
                run = self._transition_in(
                    conn,
                    run_id,
                    State.CANCELLED,
                    actor=actor,
                    now=now,
                    reason=f"rejected by {actor}: {note}",
                )
            elif len(approved_by) >= required:
                run = self._transition_in(
                    conn,
                    run_id,
                    State.APPROVED,
                    actor=actor,
                    now=now,
                    reason=f"approved by {', '.join(approved_by)} "
                    f"({len(approved_by)} of {required}) for plan {plan.digest[:12]}",
                    not_before=None,
                    waiting_for=None,
                )
            return run, approved_by

    def _approvers_in(self, conn: Connection, run_id: int, digest: str) -> list[str]:
        rows = conn.execute(
            select(t.approvals.c.actor)
            .where(
                t.approvals.c.run_id == run_id,
                t.approvals.c.digest == digest,
                t.approvals.c.decision == APPROVED,
                t.approvals.c.void_at.is_(None),
            )
            .order_by(t.approvals.c.id)
        )
        return [row[0] for row in rows]

    def park_for_approval(
        self, run_id: int, *, reason: str, needed: int, actor: str, now: datetime
    ) -> RunRecord:
        """Move a planned run to awaiting_approval, held by no worker, and announce that
        approval is needed, in one transaction."""
        with self._write() as conn:
            run = self._transition_in(
                conn,
                run_id,
                State.AWAITING_APPROVAL,
                actor=actor,
                now=now,
                reason=reason,
                lease_owner=None,
                lease_expires_at=None,
                worker_pid=None,
            )
            self._emit(
                conn,
                Notice(
                    kind="approval_needed",
                    at=now,
                    migration_id=run.migration_id,
                    run_id=run_id,
                    reason=reason,
                    actor=actor,
                    details={"approvals_needed": needed},
                ),
            )
            return run

    def replan_run(self, run_id: int, *, reason: str, actor: str, now: datetime) -> RunRecord:
        """Void the run's approvals and send it back to planning, for a worker to plan it
        again (it holds none now)."""
        with self._write() as conn:
            conn.execute(
                update(t.approvals)
                .where(t.approvals.c.run_id == run_id, t.approvals.c.void_at.is_(None))
                .values(void_at=now, void_reason=reason)
            )
            return self._transition_in(
                conn,
                run_id,
                State.PLANNING,
                actor=actor,
                now=now,
                reason=reason,
                lease_owner=None,
                lease_expires_at=None,
                worker_pid=None,
                not_before=None,
            )

    def add_note(
        self, migration_id: str, text: str, *, actor: str, now: datetime, run_id: int | None = None
    ) -> None:
        with self._write() as conn:
            self._migration_in(conn, migration_id, live=True)
            self._audit(
                conn,
                now=now,
                actor=actor,
                action="note",
                migration_id=migration_id,
                run_id=run_id,
                reason=text,
            )
