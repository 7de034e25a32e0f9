"""client secret facts and one-time reveals (issue 17, items 2 and 4)

Each of an app's two live secrets (the current one and the previous one in its grace period)
gets its creation time, its last four characters (4 of 43 random base64url characters: nothing
that authenticates) and its last use, recorded at most once an hour; ``secret_reveals`` holds a
freshly made secret sealed for one read by the browser that made it (POST-redirect-GET).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

_FACTS = ("secret", "previous_secret")


def upgrade() -> None:
    with op.batch_alter_table("clients", schema=None) as batch_op:
        for slot in _FACTS:
            batch_op.add_column(
                sa.Column(f"{slot}_created_at", sa.DateTime(timezone=True), nullable=True)
            )
            batch_op.add_column(sa.Column(f"{slot}_last_four", sa.String(length=4), nullable=True))
            batch_op.add_column(
                sa.Column(f"{slot}_used_at", sa.DateTime(timezone=True), nullable=True)
            )
    op.create_table(
        "secret_reveals",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=40), nullable=False),
        sa.Column("client_id", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.id"],
            name=op.f("fk_secret_reveals_client_id_clients"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_secret_reveals_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_secret_reveals")),
    )
    with op.batch_alter_table("secret_reveals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_secret_reveals_expires_at"), ["expires_at"])
        batch_op.create_index(batch_op.f("ix_secret_reveals_user_id"), ["user_id"])


def downgrade() -> None:
    with op.batch_alter_table("secret_reveals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_secret_reveals_user_id"))
        batch_op.drop_index(batch_op.f("ix_secret_reveals_expires_at"))
    op.drop_table("secret_reveals")
    with op.batch_alter_table("clients", schema=None) as batch_op:
        for slot in reversed(_FACTS):
            for column in ("used_at", "last_four", "created_at"):
                batch_op.drop_column(f"{slot}_{column}")
