"""The portal's reads: metering points by customer, and a version number of the prices.

Every page of the portal asks for the customer's metering points (an index on
``metering_points.customer_id`` instead of a scan of all of them). ``data_versions`` holds a
number per kind of data that every change raises, so that a process keeping what it worked
out from that data (the hourly prices in NOK, :class:`openams.services.prices.PriceCache`)
can tell with one read whether it is still current, whichever process changed the data.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_metering_points_customer_id", "metering_points", ["customer_id"])
    versions = op.create_table(
        "data_versions",
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("version", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_data_versions"),
    )
    op.bulk_insert(versions, [{"name": "prices", "version": 0}])


def downgrade() -> None:
    op.drop_table("data_versions")
    op.drop_index("ix_metering_points_customer_id", table_name="metering_points")
