"""Planning and approval: stored plans with their digest, approvals bound to a digest

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

import moonshift.store.types

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

UTC = moonshift.store.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "plans",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("migration_id", sa.String(length=63), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("spec_version", sa.Integer(), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("author", sa.String(length=200), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["migration_id"], ["migrations.id"], name=op.f("fk_plans_migration_id_migrations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plans")),
        sa.UniqueConstraint("migration_id", "version", name=op.f("uq_plans_migration_id_version")),
    )
    op.create_index(op.f("ix_plans_run_id"), "plans", ["run_id"])
    op.create_table(
        "approvals",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("migration_id", sa.String(length=63), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("at", UTC, nullable=False),
        sa.Column("void_at", UTC, nullable=True),
        sa.Column("void_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["migration_id"],
            ["migrations.id"],
            name=op.f("fk_approvals_migration_id_migrations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approvals")),
        sa.UniqueConstraint(
            "run_id", "digest", "actor", name=op.f("uq_approvals_run_id_digest_actor")
        ),
    )
    op.create_index(op.f("ix_approvals_migration_id_id"), "approvals", ["migration_id", "id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_approvals_migration_id_id"), table_name="approvals")
    op.drop_table("approvals")
    op.drop_index(op.f("ix_plans_run_id"), table_name="plans")
    op.drop_table("plans")
