"""clients without a human: ownerless apps registered by themselves (RFC 7591) or named by a
client ID metadata document, whose https URL is their client_id (so ids grow to 255 characters)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_RULE = (
    "(registered_via = 'owner' AND owner_id IS NOT NULL AND registration_token_digest IS NULL)"
    " OR (registered_via = 'dynamic' AND owner_id IS NULL"
    " AND registration_token_digest IS NOT NULL)"
    " OR (registered_via = 'metadata_document' AND owner_id IS NULL"
    " AND registration_token_digest IS NULL AND client_type = 'public')"
)
# Every column holding a client_id, and whether it is the clients table's own key.
_CLIENT_ID_COLUMNS = (
    ("pending_authorizations", "client_id"),
    ("consents", "client_id"),
    ("authorization_codes", "client_id"),
    ("tokens", "client_id"),
    ("integration_tests", "client_id"),
    ("webhooks", "client_id"),
    ("form_nonces", "client_id"),
)


def _widen(length_from: int, length_to: int) -> None:
    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.alter_column(
            "id",
            existing_type=sa.String(length=length_from),
            type_=sa.String(length=length_to),
        )
    for table, column in _CLIENT_ID_COLUMNS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(
                column,
                existing_type=sa.String(length=length_from),
                type_=sa.String(length=length_to),
            )


def upgrade() -> None:
    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "registered_via", sa.String(length=20), server_default="owner", nullable=False
            )
        )
        batch_op.add_column(
            sa.Column("registration_token_digest", sa.String(length=64), nullable=True)
        )
        batch_op.alter_column("owner_id", existing_type=sa.String(length=40), nullable=True)
        batch_op.create_check_constraint(op.f("ck_clients_registered_via_owner"), _RULE)
    _widen(64, 255)


def downgrade() -> None:
    # Apps without an owner cannot survive a schema where every app has one.
    op.execute("DELETE FROM clients WHERE owner_id IS NULL")
    _widen(255, 64)
    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_clients_registered_via_owner"), type_="check")
        batch_op.alter_column("owner_id", existing_type=sa.String(length=40), nullable=False)
        batch_op.drop_column("registration_token_digest")
        batch_op.drop_column("registered_via")
