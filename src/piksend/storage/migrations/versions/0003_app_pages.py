"""one-time form nonces and integration test requests (developer pages)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "form_nonces",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=40), nullable=False),
        sa.Column("purpose", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("client_id", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_form_nonces_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_form_nonces")),
    )
    with op.batch_alter_table("form_nonces", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_form_nonces_expires_at"), ["expires_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_form_nonces_user_id"), ["user_id"], unique=False)

    op.create_table(
        "integration_tests",
        sa.Column("state_digest", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=40), nullable=False),
        sa.Column("code_verifier", sa.String(length=128), nullable=False),
        sa.Column("redirect_uri", sa.String(length=2000), nullable=False),
        sa.Column("scope", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.id"],
            name=op.f("fk_integration_tests_client_id_clients"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_integration_tests_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("state_digest", name=op.f("pk_integration_tests")),
    )
    with op.batch_alter_table("integration_tests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_integration_tests_client_id"), ["client_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_integration_tests_expires_at"), ["expires_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_integration_tests_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("integration_tests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_integration_tests_user_id"))
        batch_op.drop_index(batch_op.f("ix_integration_tests_expires_at"))
        batch_op.drop_index(batch_op.f("ix_integration_tests_client_id"))
    op.drop_table("integration_tests")
    with op.batch_alter_table("form_nonces", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_form_nonces_user_id"))
        batch_op.drop_index(batch_op.f("ix_form_nonces_expires_at"))
    op.drop_table("form_nonces")
