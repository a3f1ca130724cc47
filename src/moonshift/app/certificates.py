"""Certificates: signing keys, a signed in-toto statement about a certified copy, its
summary report, and verifying one offline (no state store needed)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from moonshift import __version__
from moonshift.app import views
from moonshift.app.context import Family
from moonshift.domain.lifecycle import State
from moonshift.errors import Conflict, InvalidInput, NotFound
from moonshift.store.records import ApprovalRecord, PlanRecord, RunRecord, ValidationRecord
from moonshift.validation import certificate as cert
from moonshift.validation import summary
from moonshift.validation.rows import table_hash

KEYS = "keys"


class Certificates(Family):
    # -- keys -------------------------------------------------------------------------------

    def init_signing(self, folder: Path | None = None) -> views.SigningKey:
        """A new Ed25519 signing key pair in ``folder`` (default: the home's keys/), outside
        the state store. Conflict when a signing key is there already."""
        where = folder or self.ctx.settings.home / KEYS
        try:
            pair = cert.generate(where)
        except FileExistsError:
            raise Conflict(
                f"{where / cert.KEY_FILE} exists already; it is never replaced"
            ) from None
        return views.SigningKey(
            private_key=str(pair.private), public_key=str(pair.public), key_id=pair.key_id
        )

    # -- issuing ----------------------------------------------------------------------------

    def issue(self, migration_id: str, *, signing_keys: Sequence[Path] = ()) -> views.Certificate:
        """The certificate of the newest validation, which must have passed and certified
        its run, signed by every key given (default: the home's keys/signing.key)."""
        statement = self.statement(migration_id)
        keys = [self._private(p) for p in signing_keys or [self._default_key()]]
        envelope = cert.sign(statement, keys)
        return views.Certificate(
            envelope=envelope,
            statement=statement,
            key_ids=[s["keyid"] for s in envelope["signatures"]],
        )

    def report(self, migration_id: str, fmt: Literal["markdown", "html"]) -> str:
        """The summary report of the certificate, as Markdown or HTML."""
        statement = self.statement(migration_id)
        signers = self._signers()
        if fmt == "html":
            return summary.to_html(statement, signers)
        return summary.markdown(statement, signers)

    def statement(self, migration_id: str) -> dict[str, Any]:
        """The in-toto statement a certificate signs (Conflict unless certified)."""
        record, run = self._certified(migration_id)
        migration = self.store.get_migration(migration_id)
        plan = self.store.run_plan(run.id)
        spec = plan.spec if plan is not None else migration.spec
        results = record.results
        subjects = [
            cert.subject(f"table:{name}", table_hash(name, facts))
            for r in results
            if r["perspective"] == "row_level"
            for name, facts in sorted(r["tables"].items())
        ]
        report = self._report(record)
        subjects.append(cert.subject("report", cert.sha256(cert.canonical(report))))
        predicate = {
            "migration": migration_id,
            "run": {
                "id": run.id,
                "state": run.state.value,
                "attempt": run.attempt,
                "started_at": _iso(run.started_at),
                "ended_at": _iso(run.ended_at),
            },
            "spec": {
                "version": run.spec_version,
                "digest": {"sha256": cert.sha256(cert.canonical(spec))},
            },
            "plan": _plan(plan),
            "approvals": [_approval(a) for a in self.store.approvals(run_id=run.id)],
            "validation": report,
            "counts": {
                f"{r['perspective']}.{name}": value
                for r in results
                for name, value in sorted(r["counts"].items())
            },
            "checkpoints": _checkpoints(run),
            "issuer": f"moonshift {__version__}",
        }
        return cert.statement(subjects, predicate)

    def _report(self, record: ValidationRecord) -> dict[str, Any]:
        return {
            "id": record.id,
            "state": record.state,
            "by": record.created_by,
            "started_at": _iso(record.started_at),
            "ended_at": _iso(record.ended_at),
            "perspectives": [
                {k: r[k] for k in ("perspective", "passed", "summary", "found", "counts")}
                for r in record.results
            ],
        }

    def _certified(self, migration_id: str) -> tuple[ValidationRecord, RunRecord]:
        self.ctx.spec_of(migration_id)
        found = self.store.validations(migration_id, limit=1)
        if not found:
            raise NotFound(f'"{migration_id}" has not been validated yet')
        record = found[0]
        if record.state != "passed":
            raise Conflict(
                f"validation {record.id} of {migration_id} {record.state}: no certificate"
            )
        run = self.store.get_run(record.run_id) if record.run_id is not None else None
        if run is None or run.state is not State.CERTIFIED:
            raise Conflict(
                f"validation {record.id} of {migration_id} certified no run (it validated a "
                "run that had ended already); run a copy and validate it"
            )
        return record, run

    def _default_key(self) -> Path:
        return self.ctx.settings.home / KEYS / cert.KEY_FILE

    def _private(self, path: Path) -> Any:
        if not path.exists():
            raise InvalidInput(
                "signing_key",
                f"no signing key at {path}; make one with moonshift keys init-signing",
            )
        try:
            return cert.load_private(path)
        except ValueError as exc:
            raise InvalidInput("signing_key", f"{path}: {exc}") from None

    def _signers(self) -> list[str]:
        public = self.ctx.settings.home / KEYS / cert.PUBLIC_FILE
        return [cert.key_id(cert.load_public(public.read_bytes()))] if public.exists() else []

    # -- verifying --------------------------------------------------------------------------

    def verify(self, envelope: bytes, public_keys: Sequence[bytes]) -> views.CertificateCheck:
        """Check a certificate offline against every public key given (PEM)."""
        try:
            keys = [cert.load_public(k) for k in public_keys]
        except ValueError as exc:
            raise InvalidInput("key", f"not an Ed25519 public key in PEM: {exc}") from None
        try:
            statement = cert.verify(envelope, keys)
        except cert.CertificateInvalid as exc:
            return views.CertificateCheck(valid=False, reason=str(exc))
        predicate = statement.get("predicate") or {}
        return views.CertificateCheck(
            valid=True,
            key_ids=[cert.key_id(k) for k in keys],
            migration_id=predicate.get("migration"),
            run_id=(predicate.get("run") or {}).get("id"),
            subjects=list(statement.get("subject") or []),
        )


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _plan(plan: PlanRecord | None) -> dict[str, Any] | None:
    """The run's stored plan: its version and digest (None for a run planned before plans
    were stored)."""
    if plan is None:
        return None
    return {"version": plan.version, "digest": {"sha256": plan.digest}}


def _approval(approval: ApprovalRecord) -> dict[str, Any]:
    return {
        "actor": approval.actor,
        "decision": approval.decision,
        "plan_digest": {"sha256": approval.digest},
        "at": _iso(approval.at),
        "void": approval.void_reason if approval.void_at is not None else None,
    }


def _checkpoints(run: RunRecord) -> list[dict[str, Any]]:
    if not run.checkpoint:
        return []
    return [{"run": run.id, "digest": {"sha256": cert.sha256(cert.canonical(run.checkpoint))}}]
