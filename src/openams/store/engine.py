"""Opening the store: the engine, SQLite's settings, migrations to the newest schema.

SQLite runs in WAL mode with ``synchronous=NORMAL`` (durable at each checkpoint, safe against
a crash of the process, the usual setting for WAL) and foreign keys on. PostgreSQL gets the
values table partitioned by month; :func:`ensure_month_partitions` adds partitions before
values of a new month are written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, Select, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError

from openams.errors import InputError

__all__ = [
    "Store",
    "StoreError",
    "ensure_month_partitions",
    "fetch_rows",
    "fetch_rows_in",
    "open_store",
]

_MIGRATIONS = Path(__file__).with_name("migrations")


class StoreError(InputError):
    """The store cannot be opened or used (bad URL, server away, not writable)."""

    code = "store_unavailable"


@dataclass(slots=True)
class Store:
    """An open store: its engine and dialect.

    Attributes:
        engine: The SQLAlchemy engine (a pool of connections).
        url: The URL it was opened with.
        memo: What this process has worked out from the store's data and keeps while the
            store is open, by name (each holder checks itself that it is still current;
            see :class:`openams.services.prices.PriceCache`).
    """

    engine: Engine
    url: str
    memo: dict[str, Any] = field(default_factory=dict)

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    def close(self) -> None:
        """Release the connections and forget what was kept from the data."""
        self.engine.dispose()
        self.memo.clear()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA cache_size=-262144")  # 256 MiB of pages: ingest touches many
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.close()


def _safe_url(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<malformed URL>"


def open_store(url: str, *, migrate: bool = True) -> Store:
    """Open the store at ``url`` and bring its schema up to date.

    Args:
        url: A SQLAlchemy URL: ``sqlite:///openams.db`` or
            ``postgresql+psycopg://user@host/db`` (``postgresql://`` means psycopg 3).
        migrate: Run the migrations (the default; every entry point does).

    Raises:
        StoreError: a malformed URL, an unknown database, or one that cannot be reached.
    """
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    try:
        engine = create_engine(url, future=True)
    except (ArgumentError, ImportError) as exc:
        raise StoreError(f"cannot use the database URL: {exc}", source=_safe_url(url)) from None
    if engine.dialect.name not in ("sqlite", "postgresql"):
        raise StoreError(
            "OpenAMS stores in SQLite or PostgreSQL", source=_safe_url(url)
        )  # pragma: no cover - create_engine fails first for dialects not installed
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    store = Store(engine, url)
    if migrate:
        try:
            with engine.begin() as connection:
                upgrade(connection)
        except OperationalError as exc:
            engine.dispose()
            reason = str(exc.orig).splitlines()[0] if exc.orig else str(exc)
            raise StoreError(f"cannot open the database: {reason}", source=_safe_url(url)) from None
    return store


def upgrade(connection: Connection, revision: str = "head") -> None:
    """Run the migrations up to ``revision`` on ``connection``."""
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


def _month_start(day: date) -> int:
    return int(datetime(day.year, day.month, 1, tzinfo=UTC).timestamp())


def ensure_month_partitions(connection: Connection, first: date, last: date) -> list[str]:
    """Create the monthly partitions of the values table for ``first``..``last`` (PostgreSQL).

    Returns the names of the partitions created; on SQLite (no partitioning) nothing.

    Raises:
        StoreError: PostgreSQL refused (for example, values of that month sit in the default
            partition).
    """
    if connection.dialect.name != "postgresql":
        return []
    made = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        nxt = (year + month // 12, month % 12 + 1)
        name = f"interval_values_y{year:04d}m{month:02d}"
        low = _month_start(date(year, month, 1))
        high = _month_start(date(*nxt, 1))
        exists = connection.execute(
            text("SELECT to_regclass(:name) IS NOT NULL"), {"name": name}
        ).scalar_one()
        if not exists:
            try:
                connection.execute(
                    text(
                        f"CREATE TABLE {name} PARTITION OF interval_values "
                        f"FOR VALUES FROM ({low}) TO ({high})"
                    )
                )
            except SQLAlchemyError as exc:
                raise StoreError(f"cannot add the partition {name}: {exc}") from None
            made.append(name)
        year, month = nxt
    return made


def fetch_rows(store: Store, query: Select[Any]) -> list[tuple[Any, ...]]:
    """All rows of a query straight from the driver's cursor: plain tuples, none of the
    result machinery (for the reads that fetch a day of every metering point, and the
    portal's reads of a month of values)."""
    with store.engine.connect() as connection:
        return fetch_rows_in(connection, query)


def fetch_rows_in(
    connection: Connection, query: Select[Any], params: dict[str, Any] | None = None
) -> list[tuple[Any, ...]]:
    """:func:`fetch_rows` on an open connection (in its transaction), with the values of
    the query's bound parameters, if any. The statement goes through SQLAlchemy's cache of
    compiled statements (a query of the same shape is compiled once); the rows come from the
    driver's cursor as they are, without result processing."""
    result = connection.execute(query, params or {})
    try:
        return list(result.cursor.fetchall())
    finally:
        result.close()
