"""initial state schema

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

import moonshift.store.types

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", moonshift.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("migration_id", sa.String(length=63), nullable=True),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("from_state", sa.String(length=24), nullable=True),
        sa.Column("to_state", sa.String(length=24), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_audit_log_migration_id_id"), ["migration_id", "id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_audit_log_run_id"), ["run_id"], unique=False)

    op.create_table(
        "migrations",
        sa.Column("id", sa.String(length=63), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("spec_hash", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("source_file", sa.Text(), nullable=True),
        sa.Column("created_at", moonshift.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", moonshift.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", moonshift.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_migrations")),
    )
    op.create_table(
        "trigger_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", moonshift.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("migration_id", sa.String(length=63), nullable=True),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=True),
        sa.Column("outcome", sa.String(length=30), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trigger_events")),
    )
    with op.batch_alter_table("trigger_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_trigger_events_migration_id_id"), ["migration_id", "id"], unique=False
        )

    op.create_table(
        "runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("migration_id", sa.String(length=63), nullable=False),
        sa.Column("spec_version", sa.Integer(), nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("nominal_time", moonshift.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("logical_date", moonshift.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("exit_code", sa.Integer(), nullable=True),
        sa.Column("error_tail", sa.Text(), nullable=True),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", moonshift.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", moonshift.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_at", moonshift.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", moonshift.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("lease_owner", sa.String(length=200), nullable=True),
        sa.Column(
            "lease_expires_at", moonshift.store.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("heartbeat_at", moonshift.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("control", sa.JSON(), nullable=True),
        sa.Column("checkpoint", sa.JSON(), nullable=True),
        sa.Column("progress", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["migration_id"], ["migrations.id"], name=op.f("fk_runs_migration_id_migrations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_runs")),
        sa.UniqueConstraint(
            "migration_id", "nominal_time", name=op.f("uq_runs_migration_id_nominal_time")
        ),
    )
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_runs_migration_id_id"), ["migration_id", "id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_runs_state"), ["state"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_runs_state"))
        batch_op.drop_index(batch_op.f("ix_runs_migration_id_id"))

    op.drop_table("runs")
    with op.batch_alter_table("trigger_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_trigger_events_migration_id_id"))

    op.drop_table("trigger_events")
    op.drop_table("migrations")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_run_id"))
        batch_op.drop_index(batch_op.f("ix_audit_log_migration_id_id"))

    op.drop_table("audit_log")
