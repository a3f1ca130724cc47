"""scheduler

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

import moonshift.store.types

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "daemons",
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("host", sa.String(length=200), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", moonshift.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", moonshift.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("stopping", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_daemons")),
    )
    op.create_table(
        "schedules",
        sa.Column("migration_id", sa.String(length=63), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("next_fire_at", moonshift.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_fire_at", moonshift.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("spec_version", sa.Integer(), nullable=False),
        sa.Column("updated_at", moonshift.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["migration_id"], ["migrations.id"], name=op.f("fk_schedules_migration_id_migrations")
        ),
        sa.PrimaryKeyConstraint("migration_id", name=op.f("pk_schedules")),
    )
    with op.batch_alter_table("schedules", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_schedules_next_fire_at"), ["next_fire_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_schedules_updated_at"), ["updated_at"], unique=False)

    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pool", sa.String(length=63), nullable=True))
        batch_op.add_column(
            sa.Column("not_before", moonshift.store.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("waiting_for", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("retry_of", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("worker_pid", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("warned_at", moonshift.store.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.drop_constraint(batch_op.f("uq_runs_migration_id_nominal_time"), type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_runs_migration_id_nominal_time_attempt"),
            ["migration_id", "nominal_time", "attempt"],
        )


def downgrade() -> None:

    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("uq_runs_migration_id_nominal_time_attempt"), type_="unique"
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_runs_migration_id_nominal_time"), ["migration_id", "nominal_time"]
        )
        batch_op.drop_column("warned_at")
        batch_op.drop_column("worker_pid")
        batch_op.drop_column("retry_of")
        batch_op.drop_column("waiting_for")
        batch_op.drop_column("not_before")
        batch_op.drop_column("pool")

    with op.batch_alter_table("schedules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_schedules_updated_at"))
        batch_op.drop_index(batch_op.f("ix_schedules_next_fire_at"))

    op.drop_table("schedules")
    op.drop_table("daemons")
