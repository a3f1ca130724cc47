"""The state store's tables. Alembic revisions in ``store/alembic`` build exactly this."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)

from moonshift.store.types import UTCDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
    }
)

ID = String(63)
STATE = String(24)

migrations = Table(
    "migrations",
    metadata,
    Column("id", ID, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("kind", String(16), nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("tags", JSON, nullable=False),
    # The spec as validated, with ${ENV} references unresolved: never a secret.
    Column("spec", JSON, nullable=False),
    Column("spec_hash", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    Column("source_file", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # Deleted migrations stay, so that their runs keep their identity and history.
    Column("deleted_at", UTCDateTime),
)

runs = Table(
    "runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("migration_id", ID, ForeignKey("migrations.id"), nullable=False),
    Column("spec_version", Integer, nullable=False),
    Column("trigger", String(16), nullable=False),
    # A run's identity: one run per (migration, nominal time), whatever races or restarts.
    Column("nominal_time", UTCDateTime, nullable=False),
    Column("logical_date", UTCDateTime),
    Column("state", STATE, nullable=False),
    Column("reason", Text),
    Column("exit_code", Integer),
    Column("error_tail", Text),
    Column("attempt", Integer, nullable=False, default=1),
    Column("created_by", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("started_at", UTCDateTime),
    Column("ended_at", UTCDateTime),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("lease_owner", String(200)),
    Column("lease_expires_at", UTCDateTime),
    Column("heartbeat_at", UTCDateTime),
    Column("control", JSON),
    Column("checkpoint", JSON),
    Column("progress", JSON),
    Column("pool", String(63)),
    # A queued run waits until then (a window's opening, a retry's backoff).
    Column("not_before", UTCDateTime),
    # Why a queued run has not started yet, for people: "waiting for window nightly".
    Column("waiting_for", Text),
    Column("retry_of", Integer),
    Column("worker_pid", Integer),
    Column("warned_at", UTCDateTime),
    Column("backfill_id", Integer),
    # Live settings an operator gave a running copy (batch_size, parallel).
    Column("overrides", JSON),
    # A manual run started outside its windows on purpose: no window pauses or fails it.
    Column("ignore_windows", Boolean, nullable=False, server_default=false()),
    # Retries and re-processed backfills are new attempts of the same fire.
    UniqueConstraint("migration_id", "nominal_time", "attempt"),
    Index(None, "state"),
    Index(None, "migration_id", "id"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("migration_id", ID),
    Column("run_id", Integer),
    Column("action", String(40), nullable=False),
    Column("from_state", STATE),
    Column("to_state", STATE),
    Column("reason", Text),
    Column("details", JSON),
    Index(None, "migration_id", "id"),
    Index(None, "run_id"),
)

trigger_events = Table(
    "trigger_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("migration_id", ID),
    Column("event_type", String(100), nullable=False),
    Column("payload", JSON),
    Column("outcome", String(30), nullable=False),
    Column("run_id", Integer),
    Column("reason", Text),
    Index(None, "migration_id", "id"),
)

schedules = Table(
    "schedules",
    metadata,
    Column("migration_id", ID, ForeignKey("migrations.id"), primary_key=True),
    Column("status", String(16), nullable=False),
    # The next fire not yet turned into a run (or dropped); None when there is none.
    Column("next_fire_at", UTCDateTime),
    Column("last_fire_at", UTCDateTime),
    Column("spec_version", Integer, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index(None, "next_fire_at"),
    Index(None, "updated_at"),
)

daemons = Table(
    "daemons",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("host", String(200), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("heartbeat_at", UTCDateTime, nullable=False),
    Column("stopping", Boolean, nullable=False),
)

backfills = Table(
    "backfills",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("migration_id", ID, ForeignKey("migrations.id"), nullable=False),
    Column("start", UTCDateTime, nullable=False),
    Column("end", UTCDateTime, nullable=False),
    Column("reprocess", String(16), nullable=False),
    Column("parallel", Integer, nullable=False),
    Column("runs", Integer, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

copy_errors = Table(
    "copy_errors",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("migration_id", ID, ForeignKey("migrations.id"), nullable=False),
    Column("run_id", Integer, nullable=False),
    Column("table_name", String(128), nullable=False),
    # The row's key, encoded without loss (moonshift.copy.keys), to read it again.
    Column("row_key", Text),
    # The row's values as text, with the spec's redacted columns masked.
    Column("row_values", JSON, nullable=False),
    Column("message", Text, nullable=False),
    Column("status", String(16), nullable=False),  # open, skipped, resolved
    Column("resolution", Text),
    Column("resolved_by", String(200)),
    Column("resolved_at", UTCDateTime),
    Column("attempts", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index(None, "migration_id", "status"),
)

rollbacks = Table(
    "rollbacks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("migration_id", ID, ForeignKey("migrations.id"), nullable=False),
    Column("strategy", String(20), nullable=False),
    Column("state", String(16), nullable=False),  # running, completed, failed
    Column("tables", JSON, nullable=False),  # [{table, rows_before, rows_after}]
    Column("reason", Text),
    Column("created_by", String(200), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("ended_at", UTCDateTime),
    Index(None, "migration_id", "id"),
)

# -- validation -----------------------------------------------------------------------------

validations = Table(
    "validations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("migration_id", ID, ForeignKey("migrations.id"), nullable=False),
    Column("run_id", Integer),  # the run it moved, if any
    Column("state", String(16), nullable=False),  # running, passed, failed, error
    Column("summary", Text),
    # per perspective: its result without its divergences (those are rows below)
    Column("results", JSON, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("ended_at", UTCDateTime),
    Index(None, "migration_id", "id"),
)

validation_divergences = Table(
    "validation_divergences",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("validation_id", Integer, ForeignKey("validations.id"), nullable=False),
    Column("perspective", String(24), nullable=False),
    Column("table_name", String(128), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("what", Text, nullable=False),
    # the key and both sides' values, as text, redacted columns masked
    Column("detail", JSON, nullable=False),
    Index(None, "validation_id", "id"),
)

# -- the REST API ---------------------------------------------------------------------------

api_keys = Table(
    "api_keys",
    metadata,
    Column("name", ID, primary_key=True),
    Column("scope", String(16), nullable=False),
    # SHA-256 of the key: the key itself is shown once, when it is made, and never kept.
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(16), nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
)

connections = Table(
    "connections",
    metadata,
    Column("id", ID, primary_key=True),
    Column("type", String(16), nullable=False),
    # As written, with ${ENV} references unresolved: never a secret.
    Column("url", Text, nullable=False),
    Column("name", String(200), nullable=False),
    Column("source_file", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

# A request that must take effect once: a POST's Idempotency-Key, a webhook's id. The
# unique (scope, key) lets one of any number of racing API processes claim it.
# A dashboard login: the session cookie's SHA-256 and the hash of the API key it was opened
# with (whose scope and revocation count at every request). Logging out deletes the row.
web_sessions = Table(
    "web_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("key_hash", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Index(None, "expires_at"),
)

request_keys = Table(
    "request_keys",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("scope", String(200), nullable=False),
    Column("key", String(255), nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("status_code", Integer),  # None while the first request is being answered
    Column("content_type", String(100)),
    Column("body", Text),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("scope", "key"),
    Index(None, "created_at"),
)

# -- notifications --------------------------------------------------------------------------

# Where notifications go: ``channels:`` of spec files, settings as written (${ENV} unresolved).
channels = Table(
    "channels",
    metadata,
    Column("id", ID, primary_key=True),
    Column("type", String(16), nullable=False),
    Column("settings", JSON, nullable=False),
    Column("name", String(200), nullable=False),
    Column("source_file", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

# Every event someone may need to hear about, written in the transaction of its cause. The
# dispatcher routes each once (``routed_at``), writing a delivery per channel it goes to.
outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("kind", String(40), nullable=False),
    Column("migration_id", ID),
    Column("run_id", Integer),
    Column("reason", Text),
    Column("actor", String(200)),
    Column("details", JSON),
    Column("routed_at", UTCDateTime),
    Index(None, "routed_at", "id"),
    Index(None, "migration_id", "id"),
)

# One event to one channel: ``key`` is sent with it, so a receiver keeps a repeat once.
deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_id", Integer, ForeignKey("outbox.id"), nullable=False),
    Column("channel_id", ID, nullable=False),
    Column("key", String(100), nullable=False, unique=True),
    Column("status", String(16), nullable=False),  # pending, delivered, failed
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("last_error", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("delivered_at", UTCDateTime),
    UniqueConstraint("event_id", "channel_id"),
    Index(None, "status", "id"),
)

# -- planning and approval ------------------------------------------------------------------

# A plan: what a run (or an operator's ``plan``) found and decided, with the digest of its
# canonical form. Versioned per migration; never changed once written.
plans = Table(
    "plans",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("migration_id", ID, ForeignKey("migrations.id"), nullable=False),
    Column("run_id", Integer),  # None for a plan made on demand
    Column("version", Integer, nullable=False),
    Column("spec_version", Integer, nullable=False),
    # The spec it was made from, ${ENV} references unresolved: an approved run keeps it.
    Column("spec", JSON, nullable=False),
    Column("digest", String(64), nullable=False),
    Column("content", JSON, nullable=False),
    # Who wrote that spec version (approval.not_the_author).
    Column("author", String(200)),
    Column("created_by", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("migration_id", "version"),
    Index(None, "run_id"),
)

approvals = Table(
    "approvals",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("migration_id", ID, ForeignKey("migrations.id"), nullable=False),
    Column("run_id", Integer, nullable=False),
    Column("plan_id", Integer, nullable=False),
    Column("digest", String(64), nullable=False),  # the plan digest approved
    Column("actor", String(200), nullable=False),
    Column("decision", String(16), nullable=False),  # approved, rejected
    Column("note", Text),
    Column("at", UTCDateTime, nullable=False),
    # A change of spec, source schema or mapping voids it (the run plans again).
    Column("void_at", UTCDateTime),
    Column("void_reason", Text),
    UniqueConstraint("run_id", "digest", "actor"),
    Index(None, "migration_id", "id"),
)

# An alert: opened by an event of ``domain.notices.ALERTING`` (one open per migration and
# cause), sent again until acknowledged, closed when an event resolves its cause.
alerts = Table(
    "alerts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("migration_id", ID),
    Column("run_id", Integer),
    Column("cause", String(40), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("summary", Text, nullable=False),
    Column("status", String(16), nullable=False),  # open, acknowledged, closed
    Column("opened_at", UTCDateTime, nullable=False),
    Column("event_id", Integer, nullable=False),  # the event that opened it
    Column("notified_at", UTCDateTime, nullable=False),  # when it was last sent
    Column("notifications", Integer, nullable=False),
    Column("acknowledged_by", String(200)),
    Column("acknowledged_at", UTCDateTime),
    Column("note", Text),
    Column("closed_at", UTCDateTime),
    Column("closed_by", Text),  # the event that resolved it
    Index(None, "status", "migration_id"),
)

# Key ranges of a copy's table that workers of any daemon may claim. The checkpoint of
# truth stays in the target (committed with each batch); a row here only says who copies
# the range now, until when, and that it is done.
copy_ranges = Table(
    "copy_ranges",
    metadata,
    Column("migration_id", ID, nullable=False),
    Column("copy_id", Integer, nullable=False),
    Column("table_name", String(128), nullable=False),
    Column("range_id", Integer, nullable=False),
    Column("run_id", Integer, nullable=False),
    Column("owner", String(200)),
    Column("lease_until", UTCDateTime),
    Column("claims", Integer, nullable=False),
    Column("done", Boolean, nullable=False),
    PrimaryKeyConstraint("migration_id", "copy_id", "table_name", "range_id"),
    Index(None, "done", "run_id"),
)
