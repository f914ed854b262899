"""Interval values for reading back: the adapter behind
:class:`openams.services.values.ValueStore`."""

from __future__ import annotations

from sqlalchemy import select

from openams.services.values import StoredValue

from .engine import Store
from .schema import interval_values

__all__ = ["SqlValueStore"]


class SqlValueStore:
    """Interval values in a :class:`Store`."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def values(self, metering_point_id: str, start_s: int, end_s: int) -> list[StoredValue]:
        """Stored values of the metering point starting in ``[start_s, end_s)``."""
        c = interval_values.c
        query = (
            select(c.start_at_s, c.resolution_s, c.import_wh, c.export_wh, c.status)
            .where(
                c.metering_point_id == metering_point_id,
                c.start_at_s >= start_s,
                c.start_at_s < end_s,
            )
            .order_by(c.start_at_s)
        )
        with self.store.engine.connect() as connection:
            return [StoredValue(*row) for row in connection.execute(query)]
