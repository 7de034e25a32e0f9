"""refresh retries: a rotation's successor response, sealed for grace retries of the rotated
token (RFC 9700 §4.14.2, ``piksend.oauth.refresh_grace``)

Each row is opened only with the rotated refresh token, which no row holds
(``storage/oauth/sealed.py``); rows live for ``PIKSEND_REFRESH_GRACE_SECONDS``.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "refresh_retries",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("successor_digest", sa.String(length=64), nullable=False),
        sa.Column("consent_id", sa.String(length=40), nullable=False),
        sa.Column("client_id", sa.String(length=255), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["consent_id"],
            ["consents.id"],
            name=op.f("fk_refresh_retries_consent_id_consents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_refresh_retries")),
        sa.UniqueConstraint("successor_digest", name=op.f("uq_refresh_retries_successor_digest")),
    )
    with op.batch_alter_table("refresh_retries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_refresh_retries_consent_id"), ["consent_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_refresh_retries_expires_at"), ["expires_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("refresh_retries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_refresh_retries_expires_at"))
        batch_op.drop_index(batch_op.f("ix_refresh_retries_consent_id"))
    op.drop_table("refresh_retries")
