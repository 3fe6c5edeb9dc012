"""Repeat petitions: each case with a caller keeps its text's TF-IDF row, so that the
caller's later cases are compared with it without featurising its text again.

Revision ID: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("cases") as batch:  # SQLite: copy-and-move
        batch.add_column(sa.Column("features", sa.LargeBinary, nullable=True))


def downgrade():
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("features")
