"""Validation: each validation of a migration and the divergences it found

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

import moonshift.store.types

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

UTC = moonshift.store.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "validations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("migration_id", sa.String(length=63), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("results", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("started_at", UTC, nullable=False),
        sa.Column("ended_at", UTC, nullable=True),
        sa.ForeignKeyConstraint(
            ["migration_id"],
            ["migrations.id"],
            name=op.f("fk_validations_migration_id_migrations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_validations")),
    )
    op.create_index(op.f("ix_validations_migration_id_id"), "validations", ["migration_id", "id"])
    op.create_table(
        "validation_divergences",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("validation_id", sa.Integer(), nullable=False),
        sa.Column("perspective", sa.String(length=24), nullable=False),
        sa.Column("table_name", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("what", sa.Text(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["validation_id"],
            ["validations.id"],
            name=op.f("fk_validation_divergences_validation_id_validations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_validation_divergences")),
    )
    op.create_index(
        op.f("ix_validation_divergences_validation_id_id"),
        "validation_divergences",
        ["validation_id", "id"],
    )


def downgrade() -> None:
    op.drop_table("validation_divergences")
    op.drop_table("validations")
