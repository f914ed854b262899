"""Reading the values back: a metering point's series for a period, with the status of every
value (``ams values``; the portal, the API and settlement call the same function).

Periods are local days (Europe/Oslo): a day has 23, 24 or 25 hours. Every interval of the
period is in the series: one not stored is ``missing``. Coarser resolutions sum the finer
values: an hour from its four quarter-hours, a day from its hours; the status of a sum is the
weakest of its parts (missing over estimated over measured).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

__all__ = ["RESOLUTIONS", "StoredValue", "Value", "ValueStore", "read_values"]

OSLO = ZoneInfo("Europe/Oslo")
RESOLUTIONS = {"quarter": 900, "hour": 3600, "day": 86_400}
#: Weakest first: a sum takes the status of its weakest part.
_ORDER = ("missing", "rejected", "temporary", "estimated", "final_estimated", "measured")


@dataclass(frozen=True, slots=True)
class StoredValue:
    """An interval value as stored."""

    start_at_s: int
    resolution_s: int
    import_wh: int | None
    export_wh: int | None
    status: str


@dataclass(frozen=True, slots=True)
class Value:
    """One value of a series.

    Attributes:
        start: Start of the interval (aware, Europe/Oslo).
        end: End of the interval.
        import_wh: Active energy imported (A+), ``None`` when missing. [Wh]
        export_wh: Active energy exported (A-). [Wh]
        status: ``measured``, ``estimated``, ``final_estimated``, ``temporary``,
            ``rejected`` or ``missing``.
    """

    start: datetime
    end: datetime
    import_wh: int | None
    export_wh: int | None
    status: str


class ValueStore(Protocol):
    """Where the values are."""

    def values(self, metering_point_id: str, start_s: int, end_s: int) -> Sequence[StoredValue]:
        """Stored values of the metering point starting in ``[start_s, end_s)``."""
        ...


def _local_midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=OSLO)


def read_values(
    store: ValueStore, metering_point_id: str, first: date, last: date, resolution: str
) -> list[Value]:
    """The series of ``first``..``last`` (local days, inclusive) at ``resolution``.

    Raises:
        ValueError: an unknown resolution or ``last`` before ``first``.
    """
    if resolution not in RESOLUTIONS:
        raise ValueError(f"resolution is one of {', '.join(RESOLUTIONS)}")
    if last < first:
        raise ValueError("the period ends before it starts")
    start_s = int(_local_midnight(first).timestamp())
    end_s = int(_local_midnight(last + timedelta(days=1)).timestamp())
    stored = store.values(metering_point_id, start_s, end_s)
    quarters = {v.start_at_s: v for v in stored if v.resolution_s == 900}
    hours = {v.start_at_s: v for v in stored if v.resolution_s == 3600}
    base_s = 900 if quarters and not hours else 3600
    step_s = RESOLUTIONS[resolution]
    if resolution == "quarter" and base_s != 900:
        base_s = 900  # asked for quarter-hours of an hourly point: all missing but the truth
    table = quarters if base_s == 900 else hours
    out = []
    if resolution == "day":
        day = first
        while day <= last:
            a = int(_local_midnight(day).timestamp())
            b = int(_local_midnight(day + timedelta(days=1)).timestamp())
            out.append(_sum(a, b, base_s, table))
            day += timedelta(days=1)
        return out
    for a in range(start_s, end_s, step_s):
        out.append(_sum(a, a + step_s, base_s, table))
    return out


def _sum(a: int, b: int, base_s: int, table: dict[int, StoredValue]) -> Value:
    parts = [table.get(t) for t in range(a, b, base_s)]
    status = min(
        ("missing" if p is None else p.status for p in parts),
        key=lambda s: _ORDER.index(s) if s in _ORDER else 0,
    )
    complete = all(p is not None and p.import_wh is not None for p in parts)
    import_wh = sum(p.import_wh for p in parts if p and p.import_wh) if complete else None
    export_wh = sum(p.export_wh or 0 for p in parts if p) if complete else None
    return Value(
        datetime.fromtimestamp(a, UTC).astimezone(OSLO),
        datetime.fromtimestamp(b, UTC).astimezone(OSLO),
        import_wh,
        export_wh,
        status,
    )
