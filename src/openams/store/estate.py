"""The estate in the store: the adapter behind :class:`openams.services.ports.EstateStore`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict
from typing import Any

from sqlalchemy import Connection, Table, select
from sqlalchemy.dialects import postgresql, sqlite

from openams.domain.estate import Customer, MeteringPoint, Transformer
from openams.services.ports import SavedCounts, WrappedMeter

from .engine import Store
from .schema import customers, metering_points, meters, transformers

__all__ = ["SqlEstateStore"]

_BATCH = 5000


class SqlEstateStore:
    """Estate rows in a :class:`Store`; every save is one transaction."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def known_ids(self) -> tuple[set[str], set[str], set[str]]:
        """Ids already stored: (transformers, metering points, customers)."""
        with self.store.engine.connect() as connection:
            return (
                set(connection.scalars(select(transformers.c.transformer_id))),
                set(connection.scalars(select(metering_points.c.metering_point_id))),
                set(connection.scalars(select(customers.c.customer_id))),
            )

    def system_title_owners(self, titles: Sequence[bytes]) -> dict[bytes, str]:
        """Which stored meter has each of these system titles."""
        wanted = set(titles)
        owners = {}
        with self.store.engine.connect() as connection:
            for title, meter_id in connection.execute(
                select(meters.c.system_title, meters.c.meter_id)
            ):
                if bytes(title) in wanted:
                    owners[bytes(title)] = meter_id
        return owners

    def save_estate(
        self,
        transformer_rows: Sequence[Transformer],
        customer_rows: Sequence[Customer],
        point_rows: Sequence[MeteringPoint],
        meter_rows: Sequence[WrappedMeter],
    ) -> SavedCounts:
        """Add or update every row in one transaction (parents before children)."""
        added: dict[str, int] = {}
        updated: dict[str, int] = {}
        with self.store.engine.begin() as connection:
            for table, rows in (
                (transformers, transformer_rows),
                (customers, customer_rows),
                (metering_points, point_rows),
                (meters, meter_rows),
            ):
                new, old = _upsert(connection, table, [asdict(row) for row in rows])
                added[table.name] = new
                updated[table.name] = old
        return SavedCounts(added, updated)


def _upsert(connection: Connection, table: Table, rows: list[dict[str, Any]]) -> tuple[int, int]:
    """Insert ``rows``, updating those whose primary key exists; (added, updated)."""
    if not rows:
        return 0, 0
    (key,) = table.primary_key.columns
    existing = set(connection.scalars(select(key)))
    insert = (postgresql if connection.dialect.name == "postgresql" else sqlite).insert
    columns = [c for c in rows[0] if c != key.name]
    for batch in _batches(rows):
        statement = insert(table)
        statement = statement.on_conflict_do_update(
            index_elements=[key], set_={c: statement.excluded[c] for c in columns}
        )
        connection.execute(statement, batch)
    old = sum(1 for row in rows if row[key.name] in existing)
    return len(rows) - old, old


def _batches(rows: list[dict[str, Any]]) -> Iterable[list[dict[str, Any]]]:
    for start in range(0, len(rows), _BATCH):
        yield rows[start : start + _BATCH]
