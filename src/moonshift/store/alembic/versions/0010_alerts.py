"""Alerts: opened by failures, re-notified until acknowledged, closed when resolved

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

import moonshift.store.types

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

UTC = moonshift.store.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("migration_id", sa.String(length=63), nullable=True),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("cause", sa.String(length=40), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("opened_at", UTC, nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("notified_at", UTC, nullable=False),
        sa.Column("notifications", sa.Integer(), nullable=False),
        sa.Column("acknowledged_by", sa.String(length=200), nullable=True),
        sa.Column("acknowledged_at", UTC, nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("closed_at", UTC, nullable=True),
        sa.Column("closed_by", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
    )
    op.create_index(op.f("ix_alerts_status_migration_id"), "alerts", ["status", "migration_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_alerts_status_migration_id"), table_name="alerts")
    op.drop_table("alerts")
