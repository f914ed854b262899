"""Prices: day-ahead spot prices per bidding zone and market time unit, and exchange rates.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "spot_prices",
        sa.Column("zone", sa.String(3), nullable=False),
        sa.Column("resolution_s", sa.Integer, nullable=False),
        sa.Column("start_at_s", sa.BigInteger, nullable=False),
        sa.Column("price_per_mwh", sa.String(32), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("imported_at_s", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("zone", "resolution_s", "start_at_s", name="pk_spot_prices"),
    )
    op.create_index("ix_spot_prices_start_at_s", "spot_prices", ["start_at_s"])
    op.create_table(
        "exchange_rates",
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("nok_per_unit", sa.String(32), nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("imported_at_s", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("day", "currency", name="pk_exchange_rates"),
    )


def downgrade() -> None:
    op.drop_table("exchange_rates")
    op.drop_index("ix_spot_prices_start_at_s", table_name="spot_prices")
    op.drop_table("spot_prices")
