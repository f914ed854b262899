"""The Elhub export's side of the store: the adapter behind
:class:`openams.services.export.ExportStore`."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select

from openams.services.export import DeliveryRecord

from .engine import Store, fetch_rows
from .schema import elhub_deliveries, interval_values, metering_points, meters

__all__ = ["SqlExportStore"]


class SqlExportStore:
    """Values of a day and the record of what Elhub was sent, in a :class:`Store`."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def export_points(self) -> list[tuple[str, int, str]]:
        """Every metering point with a meter: id, interval length [s], customer type."""
        mp = metering_points.c
        query = (
            select(mp.metering_point_id, func.min(meters.c.push_interval_s), mp.customer_type)
            .join(meters, meters.c.metering_point_id == mp.metering_point_id)
            .group_by(mp.metering_point_id, mp.customer_type)
            .order_by(mp.metering_point_id)
        )
        with self.store.engine.connect() as connection:
            return [(r[0], int(r[1]), r[2]) for r in connection.execute(query)]

    def day_values(
        self, start_s: int, end_s: int
    ) -> tuple[dict[str, dict[int, tuple[int | None, int | None, str]]], set[str]]:
        """Values starting in ``[start_s, end_s)``: point -> start -> (import, export,
        status); and the points that fed energy into the grid in that time."""
        c = interval_values.c
        query = select(c.metering_point_id, c.start_at_s, c.import_wh, c.export_wh, c.status).where(
            c.start_at_s >= start_s, c.start_at_s < end_s
        )
        out: dict[str, dict[int, tuple[int | None, int | None, str]]] = {}
        exporters: set[str] = set()
        for mp, at_s, import_wh, export_wh, status in fetch_rows(self.store, query):
            found = out.get(mp)
            if found is None:
                found = out[mp] = {}
            found[at_s] = (import_wh, export_wh, status)
            if export_wh:
                exporters.add(mp)
        return out, exporters

    def last_versions(self, day: str) -> dict[tuple[str, str], tuple[int, str]]:
        """The latest version and digest sent of each (point, direction) of the day."""
        d = elhub_deliveries.c
        query = select(d.metering_point_id, d.direction, d.version, d.digest).where(d.day == day)
        out: dict[tuple[str, str], tuple[int, str]] = {}
        with self.store.engine.connect() as connection:
            for mp, direction, version, digest in connection.execute(query):
                key = (mp, direction)
                if key not in out or version > out[key][0]:
                    out[key] = (int(version), digest)
        return out

    def record_deliveries(self, records: Sequence[DeliveryRecord]) -> None:
        """Remember what was sent (one transaction)."""
        if not records:
            return
        marks = ", ".join(["?" if self.store.dialect == "sqlite" else "%s"] * 9)
        sql = (
            f"INSERT INTO elhub_deliveries ({', '.join(DeliveryRecord._fields)}) "  # noqa: S608 - our names
            f"VALUES ({marks})"
        )
        with self.store.engine.begin() as connection:
            connection.exec_driver_sql(sql, list(records))
