"""VEE and the Elhub delivery: indexes by time, where a quarantined push belongs, the audit
of manual edits and the record of what was delivered to Elhub.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # VEE and the export read a day of every metering point at once
    op.create_index("ix_interval_values_start_at_s", "interval_values", ["start_at_s"])
    op.create_index("ix_register_reads_read_at_s", "register_reads", ["read_at_s"])
    with op.batch_alter_table("quarantine") as batch:
        batch.add_column(sa.Column("meter_id", sa.String(64), nullable=True))
        batch.add_column(sa.Column("at_s", sa.BigInteger, nullable=True))
    op.create_table(
        "value_edits",
        sa.Column("edit_id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("edited_at_s", sa.BigInteger, nullable=False),
        sa.Column("edited_by", sa.String(64), nullable=False),
        sa.Column("metering_point_id", sa.String(18), nullable=False),
        sa.Column("resolution_s", sa.Integer, nullable=False),
        sa.Column("start_at_s", sa.BigInteger, nullable=False),
        sa.Column("old_import_wh", sa.BigInteger, nullable=True),
        sa.Column("new_import_wh", sa.BigInteger, nullable=True),
        sa.Column("old_export_wh", sa.BigInteger, nullable=True),
        sa.Column("new_export_wh", sa.BigInteger, nullable=True),
        sa.Column("old_status", sa.String(16), nullable=False),
        sa.Column("new_status", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("edit_id", name="pk_value_edits"),
    )
    op.create_index(
        "ix_value_edits_metering_point_id_start_at_s",
        "value_edits",
        ["metering_point_id", "start_at_s"],
    )
    op.create_table(
        "elhub_deliveries",
        sa.Column("metering_point_id", sa.String(18), nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("direction", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("series_id", sa.String(36), nullable=False),
        sa.Column("message_id", sa.String(36), nullable=False),
        sa.Column("file", sa.Text, nullable=False),
        sa.Column("delivered_at_s", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint(
            "metering_point_id", "day", "direction", "version", name="pk_elhub_deliveries"
        ),
    )
    op.create_index("ix_elhub_deliveries_day", "elhub_deliveries", ["day"])


def downgrade() -> None:
    op.drop_table("elhub_deliveries")
    op.drop_table("value_edits")
    with op.batch_alter_table("quarantine") as batch:
        batch.drop_column("at_s")
        batch.drop_column("meter_id")
    op.drop_index("ix_register_reads_read_at_s", "register_reads")
    op.drop_index("ix_interval_values_start_at_s", "interval_values")
