"""backfills

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

import moonshift.store.types

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "backfills",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("migration_id", sa.String(length=63), nullable=False),
        sa.Column("start", moonshift.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("end", moonshift.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reprocess", sa.String(length=16), nullable=False),
        sa.Column("parallel", sa.Integer(), nullable=False),
        sa.Column("runs", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", moonshift.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["migration_id"], ["migrations.id"], name=op.f("fk_backfills_migration_id_migrations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_backfills")),
    )
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("backfill_id", sa.Integer(), nullable=True))


def downgrade() -> None:

    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.drop_column("backfill_id")

    op.drop_table("backfills")
