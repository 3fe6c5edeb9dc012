"""Hot issues: a group's first case keeps how many cases the group has, counted as each
joins, so that the size a new member's answer reports is one row's read instead of a
count of every member (which read one table page per member where PostgreSQL's
visibility map is not kept up, as without autovacuum).

Revision ID: 0005
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("cases", sa.Column("hot_group_size", sa.Integer, nullable=True))
    op.execute("UPDATE cases SET hot_group_size = (SELECT count(*) FROM cases AS member WHERE member.hot_group = cases.id) "
               "WHERE id IN (SELECT hot_group FROM cases WHERE hot_group IS NOT NULL)")


def downgrade():
    op.drop_column("cases", "hot_group_size")
