"""Copy ranges: key ranges of a table that workers of several daemons claim by lease

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

import moonshift.store.types

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

UTC = moonshift.store.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "copy_ranges",
        sa.Column("migration_id", sa.String(length=63), nullable=False),
        sa.Column("copy_id", sa.Integer(), nullable=False),
        sa.Column("table_name", sa.String(length=128), nullable=False),
        sa.Column("range_id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=True),
        sa.Column("lease_until", UTC, nullable=True),
        sa.Column("claims", sa.Integer(), nullable=False),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint(
            "migration_id", "copy_id", "table_name", "range_id", name=op.f("pk_copy_ranges")
        ),
    )
    op.create_index(op.f("ix_copy_ranges_done_run_id"), "copy_ranges", ["done", "run_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_copy_ranges_done_run_id"), table_name="copy_ranges")
    op.drop_table("copy_ranges")
