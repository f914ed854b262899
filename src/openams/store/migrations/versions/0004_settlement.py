"""Settlement: supply periods (who is billed from which day), every settlement run, and the
daily usage settlement reads (validated hourly values packed per metering point and day).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "supply_periods",
        sa.Column("metering_point_id", sa.String(18), nullable=False),
        sa.Column("from_day", sa.String(10), nullable=False),
        sa.Column("to_day", sa.String(10), nullable=True),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("norgespris", sa.SmallInteger, nullable=False),
        sa.PrimaryKeyConstraint("metering_point_id", "from_day", name="pk_supply_periods"),
    )
    op.create_table(
        "settlements",
        sa.Column("metering_point_id", sa.String(18), nullable=False),
        sa.Column("first_day", sa.String(10), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("company", sa.String(128), nullable=False),
        sa.Column("tariff", sa.String(64), nullable=False),
        sa.Column("total_nok", sa.String(32), nullable=False),
        sa.Column("billed", sa.Text, nullable=False),
        sa.Column("full", sa.Text, nullable=False),
        sa.Column("settled_at_s", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("metering_point_id", "first_day", "version", name="pk_settlements"),
    )
    op.create_index("ix_settlements_month", "settlements", ["month"])
    op.create_table(
        "daily_usage",
        sa.Column("metering_point_id", sa.String(18), nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("import_wh", sa.LargeBinary, nullable=False),
        sa.Column("export_wh", sa.LargeBinary, nullable=False),
        sa.Column("estimated", sa.BigInteger, nullable=False),
        sa.Column("updated_at_s", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("metering_point_id", "day", name="pk_daily_usage"),
    )
    op.create_index("ix_daily_usage_day", "daily_usage", ["day"])


def downgrade() -> None:
    op.drop_index("ix_daily_usage_day", table_name="daily_usage")
    op.drop_table("daily_usage")
    op.drop_index("ix_settlements_month", table_name="settlements")
    op.drop_table("settlements")
    op.drop_table("supply_periods")
