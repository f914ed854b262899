"""HAN port opening requests.

At most one open request per metering point: a unique index over the open requests only
(partial, on SQLite and PostgreSQL alike).

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_OPEN = sa.text("status = 'requested'")


def upgrade() -> None:
    op.create_table(
        "han_requests",
        sa.Column("request_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("metering_point_id", sa.String(18), nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("requested_at_s", sa.BigInteger, nullable=False),
        sa.Column("deadline_day", sa.String(10), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("closed_at_s", sa.BigInteger, nullable=True),
        sa.Column("closed_by", sa.String(254), nullable=True),
        sa.Column("reason", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("request_id", name="pk_han_requests"),
        sa.ForeignKeyConstraint(
            ["metering_point_id"],
            ["metering_points.metering_point_id"],
            name="fk_han_requests_metering_point_id_metering_points",
        ),
    )
    op.create_index("ix_han_requests_metering_point_id", "han_requests", ["metering_point_id"])
    op.create_index(
        "ix_han_requests_status_deadline_day", "han_requests", ["status", "deadline_day"]
    )
    op.create_index(
        "uq_han_requests_open_metering_point_id",
        "han_requests",
        ["metering_point_id"],
        unique=True,
        sqlite_where=_OPEN,
        postgresql_where=_OPEN,
    )


def downgrade() -> None:
    op.drop_index("uq_han_requests_open_metering_point_id", table_name="han_requests")
    op.drop_index("ix_han_requests_status_deadline_day", table_name="han_requests")
    op.drop_index("ix_han_requests_metering_point_id", table_name="han_requests")
    op.drop_table("han_requests")
