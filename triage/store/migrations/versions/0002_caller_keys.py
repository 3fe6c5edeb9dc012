"""Caller keys: keyed hashes of callers' phone and ID numbers, to link their cases.

Revision ID: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "caller_keys",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("received_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_caller_keys_case_id", "caller_keys", ["case_id"])
    op.create_index("ix_caller_keys_lookup", "caller_keys", ["key", "received_at"])


def downgrade():
    op.drop_table("caller_keys")
