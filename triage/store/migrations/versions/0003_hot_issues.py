"""Hot issues: each case's text sketch and the hot-issue group it belongs to.

Revision ID: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("cases", sa.Column("hot_group", sa.Integer, nullable=True))
    op.add_column("cases", sa.Column("sketch", sa.LargeBinary, nullable=True))
    op.add_column("cases", sa.Column("sketch_model", sa.String(64), nullable=True))
    op.create_index("ix_cases_hot_candidates", "cases", ["category", "received_at"])
    op.create_index("ix_cases_hot_group", "cases", ["hot_group"])


def downgrade():
    op.drop_index("ix_cases_hot_group", "cases")
    op.drop_index("ix_cases_hot_candidates", "cases")
    # In place (SQLite 3.35+): a copy-and-move of ``cases`` breaks its events' foreign keys.
    for column in ("sketch_model", "sketch", "hot_group"):
        op.drop_column("cases", column)
