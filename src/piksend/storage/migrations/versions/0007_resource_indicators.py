"""resource indicators: the one resource (RFC 8707 §2) of each pending request, code and token

Rows from before this revision get the path ``/api/v1``: the migration cannot know the issuer,
and ``piksend.oauth.resources`` reads that path as the issuer's API, the only resource there
was. New rows carry the resource's absolute URL.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_TABLES = ("pending_authorizations", "authorization_codes", "tokens")


def upgrade() -> None:
    for table in _TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column(
                    "resource", sa.String(length=2000), server_default="/api/v1", nullable=False
                )
            )


def downgrade() -> None:
    # Without the column every row would be the API's: a token for another resource (the MCP
    # endpoint) must not become an API token, so those rows go. (``table`` is a constant.)
    for table in _TABLES:
        op.execute(f"DELETE FROM {table} WHERE resource NOT LIKE '%/api/v1'")  # noqa: S608
    for table in reversed(_TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("resource")
