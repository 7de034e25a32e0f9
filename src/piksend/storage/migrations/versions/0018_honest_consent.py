"""honest consent: an app's operator verification, and its logo as piksend serves it

``clients.verified_at`` is set by ``piksend apps verify``;
``client_logos`` holds each app's logo fetched once and re-encoded as a small PNG (issue 15).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "client_logos",
        sa.Column("client_id", sa.String(length=255), nullable=False),
        sa.Column("source_url", sa.String(length=2000), nullable=False),
        sa.Column("png", sa.LargeBinary(), nullable=True),
        sa.Column("digest", sa.String(length=64), nullable=True),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.id"],
            name=op.f("fk_client_logos_client_id_clients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("client_id", name=op.f("pk_client_logos")),
    )


def downgrade() -> None:
    op.drop_table("client_logos")
    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.drop_column("verified_at")
