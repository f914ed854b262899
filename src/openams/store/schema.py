"""The tables of the meter data store (SQLAlchemy Core), the same on SQLite and PostgreSQL.

Units are in the column names. Times are whole seconds since the Unix epoch (UTC), in
columns ending ``_at_s``; the Python API turns them into aware datetimes. Energy is integer
Wh / varh. Meter keys are never stored in clear: only
wrapped with the key-encrypting key (docs/keys.md), with the id of that key beside them.

Interval values are one row per metering point and interval, with a column per quantity, the
Elhub status of the value and, when it did not pass as measured, the validation that failed
and the estimation method. On PostgreSQL the values table is partitioned by month
(migration 0001 and :func:`openams.store.engine.ensure_month_partitions`).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
)

__all__ = [
    "access_log",
    "accounts",
    "customers",
    "daily_usage",
    "data_versions",
    "elhub_deliveries",
    "events",
    "exchange_rates",
    "interval_values",
    "metadata",
    "metering_points",
    "meters",
    "quarantine",
    "register_reads",
    "security_events",
    "settlements",
    "spot_prices",
    "supply_periods",
    "transformers",
    "value_edits",
    "web_sessions",
]

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def _epoch(name: str, **kw: object) -> Column[int]:
    """A time as whole seconds since the Unix epoch (UTC): compact, fast and the same on
    SQLite and PostgreSQL (where it is also the partition key of the values table)."""
    return Column(name, BigInteger, **kw)  # type: ignore[arg-type]


transformers = Table(
    "transformers",
    metadata,
    Column("transformer_id", String(64), primary_key=True),
    Column("feeder_id", String(64), nullable=False),
    Column("substation_id", String(64), nullable=False),
    Column("area", String(3), nullable=False),
    Column("grid_type", String(2), nullable=False),
    Column("nominal_voltage_v", SmallInteger, nullable=False),
)

customers = Table(
    "customers",
    metadata,
    Column("customer_id", String(64), primary_key=True),
    Column("name", Text, nullable=False),
    Column("mobile", String(32), nullable=False, default=""),
    Column("email", Text, nullable=False, default=""),
)

metering_points = Table(
    "metering_points",
    metadata,
    Column("metering_point_id", String(18), primary_key=True),
    Column("transformer_id", ForeignKey("transformers.transformer_id"), nullable=False),
    Column("customer_id", ForeignKey("customers.customer_id"), nullable=False),
    Column("customer_type", String(32), nullable=False),
    Column("street", Text, nullable=False),
    Column("house_number", String(16), nullable=False),
    Column("postcode", String(4), nullable=False),
    Column("municipality", Text, nullable=False),
    Column("area", String(3), nullable=False),
    Column("main_fuse_a", SmallInteger, nullable=False),
    Column("phases", SmallInteger, nullable=False),
    Column("grid_type", String(2), nullable=False),
    Index(None, "transformer_id"),
    Index(None, "customer_id"),
)

meters = Table(
    "meters",
    metadata,
    Column("meter_id", String(64), primary_key=True),
    Column("metering_point_id", ForeignKey("metering_points.metering_point_id"), nullable=False),
    Column("manufacturer", String(32), nullable=False),
    Column("meter_type", String(64), nullable=False),
    Column("phases", SmallInteger, nullable=False),
    Column("system_title", LargeBinary(8), nullable=False),
    Column("ek_wrapped", LargeBinary(40), nullable=False),
    Column("ak_wrapped", LargeBinary(40), nullable=False),
    Column("kek_id", String(16), nullable=False),
    Column("push_interval_s", Integer, nullable=False),
    # the invocation counters accepted from this meter (openams.domain.counters)
    Column("counter_window", LargeBinary, nullable=True),
    UniqueConstraint("system_title"),
    Index(None, "metering_point_id"),
)

register_reads = Table(
    "register_reads",
    metadata,
    Column("meter_id", String(64), nullable=False),
    _epoch("read_at_s", nullable=False),  # the meter's clock, as pushed
    _epoch("received_at_s", nullable=False),
    Column("invocation_counter", BigInteger, nullable=True),
    Column("import_wh", BigInteger, nullable=True),
    Column("export_wh", BigInteger, nullable=True),
    Column("reactive_import_varh", BigInteger, nullable=True),
    Column("reactive_export_varh", BigInteger, nullable=True),
    PrimaryKeyConstraint("meter_id", "read_at_s"),
    Index(None, "meter_id", "invocation_counter"),
    Index(None, "read_at_s"),
)

interval_values = Table(
    "interval_values",
    metadata,
    Column("metering_point_id", String(18), nullable=False),
    Column("resolution_s", Integer, nullable=False),  # 3600 or 900
    _epoch("start_at_s", nullable=False),
    Column("import_wh", BigInteger, nullable=True),
    Column("export_wh", BigInteger, nullable=True),
    Column("reactive_import_varh", BigInteger, nullable=True),
    Column("reactive_export_varh", BigInteger, nullable=True),
    # Elhub status: measured, estimated, final_estimated, temporary, rejected, missing
    Column("status", String(16), nullable=False),
    Column("validation", Text, nullable=True),  # the failed validation, if any
    Column("estimation", Text, nullable=True),  # the estimation method, if estimated
    _epoch("updated_at_s", nullable=False),
    PrimaryKeyConstraint("metering_point_id", "resolution_s", "start_at_s"),
    Index(None, "start_at_s"),
    postgresql_partition_by="RANGE (start_at_s)",
)

events = Table(
    "events",
    metadata,
    Column("event_id", Integer, primary_key=True, autoincrement=True),
    Column("meter_id", String(64), nullable=False),
    Column("metering_point_id", String(18), nullable=True),
    _epoch("at_s", nullable=False),
    Column("name", String(64), nullable=False),
    Column("log", String(32), nullable=False),
    Column("code", SmallInteger, nullable=False),
    Column("invocation_counter", BigInteger, nullable=True),
    _epoch("received_at_s", nullable=False),
    UniqueConstraint("meter_id", "at_s", "name"),
    Index(None, "metering_point_id", "at_s"),
    Index(None, "meter_id", "invocation_counter"),
)

quarantine = Table(
    "quarantine",
    metadata,
    Column("quarantine_id", Integer, primary_key=True, autoincrement=True),
    _epoch("received_at_s", nullable=False),
    Column("channel", String(16), nullable=False),  # file, tcp, mqtt
    Column("source", Text, nullable=True),  # file name and line, peer address, topic
    Column("reason", String(32), nullable=False),  # an error code (docs/cli.md)
    Column("message", Text, nullable=False),
    Column("system_title", LargeBinary(8), nullable=True),
    Column("raw", LargeBinary, nullable=False),
    _epoch("retried_at_s", nullable=True),
    Column("resolved", SmallInteger, nullable=False, default=0),
    Column("meter_id", String(64), nullable=True),  # when the push could be decoded
    _epoch("at_s", nullable=True),  # the meter's clock in the push, when known
    Index(None, "reason"),
)

security_events = Table(
    "security_events",
    metadata,
    Column("security_event_id", Integer, primary_key=True, autoincrement=True),
    _epoch("at_s", nullable=False),
    Column("kind", String(32), nullable=False),  # auth_failed, replay, no_key
    Column("system_title", LargeBinary(8), nullable=True),
    Column("meter_id", String(64), nullable=True),
    Column("channel", String(16), nullable=False),
    Column("detail", Text, nullable=False),
    Column("quarantine_id", Integer, nullable=True),
)

value_edits = Table(
    "value_edits",
    metadata,
    Column("edit_id", Integer, primary_key=True, autoincrement=True),
    _epoch("edited_at_s", nullable=False),
    Column("edited_by", String(64), nullable=False),
    Column("metering_point_id", String(18), nullable=False),
    Column("resolution_s", Integer, nullable=False),
    _epoch("start_at_s", nullable=False),
    Column("old_import_wh", BigInteger, nullable=True),
    Column("new_import_wh", BigInteger, nullable=True),
    Column("old_export_wh", BigInteger, nullable=True),
    Column("new_export_wh", BigInteger, nullable=True),
    Column("old_status", String(16), nullable=False),
    Column("new_status", String(16), nullable=False),
    Column("reason", Text, nullable=False),
    Index(None, "metering_point_id", "start_at_s"),
)

elhub_deliveries = Table(
    "elhub_deliveries",
    metadata,
    Column("metering_point_id", String(18), nullable=False),
    Column("day", String(10), nullable=False),  # the local day, ISO
    Column("direction", String(16), nullable=False),  # consumption, production
    Column("version", Integer, nullable=False),
    Column("digest", String(64), nullable=False),  # of the series' values and statuses
    Column("series_id", String(36), nullable=False),
    Column("message_id", String(36), nullable=False),
    Column("file", Text, nullable=False),
    _epoch("delivered_at_s", nullable=False),
    PrimaryKeyConstraint("metering_point_id", "day", "direction", "version"),
    Index(None, "day"),
)

# Prices are kept as the exact decimal text they were published with (SQLite has no exact
# decimal type; text is exact on both stores and Decimal reads it back unchanged).
spot_prices = Table(
    "spot_prices",
    metadata,
    Column("zone", String(3), nullable=False),  # NO1 .. NO5
    Column("resolution_s", Integer, nullable=False),  # 3600 or 900
    _epoch("start_at_s", nullable=False),
    Column("price_per_mwh", String(32), nullable=False),  # decimal text, in currency
    Column("currency", String(3), nullable=False),
    Column("source", Text, nullable=False),  # the file it came from
    _epoch("imported_at_s", nullable=False),
    PrimaryKeyConstraint("zone", "resolution_s", "start_at_s"),
    Index(None, "start_at_s"),
)

exchange_rates = Table(
    "exchange_rates",
    metadata,
    Column("day", String(10), nullable=False),  # ISO date of the rate
    Column("currency", String(3), nullable=False),
    Column("nok_per_unit", String(32), nullable=False),  # decimal text
    Column("source", Text, nullable=False),
    _epoch("imported_at_s", nullable=False),
    PrimaryKeyConstraint("day", "currency"),
)

# A number per kind of data ("prices": spot prices and exchange rates) that every change of
# it raises, so a process keeping what it worked out from the data can tell whether that is
# still current (services/prices.py, PriceCache).
data_versions = Table(
    "data_versions",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("version", BigInteger, nullable=False),
)

# Who is billed for a metering point from which day: a move in or out mid-month starts or
# ends a supply; a metering point without rows is supplied to its customer all along.
supply_periods = Table(
    "supply_periods",
    metadata,
    Column("metering_point_id", String(18), nullable=False),
    Column("from_day", String(10), nullable=False),  # ISO, first day supplied
    Column("to_day", String(10), nullable=True),  # ISO, last day supplied (included)
    Column("customer_id", String(64), nullable=False),
    Column("norgespris", SmallInteger, nullable=False, default=0),
    PrimaryKeyConstraint("metering_point_id", "from_day"),
)

# Every settlement run is kept: version 1 is the first bill of a supply's month, each later
# version a re-settlement billing the difference. Money and kWh are exact decimal text.
settlements = Table(
    "settlements",
    metadata,
    Column("metering_point_id", String(18), nullable=False),
    Column("first_day", String(10), nullable=False),  # ISO, first day settled
    Column("version", Integer, nullable=False),
    Column("month", String(7), nullable=False),  # YYYY-MM
    Column("customer_id", String(64), nullable=False),
    Column("kind", String(16), nullable=False),  # settlement, resettlement
    Column("company", String(128), nullable=False),  # the grid company billing
    Column("tariff", String(64), nullable=False),  # the tariff's code
    Column("total_nok", String(32), nullable=False),  # billed by this run
    Column("billed", Text, nullable=False),  # JSON: the lines billed by this run
    Column("full", Text, nullable=False),  # JSON: the month as computed; empty: as billed
    _epoch("settled_at_s", nullable=False),
    PrimaryKeyConstraint("metering_point_id", "first_day", "version"),
    Index(None, "month"),
)

# A metering point's validated hourly values of a local day, packed (store/usage.py): what
# settlement reads, one row per metering point and day instead of one per hour.
daily_usage = Table(
    "daily_usage",
    metadata,
    Column("metering_point_id", String(18), nullable=False),
    Column("day", String(10), nullable=False),  # ISO, local
    Column("import_wh", LargeBinary, nullable=False),  # int64 LE per hour, -1: none usable
    Column("export_wh", LargeBinary, nullable=False),  # int64 LE per hour
    Column("estimated", BigInteger, nullable=False),  # bit n: hour n estimated
    _epoch("updated_at_s", nullable=False),
    PrimaryKeyConstraint("metering_point_id", "day"),
    Index(None, "day"),
)

# Who logs in to the portal and the console (services/accounts.py): argon2 hashes only.
accounts = Table(
    "accounts",
    metadata,
    Column("account_id", Integer, primary_key=True, autoincrement=True),
    Column("email", String(254), nullable=False, unique=True),
    Column("password_hash", Text, nullable=False),
    Column("role", String(16), nullable=False),
    Column("customer_id", String(64), nullable=True),
    Column("failed_logins", Integer, nullable=False, default=0),
    _epoch("locked_until_s", nullable=False),
    _epoch("created_at_s", nullable=False),
)

# Logged-in browsers: the SHA-256 of the cookie's token, never the token.
web_sessions = Table(
    "web_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("csrf", String(64), nullable=False),
    Column("account_id", ForeignKey("accounts.account_id"), nullable=False),
    _epoch("expires_at_s", nullable=False),
)

# Who looked at or changed which customer's data, and when (services/audit.py): written by
# the console for every view of a metering point, search and value edit; never changed.
access_log = Table(
    "access_log",
    metadata,
    Column("access_id", Integer, primary_key=True, autoincrement=True),
    _epoch("at_s", nullable=False),
    Column("account_id", Integer, nullable=False),  # no foreign key: the log outlives accounts
    Column("action", String(64), nullable=False),  # view_metering_point, search, edit_value
    Column("metering_point_id", String(18), nullable=True),
    Column("customer_id", String(64), nullable=True),
    Column("detail", Text, nullable=False),
    Index(None, "customer_id", "at_s"),
    Index(None, "metering_point_id", "at_s"),
)

# Bearer tokens of the REST API (services/api_tokens.py): only their SHA-256 is kept.
api_tokens = Table(
    "api_tokens",
    metadata,
    Column("token_id", Integer, primary_key=True, autoincrement=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("account_id", ForeignKey("accounts.account_id"), nullable=False),
    Column("customer_id", String(64), nullable=True),  # a customer's grant reaches theirs only
    Column("label", String(80), nullable=False),
    Column("scopes", Text, nullable=False),  # comma-separated
    _epoch("created_at_s", nullable=False),
    _epoch("expires_at_s", nullable=False),
    _epoch("revoked_at_s", nullable=True),
)

# Customers' requests to open their meter's HAN port (services/han_requests.py). At most one
# open request per metering point: a partial unique index (migration 0008).
han_requests = Table(
    "han_requests",
    metadata,
    Column("request_id", Integer, primary_key=True, autoincrement=True),
    Column("metering_point_id", ForeignKey("metering_points.metering_point_id"), nullable=False),
    Column("customer_id", String(64), nullable=False),  # who asked
    _epoch("requested_at_s", nullable=False),
    Column("deadline_day", String(10), nullable=False),  # ISO, local: the last day to open it
    Column("status", String(16), nullable=False),  # requested, opened, refused
    _epoch("closed_at_s", nullable=True),
    Column("closed_by", String(254), nullable=True),  # the operator's e-mail
    Column("reason", Text, nullable=False),
    Index(None, "metering_point_id"),
    Index(None, "status", "deadline_day"),
)
Index("uq_han_requests_open_metering_point_id", han_requests.c.metering_point_id, unique=True,
      sqlite_where=han_requests.c.status == "requested",
      postgresql_where=han_requests.c.status == "requested")  # fmt: skip

# E-mail written instead of sent, when no mail server is configured (services/mail.py).
outbox = Table(
    "outbox",
    metadata,
    Column("message_id", Integer, primary_key=True, autoincrement=True),
    _epoch("created_at_s", nullable=False),
    Column("to_address", String(254), nullable=False),
    Column("subject", Text, nullable=False),
    Column("body_text", Text, nullable=False),
    Column("body_html", Text, nullable=True),
)

# Changes of a customer's e-mail address waiting for their link (services/contact.py): only
# the SHA-256 of the link's token; the address is the customer's once the link is opened.
email_confirmations = Table(
    "email_confirmations",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("customer_id", String(64), nullable=False),
    Column("email", String(254), nullable=False),
    _epoch("created_at_s", nullable=False),
    _epoch("expires_at_s", nullable=False),
    _epoch("used_at_s", nullable=True),
    Index(None, "customer_id"),
)

# One-time log-in links (services/login_links.py): only the SHA-256 of the token.
login_links = Table(
    "login_links",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("account_id", ForeignKey("accounts.account_id"), nullable=False),
    _epoch("created_at_s", nullable=False),
    _epoch("expires_at_s", nullable=False),
    _epoch("used_at_s", nullable=True),
    Index(None, "account_id", "created_at_s"),
)

# Identities from an identity provider linked to accounts (services/identity.py): a keyed
# hash (HMAC-SHA256 under the site's key) of the national identity number, never the number.
identity_links = Table(
    "identity_links",
    metadata,
    Column("kind", String(16), nullable=False),  # pid
    Column("identity_hash", String(64), nullable=False),
    Column("account_id", ForeignKey("accounts.account_id"), nullable=False),
    _epoch("created_at_s", nullable=False),
    PrimaryKeyConstraint("kind", "identity_hash"),
    Index(None, "account_id"),
)
