"""The access log: who looked at or changed which customer's data, and when.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "access_log",
        sa.Column("access_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at_s", sa.BigInteger, nullable=False),
        sa.Column("account_id", sa.Integer, nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("metering_point_id", sa.String(18), nullable=True),
        sa.Column("customer_id", sa.String(64), nullable=True),
        sa.Column("detail", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("access_id", name="pk_access_log"),
    )
    op.create_index("ix_access_log_customer_id_at_s", "access_log", ["customer_id", "at_s"])
    op.create_index(
        "ix_access_log_metering_point_id_at_s", "access_log", ["metering_point_id", "at_s"]
    )


def downgrade() -> None:
    op.drop_index("ix_access_log_metering_point_id_at_s", table_name="access_log")
    op.drop_index("ix_access_log_customer_id_at_s", table_name="access_log")
    op.drop_table("access_log")
