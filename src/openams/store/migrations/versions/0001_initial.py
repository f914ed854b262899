"""The first schema: estate, meters with wrapped keys, register reads, interval values,
events, quarantine and security events.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _s(name: str, nullable: bool = False) -> sa.Column[int]:
    return sa.Column(name, sa.BigInteger, nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "transformers",
        sa.Column("transformer_id", sa.String(64), nullable=False),
        sa.Column("feeder_id", sa.String(64), nullable=False),
        sa.Column("substation_id", sa.String(64), nullable=False),
        sa.Column("area", sa.String(3), nullable=False),
        sa.Column("grid_type", sa.String(2), nullable=False),
        sa.Column("nominal_voltage_v", sa.SmallInteger, nullable=False),
        sa.PrimaryKeyConstraint("transformer_id", name="pk_transformers"),
    )
    op.create_table(
        "customers",
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("mobile", sa.String(32), nullable=False),
        sa.Column("email", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("customer_id", name="pk_customers"),
    )
    op.create_table(
        "metering_points",
        sa.Column("metering_point_id", sa.String(18), nullable=False),
        sa.Column("transformer_id", sa.String(64), nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("customer_type", sa.String(32), nullable=False),
        sa.Column("street", sa.Text, nullable=False),
        sa.Column("house_number", sa.String(16), nullable=False),
        sa.Column("postcode", sa.String(4), nullable=False),
        sa.Column("municipality", sa.Text, nullable=False),
        sa.Column("area", sa.String(3), nullable=False),
        sa.Column("main_fuse_a", sa.SmallInteger, nullable=False),
        sa.Column("phases", sa.SmallInteger, nullable=False),
        sa.Column("grid_type", sa.String(2), nullable=False),
        sa.PrimaryKeyConstraint("metering_point_id", name="pk_metering_points"),
        sa.ForeignKeyConstraint(
            ["transformer_id"], ["transformers.transformer_id"],
            name="fk_metering_points_transformer_id_transformers",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.customer_id"],
            name="fk_metering_points_customer_id_customers",
        ),
    )  # fmt: skip
    op.create_index("ix_metering_points_transformer_id", "metering_points", ["transformer_id"])
    op.create_table(
        "meters",
        sa.Column("meter_id", sa.String(64), nullable=False),
        sa.Column("metering_point_id", sa.String(18), nullable=False),
        sa.Column("manufacturer", sa.String(32), nullable=False),
        sa.Column("meter_type", sa.String(64), nullable=False),
        sa.Column("phases", sa.SmallInteger, nullable=False),
        sa.Column("system_title", sa.LargeBinary(8), nullable=False),
        sa.Column("ek_wrapped", sa.LargeBinary(40), nullable=False),
        sa.Column("ak_wrapped", sa.LargeBinary(40), nullable=False),
        sa.Column("kek_id", sa.String(16), nullable=False),
        sa.Column("push_interval_s", sa.Integer, nullable=False),
        sa.Column("counter_window", sa.LargeBinary, nullable=True),
        sa.PrimaryKeyConstraint("meter_id", name="pk_meters"),
        sa.UniqueConstraint("system_title", name="uq_meters_system_title"),
        sa.ForeignKeyConstraint(
            ["metering_point_id"], ["metering_points.metering_point_id"],
            name="fk_meters_metering_point_id_metering_points",
        ),
    )  # fmt: skip
    op.create_index("ix_meters_metering_point_id", "meters", ["metering_point_id"])
    op.create_table(
        "register_reads",
        sa.Column("meter_id", sa.String(64), nullable=False),
        _s("read_at_s"),
        _s("received_at_s"),
        sa.Column("invocation_counter", sa.BigInteger, nullable=True),
        sa.Column("import_wh", sa.BigInteger, nullable=True),
        sa.Column("export_wh", sa.BigInteger, nullable=True),
        sa.Column("reactive_import_varh", sa.BigInteger, nullable=True),
        sa.Column("reactive_export_varh", sa.BigInteger, nullable=True),
        sa.PrimaryKeyConstraint("meter_id", "read_at_s", name="pk_register_reads"),
    )
    op.create_index(
        "ix_register_reads_meter_id_invocation_counter",
        "register_reads",
        ["meter_id", "invocation_counter"],
    )
    op.create_table(
        "interval_values",
        sa.Column("metering_point_id", sa.String(18), nullable=False),
        sa.Column("resolution_s", sa.Integer, nullable=False),
        _s("start_at_s"),
        sa.Column("import_wh", sa.BigInteger, nullable=True),
        sa.Column("export_wh", sa.BigInteger, nullable=True),
        sa.Column("reactive_import_varh", sa.BigInteger, nullable=True),
        sa.Column("reactive_export_varh", sa.BigInteger, nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("validation", sa.Text, nullable=True),
        sa.Column("estimation", sa.Text, nullable=True),
        _s("updated_at_s"),
        sa.PrimaryKeyConstraint(
            "metering_point_id", "resolution_s", "start_at_s", name="pk_interval_values"
        ),
        postgresql_partition_by="RANGE (start_at_s)",
    )
    if op.get_bind().dialect.name == "postgresql":
        # rows of a month without its own partition land here rather than fail
        op.execute("CREATE TABLE interval_values_default PARTITION OF interval_values DEFAULT")
    op.create_table(
        "events",
        sa.Column("event_id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("meter_id", sa.String(64), nullable=False),
        sa.Column("metering_point_id", sa.String(18), nullable=True),
        _s("at_s"),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("log", sa.String(32), nullable=False),
        sa.Column("code", sa.SmallInteger, nullable=False),
        sa.Column("invocation_counter", sa.BigInteger, nullable=True),
        _s("received_at_s"),
        sa.PrimaryKeyConstraint("event_id", name="pk_events"),
        sa.UniqueConstraint("meter_id", "at_s", "name", name="uq_events_meter_id_at_s_name"),
    )
    op.create_index("ix_events_metering_point_id_at_s", "events", ["metering_point_id", "at_s"])
    op.create_index(
        "ix_events_meter_id_invocation_counter", "events", ["meter_id", "invocation_counter"]
    )
    op.create_table(
        "quarantine",
        sa.Column("quarantine_id", sa.Integer, autoincrement=True, nullable=False),
        _s("received_at_s"),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("source", sa.Text, nullable=True),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("system_title", sa.LargeBinary(8), nullable=True),
        sa.Column("raw", sa.LargeBinary, nullable=False),
        _s("retried_at_s", nullable=True),
        sa.Column("resolved", sa.SmallInteger, nullable=False),
        sa.PrimaryKeyConstraint("quarantine_id", name="pk_quarantine"),
    )
    op.create_index("ix_quarantine_reason", "quarantine", ["reason"])
    op.create_table(
        "security_events",
        sa.Column("security_event_id", sa.Integer, autoincrement=True, nullable=False),
        _s("at_s"),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("system_title", sa.LargeBinary(8), nullable=True),
        sa.Column("meter_id", sa.String(64), nullable=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("quarantine_id", sa.Integer, nullable=True),
        sa.PrimaryKeyConstraint("security_event_id", name="pk_security_events"),
    )


def downgrade() -> None:
    for table in (
        "security_events", "quarantine", "events", "interval_values", "register_reads",
        "meters", "metering_points", "customers", "transformers",
    ):  # fmt: skip
        op.drop_table(table)
