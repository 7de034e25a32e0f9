"""private images and honest views (issue 15): a gallery's keep_location switch, and the
digests of the views already counted today

Revision ID: 0015
Revises: 0012
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("galleries", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("keep_location", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.create_table(
        "gallery_visitors",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_gallery_visitors")),
    )
    with op.batch_alter_table("gallery_visitors", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_gallery_visitors_day"), ["day"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("gallery_visitors", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_gallery_visitors_day"))
    op.drop_table("gallery_visitors")
    with op.batch_alter_table("galleries", schema=None) as batch_op:
        batch_op.drop_column("keep_location")
