"""Daily usage: each metering point's validated hourly values of a day, packed in one row.

Settlement reads a month of hourly values for every metering point: 72 million rows for
100,000 metering points. Kept as one row per metering point and local day, that is 3 million
rows, each holding the day's 23, 24 or 25 hours as packed integers. The rows are derived from
``interval_values`` and rewritten (:func:`refresh_daily_usage`) in the same transaction as
VEE's values when VEE has looked at a day (every metering point of that day), and as a manual
edit (its day), so they hold the values as validated. Values ingested since the last VEE run
are not in them until VEE has looked at them; ``ams settle --refresh`` rebuilds a month from
``interval_values``.

Row format (``daily_usage``):
    * ``import_wh``: little-endian int64 per local hour; -1 where no usable value (status
      ``rejected`` or ``missing``, a missing quarter of an hour, or no value at all).
    * ``export_wh``: the same for energy fed in (0 where none).
    * ``estimated``: bit ``n`` set when hour ``n`` is estimated.

Which values are usable, and how quarter-hours make an hour, is the service's rule
(:data:`openams.services.settlement.USABLE_STATUSES`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime

import numpy as np
from sqlalchemy import Connection, bindparam, delete, select

from openams.domain.estate import PUSH_INTERVALS_S
from openams.domain.settlement import HourArrays
from openams.domain.settlement_grid import OSLO, HourGrid, hour_grid
from openams.services.settlement import ESTIMATED_STATUSES, USABLE_STATUSES

from .bulk import bulk_write
from .engine import Store, fetch_rows, fetch_rows_in
from .schema import daily_usage, interval_values

__all__ = ["days_of", "local_day", "month_arrays", "refresh_daily_usage", "values_arrays"]

_CHUNK = 500
_COLUMNS = ("metering_point_id", "day", "import_wh", "export_wh", "estimated", "updated_at_s")
_CONFLICT = "ON CONFLICT (metering_point_id, day) DO UPDATE SET " + ", ".join(
    f"{c} = excluded.{c}" for c in _COLUMNS[2:]
)
_V = interval_values.c
# Built once (the portal's month view reads with it on every request).
_VALUES = select(
    _V.metering_point_id, _V.resolution_s, _V.start_at_s, _V.import_wh, _V.export_wh, _V.status
).where(
    _V.metering_point_id.in_(bindparam("ids", expanding=True)),
    _V.resolution_s.in_(PUSH_INTERVALS_S),  # so that the primary key finds the period itself
    _V.start_at_s >= bindparam("start_s"),
    _V.start_at_s < bindparam("end_s"),
)


def local_day(at_s: int) -> date:
    """The local (Europe/Oslo) day an hour starting at ``at_s`` belongs to."""
    return datetime.fromtimestamp(at_s, UTC).astimezone(OSLO).date()


def refresh_daily_usage(
    connection: Connection, ids: Iterable[str], first: date, last: date, now_s: int
) -> int:
    """Rewrite the daily usage of metering points over ``first`` .. ``last`` from their
    interval values, inside the connection's transaction; how many rows were written."""
    grid = hour_grid(first, last)
    written = 0
    todo = sorted(set(ids))
    for offset in range(0, len(todo), _CHUNK):
        chunk = todo[offset : offset + _CHUNK]
        arrays = _from_values(connection, chunk, grid)
        connection.execute(
            delete(daily_usage).where(
                daily_usage.c.metering_point_id.in_(chunk),
                daily_usage.c.day >= first.isoformat(),
                daily_usage.c.day <= last.isoformat(),
            )
        )
        rows = []
        bounds = [*grid.day_starts.tolist(), grid.hours]
        for mp, (imp, exp, est) in arrays.items():
            for d, day in enumerate(grid.days):
                begin, end = bounds[d], bounds[d + 1]
                if np.all(imp[begin:end] < 0):
                    continue
                mask = sum(1 << n for n, flag in enumerate(est[begin:end].tolist()) if flag)
                rows.append((mp, day.isoformat(), imp[begin:end].astype("<i8").tobytes(),
                             exp[begin:end].astype("<i8").tobytes(), mask, now_s))  # fmt: skip
        bulk_write(connection, "daily_usage", _COLUMNS, rows, _CONFLICT, key_columns=2)
        written += len(rows)
    return written


def values_arrays(
    connection: Connection, ids: Sequence[str], first: date, last: date
) -> dict[str, HourArrays]:
    """The usable interval values of ``first`` .. ``last`` as they are stored now, by id
    (quarter-hours summed into whole hours; metering points without values left out)."""
    found = _from_values(connection, ids, hour_grid(first, last))
    return {mp: HourArrays(imp, exp, est) for mp, (imp, exp, est) in found.items()}


def _from_values(
    connection: Connection, ids: Sequence[str], grid: HourGrid
) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    end_s = grid.start_s + 3600 * grid.hours
    params = {"ids": list(ids), "start_s": grid.start_s, "end_s": end_s}
    out: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    quarters: dict[tuple[str, int], list[tuple[int | None, int | None, str]]] = defaultdict(list)

    def arrays(mp: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        found = out.get(mp)
        if found is None:
            found = out[mp] = (
                np.full(grid.hours, -1, dtype=np.int64),
                np.zeros(grid.hours, dtype=np.int64),
                np.zeros(grid.hours, dtype=np.bool_),
            )
        return found

    seen = None  # the metering point of the last row: its arrays are at hand
    rows = fetch_rows_in(connection, _VALUES, params)
    for mp, resolution, at_s, import_wh, export_wh, status in rows:
        if resolution != 3600:
            quarters[(mp, at_s - at_s % 3600)].append((import_wh, export_wh, status))
            continue
        if mp != seen:
            imp, exp, est = arrays(mp)
            seen = mp
        if status in USABLE_STATUSES and import_wh is not None:
            n = (at_s - grid.start_s) // 3600
            imp[n], exp[n], est[n] = import_wh, export_wh or 0, status in ESTIMATED_STATUSES
    for (mp, hour_s), found in quarters.items():
        imp, exp, est = arrays(mp)
        n = (hour_s - grid.start_s) // 3600
        if imp[n] >= 0 or len(found) != 4:
            continue
        if any(s not in USABLE_STATUSES or i is None for i, _, s in found):
            continue
        imp[n] = sum(i or 0 for i, _, _ in found)
        exp[n] = sum(e or 0 for _, e, _ in found)
        est[n] = any(s in ESTIMATED_STATUSES for _, _, s in found)
    return out


def month_arrays(
    store: Store, ids: Sequence[str], first: date, last: date
) -> dict[str, HourArrays]:
    """The daily usage of metering points over ``first`` .. ``last`` as :class:`HourArrays`
    (metering points without any row are left out)."""
    if not ids:
        return {}
    grid = hour_grid(first, last)
    index = {day.isoformat(): d for d, day in enumerate(grid.days)}
    bounds = [*grid.day_starts.tolist(), grid.hours]
    c = daily_usage.c
    query = (
        select(c.metering_point_id, c.day, c.import_wh, c.export_wh, c.estimated)
        .where(
            # the range lets the primary key's index find a batch of neighbouring ids
            c.metering_point_id.between(min(ids), max(ids)),
            c.metering_point_id.in_(list(ids)),
            c.day >= first.isoformat(),
            c.day <= last.isoformat(),
        )
        .order_by(c.metering_point_id, c.day)
    )
    rows: dict[str, list[tuple[str, bytes, bytes, int]]] = defaultdict(list)
    for mp, day, imp_bytes, exp_bytes, mask in fetch_rows(store, query):
        rows[mp].append((day, bytes(imp_bytes), bytes(exp_bytes), mask))
    out: dict[str, HourArrays] = {}
    for mp, days in rows.items():
        if len(days) == len(grid.days):  # every day there: one buffer each
            imp = np.frombuffer(b"".join(d[1] for d in days), dtype="<i8").astype(np.int64)
            exp = np.frombuffer(b"".join(d[2] for d in days), dtype="<i8").astype(np.int64)
            found = HourArrays(imp, exp, np.zeros(grid.hours, dtype=np.bool_))
        else:
            found = HourArrays.empty(grid.hours)
            for day, imp_bytes, exp_bytes, _ in days:
                begin, end = bounds[index[day]], bounds[index[day] + 1]
                found.import_wh[begin:end] = np.frombuffer(imp_bytes, dtype="<i8")
                found.export_wh[begin:end] = np.frombuffer(exp_bytes, dtype="<i8")
        for day, _, _, mask in days:
            if mask:
                begin, end = bounds[index[day]], bounds[index[day] + 1]
                found.estimated[begin:end] = [(mask >> n) & 1 for n in range(end - begin)]
        out[mp] = found
    return out


def days_of(starts_s: Iterable[int]) -> tuple[date, date] | None:
    """The first and last local day of hours starting at ``starts_s`` (``None`` for none)."""
    starts = list(starts_s)
    if not starts:
        return None
    return local_day(min(starts)), local_day(max(starts))
