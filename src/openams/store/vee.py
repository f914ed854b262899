"""VEE's side of the store: the adapter behind :class:`openams.services.vee.VeeStore`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Select, and_, func, select, update

from openams.domain.estate import main_fuse_limit_w
from openams.services.vee import PointInfo, Read, StoredRow, ValueRow

from .bulk import bulk_write
from .engine import Store, ensure_month_partitions, fetch_rows
from .schema import interval_values, metering_points, meters, quarantine, register_reads
from .usage import days_of, refresh_daily_usage

__all__ = ["SqlVeeStore"]

_R = register_reads.c
_V = interval_values.c
#: A manual edit and a final estimate are never overwritten by VEE.
_NOT_FIXED = (
    "interval_values.status <> 'final_estimated' AND "
    "(interval_values.estimation IS NULL OR interval_values.estimation <> 'manual')"
)


class SqlVeeStore:
    """Reads, values and conflicts in a :class:`Store`, for VEE."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._meters: dict[str, list[str]] = {}  # metering point -> its meters
        self._point_of: dict[str, str] = {}  # meter -> metering point

    def points(self) -> list[PointInfo]:
        """Every metering point with a meter (the finest push interval of its meters)."""
        query = select(
            metering_points.c.metering_point_id,
            metering_points.c.customer_type,
            metering_points.c.phases,
            metering_points.c.grid_type,
            metering_points.c.main_fuse_a,
            meters.c.meter_id,
            meters.c.push_interval_s,
        ).join(meters, meters.c.metering_point_id == metering_points.c.metering_point_id)
        found: dict[str, PointInfo] = {}
        self._meters, self._point_of = {}, {}
        with self.store.engine.connect() as connection:
            for mp, kind, phases, grid, fuse_a, meter_id, step in connection.execute(query):
                self._meters.setdefault(mp, []).append(meter_id)
                self._point_of[meter_id] = mp
                known = found.get(mp)
                if known is None or step < known.resolution_s:
                    found[mp] = PointInfo(mp, kind, step, main_fuse_limit_w(phases, grid, fuse_a))
        return sorted(found.values(), key=lambda p: p.metering_point_id)

    def _point(self, meter_id: str) -> str | None:
        if not self._point_of:
            self.points()
        return self._point_of.get(meter_id)

    def reads(self, start_s: int, end_s: int) -> dict[str, list[Read]]:
        """Reads with clocks in ``[start_s, end_s]`` per metering point, by clock."""
        query = (
            select(_R.meter_id, _R.read_at_s, _R.received_at_s, _R.import_wh, _R.export_wh,
                   _R.reactive_import_varh, _R.reactive_export_varh)
            .where(_R.read_at_s >= start_s, _R.read_at_s <= end_s)
            .order_by(_R.read_at_s)
        )  # fmt: skip
        out: dict[str, list[Read]] = {}
        if not self._point_of:
            self.points()
        point_of = self._point_of
        for meter_id, at_s, received_s, a, b, c, d in self._rows(query):
            mp = point_of.get(meter_id)
            if mp is not None:
                found = out.get(mp)
                if found is None:
                    found = out[mp] = []
                found.append(Read(at_s, received_s, (a, b, c, d)))
        return out

    def _nearest(
        self, metering_point_id: str, at_s: int, limit_s: int, before: bool
    ) -> Read | None:
        if not self._meters:
            self.points()
        meter_ids = self._meters.get(metering_point_id, [])
        if not meter_ids:
            return None
        low, high = (limit_s, at_s) if before else (at_s, limit_s)
        query = (
            select(_R.read_at_s, _R.received_at_s, _R.import_wh, _R.export_wh,
                   _R.reactive_import_varh, _R.reactive_export_varh)
            .where(_R.meter_id.in_(meter_ids), _R.read_at_s >= low, _R.read_at_s <= high)
            .order_by(_R.read_at_s.desc() if before else _R.read_at_s)
            .limit(1)
        )  # fmt: skip
        with self.store.engine.connect() as connection:
            row = connection.execute(query).first()
        return Read(row[0], row[1], (row[2], row[3], row[4], row[5])) if row else None

    def read_before(self, metering_point_id: str, at_s: int, limit_s: int) -> Read | None:
        """The latest read at or before ``at_s`` and not before ``limit_s``."""
        return self._nearest(metering_point_id, at_s, limit_s, before=True)

    def read_after(self, metering_point_id: str, at_s: int, limit_s: int) -> Read | None:
        """The first read at or after ``at_s`` and not after ``limit_s``."""
        return self._nearest(metering_point_id, at_s, limit_s, before=False)

    def stored(self, start_s: int, end_s: int) -> dict[str, dict[int, StoredRow]]:
        """The values starting in ``[start_s, end_s)`` that are not ``measured``."""
        query = select(
            _V.metering_point_id, _V.start_at_s, _V.import_wh, _V.export_wh,
            _V.reactive_import_varh, _V.reactive_export_varh, _V.status, _V.validation,
            _V.estimation,
        ).where(
            _V.start_at_s >= start_s, _V.start_at_s < end_s, _V.status != "measured"
        )  # fmt: skip
        out: dict[str, dict[int, StoredRow]] = {}
        for row in self._rows(query):
            found = out.get(row[0])
            if found is None:
                found = out[row[0]] = {}
            found[row[1]] = StoredRow(*row[2:])
        return out

    def _rows(self, query: Select[Any]) -> list[tuple[Any, ...]]:
        return fetch_rows(self.store, query)

    def histories(
        self, points: Sequence[tuple[str, int]], start_s: int, end_s: int
    ) -> dict[str, list[tuple[int, int | None, int | None, int | None, int | None]]]:
        """Measured values of these points starting in ``[start_s, end_s)``."""
        step_of = dict(points)
        ids = sorted(step_of)
        out: dict[str, list[tuple[int, int | None, int | None, int | None, int | None]]] = {}
        for i in range(0, len(ids), 500):
            query = select(
                _V.metering_point_id, _V.resolution_s, _V.start_at_s, _V.import_wh,
                _V.export_wh, _V.reactive_import_varh, _V.reactive_export_varh,
            ).where(
                _V.metering_point_id.in_(ids[i : i + 500]), _V.start_at_s >= start_s,
                _V.start_at_s < end_s, _V.status == "measured",
            )  # fmt: skip
            with self.store.engine.connect() as connection:
                rows = connection.execute(query).all()
            for mp, step, at_s, a, b, c, d in rows:
                if step == step_of[mp]:
                    out.setdefault(mp, []).append((at_s, a, b, c, d))
        return out

    def counts(self, start_s: int, end_s: int) -> dict[str, int]:
        """How many values each point has starting in ``[start_s, end_s)``."""
        query = (
            select(_V.metering_point_id, func.count())
            .where(_V.start_at_s >= start_s, _V.start_at_s < end_s)
            .group_by(_V.metering_point_id)
        )
        return {mp: int(n) for mp, n in self._rows(query)}

    def conflicts(self, start_s: int, end_s: int) -> dict[str, set[int]]:
        """Clocks of reads contradicted by another push, per metering point."""
        q = quarantine.c
        query = select(q.meter_id, q.at_s).where(
            q.reason == "conflict", q.at_s >= start_s, q.at_s <= end_s, q.meter_id.is_not(None)
        )
        out: dict[str, set[int]] = {}
        with self.store.engine.connect() as connection:
            for meter_id, at_s in connection.execute(query):
                mp = self._point(meter_id)
                if mp is not None:
                    out.setdefault(mp, set()).add(int(at_s))
        return out

    _COLUMNS = (*ValueRow._fields, "updated_at_s")
    _CONFLICT = (
        "ON CONFLICT (metering_point_id, resolution_s, start_at_s) DO UPDATE SET "
        + ", ".join(f"{c} = excluded.{c}" for c in _COLUMNS[3:])
        + f" WHERE {_NOT_FIXED}"
    )

    def save_values(
        self, rows: Sequence[ValueRow], now_s: int, *, day: date | None = None,
        ids: Sequence[str] = (),
    ) -> None:  # fmt: skip
        """Write the values in one transaction; manual edits and final estimates stay. The
        daily usage (store/usage.py) of the days and metering points written is rewritten in
        the same transaction, and with ``day`` that of every metering point in ``ids``."""
        if not rows and day is None:
            return
        starts = [r.start_at_s for r in rows]
        with self.store.engine.begin() as connection:
            if rows:
                ensure_month_partitions(
                    connection,
                    datetime.fromtimestamp(min(starts), UTC).date(),
                    datetime.fromtimestamp(max(starts), UTC).date(),
                )
                now = (int(now_s),)
                bulk_write(
                    connection, "interval_values", self._COLUMNS, [(*r, *now) for r in rows],
                    self._CONFLICT, key_columns=3,
                )  # fmt: skip
            touched = {r.metering_point_id for r in rows}
            span = days_of(starts)
            if day is not None and (span is None or span == (day, day)):
                refresh_daily_usage(connection, touched | set(ids), day, day, int(now_s))
                return
            if span is not None:
                refresh_daily_usage(connection, touched, span[0], span[1], int(now_s))
            if day is not None:
                refresh_daily_usage(connection, ids, day, day, int(now_s))

    def finalise(self, before_s: int, now_s: int, since_s: int | None = None) -> int:
        """Estimates starting in ``[since_s, before_s)`` become final; how many did."""
        condition = and_(_V.start_at_s < before_s, _V.status.in_(("estimated", "temporary")))
        if since_s is not None:
            condition = and_(condition, _V.start_at_s >= since_s)
        with self.store.engine.begin() as connection:
            result = connection.execute(
                update(interval_values)
                .where(condition)
                .values(status="final_estimated", updated_at_s=now_s)
            )
        return int(result.rowcount or 0)

    def count_values(self, start_s: int, end_s: int) -> dict[str, int]:
        """How many values of each status start in ``[start_s, end_s)``."""
        query = (
            select(_V.status, func.count())
            .where(_V.start_at_s >= start_s, _V.start_at_s < end_s)
            .group_by(_V.status)
        )
        with self.store.engine.connect() as connection:
            return {status: int(n) for status, n in connection.execute(query)}
