"""A customer's consumption over a period, as the portal's chart shows it, beside the same
period a year before.

:func:`consumption` reads a metering point's stored values (:mod:`openams.services.values`)
and gives one :class:`UsePoint` per quarter-hour, hour, local day or local month. Quarter-hours
are there only where the meter pushes every 900 s (or quarter-hour values are stored); days
and months sum the hours under them, so a day has 23, 24 or 25 hours.

What counts:
    * A value is *usable* unless its status is ``missing`` or ``rejected`` (settlement bills
      the same hours). An hour with an unusable quarter is unusable, as settlement has it;
      an hour's estimated part is the sum of its estimated quarters.
    * A day or month is the sum of its usable hours; :attr:`UsePoint.missing` says how many
      intervals under it had nothing usable, and :attr:`UsePoint.estimated_wh` how much of
      the sum rests on estimates (``estimated``, ``final_estimated``, ``temporary``).
    * Only the days the customer was supplied are shown (``supplied``): a customer who moved
      in does not see the one before them, this year or last.

Invariants:
    * Reads only. Energy is whole Wh; nothing is rounded.
    * The sum of a period's days (or months) equals the sum of its usable hours.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from .values import OSLO, StoredValue, Value, ValueStore, read_values

__all__ = [
    "ESTIMATED",
    "MAX_DAYS",
    "MAX_QUARTER_DAYS",
    "RESOLUTIONS",
    "Consumption",
    "PeriodRefused",
    "SuppliedDays",
    "UsePoint",
    "chart_position_s",
    "consumption",
    "default_resolution",
    "last_year",
    "period_problem",
]

#: The resolutions of the chart, finest first.
RESOLUTIONS: tuple[str, ...] = ("quarter", "hour", "day", "month")
#: The longest period shown at once. [days]
MAX_DAYS = 400
#: The longest period shown in quarter-hours. [days]
MAX_QUARTER_DAYS = 31
#: Statuses of values that are estimates.
ESTIMATED = frozenset({"estimated", "final_estimated", "temporary"})
_UNUSABLE = frozenset({"missing", "rejected"})
#: Weakest first: a sum takes the status of its weakest part (as in services.values).
_WEAKEST_FIRST = ("missing", "rejected", "temporary", "estimated", "final_estimated", "measured")

#: The days a customer was supplied: ``(first, last)`` pairs, ``last`` ``None`` while open.
#: ``None`` instead of pairs: all days.
SuppliedDays = tuple[tuple[date, date | None], ...] | None


class PeriodRefused(ValueError):
    """The period or resolution asked for cannot be shown.

    Attributes:
        code: ``order`` (ends before it starts), ``too_long`` (more than :data:`MAX_DAYS`),
            ``quarter_too_long`` (quarter-hours over more than :data:`MAX_QUARTER_DAYS`),
            ``no_quarters`` (the point is not metered by the quarter-hour) or
            ``resolution`` (unknown).
    """

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True, slots=True)
class UsePoint:
    """The consumption of one interval of the chart.

    Attributes:
        start: Start (aware, Europe/Oslo).
        end: End (aware, Europe/Oslo).
        import_wh: Usable energy imported under it; ``None`` when nothing was usable. [Wh]
        estimated_wh: The part of ``import_wh`` that rests on estimates. [Wh]
        intervals: Hours under it (quarter-hours at the resolution ``quarter``).
        missing: Of those, how many had no usable value.
        status: The weakest status under it.
    """

    start: datetime
    end: datetime
    import_wh: int | None
    estimated_wh: int
    intervals: int
    missing: int
    status: str

    @property
    def estimated(self) -> bool:
        """Whether any of it rests on an estimate."""
        return self.estimated_wh > 0

    @property
    def import_kwh(self) -> Decimal | None:
        """:attr:`import_wh` in kWh, exact. [kWh]"""
        return None if self.import_wh is None else Decimal(self.import_wh).scaleb(-3)


@dataclass(frozen=True, slots=True)
class Consumption:
    """A period's consumption and the same period a year before.

    Attributes:
        metering_point_id: The GSRN.
        resolution: One of :data:`RESOLUTIONS`.
        first: First local day (included).
        last: Last local day (included).
        points: The period's intervals, in order; days not supplied to the customer left out.
        last_year_first: First day of the period a year before.
        last_year_last: Its last day.
        last_year: Its intervals, as ``points``.
        quarter_metered: Whether the point is metered by the quarter-hour (its meter pushes
            every 900 s, or quarter-hour values are stored in the period).
    """

    metering_point_id: str
    resolution: str
    first: date
    last: date
    points: tuple[UsePoint, ...]
    last_year_first: date
    last_year_last: date
    last_year: tuple[UsePoint, ...]
    quarter_metered: bool

    @property
    def import_wh(self) -> int:
        """The period's usable consumption. [Wh]"""
        return sum(p.import_wh or 0 for p in self.points)

    @property
    def last_year_import_wh(self) -> int | None:
        """The usable consumption of the period a year before; ``None`` without any. [Wh]"""
        known = [p.import_wh for p in self.last_year if p.import_wh is not None]
        return sum(known) if known else None

    @property
    def estimated_wh(self) -> int:
        """The part of :attr:`import_wh` that rests on estimates. [Wh]"""
        return sum(p.estimated_wh for p in self.points)

    @property
    def import_kwh(self) -> Decimal:
        """:attr:`import_wh` in kWh, exact. [kWh]"""
        return Decimal(self.import_wh).scaleb(-3)

    @property
    def last_year_import_kwh(self) -> Decimal | None:
        """:attr:`last_year_import_wh` in kWh, exact. [kWh]"""
        wh = self.last_year_import_wh
        return None if wh is None else Decimal(wh).scaleb(-3)

    @property
    def estimated_kwh(self) -> Decimal:
        """:attr:`estimated_wh` in kWh, exact. [kWh]"""
        return Decimal(self.estimated_wh).scaleb(-3)

    @property
    def missing(self) -> int:
        """Hours (quarter-hours at the resolution ``quarter``) of the period without a usable
        value."""
        return sum(p.missing for p in self.points)


def last_year(first: date, last: date) -> tuple[date, date]:
    """The same days a year before (29 February becomes the 28th)."""
    return _year_before(first), _year_before(last)


def _year_before(day: date) -> date:
    if day.month == 2 and day.day == 29:
        return date(day.year - 1, 2, 28)
    return day.replace(year=day.year - 1)


def period_problem(
    first: date, last: date, resolution: str, *, quarter_metered: bool
) -> str | None:
    """Why the period cannot be shown at ``resolution`` (a :class:`PeriodRefused` code), or
    ``None`` when it can."""
    days = (last - first).days + 1
    if resolution not in RESOLUTIONS:
        return "resolution"
    if days < 1:
        return "order"
    if days > MAX_DAYS:
        return "too_long"
    if resolution == "quarter" and not quarter_metered:
        return "no_quarters"
    if resolution == "quarter" and days > MAX_QUARTER_DAYS:
        return "quarter_too_long"
    return None


def default_resolution(first: date, last: date, *, quarter_metered: bool) -> str:
    """The resolution a period is shown at when none is asked for: quarter-hours (or hours)
    up to a week, days up to three months, months beyond."""
    days = (last - first).days + 1
    if days <= 7:
        return "quarter" if quarter_metered else "hour"
    return "day" if days <= 92 else "month"


def consumption(
    store: ValueStore,
    metering_point_id: str,
    first: date,
    last: date,
    resolution: str | None,
    *,
    push_interval_s: int | None = None,
    supplied: SuppliedDays = None,
) -> Consumption:
    """The consumption of ``first`` .. ``last`` (local days) and of the year before.

    Args:
        store: The stored values.
        metering_point_id: The GSRN.
        first: First local day.
        last: Last local day (included).
        resolution: One of :data:`RESOLUTIONS`; ``None`` for :func:`default_resolution`.
        push_interval_s: How often the point's meter pushes, if known. [s]
        supplied: The days the customer may see (see :data:`SuppliedDays`).

    Raises:
        PeriodRefused: See :func:`period_problem`.
    """
    held = _Held(store.values(metering_point_id, *_bounds_s(first, last)))
    metered = push_interval_s == 900 or held.has_quarters
    if resolution is None:
        resolution = default_resolution(first, last, quarter_metered=metered)
    problem = period_problem(first, last, resolution, quarter_metered=metered)
    if problem is not None:
        raise PeriodRefused(problem)
    before_first, before_last = last_year(first, last)
    before = _Held(store.values(metering_point_id, *_bounds_s(before_first, before_last)))
    return Consumption(
        metering_point_id=metering_point_id,
        resolution=resolution,
        first=first,
        last=last,
        points=_series(held, metering_point_id, first, last, resolution, supplied),
        last_year_first=before_first,
        last_year_last=before_last,
        last_year=_series(
            before, metering_point_id, before_first, before_last, resolution, supplied
        ),
        quarter_metered=metered,
    )


def chart_position_s(at: datetime) -> int:
    """Where an instant goes on a time axis of local (Europe/Oslo) wall-clock time.

    Seconds since 1970-01-01 00:00 *on the wall clock*, so that a chart library that draws
    times as UTC labels them as a Norwegian clock reads. The hour skipped in spring is simply
    not on the axis. The hour the clock repeats in autumn (02:00-03:00) is drawn at half
    speed: its first pass on the first half of the hour and its second pass on the second,
    so that the 25 hours of the day follow each other without overlapping.

    Args:
        at: An aware datetime.
    """
    local = at.astimezone(OSLO)
    wall = local.replace(tzinfo=None)
    wall_s = calendar.timegm(wall.timetuple())
    if local.replace(fold=1 - local.fold).utcoffset() == local.utcoffset():
        return wall_s
    # Europe/Oslo repeats whole hours only (02:00-03:00, one hour back).
    hour_s = wall_s - wall_s % 3600
    return hour_s + (wall_s - hour_s) // 2 + (1800 if local.fold else 0)


class _Held:
    """Values read once, given to :func:`read_values` as its store."""

    def __init__(self, values: Sequence[StoredValue]) -> None:
        self._values = list(values)
        self.has_quarters = any(v.resolution_s == 900 for v in self._values)
        # as read_values decides: quarter-hours are the base when there are no hours
        self.quarter_based = self.has_quarters and all(v.resolution_s == 900 for v in self._values)

    def values(self, metering_point_id: str, start_s: int, end_s: int) -> list[StoredValue]:
        return [v for v in self._values if start_s <= v.start_at_s < end_s]


def _bounds_s(first: date, last: date) -> tuple[int, int]:
    start = _midnight(first)
    end = _midnight(last + timedelta(days=1))
    return int(start.timestamp()), int(end.timestamp())


def _series(
    store: _Held,
    metering_point_id: str,
    first: date,
    last: date,
    resolution: str,
    supplied: SuppliedDays,
) -> tuple[UsePoint, ...]:
    quarters = resolution == "quarter" or store.quarter_based
    values = read_values(store, metering_point_id, first, last, "quarter" if quarters else "hour")
    points = [_point(v) for v in values if _is_supplied(v.start.date(), supplied)]
    if resolution == "quarter":
        return tuple(points)
    if quarters:  # Oslo's offsets are whole hours: an hour is four quarters of one UTC hour
        points = [
            _hour(group) for group in _groups(points, lambda p: int(p.start.timestamp()) // 3600)
        ]
    if resolution == "hour":
        return tuple(points)
    days = []
    for group in _groups(points, lambda p: p.start.date()):
        day = group[0].start.date()
        days.append(_sum(group, _midnight(day), _midnight(day + timedelta(days=1))))
    if resolution == "day":
        return tuple(days)
    months = _groups(days, lambda p: (p.start.year, p.start.month))
    return tuple(_sum(group, group[0].start, group[-1].end) for group in months)


def _is_supplied(day: date, supplied: SuppliedDays) -> bool:
    if supplied is None:
        return True
    return any(a <= day and (b is None or day <= b) for a, b in supplied)


def _point(value: Value) -> UsePoint:
    usable = value.status not in _UNUSABLE and value.import_wh is not None
    import_wh = value.import_wh if usable else None
    estimated = import_wh if import_wh is not None and value.status in ESTIMATED else 0
    return UsePoint(
        start=value.start,
        end=value.end,
        import_wh=import_wh,
        estimated_wh=estimated,
        intervals=1,
        missing=0 if usable else 1,
        status=value.status,
    )


def _groups(points: list[UsePoint], key: Callable[[UsePoint], object]) -> list[list[UsePoint]]:
    """Runs of consecutive points with the same key."""
    groups: list[list[UsePoint]] = []
    last_key: object = None
    for point in points:
        k = key(point)
        if not groups or k != last_key:
            groups.append([])
            last_key = k
        groups[-1].append(point)
    return groups


def _hour(quarters: list[UsePoint]) -> UsePoint:
    """An hour from its quarter-hours: usable only when all four are (as settlement)."""
    usable = len(quarters) == 4 and all(q.import_wh is not None for q in quarters)
    return UsePoint(
        start=quarters[0].start,
        end=quarters[-1].end,
        import_wh=sum(q.import_wh or 0 for q in quarters) if usable else None,
        estimated_wh=sum(q.estimated_wh for q in quarters) if usable else 0,
        intervals=1,
        missing=0 if usable else 1,
        status=min((q.status for q in quarters), key=_weakness),
    )


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=OSLO)


def _sum(parts: list[UsePoint], start: datetime, end: datetime) -> UsePoint:
    known = [p.import_wh for p in parts if p.import_wh is not None]
    return UsePoint(
        start=start,
        end=end,
        import_wh=sum(known) if known else None,
        estimated_wh=sum(p.estimated_wh for p in parts),
        intervals=sum(p.intervals for p in parts),
        missing=sum(p.missing for p in parts),
        status=min((p.status for p in parts), key=_weakness),
    )


def _weakness(status: str) -> int:
    return _WEAKEST_FIRST.index(status) if status in _WEAKEST_FIRST else 0
