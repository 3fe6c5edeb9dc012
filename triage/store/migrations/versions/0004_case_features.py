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


# Plain ALTER TABLE on both databases (SQLite adds and, since 3.35, drops a column in
# place): a copy-and-move of ``cases`` would break the foreign keys of its events and keys.


def upgrade():
    op.add_column("cases", sa.Column("features", sa.LargeBinary, nullable=True))


def downgrade():
    op.drop_column("cases", "features")
