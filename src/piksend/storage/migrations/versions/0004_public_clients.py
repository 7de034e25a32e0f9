"""public clients: a client type on every app, and no secret for a public one (RFC 6749 §2.1)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_CHECK = (
    "(client_type = 'public' AND secret_digest IS NULL AND previous_secret_digest IS NULL)"
    " OR (client_type = 'confidential' AND secret_digest IS NOT NULL)"
)


def upgrade() -> None:
    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "client_type",
                sa.String(length=20),
                server_default="confidential",
                nullable=False,
            )
        )
        batch_op.alter_column("secret_digest", existing_type=sa.String(length=64), nullable=True)
        batch_op.create_check_constraint(op.f("ck_clients_client_type_secret"), _CHECK)


def downgrade() -> None:
    # A public app has no secret to keep: it cannot survive a schema where every app has one.
    op.execute("DELETE FROM clients WHERE client_type = 'public'")
    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_clients_client_type_secret"), type_="check")
        batch_op.alter_column("secret_digest", existing_type=sa.String(length=64), nullable=False)
        batch_op.drop_column("client_type")
