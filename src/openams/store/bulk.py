"""Bulk writes: many rows into one table in one statement's worth of work.

On SQLite the rows go through the driver's ``executemany`` (a prepared statement stepped per
row, inside the open transaction). On PostgreSQL they are streamed with ``COPY`` into a
temporary table of the same shape and moved with one ``INSERT ... SELECT``, so that the
conflict rules (``ON CONFLICT ...``) still apply; the server does the per-row work, not the
client, and nothing is sent per row but the row itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection

from .engine import StoreError

__all__ = ["bulk_write"]


def bulk_write(
    connection: Connection,
    table: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    conflict: str,
    *,
    key_columns: int = 0,
) -> None:
    """Insert ``rows`` (tuples in the order of ``columns``) into ``table`` inside the
    connection's transaction, with ``conflict`` (an ``ON CONFLICT ...`` clause, or empty).

    ``key_columns``: how many leading columns make the conflict key when ``conflict``
    updates. Two rows of the same key then count as one, the later (as when the rows are
    executed one by one); PostgreSQL refuses to update a row twice in one statement.

    Names are the caller's own (never input): they are written into the SQL as they are.
    """
    if not rows:
        return
    names = ", ".join(columns)
    if connection.dialect.name != "postgresql":
        marks = ", ".join(["?"] * len(columns))
        connection.exec_driver_sql(
            f"INSERT INTO {table} ({names}) VALUES ({marks}) {conflict}",  # noqa: S608 - our names
            rows if isinstance(rows, list) else list(rows),
        )
        return
    if key_columns:
        rows = list({tuple(row[:key_columns]): row for row in rows}.values())
    raw: Any = connection.connection.dbapi_connection  # psycopg's, for its COPY
    if raw is None:  # pragma: no cover - an open connection has one
        raise StoreError("the database connection is closed")
    stage = f"stage_{table}"
    with raw.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {stage} "
            f"(LIKE {table} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
        )
        cursor.execute(f"TRUNCATE {stage}")  # rows of an earlier write in this transaction
        with cursor.copy(f"COPY {stage} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(
            f"INSERT INTO {table} ({names}) SELECT {names} FROM {stage} WHERE true {conflict}"  # noqa: S608 - our names
        )
